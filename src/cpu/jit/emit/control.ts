// Templates for near control transfer (control.ts): Jcc, JMP, CALL, RET, LOOP/JECXZ,
// indirect JMP/CALL, and the condition users SETcc and CMOVcc. A jump to a block of the
// same region stays inside the region's loop; anything else leaves through the
// dispatcher. Only 32-bit operand and address sizes are translated (16-bit EIP wraps).

import { type Insn, relTarget } from '../scan.js';
import { type Emitter, type X, L_R0, add, and, cst, eqz, loc, ne, sub } from '../Emitter.js';
import { o32, when, type TemplateTable } from './types.js';

/** A conditional jump: when `taken` (0/1) the target, else on to the next instruction. */
function branch(e: Emitter, taken: X): void {
  e.if_(taken, () => e.jumpTo(relTarget(e.i)));
}

export function installControl(t: TemplateTable): void {
  const jcc = (cc: number) => when(o32, (e) => branch(e, e.cond(cc)));
  for (let cc = 0; cc < 16; cc++) {
    t[0x70 + cc] = jcc(cc);
    t[0x180 + cc] = jcc(cc);
    t[0x190 + cc] = (e) => e.writeRm(1, e.cond(cc));
    t[0x140 + cc] = (e) => {
      const size = e.osize;
      const v = e.val(e.readRm(size)); // read whatever the condition
      e.if_(e.cond(cc), () => e.setReg(size, e.i.reg, loc(v)));
    };
  }
  const jmp = when(o32, (e) => e.jumpTo(relTarget(e.i)));
  t[0xeb] = jmp;
  t[0xe9] = jmp;
  t[0xe8] = when(o32, (e) => {
    e.push(4, e.eipOf(e.i.off + e.i.len));
    e.jumpTo(relTarget(e.i));
  });
  t[0xc3] = when(o32, (e) => e.jumpDyn(loc(e.pop(4))));
  t[0xc2] = when(o32, (e) => {
    const target = e.load(4, loc(L_R0 + 4));
    e.setReg(4, 4, add(loc(L_R0 + 4), cst(4 + e.i.imm)));
    e.jumpDyn(loc(target));
  });
  // LOOP/LOOPE/LOOPNE/JECXZ with ECX (32-bit address size): ECX changes, flags do not.
  const loop = (kind: number) => when((i) => i.a32 && i.o32, (e) => {
    const ecx = loc(L_R0 + 1);
    if (kind === 3) { branch(e, eqz(ecx)); return; }
    e.setReg(4, 1, sub(ecx, cst(1)));
    const more = ne(ecx, cst(0));
    branch(e, kind === 2 ? more : and(more, kind === 1 ? e.cond(4) : eqz(e.cond(4))));
  });
  for (let k = 0; k < 4; k++) t[0xe0 + k] = loop(k);
}

/** The forms of group 5 groupFFControl emits: indirect CALL and JMP through r/m32, PUSH r/m32 (/2 /4 /6). */
export const groupFFControlAccepts = (i: Insn): boolean => i.o32 && (i.reg === 2 || i.reg === 4 || i.reg === 6);

export function groupFFControl(e: Emitter): void {
  const i = e.i;
  switch (i.reg) {
    case 2: {
      const target = e.val(e.readRm(4));
      e.push(4, e.eipOf(i.off + i.len));
      e.jumpDyn(loc(target));
      return;
    }
    case 4: e.jumpDyn(loc(e.val(e.readRm(4)))); return;
    default: e.push(4, loc(e.val(e.readRm(4))));
  }
}

