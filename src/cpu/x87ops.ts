// Escape opcodes D8-DF, WAIT, and FXSAVE/FXRSTOR (0F AE /0 /1): the integer core's side
// of the x87 (SDM vol. 1 ch. 8; vol. 3A §2.5 CR0.EM/TS/MP → #NM).

import type { Cpu } from './Cpu.js';
import type { OpTable } from './opcodes.js';
import { CR0_EM, CR0_MP, CR0_TS, EXC_NM } from './constants.js';

function checkNM(c: Cpu): void {
  if ((c.cr0 & (CR0_EM | CR0_TS)) !== 0 || c.fpu === null) c.raise(EXC_NM);
}

export function installX87(t: OpTable): void {
  for (let op = 0xd8; op <= 0xdf; op++) {
    t.def(op, (c) => {
      checkNM(c);
      const lin = c.modrm < 0xc0 ? (c.segBase[c.eaSeg]! + c.eaOff) | 0 : 0;
      if (c.modrm < 0xc0 && c.segCheck[c.eaSeg] !== 0) c.checkSegAccess(c.eaSeg, c.eaOff, 1, false);
      c.fpu!.execute(op, c.modrm, lin, c.o32);
    });
  }
  t.def(0x9b, (c) => {
    // WAIT: #NM only when both MP and TS are set.
    if ((c.cr0 & (CR0_MP | CR0_TS)) === (CR0_MP | CR0_TS)) c.raise(EXC_NM);
    c.fpu?.fwait();
  });
}
