// The eight classic ALU operations (ADD OR ADC SBB AND SUB XOR CMP, SDM vol. 2A) and
// INC/DEC, as pure functions of their operands that record lazy flags. `sh` is 24, 16
// or 0 for 8-, 16- or 32-bit operands; results are returned unmasked (callers store
// them into a sized register or memory cell, which truncates).

import type { Cpu } from './Cpu.js';
import { getCF, setAdc, setAdd, setIncDec, setLogic, setSbb, setSub } from './flags.js';

export const ALU_ADD = 0, ALU_OR = 1, ALU_ADC = 2, ALU_SBB = 3, ALU_AND = 4, ALU_SUB = 5, ALU_XOR = 6, ALU_CMP = 7;

/** Mask of an operand of shift `sh` (24 → 0xFF, 16 → 0xFFFF, 0 → all ones). */
export function sizeMask(sh: number): number {
  return sh === 0 ? -1 : (1 << (32 - sh)) - 1;
}

/** Apply ALU op `op` (the /r or opcode bits 3..5) to a and b; returns the result (CMP returns a). */
export function alu(c: Cpu, op: number, a: number, b: number, sh: number): number {
  const m = sizeMask(sh);
  a &= m; b &= m;
  let r: number;
  switch (op) {
    case ALU_ADD: r = (a + b) & m; setAdd(c, a, b, r, sh); return r;
    case ALU_OR: r = a | b; setLogic(c, r, sh); return r;
    case ALU_ADC: { const cf = getCF(c); r = (a + b + cf) & m; setAdc(c, a, b, r, cf, sh); return r; }
    case ALU_SBB: { const cf = getCF(c); r = (a - b - cf) & m; setSbb(c, a, b, r, cf, sh); return r; }
    case ALU_AND: r = a & b; setLogic(c, r, sh); return r;
    case ALU_SUB: r = (a - b) & m; setSub(c, a, b, r, sh); return r;
    case ALU_XOR: r = a ^ b; setLogic(c, r, sh); return r;
    default: r = (a - b) & m; setSub(c, a, b, r, sh); return a;
  }
}

export function inc(c: Cpu, a: number, sh: number): number {
  const m = sizeMask(sh);
  const r = (a + 1) & m;
  setIncDec(c, a & m, r, false, sh);
  return r;
}

export function dec(c: Cpu, a: number, sh: number): number {
  const m = sizeMask(sh);
  const r = (a - 1) & m;
  setIncDec(c, a & m, r, true, sh);
  return r;
}

export function neg(c: Cpu, a: number, sh: number): number {
  const m = sizeMask(sh);
  a &= m;
  const r = (0 - a) & m;
  setSub(c, 0, a, r, sh);
  return r;
}
