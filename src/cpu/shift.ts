// Shifts and rotates: group 2 (C0 C1 D0 D1 D2 D3: ROL ROR RCL RCR SHL SHR SAL SAR) and
// the double shifts SHLD/SHRD (0F A4 A5 AC AD) (SDM vol. 2B "RCL/RCR/ROL/ROR",
// "SAL/SAR/SHL/SHR", "SHLD", "SHRD").
//
// The count is masked to 5 bits; a masked count of 0 changes nothing, flags included.
// Shifts set SF/ZF/PF from the result (lazily) and clear AF (undefined). Rotates change
// only CF and OF and leave SF/ZF/PF/AF as they were.
//
// OF is architecturally defined only for 1-bit shifts; for other counts we produce
// what Intel P6-family hardware produces (the same formula for every count):
//   SHL/SAL: MSB(result) XOR CF        SHR: MSB(original)      SAR: 0
//   ROL/RCL: MSB(result) XOR CF        ROR/RCR: XOR of the two top bits of the result
//   SHLD: MSB(result) XOR CF           SHRD: XOR of the two top bits of the result
// CF after SHL/SHR of an 8/16-bit operand by more than its width is 0 (every bit
// shifted out was a zero fill).
//
// 16-bit SHLD/SHRD with a count of 17..31 (result undefined in the SDM): P6-family
// processors shift the 48-bit concatenation dest:src:dest, so
//   SHLD: result = top 16 bits of (src:dest) << (count-16), CF = bit (32-count) of src
//   SHRD: result = low 16 bits of (dest:src) >> (count-16), CF = bit (count-17) of src
// which is what we implement.

import type { Cpu } from './Cpu.js';
import type { Handler, OpTable } from './opcodes.js';
import { FLAG_CF, FLAG_OF } from './constants.js';
import { getCF, setResultCfOf } from './flags.js';

/**
 * Set CF and OF eagerly and leave every other flag as it is (lazy or not): the lazy
 * evaluators of SF/ZF/PF/AF read only the recorded operands, so dropping CF and OF
 * from the lazy mask is enough.
 */
function setCfOfOnly(c: Cpu, cf: number, of: number): void {
  c.lazyMask &= ~(FLAG_CF | FLAG_OF);
  c.flags = (c.flags & ~(FLAG_CF | FLAG_OF)) | (cf !== 0 ? FLAG_CF : 0) | (of !== 0 ? FLAG_OF : 0);
}

/**
 * Apply group-2 operation `op` (ModRM.reg) to `v` (zero-extended operand) of `bits`
 * width by a masked, non-zero `count`; records flags and returns the result.
 */
export function shiftOp(c: Cpu, op: number, v: number, count: number, bits: number): number {
  const mask = bits === 32 ? -1 : (1 << bits) - 1;
  const top = bits - 1;
  v &= mask;
  switch (op) {
    case 0: { // ROL
      const n = count & top;
      const r = n === 0 ? v : ((v << n) | (v >>> (bits - n))) & mask;
      const cf = r & 1;
      setCfOfOnly(c, cf, ((r >>> top) ^ cf) & 1);
      return r;
    }
    case 1: { // ROR
      const n = count & top;
      const r = n === 0 ? v : ((v >>> n) | (v << (bits - n))) & mask;
      const msb = (r >>> top) & 1;
      setCfOfOnly(c, msb, msb ^ ((r >>> (top - 1)) & 1));
      return r;
    }
    case 2: { // RCL: rotate through CF over bits+1 positions
      const cin = getCF(c);
      let r: number, cf: number;
      if (bits === 32) {
        const n = count;
        r = (v << n) | (cin << (n - 1)) | (n === 1 ? 0 : v >>> (33 - n));
        cf = (v >>> (32 - n)) & 1;
      } else {
        const n = count % (bits + 1);
        if (n === 0) { r = v; cf = cin; } else {
          const x = (cin << bits) | v;
          const y = ((x << n) | (x >>> (bits + 1 - n))) & ((mask << 1) | 1);
          r = y & mask;
          cf = (y >>> bits) & 1;
        }
      }
      setCfOfOnly(c, cf, ((r >>> top) ^ cf) & 1);
      return r;
    }
    case 3: { // RCR
      const cin = getCF(c);
      let r: number, cf: number;
      if (bits === 32) {
        const n = count;
        r = (v >>> n) | (cin << (32 - n)) | (n === 1 ? 0 : v << (33 - n));
        cf = (v >>> (n - 1)) & 1;
      } else {
        const n = count % (bits + 1);
        if (n === 0) { r = v; cf = cin; } else {
          const x = (cin << bits) | v;
          const y = ((x >>> n) | (x << (bits + 1 - n))) & ((mask << 1) | 1);
          r = y & mask;
          cf = (y >>> bits) & 1;
        }
      }
      setCfOfOnly(c, cf, ((r >>> top) ^ (r >>> (top - 1))) & 1);
      return r;
    }
    case 4: case 6: { // SHL / SAL
      const r = (v << count) & mask;
      const cf = count <= bits ? (v >>> (bits - count)) & 1 : 0;
      setResultCfOf(c, r, 32 - bits, cf, (((r >>> top) & 1) ^ cf) !== 0);
      return r;
    }
    case 5: { // SHR
      const r = (v >>> count) & mask;
      const cf = (v >>> (count - 1)) & 1;
      setResultCfOf(c, r, 32 - bits, cf, ((v >>> top) & 1) !== 0);
      return r;
    }
    default: { // SAR
      const sh = 32 - bits;
      const sv = (v << sh) >> sh;
      const r = (sv >> count) & mask;
      setResultCfOf(c, r, sh, (sv >> (count - 1)) & 1, false);
      return r;
    }
  }
}

// ---- Operand access for the r/m operand of the current instruction



const COUNT_IMM = 0, COUNT_ONE = 1, COUNT_CL = 2;

function group2(size: number, kind: number): Handler {
  const bits = size * 8;
  return (c) => {
    const op = c.reg;
    const lin = c.rmwLin(size);
    const count = (kind === COUNT_IMM ? c.imm : kind === COUNT_ONE ? 1 : c.r8[4]!) & 31;
    if (count === 0) return;
    c.writeRM(size, lin, shiftOp(c, op, c.readRM(size, lin), count, bits));
  };
}

// ---- SHLD / SHRD

function shld(c: Cpu, d: number, s: number, n: number, bits: number): number {
  let r: number, cf: number;
  if (bits === 32) {
    r = (d << n) | (s >>> (32 - n));
    cf = (d >>> (32 - n)) & 1;
  } else if (n <= 16) {
    r = (((d << 16) | s) << n) >>> 16;
    cf = (d >>> (16 - n)) & 1;
  } else {
    r = (((s << 16) | d) << (n - 16)) >>> 16;
    cf = (s >>> (32 - n)) & 1;
  }
  setResultCfOf(c, r, 32 - bits, cf, (((r >>> (bits - 1)) & 1) ^ cf) !== 0);
  return r;
}

function shrd(c: Cpu, d: number, s: number, n: number, bits: number): number {
  let r: number, cf: number;
  if (bits === 32) {
    r = (d >>> n) | (s << (32 - n));
    cf = (d >>> (n - 1)) & 1;
  } else if (n <= 16) {
    r = (((s << 16) | d) >>> n) & 0xffff;
    cf = (d >>> (n - 1)) & 1;
  } else {
    r = (((d << 16) | s) >>> (n - 16)) & 0xffff;
    cf = (s >>> (n - 17)) & 1;
  }
  setResultCfOf(c, r, 32 - bits, cf, ((r >>> (bits - 1)) ^ (r >>> (bits - 2))) & 1 ? true : false);
  return r;
}

function doubleShift(size: number, left: boolean, imm: boolean): Handler {
  const bits = size * 8;
  return (c) => {
    const reg = c.reg;
    const lin = c.rmwLin(size);
    const n = (imm ? c.imm : c.r8[4]!) & 31;
    if (n === 0) return;
    const s = size === 2 ? c.r16[reg << 1]! : c.regs[reg]!;
    const d = c.readRM(size, lin);
    c.writeRM(size, lin, left ? shld(c, d, s, n, bits) : shrd(c, d, s, n, bits));
  };
}

export function installShift(t: OpTable): void {
  t.def(0xc0, group2(1, COUNT_IMM));
  t.def(0xc1, group2(2, COUNT_IMM), group2(4, COUNT_IMM));
  t.def(0xd0, group2(1, COUNT_ONE));
  t.def(0xd1, group2(2, COUNT_ONE), group2(4, COUNT_ONE));
  t.def(0xd2, group2(1, COUNT_CL));
  t.def(0xd3, group2(2, COUNT_CL), group2(4, COUNT_CL));
  t.def0F(0xa4, doubleShift(2, true, true), doubleShift(4, true, true));
  t.def0F(0xa5, doubleShift(2, true, false), doubleShift(4, true, false));
  t.def0F(0xac, doubleShift(2, false, true), doubleShift(4, false, true));
  t.def0F(0xad, doubleShift(2, false, false), doubleShift(4, false, false));
}
