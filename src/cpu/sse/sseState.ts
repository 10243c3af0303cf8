// SSE/SSE2 execution environment (SDM vol. 1 ch. 10-11, vol. 3A §13.1-13.4): the XMM
// registers and MXCSR (kept in the x87 unit's storage, which FXSAVE/FXRSTOR and snapshots
// already carry), the checks every SSE instruction makes (CR0.EM and CR4.OSFXSR → #UD,
// CR0.TS → #NM), operand access through per-thread scratch lanes (nothing allocates per
// instruction), and the SIMD floating-point exception: flags gathered over every lane,
// then #XM (CR4.OSXMMEXCPT) or #UD when one of them is unmasked, with no result written.

import type { Cpu } from '../Cpu.js';
import type { Fpu } from '../fpu/Fpu.js';
import { CR0_EM, CR0_TS, CR4_OSFXSR, CR4_OSXMMEXCPT, DS, EDI, EXC_GP, EXC_NM, EXC_UD, EXC_XM } from '../constants.js';

// MXCSR bits (SDM vol. 1 §10.2.3).
export const MX_IE = 0x01, MX_DE = 0x02, MX_ZE = 0x04, MX_OE = 0x08, MX_UE = 0x10, MX_PE = 0x20;
export const MX_FLAGS = 0x3f;
export const MX_DAZ = 0x40;
export const MX_MASK_SHIFT = 7;
export const MX_RC_SHIFT = 13;
export const MX_FZ = 0x8000;
/** Pre-computation exceptions: with one of them unmasked the post-computation ones are not reported. */
export const MX_PRE = MX_IE | MX_DE | MX_ZE;

/** Scratch lanes: A holds the destination's (first source's) value, B the second source. */
export const A32 = new Uint32Array(4);
export const A16 = new Uint16Array(A32.buffer);
export const A8 = new Uint8Array(A32.buffer);
export const B32 = new Uint32Array(4);
export const B16 = new Uint16Array(B32.buffer);
export const B8 = new Uint8Array(B32.buffer);
/** The result being built, written to the destination only once nothing can fault. */
export const R32 = new Uint32Array(4);
export const R16 = new Uint16Array(R32.buffer);
export const R8 = new Uint8Array(R32.buffer);

/** The x87 unit holds the XMM state; SSE exists only with such a unit attached (CPUID says so). */
export function hasSse(c: Cpu): boolean {
  return c.fpu !== null && c.fpu.xmmU32 !== undefined;
}

/**
 * The checks of SDM vol. 2 table 2-19/2-20 for SSE/SSE2 instructions: CR0.EM or CR4.OSFXSR
 * clear → #UD, CR0.TS → #NM. Returns the XMM owner.
 */
export function sseAvailable(c: Cpu): Fpu {
  if (!hasSse(c) || (c.cr0 & CR0_EM) !== 0 || (c.cr4 & CR4_OSFXSR) === 0) c.raise(EXC_UD);
  if ((c.cr0 & CR0_TS) !== 0) c.raise(EXC_NM);
  return c.fpu as Fpu;
}

/** The prefix that selects an SSE form: 0 none, 1 66, 2 F3, 3 F2 (F2/F3 win over 66; the last of them counts). */
export function ssePrefix(c: Cpu): number {
  if (c.rep === 1) return 2;
  if (c.rep === 2) return 3;
  return c.o32 !== c.cs32 ? 1 : 0;
}

/** Register number of ModRM.reg (the G/V operand); REX.R would add 8 here. */
export function regX(c: Cpu): number {
  return c.reg;
}
/** Register number of ModRM.rm for a register form; REX.B would add 8. */
export function rmX(c: Cpu): number {
  return c.modrm & 7;
}

/** Linear address of a memory operand of `size` bytes; `align` set: #GP(0) unless 16-aligned. */
export function memLin(c: Cpu, size: number, write: boolean, align: boolean): number {
  const lin = c.eaLin(size, write);
  if (align && (lin & 15) !== 0) c.raise(EXC_GP, 0);
  return lin;
}

/** Copy XMM register x into scratch lanes d. */
export function loadReg(f: Fpu, x: number, d: Uint32Array): void {
  const r = f.xmmU32, b = x << 2;
  d[0] = r[b]!; d[1] = r[b + 1]!; d[2] = r[b + 2]!; d[3] = r[b + 3]!;
}

/** Read `bytes` (4, 8 or 16) of the memory operand into d's low lanes, the rest zeroed. */
export function loadMem(c: Cpu, d: Uint32Array, bytes: number, align: boolean): void {
  const lin = memLin(c, bytes, false, align);
  d[0] = c.rd32(lin);
  d[1] = bytes > 4 ? c.rd32(lin + 4) : 0;
  d[2] = bytes > 8 ? c.rd32(lin + 8) : 0;
  d[3] = bytes > 8 ? c.rd32(lin + 12) : 0;
}

/**
 * The E/W operand into d: the rm register, or `bytes` of memory (16: a full vector; 8 or 4
 * for the scalar and half forms). `align` applies to 16-byte memory operands.
 */
export function loadRM(c: Cpu, f: Fpu, d: Uint32Array, bytes: number, align: boolean): void {
  if (c.modrm >= 0xc0) loadReg(f, rmX(c), d);
  else loadMem(c, d, bytes, align);
}

/** Write the low `bytes` of s to the memory operand (all or nothing: every page checked first). */
export function storeMem(c: Cpu, s: Uint32Array, bytes: number, align: boolean): void {
  const lin = memLin(c, bytes, true, align);
  if (bytes > 4) c.probeWrite(lin, bytes);
  c.wr32(lin, s[0]!);
  if (bytes > 4) c.wr32(lin + 4, s[1]!);
  if (bytes > 8) { c.wr32(lin + 8, s[2]!); c.wr32(lin + 12, s[3]!); }
}

/** Write s to XMM register x. */
export function storeReg(f: Fpu, x: number, s: Uint32Array): void {
  const r = f.xmmU32, b = x << 2;
  r[b] = s[0]!; r[b + 1] = s[1]!; r[b + 2] = s[2]!; r[b + 3] = s[3]!;
}

/** The rounding control MXCSR selects (the x87 encoding: 0 nearest, 1 down, 2 up, 3 toward zero). */
export function mxRc(f: Fpu): number {
  return (f.mxcsr >>> MX_RC_SHIFT) & 3;
}

/**
 * Report the exception flags an instruction raised over all its lanes. Masked ones are
 * ORed into MXCSR and the caller writes its result; with one unmasked, MXCSR gets the flags
 * the SDM reports (only the pre-computation ones if one of those is unmasked) and the
 * instruction ends in #XM, or #UD while CR4.OSXMMEXCPT is clear, without a result.
 */
export function commitFlags(c: Cpu, f: Fpu, flags: number): void {
  if (flags === 0) return;
  const unmasked = flags & ~(f.mxcsr >>> MX_MASK_SHIFT) & MX_FLAGS;
  if (unmasked === 0) { f.mxcsr |= flags; return; }
  f.mxcsr |= (unmasked & MX_PRE) !== 0 ? flags & MX_PRE : flags;
  c.raise((c.cr4 & CR4_OSXMMEXCPT) !== 0 ? EXC_XM : EXC_UD);
}

/**
 * MASKMOVDQU/MASKMOVQ: the bytes of A whose mask byte in B has bit 7 set go to DS:[E]DI
 * (a segment override applies); every selected byte is checked before any is written.
 */
export function maskedStore(c: Cpu, bytes: number): void {
  const seg = c.segOverride >= 0 ? c.segOverride : DS;
  const lin = c.segLin(seg, c.a32 ? c.regs[EDI]! : c.regs[EDI]! & 0xffff, bytes, true);
  for (let i = 0; i < bytes; i++) if ((B8[i]! & 0x80) !== 0) c.probeWrite((lin + i) | 0, 1);
  for (let i = 0; i < bytes; i++) if ((B8[i]! & 0x80) !== 0) c.wr8((lin + i) | 0, A8[i]!);
}
