// Reference values of the x87 transcendentals (test-only code): 300-bit BigInt fixed-point
// evaluations by series, returned as rationals for oracle.ts's roundExt. FSIN/FCOS/FPTAN reduce by
// the 66-bit π the hardware uses (SDM vol. 1 §8.3.10), exactly.

import type { Rat } from './oracle.js';

const F = 300n;
const ONE = 1n << F;

/** n/d (d a power of two, as every binary value's denominator is) in fixed point. */
function fix([n, d]: Rat): bigint {
  const k = BigInt(d.toString(2).length - 1);
  return k <= F ? n << (F - k) : n >> (k - F);
}
const mul = (a: bigint, b: bigint): bigint => (a * b) / ONE; // truncating: a series of negative terms reaches 0
const div = (a: bigint, b: bigint): bigint => (a << F) / b;
const asRat = (v: bigint): Rat => [v, ONE];

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt((n.toString(2).length >> 1) + 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}
const sqrt = (a: bigint): bigint => isqrt(a << F);

/** Σ over the series until the terms vanish. */
function sinCos(r: bigint): [bigint, bigint] {
  const r2 = mul(r, r);
  let s = r, c = ONE, ts = r, tc = ONE;
  for (let k = 1n; ts !== 0n || tc !== 0n; k++) {
    ts = -mul(ts, r2) / ((2n * k) * (2n * k + 1n));
    tc = -mul(tc, r2) / ((2n * k - 1n) * (2n * k));
    s += ts;
    c += tc;
  }
  return [s, c];
}

/** atan t for |t| <= 1 (three halvings, then the series). */
function atan(t: bigint): bigint {
  let u = t;
  for (let k = 0; k < 3; k++) u = div(u, ONE + sqrt(ONE + mul(u, u)));
  const u2 = mul(u, u);
  let sum = 0n, term = u;
  for (let k = 0n; term !== 0n; k++) {
    sum += (k % 2n === 0n ? 1n : -1n) * term / (2n * k + 1n);
    term = mul(term, u2);
  }
  return sum * 8n;
}

/** ln m for m in [1/2, 2]: 2 atanh((m - 1)/(m + 1)). */
function ln(m: bigint): bigint {
  const s = div(m - ONE, m + ONE), s2 = mul(s, s);
  let sum = 0n, term = s;
  for (let k = 0n; term !== 0n; k++) {
    sum += term / (2n * k + 1n);
    term = mul(term, s2);
  }
  return 2n * sum;
}

const LN2 = ln(2n * ONE);
const PI = atan(ONE) * 4n;

/** log2 x for x > 0 given as a rational (exponent split off exactly). */
function log2(x: Rat): bigint {
  let [n, d] = x;
  let e = 0n;
  while (n >= 2n * d) { d *= 2n; e++; }
  while (n < d) { n *= 2n; e--; }
  return e * ONE + div(ln(fix([n, d])), LN2);
}

/** e^t - 1 for |t| <= 1. */
function expm1(t: bigint): bigint {
  let sum = 0n, term = t;
  for (let k = 2n; term !== 0n; k++) {
    sum += term;
    term = mul(term, t) / k;
  }
  return sum;
}

/** x - k π66/2 with |result| <= π66/4, and k mod 4 (x exactly, as a rational). */
function reduce(x: Rat): [bigint, number] {
  const P = 0x3243f6a8885a308d3n; // π66/2 × 2^65
  // x × 2^65 / P, to nearest
  const [n, d] = x;
  const num = n << 65n;
  let k = num / (d * P);
  let r: Rat = [num - k * d * P, d << 65n]; // in units where π66/2 = P / 2^65
  if (2n * r[0] > d * P) { k += 1n; r = [r[0] - d * P, r[1]]; }
  if (2n * r[0] < -(d * P)) { k -= 1n; r = [r[0] + d * P, r[1]]; }
  return [fix(r), Number(((k % 4n) + 4n) % 4n)];
}

export type Trans = 'sin' | 'cos' | 'tan' | 'f2xm1' | 'yl2x' | 'yl2xp1' | 'atan2';

/** The function's exact value (to 300 bits) at x (and y for the two-operand ones). */
export function transRef(fn: Trans, x: Rat, y: Rat = [0n, 1n]): Rat {
  if (fn === 'sin' || fn === 'cos' || fn === 'tan') {
    const neg = x[0] < 0n;
    const [r, q] = reduce(neg ? [-x[0], x[1]] : x);
    let [s, c] = sinCos(r);
    for (let i = 0; i < q; i++) [s, c] = [c, -s]; // rotate by π/2 per quadrant
    if (neg) s = -s;
    if (fn === 'sin') return asRat(s);
    if (fn === 'cos') return asRat(c);
    return asRat(div(s, c));
  }
  if (fn === 'f2xm1') return asRat(expm1(mul(fix(x), LN2)));
  if (fn === 'yl2x') return asRat(mul(fix(y), log2(x)));
  if (fn === 'yl2xp1') return asRat(mul(fix(y), div(ln(ONE + fix(x)), LN2)));
  // atan2(y, x)
  const ax = x[0] < 0n ? -fix(x) : fix(x), ay = y[0] < 0n ? -fix(y) : fix(y);
  let a = ay <= ax ? atan(div(ay, ax)) : PI / 2n - atan(div(ax, ay));
  if (x[0] < 0n) a = PI - a;
  return asRat(y[0] < 0n ? -a : a);
}
