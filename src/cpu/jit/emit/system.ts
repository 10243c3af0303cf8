// Templates for instructions that run on the CPU's own state (the registers and flags
// spilled to it, taken back after) from operands the region knows, without the decoder:
// RDTSC (system.ts) and port I/O (io.ts). Cheaper than the interpreter's fallback, exact
// as it: their faults are delivered in the import, and a device that asks for an exit
// (an interrupt, a reset) makes the region leave after the instruction.

import { type Emitter, L_R0, and, cst, loc } from '../Emitter.js';
import type { TemplateTable } from './types.js';

export function installSystem(t: TemplateTable): void {
  t[0x131] = (e) => e.cpuCall('rdtsc');
  // Port I/O (io.ts): the port from the immediate or DX, the size from the opcode.
  const io = (name: string, fromDx: boolean, byte: boolean) => (e: Emitter): void => {
    const size = byte ? 1 : e.osize;
    e.cpuCall(name, [fromDx ? and(loc(L_R0 + 2), cst(0xffff)) : cst(e.i.imm & 0xff), cst(size)]);
  };
  t[0xe4] = io('pin', false, true); t[0xe5] = io('pin', false, false);
  t[0xe6] = io('pout', false, true); t[0xe7] = io('pout', false, false);
  t[0xec] = io('pin', true, true); t[0xed] = io('pin', true, false);
  t[0xee] = io('pout', true, true); t[0xef] = io('pout', true, false);
}
