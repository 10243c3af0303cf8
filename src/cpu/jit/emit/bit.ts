// Templates for the bit tests of bit.ts (BT BTS BTR BTC, register and immediate bit
// offsets, 32-bit operands). A register bit offset with a memory operand
// addresses the bit string beyond the operand, as the interpreter does; the bit tests
// change CF alone, set in the CPU once the rest of the flag state is there.

import { F_C } from '../../opcodeInfo.js';
import { type Emitter, type X, L_R0, add, and, cst, loc, or, shl, shrS, shrU, xor } from '../Emitter.js';
import { o32, when, type TemplateTable } from './types.js';

/** op 0 BT, 1 BTS, 2 BTR, 3 BTC on the r/m32 operand, bit offset `bit` (a register value or an immediate). */
function bitTest(e: Emitter, op: number, bitOff: X, registerOffset: boolean): void {
  const b = e.val(and(bitOff, cst(31)));
  const mask = shl(cst(1), loc(b));
  const apply = (v: X): X => (op === 1 ? or(v, mask) : op === 2 ? and(v, xor(mask, cst(-1))) : xor(v, mask));
  let old: number;
  if (!e.isMem) {
    old = e.val(loc(L_R0 + e.rm));
    if (op !== 0) e.setReg(4, e.rm, apply(loc(old)));
  } else {
    // A register bit offset moves the operand by whole dwords (signed).
    const off = registerOffset ? add(e.offset(), shl(shrS(bitOff, cst(5)), cst(2))) : e.offset();
    const lin = e.linearOf(e.i.eaSeg, off, 4, op !== 0);
    if (op === 0) old = e.load(4, lin);
    else {
      const [o, commit] = e.rmw(4, lin);
      old = o;
      commit(apply(loc(o)));
    }
  }
  if ((e.liveOut & F_C) !== 0) {
    const cf = e.val(and(shrU(loc(old), loc(b)), cst(1)));
    e.flagsToCpu();
    e.get(cf); e.rt('setCf');
  }
}

export function installBit(t: TemplateTable): void {
  [0x1a3, 0x1ab, 0x1b3, 0x1bb].forEach((opc, op) => { t[opc] = when(o32, (e) => bitTest(e, op, loc(L_R0 + e.i.reg), true)); });
  t[0x1ba] = when((i) => i.o32 && i.reg >= 4, (e) => bitTest(e, e.i.reg - 4, cst(e.i.imm), false));
}
