// Exact reference for double arithmetic under the four x87 rounding modes: operands become
// rationals (BigInt), the exact result is rounded to binary64 with subnormals and overflow as
// IEEE 754 specifies (tininess before rounding, as the x87 detects it). Test-only code.

export interface Rounded {
  value: number;
  inexact: boolean;
  /** |value| > |exact| */
  up: boolean;
  overflow: boolean;
  /** tiny before rounding (and non-zero) */
  tiny: boolean;
}

type Rat = [bigint, bigint]; // n / d, d > 0

export function toRat(x: number): Rat {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x);
  const hi = dv.getUint32(0), lo = dv.getUint32(4);
  const exp = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (exp === 0) e = -1074;
  else { m |= 1n << 52n; e = exp - 1075; }
  if (hi >>> 31) m = -m;
  return e >= 0 ? [m << BigInt(e), 1n] : [m, 1n << BigInt(-e)];
}

const bitLen = (v: bigint): number => (v === 0n ? 0 : v.toString(2).length);

export function add(a: number, b: number): Rat {
  const [n1, d1] = toRat(a), [n2, d2] = toRat(b);
  return [n1 * d2 + n2 * d1, d1 * d2];
}
export function mul(a: number, b: number): Rat {
  const [n1, d1] = toRat(a), [n2, d2] = toRat(b);
  return [n1 * n2, d1 * d2];
}
export function div(a: number, b: number): Rat {
  const [n1, d1] = toRat(a), [n2, d2] = toRat(b);
  let n = n1 * d2, d = d1 * n2;
  if (d < 0n) { n = -n; d = -d; }
  return [n, d];
}

/** Round n/d (non-zero) to binary64 with rounding control rc (0 nearest, 1 down, 2 up, 3 chop). */
export function round([n, d]: Rat, rc: number): Rounded {
  const neg = n < 0n;
  const an = neg ? -n : n;
  // e with 2^e <= an/d < 2^(e+1)
  let e = bitLen(an) - bitLen(d);
  const ge = (k: number): boolean => (k >= 0 ? an >= d << BigInt(k) : an << BigInt(-k) >= d);
  if (!ge(e)) e--;
  const tiny = e < -1022;
  const shift = tiny ? 1074 : 52 - e; // q = an/d * 2^shift, integer part has <= 53 bits
  const num = shift >= 0 ? an << BigInt(shift) : an;
  const den = shift >= 0 ? d : d << BigInt(-shift);
  let q = num / den;
  const rem = num - q * den;
  const inexact = rem !== 0n;
  let inc = false;
  if (inexact) {
    if (rc === 0) inc = 2n * rem > den || (2n * rem === den && (q & 1n) === 1n);
    else if (rc === 1) inc = neg;
    else if (rc === 2) inc = !neg;
  }
  if (inc) q += 1n;
  let value: number;
  let overflow = false;
  if (tiny) value = Number(q) * Number.MIN_VALUE;
  else {
    let ee = e;
    if (q === 1n << 53n) { q >>= 1n; ee++; }
    if (ee > 1023) {
      overflow = true;
      const toInf = rc === 0 || (rc === 2 && !neg) || (rc === 1 && neg);
      value = toInf ? Infinity : Number.MAX_VALUE;
      return { value: neg ? -value : value, inexact: true, up: toInf, overflow, tiny };
    }
    value = Number(q) * 2 ** (ee - 52);
  }
  return { value: neg ? -value : value, inexact, up: inc, overflow, tiny };
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  // Newton's iteration from an over-estimate decreases monotonically to floor(sqrt(n))
  let x = 1n << BigInt((bitLen(n) >> 1) + 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** Correctly rounded square root of a positive finite double under rc. */
export function sqrtRounded(x: number, rc: number): Rounded {
  let [n, d] = toRat(x);
  // x = n / d with d a power of two; make it m × 2^e with e even
  let e = -(bitLen(d) - 1);
  let m = n;
  if (e % 2 !== 0) { m <<= 1n; e -= 1; }
  // scale so the integer root has at least 56 bits
  let t = 0;
  while (bitLen(m) + 2 * t < 112) t++;
  const M = m << BigInt(2 * t);
  const q = isqrt(M);
  const sticky = q * q !== M;
  const extra = bitLen(q) - 53; // bits to drop
  let r = q >> BigInt(extra);
  const dropped = q - (r << BigInt(extra));
  const half = 1n << BigInt(extra - 1);
  const inexact = dropped !== 0n || sticky;
  let inc = false;
  if (inexact) {
    if (rc === 0) inc = dropped > half || (dropped === half && (sticky || (r & 1n) === 1n));
    else if (rc === 2) inc = true;
  }
  if (inc) r += 1n;
  const value = Number(r) * 2 ** (e / 2 - t + extra);
  return { value, inexact, up: inc, overflow: false, tiny: false };
}
