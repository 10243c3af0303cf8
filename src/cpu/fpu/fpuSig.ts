// Exact integer arithmetic on 64-bit significands for the x87 unit: sums, products, quotients and
// square roots with enough bits (and a sticky bit) for correct rounding in fpuRound, and the exact
// partial remainder of FPREM. Operands come in the typed scratch OP (A = OP[0]:OP[1], B =
// OP[2]:OP[3], normalized: bit 31 of the high word set), results go to fpuRound's W. Products of
// 16-bit limbs are exact in doubles (column sums stay far below 2^53), so nothing needs BigInt and
// nothing allocates. Quotient digits and square roots are estimated in floating point and then
// corrected against an exact remainder.

import { W } from './fpuRound.js';

/** Operand significands: A = OP[0] (high) : OP[1] (low), B = OP[2] : OP[3]. */
export const OP = new Uint32Array(4);

/**
 * Shift the non-zero 64-bit significand h:l left until bit 63 is set, into out[k] (high) and
 * out[k+1] (low); returns exponent `e` less the shift.
 */
export function normalizeSig(h: number, l: number, e: number, out: Uint32Array, k: number): number {
  if (h === 0) { h = l; l = 0; e -= 32; }
  const n = Math.clz32(h);
  if (n !== 0) {
    h = ((h << n) | (l >>> (32 - n))) >>> 0;
    l = (l << n) >>> 0;
    e -= n;
  }
  out[k] = h;
  out[k + 1] = l;
  return e;
}

const B16 = 65536;
const B32 = 4294967296;

/** Normalize W after a subtraction (W[0..2] non-zero, W[3] = 0): shift left until bit 95 is set.
 *  Returns the shift. */
function normalizeW(): number {
  let a = W[0]!, b = W[1]!, c = W[2]!;
  let n = 0;
  while (a === 0) { a = b; b = c; c = 0; n += 32; }
  const k = Math.clz32(a);
  if (k !== 0) {
    a = ((a << k) | (b >>> (32 - k))) >>> 0;
    b = ((b << k) | (c >>> (32 - k))) >>> 0;
    c = (c << k) >>> 0;
  }
  W[0] = a; W[1] = b; W[2] = c;
  return n + k;
}

/** |A| ± |B| (sub: subtract magnitudes) with A's exponent ea >= B's eb and, when subtracting,
 *  A >= B. Leaves the result in W; returns its exponent, or NaN for an exact zero. */
export function addSig(ea: number, eb: number, sub: boolean): number {
  const ah = OP[0]!, al = OP[1]!;
  let bh = OP[2]!, bl = OP[3]!, bx = 0;
  const d = ea - eb;
  // B aligned to A's exponent, 96 bits, with every bit shifted further out jammed into bit 0
  if (d === 0) {
    // aligned
  } else if (d < 32) {
    bx = (bl << (32 - d)) >>> 0;
    bl = ((bl >>> d) | (bh << (32 - d))) >>> 0;
    bh >>>= d;
  } else if (d < 64) {
    const k = d - 32;
    const lost = k === 0 ? 0 : bl << (32 - k);
    bx = k === 0 ? bl : ((bl >>> k) | (bh << (32 - k))) >>> 0;
    if (lost !== 0) bx = (bx | 1) >>> 0;
    bl = bh >>> k;
    bh = 0;
  } else if (d < 96) {
    const k = d - 64;
    const lost = (k === 0 ? 0 : bh << (32 - k)) | bl;
    bx = bh >>> k;
    if (lost !== 0) bx = (bx | 1) >>> 0;
    bl = 0;
    bh = 0;
  } else {
    bx = 1;
    bl = 0;
    bh = 0;
  }
  W[3] = 0;
  if (!sub) {
    let l = al + bl;
    let h = ah + bh;
    if (l >= B32) { l -= B32; h += 1; }
    if (h < B32) {
      W[0] = h; W[1] = l; W[2] = bx;
      return ea;
    }
    // carry out: shift right by one
    W[0] = 0x80000000 | (h >>> 1);
    W[1] = ((l >>> 1) | ((h & 1) << 31)) >>> 0;
    W[2] = ((bx >>> 1) | ((l & 1) << 31) | (bx & 1)) >>> 0;
    return ea + 1;
  }
  let x = -bx;
  let l = al - bl;
  let h = ah - bh;
  if (x < 0) { x += B32; l -= 1; }
  if (l < 0) { l += B32; h -= 1; }
  if ((h | l | x) === 0) return NaN;
  W[0] = h; W[1] = l; W[2] = x;
  return ea - normalizeW();
}

/** A × B: W = the 128-bit product's top 96 bits (normalized), W[3] = the rest's sticky bit.
 *  Returns 1 when the product is in [2, 4) (exponent one higher), else 0. */
export function mulSig(): number {
  const ah = OP[0]!, al = OP[1]!, bh = OP[2]!, bl = OP[3]!;
  const a0 = al & 0xffff, a1 = al >>> 16, a2 = ah & 0xffff, a3 = ah >>> 16;
  const b0 = bl & 0xffff, b1 = bl >>> 16, b2 = bh & 0xffff, b3 = bh >>> 16;
  let t = a0 * b0;
  const p0 = t & 0xffff;
  t = Math.floor(t / B16) + a0 * b1 + a1 * b0;
  const p1 = t & 0xffff;
  t = Math.floor(t / B16) + a0 * b2 + a1 * b1 + a2 * b0;
  const p2 = t & 0xffff;
  t = Math.floor(t / B16) + a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0;
  const p3 = t & 0xffff;
  t = Math.floor(t / B16) + a1 * b3 + a2 * b2 + a3 * b1;
  const p4 = t & 0xffff;
  t = Math.floor(t / B16) + a2 * b3 + a3 * b2;
  const p5 = t & 0xffff;
  t = Math.floor(t / B16) + a3 * b3;
  const p6 = t & 0xffff;
  const p7 = Math.floor(t / B16);
  const w3 = p7 * B16 + p6, w2 = p5 * B16 + p4, w1 = p3 * B16 + p2, w0 = p1 * B16 + p0;
  if (w3 >= 0x80000000) {
    W[0] = w3; W[1] = w2; W[2] = w1; W[3] = w0 !== 0 ? 1 : 0;
    return 1;
  }
  W[0] = (w3 << 1) | (w2 >>> 31);
  W[1] = (w2 << 1) | (w1 >>> 31);
  W[2] = (w1 << 1) | (w0 >>> 31);
  W[3] = (w0 & 0x7fffffff) !== 0 ? 1 : 0;
  return 0;
}

// Divisor limbs and remainder limbs of the running division (module scratch for divStep; all
// below 2^16, so they stay small integers), and the divisor as a double in typed storage (a
// double in a module variable would be boxed on every store).
let b0 = 0, b1 = 0, b2 = 0, b3 = 0;
let r0 = 0, r1 = 0, r2 = 0, r3 = 0;
const BD = new Float64Array(1);
/** The digit divStep produces (returned through typed storage: a uint32 return value is boxed). */
const DIGIT = new Uint32Array(1);

/** One 32-bit quotient digit: with the remainder R = r3..r0 < B, puts d = floor(R × 2^32 / B) in
 *  DIGIT and leaves R × 2^32 - d × B (< B) in r3..r0. The digit is estimated in floating point (off
 *  by at most one) and corrected against the exact remainder. */
function divStep(): void {
  const rd = ((r3 * B16 + r2) * B16 + r1) * B16 + r0;
  let d = Math.floor((rd / BD[0]!) * B32);
  if (d > 0xffffffff) d = 0xffffffff;
  for (;;) {
    const e0 = d & 0xffff, e1 = (d - e0) / B16;
    let t = -(e0 * b0);
    const x0 = t & 0xffff;
    t = (t - x0) / B16 - (e0 * b1 + e1 * b0);
    const x1 = t & 0xffff;
    t = (t - x1) / B16 + r0 - (e0 * b2 + e1 * b1);
    const x2 = t & 0xffff;
    t = (t - x2) / B16 + r1 - (e0 * b3 + e1 * b2);
    const x3 = t & 0xffff;
    t = (t - x3) / B16 + r2 - e1 * b3;
    const x4 = t & 0xffff;
    t = (t - x4) / B16 + r3; // the top: must end as 0 for 0 <= remainder < 2^80
    if (t < 0) { d--; continue; } // remainder negative: digit too large
    if (t === 0 && x4 === 0 && (x3 > b3 || (x3 === b3 && (x2 > b2 || (x2 === b2 && (x1 > b1 || (x1 === b1 && x0 >= b0))))))) {
      d++; // remainder >= B: digit too small
      continue;
    }
    if (t !== 0 || x4 !== 0) { d++; continue; }
    r0 = x0; r1 = x1; r2 = x2; r3 = x3;
    DIGIT[0] = d;
    return;
  }
}

/** A / B: W = the quotient's leading 65 bits (normalized) and W[3] = sticky. Returns 0 when A >= B
 *  (quotient in [1, 2)), -1 when the quotient is in [1/2, 1) (W then holds 2A/B). */
export function divSig(): number {
  const ah = OP[0]!, al = OP[1]!, bh = OP[2]!, bl = OP[3]!;
  b0 = bl & 0xffff; b1 = bl >>> 16; b2 = bh & 0xffff; b3 = bh >>> 16;
  BD[0] = bh * B32 + bl;
  // N = A, or 2A when A < B, so that 1 <= N/B < 2; the integer digit is 1 and R = N - B < B
  let nh = ah, nl = al, top = 0, adj = 0;
  if (ah < bh || (ah === bh && al < bl)) {
    top = ah >>> 31;
    nh = ((ah << 1) | (al >>> 31)) >>> 0;
    nl = (al << 1) >>> 0;
    adj = -1;
  }
  let l = nl - bl, h = nh - bh + top * B32;
  if (l < 0) { l += B32; h -= 1; }
  r0 = l & 0xffff; r1 = l >>> 16; r2 = h & 0xffff; r3 = h >>> 16;
  divStep();
  const d1 = DIGIT[0]!;
  divStep();
  const d2 = DIGIT[0]!;
  W[0] = 0x80000000 | (d1 >>> 1);
  W[1] = ((d1 << 31) | (d2 >>> 1)) >>> 0;
  W[2] = (d2 << 31) >>> 0;
  W[3] = (r0 | r1 | r2 | r3) !== 0 ? 1 : 0;
  return adj;
}

/** A mod B for an (n+1)-bit quotient floor(A × 2^n / B), 0 <= n <= 63 (FPREM): the integer digit,
 *  then n mod 32 bits one at a time, then a 32-bit digit when n >= 32. Leaves the remainder (< B)
 *  in OP[0]:OP[1] and returns the quotient's low three bits. */
export function remSig(n: number): number {
  let rh = OP[0]!, rl = OP[1]!, rt = 0;
  const bh = OP[2]!, bl = OP[3]!;
  let q = 0;
  for (let i = n & 31; ; i--) {
    if (rt !== 0 || rh > bh || (rh === bh && rl >= bl)) {
      let l = rl - bl, h = rh - bh;
      if (l < 0) { l += B32; h -= 1; }
      if (h < 0) h += B32; // the borrow comes out of bit 64
      rh = h; rl = l; rt = 0;
      q = ((q << 1) | 1) & 7;
    } else q = (q << 1) & 7;
    if (i === 0) break;
    rt = rh >>> 31;
    rh = ((rh << 1) | (rl >>> 31)) >>> 0;
    rl = (rl << 1) >>> 0;
  }
  if (n >= 32) {
    b0 = bl & 0xffff; b1 = bl >>> 16; b2 = bh & 0xffff; b3 = bh >>> 16;
    BD[0] = bh * B32 + bl;
    r0 = rl & 0xffff; r1 = rl >>> 16; r2 = rh & 0xffff; r3 = rh >>> 16;
    divStep();
    q = DIGIT[0]! & 7;
    rh = r3 * B16 + r2;
    rl = r1 * B16 + r0;
  }
  OP[0] = rh; OP[1] = rl;
  return q;
}

/** sqrt(A × 2^odd) (odd: 0 or 1): W = the root's leading 65 bits (normalized, the root of
 *  A × 2^odd / 2^63 is in [1, 2)) and W[3] = sticky.
 *
 *  With X = A × 2^(65 + odd), S = floor(sqrt(X)) is in [2^64, 2^65). A double estimate gives
 *  q ≈ S / 2^16 (off by less than 1.1); the remainder R = X - (q 2^16)² = R' 2^32 is below 2^83, so
 *  R' < 2^51 comes out exactly from pieces that are each exact in doubles; one Newton step
 *  t = R / (2 q 2^16) then gives S = q 2^16 + t to within one, settled on the exact final remainder
 *  X - S² = 2^17 V - t², V = R' 2^15 - q t, again computed exactly in doubles. */
export function sqrtSig(odd: number): void {
  const ah = OP[0]!, al = OP[1]!;
  const s0 = Math.sqrt((ah * B32 + al) * (odd !== 0 ? 73786976294838206464 : 36893488147419103232)); // × 2^(65 + odd)
  const q = Math.floor(s0 / B16);
  const qh = Math.floor(q / 16777216), ql = q - qh * 16777216;
  // R' = A 2^(33+odd) - q² = (P2 - qh²) 2^48 + (P1 - 2 qh ql) 2^24 - ql²
  const sh = odd !== 0 ? 16384 : 32768; // 2^(15 - odd)
  const alTop = Math.floor(al / sh);
  const p2 = ah * (odd !== 0 ? 262144 : 131072) + alTop; // ah 2^(17 + odd)
  const p1 = (al - alTop * sh) * (odd !== 0 ? 1024 : 512); // × 2^(9 + odd)
  const u = (p2 - qh * qh) * 16777216 + (p1 - 2 * qh * ql);
  const rp = u * 16777216 - ql * ql;
  let t = Math.floor((rp * 32768) / q);
  // V = R' 2^15 - q t, exactly: the first difference is below 2^53 although its terms are not
  let v = (rp * 32768 - qh * t * 16777216) - ql * t;
  for (;;) {
    // X - S² = 2^17 V - t² must be in [0, 2S]; both comparisons are exact in doubles
    if (v * 131072 < t * t) { t--; v += q; continue; }
    if (v - q > (2 * t + t * t) / 131072) { t++; v -= q; continue; }
    break;
  }
  W[3] = v * 131072 === t * t ? 0 : 1;
  // S = q 2^16 + t as hi (33 bits) : lo (32 bits)
  const qlo = q % B16;
  let hi = (q - qlo) / B16, lo = qlo * B16 + t;
  if (lo < 0) { lo += B32; hi -= 1; } else if (lo >= B32) { lo -= B32; hi += 1; }
  W[0] = Math.floor(hi / 2);
  W[1] = ((hi & 1) * 0x80000000 + Math.floor(lo / 2)) >>> 0;
  W[2] = (lo & 1) * 0x80000000;
}
