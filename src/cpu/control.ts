// Near control transfer and condition codes: Jcc, JMP, CALL, RET, LOOP/JCXZ,
// ENTER/LEAVE, INT3/INT n/INTO/IRET, group 5 (FF), SETcc, CMOVcc (SDM vol. 2A-2B).

import type { Cpu } from './Cpu.js';
import type { Handler, OpTable } from './opcodes.js';
import { EBP, ECX, ESP, EXC_BP, EXC_GP, EXC_OF, FLAG_IOPL, FLAG_VM, SS } from './constants.js';
import { getOF, testCC } from './flags.js';
import { deliverInterrupt, iret } from './interrupts.js';
import { incDecRM } from './arith.js';
import { farCall, farJump } from './far.js';

/** Jump to EIP+rel at the operand size (16-bit operand size truncates EIP). */
function jumpRel(c: Cpu, rel: number): void {
  c.eip = c.o32 ? (c.eip + rel) | 0 : (c.eip + rel) & 0xffff;
}

/** INT n / INT3 / INTO: a software interrupt; VM86 with IOPL < 3 faults (no VME). */
export function softInt(c: Cpu, vector: number): void {
  if ((c.flags & FLAG_VM) !== 0 && ((c.flags & FLAG_IOPL) >>> 12) !== 3) c.raise(EXC_GP, 0);
  deliverInterrupt(c, vector, true, -1, c.eip);
}

function callNear(c: Cpu, target: number): void {
  if (c.o32) { c.push32(c.eip); c.eip = target; } else { c.push16(c.eip); c.eip = target & 0xffff; }
}

/** Group 5 (FF): INC DEC CALL CALLF JMP JMPF PUSH. */
const group5: Handler = (c) => {
  const op = c.reg;
  switch (op) {
    case 0: incDecRM(c, false); return;
    case 1: incDecRM(c, true); return;
    case 2: callNear(c, c.o32 ? c.readRM32() : c.readRM16()); return;
    case 4: c.eip = c.o32 ? c.readRM32() : c.readRM16(); return;
    case 6: c.push(c.o32 ? c.readRM32() : c.readRM16()); return;
    case 3: case 5: {
      if (c.modrm >= 0xc0) c.raiseUD();
      const size = c.o32 ? 4 : 2;
      const lin = c.eaLin(size + 2, false);
      const off = c.o32 ? c.rd32(lin) : c.rd16(lin);
      const sel = c.rd16((lin + size) | 0);
      if (op === 3) farCall(c, sel, off); else farJump(c, sel, off);
      return;
    }
    default: c.undefinedOpcode(0xff);
  }
};

export function installControl(t: OpTable): void {
  for (let cc = 0; cc < 16; cc++) {
    t.def(0x70 + cc, (c) => { const rel = ((c.imm << 24) >> 24); if (testCC(c, cc)) jumpRel(c, rel); });
    t.def0F(0x80 + cc, (c) => { const rel = ((c.imm << 16) >> 16); if (testCC(c, cc)) jumpRel(c, rel); },
      (c) => { const rel = c.imm; if (testCC(c, cc)) jumpRel(c, rel); });
    t.def0F(0x90 + cc, (c) => { c.writeRM8(testCC(c, cc) ? 1 : 0); });
    t.def0F(0x40 + cc, (c) => { const reg = c.reg; const v = c.readRM16(); if (testCC(c, cc)) c.r16[reg << 1] = v; },
      (c) => { const reg = c.reg; const v = c.readRM32(); if (testCC(c, cc)) c.regs[reg] = v; });
  }
  t.def(0xeb, (c) => { jumpRel(c, ((c.imm << 24) >> 24)); });
  t.def(0xe9, (c) => { jumpRel(c, ((c.imm << 16) >> 16)); }, (c) => { jumpRel(c, c.imm); });
  t.def(0xe8, (c) => { callNear(c, (c.eip + c.imm) & 0xffff); },
    (c) => { callNear(c, (c.eip + c.imm) | 0); });
  t.def(0xc3, (c) => { c.eip = c.pop16(); }, (c) => { c.eip = c.pop32(); });
  t.def(0xc2, (c) => { const n = c.imm; c.eip = c.pop16(); c.adjustSp(n); },
    (c) => { const n = c.imm; c.eip = c.pop32(); c.adjustSp(n); });
  // LOOP family and JCXZ use the address size for the count register.
  const count = (c: Cpu): number => {
    if (c.a32) { const v = (c.regs[ECX]! - 1) | 0; c.regs[ECX] = v; return v; }
    const v = (c.r16[ECX << 1]! - 1) & 0xffff; c.r16[ECX << 1] = v; return v;
  };
  t.def(0xe2, (c) => { const rel = ((c.imm << 24) >> 24); if (count(c) !== 0) jumpRel(c, rel); });
  t.def(0xe1, (c) => { const rel = ((c.imm << 24) >> 24); if (count(c) !== 0 && testCC(c, 4)) jumpRel(c, rel); });
  t.def(0xe0, (c) => { const rel = ((c.imm << 24) >> 24); if (count(c) !== 0 && !testCC(c, 4)) jumpRel(c, rel); });
  t.def(0xe3, (c) => { const rel = ((c.imm << 24) >> 24); if ((c.a32 ? c.regs[ECX]! : c.r16[ECX << 1]!) === 0) jumpRel(c, rel); });
  // ENTER imm16, imm8 (nesting level mod 32) and LEAVE.
  t.def(0xc8, enter);
  t.def(0xc9, (c) => {
    const bp = c.ss32 ? c.regs[EBP]! : c.r16[EBP << 1]!;
    const v = c.o32 ? c.rd32(c.segLin(SS, bp, 4, false)) : c.rd16(c.segLin(SS, bp, 2, false));
    if (c.ss32) c.regs[ESP] = bp + (c.o32 ? 4 : 2); else c.r16[ESP << 1] = bp + (c.o32 ? 4 : 2);
    if (c.o32) c.regs[EBP] = v; else c.r16[EBP << 1] = v;
  });
  // Software interrupts and IRET.
  t.def(0xcc, (c) => softInt(c, EXC_BP));
  t.def(0xcd, (c) => softInt(c, c.imm));
  t.def(0xce, (c) => { if (getOF(c)) softInt(c, EXC_OF); });
  t.def(0xcf, (c) => { iret(c); c.resumeEip = c.eip; });
  t.def(0xf1, (c) => deliverInterrupt(c, 1, false, -1, c.eip)); // INT1 / ICEBP
  t.def(0xff, group5);
}

function enter(c: Cpu): void {
  const size = c.imm;
  const level = c.imm2 & 31;
  const w = c.o32 ? 4 : 2;
  const spMask = c.ss32 ? -1 : 0xffff;
  let sp = c.regs[ESP]! & spMask;
  const bp = c.ss32 ? c.regs[EBP]! : c.r16[EBP << 1]!;
  // Writes go through the stack segment at computed offsets; ESP/EBP change only at the end.
  const put = (v: number): void => {
    sp = (sp - w) & spMask;
    if (w === 4) c.wr32(c.segLin(SS, sp, 4, true), v); else c.wr16(c.segLin(SS, sp, 2, true), v);
  };
  put(c.o32 ? c.regs[EBP]! : c.r16[EBP << 1]!);
  // The frame pointer is the whole ESP after the push: on a 16-bit stack its upper half
  // is ESP's, unchanged (a 32-bit ENTER there gives EBP = ESP[31:16]:SP).
  const frame = c.ss32 ? sp : (c.regs[ESP]! & ~0xffff) | sp;
  if (level > 0) {
    let b = bp;
    for (let i = 1; i < level; i++) {
      b = (b - w) & spMask;
      put(w === 4 ? c.rd32(c.segLin(SS, b, 4, false)) : c.rd16(c.segLin(SS, b, 2, false)));
    }
    put(frame);
  }
  const newSp = (sp - size) & spMask;
  // The final stack pointer is checked as a write of the operand size (segment limit and
  // paging), before ESP and EBP change: an ENTER that leaves the stack in a page the CPL
  // cannot write faults there, with CR2 at the new top of stack.
  c.probeWrite(c.segLin(SS, newSp, w, true), w);
  if (c.o32) c.regs[EBP] = frame; else c.r16[EBP << 1] = frame;
  if (c.ss32) c.regs[ESP] = newSp; else c.r16[ESP << 1] = newSp;
}
