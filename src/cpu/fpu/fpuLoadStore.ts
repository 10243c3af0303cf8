// x87 data movement: FLD/FILD/FBLD and the constants, FST/FSTP/FIST/FISTP/FISTTP/FBSTP, FXCH,
// FCHS/FABS, FCMOVcc, FLDCW, and the operand-slot loaders for memory operands (SDM vol. 2 pages of
// those names). Memory is read before, and written before, any FPU state changes.

import type { Fpu } from './Fpu.js';
import {
  CLS_DENORMAL, CLS_NORMAL, CLS_ZERO, EXT_MEM_DENORMAL, EXT_NONE, F32, INDEF_HI, OPND,
  RC_CHOP, SW_C1, SW_IE, SW_OE, SW_PE, SW_UE, U32F,
} from './fpuConst.js';
import {
  PK, RO, TINY, UA, bcdToInt, intToBcd, packDouble, packSingle, roundToInt, unpackInt,
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

const MIN_FLOAT = 2 ** -126;

// ---------------------------------------------------------------- loads

/** Place a binary32 operand in the operand slot as a double (signalling NaNs stay signalling). */
export function loadM32(f: Fpu, lin: number): void {
  const bits = f.host.read32(lin);
  const exp = (bits >>> 23) & 0xff;
  const frac = bits & 0x7fffff;
  const w = f.stw;
  if (exp === 0xff) {
    w[17] = (bits & 0x80000000) | 0x7ff00000 | (frac >>> 3);
    w[16] = frac << 29;
    f.ext[OPND] = EXT_NONE;
  } else if (exp === 0) {
    f.st[OPND] = (bits & 0x80000000) !== 0 ? -frac * 2 ** -149 : frac * 2 ** -149;
    f.ext[OPND] = frac !== 0 ? EXT_MEM_DENORMAL : EXT_NONE;
  } else {
    w[17] = (bits & 0x80000000) | ((exp + 896) << 20) | (frac >>> 3);
    w[16] = frac << 29;
    f.ext[OPND] = EXT_NONE;
  }
}

/** Place a binary64 operand in the operand slot. */
export function loadM64(f: Fpu, lin: number): void {
  const lo = f.host.read32(lin);
  const hi = f.host.read32(lin + 4);
  f.stw[16] = lo;
  f.stw[17] = hi;
  f.ext[OPND] = (hi & 0x7ff00000) === 0 && ((hi & 0xfffff) | lo) !== 0 ? EXT_MEM_DENORMAL : EXT_NONE;
}

/** Place an integer operand in the operand slot (exact). */
export function loadInt(f: Fpu, v: number): void {
  f.st[OPND] = v;
  f.ext[OPND] = EXT_NONE;
}

/** FLD m32fp / m64fp from the operand slot. */
export function fldFloat(f: Fpu): void {
  const kind = f.ext[OPND]!;
  if (!f.pushOk()) { f.commit(); return; }
  let hi = f.stw[17]!;
  const lo = f.stw[16]!;
  if ((hi & 0x7ff00000) === 0x7ff00000 && ((hi & 0xfffff) | lo) !== 0 && (hi & 0x80000) === 0) {
    if (!f.invalid()) { f.commit(); return; } // SNaN, #IA unmasked: nothing loaded
    hi |= 0x80000;
  }
  // A denormal raises #D, but even unmasked the value is still pushed (SDM FLD note).
  if (kind === EXT_MEM_DENORMAL) f.denormal();
  f.setBits(f.pushSlot(), hi, lo);
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
  if (f.pushOk()) f.setD(f.pushSlot(), v);
  f.commit();
}

/** FILD m64int: exact (kept as an 80-bit image when beyond 2^53). */
export function fild64(f: Fpu, lin: number): void {
  const lo = f.host.read32(lin) >>> 0;
  const hi = f.host.read32(lin + 4) | 0;
  if (!f.pushOk()) { f.commit(); return; }
  const p = f.pushSlot();
  if (hi >= -0x200000 && hi < 0x200000) {
    f.setD(p, hi * 4294967296 + lo); // |v| < 2^53: exact
  } else {
    // beyond 2^53: exact 80-bit value from the two's-complement magnitude
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
  }
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
  if (k < 2) f.setD(p, k);
  else {
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
 *  suppresses the store (and the pop). */
function storeOk(f: Fpu, fl: number): boolean {
  const cw = f.cw;
  if ((fl & SW_IE) !== 0) {
    f.ex |= SW_IE;
    if ((cw & SW_IE) === 0) return false;
  }
  if ((fl & TINY) !== 0 && (cw & SW_UE) === 0) {
    f.ex |= SW_UE | (fl & SW_PE);
    return false;
  }
  if ((fl & SW_OE) !== 0 && (cw & SW_OE) === 0) {
    f.ex |= SW_OE | (fl & SW_PE);
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
      else { f.host.write32(lin, 0); f.host.write32(lin + 4, INDEF_HI); }
      if (popAfter) f.pop();
    }
    f.commit();
    return;
  }
  if (single && f.ext[p] === EXT_NONE) {
    // binary32 fast path: the double is exactly a normal float, ±0 or ±∞
    const x = f.st[p]!;
    const y = Math.fround(x);
    if (y === x && (y === 0 || y >= MIN_FLOAT || y <= -MIN_FLOAT)) {
      F32[0] = y;
      f.host.write32(lin, U32F[0]!);
      if (popAfter) f.pop();
      f.commit();
      return;
    }
  }
  if (!single && f.ext[p] === EXT_NONE) {
    // binary64 from a double register: exact unless a NaN needs quieting or a tiny value meets an unmasked #U
    let hi = f.stw[2 * p + 1]!;
    const lo = f.stw[2 * p]!;
    const exp = (hi >>> 20) & 0x7ff;
    if (exp === 0x7ff && ((hi & 0xfffff) | lo) !== 0 && (hi & 0x80000) === 0) {
      if (!f.invalid()) { f.commit(); return; }
      hi |= 0x80000;
    } else if (exp === 0 && ((hi & 0xfffff) | lo) !== 0 && (f.cw & SW_UE) === 0) {
      f.ex |= SW_UE;
      f.commit();
      return;
    }
    f.host.write32(lin, lo);
    f.host.write32(lin + 4, hi);
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
  const x = f.st[p]!;
  if (f.ext[p] === EXT_NONE && x === Math.trunc(x) && x >= -2147483648 && x <= 2147483647) {
    v = x | 0; // integral already: exact, no flags
    if (bits === 16 && (v < -32768 || v > 32767)) {
      if (!f.invalid()) { f.commit(); return; }
      v = indef;
    }
  } else if (intFromReg(f, p, chop, 0, bits === 16 ? 0x7fff : 0x7fffffff, true)) {
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
  if (abs) {
    f.stw[2 * p + 1] = f.stw[2 * p + 1]! & 0x7fffffff;
    f.extw[3 * p] = f.extw[3 * p]! & 0x7fff;
  } else {
    f.stw[2 * p + 1] = f.stw[2 * p + 1]! ^ 0x80000000;
    f.extw[3 * p] = f.extw[3 * p]! ^ 0x8000;
  }
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
