// Instruction group: bit (being written).
import type { OpTable } from './opcodes.js';

export function installBit(_t: OpTable): void {}
