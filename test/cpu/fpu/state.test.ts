// Power-on and FNINIT states, JSON snapshots, and the unit's fit to the core's X87Unit contract.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fpu } from '../../../src/cpu/fpu/Fpu.js';
import type { X87Unit } from '../../../src/cpu/x87.js';
import { FakeHost, M, Rig } from './fpuHarness.js';

test('hardReset is the SDM table 9-1 state: CW 0040H, SW 0, TW 5555H with +0.0 everywhere, MXCSR 1F80H', () => {
  const r = new Rig();
  r.ld(5); r.cw(0x0c7f);
  r.fpu.mxcsr = 0; r.fpu.xmm32[3] = 9;
  r.fpu.hardReset();
  r.x(0xd9, M(6), 0x800); // FNSTENV
  assert.equal(r.host.u16(0x800), 0x0040);
  assert.equal(r.host.u16(0x804), 0);
  assert.equal(r.host.u16(0x808), 0x5555);
  assert.equal(r.fpu.mxcsr, 0x1f80);
  assert.equal(r.fpu.xmm32[3], 0);
  for (let i = 0; i < 8; i++) assert.ok(Object.is(r.st(i), 0));
});

test('reset (FNINIT) state: CW 037FH, SW 0, TW FFFFH, pointers clear, register contents kept', () => {
  const r = new Rig();
  r.ld(5);
  r.x(0xdb, 0xe3);
  assert.equal(r.fpu.cw, 0x037f);
  assert.equal(r.fpu.getSW(), 0);
  assert.equal(r.fpu.getTW(), 0xffff);
  assert.deepEqual([r.fpu.fip, r.fpu.fcs, r.fpu.fdp, r.fpu.fds, r.fpu.fop], [0, 0, 0, 0, 0]);
  assert.equal(r.phys(7), 5);
});

test('saveState/loadState through JSON reproduces the unit exactly (NaN payloads, -0, 80-bit values)', () => {
  const r = new Rig();
  r.cw(0x0e3f);
  r.ld(-0);
  r.ldExt(0x7fff, 0xc0000000, 0x777); // NaN with low payload
  r.ldExt(0x3fff, 0xffffffff, 0xffffffff);
  r.ld(1); r.ld(0); r.x(0xde, 0xf9); // 1/0 → +inf with ZE (masked)
  r.fpu.mxcsr = 0x1fa0; r.fpu.xmm32[7] = -5;
  const json = JSON.stringify(r.fpu.saveState());
  const host = new FakeHost();
  const g = new Fpu(host);
  g.loadState(JSON.parse(json));
  assert.equal(JSON.stringify(g.saveState()), json);
  const r2 = new Rig();
  r2.fpu.loadState(JSON.parse(json));
  assert.equal(r2.pop(), Infinity);
  assert.equal(r2.popExt(), '3fff:ffffffff:ffffffff');
  assert.equal(r2.popExt(), '7fff:c0000000:00000777');
  assert.ok(Object.is(r2.pop(), -0));
});

test('Fpu satisfies the core X87Unit contract', () => {
  const u: X87Unit = new Fpu(new FakeHost());
  assert.equal(typeof u.execute, 'function');
});

test('loadState reads format-1 snapshots (float64 registers with 80-bit shadows) exactly', () => {
  // R7 = 1.5 as a double, R6 = an exact 80-bit image (shadow kind 1), R5 = -0 as a double,
  // R4 = a double subnormal (an 80-bit normal), the rest empty
  const st = new Array<number>(16).fill(0);
  st[15] = 0x3ff80000; // R7 high word
  st[12] = 0x12345678; st[13] = 0x0fffffff; // R6's double approximation (ignored: the shadow wins)
  st[11] = 0x80000000; // R5 = -0
  st[8] = 1; // R4 = 2^-1074
  const ext = [0, 0, 0, 0, 0, 0, 1, 0];
  const extImg = new Array<number>(24).fill(0);
  extImg[18] = 0x3fff; extImg[19] = 0xffffffff; extImg[20] = 0xffffffff;
  const old = {
    st, ext, extImg, empty: 0x0f, top: 4, cw: 0x037f, sw: 0x20, fip: 0x1234, fcs: 8, fdp: 0x5678, fds: 0x10, fop: 0x5e9,
    mxcsr: 0x1f80, mxcsrMask: 0xffbf, xmm: new Array<number>(32).fill(0), ferrAsserted: false,
  };
  const r = new Rig();
  r.fpu.loadState(JSON.parse(JSON.stringify(old)));
  assert.deepEqual([r.fpu.fip, r.fpu.fop, r.fpu.getSW()], [0x1234, 0x5e9, 0x2020]);
  assert.equal(r.popExt(), '3bcd:80000000:00000000'); // R4
  assert.equal(r.popExt(), '8000:00000000:00000000'); // R5
  assert.equal(r.popExt(), '3fff:ffffffff:ffffffff'); // R6
  assert.equal(r.popExt(), '3fff:c0000000:00000000'); // R7
  // and it is saved again in the current format
  assert.equal(r.fpu.saveState().format, 3);
});

test('loadState reads format-2 snapshots (XMM0-7 only): XMM8-15 read as zero; format 3 carries all sixteen', () => {
  const r = new Rig();
  r.fpu.xmm32[5] = 0x1234; r.fpu.xmm32[40] = 0x5678; // XMM1, XMM10
  const cur = r.fpu.saveState();
  assert.equal(cur.xmm.length, 64);
  const r2 = new Rig();
  r2.fpu.loadState(JSON.parse(JSON.stringify(cur)));
  assert.deepEqual([r2.fpu.xmm32[5], r2.fpu.xmm32[40]], [0x1234, 0x5678]);
  const v2 = { ...cur, format: 2, xmm: cur.xmm.slice(0, 32) };
  r2.fpu.loadState(JSON.parse(JSON.stringify(v2)));
  assert.deepEqual([r2.fpu.xmm32[5], r2.fpu.xmm32[40]], [0x1234, 0]);
  assert.throws(() => r2.fpu.loadState({ ...cur, xmm: cur.xmm.slice(0, 32) }), /xmm must be 64 numbers/);
});

test('loadState refuses malformed or unknown states with a clear error and changes nothing', () => {
  const r = new Rig();
  r.ld(7);
  const good = r.fpu.saveState();
  const before = JSON.stringify(good);
  const bad: Array<[unknown, RegExp]> = [
    [null, /not an object/],
    [{ ...good, format: 4 }, /unknown format 4/],
    [{ ...good, regs: good.regs.slice(1) }, /regs must be 24 numbers/],
    [{ ...good, regs: good.regs.map((v, i) => (i === 0 ? 0x10000 : v)) }, /regs\[0\].*out of range/],
    [{ ...good, top: 8 }, /top is out of range/],
    [{ ...good, cw: 'x' }, /cw is not an integer/],
    [{ ...good, ferrAsserted: 1 }, /ferrAsserted/],
  ];
  for (const [state, msg] of bad) {
    assert.throws(() => r.fpu.loadState(state), (e: unknown) => e instanceof TypeError && msg.test(e.message));
    assert.equal(JSON.stringify(r.fpu.saveState()), before);
  }
});
