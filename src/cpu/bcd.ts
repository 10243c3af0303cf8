// Decimal (BCD) adjust instructions: DAA DAS AAA AAS AAM AAD (27 2F 37 3F D4 D5),
// following the SDM vol. 2A pseudo-code for AL/AH, CF and AF.
//
// Flags the SDM leaves undefined get what P6-family hardware is reported to produce
// (Bochs' hardware-validated model):
//   DAA/DAS: OF = 0; SF/ZF/PF from AL (defined).
//   AAA/AAS: OF = 0, SF/ZF/PF from the final AL (after the AND 0FH).
//   AAM/AAD: OF = AF = CF = 0; SF/ZF/PF from AL (defined).

import type { Cpu } from './Cpu.js';
import type { OpTable } from './opcodes.js';
import { EXC_DE, FLAG_AF, FLAG_CF } from './constants.js';
import { getAF, getCF, setLogic } from './flags.js';

/** SF/ZF/PF from AL, OF cleared, then CF and AF as given. */
function finish(c: Cpu, al: number, cf: boolean, af: boolean): void {
  setLogic(c, al & 0xff, 24);
  c.flags |= (cf ? FLAG_CF : 0) | (af ? FLAG_AF : 0);
}

function daa(c: Cpu): void {
  const old = c.r8[0]!;
  const oldCf = getCF(c) !== 0;
  let al = old, af = false;
  if ((old & 0x0f) > 9 || getAF(c)) { al = (al + 6) & 0xff; af = true; }
  let cf = false;
  if (old > 0x99 || oldCf) { al = (al + 0x60) & 0xff; cf = true; }
  c.r8[0] = al;
  finish(c, al, cf, af);
}

function das(c: Cpu): void {
  const old = c.r8[0]!;
  const oldCf = getCF(c) !== 0;
  let al = old, af = false, cf = false;
  if ((old & 0x0f) > 9 || getAF(c)) {
    cf = oldCf || old < 6; // borrow from AL - 6
    al = (al - 6) & 0xff;
    af = true;
  }
  if (old > 0x99 || oldCf) { al = (al - 0x60) & 0xff; cf = true; }
  c.r8[0] = al;
  finish(c, al, cf, af);
}

function aaa(c: Cpu): void {
  let ax = c.r16[0]!;
  const adjust = (ax & 0x0f) > 9 || getAF(c);
  if (adjust) ax = (ax + 0x106) & 0xffff;
  ax &= 0xff0f;
  c.r16[0] = ax;
  finish(c, ax & 0xff, adjust, adjust);
}

function aas(c: Cpu): void {
  let ax = c.r16[0]!;
  const adjust = (ax & 0x0f) > 9 || getAF(c);
  if (adjust) ax = (ax - 6 - 0x100) & 0xffff;
  ax &= 0xff0f;
  c.r16[0] = ax;
  finish(c, ax & 0xff, adjust, adjust);
}

function aam(c: Cpu): void {
  const base = c.imm;
  if (base === 0) c.raise(EXC_DE);
  const al = c.r8[0]!;
  c.r8[1] = (al / base) | 0;
  c.r8[0] = al % base;
  finish(c, c.r8[0]!, false, false);
}

function aad(c: Cpu): void {
  const base = c.imm;
  const al = (c.r8[0]! + c.r8[1]! * base) & 0xff;
  c.r16[0] = al;
  finish(c, al, false, false);
}

export function installBcd(t: OpTable): void {
  t.def(0x27, daa);
  t.def(0x2f, das);
  t.def(0x37, aaa);
  t.def(0x3f, aas);
  t.def(0xd4, aam);
  t.def(0xd5, aad);
}
