// The SSE and SSE2 instructions of the 0F map (SDM vol. 2; opcode map table A-3: the
// mandatory prefix — none, 66, F3, F2 — selects PS, PD, SS or SD forms). One handler per
// opcode reads the prefix and runs the form's lane loop over the scratch vectors of
// sseState; results reach the XMM register or memory only after every access that can
// fault and every unmasked SIMD exception has been checked, so a faulting instruction
// changes nothing. The forms on MMX registers (no prefix on the integer opcodes) are mmx.ts's.

import type { Cpu } from '../Cpu.js';
import type { Fpu } from '../fpu/Fpu.js';
import type { OpTable } from '../opcodes.js';
import { EXC_GP, FLAG_AF, FLAG_CF, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_ZF } from '../constants.js';
import { materializeFlags } from '../flags.js';
import {
  A32, B16, B32, R16, R32, commitFlags, hasSse, maskedStore, loadMem, loadReg, loadRM, memLin, regX, rmX,
  sseAvailable, ssePrefix, storeMem, storeReg,
} from './sseState.js';
import {
  EXF, OP_ADD, OP_DIV, OP_MAX, OP_MIN, OP_MUL, OP_SQRT, OP_SUB, OUT64, approx32, cmp32, cmp64, comi32, comi64,
  f32ToF64, f32ToI32, f64ToF32, f64ToI32, i32ToF32, i32ToF64, op32, op64, setMxcsr,
} from './sseFloat.js';
import * as I from './sseInt.js';
import { mmxAvailable, registerMmx } from './mmx.js';

type Form = (c: Cpu, f: Fpu) => void;
/** Handlers by opcode (0F xx) × prefix (0 none, 1 66, 2 F3, 3 F2); null: #UD. */
const FORMS: (Form | null)[] = new Array<Form | null>(256 * 4).fill(null);
/** 1 where the form works on MMX registers only (mmx.ts): MMX's checks, not SSE's. */
const MMX_FORM = new Uint8Array(256 * 4);

function form(op: number, pfx: number, h: Form, mmx = false): void {
  FORMS[op * 4 + pfx] = h;
  MMX_FORM[op * 4 + pfx] = mmx ? 1 : 0;
}

function dispatch(op: number): (c: Cpu) => void {
  return (c) => {
    const k = op * 4 + ssePrefix(c);
    const h = FORMS[k];
    if (h === null || h === undefined) return c.undefinedOpcode(0x100 | op);
    h(c, MMX_FORM[k] !== 0 ? mmxAvailable(c) : sseAvailable(c));
  };
}
registerMmx(form);

// ---------------------------------------------------------------- floating point

/** Packed op over 4 singles or 2 doubles: dst = dst op src. */
function packedFp(op: number, single: boolean): Form {
  return (c, f) => {
    loadReg(f, regX(c), A32);
    loadRM(c, f, B32, 16, true);
    setMxcsr(f.mxcsr);
    if (single) for (let i = 0; i < 4; i++) R32[i] = op32(op, A32[i]!, B32[i]!);
    else for (let i = 0; i < 4; i += 2) { op64(op, A32[i]!, A32[i + 1]!, B32[i]!, B32[i + 1]!); R32[i] = OUT64[0]!; R32[i + 1] = OUT64[1]!; }
    commitFlags(c, f, EXF[0]!);
    storeReg(f, regX(c), R32);
  };
}
/** Scalar op on the low single or double; the other lanes of dst stay. */
function scalarFp(op: number, single: boolean): Form {
  return (c, f) => {
    loadReg(f, regX(c), A32);
    loadRM(c, f, B32, single ? 4 : 8, false);
    setMxcsr(f.mxcsr);
    R32.set(A32);
    if (single) R32[0] = op32(op, A32[0]!, B32[0]!);
    else { op64(op, A32[0]!, A32[1]!, B32[0]!, B32[1]!); R32[0] = OUT64[0]!; R32[1] = OUT64[1]!; }
    commitFlags(c, f, EXF[0]!);
    storeReg(f, regX(c), R32);
  };
}
function fpFamily(op: number, name: number): void {
  form(name, 0, packedFp(op, true));
  form(name, 1, packedFp(op, false));
  form(name, 2, scalarFp(op, true));
  form(name, 3, scalarFp(op, false));
}
fpFamily(OP_ADD, 0x58);
fpFamily(OP_MUL, 0x59);
fpFamily(OP_SUB, 0x5c);
fpFamily(OP_MIN, 0x5d);
fpFamily(OP_DIV, 0x5e);
fpFamily(OP_MAX, 0x5f);
fpFamily(OP_SQRT, 0x51);

// RCP/RSQRT (PS, SS): no exceptions.
function approx(rsqrt: boolean, scalar: boolean): Form {
  return (c, f) => {
    loadReg(f, regX(c), A32);
    loadRM(c, f, B32, scalar ? 4 : 16, !scalar);
    setMxcsr(f.mxcsr);
    R32.set(A32);
    for (let i = 0; i < (scalar ? 1 : 4); i++) R32[i] = approx32(rsqrt, B32[i]!);
    storeReg(f, regX(c), R32);
  };
}
form(0x52, 0, approx(true, false));
form(0x52, 2, approx(true, true));
form(0x53, 0, approx(false, false));
form(0x53, 2, approx(false, true));

// CMPccPS/PD/SS/SD imm8.
function cmpFp(single: boolean, scalar: boolean): Form {
  return (c, f) => {
    loadReg(f, regX(c), A32);
    loadRM(c, f, B32, scalar ? (single ? 4 : 8) : 16, !scalar);
    setMxcsr(f.mxcsr);
    R32.set(A32);
    const p = c.imm;
    if (single) for (let i = 0; i < (scalar ? 1 : 4); i++) R32[i] = cmp32(p, A32[i]!, B32[i]!) ? 0xffffffff : 0;
    else {
      for (let i = 0; i < (scalar ? 2 : 4); i += 2) {
        const t = cmp64(p, A32[i]!, A32[i + 1]!, B32[i]!, B32[i + 1]!) ? 0xffffffff : 0;
        R32[i] = t; R32[i + 1] = t;
      }
    }
    commitFlags(c, f, EXF[0]!);
    storeReg(f, regX(c), R32);
  };
}
form(0xc2, 0, cmpFp(true, false));
form(0xc2, 1, cmpFp(false, false));
form(0xc2, 2, cmpFp(true, true));
form(0xc2, 3, cmpFp(false, true));

// (U)COMISS/SD → ZF PF CF; OF SF AF cleared.
const REL_FLAGS = [0, FLAG_CF, FLAG_ZF, FLAG_ZF | FLAG_PF | FLAG_CF];
function comi(single: boolean, signalQuiet: boolean): Form {
  return (c, f) => {
    loadReg(f, regX(c), A32);
    loadRM(c, f, B32, single ? 4 : 8, false);
    setMxcsr(f.mxcsr);
    const rel = single ? comi32(A32[0]!, B32[0]!, signalQuiet) : comi64(A32[0]!, A32[1]!, B32[0]!, B32[1]!, signalQuiet);
    commitFlags(c, f, EXF[0]!);
    materializeFlags(c);
    c.flags = (c.flags & ~(FLAG_ZF | FLAG_PF | FLAG_CF | FLAG_OF | FLAG_SF | FLAG_AF)) | REL_FLAGS[rel]!;
  };
}
form(0x2e, 0, comi(true, false));
form(0x2e, 1, comi(false, false));
form(0x2f, 0, comi(true, true));
form(0x2f, 1, comi(false, true));

// ---------------------------------------------------------------- conversions

// CVTSI2SS/SD xmm, r/m32.
form(0x2a, 2, (c, f) => {
  const v = c.readRM32();
  setMxcsr(f.mxcsr);
  const r = i32ToF32(v);
  commitFlags(c, f, EXF[0]!);
  f.xmmU32[regX(c) << 2] = r;
});
form(0x2a, 3, (c, f) => {
  const v = c.readRM32();
  setMxcsr(f.mxcsr);
  i32ToF64(v);
  const b = regX(c) << 2;
  f.xmmU32[b] = OUT64[0]!; f.xmmU32[b + 1] = OUT64[1]!;
});
// CVT(T)SS2SI / CVT(T)SD2SI r32, xmm/m.
function toSi(single: boolean, chop: boolean): Form {
  return (c, f) => {
    loadRM(c, f, B32, single ? 4 : 8, false);
    setMxcsr(f.mxcsr);
    const r = single ? f32ToI32(B32[0]!, chop) : f64ToI32(B32[0]!, B32[1]!, chop);
    commitFlags(c, f, EXF[0]!);
    c.regs[c.reg] = r;
  };
}
form(0x2c, 2, toSi(true, true));
form(0x2c, 3, toSi(false, true));
form(0x2d, 2, toSi(true, false));
form(0x2d, 3, toSi(false, false));

/** A conversion over lanes: body fills R from B (and A for the lanes it keeps). */
function convert(srcBytes: number, align: boolean, body: () => void): Form {
  return (c, f) => {
    loadReg(f, regX(c), A32);
    loadRM(c, f, B32, srcBytes, align);
    setMxcsr(f.mxcsr);
    R32.set(A32);
    body();
    commitFlags(c, f, EXF[0]!);
    storeReg(f, regX(c), R32);
  };
}
// 5A: CVTPS2PD, CVTPD2PS, CVTSS2SD, CVTSD2SS.
form(0x5a, 0, convert(8, false, () => {
  const a = B32[0]!, b = B32[1]!;
  f32ToF64(a); R32[0] = OUT64[0]!; R32[1] = OUT64[1]!;
  f32ToF64(b); R32[2] = OUT64[0]!; R32[3] = OUT64[1]!;
}));
form(0x5a, 1, convert(16, true, () => {
  R32[0] = f64ToF32(B32[0]!, B32[1]!); R32[1] = f64ToF32(B32[2]!, B32[3]!); R32[2] = 0; R32[3] = 0;
}));
form(0x5a, 2, convert(4, false, () => { f32ToF64(B32[0]!); R32[0] = OUT64[0]!; R32[1] = OUT64[1]!; }));
form(0x5a, 3, convert(8, false, () => { R32[0] = f64ToF32(B32[0]!, B32[1]!); }));
// 5B: CVTDQ2PS, CVTPS2DQ (66), CVTTPS2DQ (F3).
form(0x5b, 0, convert(16, true, () => { for (let i = 0; i < 4; i++) R32[i] = i32ToF32(B32[i]!); }));
form(0x5b, 1, convert(16, true, () => { for (let i = 0; i < 4; i++) R32[i] = f32ToI32(B32[i]!, false); }));
form(0x5b, 2, convert(16, true, () => { for (let i = 0; i < 4; i++) R32[i] = f32ToI32(B32[i]!, true); }));
// E6: CVTTPD2DQ (66), CVTDQ2PD (F3), CVTPD2DQ (F2).
form(0xe6, 1, convert(16, true, () => { R32[0] = f64ToI32(B32[0]!, B32[1]!, true); R32[1] = f64ToI32(B32[2]!, B32[3]!, true); R32[2] = 0; R32[3] = 0; }));
form(0xe6, 3, convert(16, true, () => { R32[0] = f64ToI32(B32[0]!, B32[1]!, false); R32[1] = f64ToI32(B32[2]!, B32[3]!, false); R32[2] = 0; R32[3] = 0; }));
form(0xe6, 2, convert(8, false, () => {
  const a = B32[0]!, b = B32[1]!;
  i32ToF64(a); R32[0] = OUT64[0]!; R32[1] = OUT64[1]!;
  i32ToF64(b); R32[2] = OUT64[0]!; R32[3] = OUT64[1]!;
}));

// ---------------------------------------------------------------- moves

/** Full-register load (MOVAPS/UPS/APD/UPD/DQA/DQU) and store. */
function movLoad(align: boolean): Form {
  return (c, f) => { loadRM(c, f, B32, 16, align); storeReg(f, regX(c), B32); };
}
function movStore(align: boolean): Form {
  return (c, f) => {
    loadReg(f, regX(c), A32);
    if (c.modrm >= 0xc0) storeReg(f, rmX(c), A32); else storeMem(c, A32, 16, align);
  };
}
for (const [op, pfx, align] of [[0x10, 0, false], [0x10, 1, false], [0x28, 0, true], [0x28, 1, true], [0x6f, 1, true], [0x6f, 2, false]] as const) {
  form(op, pfx, movLoad(align));
}
for (const [op, pfx, align] of [[0x11, 0, false], [0x11, 1, false], [0x29, 0, true], [0x29, 1, true], [0x7f, 1, true], [0x7f, 2, false]] as const) {
  form(op, pfx, movStore(align));
}
// MOVNTPS/PD (2B), MOVNTDQ (66 E7): memory only, aligned.
function movNt(c: Cpu, f: Fpu): void {
  if (c.modrm >= 0xc0) c.raiseUD();
  movStore(true)(c, f);
}
form(0x2b, 0, movNt);
form(0x2b, 1, movNt);
form(0xe7, 1, movNt);

/** MOVSS/MOVSD load: from memory the other lanes clear; between registers they stay. */
function movScalarLoad(words: number): Form {
  return (c, f) => {
    const x = regX(c) << 2, r = f.xmmU32;
    if (c.modrm >= 0xc0) {
      const s = rmX(c) << 2;
      for (let i = 0; i < words; i++) r[x + i] = r[s + i]!;
    } else {
      loadMem(c, B32, words * 4, false);
      storeReg(f, regX(c), B32);
    }
  };
}
function movScalarStore(words: number): Form {
  return (c, f) => {
    const x = regX(c) << 2, r = f.xmmU32;
    if (c.modrm >= 0xc0) {
      const d = rmX(c) << 2;
      for (let i = 0; i < words; i++) r[d + i] = r[x + i]!;
    } else {
      loadReg(f, regX(c), A32);
      storeMem(c, A32, words * 4, false);
    }
  };
}
form(0x10, 2, movScalarLoad(1));
form(0x10, 3, movScalarLoad(2));
form(0x11, 2, movScalarStore(1));
form(0x11, 3, movScalarStore(2));

/** MOVLPS/MOVLPD/MOVHPS/MOVHPD loads (half = 0 low, 2 high); MOVHLPS/MOVLHPS register forms. */
function movHalfLoad(half: number, allowReg: boolean, regHalf: number): Form {
  return (c, f) => {
    const x = (regX(c) << 2) + half, r = f.xmmU32;
    if (c.modrm >= 0xc0) {
      if (!allowReg) c.raiseUD();
      const s = (rmX(c) << 2) + regHalf;
      const lo = r[s]!, hi = r[s + 1]!;
      r[x] = lo; r[x + 1] = hi;
      return;
    }
    loadMem(c, B32, 8, false);
    r[x] = B32[0]!; r[x + 1] = B32[1]!;
  };
}
function movHalfStore(half: number): Form {
  return (c, f) => {
    if (c.modrm >= 0xc0) c.raiseUD();
    const x = (regX(c) << 2) + half, r = f.xmmU32;
    A32[0] = r[x]!; A32[1] = r[x + 1]!;
    storeMem(c, A32, 8, false);
  };
}
form(0x12, 0, movHalfLoad(0, true, 2)); // MOVLPS / MOVHLPS
form(0x12, 1, movHalfLoad(0, false, 0)); // MOVLPD
form(0x13, 0, movHalfStore(0));
form(0x13, 1, movHalfStore(0));
form(0x16, 0, movHalfLoad(2, true, 0)); // MOVHPS / MOVLHPS
form(0x16, 1, movHalfLoad(2, false, 0)); // MOVHPD
form(0x17, 0, movHalfStore(2));
form(0x17, 1, movHalfStore(2));

// MOVMSKPS/PD r32, xmm (register only).
form(0x50, 0, (c, f) => {
  if (c.modrm < 0xc0) c.raiseUD();
  const s = rmX(c) << 2, r = f.xmmU32;
  c.regs[c.reg] = (r[s]! >>> 31) | ((r[s + 1]! >>> 31) << 1) | ((r[s + 2]! >>> 31) << 2) | ((r[s + 3]! >>> 31) << 3);
});
form(0x50, 1, (c, f) => {
  if (c.modrm < 0xc0) c.raiseUD();
  const s = rmX(c) << 2, r = f.xmmU32;
  c.regs[c.reg] = (r[s + 1]! >>> 31) | ((r[s + 3]! >>> 31) << 1);
});
// PMOVMSKB r32, xmm.
form(0xd7, 1, (c, f) => {
  if (c.modrm < 0xc0) c.raiseUD();
  const s = rmX(c) << 4, b = f.xmm;
  let m = 0;
  for (let i = 15; i >= 0; i--) m = (m << 1) | (b[s + i]! >>> 7);
  c.regs[c.reg] = m;
});

// MOVD xmm, r/m32 (66 6E); MOVD r/m32, xmm (66 7E); MOVQ xmm, xmm/m64 (F3 7E); MOVQ xmm/m64, xmm (66 D6).
form(0x6e, 1, (c, f) => {
  const v = c.readRM32();
  const x = regX(c) << 2, r = f.xmmU32;
  r[x] = v; r[x + 1] = 0; r[x + 2] = 0; r[x + 3] = 0;
});
form(0x7e, 1, (c, f) => { c.writeRM32(f.xmmU32[regX(c) << 2]! | 0); });
form(0x7e, 2, (c, f) => {
  loadRM(c, f, B32, 8, false);
  B32[2] = 0; B32[3] = 0;
  storeReg(f, regX(c), B32);
});
form(0xd6, 1, (c, f) => {
  loadReg(f, regX(c), A32);
  if (c.modrm >= 0xc0) { A32[2] = 0; A32[3] = 0; storeReg(f, rmX(c), A32); } else storeMem(c, A32, 8, false);
});

// MOVNTI m32, r32 (0F C3, no prefix).
form(0xc3, 0, (c) => {
  if (c.modrm >= 0xc0) c.raiseUD();
  c.writeRM32(c.regs[c.reg]!);
});

// MASKMOVDQU xmm1, xmm2.
form(0xf7, 1, (c, f) => {
  if (c.modrm < 0xc0) c.raiseUD();
  loadReg(f, regX(c), A32);
  loadReg(f, rmX(c), B32);
  maskedStore(c, 16);
});

// ---------------------------------------------------------------- logic, shuffles, unpacks

/** A two-operand 128-bit operation: dst = fn(dst, src) with the source aligned in memory. */
function vec(fn: I.IntOp): Form {
  return (c, f) => {
    loadReg(f, regX(c), A32);
    loadRM(c, f, B32, 16, true);
    fn();
    storeReg(f, regX(c), R32);
  };
}
for (const pfx of [0, 1]) {
  form(0x54, pfx, vec(I.pand));
  form(0x55, pfx, vec(I.pandn));
  form(0x56, pfx, vec(I.por));
  form(0x57, pfx, vec(I.pxor));
}
// UNPCKLPS/HPS, UNPCKLPD/HPD.
form(0x14, 0, vec(I.punpckldq));
form(0x15, 0, vec(I.punpckhdq));
form(0x14, 1, vec(I.punpcklqdq));
form(0x15, 1, vec(I.punpckhqdq));
// SHUFPS / SHUFPD xmm, xmm/m128, imm8.
form(0xc6, 0, (c, f) => {
  loadReg(f, regX(c), A32);
  loadRM(c, f, B32, 16, true);
  const m = c.imm;
  R32[0] = A32[m & 3]!; R32[1] = A32[(m >> 2) & 3]!; R32[2] = B32[(m >> 4) & 3]!; R32[3] = B32[(m >> 6) & 3]!;
  storeReg(f, regX(c), R32);
});
form(0xc6, 1, (c, f) => {
  loadReg(f, regX(c), A32);
  loadRM(c, f, B32, 16, true);
  const a = (c.imm & 1) * 2, b = ((c.imm >> 1) & 1) * 2;
  R32[0] = A32[a]!; R32[1] = A32[a + 1]!; R32[2] = B32[b]!; R32[3] = B32[b + 1]!;
  storeReg(f, regX(c), R32);
});

// PSHUFD (66), PSHUFHW (F3), PSHUFLW (F2) xmm, xmm/m128, imm8.
function pshuf(kind: number): Form {
  return (c, f) => {
    loadRM(c, f, B32, 16, true);
    const m = c.imm;
    if (kind === 1) for (let i = 0; i < 4; i++) R32[i] = B32[(m >> (2 * i)) & 3]!;
    else {
      R32.set(B32);
      const base = kind === 2 ? 4 : 0;
      for (let i = 0; i < 4; i++) R16[base + i] = B16[base + ((m >> (2 * i)) & 3)]!;
    }
    storeReg(f, regX(c), R32);
  };
}
form(0x70, 1, pshuf(1));
form(0x70, 2, pshuf(2));
form(0x70, 3, pshuf(3));

// PINSRW xmm, r32/m16, imm8; PEXTRW r32, xmm, imm8.
form(0xc4, 1, (c, f) => {
  const v = c.modrm >= 0xc0 ? c.regs[c.modrm & 7]! & 0xffff : c.readRM16();
  f.xmm16[(regX(c) << 3) + (c.imm & 7)] = v;
});
form(0xc5, 1, (c, f) => {
  if (c.modrm < 0xc0) c.raiseUD();
  c.regs[c.reg] = f.xmm16[(rmX(c) << 3) + (c.imm & 7)]!;
});

// ---------------------------------------------------------------- integer (66 prefix)

const INT_OPS: [number, I.IntOp][] = [
  [0x60, I.punpcklbw], [0x61, I.punpcklwd], [0x62, I.punpckldq], [0x63, I.packsswb], [0x64, I.pcmpgtb],
  [0x65, I.pcmpgtw], [0x66, I.pcmpgtd], [0x67, I.packuswb], [0x68, I.punpckhbw], [0x69, I.punpckhwd],
  [0x6a, I.punpckhdq], [0x6b, I.packssdw], [0x6c, I.punpcklqdq], [0x6d, I.punpckhqdq],
  [0x74, I.pcmpeqb], [0x75, I.pcmpeqw], [0x76, I.pcmpeqd],
  [0xd4, I.paddq], [0xd5, I.pmullw], [0xd8, I.psubusb], [0xd9, I.psubusw], [0xda, I.pminub], [0xdb, I.pand],
  [0xdc, I.paddusb], [0xdd, I.paddusw], [0xde, I.pmaxub], [0xdf, I.pandn],
  [0xe0, I.pavgb], [0xe3, I.pavgw], [0xe4, I.pmulhuw], [0xe5, I.pmulhw],
  [0xe8, I.psubsb], [0xe9, I.psubsw], [0xea, I.pminsw], [0xeb, I.por], [0xec, I.paddsb], [0xed, I.paddsw],
  [0xee, I.pmaxsw], [0xef, I.pxor],
  [0xf4, I.pmuludq], [0xf5, I.pmaddwd], [0xf6, I.psadbw],
  [0xf8, I.psubb], [0xf9, I.psubw], [0xfa, I.psubd], [0xfb, I.psubq], [0xfc, I.paddb], [0xfd, I.paddw], [0xfe, I.paddd],
];
for (const [op, fn] of INT_OPS) form(op, 1, vec(fn));

// Shifts by xmm/m128 count: D1-D3 PSRL W/D/Q, E1-E2 PSRA W/D, F1-F3 PSLL W/D/Q.
function shiftBy(bits: number, kind: number): Form {
  return vec(() => I.shiftLanes(bits, kind, I.countOfB()));
}
form(0xd1, 1, shiftBy(16, 0)); form(0xd2, 1, shiftBy(32, 0)); form(0xd3, 1, shiftBy(64, 0));
form(0xe1, 1, shiftBy(16, 1)); form(0xe2, 1, shiftBy(32, 1));
form(0xf1, 1, shiftBy(16, 2)); form(0xf2, 1, shiftBy(32, 2)); form(0xf3, 1, shiftBy(64, 2));
// Groups 12-14 (71-73) imm8: /2 logical right, /4 arithmetic right, /6 left; 73 /3 PSRLDQ, /7 PSLLDQ.
function shiftImm(bits: number): Form {
  return (c, f) => {
    if (c.modrm < 0xc0) c.raiseUD();
    const r = c.reg, n = c.imm;
    loadReg(f, rmX(c), A32);
    if (r === 2) I.shiftLanes(bits, 0, n);
    else if (r === 4 && bits !== 64) I.shiftLanes(bits, 1, n);
    else if (r === 6) I.shiftLanes(bits, 2, n);
    else if (bits === 64 && (r === 3 || r === 7)) I.shiftBytes(r === 7, n > 16 ? 16 : n);
    else c.raiseUD();
    storeReg(f, rmX(c), R32);
  };
}
form(0x71, 1, shiftImm(16));
form(0x72, 1, shiftImm(32));
form(0x73, 1, shiftImm(64));

// ---------------------------------------------------------------- MXCSR, fences, cache control

/**
 * 0F AE /2-/7 (FXSAVE/FXRSTOR are the x87's, system.ts): LDMXCSR, STMXCSR, CLFLUSH (memory
 * forms), LFENCE, MFENCE, SFENCE (register forms). Fences and CLFLUSH have nothing to order
 * or flush in this single-CPU memory model.
 */
export function sseGroup15(c: Cpu): void {
  const op = c.reg;
  if (c.modrm >= 0xc0) {
    if (op < 5 || !hasSse(c)) c.undefinedOpcode(0x1ae);
    return; // LFENCE, MFENCE, SFENCE
  }
  if (op === 7) { c.eaLin(1, false); return; } // CLFLUSH: a segment check, nothing else
  if (op !== 2 && op !== 3) c.undefinedOpcode(0x1ae);
  const f = sseAvailable(c);
  if (op === 2) {
    const v = c.rd32(memLin(c, 4, false, false)) >>> 0;
    if ((v & ~f.mxcsrMask) !== 0) c.raise(EXC_GP, 0);
    f.mxcsr = v;
  } else {
    c.wr32(memLin(c, 4, true, false), f.mxcsr | 0);
  }
}

const SSE_OPCODES = new Set<number>();
for (let i = 0; i < FORMS.length; i++) if (FORMS[i] !== null) SSE_OPCODES.add(i >> 2);

/** Install the SSE/SSE2 opcodes (0F AE is system.ts's, which hands /2-/7 to sseGroup15). */
export function installSse(t: OpTable): void {
  for (const op of SSE_OPCODES) t.def0F(op, dispatch(op));
}
