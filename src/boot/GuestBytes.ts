// Little-endian writes into guest RAM for the loaders. Every write is checked against
// the RAM size first, so a bad layout is a BootError, never a RangeError or a silent
// partial write. Loaders write RAM directly (ROM and MMIO pages are not involved) and
// mark the pages written (PhysicalMemory.markWritten).

import type { PhysicalMemory } from '../memory/PhysicalMemory.js';
import { BootError, hex } from './BootError.js';

export function checkRam(mem: PhysicalMemory, addr: number, len: number, what: string): void {
  if (!Number.isInteger(addr) || addr < 0 || addr + len > mem.ramSize) {
    throw new BootError(`${what} at ${hex(addr)} (${len} bytes) does not fit in ${mem.ramSize >>> 20} MiB of guest RAM`);
  }
}

export function put8(mem: PhysicalMemory, addr: number, v: number): void {
  checkRam(mem, addr, 1, 'write');
  mem.u8[addr] = v;
  mem.markWritten(addr, 1);
}

export function put16(mem: PhysicalMemory, addr: number, v: number): void {
  checkRam(mem, addr, 2, 'write');
  mem.u8[addr] = v;
  mem.u8[addr + 1] = v >>> 8;
  mem.markWritten(addr, 2);
}

export function put32(mem: PhysicalMemory, addr: number, v: number): void {
  checkRam(mem, addr, 4, 'write');
  mem.u8[addr] = v;
  mem.u8[addr + 1] = v >>> 8;
  mem.u8[addr + 2] = v >>> 16;
  mem.u8[addr + 3] = v >>> 24;
  mem.markWritten(addr, 4);
}

/** Write a non-negative integer below 2^53 as a 64-bit little-endian value. */
export function put64(mem: PhysicalMemory, addr: number, v: number): void {
  put32(mem, addr, v % 0x100000000);
  put32(mem, addr + 4, Math.floor(v / 0x100000000));
}

export function putBytes(mem: PhysicalMemory, addr: number, data: Uint8Array, what = 'data'): void {
  checkRam(mem, addr, data.length, what);
  mem.u8.set(data, addr);
  mem.markWritten(addr, data.length);
}

export function fill(mem: PhysicalMemory, addr: number, len: number, value = 0): void {
  checkRam(mem, addr, len, 'fill');
  mem.u8.fill(value, addr, addr + len);
  mem.markWritten(addr, len);
}

/** Encode a string as UTF-8 plus a terminating NUL; refuses embedded NULs. */
export function cString(s: string, what: string): Uint8Array {
  if (s.includes('\0')) throw new BootError(`${what} contains a NUL character`);
  const body = new TextEncoder().encode(s);
  const out = new Uint8Array(body.length + 1);
  out.set(body);
  return out;
}

// Reads from an image file (a Uint8Array of any offset). Callers check lengths first.
export function get8(b: Uint8Array, off: number): number {
  return b[off]!;
}
export function get16(b: Uint8Array, off: number): number {
  return b[off]! | (b[off + 1]! << 8);
}
export function get32(b: Uint8Array, off: number): number {
  return (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
}
export function get64(b: Uint8Array, off: number): number {
  return get32(b, off) + get32(b, off + 4) * 0x100000000;
}

export function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
export function alignDown(n: number, a: number): number {
  return Math.floor(n / a) * a;
}
