// Interrupt and exception delivery and IRET (SDM vol. 3A ch. 6: §6.12 gates and stack
// switching, §6.15 double fault classes, §20.1.4 real-address mode IVT; vol. 2A IRET).

import type { Cpu } from './Cpu.js';
import { FAULT } from './fault.js';
import {
  CR0_PE, CS, DESC_CE, DESC_DB, DESC_RW, DS, ES, EXC_DF, EXC_GP, EXC_NP, EXC_PF, EXC_SS, EXC_TS, FLAG_AC, FLAG_IF,
  FLAG_IOPL, FLAG_NT, FLAG_RF, FLAG_TF, FLAG_VIF, FLAG_VIP, FLAG_VM, FLAGS_FIXED1, FLAGS_VALID, FS, GS, SS, ESP,
  SYS_INT16, SYS_INT32, SYS_TASK, SYS_TRAP16, SYS_TRAP32,
} from './constants.js';
import { getEflags } from './flags.js';
import { checkReturnCs, checkStackRoom, sysRead32, Descriptor, invalidateOuterSegs, loadCs, readDescriptor, setAccessed, setNullSeg, setSegCache } from './segments.js';
import { taskSwitch, TASK_INT, TASK_IRET } from './tasks.js';

/** Vectors that push an error code in protected mode. */
const HAS_ERROR = new Uint8Array(32);
for (const v of [8, 10, 11, 12, 13, 14, 17]) HAS_ERROR[v] = 1;

function isContributory(v: number): boolean {
  return v === 0 || (v >= 10 && v <= 13);
}

/**
 * Deliver an exception raised by an instruction (EIP already points at the faulting
 * instruction for faults, past it for traps). A fault during delivery escalates per
 * SDM table 6-5: contributory+contributory or #PF+(#PF|contributory) → #DF; any fault
 * while delivering #DF → shutdown (triple fault).
 */
export function deliverException(c: Cpu, vector: number, error: number): void {
  let depth = 0;
  for (;;) {
    const prev = c.delivering;
    if (prev !== -1) {
      if (prev === EXC_DF) {
        c.delivering = -1;
        c.shutdown(`triple fault (vector ${vector} while delivering #DF)`);
        return;
      }
      if ((isContributory(prev) && isContributory(vector)) || (prev === EXC_PF && (vector === EXC_PF || isContributory(vector)))) {
        vector = EXC_DF;
        error = 0;
      }
    }
    if (++depth > 6) {
      c.delivering = -1;
      c.shutdown('triple fault (nested faults while delivering exceptions)');
      return;
    }
    c.delivering = vector;
    // Every vector the CPU tries to deliver is counted, escalations (#DF) included.
    c.excCounts[vector & 31]!++;
    try {
      const pm = (c.cr0 & CR0_PE) !== 0;
      deliverInterrupt(c, vector, false, pm && vector < 32 && HAS_ERROR[vector] === 1 ? error : -1, c.eip);
      c.delivering = -1;
      return;
    } catch (e) {
      if (e !== FAULT) throw e;
      vector = c.excVector;
      error = c.excError;
      c.excVector = -1;
    }
  }
}

/** Gate/stack scratch, reused so delivery allocates nothing. */
const gateDesc = new Descriptor();
const csDesc = new Descriptor();
const ssDesc = new Descriptor();
/** Data segment registers nulled on leaving VM86 and checked on return to an outer level. */
const VM86_SEGS = [ES, DS, FS, GS] as const;

/**
 * Write one stack slot of an interrupt frame at base+sp (sp already decremented);
 * `user` is false for the new (inner) stack, whose accesses are supervisor accesses.
 */
function frameWrite(c: Cpu, base: number, sp: number, size: number, v: number, user: boolean): void {
  c.wrSlow((base + sp) | 0, size, v, user);
}

/**
 * Transfer control through the IVT (real mode) or IDT (protected mode).
 * `soft` is INT n / INT3 / INTO (gate DPL checked, no error code); `error` -1 for none;
 * `retEip` is the EIP pushed as the return address.
 */
export function deliverInterrupt(c: Cpu, vector: number, soft: boolean, error: number, retEip: number): void {
  if ((c.cr0 & CR0_PE) === 0) {
    realModeInterrupt(c, vector, retEip);
    return;
  }
  const ext = soft ? 0 : 1;
  const idx = vector << 3;
  if (idx + 7 > (c.idtLimit >>> 0)) c.raise(EXC_GP, idx | 2 | ext);
  const g = gateDesc;
  g.addr = (c.idtBase + idx) | 0;
  g.lo = sysRead32(c, g.addr);
  g.hi = sysRead32(c, (g.addr + 4) | 0);
  const type = g.type;
  if (type !== SYS_TASK && type !== SYS_INT16 && type !== SYS_TRAP16 && type !== SYS_INT32 && type !== SYS_TRAP32) {
    c.raise(EXC_GP, idx | 2 | ext);
  }
  if (soft && g.dpl < c.cpl) c.raise(EXC_GP, idx | 2);
  if (!g.present) c.raise(EXC_NP, idx | 2 | ext);
  if (type === SYS_TASK) {
    taskSwitch(c, g.lo >>> 16, TASK_INT, retEip, error, ext);
    return;
  }
  const gate32 = type === SYS_INT32 || type === SYS_TRAP32;
  const trapGate = type === SYS_TRAP16 || type === SYS_TRAP32;
  const sel = g.lo >>> 16;
  const offset = gate32 ? (g.lo & 0xffff) | (g.hi & 0xffff0000) : g.lo & 0xffff;
  if ((sel & ~3) === 0) c.raise(EXC_GP, ext);
  const d = csDesc;
  if (!readDescriptor(c, sel, d)) c.raise(EXC_GP, (sel & ~3) | ext);
  if (!d.isCode || d.dpl > c.cpl) c.raise(EXC_GP, (sel & ~3) | ext);
  if (!d.present) c.raise(EXC_NP, (sel & ~3) | ext);
  const conforming = (d.hi & (DESC_CE << 8)) !== 0;
  const vm = (c.flags & FLAG_VM) !== 0;
  const eflags = getEflags(c);
  const size = gate32 ? 4 : 2;

  if (!conforming && d.dpl < c.cpl) {
    // Inter-privilege: new stack from the TSS (SDM §6.12.1, §7.2.1).
    const newCpl = d.dpl;
    if (vm && newCpl !== 0) c.raise(EXC_GP, (sel & ~3) | ext);
    const tss32 = (c.trAttr & 0x8) !== 0;
    const ssOff = tss32 ? 8 + newCpl * 8 : 4 + newCpl * 4;
    const spOff = tss32 ? 4 + newCpl * 8 : 2 + newCpl * 4;
    if (ssOff + 1 > (c.trLimit >>> 0)) c.raise(EXC_TS, (c.trSel & ~3) | ext);
    const newSs = c.rdSys16(c.trBase + ssOff);
    const tssSp = tss32 ? c.rdSys32(c.trBase + spOff) : c.rdSys16(c.trBase + spOff);
    const s = ssDesc;
    if ((newSs & ~3) === 0) c.raise(EXC_TS, ext);
    if (!readDescriptor(c, newSs, s)) c.raise(EXC_TS, (newSs & ~3) | ext);
    if ((newSs & 3) !== newCpl || s.dpl !== newCpl || !s.isCodeData || s.isCode || (s.hi & (DESC_RW << 8)) === 0) {
      c.raise(EXC_TS, (newSs & ~3) | ext);
    }
    if (!s.present) c.raise(EXC_SS, (newSs & ~3) | ext);
    const ssBase = s.base;
    const sp32 = (s.hi & (DESC_DB << 8)) !== 0;
    const spMask = sp32 ? -1 : 0xffff;
    let sp = tssSp & spMask;
    const frame = (vm ? 9 : 5) + (error >= 0 ? 1 : 0);
    checkStackRoom(c, s, sp, frame * size, newSs, ext);
    if ((offset >>> 0) > (d.limit >>> 0)) c.raise(EXC_GP, ext);
    // Write the whole frame before changing any register, so a fault here restarts cleanly.
    if (vm) {
      sp = (sp - size) & spMask; frameWrite(c, ssBase, sp, size, c.segSel[GS]!, false);
      sp = (sp - size) & spMask; frameWrite(c, ssBase, sp, size, c.segSel[FS]!, false);
      sp = (sp - size) & spMask; frameWrite(c, ssBase, sp, size, c.segSel[DS]!, false);
      sp = (sp - size) & spMask; frameWrite(c, ssBase, sp, size, c.segSel[ES]!, false);
    }
    sp = (sp - size) & spMask; frameWrite(c, ssBase, sp, size, c.segSel[SS]!, false);
    sp = (sp - size) & spMask; frameWrite(c, ssBase, sp, size, c.regs[ESP]!, false);
    sp = (sp - size) & spMask; frameWrite(c, ssBase, sp, size, eflags, false);
    sp = (sp - size) & spMask; frameWrite(c, ssBase, sp, size, c.segSel[CS]!, false);
    sp = (sp - size) & spMask; frameWrite(c, ssBase, sp, size, retEip, false);
    if (error >= 0) { sp = (sp - size) & spMask; frameWrite(c, ssBase, sp, size, error, false); }
    // Commit.
    setAccessed(c, s);
    if (vm) {
      c.flags &= ~FLAG_VM;
      for (let k = 0; k < 4; k++) setNullSeg(c, VM86_SEGS[k]!, 0);
    }
    c.cpl = newCpl;
    setSegCache(c, SS, (newSs & ~3) | newCpl, s);
    if (sp32) c.regs[ESP] = sp; else c.r16[ESP << 1] = sp;
  } else {
    if (vm) c.raise(EXC_GP, (sel & ~3) | ext);
    const spMask = c.ss32 ? -1 : 0xffff;
    let sp = c.regs[ESP]! & spMask;
    const bytes = (3 + (error >= 0 ? 1 : 0)) * size;
    const ssBase = c.segBase[SS]!;
    if (c.segCheck[SS] !== 0) c.checkSegAccess(SS, (sp - bytes) & spMask, bytes, true);
    if ((offset >>> 0) > (d.limit >>> 0)) c.raise(EXC_GP, ext);
    const user = c.cpl === 3;
    sp = (sp - size) & spMask; frameWrite(c, ssBase, sp, size, eflags, user);
    sp = (sp - size) & spMask; frameWrite(c, ssBase, sp, size, c.segSel[CS]!, user);
    sp = (sp - size) & spMask; frameWrite(c, ssBase, sp, size, retEip, user);
    if (error >= 0) { sp = (sp - size) & spMask; frameWrite(c, ssBase, sp, size, error, user); }
    if (c.ss32) c.regs[ESP] = sp; else c.r16[ESP << 1] = sp;
  }
  // A conforming handler runs at the current CPL; otherwise at the code segment's DPL.
  loadCs(c, sel, d, conforming ? c.cpl : d.dpl);
  c.eip = offset;
  c.lazyMask = 0;
  c.flags = eflags & ~(FLAG_TF | FLAG_NT | FLAG_RF | FLAG_VM | (trapGate ? 0 : FLAG_IF));
  c.updateMode();
}

function realModeInterrupt(c: Cpu, vector: number, retEip: number): void {
  const idx = vector << 2;
  if (idx + 3 > (c.idtLimit >>> 0)) c.raise(EXC_GP, 0);
  const target = c.rdSys32((c.idtBase + idx) | 0);
  const eflags = getEflags(c);
  // Check the stack before pushing so a fault leaves SP unchanged.
  const sp = c.r16[ESP << 1]!;
  if (c.segCheck[SS] !== 0) c.checkSegAccess(SS, (sp - 6) & 0xffff, 6, true);
  c.push16(eflags);
  c.push16(c.segSel[CS]!);
  c.push16(retEip);
  c.lazyMask = 0;
  c.flags = eflags & ~(FLAG_IF | FLAG_TF | FLAG_AC | FLAG_RF);
  c.loadRealSeg(CS, target >>> 16);
  c.eip = target & 0xffff;
}

/**
 * IRET/IRETD (SDM vol. 2A). Real mode and VM86 (IOPL 3) pop IP, CS, FLAGS; protected
 * mode handles same-level and outer-level returns, returns to VM86, and nested tasks.
 * Everything is read and checked before anything changes (faults restart the IRET).
 */
export function iret(c: Cpu): void {
  const o32 = c.o32;
  const size = o32 ? 4 : 2;
  const pm = (c.cr0 & CR0_PE) !== 0;
  const vm = (c.flags & FLAG_VM) !== 0;
  if (!pm || vm) {
    if (vm && (c.flags & FLAG_IOPL) !== FLAG_IOPL) c.raise(EXC_GP, 0);
    const ip = o32 ? c.peek32(0) : c.peek16(0);
    const cs = o32 ? c.peek32(4) & 0xffff : c.peek16(2);
    const fl = o32 ? c.peek32(8) : c.peek16(4);
    // The new IP must lie inside CS's limit (64 KiB in VM86, the cached limit in real mode).
    if ((ip >>> 0) > (vm ? 0xffff : c.segLimit[CS]! >>> 0)) c.raise(EXC_GP, 0);
    c.adjustSp(3 * size);
    c.loadRealSeg(CS, cs);
    c.eip = o32 ? ip : ip & 0xffff;
    // VM86 cannot change IOPL; neither mode changes VM/VIF/VIP through IRET.
    const keep = vm ? FLAG_IOPL | FLAG_VM | FLAG_VIP | FLAG_VIF : FLAG_VM | FLAG_VIP | FLAG_VIF;
    setFlagsFromPop(c, fl, o32, keep);
    c.irqPending = true;
    return;
  }
  if ((c.flags & FLAG_NT) !== 0) {
    // Return from a nested task: to the TSS named by the back link (SDM §7.4).
    taskSwitch(c, c.rdSys16(c.trBase), TASK_IRET, c.eip, -1, 0);
    c.irqPending = true;
    return;
  }
  const newEip = o32 ? c.peek32(0) : c.peek16(0);
  const sel = (o32 ? c.peek32(4) : c.peek16(2)) & 0xffff;
  const newFlags = o32 ? c.peek32(8) : c.peek16(4);
  if (o32 && (newFlags & FLAG_VM) !== 0 && c.cpl === 0) {
    returnToVm86(c, newEip, sel, newFlags);
    return;
  }
  const d = csDesc;
  checkReturnCs(c, sel, d);
  const rpl = sel & 3;
  const eip = o32 ? newEip : newEip & 0xffff;
  const oldCpl = c.cpl;
  const oldIopl = (c.flags & FLAG_IOPL) >>> 12;
  if (rpl === oldCpl) {
    if ((eip >>> 0) > (d.limit >>> 0)) c.raise(EXC_GP, 0);
    c.adjustSp(3 * size);
    loadCs(c, sel, d, rpl);
  } else {
    // Outer level: pop SS:ESP too.
    const newSp = o32 ? c.peek32(12) : c.peek16(6);
    const newSs = (o32 ? c.peek32(16) : c.peek16(8)) & 0xffff;
    if ((newSs & ~3) === 0) c.raise(EXC_GP, 0);
    const s = ssDesc;
    if (!readDescriptor(c, newSs, s)) c.raise(EXC_GP, newSs & ~3);
    if ((newSs & 3) !== rpl || s.dpl !== rpl || !s.isCodeData || s.isCode || (s.hi & (DESC_RW << 8)) === 0) c.raise(EXC_GP, newSs & ~3);
    if (!s.present) c.raise(EXC_SS, newSs & ~3);
    if ((eip >>> 0) > (d.limit >>> 0)) c.raise(EXC_GP, 0);
    loadCs(c, sel, d, rpl);
    setAccessed(c, s);
    setSegCache(c, SS, newSs, s);
    // A 16-bit stack segment gets only SP; ESP's high half keeps its value (as hardware does).
    if (c.ss32) c.regs[ESP] = newSp; else c.r16[ESP << 1] = newSp;
    invalidateOuterSegs(c);
  }
  c.eip = eip;
  // Which flags the old CPL may change (SDM IRET operation): IF needs CPL <= IOPL,
  // IOPL needs CPL 0, and VIF/VIP change only at CPL 0 with a 32-bit operand.
  let keep = FLAG_VM;
  if (oldCpl > 0 || !o32) keep |= FLAG_VIP | FLAG_VIF;
  if (oldCpl > 0) keep |= FLAG_IOPL;
  if (oldCpl > oldIopl) keep |= FLAG_IF;
  setFlagsFromPop(c, newFlags, o32, keep);
  c.irqPending = true;
}

/** Apply a popped EFLAGS image; bits in `keep` stay as they are. 16-bit pops keep the high half. */
export function setFlagsFromPop(c: Cpu, v: number, o32: boolean, keep: number): void {
  const old = getEflags(c);
  if (!o32) keep |= 0xffff0000 | 0;
  const valid = FLAGS_VALID & ~keep;
  c.flags = ((old & ~valid) | (v & valid) | FLAGS_FIXED1) & (FLAGS_VALID | FLAGS_FIXED1);
  c.lazyMask = 0;
  c.updateMode();
}

/** IRETD at CPL 0 with EFLAGS.VM in the image: enter VM86 (SDM IRET, RETURN-TO-VIRTUAL-8086-MODE). */
function returnToVm86(c: Cpu, eip: number, cs: number, flags: number): void {
  // Stack: EIP CS EFLAGS ESP SS ES DS FS GS (32-bit slots); read all before changing anything.
  const esp = c.peek32(12);
  const ss = c.peek32(16) & 0xffff;
  const es = c.peek32(20) & 0xffff;
  const ds = c.peek32(24) & 0xffff;
  const fs = c.peek32(28) & 0xffff;
  const gs = c.peek32(32) & 0xffff;
  c.lazyMask = 0;
  c.flags = (flags & (FLAGS_VALID | FLAGS_FIXED1)) | FLAG_VM | FLAGS_FIXED1;
  c.cpl = 3;
  loadVm86Seg(c, ES, es);
  loadVm86Seg(c, DS, ds);
  loadVm86Seg(c, FS, fs);
  loadVm86Seg(c, GS, gs);
  loadVm86Seg(c, SS, ss);
  loadVm86Seg(c, CS, cs);
  c.regs[ESP] = esp;
  c.eip = eip & 0xffff;
  c.updateMode();
  c.irqPending = true;
}

/** VM86 segment: base = sel << 4, limit 64 KiB, DPL 3 read/write. */
function loadVm86Seg(c: Cpu, seg: number, sel: number): void {
  c.segAttr[seg] = 0;
  c.loadRealSeg(seg, sel);
}
