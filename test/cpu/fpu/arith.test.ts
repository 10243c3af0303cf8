// Arithmetic: FADD/FSUB/FSUBR/FMUL/FDIV/FDIVR with every rounding mode against an exact oracle,
// operand forms, special values, FSQRT, FRNDINT, FSCALE, FXTRACT, FPREM/FPREM1.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { C0, C1, C2, C3, DE, ES, IE, M, OE, PE, R, Rig, SCR, UE, ZE, cwRC, dbits } from './fpuHarness.js';
import { add, div, mul, round, sqrtRounded } from './oracle.js';

/** Deterministic pseudo-random doubles spread over the exponent range, with boundary cases. */
function* operands(count: number): Generator<number> {
  let s = 0x2545f491;
  const next = (): number => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return s >>> 0; };
  const dv = new DataView(new ArrayBuffer(8));
  const fixed = [1, -1, 3, 0.1, 1 / 3, 2 ** -1074, -(2 ** -1074), 2 ** -1022, Number.MAX_VALUE, 1e308, 1e-308, 2 ** 1000, 2 ** -1000, 7e-320];
  yield* fixed;
  for (let i = 0; i < count; i++) {
    const r = next();
    let exp: number;
    switch (r & 3) {
      case 0: exp = 1023 + ((next() % 40) - 20); break; // ordinary
      case 1: exp = next() % 60; break; // near/under the normal range
      case 2: exp = 2046 - (next() % 60); break; // near overflow
      default: exp = next() % 2047; break;
    }
    dv.setUint32(0, ((r >>> 31) << 31) | (exp << 20) | (next() & 0xfffff));
    dv.setUint32(4, next());
    yield dv.getFloat64(0);
  }
}

test('FADD/FSUB/FMUL/FDIV m64 match the exact oracle bit for bit, with PE, C1, OE and UE, in all four RC modes', () => {
  const r = new Rig();
  const xs = [...operands(120)];
  const ys = [...operands(120)].reverse();
  let checked = 0;
  for (let k = 0; k < xs.length; k++) {
    const a = xs[k]!, b = ys[k]!;
    for (const [reg, name, exact] of [[0, 'add', add(a, b)], [4, 'sub', add(a, -b)], [1, 'mul', mul(a, b)], [6, 'div', div(a, b)]] as const) {
      for (let rc = 0; rc < 4; rc++) {
        r.x(0xdb, 0xe3); // FNINIT
        r.cw(cwRC(rc));
        r.ld(a);
        r.host.setF64(SCR + 16, b);
        r.clex();
        r.x(0xdc, M(reg), SCR + 16); // Fop m64
        const sw = r.sw();
        const got = r.st(0);
        const tag = `${name} ${a} ${b} rc=${rc}`;
        if (exact[0] === 0n) {
          assert.equal(got, 0, tag);
          assert.equal(sw & PE, 0, tag);
          continue;
        }
        const want = round(exact, rc);
        assert.equal(dbits(got), dbits(want.value), tag);
        assert.equal((sw & PE) !== 0, want.inexact, `PE ${tag}`);
        assert.equal((sw & C1) !== 0, want.inexact && want.up, `C1 ${tag}`);
        assert.equal((sw & OE) !== 0, want.overflow, `OE ${tag}`);
        assert.equal((sw & UE) !== 0, want.tiny && want.inexact, `UE ${tag}`);
        checked++;
      }
    }
  }
  assert.ok(checked > 1500);
});

test('1/3 in each rounding mode, and C1 for a sum rounded up to nearest', () => {
  const r = new Rig();
  const want = ['3fd55555:55555555', '3fd55555:55555555', '3fd55555:55555556', '3fd55555:55555555'];
  const wantNeg = ['bfd55555:55555555', 'bfd55555:55555556', 'bfd55555:55555555', 'bfd55555:55555555'];
  for (let rc = 0; rc < 4; rc++) {
    r.clex(); r.cw(cwRC(rc));
    r.ld(1); r.ld(3); r.x(0xde, R(7, 1)); // FDIVP ST(1), ST(0): ST(1)/ST(0)
    assert.equal(dbits(r.pop()), want[rc]);
    r.ld(-1); r.ld(3); r.x(0xde, R(7, 1));
    assert.equal(dbits(r.pop()), wantNeg[rc]);
  }
  r.clex(); r.cw(cwRC(0));
  r.ld(0.1); r.ld(0.2); r.x(0xde, R(0, 1)); // FADDP
  assert.equal(r.st(0), 0.30000000000000004);
  assert.equal(r.sw() & (PE | C1), PE | C1);
});

test('register forms: D8/DC/DE encodings of FSUB, FSUBR, FDIV, FDIVR pick the right operand order', () => {
  const r = new Rig();
  const run = (op: number, modrm: number): number => {
    r.x(0xdb, 0xe3);
    r.ld(10); r.ld(2); // ST0 = 2, ST1 = 10
    r.x(op, modrm);
    return op === 0xdc ? r.st(1) : r.st(0); // D8: ST(0); DC: ST(1); DE: ST(0) after the pop
  };
  assert.equal(run(0xd8, R(4, 1)), -8); // FSUB ST0, ST1 = 2 - 10
  assert.equal(run(0xd8, R(5, 1)), 8); // FSUBR ST0, ST1 = 10 - 2
  assert.equal(run(0xd8, R(6, 1)), 0.2); // FDIV ST0, ST1 = 2 / 10
  assert.equal(run(0xd8, R(7, 1)), 5); // FDIVR
  assert.equal(run(0xdc, R(5, 1)), 8); // DC E9: FSUB ST1, ST0 = 10 - 2
  assert.equal(run(0xdc, R(4, 1)), -8); // DC E1: FSUBR ST1, ST0 = 2 - 10
  assert.equal(run(0xdc, R(7, 1)), 5); // DC F9: FDIV ST1, ST0 = 10 / 2
  assert.equal(run(0xdc, R(6, 1)), 0.2); // DC F1: FDIVR ST1, ST0 = 2 / 10
  assert.equal(run(0xde, R(5, 1)), 8); // DE E9: FSUBP
  assert.equal(run(0xde, R(4, 1)), -8); // DE E1: FSUBRP
  assert.equal(run(0xde, R(7, 1)), 5); // DE F9: FDIVP
  assert.equal(run(0xde, R(6, 1)), 0.2); // DE F1: FDIVRP
  assert.equal(r.fpu.top, 7); // one pop after two pushes
});

test('integer memory operands: FIADD/FISUBR/FIMUL/FIDIVR m16 and m32', () => {
  const r = new Rig();
  r.ld(10);
  r.host.setU16(SCR + 8, -3 & 0xffff);
  r.x(0xde, M(0), SCR + 8); // FIADD m16 → 7
  assert.equal(r.st(0), 7);
  r.host.setU32(SCR + 8, 100);
  r.x(0xda, M(5), SCR + 8); // FISUBR m32 → 100 - 7
  assert.equal(r.st(0), 93);
  r.x(0xda, M(1), SCR + 8); // FIMUL m32
  assert.equal(r.st(0), 9300);
  r.host.setU32(SCR + 8, 93000);
  r.x(0xda, M(7), SCR + 8); // FIDIVR m32 → 93000 / 9300
  assert.equal(r.st(0), 10);
  assert.equal(r.sw() & 0x3f, 0);
});

test('signed zeros: x + (-x) is +0, or -0 when rounding down; -0 + -0 = -0', () => {
  const r = new Rig();
  for (let rc = 0; rc < 4; rc++) {
    r.cw(cwRC(rc));
    r.ld(1.5); r.ld(-1.5); r.x(0xde, R(0, 1));
    assert.ok(Object.is(r.pop(), rc === 1 ? -0 : 0), `rc=${rc}`);
    r.ld(0); r.ld(-0); r.x(0xde, R(0, 1));
    assert.ok(Object.is(r.pop(), rc === 1 ? -0 : 0));
    r.ld(-0); r.ld(-0); r.x(0xde, R(0, 1));
    assert.ok(Object.is(r.pop(), -0));
  }
});

test('invalid operations give the QNaN indefinite with IE; unmasked IE leaves the stack alone', () => {
  const r = new Rig();
  const cases: Array<[number, number, number]> = [[Infinity, -Infinity, 0], [0, Infinity, 1], [0, 0, 7], [Infinity, Infinity, 7]];
  for (const [a, b, reg] of cases) {
    r.x(0xdb, 0xe3);
    r.ld(a); r.ld(b); r.x(0xde, R(reg, 1)); // FxxxP ST(1), ST(0)
    assert.equal(dbits(r.st(0)), 'fff80000:00000000');
    assert.equal(r.sw() & IE, IE);
  }
  r.x(0xdb, 0xe3);
  r.cw(0x037e);
  r.ld(Infinity); r.ld(-Infinity);
  r.x(0xde, R(0, 1)); // FADDP: unmasked #IA → no result, no pop
  assert.equal(r.fpu.top, 6);
  assert.equal(r.st(0), -Infinity);
  assert.equal(r.st(1), Infinity);
  assert.equal(r.sw() & (IE | ES), IE | ES);
});

test('zero divide: ±∞ with ZE when masked; unmasked leaves the destination and TOP', () => {
  const r = new Rig();
  r.ld(-3); r.ld(0); r.x(0xde, R(7, 1)); // -3 / +0
  assert.equal(r.st(0), -Infinity);
  assert.equal(r.sw() & ZE, ZE);
  r.x(0xdb, 0xe3);
  r.cw(0x037b); // ZM clear
  r.ld(5); r.ld(0); r.x(0xde, R(7, 1));
  assert.equal(r.fpu.top, 6);
  assert.equal(r.st(1), 5);
  assert.equal(r.sw() & (ZE | ES), ZE | ES);
  // 0/0 is invalid, not a zero divide
  r.x(0xdb, 0xe3); r.ld(0); r.ld(0); r.x(0xde, R(7, 1));
  assert.equal(r.sw() & (ZE | IE), IE);
});

test('denormal operands from memory raise DE; unmasked DE suppresses the result', () => {
  const r = new Rig();
  r.ld(1);
  r.host.setU32(SCR + 8, 1); r.host.setU32(SCR + 12, 0); // 2^-1074
  r.clex();
  r.x(0xdc, M(0), SCR + 8);
  assert.equal(r.st(0), 1); // 1 + 2^-1074 rounds to 1
  assert.equal(r.sw() & (DE | PE), DE | PE);
  r.cw(0x037d); r.clex(); // DM clear
  r.x(0xdc, M(1), SCR + 8); // FMUL: suppressed
  assert.equal(r.st(0), 1);
  assert.equal(r.sw() & (DE | PE), DE);
});

test('NaN operands: QNaN propagates without IE, SNaN is quieted with IE, two QNaNs → larger significand', () => {
  const r = new Rig();
  r.host.setU32(SCR + 8, 7); r.host.setU32(SCR + 12, 0x7ff80000);
  r.ld(2); r.x(0xdc, M(0), SCR + 8);
  assert.equal(dbits(r.st(0)), '7ff80000:00000007');
  assert.equal(r.sw() & IE, 0);
  r.x(0xdb, 0xe3);
  r.host.setU32(SCR + 8, 7); r.host.setU32(SCR + 12, 0x7ff00000); // SNaN
  r.ld(2); r.x(0xdc, M(1), SCR + 8);
  assert.equal(dbits(r.st(0)), '7ff80000:00000007');
  assert.equal(r.sw() & IE, IE);
  r.x(0xdb, 0xe3);
  r.host.setU32(SCR + 8, 0); r.host.setU32(SCR + 12, 0xfff80001);
  r.x(0xdd, M(0), SCR + 8);
  r.host.setU32(SCR + 8, 0xffffffff); r.host.setU32(SCR + 12, 0x7ff80000);
  r.x(0xdc, M(0), SCR + 8);
  assert.equal(dbits(r.st(0)), 'fff80001:00000000');
});

test('masked overflow and underflow results per RC', () => {
  const r = new Rig();
  const max = Number.MAX_VALUE;
  const ovf = [[Infinity, max, Infinity, max], [-Infinity, -Infinity, -max, -max]];
  for (let rc = 0; rc < 4; rc++) {
    r.x(0xdb, 0xe3); r.cw(cwRC(rc));
    r.ld(max); r.ld(2); r.x(0xde, R(1, 1));
    assert.equal(r.st(0), ovf[0]![rc]);
    assert.equal(r.sw() & (OE | PE | C1), OE | PE | (ovf[0]![rc] === Infinity ? C1 : 0));
    r.ld(-max); r.ld(2); r.x(0xde, R(1, 1));
    assert.equal(r.st(0), ovf[1]![rc]);
  }
  const tiny = 2 ** -1074;
  const unf = [0, 0, tiny, 0];
  for (let rc = 0; rc < 4; rc++) {
    r.x(0xdb, 0xe3); r.cw(cwRC(rc));
    r.ld(tiny); r.ld(0.5); r.x(0xde, R(1, 1));
    assert.ok(Object.is(r.st(0), unf[rc]), `rc=${rc}`);
    assert.equal(r.sw() & (UE | PE), UE | PE);
  }
});

test('unmasked underflow keeps the result at its true exponent (80-bit register), with UE and ES', () => {
  const r = new Rig();
  r.cw(0x036f); // UM clear
  r.ld(2 ** -1074); r.ld(0.5); r.x(0xde, R(1, 1));
  assert.equal(r.sw() & (UE | ES), UE | ES);
  r.x(0xdd, M(6), 0x400); // FNSAVE (no wait): ST(0) follows the 28-byte environment
  assert.equal(r.host.ext(0x400 + 28), '3bcc:80000000:00000000'); // 2^-1075
});

test('FSQRT matches the exact oracle over the whole positive range in all four RC modes', () => {
  const r = new Rig();
  let n = 0;
  for (const v of operands(150)) {
    const a = Math.abs(v);
    if (a === 0 || !Number.isFinite(a)) continue;
    for (let rc = 0; rc < 4; rc++) {
      r.x(0xdb, 0xe3); r.cw(cwRC(rc));
      r.ld(a); r.clex();
      r.x(0xd9, 0xfa);
      const want = sqrtRounded(a, rc);
      const sw = r.sw();
      assert.equal(dbits(r.st(0)), dbits(want.value), `sqrt(${a}) rc=${rc}`);
      assert.equal((sw & PE) !== 0, want.inexact);
      assert.equal((sw & C1) !== 0, want.up);
      n++;
    }
  }
  assert.ok(n > 500);
});

test('FSQRT: correctly rounded per RC, exact cases, -0, negative → IE', () => {
  const r = new Rig();
  const want = [Math.SQRT2, 1.4142135623730949, Math.SQRT2, 1.4142135623730949];
  for (let rc = 0; rc < 4; rc++) {
    r.x(0xdb, 0xe3); r.cw(cwRC(rc));
    r.ld(2); r.x(0xd9, 0xfa);
    assert.equal(r.st(0), want[rc]);
    assert.equal(r.sw() & (PE | C1), PE | (rc === 0 || rc === 2 ? C1 : 0));
  }
  r.x(0xdb, 0xe3);
  r.ld(2 ** -1074); r.x(0xd9, 0xfa);
  assert.equal(r.st(0), 2 ** -537);
  r.ld(6.25); r.x(0xd9, 0xfa);
  assert.equal(r.st(0), 2.5);
  r.ld(-0); r.x(0xd9, 0xfa);
  assert.ok(Object.is(r.st(0), -0));
  assert.equal(r.sw() & (PE | IE), 0);
  r.ld(-4); r.x(0xd9, 0xfa);
  assert.equal(dbits(r.st(0)), 'fff80000:00000000');
  assert.equal(r.sw() & IE, IE);
});

test('FRNDINT rounds per RC, keeps the sign of zero, flags PE and C1 only when inexact', () => {
  const r = new Rig();
  const cases: Array<[number, number[]]> = [
    [2.5, [2, 2, 3, 2]], [-2.5, [-2, -3, -2, -2]], [0.5, [0, 0, 1, 0]], [-0.5, [-0, -1, -0, -0]],
    [1.75, [2, 1, 2, 1]], [-1.25, [-1, -2, -1, -1]], [4503599627370495.5, [4503599627370496, 4503599627370495, 4503599627370496, 4503599627370495]],
  ];
  for (const [v, want] of cases) {
    for (let rc = 0; rc < 4; rc++) {
      r.x(0xdb, 0xe3); r.cw(cwRC(rc));
      r.ld(v); r.x(0xd9, 0xfc);
      assert.ok(Object.is(r.st(0), want[rc]), `${v} rc=${rc}: ${r.st(0)}`);
      const sw = r.sw();
      assert.equal(sw & PE, PE);
      assert.equal(sw & C1, Math.abs(want[rc]!) > Math.abs(v) ? C1 : 0);
    }
  }
  r.x(0xdb, 0xe3);
  r.ld(1e300); r.x(0xd9, 0xfc);
  r.ld(-7); r.x(0xd9, 0xfc);
  assert.equal(r.st(0), -7);
  assert.equal(r.sw() & PE, 0);
  // an exact 80-bit value: 2^62 + 0.5 rounds to 2^62 (nearest even) without touching the double path
  r.ldExt(0x403d, 0x80000000, 0x00000001); // 2^62 + 2^0... significand bit 0 = 2^(62-63) = 0.5
  r.x(0xd9, 0xfc);
  assert.equal(r.popExt(), '403d:80000000:00000000');
  assert.equal(r.sw() & PE, PE);
});

test('FSCALE: exact scaling, truncation of ST(1), overflow and underflow, special operands', () => {
  const r = new Rig();
  r.ld(2.7); r.ld(1.5); r.x(0xd9, 0xfd);
  assert.equal(r.st(0), 6);
  r.x(0xdb, 0xe3);
  r.ld(-2.7); r.ld(1.5); r.x(0xd9, 0xfd);
  assert.equal(r.st(0), 0.375);
  r.x(0xdb, 0xe3);
  r.ld(1100); r.ld(1); r.x(0xd9, 0xfd);
  assert.equal(r.st(0), Infinity);
  assert.equal(r.sw() & (OE | PE), OE | PE);
  r.x(0xdb, 0xe3);
  r.ld(-1080); r.ld(1); r.x(0xd9, 0xfd);
  assert.equal(r.st(0), 0);
  assert.equal(r.sw() & (UE | PE), UE | PE);
  r.x(0xdb, 0xe3);
  r.ld(-1074); r.ld(3); r.x(0xd9, 0xfd); // 3 × 2^-1074 is representable
  assert.equal(r.st(0), 3 * 2 ** -1074);
  assert.equal(r.sw() & (UE | PE), 0);
  r.x(0xdb, 0xe3);
  r.ld(Infinity); r.ld(0); r.x(0xd9, 0xfd);
  assert.equal(r.sw() & IE, IE);
  r.x(0xdb, 0xe3);
  r.ld(-Infinity); r.ld(-5); r.x(0xd9, 0xfd);
  assert.ok(Object.is(r.st(0), -0));
});

test('FXTRACT: significand and exponent, zero → ZE with -∞ exponent, infinity', () => {
  const r = new Rig();
  r.ld(-12); r.x(0xd9, 0xf4);
  assert.equal(r.st(0), -1.5);
  assert.equal(r.st(1), 3);
  r.x(0xdb, 0xe3);
  r.ld(2 ** -1074); r.x(0xd9, 0xf4);
  assert.equal(r.st(0), 1);
  assert.equal(r.st(1), -1074);
  r.x(0xdb, 0xe3);
  r.ld(-0); r.x(0xd9, 0xf4);
  assert.ok(Object.is(r.st(0), -0));
  assert.equal(r.st(1), -Infinity);
  assert.equal(r.sw() & ZE, ZE);
  r.x(0xdb, 0xe3);
  r.ld(-Infinity); r.x(0xd9, 0xf4);
  assert.equal(r.st(0), -Infinity);
  assert.equal(r.st(1), Infinity);
  // exact 80-bit significand of a 64-bit integer
  r.x(0xdb, 0xe3);
  r.host.setU32(SCR + 32, 0xffffffff); r.host.setU32(SCR + 36, 0x7fffffff);
  r.x(0xdf, M(5), SCR + 32); // FILD m64 2^63-1
  r.x(0xd9, 0xf4);
  assert.equal(r.popExt(), '3fff:ffffffff:fffffffe');
  assert.equal(r.st(0), 62);
});

/** FPREM/FPREM1 helper: returns [result, sw]. */
function prem(r: Rig, a: number, b: number, ieee: boolean): [number, number] {
  r.x(0xdb, 0xe3);
  r.ld(b); r.ld(a);
  r.x(0xd9, ieee ? 0xf5 : 0xf8);
  return [r.st(0), r.sw()];
}

test('FPREM: truncated quotient, sign of the dividend, Q2 Q1 Q0 in C0 C3 C1', () => {
  const r = new Rig();
  let [v, sw] = prem(r, 7, 2, false); // Q = 3
  assert.equal(v, 1);
  assert.equal(sw & (C0 | C1 | C2 | C3), C3 | C1);
  [v, sw] = prem(r, -7, 2, false);
  assert.equal(v, -1);
  assert.equal(sw & (C0 | C1 | C2 | C3), C3 | C1);
  [v, sw] = prem(r, 29.5, 3, false); // Q = 9 → 001
  assert.equal(v, 2.5);
  assert.equal(sw & (C0 | C1 | C2 | C3), C1);
  [v, sw] = prem(r, 14, 2.5, false); // Q = 5 → 101
  assert.equal(v, 1.5);
  assert.equal(sw & (C0 | C1 | C2 | C3), C0 | C1);
  [v, sw] = prem(r, 1, 4, false);
  assert.equal(v, 1);
  assert.equal(sw & (C0 | C1 | C2 | C3), 0);
  [v, sw] = prem(r, -6, 3, false); // exact: -0
  assert.ok(Object.is(v, -0));
  assert.equal(sw & (C0 | C1 | C2 | C3), C3);
});

test('FPREM1: quotient rounded to nearest even', () => {
  const r = new Rig();
  let [v, sw] = prem(r, 7, 2, true); // 3.5 → 4: r = -1, Q = 100
  assert.equal(v, -1);
  assert.equal(sw & (C0 | C1 | C2 | C3), C0);
  [v, sw] = prem(r, 5, 2, true); // 2.5 → 2: r = 1, Q = 010
  assert.equal(v, 1);
  assert.equal(sw & (C0 | C1 | C2 | C3), C3);
  [v, sw] = prem(r, 8, 3, true); // 2.67 → 3: r = -1, Q = 011
  assert.equal(v, -1);
  assert.equal(sw & (C0 | C1 | C2 | C3), C3 | C1);
  [v, sw] = prem(r, 15, 2, true); // 7.5 → 8: Q mod 8 = 0
  assert.equal(v, -1);
  assert.equal(sw & (C0 | C1 | C2 | C3), 0);
});

test('FPREM partial remainder: C2 set until the exponent difference is below 64, final value exact', () => {
  const r = new Rig();
  const a = 1e30, b = 3;
  r.ld(b); r.ld(a);
  let steps = 0;
  let prevExp = Math.floor(Math.log2(a));
  for (;;) {
    r.x(0xd9, 0xf8);
    steps++;
    const sw = r.sw();
    if ((sw & C2) === 0) break;
    assert.equal(sw & (C0 | C1 | C3), 0);
    const e = Math.floor(Math.log2(r.st(0)));
    assert.ok(prevExp - e >= 32, `reduced by ${prevExp - e}`);
    prevExp = e;
  }
  assert.ok(steps >= 2);
  assert.equal(r.st(0), Number(BigInt(a) % 3n));
  // special operands
  let [v, sw] = prem(r, 5, 0, false);
  // (read the NaN straight from the register: a JS array of doubles may canonicalize NaN bits)
  assert.equal(dbits(r.st(0)), 'fff80000:00000000');
  assert.equal(sw & IE, IE);
  [v, sw] = prem(r, Infinity, 2, false);
  assert.equal(sw & IE, IE);
  [v, sw] = prem(r, 5, Infinity, false);
  assert.equal(v, 5);
  assert.equal(sw & (IE | C0 | C1 | C2 | C3), 0);
});
