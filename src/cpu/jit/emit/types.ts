// The shape of an instruction template: emit the instruction's code into the region. A
// template that handles only some forms of its opcode says which (`accepts`, checked before
// anything is emitted, so flag liveness knows which instructions run in the interpreter).

import { cst, type Emitter, type X } from '../Emitter.js';
import type { Insn } from '../scan.js';

export interface Template {
  (e: Emitter): void;
  /** The forms the template handles; all when absent. */
  accepts?: (i: Insn) => boolean;
}

/** A template for the forms `accepts` admits. */
export function when(accepts: (i: Insn) => boolean, emit: (e: Emitter) => void): Template {
  const t: Template = (e) => emit(e);
  t.accepts = accepts;
  return t;
}

/** 32-bit operand size (what most control-flow templates need). */
export const o32 = (i: Insn): boolean => i.o32;

/** Templates by opcode (0x000-0x0FF one-byte map, 0x100-0x1FF the 0F map). */
export type TemplateTable = (Template | undefined)[];

/** An immediate as a value of `size`: as is for 4, masked for 1 and 2. */
export function immOf(size: number, v: number): X {
  return cst(size === 4 ? v | 0 : v & (size === 2 ? 0xffff : 0xff));
}

/** Sign-extend an 8-bit immediate to `size`. */
export function simm8(size: number, v: number): X {
  return immOf(size, (v << 24) >> 24);
}
