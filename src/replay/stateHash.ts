// State hashes for record/replay checkpoints: 32-bit FNV-1a style multiply-xor, not
// cryptographic (they catch a replay that went its own way, not an adversary). RAM is
// hashed in four interleaved lanes so the multiplies overlap: ~40 ms for 128 MiB here
// (see README, Speed).

import type { Cpu } from '../cpu/Cpu.js';
import type { PhysicalMemory } from '../memory/PhysicalMemory.js';

const PRIME = 0x01000193;
const BASIS = 0x811c9dc5;

/** General registers, EIP, EFLAGS, CPL, segment selectors and bases, CR0/CR3/CR4, halted, the instruction count. */
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
  h = Math.imul(h ^ (c.halted ? 1 : 0), PRIME);
  h = Math.imul(h ^ (c.instructions % 0x1_0000_0000), PRIME);
  h = Math.imul(h ^ Math.floor(c.instructions / 0x1_0000_0000), PRIME);
  return h >>> 0;
}

/** Guest RAM (not the host area after it), all of it or [from, to) bytes, 4-aligned. */
export function ramHash(mem: PhysicalMemory, from = 0, to = mem.ramSize): number {
  const w = new Int32Array(mem.buffer, from, (to - from) >>> 2);
  let a = BASIS, b = BASIS ^ 1, c = BASIS ^ 2, d = BASIS ^ 3;
  const n = w.length & ~3;
  for (let i = 0; i < n; i += 4) {
    a = Math.imul(a ^ w[i]!, PRIME);
    b = Math.imul(b ^ w[i + 1]!, PRIME);
    c = Math.imul(c ^ w[i + 2]!, PRIME);
    d = Math.imul(d ^ w[i + 3]!, PRIME);
  }
  for (let i = n; i < w.length; i++) a = Math.imul(a ^ w[i]!, PRIME);
  return (Math.imul(Math.imul(Math.imul(a ^ b, PRIME) ^ c, PRIME) ^ d, PRIME)) >>> 0;
}
