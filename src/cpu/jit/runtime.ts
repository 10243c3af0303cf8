// The flag state translated code keeps in locals, and what it calls at run time to move
// that state into the CPU's lazy flags (at exits, faults, and before code that reads the
// CPU's flags) and to evaluate conditions of a state only known at run time.
//
// Translated code keeps the arithmetic flags as the last producer and its operands in
// five locals (fk, fa, fb, fr, fx), the same facts the interpreter's lazy flags keep:
// fk = FK_* op << 2 | size index (0: 32-bit, 1: 16-bit, 2: 8-bit), fa/fb the operands,
// fr the result, fx the carry in (ADC/SBB), the carry kept (INC/DEC) or CF | OF << 1
// (result-only producers). fk 0 means the CPU's own flag fields are current.

import type { Cpu } from '../Cpu.js';
import { FLAG_CF, FLAG_OF } from '../constants.js';
import {
  LAZY_NO_CF, OP_ADD, OP_SUB, getCF, setAdc, setAdd, setLogic, setResultCfOf, setSbb, setSub, testCC,
} from '../flags.js';

export const FK_IN_C = 0, FK_ADD = 1, FK_ADC = 2, FK_SUB = 3, FK_SBB = 4, FK_INC = 5, FK_DEC = 6, FK_LOGIC = 7, FK_RCO = 8;
/** lzShift of each size index. */
const SHIFT = [0, 16, 24, 0];

/** Write the locals' flag state into the CPU (at an exit, before a call that reads flags, at a fault). */
function flagsOut(c: Cpu, fk: number, fa: number, fb: number, fr: number, fx: number): void {
  const sh = SHIFT[fk & 3]!;
  switch (fk >> 2) {
    case FK_IN_C: return;
    case FK_ADD: setAdd(c, fa, fb, fr, sh); return;
    case FK_ADC: setAdc(c, fa, fb, fr, fx, sh); return;
    case FK_SUB: setSub(c, fa, fb, fr, sh); return;
    case FK_SBB: setSbb(c, fa, fb, fr, fx, sh); return;
    case FK_INC: case FK_DEC:
      c.flags = (c.flags & ~FLAG_CF) | (fx & 1);
      c.lzOp = (fk >> 2) === FK_INC ? OP_ADD : OP_SUB; c.lzA = fa; c.lzB = 1; c.lzRes = fr; c.lzShift = sh; c.lazyMask = LAZY_NO_CF;
      return;
    case FK_LOGIC: setLogic(c, fr, sh); return;
    default: setResultCfOf(c, fr, sh, fx & 1, (fx & 2) !== 0);
  }
}

/** What translated code calls at run time (the module's "rt" imports besides memory and memory accessors). */
export function flagImports(c: Cpu) {
  return {
    flags: (fk: number, fa: number, fb: number, fr: number, fx: number): void => flagsOut(c, fk, fa, fb, fr, fx),
    cond: (fk: number, fa: number, fb: number, fr: number, fx: number, cc: number): number => {
      flagsOut(c, fk, fa, fb, fr, fx);
      return testCC(c, cc) ? 1 : 0;
    },
    carry: (fk: number, fa: number, fb: number, fr: number, fx: number): number => {
      flagsOut(c, fk, fa, fb, fr, fx);
      return getCF(c);
    },
    // Set CF and OF (rotates) or CF alone (CLC, STC, CMC), the rest of the state being in the CPU.
    setCfOf: (cf: number, of: number): void => {
      c.lazyMask &= ~(FLAG_CF | FLAG_OF);
      c.flags = (c.flags & ~(FLAG_CF | FLAG_OF)) | (cf & 1) | ((of & 1) << 11);
    },
    setCf: (cf: number): void => {
      c.lazyMask &= ~FLAG_CF;
      c.flags = (c.flags & ~FLAG_CF) | (cf & 1);
    },
    cpuFlags: (value: number, mask: number): void => { c.flags = (c.flags & ~mask) | value; },
  };
}

export { flagsOut };
