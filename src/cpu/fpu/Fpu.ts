// The x87 FPU: register stack, status/control/tag words, decode of D8-DF, loads and stores
// (Intel SDM vol. 1 ch. 8; vol. 2 instruction pages; opcode map vol. 2 §A.4).
//
// PRECISION MODEL. The eight data registers are kept as float64 (a Float64Array), so arithmetic
// is IEEE double arithmetic: 53-bit significands and the double exponent range, not the 64-bit
// significands and 15-bit exponents of real hardware. Precision control (CW.PC) is recorded and
// saved but not emulated. Rounding control (CW.RC) is honoured everywhere: arithmetic results are
// correctly rounded to double in the selected direction (with PE, UE, OE and C1 reported as the
// double computation sees them), and FIST/FISTP/FBSTP/FRNDINT/FST round as the SDM says.
//
// Data movement is exact. A register whose 80-bit value a double cannot hold (a 64-bit integer
// from FILD m64/FBLD, an FLD m80 operand with more precision or range, an 80-bit denormal,
// an unsupported encoding, a NaN with payload in its low 11 bits, the FLDPI-style constants)
// keeps its exact 80-bit image beside the double (`ext*` arrays). Loads, stores, FXCH, FLD ST(i),
// FST ST(i), FCMOVcc, FCHS, FABS, FXAM, FTST, comparisons, FIST*, FBSTP, FRNDINT, FXTRACT and
// FSAVE/FRSTOR/FXSAVE/FXRSTOR use that image, so FLD m80 → FSTP m80 and FILD m64 → FISTP m64
// round-trip bit-exactly for every value. Arithmetic on such a register uses the double
// approximation (nearest double; ±DBL_MAX beyond the double range; ±2^-1074 for an 80-bit
// denormal; the QNaN indefinite for unsupported encodings, which raise #IA as on hardware).
//
// Hot paths do not allocate: conversions go through preallocated scratch objects and typed
// arrays, 64-bit integers move as two 32-bit halves, and no BigInt or closure is created per
// instruction. Memory is only written after every fault-prone read, and FPU state only changes
// after every memory access, so a faulting instruction can be restarted.

import type { FpuHost } from './FpuHost.js';
import {
  CLS_DENORMAL, CLS_INF, CLS_NORMAL, CLS_QNAN, CLS_SNAN, CLS_UNSUPPORTED, CLS_ZERO,
  CW_ALWAYS, CW_FNINIT, CW_POWERON, CW_RC_SHIFT, CW_WRITABLE, EXC_MASK,
  EXT_DENORMAL, EXT_MEM_DENORMAL, EXT_NONE, EXT_UNSUPPORTED, EXT_VALUE, INDEF_HI, OPND,
  RC_CHOP, SW_B, SW_C0, SW_C1, SW_C2, SW_C3, SW_CC, SW_DE, SW_ES, SW_IE, SW_OE, SW_PE, SW_SF,
  SW_TOP_SHIFT, SW_UE, TAG_EMPTY, TAG_SPECIAL, TAG_VALID, TAG_ZERO,
} from './fpuConst.js';
import {
  PK, RO, TINY, UA, UC, Unpacked, bcdToInt, doubleToExt, extToDouble, intToBcd,
  packDouble, packExt, packSingle, roundToInt, unpackDouble, unpackExt, unpackInt,
} from './fpuFormats.js';
import { arith, fprem, frndint, fscale, fsqrt, fxtract } from './fpuArith.js';
import { compareOp, fcomi, ftst, fxam } from './fpuCompare.js';
import { f2xm1, fpatan, fptan, fsincos, fsinOrCos, fyl2x, fyl2xp1 } from './fpuTranscendental.js';
import { fldenv, frstor, fsave, fstenv, fxrstor, fxsave } from './fpuEnv.js';

/** FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2 (D9 E9..ED): exponent, significand high half, low half
 *  when rounded to nearest, low half when rounded down/toward zero, low half when rounded up
 *  (the SDM has the 387+ round its internal 66-bit constants per CW.RC). */
const CONSTS = new Uint32Array([
  0x4000, 0xd49a784b, 0xcd1b8afe, 0xcd1b8afe, 0xcd1b8aff, // log2(10)
  0x3fff, 0xb8aa3b29, 0x5c17f0bc, 0x5c17f0bb, 0x5c17f0bc, // log2(e)
  0x4000, 0xc90fdaa2, 0x2168c235, 0x2168c234, 0x2168c235, // pi
  0x3ffd, 0x9a209a84, 0xfbcff799, 0xfbcff798, 0xfbcff799, // log10(2)
  0x3ffe, 0xb17217f7, 0xd1cf79ac, 0xd1cf79ab, 0xd1cf79ac, // ln(2)
]);

/** Snapshot of the unit as plain JSON data. */
export interface FpuState {
  /** Physical registers R0-R7 as [low, high] uint32 halves of the double (keeps NaN payloads and -0). */
  st: number[];
  ext: number[];
  extSe: number[];
  extHi: number[];
  extLo: number[];
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
  /** XMM0-7 as 32 int32 words. */
  xmm: number[];
  ferrAsserted: boolean;
}

export class Fpu {
  readonly host: FpuHost;

  /** Physical data registers R0-R7 (ST(i) is R[(top + i) & 7]), then the operand slot OPND (8)
   *  where memory and integer operands are placed for the arithmetic. */
  readonly st = new Float64Array(9);
  /** The same registers as uint32 halves: [2p] low, [2p+1] high. */
  readonly stw = new Uint32Array(this.st.buffer);
  /** Shadow kind per register (EXT_*): whether extSe/extHi/extLo hold the exact 80-bit image
   *  (any kind with (kind & 3) !== 0). The operand slot uses EXT_NONE or EXT_MEM_DENORMAL. */
  readonly ext = new Uint8Array(9);
  readonly extSe = new Uint16Array(8);
  readonly extHi = new Uint32Array(8);
  readonly extLo = new Uint32Array(8);
  /** Bit p set: physical register p is empty (tag 11). Other tags are computed from the contents. */
  empty = 0xff;
  top = 0;
  cw = CW_FNINIT;
  /** Status word without TOP, ES and B (TOP lives in `top`; ES/B are derived from flags and masks). */
  sw = 0;
  fip = 0;
  fcs = 0;
  fdp = 0;
  fds = 0;
  fop = 0;

  /** SSE state shared with a later SSE unit (FXSAVE/FXRSTOR carry it). */
  mxcsr = 0x1f80;
  /** MXCSR_MASK reported by FXSAVE and checked by FXRSTOR (0xFFBF: no DAZ). */
  mxcsrMask = 0xffbf;
  readonly xmm = new Uint8Array(128);
  readonly xmm32 = new Int32Array(this.xmm.buffer);

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
    this.st.fill(0);
    this.ext.fill(0);
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
    if ((this.ext[p]! & 3) !== 0) {
      unpackExt(UC, this.extSe[p]!, this.extHi[p]!, this.extLo[p]!);
      return UC.cls;
    }
    const hi = this.stw[2 * p + 1]!, lo = this.stw[2 * p]!;
    const exp = (hi >>> 20) & 0x7ff;
    if (exp === 0x7ff) {
      if (((hi & 0xfffff) | lo) === 0) return CLS_INF;
      return (hi & 0x80000) !== 0 ? CLS_QNAN : CLS_SNAN;
    }
    if (exp === 0 && ((hi & 0x7fffffff) | lo) === 0) return CLS_ZERO;
    return CLS_NORMAL; // double subnormals are normal 80-bit numbers
  }

  /** Sign bit of physical register p. */
  signOf(p: number): number {
    return (this.ext[p]! & 3) !== 0 ? this.extSe[p]! >>> 15 : this.stw[2 * p + 1]! >>> 31;
  }

  /** Unpack physical register p (its exact value) into u. */
  unpackReg(u: Unpacked, p: number): void {
    if ((this.ext[p]! & 3) !== 0) unpackExt(u, this.extSe[p]!, this.extHi[p]!, this.extLo[p]!);
    else unpackDouble(u, this.stw[2 * p + 1]!, this.stw[2 * p]!);
  }

  /** The 80-bit image of physical register p, into PK (se, hi, lo). */
  extImage(p: number): void {
    if ((this.ext[p]! & 3) !== 0) {
      PK.se = this.extSe[p]!; PK.hi = this.extHi[p]!; PK.lo = this.extLo[p]!;
    } else {
      doubleToExt(this.stw[2 * p + 1]!, this.stw[2 * p]!);
    }
  }

  // ===================================================================== register writes

  /** Write a double to physical register p and mark it in use. */
  setD(p: number, v: number): void {
    this.st[p] = v;
    this.ext[p] = EXT_NONE;
    this.empty &= ~(1 << p);
  }

  /** Write double bits to physical register p (keeps NaN payloads exactly). */
  setBits(p: number, hi: number, lo: number): void {
    this.stw[2 * p] = lo;
    this.stw[2 * p + 1] = hi;
    this.ext[p] = EXT_NONE;
    this.empty &= ~(1 << p);
  }

  /** Write the QNaN floating-point indefinite to physical register p. */
  setIndef(p: number): void {
    this.setBits(p, INDEF_HI, 0);
  }

  /** Write an 80-bit image to physical register p: the double approximation, plus the exact image
   *  when the double is not exact. */
  setExt(p: number, se: number, hi: number, lo: number): void {
    const kind = extToDouble(se, hi, lo);
    this.stw[2 * p] = PK.lo;
    this.stw[2 * p + 1] = PK.hi;
    this.ext[p] = kind;
    if (kind !== EXT_NONE) {
      this.extSe[p] = se;
      this.extHi[p] = hi;
      this.extLo[p] = lo;
    }
    this.empty &= ~(1 << p);
  }

  /** Write an unpacked (exact) value to physical register p. */
  setU(p: number, u: Unpacked): void {
    packExt(u);
    this.setExt(p, PK.se, PK.hi, PK.lo);
  }

  /** Copy physical register s to d (value and shadow) and mark d in use. */
  copyReg(d: number, s: number): void {
    this.stw[2 * d] = this.stw[2 * s]!;
    this.stw[2 * d + 1] = this.stw[2 * s + 1]!;
    const k = this.ext[s]!;
    this.ext[d] = k;
    if (k !== EXT_NONE) {
      this.extSe[d] = this.extSe[s]!;
      this.extHi[d] = this.extHi[s]!;
      this.extLo[d] = this.extLo[s]!;
    }
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

  saveState(): FpuState {
    return {
      st: Array.from(this.stw.subarray(0, 16)),
      ext: Array.from(this.ext.subarray(0, 8)),
      extSe: Array.from(this.extSe),
      extHi: Array.from(this.extHi),
      extLo: Array.from(this.extLo),
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

  loadState(state: unknown): void {
    const s = state as FpuState;
    this.stw.set(s.st);
    this.ext.set(s.ext);
    this.extSe.set(s.extSe);
    this.extHi.set(s.extHi);
    this.extLo.set(s.extLo);
    this.empty = s.empty & 0xff;
    this.top = s.top & 7;
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
        this.loadM32(lin);
        this.arithMem(reg);
        return true;
      case 1: // D9
        switch (reg) {
          case 0: this.waitCheck(); this.loadM32(lin); this.fldFloat(); return true;
          case 1: return this.host.raiseUD();
          case 2: this.waitCheck(); this.fstFloat(lin, true, false); return true;
          case 3: this.waitCheck(); this.fstFloat(lin, true, true); return true;
          case 4: this.waitCheck(); fldenv(this, lin, o32); return false;
          case 5: this.waitCheck(); this.fldcw(lin); return false;
          case 6: fstenv(this, lin, o32); return false; // FNSTENV
          default: this.host.write16(lin, this.cw); return false; // FNSTCW
        }
      case 2: // DA: m32int arithmetic
        this.waitCheck();
        this.loadInt(this.host.read32(lin) | 0);
        this.arithMem(reg);
        return true;
      case 3: // DB
        switch (reg) {
          case 0: this.waitCheck(); this.fildSmall(this.host.read32(lin) | 0); return true;
          case 1: if (!this.sse3) this.host.raiseUD(); this.waitCheck(); this.fistSmall(lin, 32, true, true); return true;
          case 2: this.waitCheck(); this.fistSmall(lin, 32, false, false); return true;
          case 3: this.waitCheck(); this.fistSmall(lin, 32, true, false); return true;
          case 5: this.waitCheck(); this.fldExt(lin); return true;
          case 7: this.waitCheck(); this.fstpExt(lin); return true;
          default: return this.host.raiseUD(); // /4, /6 reserved
        }
      case 4: // DC: m64fp arithmetic
        this.waitCheck();
        this.loadM64(lin);
        this.arithMem(reg);
        return true;
      case 5: // DD
        switch (reg) {
          case 0: this.waitCheck(); this.loadM64(lin); this.fldFloat(); return true;
          case 1: if (!this.sse3) this.host.raiseUD(); this.waitCheck(); this.fistp64(lin, true); return true;
          case 2: this.waitCheck(); this.fstFloat(lin, false, false); return true;
          case 3: this.waitCheck(); this.fstFloat(lin, false, true); return true;
          case 4: this.waitCheck(); frstor(this, lin, o32); return false;
          case 5: return this.host.raiseUD();
          case 6: fsave(this, lin, o32); return false; // FNSAVE
          default: this.host.write16(lin, this.getSW()); return false; // FNSTSW m16
        }
      case 6: // DE: m16int arithmetic
        this.waitCheck();
        this.loadInt((this.host.read16(lin) << 16) >> 16);
        this.arithMem(reg);
        return true;
      default: // DF
        switch (reg) {
          case 0: this.waitCheck(); this.fildSmall((this.host.read16(lin) << 16) >> 16); return true;
          case 1: if (!this.sse3) this.host.raiseUD(); this.waitCheck(); this.fistSmall(lin, 16, true, true); return true;
          case 2: this.waitCheck(); this.fistSmall(lin, 16, false, false); return true;
          case 3: this.waitCheck(); this.fistSmall(lin, 16, true, false); return true;
          case 4: this.waitCheck(); this.fbld(lin); return true;
          case 5: this.waitCheck(); this.fild64(lin); return true;
          case 6: this.waitCheck(); this.fbstp(lin); return true;
          default: this.waitCheck(); this.fistp64(lin, false); return true;
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
          this.fcmov(reg, false, i);
          return true;
        }
        if (modrm !== 0xe9) return this.host.raiseUD();
        this.waitCheck();
        compareOp(this, (this.top + 1) & 7, 2, true);
        return true;
      case 3: // DB
        if (reg < 4) {
          this.waitCheck();
          this.fcmov(reg, true, i);
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
          case 1: this.waitCheck(); this.fxch(i); return true; // FXCH4 alias
          case 2: this.waitCheck(); this.fstReg(i, false); return true;
          case 3: this.waitCheck(); this.fstReg(i, true); return true;
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
          case 1: this.waitCheck(); this.fxch(i); return true; // FXCH7 alias
          case 2: case 3: this.waitCheck(); this.fstReg(i, true); return true; // FSTP8/FSTP9 aliases
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
      case 0: this.waitCheck(); this.fldReg(i); return true;
      case 1: this.waitCheck(); this.fxch(i); return true;
      case 2:
        if (i !== 0) return this.host.raiseUD();
        this.waitCheck(); // FNOP
        return true;
      case 3: this.waitCheck(); this.fstReg(i, true); return true; // FSTP1 alias
    }
    switch (modrm) {
      case 0xe0: this.waitCheck(); this.fchsAbs(false); return true;
      case 0xe1: this.waitCheck(); this.fchsAbs(true); return true;
      case 0xe4: this.waitCheck(); ftst(this); return true;
      case 0xe5: this.waitCheck(); fxam(this); return true;
      case 0xe8: this.waitCheck(); this.fldConst(1); return true;
      case 0xe9: case 0xea: case 0xeb: case 0xec: case 0xed:
        this.waitCheck(); this.fldConst(modrm - 0xe9 + 2); return true;
      case 0xee: this.waitCheck(); this.fldConst(0); return true;
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

  // ===================================================================== loads

  /** Place a binary32 operand in the operand slot as a double (signalling NaNs stay signalling). */
  private loadM32(lin: number): void {
    const bits = this.host.read32(lin);
    const exp = (bits >>> 23) & 0xff;
    const frac = bits & 0x7fffff;
    const w = this.stw;
    if (exp === 0xff) {
      w[17] = (bits & 0x80000000) | 0x7ff00000 | (frac >>> 3);
      w[16] = frac << 29;
      this.ext[OPND] = EXT_NONE;
    } else if (exp === 0) {
      this.st[OPND] = (bits & 0x80000000) !== 0 ? -frac * 2 ** -149 : frac * 2 ** -149;
      this.ext[OPND] = frac !== 0 ? EXT_MEM_DENORMAL : EXT_NONE;
    } else {
      w[17] = (bits & 0x80000000) | ((exp + 896) << 20) | (frac >>> 3);
      w[16] = frac << 29;
      this.ext[OPND] = EXT_NONE;
    }
  }

  /** Place a binary64 operand in the operand slot. */
  private loadM64(lin: number): void {
    const lo = this.host.read32(lin);
    const hi = this.host.read32(lin + 4);
    this.stw[16] = lo;
    this.stw[17] = hi;
    this.ext[OPND] = (hi & 0x7ff00000) === 0 && ((hi & 0xfffff) | lo) !== 0 ? EXT_MEM_DENORMAL : EXT_NONE;
  }

  /** Place an integer operand in the operand slot (exact). */
  private loadInt(v: number): void {
    this.st[OPND] = v;
    this.ext[OPND] = EXT_NONE;
  }

  /** FLD m32fp / m64fp from the operand slot. */
  private fldFloat(): void {
    const kind = this.ext[OPND]!;
    if (!this.pushOk()) { this.commit(); return; }
    let hi = this.stw[17]!;
    const lo = this.stw[16]!;
    if ((hi & 0x7ff00000) === 0x7ff00000 && ((hi & 0xfffff) | lo) !== 0 && (hi & 0x80000) === 0) {
      if (!this.invalid()) { this.commit(); return; } // SNaN, #IA unmasked: nothing loaded
      hi |= 0x80000;
    }
    // A denormal raises #D, but even unmasked the value is still pushed (SDM FLD note).
    if (kind === EXT_MEM_DENORMAL) this.denormal();
    this.setBits(this.pushSlot(), hi, lo);
    this.commit();
  }

  /** FLD m80fp: exact, no exceptions but stack overflow. */
  private fldExt(lin: number): void {
    const lo = this.host.read32(lin);
    const hi = this.host.read32(lin + 4);
    const se = this.host.read16(lin + 8) & 0xffff;
    if (!this.pushOk()) { this.commit(); return; }
    this.setExt(this.pushSlot(), se, hi, lo);
    this.commit();
  }

  /** FILD m16int / m32int. */
  private fildSmall(v: number): void {
    if (this.pushOk()) this.setD(this.pushSlot(), v);
    this.commit();
  }

  /** FILD m64int: exact (kept as an 80-bit image when beyond 2^53). */
  private fild64(lin: number): void {
    const lo = this.host.read32(lin) >>> 0;
    const hi = this.host.read32(lin + 4) | 0;
    if (!this.pushOk()) { this.commit(); return; }
    const p = this.pushSlot();
    if (hi >= -0x200000 && hi < 0x200000) {
      this.setD(p, hi * 4294967296 + lo); // |v| < 2^53: exact
    } else if (hi < 0) {
      const nlo = (~lo + 1) >>> 0;
      unpackInt(UA, 1, (~hi + (nlo === 0 ? 1 : 0)) >>> 0, nlo);
      this.setU(p, UA);
    } else {
      unpackInt(UA, 0, hi, lo);
      this.setU(p, UA);
    }
    this.commit();
  }

  /** FBLD m80bcd. */
  private fbld(lin: number): void {
    const b0 = this.host.read32(lin);
    const b1 = this.host.read32(lin + 4);
    const b2 = this.host.read16(lin + 8);
    if (!this.pushOk()) { this.commit(); return; }
    bcdToInt(b0, b1, b2 & 0xff);
    unpackInt(UA, (b2 >>> 15) & 1, RO.hi, RO.lo);
    this.setU(this.pushSlot(), UA);
    this.commit();
  }

  /** FLD1 (0), FLDZ (1)... index: 0 = +0.0, 1 = +1.0, 2.. = CONSTS rows. */
  private fldConst(k: number): void {
    if (!this.pushOk()) { this.commit(); return; }
    const p = this.pushSlot();
    if (k < 2) this.setD(p, k);
    else {
      const row = (k - 2) * 5;
      const rc = this.rc();
      const lo = CONSTS[row + (rc === 0 ? 2 : rc === 2 ? 4 : 3)]!;
      this.setExt(p, CONSTS[row]!, CONSTS[row + 1]!, lo);
    }
    this.commit();
  }

  /** FLD ST(i). */
  private fldReg(i: number): void {
    const s = (this.top + i) & 7;
    if (!this.pushOk()) { this.commit(); return; }
    if (this.isEmpty(s)) {
      if (this.underflow()) this.setIndef(this.pushSlot());
      this.commit();
      return;
    }
    this.copyReg(this.pushSlot(), s);
    this.commit();
  }

  private fldcw(lin: number): void {
    this.setCW(this.host.read16(lin));
    this.syncFerr();
  }

  // ===================================================================== stores

  /** Translate a packer's flags into this instruction's exceptions; false if an unmasked exception
   *  suppresses the store (and the pop). */
  private storeOk(fl: number): boolean {
    const cw = this.cw;
    if ((fl & SW_IE) !== 0) {
      this.ex |= SW_IE;
      if ((cw & SW_IE) === 0) return false;
    }
    if ((fl & TINY) !== 0 && (cw & SW_UE) === 0) {
      this.ex |= SW_UE | (fl & SW_PE);
      return false;
    }
    if ((fl & SW_OE) !== 0 && (cw & SW_OE) === 0) {
      this.ex |= SW_OE | (fl & SW_PE);
      return false;
    }
    this.ex |= fl & (SW_PE | SW_UE | SW_OE);
    this.c1 = fl & SW_C1;
    return true;
  }

  /** FST/FSTP m32fp (single) or m64fp. */
  private fstFloat(lin: number, single: boolean, popAfter: boolean): void {
    const p = this.top;
    if (this.isEmpty(p)) {
      if (this.underflow()) {
        if (single) this.host.write32(lin, 0xffc00000 | 0);
        else { this.host.write32(lin, 0); this.host.write32(lin + 4, INDEF_HI); }
        if (popAfter) this.pop();
      }
      this.commit();
      return;
    }
    if (!single && this.ext[p] === EXT_NONE) {
      // binary64 from a double register: exact unless a NaN needs quieting or a tiny value meets an unmasked #U
      let hi = this.stw[2 * p + 1]!;
      const lo = this.stw[2 * p]!;
      const exp = (hi >>> 20) & 0x7ff;
      if (exp === 0x7ff && ((hi & 0xfffff) | lo) !== 0 && (hi & 0x80000) === 0) {
        if (!this.invalid()) { this.commit(); return; }
        hi |= 0x80000;
      } else if (exp === 0 && ((hi & 0xfffff) | lo) !== 0 && (this.cw & SW_UE) === 0) {
        this.ex |= SW_UE;
        this.commit();
        return;
      }
      this.host.write32(lin, lo);
      this.host.write32(lin + 4, hi);
    } else {
      this.unpackReg(UA, p);
      const rc = this.rc();
      if (single) {
        if (!this.storeOk(packSingle(UA, rc))) { this.commit(); return; }
        this.host.write32(lin, PK.lo);
      } else {
        if (!this.storeOk(packDouble(UA, rc))) { this.commit(); return; }
        this.host.write32(lin, PK.lo);
        this.host.write32(lin + 4, PK.hi);
      }
    }
    if (popAfter) this.pop();
    this.commit();
  }

  /** FSTP m80fp: exact. */
  private fstpExt(lin: number): void {
    const p = this.top;
    if (this.isEmpty(p)) {
      if (this.underflow()) {
        this.host.write32(lin, 0);
        this.host.write32(lin + 4, 0xc0000000 | 0);
        this.host.write16(lin + 8, 0xffff);
        this.pop();
      }
      this.commit();
      return;
    }
    this.extImage(p);
    this.host.write32(lin, PK.lo);
    this.host.write32(lin + 4, PK.hi);
    this.host.write16(lin + 8, PK.se);
    this.pop();
    this.commit();
  }

  /** Round ST(0) (physical p) to an integer for a store, per RC (or chop for FISTTP). Leaves the
   *  magnitude in RO (sign in UA.s) and returns false for NaN/∞/unsupported or a magnitude above
   *  limHi:limLo — or, with `negExtra`, above limHi:limLo + 1 for a negative value (two's complement
   *  reaches one further below zero). The caller raises #IA. */
  private intFromReg(p: number, chop: boolean, limHi: number, limLo: number, negExtra: boolean): boolean {
    this.unpackReg(UA, p);
    const c = UA.cls;
    if (c !== CLS_NORMAL && c !== CLS_ZERO && c !== CLS_DENORMAL) return false;
    if (!roundToInt(UA, chop ? RC_CHOP : this.rc())) return false;
    if (RO.hi < limHi || (RO.hi === limHi && RO.lo <= limLo)) return true;
    if (!negExtra || UA.s === 0) return false;
    // exactly limit + 1?
    const lo = (limLo + 1) >>> 0;
    const hi = lo === 0 ? limHi + 1 : limHi;
    return RO.hi === hi && RO.lo === lo;
  }

  /** FIST/FISTP/FISTTP m16int or m32int. */
  private fistSmall(lin: number, bits: number, popAfter: boolean, chop: boolean): void {
    const p = this.top;
    const indef = bits === 16 ? 0x8000 : 0x80000000 | 0;
    if (this.isEmpty(p)) {
      if (this.underflow()) {
        if (bits === 16) this.host.write16(lin, indef); else this.host.write32(lin, indef);
        if (popAfter) this.pop();
      }
      this.commit();
      return;
    }
    let v: number;
    const x = this.st[p]!;
    if (this.ext[p] === EXT_NONE && x === Math.trunc(x) && x >= -2147483648 && x <= 2147483647) {
      v = x | 0; // integral already: exact, no flags
      if (bits === 16 && (v < -32768 || v > 32767)) {
        if (!this.invalid()) { this.commit(); return; }
        v = indef;
      }
    } else if (this.intFromReg(p, chop, 0, bits === 16 ? 0x7fff : 0x7fffffff, true)) {
      v = UA.s !== 0 ? -RO.lo | 0 : RO.lo | 0;
      if (RO.inexact) {
        this.ex |= SW_PE;
        if (RO.up) this.c1 = SW_C1;
      }
    } else {
      if (!this.invalid()) { this.commit(); return; }
      v = indef;
    }
    if (bits === 16) this.host.write16(lin, v & 0xffff); else this.host.write32(lin, v);
    if (popAfter) this.pop();
    this.commit();
  }

  /** FISTP m64int / FISTTP m64int. */
  private fistp64(lin: number, chop: boolean): void {
    const p = this.top;
    if (this.isEmpty(p)) {
      if (this.underflow()) {
        this.host.write32(lin, 0);
        this.host.write32(lin + 4, 0x80000000 | 0);
        this.pop();
      }
      this.commit();
      return;
    }
    let hi: number, lo: number;
    if (this.intFromReg(p, chop, 0x7fffffff, 0xffffffff, true)) {
      hi = RO.hi; lo = RO.lo;
      if (UA.s !== 0) {
        lo = (~lo + 1) >>> 0;
        hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
      }
      if (RO.inexact) {
        this.ex |= SW_PE;
        if (RO.up) this.c1 = SW_C1;
      }
    } else {
      if (!this.invalid()) { this.commit(); return; }
      hi = 0x80000000; lo = 0;
    }
    this.host.write32(lin, lo | 0);
    this.host.write32(lin + 4, hi | 0);
    this.pop();
    this.commit();
  }

  /** FBSTP m80bcd. */
  private fbstp(lin: number): void {
    const p = this.top;
    if (this.isEmpty(p)) {
      if (this.underflow()) {
        this.writeBcdIndef(lin);
        this.pop();
      }
      this.commit();
      return;
    }
    if (!this.intFromReg(p, false, 0x0de0b6b3, 0xa763ffff, false)) {
      if (!this.invalid()) { this.commit(); return; }
      this.writeBcdIndef(lin);
      this.pop();
      this.commit();
      return;
    }
    const inexact = RO.inexact, up = RO.up;
    intToBcd(RO.hi, RO.lo);
    this.host.write32(lin, PK.lo | 0);
    this.host.write32(lin + 4, PK.hi | 0);
    this.host.write16(lin + 8, PK.se | (UA.s << 15));
    if (inexact) {
      this.ex |= SW_PE;
      if (up) this.c1 = SW_C1;
    }
    this.pop();
    this.commit();
  }

  /** The packed BCD indefinite: FFFF C000 0000 0000 0000. */
  private writeBcdIndef(lin: number): void {
    this.host.write32(lin, 0);
    this.host.write32(lin + 4, 0xc0000000 | 0);
    this.host.write16(lin + 8, 0xffff);
  }

  /** FST/FSTP ST(i). */
  private fstReg(i: number, popAfter: boolean): void {
    const p = this.top;
    const d = (p + i) & 7;
    if (this.isEmpty(p)) {
      if (this.underflow()) {
        this.setIndef(d);
        if (popAfter) this.pop();
      }
      this.commit();
      return;
    }
    if (d !== p) this.copyReg(d, p);
    if (popAfter) this.pop();
    this.commit();
  }

  /** FXCH ST(i). */
  private fxch(i: number): void {
    const a = this.top;
    const b = (a + i) & 7;
    if (this.isEmpty(a) || this.isEmpty(b)) {
      if (!this.underflow()) { this.commit(); return; }
      if (this.isEmpty(a)) this.setIndef(a);
      if (this.isEmpty(b)) this.setIndef(b);
    }
    if (a !== b) {
      // swap through the spare slot-free path: copy a aside in locals
      const lo = this.stw[2 * a]!, hi = this.stw[2 * a + 1]!;
      const k = this.ext[a]!, se = this.extSe[a]!, xh = this.extHi[a]!, xl = this.extLo[a]!;
      this.copyReg(a, b);
      this.stw[2 * b] = lo;
      this.stw[2 * b + 1] = hi;
      this.ext[b] = k;
      this.extSe[b] = se;
      this.extHi[b] = xh;
      this.extLo[b] = xl;
    }
    this.commit(); // C1 = 0
  }

  /** FCHS (abs=false) / FABS: sign operations, exact on every encoding. */
  private fchsAbs(abs: boolean): void {
    const p = this.top;
    if (this.isEmpty(p)) {
      if (this.underflow()) this.setIndef(p);
      this.commit();
      return;
    }
    if (abs) {
      this.stw[2 * p + 1] = this.stw[2 * p + 1]! & 0x7fffffff;
      this.extSe[p] = this.extSe[p]! & 0x7fff;
    } else {
      this.stw[2 * p + 1] = this.stw[2 * p + 1]! ^ 0x80000000;
      this.extSe[p] = this.extSe[p]! ^ 0x8000;
    }
    this.commit();
  }

  /** FCMOVcc ST(0), ST(i): reg 0 B (CF), 1 E (ZF), 2 BE (CF|ZF), 3 U (PF); `negate` for the DB forms. */
  private fcmov(reg: number, negate: boolean, i: number): void {
    const p = this.top;
    const s = (p + i) & 7;
    if (this.isEmpty(p) || this.isEmpty(s)) {
      if (this.underflow()) this.setIndef(p);
      this.commit();
      return;
    }
    const f = this.host.eflags;
    let cond: boolean;
    switch (reg) {
      case 0: cond = (f & 0x01) !== 0; break;
      case 1: cond = (f & 0x40) !== 0; break;
      case 2: cond = (f & 0x41) !== 0; break;
      default: cond = (f & 0x04) !== 0; break;
    }
    if (cond !== negate && s !== p) this.copyReg(p, s);
    this.commit();
  }
}

/** Value classes re-exported for callers that inspect registers (tests, debugger). */
export { CLS_DENORMAL, CLS_INF, CLS_NORMAL, CLS_QNAN, CLS_SNAN, CLS_UNSUPPORTED, CLS_ZERO };
export { SW_C0, SW_C1, SW_C2, SW_C3, SW_DE, SW_ES, SW_IE, SW_OE, SW_PE, SW_SF, SW_UE };
export { EXT_UNSUPPORTED, EXT_VALUE };
