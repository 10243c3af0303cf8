// Instruction group: string (being written).
import type { OpTable } from './opcodes.js';

export function installString(_t: OpTable): void {}
