// Port I/O: IN/OUT (E4-E7, EC-EF) with the protected-mode permission check — CPL <=
// IOPL, else the TSS I/O permission bitmap (SDM vol. 1 §18.5). String I/O (INS/OUTS)
// lives in string.ts and uses checkIo from here.

import type { Cpu } from './Cpu.js';
import type { OpTable } from './opcodes.js';
import { CR0_PE, EDX, EXC_GP, FLAG_IOPL, FLAG_VM } from './constants.js';

/** Raise #GP(0) unless the current task may access `size` ports at `port`. */
export function checkIo(c: Cpu, port: number, size: number): void {
  if ((c.cr0 & CR0_PE) === 0) return;
  const iopl = (c.flags & FLAG_IOPL) >>> 12;
  if ((c.flags & FLAG_VM) === 0 && c.cpl <= iopl) return;
  // Consult the I/O permission bitmap of a 32-bit TSS.
  if ((c.trAttr & 0xf) !== 0x9 && (c.trAttr & 0xf) !== 0xb) c.raise(EXC_GP, 0);
  const limit = c.trLimit >>> 0;
  if (limit < 0x67) c.raise(EXC_GP, 0);
  const mapBase = c.rdSys16(c.trBase + 0x66);
  const byteOff = mapBase + (port >>> 3);
  if (byteOff + 1 > limit) c.raise(EXC_GP, 0);
  const bits = c.rdSys16(c.trBase + byteOff);
  const mask = ((1 << size) - 1) << (port & 7);
  if ((bits & mask) !== 0) c.raise(EXC_GP, 0);
}

export function portIn(c: Cpu, port: number, size: 1 | 2 | 4): number {
  checkIo(c, port, size);
  return c.io.read(port, size);
}

export function portOut(c: Cpu, port: number, size: 1 | 2 | 4, v: number): void {
  checkIo(c, port, size);
  c.io.write(port, size, v);
}

export function installIo(t: OpTable): void {
  t.def(0xe4, (c) => { const p = c.imm; c.r8[0] = portIn(c, p, 1); });
  t.def(0xe5, (c) => { const p = c.imm; c.r16[0] = portIn(c, p, 2); }, (c) => { const p = c.imm; c.regs[0] = portIn(c, p, 4); });
  t.def(0xe6, (c) => { const p = c.imm; portOut(c, p, 1, c.r8[0]!); });
  t.def(0xe7, (c) => { const p = c.imm; portOut(c, p, 2, c.r16[0]!); }, (c) => { const p = c.imm; portOut(c, p, 4, c.regs[0]!); });
  t.def(0xec, (c) => { c.r8[0] = portIn(c, c.r16[EDX << 1]!, 1); });
  t.def(0xed, (c) => { c.r16[0] = portIn(c, c.r16[EDX << 1]!, 2); }, (c) => { c.regs[0] = portIn(c, c.r16[EDX << 1]!, 4); });
  t.def(0xee, (c) => { portOut(c, c.r16[EDX << 1]!, 1, c.r8[0]!); });
  t.def(0xef, (c) => { portOut(c, c.r16[EDX << 1]!, 2, c.r16[0]!); }, (c) => { portOut(c, c.r16[EDX << 1]!, 4, c.regs[0]!); });
}
