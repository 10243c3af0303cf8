// Hardware task switching (SDM vol. 3A ch. 7) — being written.
import type { Cpu } from './Cpu.js';
import { EXC_GP } from './constants.js';

export const TASK_JMP = 0, TASK_CALL = 1, TASK_INT = 2, TASK_IRET = 3;

export function taskSwitch(c: Cpu, sel: number, _kind: number, _retEip: number, _error: number, ext: number): void {
  c.raise(EXC_GP, (sel & ~3) | ext);
}
