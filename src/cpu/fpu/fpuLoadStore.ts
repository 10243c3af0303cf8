// x87 data movement: FLD/FILD/FBLD and the constants, FST/FSTP/FIST/FISTP/FISTTP/FBSTP, FXCH,
// FCHS/FABS, FCMOVcc, FLDCW, and the operand-slot loaders for memory operands (SDM vol. 2 pages of
// those names). Memory is read before, and written before, any FPU state changes.

import type { Fpu } from './Fpu.js';
import {
  BIAS, CLS_DENORMAL, CLS_NORMAL, CLS_SNAN, CLS_ZERO, INDEF64_HI, OPND, RC_CHOP, SW_C1, SW_IE, SW_OE, SW_PE, SW_UE,
} from './fpuConst.js';
import {
  PK, RO, TINY, UA, bcdToInt, classOfImage, intToBcd, packDouble, packExt, packInt, packSingle, roundToInt,
  unpackDouble, unpackInt, unpackSingle,
} from './fpuFormats.js';

/** FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2 (D9 E9..ED): exponent, significand high half, low half
 *  when rounded to nearest, low half when rounded down/toward zero, low half when rounded up
 *  (the SDM has the 387+ round its internal 66-bit constants per CW.RC). */
const CONSTS = new Uint32Array([
  0x4000, 0xd49a784b, 0xcd1b8afe, 0xcd1b8afe, 0xcd1b8aff, // log2(10)
  0x3fff, 0xb8aa3b29, 0x5c17f0bc, 0x5c17f0bb, 0x5c17f0bc, // log2(e)
  0x4000, 0xc90fdaa2, 0x2168c235, 0x2168c234, 0x2168c235, // pi
  0x3ffd, 0x9a209a84, 0xfbcff799, 0xfbcff798, 0xfbcff799, // log10(2)
  0x3ffe, 0xb17217f7, 0xd1cf79ac, 0xd1cf79ab, 0xd1cf79ac, // ln(2)
]);

/** Binary64 words read by loadM64 (unpackDouble takes them from a typed array). */
const DW = new Uint32Array(2);

/** Place a binary32 operand in the operand slot as its exact 80-bit value (signalling NaNs stay
 *  signalling; a denormal is normalized and remembered for #D). */
export function loadM32(f: Fpu, lin: number): void {
  const bits = f.host.read32(lin) >>> 0;
  const r = f.regs, b = 3 * OPND;
  const exp = (bits >>> 23) & 0xff;
  f.opndDenormal = exp === 0 && (bits & 0x7fffff) !== 0;
  if (exp !== 0 && exp !== 0xff) {
    r[b] = ((bits >>> 16) & 0x8000) | (exp - 127 + BIAS);
    r[b + 1] = 0x80000000 | (bits << 8);
    r[b + 2] = 0;
    return;
  }
  unpackSingle(UA, bits);
  packExt(UA);
  r[b] = PK.se; r[b + 1] = PK.hi; r[b + 2] = PK.lo;
}

/** Place a binary64 operand in the operand slot (as loadM32). */
export function loadM64(f: Fpu, lin: number): void {
  const lo = f.host.read32(lin) >>> 0;
  const hi = f.host.read32(lin + 4) >>> 0;
  const r = f.regs, b = 3 * OPND;
  const exp = (hi >>> 20) & 0x7ff;
  f.opndDenormal = exp === 0 && ((hi & 0xfffff) | lo) !== 0;
  if (exp !== 0 && exp !== 0x7ff) {
    r[b] = ((hi >>> 16) & 0x8000) | (exp - 1023 + BIAS);
    r[b + 1] = (0x80000000 | (hi << 11) | (lo >>> 21)) >>> 0;
    r[b + 2] = (lo << 11) >>> 0;
    return;
  }
  DW[0] = lo; DW[1] = hi;
  unpackDouble(UA, DW, 0);
  packExt(UA);
  r[b] = PK.se; r[b + 1] = PK.hi; r[b + 2] = PK.lo;
}

/** Place an integer operand (m16int, m32int) in the operand slot (exact). */
export function loadInt(f: Fpu, v: number): void {
  packInt(v);
  const r = f.regs, b = 3 * OPND;
  r[b] = PK.se; r[b + 1] = PK.hi; r[b + 2] = PK.lo;
  f.opndDenormal = false;
}

/** FLD m32fp / m64fp from the operand slot. */
export function fldFloat(f: Fpu): void {
  if (!f.pushOk()) { f.commit(); return; }
  const snan = classOfImage(f.regs, 3 * OPND) === CLS_SNAN;
  if (snan && !f.invalid()) { f.commit(); return; } // SNaN, #IA unmasked: nothing loaded
  // A denormal raises #D, but even unmasked the value is still pushed (as the hardware does).
  if (f.opndDenormal) f.denormal();
  const p = f.pushSlot();
  f.copyReg(p, OPND);
  if (snan) f.regs[3 * p + 1] = f.regs[3 * p + 1]! | 0x40000000;
  f.commit();
}

/** FLD m80fp: exact, no exceptions but stack overflow. */
export function fldExt(f: Fpu, lin: number): void {
  const lo = f.host.read32(lin);
  const hi = f.host.read32(lin + 4);
  const se = f.host.read16(lin + 8) & 0xffff;
  if (!f.pushOk()) { f.commit(); return; }
  const w = PK.w;
  w[0] = se;
  w[1] = hi;
  w[2] = lo;
  f.setExt(f.pushSlot(), w, 0);
  f.commit();
}

/** FILD m16int / m32int. */
export function fildSmall(f: Fpu, v: number): void {
  if (f.pushOk()) {
    packInt(v);
    f.setExt(f.pushSlot(), PK.w, 0);
  }
  f.commit();
}

/** FILD m64int: exact (kept as an 80-bit image when beyond 2^53). */
export function fild64(f: Fpu, lin: number): void {
  const lo = f.host.read32(lin) >>> 0;
  const hi = f.host.read32(lin + 4) | 0;
  if (!f.pushOk()) { f.commit(); return; }
  const p = f.pushSlot();
  // the exact 80-bit value from the two's-complement magnitude
  if (hi < 0) {
    const nlo = (~lo + 1) >>> 0;
    RO.hi = ~hi + (nlo === 0 ? 1 : 0);
    RO.lo = nlo;
  } else {
    RO.hi = hi;
    RO.lo = lo;
  }
  unpackInt(UA, hi < 0 ? 1 : 0);
  f.setU(p, UA);
  f.commit();
}

/** FBLD m80bcd. */
export function fbld(f: Fpu, lin: number): void {
  const b0 = f.host.read32(lin);
  const b1 = f.host.read32(lin + 4);
  const b2 = f.host.read16(lin + 8);
  if (!f.pushOk()) { f.commit(); return; }
  bcdToInt(b0, b1, b2 & 0xff);
  unpackInt(UA, (b2 >>> 15) & 1);
  f.setU(f.pushSlot(), UA);
  f.commit();
}

/** FLD1 (0), FLDZ (1)... index: 0 = +0.0, 1 = +1.0, 2.. = CONSTS rows. */
export function fldConst(f: Fpu, k: number): void {
  if (!f.pushOk()) { f.commit(); return; }
  const p = f.pushSlot();
  if (k === 0) f.setZero(p, 0);
  else if (k === 1) {
    packInt(1);
    f.setExt(p, PK.w, 0);
  } else {
    const row = (k - 2) * 5;
    const rc = f.rc();
    const w = PK.w;
    w[0] = CONSTS[row]!;
    w[1] = CONSTS[row + 1]!;
    w[2] = CONSTS[row + (rc === 0 ? 2 : rc === 2 ? 4 : 3)]!;
    f.setExt(p, w, 0);
  }
  f.commit();
}

/** FLD ST(i). */
export function fldReg(f: Fpu, i: number): void {
  const s = (f.top + i) & 7;
  if (!f.pushOk()) { f.commit(); return; }
  if (f.isEmpty(s)) {
    if (f.underflow()) f.setIndef(f.pushSlot());
    f.commit();
    return;
  }
  f.copyReg(f.pushSlot(), s);
  f.commit();
}

export function fldcw(f: Fpu, lin: number): void {
  f.setCW(f.host.read16(lin));
  f.syncFerr();
}

// ---------------------------------------------------------------- stores

/** Translate a packer's flags into this instruction's exceptions; false if an unmasked exception
 *  suppresses the store (and the pop). An unmasked #O or #U stores nothing, so it reports no PE
 *  (as the hardware does). */
function storeOk(f: Fpu, fl: number): boolean {
  const cw = f.cw;
  if ((fl & SW_IE) !== 0) {
    f.ex |= SW_IE;
    if ((cw & SW_IE) === 0) return false;
  }
  if ((fl & TINY) !== 0 && (cw & SW_UE) === 0) {
    f.ex |= SW_UE;
    return false;
  }
  if ((fl & SW_OE) !== 0 && (cw & SW_OE) === 0) {
    f.ex |= SW_OE;
    return false;
  }
  f.ex |= fl & (SW_PE | SW_UE | SW_OE);
  f.c1 = fl & SW_C1;
  return true;
}

/** FST/FSTP m32fp (single) or m64fp. */
export function fstFloat(f: Fpu, lin: number, single: boolean, popAfter: boolean): void {
  const p = f.top;
  if (f.isEmpty(p)) {
    if (f.underflow()) {
      if (single) f.host.write32(lin, 0xffc00000 | 0);
      else { f.host.write32(lin, 0); f.host.write32(lin + 4, INDEF64_HI); }
      if (popAfter) f.pop();
    }
    f.commit();
    return;
  }
  const r = f.regs, b = 3 * p;
  const se = r[b]!, hi = r[b + 1]!, lo = r[b + 2]!;
  const e = (se & 0x7fff) - BIAS;
  if (!single && e >= -1022 && e <= 1023 && (lo & 0x7ff) === 0 && (hi & 0x80000000) !== 0) {
    // a normal binary64 value exactly: no rounding, no flags
    f.host.write32(lin, ((hi << 21) | (lo >>> 11)) | 0);
    f.host.write32(lin + 4, ((se & 0x8000) << 16) | ((e + 1023) << 20) | ((hi >>> 11) & 0xfffff));
  } else if (single && e >= -126 && e <= 127 && lo === 0 && (hi & 0x800000ff) === 0x80000000) {
    f.host.write32(lin, ((se & 0x8000) << 16) | ((e + 127) << 23) | ((hi >>> 8) & 0x7fffff));
  } else {
    f.unpackReg(UA, p);
    const rc = f.rc();
    if (single) {
      if (!storeOk(f, packSingle(UA, rc))) { f.commit(); return; }
      f.host.write32(lin, PK.lo);
    } else {
      if (!storeOk(f, packDouble(UA, rc))) { f.commit(); return; }
      f.host.write32(lin, PK.lo);
      f.host.write32(lin + 4, PK.hi);
    }
  }
  if (popAfter) f.pop();
  f.commit();
}

/** FSTP m80fp: exact. */
export function fstpExt(f: Fpu, lin: number): void {
  const p = f.top;
  if (f.isEmpty(p)) {
    if (f.underflow()) {
      f.host.write32(lin, 0);
      f.host.write32(lin + 4, 0xc0000000 | 0);
      f.host.write16(lin + 8, 0xffff);
      f.pop();
    }
    f.commit();
    return;
  }
  f.extImage(p);
  f.host.write32(lin, PK.lo);
  f.host.write32(lin + 4, PK.hi);
  f.host.write16(lin + 8, PK.se);
  f.pop();
  f.commit();
}

/** Round ST(0) (physical p) to an integer for a store, per RC (or chop for FISTTP). Leaves the
 *  magnitude in RO (sign in UA.s) and returns false for NaN/∞/unsupported or a magnitude above
 *  limHi:limLo — or, with `negExtra`, above limHi:limLo + 1 for a negative value (two's complement
 *  reaches one further below zero). The caller raises #IA. */
function intFromReg(f: Fpu, p: number, chop: boolean, limHi: number, limLo: number, negExtra: boolean): boolean {
  f.unpackReg(UA, p);
  const c = UA.cls;
  if (c !== CLS_NORMAL && c !== CLS_ZERO && c !== CLS_DENORMAL) return false;
  if (!roundToInt(UA, chop ? RC_CHOP : f.rc())) return false;
  if (RO.hi < limHi || (RO.hi === limHi && RO.lo <= limLo)) return true;
  if (!negExtra || UA.s === 0) return false;
  // exactly limit + 1?
  const lo = (limLo + 1) >>> 0;
  const hi = lo === 0 ? limHi + 1 : limHi;
  return RO.hi === hi && RO.lo === lo;
}

/** FIST/FISTP/FISTTP m16int or m32int. */
export function fistSmall(f: Fpu, lin: number, bits: number, popAfter: boolean, chop: boolean): void {
  const p = f.top;
  const indef = bits === 16 ? 0x8000 : 0x80000000 | 0;
  if (f.isEmpty(p)) {
    if (f.underflow()) {
      if (bits === 16) f.host.write16(lin, indef); else f.host.write32(lin, indef);
      if (popAfter) f.pop();
    }
    f.commit();
    return;
  }
  let v: number;
  if (intFromReg(f, p, chop, 0, bits === 16 ? 0x7fff : 0x7fffffff, true)) {
    v = UA.s !== 0 ? -RO.lo | 0 : RO.lo | 0;
    if (RO.inexact) {
      f.ex |= SW_PE;
      if (RO.up) f.c1 = SW_C1;
    }
  } else {
    if (!f.invalid()) { f.commit(); return; }
    v = indef;
  }
  if (bits === 16) f.host.write16(lin, v & 0xffff); else f.host.write32(lin, v);
  if (popAfter) f.pop();
  f.commit();
}

/** FISTP m64int / FISTTP m64int. */
export function fistp64(f: Fpu, lin: number, chop: boolean): void {
  const p = f.top;
  if (f.isEmpty(p)) {
    if (f.underflow()) {
      f.host.write32(lin, 0);
      f.host.write32(lin + 4, 0x80000000 | 0);
      f.pop();
    }
    f.commit();
    return;
  }
  let hi: number, lo: number;
  if (intFromReg(f, p, chop, 0x7fffffff, 0xffffffff, true)) {
    hi = RO.hi; lo = RO.lo;
    if (UA.s !== 0) {
      lo = (~lo + 1) >>> 0;
      hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
    }
    if (RO.inexact) {
      f.ex |= SW_PE;
      if (RO.up) f.c1 = SW_C1;
    }
  } else {
    if (!f.invalid()) { f.commit(); return; }
    hi = 0x80000000; lo = 0;
  }
  f.host.write32(lin, lo | 0);
  f.host.write32(lin + 4, hi | 0);
  f.pop();
  f.commit();
}

/** FBSTP m80bcd. */
export function fbstp(f: Fpu, lin: number): void {
  const p = f.top;
  if (f.isEmpty(p)) {
    if (f.underflow()) {
      writeBcdIndef(f, lin);
      f.pop();
    }
    f.commit();
    return;
  }
  if (!intFromReg(f, p, false, 0x0de0b6b3, 0xa763ffff, false)) {
    if (!f.invalid()) { f.commit(); return; }
    writeBcdIndef(f, lin);
    f.pop();
    f.commit();
    return;
  }
  const inexact = RO.inexact, up = RO.up;
  intToBcd(RO.hi, RO.lo);
  f.host.write32(lin, PK.lo | 0);
  f.host.write32(lin + 4, PK.hi | 0);
  f.host.write16(lin + 8, PK.se | (UA.s << 15));
  if (inexact) {
    f.ex |= SW_PE;
    if (up) f.c1 = SW_C1;
  }
  f.pop();
  f.commit();
}

/** The packed BCD indefinite: FFFF C000 0000 0000 0000. */
function writeBcdIndef(f: Fpu, lin: number): void {
  f.host.write32(lin, 0);
  f.host.write32(lin + 4, 0xc0000000 | 0);
  f.host.write16(lin + 8, 0xffff);
}

/** FST/FSTP ST(i). */
export function fstReg(f: Fpu, i: number, popAfter: boolean): void {
  const p = f.top;
  const d = (p + i) & 7;
  if (f.isEmpty(p)) {
    if (f.underflow()) {
      f.setIndef(d);
      if (popAfter) f.pop();
    }
    f.commit();
    return;
  }
  if (d !== p) f.copyReg(d, p);
  if (popAfter) f.pop();
  f.commit();
}

/** FXCH ST(i). */
export function fxch(f: Fpu, i: number): void {
  const a = f.top;
  const b = (a + i) & 7;
  if (f.isEmpty(a) || f.isEmpty(b)) {
    if (!f.underflow()) { f.commit(); return; }
    if (f.isEmpty(a)) f.setIndef(a);
    if (f.isEmpty(b)) f.setIndef(b);
  }
  if (a !== b) {
    // swap: a goes to the operand slot, b to a, the slot to b
    f.copyReg(OPND, a);
    f.copyReg(a, b);
    f.copyReg(b, OPND);
  }
  f.commit(); // C1 = 0
}

/** FCHS (abs=false) / FABS: sign operations, exact on every encoding. */
export function fchsAbs(f: Fpu, abs: boolean): void {
  const p = f.top;
  if (f.isEmpty(p)) {
    if (f.underflow()) f.setIndef(p);
    f.commit();
    return;
  }
  const r = f.regs;
  r[3 * p] = abs ? r[3 * p]! & 0x7fff : r[3 * p]! ^ 0x8000;
  f.commit();
}

/** FCMOVcc ST(0), ST(i): reg 0 B (CF), 1 E (ZF), 2 BE (CF|ZF), 3 U (PF); `negate` for the DB forms. */
export function fcmov(f: Fpu, reg: number, negate: boolean, i: number): void {
  const p = f.top;
  const s = (p + i) & 7;
  if (f.isEmpty(p) || f.isEmpty(s)) {
    if (f.underflow()) f.setIndef(p);
    f.commit();
    return;
  }
  const fl = f.host.eflags;
  let cond: boolean;
  switch (reg) {
    case 0: cond = (fl & 0x01) !== 0; break;
    case 1: cond = (fl & 0x40) !== 0; break;
    case 2: cond = (fl & 0x41) !== 0; break;
    default: cond = (fl & 0x04) !== 0; break;
  }
  if (cond !== negate && s !== p) f.copyReg(p, s);
  f.commit();
}
