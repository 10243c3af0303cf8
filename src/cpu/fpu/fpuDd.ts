// Double-double arithmetic (about 104 significant bits: a value is hi + lo with |lo| <= ulp(hi)/2)
// and the function kernels the x87 transcendentals are built on: sin and cos on [-π/4, π/4],
// atan, expm1 and ln on reduced ranges, each with a truncation error below 2^-106 and a rounding
// error of a few 2^-104, so the 64-bit results come out correctly rounded but for values within a
// few 2^-40 ulp of a rounding boundary. Values live in the typed "registers" of D (value k is
// D[2k] + D[2k+1]) and the operations take register numbers, so nothing allocates. Error-free
// steps: TwoSum (Knuth) and Dekker's product (operands below 2^996; the kernels stay far inside).

/** Double-double registers. */
export const D = new Float64Array(2 * 96);

// register numbers: 0-15 for callers, 16-31 scratch of the operations, 32+ constants
const T0 = 16, T1 = 17, T2 = 18, T3 = 19, T4 = 20, T5 = 21, T6 = 22, T7 = 23;
export const K_PI = 32, K_PI2 = 33, K_PI4 = 34, K_LN2 = 35, K_LOG2E = 36;
/** 1/n! for n = 0..31 at 40 + n; 1/(2k+1) for k = 0..23 at 72 + k. */
const K_FACT = 40, K_ODD = 72;

const SPLITTER = 134217729; // 2^27 + 1

function put(r: number, hi: number, lo: number): void {
  // renormalize (fast TwoSum: |hi| >= |lo| or hi = 0)
  const s = hi + lo;
  D[2 * r] = s;
  D[2 * r + 1] = lo - (s - hi);
}

/** a × b - p exactly, where p = fl(a × b). */
function prodErr(a: number, b: number, p: number): number {
  let c = SPLITTER * a;
  const ah = c - (c - a), al = a - ah;
  c = SPLITTER * b;
  const bh = c - (c - b), bl = b - bh;
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

export function ddSet(r: number, hi: number, lo: number): void {
  put(r, hi, lo);
}

export function ddCopy(r: number, a: number): void {
  D[2 * r] = D[2 * a]!;
  D[2 * r + 1] = D[2 * a + 1]!;
}

export function ddNeg(r: number, a: number): void {
  D[2 * r] = -D[2 * a]!;
  D[2 * r + 1] = -D[2 * a + 1]!;
}

/** r := a + b. */
export function ddAdd(r: number, a: number, b: number): void {
  const ah = D[2 * a]!, al = D[2 * a + 1]!, bh = D[2 * b]!, bl = D[2 * b + 1]!;
  let s = ah + bh;
  let v = s - ah;
  let e = (ah - (s - v)) + (bh - v);
  const t = al + bl;
  v = t - al;
  const f = (al - (t - v)) + (bl - v);
  e += t;
  let h = s + e;
  e -= h - s;
  e += f;
  s = h + e;
  D[2 * r] = s;
  D[2 * r + 1] = e - (s - h);
}

/** r := a - b. */
export function ddSub(r: number, a: number, b: number): void {
  ddNeg(T7, b);
  ddAdd(r, a, T7);
}

/** r := a + x (a double). */
export function ddAddD(r: number, a: number, x: number): void {
  D[2 * T6] = x;
  D[2 * T6 + 1] = 0;
  ddAdd(r, a, T6);
}

/** r := a × b. */
export function ddMul(r: number, a: number, b: number): void {
  const ah = D[2 * a]!, al = D[2 * a + 1]!, bh = D[2 * b]!, bl = D[2 * b + 1]!;
  const p = ah * bh;
  put(r, p, prodErr(ah, bh, p) + (ah * bl + al * bh));
}

/** r := a × x (a double). */
export function ddMulD(r: number, a: number, x: number): void {
  const ah = D[2 * a]!, al = D[2 * a + 1]!;
  const p = ah * x;
  put(r, p, prodErr(ah, x, p) + al * x);
}

/** r := a / b (three quotient digits). */
export function ddDiv(r: number, a: number, b: number): void {
  const bh = D[2 * b]!;
  const q1 = D[2 * a]! / bh;
  ddMulD(T0, b, q1);
  ddSub(T1, a, T0);
  const q2 = D[2 * T1]! / bh;
  ddMulD(T0, b, q2);
  ddSub(T1, T1, T0);
  const q3 = D[2 * T1]! / bh;
  put(r, q1, q2);
  ddAddD(r, r, q3);
}

/** r := a / x (a double). */
export function ddDivD(r: number, a: number, x: number): void {
  D[2 * T5] = x;
  D[2 * T5 + 1] = 0;
  ddDiv(r, a, T5);
}

/** r := sqrt(a), a > 0. */
export function ddSqrt(r: number, a: number): void {
  const s = Math.sqrt(D[2 * a]!);
  const p = s * s;
  D[2 * T0] = p;
  D[2 * T0 + 1] = prodErr(s, s, p);
  ddSub(T1, a, T0);
  put(r, s, D[2 * T1]! / (2 * s));
}

// ---------------------------------------------------------------- kernels

/** Horner: r := c[n] + x (c[n-step] + x (...)) over the constants at `base` + n, n - step, ... 0
 *  (with alternating signs when `alt`), for x in register x. Uses T2. */
function horner(r: number, x: number, base: number, first: number, last: number, step: number, alt: boolean): void {
  ddCopy(T2, base + first);
  let sign = alt && ((first - last) / step) % 2 === 1 ? -1 : 1;
  if (sign < 0) ddNeg(T2, T2);
  for (let n = first - step; n >= last; n -= step) {
    ddMul(T2, T2, x);
    sign = alt && ((n - last) / step) % 2 === 1 ? -1 : 1;
    if (sign > 0) ddAdd(T2, T2, base + n);
    else ddSub(T2, T2, base + n);
  }
  ddCopy(r, T2);
}

/** sin and cos of r (|r| <= 0.8): S := sin r, C := cos r. */
export function sinCos(S: number, C: number, r: number): void {
  ddMul(T3, r, r);
  // sin r = r (1 - r²/3! + r⁴/5! - ... + r^26/27!), cos r = 1 - r²/2! + ... + r^28/28!
  horner(T4, T3, K_FACT, 27, 1, 2, true);
  ddMul(S, T4, r);
  horner(C, T3, K_FACT, 28, 0, 2, true);
}

/** atan of u, |u| <= 0.1: u (1 - u²/3 + u⁴/5 - ... - u^32/33). */
function atanSeries(r: number, u: number): void {
  ddMul(T3, u, u);
  horner(T4, T3, K_ODD, 16, 0, 1, true);
  ddMul(r, T4, u);
}

/** r := atan(t) for 0 <= t <= 1. */
export function atan01(r: number, t: number): void {
  let quarter = false;
  ddCopy(T5, t);
  if (D[2 * t]! > 0.41421356237309503) { // tan(π/8): atan t = π/4 + atan((t - 1)/(t + 1))
    ddAddD(T3, t, -1);
    ddAddD(T4, t, 1);
    ddDiv(T5, T3, T4);
    quarter = true;
  }
  // two halvings: atan u = 2 atan(u / (1 + sqrt(1 + u²)))
  for (let k = 0; k < 2; k++) {
    ddMul(T3, T5, T5);
    ddAddD(T3, T3, 1);
    ddSqrt(T4, T3);
    ddAddD(T4, T4, 1);
    ddDiv(T5, T5, T4);
  }
  atanSeries(r, T5);
  ddMulD(r, r, 4);
  if (quarter) ddAdd(r, r, K_PI4);
}

/** r := e^t - 1 for |t| <= 0.7: the series at t / 256, then eight doublings
 *  (e^2u - 1 = (e^u - 1)(e^u - 1 + 2)). */
export function expm1(r: number, t: number): void {
  ddMulD(T5, t, 1 / 256);
  horner(T4, T5, K_FACT, 12, 1, 1, false); // 1 + u/2! + ... + u^11/12!
  ddMul(r, T4, T5);
  for (let k = 0; k < 8; k++) {
    ddAddD(T3, r, 2);
    ddMul(r, r, T3);
  }
}

/** r := 2 atanh(s) = 2 (s + s³/3 + ... + s^41/41) for |s| <= 0.18 (that is ln((1 + s)/(1 - s))). */
export function atanh2(r: number, s: number): void {
  ddMul(T3, s, s);
  horner(T4, T3, K_ODD, 20, 0, 1, false);
  ddMul(r, T4, s);
  ddMulD(r, r, 2);
}

/** r := ln m for m in [0.7, 1.42]: 2 atanh((m - 1)/(m + 1)). */
export function lnNear1(r: number, m: number): void {
  ddAddD(T3, m, -1);
  ddAddD(T4, m, 1);
  ddDiv(T5, T3, T4);
  atanh2(r, T5);
}

// ---------------------------------------------------------------- constants

/** Bits of the constants (double hi, lo), from a 400-bit BigInt evaluation (Machin's formula for
 *  π, 2 atanh(1/3) for ln 2). */
function bits(r: number, hi: bigint, lo: bigint): void {
  const u = new BigUint64Array(2);
  const f = new Float64Array(u.buffer);
  u[0] = hi; u[1] = lo;
  D[2 * r] = f[0]!;
  D[2 * r + 1] = f[1]!;
}
bits(K_PI, 0x400921fb54442d18n, 0x3ca1a62633145c07n);
bits(K_PI2, 0x3ff921fb54442d18n, 0x3c91a62633145c07n);
bits(K_PI4, 0x3fe921fb54442d18n, 0x3c81a62633145c07n);
bits(K_LN2, 0x3fe62e42fefa39efn, 0x3c7abc9e3b39803fn);
bits(K_LOG2E, 0x3ff71547652b82fen, 0x3c7777d0ffda0d24n);
ddSet(K_FACT, 1, 0);
for (let n = 1; n < 32; n++) ddDivD(K_FACT + n, K_FACT + n - 1, n);
for (let k = 0; k < 24; k++) {
  ddSet(T3, 1, 0);
  ddDivD(K_ODD + k, T3, 2 * k + 1);
}
