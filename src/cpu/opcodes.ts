// The opcode table (SDM vol. 2D appendix A, opcode maps). One 1024-entry array of
// handlers indexed by  opcode | 0x100 for the 0F map | 0x200 for 32-bit operand size,
// filled by the instruction-group files. Handlers run after the decoder (decoder.ts) has
// read the whole instruction: they take ModRM, the memory operand and the immediates
// from the CPU's decode fields. Anything no group claims raises #UD and is
// counted per opcode, so gaps show up in `--stats` instead of hiding.

import type { Cpu } from './Cpu.js';
import { installDataMove } from './datamove.js';
import { installControl } from './control.js';
import { installArith } from './arith.js';
import { installShift } from './shift.js';
import { installBit } from './bit.js';
import { installBcd } from './bcd.js';
import { installString } from './string.js';
import { installMisc } from './misc.js';
import { installSystem } from './system.js';
import { installIo } from './io.js';
import { installFar } from './far.js';
import { installX87 } from './x87ops.js';
import { installSse } from './sse/sseOps.js';

export type Handler = (c: Cpu) => void;

export const OPCODES: Handler[] = new Array(1024);

function makeUndefined(op: number): Handler {
  return (c) => c.undefinedOpcode(op);
}
for (let i = 0; i < 1024; i++) OPCODES[i] = makeUndefined(i & 0x1ff);

/** Registration interface handed to each group's install function. */
export class OpTable {
  /** One-byte opcode; `h32` defaults to `h16` (size-independent instructions). */
  def(op: number, h16: Handler, h32: Handler = h16): void {
    OPCODES[op] = h16;
    OPCODES[op | 0x200] = h32;
  }
  /** Two-byte opcode 0F op. */
  def0F(op: number, h16: Handler, h32: Handler = h16): void {
    OPCODES[0x100 | op] = h16;
    OPCODES[0x300 | op] = h32;
  }
  /** Opcodes op..op+7 with the register in the low three bits (PUSH r, INC r, MOV r, imm...). */
  defReg(op: number, make: (reg: number) => [Handler, Handler]): void {
    for (let r = 0; r < 8; r++) {
      const [h16, h32] = make(r);
      this.def(op + r, h16, h32);
    }
  }
}

const t = new OpTable();
installDataMove(t);
installControl(t);
installArith(t);
installShift(t);
installBit(t);
installBcd(t);
installString(t);
installMisc(t);
installSystem(t);
installIo(t);
installFar(t);
installX87(t);
installSse(t);
