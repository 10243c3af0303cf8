// Instruction group: shift (being written).
import type { OpTable } from './opcodes.js';

export function installShift(_t: OpTable): void {}
