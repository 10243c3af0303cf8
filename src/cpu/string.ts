// String instructions: MOVS CMPS STOS LODS SCAS (A4-AF) and INS/OUTS (6C-6F) with
// REP/REPE/REPNE (SDM vol. 2B "MOVS", "REP/REPE/REPZ/REPNE/REPNZ", vol. 1 §7.3.9).
//
// Source DS:(E)SI (segment override allowed), destination ES:(E)DI (never overridden);
// the address size picks SI/DI/CX or ESI/EDI/ECX; EFLAGS.DF picks the direction.
//
// REP is restartable: every iteration commits its register updates before the next
// one starts, so a fault in iteration k leaves (E)SI/(E)DI/(E)CX describing element k,
// and EIP at the instruction (the run loop restores it). A repeated instruction runs at
// most BATCH elements per step; if the count is not exhausted it sets EIP back to the
// instruction, which then re-executes — letting interrupts and single-step traps in
// between, as the hardware does between iterations.
//
// Fast path: REP MOVS and REP STOS over plain RAM (either direction) use the TLB entries
// directly and copy/fill whole runs that stay within one page of source and destination.

import type { Cpu } from './Cpu.js';
import type { Handler, OpTable } from './opcodes.js';
import {
  CR0_PE, DESC_CE, DESC_CODE, DESC_P, DESC_RW, DS, EAX, ECX, EDI, EDX, ES, ESI, FLAG_DF, FLAG_TF, FLAG_VM,
} from './constants.js';
import { setSub } from './flags.js';
import { checkIo } from './io.js';
import { TLB_VALID } from './mmu.js';

/** Elements a repeated string instruction executes per step before yielding. */
const BATCH = 4096;

// ---- Register helpers (address size chooses 16- or 32-bit index/count registers)

function getCount(c: Cpu): number {
  return c.a32 ? c.regs[ECX]! >>> 0 : c.r16[ECX << 1]!;
}
function setCount(c: Cpu, n: number): void {
  if (c.a32) c.regs[ECX] = n; else c.r16[ECX << 1] = n;
}
function getSi(c: Cpu): number {
  return c.a32 ? c.regs[ESI]! : c.r16[ESI << 1]!;
}
function getDi(c: Cpu): number {
  return c.a32 ? c.regs[EDI]! : c.r16[EDI << 1]!;
}
function addSi(c: Cpu, d: number): void {
  if (c.a32) c.regs[ESI] = (c.regs[ESI]! + d) | 0; else c.r16[ESI << 1] = c.r16[ESI << 1]! + d;
}
function addDi(c: Cpu, d: number): void {
  if (c.a32) c.regs[EDI] = (c.regs[EDI]! + d) | 0; else c.r16[EDI << 1] = c.r16[EDI << 1]! + d;
}

function rdN(c: Cpu, lin: number, size: number): number {
  return size === 1 ? c.rd8(lin) : size === 2 ? c.rd16(lin) : c.rd32(lin);
}
function wrN(c: Cpu, lin: number, size: number, v: number): void {
  if (size === 1) c.wr8(lin, v); else if (size === 2) c.wr16(lin, v); else c.wr32(lin, v);
}
function getAcc(c: Cpu, size: number): number {
  return size === 1 ? c.r8[0]! : size === 2 ? c.r16[0]! : c.regs[EAX]!;
}
function setAcc(c: Cpu, size: number, v: number): void {
  if (size === 1) c.r8[0] = v; else if (size === 2) c.r16[0] = v; else c.regs[EAX] = v;
}
function srcSeg(c: Cpu): number {
  return c.segOverride >= 0 ? c.segOverride : DS;
}
function shiftOf(size: number): number {
  return size === 1 ? 24 : size === 2 ? 16 : 0;
}
function maskOf(size: number): number {
  return size === 1 ? 0xff : size === 2 ? 0xffff : -1;
}

/** Per-step element budget: one element at a time while single-stepping. */
function batchFor(c: Cpu): number {
  return (c.flags & FLAG_TF) !== 0 ? 1 : BATCH;
}

/**
 * Would `bytes` bytes at seg:off pass the segment checks? A non-throwing, conservative
 * version of Cpu.checkSegAccess for the fast path (false sends it to the slow path,
 * which raises the exact fault).
 */
function rangeOk(c: Cpu, seg: number, off: number, bytes: number, write: boolean): boolean {
  if (c.segCheck[seg] === 0) return true;
  const a = c.segAttr[seg]!;
  if ((a & DESC_P) === 0) return false;
  if ((c.cr0 & CR0_PE) !== 0 && (c.flags & FLAG_VM) === 0) {
    if (write ? (a & DESC_CODE) !== 0 || (a & DESC_RW) === 0 : (a & DESC_CODE) !== 0 && (a & DESC_RW) === 0) return false;
  }
  if ((a & (DESC_CODE | DESC_CE)) === DESC_CE) return false; // expand-down: leave to the slow path
  return (off >>> 0) + bytes - 1 <= (c.segLimit[seg]! >>> 0);
}

/** Elements of `size` that fit from offset `off` before the 16-bit offset wraps. */
function noWrap16(off: number, size: number): number {
  return ((0x10000 - off) / size) | 0;
}

// ======================================================================
// MOVS

function movsOne(c: Cpu, size: number, delta: number): void {
  const src = c.segLin(srcSeg(c), getSi(c), size, false);
  const dst = c.segLin(ES, getDi(c), size, true);
  wrN(c, dst, size, rdN(c, src, size));
  addSi(c, delta);
  addDi(c, delta);
}

/**
 * Copy a run of up to `max` elements that stays within one page on each side, in the
 * direction of `delta`; returns the elements done (0 = not possible here, take the
 * per-element path, which also fills the TLB or raises the exact fault).
 */
function movsFast(c: Cpu, size: number, delta: number, max: number): number {
  const seg = srcSeg(c);
  const si = getSi(c), di = getDi(c);
  const srcLin = (c.segBase[seg]! + si) | 0;
  const dstLin = (c.segBase[ES]! + di) | 0;
  const so = srcLin & 0xfff, dof = dstLin & 0xfff;
  if (so + size > 0x1000 || dof + size > 0x1000) return 0;
  let k = max;
  const ks = delta > 0 ? ((0x1000 - so) / size) | 0 : ((so / size) | 0) + 1;
  const kd = delta > 0 ? ((0x1000 - dof) / size) | 0 : ((dof / size) | 0) + 1;
  if (ks < k) k = ks;
  if (kd < k) k = kd;
  // Offsets must not wrap within the run (16-bit: at 64 KiB; 32-bit: rangeOk rejects wraps).
  if (delta > 0) {
    if (!c.a32) { const w1 = noWrap16(si, size), w2 = noWrap16(di, size); if (w1 < k) k = w1; if (w2 < k) k = w2; }
  } else {
    const w1 = ((si >>> 0) / size + 1) | 0, w2 = ((di >>> 0) / size + 1) | 0;
    if (w1 < k) k = w1;
    if (w2 < k) k = w2;
  }
  if (k < 2) return 0;
  const se = c.tlb[srcLin >>> 12]!, de = c.tlb[dstLin >>> 12]!;
  if ((se & c.tlbReadMask) !== TLB_VALID || (de & c.tlbWriteMask) !== TLB_VALID) return 0;
  const bytes = k * size;
  const back = delta > 0 ? 0 : bytes - size; // distance from the first element to the lowest byte
  if (!rangeOk(c, seg, (si - back) | 0, bytes, false) || !rangeOk(c, ES, (di - back) | 0, bytes, true)) return 0;
  const sp = ((se & ~0xfff) | so) - back;
  const dp = ((de & ~0xfff) | dof) - back;
  // Element-by-element copying differs from memmove when the destination overlaps the
  // source ahead of it in the direction of travel (it replicates data instead).
  if (delta > 0 ? dp > sp && dp < sp + bytes : dp < sp && dp + bytes > sp) return 0;
  c.u8.copyWithin(dp, sp, sp + bytes);
  const d = delta > 0 ? bytes : -bytes;
  addSi(c, d);
  addDi(c, d);
  return k;
}

function movs(c: Cpu, size: number): void {
  const delta = (c.flags & FLAG_DF) !== 0 ? -size : size;
  if (c.rep === 0) { movsOne(c, size, delta); return; }
  let n = getCount(c);
  if (n === 0) return;
  let budget = batchFor(c);
  for (;;) {
    let done = budget > 1 ? movsFast(c, size, delta, n < budget ? n : budget) : 0;
    if (done === 0) { movsOne(c, size, delta); done = 1; }
    n -= done;
    setCount(c, n);
    if (n === 0) return;
    budget -= done;
    if (budget <= 0) { c.eip = c.startEip; return; }
  }
}

// ======================================================================
// STOS

function stosOne(c: Cpu, size: number, delta: number): void {
  const dst = c.segLin(ES, getDi(c), size, true);
  wrN(c, dst, size, getAcc(c, size));
  addDi(c, delta);
}

/** Fill a run of up to `max` elements within one page, in the direction of `delta`. */
function stosFast(c: Cpu, size: number, delta: number, max: number): number {
  const di = getDi(c);
  const dstLin = (c.segBase[ES]! + di) | 0;
  const dof = dstLin & 0xfff;
  if (dof + size > 0x1000) return 0;
  let k = max;
  const kd = delta > 0 ? ((0x1000 - dof) / size) | 0 : ((dof / size) | 0) + 1;
  if (kd < k) k = kd;
  if (delta > 0) {
    if (!c.a32) { const w = noWrap16(di, size); if (w < k) k = w; }
  } else {
    const w = ((di >>> 0) / size + 1) | 0;
    if (w < k) k = w;
  }
  if (k < 2) return 0;
  const de = c.tlb[dstLin >>> 12]!;
  if ((de & c.tlbWriteMask) !== TLB_VALID) return 0;
  const bytes = k * size;
  const back = delta > 0 ? 0 : bytes - size;
  if (!rangeOk(c, ES, (di - back) | 0, bytes, true)) return 0;
  const dp = ((de & ~0xfff) | dof) - back;
  if (size === 1) {
    c.u8.fill(c.r8[0]!, dp, dp + bytes);
  } else if (size === 4 && (dp & 3) === 0) {
    c.i32.fill(c.regs[EAX]!, dp >>> 2, (dp >>> 2) + k);
  } else if (size === 2 && (dp & 1) === 0) {
    c.u16.fill(c.r16[0]!, dp >>> 1, (dp >>> 1) + k);
  } else {
    const v = getAcc(c, size), u8 = c.u8;
    for (let i = 0; i < bytes; i++) u8[dp + i] = v >>> ((i % size) * 8);
  }
  addDi(c, delta > 0 ? bytes : -bytes);
  return k;
}

function stos(c: Cpu, size: number): void {
  const delta = (c.flags & FLAG_DF) !== 0 ? -size : size;
  if (c.rep === 0) { stosOne(c, size, delta); return; }
  let n = getCount(c);
  if (n === 0) return;
  let budget = batchFor(c);
  for (;;) {
    let done = budget > 1 ? stosFast(c, size, delta, n < budget ? n : budget) : 0;
    if (done === 0) { stosOne(c, size, delta); done = 1; }
    n -= done;
    setCount(c, n);
    if (n === 0) return;
    budget -= done;
    if (budget <= 0) { c.eip = c.startEip; return; }
  }
}

// ======================================================================
// LODS

function lodsOne(c: Cpu, size: number, delta: number): void {
  const src = c.segLin(srcSeg(c), getSi(c), size, false);
  setAcc(c, size, rdN(c, src, size));
  addSi(c, delta);
}

function lods(c: Cpu, size: number): void {
  const delta = (c.flags & FLAG_DF) !== 0 ? -size : size;
  if (c.rep === 0) { lodsOne(c, size, delta); return; }
  let n = getCount(c);
  if (n === 0) return;
  let budget = batchFor(c);
  for (;;) {
    lodsOne(c, size, delta);
    setCount(c, --n);
    if (n === 0) return;
    if (--budget <= 0) { c.eip = c.startEip; return; }
  }
}

// ======================================================================
// CMPS / SCAS: flags as CMP first, second; REPE stops on ZF=0, REPNE on ZF=1.

/** One CMPS element; returns true when the operands were equal (ZF=1). */
function cmpsOne(c: Cpu, size: number, delta: number): boolean {
  const src = c.segLin(srcSeg(c), getSi(c), size, false);
  const dst = c.segLin(ES, getDi(c), size, false);
  const m = maskOf(size);
  const a = rdN(c, src, size) & m;
  const b = rdN(c, dst, size) & m;
  const r = (a - b) & m;
  setSub(c, a, b, r, shiftOf(size));
  addSi(c, delta);
  addDi(c, delta);
  return r === 0;
}

function cmps(c: Cpu, size: number): void {
  const delta = (c.flags & FLAG_DF) !== 0 ? -size : size;
  if (c.rep === 0) { cmpsOne(c, size, delta); return; }
  let n = getCount(c);
  if (n === 0) return;
  const stopOnEqual = c.rep === 2;
  let budget = batchFor(c);
  for (;;) {
    const eq = cmpsOne(c, size, delta);
    setCount(c, --n);
    if (n === 0 || eq === stopOnEqual) return;
    if (--budget <= 0) { c.eip = c.startEip; return; }
  }
}

function scasOne(c: Cpu, size: number, delta: number): boolean {
  const dst = c.segLin(ES, getDi(c), size, false);
  const m = maskOf(size);
  const a = getAcc(c, size) & m;
  const b = rdN(c, dst, size) & m;
  const r = (a - b) & m;
  setSub(c, a, b, r, shiftOf(size));
  addDi(c, delta);
  return r === 0;
}

function scas(c: Cpu, size: number): void {
  const delta = (c.flags & FLAG_DF) !== 0 ? -size : size;
  if (c.rep === 0) { scasOne(c, size, delta); return; }
  let n = getCount(c);
  if (n === 0) return;
  const stopOnEqual = c.rep === 2;
  let budget = batchFor(c);
  for (;;) {
    const eq = scasOne(c, size, delta);
    setCount(c, --n);
    if (n === 0 || eq === stopOnEqual) return;
    if (--budget <= 0) { c.eip = c.startEip; return; }
  }
}

// ======================================================================
// INS / OUTS: port DX; the I/O permission check comes before each element. INS checks
// the destination for writing before reading the port, so a fault never loses data.

function insOne(c: Cpu, size: number, delta: number): void {
  const port = c.r16[EDX << 1]!;
  checkIo(c, port, size);
  const dst = c.segLin(ES, getDi(c), size, true);
  c.probeWrite(dst, size);
  const v = c.io.read(port, size as 1 | 2 | 4);
  wrN(c, dst, size, v);
  addDi(c, delta);
}

function outsOne(c: Cpu, size: number, delta: number): void {
  const port = c.r16[EDX << 1]!;
  checkIo(c, port, size);
  const src = c.segLin(srcSeg(c), getSi(c), size, false);
  const v = rdN(c, src, size) & maskOf(size);
  c.io.write(port, size as 1 | 2 | 4, v);
  addSi(c, delta);
}

function ins(c: Cpu, size: number): void {
  const delta = (c.flags & FLAG_DF) !== 0 ? -size : size;
  if (c.rep === 0) { insOne(c, size, delta); return; }
  let n = getCount(c);
  if (n === 0) return;
  let budget = batchFor(c);
  for (;;) {
    insOne(c, size, delta);
    setCount(c, --n);
    if (n === 0) return;
    // A device may have asked the CPU to stop (budgetEnd lowered): yield between elements.
    if (--budget <= 0 || c.instructions >= c.budgetEnd) { c.eip = c.startEip; return; }
  }
}

function outs(c: Cpu, size: number): void {
  const delta = (c.flags & FLAG_DF) !== 0 ? -size : size;
  if (c.rep === 0) { outsOne(c, size, delta); return; }
  let n = getCount(c);
  if (n === 0) return;
  let budget = batchFor(c);
  for (;;) {
    outsOne(c, size, delta);
    setCount(c, --n);
    if (n === 0) return;
    if (--budget <= 0 || c.instructions >= c.budgetEnd) { c.eip = c.startEip; return; }
  }
}

export function installString(t: OpTable): void {
  const bySize = (f: (c: Cpu, size: number) => void): [Handler, Handler, Handler] =>
    [(c) => f(c, 1), (c) => f(c, 2), (c) => f(c, 4)];
  const pairs: [number, (c: Cpu, size: number) => void][] = [
    [0x6c, ins], [0x6e, outs], [0xa4, movs], [0xa6, cmps], [0xaa, stos], [0xac, lods], [0xae, scas],
  ];
  for (const [op, f] of pairs) {
    const [h8, h16, h32] = bySize(f);
    t.def(op, h8);
    t.def(op + 1, h16, h32);
  }
}
