// x87 data formats: 80-bit double extended, binary32/64, 16/32/64-bit integers and 18-digit
// packed BCD (SDM vol. 1 §4.2, §4.7, §4.8, §8.2). All conversions work on an "unpacked" value
// (sign, 64-bit significand as two uint32 halves, unbiased exponent of the significand's top
// bit, class) held in preallocated objects, so nothing here allocates or uses BigInt.

import {
  BIAS, CLS_DENORMAL, CLS_INF, CLS_NORMAL, CLS_QNAN, CLS_SNAN, CLS_UNSUPPORTED, CLS_ZERO, INDEF64_HI,
  RC_DOWN, RC_NEAREST, RC_UP, SW_C1, SW_IE, SW_OE, SW_PE, SW_UE,
} from './fpuConst.js';

/** An unpacked value: (-1)^s × (hi:lo / 2^63) × 2^e. Finite non-zero values are normalized
 *  (bit 31 of hi set). NaNs/infinities/unsupported encodings keep their raw significand. */
export class Unpacked {
  s = 0;
  e = 0;
  cls = CLS_ZERO;
  /** Significand halves. 32-bit values live in typed storage: a plain object field holding a
   *  number above 2^30 would allocate a heap number on every store. */
  readonly w = new Uint32Array(2);
  get hi(): number { return this.w[0]!; }
  set hi(v: number) { this.w[0] = v; }
  get lo(): number { return this.w[1]!; }
  set lo(v: number) { this.w[1] = v; }
}

/** Output of the rounding helpers: an integer significand hi:lo and how it was rounded. */
export class RoundOut {
  inexact = false;
  /** The magnitude was incremented (x87 "rounded up", reported in C1). */
  up = false;
  readonly w = new Uint32Array(2);
  get hi(): number { return this.w[0]!; }
  set hi(v: number) { this.w[0] = v; }
  get lo(): number { return this.w[1]!; }
  set lo(v: number) { this.w[1] = v; }
}

/** Packed output: binary64 bits (hi, lo), binary32 bits (lo), or an 80-bit image (se, hi, lo). */
export class PackOut {
  readonly w = new Uint32Array(3);
  get se(): number { return this.w[0]!; }
  set se(v: number) { this.w[0] = v; }
  get hi(): number { return this.w[1]!; }
  set hi(v: number) { this.w[1] = v; }
  get lo(): number { return this.w[2]!; }
  set lo(v: number) { this.w[2] = v; }
}

/** Scratch values, one set per thread; each use is confined to one call. */
export const UA = new Unpacked();
export const UB = new Unpacked();
export const RO = new RoundOut();
export const PK = new PackOut();

/** Flag bit (outside the status word) set by the packers for a tiny result, for unmasked #U. */
export const TINY = 0x10000;

function normalize(u: Unpacked): void {
  let hi = u.hi, lo = u.lo;
  const n = hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo);
  if (n === 0) return;
  if (n >= 32) {
    hi = lo << (n - 32);
    lo = 0;
  } else {
    hi = (hi << n) | (lo >>> (32 - n));
    lo <<= n;
  }
  u.hi = hi >>> 0;
  u.lo = lo >>> 0;
  u.e -= n;
}

/** Unpack the binary64 bits at w[i] (low word) and w[i+1] (high word). Double subnormals are
 *  normal numbers in the 80-bit format. (Words are read from the array rather than passed: large
 *  uint32 arguments would be boxed on every call.) */
export function unpackDouble(u: Unpacked, w: Uint32Array, i: number): void {
  const dh = w[i + 1]!, dl = w[i]!;
  u.s = dh >>> 31;
  const exp = (dh >>> 20) & 0x7ff;
  const fh = dh & 0xfffff;
  u.hi = ((fh << 11) | (dl >>> 21)) >>> 0;
  u.lo = (dl << 11) >>> 0;
  if (exp === 0x7ff) {
    u.e = 16384;
    u.hi = (u.hi | 0x80000000) >>> 0;
    u.cls = (fh | dl) === 0 ? CLS_INF : (fh & 0x80000) !== 0 ? CLS_QNAN : CLS_SNAN;
    return;
  }
  if (exp === 0) {
    if ((fh | dl) === 0) {
      u.e = 0;
      u.cls = CLS_ZERO;
      return;
    }
    u.e = -1022;
    u.cls = CLS_NORMAL;
    normalize(u);
    return;
  }
  u.hi = (u.hi | 0x80000000) >>> 0;
  u.e = exp - 1023;
  u.cls = CLS_NORMAL;
}

/** Unpack binary32 bits. */
export function unpackSingle(u: Unpacked, bits: number): void {
  u.s = bits >>> 31;
  const exp = (bits >>> 23) & 0xff;
  const f = bits & 0x7fffff;
  u.hi = (f << 8) >>> 0;
  u.lo = 0;
  if (exp === 0xff) {
    u.e = 16384;
    u.hi = (u.hi | 0x80000000) >>> 0;
    u.cls = f === 0 ? CLS_INF : (f & 0x400000) !== 0 ? CLS_QNAN : CLS_SNAN;
    return;
  }
  if (exp === 0) {
    if (f === 0) {
      u.e = 0;
      u.cls = CLS_ZERO;
      return;
    }
    u.e = -126;
    u.cls = CLS_NORMAL;
    normalize(u);
    return;
  }
  u.hi = (u.hi | 0x80000000) >>> 0;
  u.e = exp - 127;
  u.cls = CLS_NORMAL;
}

/** Unpack the 80-bit image at w[i] (sign and biased exponent), w[i+1]:w[i+2] (the explicit 64-bit
 *  significand, high and low halves). */
export function unpackExt(u: Unpacked, w: Uint32Array, i: number): void {
  const se = w[i]!, hi = w[i + 1]!, lo = w[i + 2]!;
  u.s = (se >>> 15) & 1;
  const exp = se & 0x7fff;
  u.hi = hi >>> 0;
  u.lo = lo >>> 0;
  if (exp === 0x7fff) {
    u.e = 16384;
    if ((hi & 0x80000000) === 0) u.cls = CLS_UNSUPPORTED; // pseudo-NaN / pseudo-infinity
    else if (((hi & 0x7fffffff) | lo) === 0) u.cls = CLS_INF;
    else u.cls = (hi & 0x40000000) !== 0 ? CLS_QNAN : CLS_SNAN;
    return;
  }
  if (exp === 0) {
    if ((hi | lo) === 0) {
      u.e = 0;
      u.cls = CLS_ZERO;
      return;
    }
    // Denormal, or pseudo-denormal (integer bit set): both mean significand × 2^-16382.
    u.e = -16382;
    u.cls = CLS_DENORMAL;
    normalize(u);
    return;
  }
  u.e = exp - 16383;
  // An integer bit of 0 with a non-zero exponent is an unnormal (or pseudo-zero): unsupported since the 387.
  u.cls = (hi & 0x80000000) !== 0 ? CLS_NORMAL : CLS_UNSUPPORTED;
}

/** Class (CLS_*) of the 80-bit image at w[i] (sign|exponent), w[i+1]:w[i+2] (significand). */
export function classOfImage(w: Uint32Array, i: number): number {
  const e = w[i]! & 0x7fff, hi = w[i + 1]!;
  if (e === 0) return (hi | w[i + 2]!) === 0 ? CLS_ZERO : CLS_DENORMAL;
  if ((hi & 0x80000000) === 0) return CLS_UNSUPPORTED; // unnormal, pseudo-zero, pseudo-NaN, pseudo-infinity
  if (e !== 0x7fff) return CLS_NORMAL;
  if (((hi & 0x7fffffff) | w[i + 2]!) === 0) return CLS_INF;
  return (hi & 0x40000000) !== 0 ? CLS_QNAN : CLS_SNAN;
}

/** Shift u's 64-bit significand right by n (n >= 0, any size) and round the result to an
 *  integer with rounding control rc (the sign is u.s). Result in RO. */
export function shrRound(u: Unpacked, n: number, rc: number): void {
  const hi = u.w[0]!, lo = u.w[1]!;
  const neg = u.s !== 0;
  let rh: number, rl: number, half: number, sticky: number;
  if (n === 0) {
    rh = hi; rl = lo; half = 0; sticky = 0;
  } else if (n < 32) {
    rl = ((lo >>> n) | (hi << (32 - n))) >>> 0;
    rh = hi >>> n;
    half = (lo >>> (n - 1)) & 1;
    sticky = n > 1 ? lo << (33 - n) : 0;
  } else if (n === 32) {
    rl = hi >>> 0; rh = 0; half = lo >>> 31; sticky = lo & 0x7fffffff;
  } else if (n < 64) {
    const k = n - 32;
    rl = hi >>> k; rh = 0;
    half = (hi >>> (k - 1)) & 1;
    sticky = (k > 1 ? hi << (33 - k) : 0) | lo;
  } else if (n === 64) {
    rl = 0; rh = 0; half = hi >>> 31; sticky = (hi & 0x7fffffff) | lo;
  } else {
    rl = 0; rh = 0; half = 0; sticky = hi | lo;
  }
  const inexact = half !== 0 || sticky !== 0;
  let inc = false;
  if (inexact) {
    if (rc === RC_NEAREST) inc = half !== 0 && (sticky !== 0 || (rl & 1) !== 0);
    else if (rc === RC_DOWN) inc = neg;
    else if (rc === RC_UP) inc = !neg;
  }
  if (inc) {
    rl = (rl + 1) >>> 0;
    if (rl === 0) rh = (rh + 1) >>> 0;
  }
  RO.hi = rh >>> 0;
  RO.lo = rl;
  RO.inexact = inexact;
  RO.up = inc;
}

let RFLAGS = 0;

/** Round a finite non-zero normalized value to p bits for a format whose normal exponents are
 *  [emin, emax]. Tininess is detected after rounding with an unbounded exponent (SDM vol. 1
 *  §4.9.1.5), and a tiny value is then rounded onto the format's denormal grid. RO receives the
 *  significand (leading bit at p-1). Returns the result exponent: emin-1 for a denormal result (RO
 *  then holds the denormal significand, which may have rounded up to 2^(p-1), the smallest normal),
 *  emax+1 on overflow. RFLAGS receives PE, UE (tiny and inexact), OE, TINY and C1 (rounded up). */
function roundSig(u: Unpacked, p: number, emin: number, emax: number, rc: number): number {
  let e = u.e;
  let fl = 0;
  shrRound(u, 64 - p, rc);
  const carry = p > 32 ? (RO.hi >>> (p - 32)) & 1 : (RO.lo >>> p) & 1;
  if (carry !== 0) {
    if (p > 32) { RO.hi = (1 << (p - 33)) >>> 0; RO.lo = 0; } else { RO.hi = 0; RO.lo = (1 << (p - 1)) >>> 0; }
    e++;
  }
  if (e >= emin) {
    if (RO.inexact) fl |= SW_PE;
    if (RO.up) fl |= SW_C1;
    if (e > emax) {
      RFLAGS = fl | SW_OE | SW_PE;
      return emax + 1;
    }
    RFLAGS = fl;
    return e;
  }
  shrRound(u, 64 - p + (emin - u.e), rc);
  fl |= TINY;
  if (RO.inexact) fl |= SW_PE | SW_UE;
  if (RO.up) fl |= SW_C1;
  RFLAGS = fl;
  return emin - 1;
}

/** Masked overflow goes to infinity when rounding away from zero in the value's direction. */
function overflowToInf(neg: boolean, rc: number): boolean {
  return rc === RC_NEAREST || (rc === RC_UP && !neg) || (rc === RC_DOWN && neg);
}

/** Convert to binary64 bits in PK.hi/PK.lo with rounding control rc. Returns the exception flags
 *  the conversion raises (IE for SNaN/unsupported, PE, UE when tiny and inexact, OE, TINY, C1),
 *  with the masked response in PK. NaNs come out quieted. */
export function packDouble(u: Unpacked, rc: number): number {
  const sgn = u.s << 31;
  switch (u.cls) {
    case CLS_ZERO: PK.hi = sgn >>> 0; PK.lo = 0; return 0;
    case CLS_INF: PK.hi = (sgn | 0x7ff00000) >>> 0; PK.lo = 0; return 0;
    case CLS_QNAN:
    case CLS_SNAN:
      PK.hi = (sgn | 0x7ff80000 | ((u.hi >>> 11) & 0xfffff)) >>> 0;
      PK.lo = ((u.hi << 21) | (u.lo >>> 11)) >>> 0;
      return u.cls === CLS_SNAN ? SW_IE : 0;
    case CLS_UNSUPPORTED: PK.hi = INDEF64_HI >>> 0; PK.lo = 0; return SW_IE;
  }
  const e = roundSig(u, 53, -1022, 1023, rc);
  let fl = RFLAGS;
  if (e > 1023) {
    if (overflowToInf(u.s !== 0, rc)) { PK.hi = (sgn | 0x7ff00000) >>> 0; PK.lo = 0; fl |= SW_C1; }
    else { PK.hi = (sgn | 0x7fefffff) >>> 0; PK.lo = 0xffffffff; fl &= ~SW_C1; }
    return fl;
  }
  if (e < -1022) PK.hi = (sgn | RO.hi) >>> 0;
  else PK.hi = (sgn | ((e + 1023) << 20) | (RO.hi & 0xfffff)) >>> 0;
  PK.lo = RO.lo;
  return fl;
}

/** Convert to binary32 bits in PK.lo; flags as packDouble. */
export function packSingle(u: Unpacked, rc: number): number {
  const sgn = u.s << 31;
  switch (u.cls) {
    case CLS_ZERO: PK.lo = sgn >>> 0; return 0;
    case CLS_INF: PK.lo = (sgn | 0x7f800000) >>> 0; return 0;
    case CLS_QNAN:
    case CLS_SNAN:
      PK.lo = (sgn | 0x7fc00000 | ((u.hi >>> 8) & 0x3fffff)) >>> 0;
      return u.cls === CLS_SNAN ? SW_IE : 0;
    case CLS_UNSUPPORTED: PK.lo = 0xffc00000; return SW_IE;
  }
  const e = roundSig(u, 24, -126, 127, rc);
  let fl = RFLAGS;
  if (e > 127) {
    if (overflowToInf(u.s !== 0, rc)) { PK.lo = (sgn | 0x7f800000) >>> 0; fl |= SW_C1; }
    else { PK.lo = (sgn | 0x7f7fffff) >>> 0; fl &= ~SW_C1; }
    return fl;
  }
  if (e < -126) PK.lo = (sgn | RO.lo) >>> 0;
  else PK.lo = (sgn | ((e + 127) << 23) | (RO.lo & 0x7fffff)) >>> 0;
  return fl;
}

/** Encode as an 80-bit image in PK (se, hi, lo). For values in the 80-bit normal range (every
 *  caller's) and for the special classes, which keep their significand. */
export function packExt(u: Unpacked): void {
  const s = u.s << 15;
  switch (u.cls) {
    case CLS_ZERO: PK.se = s; PK.hi = 0; PK.lo = 0; return;
    case CLS_INF: PK.se = s | 0x7fff; PK.hi = 0x80000000; PK.lo = 0; return;
    case CLS_QNAN:
    case CLS_SNAN:
    case CLS_UNSUPPORTED:
      PK.se = s | ((u.e + BIAS) & 0x7fff); PK.hi = u.hi; PK.lo = u.lo; return;
  }
  PK.se = s | (u.e + BIAS);
  PK.hi = u.hi;
  PK.lo = u.lo;
}

/** Encode the integer v (|v| <= 2^32) exactly as an 80-bit image in PK. */
export function packInt(v: number): void {
  const m = v < 0 ? -v : v;
  PK.lo = 0;
  if (m === 0) { PK.se = 0; PK.hi = 0; return; }
  if (m >= 4294967296) { PK.se = (v < 0 ? 0x8000 : 0) | (BIAS + 32); PK.hi = 0x80000000; return; }
  const n = Math.clz32(m);
  PK.se = (v < 0 ? 0x8000 : 0) | (BIAS + 31 - n);
  PK.hi = (m << n) >>> 0;
}

/** Round a finite value to an integer magnitude in RO with rounding control rc. Returns false if
 *  the magnitude is 2^64 or more (too large for any integer format). */
export function roundToInt(u: Unpacked, rc: number): boolean {
  if (u.cls === CLS_ZERO) {
    RO.hi = 0; RO.lo = 0; RO.inexact = false; RO.up = false;
    return true;
  }
  const n = 63 - u.e;
  if (n < 0) return false;
  shrRound(u, n, rc);
  return true;
}

/** Unpack the non-negative 64-bit integer magnitude in RO (hi:lo) with sign s. */
export function unpackInt(u: Unpacked, s: number): void {
  const hi = RO.w[0]!, lo = RO.w[1]!;
  u.s = s;
  u.hi = hi >>> 0;
  u.lo = lo >>> 0;
  if ((hi | lo) === 0) {
    u.e = 0;
    u.cls = CLS_ZERO;
    return;
  }
  u.e = 63;
  u.cls = CLS_NORMAL;
  normalize(u);
}

// ---- Packed BCD (SDM vol. 1 §4.7): 18 digits in bytes 0-8, two per byte (low nibble first), sign in bit 7 of byte 9 ----

/** 10^18 as hi:lo. */
const E18_HI = 0x0de0b6b3;
const E18_LO = 0xa7640000;

/** Decode BCD bytes 0-3 (b0), 4-7 (b1), 8 (low byte of b2) into a 64-bit magnitude in RO.hi/RO.lo.
 *  Invalid digits (A-F) are used at face value (the SDM leaves the result undefined). */
export function bcdToInt(b0: number, b1: number, b2: number): void {
  // digits d0..d17, least significant first
  let low = 0, high = 0, p = 1;
  for (let i = 0; i < 8; i++) { low += ((b0 >>> (4 * i)) & 0xf) * p; p *= 10; }
  low += (b1 & 0xf) * p; // d8
  p = 1;
  for (let i = 1; i < 8; i++) { high += ((b1 >>> (4 * i)) & 0xf) * p; p *= 10; }
  high += (b2 & 0xf) * p + ((b2 >>> 4) & 0xf) * p * 10;
  // value = high * 10^9 + low = (high * 1953125) * 2^9 + low, with high*1953125 < 2^51 exact
  const m = high * 1953125;
  const mh = Math.floor(m / 8388608); // m / 2^23
  const ml = (m - mh * 8388608) * 512; // (m mod 2^23) * 2^9 < 2^32
  let rl = ml + low;
  let rh = mh;
  if (rl >= 4294967296) { rl -= 4294967296; rh += 1; }
  RO.hi = rh >>> 0;
  RO.lo = rl >>> 0;
}

/** True if the magnitude hi:lo needs more than 18 decimal digits. */
export function bcdTooLarge(hi: number, lo: number): boolean {
  return hi > E18_HI || (hi === E18_HI && lo >>> 0 >= E18_LO);
}

/** Encode a magnitude below 10^18 as BCD: bytes 0-3 in PK.lo, 4-7 in PK.hi, byte 8 in PK.se. */
export function intToBcd(hi: number, lo: number): void {
  // divide by 10^9 limb by limb (base 2^16), every step exact in a double
  let r = 0;
  const l3 = hi >>> 16, l2 = hi & 0xffff, l1 = lo >>> 16, l0 = lo & 0xffff;
  let cur = r * 65536 + l3; const q3 = Math.floor(cur / 1e9); r = cur - q3 * 1e9;
  cur = r * 65536 + l2; const q2 = Math.floor(cur / 1e9); r = cur - q2 * 1e9;
  cur = r * 65536 + l1; const q1 = Math.floor(cur / 1e9); r = cur - q1 * 1e9;
  cur = r * 65536 + l0; const q0 = Math.floor(cur / 1e9); r = cur - q0 * 1e9;
  let high = ((q3 * 65536 + q2) * 65536 + q1) * 65536 + q0; // < 10^9
  let low = r;
  let b0 = 0, b1 = 0, b2 = 0;
  for (let i = 0; i < 8; i++) { const d = low % 10; low = (low - d) / 10; b0 |= d << (4 * i); }
  b1 = low; // d8 (low < 10 now)
  for (let i = 1; i < 8; i++) { const d = high % 10; high = (high - d) / 10; b1 |= d << (4 * i); }
  const d16 = high % 10;
  b2 = d16 | (((high - d16) / 10) << 4);
  PK.lo = b0 >>> 0;
  PK.hi = b1 >>> 0;
  PK.se = b2;
}
