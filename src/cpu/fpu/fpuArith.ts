// x87 arithmetic: FADD/FSUB/FSUBR/FMUL/FDIV/FDIVR (all operand forms), FSQRT, FRNDINT, FSCALE,
// FXTRACT, FPREM, FPREM1 (SDM vol. 2 instruction pages; vol. 1 §4.9 exception rules, §8.5).
//
// Results are IEEE doubles (see the precision note in Fpu.ts) rounded in the direction CW.RC
// selects. JavaScript arithmetic rounds to nearest; the exact error of each operation is
// recovered with error-free transformations (TwoSum, Dekker's product, residuals of division
// and square root), which gives the inexact flag, C1 ("rounded up") and the directed roundings.
// Operands that could make those transformations overflow or underflow take a scaled path.

import type { Fpu } from './Fpu.js';
import {
  CLS_INF, CLS_ZERO, EXT_DENORMAL, EXT_MEM_DENORMAL, EXT_NONE, EXT_UNSUPPORTED, F64,
  RC_DOWN, RC_NEAREST, RC_UP, SW_C0, SW_C1, SW_C2, SW_C3, SW_IE, SW_OE, SW_PE, SW_SF, SW_UE, SW_ZE, U32,
} from './fpuConst.js';
import { RO, UA, UB, Unpacked, roundToInt, unpackDouble, unpackInt } from './fpuFormats.js';

export const OP_ADD = 0;
export const OP_MUL = 1;
export const OP_SUB = 4;
export const OP_SUBR = 5;
export const OP_DIV = 6;
export const OP_DIVR = 7;

const T_LO = 2 ** -800;
const T_HI = 2 ** 1000;
const T_SPLIT = 2 ** 995;
const TWO52 = 2 ** 52;
const DBL_MAX = Number.MAX_VALUE;
const SPLITTER = 134217729; // 2^27 + 1

/** Set when the last result must be written from RES (an unmasked #O/#U result outside the
 *  double range) instead of the returned double. */
let resExt = false;
/** Exact result for resExt. */
export const RES = new Unpacked();

function isNeg(x: number): boolean {
  return x < 0 || (x === 0 && 1 / x < 0);
}

/** Unbiased exponent of a normal double. */
function expOf(x: number): number {
  F64[0] = x;
  return ((U32[1]! >>> 20) & 0x7ff) - 1023;
}

/** The true binary exponent of a finite non-zero double (subnormals normalized). */
function trueExp(x: number): number {
  F64[0] = x;
  const e = (U32[1]! >>> 20) & 0x7ff;
  if (e !== 0) return e - 1023;
  F64[0] = x * TWO52 * 4096; // 2^64
  return ((U32[1]! >>> 20) & 0x7ff) - 1023 - 64;
}

let SE = 0;
/** Split a finite non-zero double into m × 2^SE with 1 <= |m| < 2. */
function splitExp(x: number): number {
  F64[0] = x;
  let e = (U32[1]! >>> 20) & 0x7ff;
  if (e === 0) {
    F64[0] = x * TWO52 * 4096;
    e = ((U32[1]! >>> 20) & 0x7ff) - 64;
  }
  U32[1] = (U32[1]! & 0x800fffff) | (1023 << 20);
  SE = e - 1023;
  return F64[0]!;
}

/** x × 2^e for any integer e, exact whenever the result is a normal double. */
function ldexp(x: number, e: number): number {
  while (e > 1000) { x *= T_HI; e -= 1000; }
  while (e < -1000) { x *= 2 ** -1000; e += 1000; }
  return x * 2 ** e;
}

function nextUp(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  F64[0] = x;
  if (x > 0) {
    U32[0] = U32[0]! + 1;
    if (U32[0] === 0) U32[1] = U32[1]! + 1;
  } else {
    if (U32[0] === 0) U32[1] = U32[1]! - 1;
    U32[0] = U32[0]! - 1;
  }
  return F64[0]!;
}

function nextDown(x: number): number {
  return -nextUp(-x);
}

function twoSumErr(x: number, y: number, s: number): number {
  const bb = s - x;
  return (x - (s - bb)) + (y - bb);
}

/** a × b - p exactly (Dekker), for products that neither overflow nor come near underflow. */
function twoProdErr(a: number, b: number, p: number): number {
  let c = SPLITTER * a;
  const ah = c - (c - a);
  const al = a - ah;
  c = SPLITTER * b;
  const bh = c - (c - b);
  const bl = b - bh;
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

/** True if a × b is exactly p (for transcendental results that can be exact). */
export function productExact(a: number, b: number, p: number): boolean {
  if (!Number.isFinite(p)) return false;
  if (a === 0 || b === 0) return true;
  const ap = Math.abs(p);
  if (ap > T_LO && ap < T_HI && Math.abs(a) < T_SPLIT && Math.abs(b) < T_SPLIT) return twoProdErr(a, b, p) === 0;
  return false;
}

/** Sign (-1, 0, 1) of x/y - q, from the exact residual x - q*y. */
function divErrSign(x: number, y: number, q: number): number {
  const p = q * y;
  const r = (x - p) - twoProdErr(q, y, p);
  if (r === 0) return 0;
  return (r > 0) === (y > 0) ? 1 : -1;
}

/** Sign of sqrt(a) - q. */
function sqrtErrSign(a: number, q: number): number {
  const p = q * q;
  const r = (a - p) - twoProdErr(q, q, p);
  return r > 0 ? 1 : r < 0 ? -1 : 0;
}

/** Move the nearest-rounded s one step as directed rounding requires, given the sign of the error. */
function adjust(rc: number, s: number, err: number): number {
  if (rc === RC_NEAREST) return s;
  if (rc === RC_UP) return err > 0 ? nextUp(s) : s;
  if (rc === RC_DOWN) return err < 0 ? nextDown(s) : s;
  if (s > 0 && err < 0) return nextDown(s);
  if (s < 0 && err > 0) return nextUp(s);
  return s;
}

/** C1 for a rounded result: set when |r| exceeds the exact value s + err. */
function roundedUp(s: number, r: number, err: number): number {
  if (r === s) return (s > 0) === (err < 0) ? SW_C1 : 0;
  return (r > s) === (s > 0) ? SW_C1 : 0;
}

function overflowToInf(neg: boolean, rc: number): boolean {
  return rc === RC_NEAREST || (rc === RC_UP && !neg) || (rc === RC_DOWN && neg);
}

/** Deliver a nearest-rounded normal result s whose exact value is s + err (err != 0). */
function finishNormal(f: Fpu, s: number, err: number): number {
  const r = adjust(f.rc(), s, err);
  if (r === Infinity || r === -Infinity) return roundScaled(f, s * 0.5, err, 1);
  f.ex |= SW_PE;
  f.c1 = roundedUp(s, r, err);
  return r;
}

/** Deliver the value (m + err) × 2^E, where m is a normal double rounded to nearest and err's
 *  sign gives the direction of the exact remainder (0: m is exact). Handles directed rounding,
 *  overflow, and tiny results (tininess before rounding), masked or not. */
function roundScaled(f: Fpu, m: number, err: number, E: number): number {
  const rc = f.rc();
  const neg = m < 0;
  const inexact = err !== 0;
  const et = expOf(m) + E;
  if (et >= -1022) {
    const r = inexact ? adjust(rc, m, err) : m;
    const c1 = inexact ? roundedUp(m, r, err) : 0;
    if (expOf(r) + E > 1023) {
      if ((f.cw & SW_OE) !== 0) {
        f.ex |= SW_OE | SW_PE;
        const toInf = overflowToInf(neg, rc);
        f.c1 = toInf ? SW_C1 : 0;
        return toInf ? (neg ? -Infinity : Infinity) : neg ? -DBL_MAX : DBL_MAX;
      }
      f.ex |= SW_OE | (inexact ? SW_PE : 0);
      f.c1 = c1;
      return deliverExt(r, E);
    }
    if (inexact) f.ex |= SW_PE;
    f.c1 = c1;
    return ldexp(r, E);
  }
  if ((f.cw & SW_UE) === 0) {
    // unmasked underflow: the handler sees the 53-bit result at its true exponent
    const r = inexact ? adjust(rc, m, err) : m;
    f.ex |= SW_UE | (inexact ? SW_PE : 0);
    f.c1 = inexact ? roundedUp(m, r, err) : 0;
    return deliverExt(r, E);
  }
  // masked underflow: round onto the denormal grid (multiples of 2^-1074)
  const errMag = neg ? -err : err;
  let fl = 0, frac = 0, far = false;
  if (et + 1074 < -2) far = true;
  else {
    const t = Math.abs(m) * 2 ** (E + 1074); // exact: t >= 1/8
    fl = Math.floor(t);
    frac = t - fl;
  }
  const away = rc === RC_UP ? !neg : rc === RC_DOWN ? neg : false;
  let k: number;
  if (far) k = rc !== RC_NEAREST && away ? 1 : 0;
  else if (rc === RC_NEAREST) {
    if (frac > 0.5) k = fl + 1;
    else if (frac < 0.5) k = fl;
    else k = errMag > 0 ? fl + 1 : errMag < 0 ? fl : fl % 2 === 0 ? fl : fl + 1;
  } else if (away) k = frac > 0 || errMag > 0 ? fl + 1 : fl;
  else k = frac === 0 && errMag < 0 ? fl - 1 : fl;
  const inexactT = far || frac !== 0 || inexact;
  if (inexactT) {
    f.ex |= SW_UE | SW_PE;
    f.c1 = k > fl || (k === fl && !far && frac === 0 && errMag < 0) ? SW_C1 : 0;
  } else f.c1 = 0;
  const r = k * Number.MIN_VALUE;
  return neg ? -r : r;
}

function deliverExt(r: number, E: number): number {
  F64[0] = r;
  unpackDouble(RES, U32, 0);
  RES.e += E;
  resExt = true;
  return 0;
}

// ---------------------------------------------------------------- basic operations

function addRound(f: Fpu, x: number, y: number): number {
  if (x === Infinity || x === -Infinity) return x;
  if (y === Infinity || y === -Infinity) return y;
  const s = x + y;
  if (s === 0) {
    if (f.rc() === RC_DOWN) return x === 0 && y === 0 && !isNeg(x) && !isNeg(y) ? 0 : -0;
    return x === 0 && y === 0 && isNeg(x) && isNeg(y) ? -0 : 0;
  }
  if (s === Infinity || s === -Infinity) {
    const xs = x * 0.25, ys = y * 0.25;
    const m = xs + ys;
    return roundScaled(f, m, twoSumErr(xs, ys, m), 2);
  }
  const err = twoSumErr(x, y, s);
  if (err === 0) {
    // exact; a tiny exact result still signals an unmasked underflow
    if (Math.abs(s) < 2 ** -1022 && (f.cw & SW_UE) === 0) f.ex |= SW_UE;
    return s;
  }
  return finishNormal(f, s, err);
}

function mulRound(f: Fpu, a: number, b: number): number {
  if (a === 0 || b === 0 || !Number.isFinite(a) || !Number.isFinite(b)) return a * b;
  const p = a * b;
  const ap = Math.abs(p);
  if (ap > T_LO && ap < T_HI && Math.abs(a) < T_SPLIT && Math.abs(b) < T_SPLIT) {
    const err = twoProdErr(a, b, p);
    return err === 0 ? p : finishNormal(f, p, err);
  }
  const ma = splitExp(a);
  const ea = SE;
  const mb = splitExp(b);
  const eb = SE;
  const pm = ma * mb;
  return roundScaled(f, pm, twoProdErr(ma, mb, pm), ea + eb);
}

function divRound(f: Fpu, x: number, y: number): number {
  if (x === 0 || !Number.isFinite(x) || !Number.isFinite(y)) return x / y;
  const q = x / y;
  const aq = Math.abs(q), ax = Math.abs(x), ay = Math.abs(y);
  if (aq > T_LO && aq < T_HI && ax > T_LO && ax < T_SPLIT && ay > T_LO && ay < T_SPLIT) {
    const err = divErrSign(x, y, q);
    return err === 0 ? q : finishNormal(f, q, err);
  }
  const mx = splitExp(x);
  const ex = SE;
  const my = splitExp(y);
  const ey = SE;
  const qm = mx / my;
  return roundScaled(f, qm, divErrSign(mx, my, qm), ex - ey);
}

function sqrtRound(f: Fpu, a: number): number {
  const q = Math.sqrt(a);
  if (a > T_LO && a < T_SPLIT) {
    const err = sqrtErrSign(a, q);
    return err === 0 ? q : finishNormal(f, q, err);
  }
  let m = splitExp(a);
  let e = SE;
  if ((e & 1) !== 0) { m *= 2; e -= 1; }
  const qm = Math.sqrt(m);
  return roundScaled(f, qm, sqrtErrSign(m, qm), e / 2);
}

// ---------------------------------------------------------------- NaNs and invalid operations

/** Masked #IA: write the indefinite to dst. Returns false if #IA is unmasked (no result). */
export function invalidResult(f: Fpu, dst: number): boolean {
  if (!f.invalid()) return false;
  f.setIndef(dst);
  return true;
}

/** NaN operand(s): SNaN raises #IA; the result is the QNaN chosen as in SDM vol. 1 table 4-7
 *  (x87: the larger significand when both are NaNs of the same kind, the QNaN over an SNaN). */
export function nanResult(f: Fpu, dst: number, a: number, b: number): boolean {
  F64[0] = a;
  const ah = U32[1]!, al = U32[0]!;
  F64[0] = b;
  const bh = U32[1]!, bl = U32[0]!;
  const aNaN = a !== a, bNaN = b !== b;
  const aS = aNaN && (ah & 0x80000) === 0;
  const bS = bNaN && (bh & 0x80000) === 0;
  if ((aS || bS) && !f.invalid()) return false;
  let pickA: boolean;
  if (aNaN && bNaN && aS === bS) {
    const am = ah & 0xfffff, bm = bh & 0xfffff;
    if (am !== bm) pickA = am > bm;
    else if (al !== bl) pickA = al > bl;
    else pickA = (ah >>> 31) < (bh >>> 31); // equal significands: the positive one, else the second (as Bochs)
  } else if (aNaN && bNaN) pickA = bS; // the quiet one
  else pickA = aNaN;
  if (pickA) f.setBits(dst, ah | 0x80000, al);
  else f.setBits(dst, bh | 0x80000, bl);
  return true;
}

/** One NaN operand in physical register p (result to dst): SNaN raises #IA and is quieted. */
export function nan1(f: Fpu, dst: number, a: number): boolean {
  F64[0] = a;
  const h = U32[1]!, l = U32[0]!;
  if ((h & 0x80000) === 0 && !f.invalid()) return false;
  f.setBits(dst, h | 0x80000, l);
  return true;
}

function writeResult(f: Fpu, dst: number, r: number): void {
  if (resExt) {
    resExt = false;
    f.setU(dst, RES);
  } else f.setD(dst, r);
}

// ---------------------------------------------------------------- instructions

/** dst := dst op src (registers or the operand slot; op: ModRM reg field 0 ADD, 1 MUL, 4 SUB,
 *  5 SUBR, 6 DIV, 7 DIVR). Shadow kinds: EXT_UNSUPPORTED raises #IA, the denormal kinds #D.
 *  Returns false when an unmasked pre-computation exception (#IA, #D, #Z) leaves the destination
 *  (and the stack) alone. */
export function arith(f: Fpu, op: number, dst: number, src: number): boolean {
  resExt = false;
  const a = f.st[dst]!, b = f.st[src]!;
  const ka = f.ext[dst]!, kb = f.ext[src]!;
  if (ka === EXT_UNSUPPORTED || kb === EXT_UNSUPPORTED) return invalidResult(f, dst);
  const den = ka === EXT_DENORMAL || kb === EXT_DENORMAL || kb === EXT_MEM_DENORMAL;
  let r: number;
  if (op === OP_DIV || op === OP_DIVR) {
    const x = op === OP_DIV ? a : b, y = op === OP_DIV ? b : a;
    if (x !== x || y !== y) return nanResult(f, dst, x, y);
    const xInf = x === Infinity || x === -Infinity, yInf = y === Infinity || y === -Infinity;
    if ((x === 0 && y === 0) || (xInf && yInf)) return invalidResult(f, dst);
    if (den && !f.denormal()) return false;
    if (y === 0) {
      f.ex |= SW_ZE;
      if ((f.cw & SW_ZE) === 0) return false;
      r = isNeg(x) !== isNeg(y) ? -Infinity : Infinity;
    } else r = divRound(f, x, y);
  } else if (op === OP_MUL) {
    if (a !== a || b !== b) return nanResult(f, dst, a, b);
    if ((a === 0 && (b === Infinity || b === -Infinity)) || (b === 0 && (a === Infinity || a === -Infinity))) {
      return invalidResult(f, dst);
    }
    if (den && !f.denormal()) return false;
    r = mulRound(f, a, b);
  } else {
    const x = op === OP_SUBR ? b : a, y = op === OP_SUBR ? a : b;
    if (x !== x || y !== y) return nanResult(f, dst, x, y);
    const yy = op === OP_ADD ? y : -y;
    if ((x === Infinity && yy === -Infinity) || (x === -Infinity && yy === Infinity)) return invalidResult(f, dst);
    if (den && !f.denormal()) return false;
    r = addRound(f, x, yy);
  }
  writeResult(f, dst, r);
  return true;
}

/** Common prologue for one-operand instructions on ST(0): handles an empty ST(0), unsupported
 *  encodings and NaNs. Returns true when the instruction is finished. */
export function unaryPrologue(f: Fpu, p: number): boolean {
  if (f.isEmpty(p)) {
    if (f.underflow()) f.setIndef(p);
    return true;
  }
  if (f.ext[p] === EXT_UNSUPPORTED) {
    invalidResult(f, p);
    return true;
  }
  const v = f.st[p]!;
  if (v !== v) {
    nan1(f, p, v);
    return true;
  }
  return false;
}

/** FSQRT. */
export function fsqrt(f: Fpu): void {
  const p = f.top;
  resExt = false;
  if (!unaryPrologue(f, p)) {
    const v = f.st[p]!;
    if (v < 0) invalidResult(f, p); // −0 is fine: sqrt(−0) = −0
    else if ((f.ext[p] !== EXT_DENORMAL || f.denormal()) && v !== 0 && v !== Infinity) {
      if (v > T_LO && v < T_SPLIT && f.rc() === RC_NEAREST) {
        // the common case kept in this function (no doubles passed to calls that may not inline)
        const q = Math.sqrt(v);
        const sq = q * q;
        const r = (v - sq) - twoProdErr(q, q, sq);
        if (r !== 0) {
          f.ex |= SW_PE;
          f.c1 = r < 0 ? SW_C1 : 0; // q exceeds the exact root
        }
        f.setD(p, q);
      } else writeResult(f, p, sqrtRound(f, v));
    }
  }
  f.commit();
}

/** FRNDINT: round ST(0) to an integer per RC. */
export function frndint(f: Fpu): void {
  const p = f.top;
  if (unaryPrologue(f, p)) { f.commit(); return; }
  const k = f.ext[p]!;
  if (k === EXT_DENORMAL && !f.denormal()) { f.commit(); return; }
  if (k === EXT_NONE) {
    const x = f.st[p]!;
    if (x === 0 || !Number.isFinite(x) || Math.abs(x) >= TWO52) { f.commit(); return; }
    const fl = Math.floor(x);
    const frac = x - fl;
    if (frac === 0) { f.commit(); return; }
    let r: number;
    switch (f.rc()) {
      case RC_NEAREST: r = frac > 0.5 ? fl + 1 : frac < 0.5 ? fl : fl % 2 === 0 ? fl : fl + 1; break;
      case RC_DOWN: r = fl; break;
      case RC_UP: r = fl + 1; break;
      default: r = x > 0 ? fl : fl + 1; break;
    }
    if (r === 0) r = x < 0 ? -0 : 0;
    f.ex |= SW_PE;
    f.c1 = Math.abs(r) > Math.abs(x) ? SW_C1 : 0;
    f.setD(p, r);
    f.commit();
    return;
  }
  // a register holding an exact 80-bit value: round that value
  f.unpackReg(UA, p);
  if (UA.cls === CLS_INF || UA.cls === CLS_ZERO || !roundToInt(UA, f.rc()) || !RO.inexact) { f.commit(); return; }
  f.ex |= SW_PE;
  f.c1 = RO.up ? SW_C1 : 0;
  unpackInt(UB, UA.s);
  f.setU(p, UB);
  f.commit();
}

/** FSCALE: ST(0) := ST(0) × 2^trunc(ST(1)). */
export function fscale(f: Fpu): void {
  const p0 = f.top, p1 = (f.top + 1) & 7;
  resExt = false;
  if (f.isEmpty(p0) || f.isEmpty(p1)) {
    if (f.underflow()) f.setIndef(p0);
    f.commit();
    return;
  }
  const ka = f.ext[p0]!, kb = f.ext[p1]!;
  const a = f.st[p0]!, b = f.st[p1]!;
  if (ka === EXT_UNSUPPORTED || kb === EXT_UNSUPPORTED) { invalidResult(f, p0); f.commit(); return; }
  if (a !== a || b !== b) { nanResult(f, p0, a, b); f.commit(); return; }
  const aInf = a === Infinity || a === -Infinity;
  if (b === Infinity) {
    if (a === 0) invalidResult(f, p0);
    else if (!aInf && (ka !== EXT_DENORMAL || f.denormal())) f.setD(p0, a > 0 ? Infinity : -Infinity);
    f.commit();
    return;
  }
  if (b === -Infinity) {
    if (aInf) invalidResult(f, p0);
    else if (a !== 0 && (ka !== EXT_DENORMAL || f.denormal())) f.setD(p0, a > 0 ? 0 : -0);
    f.commit();
    return;
  }
  if ((ka === EXT_DENORMAL || kb === EXT_DENORMAL) && !f.denormal()) { f.commit(); return; }
  if (a === 0 || aInf) { f.commit(); return; }
  let n = Math.trunc(b);
  if (n > 100000) n = 100000;
  else if (n < -100000) n = -100000;
  const m = splitExp(a);
  writeResult(f, p0, roundScaled(f, m, 0, SE + n));
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
  const k = f.ext[p]!;
  const v = f.st[p]!;
  if (k === EXT_UNSUPPORTED) {
    if (f.invalid()) { f.setIndef(p); f.setIndef(f.pushSlot()); }
    f.commit();
    return;
  }
  if (v !== v) {
    if (nan1(f, p, v)) f.copyReg(f.pushSlot(), p);
    f.commit();
    return;
  }
  if (v === 0) {
    f.ex |= SW_ZE;
    if ((f.cw & SW_ZE) !== 0) {
      const neg = isNeg(v);
      f.setD(p, -Infinity);
      f.setD(f.pushSlot(), neg ? -0 : 0);
    }
    f.commit();
    return;
  }
  if (v === Infinity || v === -Infinity) {
    f.setD(p, Infinity);
    f.setD(f.pushSlot(), v);
    f.commit();
    return;
  }
  if (k === EXT_DENORMAL && !f.denormal()) { f.commit(); return; }
  f.unpackReg(UA, p);
  const e = UA.e;
  UA.e = 0;
  f.setD(p, e);
  f.setU(f.pushSlot(), UA);
  f.commit();
}

/** FPREM (ieee=false: truncated quotient) and FPREM1 (ieee=true: quotient rounded to nearest). */
export function fprem(f: Fpu, ieee: boolean): void {
  const p0 = f.top, p1 = (f.top + 1) & 7;
  f.c1 = 0;
  let cc = f.sw & (SW_C0 | SW_C3); // C1 and C2 cleared unless set below
  if (f.isEmpty(p0) || f.isEmpty(p1)) {
    if (f.underflow()) f.setIndef(p0);
    f.commitCC(cc);
    return;
  }
  const ka = f.ext[p0]!, kb = f.ext[p1]!;
  const a = f.st[p0]!, b = f.st[p1]!;
  if (ka === EXT_UNSUPPORTED || kb === EXT_UNSUPPORTED) { invalidResult(f, p0); f.commitCC(cc); return; }
  if (a !== a || b !== b) { nanResult(f, p0, a, b); f.commitCC(cc); return; }
  if (a === Infinity || a === -Infinity || b === 0) { invalidResult(f, p0); f.commitCC(cc); return; }
  if ((ka === EXT_DENORMAL || kb === EXT_DENORMAL) && !f.denormal()) { f.commitCC(cc); return; }
  if (b === Infinity || b === -Infinity || a === 0) {
    f.commitCC(0); // result = ST(0), quotient 0
    return;
  }
  const A = Math.abs(a), B = Math.abs(b);
  const d = trueExp(A) - trueExp(B);
  let r: number;
  if (d >= 64) {
    // partial remainder: reduce the exponent by N = 32..63 (N = 32 + d mod 32, as Bochs)
    const n = 32 + (d & 31);
    r = A % ldexp(B, d - n);
    cc = SW_C2;
  } else {
    let q = 0;
    r = A;
    const b8 = B * 8;
    if (b8 !== Infinity) r = r % b8;
    const b4 = B * 4;
    if (r >= b4) { r -= b4; q |= 4; }
    const b2 = B * 2;
    if (r >= b2) { r -= b2; q |= 2; }
    if (r >= B) { r -= B; q |= 1; }
    if (ieee) {
      const rest = B - r;
      if (r > rest || (r === rest && (q & 1) !== 0)) {
        r -= B;
        q = (q + 1) & 7;
      }
    }
    cc = ((q & 4) !== 0 ? SW_C0 : 0) | ((q & 2) !== 0 ? SW_C3 : 0) | ((q & 1) !== 0 ? SW_C1 : 0);
  }
  if (a < 0) r = -r;
  if (r === 0) r = a < 0 ? -0 : 0;
  f.setD(p0, r);
  if (r !== 0 && Math.abs(r) < 2 ** -1022 && (f.cw & SW_UE) === 0) f.ex |= SW_UE;
  f.commitCC(cc);
}

