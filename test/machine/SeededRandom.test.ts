// SeededRandom: xoshiro128** seeded by splitmix32, checked against the published C
// algorithms (first outputs computed with them), its byte order, and its state round trip.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom } from '../../src/machine/SeededRandom.js';

test('xoshiro128** seeded by splitmix32 gives the reference outputs', () => {
  const expect: [number, number[]][] = [
    [0, [0xe308dc58, 0x4392d0e4, 0x03318f97, 0xac593a63, 0x08535f0a]],
    [12345, [0x1eea3cc1, 0x1a40a62e, 0xfc4cd240, 0xdffc5b56, 0xeac8a83d]],
  ];
  for (const [seed, words] of expect) {
    const r = new SeededRandom(seed);
    assert.deepEqual(words.map(() => r.nextU32()), words, `seed ${seed}`);
  }
});

test('fill gives the words little-endian, a short tail from one more word', () => {
  const b = new Uint8Array(6);
  new SeededRandom(0).fill(b);
  assert.deepEqual([...b], [0x58, 0xdc, 0x08, 0xe3, 0xe4, 0xd0]);
});

test('the state round-trips; bad seeds and states are refused', () => {
  const a = new SeededRandom(7);
  a.nextU32();
  const b = new SeededRandom(99);
  b.loadState(a.saveState());
  assert.equal(b.nextU32(), a.nextU32());
  assert.throws(() => new SeededRandom(-1), /seed must be a whole number/);
  assert.throws(() => new SeededRandom(2 ** 32), /seed must be a whole number/);
  assert.throws(() => b.loadState([1, 2, 3]), /four 32-bit words/);
});
