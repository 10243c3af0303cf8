// QEMU's firmware configuration device (fw_cfg), x86 I/O port interface, as documented in QEMU docs/specs/fw_cfg.rst (traditional interface only, no DMA).

import type { IoBus, PortHandler } from '../machine/IoBus.js';
import type { E820Entry } from '../boot/E820.js';
import type { Device } from './Device.js';
import { stateNum, stateRecord } from './support.js';

/** Selector register (16-bit writes) and data register (8-bit reads) on x86. */
export const FW_CFG_PORT_SEL = 0x510;
export const FW_CFG_PORT_DATA = 0x511;

// Well-known selector keys (legacy items hold little-endian integers).
export const FW_CFG_SIGNATURE = 0x00;
export const FW_CFG_ID = 0x01;
export const FW_CFG_UUID = 0x02;
export const FW_CFG_RAM_SIZE = 0x03;
export const FW_CFG_NOGRAPHIC = 0x04;
export const FW_CFG_NB_CPUS = 0x05;
export const FW_CFG_NUMA = 0x0d;
export const FW_CFG_BOOT_MENU = 0x0e;
export const FW_CFG_MAX_CPUS = 0x0f;
export const FW_CFG_FILE_DIR = 0x19;
/** First selector given to a named file. */
export const FW_CFG_FILE_FIRST = 0x20;
/** Selector bit 14: the item is written, not read (ignored: writes through the data port are gone since QEMU 2.4). */
export const FW_CFG_WRITE_CHANNEL = 0x4000;
/** x86-specific keys (selector bit 15). */
export const FW_CFG_ACPI_TABLES = 0x8000;
export const FW_CFG_SMBIOS_ENTRIES = 0x8001;
export const FW_CFG_IRQ0_OVERRIDE = 0x8002;
export const FW_CFG_E820_TABLE = 0x8003;

/** ID (key 0x01) bit 0: the traditional (port) interface is present. Bit 1 (DMA) stays clear. */
export const FW_CFG_VERSION = 0x01;

/** Bytes per directory entry: u32 size, u16 select (both big-endian), u16 reserved, char name[56]. */
export const FW_CFG_FILE_ENTRY_SIZE = 64;
export const FW_CFG_MAX_NAME = 55;

export interface FwCfgFile {
  name: string;
  select: number;
  data: Uint8Array;
}

export interface FwCfgOptions {
  /** Guest RAM in bytes (FW_CFG_RAM_SIZE). */
  ramSize: number;
  /** Memory map for "etc/e820" (20-byte little-endian entries: u64 addr, u64 size, u32 type). */
  e820?: readonly E820Entry[];
  /** CPUs present and possible (NB_CPUS, MAX_CPUS); default 1. */
  cpus?: number;
  /**
   * No display (FW_CFG_NOGRAPHIC = 1, as QEMU's -nographic): SeaBIOS then sends its screen
   * output to COM1. Default true (this machine has no VGA).
   */
  nographic?: boolean;
  /** Offer the firmware's boot menu (FW_CFG_BOOT_MENU); default false, as QEMU. */
  bootMenu?: boolean;
}

function le(value: number, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let v = value;
  for (let i = 0; i < bytes; i++) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

/** The "etc/e820" file body for an e820 list. */
export function e820File(map: readonly E820Entry[]): Uint8Array {
  const out = new Uint8Array(20 * map.length);
  map.forEach((e, i) => {
    out.set(le(e.addr, 8), 20 * i);
    out.set(le(e.size, 8), 20 * i + 8);
    out.set(le(e.type, 4), 20 * i + 16);
  });
  return out;
}

/**
 * Items keyed by 16-bit selectors, read a byte at a time from the data port; writing the
 * selector rewinds to the item's first byte, reads past its end (or of a missing item)
 * return 0. Named files get selectors from 0x20 and are listed in the directory (key 0x19).
 */
export class FwCfg implements Device {
  readonly name = 'fw-cfg';
  private readonly items = new Map<number, Uint8Array>();
  private readonly fileList: FwCfgFile[] = [];
  private selector = 0;
  private offset = 0;
  private current: Uint8Array | undefined;

  private readonly ports: PortHandler = {
    read: (port) => (port === FW_CFG_PORT_DATA ? this.readData() : 0),
    write: (port, size, value) => {
      // The selector is a 16-bit register; x86 firmware writes it with OUTW.
      if (port === FW_CFG_PORT_SEL && size !== 1) this.select(value & 0xffff);
      else if (port === FW_CFG_PORT_SEL) this.select(value & 0xff);
    },
  };

  constructor(opts: FwCfgOptions) {
    const cpus = opts.cpus ?? 1;
    this.setItem(FW_CFG_SIGNATURE, new TextEncoder().encode('QEMU'));
    this.setItem(FW_CFG_ID, le(FW_CFG_VERSION, 4));
    this.setItem(FW_CFG_UUID, new Uint8Array(16));
    this.setItem(FW_CFG_RAM_SIZE, le(opts.ramSize, 8));
    this.setItem(FW_CFG_NOGRAPHIC, le(opts.nographic === false ? 0 : 1, 2));
    this.setItem(FW_CFG_NB_CPUS, le(cpus, 2));
    this.setItem(FW_CFG_MAX_CPUS, le(cpus, 2));
    this.setItem(FW_CFG_NUMA, le(0, 8 + 8 * cpus)); // no NUMA nodes; one zero per CPU
    this.setItem(FW_CFG_BOOT_MENU, le(opts.bootMenu === true ? 1 : 0, 2));
    this.setItem(FW_CFG_IRQ0_OVERRIDE, le(1, 1)); // the PIT's IRQ0 is GSI 2 under an APIC, as on QEMU
    this.setItem(FW_CFG_ACPI_TABLES, le(0, 2)); // no legacy ACPI tables
    this.setItem(FW_CFG_SMBIOS_ENTRIES, le(0, 2)); // no SMBIOS entries
    this.setItem(FW_CFG_E820_TABLE, le(0, 4)); // the map is in "etc/e820"
    if (opts.e820) this.addFile('etc/e820', e820File(opts.e820));
    this.addFile('bootorder', new Uint8Array(0));
    this.addFile('etc/boot-fail-wait', le(0xffffffff, 4)); // -1: after a failed boot, wait forever (no reboot)
    this.current = this.items.get(0);
  }

  /** Set a legacy item (keys below 0x20, or x86-specific keys 0x8000+). */
  setItem(key: number, data: Uint8Array): void {
    this.items.set(key & 0xffff, data);
    if (key === this.selector) this.current = data;
  }

  /** Add a named file; returns its selector. */
  addFile(name: string, data: Uint8Array): number {
    if (name.length === 0 || name.length > FW_CFG_MAX_NAME) throw new RangeError(`fw_cfg file name "${name}" must be 1-${FW_CFG_MAX_NAME} characters`);
    if (this.fileList.some((f) => f.name === name)) throw new Error(`fw_cfg file "${name}" already exists`);
    const select = FW_CFG_FILE_FIRST + this.fileList.length;
    if (select >= FW_CFG_WRITE_CHANNEL) throw new RangeError('fw_cfg: too many files');
    this.fileList.push({ name, select, data });
    this.items.set(select, data);
    this.items.set(FW_CFG_FILE_DIR, this.directory());
    return select;
  }

  get files(): readonly FwCfgFile[] {
    return this.fileList;
  }

  /** Directory: u32 count, then one 64-byte entry per file; integers big-endian. */
  private directory(): Uint8Array {
    const files = this.fileList;
    const out = new Uint8Array(4 + FW_CFG_FILE_ENTRY_SIZE * files.length);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, files.length, false);
    files.forEach((f, i) => {
      const at = 4 + FW_CFG_FILE_ENTRY_SIZE * i;
      dv.setUint32(at, f.data.length, false);
      dv.setUint16(at + 4, f.select, false);
      for (let j = 0; j < f.name.length; j++) out[at + 8 + j] = f.name.charCodeAt(j) & 0xff;
    });
    return out;
  }

  /** Register 0x510 (selector) and 0x511 (data). */
  attach(bus: IoBus): void {
    bus.register(FW_CFG_PORT_SEL, 2, this.name, this.ports);
  }

  select(key: number): void {
    this.selector = key & 0xffff;
    this.offset = 0;
    // Bit 14 selects the write channel of the item; its reads still come from the item.
    this.current = this.items.get(this.selector & ~FW_CFG_WRITE_CHANNEL);
  }

  readData(): number {
    const d = this.current;
    if (d === undefined || this.offset >= d.length) return 0;
    return d[this.offset++]!;
  }

  reset(): void {
    this.select(0);
  }

  saveState(): unknown {
    return { selector: this.selector, offset: this.offset };
  }

  loadState(state: unknown): void {
    const s = stateRecord(state, this.name);
    this.select(stateNum(s, 'selector', this.name));
    this.offset = Math.max(0, Math.floor(stateNum(s, 'offset', this.name)));
  }
}
