// The float64 fast path of FADD/FSUB/FSUBR/FMUL/FDIV/FDIVR, taken only where IEEE double arithmetic
// gives bit for bit what the exact path (fpuSig + fpuRound) gives:
//   - both operands are doubles exactly (53-bit significands in the double normal range), and
//   - the double result is exact (error-free transformation: TwoSum, Dekker's product, the division
//     residual), at PC=53 or PC=64 in any rounding mode; or it is inexact at PC=53 with rounding to
//     nearest, which is what the double arithmetic did;
//   - and the result is a normal double well inside the range, so that neither the double's own
//     overflow/underflow thresholds nor the 80-bit format's come into play, nor the double's
//     subnormal grid.
// Everything else returns false and goes the exact way. PE and C1 (magnitude rounded up) come from
// the sign of the exact error.

import type { Fpu } from './Fpu.js';
import { BIAS, CW_PC_SHIFT, CW_RC_SHIFT, SW_C1, SW_PE } from './fpuConst.js';

const F = new Float64Array(3);
const U = new Uint32Array(F.buffer);

const SPLITTER = 134217729; // 2^27 + 1
/** Operand and result magnitudes for which the error terms are exact (no overflow in Dekker's
 *  split, no underflow of the error) and the result is far from the range edges. */
const LO = 2 ** -960;
const HI = 2 ** 990;

/** Load register p as a double into F[k] when it is one exactly (normal double range); false if not. */
function asDouble(r: Uint32Array, p: number, k: number): boolean {
  const b = 3 * p;
  const se = r[b]!, hi = r[b + 1]!, lo = r[b + 2]!;
  const e = (se & 0x7fff) - BIAS;
  if (e < -1022 || e > 1023 || (lo & 0x7ff) !== 0 || hi < 0x80000000) return false;
  U[2 * k] = (hi << 21) | (lo >>> 11);
  U[2 * k + 1] = ((se & 0x8000) << 16) | ((e + 1023) << 20) | ((hi >>> 11) & 0xfffff);
  return true;
}

/** dst := x op y (op: 0 add, 1 multiply, 2 divide; y already negated for a subtraction by the
 *  caller's choice of `neg`). Returns false when the fast path does not apply. */
export function fastArith(f: Fpu, op: number, dst: number, px: number, py: number, negY: boolean): boolean {
  const cw = f.cw;
  const pc = (cw >>> CW_PC_SHIFT) & 3;
  if (pc === 0) return false; // PC=24
  const r = f.regs;
  if (!asDouble(r, px, 0) || !asDouble(r, py, 1)) return false;
  const x = F[0]!, y = negY ? -F[1]! : F[1]!;
  const ax = Math.abs(x), ay = Math.abs(y);
  let res: number, err: number;
  if (op === 0) {
    res = x + y;
    const bb = res - x;
    err = (x - (res - bb)) + (y - bb);
  } else if (op === 1) {
    if (ax > HI || ay > HI) return false;
    res = x * y;
    if (Math.abs(res) < LO) return false;
    // x × y - res exactly (Dekker; written out: a call passing doubles could box them)
    let c = SPLITTER * x;
    const xh = c - (c - x), xl = x - xh;
    c = SPLITTER * y;
    const yh = c - (c - y), yl = y - yh;
    err = ((xh * yh - res) + xh * yl + xl * yh) + xl * yl;
  } else {
    if (ax > HI || ay > HI || ax < LO || ay < LO) return false;
    res = x / y;
    if (Math.abs(res) < LO || Math.abs(res) > HI) return false;
    // the sign of x/y - res, from the exact residual x - res × y (Dekker's product again)
    const p = res * y;
    let c = SPLITTER * res;
    const qh = c - (c - res), ql = res - qh;
    c = SPLITTER * y;
    const yh = c - (c - y), yl = y - yh;
    const d = (x - p) - (((qh * yh - p) + qh * yl + ql * yh) + ql * yl);
    err = d === 0 ? 0 : (d > 0) === (y > 0) ? 1 : -1;
  }
  const ar = Math.abs(res);
  if (!(ar >= LO && ar <= HI)) return false; // zero, tiny, huge, infinite
  if (err !== 0) {
    if (pc === 3 || ((cw >>> CW_RC_SHIFT) & 3) !== 0) return false; // needs more bits, or directed rounding
    f.ex |= SW_PE;
    f.c1 = (err < 0) === (res > 0) ? SW_C1 : 0;
  }
  F[2] = res;
  const dh = U[5]!, dl = U[4]!;
  const b = 3 * dst;
  r[b] = ((dh >>> 16) & 0x8000) | (((dh >>> 20) & 0x7ff) - 1023 + BIAS);
  r[b + 1] = 0x80000000 | ((dh & 0xfffff) << 11) | (dl >>> 21);
  r[b + 2] = (dl << 11) >>> 0;
  f.empty &= ~(1 << dst);
  return true;
}
