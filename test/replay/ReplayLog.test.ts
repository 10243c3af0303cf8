// The record/replay log format on its own: what the writer encodes the reader gives back
// (every record kind, a count above 2^32, input longer than one record holds); every cut
// of a log is refused as truncated or ending early; any damage is a ReplayLogError, never
// another exception.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogWriter, readLog, ReplayLogError, imageId, headerMismatch, HEADER_SIZE, REC_INPUT, REC_INPUT_OPEN, REC_CHECKPOINT, REC_END, REC_DRIVE, type LogHeader } from '../../src/replay/ReplayLog.js';

const HEADER: LogHeader = {
  memoryMiB: 128, seed: 0xdeadbeef, nsPerInstruction: 10, rtcBaseMs: Date.UTC(2024, 0, 1), reboot: true,
  kernel: imageId(new Uint8Array([1, 2, 3])), initrd: imageId(null), cmdline: imageId('console=ttyS0'),
};

function sample(long = true): Uint8Array {
  const chunks: Uint8Array[] = [];
  const w = new LogWriter({ write: (c) => chunks.push(c) }, HEADER);
  w.drive({ count: 0, ns: 0 }, 0, 2 ** 33 + 512, imageId('disk'));
  w.inputOpen({ count: 0, ns: 0 }, true);
  w.checkpoint({ count: 50_000_000, ns: 500_000_000.5 }, 0x12345678, 0x9abcdef0);
  w.input({ count: 60_000_000, ns: 7e11 }, 0, new TextEncoder().encode('uname -a\n'));
  if (long) w.input({ count: 2 ** 33 + 5, ns: 9e12 }, 0, new Uint8Array(70_000).fill(0x61)); // two records
  w.inputOpen({ count: 2 ** 33 + 5, ns: 9e12 }, false);
  w.end({ count: 2 ** 33 + 7, ns: 9.1e12 }, 1, 2, 'stopped', 'timeout after 3 s');
  return Buffer.concat(chunks);
}

test('a log reads back as written: header, every record kind, 64-bit counts, long input split', () => {
  const { header, records } = readLog(sample());
  assert.deepEqual(header, HEADER);
  assert.deepEqual(records.shift(), { kind: REC_DRIVE, at: { count: 0, ns: 0 }, index: 0, size: 2 ** 33 + 512, id: imageId('disk') });
  assert.deepEqual(records.map((r) => r.kind), [REC_INPUT_OPEN, REC_CHECKPOINT, REC_INPUT, REC_INPUT, REC_INPUT, REC_INPUT_OPEN, REC_END]);
  assert.deepEqual(records[1], { kind: REC_CHECKPOINT, at: { count: 50_000_000, ns: 500_000_000.5 }, cpu: 0x12345678, ram: 0x9abcdef0 });
  const r2 = records[2] as { bytes: Uint8Array };
  assert.equal(Buffer.from(r2.bytes).toString(), 'uname -a\n');
  const long = records.slice(3, 5) as { at: { count: number }; bytes: Uint8Array }[];
  assert.equal(long[0]!.at.count, 2 ** 33 + 5);
  assert.deepEqual(long.map((r) => r.bytes.length), [65535, 70_000 - 65535]);
  assert.deepEqual(records[6], { kind: REC_END, at: { count: 2 ** 33 + 7, ns: 9.1e12 }, cpu: 1, ram: 2, exit: 'stopped', detail: 'timeout after 3 s' });
  assert.equal(headerMismatch(HEADER, { ...HEADER }), '');
  assert.equal(headerMismatch(HEADER, { ...HEADER, seed: 1, initrd: imageId('x') }), `seed: log ${0xdeadbeef}, run 1; initrd (SHA-256 prefix): log ${HEADER.initrd}, run ${imageId('x')}`);
});

test('a drive record after the run started is refused', () => {
  const chunks: Uint8Array[] = [];
  const w = new LogWriter({ write: (c) => chunks.push(c) }, HEADER);
  w.inputOpen({ count: 0, ns: 0 }, true);
  w.drive({ count: 0, ns: 0 }, 0, 512, imageId('disk'));
  w.end({ count: 1, ns: 10 }, 1, 2, 'poweroff', '');
  assert.throws(() => readLog(Buffer.concat(chunks)), /a drive record after the run started, at byte 74/);
});

test('every cut of a log is refused: truncated, or ending before its END record', () => {
  const log = sample();
  for (let n = 0; n < log.length; n++) {
    assert.throws(() => readLog(log.subarray(0, n)), (e: unknown) => e instanceof ReplayLogError && /truncated|ends early|shorter than its header|header is damaged/.test(e.message), `cut at ${n}`);
  }
  assert.throws(() => readLog(log.subarray(0, HEADER_SIZE)), /ends early/);
});

test('any damage is a ReplayLogError or a log that still reads, never another exception', () => {
  const log = sample(false); // mostly fields, few payload bytes
  let seed = 1;
  const rand = (n: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n; };
  let refused = 0;
  for (let i = 0; i < 3000; i++) {
    const bad = Buffer.from(log);
    for (let k = 1 + rand(3); k > 0; k--) bad[rand(bad.length)] = rand(256);
    try {
      readLog(bad);
    } catch (e) {
      assert.ok(e instanceof ReplayLogError, `mutation ${i}: ${(e as Error).stack}`);
      refused++;
    }
  }
  assert.ok(refused > 100, `${refused} damaged logs refused`);
});
