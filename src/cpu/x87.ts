// The contract between the integer core and the x87 unit (src/cpu/fpu/). The core
// decodes D8-DF, checks CR0.EM/TS (#NM), computes the operand's linear address and
// hands the instruction over; the unit never sees segments or paging.

export interface X87Unit {
  /** Execute D8..DF with ModRM; `lin` is the operand's linear address for memory forms. */
  execute(opcode: number, modrm: number, lin: number, opsize32: boolean): void;
  /** WAIT/FWAIT: report a pending unmasked exception. */
  fwait(): void;
  fxsave(lin: number): void;
  fxrstor(lin: number): void;
  /** FNINIT state. */
  reset(): void;
  /** Power-on state. */
  hardReset(): void;
  saveState(): unknown;
  loadState(s: unknown): void;
  /** `h` with the unit's architectural state mixed in word by word (record/replay checkpoints, stateHash.ts). */
  hashState(h: number, mix: (h: number, v: number) => number): number;
  /** XMM0-15 as 64 words, when the unit also holds the SSE state (src/cpu/sse/ executes on it,
   *  FXSAVE/FXRSTOR and snapshots carry it with the x87's). Absent: no SSE (CPUID says so). */
  readonly xmmU32?: Uint32Array;
}
