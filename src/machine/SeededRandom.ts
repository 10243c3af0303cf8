// A seeded pseudo-random generator for deterministic runs: xoshiro128** (Blackman and
// Vigna, 2018; 128 bits of state, period 2^128 - 1), its state expanded from a 32-bit
// seed by splitmix32. Fast, small, well known, and the same bytes on every host; not
// cryptographic (a deterministic guest's entropy is reproducible by design).

/** splitmix32: the next output for state `s` (Steele, Lea and Flood's finalizer on a Weyl sequence). */
function splitmix32(s: number): number {
  let z = (s + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Throws a RangeError unless `seed` is a whole number from 0 to 2^32 - 1. */
export function checkSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`seed must be a whole number from 0 to 4294967295, got ${seed}`);
}

export class SeededRandom {
  private readonly s = new Uint32Array(4);

  /** @param seed a whole number from 0 to 2^32 - 1 */
  constructor(seed: number) {
    checkSeed(seed);
    let x = seed | 0;
    for (let i = 0; i < 4; i++) {
      this.s[i] = splitmix32(x);
      x = (x + 0x9e3779b9) | 0;
    }
    // splitmix32's outputs are never all zero for four consecutive inputs, but guard the one forbidden state.
    if ((this.s[0]! | this.s[1]! | this.s[2]! | this.s[3]!) === 0) this.s[0] = 1;
  }

  /** The next 32 random bits, as an unsigned number. */
  nextU32(): number {
    const s = this.s;
    const r = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return r;
  }

  /** Fill `bytes` with random bytes (little-endian words, the last one cut short). */
  fill(bytes: Uint8Array): void {
    let i = 0;
    for (; i + 4 <= bytes.length; i += 4) {
      const w = this.nextU32();
      bytes[i] = w & 0xff;
      bytes[i + 1] = (w >>> 8) & 0xff;
      bytes[i + 2] = (w >>> 16) & 0xff;
      bytes[i + 3] = w >>> 24;
    }
    if (i < bytes.length) {
      let w = this.nextU32();
      for (; i < bytes.length; i++, w >>>= 8) bytes[i] = w & 0xff;
    }
  }

  /** The generator's state, for snapshots. */
  saveState(): number[] {
    return [...this.s];
  }

  loadState(words: unknown): void {
    if (!Array.isArray(words) || words.length !== 4 || !words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff)) {
      throw new TypeError('random generator state must be four 32-bit words');
    }
    this.s.set(words as number[]);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
