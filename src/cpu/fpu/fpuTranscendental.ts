// x87 transcendental instructions: F2XM1, FYL2X, FYL2XP1, FPTAN, FPATAN, FSIN, FCOS, FSINCOS
// (SDM vol. 2 pages of those names, with their special-case tables; vol. 1 §8.3.10).
//
// ACCURACY. The hardware is not correctly rounded here; this unit computes in double-double
// (fpuDd, about 104 bits) from the exact 80-bit operands and rounds once to 64 bits in CW.RC's
// direction, so results are the correctly rounded value of what it computes (C1 telling whether the
// magnitude was rounded up) except within a few 2^-40 ulp of a rounding boundary, and PE is set for
// every inexact result. Like the hardware, FSIN, FCOS, FSINCOS and FPTAN reduce their argument
// modulo π/2 with a 66-bit π (SDM §8.3.10): the reduction is exact (integer arithmetic, like FPREM)
// and sin(π80) = -2^-64 as on the processors, not the true 5.0e-20. Measured against the host's x87
// (transcendental.test.ts): within 1 ulp, mostly equal. Arguments of F2XM1 outside [-1, 1] (where
// the SDM leaves the result undefined) go through float64 Math. Precision control does not apply.

import type { Fpu } from './Fpu.js';
import {
  CLS_DENORMAL, CLS_INF, CLS_QNAN, CLS_SNAN, CLS_UNSUPPORTED, CLS_ZERO, F64, SW_C1, SW_C2, SW_IE, SW_PE, SW_SF, SW_ZE, U32,
} from './fpuConst.js';
import { W, roundToReg } from './fpuRound.js';
import { OP } from './fpuSig.js';
import { invalidResult, loadSig, nan1, nanResult } from './fpuArith.js';
import { unaryPrologue } from './fpuUnary.js';
import {
  D, K_LN2, K_LOG2E, K_PI, K_PI2, K_PI4, atan01, atanh2, ddAdd, ddAddD, ddCopy, ddDiv, ddMul, ddMulD, ddNeg, ddSet, ddSub,
  expm1, lnNear1, sinCos,
} from './fpuDd.js';

// double-double registers used here
const X = 0, Y = 1, S = 2, C = 3, R = 4, L = 5;

/** 2^n as a double for -1022 <= n <= 1023, from its bits. */
function pow2(n: number): number {
  U32[0] = 0;
  U32[1] = (n + 1023) << 20;
  return F64[0]!;
}

/** Load |register p| (finite, non-zero) as a double-double in [1, 2) into register k; returns its
 *  exponent. Exact: 53 bits in the high part, the other 11 in the low part. */
function ddOfReg(f: Fpu, p: number, k: number): number {
  const e = loadSig(f, p, 0);
  const h = OP[0]!, l = OP[1]!;
  ddSet(k, (h * 2097152 + (l >>> 11)) / 4503599627370496, (l & 0x7ff) / 9223372036854775808);
  return e;
}

/** Round register k × 2^E (non-zero) to 64 bits into x87 register p, in CW.RC's direction.
 *  `exact`: the double-double is the true result (else it is an approximation of an irrational
 *  number and PE is raised even when its value happens to fit 64 bits). */
function ddToReg(f: Fpu, p: number, k: number, E: number, exact: boolean): void {
  let h = D[2 * k]!, l = D[2 * k + 1]!;
  const sign = h < 0 ? 1 : 0;
  if (sign !== 0) { h = -h; l = -l; }
  F64[0] = h;
  const eh = ((U32[1]! >>> 20) & 0x7ff) - 1023;
  // H = h 2^(95 - eh) in [2^95, 2^96), L = l 2^(95 - eh), |L| < 2^43
  const sc1 = pow2(Math.min(95 - eh, 1000)), sc2 = pow2(95 - eh - Math.min(95 - eh, 1000));
  const H = h * sc1 * sc2;
  const Ls = l * sc1 * sc2;
  const lf = Math.floor(Ls);
  let frac = Ls - lf;
  let w0 = Math.floor(H / 18446744073709551616);
  const rest = H - w0 * 18446744073709551616;
  let w1 = Math.floor(rest / 4294967296);
  let w2 = rest - w1 * 4294967296 + lf;
  let carry = Math.floor(w2 / 4294967296);
  w2 -= carry * 4294967296;
  w1 += carry;
  carry = Math.floor(w1 / 4294967296);
  w1 -= carry * 4294967296;
  w0 += carry;
  let exp = E + eh;
  if (w0 < 0x80000000) { // h a power of two and l < 0: one bit more
    const t = frac * 2, b = Math.floor(t);
    frac = t - b;
    w0 = w0 * 2 + Math.floor(w1 / 0x80000000);
    w1 = (w1 * 2) % 4294967296 + Math.floor(w2 / 0x80000000);
    w2 = (w2 * 2) % 4294967296 + b;
    exp--;
  }
  W[0] = w0; W[1] = w1; W[2] = w2;
  W[3] = frac !== 0 || !exact ? 1 : 0;
  roundToReg(f, p, sign, exp, 64);
}

/** A result just below |x| (nudge < 0), just above (nudge > 0), with the sign of x: for functions
 *  that equal x to far more than 64 bits near zero (sin, tan, atan of tiny arguments). */
function nudged(f: Fpu, dst: number, src: number, nudge: number): void {
  const e = loadSig(f, src, 0);
  let h = OP[0]!, l = OP[1]!, x = 0, exp = e;
  if (nudge < 0) {
    // (h:l:0) - 1, renormalized; the sticky bit says "and a little more below"
    x = 0xffffffff;
    if (l === 0) { l = 0xffffffff; h = h - 1; } else l = l - 1;
    if (h < 0x80000000) {
      h = ((h << 1) | (l >>> 31)) >>> 0;
      l = ((l << 1) | 1) >>> 0;
      x = 0xfffffffe;
      exp--;
    }
  }
  W[0] = h; W[1] = l; W[2] = x; W[3] = 1;
  roundToReg(f, dst, f.signOf(src), exp, 64);
}

/** 1 - tiny (cos of a tiny argument). */
function oneMinus(f: Fpu, dst: number): void {
  W[0] = 0xffffffff; W[1] = 0xffffffff; W[2] = 0xffffffff; W[3] = 1;
  roundToReg(f, dst, 0, -1, 64);
}

// ---------------------------------------------------------------- FSIN FCOS FSINCOS FPTAN

/** π66/2 × 2^65 (66 bits): the hardware's reduction constant. */
const P2 = 3, P1 = 0x243f6a88, P0 = 0x85a308d3;

/** Reduce |ST(0)| (physical p; finite, 2^-33 <= |x| < 2^63) modulo π66/2, exactly: register R
 *  receives the remainder in [-π66/4, π66/4] and the result is the quotient mod 4. */
function reduce(f: Fpu, p: number): number {
  const e = ddOfReg(f, p, R);
  if (e < -1) { // below 1/2: no reduction
    ddMulD(R, R, pow2(e));
    return 0;
  }
  // restoring division of |x| × 2^65 = X × 2^(e+2) by P (X < 2^64 < P)
  let r2 = 0, r1 = OP[0]!, r0 = OP[1]!, q = 0;
  for (let i = e + 2; i > 0; i--) {
    r2 = (r2 << 1) | (r1 >>> 31);
    r1 = ((r1 << 1) | (r0 >>> 31)) >>> 0;
    r0 = (r0 << 1) >>> 0;
    if (r2 > P2 || (r2 === P2 && (r1 > P1 || (r1 === P1 && r0 >= P0)))) {
      let l = r0 - P0, m = r1 - P1;
      if (l < 0) { l += 4294967296; m -= 1; }
      r2 -= P2;
      if (m < 0) { m += 4294967296; r2 -= 1; }
      r0 = l; r1 = m;
      q = (q + 1) & 3;
    }
    if (i > 1) q = (q << 1) & 3;
  }
  // nearest quotient: a remainder above P/2 becomes R - P
  let neg = false;
  const t2 = (r2 << 1) | (r1 >>> 31), t1 = ((r1 << 1) | (r0 >>> 31)) >>> 0, t0 = (r0 << 1) >>> 0;
  if (t2 > P2 || (t2 === P2 && (t1 > P1 || (t1 === P1 && t0 > P0)))) {
    let l = P0 - r0, m = P1 - r1, hi = P2 - r2;
    if (l < 0) { l += 4294967296; m -= 1; }
    if (m < 0) { m += 4294967296; hi -= 1; }
    r0 = l; r1 = m; r2 = hi;
    neg = true;
    q = (q + 1) & 3;
  }
  ddSet(R, r2 * 18446744073709551616 + r1 * 4294967296, r0);
  ddMulD(R, R, neg ? -pow2(-65) : pow2(-65));
  return q;
}

/** Is |x| beyond the ±2^63 operand range of FSIN/FCOS/FSINCOS/FPTAN? */
function outOfRange(f: Fpu, p: number): boolean {
  return ((f.regs[3 * p]! & 0x7fff) - 16383) >= 63;
}

/** |x| < 2^-33: sin x, tan x and cos x differ from x, x and 1 by less than 2^-66 relative. */
function tiny(f: Fpu, p: number): boolean {
  return ((f.regs[3 * p]! & 0x7fff) - 16383) < -33;
}

/** sin (into S) and cos (into C) of ST(0) (finite, non-zero, in range, not tiny). */
function sinCosOf(f: Fpu, p: number): void {
  const q = reduce(f, p);
  sinCos(S, C, R);
  // rotate by the quadrant: sin(r + qπ/2), cos(r + qπ/2)
  if (q === 1) { ddCopy(L, S); ddCopy(S, C); ddNeg(C, L); }
  else if (q === 2) { ddNeg(S, S); ddNeg(C, C); }
  else if (q === 3) { ddCopy(L, S); ddNeg(S, C); ddCopy(C, L); }
  if (f.signOf(p) !== 0) ddNeg(S, S);
}

/** FSIN (cos=false) / FCOS. */
export function fsinOrCos(f: Fpu, cos: boolean): void {
  const p = f.top;
  let c2 = 0;
  if (!unaryPrologue(f, p)) {
    const c = f.classOf(p);
    if (c === CLS_INF) invalidResult(f, p);
    else if (outOfRange(f, p)) c2 = SW_C2;
    else if (c === CLS_ZERO) {
      if (cos) f.setExt(p, ONE, 0); // cos ±0 = 1, exact; sin ±0 = ±0
    } else if (c !== CLS_DENORMAL || f.denormal()) {
      if (tiny(f, p)) {
        if (cos) oneMinus(f, p);
        else nudged(f, p, p, -1);
      } else {
        sinCosOf(f, p);
        ddToReg(f, p, cos ? C : S, 0, false);
      }
    }
  }
  f.sw = (f.sw & ~SW_C2) | c2;
  f.commit();
}

/** Prologue of FPTAN/FSINCOS (ST(0) replaced, one value pushed). Returns true when finished. */
function pushingPrologue(f: Fpu): boolean {
  const p = f.top;
  const q = (p - 1) & 7;
  if (f.isEmpty(p) || !f.isEmpty(q)) {
    if (f.isEmpty(p)) f.underflow();
    else { f.ex |= SW_IE | SW_SF; f.c1 = SW_C1; }
    if ((f.cw & SW_IE) !== 0) {
      f.setIndef(p);
      f.setIndef(f.pushSlot());
    }
    return true;
  }
  const c = f.classOf(p);
  if (c === CLS_UNSUPPORTED || c === CLS_INF) {
    if (f.invalid()) {
      f.setIndef(p);
      f.setIndef(f.pushSlot());
    }
    return true;
  }
  if (c === CLS_QNAN || c === CLS_SNAN) {
    if (nan1(f, p, p)) f.copyReg(f.pushSlot(), p);
    return true;
  }
  return false;
}

/** The 80-bit image of 1.0. */
const ONE = new Uint32Array([0x3fff, 0x80000000, 0]);

/** FPTAN: ST(0) := tan(ST(0)), push 1.0. */
export function fptan(f: Fpu): void {
  f.sw &= ~SW_C2;
  if (!pushingPrologue(f)) {
    const p = f.top;
    const c = f.classOf(p);
    if (outOfRange(f, p)) f.sw |= SW_C2;
    else if (c !== CLS_DENORMAL || f.denormal()) {
      if (c === CLS_ZERO) { /* tan ±0 = ±0 */ }
      else if (tiny(f, p)) nudged(f, p, p, 1);
      else {
        sinCosOf(f, p);
        ddDiv(R, S, C);
        ddToReg(f, p, R, 0, false);
      }
      f.setExt(f.pushSlot(), ONE, 0);
    }
  }
  f.commit();
}

/** FSINCOS: ST(0) := sin(ST(0)), push cos. */
export function fsincos(f: Fpu): void {
  f.sw &= ~SW_C2;
  if (!pushingPrologue(f)) {
    const p = f.top;
    const c = f.classOf(p);
    if (outOfRange(f, p)) f.sw |= SW_C2;
    else if (c !== CLS_DENORMAL || f.denormal()) {
      const q = (p - 1) & 7;
      if (c === CLS_ZERO) f.setExt(q, ONE, 0);
      else if (tiny(f, p)) {
        oneMinus(f, q);
        nudged(f, p, p, -1);
      } else {
        sinCosOf(f, p);
        ddToReg(f, p, S, 0, false);
        ddToReg(f, q, C, 0, false);
      }
      f.pushSlot();
    }
  }
  f.commit();
}

// ---------------------------------------------------------------- F2XM1 FYL2X FYL2XP1 FPATAN

/** F2XM1: ST(0) := 2^ST(0) - 1. */
export function f2xm1(f: Fpu): void {
  const p = f.top;
  if (unaryPrologue(f, p)) { f.commit(); return; }
  const c = f.classOf(p);
  if (c === CLS_DENORMAL && !f.denormal()) { f.commit(); return; }
  if (c === CLS_ZERO || (c === CLS_INF && f.signOf(p) === 0)) { f.commit(); return; } // ±0, +∞ unchanged
  const neg = f.signOf(p) !== 0;
  if (c === CLS_INF) { setDouble(f, p, -1); f.commit(); return; }
  const e = ddOfReg(f, p, X);
  if (neg) ddNeg(X, X);
  if (e >= 0) {
    if (e === 0 && D[2 * X]! === (neg ? -1 : 1) && D[2 * X + 1]! === 0) setDouble(f, p, neg ? -0.5 : 1); // 2^±1 - 1, exact
    else {
      // outside [-1, 1] the SDM leaves the result undefined
      const x = (D[2 * X]! + D[2 * X + 1]!) * pow2(Math.min(e, 1000));
      f.ex |= SW_PE;
      setDouble(f, p, 2 ** x - 1);
    }
  } else if (e < -200) {
    // 2^x - 1 = x ln 2 (1 + x ln 2 / 2 + ...), the correction far below 64 bits
    ddMul(R, X, K_LN2);
    ddToReg(f, p, R, e, false);
  } else {
    ddMulD(X, X, pow2(e));
    ddMul(R, X, K_LN2);
    expm1(S, R);
    ddToReg(f, p, S, 0, false);
  }
  f.commit();
}

/** Write a double (exactly) to register p: the special and undefined cases. */
function setDouble(f: Fpu, p: number, v: number): void {
  if (v === 0) { f.setZero(p, Object.is(v, -0) ? 1 : 0); return; }
  if (!Number.isFinite(v)) { f.setInf(p, v < 0 ? 1 : 0); return; }
  ddSet(L, v, 0);
  ddToReg(f, p, L, 0, true);
}

/** Shared shape of FYL2X, FYL2XP1 and FPATAN: x = ST(0), y = ST(1), result to ST(1), pop.
 *  Returns the physical register of ST(1), or -1 when the instruction has been finished
 *  (underflow, unsupported operand, NaN, unmasked #D). */
function binaryPop(f: Fpu): number {
  const p0 = f.top, p1 = (f.top + 1) & 7;
  if (f.isEmpty(p0) || f.isEmpty(p1)) {
    if (f.underflow()) {
      f.setIndef(p1);
      f.pop();
    }
    return -1;
  }
  const c0 = f.classOf(p0), c1 = f.classOf(p1);
  if (c0 === CLS_UNSUPPORTED || c1 === CLS_UNSUPPORTED) {
    if (invalidResult(f, p1)) f.pop();
    return -1;
  }
  if (c0 === CLS_QNAN || c0 === CLS_SNAN || c1 === CLS_QNAN || c1 === CLS_SNAN) {
    if (nanResult(f, p1, p1, p0)) f.pop();
    return -1;
  }
  if ((c0 === CLS_DENORMAL || c1 === CLS_DENORMAL) && !f.denormal()) return -1;
  return p1;
}

/** Register L := log2 |x| for finite non-zero x in register p (exactly the exponent when |x| is a
 *  power of two; then returns true). */
function log2Of(f: Fpu, p: number): boolean {
  let e = ddOfReg(f, p, X);
  if (D[2 * X]! === 1 && D[2 * X + 1]! === 0) {
    ddSet(L, e, 0);
    return true;
  }
  if (D[2 * X]! > Math.SQRT2) { ddMulD(X, X, 0.5); e++; }
  lnNear1(R, X);
  ddMul(R, R, K_LOG2E);
  ddAddD(L, R, e);
  return false;
}

/** ST(1) := y × L (L a double-double, y = ST(1) finite non-zero), pop. */
function yTimesL(f: Fpu, p1: number, exact: boolean): void {
  if (D[2 * L]! === 0) {
    f.setZero(p1, f.signOf(p1) ^ (Object.is(D[2 * L], -0) ? 1 : 0));
  } else {
    const ey = ddOfReg(f, p1, Y);
    if (f.signOf(p1) !== 0) ddNeg(Y, Y);
    ddMul(R, Y, L);
    ddToReg(f, p1, R, ey, exact);
  }
  f.pop();
}

/** FYL2X: ST(1) := ST(1) × log2(ST(0)), pop. */
export function fyl2x(f: Fpu): void {
  const p1 = binaryPop(f);
  if (p1 < 0) { f.commit(); return; }
  const p0 = f.top;
  const cx = f.classOf(p0), cy = f.classOf(p1);
  const sx = f.signOf(p0), sy = f.signOf(p1);
  const xOne = cx !== CLS_ZERO && cx !== CLS_INF && (f.regs[3 * p0]! & 0x7fff) === 16383 && f.regs[3 * p0 + 1] === 0x80000000 && f.regs[3 * p0 + 2] === 0;
  if ((sx !== 0 && cx !== CLS_ZERO) || (cx === CLS_ZERO && cy === CLS_ZERO) || (xOne && cy === CLS_INF) || (cx === CLS_INF && cy === CLS_ZERO)) {
    if (invalidResult(f, p1)) f.pop();
    f.commit();
    return;
  }
  if (cx === CLS_ZERO) { // log2(±0) = -∞
    if (cy !== CLS_INF) {
      f.ex |= SW_ZE;
      if (!f.zeroDivideMasked()) { f.commit(); return; }
    }
    f.setInf(p1, sy ^ 1);
    f.pop();
    f.commit();
    return;
  }
  if (cx === CLS_INF || cy === CLS_INF) {
    // ±∞ × log2(x), or y × log2(+∞): the sign from both factors (log2 x < 0 for x < 1)
    const below1 = cx !== CLS_INF && (f.regs[3 * p0]! & 0x7fff) < 16383;
    if (cy === CLS_ZERO || xOne) f.setZero(p1, sy ^ (below1 ? 1 : 0));
    else f.setInf(p1, sy ^ (below1 ? 1 : 0));
    f.pop();
    f.commit();
    return;
  }
  if (cy === CLS_ZERO) { // ±0 × log2(x)
    f.setZero(p1, sy ^ ((f.regs[3 * p0]! & 0x7fff) < 16383 ? 1 : 0));
    f.pop();
    f.commit();
    return;
  }
  yTimesL(f, p1, log2Of(f, p0));
  f.commit();
}

/** FYL2XP1: ST(1) := ST(1) × log2(ST(0) + 1), pop. */
export function fyl2xp1(f: Fpu): void {
  const p1 = binaryPop(f);
  if (p1 < 0) { f.commit(); return; }
  const p0 = f.top;
  const cx = f.classOf(p0), cy = f.classOf(p1);
  const sx = f.signOf(p0), sy = f.signOf(p1);
  const ex = (f.regs[3 * p0]! & 0x7fff) - 16383;
  const atMinus1 = sx !== 0 && (cx === CLS_INF || (cx !== CLS_ZERO && ex >= 0)); // x <= -1
  if (atMinus1 || (cx === CLS_ZERO && cy === CLS_INF) || (cx === CLS_INF && cy === CLS_ZERO)) {
    if (invalidResult(f, p1)) f.pop();
    f.commit();
    return;
  }
  if (cx === CLS_ZERO || cy === CLS_ZERO) { // ±0 results: y × x's sign
    f.setZero(p1, sx ^ sy);
    f.pop();
    f.commit();
    return;
  }
  if (cx === CLS_INF || cy === CLS_INF) {
    f.setInf(p1, sx ^ sy);
    f.pop();
    f.commit();
    return;
  }
  if (ex < -200) {
    // log2(1 + x) = x log2(e) (1 - x/2 + ...), the correction far below 64 bits
    ddOfReg(f, p0, X);
    if (sx !== 0) ddNeg(X, X);
    ddMul(L, X, K_LOG2E);
    const ey = ddOfReg(f, p1, Y);
    if (sy !== 0) ddNeg(Y, Y);
    ddMul(R, Y, L);
    ddToReg(f, p1, R, ey + ex, false);
    f.pop();
    f.commit();
    return;
  }
  ddOfReg(f, p0, X);
  if (sx !== 0) ddNeg(X, X);
  ddMulD(X, X, pow2(ex));
  if (Math.abs(D[2 * X]!) <= 0.29) {
    // ln(1 + x) = 2 atanh(x / (2 + x)), accurate for tiny x too
    ddAddD(S, X, 2);
    ddDiv(C, X, S);
    atanh2(R, C);
    ddMul(L, R, K_LOG2E);
  } else {
    // outside the SDM's range: log2 of 1 + x as a double-double, split into exponent and m
    ddAddD(S, X, 1);
    let e = Math.floor(Math.log2(D[2 * S]!));
    ddMulD(S, S, pow2(-e));
    if (D[2 * S]! > Math.SQRT2) { ddMulD(S, S, 0.5); e++; }
    lnNear1(R, S);
    ddMul(R, R, K_LOG2E);
    ddAddD(L, R, e);
  }
  yTimesL(f, p1, false);
  f.commit();
}

/** Register R := k × π/4 (k = 1..4). */
function quarterPi(k: number): void {
  if (k === 1) ddCopy(R, K_PI4);
  else if (k === 2) ddCopy(R, K_PI2);
  else if (k === 3) ddMulD(R, K_PI4, 3);
  else ddCopy(R, K_PI);
}

/** FPATAN: ST(1) := arctan(ST(1) / ST(0)) with the quadrant from both signs, pop. */
export function fpatan(f: Fpu): void {
  const p1 = binaryPop(f);
  if (p1 < 0) { f.commit(); return; }
  const p0 = f.top;
  const cx = f.classOf(p0), cy = f.classOf(p1);
  const sx = f.signOf(p0), sy = f.signOf(p1);
  // zeros and infinities (SDM table 3-30): multiples of π/4
  let k = -1;
  if (cy === CLS_ZERO) k = sx === 0 ? 0 : 4;
  else if (cx === CLS_ZERO) k = 2;
  else if (cy === CLS_INF) k = cx === CLS_INF ? (sx === 0 ? 1 : 3) : 2;
  else if (cx === CLS_INF) k = sx === 0 ? 0 : 4;
  if (k === 0) f.setZero(p1, sy);
  else if (k > 0) {
    quarterPi(k);
    if (sy !== 0) ddNeg(R, R);
    ddToReg(f, p1, R, 0, false);
  } else {
    // t = min(|x|, |y|) / max(|x|, |y|) <= 1
    const ex = ddOfReg(f, p0, X), ey = ddOfReg(f, p1, Y);
    const yBig = ey > ex || (ey === ex && D[2 * Y]! + D[2 * Y + 1]! > D[2 * X]! + D[2 * X + 1]!);
    const d = yBig ? ex - ey : ey - ex; // exponent of t, <= 0
    if (yBig) ddDiv(S, X, Y); else ddDiv(S, Y, X);
    if (d < -900) {
      // atan t = t to far more than 64 bits; π ± t or π/2 ± t is π or π/2 as near as matters
      if (!yBig && sx === 0) {
        if (sy !== 0) ddNeg(S, S);
        ddToReg(f, p1, S, d, false);
      } else {
        quarterPi(yBig ? 2 : 4);
        if (sy !== 0) ddNeg(R, R);
        ddToReg(f, p1, R, 0, false);
      }
    } else {
      ddMulD(S, S, pow2(d));
      atan01(C, S);
      // |y| <= |x|: atan t, or π - atan t for x < 0; |y| > |x|: π/2 ∓ atan t
      if (!yBig) {
        if (sx !== 0) ddSub(C, K_PI, C);
      } else if (sx === 0) ddSub(C, K_PI2, C);
      else ddAdd(C, K_PI2, C);
      if (sy !== 0) ddNeg(C, C);
      ddToReg(f, p1, C, 0, false);
    }
  }
  f.pop();
  f.commit();
}
