// PCI Local Bus Specification 3.0 §3.2.2.3.2 (configuration mechanism #1) and §6 (configuration space); Intel 440FX/PIIX3 datasheets.

import type { IoBus, PortHandler } from '../machine/IoBus.js';
import type { Device } from './Device.js';
import { stateBool, stateBytes, stateNum, stateRecord } from './support.js';

// Standard header offsets
export const PCI_VENDOR_ID = 0x00;
export const PCI_DEVICE_ID = 0x02;
export const PCI_COMMAND = 0x04;
export const PCI_STATUS = 0x06;
export const PCI_REVISION_ID = 0x08;
export const PCI_CLASS_PROG = 0x09;
export const PCI_CACHE_LINE_SIZE = 0x0c;
export const PCI_LATENCY_TIMER = 0x0d;
export const PCI_HEADER_TYPE = 0x0e;
export const PCI_BAR0 = 0x10;
export const PCI_SUBSYSTEM_VENDOR_ID = 0x2c;
export const PCI_SUBSYSTEM_ID = 0x2e;
export const PCI_CAPABILITY_LIST = 0x34;
export const PCI_INTERRUPT_LINE = 0x3c;
export const PCI_INTERRUPT_PIN = 0x3d;

export const PCI_COMMAND_IO = 0x0001;
export const PCI_COMMAND_MEMORY = 0x0002;
export const PCI_COMMAND_MASTER = 0x0004;
export const PCI_COMMAND_INTX_DISABLE = 0x0400;
export const PCI_STATUS_INTERRUPT = 0x0008;
export const PCI_STATUS_CAP_LIST = 0x0010;

export type BarKind = 'io' | 'mem32' | 'mem64';

export interface BarDefinition {
  kind: BarKind;
  /** Bytes decoded; a power of two (at least 4 for I/O, 16 for memory). */
  size: number;
  prefetchable?: boolean;
}

export interface PciIdentity {
  vendorId: number;
  deviceId: number;
  /** 24 bits: base class << 16 | subclass << 8 | programming interface. */
  classCode: number;
  revision?: number;
  /** Header type byte; set bit 7 for a multi-function device. */
  headerType?: number;
  subsystemVendorId?: number;
  subsystemId?: number;
  /** 0 = no interrupt, 1-4 = INTA#-INTD#. */
  interruptPin?: number;
}

/**
 * One PCI function: 256 bytes of configuration space with per-bit write masks, BARs that
 * size themselves (writing all-ones reads back ~(size-1) | flags), command/status and INTx.
 * Devices such as virtio-pci extend this and override `barMapped` (or use the host's
 * `onBarChange`) to learn where the guest put their BARs.
 */
export class PciDevice implements Device {
  readonly config = new Uint8Array(256);
  /** Bits of each config byte the guest may write. */
  protected readonly wmask = new Uint8Array(256);
  /** Bits of each config byte that writing 1 clears (status error bits). */
  protected readonly w1cmask = new Uint8Array(256);
  readonly bars: (BarDefinition | null)[] = [null, null, null, null, null, null];
  /** Where each BAR decodes now (-1 = not decoding), as last reported. */
  private readonly mapped = [-1, -1, -1, -1, -1, -1];
  host: PciHost | null = null;
  slot = -1;
  fn = 0;
  private intxLevel = false;
  private nextCapOffset = 0x40;
  private lastCap = -1;
  private readonly initialConfig: Uint8Array;
  private initialCaptured = false;

  constructor(readonly name: string, id: PciIdentity) {
    const c = this.config;
    this.set16(PCI_VENDOR_ID, id.vendorId);
    this.set16(PCI_DEVICE_ID, id.deviceId);
    c[PCI_REVISION_ID] = id.revision ?? 0;
    c[PCI_CLASS_PROG] = id.classCode & 0xff;
    c[PCI_CLASS_PROG + 1] = (id.classCode >> 8) & 0xff;
    c[PCI_CLASS_PROG + 2] = (id.classCode >> 16) & 0xff;
    c[PCI_HEADER_TYPE] = id.headerType ?? 0;
    this.set16(PCI_SUBSYSTEM_VENDOR_ID, id.subsystemVendorId ?? 0);
    this.set16(PCI_SUBSYSTEM_ID, id.subsystemId ?? 0);
    c[PCI_INTERRUPT_PIN] = id.interruptPin ?? 0;
    // Command: I/O, memory, bus master, parity response, SERR#, INTx disable.
    this.wmask[PCI_COMMAND] = 0x47;
    this.wmask[PCI_COMMAND + 1] = 0x05;
    // Status: bit 8 and bits 11-15 are write-1-to-clear.
    this.w1cmask[PCI_STATUS + 1] = 0xf9;
    this.wmask[PCI_CACHE_LINE_SIZE] = 0xff;
    this.wmask[PCI_LATENCY_TIMER] = 0xff;
    this.wmask[PCI_INTERRUPT_LINE] = 0xff;
    this.initialConfig = new Uint8Array(256);
  }

  get vendorId(): number {
    return this.get16(PCI_VENDOR_ID);
  }

  get deviceId(): number {
    return this.get16(PCI_DEVICE_ID);
  }

  get command(): number {
    return this.get16(PCI_COMMAND);
  }

  get interruptPin(): number {
    return this.config[PCI_INTERRUPT_PIN]!;
  }

  get16(off: number): number {
    return this.config[off]! | (this.config[off + 1]! << 8);
  }

  get32(off: number): number {
    return (this.config[off]! | (this.config[off + 1]! << 8) | (this.config[off + 2]! << 16) | (this.config[off + 3]! << 24)) >>> 0;
  }

  protected set16(off: number, v: number): void {
    this.config[off] = v & 0xff;
    this.config[off + 1] = (v >> 8) & 0xff;
  }

  protected set32(off: number, v: number): void {
    for (let i = 0; i < 4; i++) this.config[off + i] = (v >>> (8 * i)) & 0xff;
  }

  /** Make config bytes [off, off+len) writable with `mask` per byte (device-specific registers). */
  protected setWritable(off: number, len: number, mask = 0xff): void {
    for (let i = 0; i < len; i++) this.wmask[off + i] = mask;
  }

  /** Declare BAR `index` (a 64-bit BAR also takes index+1). Call from the constructor. */
  protected defineBar(index: number, def: BarDefinition): void {
    const { kind, size } = def;
    const min = kind === 'io' ? 4 : 16;
    if (!(index >= 0 && index < 6) || (kind === 'mem64' && index > 4)) throw new RangeError(`${this.name}: bad BAR index ${index}`);
    if (size < min || !Number.isInteger(Math.log2(size))) throw new RangeError(`${this.name}: BAR size ${size} is not a power of two >= ${min}`);
    if (kind !== 'mem64' && size > 0x80000000) throw new RangeError(`${this.name}: 32-bit BAR larger than 2 GiB`);
    this.bars[index] = def;
    const off = PCI_BAR0 + 4 * index;
    const flags = kind === 'io' ? 0x1 : (kind === 'mem64' ? 0x4 : 0) | (def.prefetchable ? 0x8 : 0);
    const lowMask = size >= 0x100000000 ? 0 : ~(size - 1) & (kind === 'io' ? 0xfffffffc : 0xfffffff0);
    this.set32(off, flags);
    for (let i = 0; i < 4; i++) this.wmask[off + i] = (lowMask >>> (8 * i)) & 0xff;
    if (kind === 'mem64') {
      const highMask = size > 0x100000000 ? ~(size / 0x100000000 - 1) >>> 0 : 0xffffffff;
      this.set32(off + 4, 0);
      for (let i = 0; i < 4; i++) this.wmask[off + 4 + i] = (highMask >>> (8 * i)) & 0xff;
      this.bars[index + 1] = null;
    }
  }

  /**
   * Append a capability (id, next pointer, then `body`) to the list at 0x40+. Returns its
   * offset. `writable` gives per-byte write masks for the body (default read-only).
   */
  protected addCapability(id: number, body: ArrayLike<number>, writable?: ArrayLike<number>): number {
    const off = this.nextCapOffset;
    const len = 2 + body.length;
    if (off + len > 256) throw new RangeError(`${this.name}: configuration space full`);
    this.config[off] = id;
    this.config[off + 1] = 0;
    for (let i = 0; i < body.length; i++) {
      this.config[off + 2 + i] = body[i]!;
      this.wmask[off + 2 + i] = writable?.[i] ?? 0;
    }
    if (this.lastCap < 0) this.config[PCI_CAPABILITY_LIST] = off;
    else this.config[this.lastCap + 1] = off;
    this.lastCap = off;
    this.config[PCI_STATUS] = this.config[PCI_STATUS]! | PCI_STATUS_CAP_LIST;
    this.nextCapOffset = (off + len + 3) & ~3;
    return off;
  }

  /** The address BAR `index` decodes at, or null (undefined BAR, decoding off, or unassigned). */
  barAddress(index: number): number | null {
    const def = this.bars[index];
    if (!def) return null;
    const cmd = this.command;
    if (def.kind === 'io' ? !(cmd & PCI_COMMAND_IO) : !(cmd & PCI_COMMAND_MEMORY)) return null;
    const off = PCI_BAR0 + 4 * index;
    let addr = (this.get32(off) & (def.kind === 'io' ? 0xfffffffc : 0xfffffff0)) >>> 0;
    if (def.kind === 'mem64') addr += this.get32(off + 4) * 0x100000000;
    if (addr === 0) return null;
    return addr;
  }

  /** Config read of `size` bytes at `offset` (little-endian). Override to add side effects. */
  readConfig(offset: number, size: 1 | 2 | 4): number {
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.config[(offset + i) & 0xff]! << (8 * i);
    return v >>> 0;
  }

  /** Config write honouring the write and write-1-to-clear masks. Override to add side effects. */
  writeConfig(offset: number, size: 1 | 2 | 4, value: number): void {
    let touched = false;
    for (let i = 0; i < size; i++) {
      const off = (offset + i) & 0xff;
      const b = (value >>> (8 * i)) & 0xff;
      const m = this.wmask[off]!;
      this.config[off] = (this.config[off]! & ~m) | (b & m);
      const w1c = this.w1cmask[off]!;
      if (w1c) this.config[off] = this.config[off]! & ~(b & w1c);
      if (off === PCI_COMMAND || off === PCI_COMMAND + 1 || (off >= PCI_BAR0 && off < PCI_BAR0 + 24)) touched = true;
    }
    if (touched) {
      this.updateMappings();
      this.host?.updateIntx();
    }
  }

  /** Compare each BAR's decode address with what was last reported and report changes. */
  updateMappings(): void {
    for (let i = 0; i < 6; i++) {
      const def = this.bars[i];
      if (!def) continue;
      const addr = this.barAddress(i) ?? -1;
      if (addr === this.mapped[i]) continue;
      this.mapped[i] = addr;
      const where = addr < 0 ? null : addr;
      this.barMapped(i, def, where);
      this.host?.onBarChange?.(this, i, def, where);
    }
  }

  /** Hook: BAR `index` now decodes at `address` (null: it stopped decoding). */
  protected barMapped(_index: number, _def: BarDefinition, _address: number | null): void {}

  /** Assert or deassert this function's INTx# pin (routed through the PIIX3 PIRQ registers). */
  setIntx(level: boolean): void {
    if (level === this.intxLevel) return;
    this.intxLevel = level;
    this.config[PCI_STATUS] = level ? this.config[PCI_STATUS]! | PCI_STATUS_INTERRUPT : this.config[PCI_STATUS]! & ~PCI_STATUS_INTERRUPT;
    this.host?.updateIntx();
  }

  /** True when the pin is asserted and not masked by the command register's INTx disable. */
  get intxAsserted(): boolean {
    return this.intxLevel && (this.command & PCI_COMMAND_INTX_DISABLE) === 0;
  }

  /** Remember the current config space as the power-on image (done by the host on addDevice). */
  captureInitialConfig(): void {
    this.initialConfig.set(this.config);
    this.initialCaptured = true;
  }

  reset(): void {
    if (this.initialCaptured) this.config.set(this.initialConfig);
    this.intxLevel = false;
    this.updateMappings();
    this.host?.updateIntx();
  }

  saveState(): unknown {
    return { config: Array.from(this.config), intx: this.intxLevel };
  }

  loadState(state: unknown): void {
    const s = stateRecord(state, this.name);
    this.config.set(stateBytes(s, 'config', this.name, 256));
    this.intxLevel = stateBool(s, 'intx', this.name);
    this.updateMappings();
  }
}

/** i440FX PAM0 register; PAM0-PAM6 are 0x59-0x5F. */
export const I440FX_PAM0 = 0x59;

/**
 * The 16 KiB (64 KiB for PAM0) segments of 0xC0000-0xFFFFF that the PAM register at
 * config offset `reg` controls: [base, size, bit shift of its RE/WE pair].
 */
export function pamSegments(reg: number): [number, number, number][] {
  const i = reg - I440FX_PAM0;
  if (i === 0) return [[0xf0000, 0x10000, 4]]; // PAM0 high nibble: 0xF0000-0xFFFFF
  if (i < 1 || i > 6) return [];
  const base = 0xc0000 + (i - 1) * 0x8000;
  return [[base, 0x4000, 0], [base + 0x4000, 0x4000, 4]];
}

/**
 * Intel 82441FX PMC (i440FX host bridge), 00:00.0, with QEMU's subsystem IDs (SeaBIOS looks
 * for them to know it runs on QEMU's board). PAM0-6 (0x59-0x5F) decide per segment of
 * 0xC0000-0xFFFFF whether reads (RE, bit 0/4) and writes (WE, bit 1/5) reach DRAM; changes
 * go to the host's `onPamChange`.
 */
export class I440fxHostBridge extends PciDevice {
  constructor() {
    super('i440fx', { vendorId: 0x8086, deviceId: 0x1237, classCode: 0x060000, revision: 0x02, subsystemVendorId: 0x1af4, subsystemId: 0x1100 });
    this.set16(PCI_COMMAND, 0x0006); // memory + bus master, as after firmware
    this.set16(PCI_STATUS, 0x0280); // medium DEVSEL timing, fast back-to-back
    this.setWritable(0x50, 0x30); // PMCCFG, DRAM control, PAM0-6, DRB, SMRAM...
  }

  override writeConfig(offset: number, size: 1 | 2 | 4, value: number): void {
    const pamBefore = this.config.slice(I440FX_PAM0, I440FX_PAM0 + 7);
    super.writeConfig(offset, size, value);
    if (offset > I440FX_PAM0 + 6 || offset + size <= I440FX_PAM0) return;
    for (let r = I440FX_PAM0; r <= I440FX_PAM0 + 6; r++) {
      const now = this.config[r]!;
      const was = pamBefore[r - I440FX_PAM0]!;
      for (const [base, len, shift] of pamSegments(r)) {
        const bits = (now >> shift) & 3;
        if (bits !== ((was >> shift) & 3)) this.host?.onPamChange?.(base, len, (bits & 1) !== 0, (bits & 2) !== 0);
      }
    }
  }
}

/** Intel 82371SB PIIX3 PCI-to-ISA bridge, 00:01.0, with the PIRQA-D# route registers at 0x60-0x63. */
export class Piix3IsaBridge extends PciDevice {
  constructor(readonly pirqDefaults: readonly number[]) {
    super('piix3', { vendorId: 0x8086, deviceId: 0x7000, classCode: 0x060100, headerType: 0x80 });
    this.set16(PCI_COMMAND, 0x0007);
    this.set16(PCI_STATUS, 0x0200);
    this.setWritable(0x40, 0xc0); // ISA control registers, PIRQ routes, TOM, MBIRQ, APIC base, DLC, SMI...
    this.config[0x4c] = 0x4d; // IORT
    this.config[0x4e] = 0x03; // XBCS
    this.config[0x69] = 0x02; // TOM
    this.config[0x70] = 0x80; // MBIRQ0 disabled
    this.config[0x76] = 0x0c; // MBDMA
    this.config[0x77] = 0x0c;
    for (let i = 0; i < 4; i++) this.config[0x60 + i] = pirqDefaults[i] ?? 0x80;
  }

  /** The ISA IRQ that PIRQ `n` (0-3 = A-D) is routed to, or -1 when routing is disabled. */
  pirqIrq(n: number): number {
    const r = this.config[0x60 + (n & 3)]!;
    if (r & 0x80) return -1;
    const irq = r & 0x0f;
    // PIIX3 accepts IRQ 3-7, 9-12, 14, 15.
    return irq < 3 || irq === 8 || irq === 13 ? -1 : irq;
  }

  override writeConfig(offset: number, size: 1 | 2 | 4, value: number): void {
    super.writeConfig(offset, size, value);
    if (offset < 0x64 && offset + size > 0x60) this.host?.updateIntx();
  }
}

export interface PciHostOptions {
  /** Power-on PIRQA-D routes (ISA IRQ numbers, or 0x80 for disabled); the BIOS-like default is 10, 10, 11, 11. */
  pirqRoutes?: readonly number[];
}

/**
 * PCI bus 0 through configuration mechanism #1 at 0xCF8/0xCFC-0xCFF, with the i440FX host
 * bridge at 00:00.0 and the PIIX3 ISA bridge at 00:01.0, plus the PIIX3 reset control
 * register at 0xCF9 (a write with bit 2 set resets the machine; the ACPI reset register
 * is 0xCF9 ← 0x06).
 */
export class PciHost implements Device {
  readonly name = 'pci-host';
  /** Called on a reset through 0xCF9. */
  onReset: (() => void) | null = null;
  /** Drives an ISA IRQ line from the PCI INTx routing (set by the machine, e.g. to `pic.setIrq`). */
  onIrq: ((irq: number, level: boolean) => void) | null = null;
  /** Called whenever a BAR of any device starts, stops or moves decoding (address null = stopped). */
  onBarChange: ((dev: PciDevice, index: number, bar: BarDefinition, address: number | null) => void) | null = null;
  /** Called when a PAM register changes a segment of 0xC0000-0xFFFFF: reads/writes reach DRAM or not. */
  onPamChange: ((base: number, size: number, readEnable: boolean, writeEnable: boolean) => void) | null = null;

  readonly hostBridge: I440fxHostBridge;
  readonly isaBridge: Piix3IsaBridge;
  /** Functions on bus 0 indexed by devfn (slot << 3 | fn). */
  private readonly functions: (PciDevice | undefined)[] = new Array(256).fill(undefined);
  private readonly list: PciDevice[] = [];
  private address = 0;
  private resetControl = 0;
  private readonly irqLevels = new Uint8Array(16);
  private readonly irqScratch = new Uint8Array(16);

  private readonly ports: PortHandler = {
    read: (port, size) => this.portRead(port, size),
    write: (port, size, value) => this.portWrite(port, size, value),
  };

  constructor(opts: PciHostOptions = {}) {
    this.hostBridge = new I440fxHostBridge();
    this.isaBridge = new Piix3IsaBridge(opts.pirqRoutes ?? [10, 10, 11, 11]);
    this.addDevice(this.hostBridge, 0);
    this.addDevice(this.isaBridge, 1);
  }

  /** Register 0xCF8-0xCFF. */
  attach(bus: IoBus): void {
    bus.register(0xcf8, 8, this.name, this.ports);
  }

  /**
   * Plug a function into bus 0 at `slot` (0-31). If it has an interrupt pin, its interrupt
   * line register is preset to the routed IRQ as firmware would. Slot/pin → PIRQ follows
   * the PIIX3 swizzle QEMU uses: PIRQ = (slot + pin - 2) & 3 (slot 1 INTA# = PIRQA#).
   */
  addDevice(dev: PciDevice, slot: number, fn = 0): void {
    if (!(slot >= 0 && slot < 32 && fn >= 0 && fn < 8)) throw new RangeError(`PCI slot ${slot}.${fn} out of range`);
    const devfn = (slot << 3) | fn;
    if (this.functions[devfn]) throw new Error(`PCI 00:${slot.toString(16).padStart(2, '0')}.${fn} is already taken by ${this.functions[devfn]!.name}`);
    dev.host = this;
    dev.slot = slot;
    dev.fn = fn;
    this.functions[devfn] = dev;
    this.list.push(dev);
    if (dev.interruptPin !== 0) {
      const irq = this.routedIrq(dev);
      dev.config[PCI_INTERRUPT_LINE] = irq < 0 ? 0xff : irq;
    }
    dev.captureInitialConfig();
    dev.updateMappings();
  }

  /** The function at `slot`.`fn` on bus 0. */
  device(slot: number, fn = 0): PciDevice | undefined {
    return this.functions[((slot & 31) << 3) | (fn & 7)];
  }

  get devices(): readonly PciDevice[] {
    return this.list;
  }

  /** PIRQ index (0-3) a device's INTx pin reaches. */
  pirqOf(dev: PciDevice): number {
    return (dev.slot + dev.interruptPin - 2) & 3;
  }

  /** The ISA IRQ a device's INTx pin is currently routed to, or -1. */
  routedIrq(dev: PciDevice): number {
    if (dev.interruptPin === 0) return -1;
    return this.isaBridge.pirqIrq(this.pirqOf(dev));
  }

  /** Every BAR currently decoding, for the machine's I/O and MMIO dispatch. */
  mappedBars(): { dev: PciDevice; index: number; kind: BarKind; address: number; size: number }[] {
    const out: { dev: PciDevice; index: number; kind: BarKind; address: number; size: number }[] = [];
    for (const dev of this.list) {
      for (let i = 0; i < 6; i++) {
        const def = dev.bars[i];
        const address = def ? dev.barAddress(i) : null;
        if (def && address !== null) out.push({ dev, index: i, kind: def.kind, address, size: def.size });
      }
    }
    return out;
  }

  /** Re-evaluate the wired-OR of INTx levels onto ISA IRQs and drive the lines that changed. */
  updateIntx(): void {
    const want = this.irqScratch;
    want.fill(0);
    for (const dev of this.list) {
      if (!dev.intxAsserted) continue;
      const irq = this.routedIrq(dev);
      if (irq >= 0) want[irq] = 1;
    }
    // Lines that fall go first, then the ones that rise.
    for (let pass = 0; pass < 2; pass++) {
      for (let irq = 0; irq < 16; irq++) {
        if (want[irq] !== this.irqLevels[irq] && want[irq] === pass) {
          this.irqLevels[irq] = pass;
          this.onIrq?.(irq, pass === 1);
        }
      }
    }
  }

  private portRead(port: number, size: 1 | 2 | 4): number {
    if (port >= 0xcfc) {
      if (!(this.address & 0x80000000)) return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
      const reg = (this.address & 0xfc) + (port - 0xcfc);
      const n = Math.min(size, 0x100 - reg) as 1 | 2 | 4;
      const dev = this.target();
      if (!dev) return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
      return dev.readConfig(reg, n);
    }
    if (port === 0xcf8 && size === 4) return this.address >>> 0;
    if (port === 0xcf9 && size === 1) return this.resetControl;
    return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
  }

  private portWrite(port: number, size: 1 | 2 | 4, value: number): void {
    if (port >= 0xcfc) {
      if (!(this.address & 0x80000000)) return;
      const reg = (this.address & 0xfc) + (port - 0xcfc);
      this.target()?.writeConfig(reg, size, value);
      return;
    }
    if (port === 0xcf8 && size === 4) {
      this.address = (value & 0x80fffffc) >>> 0;
      return;
    }
    if (port === 0xcf9 && size === 1) {
      // PIIX3 RC: bit 1 = hard reset, bit 2 = reset CPU, bit 3 = full reset.
      this.resetControl = value & 0x0a;
      if (value & 0x04) this.onReset?.();
    }
    // Byte/word accesses to 0xCF8/0xCFA/0xCFB do not reach the address register.
  }

  private target(): PciDevice | undefined {
    const bus = (this.address >>> 16) & 0xff;
    if (bus !== 0) return undefined;
    return this.functions[(this.address >>> 8) & 0xff];
  }

  reset(): void {
    this.address = 0;
    this.resetControl = 0;
    this.hostBridge.reset();
    this.isaBridge.reset();
    this.updateIntx();
  }

  /** Host state plus the two bridges; other PCI devices are saved as devices of their own. */
  saveState(): unknown {
    return {
      address: this.address,
      resetControl: this.resetControl,
      irqLevels: Array.from(this.irqLevels),
      hostBridge: this.hostBridge.saveState(),
      isaBridge: this.isaBridge.saveState(),
    };
  }

  loadState(state: unknown): void {
    const s = stateRecord(state, this.name);
    this.address = stateNum(s, 'address', this.name) >>> 0;
    this.resetControl = stateNum(s, 'resetControl', this.name) & 0x0a;
    this.irqLevels.set(stateBytes(s, 'irqLevels', this.name, 16));
    this.hostBridge.loadState(s['hostBridge']);
    this.isaBridge.loadState(s['isaBridge']);
  }
}
