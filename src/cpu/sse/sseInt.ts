// SSE2 integer lane operations on 128-bit vectors (SDM vol. 2, PADDB...PXOR): each reads the
// scratch lanes A (destination) and B (source) of sseState and writes R. Pure functions of
// their operands, no state, no allocation.

import { A16, A32, A8, B16, B32, B8, R16, R32, R8 } from './sseState.js';

const AS8 = new Int8Array(A8.buffer), BS8 = new Int8Array(B8.buffer), RS8 = new Int8Array(R8.buffer);
const AS16 = new Int16Array(A8.buffer), BS16 = new Int16Array(B8.buffer), RS16 = new Int16Array(R8.buffer);
const AS32 = new Int32Array(A8.buffer), BS32 = new Int32Array(B8.buffer);

export type IntOp = () => void;

function sat8s(v: number): number { return v > 127 ? 127 : v < -128 ? -128 : v; }
function sat8u(v: number): number { return v > 255 ? 255 : v < 0 ? 0 : v; }
function sat16s(v: number): number { return v > 32767 ? 32767 : v < -32768 ? -32768 : v; }
function sat16u(v: number): number { return v > 65535 ? 65535 : v < 0 ? 0 : v; }

/** 64-bit lane add/sub on (lo, hi) word pairs. */
function addQ(sub: boolean): void {
  for (let i = 0; i < 4; i += 2) {
    const bl = B32[i]!, bh = B32[i + 1]!;
    const al = A32[i]!, ah = A32[i + 1]!;
    if (!sub) {
      const lo = (al + bl) >>> 0;
      R32[i] = lo; R32[i + 1] = (ah + bh + (lo < al ? 1 : 0)) >>> 0;
    } else {
      const lo = (al - bl) >>> 0;
      R32[i] = lo; R32[i + 1] = (ah - bh - (al < bl ? 1 : 0)) >>> 0;
    }
  }
}

export const paddb: IntOp = () => { for (let i = 0; i < 16; i++) R8[i] = A8[i]! + B8[i]!; };
export const paddw: IntOp = () => { for (let i = 0; i < 8; i++) R16[i] = A16[i]! + B16[i]!; };
export const paddd: IntOp = () => { for (let i = 0; i < 4; i++) R32[i] = A32[i]! + B32[i]!; };
export const paddq: IntOp = () => addQ(false);
export const psubb: IntOp = () => { for (let i = 0; i < 16; i++) R8[i] = A8[i]! - B8[i]!; };
export const psubw: IntOp = () => { for (let i = 0; i < 8; i++) R16[i] = A16[i]! - B16[i]!; };
export const psubd: IntOp = () => { for (let i = 0; i < 4; i++) R32[i] = A32[i]! - B32[i]!; };
export const psubq: IntOp = () => addQ(true);
export const paddsb: IntOp = () => { for (let i = 0; i < 16; i++) RS8[i] = sat8s(AS8[i]! + BS8[i]!); };
export const paddsw: IntOp = () => { for (let i = 0; i < 8; i++) RS16[i] = sat16s(AS16[i]! + BS16[i]!); };
export const paddusb: IntOp = () => { for (let i = 0; i < 16; i++) R8[i] = sat8u(A8[i]! + B8[i]!); };
export const paddusw: IntOp = () => { for (let i = 0; i < 8; i++) R16[i] = sat16u(A16[i]! + B16[i]!); };
export const psubsb: IntOp = () => { for (let i = 0; i < 16; i++) RS8[i] = sat8s(AS8[i]! - BS8[i]!); };
export const psubsw: IntOp = () => { for (let i = 0; i < 8; i++) RS16[i] = sat16s(AS16[i]! - BS16[i]!); };
export const psubusb: IntOp = () => { for (let i = 0; i < 16; i++) R8[i] = sat8u(A8[i]! - B8[i]!); };
export const psubusw: IntOp = () => { for (let i = 0; i < 8; i++) R16[i] = sat16u(A16[i]! - B16[i]!); };
export const pmullw: IntOp = () => { for (let i = 0; i < 8; i++) R16[i] = Math.imul(A16[i]!, B16[i]!); };
export const pmulhw: IntOp = () => { for (let i = 0; i < 8; i++) R16[i] = (AS16[i]! * BS16[i]!) >> 16; };
export const pmulhuw: IntOp = () => { for (let i = 0; i < 8; i++) R16[i] = (A16[i]! * B16[i]!) / 65536; };
export const pmuludq: IntOp = () => {
  for (let i = 0; i < 4; i += 2) {
    const a = A32[i]!, b = B32[i]!;
    // 32×32 → 64 exactly from 16-bit halves
    const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
    const ll = al * bl, mid = ah * bl + al * bh, hh = ah * bh;
    const lo = ll + (mid % 65536) * 65536;
    R32[i] = lo >>> 0;
    R32[i + 1] = (hh + Math.floor(mid / 65536) + Math.floor(lo / 4294967296)) >>> 0;
  }
};
export const pmaddwd: IntOp = () => {
  for (let i = 0; i < 4; i++) R32[i] = (AS16[2 * i]! * BS16[2 * i]! + AS16[2 * i + 1]! * BS16[2 * i + 1]!) | 0;
};
export const pand: IntOp = () => { for (let i = 0; i < 4; i++) R32[i] = A32[i]! & B32[i]!; };
export const pandn: IntOp = () => { for (let i = 0; i < 4; i++) R32[i] = ~A32[i]! & B32[i]!; };
export const por: IntOp = () => { for (let i = 0; i < 4; i++) R32[i] = A32[i]! | B32[i]!; };
export const pxor: IntOp = () => { for (let i = 0; i < 4; i++) R32[i] = A32[i]! ^ B32[i]!; };
export const pcmpeqb: IntOp = () => { for (let i = 0; i < 16; i++) R8[i] = A8[i] === B8[i] ? 0xff : 0; };
export const pcmpeqw: IntOp = () => { for (let i = 0; i < 8; i++) R16[i] = A16[i] === B16[i] ? 0xffff : 0; };
export const pcmpeqd: IntOp = () => { for (let i = 0; i < 4; i++) R32[i] = A32[i] === B32[i] ? 0xffffffff : 0; };
export const pcmpgtb: IntOp = () => { for (let i = 0; i < 16; i++) R8[i] = AS8[i]! > BS8[i]! ? 0xff : 0; };
export const pcmpgtw: IntOp = () => { for (let i = 0; i < 8; i++) R16[i] = AS16[i]! > BS16[i]! ? 0xffff : 0; };
export const pcmpgtd: IntOp = () => { for (let i = 0; i < 4; i++) R32[i] = AS32[i]! > BS32[i]! ? 0xffffffff : 0; };
export const pmaxub: IntOp = () => { for (let i = 0; i < 16; i++) R8[i] = Math.max(A8[i]!, B8[i]!); };
export const pminub: IntOp = () => { for (let i = 0; i < 16; i++) R8[i] = Math.min(A8[i]!, B8[i]!); };
export const pmaxsw: IntOp = () => { for (let i = 0; i < 8; i++) RS16[i] = Math.max(AS16[i]!, BS16[i]!); };
export const pminsw: IntOp = () => { for (let i = 0; i < 8; i++) RS16[i] = Math.min(AS16[i]!, BS16[i]!); };
export const pavgb: IntOp = () => { for (let i = 0; i < 16; i++) R8[i] = (A8[i]! + B8[i]! + 1) >> 1; };
export const pavgw: IntOp = () => { for (let i = 0; i < 8; i++) R16[i] = (A16[i]! + B16[i]! + 1) >> 1; };
export const psadbw: IntOp = () => {
  for (let h = 0; h < 2; h++) {
    let s = 0;
    for (let i = 8 * h; i < 8 * h + 8; i++) s += Math.abs(A8[i]! - B8[i]!);
    R32[2 * h] = s; R32[2 * h + 1] = 0;
  }
};
export const packsswb: IntOp = () => {
  for (let i = 0; i < 8; i++) { RS8[i] = sat8s(AS16[i]!); RS8[i + 8] = sat8s(BS16[i]!); }
};
export const packuswb: IntOp = () => {
  for (let i = 0; i < 8; i++) { R8[i] = sat8u(AS16[i]!); R8[i + 8] = sat8u(BS16[i]!); }
};
export const packssdw: IntOp = () => {
  for (let i = 0; i < 4; i++) { RS16[i] = sat16s(AS32[i]!); RS16[i + 4] = sat16s(BS32[i]!); }
};
/** PUNPCKL/H: interleave the low (high) halves of A and B in lanes of `bytes`. */
function unpack(bytes: number, high: boolean): void {
  const off = high ? 8 : 0;
  for (let k = 0, j = 0; k < 8; k += bytes, j += 2 * bytes) {
    for (let b = 0; b < bytes; b++) {
      R8[j + b] = A8[off + k + b]!;
      R8[j + bytes + b] = B8[off + k + b]!;
    }
  }
}
export const punpcklbw: IntOp = () => unpack(1, false);
export const punpcklwd: IntOp = () => unpack(2, false);
export const punpckldq: IntOp = () => unpack(4, false);
export const punpcklqdq: IntOp = () => unpack(8, false);
export const punpckhbw: IntOp = () => unpack(1, true);
export const punpckhwd: IntOp = () => unpack(2, true);
export const punpckhdq: IntOp = () => unpack(4, true);
export const punpckhqdq: IntOp = () => unpack(8, true);

// ---- Shifts: count from B's low 64 bits (register/memory forms) or an immediate.

/** The shift count of the low quadword of B, saturated to 255 (any count ≥ 64 clears). */
export function countOfB(): number {
  return B32[1] !== 0 || B32[0]! > 255 ? 255 : B32[0]!;
}

/** Shift A's lanes of `bits` by n: kind 0 logical right, 1 arithmetic right, 2 left; into R. */
export function shiftLanes(bits: number, kind: number, n: number): void {
  if (bits === 16) {
    for (let i = 0; i < 8; i++) {
      R16[i] = kind === 2 ? (n > 15 ? 0 : A16[i]! << n) : kind === 0 ? (n > 15 ? 0 : A16[i]! >>> n) : AS16[i]! >> (n > 15 ? 15 : n);
    }
  } else if (bits === 32) {
    for (let i = 0; i < 4; i++) {
      R32[i] = kind === 2 ? (n > 31 ? 0 : A32[i]! << n) : kind === 0 ? (n > 31 ? 0 : A32[i]! >>> n) : AS32[i]! >> (n > 31 ? 31 : n);
    }
  } else {
    for (let i = 0; i < 4; i += 2) {
      const lo = A32[i]!, hi = A32[i + 1]!;
      let rl: number, rh: number;
      if (n > 63) { rl = 0; rh = 0; }
      else if (n === 0) { rl = lo; rh = hi; }
      else if (kind === 2) {
        if (n < 32) { rh = (hi << n) | (lo >>> (32 - n)); rl = lo << n; } else { rh = lo << (n - 32); rl = 0; }
      } else if (n < 32) { rl = (lo >>> n) | (hi << (32 - n)); rh = hi >>> n; } else { rl = hi >>> (n - 32); rh = 0; }
      R32[i] = rl; R32[i + 1] = rh;
    }
  }
}

/** PSLLDQ/PSRLDQ: the whole register by n bytes. */
export function shiftBytes(left: boolean, n: number): void {
  for (let i = 0; i < 16; i++) {
    const s = left ? i - n : i + n;
    R8[i] = s >= 0 && s < 16 ? A8[s]! : 0;
  }
}
