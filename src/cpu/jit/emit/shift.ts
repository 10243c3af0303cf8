// Templates for 32-bit shifts and rotates by an immediate or by CL (shift.ts), 8- and
// 16-bit SHL/SHR/SAR by an immediate less than the operand's width, and the flag
// instructions CLC STC CMC CLD STD. Results and CF/OF follow the interpreter's formulas
// (the P6 values of the architecturally undefined OF); other forms and the rotates
// through carry stay with the interpreter.

import { F_ALL, F_C, F_O } from '../../opcodeInfo.js';
import { FLAG_DF } from '../../constants.js';
import { type Emitter, type X, FK_RCO, L_R0, and, cst, loc, ne, or, rotl, rotr, shl, shrS, shrU, sub, xor, FLAGS_DYNAMIC } from '../Emitter.js';
import { when, type Template, type TemplateTable } from './types.js';
import type { Insn } from '../scan.js';

/** Emit group-2 op `op` on `v` by count `n` (1-31) into a new temp, recording flags as far as they are live. */
function emitShift(e: Emitter, op: number, v: X, n: X): number {
  const tv = e.val(v);
  const V = loc(tv);
  const one = cst(1);
  switch (op) {
    case 0: case 1: { // ROL/ROR change CF and OF only: the state goes to the CPU and those two are set
      const r = e.val(op === 0 ? rotl(V, n) : rotr(V, n));
      if ((e.liveOut & (F_C | F_O)) !== 0) {
        const R = loc(r);
        e.flagsToCpu();
        const cf = op === 0 ? and(R, one) : shrU(R, cst(31));
        const of = op === 0 ? xor(shrU(R, cst(31)), and(R, one)) : xor(shrU(R, cst(31)), and(shrU(R, cst(30)), one));
        cf(e); of(e); e.rt('setCfOf');
      }
      return r;
    }
    case 4: case 6: { // SHL: CF = last bit out, OF = MSB(result) XOR CF
      const r = e.val(shl(V, n));
      if (e.flagsLive(F_ALL)) {
        const cf = e.val(and(shrU(V, sub(cst(32), n)), one));
        e.produce(FK_RCO, 4, cst(0), cst(0), loc(r), or(loc(cf), shl(xor(shrU(loc(r), cst(31)), loc(cf)), one)));
      }
      return r;
    }
    case 5: { // SHR: OF = MSB(original)
      const r = e.val(shrU(V, n));
      if (e.flagsLive(F_ALL)) e.produce(FK_RCO, 4, cst(0), cst(0), loc(r), or(and(shrU(V, sub(n, one)), one), shl(shrU(V, cst(31)), one)));
      return r;
    }
    default: { // SAR: OF = 0
      const r = e.val(shrS(V, n));
      if (e.flagsLive(F_ALL)) e.produce(FK_RCO, 4, cst(0), cst(0), loc(r), and(shrS(V, sub(n, one)), one));
      return r;
    }
  }
}

/**
 * 8/16-bit SHL, SHR or SAR of `v` (masked to the size) by a constant 1..width-1, into a new
 * temp: the same results and flags as shiftOp in the interpreter.
 */
function emitSmallShift(e: Emitter, op: number, size: number, v: X, n: number): number {
  const bits = size * 8, top = bits - 1;
  const V = loc(e.val(v));
  const one = cst(1);
  if (op === 4 || op === 6) {
    const r = e.val(e.trunc(size, shl(V, cst(n))));
    if (e.flagsLive(F_ALL)) {
      const cf = e.val(and(shrU(V, cst(bits - n)), one));
      e.produce(FK_RCO, size, cst(0), cst(0), loc(r), or(loc(cf), shl(xor(and(shrU(loc(r), cst(top)), one), loc(cf)), one)));
    }
    return r;
  }
  if (op === 5) {
    const r = e.val(shrU(V, cst(n)));
    if (e.flagsLive(F_ALL)) e.produce(FK_RCO, size, cst(0), cst(0), loc(r), or(and(shrU(V, cst(n - 1)), one), shl(shrU(V, cst(top)), one)));
    return r;
  }
  const sv = e.val(shrS(shl(V, cst(32 - bits)), cst(32 - bits))); // SAR: sign-extended first
  const r = e.val(e.trunc(size, shrS(loc(sv), cst(n))));
  if (e.flagsLive(F_ALL)) e.produce(FK_RCO, size, cst(0), cst(0), loc(r), and(shrS(loc(sv), cst(n - 1)), one));
  return r;
}

/** C0 /r ib, D0 /r, and C1/D1 with a 16-bit operand: SHL/SHR/SAR by a count below the width. */
function smallShiftImm(byte: boolean, count: (i: Insn) => number): Template {
  return when((i) => {
    const n = count(i) & 31;
    return (byte || !i.o32) && i.reg >= 4 && n !== 0 && n < (byte ? 8 : 16);
  }, (e) => {
    const i = e.i, size = byte ? 1 : 2;
    const n = count(i) & 31;
    if (!e.isMem) { e.setReg(size, e.rm, loc(emitSmallShift(e, i.reg, size, e.reg(size, e.rm), n))); return; }
    const [old, commit] = e.rmw(size, e.linear(size, true));
    commit(loc(emitSmallShift(e, i.reg, size, loc(old), n)));
  });
}

/** The 32-bit form where it takes it, else the 8/16-bit one. */
function eitherShift(wide: Template, small: Template): Template {
  return when((i) => wide.accepts!(i) || small.accepts!(i), (e) => { if (e.i.o32) wide(e); else small(e); });
}

/** The translatable group-2 ops: not RCL/RCR. */
const shiftable = (op: number): boolean => op !== 2 && op !== 3;

/** C1 /r ib and D1 /r: a count known now (zero counts stay with the interpreter). */
function shiftImm(count: (i: Insn) => number): Template {
  return when((i) => i.o32 && (count(i) & 31) !== 0 && shiftable(i.reg), (e) => {
    const i = e.i;
    const n = count(i) & 31;
    if (!e.isMem) { e.setReg(4, e.rm, loc(emitShift(e, i.reg, loc(L_R0 + e.rm), cst(n)))); return; }
    const [old, commit] = e.rmw(4, e.linear(4, true));
    commit(loc(emitShift(e, i.reg, loc(old), cst(n))));
  });
}

/**
 * D3 /r: a zero count changes nothing, flags included; a memory operand is still checked
 * for writing (the interpreter's rmwLin) but not read.
 */
const shiftCl = when((i) => i.o32 && shiftable(i.reg), (e) => {
  const i = e.i;
  const n = e.val(and(loc(L_R0 + 1), cst(31)));
  if (!e.isMem) {
    e.if_(ne(loc(n), cst(0)), () => e.setReg(4, e.rm, loc(emitShift(e, i.reg, loc(L_R0 + e.rm), loc(n)))));
  } else {
    const lin = e.linear(4, true);
    e.if_(ne(loc(n), cst(0)), () => {
      const [old, commit] = e.rmw(4, lin);
      commit(loc(emitShift(e, i.reg, loc(old), loc(n))));
    }, () => e.probe(lin, 4));
  }
  // Which producer holds the flags now depends on the count.
  e.flagKind = FLAGS_DYNAMIC;
});

export function installShift(t: TemplateTable): void {
  t[0xc0] = smallShiftImm(true, (i) => i.imm);
  t[0xd0] = smallShiftImm(true, () => 1);
  t[0xc1] = eitherShift(shiftImm((i) => i.imm), smallShiftImm(false, (i) => i.imm));
  t[0xd1] = eitherShift(shiftImm(() => 1), smallShiftImm(false, () => 1));
  t[0xd3] = shiftCl;
  // CLC STC CMC: CF alone, once the flag state is in the CPU; nothing when CF is dead.
  const cfOp = (v: (e: Emitter) => X): Template => (e) => {
    if ((e.liveOut & F_C) === 0) return;
    const x = e.val(v(e));
    e.flagsToCpu();
    e.get(x); e.rt('setCf');
  };
  t[0xf8] = cfOp(() => cst(0));
  t[0xf9] = cfOp(() => cst(1));
  t[0xf5] = cfOp((e) => xor(e.carry(), cst(1)));
  // CLD/STD: DF lives in the CPU's flags, never in the flag locals.
  t[0xfc] = (e) => e.cpuFlags(0, FLAG_DF);
  t[0xfd] = (e) => e.cpuFlags(FLAG_DF, FLAG_DF);
}
