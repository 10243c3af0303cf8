// x87 FSQRT, FRNDINT, FSCALE and FXTRACT (SDM vol. 2 pages of those names). FSQRT is rounded to
// CW.PC's precision; the others are not subject to precision control: FRNDINT rounds to an integer
// per CW.RC, FSCALE is exact unless the result leaves the normal range, FXTRACT is exact.

import type { Fpu } from './Fpu.js';
import {
  CLS_DENORMAL, CLS_INF, CLS_QNAN, CLS_SNAN, CLS_UNSUPPORTED, CLS_ZERO, SW_C1, SW_IE, SW_PE, SW_SF, SW_ZE,
} from './fpuConst.js';
import { PK, RO, UA, UB, packInt, roundToInt, unpackInt } from './fpuFormats.js';
import { W, precOf, roundToReg } from './fpuRound.js';
import { OP, sqrtSig } from './fpuSig.js';
import { invalidResult, loadSig, nan1, nanResult } from './fpuArith.js';

/** Common prologue for one-operand instructions on ST(0) (physical p): an empty ST(0), an
 *  unsupported encoding, a NaN. Returns true when the instruction is finished. */
export function unaryPrologue(f: Fpu, p: number): boolean {
  if (f.isEmpty(p)) {
    if (f.underflow()) f.setIndef(p);
    return true;
  }
  const c = f.classOf(p);
  if (c === CLS_UNSUPPORTED) {
    invalidResult(f, p);
    return true;
  }
  if (c === CLS_QNAN || c === CLS_SNAN) {
    nan1(f, p, p);
    return true;
  }
  return false;
}

/** FSQRT. */
export function fsqrt(f: Fpu): void {
  const p = f.top;
  if (!unaryPrologue(f, p)) {
    const c = f.classOf(p);
    if (c === CLS_ZERO) {
      // sqrt(±0) = ±0
    } else if (f.signOf(p) !== 0) invalidResult(f, p);
    else if (c !== CLS_INF && (c !== CLS_DENORMAL || f.denormal())) {
      const e = loadSig(f, p, 0);
      const odd = e & 1;
      sqrtSig(odd);
      roundToReg(f, p, 0, (e - odd) / 2, precOf(f));
    }
  }
  f.commit();
}

/** FRNDINT: round ST(0) to an integer per RC. */
export function frndint(f: Fpu): void {
  const p = f.top;
  if (unaryPrologue(f, p)) { f.commit(); return; }
  const c = f.classOf(p);
  if (c === CLS_ZERO || c === CLS_INF || (c === CLS_DENORMAL && !f.denormal())) { f.commit(); return; }
  f.unpackReg(UA, p);
  if (!roundToInt(UA, f.rc()) || !RO.inexact) { f.commit(); return; } // integral already
  f.ex |= SW_PE;
  f.c1 = RO.up ? SW_C1 : 0;
  unpackInt(UB, UA.s);
  f.setU(p, UB);
  f.commit();
}

/** trunc(ST(1)) for FSCALE, clamped to ±2^20 (far beyond any exponent that can still give a finite
 *  non-zero result, so a clamped scale overflows or underflows exactly as the true one). */
function scaleOf(f: Fpu, p: number): number {
  const e = loadSig(f, p, 2);
  if (e < 0) return 0;
  const n = e > 20 ? 1 << 21 : OP[2]! >>> (31 - e);
  return f.signOf(p) !== 0 ? -n : n;
}

/** FSCALE: ST(0) := ST(0) × 2^trunc(ST(1)). */
export function fscale(f: Fpu): void {
  const p0 = f.top, p1 = (f.top + 1) & 7;
  if (f.isEmpty(p0) || f.isEmpty(p1)) {
    if (f.underflow()) f.setIndef(p0);
    f.commit();
    return;
  }
  const c0 = f.classOf(p0), c1 = f.classOf(p1);
  if (c0 === CLS_UNSUPPORTED || c1 === CLS_UNSUPPORTED) { invalidResult(f, p0); f.commit(); return; }
  if (c0 === CLS_QNAN || c0 === CLS_SNAN || c1 === CLS_QNAN || c1 === CLS_SNAN) { nanResult(f, p0, p0, p1); f.commit(); return; }
  const s0 = f.signOf(p0);
  if (c1 === CLS_INF) {
    if (f.signOf(p1) === 0) { // × 2^+∞
      if (c0 === CLS_ZERO) invalidResult(f, p0);
      else if (c0 !== CLS_INF && (c0 !== CLS_DENORMAL || f.denormal())) f.setInf(p0, s0);
    } else { // × 2^-∞
      if (c0 === CLS_INF) invalidResult(f, p0);
      else if (c0 !== CLS_ZERO && (c0 !== CLS_DENORMAL || f.denormal())) f.setZero(p0, s0);
    }
    f.commit();
    return;
  }
  if ((c0 === CLS_DENORMAL || c1 === CLS_DENORMAL) && !f.denormal()) { f.commit(); return; }
  if (c0 === CLS_ZERO || c0 === CLS_INF) { f.commit(); return; }
  const n = c1 === CLS_ZERO ? 0 : scaleOf(f, p1);
  const e = loadSig(f, p0, 0);
  W[0] = OP[0]!; W[1] = OP[1]!; W[2] = 0; W[3] = 0;
  roundToReg(f, p0, s0, e + n, 64);
  f.commit();
}

/** FXTRACT: ST(0) := exponent, then push the significand. */
export function fxtract(f: Fpu): void {
  const p = f.top;
  const q = (p - 1) & 7;
  if (f.isEmpty(p) || !f.isEmpty(q)) {
    if (f.isEmpty(p)) f.underflow();
    else { f.ex |= SW_IE | SW_SF; f.c1 = SW_C1; } // #IS, stack overflow
    if ((f.cw & SW_IE) !== 0) {
      f.setIndef(p);
      f.setIndef(f.pushSlot());
    }
    f.commit();
    return;
  }
  const c = f.classOf(p);
  const s = f.signOf(p);
  if (c === CLS_UNSUPPORTED) {
    if (f.invalid()) { f.setIndef(p); f.setIndef(f.pushSlot()); }
  } else if (c === CLS_QNAN || c === CLS_SNAN) {
    if (nan1(f, p, p)) f.copyReg(f.pushSlot(), p);
  } else if (c === CLS_ZERO) {
    f.ex |= SW_ZE;
    if ((f.cw & SW_ZE) !== 0) {
      f.setInf(p, 1);
      f.setZero(f.pushSlot(), s);
    }
  } else if (c === CLS_INF) {
    f.setInf(p, 0);
    f.setInf(f.pushSlot(), s);
  } else if (c !== CLS_DENORMAL || f.denormal()) {
    const e = loadSig(f, p, 0);
    packInt(e);
    f.setExt(p, PK.w, 0);
    const q = f.pushSlot();
    W[0] = OP[0]!; W[1] = OP[1]!; W[2] = 0; W[3] = 0;
    roundToReg(f, q, s, 0, 64); // exact: the significand at exponent 0
  }
  f.commit();
}
