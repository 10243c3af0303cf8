// The x87 FPU: register stack, status/control/tag words, exception reporting and the decode of
// D8-DF (Intel SDM vol. 1 ch. 8; vol. 2 instruction pages; opcode map vol. 2 §A.4). The
// instructions themselves live beside it: fpuLoadStore, fpuArith (with fpuFast), fpuUnary, fpuRem,
// fpuCompare, fpuTranscendental, fpuEnv; data formats in fpuFormats; the arithmetic underneath in
// fpuSig (exact significand arithmetic), fpuRound (rounding to the register format) and fpuDd
// (double-double for the transcendentals); snapshots checked and upgraded in fpuState.
//
// PRECISION MODEL. The eight data registers hold 80-bit double extended values exactly (sign, 15-bit
// exponent, 64-bit significand: three uint32 words per register) and every instruction computes on
// them as the hardware does. FADD/FSUB/FSUBR/FMUL/FDIV/FDIVR (all operand forms, integer operands
// included) and FSQRT are correctly rounded to the precision CW.PC selects (24, 53 or 64 bits;
// 01, reserved, acts as 64 as on hardware) with the 15-bit exponent range whatever the precision,
// in the direction CW.RC selects. Tininess is detected after rounding (SDM §4.9.1.5, and what the
// processors do); a masked underflow is rounded onto the denormal grid at the precision's position;
// unmasked overflow/underflow deliver the result with its exponent adjusted by 24576 (or the masked
// response when still out of range); PE and C1 ("magnitude rounded up") are exact; DE is raised for
// denormal and pseudo-denormal operands; unnormals, pseudo-NaNs and pseudo-infinities are invalid as
// since the 387. FPREM/FPREM1 give the exact (partial) remainder and quotient bits; FSCALE, FRNDINT,
// FXTRACT, comparisons and conversions to and from m32/m64/m80, integers and BCD are exact or rounded
// per CW.RC (FST m32/m64 also detecting tininess after rounding). The significands are multiplied,
// divided and rooted exactly with 16-bit limbs and estimates held in doubles (no BigInt); a float64
// fast path (fpuFast) is taken where IEEE double arithmetic gives the same bits. The transcendentals
// are computed in double-double and rounded once: correctly rounded but for values within a few
// 2^-40 ulp of a rounding boundary, with FSIN/FCOS/FSINCOS/FPTAN reducing by the hardware's 66-bit
// π (fpuTranscendental documents it). Checked against real hardware: test/cpu/fpu/hwref*,
// test/cpu/asm/x87diff*.
//
// Hot paths do not allocate: conversions go through preallocated scratch objects and typed
// arrays, 64-bit integers move as two 32-bit halves, and no BigInt or closure is created per
// instruction. Memory is only written after every fault-prone read, and FPU state only changes
// after every memory access, so a faulting instruction can be restarted.

import type { FpuHost } from './FpuHost.js';
import {
  CLS_NORMAL, CLS_ZERO, CW_ALWAYS, CW_FNINIT, CW_POWERON, CW_RC_SHIFT, CW_WRITABLE, EXC_MASK,
  INDEF_HI, INDEF_SE, OPND, SW_B, SW_C1, SW_CC, SW_DE, SW_ES, SW_IE, SW_SF, SW_TOP_SHIFT, SW_ZE,
  TAG_EMPTY, TAG_SPECIAL, TAG_VALID, TAG_ZERO,
} from './fpuConst.js';
import { PK, Unpacked, classOfImage, packExt, unpackExt } from './fpuFormats.js';
import { arith } from './fpuArith.js';
import { frndint, fscale, fsqrt, fxtract } from './fpuUnary.js';
import { fprem } from './fpuRem.js';
import { loadFpuState } from './fpuState.js';
import { compareOp, fcomi, ftst, fxam } from './fpuCompare.js';
import { f2xm1, fpatan, fptan, fsincos, fsinOrCos, fyl2x, fyl2xp1 } from './fpuTranscendental.js';
import { fldenv, frstor, fsave, fstenv, fxrstor, fxsave } from './fpuEnv.js';
import {
  fbld, fbstp, fchsAbs, fcmov, fild64, fildSmall, fistSmall, fistp64, fldConst, fldExt, fldFloat, fldReg,
  fldcw, fstFloat, fstReg, fstpExt, fxch, loadInt, loadM32, loadM64,
} from './fpuLoadStore.js';

/** Snapshot of the unit as plain JSON data (format 2; fpuState.ts also loads format 1, the
 *  float64 registers with 80-bit shadows of earlier versions). */
export interface FpuState {
  format: 3;
  /** Physical registers R0-R7 as 80-bit images: [sign|exponent, significand high, low] each. */
  regs: number[];
  empty: number;
  top: number;
  cw: number;
  sw: number;
  fip: number;
  fcs: number;
  fdp: number;
  fds: number;
  fop: number;
  mxcsr: number;
  mxcsrMask: number;
  /** XMM0-15 as 64 int32 words (format 2 had XMM0-7, 32 words). */
  xmm: number[];
  ferrAsserted: boolean;
}

export class Fpu {
  readonly host: FpuHost;

  /** Physical data registers R0-R7 (ST(i) is R[(top + i) & 7]), then the operand slot OPND (8)
   *  where memory and integer operands are converted for the arithmetic: 80-bit images, words
   *  [3p] sign|exponent (16 bits), [3p+1] significand bits 63-32, [3p+2] bits 31-0. */
  readonly regs = new Uint32Array(27);
  /** The operand slot holds a binary32/64 memory operand that was a denormal (exact, normalized,
   *  in the slot; it still raises DE). */
  opndDenormal = false;
  /** Bit p set: physical register p is empty (tag 11). Other tags are computed from the contents. */
  empty = 0xff;
  top = 0;
  cw = CW_FNINIT;
  /** Status word without TOP, ES and B (TOP lives in `top`; ES/B are derived from flags and masks). */
  sw = 0;
  fcs = 0;
  fds = 0;
  fop = 0;
  /** FIP and FDP (typed storage: offsets above 2^30 would otherwise be boxed on every update). */
  private readonly ptrs = new Uint32Array(2);
  get fip(): number { return this.ptrs[0]!; }
  set fip(v: number) { this.ptrs[0] = v; }
  get fdp(): number { return this.ptrs[1]!; }
  set fdp(v: number) { this.ptrs[1] = v; }

  /** SSE state (src/cpu/sse/ executes on it; FXSAVE/FXRSTOR carry it). */
  mxcsr = 0x1f80;
  /** MXCSR_MASK reported by FXSAVE and checked by FXRSTOR and LDMXCSR (0xFFFF: DAZ supported). */
  mxcsrMask = 0xffff;
  /** XMM0-15, 16 bytes each, little-endian lanes. XMM8-15 exist for a later REX decoder; the
   *  32-bit modes reach only XMM0-7 (and the legacy FXSAVE image holds only those). */
  readonly xmm = new Uint8Array(256);
  readonly xmm32 = new Int32Array(this.xmm.buffer);
  readonly xmmU32 = new Uint32Array(this.xmm.buffer);
  readonly xmm16 = new Uint16Array(this.xmm.buffer);

  /** FERR# has been signalled for the current unmasked exception (edge to the PIC once per error). */
  ferrAsserted = false;
  /** Decode FISTTP (DB/DD/DF /1): set when CPUID reports SSE3. Off: those encodings raise #UD. */
  sse3 = false;

  // ---- per-instruction scratch (internal to the unit's modules) ----
  /** Exception flags raised by the current instruction. */
  ex = 0;
  /** C1 as the current instruction leaves it (0 or SW_C1). */
  c1 = 0;

  constructor(host: FpuHost) {
    this.host = host;
    this.reset();
  }

  // ===================================================================== state

  /** FNINIT state: CW 037FH, SW 0, all registers empty, pointers cleared (register contents kept). */
  reset(): void {
    this.cw = CW_FNINIT;
    this.sw = 0;
    this.top = 0;
    this.empty = 0xff;
    this.fip = 0; this.fcs = 0; this.fdp = 0; this.fds = 0; this.fop = 0;
    this.ferrAsserted = false;
  }

  /** Power-on/RESET state, SDM vol. 3 table 9-1: CW 0040H, SW 0, TW 5555H (every register +0.0,
   *  tagged zero), pointers 0, MXCSR 1F80H, XMM registers 0. INIT leaves the x87 state alone. */
  hardReset(): void {
    this.reset();
    this.cw = CW_POWERON;
    this.regs.fill(0);
    this.empty = 0;
    this.mxcsr = 0x1f80;
    this.xmm.fill(0);
  }

  /** The status word as FSTSW reports it. */
  getSW(): number {
    let sw = this.sw | (this.top << SW_TOP_SHIFT);
    if ((this.sw & ~this.cw & EXC_MASK) !== 0) sw |= SW_ES | SW_B;
    return sw;
  }

  /** Load a status word image (FLDENV/FRSTOR/FXRSTOR): TOP into `top`, ES/B recomputed. */
  setSW(v: number): void {
    this.top = (v >>> SW_TOP_SHIFT) & 7;
    this.sw = v & (SW_CC | EXC_MASK | SW_SF);
  }

  setCW(v: number): void {
    this.cw = (v & CW_WRITABLE) | CW_ALWAYS;
  }

  /** True when an unmasked exception is pending (ES set). */
  pending(): boolean {
    return (this.sw & ~this.cw & EXC_MASK) !== 0;
  }

  /** Re-arm FERR# once no exception is pending. */
  syncFerr(): void {
    if (!this.pending()) this.ferrAsserted = false;
  }

  /** Full tag word (2 bits per physical register, R0 in bits 1:0). */
  getTW(): number {
    let tw = 0;
    for (let p = 0; p < 8; p++) tw |= this.tagOf(p) << (2 * p);
    return tw;
  }

  /** Tag of physical register p, from its contents. */
  tagOf(p: number): number {
    if ((this.empty & (1 << p)) !== 0) return TAG_EMPTY;
    const c = this.classOf(p);
    return c === CLS_ZERO ? TAG_ZERO : c === CLS_NORMAL ? TAG_VALID : TAG_SPECIAL;
  }

  /** Apply a tag word image: tag 11 marks a register empty; any other tag means "in use", the
   *  actual tag then following from the contents (SDM vol. 1 §8.1.7). */
  setTW(tw: number): void {
    let empty = 0;
    for (let p = 0; p < 8; p++) if (((tw >>> (2 * p)) & 3) === TAG_EMPTY) empty |= 1 << p;
    this.empty = empty;
  }

  /** Abridged tag byte (FXSAVE): bit p set when physical register p is not empty. */
  getAbridgedTW(): number {
    return ~this.empty & 0xff;
  }

  /** Class (CLS_*) of the value in physical register p, ignoring emptiness. */
  classOf(p: number): number {
    return classOfImage(this.regs, 3 * p);
  }

  /** Sign bit of physical register p. */
  signOf(p: number): number {
    return (this.regs[3 * p]! >>> 15) & 1;
  }

  /** Unpack physical register p into u. */
  unpackReg(u: Unpacked, p: number): void {
    unpackExt(u, this.regs, 3 * p);
  }

  /** The 80-bit image of physical register p, into PK (se, hi, lo). */
  extImage(p: number): void {
    const x = this.regs, b = 3 * p, w = PK.w;
    w[0] = x[b]!; w[1] = x[b + 1]!; w[2] = x[b + 2]!;
  }

  // ===================================================================== register writes

  /** Write the QNaN floating-point indefinite to physical register p (and mark it in use). */
  setIndef(p: number): void {
    const x = this.regs, b = 3 * p;
    x[b] = INDEF_SE;
    x[b + 1] = INDEF_HI;
    x[b + 2] = 0;
    this.empty &= ~(1 << p);
  }

  /** Write the 80-bit image at w[i] (sign|exponent, significand high, low) to physical register p. */
  setExt(p: number, w: Uint32Array, i: number): void {
    const x = this.regs, b = 3 * p;
    x[b] = w[i]! & 0xffff;
    x[b + 1] = w[i + 1]!;
    x[b + 2] = w[i + 2]!;
    this.empty &= ~(1 << p);
  }

  /** Write ±0 (sign 0 or 1) to physical register p. */
  setZero(p: number, sign: number): void {
    const x = this.regs, b = 3 * p;
    x[b] = sign << 15;
    x[b + 1] = 0;
    x[b + 2] = 0;
    this.empty &= ~(1 << p);
  }

  /** Write ±infinity to physical register p. */
  setInf(p: number, sign: number): void {
    const x = this.regs, b = 3 * p;
    x[b] = (sign << 15) | 0x7fff;
    x[b + 1] = 0x80000000;
    x[b + 2] = 0;
    this.empty &= ~(1 << p);
  }

  /** Write an unpacked value (in the 80-bit normal range, or special) to physical register p. */
  setU(p: number, u: Unpacked): void {
    packExt(u);
    this.setExt(p, PK.w, 0);
  }

  /** Copy physical register s to d and mark d in use. */
  copyReg(d: number, s: number): void {
    const x = this.regs, bd = 3 * d, bs = 3 * s;
    x[bd] = x[bs]!;
    x[bd + 1] = x[bs + 1]!;
    x[bd + 2] = x[bs + 2]!;
    this.empty &= ~(1 << d);
  }

  // ===================================================================== stack and exceptions

  isEmpty(p: number): boolean {
    return (this.empty & (1 << p)) !== 0;
  }

  pop(): void {
    this.empty |= 1 << this.top;
    this.top = (this.top + 1) & 7;
  }

  /** Record a stack underflow (#IS, C1=0). Returns true when #IA is masked, i.e. the caller
   *  should deliver the masked response (the indefinite) and complete the instruction. */
  underflow(): boolean {
    this.ex |= SW_IE | SW_SF;
    this.c1 = 0;
    return (this.cw & SW_IE) !== 0;
  }

  /** Before a push: true if ST(7) is free. Otherwise records a stack overflow (#IS, C1=1) and, if
   *  masked, pushes the indefinite; returns false (the instruction is then complete). */
  pushOk(): boolean {
    const p = (this.top - 1) & 7;
    if ((this.empty & (1 << p)) !== 0) return true;
    this.ex |= SW_IE | SW_SF;
    this.c1 = SW_C1;
    if ((this.cw & SW_IE) !== 0) {
      this.top = p;
      this.setIndef(p);
    }
    return false;
  }

  /** Decrement TOP for a push whose slot pushOk() has checked; returns the new ST(0). */
  pushSlot(): number {
    this.top = (this.top - 1) & 7;
    return this.top;
  }

  /** Raise an invalid-operation exception; true if masked. */
  invalid(): boolean {
    this.ex |= SW_IE;
    return (this.cw & SW_IE) !== 0;
  }

  /** True when the zero-divide exception is masked. */
  zeroDivideMasked(): boolean {
    return (this.cw & SW_ZE) !== 0;
  }

  /** Raise a denormal-operand exception; true if masked (the operation then proceeds). */
  denormal(): boolean {
    this.ex |= SW_DE;
    return (this.cw & SW_DE) !== 0;
  }

  rc(): number {
    return (this.cw >>> CW_RC_SHIFT) & 3;
  }

  /** Commit the current instruction's exception flags and C1; C0, C2, C3 unchanged. */
  commit(): void {
    this.sw = (this.sw & ~SW_C1) | this.c1 | this.ex;
  }

  /** Commit flags and set all four condition codes to cc. */
  commitCC(cc: number): void {
    this.sw = (this.sw & ~SW_CC) | cc | this.ex;
  }

  /** A waiting instruction: report a pending unmasked exception first (SDM vol. 1 §8.6). With
   *  CR0.NE=1 that is #MF (throws, the instruction restarts after the handler). With CR0.NE=0 the
   *  PC's FERR# path is taken: FERR# is signalled once per error (IRQ13 through the PIC) and the
   *  instruction proceeds as if IGNNE# were asserted, as Bochs and QEMU do. */
  waitCheck(): void {
    if ((this.sw & ~this.cw & EXC_MASK) === 0) {
      this.ferrAsserted = false;
      return;
    }
    if (this.host.cr0NE) this.host.raiseMF();
    if (!this.ferrAsserted) {
      this.ferrAsserted = true;
      this.host.signalFerr();
    }
  }

  // ===================================================================== public entry points

  /** WAIT/FWAIT (9B). */
  fwait(): void {
    this.waitCheck();
  }

  /** Execute an escape instruction D8..DF. For memory forms `lin` is the operand's linear address. */
  execute(opcode: number, modrm: number, lin: number, opsize32: boolean): void {
    const op = opcode & 7;
    this.ex = 0;
    this.c1 = 0;
    if (modrm < 0xc0) {
      const reg = (modrm >>> 3) & 7;
      if (this.execMem(op, reg, lin, opsize32)) {
        this.fop = (op << 8) | modrm;
        this.fip = this.host.instrEip;
        this.fcs = this.host.instrCs;
        this.fdp = this.host.instrEa;
        this.fds = this.host.instrDs;
      }
    } else if (this.execReg(op, modrm)) {
      this.fop = (op << 8) | modrm;
      this.fip = this.host.instrEip;
      this.fcs = this.host.instrCs;
    }
  }

  /** FXSAVE m512 (0F AE /0). */
  fxsave(lin: number): void {
    fxsave(this, lin);
  }

  /** FXRSTOR m512 (0F AE /1). */
  fxrstor(lin: number): void {
    fxrstor(this, lin);
  }

  hashState(h: number, mix: (h: number, v: number) => number): number {
    for (let i = 0; i < 24; i++) h = mix(h, this.regs[i]!); // R0-R7; the operand slot after them is scratch
    h = mix(mix(mix(mix(h, this.empty), this.top), this.cw), this.sw);
    h = mix(h, this.mxcsr);
    for (let i = 0; i < this.xmm32.length; i++) h = mix(h, this.xmm32[i]!);
    return h;
  }

  saveState(): FpuState {
    return {
      format: 3,
      regs: Array.from(this.regs.subarray(0, 24)),
      empty: this.empty,
      top: this.top,
      cw: this.cw,
      sw: this.sw,
      fip: this.fip,
      fcs: this.fcs,
      fdp: this.fdp,
      fds: this.fds,
      fop: this.fop,
      mxcsr: this.mxcsr,
      mxcsrMask: this.mxcsrMask,
      xmm: Array.from(this.xmm32),
      ferrAsserted: this.ferrAsserted,
    };
  }

  /** Load what saveState wrote (or a format-1 snapshot of an earlier version). Checks everything
   *  first and throws a TypeError naming the problem, leaving the unit as it was. */
  loadState(state: unknown): void {
    const s = loadFpuState(state);
    this.regs.set(s.regs);
    this.empty = s.empty;
    this.top = s.top;
    this.cw = s.cw;
    this.sw = s.sw;
    this.fip = s.fip;
    this.fcs = s.fcs;
    this.fdp = s.fdp;
    this.fds = s.fds;
    this.fop = s.fop;
    this.mxcsr = s.mxcsr;
    this.mxcsrMask = s.mxcsrMask;
    this.xmm32.set(s.xmm);
    this.ferrAsserted = s.ferrAsserted;
  }

  // ===================================================================== decode: memory forms

  /** Returns true for non-control instructions (FIP/FDP/FOP are then updated). */
  private execMem(op: number, reg: number, lin: number, o32: boolean): boolean {
    switch (op) {
      case 0: // D8: m32fp arithmetic
        this.waitCheck();
        loadM32(this, lin);
        this.arithMem(reg);
        return true;
      case 1: // D9
        switch (reg) {
          case 0: this.waitCheck(); loadM32(this, lin); fldFloat(this); return true;
          case 1: return this.host.raiseUD();
          case 2: this.waitCheck(); fstFloat(this, lin, true, false); return true;
          case 3: this.waitCheck(); fstFloat(this, lin, true, true); return true;
          case 4: this.waitCheck(); fldenv(this, lin, o32); return false;
          case 5: this.waitCheck(); fldcw(this, lin); return false;
          case 6: fstenv(this, lin, o32); return false; // FNSTENV
          default: this.host.write16(lin, this.cw); return false; // FNSTCW
        }
      case 2: // DA: m32int arithmetic
        this.waitCheck();
        loadInt(this, this.host.read32(lin) | 0);
        this.arithMem(reg);
        return true;
      case 3: // DB
        switch (reg) {
          case 0: this.waitCheck(); fildSmall(this, this.host.read32(lin) | 0); return true;
          case 1: if (!this.sse3) this.host.raiseUD(); this.waitCheck(); fistSmall(this, lin, 32, true, true); return true;
          case 2: this.waitCheck(); fistSmall(this, lin, 32, false, false); return true;
          case 3: this.waitCheck(); fistSmall(this, lin, 32, true, false); return true;
          case 5: this.waitCheck(); fldExt(this, lin); return true;
          case 7: this.waitCheck(); fstpExt(this, lin); return true;
          default: return this.host.raiseUD(); // /4, /6 reserved
        }
      case 4: // DC: m64fp arithmetic
        this.waitCheck();
        loadM64(this, lin);
        this.arithMem(reg);
        return true;
      case 5: // DD
        switch (reg) {
          case 0: this.waitCheck(); loadM64(this, lin); fldFloat(this); return true;
          case 1: if (!this.sse3) this.host.raiseUD(); this.waitCheck(); fistp64(this, lin, true); return true;
          case 2: this.waitCheck(); fstFloat(this, lin, false, false); return true;
          case 3: this.waitCheck(); fstFloat(this, lin, false, true); return true;
          case 4: this.waitCheck(); frstor(this, lin, o32); return false;
          case 5: return this.host.raiseUD();
          case 6: fsave(this, lin, o32); return false; // FNSAVE
          default: this.host.write16(lin, this.getSW()); return false; // FNSTSW m16
        }
      case 6: // DE: m16int arithmetic
        this.waitCheck();
        loadInt(this, (this.host.read16(lin) << 16) >> 16);
        this.arithMem(reg);
        return true;
      default: // DF
        switch (reg) {
          case 0: this.waitCheck(); fildSmall(this, (this.host.read16(lin) << 16) >> 16); return true;
          case 1: if (!this.sse3) this.host.raiseUD(); this.waitCheck(); fistSmall(this, lin, 16, true, true); return true;
          case 2: this.waitCheck(); fistSmall(this, lin, 16, false, false); return true;
          case 3: this.waitCheck(); fistSmall(this, lin, 16, true, false); return true;
          case 4: this.waitCheck(); fbld(this, lin); return true;
          case 5: this.waitCheck(); fild64(this, lin); return true;
          case 6: this.waitCheck(); fbstp(this, lin); return true;
          default: this.waitCheck(); fistp64(this, lin, false); return true;
        }
    }
  }

  // ===================================================================== decode: register forms

  private execReg(op: number, modrm: number): boolean {
    const reg = (modrm >>> 3) & 7;
    const i = modrm & 7;
    switch (op) {
      case 0: // D8: ST(0) := ST(0) op ST(i); D0/D8 FCOM/FCOMP ST(i)
        this.waitCheck();
        if (reg === 2 || reg === 3) compareOp(this, (this.top + i) & 7, reg === 3 ? 1 : 0, false);
        else this.arithReg(reg, this.top, (this.top + i) & 7, false);
        return true;
      case 1:
        return this.execD9(modrm, reg, i);
      case 2: // DA: FCMOVB/E/BE/U, FUCOMPP
        if (reg < 4) {
          this.waitCheck();
          fcmov(this, reg, false, i);
          return true;
        }
        if (modrm !== 0xe9) return this.host.raiseUD();
        this.waitCheck();
        compareOp(this, (this.top + 1) & 7, 2, true);
        return true;
      case 3: // DB
        if (reg < 4) {
          this.waitCheck();
          fcmov(this, reg, true, i);
          return true;
        }
        if (reg === 5 || reg === 6) {
          this.waitCheck();
          fcomi(this, (this.top + i) & 7, false, reg === 5);
          return true;
        }
        switch (modrm) {
          case 0xe0: case 0xe1: case 0xe4: return false; // FNENI, FNDISI, FNSETPM: no-ops since the 387
          case 0xe2: // FNCLEX
            this.sw &= ~(EXC_MASK | SW_SF);
            this.ferrAsserted = false;
            return false;
          case 0xe3: // FNINIT
            this.reset();
            return false;
          default: return this.host.raiseUD();
        }
      case 4: // DC: ST(i) := ST(i) op ST(0); D0/D8 FCOM2/FCOMP3 aliases
        // With ST(i) as the destination, E0/E8 and F0/F8 mean FSUBR/FSUB and FDIVR/FDIV (SDM):
        // the reverse of the D8 forms, hence reg ^ 1 as the operation on (dst, src).
        this.waitCheck();
        if (reg === 2 || reg === 3) compareOp(this, (this.top + i) & 7, reg === 3 ? 1 : 0, false);
        else this.arithReg(reg < 4 ? reg : reg ^ 1, (this.top + i) & 7, this.top, false);
        return true;
      case 5: // DD
        switch (reg) {
          case 0: // FFREE ST(i)
            this.waitCheck();
            this.empty |= 1 << ((this.top + i) & 7);
            return true;
          case 1: this.waitCheck(); fxch(this, i); return true; // FXCH4 alias
          case 2: this.waitCheck(); fstReg(this, i, false); return true;
          case 3: this.waitCheck(); fstReg(this, i, true); return true;
          case 4: this.waitCheck(); compareOp(this, (this.top + i) & 7, 0, true); return true; // FUCOM
          case 5: this.waitCheck(); compareOp(this, (this.top + i) & 7, 1, true); return true; // FUCOMP
          default: return this.host.raiseUD();
        }
      case 6: // DE: ST(i) := ST(i) op ST(0) and pop; D0 FCOMP5 alias; D9 FCOMPP
        if (reg === 3 && i !== 1) return this.host.raiseUD();
        this.waitCheck();
        if (reg === 2) compareOp(this, (this.top + i) & 7, 1, false);
        else if (reg === 3) compareOp(this, (this.top + 1) & 7, 2, false);
        else this.arithReg(reg < 4 ? reg : reg ^ 1, (this.top + i) & 7, this.top, true);
        return true;
      default: // DF
        switch (reg) {
          case 0: // FFREEP (undocumented by Intel, executed by its CPUs; AMD documents it)
            this.waitCheck();
            this.empty |= 1 << ((this.top + i) & 7);
            this.pop();
            return true;
          case 1: this.waitCheck(); fxch(this, i); return true; // FXCH7 alias
          case 2: case 3: this.waitCheck(); fstReg(this, i, true); return true; // FSTP8/FSTP9 aliases
          case 4:
            if (i !== 0) return this.host.raiseUD();
            this.host.setAX(this.getSW()); // FNSTSW AX
            return false;
          case 5: case 6: this.waitCheck(); fcomi(this, (this.top + i) & 7, true, reg === 5); return true;
          default: return this.host.raiseUD();
        }
    }
  }

  private execD9(modrm: number, reg: number, i: number): boolean {
    switch (reg) {
      case 0: this.waitCheck(); fldReg(this, i); return true;
      case 1: this.waitCheck(); fxch(this, i); return true;
      case 2:
        if (i !== 0) return this.host.raiseUD();
        this.waitCheck(); // FNOP
        return true;
      case 3: this.waitCheck(); fstReg(this, i, true); return true; // FSTP1 alias
    }
    switch (modrm) {
      case 0xe0: this.waitCheck(); fchsAbs(this, false); return true;
      case 0xe1: this.waitCheck(); fchsAbs(this, true); return true;
      case 0xe4: this.waitCheck(); ftst(this); return true;
      case 0xe5: this.waitCheck(); fxam(this); return true;
      case 0xe8: this.waitCheck(); fldConst(this, 1); return true;
      case 0xe9: case 0xea: case 0xeb: case 0xec: case 0xed:
        this.waitCheck(); fldConst(this, modrm - 0xe9 + 2); return true;
      case 0xee: this.waitCheck(); fldConst(this, 0); return true;
      case 0xf0: this.waitCheck(); f2xm1(this); return true;
      case 0xf1: this.waitCheck(); fyl2x(this); return true;
      case 0xf2: this.waitCheck(); fptan(this); return true;
      case 0xf3: this.waitCheck(); fpatan(this); return true;
      case 0xf4: this.waitCheck(); fxtract(this); return true;
      case 0xf5: this.waitCheck(); fprem(this, true); return true;
      case 0xf6: this.waitCheck(); this.top = (this.top - 1) & 7; this.commit(); return true; // FDECSTP, C1=0
      case 0xf7: this.waitCheck(); this.top = (this.top + 1) & 7; this.commit(); return true; // FINCSTP, C1=0
      case 0xf8: this.waitCheck(); fprem(this, false); return true;
      case 0xf9: this.waitCheck(); fyl2xp1(this); return true;
      case 0xfa: this.waitCheck(); fsqrt(this); return true;
      case 0xfb: this.waitCheck(); fsincos(this); return true;
      case 0xfc: this.waitCheck(); frndint(this); return true;
      case 0xfd: this.waitCheck(); fscale(this); return true;
      case 0xfe: this.waitCheck(); fsinOrCos(this, false); return true;
      case 0xff: this.waitCheck(); fsinOrCos(this, true); return true;
      default: return this.host.raiseUD(); // E2 E3 E6 E7 EF
    }
  }

  // ===================================================================== arithmetic glue

  /** ST(0) := ST(0) op operand slot (op: the ModRM reg field; 2/3 are FCOM/FCOMP). */
  private arithMem(reg: number): void {
    const p = this.top;
    if (reg === 2 || reg === 3) {
      compareOp(this, OPND, reg === 3 ? 1 : 0, false);
      return;
    }
    if (this.isEmpty(p)) {
      if (this.underflow()) this.setIndef(p);
      this.commit();
      return;
    }
    arith(this, reg, p, OPND);
    this.commit();
  }

  /** dst := dst op src over registers, optionally popping. */
  private arithReg(reg: number, dst: number, src: number, popAfter: boolean): void {
    if (this.isEmpty(dst) || this.isEmpty(src)) {
      if (this.underflow()) {
        this.setIndef(dst);
        if (popAfter) this.pop();
      }
      this.commit();
      return;
    }
    if (arith(this, reg, dst, src) && popAfter) this.pop();
    this.commit();
  }
}
