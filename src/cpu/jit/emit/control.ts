// Templates for near control transfer (control.ts): Jcc, JMP, CALL, RET, LOOP/JECXZ,
// indirect JMP/CALL, and the condition users SETcc and CMOVcc. A jump to a block of the
// same region stays inside the region's loop; anything else leaves through the
// dispatcher. Only 32-bit operand and address sizes are translated (16-bit EIP wraps).

import { relTarget } from '../scan.js';
import { type Emitter, type X, L_R0, add, and, cst, eqz, loc, ne, sub } from '../Emitter.js';
import type { TemplateTable } from './types.js';

/** A conditional jump: when `taken` (0/1) the target, else on to the next instruction. */
function branch(e: Emitter, taken: X): boolean {
  e.if_(taken, () => e.jumpTo(relTarget(e.i)));
  return true;
}

export function installControl(t: TemplateTable): void {
  const jcc = (cc: number) => (e: Emitter): boolean => (e.i.o32 ? branch(e, e.cond(cc)) : false);
  for (let cc = 0; cc < 16; cc++) {
    t[0x70 + cc] = jcc(cc);
    t[0x180 + cc] = jcc(cc);
    t[0x190 + cc] = (e) => { e.writeRm(1, e.cond(cc)); return true; };
    t[0x140 + cc] = (e) => {
      const size = e.osize;
      const v = e.val(e.readRm(size)); // read whatever the condition
      e.if_(e.cond(cc), () => e.setReg(size, e.i.reg, loc(v)));
      return true;
    };
  }
  const jmp = (e: Emitter): boolean => { if (!e.i.o32) return false; e.jumpTo(relTarget(e.i)); return true; };
  t[0xeb] = jmp;
  t[0xe9] = jmp;
  t[0xe8] = (e) => {
    if (!e.i.o32) return false;
    e.push(4, e.eipOf(e.i.off + e.i.len));
    e.jumpTo(relTarget(e.i));
    return true;
  };
  t[0xc3] = (e) => {
    if (!e.i.o32) return false;
    e.jumpDyn(loc(e.pop(4)));
    return true;
  };
  t[0xc2] = (e) => {
    if (!e.i.o32) return false;
    const target = e.load(4, e.val(loc(L_R0 + 4)));
    e.setReg(4, 4, add(loc(L_R0 + 4), cst(4 + e.i.imm)));
    e.jumpDyn(loc(target));
    return true;
  };
  // LOOP/LOOPE/LOOPNE/JECXZ with ECX (32-bit address size): ECX changes, flags do not.
  const loop = (kind: number) => (e: Emitter): boolean => {
    if (!e.i.a32 || !e.i.o32) return false;
    const ecx = loc(L_R0 + 1);
    if (kind === 3) return branch(e, eqz(ecx));
    e.setReg(4, 1, sub(ecx, cst(1)));
    const more = ne(ecx, cst(0));
    return branch(e, kind === 2 ? more : and(more, kind === 1 ? e.cond(4) : eqz(e.cond(4))));
  };
  for (let k = 0; k < 4; k++) t[0xe0 + k] = loop(k);
}

/** Group 5's indirect CALL and JMP through r/m32 and PUSH r/m32 (/2 /4 /6). */
export function groupFFControl(e: Emitter): boolean {
  const i = e.i;
  if (!i.o32) return false;
  switch (i.reg) {
    case 2: {
      const target = e.val(e.readRm(4));
      e.push(4, e.eipOf(i.off + i.len));
      e.jumpDyn(loc(target));
      return true;
    }
    case 4: e.jumpDyn(loc(e.val(e.readRm(4)))); return true;
    case 6: e.push(4, loc(e.val(e.readRm(4)))); return true;
    default: return false;
  }
}

