// Far control transfers: JMP/CALL ptr16:16/32 (EA, 9A, FF /3 /5) and RETF (CA, CB)
// (SDM vol. 2A-2B; vol. 3A §5.8). Real/VM86 mode and direct code-segment targets in
// protected mode; call gates and task gates are being written.

import type { Cpu } from './Cpu.js';
import type { OpTable } from './opcodes.js';
import { CR0_PE, CS, DESC_CE, EXC_GP, EXC_NP, FLAG_VM } from './constants.js';
import { Descriptor, loadCs, readDescriptor } from './segments.js';

const desc = new Descriptor();

function realMode(c: Cpu): boolean {
  return (c.cr0 & CR0_PE) === 0 || (c.flags & FLAG_VM) !== 0;
}

/** Check a direct code-segment target for JMP/CALL (same privilege only). */
function checkCodeTarget(c: Cpu, sel: number): Descriptor {
  if ((sel & ~3) === 0) c.raise(EXC_GP, 0);
  const d = desc;
  if (!readDescriptor(c, sel, d)) c.raise(EXC_GP, sel & ~3);
  if (!d.isCode) c.raise(EXC_GP, sel & ~3); // gates: not yet
  const conforming = (d.hi & (DESC_CE << 8)) !== 0;
  if (conforming ? d.dpl > c.cpl : (sel & 3) > c.cpl || d.dpl !== c.cpl) c.raise(EXC_GP, sel & ~3);
  if (!d.present) c.raise(EXC_NP, sel & ~3);
  return d;
}

export function farJump(c: Cpu, sel: number, off: number): void {
  if (realMode(c)) {
    c.loadRealSeg(CS, sel);
    c.eip = c.o32 ? off : off & 0xffff;
    return;
  }
  const d = checkCodeTarget(c, sel);
  loadCs(c, sel, d, c.cpl);
  c.eip = c.o32 ? off : off & 0xffff;
}

export function farCall(c: Cpu, sel: number, off: number): void {
  if (realMode(c)) {
    const cs = c.segSel[CS]!;
    if (c.o32) { c.push32(cs); c.push32(c.eip); } else { c.push16(cs); c.push16(c.eip); }
    c.loadRealSeg(CS, sel);
    c.eip = c.o32 ? off : off & 0xffff;
    return;
  }
  const d = checkCodeTarget(c, sel);
  const cs = c.segSel[CS]!;
  if (c.o32) { c.push32(cs); c.push32(c.eip); } else { c.push16(cs); c.push16(c.eip); }
  loadCs(c, sel, d, c.cpl);
  c.eip = c.o32 ? off : off & 0xffff;
}

/** RETF [imm16] to the same privilege level. */
export function farReturn(c: Cpu, imm: number): void {
  const w = c.o32 ? 4 : 2;
  const off = c.o32 ? c.peek32(0) : c.peek16(0);
  const sel = (c.o32 ? c.peek32(4) : c.peek16(2)) & 0xffff;
  if (realMode(c)) {
    c.adjustSp(2 * w + imm);
    c.loadRealSeg(CS, sel);
    c.eip = c.o32 ? off : off & 0xffff;
    return;
  }
  if ((sel & ~3) === 0) c.raise(EXC_GP, 0);
  const d = desc;
  if (!readDescriptor(c, sel, d)) c.raise(EXC_GP, sel & ~3);
  const rpl = sel & 3;
  if (!d.isCode || rpl < c.cpl) c.raise(EXC_GP, sel & ~3);
  const conforming = (d.hi & (DESC_CE << 8)) !== 0;
  if (conforming ? d.dpl > rpl : d.dpl !== rpl) c.raise(EXC_GP, sel & ~3);
  if (!d.present) c.raise(EXC_NP, sel & ~3);
  if (rpl !== c.cpl) c.raise(EXC_GP, sel & ~3); // outer-level RETF: not yet
  c.adjustSp(2 * w + imm);
  loadCs(c, sel, d, rpl);
  c.eip = c.o32 ? off : off & 0xffff;
}

export function installFar(t: OpTable): void {
  t.def(0xea, (c) => { const off = c.fetch16(); const sel = c.fetch16(); farJump(c, sel, off); },
    (c) => { const off = c.fetch32(); const sel = c.fetch16(); farJump(c, sel, off); });
  t.def(0x9a, (c) => { const off = c.fetch16(); const sel = c.fetch16(); farCall(c, sel, off); },
    (c) => { const off = c.fetch32(); const sel = c.fetch16(); farCall(c, sel, off); });
  t.def(0xcb, (c) => farReturn(c, 0));
  t.def(0xca, (c) => { const n = c.fetch16(); farReturn(c, n); });
}
