// Register stack: overflow/underflow (#IS with C1), masked responses, FXCH, FFREE(P), FINCSTP,
// FDECSTP, FLD/FST ST(i), the tag word, undocumented aliases.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { C1, ES, IE, M, R, Rig, SCR, SF, dbits, topOf } from './fpuHarness.js';

const INDEF = 'fff80000:00000000';

/** Tag word as FNSTENV stores it (32-bit protected-mode layout, offset 8). */
function tags(r: Rig): number {
  r.x(0xd9, M(6), 0x800);
  r.cw(r.host.u16(0x800)); // FNSTENV masked everything: restore the CW
  return r.host.u16(0x808);
}

test('stack overflow: IE|SF with C1=1; masked pushes the indefinite, unmasked changes nothing', () => {
  const r = new Rig();
  for (let i = 0; i < 8; i++) r.ld(i);
  assert.equal(r.sw() & (IE | SF), 0);
  r.ld(99);
  const sw = r.sw();
  assert.equal(sw & (IE | SF | C1), IE | SF | C1);
  assert.equal(topOf(sw), 7);
  assert.equal(dbits(r.st(0)), INDEF);
  r.x(0xdb, 0xe3);
  r.cw(0x037e);
  for (let i = 0; i < 8; i++) r.ld(i);
  r.ld(99);
  const sw2 = r.sw();
  assert.equal(sw2 & (IE | SF | C1 | ES), IE | SF | C1 | ES);
  assert.equal(topOf(sw2), 0);
  assert.equal(r.st(0), 7);
});

test('stack underflow: IE|SF with C1=0; masked writes the indefinite (and pops), unmasked does nothing', () => {
  const r = new Rig();
  r.ld(2);
  r.x(0xde, R(0, 1)); // FADDP ST(1), ST(0) with ST(1) empty
  let sw = r.sw();
  assert.equal(sw & (IE | SF | C1), IE | SF);
  assert.equal(topOf(sw), 0); // popped
  assert.equal(dbits(r.st(0)), INDEF); // result written to ST(1), now ST(0)
  r.x(0xdb, 0xe3);
  r.x(0xdd, M(3), SCR); // FSTP m64 with ST(0) empty: masked stores the indefinite and pops
  assert.equal(r.host.q(SCR), INDEF);
  assert.equal(r.fpu.top, 1);
  r.x(0xdb, 0xe3); r.cw(0x037e);
  r.host.setF64(SCR, 1.5);
  r.x(0xdd, M(3), SCR);
  sw = r.sw();
  assert.equal(sw & (IE | SF | ES), IE | SF | ES);
  assert.equal(r.host.f64(SCR), 1.5);
  assert.equal(r.fpu.top, 0);
});

test('FLD ST(i) duplicates, FST/FSTP ST(i) copy, FSTP ST(0) just pops, FXCH swaps (C1=0)', () => {
  const r = new Rig();
  r.ld(1); r.ld(2); r.ld(3);
  r.x(0xd9, R(0, 2)); // FLD ST(2) → 1
  assert.deepEqual([r.st(0), r.st(1), r.st(2), r.st(3)], [1, 3, 2, 1]);
  r.x(0xdd, R(2, 2)); // FST ST(2)
  assert.equal(r.st(2), 1);
  r.x(0xdd, R(3, 3)); // FSTP ST(3)
  assert.deepEqual([r.st(0), r.st(1), r.st(2)], [3, 1, 1]);
  r.x(0xd9, R(1, 2)); // FXCH ST(2)
  assert.deepEqual([r.st(0), r.st(1), r.st(2)], [1, 1, 3]);
  r.x(0xdd, R(3, 0)); // FSTP ST(0)
  assert.deepEqual([r.st(0), r.st(1)], [1, 3]);
  assert.equal(r.sw() & C1, 0);
  // FXCH keeps exact 80-bit values
  r.ldExt(0x3fff, 0x80000000, 1);
  r.x(0xd9, R(1, 1));
  r.x(0xd9, R(1, 1));
  assert.equal(r.popExt(), '3fff:80000000:00000001');
});

test('FXCH with an empty register: masked → the indefinite takes its place', () => {
  const r = new Rig();
  r.ld(5);
  r.x(0xd9, R(1, 1));
  assert.equal(r.sw() & (IE | SF), IE | SF);
  assert.equal(dbits(r.st(0)), INDEF);
  assert.equal(r.st(1), 5);
});

test('tag word: valid 00, zero 01, special 10 (inf, NaN, 80-bit denormal, unsupported), empty 11', () => {
  const r = new Rig();
  assert.equal(tags(r), 0xffff);
  r.ld(1.5); // R7 valid
  r.ld(0); // R6 zero
  r.ld(Infinity); // R5 special
  r.ldExt(0, 1, 0); // R4 special (80-bit denormal)
  r.ld(2 ** -1074); // R3 valid: a double denormal is normal in 80 bits
  r.ldExt(0x3fff, 0x40000000, 0); // R2 special (unnormal)
  // R7..R0 from bit 15 down: pushes fill R7 first
  assert.equal(tags(r), 0b00_01_10_10_00_10_11_11);
  r.x(0xdd, R(0, 1)); // FFREE ST(1) = R3
  assert.equal(tags(r), 0b00_01_10_10_11_10_11_11);
  r.x(0xdf, R(0, 0)); // FFREEP ST(0): frees R2 and pops
  assert.equal(tags(r), 0b00_01_10_10_11_11_11_11);
  assert.equal(r.fpu.top, 3);
});

test('FINCSTP/FDECSTP move TOP without touching tags or values; C1 cleared', () => {
  const r = new Rig();
  r.ld(4); r.ld(5);
  r.x(0xd9, 0xf7); // FINCSTP
  assert.equal(r.fpu.top, 7);
  assert.equal(r.st(0), 4);
  assert.equal(r.fpu.empty, 0x3f); // R6 still in use
  r.x(0xd9, 0xf6); r.x(0xd9, 0xf6); // FDECSTP ×2
  assert.equal(r.fpu.top, 5);
  assert.equal(r.fpu.isEmpty(5), true);
  assert.equal(r.sw() & C1, 0);
});

test('undocumented aliases execute as on hardware: FSTP1/8/9, FXCH4/7, FCOM2, FCOMP3/5, FFREEP', () => {
  const r = new Rig();
  r.ld(1); r.ld(2);
  r.x(0xd9, R(3, 1)); // D9 D9: FSTP1 ST(1)
  assert.deepEqual([r.fpu.top, r.st(0)], [7, 2]);
  r.ld(3);
  r.x(0xdf, R(2, 1)); // DF D1: FSTP8
  assert.deepEqual([r.fpu.top, r.st(0)], [7, 3]);
  r.ld(4);
  r.x(0xdf, R(3, 1)); // DF D9: FSTP9
  assert.deepEqual([r.fpu.top, r.st(0)], [7, 4]);
  r.ld(5);
  r.x(0xdd, R(1, 1)); // DD C9: FXCH4
  assert.deepEqual([r.st(0), r.st(1)], [4, 5]);
  r.x(0xdf, R(1, 1)); // DF C9: FXCH7
  assert.deepEqual([r.st(0), r.st(1)], [5, 4]);
  r.x(0xdc, R(2, 1)); // DC D1: FCOM2 → 5 > 4
  assert.equal(r.sw() & 0x4500, 0);
  r.x(0xdc, R(3, 1)); // DC D9: FCOMP3
  assert.equal(r.fpu.top, 7);
  r.ld(1);
  r.x(0xde, R(2, 1)); // DE D1: FCOMP5 → 1 < 4
  assert.equal(r.sw() & 0x4500, 0x100);
  assert.equal(r.fpu.top, 7);
});
