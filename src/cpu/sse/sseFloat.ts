// SSE/SSE2 floating-point lane operations on binary32/binary64 bit patterns (SDM vol. 1
// §4.8, §11.5; vol. 2 ADDPS...UCOMISD). The exact arithmetic and the rounding to a format
// with its denormals, in any MXCSR rounding mode, are the x87 unit's (fpuSig computes an
// exact-or-sticky significand, fpuFormats rounds it with PE/UE/OE/tininess): the only
// differences here are SSE's operand rules — NaN propagation from the first source, the
// QNaN "real indefinite" for invalid operations, MIN/MAX returning the second source,
// DAZ and FZ — and that results are never held in 80 bits. Exception flags accumulate in
// EXF[0] (MXCSR bit positions, which are the x87 status word's) for sseState.commitFlags.

import {
  CLS_INF, CLS_NORMAL, CLS_QNAN, CLS_SNAN, CLS_ZERO, RC_DOWN,
} from '../fpu/fpuConst.js';
import {
  PK, RO, TINY, UA, UB, Unpacked, packDouble, packSingle, roundToInt, unpackDouble, unpackInt, unpackSingle,
} from '../fpu/fpuFormats.js';
import { OP, addSig, divSig, mulSig, sqrtSig } from '../fpu/fpuSig.js';
import { W } from '../fpu/fpuRound.js';
import { MX_DAZ, MX_DE, MX_FZ, MX_IE, MX_MASK_SHIFT, MX_OE, MX_PE, MX_UE, MX_ZE, MX_RC_SHIFT } from './sseState.js';

/** Exception flags raised so far by the current instruction. */
export const EXF = new Int32Array(1);
/** The current instruction's MXCSR (set by setMxcsr before the lanes run). */
let MXCSR = 0x1f80;
let RC = 0;
export function setMxcsr(v: number): void {
  MXCSR = v;
  RC = (v >>> MX_RC_SHIFT) & 3;
  EXF[0] = 0;
  DEN = false;
}

export const OP_ADD = 0, OP_SUB = 1, OP_MUL = 2, OP_DIV = 3, OP_MIN = 4, OP_MAX = 5, OP_SQRT = 6;

/** Binary64 lanes in and out: (lo, hi) words. */
const D = new Uint32Array(4);
/** The result of a binary64 operation (lo, hi). */
export const OUT64 = new Uint32Array(2);
const UR = new Unpacked();

const INDEF32 = 0xffc00000;
const INDEF64_HI = 0xfff80000;

function isDenorm32(x: number): boolean { return (x & 0x7f800000) === 0 && (x & 0x7fffff) !== 0; }
function isDenorm64(hi: number, lo: number): boolean { return (hi & 0x7ff00000) === 0 && ((hi & 0xfffff) | lo) !== 0; }

/** A denormal operand was seen (DE, reported by denormalCheck unless a NaN operand wins). */
let DEN = false;
/** DAZ: a denormal source reads as a zero of its sign (and raises no DE); otherwise it is noted for DE. */
function daz32(x: number): number {
  if (!isDenorm32(x)) return x;
  if ((MXCSR & MX_DAZ) !== 0) return (x & 0x80000000) >>> 0;
  DEN = true;
  return x;
}
function daz64(w: Uint32Array, i: number): void {
  if (!isDenorm64(w[i + 1]!, w[i]!)) return;
  if ((MXCSR & MX_DAZ) !== 0) { w[i + 1] = (w[i + 1]! & 0x80000000) >>> 0; w[i] = 0; return; }
  DEN = true;
}
/** DE for a denormal operand of UA/UB, except when a NaN operand or a division by zero takes
 *  precedence (as the hardware does). */
function denormalCheck(op: number): void {
  if (DEN && !isNan(UA) && !isNan(UB) && !(op === OP_DIV && UB.cls === CLS_ZERO)) EXF[0] |= MX_DE;
  DEN = false;
}

/**
 * Round (-1)^sign × W × 2^exp (W normalized, non-zero; bits below W[1] jammed into its last
 * bit — below any binary64 rounding position) into UR for the packers.
 */
function wToUR(sign: number, exp: number): void {
  UR.s = sign;
  UR.e = exp;
  UR.cls = CLS_NORMAL;
  UR.hi = W[0]!;
  UR.lo = (W[1]! | ((W[2]! | W[3]!) !== 0 ? 1 : 0)) >>> 0;
}

/** Pack UR to the format with the MXCSR rules: flags to EXF, FZ, unmasked-UE tininess. */
function pack(u: Unpacked, single: boolean): void {
  let fl = single ? packSingle(u, RC) : packDouble(u, RC);
  if ((fl & TINY) !== 0) {
    if ((MXCSR & (MX_UE << MX_MASK_SHIFT)) === 0) fl |= MX_UE; // unmasked: tininess alone is an underflow
    else if ((MXCSR & MX_FZ) !== 0) {
      fl |= MX_UE | MX_PE;
      if (single) PK.lo = (PK.lo & 0x80000000) >>> 0;
      else { PK.hi = (PK.hi & 0x80000000) >>> 0; PK.lo = 0; }
    }
  }
  EXF[0] |= fl & (MX_IE | MX_PE | MX_UE | MX_OE);
}

function setZero(single: boolean, sign: number): void {
  if (single) PK.lo = (sign << 31) >>> 0; else { PK.hi = (sign << 31) >>> 0; PK.lo = 0; }
}
function setInf(single: boolean, sign: number): void {
  if (single) PK.lo = ((sign << 31) | 0x7f800000) >>> 0; else { PK.hi = ((sign << 31) | 0x7ff00000) >>> 0; PK.lo = 0; }
}
function setIndef(single: boolean): void {
  EXF[0] |= MX_IE;
  if (single) PK.lo = INDEF32; else { PK.hi = INDEF64_HI; PK.lo = 0; }
}
/** The NaN u quieted (u came from the format `single`). */
function quiet(u: Unpacked, single: boolean): void {
  if (u.cls === CLS_SNAN) EXF[0] |= MX_IE;
  if (single) PK.lo = ((u.s << 31) | 0x7fc00000 | ((u.hi >>> 8) & 0x3fffff)) >>> 0;
  else {
    PK.hi = ((u.s << 31) | 0x7ff80000 | ((u.hi >>> 11) & 0xfffff)) >>> 0;
    PK.lo = ((u.hi << 21) | (u.lo >>> 11)) >>> 0;
  }
}
function isNan(u: Unpacked): boolean { return u.cls === CLS_QNAN || u.cls === CLS_SNAN; }

/** Copy a finite unpacked value to UR (for x ± 0 and the like, which still round onto the format and flush under FZ). */
function copyToUR(u: Unpacked): void {
  UR.s = u.s; UR.e = u.e; UR.cls = u.cls; UR.hi = u.hi; UR.lo = u.lo;
}

/** x op y on UA (x) and UB (y), unpacked from the format `single`; result bits in PK. */
function arith(op: number, single: boolean): void {
  const x = UA, y = UB;
  if (op === OP_SQRT) {
    // the operand is y (the source)
    if (isNan(y)) { quiet(y, single); return; }
    if (y.cls === CLS_ZERO) { setZero(single, y.s); return; }
    if (y.s !== 0) { setIndef(single); return; }
    if (y.cls === CLS_INF) { setInf(single, 0); return; }
    OP[0] = y.hi; OP[1] = y.lo;
    const odd = y.e & 1;
    sqrtSig(odd);
    wToUR(0, (y.e - odd) / 2);
    pack(UR, single);
    return;
  }
  if (op === OP_MIN || op === OP_MAX) {
    // Any NaN (even quiet) is invalid and the second source is the result; so is a tie (±0).
    if (isNan(x) || isNan(y)) { EXF[0] |= MX_IE; return; }
    return; // the caller compares
  }
  if (isNan(x) || isNan(y)) {
    if (x.cls === CLS_SNAN || y.cls === CLS_SNAN) EXF[0] |= MX_IE;
    quiet(isNan(x) ? x : y, single);
    return;
  }
  const sx = x.s;
  let sy = y.s;
  const xInf = x.cls === CLS_INF, yInf = y.cls === CLS_INF, xZero = x.cls === CLS_ZERO, yZero = y.cls === CLS_ZERO;
  if (op === OP_MUL || op === OP_DIV) {
    const s = sx ^ sy;
    if (op === OP_MUL) {
      if ((xZero && yInf) || (xInf && yZero)) { setIndef(single); return; }
      if (xInf || yInf) { setInf(single, s); return; }
      if (xZero || yZero) { setZero(single, s); return; }
      OP[0] = x.hi; OP[1] = x.lo; OP[2] = y.hi; OP[3] = y.lo;
      const e = x.e + y.e + mulSig();
      wToUR(s, e);
    } else {
      if ((xZero && yZero) || (xInf && yInf)) { setIndef(single); return; }
      if (yZero) { if (!xInf) EXF[0] |= MX_ZE; setInf(single, s); return; }
      if (xInf) { setInf(single, s); return; }
      if (xZero || yInf) { setZero(single, s); return; }
      OP[0] = x.hi; OP[1] = x.lo; OP[2] = y.hi; OP[3] = y.lo;
      const e = x.e - y.e + divSig();
      wToUR(s, e);
    }
    pack(UR, single);
    return;
  }
  if (op === OP_SUB) sy ^= 1;
  if (xInf || yInf) {
    if (xInf && yInf && sx !== sy) { setIndef(single); return; }
    setInf(single, xInf ? sx : sy);
    return;
  }
  if (xZero && yZero) { setZero(single, sx === sy ? sx : RC === RC_DOWN ? 1 : 0); return; }
  if (yZero || xZero) {
    copyToUR(yZero ? x : y);
    if (yZero) UR.s = sx; else UR.s = sy;
    pack(UR, single);
    return;
  }
  // the larger magnitude first
  let a = x, b = y, sa = sx, sb = sy;
  if (y.e > x.e || (y.e === x.e && (y.hi > x.hi || (y.hi === x.hi && y.lo > x.lo)))) { a = y; b = x; sa = sy; sb = sx; }
  OP[0] = a.hi; OP[1] = a.lo; OP[2] = b.hi; OP[3] = b.lo;
  const e = addSig(a.e, b.e, sa !== sb);
  if (e !== e) { setZero(single, RC === RC_DOWN ? 1 : 0); return; }
  wToUR(sa, e);
  pack(UR, single);
}

/** Signed comparison of two non-NaN unpacked values: -1, 0, 1. */
function cmpUnpacked(x: Unpacked, y: Unpacked): number {
  const xz = x.cls === CLS_ZERO, yz = y.cls === CLS_ZERO;
  if (xz && yz) return 0;
  if (x.s !== y.s && !(xz || yz)) return x.s !== 0 ? -1 : 1;
  if (xz) return y.s !== 0 ? 1 : -1;
  if (yz) return x.s !== 0 ? -1 : 1;
  // same sign, both non-zero
  let m: number;
  const xi = x.cls === CLS_INF, yi = y.cls === CLS_INF;
  if (xi || yi) m = xi && yi ? 0 : xi ? 1 : -1;
  else if (x.e !== y.e) m = x.e > y.e ? 1 : -1;
  else if (x.hi !== y.hi) m = x.hi > y.hi ? 1 : -1;
  else if (x.lo !== y.lo) m = x.lo > y.lo ? 1 : -1;
  else m = 0;
  return x.s !== 0 ? -m : m;
}

/** One binary32 lane: a op b (for SQRT only b). Returns the result bits. */
export function op32(op: number, a: number, b: number): number {
  if (op !== OP_SQRT) a = daz32(a);
  b = daz32(b);
  unpackSingle(UA, op === OP_SQRT ? 0 : a);
  unpackSingle(UB, b);
  denormalCheck(op);
  if (op === OP_MIN || op === OP_MAX) {
    arith(op, true);
    if (isNan(UA) || isNan(UB)) return b >>> 0;
    const r = cmpUnpacked(UA, UB);
    return (op === OP_MIN ? r < 0 : r > 0) ? a >>> 0 : b >>> 0;
  }
  arith(op, true);
  return PK.lo;
}

/** One binary64 lane: (alo, ahi) op (blo, bhi); the result in OUT64. */
export function op64(op: number, alo: number, ahi: number, blo: number, bhi: number): void {
  D[0] = alo; D[1] = ahi; D[2] = blo; D[3] = bhi;
  if (op !== OP_SQRT) daz64(D, 0);
  daz64(D, 2);
  if (op === OP_SQRT) { D[0] = 0; D[1] = 0; }
  unpackDouble(UA, D, 0);
  unpackDouble(UB, D, 2);
  denormalCheck(op);
  if (op === OP_MIN || op === OP_MAX) {
    arith(op, false);
    let pick = 2;
    if (!isNan(UA) && !isNan(UB)) {
      const r = cmpUnpacked(UA, UB);
      if (op === OP_MIN ? r < 0 : r > 0) pick = 0;
    }
    OUT64[0] = D[pick]!; OUT64[1] = D[pick + 1]!;
    return;
  }
  arith(op, false);
  OUT64[0] = PK.lo; OUT64[1] = PK.hi;
}

/** RCPPS/RSQRTPS lanes: 1/b and 1/sqrt(b) correctly rounded, raising no exception. The
 *  hardware's are approximations within 1.5 × 2^-12 (which these meet exactly, as QEMU's do);
 *  like the hardware they return no denormal: a result that small is a zero of its sign. */
export function approx32(rsqrt: boolean, b: number): number {
  const saved = EXF[0]!;
  let v = b;
  if (rsqrt) v = op32(OP_SQRT, 0, b);
  v = op32(OP_DIV, 0x3f800000, v);
  EXF[0] = saved;
  return (v & 0x7f800000) === 0 ? (v & 0x80000000) >>> 0 : v;
}

// ---------------------------------------------------------------- comparisons

/** CMPccPS/PD predicate (imm8 bits 0-2) on UA, UB: true or false, with IE per the predicate. */
function predicate(p: number): boolean {
  const un = isNan(UA) || isNan(UB);
  if (UA.cls === CLS_SNAN || UB.cls === CLS_SNAN) EXF[0] |= MX_IE;
  else if (un && (p === 1 || p === 2 || p === 5 || p === 6)) EXF[0] |= MX_IE; // LT LE NLT NLE signal on QNaN
  if (un) return p === 3 || p === 4 || p === 5 || p === 6;
  const r = cmpUnpacked(UA, UB);
  switch (p) {
    case 0: return r === 0;
    case 1: return r < 0;
    case 2: return r <= 0;
    case 3: return false;
    case 4: return r !== 0;
    case 5: return !(r < 0);
    case 6: return !(r <= 0);
    default: return true;
  }
}

/** The two operands of a compare into UA and UB (DAZ applied, DE raised for a denormal). */
function compareOperands32(a: number, b: number): void {
  unpackSingle(UA, daz32(a));
  unpackSingle(UB, daz32(b));
  denormalCheck(-1);
}
function compareOperands64(alo: number, ahi: number, blo: number, bhi: number): void {
  D[0] = alo; D[1] = ahi; D[2] = blo; D[3] = bhi;
  daz64(D, 0); daz64(D, 2);
  unpackDouble(UA, D, 0);
  unpackDouble(UB, D, 2);
  denormalCheck(-1);
}

export function cmp32(p: number, a: number, b: number): boolean {
  compareOperands32(a, b);
  return predicate(p & 7);
}

export function cmp64(p: number, alo: number, ahi: number, blo: number, bhi: number): boolean {
  compareOperands64(alo, ahi, blo, bhi);
  return predicate(p & 7);
}

/** (U)COMISS/SD: 0 greater, 1 less, 2 equal, 3 unordered; IE on any NaN (COMI) or an SNaN (UCOMI). */
function compareRel(signalQuiet: boolean): number {
  if (UA.cls === CLS_SNAN || UB.cls === CLS_SNAN) EXF[0] |= MX_IE;
  if (isNan(UA) || isNan(UB)) {
    if (signalQuiet) EXF[0] |= MX_IE;
    return 3;
  }
  const r = cmpUnpacked(UA, UB);
  return r > 0 ? 0 : r < 0 ? 1 : 2;
}
export function comi32(a: number, b: number, signalQuiet: boolean): number {
  compareOperands32(a, b);
  return compareRel(signalQuiet);
}
export function comi64(alo: number, ahi: number, blo: number, bhi: number, signalQuiet: boolean): number {
  compareOperands64(alo, ahi, blo, bhi);
  return compareRel(signalQuiet);
}

// ---------------------------------------------------------------- conversions

/** UA (finite or not) to int32 with rounding control rc: out-of-range and NaN give the integer
 *  indefinite 0x80000000 with IE; an inexact result PE. */
function toInt32(rc: number): number {
  const u = UA;
  if (u.cls === CLS_QNAN || u.cls === CLS_SNAN || u.cls === CLS_INF) { EXF[0] |= MX_IE; return 0x80000000 | 0; }
  if (!roundToInt(u, rc) || RO.hi !== 0 || RO.lo > (u.s !== 0 ? 0x80000000 : 0x7fffffff)) {
    EXF[0] |= MX_IE;
    return 0x80000000 | 0;
  }
  if (RO.inexact) EXF[0] |= MX_PE;
  return u.s !== 0 ? -RO.lo | 0 : RO.lo | 0;
}

/** CVT(T)SS2SI / CVT(T)PS2DQ lane. DAZ applies; no DE (SDM: the conversions raise only IE and PE). */
export function f32ToI32(a: number, chop: boolean): number {
  if (isDenorm32(a) && (MXCSR & MX_DAZ) !== 0) a = (a & 0x80000000) >>> 0;
  unpackSingle(UA, a);
  return toInt32(chop ? 3 : RC);
}
export function f64ToI32(lo: number, hi: number, chop: boolean): number {
  D[0] = lo; D[1] = hi;
  if (isDenorm64(hi, lo) && (MXCSR & MX_DAZ) !== 0) { D[0] = 0; D[1] = (hi & 0x80000000) >>> 0; }
  unpackDouble(UA, D, 0);
  return toInt32(chop ? 3 : RC);
}

function intToUA(v: number): void {
  v |= 0;
  RO.hi = 0;
  RO.lo = v < 0 ? -v >>> 0 : v;
  unpackInt(UA, v < 0 ? 1 : 0);
}
/** int32 → binary32, rounded per MXCSR (PE when inexact). */
export function i32ToF32(v: number): number {
  intToUA(v);
  pack(UA, true);
  return PK.lo;
}
/** int32 → binary64 (exact), into OUT64. */
export function i32ToF64(v: number): void {
  intToUA(v);
  packDouble(UA, RC);
  OUT64[0] = PK.lo; OUT64[1] = PK.hi;
}
/** binary32 → binary64 (exact; SNaN quieted with IE, denormal DE), into OUT64. */
export function f32ToF64(a: number): void {
  unpackSingle(UA, daz32(a));
  if (DEN) { EXF[0] |= MX_DE; DEN = false; }
  if (isNan(UA)) quiet(UA, false);
  else pack(UA, false);
  OUT64[0] = PK.lo; OUT64[1] = PK.hi;
}
/** binary64 → binary32 rounded per MXCSR. */
export function f64ToF32(lo: number, hi: number): number {
  D[0] = lo; D[1] = hi;
  daz64(D, 0);
  unpackDouble(UA, D, 0);
  if (DEN) { EXF[0] |= MX_DE; DEN = false; }
  if (isNan(UA)) quiet(UA, true);
  else pack(UA, true);
  return PK.lo;
}
