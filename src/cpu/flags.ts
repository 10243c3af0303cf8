// Lazy EFLAGS (SDM vol. 1 §3.4.3). Arithmetic instructions record their operands and
// result; the six status flags are computed only when something reads them. Operands
// are kept unshifted together with `lzShift` (24 for byte, 16 for word, 0 for dword),
// so every test is a 32-bit operation on values shifted to put the sign bit at bit 31.

import type { Cpu } from './Cpu.js';
import { FLAG_AF, FLAG_CF, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_ZF, FLAGS_ARITH } from './constants.js';

export const OP_ADD = 0;
export const OP_ADC = 1;
export const OP_SUB = 2;
export const OP_SBB = 3;
/** Result-only: CF/OF/AF were set eagerly, only SF/ZF/PF derive from the result. */
export const OP_RESULT = 4;

/** PF for each byte value: 1 when the count of set bits is even. */
export const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let b = i, n = 0;
  while (b) { n += b & 1; b >>= 1; }
  PARITY[i] = n & 1 ? 0 : 1;
}

/** Lazy mask for ops that set all six flags from the operands. */
export const LAZY_ALL = FLAGS_ARITH;
/** Lazy mask for INC/DEC: CF is left alone. */
export const LAZY_NO_CF = FLAGS_ARITH & ~FLAG_CF;
/** Lazy mask for logic ops and shifts: SF, ZF, PF from the result. */
export const LAZY_SZP = FLAG_SF | FLAG_ZF | FLAG_PF;

export function getCF(c: Cpu): number {
  if ((c.lazyMask & FLAG_CF) === 0) return c.flags & FLAG_CF;
  const sh = c.lzShift;
  const a = (c.lzA << sh) >>> 0, b = (c.lzB << sh) >>> 0, r = (c.lzRes << sh) >>> 0;
  switch (c.lzOp) {
    case OP_ADD: return r < a ? 1 : 0;
    case OP_ADC: return (c.lzCin ? r <= a : r < a) ? 1 : 0;
    case OP_SUB: return a < b ? 1 : 0;
    case OP_SBB: return (c.lzCin ? a <= b : a < b) ? 1 : 0;
    default: return c.flags & FLAG_CF;
  }
}

export function getOF(c: Cpu): boolean {
  if ((c.lazyMask & FLAG_OF) === 0) return (c.flags & FLAG_OF) !== 0;
  const sh = c.lzShift;
  const a = c.lzA, b = c.lzB, r = c.lzRes;
  switch (c.lzOp) {
    case OP_ADD: case OP_ADC: return (((a ^ r) & (b ^ r)) << sh) < 0;
    case OP_SUB: case OP_SBB: return (((a ^ b) & (a ^ r)) << sh) < 0;
    default: return (c.flags & FLAG_OF) !== 0;
  }
}

export function getZF(c: Cpu): boolean {
  if ((c.lazyMask & FLAG_ZF) === 0) return (c.flags & FLAG_ZF) !== 0;
  return (c.lzRes << c.lzShift) === 0;
}

export function getSF(c: Cpu): boolean {
  if ((c.lazyMask & FLAG_SF) === 0) return (c.flags & FLAG_SF) !== 0;
  return (c.lzRes << c.lzShift) < 0;
}

export function getPF(c: Cpu): boolean {
  if ((c.lazyMask & FLAG_PF) === 0) return (c.flags & FLAG_PF) !== 0;
  return PARITY[c.lzRes & 0xff] === 1;
}

export function getAF(c: Cpu): boolean {
  if ((c.lazyMask & FLAG_AF) === 0) return (c.flags & FLAG_AF) !== 0;
  return ((c.lzA ^ c.lzB ^ c.lzRes) & 0x10) !== 0;
}

/** Full EFLAGS value with every lazy bit resolved. */
export function getEflags(c: Cpu): number {
  const m = c.lazyMask;
  if (m === 0) return c.flags;
  let f = c.flags & ~m;
  if (m & FLAG_CF && getCF(c)) f |= FLAG_CF;
  if (m & FLAG_PF && getPF(c)) f |= FLAG_PF;
  if (m & FLAG_AF && getAF(c)) f |= FLAG_AF;
  if (m & FLAG_ZF && getZF(c)) f |= FLAG_ZF;
  if (m & FLAG_SF && getSF(c)) f |= FLAG_SF;
  if (m & FLAG_OF && getOF(c)) f |= FLAG_OF;
  return f;
}

/** Resolve the lazy flags into `flags` (before code that edits flag bits directly). */
export function materializeFlags(c: Cpu): void {
  if (c.lazyMask !== 0) {
    c.flags = getEflags(c);
    c.lazyMask = 0;
  }
}

/** Set one arithmetic flag eagerly, keeping the others as they are. */
export function setFlag(c: Cpu, bit: number, on: boolean): void {
  materializeFlags(c);
  c.flags = on ? c.flags | bit : c.flags & ~bit;
}

/**
 * Evaluate condition code `cc` (the low nibble of Jcc/SETcc/CMOVcc).
 * 0 O, 1 NO, 2 B, 3 AE, 4 E, 5 NE, 6 BE, 7 A, 8 S, 9 NS, A P, B NP, C L, D GE, E LE, F G.
 */
export function testCC(c: Cpu, cc: number): boolean {
  let r: boolean;
  switch (cc >> 1) {
    case 0: r = getOF(c); break;
    case 1: r = getCF(c) !== 0; break;
    case 2: r = getZF(c); break;
    case 3: r = getCF(c) !== 0 || getZF(c); break;
    case 4: r = getSF(c); break;
    case 5: r = getPF(c); break;
    case 6: r = getSF(c) !== getOF(c); break;
    default: r = getZF(c) || getSF(c) !== getOF(c); break;
  }
  return (cc & 1) === 0 ? r : !r;
}

// Recorders used by the instruction groups. `shift` is 24, 16 or 0 for 8/16/32-bit.

export function setAdd(c: Cpu, a: number, b: number, r: number, shift: number): void {
  c.lzOp = OP_ADD; c.lzA = a; c.lzB = b; c.lzRes = r; c.lzShift = shift; c.lazyMask = LAZY_ALL;
}
export function setAdc(c: Cpu, a: number, b: number, r: number, cin: number, shift: number): void {
  c.lzOp = OP_ADC; c.lzA = a; c.lzB = b; c.lzRes = r; c.lzCin = cin; c.lzShift = shift; c.lazyMask = LAZY_ALL;
}
export function setSub(c: Cpu, a: number, b: number, r: number, shift: number): void {
  c.lzOp = OP_SUB; c.lzA = a; c.lzB = b; c.lzRes = r; c.lzShift = shift; c.lazyMask = LAZY_ALL;
}
export function setSbb(c: Cpu, a: number, b: number, r: number, cin: number, shift: number): void {
  c.lzOp = OP_SBB; c.lzA = a; c.lzB = b; c.lzRes = r; c.lzCin = cin; c.lzShift = shift; c.lazyMask = LAZY_ALL;
}
/** INC/DEC: as ADD/SUB with 1, carry kept. */
export function setIncDec(c: Cpu, a: number, r: number, dec: boolean, shift: number): void {
  // CF must be materialized first so the preserved carry is the old one.
  if (c.lazyMask & FLAG_CF) { const cf = getCF(c); c.flags = (c.flags & ~FLAG_CF) | cf; }
  c.lzOp = dec ? OP_SUB : OP_ADD; c.lzA = a; c.lzB = 1; c.lzRes = r; c.lzShift = shift; c.lazyMask = LAZY_NO_CF;
}
/** Logic ops: CF = OF = 0, AF = 0 (undefined on hardware), SF/ZF/PF from the result. */
export function setLogic(c: Cpu, r: number, shift: number): void {
  c.flags &= ~(FLAG_CF | FLAG_OF | FLAG_AF);
  c.lzOp = OP_RESULT; c.lzRes = r; c.lzShift = shift; c.lazyMask = LAZY_SZP;
}
/** Result-only with CF and OF given (shifts, multiplies): AF cleared. */
export function setResultCfOf(c: Cpu, r: number, shift: number, cf: number, of: boolean): void {
  c.flags = (c.flags & ~(FLAG_CF | FLAG_OF | FLAG_AF)) | (cf ? FLAG_CF : 0) | (of ? FLAG_OF : 0);
  c.lzOp = OP_RESULT; c.lzRes = r; c.lzShift = shift; c.lazyMask = LAZY_SZP;
}
