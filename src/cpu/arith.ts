// Integer arithmetic and logic opcodes: the ALU rows 00-3F, groups 80-83, INC/DEC
// 40-4F and FE/FF /0 /1, TEST 84/85/A8/A9, group F6/F7 (TEST NOT NEG MUL IMUL DIV
// IDIV), IMUL 0F AF / 69 / 6B (SDM vol. 2A-2B).

import type { Cpu } from './Cpu.js';
import type { Handler, OpTable } from './opcodes.js';
import { alu, ALU_CMP, ALU_AND, dec, inc, neg } from './alu.js';
import { EAX, EDX, EXC_DE } from './constants.js';
import { setLogic, setResultCfOf } from './flags.js';

// ---- r/m op reg, reg op r/m, acc op imm, for each of the eight operations.

function rmReg(op: number, sh: number): Handler {
  const write = op !== ALU_CMP;
  if (sh === 24) return (c) => {
    const reg = c.reg;
    const b = c.getReg8(reg);
    const lin = write ? c.rmwLin(1) : -1;
    if (c.modrm >= 0xc0) { const r = alu(c, op, c.getReg8(c.modrm & 7), b, 24); if (write) c.setReg8(c.modrm & 7, r); return; }
    const a = write ? c.rd8(lin) : c.readRM8();
    const r = alu(c, op, a, b, 24);
    if (write) c.wr8(lin, r);
  };
  if (sh === 16) return (c) => {
    const reg = c.reg;
    const b = c.r16[reg << 1]!;
    if (c.modrm >= 0xc0) { const i = (c.modrm & 7) << 1; const r = alu(c, op, c.r16[i]!, b, 16); if (write) c.r16[i] = r; return; }
    if (!write) { alu(c, op, c.readRM16(), b, 16); return; }
    const lin = c.rmwLin(2);
    c.wr16(lin, alu(c, op, c.rd16(lin), b, 16));
  };
  return (c) => {
    const reg = c.reg;
    const b = c.regs[reg]!;
    if (c.modrm >= 0xc0) { const i = c.modrm & 7; const r = alu(c, op, c.regs[i]!, b, 0); if (write) c.regs[i] = r; return; }
    if (!write) { alu(c, op, c.readRM32(), b, 0); return; }
    const lin = c.rmwLin(4);
    c.wr32(lin, alu(c, op, c.rd32(lin), b, 0));
  };
}

function regRm(op: number, sh: number): Handler {
  const write = op !== ALU_CMP;
  if (sh === 24) return (c) => {
    const reg = c.reg;
    const r = alu(c, op, c.getReg8(reg), c.readRM8(), 24);
    if (write) c.setReg8(reg, r);
  };
  if (sh === 16) return (c) => {
    const reg = c.reg;
    const r = alu(c, op, c.r16[reg << 1]!, c.readRM16(), 16);
    if (write) c.r16[reg << 1] = r;
  };
  return (c) => {
    const reg = c.reg;
    const r = alu(c, op, c.regs[reg]!, c.readRM32(), 0);
    if (write) c.regs[reg] = r;
  };
}

function accImm(op: number, sh: number): Handler {
  const write = op !== ALU_CMP;
  if (sh === 24) return (c) => { const r = alu(c, op, c.r8[0]!, c.imm, 24); if (write) c.r8[0] = r; };
  if (sh === 16) return (c) => { const r = alu(c, op, c.r16[0]!, c.imm, 16); if (write) c.r16[0] = r; };
  return (c) => { const r = alu(c, op, c.regs[EAX]!, c.imm, 0); if (write) c.regs[EAX] = r; };
}

/** Group 1 (80, 81, 83): op from ModRM.reg, immediate of `immKind` (8, 16/32, sign-extended 8). */
function group1(sh: number, immKind: 'b' | 'v' | 'sb'): Handler {
  const size = sh === 24 ? 1 : sh === 16 ? 2 : 4;
  return (c) => {
    const op = c.reg;
    const isReg = c.modrm >= 0xc0;
    const lin = isReg ? -1 : op === ALU_CMP ? c.eaLin(size, false) : c.rmwLin(size);
    const imm = immKind === 'sb' ? ((c.imm << 24) >> 24) : c.imm;
    let a: number;
    if (isReg) a = size === 1 ? c.getReg8(c.modrm & 7) : size === 2 ? c.r16[(c.modrm & 7) << 1]! : c.regs[c.modrm & 7]!;
    else a = size === 1 ? c.rd8(lin) : size === 2 ? c.rd16(lin) : c.rd32(lin);
    const r = alu(c, op, a, imm, sh);
    if (op === ALU_CMP) return;
    if (isReg) {
      if (size === 1) c.setReg8(c.modrm & 7, r); else if (size === 2) c.r16[(c.modrm & 7) << 1] = r; else c.regs[c.modrm & 7] = r;
    } else if (size === 1) c.wr8(lin, r); else if (size === 2) c.wr16(lin, r); else c.wr32(lin, r);
  };
}

// ---- MUL / IMUL / DIV / IDIV (group 3 /4../7)

/** 32x32 → 64 unsigned multiply without BigInt: returns low, sets mulHi. */
let mulHi = 0;
function mulu32(a: number, b: number): number {
  a >>>= 0; b >>>= 0;
  const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
  const ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  mulHi = (hh + (lh >>> 16) + (hl >>> 16) + Math.floor(mid / 65536)) | 0;
  return ((mid & 0xffff) << 16) | (ll & 0xffff);
}
/** Signed 32x32 → 64: low returned, high in mulHi. */
function muls32(a: number, b: number): number {
  const lo = mulu32(a, b);
  let hi = mulHi;
  if (a < 0) hi = (hi - b) | 0;
  if (b < 0) hi = (hi - a) | 0;
  mulHi = hi;
  return lo;
}

function mul(c: Cpu, v: number, size: number): void {
  if (size === 1) {
    const r = c.r8[0]! * (v & 0xff);
    c.r16[0] = r;
    const hi = r >>> 8;
    setResultCfOf(c, r & 0xff, 24, hi !== 0 ? 1 : 0, hi !== 0);
  } else if (size === 2) {
    const r = c.r16[0]! * (v & 0xffff);
    c.r16[0] = r; c.r16[EDX << 1] = r >>> 16;
    const hi = r >>> 16;
    setResultCfOf(c, r & 0xffff, 16, hi !== 0 ? 1 : 0, hi !== 0);
  } else {
    const lo = mulu32(c.regs[EAX]!, v);
    c.regs[EAX] = lo; c.regs[EDX] = mulHi;
    setResultCfOf(c, lo, 0, mulHi !== 0 ? 1 : 0, mulHi !== 0);
  }
}

function imul1(c: Cpu, v: number, size: number): void {
  if (size === 1) {
    const r = ((c.r8[0]! << 24) >> 24) * ((v << 24) >> 24);
    c.r16[0] = r;
    const ov = r !== ((r << 24) >> 24);
    setResultCfOf(c, r & 0xff, 24, ov ? 1 : 0, ov);
  } else if (size === 2) {
    const r = ((c.r16[0]! << 16) >> 16) * ((v << 16) >> 16);
    c.r16[0] = r; c.r16[EDX << 1] = r >> 16;
    const ov = r !== ((r << 16) >> 16);
    setResultCfOf(c, r & 0xffff, 16, ov ? 1 : 0, ov);
  } else {
    const lo = muls32(c.regs[EAX]!, v | 0);
    c.regs[EAX] = lo; c.regs[EDX] = mulHi;
    const ov = mulHi !== (lo >> 31);
    setResultCfOf(c, lo, 0, ov ? 1 : 0, ov);
  }
}

/** Two/three-operand IMUL: truncated signed product, CF=OF=overflow. */
export function imulTrunc(c: Cpu, a: number, b: number, sh: number): number {
  if (sh === 16) {
    const r = ((a << 16) >> 16) * ((b << 16) >> 16);
    const ov = r !== ((r << 16) >> 16);
    setResultCfOf(c, r & 0xffff, 16, ov ? 1 : 0, ov);
    return r & 0xffff;
  }
  const lo = muls32(a | 0, b | 0);
  const ov = mulHi !== (lo >> 31);
  setResultCfOf(c, lo, 0, ov ? 1 : 0, ov);
  return lo;
}

function div(c: Cpu, v: number, size: number): void {
  if (size === 1) {
    v &= 0xff;
    if (v === 0) c.raise(EXC_DE);
    const n = c.r16[0]!;
    const q = Math.floor(n / v);
    if (q > 0xff) c.raise(EXC_DE);
    c.r8[0] = q; c.r8[1] = n % v;
  } else if (size === 2) {
    v &= 0xffff;
    if (v === 0) c.raise(EXC_DE);
    const n = (c.r16[EDX << 1]! * 65536) + c.r16[0]!;
    const q = Math.floor(n / v);
    if (q > 0xffff) c.raise(EXC_DE);
    c.r16[0] = q; c.r16[EDX << 1] = n % v;
  } else {
    const d = v >>> 0;
    if (d === 0) c.raise(EXC_DE);
    const hi = c.regs[EDX]! >>> 0, lo = c.regs[EAX]! >>> 0;
    if (hi >= d) c.raise(EXC_DE);
    // Long division in two 32-bit halves of 16 bits each keeps every step exact in a double.
    let rem = hi;
    let q = 0;
    for (let i = 1; i >= 0; i--) {
      const chunk = (lo >>> (i * 16)) & 0xffff;
      const cur = rem * 65536 + chunk;
      const qd = Math.floor(cur / d);
      rem = cur - qd * d;
      q = q * 65536 + qd;
    }
    c.regs[EAX] = q; c.regs[EDX] = rem;
  }
}

function idiv(c: Cpu, v: number, size: number): void {
  if (size === 1) {
    const d = (v << 24) >> 24;
    if (d === 0) c.raise(EXC_DE);
    const n = (c.r16[0]! << 16) >> 16;
    const q = Math.trunc(n / d);
    if (q > 127 || q < -128) c.raise(EXC_DE);
    c.r8[0] = q; c.r8[1] = n % d;
  } else if (size === 2) {
    const d = (v << 16) >> 16;
    if (d === 0) c.raise(EXC_DE);
    const n = (c.r16[EDX << 1]! << 16) | c.r16[0]!;
    const q = Math.trunc(n / d);
    if (q > 32767 || q < -32768) c.raise(EXC_DE);
    c.r16[0] = q; c.r16[EDX << 1] = n % d;
  } else {
    const d = v | 0;
    if (d === 0) c.raise(EXC_DE);
    let hi = c.regs[EDX]!, lo = c.regs[EAX]!;
    const negN = hi < 0;
    if (negN) { lo = (~lo + 1) | 0; hi = (~hi + (lo === 0 ? 1 : 0)) | 0; }
    const negD = d < 0;
    const ad = negD ? (-d >>> 0) : d;
    const uhi = hi >>> 0, ulo = lo >>> 0;
    if (uhi >= ad) c.raise(EXC_DE);
    let rem = uhi, q = 0;
    for (let i = 1; i >= 0; i--) {
      const cur = rem * 65536 + ((ulo >>> (i * 16)) & 0xffff);
      const qd = Math.floor(cur / ad);
      rem = cur - qd * ad;
      q = q * 65536 + qd;
    }
    const negQ = negN !== negD;
    if (negQ ? q > 0x80000000 : q > 0x7fffffff) c.raise(EXC_DE);
    c.regs[EAX] = negQ ? -q : q;
    c.regs[EDX] = negN ? -rem : rem;
  }
}

/** Group 3 (F6/F7): TEST imm, NOT, NEG, MUL, IMUL, DIV, IDIV. */
function group3(sh: number): Handler {
  const size = sh === 24 ? 1 : sh === 16 ? 2 : 4;
  return (c) => {
    const op = c.reg;
    const isReg = c.modrm >= 0xc0;
    switch (op) {
      case 0: case 1: { // TEST r/m, imm
        const lin = isReg ? 0 : c.eaLin(size, false);
        const imm = c.imm;
        setLogic(c, c.readRM(size, lin) & imm, sh);
        return;
      }
      case 2: { const lin = c.rmwLin(size); c.writeRM(size, lin, ~c.readRM(size, lin)); return; } // NOT: no flags
      case 3: { const lin = c.rmwLin(size); c.writeRM(size, lin, neg(c, c.readRM(size, lin), sh)); return; }
      default: {
        const v = c.readRM(size, isReg ? 0 : c.eaLin(size, false));
        if (op === 4) mul(c, v, size);
        else if (op === 5) imul1(c, v, size);
        else if (op === 6) div(c, v, size);
        else idiv(c, v, size);
      }
    }
  };
}

/** INC/DEC r/m8 (FE /0 /1). */
function groupFE(c: Cpu): void {
  const op = c.reg;
  if (op > 1) c.undefinedOpcode(0xfe);
  if (c.modrm >= 0xc0) {
    const i = c.modrm & 7;
    c.setReg8(i, op === 0 ? inc(c, c.getReg8(i), 24) : dec(c, c.getReg8(i), 24));
    return;
  }
  const lin = c.rmwLin(1);
  c.wr8(lin, op === 0 ? inc(c, c.rd8(lin), 24) : dec(c, c.rd8(lin), 24));
}

/** INC/DEC r/m16/32 (FF /0 /1), used by control.ts's group 5 dispatcher. */
export function incDecRM(c: Cpu, isDec: boolean): void {
  const sh = c.o32 ? 0 : 16;
  if (c.modrm >= 0xc0) {
    const i = c.modrm & 7;
    if (c.o32) c.regs[i] = isDec ? dec(c, c.regs[i]!, 0) : inc(c, c.regs[i]!, 0);
    else c.r16[i << 1] = isDec ? dec(c, c.r16[i << 1]!, 16) : inc(c, c.r16[i << 1]!, 16);
    return;
  }
  if (c.o32) { const lin = c.rmwLin(4); const v = c.rd32(lin); c.wr32(lin, isDec ? dec(c, v, sh) : inc(c, v, sh)); }
  else { const lin = c.rmwLin(2); const v = c.rd16(lin); c.wr16(lin, isDec ? dec(c, v, sh) : inc(c, v, sh)); }
}

export function installArith(t: OpTable): void {
  for (let op = 0; op < 8; op++) {
    const base = op << 3;
    t.def(base + 0, rmReg(op, 24));
    t.def(base + 1, rmReg(op, 16), rmReg(op, 0));
    t.def(base + 2, regRm(op, 24));
    t.def(base + 3, regRm(op, 16), regRm(op, 0));
    t.def(base + 4, accImm(op, 24));
    t.def(base + 5, accImm(op, 16), accImm(op, 0));
  }
  t.def(0x80, group1(24, 'b'));
  t.def(0x81, group1(16, 'v'), group1(0, 'v'));
  t.def(0x82, group1(24, 'b')); // alias of 80 outside 64-bit mode
  t.def(0x83, group1(16, 'sb'), group1(0, 'sb'));
  t.defReg(0x40, (r) => [(c) => { c.r16[r << 1] = inc(c, c.r16[r << 1]!, 16); }, (c) => { c.regs[r] = inc(c, c.regs[r]!, 0); }]);
  t.defReg(0x48, (r) => [(c) => { c.r16[r << 1] = dec(c, c.r16[r << 1]!, 16); }, (c) => { c.regs[r] = dec(c, c.regs[r]!, 0); }]);
  // TEST r/m, r and TEST acc, imm.
  t.def(0x84, (c) => { const reg = c.reg; setLogic(c, c.readRM8() & c.getReg8(reg), 24); });
  t.def(0x85, (c) => { const reg = c.reg; setLogic(c, c.readRM16() & c.r16[reg << 1]!, 16); },
    (c) => { const reg = c.reg; setLogic(c, c.readRM32() & c.regs[reg]!, 0); });
  t.def(0xa8, (c) => { setLogic(c, c.r8[0]! & c.imm, 24); });
  t.def(0xa9, (c) => { setLogic(c, c.r16[0]! & c.imm, 16); }, (c) => { setLogic(c, c.regs[EAX]! & c.imm, 0); });
  t.def(0xf6, group3(24));
  t.def(0xf7, group3(16), group3(0));
  t.def(0xfe, groupFE);
  // IMUL r, r/m and IMUL r, r/m, imm.
  t.def0F(0xaf, (c) => { const reg = c.reg; c.r16[reg << 1] = imulTrunc(c, c.r16[reg << 1]!, c.readRM16(), 16); },
    (c) => { const reg = c.reg; c.regs[reg] = imulTrunc(c, c.regs[reg]!, c.readRM32(), 0); });
  t.def(0x69, (c) => { const reg = c.reg; const v = c.readRM16(); c.r16[reg << 1] = imulTrunc(c, v, c.imm, 16); },
    (c) => { const reg = c.reg; const v = c.readRM32(); c.regs[reg] = imulTrunc(c, v, c.imm, 0); });
  t.def(0x6b, (c) => { const reg = c.reg; const v = c.readRM16(); c.r16[reg << 1] = imulTrunc(c, v, ((c.imm << 24) >> 24), 16); },
    (c) => { const reg = c.reg; const v = c.readRM32(); c.regs[reg] = imulTrunc(c, v, ((c.imm << 24) >> 24), 0); });
}

export { ALU_AND };
