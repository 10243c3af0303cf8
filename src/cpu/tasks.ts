// Hardware task switching (SDM vol. 3A ch. 7, §7.3 and table 7-1): JMP/CALL to a TSS
// or task gate, interrupts through task gates, IRET with EFLAGS.NT. 32-bit and 16-bit
// TSSs. The new TSS is read completely before anything is written, so a fault before
// the commit point leaves the old task untouched; faults after it (segment checks of
// the new task) are delivered in the new task's context.

import type { Cpu } from './Cpu.js';
import {
  CR0_PG, CR0_TS, CS, DESC_CE, DESC_RW, DS, ES, ESP, EXC_GP, EXC_NP, EXC_SS, EXC_TS, FLAG_NT, FLAG_VM,
  FLAGS_FIXED1, FLAGS_VALID, FS, GS, SS, SYS_LDT, SYS_TSS16_AVAIL, SYS_TSS16_BUSY, SYS_TSS32_AVAIL, SYS_TSS32_BUSY,
} from './constants.js';
import { getEflags } from './flags.js';
import { loadCr3 } from './mmu.js';
import { Descriptor, loadCs, readDescriptor, setAccessed, setNullSeg, setSegCache } from './segments.js';

export const TASK_JMP = 0, TASK_CALL = 1, TASK_INT = 2, TASK_IRET = 3;

const tssDesc = new Descriptor();
const segDesc = new Descriptor();
/** The new task's state, read before anything is changed: EIP EFLAGS EAX..EDI ES CS SS DS FS GS LDT CR3. */
const st = new Int32Array(18);
const ST_EIP = 0, ST_EFLAGS = 1, ST_REGS = 2, ST_SEGS = 10, ST_LDT = 16, ST_CR3 = 17;
/** Order in which the new task's data segment registers are loaded after CS and SS. */
const DATA_SEGS = [ES, DS, FS, GS] as const;

/** Set (busy) or clear bit 1 of the type of the TSS descriptor for `sel` in the GDT. */
function setBusy(c: Cpu, sel: number, busy: boolean): void {
  const addr = (c.gdtBase + (sel & ~7) + 5) | 0;
  const b = c.rdSys8(addr);
  c.wrSys8(addr, busy ? b | 2 : b & ~2);
}

/**
 * Switch to the task whose TSS selector is `sel` (SDM §7.3). The caller has done the
 * privilege checks of its instruction (JMP/CALL: TSS or gate DPL; INT n: gate DPL).
 * `retEip` is saved as the old task's EIP; `error` >= 0 is pushed on the new task's
 * stack (exceptions through task gates); `ext` is the EXT bit for error codes.
 */
export function taskSwitch(c: Cpu, sel: number, kind: number, retEip: number, error: number, ext: number): void {
  sel &= 0xffff;
  const iret = kind === TASK_IRET;
  const d = tssDesc;
  // The new TSS descriptor: in the GDT, a TSS of the right busy state, present.
  if ((sel & 4) !== 0 || (sel & ~3) === 0 || !readDescriptor(c, sel, d)) c.raise(iret ? EXC_TS : EXC_GP, (sel & ~3) | ext);
  const type = d.type;
  const ok = iret ? type === SYS_TSS32_BUSY || type === SYS_TSS16_BUSY : type === SYS_TSS32_AVAIL || type === SYS_TSS16_AVAIL;
  if (!ok) c.raise(iret ? EXC_TS : EXC_GP, (sel & ~3) | ext);
  if (!d.present) c.raise(EXC_NP, (sel & ~3) | ext);
  const new32 = (type & 8) !== 0;
  const newBase = d.base, newLimit = d.limit, newAttr = d.attr | 0x2; // busy
  if ((newLimit >>> 0) < (new32 ? 0x67 : 0x2b)) c.raise(EXC_TS, (sel & ~3) | ext);

  // Read the whole new state first (may page-fault; nothing has changed yet).
  if (new32) {
    st[ST_CR3] = c.rdSys32(newBase + 0x1c);
    st[ST_EIP] = c.rdSys32(newBase + 0x20);
    st[ST_EFLAGS] = c.rdSys32(newBase + 0x24);
    for (let i = 0; i < 8; i++) st[ST_REGS + i] = c.rdSys32(newBase + 0x28 + 4 * i);
    for (let i = 0; i < 6; i++) st[ST_SEGS + i] = c.rdSys16(newBase + 0x48 + 4 * i);
    st[ST_LDT] = c.rdSys16(newBase + 0x60);
  } else {
    st[ST_EIP] = c.rdSys16(newBase + 0x0e);
    st[ST_EFLAGS] = c.rdSys16(newBase + 0x10);
    for (let i = 0; i < 8; i++) st[ST_REGS + i] = c.rdSys16(newBase + 0x12 + 2 * i);
    for (let i = 0; i < 4; i++) st[ST_SEGS + i] = c.rdSys16(newBase + 0x22 + 2 * i);
    st[ST_SEGS + FS] = 0; st[ST_SEGS + GS] = 0;
    st[ST_LDT] = c.rdSys16(newBase + 0x2a);
  }

  // Save the old task (IRET saves EFLAGS with NT clear).
  const oldBase = c.trBase, oldSel = c.trSel;
  let eflags = getEflags(c);
  if (iret) eflags &= ~FLAG_NT;
  if ((c.trAttr & 8) !== 0) {
    c.wrSys32(oldBase + 0x20, retEip);
    c.wrSys32(oldBase + 0x24, eflags);
    for (let i = 0; i < 8; i++) c.wrSys32(oldBase + 0x28 + 4 * i, c.regs[i]!);
    for (let i = 0; i < 6; i++) c.wrSys16(oldBase + 0x48 + 4 * i, c.segSel[i]!);
  } else {
    c.wrSys16(oldBase + 0x0e, retEip);
    c.wrSys16(oldBase + 0x10, eflags);
    for (let i = 0; i < 8; i++) c.wrSys16(oldBase + 0x12 + 2 * i, c.regs[i]!);
    for (let i = 0; i < 4; i++) c.wrSys16(oldBase + 0x22 + 2 * i, c.segSel[i]!);
  }
  // Busy bits and the back link.
  if (kind === TASK_JMP || iret) setBusy(c, oldSel, false);
  let newFlags = st[ST_EFLAGS]!;
  if (!new32) newFlags &= 0xffff;
  if (kind === TASK_CALL || kind === TASK_INT) {
    c.wrSys16(newBase, oldSel);
    newFlags |= FLAG_NT;
  }
  if (!iret) setBusy(c, sel, true);

  // ---- Commit: from here on the new task's state is current.
  c.trSel = sel; c.trBase = newBase; c.trLimit = newLimit; c.trAttr = newAttr;
  c.cr0 |= CR0_TS;
  if (new32 && (c.cr0 & CR0_PG) !== 0) {
    loadCr3(c, st[ST_CR3]!);
  }
  c.lazyMask = 0;
  c.flags = (newFlags & FLAGS_VALID) | FLAGS_FIXED1;
  c.eip = new32 ? st[ST_EIP]! : st[ST_EIP]! & 0xffff;
  if (new32) for (let i = 0; i < 8; i++) c.regs[i] = st[ST_REGS + i]!;
  // A 286 TSS holds 16-bit registers; the processor sets the upper halves to 0xFFFF
  // (not the outgoing task's), as Bochs also models.
  else for (let i = 0; i < 8; i++) c.regs[i] = 0xffff0000 | st[ST_REGS + i]!;
  // Selectors are loaded with invalid caches first; a fault below leaves them unusable.
  for (let i = 0; i < 6; i++) {
    c.segSel[i] = st[ST_SEGS + i]!;
    c.segAttr[i] = 0;
    c.updateSegCheck(i);
  }
  const ldtSel = st[ST_LDT]! & 0xffff;
  c.ldtSel = ldtSel; c.ldtAttr = 0; c.ldtBase = 0; c.ldtLimit = 0;
  // A fault from here is raised in the new task: the run loop must not restore old EIP/ESP.
  c.startEip = c.eip;
  c.startEsp = c.regs[ESP]!;

  // LDT.
  if ((ldtSel & ~3) !== 0) {
    const l = segDesc;
    if ((ldtSel & 4) !== 0 || !readDescriptor(c, ldtSel, l) || l.type !== SYS_LDT) c.raise(EXC_TS, (ldtSel & ~3) | ext);
    if (!l.present) c.raise(EXC_TS, (ldtSel & ~3) | ext);
    c.ldtBase = l.base; c.ldtLimit = l.limit; c.ldtAttr = l.attr;
  }

  if ((c.flags & FLAG_VM) !== 0) {
    // A VM86 task: real-mode style segments at CPL 3.
    c.cpl = 3;
    for (let i = 0; i < 6; i++) c.loadRealSeg(i, st[ST_SEGS + i]!);
  } else {
    loadTaskSegments(c, ext);
  }
  c.updateMode();

  if (error >= 0) {
    if (new32) c.push32(error); else c.push16(error);
    c.startEsp = c.regs[ESP]!;
  }
  if ((c.eip >>> 0) > (c.segLimit[CS]! >>> 0)) c.raise(EXC_GP, ext);
}

/** CS, SS, then ES DS FS GS of the new task, with the #TS/#NP/#SS checks of table 7-1. */
function loadTaskSegments(c: Cpu, ext: number): void {
  const s = segDesc;
  // CS: its RPL becomes the CPL.
  const cs = st[ST_SEGS + CS]! & 0xffff;
  const cpl = cs & 3;
  if ((cs & ~3) === 0 || !readDescriptor(c, cs, s) || !s.isCode) c.raise(EXC_TS, (cs & ~3) | ext);
  const conforming = (s.hi & (DESC_CE << 8)) !== 0;
  if (conforming ? s.dpl > cpl : s.dpl !== cpl) c.raise(EXC_TS, (cs & ~3) | ext);
  if (!s.present) c.raise(EXC_NP, (cs & ~3) | ext);
  loadCs(c, cs, s, cpl);
  // SS.
  const ss = st[ST_SEGS + SS]! & 0xffff;
  if ((ss & ~3) === 0) c.raise(EXC_TS, ext);
  if (!readDescriptor(c, ss, s)) c.raise(EXC_TS, (ss & ~3) | ext);
  if ((ss & 3) !== cpl || s.dpl !== cpl || !s.isCodeData || s.isCode || (s.hi & (DESC_RW << 8)) === 0) {
    c.raise(EXC_TS, (ss & ~3) | ext);
  }
  if (!s.present) c.raise(EXC_SS, (ss & ~3) | ext);
  setAccessed(c, s);
  setSegCache(c, SS, ss, s);
  // Data segments.
  for (let k = 0; k < 4; k++) {
    const seg = DATA_SEGS[k]!;
    const sel = st[ST_SEGS + seg]! & 0xffff;
    if ((sel & ~3) === 0) { setNullSeg(c, seg, sel); continue; }
    if (!readDescriptor(c, sel, s) || !s.isCodeData || (s.isCode && (s.hi & (DESC_RW << 8)) === 0)) {
      c.raise(EXC_TS, (sel & ~3) | ext);
    }
    const conf = s.isCode && (s.hi & (DESC_CE << 8)) !== 0;
    if (!conf && (s.dpl < cpl || s.dpl < (sel & 3))) c.raise(EXC_TS, (sel & ~3) | ext);
    if (!s.present) c.raise(EXC_NP, (sel & ~3) | ext);
    setAccessed(c, s);
    setSegCache(c, seg, sel, s);
  }
}

/**
 * Checks of a TSS descriptor named directly by JMP/CALL (SDM JMP/CALL "TSS"): DPL
 * against CPL and RPL, then available and present are checked by taskSwitch.
 */
export function checkTssTarget(c: Cpu, sel: number, d: Descriptor): void {
  if (d.dpl < c.cpl || d.dpl < (sel & 3)) c.raise(EXC_GP, sel & ~3);
}
