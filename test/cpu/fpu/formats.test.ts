// Data formats: FLD/FST of m32/m64/m80, FILD/FIST of m16/m32/m64, FBLD/FBSTP, special values.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { C1, DE, IE, M, OE, PE, Rig, SCR, UE, cwRC, dbits } from './fpuHarness.js';

test('m64 round trip keeps every double bit pattern, including -0, ±inf, QNaN payloads and denormals', () => {
  const r = new Rig();
  const pats: Array<[number, number]> = [
    [0x00000000, 0], [0x80000000, 0], [0x7ff00000, 0], [0xfff00000, 0],
    [0x7ff80000, 0x1234], [0xfff81234, 0x56789abc], [0x00000000, 1], [0x800fffff, 0xffffffff],
    [0x3ff00000, 0], [0x7fefffff, 0xffffffff], [0x00100000, 0],
  ];
  for (const [hi, lo] of pats) {
    r.host.setU32(SCR, lo); r.host.setU32(SCR + 4, hi);
    r.x(0xdd, M(0), SCR); // FLD m64
    r.host.setU32(SCR, 0); r.host.setU32(SCR + 4, 0);
    r.x(0xdd, M(3), SCR); // FSTP m64
    assert.equal(r.host.q(SCR), `${(hi >>> 0).toString(16).padStart(8, '0')}:${(lo >>> 0).toString(16).padStart(8, '0')}`);
  }
  // denormal loads raise #D (masked here); nothing else was flagged
  assert.equal(r.sw() & 0x3f, DE);
});

test('FLD m64 of a double denormal becomes a normal 80-bit number and FSTP m80 shows it', () => {
  const r = new Rig();
  r.host.setU32(SCR, 1); r.host.setU32(SCR + 4, 0); // 2^-1074
  r.x(0xdd, M(0), SCR);
  assert.equal(r.popExt(), '3bcd:80000000:00000000'); // exponent 16383 - 1074
});

test('FLD m64 SNaN raises #IA and loads the quieted NaN; unmasked #IA loads nothing', () => {
  const r = new Rig();
  r.host.setU32(SCR, 5); r.host.setU32(SCR + 4, 0x7ff00000);
  r.x(0xdd, M(0), SCR);
  assert.equal(r.sw() & IE, IE);
  assert.equal(dbits(r.st(0)), '7ff80000:00000005');
  r.x(0xdb, 0xe3); // FNINIT
  r.cw(0x037e); // IM clear
  r.x(0xdd, M(0), SCR);
  assert.equal(r.sw() & 0x3fff, IE | 0x80 | (0 << 11)); // IE + ES, TOP unchanged (0)
  assert.equal(r.fpu.empty, 0xff);
});

test('m32 loads are exact; FST m32 rounds per RC and reports PE with C1', () => {
  const r = new Rig();
  r.host.setF32(SCR, 1.5);
  r.x(0xd9, M(0), SCR);
  assert.equal(r.st(0), 1.5);
  r.pop();
  // 1 + 2^-30 is not a float: nearest → 1, up → 1 + 2^-23, down/chop → 1
  const v = 1 + 2 ** -30;
  const expect = [1, 1, 1 + 2 ** -23, 1];
  for (let rc = 0; rc < 4; rc++) {
    r.clex(); r.cw(cwRC(rc)); r.ld(v);
    r.x(0xd9, M(3), SCR + 8); // FSTP m32
    assert.equal(r.host.f32(SCR + 8), expect[rc], `rc=${rc}`);
    const sw = r.sw();
    assert.equal(sw & PE, PE);
    assert.equal(sw & C1, rc === 2 ? C1 : 0, `C1 rc=${rc}`);
  }
  // negative: -(1+2^-30) rounds up in magnitude only toward -inf
  r.clex(); r.cw(cwRC(1)); r.ld(-v); r.x(0xd9, M(3), SCR + 8);
  assert.equal(r.host.f32(SCR + 8), -(1 + 2 ** -23));
  assert.equal(r.sw() & C1, C1);
});

test('FST m32 of values that are floats: exact bits, no flags (±0, ±∞, FLT_MAX, smallest normal)', () => {
  const r = new Rig();
  const cases: Array<[number, number]> = [
    [1.5, 0x3fc00000], [-0, 0x80000000], [Infinity, 0x7f800000], [-Infinity, 0xff800000],
    [3.4028234663852886e38, 0x7f7fffff], [2 ** -126, 0x00800000], [-(2 ** -126), 0x80800000],
  ];
  for (const [v, bits] of cases) {
    r.ld(v);
    r.x(0xd9, M(3), SCR + 8);
    assert.equal(r.host.u32(SCR + 8), bits, `${v}`);
  }
  assert.equal(r.sw() & 0x3f, 0);
  r.ld(0.1);
  r.x(0xd9, M(2), SCR + 8); // FST m32 (no pop): inexact
  assert.equal(r.host.f32(SCR + 8), Math.fround(0.1));
  assert.equal(r.sw() & PE, PE);
  assert.equal(r.st(0), 0.1);
});

test('FST m32 overflow: masked gives ∞ or FLT_MAX per RC with OE|PE; unmasked stores nothing and keeps ST(0)', () => {
  const r = new Rig();
  const big = 1e39;
  const res = [Infinity, 3.4028234663852886e38, Infinity, 3.4028234663852886e38];
  for (let rc = 0; rc < 4; rc++) {
    r.clex(); r.cw(cwRC(rc)); r.ld(big);
    r.x(0xd9, M(3), SCR + 8);
    assert.equal(r.host.f32(SCR + 8), res[rc]);
    assert.equal(r.sw() & (OE | PE), OE | PE);
  }
  r.clex(); r.cw(0x0377); // OM clear
  r.host.setU32(SCR + 8, 0xdeadbeef);
  r.ld(big);
  const top = r.fpu.top;
  r.x(0xd9, M(3), SCR + 8);
  assert.equal(r.host.u32(SCR + 8), 0xdeadbeef);
  assert.equal(r.fpu.top, top);
  assert.equal(r.sw() & OE, OE);
});

test('FST m32 underflow: tiny inexact → denormal float with UE|PE; tiny exact → no UE when masked', () => {
  const r = new Rig();
  r.ld(2 ** -140 * 1.25); // denormal in binary32, exact (needs 3 bits)
  r.x(0xd9, M(3), SCR);
  assert.equal(r.host.f32(SCR), 2 ** -140 * 1.25);
  assert.equal(r.sw() & (UE | PE), 0);
  r.ld(2 ** -140 * (1 + 2 ** -20)); // too many bits for a denormal float
  r.x(0xd9, M(3), SCR);
  assert.equal(r.host.f32(SCR), 2 ** -140);
  assert.equal(r.sw() & (UE | PE), UE | PE);
});

test('FST m32 of a NaN keeps the top payload bits and the quiet bit; SNaN raises #IA', () => {
  const r = new Rig();
  r.host.setU32(SCR, 0); r.host.setU32(SCR + 4, 0x7ff40000); // SNaN with payload bit 50
  r.x(0xdd, M(0), SCR); // → quieted on load (#IA)
  r.clex();
  r.x(0xd9, M(3), SCR + 8);
  assert.equal(r.host.u32(SCR + 8), 0x7fe00000);
  assert.equal(r.sw() & IE, 0);
});

test('FLD m80 → FSTP m80 is bit-exact for every class, including ones a double cannot hold', () => {
  const r = new Rig();
  const images: Array<[number, number, number]> = [
    [0x3fff, 0x80000000, 0x00000000], // 1.0
    [0xbfff, 0xc0000000, 0x00000001], // -1.5 - 2^-63: extra precision
    [0x0000, 0x00000000, 0x00000000], // +0
    [0x8000, 0x00000000, 0x00000000], // -0
    [0x7fff, 0x80000000, 0x00000000], // +inf
    [0xffff, 0x80000000, 0x00000000], // -inf
    [0x7fff, 0xc0000000, 0x00000000], // QNaN
    [0xffff, 0xc0000000, 0x00000000], // indefinite
    [0x7fff, 0xc1234567, 0x89abcdef], // QNaN with low payload bits
    [0x7fff, 0xa0000000, 0x00000000], // SNaN (FLD m80 does not quiet it)
    [0x7fff, 0x80000000, 0x00000001], // SNaN, payload only in the low bits
    [0x0000, 0x00000001, 0x00000000], // 80-bit denormal
    [0x8000, 0x80000000, 0x00000000], // pseudo-denormal (-)
    [0x7ffe, 0xffffffff, 0xffffffff], // largest finite
    [0x4400, 0x80000000, 0x00000000], // 2^1025: beyond the double range
    [0x3bcc, 0x80000000, 0x00000000], // 2^-1075: below it
    [0x3fff, 0x40000000, 0x00000000], // unnormal
    [0x1234, 0x00000000, 0x00000000], // pseudo-zero
    [0x7fff, 0x40000000, 0x00000000], // pseudo-NaN
    [0x7fff, 0x00000000, 0x00000000], // pseudo-infinity
  ];
  for (const [se, hi, lo] of images) {
    r.ldExt(se, hi, lo);
    const want = `${se.toString(16).padStart(4, '0')}:${hi.toString(16).padStart(8, '0')}:${lo.toString(16).padStart(8, '0')}`;
    assert.equal(r.popExt(), want);
  }
  assert.equal(r.sw() & 0x3f, 0); // FLD m80 / FSTP m80 raise nothing
});

test('m80 values beyond the double range stay exact in arithmetic and overflow only when stored', () => {
  const r = new Rig();
  r.ldExt(0x4000, 0xc90fdaa2, 0x2168c000); // pi truncated to 53 bits
  assert.equal(r.st(0), 3.141592653589793);
  r.pop();
  r.ldExt(0x4400, 0x80000000, 0); // 2^1025
  r.ld(3); r.x(0xde, 0xc9); // FMULP: 3 × 2^1025, exact in 80 bits
  assert.equal(r.stx(0), '4401:c0000000:00000000');
  assert.equal(r.sw() & (OE | PE), 0);
  r.x(0xdd, M(3), SCR); // FSTP m64: overflows binary64
  assert.equal(r.host.f64(SCR), Infinity);
  assert.equal(r.sw() & (OE | PE), OE | PE);
});

test('FST m64 from an exact 80-bit value rounds per RC', () => {
  const r = new Rig();
  // 1 + 2^-60: nearest/down/chop → 1, up → 1 + 2^-52
  for (let rc = 0; rc < 4; rc++) {
    r.clex(); r.cw(cwRC(rc));
    r.ldExt(0x3fff, 0x80000000, 0x00000008);
    r.x(0xdd, M(3), SCR);
    assert.equal(r.host.f64(SCR), rc === 2 ? 1 + 2 ** -52 : 1, `rc=${rc}`);
    assert.equal(r.sw() & PE, PE);
  }
});

test('FILD/FISTP m16, m32, m64 round-trip exactly, including 64-bit values beyond 2^53', () => {
  const r = new Rig();
  for (const v of [0, 1, -1, 32767, -32768, 12345]) {
    r.host.setU16(SCR, v & 0xffff);
    r.x(0xdf, M(0), SCR); // FILD m16
    assert.equal(r.st(0), v);
    r.x(0xdf, M(3), SCR + 8); // FISTP m16
    assert.equal(r.host.dv.getInt16(SCR + 8, true), v);
  }
  for (const v of [0, 1, -1, 2147483647, -2147483648, 123456789]) {
    r.host.setU32(SCR, v);
    r.x(0xdb, M(0), SCR); // FILD m32
    assert.equal(r.st(0), v);
    r.x(0xdb, M(3), SCR + 8); // FISTP m32
    assert.equal(r.host.dv.getInt32(SCR + 8, true), v);
  }
  const q64: Array<[number, number]> = [
    [0x7fffffff, 0xffffffff], [0x80000000, 0x00000000], [0xffffffff, 0xffffffff],
    [0x00200000, 0x00000001], [0xffdfffff, 0xffffffff], [0x12345678, 0x9abcdef1], [0x00000000, 0x00000000],
  ];
  for (const [hi, lo] of q64) {
    r.host.setU32(SCR, lo); r.host.setU32(SCR + 4, hi);
    r.x(0xdf, M(5), SCR); // FILD m64
    r.x(0xdf, M(7), SCR + 16); // FISTP m64
    assert.equal(r.host.q(SCR + 16), r.host.q(SCR));
  }
  assert.equal(r.sw() & 0x3f, 0);
});

test('FILD m64 of 2^63-1 is exact in 80 bits: FSTP m80 shows all 63 one bits', () => {
  const r = new Rig();
  r.host.setU32(SCR, 0xffffffff); r.host.setU32(SCR + 4, 0x7fffffff);
  r.x(0xdf, M(5), SCR);
  assert.equal(r.popExt(), '403d:ffffffff:fffffffe');
});

test('FIST rounding per RC, out-of-range → integer indefinite with IE, empty ST(0) → indefinite', () => {
  const r = new Rig();
  const cases: Array<[number, number[]]> = [
    [2.5, [2, 2, 3, 2]], [-2.5, [-2, -3, -2, -2]], [3.5, [4, 3, 4, 3]], [-0.5, [0, -1, 0, 0]], [1.25, [1, 1, 2, 1]],
  ];
  for (const [v, want] of cases) {
    for (let rc = 0; rc < 4; rc++) {
      r.clex(); r.cw(cwRC(rc)); r.ld(v);
      r.x(0xdb, M(3), SCR); // FISTP m32
      assert.equal(r.host.dv.getInt32(SCR, true), want[rc], `${v} rc=${rc}`);
      const sw = r.sw();
      assert.equal(sw & PE, PE);
      assert.equal(sw & C1, Math.abs(want[rc]!) > Math.abs(v) ? C1 : 0, `C1 ${v} rc=${rc}`);
    }
  }
  r.clex(); r.cw(cwRC(0));
  r.ld(40000); r.x(0xdf, M(3), SCR); // FISTP m16
  assert.equal(r.host.u16(SCR), 0x8000);
  assert.equal(r.sw() & (IE | PE), IE);
  r.clex(); r.ld(-32768.4); r.x(0xdf, M(3), SCR);
  assert.equal(r.host.dv.getInt16(SCR, true), -32768);
  r.clex(); r.ld(2 ** 63); r.x(0xdf, M(7), SCR); // FISTP m64
  assert.equal(r.host.q(SCR), '80000000:00000000');
  assert.equal(r.sw() & IE, IE);
  r.clex(); r.ld(-(2 ** 63)); r.x(0xdf, M(7), SCR);
  assert.equal(r.host.q(SCR), '80000000:00000000');
  assert.equal(r.sw() & IE, 0);
  r.clex(); r.ld(NaN); r.x(0xdb, M(3), SCR);
  assert.equal(r.host.u32(SCR), 0x80000000);
  assert.equal(r.sw() & IE, IE);
  r.x(0xdb, 0xe3); // FNINIT: everything empty
  r.x(0xdb, M(3), SCR + 8);
  assert.equal(r.host.u32(SCR + 8), 0x80000000);
  const sw = r.sw();
  assert.equal(sw & 0x7f, IE | 0x40); // #IS
  assert.equal(sw & C1, 0);
});

test('FBLD/FBSTP: 18-digit packed BCD, sign, -0, rounding, range', () => {
  const r = new Rig();
  // 123456789012345678, negative
  const bcd = [0x78, 0x56, 0x34, 0x12, 0x90, 0x78, 0x56, 0x34, 0x12, 0x80];
  r.host.mem.set(bcd, SCR);
  r.x(0xdf, M(4), SCR); // FBLD
  r.x(0xdf, M(6), SCR + 16); // FBSTP
  assert.deepEqual([...r.host.mem.subarray(SCR + 16, SCR + 26)], bcd);
  // largest: 999999999999999999
  const max = [0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x00];
  r.host.mem.set(max, SCR);
  r.x(0xdf, M(4), SCR);
  r.x(0xdf, M(6), SCR + 16);
  assert.deepEqual([...r.host.mem.subarray(SCR + 16, SCR + 26)], max);
  // -0 keeps its sign both ways
  r.host.mem.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80], SCR);
  r.x(0xdf, M(4), SCR);
  assert.ok(Object.is(r.st(0), -0));
  r.x(0xdf, M(6), SCR + 16);
  assert.equal(r.host.mem[SCR + 25], 0x80);
  // 12.5 rounds to 12 (nearest even), PE
  r.clex(); r.ld(12.5); r.x(0xdf, M(6), SCR + 16);
  assert.deepEqual([...r.host.mem.subarray(SCR + 16, SCR + 26)], [0x12, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(r.sw() & PE, PE);
  // 10^18 is too large → BCD indefinite, IE
  r.clex(); r.ld(1e18); r.x(0xdf, M(6), SCR + 16);
  assert.deepEqual([...r.host.mem.subarray(SCR + 16, SCR + 26)], [0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff]);
  assert.equal(r.sw() & IE, IE);
});
