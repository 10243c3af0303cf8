// Rounding of x87 results to the 80-bit register format (SDM vol. 1 §4.8.4, §8.1.5.2-3, §4.9.1.4-6,
// §8.5.4-6): a wide exact-or-sticky significand is rounded to the precision CW.PC selects (24, 53 or
// 64 bits) in the direction CW.RC selects, with the extended exponent range whatever the precision.
//
// As on hardware: tininess is detected after rounding with an unbounded exponent ("the result of
// rounding with unbounded exponent, taking into account precision control, is non-zero and tiny",
// SDM §4.9.1.5); a masked underflow is rounded onto the denormal grid at the precision's position in
// the 64-bit significand field and flags UE only when inexact; an unmasked overflow or underflow
// delivers the rounded result with its exponent adjusted by 24576, or the masked response when even
// that is out of range; a masked overflow gives infinity or the largest finite number of the
// precision. C1 tells whether the magnitude was rounded up. Nothing here allocates: the significand
// lives in the typed scratch W.

import type { Fpu } from './Fpu.js';
import { BIAS, CW_PC_SHIFT, CW_RC_SHIFT, EMAX, EMIN, EXP_ADJUST, RC_DOWN, RC_NEAREST, RC_UP, SW_C1, SW_OE, SW_PE, SW_UE } from './fpuConst.js';

/** The working significand: bits 95-64 in W[0], 63-32 in W[1], 31-0 in W[2], normalized (bit 31 of
 *  W[0] set) before rounding; W[3] non-zero when bits below those are non-zero (sticky). */
export const W = new Uint32Array(4);

/** Significand width for each CW.PC value (01 is reserved; the hardware treats it as 64 bits). */
const PREC = [24, 64, 53, 64] as const;

/** The significand precision CW.PC selects (for the instructions precision control applies to). */
export function precOf(f: Fpu): number {
  return PREC[(f.cw >>> CW_PC_SHIFT) & 3]!;
}

// roundW result bits
const R_INEXACT = 1;
const R_UP = 2;
const R_CARRY = 4;

/** Round W to `prec` bits in place (W[0]:W[1] keep the result, lower bits cleared). Returns R_INEXACT,
 *  R_UP (magnitude incremented) and R_CARRY (the increment overflowed: W is then 1.0 and the
 *  exponent must grow by one). */
function roundW(prec: number, rc: number, neg: number): number {
  let h = W[0]!, l = W[1]!;
  const x = W[2]!, s = W[3]!;
  let half: number, rest: number, lsb: number;
  if (prec === 64) {
    half = x >>> 31; rest = (x & 0x7fffffff) | s; lsb = l & 1;
  } else if (prec === 53) {
    half = (l >>> 10) & 1; rest = (l & 0x3ff) | x | s; lsb = (l >>> 11) & 1;
    l = (l & 0xfffff800) >>> 0;
  } else {
    half = (h >>> 7) & 1; rest = (h & 0x7f) | l | x | s; lsb = (h >>> 8) & 1;
    h = (h & 0xffffff00) >>> 0;
    l = 0;
  }
  W[2] = 0; W[3] = 0;
  if ((half | rest) === 0) {
    W[0] = h; W[1] = l;
    return 0;
  }
  let inc: boolean;
  if (rc === RC_NEAREST) inc = half !== 0 && (rest !== 0 || lsb !== 0);
  else if (rc === RC_DOWN) inc = neg !== 0;
  else if (rc === RC_UP) inc = neg === 0;
  else inc = false;
  if (!inc) {
    W[0] = h; W[1] = l;
    return R_INEXACT;
  }
  let r = R_INEXACT | R_UP;
  if (prec === 24) h += 0x100;
  else {
    l += prec === 64 ? 1 : 0x800;
    if (l === 0x100000000) { l = 0; h += 1; }
  }
  if (h === 0x100000000) { // all ones rounded up: 2.0
    h = 0x80000000;
    r |= R_CARRY;
  }
  W[0] = h; W[1] = l;
  return r;
}

/** Shift W (and its sticky word) right by n >= 1 bits, keeping lost bits as sticky. */
export function shiftRightJam(n: number): void {
  let a = W[0]!, b = W[1]!, c = W[2]!, s = W[3]!;
  while (n >= 32) {
    s |= c;
    c = b; b = a; a = 0;
    n -= 32;
    if (a === 0 && b === 0 && c === 0) break;
  }
  if (n > 0 && n < 32) {
    s |= c << (32 - n);
    c = ((c >>> n) | (b << (32 - n))) >>> 0;
    b = ((b >>> n) | (a << (32 - n))) >>> 0;
    a = a >>> n;
  }
  W[0] = a; W[1] = b; W[2] = c; W[3] = s === 0 ? 0 : 1;
}

/** Write an 80-bit image to register p (in use from now on). */
function put(f: Fpu, p: number, se: number): void {
  const r = f.regs, b = 3 * p;
  r[b] = se;
  r[b + 1] = W[0]!;
  r[b + 2] = W[1]!;
  f.empty &= ~(1 << p);
}

/** Masked overflow response: infinity when rounding away from zero in the value's direction, else
 *  the largest finite number of the precision (OE and PE; C1 set for infinity). */
function overflowMasked(f: Fpu, p: number, sign: number, prec: number, rc: number): void {
  f.ex |= SW_OE | SW_PE;
  if (rc === RC_NEAREST || (rc === RC_DOWN && sign !== 0) || (rc === RC_UP && sign === 0)) {
    W[0] = 0x80000000; W[1] = 0;
    put(f, p, (sign << 15) | 0x7fff);
    f.c1 = SW_C1;
    return;
  }
  W[0] = prec === 24 ? 0xffffff00 : 0xffffffff;
  W[1] = prec === 64 ? 0xffffffff : prec === 53 ? 0xfffff800 : 0;
  put(f, p, (sign << 15) | 0x7ffe);
  f.c1 = 0;
}

/** Round (-1)^sign × W × 2^(exp - 95) — W normalized, the value non-zero — to `prec` bits and write
 *  it to register p with PE, UE, OE and C1 as the x87 reports them. */
export function roundToReg(f: Fpu, p: number, sign: number, exp: number, prec: number): void {
  const cw = f.cw;
  const rc = (cw >>> CW_RC_SHIFT) & 3;
  const h0 = W[0]!, l0 = W[1]!, x0 = W[2]!, s0 = W[3]!;
  const r = roundW(prec, rc, sign);
  const e = (r & R_CARRY) !== 0 ? exp + 1 : exp;
  if (e >= EMIN && e <= EMAX) {
    put(f, p, (sign << 15) | (e + BIAS));
    if (r !== 0) {
      f.ex |= SW_PE;
      f.c1 = (r & R_UP) !== 0 ? SW_C1 : 0;
    }
    return;
  }
  if (e > EMAX) {
    if ((cw & SW_OE) === 0 && e - EXP_ADJUST <= EMAX) {
      f.ex |= SW_OE;
      put(f, p, (sign << 15) | (e - EXP_ADJUST + BIAS));
      if (r !== 0) {
        f.ex |= SW_PE;
        f.c1 = (r & R_UP) !== 0 ? SW_C1 : 0;
      }
      return;
    }
    overflowMasked(f, p, sign, prec, rc);
    return;
  }
  // tiny
  if ((cw & SW_UE) === 0) {
    f.ex |= SW_UE;
    if (e + EXP_ADJUST >= EMIN) {
      put(f, p, (sign << 15) | (e + EXP_ADJUST + BIAS));
      if (r !== 0) {
        f.ex |= SW_PE;
        f.c1 = (r & R_UP) !== 0 ? SW_C1 : 0;
      }
      return;
    }
  }
  // masked response: the exact value rounded onto the denormal grid
  W[0] = h0; W[1] = l0; W[2] = x0; W[3] = s0;
  shiftRightJam(EMIN - exp);
  const d = roundW(prec, rc, sign);
  put(f, p, (sign << 15) | (W[0]! >>> 31)); // rounded up to the smallest normal: exponent field 1
  if (d !== 0) {
    f.ex |= SW_PE | SW_UE;
    f.c1 = (d & R_UP) !== 0 ? SW_C1 : 0;
  } else f.c1 = 0;
}
