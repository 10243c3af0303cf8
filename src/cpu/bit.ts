// Bit and exchange instructions: BT BTS BTR BTC (0F A3 AB B3 BB, group 8 0F BA /4-/7),
// BSF/BSR (0F BC BD), BSWAP (0F C8-CF), CMPXCHG (0F B0 B1), CMPXCHG8B (0F C7 /1) and
// XADD (0F C0 C1) (SDM vol. 2A-2B).
//
// BTx with a register bit offset and a memory operand address the bit string beyond
// the operand: the signed offset selects the word/dword at EA + size*floor(offset/bits)
// (the sum wrapping at the address size). The immediate forms mask the offset to the
// operand width. BTx set CF only; OF/SF/AF/PF are undefined and left unchanged, ZF is
// unaffected.
//
// BSF/BSR: source 0 sets ZF and leaves the destination unchanged (what Intel hardware
// does; the SDM calls the destination undefined). CF/OF/SF/AF/PF are left unchanged.
//
// BSWAP with a 16-bit operand is undefined; Intel hardware (and we) zero the low word.
//
// CMPXCHG writes the destination in both outcomes (the old value back on failure), so
// a read-only destination faults even when the compare fails, as on hardware; flags as
// CMP accumulator, destination. CMPXCHG8B likewise writes the old 64 bits back on
// failure; it changes ZF only.

import type { Cpu } from './Cpu.js';
import type { Handler, OpTable } from './opcodes.js';
import { EAX, EBX, ECX, EDX, FLAG_CF, FLAG_ZF } from './constants.js';
import { setAdd, setSub } from './flags.js';

function setCF(c: Cpu, cf: number): void {
  c.lazyMask &= ~FLAG_CF;
  c.flags = (c.flags & ~FLAG_CF) | (cf !== 0 ? FLAG_CF : 0);
}
function setZF(c: Cpu, zf: boolean): void {
  c.lazyMask &= ~FLAG_ZF;
  c.flags = zf ? c.flags | FLAG_ZF : c.flags & ~FLAG_ZF;
}

function getReg(c: Cpu, reg: number, size: number): number {
  return size === 1 ? c.getReg8(reg) : size === 2 ? c.r16[reg << 1]! : c.regs[reg]!;
}
function setReg(c: Cpu, reg: number, size: number, v: number): void {
  if (size === 1) c.setReg8(reg, v); else if (size === 2) c.r16[reg << 1] = v; else c.regs[reg] = v;
}

// ---- BT / BTS / BTR / BTC. `op`: 0 BT, 1 BTS, 2 BTR, 3 BTC (the order of group 8 /4../7).

/** Test bit `bit` of the operand at `lin` (or the ModRM register) and apply `op`. */
function bitOp(c: Cpu, op: number, lin: number, size: number, bit: number): void {
  const v = c.readRM(size, lin);
  setCF(c, (v >>> bit) & 1);
  if (op === 0) return;
  const m = 1 << bit;
  c.writeRM(size, lin, op === 1 ? v | m : op === 2 ? v & ~m : v ^ m);
}

function btReg(size: number, op: number): Handler {
  const bits = size * 8;
  return (c) => {
    const reg = c.reg;
    const off = size === 2 ? (c.r16[reg << 1]! << 16) >> 16 : c.regs[reg]!;
    if (c.modrm >= 0xc0) { bitOp(c, op, -1, size, off & (bits - 1)); return; }
    // The bit string extends beyond the operand: move EA by whole operands (floor division).
    const disp = (off >> (size === 2 ? 4 : 5)) * size;
    c.eaOff = c.a32 ? (c.eaOff + disp) | 0 : (c.eaOff + disp) & 0xffff;
    const lin = op === 0 ? c.eaLin(size, false) : c.rmwLin(size);
    bitOp(c, op, lin, size, off & (bits - 1));
  };
}

function group8(size: number): Handler {
  const bits = size * 8;
  return (c) => {
    const sub = c.reg;
    if (sub < 4) c.undefinedOpcode(0x1ba);
    const op = sub - 4;
    const lin = c.modrm >= 0xc0 ? -1 : op === 0 ? c.eaLin(size, false) : c.rmwLin(size);
    const bit = c.imm & (bits - 1);
    bitOp(c, op, lin, size, bit);
  };
}

// ---- BSF / BSR

function bsf(size: number, reverse: boolean): Handler {
  return (c) => {
    const reg = c.reg;
    const v = size === 2 ? c.readRM16() : c.readRM32();
    if (v === 0) { setZF(c, true); return; }
    setZF(c, false);
    const idx = reverse ? 31 - Math.clz32(v) : 31 - Math.clz32(v & -v);
    if (size === 2) c.r16[reg << 1] = idx; else c.regs[reg] = idx;
  };
}

// ---- CMPXCHG / XADD

function cmpxchg(size: number): Handler {
  const sh = 32 - size * 8;
  const m = size === 4 ? -1 : (1 << (size * 8)) - 1;
  return (c) => {
    const reg = c.reg;
    const lin = c.rmwLin(size);
    const d = c.readRM(size, lin) & m;
    const acc = getReg(c, EAX, size) & m;
    setSub(c, acc, d, (acc - d) & m, sh);
    if (acc === d) {
      c.writeRM(size, lin, getReg(c, reg, size));
    } else {
      if (c.modrm < 0xc0) c.writeRM(size, lin, d);
      setReg(c, EAX, size, d);
    }
  };
}

function xadd(size: number): Handler {
  const sh = 32 - size * 8;
  const m = size === 4 ? -1 : (1 << (size * 8)) - 1;
  return (c) => {
    const reg = c.reg;
    const lin = c.rmwLin(size);
    const d = c.readRM(size, lin) & m;
    const s = getReg(c, reg, size) & m;
    const sum = (d + s) & m;
    setAdd(c, d, s, sum, sh);
    // Source first: with the same register as both operands the sum must win.
    setReg(c, reg, size, d);
    c.writeRM(size, lin, sum);
  };
}

/** 0F C7: /1 CMPXCHG8B m64; everything else (and a register operand) is #UD on this CPU. */
function groupC7(c: Cpu): void {
  const sub = c.reg;
  if (sub !== 1 || c.modrm >= 0xc0) c.undefinedOpcode(0x1c7);
  const lin = c.eaLin(8, true);
  c.probeWrite(lin, 8);
  const hiLin = (lin + 4) | 0;
  const lo = c.rd32(lin), hi = c.rd32(hiLin);
  if (lo === c.regs[EAX] && hi === c.regs[EDX]) {
    c.wr32(lin, c.regs[EBX]!);
    c.wr32(hiLin, c.regs[ECX]!);
    setZF(c, true);
  } else {
    c.wr32(lin, lo);
    c.wr32(hiLin, hi);
    c.regs[EAX] = lo;
    c.regs[EDX] = hi;
    setZF(c, false);
  }
}

function bswap(reg: number): [Handler, Handler] {
  return [
    (c) => { c.r16[reg << 1] = 0; },
    (c) => {
      const v = c.regs[reg]!;
      c.regs[reg] = (v << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
    },
  ];
}

export function installBit(t: OpTable): void {
  const ops = [0xa3, 0xab, 0xb3, 0xbb];
  for (let op = 0; op < 4; op++) t.def0F(ops[op]!, btReg(2, op), btReg(4, op));
  t.def0F(0xba, group8(2), group8(4));
  t.def0F(0xbc, bsf(2, false), bsf(4, false));
  t.def0F(0xbd, bsf(2, true), bsf(4, true));
  t.def0F(0xb0, cmpxchg(1));
  t.def0F(0xb1, cmpxchg(2), cmpxchg(4));
  t.def0F(0xc0, xadd(1));
  t.def0F(0xc1, xadd(2), xadd(4));
  t.def0F(0xc7, groupC7);
  for (let r = 0; r < 8; r++) {
    const [h16, h32] = bswap(r);
    t.def0F(0xc8 + r, h16, h32);
  }
}
