// Templates for the integer arithmetic of arith.ts and bit.ts: the eight ALU operations
// in every form, TEST, INC/DEC, NOT/NEG, MUL/IMUL, XADD, CMPXCHG (SDM vol. 2A-2B). Each
// computes its result, then records the flag producer (only where a reader or a fault
// site can see the flags), then writes its destination.

import { ALU_ADC, ALU_ADD, ALU_AND, ALU_CMP, ALU_OR, ALU_SBB, ALU_SUB } from '../../alu.js';
import { F_ALL, F_C } from '../../opcodeInfo.js';
import {
  type Emitter, type X, FK_ADC, FK_ADD, FK_DEC, FK_INC, FK_LOGIC, FK_RCO, FK_SBB, FK_SUB,
  L_R0, add, and, cst, eq, loc, mul, ne, or, sel, shl, shrS, sub, xor,
} from '../Emitter.js';
import { Op } from '../wasmModule.js';
import { immOf, simm8, when, type Template, type TemplateTable } from './types.js';

/** Emit ALU op `op` on values a, b of `size`; returns the result temp (CMP: the difference). */
export function alu(e: Emitter, op: number, size: number, a: X, b: X): number {
  const live = e.flagsLive(F_ALL);
  // (a and b are read before anything is written: registers as they are)
  const A = loc(e.use(a)), B = loc(e.use(b));
  let cin: X = cst(0);
  if (op === ALU_ADC || op === ALU_SBB) cin = loc(e.val(e.carry()));
  let r: number;
  switch (op) {
    case ALU_ADD: r = e.val(e.trunc(size, add(A, B))); if (live) e.produce(FK_ADD, size, A, B, loc(r)); break;
    case ALU_ADC: r = e.val(e.trunc(size, add(add(A, B), cin))); if (live) e.produce(FK_ADC, size, A, B, loc(r), cin); break;
    case ALU_SBB: r = e.val(e.trunc(size, sub(sub(A, B), cin))); if (live) e.produce(FK_SBB, size, A, B, loc(r), cin); break;
    case ALU_SUB: case ALU_CMP: r = e.val(e.trunc(size, sub(A, B))); if (live) e.produce(FK_SUB, size, A, B, loc(r)); break;
    default:
      r = e.val(op === ALU_OR ? or(A, B) : op === ALU_AND ? and(A, B) : xor(A, B));
      if (live) e.produce(FK_LOGIC, size, cst(0), cst(0), loc(r));
  }
  return r;
}

/** op r/m, value: register or read-modify-write memory (CMP only reads). */
function aluRm(e: Emitter, op: number, size: number, b: X): void {
  if (!e.isMem) {
    const r = alu(e, op, size, e.reg(size, e.rm), b);
    if (op !== ALU_CMP) e.setReg(size, e.rm, loc(r));
    return;
  }
  if (op === ALU_CMP) {
    alu(e, op, size, loc(e.load(size, e.linear(size, false))), b);
    return;
  }
  const [old, commit] = e.rmw(size, e.linear(size, true));
  commit(loc(alu(e, op, size, loc(old), b)));
}

function aluRow(op: number, form: number): Template {
  return (e) => {
    const i = e.i;
    const size = (form & 1) === 0 ? 1 : e.osize;
    switch (form) {
      case 0: case 1: // E, G: the source register is read before the destination changes
        aluRm(e, op, size, loc(e.val(e.reg(size, i.reg))));
        return;
      case 2: case 3: { // G, E
        const b = e.readRm(size);
        const r = alu(e, op, size, e.reg(size, i.reg), b);
        if (op !== ALU_CMP) e.setReg(size, i.reg, loc(r));
        return;
      }
      default: { // AL/eAX, imm
        const r = alu(e, op, size, e.reg(size, 0), immOf(size, i.imm));
        if (op !== ALU_CMP) e.setReg(size, 0, loc(r));
      }
    }
  };
}

/** Group 1 (80 81 82 83): op from ModRM.reg, an immediate of the opcode's kind. */
function group1(opcode: number): Template {
  return (e) => {
    const i = e.i;
    const size = opcode === 0x80 || opcode === 0x82 ? 1 : e.osize;
    aluRm(e, i.reg, size, opcode === 0x83 ? simm8(size, i.imm) : immOf(size, i.imm));
  };
}

/** TEST a, b: AND for the flags only. */
function test(e: Emitter, size: number, a: X, b: X): void {
  const r = e.val(and(a, b));
  if (e.flagsLive(F_ALL)) e.produce(FK_LOGIC, size, cst(0), cst(0), loc(r));
}

/** INC/DEC of a value: CF is kept, so the producer carries the CF before it. */
function incDec(e: Emitter, size: number, a: X, dec: boolean): number {
  const ta = e.use(a);
  const r = e.val(e.trunc(size, dec ? sub(loc(ta), cst(1)) : add(loc(ta), cst(1))));
  if (e.flagsLive(F_ALL & ~F_C)) {
    const x = (e.liveOut & F_C) !== 0 ? loc(e.val(e.carry())) : cst(0);
    e.produce(dec ? FK_DEC : FK_INC, size, loc(ta), cst(1), loc(r), x);
  }
  return r;
}

export function incDecRm(e: Emitter, size: number, dec: boolean): void {
  if (!e.isMem) { e.setReg(size, e.rm, loc(incDec(e, size, e.reg(size, e.rm), dec))); return; }
  const [old, commit] = e.rmw(size, e.linear(size, true));
  commit(loc(incDec(e, size, loc(old), dec)));
}

const sx16 = (x: X): X => shrS(shl(x, cst(16)), cst(16));

/** The 64-bit product of two i32 values (signed or not) as [low, high] temps. */
function mul64(e: Emitter, a: X, b: X, signed: boolean): [number, number] {
  const ext = signed ? Op.i64ExtendI32S : Op.i64ExtendI32U;
  const q = e.tmp64();
  a(e); e.op(ext); b(e); e.op(ext); e.op(Op.i64Mul); e.set(q);
  const lo = e.tmp(), hi = e.tmp();
  e.get(q); e.op(Op.i32WrapI64); e.set(lo);
  e.get(q); e.i64(32); e.op(Op.i64ShrU); e.op(Op.i32WrapI64); e.set(hi);
  return [lo, hi];
}

/** Group 3 (F6/F7): TEST NOT NEG MUL IMUL; DIV/IDIV stay with the interpreter (#DE), so does 8/16-bit MUL. */
function group3(opcode: number): Template {
  return when((i) => i.reg < 4 || (i.reg < 6 && opcode === 0xf7 && i.o32), (e) => {
    const i = e.i;
    const size = opcode === 0xf6 ? 1 : e.osize;
    switch (i.reg) {
      case 0: case 1: test(e, size, e.readRm(size), immOf(size, i.imm)); return;
      case 2: case 3: {
        const neg = i.reg === 3;
        const op = (v: X): X => {
          const tv = e.val(v);
          const r = e.val(e.trunc(size, neg ? sub(cst(0), loc(tv)) : xor(loc(tv), cst(-1))));
          if (neg && e.flagsLive(F_ALL)) e.produce(FK_SUB, size, cst(0), loc(tv), loc(r));
          return loc(r);
        };
        if (!e.isMem) { e.setReg(size, e.rm, op(e.reg(size, e.rm))); return; }
        const [old, commit] = e.rmw(size, e.linear(size, true));
        commit(op(loc(old)));
        return;
      }
      default: {
        const v = e.readRm(4);
        const signed = i.reg === 5;
        const [lo, hi] = mul64(e, loc(L_R0), v, signed); // EDX:EAX = EAX * r/m
        if (e.flagsLive(F_ALL)) {
          const over = signed ? ne(loc(hi), shrS(loc(lo), cst(31))) : ne(loc(hi), cst(0));
          e.produce(FK_RCO, 4, cst(0), cst(0), loc(lo), sel(over, cst(3), cst(0)));
        }
        e.setReg(4, 0, loc(lo));
        e.setReg(4, 2, loc(hi));
      }
    }
  });
}

/** IMUL r, r/m (, imm): the truncated signed product; CF = OF = it did not fit. */
function imul(e: Emitter, b: (size: number) => X): void {
  const i = e.i, size = e.osize;
  const a = e.val(e.readRm(size));
  let r: number, over: X;
  if (size === 4) {
    const [lo, hi] = mul64(e, loc(a), b(4), true);
    r = lo;
    over = ne(loc(hi), shrS(loc(lo), cst(31)));
  } else {
    const p = e.val(mul(sx16(loc(a)), sx16(b(2))));
    over = ne(loc(p), shrS(shl(loc(p), cst(16)), cst(16)));
    r = e.val(and(loc(p), cst(0xffff)));
  }
  if (e.flagsLive(F_ALL)) e.produce(FK_RCO, size, cst(0), cst(0), loc(r), sel(over, cst(3), cst(0)));
  e.setReg(size, i.reg, loc(r));
}

/** XADD r/m, r: the sum to r/m, the old r/m to r (the sum wins when both are one register). */
function xadd(e: Emitter): void {
  const i = e.i;
  const size = (i.op & 1) === 0 ? 1 : e.osize;
  const s = e.val(e.reg(size, i.reg));
  if (!e.isMem) {
    const d = e.val(e.reg(size, e.rm));
    const sum = alu(e, ALU_ADD, size, loc(d), loc(s));
    e.setReg(size, i.reg, loc(d));
    e.setReg(size, e.rm, loc(sum));
    return;
  }
  const [old, commit] = e.rmw(size, e.linear(size, true));
  const sum = alu(e, ALU_ADD, size, loc(old), loc(s));
  commit(loc(sum)); // before the register changes: it may be in the address
  e.setReg(size, i.reg, loc(old));
}

/** CMPXCHG r/m, r: compare with the accumulator; the destination is written either way. */
function cmpxchg(e: Emitter): void {
  const i = e.i;
  const size = (i.op & 1) === 0 ? 1 : e.osize;
  const acc = e.val(e.reg(size, 0)), src = e.val(e.reg(size, i.reg));
  if (!e.isMem) {
    const d = e.val(e.reg(size, e.rm));
    alu(e, ALU_CMP, size, loc(acc), loc(d));
    e.if_(eq(loc(acc), loc(d)), () => e.setReg(size, e.rm, loc(src)), () => e.setReg(size, 0, loc(d)));
    return;
  }
  const [old, commit] = e.rmw(size, e.linear(size, true));
  alu(e, ALU_CMP, size, loc(acc), loc(old));
  const same = e.val(eq(loc(acc), loc(old)));
  commit(sel(loc(same), loc(src), loc(old)));
  e.if_(eq(loc(same), cst(0)), () => e.setReg(size, 0, loc(old)));
}

export function installAlu(t: TemplateTable): void {
  for (let op = 0; op < 8; op++) for (let form = 0; form < 6; form++) t[(op << 3) | form] = aluRow(op, form);
  for (const op of [0x80, 0x81, 0x82, 0x83]) t[op] = group1(op);
  t[0x84] = (e) => test(e, 1, e.readRm(1), e.reg(1, e.i.reg));
  t[0x85] = (e) => test(e, e.osize, e.readRm(e.osize), e.reg(e.osize, e.i.reg));
  t[0xa8] = (e) => test(e, 1, e.reg(1, 0), immOf(1, e.i.imm));
  t[0xa9] = (e) => test(e, e.osize, e.reg(e.osize, 0), immOf(e.osize, e.i.imm));
  for (let r = 0; r < 8; r++) {
    t[0x40 + r] = (e) => e.setReg(e.osize, r, loc(incDec(e, e.osize, e.reg(e.osize, r), false)));
    t[0x48 + r] = (e) => e.setReg(e.osize, r, loc(incDec(e, e.osize, e.reg(e.osize, r), true)));
  }
  t[0xfe] = when((i) => i.reg <= 1, (e) => incDecRm(e, 1, e.i.reg === 1));
  t[0xf6] = group3(0xf6);
  t[0xf7] = group3(0xf7);
  t[0x1af] = (e) => imul(e, (size) => e.reg(size, e.i.reg));
  t[0x69] = (e) => imul(e, (size) => immOf(size, e.i.imm));
  t[0x6b] = (e) => imul(e, (size) => simm8(size, e.i.imm));
  t[0x1c0] = xadd;
  t[0x1c1] = xadd;
  t[0x1b0] = cmpxchg;
  t[0x1b1] = cmpxchg;
}
