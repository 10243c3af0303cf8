// Arithmetic: FADD/FSUB/FSUBR/FMUL/FDIV/FDIVR and FSQRT on 80-bit operands against an exact
// BigInt oracle in every precision control and rounding mode, operand forms, special values,
// FRNDINT, FSCALE, FXTRACT, FPREM/FPREM1.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { C0, C1, C2, C3, DE, ES, IE, M, OE, PE, R, Rig, SCR, UE, ZE, cwRC, dbits, hex } from './fpuHarness.js';
import { Rat, add, div, mul, neg, ratOfDouble, ratOfImage, roundExt, sqrtExt } from './oracle.js';

type Img = [number, number, number];

/** A deterministic xorshift generator. */
function rng(seed: number): () => number {
  let s = seed;
  return () => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return s >>> 0; };
}

/** 80-bit operands spread over the exponent range: ordinary, near the bottom and the top of the
 *  normal range, denormals and pseudo-denormals, full and double-like significands. */
function* extOperands(count: number, seed: number): Generator<Img> {
  const next = rng(seed);
  const fixed: Img[] = [
    [0x3fff, 0x80000000, 0], [0x3fff, 0x80000000, 1], [0x3fff, 0xffffffff, 0xffffffff], [0x4000, 0xc0000000, 0],
    [0x3ffb, 0xcccccccc, 0xcccccccd], [0x7ffe, 0xffffffff, 0xffffffff], [0x0001, 0x80000000, 0],
    [0x0000, 0, 1], [0x0000, 0x7fffffff, 0xffffffff], [0x0000, 0x80000000, 3], [0xbffe, 0x80000000, 0],
  ];
  yield* fixed;
  for (let i = 0; i < count; i++) {
    const r = next();
    let exp: number;
    switch (r & 7) {
      case 0: case 1: case 2: exp = 16383 + ((next() % 80) - 40); break;
      case 3: exp = next() % 90; break;
      case 4: exp = 0x7ffe - (next() % 90); break;
      case 5: exp = 0; break;
      default: exp = 1 + (next() % 0x7ffe); break;
    }
    let hi = next(), lo = next();
    if ((r & 0x30) === 0) lo &= 0xfffff800; // a double's significand
    if ((r & 0xc0) === 0) { hi = 0x80000000; lo = next() & 1; } // near a power of two
    if (exp !== 0) hi = (hi | 0x80000000) >>> 0;
    else if (hi === 0 && lo === 0) lo = 1;
    yield [(exp | ((r >>> 31) << 15)) & 0xffff, hi >>> 0, lo >>> 0];
  }
}

const img = (v: Img): string => `${hex(v[0], 4)}:${hex(v[1], 8)}:${hex(v[2], 8)}`;
const isDenormal = (v: Img): boolean => (v[0] & 0x7fff) === 0;
const PCS = [[24, 0x0000], [53, 0x0200], [64, 0x0300]] as const;

test('FADD/FSUB/FMUL/FDIV of 80-bit operands match the exact oracle bit for bit (PE, C1, OE, UE, DE) in every PC and RC', () => {
  const r = new Rig();
  const xs = [...extOperands(150, 0x2545f491)];
  const ys = [...extOperands(150, 0x1b873593)].reverse();
  const ops: Array<[number, string, (a: Rat, b: Rat) => Rat]> = [
    [0, 'add', add], [4, 'sub', (a, b) => add(a, neg(b))], [1, 'mul', mul], [6, 'div', div],
  ];
  let checked = 0;
  for (let k = 0; k < xs.length; k++) {
    const a = xs[k]!, b = ys[k]!;
    for (const [reg, name, fn] of ops) {
      const exact = fn(ratOfImage(...a), ratOfImage(...b));
      for (const [prec, pcBits] of PCS) {
        for (let rc = 0; rc < 4; rc++) {
          r.x(0xdb, 0xe3); // FNINIT
          r.cw(0x007f | pcBits | (rc << 10));
          r.ldExt(...b);
          r.ldExt(...a);
          r.x(0xd8, R(reg, 1)); // Fop ST(0), ST(1)
          const sw = r.sw();
          const got = r.stx(0);
          const tag = `${img(a)} ${name} ${img(b)} pc=${prec} rc=${rc}`;
          assert.equal(sw & DE, isDenormal(a) || isDenormal(b) ? DE : 0, `DE ${tag}`);
          if (exact[0] === 0n) {
            assert.equal(got, rc === 1 ? '8000:00000000:00000000' : '0000:00000000:00000000', tag);
            assert.equal(sw & (PE | UE | OE | C1), 0, tag);
            continue;
          }
          const want = roundExt(exact, rc, prec);
          assert.equal(got, want.image, tag);
          assert.equal(sw & PE, want.inexact ? PE : 0, `PE ${tag}`);
          assert.equal(sw & C1, want.inexact && want.up ? C1 : 0, `C1 ${tag}`);
          assert.equal(sw & OE, want.overflow ? OE : 0, `OE ${tag}`);
          assert.equal(sw & UE, want.underflow ? UE : 0, `UE ${tag}`);
          checked++;
        }
      }
    }
  }
  assert.ok(checked > 6000, `${checked}`);
});

test('memory operand forms (m32, m64, m16int, m32int; FSUBR/FDIVR reversed) match the oracle in PC=53 and PC=64', () => {
  const r = new Rig();
  const next = rng(0x9e3779b9);
  const dv = new DataView(new ArrayBuffer(8));
  let checked = 0;
  for (let i = 0; i < 120; i++) {
    const a: Img = [(16383 + (next() % 200) - 100) | ((next() & 1) << 15), (next() | 0x80000000) >>> 0, next()];
    // one operand of each memory kind
    dv.setUint32(0, ((next() & 0x80000000) | (((1023 + (next() % 200) - 100) & 0x7ff) << 20) | (next() & 0xfffff)) >>> 0);
    dv.setUint32(4, next());
    const d = dv.getFloat64(0);
    const f32 = Math.fround(d * 1.5);
    const i16 = (next() & 0xffff) << 16 >> 16 || 7;
    const i32 = next() | 1;
    const forms: Array<[number, (lin: number) => void, Rat]> = [
      [0xdc, (lin) => r.host.setF64(lin, d), ratOfDouble(d)],
      [0xd8, (lin) => r.host.setF32(lin, f32), ratOfDouble(f32)],
      [0xde, (lin) => r.host.setU16(lin, i16 & 0xffff), [BigInt(i16), 1n]],
      [0xda, (lin) => r.host.setU32(lin, i32), [BigInt(i32), 1n]],
    ];
    for (const [opc, put, m] of forms) {
      for (const [reg, fn] of [
        [0, add], [1, mul], [4, (x: Rat, y: Rat) => add(x, neg(y))], [5, (x: Rat, y: Rat) => add(y, neg(x))], [6, div], [7, (x: Rat, y: Rat) => div(y, x)],
      ] as Array<[number, (x: Rat, y: Rat) => Rat]>) {
        for (const [prec, pcBits] of PCS.slice(1)) {
          const rc = next() & 3;
          r.x(0xdb, 0xe3); r.cw(0x007f | pcBits | (rc << 10));
          r.ldExt(...a);
          put(SCR + 16);
          r.x(opc, M(reg), SCR + 16);
          const want = roundExt(fn(ratOfImage(...a), m), rc, prec);
          const tag = `${img(a)} op ${opc.toString(16)}/${reg} pc=${prec} rc=${rc}`;
          assert.equal(r.stx(0), want.image, tag);
          const sw = r.sw();
          assert.equal(sw & (PE | C1), (want.inexact ? PE : 0) | (want.up ? C1 : 0), tag);
          checked++;
        }
      }
    }
  }
  assert.ok(checked > 5000);
});

test('double operands (the float64 fast path and its limits) match the oracle at PC=53 and PC=64 in every RC', () => {
  const r = new Rig();
  const next = rng(0x7f4a7c15);
  const dv = new DataView(new ArrayBuffer(8));
  const dbl = (): number => {
    const k = next() & 7;
    if (k === 0) return ((next() % 2001) - 1000) / 8; // small exact values: exact sums and products
    let exp: number;
    if (k === 1) exp = 1023 - 960 + ((next() % 40) - 20); // around 2^-960
    else if (k === 2) exp = 1023 + 990 + ((next() % 40) - 20); // around 2^990
    else if (k === 3) exp = 1 + (next() % 60); // near the double underflow
    else exp = 1023 + ((next() % 120) - 60);
    dv.setUint32(0, ((next() & 0x80000000) | (Math.min(exp, 2046) << 20) | (next() & 0xfffff)) >>> 0);
    dv.setUint32(4, k === 4 ? next() & 0xffff0000 : next());
    return dv.getFloat64(0);
  };
  let checked = 0;
  for (let i = 0; i < 600; i++) {
    const a = dbl(), b = dbl();
    if (a === 0 || b === 0) continue;
    for (const [reg, fn] of [[0, add], [4, (x: Rat, y: Rat) => add(x, neg(y))], [1, mul], [6, div]] as Array<[number, (x: Rat, y: Rat) => Rat]>) {
      const exact = fn(ratOfDouble(a), ratOfDouble(b));
      for (const [prec, pcBits] of PCS.slice(1)) {
        for (let rc = 0; rc < 4; rc++) {
          r.x(0xdb, 0xe3); r.cw(0x007f | pcBits | (rc << 10));
          r.ld(b); r.ld(a);
          r.x(0xd8, R(reg, 1));
          const sw = r.sw();
          const tag = `${a} op${reg} ${b} pc=${prec} rc=${rc}`;
          if (exact[0] === 0n) {
            assert.equal(r.stx(0), rc === 1 ? '8000:00000000:00000000' : '0000:00000000:00000000', tag);
            continue;
          }
          const want = roundExt(exact, rc, prec);
          assert.equal(r.stx(0), want.image, tag);
          assert.equal(sw & (PE | C1), (want.inexact ? PE : 0) | (want.inexact && want.up ? C1 : 0), tag);
          checked++;
        }
      }
    }
  }
  assert.ok(checked > 15000, `${checked}`);
});

test('FSQRT of 80-bit operands (denormals included) matches the exact oracle in every PC and RC', () => {
  const r = new Rig();
  let n = 0;
  for (const v of extOperands(220, 0x68e31da4)) {
    const a: Img = [v[0] & 0x7fff, v[1], v[2]];
    for (const [prec, pcBits] of PCS) {
      for (let rc = 0; rc < 4; rc++) {
        r.x(0xdb, 0xe3); r.cw(0x007f | pcBits | (rc << 10));
        r.ldExt(...a);
        r.x(0xd9, 0xfa);
        const want = sqrtExt(ratOfImage(...a), rc, prec);
        const sw = r.sw();
        const tag = `sqrt ${img(a)} pc=${prec} rc=${rc}`;
        assert.equal(r.stx(0), want.image, tag);
        assert.equal(sw & (PE | C1 | DE), (want.inexact ? PE : 0) | (want.up ? C1 : 0) | (isDenormal(a) ? DE : 0), tag);
        n++;
      }
    }
  }
  assert.ok(n > 2500);
});

test('extended precision: 1 + 2^-63 and 1/3 in every RC and PC, C1 when rounded up', () => {
  const r = new Rig();
  // 1 + 2^-63 is exact at PC=64 (a float64 unit loses it); PC=53 rounds it back to 1
  r.ld(1);
  r.ldExt(0x3fc0, 0x80000000, 0); // 2^-63
  r.x(0xde, R(0, 1)); // FADDP
  assert.equal(r.stx(0), '3fff:80000000:00000001');
  assert.equal(r.sw() & (PE | C1), 0);
  r.x(0xdb, 0xe3); r.cw(0x027f);
  r.ld(1); r.ldExt(0x3fc0, 0x80000000, 0); r.x(0xde, R(0, 1));
  assert.equal(r.stx(0), '3fff:80000000:00000000');
  assert.equal(r.sw() & (PE | C1), PE);
  // 1/3 and -1/3 (the values real hardware gives; C1 = magnitude rounded up)
  const third: Record<number, string[]> = {
    0x000: ['3ffd:aaaaab00:00000000', '3ffd:aaaaaa00:00000000', '3ffd:aaaaab00:00000000', '3ffd:aaaaaa00:00000000'],
    0x200: ['3ffd:aaaaaaaa:aaaaa800', '3ffd:aaaaaaaa:aaaaa800', '3ffd:aaaaaaaa:aaaab000', '3ffd:aaaaaaaa:aaaaa800'],
    0x300: ['3ffd:aaaaaaaa:aaaaaaab', '3ffd:aaaaaaaa:aaaaaaaa', '3ffd:aaaaaaaa:aaaaaaab', '3ffd:aaaaaaaa:aaaaaaaa'],
  };
  for (const pc of [0x000, 0x200, 0x300]) {
    for (let rc = 0; rc < 4; rc++) {
      r.x(0xdb, 0xe3); r.cw(0x007f | pc | (rc << 10));
      r.ld(1); r.ld(3); r.x(0xde, R(7, 1)); // FDIVP: ST(1)/ST(0)
      const want = third[pc]![rc]!;
      assert.equal(r.stx(0), want, `pc=${pc} rc=${rc}`);
      const up = rc === 2 || (rc === 0 && want !== third[pc]![1]);
      assert.equal(r.sw() & (PE | C1), PE | (up ? C1 : 0), `pc=${pc} rc=${rc}`);
      r.x(0xdb, 0xe3); r.cw(0x007f | pc | (rc << 10));
      r.ld(-1); r.ld(3); r.x(0xde, R(7, 1));
      const wantNeg = third[pc]![rc === 1 ? 2 : rc === 2 ? 1 : rc]!;
      assert.equal(r.stx(0), 'b' + wantNeg.slice(1), `-1/3 pc=${pc} rc=${rc}`);
    }
  }
  r.x(0xdb, 0xe3); r.cw(0x027f);
  r.ld(0.1); r.ld(0.2); r.x(0xde, R(0, 1)); // FADDP at double precision
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

test('masked overflow and underflow results per RC at the edges of the 80-bit range', () => {
  const r = new Rig();
  const inf = '7fff:80000000:00000000', max = '7ffe:ffffffff:ffffffff';
  const ovf = [inf, max, inf, max];
  const ovfNeg = ['f' + inf.slice(1), 'f' + inf.slice(1), 'f' + max.slice(1), 'f' + max.slice(1)];
  for (let rc = 0; rc < 4; rc++) {
    r.x(0xdb, 0xe3); r.cw(cwRC(rc));
    r.ldExt(0x7ffe, 0xffffffff, 0xffffffff); r.ld(2); r.x(0xde, R(1, 1));
    assert.equal(r.stx(0), ovf[rc]);
    assert.equal(r.sw() & (OE | PE | C1), OE | PE | (ovf[rc] === inf ? C1 : 0));
    r.ldExt(0xfffe, 0xffffffff, 0xffffffff); r.ld(2); r.x(0xde, R(1, 1));
    assert.equal(r.stx(0), ovfNeg[rc]);
  }
  // PC=24 and PC=53: the largest number of the precision
  r.x(0xdb, 0xe3); r.cw(0x0c7f);
  r.ldExt(0x7ffe, 0xffffffff, 0xffffffff); r.ld(2); r.x(0xde, R(1, 1));
  assert.equal(r.stx(0), '7ffe:ffffff00:00000000');
  r.x(0xdb, 0xe3); r.cw(0x0e7f);
  r.ldExt(0x7ffe, 0xffffffff, 0xffffffff); r.ld(2); r.x(0xde, R(1, 1));
  assert.equal(r.stx(0), '7ffe:ffffffff:fffff800');
  // the smallest denormal halved: a tie between 0 and itself
  const unf = ['0000:00000000:00000000', '0000:00000000:00000000', '0000:00000000:00000001', '0000:00000000:00000000'];
  for (let rc = 0; rc < 4; rc++) {
    r.x(0xdb, 0xe3); r.cw(cwRC(rc));
    r.ldExt(0, 0, 1); r.ld(0.5); r.x(0xde, R(1, 1));
    assert.equal(r.stx(0), unf[rc], `rc=${rc}`);
    assert.equal(r.sw() & (UE | PE | DE), UE | PE | DE);
  }
});
test('unmasked underflow and overflow deliver the result with its exponent adjusted by 24576, UE/OE and ES', () => {
  const r = new Rig();
  r.cw(0x036f); // UM clear
  r.ldExt(0x0001, 0x80000000, 0); r.ld(0.125); r.x(0xde, R(1, 1)); // 2^-16385, exact
  assert.equal(r.stx(0), '5ffe:80000000:00000000');
  assert.equal(r.sw() & (UE | PE | ES), UE | ES);
  r.x(0xdb, 0xe3); r.cw(0x0377); // OM clear
  r.ldExt(0x4000, 0xc0000000, 1); r.ldExt(0x7ffe, 0xffffffff, 0xffffffff); r.x(0xde, R(1, 1));
  assert.equal(r.stx(0), '2000:c0000000:00000000'); // as the hardware gives it
  assert.equal(r.sw() & (OE | PE | ES | C1), OE | PE | ES);
});

test('FSQRT at double precision: correctly rounded per RC, exact cases, -0, negative → IE', () => {
  const r = new Rig();
  const want = [Math.SQRT2, 1.4142135623730949, Math.SQRT2, 1.4142135623730949];
  for (let rc = 0; rc < 4; rc++) {
    r.x(0xdb, 0xe3); r.cw(cwRC(rc) & ~0x100); // PC=53
    r.ld(2); r.x(0xd9, 0xfa);
    assert.equal(r.st(0), want[rc]);
    assert.equal(r.sw() & (PE | C1), PE | (rc === 0 || rc === 2 ? C1 : 0));
  }
  r.x(0xdb, 0xe3); r.cw(0x027f);
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
  r.ld(1100); r.ld(1); r.x(0xd9, 0xfd); // beyond the double range, not the 80-bit one
  assert.equal(r.stx(0), '444b:80000000:00000000');
  r.x(0xdb, 0xe3);
  r.ld(16384); r.ld(1); r.x(0xd9, 0xfd);
  assert.equal(r.stx(0), '7fff:80000000:00000000');
  assert.equal(r.sw() & (OE | PE), OE | PE);
  r.x(0xdb, 0xe3);
  r.ld(-16500); r.ld(1); r.x(0xd9, 0xfd);
  assert.equal(r.stx(0), '0000:00000000:00000000');
  assert.equal(r.sw() & (UE | PE), UE | PE);
  r.x(0xdb, 0xe3);
  r.ld(-16444); r.ld(3); r.x(0xd9, 0xfd); // 3 × 2^-16444 is an exact denormal
  assert.equal(r.stx(0), '0000:00000000:00000006');
  assert.equal(r.sw() & (UE | PE), 0);
  r.x(0xdb, 0xe3); r.cw(0x0377);
  r.ld(1e10); r.ld(1); r.x(0xd9, 0xfd); // huge scale: infinity even with OE unmasked (hardware)
  assert.equal(r.stx(0), '7fff:80000000:00000000');
  assert.equal(r.sw() & (OE | PE | C1 | ES), OE | PE | C1 | ES);
  r.x(0xdb, 0xe3); r.cw(0x0377);
  r.ld(24576); r.ld(1); r.x(0xd9, 0xfd); // within reach of the exponent adjustment
  assert.equal(r.stx(0), '3fff:80000000:00000000');
  assert.equal(r.sw() & (OE | PE | ES), OE | ES);
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
