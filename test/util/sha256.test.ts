// The portable SHA-256 (used where Node's digest is missing: the browser page) against
// Node's, on every length around the padding boundaries and on a few MiB.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { sha256, sha256Portable, toHex } from '../../src/util/sha256.js';

test('the portable SHA-256 matches Node\'s', () => {
  const data = new Uint8Array(3 << 20);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  for (const n of [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4096, data.length]) {
    const part = data.subarray(0, n);
    const want = createHash('sha256').update(part).digest('hex');
    assert.equal(toHex(sha256Portable(part)), want, `length ${n}`);
    assert.equal(toHex(sha256(part)), want);
  }
  assert.equal(toHex(sha256Portable(new TextEncoder().encode('abc'))), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});
