// The shape of an instruction template: emit the instruction's code into the region, or
// return false (having emitted nothing) to leave it to the interpreter.

import { cst, type Emitter, type X } from '../Emitter.js';

export type Template = (e: Emitter) => boolean;

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
