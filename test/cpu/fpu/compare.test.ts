// Comparisons and classification: FCOM/FUCOM/FICOM/FTST condition codes, FCOMI EFLAGS, FXAM, FCMOVcc.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { C0, C1, C2, C3, DE, IE, M, R, Rig, SCR } from './fpuHarness.js';

const CMP = C0 | C2 | C3;
const QNAN = NaN;

function snanAt(r: Rig, a: number): void {
  r.host.setU32(a, 1); r.host.setU32(a + 4, 0x7ff00000);
}

test('FCOM ST(i): >, <, =, -0 = +0, unordered with IE; C1 cleared', () => {
  const r = new Rig();
  const cases: Array<[number, number, number]> = [
    [5, 3, 0], [3, 5, C0], [4, 4, C3], [-0, 0, C3], [-Infinity, 1, C0], [Infinity, 1e308, 0], [QNAN, 1, C3 | C2 | C0],
  ];
  for (const [a, b, cc] of cases) {
    r.x(0xdb, 0xe3);
    r.ld(b); r.ld(a);
    r.x(0xd8, R(2, 1)); // FCOM ST(1)
    const sw = r.sw();
    assert.equal(sw & (CMP | C1), cc, `${a} vs ${b}`);
    assert.equal(sw & IE, Number.isNaN(a) ? IE : 0);
    assert.equal(r.fpu.top, 6);
  }
});

test('FUCOM: QNaN → unordered without IE; SNaN → IE; FUCOMP/FUCOMPP/FCOMP/FCOMPP pop', () => {
  const r = new Rig();
  r.ld(1); r.ld(QNAN);
  r.x(0xdd, R(4, 1)); // FUCOM ST(1)
  assert.equal(r.sw() & (CMP | IE), CMP);
  snanAt(r, SCR + 8); // (FLD m64 would quiet it: compare against memory)
  r.x(0xdb, 0xe3);
  r.ld(1);
  r.x(0xdc, M(2), SCR + 8); // FCOM m64 SNaN
  assert.equal(r.sw() & (CMP | IE), CMP | IE);
  r.x(0xdb, 0xe3);
  r.ld(1); r.ld(2); r.ld(3);
  r.x(0xdd, R(5, 1)); // FUCOMP
  assert.equal(r.fpu.top, 6);
  r.x(0xda, 0xe9); // FUCOMPP: 2 vs 1
  assert.equal(r.fpu.top, 0);
  assert.equal(r.sw() & CMP, 0);
  r.ld(9); r.ld(1); r.ld(2);
  r.x(0xd8, R(3, 1)); // FCOMP: 2 vs 1
  r.x(0xde, 0xd9); // FCOMPP: 1 vs 9
  assert.equal(r.sw() & CMP, C0);
  assert.equal(r.fpu.top, 0);
  assert.equal(r.fpu.empty, 0xff);
});

test('unmasked IE in FCOM: condition codes unchanged and no pop', () => {
  const r = new Rig();
  r.cw(0x037e);
  r.ld(1); r.ld(1);
  r.x(0xd8, R(2, 1)); // equal → C3
  r.ld(QNAN);
  r.x(0xd8, R(3, 1)); // FCOMP with QNaN, #IA unmasked
  const sw = r.sw();
  assert.equal(sw & CMP, C3);
  assert.equal(sw & IE, IE);
  assert.equal(r.fpu.top, 5);
});

test('FCOM/FICOM with memory operands and FTST', () => {
  const r = new Rig();
  r.ld(2.5);
  r.host.setF32(SCR + 8, 2.5); r.x(0xd8, M(2), SCR + 8); // FCOM m32
  assert.equal(r.sw() & CMP, C3);
  r.host.setF64(SCR + 8, 3); r.x(0xdc, M(2), SCR + 8); // FCOM m64
  assert.equal(r.sw() & CMP, C0);
  r.host.setU16(SCR + 8, -4 & 0xffff); r.x(0xde, M(2), SCR + 8); // FICOM m16
  assert.equal(r.sw() & CMP, 0);
  r.host.setU32(SCR + 8, 2); r.x(0xda, M(3), SCR + 8); // FICOMP m32
  assert.equal(r.sw() & CMP, 0);
  assert.equal(r.fpu.top, 0);
  for (const [v, cc] of [[-3, C0], [0, C3], [-0, C3], [7, 0], [QNAN, CMP]] as const) {
    r.clex(); r.ld(v); r.x(0xd9, 0xe4); // FTST
    const sw = r.sw();
    assert.equal(sw & CMP, cc, `FTST ${v}`);
    assert.equal(sw & IE, Number.isNaN(v) ? IE : 0);
    r.pop();
  }
  // a denormal memory operand raises DE
  r.clex(); r.ld(1);
  r.host.setU32(SCR + 8, 1); r.host.setU32(SCR + 12, 0);
  r.x(0xdc, M(2), SCR + 8);
  assert.equal(r.sw() & (CMP | DE), DE);
});

test('comparisons of exact 80-bit values are exact: 2^60+1 > 2^60 although their doubles are equal', () => {
  const r = new Rig();
  r.host.setU32(SCR, 0); r.host.setU32(SCR + 4, 0x10000000);
  r.x(0xdf, M(5), SCR); // FILD m64 2^60
  r.host.setU32(SCR, 1);
  r.x(0xdf, M(5), SCR); // FILD m64 2^60 + 1
  assert.equal(r.st(0), r.st(1));
  r.x(0xd8, R(2, 1));
  assert.equal(r.sw() & CMP, 0); // ST(0) > ST(1)
  r.x(0xdb, R(6, 1)); // FCOMI
  assert.equal(r.host.eflags & 0x45, 0);
});

test('FCOMI/FUCOMI set ZF PF CF and clear OF SF AF; FCOMIP pops; unmasked IE keeps ZF PF CF', () => {
  const r = new Rig();
  const ZF = 0x40, PF = 0x04, CF = 0x01, OSA = 0x800 | 0x80 | 0x10;
  const cases: Array<[number, number, number]> = [[5, 3, 0], [3, 5, CF], [4, 4, ZF], [QNAN, 4, ZF | PF | CF]];
  for (const [a, b, fl] of cases) {
    for (const quiet of [false, true]) {
      r.x(0xdb, 0xe3);
      r.host.eflags = 0x2 | OSA | ZF | PF | CF;
      r.ld(b); r.ld(a);
      r.x(quiet ? 0xdb : 0xdb, quiet ? R(5, 1) : R(6, 1)); // FUCOMI / FCOMI
      assert.equal(r.host.eflags, 0x2 | fl, `${a} ${b} quiet=${quiet}`);
      const sw = r.sw();
      assert.equal(sw & IE, Number.isNaN(a) && !quiet ? IE : 0);
      assert.equal(sw & C1, 0);
    }
  }
  r.x(0xdb, 0xe3);
  r.ld(1); r.ld(2);
  r.x(0xdf, R(6, 1)); // FCOMIP
  assert.equal(r.fpu.top, 7);
  r.x(0xdf, R(5, 1)); // FUCOMIP with empty ST(1): stack underflow → unordered
  assert.equal(r.host.eflags & 0x45, 0x45);
  // unmasked #IA: ZF/PF/CF untouched, OF/SF/AF cleared
  r.x(0xdb, 0xe3); r.cw(0x037e);
  r.host.eflags = 0x2 | OSA | CF;
  r.ld(1); r.ld(QNAN);
  r.x(0xdb, R(6, 1));
  assert.equal(r.host.eflags, 0x2 | CF);
});

test('FXAM classes and the sign in C1', () => {
  const r = new Rig();
  const xam = (): number => { r.x(0xd9, 0xe5); return r.sw() & (CMP | C1); };
  assert.equal(xam(), C3 | C0); // empty (register content +0 after FNINIT of a fresh unit)
  r.ld(-0); assert.equal(xam(), C3 | C1); r.pop();
  r.ld(2.5); assert.equal(xam(), C2); r.pop();
  r.ld(-(2 ** -1074)); assert.equal(xam(), C2 | C1); r.pop(); // a double denormal is a normal 80-bit number
  r.ldExt(0x0000, 0x00000001, 0); assert.equal(xam(), C3 | C2); r.popExt(); // 80-bit denormal
  r.ld(-Infinity); assert.equal(xam(), C2 | C0 | C1); r.pop();
  r.ld(QNAN); assert.equal(xam(), C0); r.pop();
  r.ldExt(0x3fff, 0x40000000, 0); assert.equal(xam(), 0); r.popExt(); // unnormal: unsupported
  r.ldExt(0x7fff, 0x00000000, 0); assert.equal(xam(), 0); r.popExt(); // pseudo-infinity
  // empty register with a negative stale value: C1 still shows its sign
  r.ld(-5); r.pop();
  r.x(0xd9, 0xf6); // FDECSTP: TOP points at the freed register
  assert.equal(xam(), C3 | C0 | C1);
});

test('FCMOVcc moves ST(i) to ST(0) exactly when the EFLAGS condition holds', () => {
  const r = new Rig();
  const CF = 0x01, PF = 0x04, ZF = 0x40;
  const conds: Array<[number, number, (f: number) => boolean]> = [
    [0xda, 0, (f) => (f & CF) !== 0], [0xda, 1, (f) => (f & ZF) !== 0], [0xda, 2, (f) => (f & (CF | ZF)) !== 0], [0xda, 3, (f) => (f & PF) !== 0],
    [0xdb, 0, (f) => (f & CF) === 0], [0xdb, 1, (f) => (f & ZF) === 0], [0xdb, 2, (f) => (f & (CF | ZF)) === 0], [0xdb, 3, (f) => (f & PF) === 0],
  ];
  for (const [op, reg, cond] of conds) {
    for (const fl of [0, CF, ZF, PF, CF | ZF, CF | ZF | PF]) {
      r.x(0xdb, 0xe3);
      r.host.eflags = 0x2 | fl;
      r.ld(7); r.ld(1);
      r.x(op, R(reg, 1));
      assert.equal(r.st(0), cond(fl) ? 7 : 1, `${op.toString(16)} /${reg} flags=${fl}`);
    }
  }
});
