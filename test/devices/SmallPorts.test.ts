import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IoBus } from '../../src/machine/IoBus.js';
import { Port92 } from '../../src/devices/Port92.js';
import { POST_HISTORY, PostCode } from '../../src/devices/PostCode.js';
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

test('port 0x80: the distinct codes in order, repeats in a row collapsed, the last POST_HISTORY kept and the rest counted as dropped', () => {
  const bus = new IoBus();
  const post = new PostCode();
  post.attach(bus);
  assert.deepEqual(post.history(), { codes: [], dropped: 0 });
  for (const c of [0x00, 0x00, 0x11, 0x11, 0x11, 0x22, 0x11, 0x1ff]) bus.write(0x80, 1, c);
  assert.deepEqual(post.history(), { codes: [0x00, 0x11, 0x22, 0x11, 0xff], dropped: 0 }, 'a first code of 0 counts; a repeat does not');
  assert.equal(post.writes, 8);
  for (let i = 0; i < POST_HISTORY + 10; i++) bus.write(0x80, 1, i & 1 ? 0xaa : 0x55);
  const h = post.history();
  assert.equal(h.codes.length, POST_HISTORY);
  assert.equal(h.dropped, 5 + 10);
  assert.equal(h.codes[0], 0x55, 'oldest first');
  assert.equal(h.codes[POST_HISTORY - 1], 0xaa);
  // Snapshots keep the history; one written before it existed restores its last code.
  const p2 = new PostCode();
  p2.loadState(JSON.parse(JSON.stringify(post.saveState())));
  assert.deepEqual(p2.history(), h);
  const bus2 = new IoBus();
  p2.attach(bus2);
  bus2.write(0x80, 1, 0xaa); // the same as the last code before the snapshot: still one entry
  assert.deepEqual(p2.history(), h);
  bus2.write(0x80, 1, 0x01);
  assert.deepEqual(p2.history(), { codes: [...h.codes.slice(1), 0x01], dropped: h.dropped + 1 });
  const p3 = new PostCode();
  p3.loadState({ last: 0x42, count: 3 });
  assert.deepEqual(p3.history(), { codes: [0x42], dropped: 0 });
  assert.throws(() => p3.loadState({ last: 0, count: 1, codes: new Array(POST_HISTORY + 1).fill(0), dropped: 0 }), /history/);
  assert.throws(() => p3.loadState({ last: 0, count: 1, codes: [1], dropped: -1 }), /history/);
  post.reset();
  assert.deepEqual(post.history(), { codes: [], dropped: 0 });
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
