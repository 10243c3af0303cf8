// Guest memory as a debugger sees it: linear addresses through the guest's page tables
// (SDM vol. 3A §4.3, 32-bit paging with 4 KiB and, under CR4.PSE, 4 MiB pages; §4.4, PAE
// paging from the PDPTE registers with 4 KiB and 2 MiB pages), without
// the side effects a CPU access has: no fault, no accessed or dirty bits, no TLB fill.
// Only RAM (and ROM, for reading) is reached; MMIO, whose reads can change a device, is refused.

import type { Cpu } from '../cpu/Cpu.js';
import { CR0_PG, CR4_PAE, CR4_PSE } from '../cpu/constants.js';
import { paeFrame } from '../cpu/mmu.js';

/** PAE: the physical address of `lin`, or -1 (not present, or a frame above 4 GiB: nothing there). */
function paeLinearToPhysical(c: Cpu, lin: number): number {
  const mem = c.mem, i = lin >>> 30;
  if ((c.pdpte[2 * i]! & 1) === 0) return -1;
  const pdeAt = paeFrame(c.pdpte[2 * i]!, c.pdpte[2 * i + 1]!) + ((lin >>> 21) & 0x1ff) * 8;
  if (pdeAt >= 4294967296 || !mem.isReadablePage(pdeAt)) return -1;
  const pde = mem.read32(pdeAt), pdeHi = mem.read32(pdeAt + 4);
  if ((pde & 1) === 0) return -1;
  let p: number;
  if ((pde & 0x80) !== 0) p = paeFrame(pde & ~0x1fffff, pdeHi) + (lin & 0x1fffff);
  else {
    const pteAt = paeFrame(pde, pdeHi) + ((lin >>> 12) & 0x1ff) * 8;
    if (pteAt >= 4294967296 || !mem.isReadablePage(pteAt)) return -1;
    const pte = mem.read32(pteAt);
    if ((pte & 1) === 0) return -1;
    p = paeFrame(pte, mem.read32(pteAt + 4)) + (lin & 0xfff);
  }
  return p < 4294967296 ? p : -1;
}

/** The physical address of linear `lin`, or -1 when no page maps it. */
export function debugLinearToPhysical(c: Cpu, lin: number): number {
  if ((c.cr0 & CR0_PG) === 0) return lin >>> 0;
  if ((c.cr4 & CR4_PAE) !== 0) return paeLinearToPhysical(c, lin);
  const mem = c.mem;
  const pdeAt = ((c.cr3 & ~0xfff) + ((lin >>> 22) << 2)) >>> 0;
  if (!mem.isReadablePage(pdeAt)) return -1;
  const pde = mem.read32(pdeAt) >>> 0;
  if ((pde & 1) === 0) return -1;
  if ((pde & 0x80) !== 0 && (c.cr4 & CR4_PSE) !== 0) return ((pde & 0xffc00000) | (lin & 0x3fffff)) >>> 0;
  const pteAt = ((pde & ~0xfff) + (((lin >>> 12) & 0x3ff) << 2)) >>> 0;
  if (!mem.isReadablePage(pteAt)) return -1;
  const pte = mem.read32(pteAt) >>> 0;
  if ((pte & 1) === 0) return -1;
  return ((pte & ~0xfff) | (lin & 0xfff)) >>> 0;
}

/** The byte at linear `lin`, or -1 if it is not mapped RAM or ROM. */
export function debugByte(c: Cpu, lin: number): number {
  const p = debugLinearToPhysical(c, lin >>> 0);
  return p >= 0 && c.mem.isReadablePage(p) ? c.mem.u8[p]! : -1;
}

/** `len` bytes at linear `lin`, or null if any of them is not mapped RAM or ROM. */
export function debugRead(c: Cpu, lin: number, len: number): Uint8Array | null {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) {
    const b = debugByte(c, lin + i);
    if (b < 0) return null;
    out[i] = b;
  }
  return out;
}

/**
 * Write `data` at linear `lin`; false (nothing written) if any byte is not mapped RAM.
 * Writes go through PhysicalMemory, so translated code on those pages is dropped.
 */
export function debugWrite(c: Cpu, lin: number, data: Uint8Array): boolean {
  const phys: number[] = [];
  for (let i = 0; i < data.length; i++) {
    const p = debugLinearToPhysical(c, (lin + i) >>> 0);
    if (p < 0 || !c.mem.isRamPage(p)) return false;
    phys.push(p);
  }
  phys.forEach((p, i) => c.mem.write8(p, data[i]!));
  return true;
}
