// State hashes for record/replay checkpoints: 32-bit FNV-1a style multiply-xor, not
// cryptographic (they catch a replay that went its own way, not an adversary). RAM is
// hashed page by page, each in four interleaved lanes so the multiplies overlap, and
// only the pages written since the last checkpoint are read again (RamHasher).

import type { Cpu } from '../cpu/Cpu.js';
import { PAGE_SHIFT, PAGE_SIZE, type PhysicalMemory } from '../memory/PhysicalMemory.js';
import { tlbWritable } from '../cpu/mmu.js';

const PRIME = 0x01000193;
const BASIS = 0x811c9dc5;

/** One step of the hash: `v` mixed into `h`. */
function mix(h: number, v: number): number {
  return Math.imul(h ^ v, PRIME);
}

/**
 * General registers, EIP, EFLAGS, CPL, segment selectors and bases, CR0/CR3/CR4, EFER and
 * the PAE PDPTE registers, the x87 unit (data registers, tags, TOP, control and status
 * words) and the SSE state (MXCSR, XMM0-15), halted, the instruction count.
 */
export function cpuHash(c: Cpu): number {
  let h = BASIS;
  for (let i = 0; i < 8; i++) h = Math.imul(h ^ c.regs[i]!, PRIME);
  h = Math.imul(h ^ c.eip, PRIME);
  h = Math.imul(h ^ c.getEflags(), PRIME);
  h = Math.imul(h ^ c.cpl, PRIME);
  for (let s = 0; s < 6; s++) {
    h = Math.imul(h ^ c.segSel[s]!, PRIME);
    h = Math.imul(h ^ c.segBase[s]!, PRIME);
  }
  h = Math.imul(h ^ c.cr0, PRIME);
  h = Math.imul(h ^ c.cr3, PRIME);
  h = Math.imul(h ^ c.cr4, PRIME);
  h = Math.imul(h ^ c.efer, PRIME);
  for (let i = 0; i < c.pdpte.length; i++) h = Math.imul(h ^ c.pdpte[i]!, PRIME);
  if (c.fpu !== null) h = c.fpu.hashState(h, mix);
  h = Math.imul(h ^ (c.halted ? 1 : 0), PRIME);
  h = Math.imul(h ^ (c.instructions % 0x1_0000_0000), PRIME);
  h = Math.imul(h ^ Math.floor(c.instructions / 0x1_0000_0000), PRIME);
  return h >>> 0;
}

/** Words [from, to) of `w` in four interleaved lanes (the multiplies overlap). */
function laneHash(w: Int32Array, from: number, to: number): number {
  let a = BASIS, b = BASIS ^ 1, c = BASIS ^ 2, d = BASIS ^ 3;
  const n = from + ((to - from) & ~3);
  for (let i = from; i < n; i += 4) {
    a = Math.imul(a ^ w[i]!, PRIME);
    b = Math.imul(b ^ w[i + 1]!, PRIME);
    c = Math.imul(c ^ w[i + 2]!, PRIME);
    d = Math.imul(d ^ w[i + 3]!, PRIME);
  }
  for (let i = n; i < to; i++) a = Math.imul(a ^ w[i]!, PRIME);
  return (Math.imul(Math.imul(Math.imul(a ^ b, PRIME) ^ c, PRIME) ^ d, PRIME)) >>> 0;
}

/** A byte range [from, to) of guest RAM, 4-aligned (lockstep tests compare parts of RAM with it). */
export function ramHash(mem: PhysicalMemory, from = 0, to = mem.ramSize): number {
  return laneHash(new Int32Array(mem.buffer, from, (to - from) >>> 2), 0, (to - from) >>> 2);
}

const PAGE_WORDS = PAGE_SIZE >>> 2;
const ZERO_PAGE = laneHash(new Int32Array(PAGE_WORDS), 0, PAGE_WORDS);

function combine(pages: Int32Array): number {
  let h = BASIS;
  for (let p = 0; p < pages.length; p++) h = Math.imul(h ^ pages[p]!, PRIME);
  return h >>> 0;
}

/**
 * A checkpoint's RAM hash: each 4 KiB page's ramHash, hashed in page order. Computed
 * from scratch here (tests check RamHasher against it); RamHasher gives the same number.
 */
export function pagedRamHash(mem: PhysicalMemory): number {
  const w = new Int32Array(mem.buffer, 0, mem.ramSize >>> 2);
  const pages = new Int32Array(mem.ramSize >>> PAGE_SHIFT);
  for (let p = 0; p < pages.length; p++) pages[p] = laneHash(w, p * PAGE_WORDS, (p + 1) * PAGE_WORDS);
  return combine(pages);
}

/**
 * pagedRamHash kept up to date incrementally: only pages marked in the memory's
 * dirtyPages since the last hash are read again (the first hash of a booted guest reads
 * the pages its loaders wrote, not all of RAM, which would make the host map every
 * page). Made when the memory still holds what the dirty map says (zeros, plus the pages
 * marked written since it was created): one hasher per memory, as it clears the marks.
 */
export class RamHasher {
  private readonly pages: Int32Array;
  private readonly words: Int32Array;
  /** Pages hashed again, over the hasher's life (tests, --stats). */
  rehashed = 0;

  constructor(private readonly mem: PhysicalMemory, private readonly cpu: Cpu) {
    this.pages = new Int32Array(mem.ramSize >>> PAGE_SHIFT).fill(ZERO_PAGE);
    this.words = new Int32Array(mem.buffer, 0, mem.ramSize >>> 2);
  }

  hash(): number {
    const dirty = this.mem.dirtyPages, pages = this.pages, w = this.words;
    for (let p = 0; p < pages.length; p++) {
      if (dirty[p] === 0) continue;
      dirty[p] = 0;
      pages[p] = laneHash(w, p * PAGE_WORDS, (p + 1) * PAGE_WORDS);
      this.rehashed++;
    }
    // Pages the CPU can still write through its TLB without a fill stay marked.
    const c = this.cpu, tlb = c.tlb, list = c.tlbList;
    for (let i = 0; i < c.tlbCount; i++) {
      const e = tlb[list[i]!]!;
      if (tlbWritable(e)) dirty[e >>> 12] = 1;
    }
    return combine(pages);
  }
}
