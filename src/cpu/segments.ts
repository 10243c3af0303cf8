// Segment descriptors and segment-register loads (SDM vol. 3A §3.4-3.5, §5.4-5.6).

import type { Cpu } from './Cpu.js';
import {
  CR0_PE, CS, DESC_ACCESSED, DESC_CE, DESC_CODE, DESC_DB, DESC_DPL_SHIFT, DESC_G, DESC_P, DESC_RW, DESC_S,
  EXC_GP, EXC_NP, EXC_SS, FLAG_VM, SS,
} from './constants.js';
import { TLB_MMIO, TLB_VALID } from './mmu.js';

/** A descriptor read from the GDT/LDT; kept in one reused object (no allocation per load). */
export class Descriptor {
  lo = 0;
  hi = 0;
  /** Linear address of the descriptor's 8 bytes. */
  addr = 0;
  get base(): number { return ((this.lo >>> 16) | ((this.hi & 0xff) << 16) | (this.hi & 0xff000000)) | 0; }
  get limit(): number {
    const raw = (this.lo & 0xffff) | (this.hi & 0xf0000);
    return (this.hi & 0x800000) !== 0 ? ((raw << 12) | 0xfff) : raw;
  }
  /** Bits 40..55 (type, S, DPL, P, AVL, L, D/B, G). */
  get attr(): number { return (this.hi >>> 8) & 0xf0ff; }
  get dpl(): number { return (this.hi >>> 13) & 3; }
  get present(): boolean { return (this.hi & 0x8000) !== 0; }
  /** S=1: code or data. */
  get isCodeData(): boolean { return (this.hi & 0x1000) !== 0; }
  get isCode(): boolean { return (this.hi & 0x1800) === 0x1800; }
  /** Type field including S (0..31); system types are 0..15. */
  get type(): number { return (this.hi >>> 8) & 0x1f; }
}

/**
 * Implicit supervisor read of an aligned dword (descriptor tables, IDT, TSS) through
 * the TLB when the page is cached as plain RAM; otherwise the page walk of rdSys32.
 * A supervisor read is allowed on any present page, so any valid entry will do.
 */
export function sysRead32(c: Cpu, lin: number): number {
  const e = c.tlb[lin >>> 12]!;
  if ((e & (TLB_VALID | TLB_MMIO)) === TLB_VALID && (lin & 3) === 0) return c.i32[((e & ~0xfff) | (lin & 0xfff)) >>> 2]!;
  return c.rdSys32(lin);
}

/**
 * Read the descriptor for `sel` from the GDT or LDT into `d`. Returns false when the
 * index lies outside the table limit (the caller raises the fault its instruction needs).
 */
export function readDescriptor(c: Cpu, sel: number, d: Descriptor): boolean {
  const index = sel & ~7;
  let base: number, limit: number;
  if ((sel & 4) !== 0) {
    if ((c.ldtAttr & DESC_P) === 0 || (c.ldtSel & ~3) === 0) return false;
    base = c.ldtBase; limit = c.ldtLimit;
  } else {
    base = c.gdtBase; limit = c.gdtLimit;
  }
  if (index + 7 > (limit >>> 0)) return false;
  d.addr = (base + index) | 0;
  d.lo = sysRead32(c, d.addr);
  d.hi = sysRead32(c, (d.addr + 4) | 0);
  return true;
}

/** Set the accessed bit of a code/data descriptor in memory. */
export function setAccessed(c: Cpu, d: Descriptor): void {
  if ((d.hi & (DESC_ACCESSED << 8)) === 0) {
    d.hi |= DESC_ACCESSED << 8;
    c.wrSys8(d.addr + 5, (d.hi >>> 8) & 0xff);
  }
}

/** Load the hidden part of a segment register from a descriptor. */
export function setSegCache(c: Cpu, seg: number, sel: number, d: Descriptor): void {
  c.segSel[seg] = sel;
  c.segBase[seg] = d.base;
  c.segLimit[seg] = d.limit;
  c.segAttr[seg] = d.attr;
  c.updateSegCheck(seg);
}

/** A null selector in DS/ES/FS/GS: loads fine, faults on use. */
export function setNullSeg(c: Cpu, seg: number, sel: number): void {
  c.segSel[seg] = sel;
  c.segBase[seg] = 0;
  c.segLimit[seg] = 0;
  c.segAttr[seg] = 0;
  c.updateSegCheck(seg);
}

const scratch = new Descriptor();

/**
 * MOV/POP/LDS-style load of a data segment register or SS, with the protected-mode
 * checks of SDM vol. 3A §5.5-5.6. CS is loaded only by control transfers (far.ts).
 */
export function loadSeg(c: Cpu, seg: number, sel: number): void {
  sel &= 0xffff;
  if ((c.cr0 & CR0_PE) === 0 || (c.flags & FLAG_VM) !== 0) {
    c.loadRealSeg(seg, sel);
    return;
  }
  const rpl = sel & 3;
  if ((sel & ~3) === 0) {
    if (seg === SS) c.raise(EXC_GP, 0);
    setNullSeg(c, seg, sel);
    return;
  }
  const d = scratch;
  if (!readDescriptor(c, sel, d)) c.raise(EXC_GP, sel & ~3);
  if (seg === SS) {
    if (rpl !== c.cpl || !d.isCodeData || d.isCode || (d.hi & (DESC_RW << 8)) === 0 || d.dpl !== c.cpl) {
      c.raise(EXC_GP, sel & ~3);
    }
    if (!d.present) c.raise(EXC_SS, sel & ~3);
  } else {
    if (!d.isCodeData || (d.isCode && (d.hi & (DESC_RW << 8)) === 0)) c.raise(EXC_GP, sel & ~3);
    const conformingCode = d.isCode && (d.hi & (DESC_CE << 8)) !== 0;
    if (!conformingCode && (rpl > d.dpl || c.cpl > d.dpl)) c.raise(EXC_GP, sel & ~3);
    if (!d.present) c.raise(EXC_NP, sel & ~3);
  }
  setAccessed(c, d);
  setSegCache(c, seg, sel, d);
}

/** Load CS for a control transfer that has already been checked; sets CPL to `cpl`. */
export function loadCs(c: Cpu, sel: number, d: Descriptor, cpl: number): void {
  setAccessed(c, d);
  c.segSel[CS] = (sel & ~3) | cpl;
  c.segBase[CS] = d.base;
  c.segLimit[CS] = d.limit;
  c.segAttr[CS] = d.attr;
  c.cpl = cpl;
  c.updateSegCheck(CS); // also refreshes the mode (cs32, TLB masks, fetch cache)
}

/**
 * After a return to an outer privilege level: data segment registers whose descriptors
 * the new CPL may not use are nulled (SDM vol. 3A §5.8.6, IRET/RET pseudo-code).
 */
export function invalidateOuterSegs(c: Cpu): void {
  for (let k = 0; k < 4; k++) {
    const seg = DATA_SEGS[k]!;
    const a = c.segAttr[seg]!;
    const dpl = (a >> DESC_DPL_SHIFT) & 3;
    const conformingCode = (a & (DESC_CODE | DESC_CE)) === (DESC_CODE | DESC_CE);
    if ((a & DESC_S) !== 0 && !conformingCode && dpl < c.cpl) setNullSeg(c, seg, 0);
  }
}

/** ES, DS, FS, GS. */
const DATA_SEGS = [0, 3, 4, 5] as const;

/**
 * #SS(sel|ext) unless `bytes` below offset `sp` fit in the stack segment described by
 * `s` (expand-up or expand-down, 16- or 32-bit), for stack switches before SS is loaded.
 */
export function checkStackRoom(c: Cpu, s: Descriptor, sp: number, bytes: number, sel: number, ext: number): void {
  const limit = s.limit >>> 0;
  const expandDown = (s.hi & (DESC_CE << 8)) !== 0;
  const top = (s.hi & (DESC_DB << 8)) !== 0 ? 0xffffffff : 0xffff;
  const hi = (((sp >>> 0) - 1) & top) >>> 0; // last byte written (sp 0 wraps to the top)
  const lo = hi - bytes + 1;
  const ok = expandDown ? lo > limit && lo >= 0 : lo >= 0 && hi <= limit;
  if (!ok) c.raise(EXC_SS, (sel & ~3) | ext);
}

export { DESC_G };

/**
 * Read and check the code segment a far RET or IRET returns to (SDM vol. 2A RET, IRET):
 * #GP(0) for a null selector, #GP(selector) for a bad descriptor, RPL below CPL or a
 * DPL that does not fit the RPL, #NP(selector) when it is not present.
 */
export function checkReturnCs(c: Cpu, sel: number, d: Descriptor): void {
  if ((sel & ~3) === 0) c.raise(EXC_GP, 0);
  if (!readDescriptor(c, sel, d)) c.raise(EXC_GP, sel & ~3);
  const rpl = sel & 3;
  if (!d.isCode || rpl < c.cpl) c.raise(EXC_GP, sel & ~3);
  const conforming = (d.hi & (DESC_CE << 8)) !== 0;
  if (conforming ? d.dpl > rpl : d.dpl !== rpl) c.raise(EXC_GP, sel & ~3);
  if (!d.present) c.raise(EXC_NP, sel & ~3);
}
