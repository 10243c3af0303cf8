import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IoBus } from '../../src/machine/IoBus.js';
import { Port92 } from '../../src/devices/Port92.js';
import { PostCode } from '../../src/devices/PostCode.js';
import { DebugCon } from '../../src/devices/DebugCon.js';

test('port 0x92: A20 bit reads back and notifies; bit 0 rising edge resets', () => {
  const bus = new IoBus();
  const p = new Port92();
  p.attach(bus);
  let resets = 0;
  const a20: boolean[] = [];
  p.onReset = () => { resets++; };
  p.onA20Change = (on) => a20.push(on);
  assert.equal(bus.read(0x92, 1), 0x02);
  assert.equal(p.a20, true);
  bus.write(0x92, 1, 0x00);
  assert.equal(p.a20, false);
  assert.equal(bus.read(0x92, 1), 0x00);
  bus.write(0x92, 1, 0x02);
  assert.deepEqual(a20, [false, true]);
  assert.equal(resets, 0);
  bus.write(0x92, 1, 0x03);
  assert.equal(resets, 1);
  bus.write(0x92, 1, 0x03); // still 1: no new edge
  assert.equal(resets, 1);
  bus.write(0x92, 1, 0x02);
  bus.write(0x92, 1, 0x03);
  assert.equal(resets, 2);
  const q = new Port92();
  q.loadState(JSON.parse(JSON.stringify(p.saveState())));
  assert.equal(q.a20, true);
  p.reset();
  assert.equal(bus.read(0x92, 1), 0x02);
});

test('port 0x80: last code kept and writes counted', () => {
  const bus = new IoBus();
  const post = new PostCode();
  post.attach(bus);
  bus.write(0x80, 1, 0x12);
  bus.write(0x80, 1, 0x34);
  assert.equal(post.code, 0x34);
  assert.equal(post.writes, 2);
  assert.equal(bus.read(0x80, 1), 0x34);
  const p2 = new PostCode();
  p2.loadState(JSON.parse(JSON.stringify(post.saveState())));
  assert.equal(p2.code, 0x34);
  assert.equal(p2.writes, 2);
  post.reset();
  assert.equal(post.writes, 0);
});

test('port 0xE9: bytes to onOutput, reads return 0xE9', () => {
  const bus = new IoBus();
  const dc = new DebugCon();
  dc.attach(bus);
  const out: number[] = [];
  dc.onOutput = (b) => out.push(b);
  for (const c of 'ok\n') bus.write(0xe9, 1, c.charCodeAt(0));
  bus.write(0xe9, 2, 0x4241);
  assert.deepEqual(out, [0x6f, 0x6b, 0x0a, 0x41, 0x42]);
  assert.equal(bus.read(0xe9, 1), 0xe9);
});
