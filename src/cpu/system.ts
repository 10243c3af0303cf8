// Instruction group: system (being written).
import type { OpTable } from './opcodes.js';

export function installSystem(_t: OpTable): void {}
