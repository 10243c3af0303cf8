// x87 FPREM and FPREM1 (SDM vol. 2 pages of those names): the exact partial remainder of ST(0) by
// ST(1) and the three low quotient bits in C0, C3, C1. An exponent difference of 64 or more gives a
// partial reduction (C2 set): the quotient then has N+1 bits for N = 32 + (difference mod 32),
// truncated for both instructions, and C0, C1, C3 are cleared, as AMD documents and Intel and AMD
// processors do.

import type { Fpu } from './Fpu.js';
import {
  CLS_DENORMAL, CLS_INF, CLS_QNAN, CLS_SNAN, CLS_UNSUPPORTED, CLS_ZERO, SW_C0, SW_C1, SW_C2, SW_C3,
} from './fpuConst.js';
import { W, roundToReg } from './fpuRound.js';
import { OP, normalizeSig, remSig } from './fpuSig.js';
import { invalidResult, loadSig, nanResult } from './fpuArith.js';

const B32 = 4294967296;

/** Write ±R × 2^(scale - 63) (R = OP[0]:OP[1], exact) to ST(0), or ±0. */
function putRemainder(f: Fpu, p: number, sign: number, scale: number): void {
  const h = OP[0]!, l = OP[1]!;
  if ((h | l) === 0) {
    f.setZero(p, sign);
    return;
  }
  const e = normalizeSig(h, l, scale, W, 0);
  W[2] = 0; W[3] = 0;
  roundToReg(f, p, sign, e, 64); // exact; only a tiny remainder needs the underflow rules
}

/** FPREM (ieee=false: truncated quotient) and FPREM1 (ieee=true: quotient rounded to nearest). */
export function fprem(f: Fpu, ieee: boolean): void {
  const p0 = f.top, p1 = (f.top + 1) & 7;
  f.c1 = 0;
  const kept = f.sw & (SW_C0 | SW_C3); // left alone when no remainder is computed
  if (f.isEmpty(p0) || f.isEmpty(p1)) {
    if (f.underflow()) f.setIndef(p0);
    f.commitCC(kept);
    return;
  }
  const c0 = f.classOf(p0), c1 = f.classOf(p1);
  if (c0 === CLS_UNSUPPORTED || c1 === CLS_UNSUPPORTED) { invalidResult(f, p0); f.commitCC(kept); return; }
  if (c0 === CLS_QNAN || c0 === CLS_SNAN || c1 === CLS_QNAN || c1 === CLS_SNAN) {
    nanResult(f, p0, p0, p1);
    f.commitCC(kept);
    return;
  }
  if (c0 === CLS_INF || c1 === CLS_ZERO) { invalidResult(f, p0); f.commitCC(kept); return; }
  if ((c0 === CLS_DENORMAL || c1 === CLS_DENORMAL) && !f.denormal()) { f.commitCC(kept); return; }
  if (c0 === CLS_ZERO) { f.commitCC(0); return; } // ST(0) unchanged, quotient 0
  const s0 = f.signOf(p0);
  const e0 = loadSig(f, p0, 0);
  // |ST(1)| = ∞ or |ST(0)| < |ST(1)|: the remainder is ST(0) itself (a pseudo-denormal comes out
  // in its normal encoding, as on hardware)
  const d = c1 === CLS_INF ? -2 : e0 - loadSig(f, p1, 2);
  if (d < 0) {
    // |ST(0)| < |ST(1)|: quotient 0, except FPREM1 rounding |ST(0)| > |ST(1)|/2 up to 1
    const ah = OP[0]!, al = OP[1]!, bh = OP[2]!, bl = OP[3]!;
    if (ieee && d === -1 && (ah > bh || (ah === bh && al > bl))) {
      // remainder (2B - A) × 2^(e0 - 63), sign flipped
      let l = 2 * bl - al, h = 2 * bh - ah;
      if (l < 0) { l += B32; h -= 1; }
      if (l >= B32) { l -= B32; h += 1; }
      OP[0] = h; OP[1] = l;
      putRemainder(f, p0, s0 ^ 1, e0);
      f.commitCC(SW_C1);
      return;
    }
    putRemainder(f, p0, s0, e0); // OP[0..1] still hold ST(0)'s significand
    f.commitCC(0);
    return;
  }
  const partial = d >= 64;
  const n = partial ? 32 + (d & 31) : d;
  let q = remSig(n);
  let sign = s0;
  if (ieee && !partial) {
    // round the quotient to nearest even: compare 2R with B
    const rh = OP[0]!, rl = OP[1]!, bh = OP[2]!, bl = OP[3]!;
    let cmp: number;
    if (rh >= 0x80000000) cmp = 1;
    else {
      const h2 = ((rh << 1) | (rl >>> 31)) >>> 0, l2 = (rl << 1) >>> 0;
      cmp = h2 !== bh ? (h2 > bh ? 1 : -1) : l2 !== bl ? (l2 > bl ? 1 : -1) : 0;
    }
    if (cmp > 0 || (cmp === 0 && (q & 1) !== 0)) {
      let l = bl - rl, h = bh - rh;
      if (l < 0) { l += B32; h -= 1; }
      OP[0] = h; OP[1] = l;
      q = (q + 1) & 7;
      sign ^= 1;
    }
  }
  putRemainder(f, p0, sign, e0 - n);
  if (partial) f.commitCC(SW_C2);
  else f.commitCC(((q & 4) !== 0 ? SW_C0 : 0) | ((q & 2) !== 0 ? SW_C3 : 0) | ((q & 1) !== 0 ? SW_C1 : 0));
}
