// FSTENV/FLDENV and FSAVE/FRSTOR in the four layouts of SDM vol. 1 figures 8-9..8-12, and the
// FXSAVE/FXRSTOR image (SDM vol. 2 table 3-43).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GP, M, R, Rig, SCR } from './fpuHarness.js';

const ENV = 0x800;
/** A dword with FFFFH in its reserved upper half. */
const hiF = (x: number): number => (0xffff0000 | x) >>> 0;

/** A unit with recognisable state: CW 0x0a7f (RC up... PC), values in R7 R6 R5, a pending-free SW,
 *  FIP 0x12345678 in CS 0x1b, FOP DC /0, FDP 0x00abcdef in DS 0x2b. */
function setup(pm: boolean, o32: boolean): Rig {
  const r = new Rig();
  r.host.protectedMode = pm;
  r.o32 = o32;
  r.cw(0x0a7f);
  r.ld(1.5); r.ld(0); r.ld(Infinity);
  r.host.instrCs = pm ? 0x1b : 0x1234;
  r.host.instrEip = pm ? 0x12345678 : 0x5678;
  r.host.instrDs = pm ? 0x2b : 0xabcd;
  r.host.setF64(0x300, 2);
  r.x(0xdc, M(0), 0x300); // FADD m64: inf + 2, sets FIP/FDP/FOP = 0x400
  return r;
}

test('FNSTENV, 32-bit protected mode: 28 bytes, reserved halves FFFFH, then all exceptions masked', () => {
  const r = setup(true, true);
  const sw = r.sw();
  r.x(0xd9, M(6), ENV);
  const h = r.host;
  assert.equal(h.u32(ENV), 0xffff0a7f);
  assert.equal(h.u32(ENV + 4), hiF(sw));
  assert.equal(h.u32(ENV + 8), hiF(0b00_01_10_11_11_11_11_11)); // R7 valid, R6 zero, R5 special
  assert.equal(h.u32(ENV + 12), 0x12345678);
  assert.equal(h.u32(ENV + 16), 0x1b | (0x400 << 16));
  assert.equal(h.u32(ENV + 20), 0x300);
  assert.equal(h.u32(ENV + 24), 0xffff002b);
  assert.equal(r.fpu.cw, 0x0a7f | 0x3f);
});

test('FNSTENV, 16-bit protected mode: 14 bytes of words', () => {
  const r = setup(true, false);
  const sw = r.sw();
  r.host.mem.fill(0xee, ENV, ENV + 32);
  r.x(0xd9, M(6), ENV);
  const w = (o: number): number => r.host.u16(ENV + o);
  assert.deepEqual([w(0), w(2), w(4), w(6), w(8), w(10), w(12)], [0x0a7f, sw, 0b00_01_10_11_11_11_11_11, 0x5678, 0x1b, 0x300, 0x2b]);
  assert.equal(r.host.mem[ENV + 14], 0xee); // nothing beyond 14 bytes
});

test('FNSTENV, 32-bit real mode: 20/32-bit linear pointers split around the opcode', () => {
  const r = setup(false, true);
  r.x(0xd9, M(6), ENV);
  const ip = 0x1234 * 16 + 0x5678, dp = 0xabcd * 16 + 0x300;
  const h = r.host;
  assert.equal(h.u32(ENV + 12), hiF((ip & 0xffff)));
  assert.equal(h.u32(ENV + 16), ((ip >>> 16) << 12) | 0x400);
  assert.equal(h.u32(ENV + 20), hiF((dp & 0xffff)));
  assert.equal(h.u32(ENV + 24), (dp >>> 16) << 12);
});

test('FNSTENV, 16-bit real mode', () => {
  const r = setup(false, false);
  r.x(0xd9, M(6), ENV);
  const ip = 0x1234 * 16 + 0x5678, dp = 0xabcd * 16 + 0x300;
  const w = (o: number): number => r.host.u16(ENV + o);
  assert.equal(w(6), ip & 0xffff);
  assert.equal(w(8), ((ip >>> 4) & 0xf000) | 0x400);
  assert.equal(w(10), dp & 0xffff);
  assert.equal(w(12), (dp >>> 4) & 0xf000);
});

test('FLDENV restores what FNSTENV stored, in all four layouts', () => {
  for (const pm of [true, false]) {
    for (const o32 of [true, false]) {
      const r = setup(pm, o32);
      const cw = r.fpu.cw, sw = r.sw(), tw = r.fpu.getTW();
      r.x(0xd9, M(6), ENV); // FNSTENV
      r.x(0xdb, 0xe3); // FNINIT wipes it all
      r.x(0xd9, M(4), ENV); // FLDENV
      const tag = `pm=${pm} o32=${o32}`;
      assert.equal(r.fpu.cw, cw, tag);
      assert.equal(r.sw(), sw, tag);
      assert.equal(r.fpu.getTW(), tw, tag);
      r.x(0xd9, M(6), ENV + 0x40);
      const n = o32 ? 28 : 14;
      assert.deepEqual([...r.host.mem.subarray(ENV + 0x40, ENV + 0x40 + n)], [...r.host.mem.subarray(ENV, ENV + n)], tag);
    }
  }
});

test('FLDENV: a tag of 11 empties a register, any other tag means "in use" with the tag from the contents', () => {
  const r = new Rig();
  r.ld(5); // R7 = 5
  r.x(0xd9, M(6), ENV);
  r.host.setU32(ENV + 8, hiF(0x3fff)); // tag 00 for R7, 11 (empty) for the rest
  r.x(0xd9, M(4), ENV);
  assert.equal(r.fpu.getTW(), 0x3fff); // R7 valid (recomputed from 5.0), others empty
  r.host.setU32(ENV + 8, hiF(0xffff));
  r.x(0xd9, M(4), ENV);
  assert.equal(r.fpu.empty, 0xff);
});

test('FNSAVE stores the environment and ST(0)..ST(7) in stack order, then initializes; FRSTOR restores exactly', () => {
  const r = new Rig();
  r.cw(0x0c7f);
  r.ldExt(0x7fff, 0xc0000000, 0x12345); // QNaN with low payload bits
  r.ld(-2.5);
  r.ldExt(0x3fff, 0xffffffff, 0xffffffff); // 2 - 2^-63
  r.ldExt(0x0000, 0x00000001, 0x00000000); // 80-bit denormal
  const sw = r.sw();
  r.x(0xdd, M(6), ENV); // FNSAVE (32-bit protected)
  const h = r.host;
  assert.equal(h.u32(ENV), 0xffff0c7f);
  assert.equal(h.u32(ENV + 4), hiF(sw));
  assert.equal(h.ext(ENV + 28), '0000:00000001:00000000'); // ST(0)
  assert.equal(h.ext(ENV + 38), '3fff:ffffffff:ffffffff'); // ST(1)
  assert.equal(h.ext(ENV + 48), 'c000:a0000000:00000000'); // ST(2) = -2.5
  assert.equal(h.ext(ENV + 58), '7fff:c0000000:00012345'); // ST(3)
  // re-initialized
  assert.equal(r.fpu.cw, 0x037f);
  assert.equal(r.fpu.empty, 0xff);
  assert.equal(r.sw(), 0);
  r.ld(1); r.ld(2); // disturb
  r.x(0xdd, M(4), ENV); // FRSTOR
  assert.equal(r.fpu.cw, 0x0c7f);
  assert.equal(r.sw(), sw);
  assert.equal(r.popExt(), '0000:00000001:00000000');
  assert.equal(r.popExt(), '3fff:ffffffff:ffffffff');
  assert.equal(r.pop(), -2.5);
  assert.equal(r.popExt(), '7fff:c0000000:00012345');
});

test('FNSAVE/FRSTOR 16-bit: registers follow a 14-byte environment (94 bytes)', () => {
  const r = new Rig();
  r.o32 = false;
  r.ld(7); r.ld(8);
  r.host.mem.fill(0xee, ENV, ENV + 128);
  r.x(0xdd, M(6), ENV);
  assert.equal(r.host.ext(ENV + 14), '4002:80000000:00000000'); // 8.0
  assert.equal(r.host.ext(ENV + 24), '4001:e0000000:00000000'); // 7.0
  assert.equal(r.host.mem[ENV + 94], 0xee);
  r.x(0xdd, M(4), ENV);
  assert.equal(r.pop(), 8);
  assert.equal(r.pop(), 7);
});

test('FXSAVE image: field offsets, abridged tags by physical register, stack-order registers, XMM, untouched tail', () => {
  const r = new Rig();
  r.host.instrCs = 0x1b; r.host.instrEip = 0x401000; r.host.instrDs = 0x23;
  r.cw(0x027f);
  r.ld(1); // R7
  r.ld(-2); // R6
  r.x(0xdd, R(0, 0)); // FFREE ST(0): R6 empty (value stays)
  r.x(0xd9, 0xf7); // FINCSTP: TOP = 7
  r.fpu.mxcsr = 0x1fa0;
  for (let k = 0; k < 32; k++) r.fpu.xmm32[k] = 0x01010101 * k;
  const A = 0x1000;
  r.host.mem.fill(0xaa, A, A + 512);
  r.fpu.fxsave(A);
  const h = r.host;
  assert.equal(h.u16(A), 0x027f);
  assert.equal(h.u16(A + 2), r.sw());
  assert.equal(h.mem[A + 4], 0x80); // only R7 in use
  assert.equal(h.mem[A + 5], 0);
  assert.equal(h.u16(A + 6), 0x1f7); // FOP: FINCSTP (D9 F7) was the last non-control instruction
  assert.equal(h.u32(A + 8), 0x401000);
  assert.equal(h.u16(A + 12), 0x1b);
  assert.equal(h.u32(A + 16), SCR);
  assert.equal(h.u16(A + 20), 0x23);
  assert.equal(h.u32(A + 24), 0x1fa0);
  assert.equal(h.u32(A + 28), 0xffff); // MXCSR_MASK: every bit to FZ, DAZ included
  assert.equal(h.ext(A + 32), '3fff:80000000:00000000'); // ST(0) = R7 = 1.0
  assert.equal(h.ext(A + 32 + 16 * 7), 'c000:80000000:00000000'); // ST(7) = R6 = -2.0 (empty, contents kept)
  assert.deepEqual([...h.mem.subarray(A + 42, A + 48)], [0, 0, 0, 0, 0, 0]);
  assert.equal(h.u32(A + 160), 0);
  assert.equal(h.u32(A + 160 + 4 * 31), 0x1f1f1f1f);
  assert.ok(h.mem.subarray(A + 288, A + 512).every((b) => b === 0xaa));
});

test('FXRSTOR restores what FXSAVE stored; reserved MXCSR bits → #GP with nothing changed', () => {
  const r = new Rig();
  r.ldExt(0x4400, 0x80000000, 1); // beyond the double range
  r.ld(3);
  r.cw(0x0e7f);
  r.fpu.mxcsr = 0x1f80;
  r.fpu.xmm32[5] = 0x12345678;
  const A = 0x1000;
  r.fpu.fxsave(A);
  const saved = JSON.stringify(r.fpu.saveState());
  r.x(0xdb, 0xe3);
  r.fpu.mxcsr = 0; r.fpu.xmm32.fill(0);
  r.fpu.fxrstor(A);
  assert.equal(JSON.stringify(r.fpu.saveState()), saved);
  assert.equal(r.pop(), 3);
  assert.equal(r.popExt(), '4400:80000000:00000001');
  // reserved MXCSR bit
  r.fpu.fxsave(A);
  const before = JSON.stringify(r.fpu.saveState());
  r.host.setU32(A + 24, 0x10000 | 0x1f80);
  assert.throws(() => r.fpu.fxrstor(A), (e) => e === GP);
  r.host.setU32(A + 24, 0x80000000 | 0x1f80);
  assert.throws(() => r.fpu.fxrstor(A), (e) => e === GP);
  assert.equal(JSON.stringify(r.fpu.saveState()), before);
  r.host.setU32(A + 24, 0x0040 | 0x1f80); // DAZ is supported
  r.fpu.fxrstor(A);
  assert.equal(r.fpu.mxcsr, 0x1fc0);
  // abridged tags select empty registers
  r.host.setU32(A + 24, 0x1f80);
  r.host.mem[A + 4] = 0x01; // only R0 in use
  r.fpu.fxrstor(A);
  assert.equal(r.fpu.empty, 0xfe);
});
