// FLD1/FLDZ/FLDPI/FLDL2E/FLDL2T/FLDLG2/FLDLN2: the doubles arithmetic sees, and the exact 80-bit
// constants (rounded per RC, SDM FLD1... "IA-32 Architecture Compatibility") that FSTP m80 stores.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { C1, IE, PE, Rig, SF, cwRC } from './fpuHarness.js';

const consts: Array<[number, string, number, [string, string, string, string]]> = [
  [0xe8, 'FLD1', 1, ['3fff:80000000:00000000', '3fff:80000000:00000000', '3fff:80000000:00000000', '3fff:80000000:00000000']],
  [0xee, 'FLDZ', 0, ['0000:00000000:00000000', '0000:00000000:00000000', '0000:00000000:00000000', '0000:00000000:00000000']],
  [0xeb, 'FLDPI', Math.PI, ['4000:c90fdaa2:2168c235', '4000:c90fdaa2:2168c234', '4000:c90fdaa2:2168c235', '4000:c90fdaa2:2168c234']],
  [0xea, 'FLDL2E', Math.LOG2E, ['3fff:b8aa3b29:5c17f0bc', '3fff:b8aa3b29:5c17f0bb', '3fff:b8aa3b29:5c17f0bc', '3fff:b8aa3b29:5c17f0bb']],
  [0xe9, 'FLDL2T', parseFloat('3.32192809488736234787031942948939017586'), ['4000:d49a784b:cd1b8afe', '4000:d49a784b:cd1b8afe', '4000:d49a784b:cd1b8aff', '4000:d49a784b:cd1b8afe']],
  [0xec, 'FLDLG2', parseFloat('0.30102999566398119521373889472449302677'), ['3ffd:9a209a84:fbcff799', '3ffd:9a209a84:fbcff798', '3ffd:9a209a84:fbcff799', '3ffd:9a209a84:fbcff798']],
  [0xed, 'FLDLN2', Math.LN2, ['3ffe:b17217f7:d1cf79ac', '3ffe:b17217f7:d1cf79ab', '3ffe:b17217f7:d1cf79ac', '3ffe:b17217f7:d1cf79ab']],
];

test('constants load as the nearest doubles, without PE', () => {
  const r = new Rig();
  for (const [modrm, name, value] of consts) {
    r.clex();
    r.x(0xd9, modrm);
    assert.ok(Object.is(r.st(0), value), `${name}: ${r.st(0)} vs ${value}`);
    assert.equal(r.sw() & (PE | C1 | IE), 0, name);
    // storing to binary64 rounds the 64-bit constant: PE unless it was already a double
    assert.ok(Object.is(r.pop(), value), name);
    assert.equal(r.sw() & PE, value === 0 || value === 1 ? 0 : PE, name);
  }
});

test('the 80-bit constants stored by FSTP m80 follow the rounding control', () => {
  const r = new Rig();
  for (let rc = 0; rc < 4; rc++) {
    r.cw(cwRC(rc));
    for (const [modrm, name, , images] of consts) {
      r.x(0xd9, modrm);
      assert.equal(r.popExt(), images[rc], `${name} rc=${rc}`);
    }
  }
});

test('a constant load onto a full stack is a stack overflow with C1=1', () => {
  const r = new Rig();
  for (let i = 0; i < 8; i++) r.x(0xd9, 0xe8);
  r.x(0xd9, 0xeb);
  assert.equal(r.sw() & (IE | SF | C1), IE | SF | C1);
});
