// virtio 1.2 §4.1 (virtio over PCI bus), modern (non-transitional) devices: §4.1.2 IDs, §4.1.4 capabilities (common, notify, ISR, device, PCI cfg access).
//
// A PCI function with vendor 0x1AF4 and device 0x1040 + virtio ID. All virtio
// structures sit in one 16 KiB 32-bit memory BAR (BAR0):
//
//   0x0000  common configuration (§4.1.4.3)     0x2000  device-specific configuration
//   0x1000  ISR status (§4.1.4.5)                0x3000  notifications, 4 bytes per queue
//
// Interrupts are INTx (pin A, routed by the PIIX3 PIRQ registers to the PIC); MSI-X is
// not offered yet, so the MSI-X vector registers read VIRTIO_MSI_NO_VECTOR. The device
// maps its BAR into guest physical memory itself when the guest programs and enables it.

import type { MmioHandler, PhysicalMemory } from '../../memory/PhysicalMemory.js';
import { PciDevice, type BarDefinition } from '../PciHost.js';
import { stateNum, stateRecord } from '../support.js';
import type { VirtioDevice, VirtioTransport } from './VirtioDevice.js';

export const VIRTIO_PCI_VENDOR = 0x1af4;
export const VIRTIO_PCI_DEVICE_BASE = 0x1040;

// Capability cfg_type values (§4.1.4)
export const PCI_CAP_COMMON_CFG = 1;
export const PCI_CAP_NOTIFY_CFG = 2;
export const PCI_CAP_ISR_CFG = 3;
export const PCI_CAP_DEVICE_CFG = 4;
export const PCI_CAP_PCI_CFG = 5;
const PCI_CAP_ID_VNDR = 0x09;

export const BAR_SIZE = 0x4000;
export const COMMON_OFFSET = 0x0000;
export const COMMON_SIZE = 0x40;
export const ISR_OFFSET = 0x1000;
export const DEVICE_CFG_OFFSET = 0x2000;
export const NOTIFY_OFFSET = 0x3000;
export const NOTIFY_OFF_MULTIPLIER = 4;
const NO_VECTOR = 0xffff;

// Common configuration fields (§4.1.4.3)
export const COMMON_DFSELECT = 0x00;
export const COMMON_DF = 0x04;
export const COMMON_GFSELECT = 0x08;
export const COMMON_GF = 0x0c;
export const COMMON_MSIX = 0x10;
export const COMMON_NUMQ = 0x12;
export const COMMON_STATUS = 0x14;
export const COMMON_CFGGENERATION = 0x15;
export const COMMON_Q_SELECT = 0x16;
export const COMMON_Q_SIZE = 0x18;
export const COMMON_Q_MSIX = 0x1a;
export const COMMON_Q_ENABLE = 0x1c;
export const COMMON_Q_NOFF = 0x1e;
export const COMMON_Q_DESCLO = 0x20;
export const COMMON_Q_DESCHI = 0x24;
export const COMMON_Q_AVAILLO = 0x28;
export const COMMON_Q_AVAILHI = 0x2c;
export const COMMON_Q_USEDLO = 0x30;
export const COMMON_Q_USEDHI = 0x34;

/** PCI class code per virtio device type (what QEMU reports), default "other". */
const CLASS_BY_ID: Record<number, number> = { 1: 0x020000, 2: 0x018000, 3: 0x078000 };

const TWO32 = 0x100000000;

export class VirtioPci extends PciDevice implements VirtioTransport {
  private deviceFeatureSelect = 0;
  private driverFeatureSelect = 0;
  private queueSelect = 0;
  private mappedAt: number | null = null;
  /** Offset of the VIRTIO_PCI_CAP_PCI_CFG capability in config space. */
  private readonly pciCfgCap: number;
  readonly bar: MmioHandler;

  /**
   * @param device the virtio device
   * @param memory where BAR0 is mapped when the guest enables it (omit in tests that
   *               access `bar` directly)
   */
  constructor(readonly device: VirtioDevice, private readonly memory: PhysicalMemory | null = null) {
    super(`virtio-pci-${device.name}`, {
      vendorId: VIRTIO_PCI_VENDOR,
      deviceId: VIRTIO_PCI_DEVICE_BASE + device.deviceId,
      classCode: CLASS_BY_ID[device.deviceId] ?? 0xff0000,
      revision: 1,
      subsystemVendorId: VIRTIO_PCI_VENDOR,
      subsystemId: 0x1100,
      interruptPin: 1,
    });
    device.transport = this;
    this.defineBar(0, { kind: 'mem32', size: BAR_SIZE });
    const cap = (type: number, offset: number, length: number, extra: number[] = []): number[] => {
      // cap_len, cfg_type, bar, id, padding[2], offset, length (after cap_vndr, cap_next)
      const body = [16 + extra.length, type, 0, 0, 0, 0];
      for (const v of [offset, length]) body.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
      return body.concat(extra);
    };
    const notifyLen = Math.max(1, device.queues.length) * NOTIFY_OFF_MULTIPLIER;
    this.addCapability(PCI_CAP_ID_VNDR, cap(PCI_CAP_COMMON_CFG, COMMON_OFFSET, COMMON_SIZE));
    this.addCapability(PCI_CAP_ID_VNDR, cap(PCI_CAP_NOTIFY_CFG, NOTIFY_OFFSET, notifyLen, [NOTIFY_OFF_MULTIPLIER, 0, 0, 0]));
    this.addCapability(PCI_CAP_ID_VNDR, cap(PCI_CAP_ISR_CFG, ISR_OFFSET, 4));
    if (device.configSize > 0) this.addCapability(PCI_CAP_ID_VNDR, cap(PCI_CAP_DEVICE_CFG, DEVICE_CFG_OFFSET, Math.max(4, device.configSize)));
    // The PCI configuration access capability: bar, offset, length and data are writable.
    const w = [0, 0, 0xff, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    this.pciCfgCap = this.addCapability(PCI_CAP_ID_VNDR, cap(PCI_CAP_PCI_CFG, 0, 0, [0, 0, 0, 0]), w);
    this.bar = { read: (o, s) => this.barRead(o, s), write: (o, s, v) => this.barWrite(o, s, v) };
  }

  interruptChanged(): void {
    this.setIntx(this.device.isr !== 0);
  }

  protected override barMapped(index: number, def: BarDefinition, address: number | null): void {
    if (index !== 0 || this.memory === null) return;
    if (this.mappedAt !== null) {
      this.memory.removeMmio(this.mappedAt);
      this.mappedAt = null;
    }
    // A BAR the guest put over RAM, or over another window, does not decode.
    if (address === null || address < this.memory.ramSize || address + def.size > TWO32) return;
    try {
      this.memory.addMmio(address, def.size, this.name, this.bar);
      this.mappedAt = address;
    } catch {
      // overlaps another device window: leave it unmapped, as a conflicting decode would be
    }
  }

  // ---- PCI configuration access capability (§4.1.4.9) ----

  override readConfig(offset: number, size: 1 | 2 | 4): number {
    const data = this.pciCfgCap + 16;
    if (offset >= data && offset < data + 4) {
      const r = this.pciCfgAccess();
      if (r !== null) this.set32(data, this.barRead(r.offset, r.size));
    }
    return super.readConfig(offset, size);
  }

  override writeConfig(offset: number, size: 1 | 2 | 4, value: number): void {
    super.writeConfig(offset, size, value);
    const data = this.pciCfgCap + 16;
    if (offset >= data && offset < data + 4) {
      const r = this.pciCfgAccess();
      if (r !== null) this.barWrite(r.offset, r.size, this.get32(data));
    }
  }

  private pciCfgAccess(): { offset: number; size: 1 | 2 | 4 } | null {
    const c = this.pciCfgCap;
    const bar = this.config[c + 4]!;
    const off = this.get32(c + 8);
    const len = this.get32(c + 12);
    if (bar !== 0 || (len !== 1 && len !== 2 && len !== 4) || off % len !== 0 || off + len > BAR_SIZE) return null;
    return { offset: off, size: len };
  }

  // ---- BAR0 ----

  private barRead(offset: number, size: 1 | 2 | 4): number {
    if (offset < COMMON_SIZE) return this.commonRead(offset, size);
    if (offset >= ISR_OFFSET && offset < ISR_OFFSET + 4) {
      // Reading the ISR acknowledges it and deasserts INTx (§4.1.4.5.1).
      const v = offset === ISR_OFFSET ? this.device.isr : 0;
      if (offset === ISR_OFFSET) this.device.ackInterrupt(3);
      return v;
    }
    if (offset >= DEVICE_CFG_OFFSET && offset < DEVICE_CFG_OFFSET + 0x1000) return this.device.readConfig(offset - DEVICE_CFG_OFFSET, size);
    return 0;
  }

  private barWrite(offset: number, size: 1 | 2 | 4, value: number): void {
    if (offset < COMMON_SIZE) {
      this.commonWrite(offset, size, value);
      return;
    }
    if (offset >= DEVICE_CFG_OFFSET && offset < DEVICE_CFG_OFFSET + 0x1000) {
      this.device.writeConfig(offset - DEVICE_CFG_OFFSET, size, value);
      return;
    }
    if (offset >= NOTIFY_OFFSET && offset < NOTIFY_OFFSET + this.device.queues.length * NOTIFY_OFF_MULTIPLIER) {
      // The notify address of queue n is n * multiplier; the value written is the queue index.
      this.device.notify(((offset - NOTIFY_OFFSET) / NOTIFY_OFF_MULTIPLIER) | 0);
    }
  }

  /** Read a common-config field; 8-, 16- and 32-bit accesses at any offset inside a field give its bytes. */
  private commonRead(offset: number, size: 1 | 2 | 4): number {
    let v = 0;
    for (let i = 0; i < size; ) {
      const o = offset + i;
      const f = this.commonField(o);
      const fieldVal = this.commonGet(f.start);
      const shift = (o - f.start) * 8;
      const take = Math.min(size - i, f.start + f.width - o);
      const part = take === 4 ? fieldVal >>> shift : (fieldVal >>> shift) & ((1 << (8 * take)) - 1);
      v |= part << (8 * i);
      i += take;
    }
    return v >>> 0;
  }

  private commonWrite(offset: number, size: 1 | 2 | 4, value: number): void {
    const f = this.commonField(offset);
    // Only whole-field (or wider-than-needed low-part) writes are meaningful; sub-field
    // writes merge into the current value.
    if (offset === f.start && size >= f.width) {
      this.commonSet(f.start, f.width === 4 ? value >>> 0 : value & ((1 << (8 * f.width)) - 1));
      return;
    }
    const cur = this.commonGet(f.start);
    const shift = (offset - f.start) * 8;
    const bytes = Math.min(size, f.start + f.width - offset);
    const mask = (bytes === 4 ? 0xffffffff : (1 << (8 * bytes)) - 1) << shift;
    const merged = ((cur & ~mask) | ((value << shift) & mask)) >>> 0;
    this.commonSet(f.start, merged);
  }

  private commonField(o: number): { start: number; width: number } {
    if (o < 0x10) return { start: o & ~3, width: 4 };
    if (o < 0x14) return { start: o & ~1, width: 2 };
    if (o < 0x16) return { start: o, width: 1 };
    if (o < 0x20) return { start: o & ~1, width: 2 };
    if (o < 0x38) return { start: o & ~3, width: 4 };
    return { start: o & ~1, width: 2 };
  }

  private commonGet(f: number): number {
    const dev = this.device;
    const q = dev.queues[this.queueSelect];
    switch (f) {
      case COMMON_DFSELECT: return this.deviceFeatureSelect;
      case COMMON_DF: return dev.deviceFeatures.word(this.deviceFeatureSelect);
      case COMMON_GFSELECT: return this.driverFeatureSelect;
      case COMMON_GF: return dev.driverFeatures.word(this.driverFeatureSelect);
      case COMMON_MSIX: return NO_VECTOR;
      case COMMON_NUMQ: return dev.queues.length;
      case COMMON_STATUS: return dev.status;
      case COMMON_CFGGENERATION: return dev.configGeneration;
      case COMMON_Q_SELECT: return this.queueSelect;
      case COMMON_Q_SIZE: return q ? q.size : 0;
      case COMMON_Q_MSIX: return NO_VECTOR;
      case COMMON_Q_ENABLE: return q?.ready ? 1 : 0;
      case COMMON_Q_NOFF: return q ? q.index : 0;
      case COMMON_Q_DESCLO: return q ? q.desc % TWO32 >>> 0 : 0;
      case COMMON_Q_DESCHI: return q ? Math.floor(q.desc / TWO32) >>> 0 : 0;
      case COMMON_Q_AVAILLO: return q ? q.driver % TWO32 >>> 0 : 0;
      case COMMON_Q_AVAILHI: return q ? Math.floor(q.driver / TWO32) >>> 0 : 0;
      case COMMON_Q_USEDLO: return q ? q.device % TWO32 >>> 0 : 0;
      case COMMON_Q_USEDHI: return q ? Math.floor(q.device / TWO32) >>> 0 : 0;
      default: return 0;
    }
  }

  private commonSet(f: number, v: number): void {
    const dev = this.device;
    const q = dev.queues[this.queueSelect];
    const qw = q !== undefined && !q.ready;
    switch (f) {
      case COMMON_DFSELECT: this.deviceFeatureSelect = v; break;
      case COMMON_GFSELECT: this.driverFeatureSelect = v; break;
      case COMMON_GF: dev.writeDriverFeatures(this.driverFeatureSelect, v); break;
      case COMMON_STATUS:
        dev.writeStatus(v);
        if ((v & 0xff) === 0) this.resetTransport();
        break;
      case COMMON_Q_SELECT: this.queueSelect = v; break;
      case COMMON_Q_SIZE: if (qw) q.size = v; break;
      case COMMON_Q_ENABLE: if (q && v === 1) dev.setQueueReady(q, true); break;
      case COMMON_Q_DESCLO: if (qw) q.desc = Math.floor(q.desc / TWO32) * TWO32 + v; break;
      case COMMON_Q_DESCHI: if (qw) q.desc = v * TWO32 + (q.desc % TWO32); break;
      case COMMON_Q_AVAILLO: if (qw) q.driver = Math.floor(q.driver / TWO32) * TWO32 + v; break;
      case COMMON_Q_AVAILHI: if (qw) q.driver = v * TWO32 + (q.driver % TWO32); break;
      case COMMON_Q_USEDLO: if (qw) q.device = Math.floor(q.device / TWO32) * TWO32 + v; break;
      case COMMON_Q_USEDHI: if (qw) q.device = v * TWO32 + (q.device % TWO32); break;
      default: break; // read-only fields, MSI-X vectors (not offered)
    }
  }

  private resetTransport(): void {
    this.deviceFeatureSelect = 0;
    this.driverFeatureSelect = 0;
    this.queueSelect = 0;
  }

  /** Machine reset: config space to power-on, device reset. */
  override reset(): void {
    this.device.reset();
    this.resetTransport();
    super.reset();
  }

  /** PCI config space, transport selectors and the whole virtio device. */
  override saveState(): unknown {
    return {
      pci: super.saveState(),
      deviceFeatureSelect: this.deviceFeatureSelect,
      driverFeatureSelect: this.driverFeatureSelect,
      queueSelect: this.queueSelect,
      device: this.device.saveState(),
    };
  }

  override loadState(state: unknown): void {
    const s = stateRecord(state, this.name);
    this.deviceFeatureSelect = stateNum(s, 'deviceFeatureSelect', this.name) >>> 0;
    this.driverFeatureSelect = stateNum(s, 'driverFeatureSelect', this.name) >>> 0;
    this.queueSelect = stateNum(s, 'queueSelect', this.name) & 0xffff;
    this.device.transport = null;
    try {
      this.device.loadState(s['device']);
    } finally {
      this.device.transport = this;
    }
    super.loadState(s['pci']);
    this.interruptChanged();
  }
}
