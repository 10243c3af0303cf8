// Instruction group: bcd (being written).
import type { OpTable } from './opcodes.js';

export function installBcd(_t: OpTable): void {}
