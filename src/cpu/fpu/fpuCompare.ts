// x87 comparisons and classification: FCOM/FCOMP/FCOMPP, FUCOM/FUCOMP/FUCOMPP, FICOM/FICOMP,
// FTST, FCOMI/FCOMIP/FUCOMI/FUCOMIP, FXAM (SDM vol. 2 pages of those names; vol. 1 §8.3.6).

import type { Fpu } from './Fpu.js';
import {
  CLS_DENORMAL, CLS_INF, CLS_NORMAL, CLS_QNAN, CLS_SNAN, CLS_UNSUPPORTED, CLS_ZERO, OPND, SW_C0, SW_C1, SW_C2, SW_C3,
  SW_DE, SW_IE,
} from './fpuConst.js';
import { UA, UB, Unpacked } from './fpuFormats.js';

export const REL_GT = 0;
export const REL_LT = 1;
export const REL_EQ = 2;
export const REL_UN = 3;

/** C3 C2 C0 for each relation (FCOM family, SDM table 3-21). */
const CC_OF = [0, SW_C0, SW_C3, SW_C3 | SW_C2 | SW_C0] as const;

/** Order two unpacked non-NaN values exactly (−0 = +0). */
function relUnpacked(x: Unpacked, y: Unpacked): number {
  const xz = x.cls === CLS_ZERO, yz = y.cls === CLS_ZERO;
  if (xz && yz) return REL_EQ;
  if (xz) return y.s !== 0 ? REL_GT : REL_LT;
  if (yz) return x.s !== 0 ? REL_LT : REL_GT;
  if (x.s !== y.s) return x.s !== 0 ? REL_LT : REL_GT;
  let c: number;
  if (x.e !== y.e) c = x.e > y.e ? 1 : -1;
  else if (x.hi !== y.hi) c = x.hi > y.hi ? 1 : -1;
  else if (x.lo !== y.lo) c = x.lo > y.lo ? 1 : -1;
  else return REL_EQ;
  if (x.s !== 0) c = -c;
  return c > 0 ? REL_GT : REL_LT;
}

/** Relation of ST(0) (physical pa) to register pb (or the operand slot). Raises #IA (any NaN
 *  unless `quiet`, SNaN always, unsupported) and #D into f.ex. */
function relate(f: Fpu, pa: number, pb: number, quiet: boolean): number {
  const ca = f.classOf(pa), cb = f.classOf(pb);
  if (ca === CLS_UNSUPPORTED || cb === CLS_UNSUPPORTED) {
    f.ex |= SW_IE;
    return REL_UN;
  }
  if (ca === CLS_QNAN || ca === CLS_SNAN || cb === CLS_QNAN || cb === CLS_SNAN) {
    if (!quiet || ca === CLS_SNAN || cb === CLS_SNAN) f.ex |= SW_IE;
    return REL_UN;
  }
  if (ca === CLS_DENORMAL || cb === CLS_DENORMAL || (pb === OPND && f.opndDenormal)) f.ex |= SW_DE;
  f.unpackReg(UA, pa);
  f.unpackReg(UB, pb);
  return relUnpacked(UA, UB);
}

/** FCOM-family compare of ST(0) with register `src` (physical, or OPND for a memory/integer
 *  operand); then pop `pops` times. `quiet`: the FUCOM forms. */
export function compareOp(f: Fpu, src: number, pops: number, quiet: boolean): void {
  const p = f.top;
  f.c1 = 0;
  if (f.isEmpty(p) || (src !== OPND && f.isEmpty(src))) {
    if (f.underflow()) for (let k = 0; k < pops; k++) f.pop();
    f.commitCC(SW_C3 | SW_C2 | SW_C0);
    return;
  }
  const rel = relate(f, p, src, quiet);
  const unmasked = f.ex & ~f.cw & (SW_IE | SW_DE);
  // an unmasked #IA leaves C3/C2/C0 alone (SDM); any unmasked pre-computation exception stops the pop
  const cc = (unmasked & SW_IE) !== 0 ? f.sw & (SW_C0 | SW_C2 | SW_C3) : CC_OF[rel]!;
  if (unmasked === 0) for (let k = 0; k < pops; k++) f.pop();
  f.commitCC(cc);
}

/** FTST: compare ST(0) with +0.0. */
export function ftst(f: Fpu): void {
  f.setZero(OPND, 0);
  f.opndDenormal = false;
  compareOp(f, OPND, 0, false);
}

/** FCOMI/FCOMIP (quiet=false) and FUCOMI/FUCOMIP: result in EFLAGS ZF/PF/CF; OF/SF/AF cleared. */
export function fcomi(f: Fpu, src: number, popAfter: boolean, quiet: boolean): void {
  const p = f.top;
  f.c1 = 0;
  let rel: number;
  if (f.isEmpty(p) || f.isEmpty(src)) {
    f.underflow();
    rel = REL_UN;
  } else {
    rel = relate(f, p, src, quiet);
  }
  const unmasked = f.ex & ~f.cw & (SW_IE | SW_DE);
  if ((unmasked & SW_IE) !== 0) {
    // flags left as they are (OF, SF, AF still cleared)
    const fl = f.host.eflags;
    f.host.setEflagsZPC((fl & 0x40) !== 0, (fl & 0x04) !== 0, (fl & 0x01) !== 0);
  } else {
    f.host.setEflagsZPC(rel === REL_EQ || rel === REL_UN, rel === REL_UN, rel === REL_LT || rel === REL_UN);
  }
  if (popAfter && unmasked === 0) f.pop();
  f.commit(); // C1 = 0; C0, C2, C3 unaffected
}

/** FXAM: classify ST(0) into C3 C2 C0, sign into C1 (even when empty). */
export function fxam(f: Fpu): void {
  const p = f.top;
  let cc: number;
  if (f.isEmpty(p)) cc = SW_C3 | SW_C0;
  else {
    switch (f.classOf(p)) {
      case CLS_ZERO: cc = SW_C3; break;
      case CLS_NORMAL: cc = SW_C2; break;
      case CLS_DENORMAL: cc = SW_C3 | SW_C2; break;
      case CLS_INF: cc = SW_C2 | SW_C0; break;
      case CLS_QNAN: case CLS_SNAN: cc = SW_C0; break;
      default: cc = 0; break; // unsupported
    }
  }
  if (f.signOf(p) !== 0) cc |= SW_C1;
  f.commitCC(cc);
}
