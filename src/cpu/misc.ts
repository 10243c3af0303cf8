// Integer odds and ends no other group owns: the flag instructions CLC STC CMC CLD STD
// (F8 F9 F5 FC FD), SALC (D6, undocumented: AL = CF ? FF : 00), BOUND (62, #BR when
// out of range) and the reserved-invalid opcodes UD1 (0F B9) and UD0 (0F FF), which
// raise #UD on purpose rather than being counted as unimplemented (SDM vol. 2).
// CLI/STI/PUSHF/POPF/HLT live in system.ts.

import type { Cpu } from './Cpu.js';
import type { OpTable } from './opcodes.js';
import { EXC_BR, FLAG_CF, FLAG_DF } from './constants.js';
import { getCF } from './flags.js';

/** Set CF eagerly, keeping the other flags (lazy or not) as they are. */
function setCF(c: Cpu, cf: number): void {
  c.lazyMask &= ~FLAG_CF;
  c.flags = (c.flags & ~FLAG_CF) | (cf !== 0 ? FLAG_CF : 0);
}

/** BOUND r, m: the index (signed) must lie within [lower, upper] read from memory. */
function bound(c: Cpu): void {
  const reg = c.reg;
  if (c.modrm >= 0xc0) c.raiseUD();
  if (c.o32) {
    const lin = c.eaLin(8, false);
    const lo = c.rd32(lin), hi = c.rd32((lin + 4) | 0);
    const v = c.regs[reg]!;
    if (v < lo || v > hi) c.raise(EXC_BR);
  } else {
    const lin = c.eaLin(4, false);
    const lo = (c.rd16(lin) << 16) >> 16, hi = (c.rd16((lin + 2) | 0) << 16) >> 16;
    const v = (c.r16[reg << 1]! << 16) >> 16;
    if (v < lo || v > hi) c.raise(EXC_BR);
  }
}

export function installMisc(t: OpTable): void {
  t.def(0xf8, (c) => setCF(c, 0));
  t.def(0xf9, (c) => setCF(c, 1));
  t.def(0xf5, (c) => setCF(c, getCF(c) ^ 1));
  t.def(0xfc, (c) => { c.flags &= ~FLAG_DF; });
  t.def(0xfd, (c) => { c.flags |= FLAG_DF; });
  t.def(0xd6, (c) => { c.r8[0] = getCF(c) !== 0 ? 0xff : 0; });
  t.def(0x62, bound);
  t.def0F(0xb9, (c) => c.raiseUD());
  t.def0F(0xff, (c) => c.raiseUD());
}
