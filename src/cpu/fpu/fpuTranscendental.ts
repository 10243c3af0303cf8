// x87 transcendental instructions: F2XM1, FYL2X, FYL2XP1, FPTAN, FPATAN, FSIN, FCOS, FSINCOS
// (SDM vol. 2 pages of those names, with their special-case tables).
//
// Values come from the JavaScript Math library on doubles (round to nearest; CW.RC is not applied
// to these results). Hardware reduces FSIN/FCOS/FPTAN arguments with a 66-bit pi, Math uses an
// exact reduction, so results for large arguments differ in the last bits, as they would from
// any correctly rounded libm. PE is raised unless the result is exact; C1 is reported as 0
// ("not rounded up") since the exact value is unknown.

import type { Fpu } from './Fpu.js';
import {
  CLS_DENORMAL, CLS_INF, CLS_QNAN, CLS_SNAN, CLS_UNSUPPORTED, F64, RC_NEAREST, SW_C1, SW_C2, SW_IE, SW_OE,
  SW_PE, SW_SF, SW_UE, SW_ZE, U32,
} from './fpuConst.js';
import { PK, UA, packDouble, packExt, unpackDouble } from './fpuFormats.js';
import { invalidResult, nan1, nanResult } from './fpuArith.js';
import { unaryPrologue } from './fpuUnary.js';

/** The register's value as the nearest double. */
function dv(f: Fpu, p: number): number {
  f.unpackReg(UA, p);
  packDouble(UA, RC_NEAREST);
  U32[0] = PK.lo; U32[1] = PK.hi;
  return F64[0]!;
}

/** Write a double to register p. */
function setD(f: Fpu, p: number, v: number): void {
  F64[0] = v;
  unpackDouble(UA, U32, 0);
  packExt(UA);
  f.setExt(p, PK.w, 0);
}

function isDenormal(f: Fpu, p: number): boolean {
  return f.classOf(p) === CLS_DENORMAL;
}

/** True if a × b is exactly p. */
function productExact(a: number, b: number, p: number): boolean {
  if (!Number.isFinite(p)) return false;
  if (a === 0 || b === 0) return true;
  const SPLITTER = 134217729;
  let c = SPLITTER * a;
  const ah = c - (c - a), al = a - ah;
  c = SPLITTER * b;
  const bh = c - (c - b), bl = b - bh;
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl === 0;
}

const TWO63 = 2 ** 63;
const MIN_NORMAL = 2 ** -1022;

/** Flags for a computed (finite-input) result r; `exact` when r is known to be exact. */
function resultFlags(f: Fpu, r: number, exact: boolean): void {
  if (!exact) f.ex |= SW_PE;
  if (r !== 0 && Math.abs(r) < MIN_NORMAL && (!exact || (f.cw & SW_UE) === 0)) f.ex |= SW_UE;
  f.c1 = 0;
}

/** Is x (finite, non-zero) an integral power of two? */
function isPow2(x: number): boolean {
  F64[0] = x;
  const hi = U32[1]!;
  return (hi & 0x7ff00000) !== 0 && (hi & 0xfffff) === 0 && U32[0] === 0;
}

/** F2XM1: ST(0) := 2^ST(0) - 1. */
export function f2xm1(f: Fpu): void {
  const p = f.top;
  if (unaryPrologue(f, p)) { f.commit(); return; }
  if (isDenormal(f, p) && !f.denormal()) { f.commit(); return; }
  const x = dv(f, p);
  if (x === 0 || x === Infinity) { f.commit(); return; }
  if (x === -Infinity) { setD(f, p, -1); f.commit(); return; }
  const r = Math.abs(x) < 0.25 ? Math.expm1(x * Math.LN2) : 2 ** x - 1;
  resultFlags(f, r, x === 1 || x === -1);
  setD(f, p, r);
  f.commit();
}

/** Shared shape of FYL2X, FYL2XP1 and FPATAN: x = ST(0), y = ST(1), result to ST(1), pop.
 *  Returns the physical registers of ST(0) (x) and ST(1) via the return value p1, or -1 when the
 *  instruction has been finished (underflow, unsupported operand, NaN). */
function binaryPop(f: Fpu): number {
  const p0 = f.top, p1 = (f.top + 1) & 7;
  if (f.isEmpty(p0) || f.isEmpty(p1)) {
    if (f.underflow()) {
      f.setIndef(p1);
      f.pop();
    }
    return -1;
  }
  const c0 = f.classOf(p0), c1 = f.classOf(p1);
  if (c0 === CLS_UNSUPPORTED || c1 === CLS_UNSUPPORTED) {
    if (invalidResult(f, p1)) f.pop();
    return -1;
  }
  if (c0 === CLS_QNAN || c0 === CLS_SNAN || c1 === CLS_QNAN || c1 === CLS_SNAN) {
    if (nanResult(f, p1, p1, p0)) f.pop();
    return -1;
  }
  if ((c0 === CLS_DENORMAL || c1 === CLS_DENORMAL) && !f.denormal()) return -1;
  return p1;
}

/** Write r to ST(1) and pop. */
function deliverPop(f: Fpu, p1: number, r: number): void {
  setD(f, p1, r);
  f.pop();
}

/** FYL2X: ST(1) := ST(1) × log2(ST(0)), pop. */
export function fyl2x(f: Fpu): void {
  const p1 = binaryPop(f);
  if (p1 < 0) { f.commit(); return; }
  const x = dv(f, f.top), y = dv(f, p1);
  const yInf = y === Infinity || y === -Infinity;
  if (x < 0 || (x === 0 && y === 0) || (x === 1 && yInf) || (x === Infinity && y === 0)) {
    if (invalidResult(f, p1)) f.pop();
    f.commit();
    return;
  }
  if (x === 0) {
    if (!yInf) {
      f.ex |= SW_ZE;
      if ((f.cw & SW_ZE) === 0) { f.commit(); return; }
    }
    deliverPop(f, p1, y < 0 ? Infinity : -Infinity);
    f.commit();
    return;
  }
  const l = Math.log2(x);
  const r = y * l;
  if (x === Infinity || yInf) { deliverPop(f, p1, r); f.commit(); return; }
  if (!Number.isFinite(r)) f.ex |= SW_OE | SW_PE;
  else resultFlags(f, r, isPow2(x) && productExact(y, l, r));
  deliverPop(f, p1, r);
  f.commit();
}

/** FYL2XP1: ST(1) := ST(1) × log2(ST(0) + 1), pop. */
export function fyl2xp1(f: Fpu): void {
  const p1 = binaryPop(f);
  if (p1 < 0) { f.commit(); return; }
  const x = dv(f, f.top), y = dv(f, p1);
  const yInf = y === Infinity || y === -Infinity;
  if (x <= -1 || (x === 0 && yInf) || (x === Infinity && y === 0)) {
    if (invalidResult(f, p1)) f.pop();
    f.commit();
    return;
  }
  const r = y * (Math.log1p(x) * Math.LOG2E);
  if (x === 0 || x === Infinity || yInf) { deliverPop(f, p1, x === 0 ? y * x : r); f.commit(); return; }
  if (!Number.isFinite(r)) f.ex |= SW_OE | SW_PE;
  else resultFlags(f, r, y === 0);
  deliverPop(f, p1, r);
  f.commit();
}

/** FPATAN: ST(1) := arctan(ST(1) / ST(0)) with the quadrant from both signs, pop. */
export function fpatan(f: Fpu): void {
  const p1 = binaryPop(f);
  if (p1 < 0) { f.commit(); return; }
  const x = dv(f, f.top), y = dv(f, p1);
  const r = Math.atan2(y, x);
  resultFlags(f, r, r === 0);
  deliverPop(f, p1, r);
  f.commit();
}

/** Is |v| beyond the ±2^63 operand range of FSIN/FCOS/FSINCOS/FPTAN? */
function outOfRange(v: number): boolean {
  return v >= TWO63 || v <= -TWO63;
}

/** FSIN (cos=false) / FCOS. */
export function fsinOrCos(f: Fpu, cos: boolean): void {
  const p = f.top;
  let c2 = 0;
  if (!unaryPrologue(f, p)) {
    const x = dv(f, p);
    if (x === Infinity || x === -Infinity) invalidResult(f, p);
    else if (outOfRange(x)) c2 = SW_C2;
    else if (!isDenormal(f, p) || f.denormal()) {
      if (x !== 0 || cos) {
        const r = cos ? Math.cos(x) : Math.sin(x);
        resultFlags(f, r, x === 0);
        setD(f, p, r);
      }
    }
  }
  f.sw &= ~SW_C2;
  f.sw |= c2;
  f.commit();
}

/** Prologue of FPTAN/FSINCOS (ST(0) replaced, one value pushed). Returns true when finished. */
function pushingPrologue(f: Fpu): boolean {
  const p = f.top;
  const q = (p - 1) & 7;
  if (f.isEmpty(p) || !f.isEmpty(q)) {
    if (f.isEmpty(p)) f.underflow();
    else { f.ex |= SW_IE | SW_SF; f.c1 = SW_C1; }
    if ((f.cw & SW_IE) !== 0) {
      f.setIndef(p);
      f.setIndef(f.pushSlot());
    }
    return true;
  }
  const c = f.classOf(p);
  if (c === CLS_UNSUPPORTED || c === CLS_INF) {
    if (f.invalid()) {
      f.setIndef(p);
      f.setIndef(f.pushSlot());
    }
    return true;
  }
  if (c === CLS_QNAN || c === CLS_SNAN) {
    if (nan1(f, p, p)) f.copyReg(f.pushSlot(), p);
    return true;
  }
  return false;
}

/** FPTAN: ST(0) := tan(ST(0)), push 1.0. */
export function fptan(f: Fpu): void {
  f.sw &= ~SW_C2;
  if (!pushingPrologue(f)) {
    const p = f.top;
    const x = dv(f, p);
    if (outOfRange(x)) f.sw |= SW_C2;
    else if (!isDenormal(f, p) || f.denormal()) {
      const r = x === 0 ? x : Math.tan(x);
      resultFlags(f, r, x === 0);
      setD(f, p, r);
      setD(f, f.pushSlot(), 1);
    }
  }
  f.commit();
}

/** FSINCOS: ST(0) := sin(ST(0)), push cos. */
export function fsincos(f: Fpu): void {
  f.sw &= ~SW_C2;
  if (!pushingPrologue(f)) {
    const p = f.top;
    const x = dv(f, p);
    if (outOfRange(x)) f.sw |= SW_C2;
    else if (!isDenormal(f, p) || f.denormal()) {
      const s = x === 0 ? x : Math.sin(x);
      const c = x === 0 ? 1 : Math.cos(x);
      resultFlags(f, s, x === 0);
      setD(f, p, s);
      setD(f, f.pushSlot(), c);
    }
  }
  f.commit();
}
