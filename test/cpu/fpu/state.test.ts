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
  assert.equal(r.fpu.st[7], 5);
});

test('saveState/loadState through JSON reproduces the unit exactly (NaN payloads, -0, 80-bit shadows)', () => {
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
