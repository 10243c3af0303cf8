// Adapter giving the x87 unit (fpu/) access to the CPU: memory, AX, EFLAGS and the
// #MF / FERR# reporting paths. Kept out of Cpu.ts so the FPU contract stays narrow.

import type { Cpu } from './Cpu.js';
import type { FpuHost } from './fpu/FpuHost.js';
import { CR0_NE, CR0_PE, CS, EXC_MF, FLAG_AF, FLAG_CF, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_ZF, FLAG_VM } from './constants.js';
import { getEflags, materializeFlags } from './flags.js';

export function makeFpuHost(c: Cpu): FpuHost {
  const host: FpuHost = {
    read8: (lin) => c.rd8(lin),
    read16: (lin) => c.rd16(lin),
    read32: (lin) => c.rd32(lin),
    write8: (lin, v) => c.wr8(lin, v),
    write16: (lin, v) => c.wr16(lin, v),
    write32: (lin, v) => c.wr32(lin, v),
    setAX: (v) => { c.r16[0] = v; },
    get cr0NE() { return (c.cr0 & CR0_NE) !== 0; },
    raiseMF: () => c.raise(EXC_MF),
    signalFerr: () => c.onFerr?.(),
    get protectedMode() { return (c.cr0 & CR0_PE) !== 0 && (c.flags & FLAG_VM) === 0; },
    get instrCs() { return c.segSel[CS]!; },
    get instrEip() { return c.startEip; },
    get instrDs() { return c.segSel[c.eaSeg]!; },
    get instrEa() { return c.eaOff; },
    get eflags() { return getEflags(c); },
    setEflagsZPC: (zf: boolean, pf: boolean, cf: boolean) => {
      materializeFlags(c);
      // FCOMI and friends always clear OF, SF and AF (SDM vol. 2A FCOMI).
      c.flags = (c.flags & ~(FLAG_ZF | FLAG_PF | FLAG_CF | FLAG_OF | FLAG_SF | FLAG_AF)) | (zf ? FLAG_ZF : 0) | (pf ? FLAG_PF : 0) | (cf ? FLAG_CF : 0);
    },
    raiseUD: () => c.raiseUD(),
    raiseGP0: () => c.raiseGP(0),
  };
  return host;
}
