// Test harness for the x87 unit: a fake FpuHost over a plain Uint8Array and small helpers that
// assemble escape instructions (memory operands use ModRM mod=00 rm=000; `lin` is passed in).

import { Fpu } from '../../../src/cpu/fpu/Fpu.js';
import type { FpuHost } from '../../../src/cpu/fpu/FpuHost.js';

export class Fault {
  constructor(readonly kind: string) {}
}
export const MF = new Fault('#MF');
export const UD = new Fault('#UD');
export const GP = new Fault('#GP');
export const PF = new Fault('#PF');

export class FakeHost implements FpuHost {
  readonly mem = new Uint8Array(0x20000);
  readonly dv = new DataView(this.mem.buffer);
  ax = 0;
  cr0NE = true;
  protectedMode = true;
  instrCs = 0x0008;
  instrEip = 0x1000;
  instrDs = 0x0010;
  instrEa = 0;
  eflags = 0x0002;
  mfCount = 0;
  ferrCount = 0;
  /** Accesses at or above this address fault (#PF), to test restartability. */
  faultFrom = Infinity;
  writes = 0;

  private check(lin: number, n: number): void {
    if (lin + n - 1 >= this.faultFrom) throw PF;
  }
  read8(lin: number): number { this.check(lin, 1); return this.mem[lin]!; }
  read16(lin: number): number { this.check(lin, 2); return this.dv.getUint16(lin, true); }
  read32(lin: number): number { this.check(lin, 4); return this.dv.getInt32(lin, true); }
  write8(lin: number, v: number): void { this.check(lin, 1); this.writes++; this.mem[lin] = v; }
  write16(lin: number, v: number): void { this.check(lin, 2); this.writes++; this.dv.setUint16(lin, v & 0xffff, true); }
  write32(lin: number, v: number): void { this.check(lin, 4); this.writes++; this.dv.setUint32(lin, v >>> 0, true); }
  setAX(v: number): void { this.ax = v & 0xffff; }
  raiseMF(): never { this.mfCount++; throw MF; }
  signalFerr(): void { this.ferrCount++; }
  setEflagsZPC(zf: boolean, pf: boolean, cf: boolean): void {
    // ZF PF CF as given; OF SF AF cleared
    this.eflags = (this.eflags & ~0x8d5) | (zf ? 0x40 : 0) | (pf ? 0x04 : 0) | (cf ? 0x01 : 0);
  }
  raiseUD(): never { throw UD; }
  raiseGP0(): never { throw GP; }

  // typed accessors for tests
  f64(a: number): number { return this.dv.getFloat64(a, true); }
  setF64(a: number, v: number): void { this.dv.setFloat64(a, v, true); }
  f32(a: number): number { return this.dv.getFloat32(a, true); }
  setF32(a: number, v: number): void { this.dv.setFloat32(a, v, true); }
  u16(a: number): number { return this.dv.getUint16(a, true); }
  u32(a: number): number { return this.dv.getUint32(a, true); }
  setU32(a: number, v: number): void { this.dv.setUint32(a, v >>> 0, true); }
  setU16(a: number, v: number): void { this.dv.setUint16(a, v, true); }
  /** Write an 80-bit image: se (sign|exponent), significand hi:lo. */
  setExt(a: number, se: number, hi: number, lo: number): void {
    this.setU32(a, lo); this.setU32(a + 4, hi); this.setU16(a + 8, se);
  }
  /** Read an 80-bit image as [se, hi, lo] (hex strings for readable diffs). */
  ext(a: number): string {
    return `${hex(this.u16(a + 8), 4)}:${hex(this.u32(a + 4), 8)}:${hex(this.u32(a), 8)}`;
  }
  /** 64-bit little-endian bytes at a as [hi, lo] hex. */
  q(a: number): string {
    return `${hex(this.u32(a + 4), 8)}:${hex(this.u32(a), 8)}`;
  }
}

export function hex(v: number, digits: number): string {
  return (v >>> 0).toString(16).padStart(digits, '0');
}

/** The value of an 80-bit image (sign|exponent, significand high, low) as the nearest double
 *  (ties to even; subnormal results may round twice). NaNs keep their top payload bits. */
export function extToNumber(se: number, hi: number, lo: number): number {
  const neg = (se & 0x8000) !== 0;
  const e = se & 0x7fff;
  if (e === 0x7fff && ((hi & 0x7fffffff) | lo) !== 0) {
    const dv = new DataView(new ArrayBuffer(8));
    dv.setUint32(0, (neg ? 0x80000000 : 0) | 0x7ff00000 | ((hi >>> 11) & 0xfffff));
    dv.setUint32(4, ((hi << 21) | (lo >>> 11)) >>> 0);
    if ((dv.getUint32(0) & 0xfffff) === 0 && dv.getUint32(4) === 0) dv.setUint32(4, 1);
    return dv.getFloat64(0);
  }
  if (e === 0x7fff) return neg ? -Infinity : Infinity;
  let v = (hi >>> 0) * 4294967296 + (lo >>> 0); // one rounding to 53 bits
  let k = (e === 0 ? 1 : e) - 16383 - 63;
  while (k > 1000) { v *= 2 ** 1000; k -= 1000; }
  while (k < -1000 && v !== 0) { v *= 2 ** -1000; k += 1000; }
  v *= 2 ** k;
  return neg ? -v : v;
}

/** Bits of a double as "hi:lo" hex. */
export function dbits(v: number): string {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, v, true);
  return `${hex(dv.getUint32(4, true), 8)}:${hex(dv.getUint32(0, true), 8)}`;
}

/** ModRM for a memory operand with the given reg field. */
export const M = (reg: number): number => reg << 3;
/** ModRM for a register form. */
export const R = (reg: number, i: number): number => 0xc0 | (reg << 3) | i;

/** Scratch memory address used by the helpers. */
export const SCR = 0x100;

export class Rig {
  readonly host = new FakeHost();
  readonly fpu = new Fpu(this.host);
  o32 = true;

  /** Execute opcode/modrm (lin for memory forms). */
  x(opcode: number, modrm: number, lin = 0): this {
    this.host.instrEa = lin;
    this.fpu.execute(opcode, modrm, lin, this.o32);
    return this;
  }
  /** Push a double via FLD m64. */
  ld(v: number): this {
    this.host.setF64(SCR, v);
    return this.x(0xdd, M(0), SCR);
  }
  /** Push an 80-bit image via FLD m80. */
  ldExt(se: number, hi: number, lo: number): this {
    this.host.setExt(SCR, se, hi, lo);
    return this.x(0xdb, M(5), SCR);
  }
  /** Pop ST(0) via FSTP m64 and return it. */
  pop(): number {
    this.x(0xdd, M(3), SCR);
    return this.host.f64(SCR);
  }
  /** Pop ST(0) via FSTP m80 and return the image. */
  popExt(): string {
    this.x(0xdb, M(7), SCR);
    return this.host.ext(SCR);
  }
  /** ST(i) as the nearest double (no instruction executed; NaNs keep their top payload bits). */
  st(i: number): number {
    return this.phys((this.fpu.top + i) & 7);
  }
  /** Physical register p as the nearest double. */
  phys(p: number): number {
    const w = this.fpu.regs;
    return extToNumber(w[3 * p]!, w[3 * p + 1]!, w[3 * p + 2]!);
  }
  /** ST(i)'s 80-bit image as "se:hi:lo" (hex), like FakeHost.ext. */
  stx(i: number): string {
    const p = (this.fpu.top + i) & 7, w = this.fpu.regs;
    return `${hex(w[3 * p]!, 4)}:${hex(w[3 * p + 1]!, 8)}:${hex(w[3 * p + 2]!, 8)}`;
  }
  /** FLDCW with the given control word. */
  cw(v: number): this {
    this.host.setU16(SCR + 0x40, v);
    return this.x(0xd9, M(5), SCR + 0x40);
  }
  /** Status word as FNSTSW AX reports it. */
  sw(): number {
    this.x(0xdf, 0xe0);
    return this.host.ax;
  }
  /** FNCLEX. */
  clex(): this {
    return this.x(0xdb, 0xe2);
  }
}

/** Control word with rounding control rc (0 nearest, 1 down, 2 up, 3 chop), all exceptions masked. */
export const cwRC = (rc: number): number => 0x037f | (rc << 10);

// status word bits
export const IE = 0x01, DE = 0x02, ZE = 0x04, OE = 0x08, UE = 0x10, PE = 0x20, SF = 0x40, ES = 0x80;
export const C0 = 0x100, C1 = 0x200, C2 = 0x400, C3 = 0x4000, B = 0x8000;
export const CC = C0 | C1 | C2 | C3;
export const topOf = (sw: number): number => (sw >>> 11) & 7;
