// MMX technology and its SSE/SSE2 extensions on MMX registers (SDM vol. 1 ch. 9, vol. 3A
// §13.5 and ch. 12 "Intel MMX technology system programming"): MM0-7 are the significands of
// the x87 physical registers R0-R7. An MMX instruction raises #UD with CR0.EM, #NM with
// CR0.TS, reports a pending unmasked x87 exception first (as FWAIT does), and then puts the
// x87 unit in MMX state: TOP 0 and every register valid; writing MMi sets Ri's exponent
// field to all ones. EMMS empties every register. The lane operations are sseInt's, run on
// the low 8 bytes of its 16-byte scratch vectors (the packs and high unpacks place their
// halves so the low 8 bytes are the 64-bit result).

import type { Cpu } from '../Cpu.js';
import type { Fpu } from '../fpu/Fpu.js';
import { CR0_EM, CR0_TS, EXC_NM, EXC_UD } from '../constants.js';
import {
  A32, A8, B16, B32, R16, R32, commitFlags, loadMem, maskedStore, regX, rmX, storeMem,
} from './sseState.js';
import { EXF, OUT64, f32ToI32, f64ToI32, i32ToF32, i32ToF64, setMxcsr } from './sseFloat.js';
import * as I from './sseInt.js';

export type Form = (c: Cpu, f: Fpu) => void;
/** Registers a handler for 0F op with mandatory prefix pfx; `mmx`: the MMX checks instead of SSE's. */
export type Register = (op: number, pfx: number, h: Form, mmx: boolean) => void;

/** The checks of an instruction on MMX registers (not CR4.OSFXSR: MMX predates it). */
export function mmxAvailable(c: Cpu): Fpu {
  if (c.fpu === null || c.fpu.xmmU32 === undefined || (c.cr0 & CR0_EM) !== 0) c.raise(EXC_UD);
  if ((c.cr0 & CR0_TS) !== 0) c.raise(EXC_NM);
  c.fpu.fwait();
  return c.fpu as Fpu;
}

/** The transition to MMX state, once nothing can fault any more. */
function enterMmx(f: Fpu): void {
  f.top = 0;
  f.empty = 0;
}

/** MMi (the low 64 bits of physical register i) into d's low lanes, the high lanes zero. */
function readMm(f: Fpu, i: number, d: Uint32Array): void {
  d[0] = f.regs[3 * i + 2]!;
  d[1] = f.regs[3 * i + 1]!;
  d[2] = 0; d[3] = 0;
}
function writeMm(f: Fpu, i: number, lo: number, hi: number): void {
  enterMmx(f);
  f.regs[3 * i] = 0xffff;
  f.regs[3 * i + 1] = hi >>> 0;
  f.regs[3 * i + 2] = lo >>> 0;
}
/** The Q operand (mm register or m64) into d. */
function loadQ(c: Cpu, f: Fpu, d: Uint32Array): void {
  if (c.modrm >= 0xc0) readMm(f, rmX(c), d);
  else loadMem(c, d, 8, false);
}

/** mm = fn(mm, mm/m64) for an element-wise operation. */
function vec(fn: I.IntOp): Form {
  return (c, f) => {
    readMm(f, regX(c), A32);
    loadQ(c, f, B32);
    fn();
    writeMm(f, regX(c), R32[0]!, R32[1]!);
  };
}
/** Packs: A's upper half takes B's operand, so the 16-byte pack's low 8 bytes are the result. */
function pack(fn: I.IntOp): Form {
  return (c, f) => {
    readMm(f, regX(c), A32);
    loadQ(c, f, B32);
    A32[2] = B32[0]!; A32[3] = B32[1]!;
    fn();
    writeMm(f, regX(c), R32[0]!, R32[1]!);
  };
}
/** High unpacks: the 16-byte low unpack's upper 8 bytes interleave the operands' upper halves. */
function unpackHigh(fn: I.IntOp): Form {
  return (c, f) => {
    readMm(f, regX(c), A32);
    loadQ(c, f, B32);
    fn();
    writeMm(f, regX(c), R32[2]!, R32[3]!);
  };
}

const ELEMENTWISE: [number, I.IntOp][] = [
  [0x60, I.punpcklbw], [0x61, I.punpcklwd], [0x62, I.punpckldq],
  [0x64, I.pcmpgtb], [0x65, I.pcmpgtw], [0x66, I.pcmpgtd], [0x74, I.pcmpeqb], [0x75, I.pcmpeqw], [0x76, I.pcmpeqd],
  [0xd4, I.paddq], [0xd5, I.pmullw], [0xd8, I.psubusb], [0xd9, I.psubusw], [0xda, I.pminub], [0xdb, I.pand],
  [0xdc, I.paddusb], [0xdd, I.paddusw], [0xde, I.pmaxub], [0xdf, I.pandn],
  [0xe0, I.pavgb], [0xe3, I.pavgw], [0xe4, I.pmulhuw], [0xe5, I.pmulhw],
  [0xe8, I.psubsb], [0xe9, I.psubsw], [0xea, I.pminsw], [0xeb, I.por], [0xec, I.paddsb], [0xed, I.paddsw],
  [0xee, I.pmaxsw], [0xef, I.pxor], [0xf4, I.pmuludq], [0xf5, I.pmaddwd], [0xf6, I.psadbw],
  [0xf8, I.psubb], [0xf9, I.psubw], [0xfa, I.psubd], [0xfb, I.psubq], [0xfc, I.paddb], [0xfd, I.paddw], [0xfe, I.paddd],
];

export function registerMmx(form: Register): void {
  for (const [op, fn] of ELEMENTWISE) form(op, 0, vec(fn), true);
  form(0x63, 0, pack(I.packsswb), true);
  form(0x67, 0, pack(I.packuswb), true);
  form(0x6b, 0, pack(I.packssdw), true);
  form(0x68, 0, unpackHigh(I.punpcklbw), true);
  form(0x69, 0, unpackHigh(I.punpcklwd), true);
  form(0x6a, 0, unpackHigh(I.punpckldq), true);
  // Shifts by mm/m64 and by imm8 (groups 12-14 /2 /4 /6; no byte shifts on MMX).
  for (const [op, bits, kind] of [[0xd1, 16, 0], [0xd2, 32, 0], [0xd3, 64, 0], [0xe1, 16, 1], [0xe2, 32, 1], [0xf1, 16, 2], [0xf2, 32, 2], [0xf3, 64, 2]] as const) {
    form(op, 0, vec(() => I.shiftLanes(bits, kind, I.countOfB())), true);
  }
  for (const [op, bits] of [[0x71, 16], [0x72, 32], [0x73, 64]] as const) {
    form(op, 0, (c, f) => {
      if (c.modrm < 0xc0) c.raise(EXC_UD);
      const r = c.reg;
      readMm(f, rmX(c), A32);
      if (r === 2) I.shiftLanes(bits, 0, c.imm);
      else if (r === 4 && bits !== 64) I.shiftLanes(bits, 1, c.imm);
      else if (r === 6) I.shiftLanes(bits, 2, c.imm);
      else c.raise(EXC_UD);
      writeMm(f, rmX(c), R32[0]!, R32[1]!);
    }, true);
  }
  // MOVD mm, r/m32; MOVD r/m32, mm; MOVQ mm, mm/m64; MOVQ mm/m64, mm; MOVNTQ m64, mm.
  form(0x6e, 0, (c, f) => { const v = c.readRM32(); writeMm(f, regX(c), v, 0); }, true);
  form(0x7e, 0, (c, f) => { c.writeRM32(f.regs[3 * regX(c) + 2]! | 0); enterMmx(f); }, true);
  form(0x6f, 0, (c, f) => { loadQ(c, f, B32); writeMm(f, regX(c), B32[0]!, B32[1]!); }, true);
  const storeQ: Form = (c, f) => {
    readMm(f, regX(c), A32);
    if (c.modrm >= 0xc0) writeMm(f, rmX(c), A32[0]!, A32[1]!);
    else { storeMem(c, A32, 8, false); enterMmx(f); }
  };
  form(0x7f, 0, storeQ, true);
  form(0xe7, 0, (c, f) => { if (c.modrm >= 0xc0) c.raise(EXC_UD); storeQ(c, f); }, true);
  // EMMS: every x87 register empty.
  form(0x77, 0, (_c, f) => { f.top = 0; f.empty = 0xff; }, true);
  // PSHUFW mm, mm/m64, imm8; PINSRW mm, r32/m16, imm8; PEXTRW r32, mm, imm8; PMOVMSKB r32, mm.
  form(0x70, 0, (c, f) => {
    loadQ(c, f, B32);
    const m = c.imm;
    for (let i = 0; i < 4; i++) R16[i] = B16[(m >> (2 * i)) & 3]!;
    writeMm(f, regX(c), R32[0]!, R32[1]!);
  }, true);
  form(0xc4, 0, (c, f) => {
    const v = c.modrm >= 0xc0 ? c.regs[c.modrm & 7]! & 0xffff : c.readRM16();
    readMm(f, regX(c), A32);
    const k = c.imm & 3;
    const w = k < 2 ? 0 : 1, sh = (k & 1) * 16;
    A32[w] = (A32[w]! & ~(0xffff << sh)) | (v << sh);
    writeMm(f, regX(c), A32[0]!, A32[1]!);
  }, true);
  form(0xc5, 0, (c, f) => {
    if (c.modrm < 0xc0) c.raise(EXC_UD);
    readMm(f, rmX(c), A32);
    const k = c.imm & 3;
    c.regs[c.reg] = (A32[k >> 1]! >>> ((k & 1) * 16)) & 0xffff;
    enterMmx(f);
  }, true);
  form(0xd7, 0, (c, f) => {
    if (c.modrm < 0xc0) c.raise(EXC_UD);
    readMm(f, rmX(c), A32);
    let m = 0;
    for (let i = 7; i >= 0; i--) m = (m << 1) | (A8[i]! >>> 7);
    c.regs[c.reg] = m;
    enterMmx(f);
  }, true);
  // MASKMOVQ mm1, mm2.
  form(0xf7, 0, (c, f) => {
    if (c.modrm < 0xc0) c.raise(EXC_UD);
    readMm(f, regX(c), A32);
    readMm(f, rmX(c), B32);
    maskedStore(c, 8);
    enterMmx(f);
  }, true);

  // SSE/SSE2 instructions with an MMX operand: the SSE checks, and the MMX transition when
  // an MMX register is used. MOVQ2DQ xmm, mm (F3 D6); MOVDQ2Q mm, xmm (F2 D6).
  form(0xd6, 2, (c, f) => {
    if (c.modrm < 0xc0) c.raise(EXC_UD);
    c.fpu!.fwait();
    readMm(f, rmX(c), A32);
    const x = regX(c) << 2;
    f.xmmU32.set(A32, x);
    enterMmx(f);
  }, false);
  form(0xd6, 3, (c, f) => {
    if (c.modrm < 0xc0) c.raise(EXC_UD);
    c.fpu!.fwait();
    const s = rmX(c) << 2;
    writeMm(f, regX(c), f.xmmU32[s]!, f.xmmU32[s + 1]!);
  }, false);
  // CVTPI2PS xmm, mm/m64: two int32 to the low singles (the high ones stay).
  form(0x2a, 0, (c, f) => {
    const reg = c.modrm >= 0xc0;
    if (reg) c.fpu!.fwait();
    loadQ(c, f, B32);
    setMxcsr(f.mxcsr);
    const r0 = i32ToF32(B32[0]!), r1 = i32ToF32(B32[1]!);
    commitFlags(c, f, EXF[0]!);
    const x = regX(c) << 2;
    f.xmmU32[x] = r0; f.xmmU32[x + 1] = r1;
    if (reg) enterMmx(f);
  }, false);
  // CVTPI2PD xmm, mm/m64: exact.
  form(0x2a, 1, (c, f) => {
    const reg = c.modrm >= 0xc0;
    if (reg) c.fpu!.fwait();
    loadQ(c, f, B32);
    setMxcsr(f.mxcsr);
    const x = regX(c) << 2, b1 = B32[1]!;
    i32ToF64(B32[0]!); R32[0] = OUT64[0]!; R32[1] = OUT64[1]!;
    i32ToF64(b1); R32[2] = OUT64[0]!; R32[3] = OUT64[1]!;
    f.xmmU32.set(R32, x);
    if (reg) enterMmx(f);
  }, false);
  // CVT(T)PS2PI mm, xmm/m64; CVT(T)PD2PI mm, xmm/m128.
  for (const chop of [true, false]) {
    const op = chop ? 0x2c : 0x2d;
    form(op, 0, (c, f) => {
      c.fpu!.fwait();
      if (c.modrm >= 0xc0) { const s = rmX(c) << 2; B32[0] = f.xmmU32[s]!; B32[1] = f.xmmU32[s + 1]!; } else loadMem(c, B32, 8, false);
      setMxcsr(f.mxcsr);
      const r0 = f32ToI32(B32[0]!, chop), r1 = f32ToI32(B32[1]!, chop);
      commitFlags(c, f, EXF[0]!);
      writeMm(f, regX(c), r0, r1);
    }, false);
    form(op, 1, (c, f) => {
      c.fpu!.fwait();
      if (c.modrm >= 0xc0) { const s = rmX(c) << 2; for (let i = 0; i < 4; i++) B32[i] = f.xmmU32[s + i]!; } else loadMem(c, B32, 16, true);
      setMxcsr(f.mxcsr);
      const r0 = f64ToI32(B32[0]!, B32[1]!, chop), r1 = f64ToI32(B32[2]!, B32[3]!, chop);
      commitFlags(c, f, EXF[0]!);
      writeMm(f, regX(c), r0, r1);
    }, false);
  }
}
