// SHA-256 (FIPS 180-4) for code that runs in Node and in a browser (snapshot state files,
// record/replay start identities). Node's OpenSSL digest is used where the host has it;
// elsewhere (a browser Worker, where WebCrypto's digest is asynchronous only) a plain
// implementation of the standard's compression function.

interface NodeHash { update(b: Uint8Array): NodeHash; digest(): Uint8Array; copy(): NodeHash }
type NodeCrypto = { createHash(alg: string): NodeHash };
const nodeCrypto: NodeCrypto | null =
  typeof process === 'object' && typeof process.getBuiltinModule === 'function' ? (process.getBuiltinModule('node:crypto') as NodeCrypto) : null;

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

function sha256Js(data: Uint8Array): Uint8Array {
  const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  // Message, a 0x80 byte, zeros, and the bit length (big-endian 64-bit) to a 64-byte multiple.
  const total = ((data.length + 9 + 63) >>> 6) << 6;
  const tail = new Uint8Array(total - (data.length & ~63));
  tail.set(data.subarray(data.length & ~63));
  tail[data.length & 63] = 0x80;
  const tv = new DataView(tail.buffer);
  tv.setUint32(tail.length - 8, Math.floor(data.length / 0x20000000));
  tv.setUint32(tail.length - 4, (data.length << 3) >>> 0);
  const w = new Uint32Array(64);
  const block = (b: Uint8Array, at: number): void => {
    for (let i = 0; i < 16; i++) w[i] = (b[at + 4 * i]! << 24) | (b[at + 4 * i + 1]! << 16) | (b[at + 4 * i + 2]! << 8) | b[at + 4 * i + 3]!;
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15]!, y = w[i - 2]!;
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = w[i - 16]! + s0 + w[i - 7]! + s1;
    }
    let a = h[0]!, bb = h[1]!, c = h[2]!, d = h[3]!, e = h[4]!, f = h[5]!, g = h[6]!, hh = h[7]!;
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (hh + S1 + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & bb) ^ (a & c) ^ (bb & c))) | 0;
      hh = g; g = f; f = e; e = (d + t1) | 0; d = c; c = bb; bb = a; a = (t1 + t2) | 0;
    }
    h[0] = h[0]! + a; h[1] = h[1]! + bb; h[2] = h[2]! + c; h[3] = h[3]! + d; h[4] = h[4]! + e; h[5] = h[5]! + f; h[6] = h[6]! + g; h[7] = h[7]! + hh;
  };
  const whole = data.length & ~63;
  for (let at = 0; at < whole; at += 64) block(data, at);
  for (let at = 0; at < tail.length; at += 64) block(tail, at);
  const out = new Uint8Array(32);
  const ov = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) ov.setUint32(4 * i, h[i]!);
  return out;
}

/** The SHA-256 digest of `data` (32 bytes). */
export function sha256(data: Uint8Array): Uint8Array {
  return nodeCrypto !== null ? new Uint8Array(nodeCrypto.createHash('sha256').update(data).digest()) : sha256Js(data);
}

/**
 * SHA-256 of data given in pieces (a log as it is written): Node's incremental digest, or
 * in a browser the pieces kept and hashed at digest() (the logs it serves are small).
 */
export class Sha256Stream {
  private readonly node: NodeHash | null;
  private parts: Uint8Array[] = [];

  constructor(from?: { node: NodeHash | null; parts: Uint8Array[] }) {
    this.node = from !== undefined ? from.node : nodeCrypto !== null ? nodeCrypto.createHash('sha256') : null;
    if (from !== undefined) this.parts = from.parts.slice();
  }

  update(data: Uint8Array): this {
    if (this.node !== null) this.node.update(data); else this.parts.push(data.slice());
    return this;
  }

  /** An independent copy of the state so far (digest() ends a stream). */
  copy(): Sha256Stream {
    return new Sha256Stream({ node: this.node !== null ? this.node.copy() : null, parts: this.parts });
  }

  digest(): Uint8Array {
    if (this.node !== null) return new Uint8Array(this.node.digest());
    let n = 0;
    for (const p of this.parts) n += p.length;
    const all = new Uint8Array(n);
    n = 0;
    for (const p of this.parts) { all.set(p, n); n += p.length; }
    return sha256Js(all);
  }
}

/** For the tests: the portable implementation alone. */
export const sha256Portable = sha256Js;

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += (b < 16 ? '0' : '') + b.toString(16);
  return s;
}
