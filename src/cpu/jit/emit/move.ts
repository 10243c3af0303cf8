// Templates for data movement (datamove.ts): MOV in its register, memory, immediate and
// moffs forms, LEA, MOVZX/MOVSX, XCHG, PUSH/POP, LEAVE, CBW/CWDE, CWD/CDQ, BSWAP, NOPs.

import { DS } from '../../constants.js';
import { type Emitter, type X, L_R0, add, and, cst, loc, or, shl, shrS, shrU, sel, ne } from '../Emitter.js';
import { immOf, simm8, when, type TemplateTable } from './types.js';
import type { Insn } from '../scan.js';

/** A moffs operand (A0-A3, 32-bit address size): the immediate offset in the default or overridden segment. */
function moffs(e: Emitter, size: number, write: boolean): X {
  const i = e.i;
  return e.linearOf(i.segOverride >= 0 ? i.segOverride : DS, cst(i.imm | 0), size, write);
}
const a32 = (i: Insn): boolean => i.a32;

function xchg(e: Emitter, size: number): void {
  const i = e.i;
  const r = e.val(e.reg(size, i.reg));
  if (!e.isMem) {
    e.setReg(size, i.reg, e.reg(size, e.rm));
    e.setReg(size, e.rm, loc(r));
    return;
  }
  const [old, commit] = e.rmw(size, e.linear(size, true));
  commit(loc(r));
  e.setReg(size, i.reg, loc(old));
}

const sx8 = (x: Parameters<typeof and>[0]) => shrS(shl(x, cst(24)), cst(24));
const sx16 = (x: Parameters<typeof and>[0]) => shrS(shl(x, cst(16)), cst(16));

export function installMove(t: TemplateTable): void {
  t[0x88] = (e) => e.writeRm(1, e.reg(1, e.i.reg));
  t[0x89] = (e) => e.writeRm(e.osize, e.reg(e.osize, e.i.reg));
  t[0x8a] = (e) => e.setReg(1, e.i.reg, e.readRm(1));
  t[0x8b] = (e) => e.setReg(e.osize, e.i.reg, e.readRm(e.osize));
  t[0xc6] = when((i) => i.reg === 0, (e) => e.writeRm(1, immOf(1, e.i.imm)));
  t[0xc7] = when((i) => i.reg === 0, (e) => e.writeRm(e.osize, immOf(e.osize, e.i.imm)));
  for (let r = 0; r < 8; r++) {
    t[0xb0 + r] = (e) => e.setReg(1, r, immOf(1, e.i.imm));
    t[0xb8 + r] = (e) => e.setReg(e.osize, r, immOf(e.osize, e.i.imm));
  }
  t[0xa0] = when(a32, (e) => e.setReg(1, 0, loc(e.load(1, moffs(e, 1, false)))));
  t[0xa1] = when(a32, (e) => e.setReg(e.osize, 0, loc(e.load(e.osize, moffs(e, e.osize, false)))));
  t[0xa2] = when(a32, (e) => e.store(1, moffs(e, 1, true), e.reg(1, 0)));
  t[0xa3] = when(a32, (e) => e.store(e.osize, moffs(e, e.osize, true), e.reg(e.osize, 0)));
  // LEA: the offset alone, no segment and no access (32-bit addressing only: a 16-bit one wraps at 64 KiB).
  t[0x8d] = when((i) => i.modrm < 0xc0 && i.a32, (e) => e.setReg(e.osize, e.i.reg, e.offset()));
  t[0x1b6] = (e) => e.setReg(e.osize, e.i.reg, e.readRm(1));
  t[0x1b7] = (e) => e.setReg(e.osize, e.i.reg, e.readRm(2));
  t[0x1be] = (e) => e.setReg(e.osize, e.i.reg, sx8(e.readRm(1)));
  t[0x1bf] = (e) => e.setReg(e.osize, e.i.reg, sx16(e.readRm(2)));
  t[0x86] = (e) => xchg(e, 1);
  t[0x87] = (e) => xchg(e, e.osize);
  t[0x90] = () => { /* NOP */ };
  for (let r = 1; r < 8; r++) {
    t[0x90 + r] = (e) => {
      const size = e.osize, tmp = e.val(e.reg(size, 0));
      e.setReg(size, 0, e.reg(size, r));
      e.setReg(size, r, loc(tmp));
    };
  }
  for (let op = 0x118; op <= 0x11f; op++) t[op] = () => { /* hint NOPs: no access */ };
  // Stack.
  for (let r = 0; r < 8; r++) {
    t[0x50 + r] = (e) => e.push(e.osize, e.reg(e.osize, r));
    t[0x58 + r] = (e) => e.setReg(e.osize, r, loc(e.pop(e.osize)));
  }
  t[0x68] = (e) => e.push(e.osize, immOf(e.osize, e.i.imm));
  t[0x6a] = (e) => e.push(e.osize, simm8(e.osize, e.i.imm));
  // POP r/m to a register (a memory destination is addressed after the pop: interpreter).
  t[0x8f] = when((i) => i.reg === 0 && i.modrm >= 0xc0, (e) => e.setReg(e.osize, e.rm, loc(e.pop(e.osize))));
  // LEAVE: ESP = EBP, then pop EBP (read first: a fault leaves both).
  t[0xc9] = when((i) => i.o32, (e) => {
    const v = e.load(4, loc(L_R0 + 5));
    e.setReg(4, 4, add(loc(L_R0 + 5), cst(4)));
    e.setReg(4, 5, loc(v));
  });
  t[0x98] = (e) => { if (e.i.o32) e.setReg(4, 0, sx16(loc(L_R0))); else e.setReg(2, 0, sx8(loc(L_R0))); };
  t[0x99] = (e) => {
    if (e.i.o32) e.setReg(4, 2, shrS(loc(L_R0), cst(31)));
    else e.setReg(2, 2, sel(ne(and(loc(L_R0), cst(0x8000)), cst(0)), cst(0xffff), cst(0)));
  };
  for (let r = 0; r < 8; r++) {
    t[0x1c8 + r] = (e) => {
      const v = loc(L_R0 + r);
      if (e.i.o32) e.setReg(4, r, or(or(shl(v, cst(24)), shl(and(v, cst(0xff00)), cst(8))), or(and(shrU(v, cst(8)), cst(0xff00)), shrU(v, cst(24)))));
      else e.setReg(2, r, cst(0));
    };
  }
}
