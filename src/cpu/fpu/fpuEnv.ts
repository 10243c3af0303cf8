// x87 environment and state images: FSTENV/FLDENV, FSAVE/FRSTOR (SDM vol. 1 §8.1.10, figures
// 8-9 to 8-12: 14/28-byte environments in protected and real/V86 layouts, then eight 80-bit
// registers in stack order), FXSAVE/FXRSTOR (SDM vol. 2 FXSAVE table 3-43, non-64-bit layout).
//
// Reserved upper halves of the 32-bit environment (CW, SW, TW, and FDS; the IP/DP low words in
// the real-mode layout) are stored as FFFFH, as Bochs does. Every image is read completely
// before any state changes, so a fault part-way through leaves the FPU as it was.

import type { Fpu } from './Fpu.js';
import { EXC_MASK } from './fpuConst.js';
import { PK } from './fpuFormats.js';

/** Write the environment; returns its size (14 or 28), where FSAVE's registers start. */
function storeEnv(f: Fpu, lin: number, o32: boolean): number {
  const h = f.host;
  const cw = f.cw, sw = f.getSW(), tw = f.getTW();
  const fop = f.fop & 0x7ff;
  if (h.protectedMode) {
    if (o32) {
      h.write32(lin, 0xffff0000 | cw);
      h.write32(lin + 4, 0xffff0000 | sw);
      h.write32(lin + 8, 0xffff0000 | tw);
      h.write32(lin + 12, f.fip | 0);
      h.write32(lin + 16, (f.fcs & 0xffff) | (fop << 16));
      h.write32(lin + 20, f.fdp | 0);
      h.write32(lin + 24, 0xffff0000 | (f.fds & 0xffff));
      return 28;
    }
    h.write16(lin, cw);
    h.write16(lin + 2, sw);
    h.write16(lin + 4, tw);
    h.write16(lin + 6, f.fip & 0xffff);
    h.write16(lin + 8, f.fcs & 0xffff);
    h.write16(lin + 10, f.fdp & 0xffff);
    h.write16(lin + 12, f.fds & 0xffff);
    return 14;
  }
  // real and virtual-8086 mode: 20/32-bit linear pointers split around the opcode
  const ip = ((f.fcs & 0xffff) * 16 + f.fip) >>> 0;
  const dp = ((f.fds & 0xffff) * 16 + f.fdp) >>> 0;
  if (o32) {
    h.write32(lin, 0xffff0000 | cw);
    h.write32(lin + 4, 0xffff0000 | sw);
    h.write32(lin + 8, 0xffff0000 | tw);
    h.write32(lin + 12, 0xffff0000 | (ip & 0xffff));
    h.write32(lin + 16, ((ip >>> 16) << 12) | fop);
    h.write32(lin + 20, 0xffff0000 | (dp & 0xffff));
    h.write32(lin + 24, (dp >>> 16) << 12);
    return 28;
  }
  h.write16(lin, cw);
  h.write16(lin + 2, sw);
  h.write16(lin + 4, tw);
  h.write16(lin + 6, ip & 0xffff);
  h.write16(lin + 8, ((ip >>> 4) & 0xf000) | fop);
  h.write16(lin + 10, dp & 0xffff);
  h.write16(lin + 12, (dp >>> 4) & 0xf000);
  return 14;
}

// An environment read from memory, held until every read has succeeded.
let eCw = 0, eSw = 0, eTw = 0, eFip = 0, eFcs = 0, eFop = 0, eFdp = 0, eFds = 0;

/** Read the environment into the e* variables; returns its size. */
function readEnv(f: Fpu, lin: number, o32: boolean): number {
  const h = f.host;
  if (h.protectedMode) {
    if (o32) {
      eCw = h.read32(lin) & 0xffff;
      eSw = h.read32(lin + 4) & 0xffff;
      eTw = h.read32(lin + 8) & 0xffff;
      eFip = h.read32(lin + 12) >>> 0;
      const w = h.read32(lin + 16);
      eFcs = w & 0xffff;
      eFop = (w >>> 16) & 0x7ff;
      eFdp = h.read32(lin + 20) >>> 0;
      eFds = h.read32(lin + 24) & 0xffff;
      return 28;
    }
    eCw = h.read16(lin) & 0xffff;
    eSw = h.read16(lin + 2) & 0xffff;
    eTw = h.read16(lin + 4) & 0xffff;
    eFip = h.read16(lin + 6) & 0xffff;
    eFcs = h.read16(lin + 8) & 0xffff;
    eFdp = h.read16(lin + 10) & 0xffff;
    eFds = h.read16(lin + 12) & 0xffff;
    eFop = 0; // the 16-bit protected-mode image has no opcode field
    return 14;
  }
  eFcs = 0;
  eFds = 0;
  if (o32) {
    eCw = h.read32(lin) & 0xffff;
    eSw = h.read32(lin + 4) & 0xffff;
    eTw = h.read32(lin + 8) & 0xffff;
    const ipLo = h.read32(lin + 12) & 0xffff;
    const w = h.read32(lin + 16);
    const dpLo = h.read32(lin + 20) & 0xffff;
    const dpHi = h.read32(lin + 24);
    eFip = (((w & 0x0ffff000) << 4) | ipLo) >>> 0;
    eFop = w & 0x7ff;
    eFdp = (((dpHi & 0x0ffff000) << 4) | dpLo) >>> 0;
    return 28;
  }
  eCw = h.read16(lin) & 0xffff;
  eSw = h.read16(lin + 2) & 0xffff;
  eTw = h.read16(lin + 4) & 0xffff;
  const ipLo = h.read16(lin + 6) & 0xffff;
  const w = h.read16(lin + 8) & 0xffff;
  const dpLo = h.read16(lin + 10) & 0xffff;
  const dpHi = h.read16(lin + 12) & 0xffff;
  eFip = ((w & 0xf000) << 4) | ipLo;
  eFop = w & 0x7ff;
  eFdp = ((dpHi & 0xf000) << 4) | dpLo;
  return 14;
}

/** Apply the environment read by readEnv (tags last: the caller may write registers first). */
function applyEnv(f: Fpu): void {
  f.setCW(eCw);
  f.setSW(eSw);
  f.fip = eFip;
  f.fcs = eFcs;
  f.fop = eFop;
  f.fdp = eFdp;
  f.fds = eFds;
}

/** FNSTENV: store the environment, then mask all exceptions. */
export function fstenv(f: Fpu, lin: number, o32: boolean): void {
  storeEnv(f, lin, o32);
  f.cw |= EXC_MASK;
  f.syncFerr();
}

/** FLDENV. */
export function fldenv(f: Fpu, lin: number, o32: boolean): void {
  readEnv(f, lin, o32);
  applyEnv(f);
  f.setTW(eTw);
  f.syncFerr();
}

/** FNSAVE: environment and ST(0)..ST(7), then FNINIT. */
export function fsave(f: Fpu, lin: number, o32: boolean): void {
  const h = f.host;
  let a = lin + storeEnv(f, lin, o32);
  for (let i = 0; i < 8; i++, a += 10) {
    f.extImage((f.top + i) & 7);
    h.write32(a, PK.lo | 0);
    h.write32(a + 4, PK.hi | 0);
    h.write16(a + 8, PK.se);
  }
  f.reset();
}

/** Registers read by FRSTOR before anything is applied: [se, hi, lo] per ST(i). */
const REGS = new Uint32Array(24);

/** FRSTOR. */
export function frstor(f: Fpu, lin: number, o32: boolean): void {
  const h = f.host;
  let a = lin + readEnv(f, lin, o32);
  for (let i = 0; i < 8; i++, a += 10) {
    REGS[3 * i + 2] = h.read32(a);
    REGS[3 * i + 1] = h.read32(a + 4);
    REGS[3 * i] = h.read16(a + 8) & 0xffff;
  }
  applyEnv(f);
  for (let i = 0; i < 8; i++) {
    f.setExt((f.top + i) & 7, REGS, 3 * i);
  }
  f.setTW(eTw);
  f.syncFerr();
}

/** FXSAVE m512byte (legacy/compatibility-mode layout). Bytes 288-511 are not written. */
export function fxsave(f: Fpu, lin: number): void {
  const h = f.host;
  if ((lin & 15) !== 0) h.raiseGP0();
  h.write16(lin, f.cw);
  h.write16(lin + 2, f.getSW());
  h.write8(lin + 4, f.getAbridgedTW());
  h.write8(lin + 5, 0);
  h.write16(lin + 6, f.fop & 0x7ff);
  h.write32(lin + 8, f.fip | 0);
  h.write16(lin + 12, f.fcs & 0xffff);
  h.write16(lin + 14, 0);
  h.write32(lin + 16, f.fdp | 0);
  h.write16(lin + 20, f.fds & 0xffff);
  h.write16(lin + 22, 0);
  h.write32(lin + 24, f.mxcsr | 0);
  h.write32(lin + 28, f.mxcsrMask | 0);
  for (let i = 0, a = lin + 32; i < 8; i++, a += 16) {
    f.extImage((f.top + i) & 7);
    h.write32(a, PK.lo | 0);
    h.write32(a + 4, PK.hi | 0);
    h.write16(a + 8, PK.se);
    h.write16(a + 10, 0);
    h.write32(a + 12, 0);
  }
  for (let k = 0; k < 32; k++) h.write32(lin + 160 + 4 * k, f.xmm32[k]!);
}

/** Words 0-71 of an FXRSTOR image, read before anything is applied. */
const FX = new Int32Array(72);

/** FXRSTOR m512byte. Reserved MXCSR bits set (outside MXCSR_MASK) raise #GP(0). */
export function fxrstor(f: Fpu, lin: number): void {
  const h = f.host;
  if ((lin & 15) !== 0) h.raiseGP0();
  for (let k = 0; k < 72; k++) FX[k] = h.read32(lin + 4 * k);
  const mxcsr = FX[6]! >>> 0;
  if ((mxcsr & ~f.mxcsrMask) !== 0) h.raiseGP0();
  const w0 = FX[0]!, w1 = FX[1]!;
  f.setCW(w0 & 0xffff);
  f.setSW(w0 >>> 16);
  f.fop = (w1 >>> 16) & 0x7ff;
  f.fip = FX[2]! >>> 0;
  f.fcs = FX[3]! & 0xffff;
  f.fdp = FX[4]! >>> 0;
  f.fds = FX[5]! & 0xffff;
  f.mxcsr = mxcsr;
  for (let i = 0; i < 8; i++) {
    const k = 8 + 4 * i;
    const w = PK.w;
    w[0] = FX[k + 2]! & 0xffff;
    w[1] = FX[k + 1]!;
    w[2] = FX[k]!;
    f.setExt((f.top + i) & 7, w, 0);
  }
  f.empty = ~w1 & 0xff; // abridged tags: 1 = in use, per physical register
  for (let k = 0; k < 32; k++) f.xmm32[k] = FX[40 + k]!;
  f.syncFerr();
}
