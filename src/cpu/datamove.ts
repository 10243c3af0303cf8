// Data movement: MOV (all forms but CR/DR), MOV Sreg, LEA, XCHG, PUSH/POP (registers,
// r/m, immediates, segment registers), PUSHA/POPA, CBW/CWDE/CWD/CDQ, LAHF/SAHF, XLAT,
// MOVZX/MOVSX, LDS/LES/LSS/LFS/LGS, NOP/PAUSE (SDM vol. 2A-2B).

import type { Cpu } from './Cpu.js';
import type { Handler, OpTable } from './opcodes.js';
import { CS, DS, EAX, EBX, ES, ESP, FLAG_AF, FLAG_CF, FLAG_PF, FLAG_SF, FLAG_ZF, FS, GS, SS } from './constants.js';
import { getEflags, materializeFlags } from './flags.js';
import { loadSeg } from './segments.js';
import { effectiveOffset } from './decoder.js';

/** MOV Sreg: loads with protected-mode checks; MOV SS inhibits interrupts for one instruction. */
function movSreg(c: Cpu, seg: number, sel: number): void {
  if (seg === CS || seg > GS) c.raiseUD();
  loadSeg(c, seg, sel);
  if (seg === SS) c.inhibitAt = c.instructions + 1;
}


function pushSeg(seg: number): Handler {
  return (c) => c.push(c.segSel[seg]!);
}
function popSeg(seg: number): Handler {
  return (c) => {
    const v = c.o32 ? c.peek32(0) : c.peek16(0);
    // The pop advances SP or ESP by the stack width in force before the load: POP SS
    // that switches between a 16- and a 32-bit stack must not use the new SS.B.
    const ss32 = c.ss32;
    movSreg(c, seg, v & 0xffff);
    const n = c.o32 ? 4 : 2;
    if (ss32) c.regs[ESP] = c.regs[ESP]! + n; else c.r16[ESP << 1] = c.r16[ESP << 1]! + n;
  };
}

/** LDS/LES/LSS/LFS/LGS r, m16:16/32. */
function loadFarPtr(seg: number): Handler {
  return (c) => {
    const reg = c.reg;
    if (c.modrm >= 0xc0) c.raiseUD();
    const size = c.o32 ? 4 : 2;
    const lin = c.eaLin(size + 2, false);
    const off = c.o32 ? c.rd32(lin) : c.rd16(lin);
    const sel = c.rd16((lin + size) | 0);
    loadSeg(c, seg, sel);
    if (seg === SS) c.inhibitAt = c.instructions + 1;
    if (c.o32) c.regs[reg] = off; else c.r16[reg << 1] = off;
  };
}

export function installDataMove(t: OpTable): void {
  // MOV r/m, r and MOV r, r/m.
  t.def(0x88, (c) => { const reg = c.reg; c.writeRM8(c.getReg8(reg)); });
  t.def(0x89, (c) => { const reg = c.reg; c.writeRM16(c.r16[reg << 1]!); },
    (c) => { const reg = c.reg; c.writeRM32(c.regs[reg]!); });
  t.def(0x8a, (c) => { const reg = c.reg; c.setReg8(reg, c.readRM8()); });
  t.def(0x8b, (c) => { const reg = c.reg; c.r16[reg << 1] = c.readRM16(); },
    (c) => { const reg = c.reg; c.regs[reg] = c.readRM32(); });
  // MOV r/m, Sreg: a register destination takes the zero-extended selector at 32-bit size.
  t.def(0x8c, (c) => {
    const seg = c.reg;
    if (seg > GS) c.raiseUD();
    if (c.modrm >= 0xc0 && c.o32) c.regs[c.modrm & 7] = c.segSel[seg]!;
    else c.writeRM16(c.segSel[seg]!);
  });
  t.def(0x8e, (c) => { const seg = c.reg; movSreg(c, seg, c.readRM16()); });
  t.def(0x8d, (c) => {
    const reg = c.reg;
    if (c.modrm >= 0xc0) c.raiseUD();
    if (c.o32) c.regs[reg] = c.eaOff; else c.r16[reg << 1] = c.eaOff;
  });
  // MOV acc, moffs and back.
  const seg = (c: Cpu): number => (c.segOverride >= 0 ? c.segOverride : DS);
  t.def(0xa0, (c) => { const off = c.imm; c.r8[0] = c.rd8(c.segLin(seg(c), off, 1, false)); });
  t.def(0xa1, (c) => { const off = c.imm; c.r16[0] = c.rd16(c.segLin(seg(c), off, 2, false)); },
    (c) => { const off = c.imm; c.regs[EAX] = c.rd32(c.segLin(seg(c), off, 4, false)); });
  t.def(0xa2, (c) => { const off = c.imm; c.wr8(c.segLin(seg(c), off, 1, true), c.r8[0]!); });
  t.def(0xa3, (c) => { const off = c.imm; c.wr16(c.segLin(seg(c), off, 2, true), c.r16[0]!); },
    (c) => { const off = c.imm; c.wr32(c.segLin(seg(c), off, 4, true), c.regs[EAX]!); });
  // MOV r, imm.
  t.defReg(0xb0, (r) => { const h: Handler = (c) => c.setReg8(r, c.imm); return [h, h]; });
  t.defReg(0xb8, (r) => [(c) => { c.r16[r << 1] = c.imm; }, (c) => { c.regs[r] = c.imm; }]);
  // MOV r/m, imm (C6 /0, C7 /0).
  t.def(0xc6, (c) => {
    if (c.reg !== 0) c.undefinedOpcode(0xc6);
    if (c.modrm >= 0xc0) { c.setReg8(c.modrm & 7, c.imm); return; }
    const lin = c.eaLin(1, true);
    c.wr8(lin, c.imm);
  });
  t.def(0xc7, (c) => {
    if (c.reg !== 0) c.undefinedOpcode(0xc7);
    if (c.modrm >= 0xc0) { c.r16[(c.modrm & 7) << 1] = c.imm; return; }
    const lin = c.eaLin(2, true);
    c.wr16(lin, c.imm);
  }, (c) => {
    if (c.reg !== 0) c.undefinedOpcode(0xc7);
    if (c.modrm >= 0xc0) { c.regs[c.modrm & 7] = c.imm; return; }
    const lin = c.eaLin(4, true);
    c.wr32(lin, c.imm);
  });

  // XCHG.
  t.def(0x86, (c) => {
    const reg = c.reg;
    const lin = c.rmwLin(1);
    const a = c.modrm >= 0xc0 ? c.getReg8(c.modrm & 7) : c.rd8(lin);
    if (c.modrm >= 0xc0) c.setReg8(c.modrm & 7, c.getReg8(reg)); else c.wr8(lin, c.getReg8(reg));
    c.setReg8(reg, a);
  });
  t.def(0x87, (c) => {
    const reg = c.reg;
    const lin = c.rmwLin(2);
    const a = c.modrm >= 0xc0 ? c.r16[(c.modrm & 7) << 1]! : c.rd16(lin);
    if (c.modrm >= 0xc0) c.r16[(c.modrm & 7) << 1] = c.r16[reg << 1]!; else c.wr16(lin, c.r16[reg << 1]!);
    c.r16[reg << 1] = a;
  }, (c) => {
    const reg = c.reg;
    const lin = c.rmwLin(4);
    const a = c.modrm >= 0xc0 ? c.regs[c.modrm & 7]! : c.rd32(lin);
    if (c.modrm >= 0xc0) c.regs[c.modrm & 7] = c.regs[reg]!; else c.wr32(lin, c.regs[reg]!);
    c.regs[reg] = a;
  });
  t.def(0x90, () => { /* NOP; F3 90 is PAUSE */ });
  for (let r = 1; r < 8; r++) {
    t.def(0x90 + r, (c) => { const a = c.r16[0]!; c.r16[0] = c.r16[r << 1]!; c.r16[r << 1] = a; },
      (c) => { const a = c.regs[EAX]!; c.regs[EAX] = c.regs[r]!; c.regs[r] = a; });
  }

  // PUSH/POP.
  t.defReg(0x50, (r) => [(c) => c.push16(c.r16[r << 1]!), (c) => c.push32(c.regs[r]!)]);
  t.defReg(0x58, (r) => [(c) => { const v = c.pop16(); c.r16[r << 1] = v; }, (c) => { const v = c.pop32(); c.regs[r] = v; }]);
  t.def(0x68, (c) => c.push16(c.imm), (c) => c.push32(c.imm));
  t.def(0x6a, (c) => c.push16(((c.imm << 24) >> 24)), (c) => c.push32(((c.imm << 24) >> 24)));
  // POP r/m: an ESP-based address is computed after ESP is incremented, so pop first
  // and take the offset again from the memory operand's components.
  t.def(0x8f, (c) => {
    if (c.reg !== 0) c.undefinedOpcode(0x8f);
    const v = c.pop16();
    if (c.modrm < 0xc0) c.eaOff = effectiveOffset(c);
    c.writeRM16(v);
  }, (c) => {
    if (c.reg !== 0) c.undefinedOpcode(0x8f);
    const v = c.pop32();
    if (c.modrm < 0xc0) c.eaOff = effectiveOffset(c);
    c.writeRM32(v);
  });
  t.def(0x06, pushSeg(ES)); t.def(0x0e, pushSeg(CS)); t.def(0x16, pushSeg(SS)); t.def(0x1e, pushSeg(DS));
  t.def0F(0xa0, pushSeg(FS)); t.def0F(0xa8, pushSeg(GS));
  t.def(0x07, popSeg(ES)); t.def(0x17, popSeg(SS)); t.def(0x1f, popSeg(DS));
  t.def0F(0xa1, popSeg(FS)); t.def0F(0xa9, popSeg(GS));
  // PUSHA/POPA: the whole frame is checked by writing/reading before ESP changes.
  t.def(0x60, (c) => {
    const sp = c.r16[ESP << 1]!;
    for (let r = 0; r < 8; r++) c.push16(r === ESP ? sp : c.r16[r << 1]!);
  }, (c) => {
    const sp = c.regs[ESP]!;
    for (let r = 0; r < 8; r++) c.push32(r === ESP ? sp : c.regs[r]!);
  });
  t.def(0x61, (c) => {
    for (let r = 7; r >= 0; r--) { const v = c.pop16(); if (r !== ESP) c.r16[r << 1] = v; }
  }, (c) => {
    for (let r = 7; r >= 0; r--) { const v = c.pop32(); if (r !== ESP) c.regs[r] = v; }
  });

  // Conversions.
  t.def(0x98, (c) => { c.r16[0] = (c.r8[0]! << 24) >> 24; }, (c) => { c.regs[EAX] = (c.r16[0]! << 16) >> 16; });
  t.def(0x99, (c) => { c.r16[2 << 1] = (c.r16[0]! & 0x8000) !== 0 ? 0xffff : 0; },
    (c) => { c.regs[2] = c.regs[EAX]! >> 31; });
  // LAHF/SAHF.
  t.def(0x9f, (c) => { c.r8[1] = getEflags(c) & 0xff; });
  t.def(0x9e, (c) => {
    materializeFlags(c);
    const mask = FLAG_SF | FLAG_ZF | FLAG_AF | FLAG_PF | FLAG_CF;
    c.flags = (c.flags & ~mask) | (c.r8[1]! & mask);
  });
  // XLAT.
  t.def(0xd7, (c) => {
    const s = c.segOverride >= 0 ? c.segOverride : DS;
    const off = c.a32 ? (c.regs[EBX]! + c.r8[0]!) | 0 : (c.r16[EBX << 1]! + c.r8[0]!) & 0xffff;
    c.r8[0] = c.rd8(c.segLin(s, off, 1, false));
  });
  // MOVZX / MOVSX.
  t.def0F(0xb6, (c) => { const reg = c.reg; c.r16[reg << 1] = c.readRM8(); },
    (c) => { const reg = c.reg; c.regs[reg] = c.readRM8(); });
  t.def0F(0xb7, (c) => { const reg = c.reg; c.r16[reg << 1] = c.readRM16(); },
    (c) => { const reg = c.reg; c.regs[reg] = c.readRM16(); });
  t.def0F(0xbe, (c) => { const reg = c.reg; c.r16[reg << 1] = (c.readRM8() << 24) >> 24; },
    (c) => { const reg = c.reg; c.regs[reg] = (c.readRM8() << 24) >> 24; });
  t.def0F(0xbf, (c) => { const reg = c.reg; c.r16[reg << 1] = c.readRM16(); },
    (c) => { const reg = c.reg; c.regs[reg] = (c.readRM16() << 16) >> 16; });
  // Far pointer loads.
  t.def(0xc4, loadFarPtr(ES));
  t.def(0xc5, loadFarPtr(DS));
  t.def0F(0xb2, loadFarPtr(SS));
  t.def0F(0xb4, loadFarPtr(FS));
  t.def0F(0xb5, loadFarPtr(GS));
  // Multi-byte NOP (0F 1F /0) and hint space 0F 18-1F.
  for (let op = 0x18; op <= 0x1f; op++) t.def0F(op, () => { /* hint NOP */ });
}
