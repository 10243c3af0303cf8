// Exact reference for x87 arithmetic (test-only code, BigInt): operands become rationals, the exact
// result is rounded to the 80-bit register format with a 24-, 53- or 64-bit significand (CW.PC) and
// the 15-bit exponent range, under each rounding control, with the x87's masked-exception responses
// as the SDM states them (vol. 1 §4.9.1.4-5, §8.5.4-5): tininess detected after rounding with an
// unbounded exponent; a tiny result rounded onto the denormal grid at the precision's position in
// the significand field; masked overflow to infinity or the largest number of the precision.
// Also binary64 rounding for m64 stores.

export type Rat = [bigint, bigint]; // n / d, d > 0

export interface Rounded {
  /** The 80-bit result image "se:hi:lo" (hex), or for binary64 the bits "hi:lo". */
  image: string;
  inexact: boolean;
  /** Magnitude rounded up (C1). */
  up: boolean;
  overflow: boolean;
  /** Underflow as flagged with the exception masked: tiny after rounding and inexact. */
  underflow: boolean;
}

const bitLen = (v: bigint): number => (v === 0n ? 0 : v.toString(2).length);
const hex = (v: bigint | number, n: number): string => v.toString(16).padStart(n, '0');

/** The rational value of a finite 80-bit image (denormals and pseudo-denormals included). */
export function ratOfImage(se: number, hi: number, lo: number): Rat {
  const e = se & 0x7fff;
  let m = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  if (se & 0x8000) m = -m;
  const k = (e === 0 ? 1 : e) - 16383 - 63;
  return k >= 0 ? [m << BigInt(k), 1n] : [m, 1n << BigInt(-k)];
}

export function ratOfDouble(x: number): Rat {
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

export const add = ([n1, d1]: Rat, [n2, d2]: Rat): Rat => [n1 * d2 + n2 * d1, d1 * d2];
export const neg = ([n, d]: Rat): Rat => [-n, d];
export const mul = ([n1, d1]: Rat, [n2, d2]: Rat): Rat => [n1 * n2, d1 * d2];
export function div([n1, d1]: Rat, [n2, d2]: Rat): Rat {
  let n = n1 * d2, d = d1 * n2;
  if (d < 0n) { n = -n; d = -d; }
  return [n, d];
}

/** |value| = (M + δ) × 2^E with 0 <= δ < 1, δ > 0 exactly when `sticky`; M has at least 200 bits. */
interface Wide { neg: boolean; M: bigint; E: number; sticky: boolean }

function wideOf([n, d]: Rat): Wide {
  const negv = n < 0n;
  const an = negv ? -n : n;
  const s = 200 - (bitLen(an) - bitLen(d));
  const num = s >= 0 ? an << BigInt(s) : an;
  const den = s >= 0 ? d : d << BigInt(-s);
  const M = num / den;
  return { neg: negv, M, E: -s, sticky: num - M * den !== 0n };
}

/** Drop `drop` (> 0) low bits of w.M, rounding per rc: [q, inexact, incremented]. */
function rnd(w: Wide, drop: number, rc: number): [bigint, boolean, boolean] {
  if (drop > bitLen(w.M) + 1) drop = bitLen(w.M) + 1; // everything below half: same outcome
  const q = w.M >> BigInt(drop);
  const rem = w.M - (q << BigInt(drop));
  const half = 1n << BigInt(drop - 1);
  const inexact = rem !== 0n || w.sticky;
  let inc = false;
  if (inexact) {
    if (rc === 0) inc = rem > half || (rem === half && (w.sticky || (q & 1n) === 1n));
    else if (rc === 1) inc = w.neg;
    else if (rc === 2) inc = !w.neg;
  }
  return [inc ? q + 1n : q, inexact, inc];
}

function image(neg: boolean, biased: number, sig: bigint): string {
  return `${hex((neg ? 0x8000 : 0) | biased, 4)}:${hex(sig >> 32n, 8)}:${hex(sig & 0xffffffffn, 8)}`;
}

function roundWide(w: Wide, rc: number, prec: number): Rounded {
  let e = bitLen(w.M) - 1 + w.E;
  let [q, inexact, up] = rnd(w, bitLen(w.M) - prec, rc);
  if (q === 1n << BigInt(prec)) { q >>= 1n; e++; }
  if (e >= -16382) {
    if (e > 16383) {
      const toInf = rc === 0 || (rc === 1 && w.neg) || (rc === 2 && !w.neg);
      const max = ((1n << BigInt(prec)) - 1n) << BigInt(64 - prec);
      return {
        image: toInf ? image(w.neg, 0x7fff, 1n << 63n) : image(w.neg, 0x7ffe, max),
        inexact: true, up: toInf, overflow: true, underflow: false,
      };
    }
    return { image: image(w.neg, e + 16383, q << BigInt(64 - prec)), inexact, up, overflow: false, underflow: false };
  }
  // tiny: onto the denormal grid, 2^(-16382-63) × 2^(64-prec)
  const unit = -16445 + 64 - prec;
  [q, inexact, up] = rnd(w, unit - w.E, rc);
  const field = q << BigInt(64 - prec);
  return { image: image(w.neg, field >= 1n << 63n ? 1 : 0, field), inexact, up, overflow: false, underflow: inexact };
}

/** Round a non-zero rational to the x87 register format (precision prec, rounding control rc:
 *  0 nearest, 1 down, 2 up, 3 chop), exceptions masked. */
export function roundExt(r: Rat, rc: number, prec: number): Rounded {
  return roundWide(wideOf(r), rc, prec);
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt((bitLen(n) >> 1) + 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** The square root of a positive rational whose denominator is a power of two, rounded as roundExt. */
export function sqrtExt([n, d]: Rat, rc: number, prec: number): Rounded {
  // sqrt(n / 2^k) = sqrt(n × 2^(2s - k)) × 2^-s, with 2s - k >= 0 and enough bits
  const k = bitLen(d) - 1;
  const s = Math.ceil(k / 2) + 220;
  const N = n << BigInt(2 * s - k);
  const M = isqrt(N);
  return roundWide({ neg: false, M, E: -s, sticky: M * M !== N }, rc, prec);
}

/** Round a non-zero rational to binary64 bits "hi:lo" (IEEE 754, tininess after rounding). */
export function roundDouble(r: Rat, rc: number): Rounded {
  const w = wideOf(r);
  let e = bitLen(w.M) - 1 + w.E;
  let [q, inexact, up] = rnd(w, bitLen(w.M) - 53, rc);
  if (q === 1n << 53n) { q >>= 1n; e++; }
  const sign = w.neg ? 0x80000000n << 32n : 0n;
  const bits = (v: bigint): string => `${hex((v >> 32n) & 0xffffffffn, 8)}:${hex(v & 0xffffffffn, 8)}`;
  if (e > 1023) {
    const toInf = rc === 0 || (rc === 1 && w.neg) || (rc === 2 && !w.neg);
    return { image: bits(sign | (toInf ? 0x7ffn << 52n : 0x7fefffffffffffffn)), inexact: true, up: toInf, overflow: true, underflow: false };
  }
  if (e >= -1022) {
    return { image: bits(sign | (BigInt(e + 1023) << 52n) | (q & ((1n << 52n) - 1n))), inexact, up, overflow: false, underflow: false };
  }
  [q, inexact, up] = rnd(w, -1074 - w.E, rc);
  return { image: bits(sign | q), inexact, up, overflow: false, underflow: inexact };
}
