// x87 arithmetic: FADD/FSUB/FSUBR/FMUL/FDIV/FDIVR in all operand forms (SDM vol. 2 pages of those
// names with their special-operand tables; vol. 1 §4.9.2 and §8.5 for the exception order), and the
// operand helpers the other instructions share (NaN propagation, invalid results, significands).
//
// Order of checks, as on hardware: unsupported encodings and SNaNs (#IA), QNaN propagation, the
// invalid combinations (∞-∞, 0×∞, 0/0, ∞/∞), zero divide (#Z, which outranks #D: x/0 with a
// denormal x raises only ZE), then denormal operands (#D; unmasked it stops the instruction), then
// the rounded result (fpuRound). Results are rounded to CW.PC's precision even when one operand is
// zero or one (x + 0 and x × 1 round x). Normal operands that are doubles may take the float64
// fast path (fpuFast), which gives the same bits where it applies.

import type { Fpu } from './Fpu.js';
import {
  BIAS, CLS_DENORMAL, CLS_INF, CLS_NORMAL, CLS_QNAN, CLS_SNAN, CLS_UNSUPPORTED, CLS_ZERO, CW_RC_SHIFT, OPND, RC_DOWN,
  SW_ZE,
} from './fpuConst.js';
import { classOfImage } from './fpuFormats.js';
import { W, precOf, roundToReg } from './fpuRound.js';
import { OP, addSig, divSig, mulSig, normalizeSig } from './fpuSig.js';
import { fastArith } from './fpuFast.js';

export const OP_ADD = 0;
export const OP_MUL = 1;
export const OP_SUB = 4;
export const OP_SUBR = 5;
export const OP_DIV = 6;
export const OP_DIVR = 7;

// ---------------------------------------------------------------- operands

/** Load the significand of register p (finite, non-zero; denormals and pseudo-denormals included)
 *  into OP[k], OP[k+1], normalized; returns the unbiased exponent of its leading bit. */
export function loadSig(f: Fpu, p: number, k: number): number {
  const r = f.regs, b = 3 * p;
  const e = r[b]! & 0x7fff;
  // A (pseudo-)denormal is significand × 2^(1 - BIAS - 63).
  if (e === 0) return normalizeSig(r[b + 1]!, r[b + 2]!, 1, OP, k) - BIAS;
  OP[k] = r[b + 1]!;
  OP[k + 1] = r[b + 2]!;
  return e - BIAS;
}

/** Masked #IA: write the indefinite to dst. Returns false if #IA is unmasked (no result). */
export function invalidResult(f: Fpu, dst: number): boolean {
  if (!f.invalid()) return false;
  f.setIndef(dst);
  return true;
}

/** Write the NaN in register s, quieted, to dst. */
function putQuiet(f: Fpu, dst: number, s: number): void {
  const r = f.regs, bd = 3 * dst, bs = 3 * s;
  r[bd] = r[bs]!;
  r[bd + 1] = r[bs + 1]! | 0x40000000;
  r[bd + 2] = r[bs + 2]!;
  f.empty &= ~(1 << dst);
}

/** One or two NaN operands (registers a, b; at least one a NaN): an SNaN raises #IA; the result is
 *  chosen as in SDM vol. 1 table 4-7 for the x87: a QNaN over an SNaN, else the larger significand,
 *  and of two NaNs differing only in sign the positive one (as the hardware does). */
export function nanResult(f: Fpu, dst: number, a: number, b: number): boolean {
  const r = f.regs;
  const ca = classOfImage(r, 3 * a), cb = classOfImage(r, 3 * b);
  const aNaN = ca === CLS_QNAN || ca === CLS_SNAN, bNaN = cb === CLS_QNAN || cb === CLS_SNAN;
  if ((ca === CLS_SNAN || cb === CLS_SNAN) && !f.invalid()) return false;
  let pickA: boolean;
  if (aNaN && bNaN) {
    if (ca !== cb) pickA = ca === CLS_QNAN;
    else {
      const ah = r[3 * a + 1]!, bh = r[3 * b + 1]!, al = r[3 * a + 2]!, bl = r[3 * b + 2]!;
      if (ah !== bh) pickA = ah > bh;
      else if (al !== bl) pickA = al > bl;
      else pickA = (r[3 * a]! & 0x8000) === 0;
    }
  } else pickA = aNaN;
  putQuiet(f, dst, pickA ? a : b);
  return true;
}

/** One NaN operand in register p (result to dst): an SNaN raises #IA and is quieted. */
export function nan1(f: Fpu, dst: number, p: number): boolean {
  if (f.classOf(p) === CLS_SNAN && !f.invalid()) return false;
  putQuiet(f, dst, p);
  return true;
}

/** Round the finite non-zero value in register s to CW.PC's precision into dst (x + 0, x × 1). */
function roundCopy(f: Fpu, dst: number, s: number, sign: number): void {
  const e = loadSig(f, s, 0);
  W[0] = OP[0]!; W[1] = OP[1]!; W[2] = 0; W[3] = 0;
  roundToReg(f, dst, sign, e, precOf(f));
}

// ---------------------------------------------------------------- the rounded operations

/** x ± y for finite non-zero x (register px, sign sx) and y (py, sy: the effective sign, already
 *  flipped for a subtraction); result to dst. */
function addFinite(f: Fpu, dst: number, px: number, sx: number, py: number, sy: number): void {
  let ex = loadSig(f, px, 0), ey = loadSig(f, py, 2);
  let sign = sx;
  // the larger magnitude first
  const xh = OP[0]!, xl = OP[1]!, yh = OP[2]!, yl = OP[3]!;
  if (ey > ex || (ey === ex && (yh > xh || (yh === xh && yl > xl)))) {
    OP[0] = yh; OP[1] = yl; OP[2] = xh; OP[3] = xl;
    const t = ex; ex = ey; ey = t;
    sign = sy;
  }
  const e = addSig(ex, ey, sx !== sy);
  if (e !== e) { // exact zero: +0, or -0 when rounding down (SDM vol. 1 §4.8.3.?: x - x)
    f.setZero(dst, ((f.cw >>> CW_RC_SHIFT) & 3) === RC_DOWN ? 1 : 0);
    return;
  }
  roundToReg(f, dst, sign, e, precOf(f));
}

function mulFinite(f: Fpu, dst: number, px: number, py: number, sign: number): void {
  const e = loadSig(f, px, 0) + loadSig(f, py, 2);
  roundToReg(f, dst, sign, e + mulSig(), precOf(f));
}

function divFinite(f: Fpu, dst: number, px: number, py: number, sign: number): void {
  const e = loadSig(f, px, 0) - loadSig(f, py, 2);
  roundToReg(f, dst, sign, e + divSig(), precOf(f));
}

// ---------------------------------------------------------------- instructions

/** dst := dst op src over registers or the operand slot (op: ModRM reg field 0 ADD, 1 MUL, 4 SUB,
 *  5 SUBR, 6 DIV, 7 DIVR). Returns false when an unmasked pre-computation exception (#IA, #Z, #D)
 *  leaves the destination (and the stack) alone. */
export function arith(f: Fpu, op: number, dst: number, src: number): boolean {
  const r = f.regs;
  // x op y
  const rev = op === OP_SUBR || op === OP_DIVR;
  const px = rev ? src : dst, py = rev ? dst : src;
  const sx = r[3 * px]! >>> 15;
  let sy = r[3 * py]! >>> 15;
  const cx = classOfImage(r, 3 * px), cy = classOfImage(r, 3 * py);
  if (cx === CLS_NORMAL && cy === CLS_NORMAL && !(src === OPND && f.opndDenormal)) {
    if (op === OP_MUL) {
      if (!fastArith(f, 1, dst, px, py, false)) mulFinite(f, dst, px, py, sx ^ sy);
    } else if (op >= OP_DIV) {
      if (!fastArith(f, 2, dst, px, py, false)) divFinite(f, dst, px, py, sx ^ sy);
    } else if (!fastArith(f, 0, dst, px, py, op !== OP_ADD)) {
      addFinite(f, dst, px, sx, py, op === OP_ADD ? sy : sy ^ 1);
    }
    return true;
  }
  if (cx === CLS_UNSUPPORTED || cy === CLS_UNSUPPORTED) return invalidResult(f, dst);
  if (cx === CLS_QNAN || cx === CLS_SNAN || cy === CLS_QNAN || cy === CLS_SNAN) return nanResult(f, dst, px, py);
  const xInf = cx === CLS_INF, yInf = cy === CLS_INF, xZero = cx === CLS_ZERO, yZero = cy === CLS_ZERO;
  const den = cx === CLS_DENORMAL || cy === CLS_DENORMAL || (src === OPND && f.opndDenormal);
  if (op === OP_MUL) {
    if ((xZero && yInf) || (xInf && yZero)) return invalidResult(f, dst);
    if (den && !f.denormal()) return false;
    if (xInf || yInf) f.setInf(dst, sx ^ sy);
    else if (xZero || yZero) f.setZero(dst, sx ^ sy);
    else mulFinite(f, dst, px, py, sx ^ sy);
    return true;
  }
  if (op >= OP_DIV) {
    if ((xZero && yZero) || (xInf && yInf)) return invalidResult(f, dst);
    if (yZero && !xInf) {
      f.ex |= SW_ZE;
      if (!f.zeroDivideMasked()) return false;
      f.setInf(dst, sx ^ sy);
      return true;
    }
    if (den && !f.denormal()) return false;
    if (xInf || yZero) f.setInf(dst, sx ^ sy);
    else if (xZero || yInf) f.setZero(dst, sx ^ sy);
    else divFinite(f, dst, px, py, sx ^ sy);
    return true;
  }
  if (op !== OP_ADD) sy ^= 1;
  if (xInf && yInf && sx !== sy) return invalidResult(f, dst);
  if (den && !f.denormal()) return false;
  if (xInf || yInf) f.setInf(dst, xInf ? sx : sy);
  else if (xZero && yZero) f.setZero(dst, sx === sy ? sx : ((f.cw >>> CW_RC_SHIFT) & 3) === RC_DOWN ? 1 : 0);
  else if (yZero) roundCopy(f, dst, px, sx);
  else if (xZero) roundCopy(f, dst, py, sy);
  else addFinite(f, dst, px, sx, py, sy);
  return true;
}
