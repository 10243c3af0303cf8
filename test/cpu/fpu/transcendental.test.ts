// F2XM1, FYL2X, FYL2XP1, FPTAN, FPATAN, FSIN, FCOS, FSINCOS: values, special cases from the SDM
// tables, the ±2^63 range check (C2), stack effects.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { C1, C2, DE, IE, PE, Rig, SF, UE, ZE, cwRC, dbits } from './fpuHarness.js';
import { ratOfImage, roundExt } from './oracle.js';
import { Trans, transRef } from './transOracle.js';

const close = (a: number, b: number, tag: string): void => {
  assert.ok(Math.abs(a - b) <= 2 * Number.EPSILON * Math.max(1, Math.abs(b)), `${tag}: ${a} vs ${b}`);
};

test('FSIN, FCOS: values, exact zeros without PE, ±2^63 out of range sets C2 and leaves ST(0)', () => {
  const r = new Rig();
  r.ld(Math.PI / 6); r.x(0xd9, 0xfe);
  close(r.st(0), 0.5, 'sin(pi/6)');
  assert.equal(r.sw() & (PE | C2), PE);
  r.ld(0); r.x(0xd9, 0xff);
  assert.equal(r.st(0), 1);
  r.clex();
  r.ld(-0); r.x(0xd9, 0xfe);
  assert.ok(Object.is(r.st(0), -0));
  assert.equal(r.sw() & PE, 0);
  r.x(0xdb, 0xe3);
  r.ld(2 ** 63); r.x(0xd9, 0xfe);
  assert.equal(r.st(0), 2 ** 63);
  assert.equal(r.sw() & (C2 | IE), C2);
  r.ld(1); r.x(0xd9, 0xff); // in range again: C2 cleared
  close(r.st(0), Math.cos(1), 'cos(1)');
  assert.equal(r.sw() & C2, 0);
  r.ld(Infinity); r.x(0xd9, 0xfe);
  assert.equal(dbits(r.st(0)), 'fff80000:00000000');
  assert.equal(r.sw() & IE, IE);
});

test('FSINCOS: ST(0) = cos, ST(1) = sin; FPTAN: ST(0) = 1.0, ST(1) = tan', () => {
  const r = new Rig();
  r.ld(0.5); r.x(0xd9, 0xfb);
  close(r.st(0), Math.cos(0.5), 'cos');
  close(r.st(1), Math.sin(0.5), 'sin');
  assert.equal(r.fpu.top, 6);
  r.x(0xdb, 0xe3);
  r.ld(Math.PI / 4); r.x(0xd9, 0xf2);
  assert.equal(r.st(0), 1);
  close(r.st(1), 1, 'tan(pi/4)');
  r.x(0xdb, 0xe3);
  r.ld(-(2 ** 64)); r.x(0xd9, 0xf2); // out of range: no push
  assert.equal(r.fpu.top, 7);
  assert.equal(r.sw() & C2, C2);
  // full stack: FPTAN is a stack overflow, masked → two indefinites
  r.x(0xdb, 0xe3);
  for (let i = 0; i < 8; i++) r.ld(0.25);
  r.x(0xd9, 0xf2);
  assert.equal(r.sw() & (IE | SF | C1), IE | SF | C1);
  assert.equal(dbits(r.st(0)), 'fff80000:00000000');
  assert.equal(dbits(r.st(1)), 'fff80000:00000000');
});

test('FPATAN: quadrants and signed zeros (SDM table 3-30), pops', () => {
  const r = new Rig();
  const atan = (y: number, x: number): number => { r.x(0xdb, 0xe3); r.ld(y); r.ld(x); r.x(0xd9, 0xf3); assert.equal(r.fpu.top, 7); return r.st(0); };
  close(atan(1, -1), 3 * Math.PI / 4, 'atan(1,-1)');
  close(atan(-1, -1), -3 * Math.PI / 4, 'atan(-1,-1)');
  assert.ok(Object.is(atan(-0, 5), -0));
  assert.equal(atan(0, -0), Math.PI);
  assert.equal(atan(-0, -0), -Math.PI);
  close(atan(Infinity, Infinity), Math.PI / 4, 'atan(inf,inf)');
  close(atan(-Infinity, -Infinity), -3 * Math.PI / 4, 'atan(-inf,-inf)');
});

test('F2XM1: 2^x - 1, exact at ±1 and 0', () => {
  const r = new Rig();
  r.ld(0.5); r.x(0xd9, 0xf0);
  close(r.st(0), Math.SQRT2 - 1, '2^0.5-1');
  r.x(0xdb, 0xe3);
  r.ld(-1); r.x(0xd9, 0xf0);
  assert.equal(r.st(0), -0.5);
  r.ld(1); r.x(0xd9, 0xf0);
  assert.equal(r.st(0), 1);
  assert.equal(r.sw() & PE, 0);
  r.ld(1e-20); r.x(0xd9, 0xf0);
  close(r.st(0), 1e-20 * Math.LN2, 'tiny');
});

test('FYL2X: y·log2(x), exact powers of two, zero → ZE, negative → IE; FYL2XP1 near zero', () => {
  const r = new Rig();
  const yl2x = (y: number, x: number): number => { r.x(0xdb, 0xe3); r.ld(y); r.ld(x); r.x(0xd9, 0xf1); assert.equal(r.fpu.top, 7); return r.st(0); };
  assert.equal(yl2x(3, 8), 9);
  assert.equal(r.sw() & PE, 0);
  close(yl2x(1, 10), Math.log2(10), 'log2(10)');
  assert.equal(r.sw() & PE, PE);
  assert.equal(yl2x(2, 0), -Infinity);
  assert.equal(r.sw() & ZE, ZE);
  assert.equal(yl2x(-2, 0), Infinity);
  assert.equal(dbits(yl2x(1, -4)), 'fff80000:00000000');
  assert.equal(r.sw() & IE, IE);
  assert.ok(Object.is(yl2x(-5, 1), -0));
  assert.equal(dbits(yl2x(Infinity, 1)), 'fff80000:00000000');
  // FYL2XP1
  r.x(0xdb, 0xe3);
  r.ld(2); r.ld(1e-12); r.x(0xd9, 0xf9);
  close(r.st(0), 2 * 1e-12 * Math.LOG2E, 'yl2xp1');
  r.x(0xdb, 0xe3);
  r.ld(-3); r.ld(0); r.x(0xd9, 0xf9);
  assert.ok(Object.is(r.st(0), -0));
});

test('FSIN, FCOS, FPTAN, FSINCOS, F2XM1, FYL2X, FYL2XP1, FPATAN are correctly rounded in every RC (against a 300-bit evaluation; trig arguments reduced by the 66-bit π as on hardware)', () => {
  const r = new Rig();
  let s = 0x1234567;
  const next = (): number => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return s >>> 0; };
  const val = (emin: number, emax: number, signed: boolean): [number, number, number] => {
    const e = emin + (next() % (emax - emin + 1));
    return [(signed && (next() & 1) !== 0 ? 0x8000 : 0) | (16383 + e), (next() | 0x80000000) >>> 0, next()];
  };
  const cases: Array<[Trans, [number, number], (() => Array<[number, number, number]>)]> = [
    ['sin', [0xd9, 0xfe], () => [val(-30, 62, true)]],
    ['cos', [0xd9, 0xff], () => [val(-30, 62, true)]],
    ['tan', [0xd9, 0xf2], () => [val(-30, 62, true)]],
    ['f2xm1', [0xd9, 0xf0], () => [val(-60, -1, true)]],
    ['yl2x', [0xd9, 0xf1], () => [val(-100, 100, false), val(-3, 3, true)]],
    ['yl2xp1', [0xd9, 0xf9], () => [val(-60, -3, true), val(-3, 3, true)]],
    ['atan2', [0xd9, 0xf3], () => [val(-5, 5, true), val(-5, 5, true)]],
  ];
  let n = 0;
  for (const [fn, [opc, modrm], gen] of cases) {
    for (let i = 0; i < 60; i++) {
      const ops = gen(); // ST(0), ST(1)
      const x = ratOfImage(...ops[0]!), y = ops[1] ? ratOfImage(...ops[1]) : undefined;
      const exact = transRef(fn, x, y);
      for (let rc = 0; rc < 4; rc++) {
        r.x(0xdb, 0xe3); r.cw(cwRC(rc));
        for (let k = ops.length - 1; k >= 0; k--) r.ldExt(...ops[k]!);
        r.x(opc, modrm);
        const want = roundExt(exact, rc, 64);
        const got = fn === 'tan' ? r.stx(1) : r.stx(0); // FPTAN pushes 1.0
        const tag = `${fn} ${ops.map((o) => o.map((v) => v.toString(16)).join(':')).join(' ')} rc=${rc}`;
        assert.equal(got, want.image, tag);
        assert.equal(r.sw() & (PE | C1), PE | (want.up ? C1 : 0), tag);
        n++;
      }
      if (fn === 'sin') { // FSINCOS: the same sine, and the cosine pushed
        r.x(0xdb, 0xe3); r.ldExt(...ops[0]!); r.x(0xd9, 0xfb);
        assert.equal(r.stx(1), roundExt(exact, 0, 64).image);
        assert.equal(r.stx(0), roundExt(transRef('cos', x), 0, 64).image);
      }
    }
  }
  assert.ok(n >= 1680);
});

test('FSIN of π rounded to 80 bits is -2^-64, as on hardware (the 66-bit π), not the true 5.0e-20; tiny arguments', () => {
  const r = new Rig();
  r.ldExt(0x4000, 0xc90fdaa2, 0x2168c235); r.x(0xd9, 0xfe);
  assert.equal(r.stx(0), 'bfbf:80000000:00000000');
  r.x(0xdb, 0xe3);
  r.ldExt(0x3fff, 0xc90fdaa2, 0x2168c235); r.x(0xd9, 0xff); // cos(π/2)
  assert.equal(r.stx(0), 'bfbe:80000000:00000000');
  // sin x = x - x³/6: below x for x > 0, so x at nearest with C1, the next lower number when chopping
  r.x(0xdb, 0xe3);
  r.ldExt(0x3fc0, 0x80000000, 5); r.x(0xd9, 0xfe);
  assert.equal(r.stx(0), '3fc0:80000000:00000005');
  assert.equal(r.sw() & (PE | C1), PE | C1);
  r.x(0xdb, 0xe3); r.cw(cwRC(3));
  r.ldExt(0x3fc0, 0x80000000, 5); r.x(0xd9, 0xfe);
  assert.equal(r.stx(0), '3fc0:80000000:00000004');
  r.x(0xdb, 0xe3); r.cw(cwRC(3));
  r.ldExt(0x3fc0, 0x80000000, 0); r.x(0xd9, 0xfe); // a power of two: the next lower number is finer
  assert.equal(r.stx(0), '3fbf:ffffffff:ffffffff');
  r.x(0xdb, 0xe3); r.cw(cwRC(3));
  r.ldExt(0x3fc0, 0x80000000, 0); r.x(0xd9, 0xff); // cos of a tiny argument: just below 1
  assert.equal(r.stx(0), '3ffe:ffffffff:ffffffff');
  // a denormal argument: DE, then the tiny result with UE
  r.x(0xdb, 0xe3);
  r.ldExt(0x0000, 0, 3); r.x(0xd9, 0xfe);
  assert.equal(r.stx(0), '0000:00000000:00000003');
  assert.equal(r.sw() & (DE | UE | PE), DE | UE | PE);
});
