// Values shared by the core and the instruction groups, kept apart from Cpu.ts so
// group modules never read Cpu.ts bindings while the module graph is still loading.

/** Thrown (never allocated per fault) to unwind an instruction that faulted. */
export const FAULT: { readonly fault: true } = Object.freeze({ fault: true });

/** Byte register index → offset in the byte view of `regs` (AL CL DL BL AH CH DH BH). */
export const REG8 = new Uint8Array([0, 4, 8, 12, 1, 5, 9, 13]);
