// Far control transfers: JMP/CALL ptr16:16/32 (EA, 9A, FF /3 /5) and RETF (CA, CB)
// (SDM vol. 2A JMP/CALL, vol. 2B RET; vol. 3A §5.8). Real and VM86 mode; in protected
// mode direct code-segment targets, call gates (16/32-bit, with the stack switch and
// parameter copy of §5.8.5-5.8.6), TSS descriptors and task gates (tasks.ts), and
// RETF to the same or an outer privilege level. Checks follow the SDM's order and
// error codes; nothing is committed until every check and stack write has passed.

import type { Cpu } from './Cpu.js';
import type { OpTable } from './opcodes.js';
import {
  CR0_PE, CS, DESC_CE, DESC_DB, DESC_RW, ESP, EXC_GP, EXC_NP, EXC_SS, EXC_TS, FLAG_VM, SS, SYS_CALL16, SYS_CALL32,
  SYS_TASK, SYS_TSS16_AVAIL, SYS_TSS16_BUSY, SYS_TSS32_AVAIL, SYS_TSS32_BUSY,
} from './constants.js';
import { checkReturnCs, checkStackRoom, Descriptor, invalidateOuterSegs, loadCs, readDescriptor, setAccessed, setSegCache } from './segments.js';
import { checkTssTarget, taskSwitch, TASK_CALL, TASK_JMP } from './tasks.js';

const desc = new Descriptor();
const codeDesc = new Descriptor();
const ssDesc = new Descriptor();
/** Parameters copied through a call gate (at most 31). */
const params = new Int32Array(32);

function realMode(c: Cpu): boolean {
  return (c.cr0 & CR0_PE) === 0 || (c.flags & FLAG_VM) !== 0;
}

function checkEip(c: Cpu, eip: number, d: Descriptor): void {
  if ((eip >>> 0) > (d.limit >>> 0)) c.raise(EXC_GP, 0);
}

/** Checks for a code segment reached directly or through a call gate used by JMP (no privilege change). */
function checkSamePrivCode(c: Cpu, sel: number, d: Descriptor, checkRpl: boolean): void {
  if (!d.isCode) c.raise(EXC_GP, sel & ~3);
  const conforming = (d.hi & (DESC_CE << 8)) !== 0;
  if (conforming ? d.dpl > c.cpl : (checkRpl && (sel & 3) > c.cpl) || d.dpl !== c.cpl) c.raise(EXC_GP, sel & ~3);
  if (!d.present) c.raise(EXC_NP, sel & ~3);
}

/** JMP/CALL to a task gate or a TSS descriptor (already read into `desc`). */
function farTask(c: Cpu, sel: number, kind: number): void {
  const d = desc;
  const type = d.type;
  if (type === SYS_TASK) {
    if (d.dpl < c.cpl || d.dpl < (sel & 3)) c.raise(EXC_GP, sel & ~3);
    if (!d.present) c.raise(EXC_NP, sel & ~3);
    taskSwitch(c, d.lo >>> 16, kind, c.eip, -1, 0);
  } else {
    checkTssTarget(c, sel, d);
    taskSwitch(c, sel, kind, c.eip, -1, 0);
  }
}

/** Read the descriptor for a far JMP/CALL selector in protected mode; returns its type (incl. S). */
function readTarget(c: Cpu, sel: number): number {
  if ((sel & ~3) === 0) c.raise(EXC_GP, 0);
  if (!readDescriptor(c, sel, desc)) c.raise(EXC_GP, sel & ~3);
  return desc.type;
}

function isTaskType(type: number): boolean {
  return type === SYS_TASK || type === SYS_TSS16_AVAIL || type === SYS_TSS32_AVAIL || type === SYS_TSS16_BUSY || type === SYS_TSS32_BUSY;
}

/**
 * For a call gate in `desc`: check the gate, read and check its code segment into
 * `codeDesc`. Returns the code selector.
 */
function checkCallGate(c: Cpu, sel: number): number {
  const g = desc;
  if (g.dpl < c.cpl || g.dpl < (sel & 3)) c.raise(EXC_GP, sel & ~3);
  if (!g.present) c.raise(EXC_NP, sel & ~3);
  const cs = g.lo >>> 16;
  if ((cs & ~3) === 0) c.raise(EXC_GP, 0);
  if (!readDescriptor(c, cs, codeDesc)) c.raise(EXC_GP, cs & ~3);
  return cs;
}

export function farJump(c: Cpu, sel: number, off: number): void {
  if (realMode(c)) {
    c.loadRealSeg(CS, sel);
    c.eip = c.o32 ? off : off & 0xffff;
    return;
  }
  const type = readTarget(c, sel);
  const d = desc;
  if (d.isCodeData) {
    checkSamePrivCode(c, sel, d, true);
    const eip = c.o32 ? off : off & 0xffff;
    checkEip(c, eip, d);
    loadCs(c, sel, d, c.cpl);
    c.eip = eip;
    return;
  }
  if (type === SYS_CALL16 || type === SYS_CALL32) {
    const cs = checkCallGate(c, sel);
    const cd = codeDesc;
    // JMP through a call gate never changes privilege: the code DPL must equal CPL (or be conforming <= CPL).
    checkSamePrivCode(c, cs, cd, false);
    const eip = gateOffset(d, type === SYS_CALL32);
    checkEip(c, eip, cd);
    loadCs(c, cs, cd, c.cpl);
    c.eip = eip;
    return;
  }
  if (isTaskType(type)) { farTask(c, sel, TASK_JMP); return; }
  c.raise(EXC_GP, sel & ~3);
}

function gateOffset(g: Descriptor, gate32: boolean): number {
  return gate32 ? (g.lo & 0xffff) | (g.hi & 0xffff0000) : g.lo & 0xffff;
}

export function farCall(c: Cpu, sel: number, off: number): void {
  if (realMode(c)) {
    const cs = c.segSel[CS]!;
    const eip = c.o32 ? off : off & 0xffff;
    // Check the whole frame first so a stack fault leaves SP unchanged.
    checkStackPush(c, c.o32 ? 8 : 4);
    if (c.o32) { c.push32(cs); c.push32(c.eip); } else { c.push16(cs); c.push16(c.eip); }
    c.loadRealSeg(CS, sel);
    c.eip = eip;
    return;
  }
  const type = readTarget(c, sel);
  const d = desc;
  if (d.isCodeData) {
    checkSamePrivCode(c, sel, d, true);
    const eip = c.o32 ? off : off & 0xffff;
    const w = c.o32 ? 4 : 2;
    checkStackPush(c, 2 * w);
    checkEip(c, eip, d);
    const cs = c.segSel[CS]!;
    if (c.o32) { c.push32(cs); c.push32(c.eip); } else { c.push16(cs); c.push16(c.eip); }
    loadCs(c, sel, d, c.cpl);
    c.eip = eip;
    return;
  }
  if (type === SYS_CALL16 || type === SYS_CALL32) { callGate(c, sel, type === SYS_CALL32); return; }
  if (isTaskType(type)) { farTask(c, sel, TASK_CALL); return; }
  c.raise(EXC_GP, sel & ~3);
}

/** #SS(0) unless `bytes` can be pushed on the current stack. */
function checkStackPush(c: Cpu, bytes: number): void {
  if (c.segCheck[SS] === 0) return;
  const mask = c.ss32 ? -1 : 0xffff;
  c.checkSegAccess(SS, (c.regs[ESP]! - bytes) & mask, bytes, true);
}

/** CALL through a call gate (desc holds the gate), with a stack switch to a more privileged level. */
function callGate(c: Cpu, sel: number, gate32: boolean): void {
  const cs = checkCallGate(c, sel);
  const g = desc, cd = codeDesc;
  if (!cd.isCode || cd.dpl > c.cpl) c.raise(EXC_GP, cs & ~3);
  if (!cd.present) c.raise(EXC_NP, cs & ~3);
  const eip = gateOffset(g, gate32);
  const size = gate32 ? 4 : 2;
  const conforming = (cd.hi & (DESC_CE << 8)) !== 0;
  const oldCs = c.segSel[CS]!;
  const retEip = c.eip;

  if (conforming || cd.dpl === c.cpl) {
    // Same privilege.
    checkStackPush(c, 2 * size);
    checkEip(c, eip, cd);
    if (gate32) { c.push32(oldCs); c.push32(retEip); } else { c.push16(oldCs); c.push16(retEip); }
    loadCs(c, cs, cd, c.cpl);
    c.eip = eip;
    return;
  }

  // More privileged: new stack from the TSS for the code segment's DPL.
  const newCpl = cd.dpl;
  const tss32 = (c.trAttr & 8) !== 0;
  const spOff = tss32 ? 4 + 8 * newCpl : 2 + 4 * newCpl;
  const ssOff = tss32 ? 8 + 8 * newCpl : 4 + 4 * newCpl;
  if (((ssOff + 1) >>> 0) > (c.trLimit >>> 0)) c.raise(EXC_TS, c.trSel & ~3);
  const newSs = c.rdSys16(c.trBase + ssOff);
  let newSp = tss32 ? c.rdSys32(c.trBase + spOff) : c.rdSys16(c.trBase + spOff);
  const s = ssDesc;
  if ((newSs & ~3) === 0) c.raise(EXC_TS, 0);
  if (!readDescriptor(c, newSs, s)) c.raise(EXC_TS, newSs & ~3);
  if ((newSs & 3) !== newCpl || s.dpl !== newCpl || !s.isCodeData || s.isCode || (s.hi & (DESC_RW << 8)) === 0) {
    c.raise(EXC_TS, newSs & ~3);
  }
  if (!s.present) c.raise(EXC_SS, newSs & ~3);
  const count = g.hi & 0x1f;
  const frame = (4 + count) * size;
  const sp32 = (s.hi & (DESC_DB << 8)) !== 0;
  const spMask = sp32 ? -1 : 0xffff;
  newSp &= spMask;
  checkStackRoom(c, s, newSp, frame, newSs, 0);
  checkEip(c, eip, cd);
  // Parameters from the old stack (read with the old stack's checks).
  for (let i = 0; i < count; i++) params[i] = size === 4 ? c.peek32(4 * i) : c.peek16(2 * i);
  const oldSs = c.segSel[SS]!, oldSp = c.regs[ESP]!;
  const base = s.base;
  let sp = newSp;
  sp = (sp - size) & spMask; wrStack(c, base, sp, size, oldSs);
  sp = (sp - size) & spMask; wrStack(c, base, sp, size, size === 4 ? oldSp : oldSp & 0xffff);
  for (let i = count - 1; i >= 0; i--) { sp = (sp - size) & spMask; wrStack(c, base, sp, size, params[i]!); }
  sp = (sp - size) & spMask; wrStack(c, base, sp, size, oldCs);
  sp = (sp - size) & spMask; wrStack(c, base, sp, size, retEip);
  // Commit.
  setAccessed(c, s);
  c.cpl = newCpl;
  setSegCache(c, SS, (newSs & ~3) | newCpl, s);
  if (sp32) c.regs[ESP] = sp; else c.r16[ESP << 1] = sp;
  loadCs(c, cs, cd, newCpl);
  c.eip = eip;
}

function wrStack(c: Cpu, base: number, sp: number, size: number, v: number): void {
  if (size === 4) c.wrSys32((base + sp) | 0, v); else c.wrSys16((base + sp) | 0, v);
}

/** RETF [imm16] to the same or an outer privilege level. */
export function farReturn(c: Cpu, imm: number): void {
  const w = c.o32 ? 4 : 2;
  const off = c.o32 ? c.peek32(0) : c.peek16(0);
  const sel = (c.o32 ? c.peek32(4) : c.peek16(2)) & 0xffff;
  const eip = c.o32 ? off : off & 0xffff;
  if (realMode(c)) {
    c.adjustSp(2 * w + imm);
    c.loadRealSeg(CS, sel);
    c.eip = eip;
    return;
  }
  const d = codeDesc;
  checkReturnCs(c, sel, d);
  const rpl = sel & 3;
  if (rpl === c.cpl) {
    checkEip(c, eip, d);
    c.adjustSp(2 * w + imm);
    loadCs(c, sel, d, rpl);
    c.eip = eip;
    return;
  }
  // Outer level: the caller's SS:ESP sits above the parameters.
  const newSp = c.o32 ? c.peek32(8 + imm) : c.peek16(4 + imm);
  const newSs = (c.o32 ? c.peek32(12 + imm) : c.peek16(6 + imm)) & 0xffff;
  if ((newSs & ~3) === 0) c.raise(EXC_GP, 0);
  const s = ssDesc;
  if (!readDescriptor(c, newSs, s)) c.raise(EXC_GP, newSs & ~3);
  if ((newSs & 3) !== rpl || s.dpl !== rpl || !s.isCodeData || s.isCode || (s.hi & (DESC_RW << 8)) === 0) {
    c.raise(EXC_GP, newSs & ~3);
  }
  if (!s.present) c.raise(EXC_SS, newSs & ~3);
  checkEip(c, eip, d);
  loadCs(c, sel, d, rpl);
  setAccessed(c, s);
  setSegCache(c, SS, newSs, s);
  if (c.ss32) c.regs[ESP] = (newSp + imm) | 0; else c.r16[ESP << 1] = newSp + imm;
  c.eip = eip;
  invalidateOuterSegs(c);
}

export function installFar(t: OpTable): void {
  t.def(0xea, (c) => farJump(c, c.imm2, c.imm));
  t.def(0x9a, (c) => farCall(c, c.imm2, c.imm));
  t.def(0xcb, (c) => farReturn(c, 0));
  t.def(0xca, (c) => farReturn(c, c.imm));
}
