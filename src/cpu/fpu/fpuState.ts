// Checking and upgrading x87 snapshot state (Fpu.saveState/loadState). Format 2 keeps the eight
// registers as 80-bit images. Format 1 (no `format` field; written by the float64 unit of earlier
// versions) kept doubles with exact 80-bit shadows where a double could not hold the value; every
// such register converts exactly: the shadow image when present, else the double's 80-bit image.

import { PK, UA, packExt, unpackDouble } from './fpuFormats.js';

/** A validated state, ready to apply. */
export interface CheckedFpuState {
  regs: Uint32Array;
  empty: number; top: number; cw: number; sw: number;
  fip: number; fcs: number; fdp: number; fds: number; fop: number;
  mxcsr: number; mxcsrMask: number;
  xmm: Int32Array;
  ferrAsserted: boolean;
}

function fail(what: string): never {
  throw new TypeError(`x87 state: ${what}`);
}

function word(v: unknown, bits: number, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(`${what} is not an integer`);
  if (bits === 32 ? v < -0x80000000 || v > 0xffffffff : v < 0 || v >= 2 ** bits) fail(`${what} is out of range`);
  return v;
}

function words(v: unknown, n: number, bits: number, what: string): number[] {
  if (!Array.isArray(v) || v.length !== n) fail(`${what} must be ${n} numbers`);
  return v.map((x, i) => word(x, bits, `${what}[${i}]`));
}

/** Check a saved state (format 2, or format 1 converted exactly) without touching any unit. */
export function loadFpuState(raw: unknown): CheckedFpuState {
  if (typeof raw !== 'object' || raw === null) fail('not an object');
  const s = raw as Record<string, unknown>;
  const regs = new Uint32Array(27);
  if (s.format === 2 || s.format === 3) {
    const r = words(s.regs, 24, 32, 'regs');
    for (let p = 0; p < 8; p++) {
      if (r[3 * p]! > 0xffff) fail(`regs[${3 * p}] (sign and exponent) is out of range`);
    }
    regs.set(r);
  } else if (s.format === undefined && Array.isArray(s.st)) {
    // format 1: doubles (lo, hi words) with 80-bit shadows where the shadow kind's low bits are set
    const st = words(s.st, 16, 32, 'st');
    const kinds = words(s.ext, 8, 8, 'ext');
    const img = words(s.extImg, 24, 32, 'extImg');
    const dw = new Uint32Array(2);
    for (let p = 0; p < 8; p++) {
      if ((kinds[p]! & 3) !== 0) {
        regs[3 * p] = img[3 * p]! & 0xffff;
        regs[3 * p + 1] = img[3 * p + 1]!;
        regs[3 * p + 2] = img[3 * p + 2]!;
      } else {
        dw[0] = st[2 * p]!;
        dw[1] = st[2 * p + 1]!;
        unpackDouble(UA, dw, 0);
        packExt(UA);
        regs[3 * p] = PK.se;
        regs[3 * p + 1] = PK.hi;
        regs[3 * p + 2] = PK.lo;
      }
    }
  } else {
    fail(`unknown format ${JSON.stringify(s.format)} (this version reads formats 1 to 3)`);
  }
  // XMM0-7 until format 3, XMM0-15 since; the registers a state lacks read as zero.
  const xmm = new Int32Array(64);
  xmm.set(words(s.xmm, s.format === 3 ? 64 : 32, 32, 'xmm'));
  if (typeof s.ferrAsserted !== 'boolean') fail('ferrAsserted is not a boolean');
  return {
    regs,
    empty: word(s.empty, 8, 'empty'),
    top: word(s.top, 3, 'top'),
    cw: word(s.cw, 16, 'cw'),
    sw: word(s.sw, 16, 'sw'),
    fip: word(s.fip, 32, 'fip') >>> 0,
    fcs: word(s.fcs, 16, 'fcs'),
    fdp: word(s.fdp, 32, 'fdp') >>> 0,
    fds: word(s.fds, 16, 'fds'),
    fop: word(s.fop, 11, 'fop'),
    mxcsr: word(s.mxcsr, 32, 'mxcsr') >>> 0,
    mxcsrMask: word(s.mxcsrMask, 32, 'mxcsrMask') >>> 0,
    xmm,
    ferrAsserted: s.ferrAsserted,
  };
}
