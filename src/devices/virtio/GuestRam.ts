// virtio 1.2 §2.7 (device access to driver buffers): the bounds-checked window through which virtio devices read and write guest RAM.
//
// Every buffer a driver hands to a device is checked here before a byte is touched:
// it must lie wholly in guest RAM, below 4 GiB, and (for device writes) in plain RAM
// pages, not ROM or an MMIO hole. Device writes tell the CPU's translator about pages
// that hold translated code, and mark the pages written, exactly as CPU stores do.

import { PAGE_MMIO, PAGE_RAM, PAGE_SHIFT, type PhysicalMemory } from '../../memory/PhysicalMemory.js';

export class GuestRam {
  readonly u8: Uint8Array;
  readonly size: number;

  constructor(readonly memory: PhysicalMemory) {
    this.u8 = memory.u8;
    this.size = memory.ramSize;
  }

  /**
   * True when [addr, addr+len) may be accessed by a device: inside RAM, and in pages that
   * are RAM (for writes) or RAM/ROM (for reads). `addr` may be any number (a 64-bit guest
   * address arrives as a double); a zero length is in range when addr is.
   */
  check(addr: number, len: number, write: boolean): boolean {
    if (!(addr >= 0 && len >= 0) || addr + len > this.size || !Number.isInteger(addr) || !Number.isInteger(len)) return false;
    if (len === 0) return addr <= this.size;
    const kinds = this.memory.pageKind;
    const first = addr >>> PAGE_SHIFT;
    const last = (addr + len - 1) >>> PAGE_SHIFT;
    for (let p = first; p <= last; p++) {
      const k = kinds[p]!;
      if (k === PAGE_MMIO || (write && k !== PAGE_RAM)) return false;
    }
    return true;
  }

  /** After a device wrote [addr, addr+len): mark the pages written (replay's state hashes) and invalidate translated code on them. */
  written(addr: number, len: number): void {
    this.memory.markWritten(addr, len);
  }

  // Little-endian accessors for ring fields. Callers have checked the range.

  r16(addr: number): number {
    const u8 = this.u8;
    return u8[addr]! | (u8[addr + 1]! << 8);
  }

  r32(addr: number): number {
    const u8 = this.u8;
    return (u8[addr]! | (u8[addr + 1]! << 8) | (u8[addr + 2]! << 16) | (u8[addr + 3]! << 24)) >>> 0;
  }

  /** A 64-bit field as a double; values of 2^53 and above come back as Infinity (never in range). */
  r64(addr: number): number {
    const hi = this.r32(addr + 4);
    if (hi >= 0x200000) return Infinity;
    return hi * 0x100000000 + this.r32(addr);
  }

  w16(addr: number, v: number): void {
    const u8 = this.u8;
    u8[addr] = v;
    u8[addr + 1] = v >>> 8;
    this.written(addr, 2);
  }

  w32(addr: number, v: number): void {
    const u8 = this.u8;
    u8[addr] = v;
    u8[addr + 1] = v >>> 8;
    u8[addr + 2] = v >>> 16;
    u8[addr + 3] = v >>> 24;
    this.written(addr, 4);
  }
}
