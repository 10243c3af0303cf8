// The Rewinder (reverse execution's machinery) on the default guest's replay: going back
// to an earlier instruction count, from images taken along the way, gives the state a
// plain replay has at that count (registers, clock, RAM), across timer interrupts and
// serial input; going forward again from there reaches the same later state too.
// Runs are bounded by the recording's own end, never by the wall clock.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Machine, type MachineConfig } from '../../src/machine/Machine.js';
import { Rewinder } from '../../src/debug/Rewinder.js';
import { cpuHash, pagedRamHash } from '../../src/replay/stateHash.js';
import { INITRD, KERNEL, haveGuest } from '../devices/virtio/guestBoot.js';

const HANG_GUARD_MS = 600_000;

const base = (): MachineConfig => ({
  memoryMiB: 32,
  kernel: new Uint8Array(readFileSync(KERNEL)),
  initrd: new Uint8Array(readFileSync(INITRD)),
  cmdline: 'console=ttyS0 panic=-1',
  pacing: 'fast',
});

interface State { count: number; cpu: number; ns: number; ram: number }
const state = (m: Machine): State => ({ count: m.cpu.instructions, cpu: cpuHash(m.cpu), ns: m.clock.now(), ram: pagedRamHash(m.mem) });

/** Run the paused or not yet started replay `m` on to `count` and pause it there. */
function runTo(m: Machine, count: number): Promise<void> {
  return new Promise((resolve) => {
    m.replayer!.onStopAt = () => { m.replayer!.onStopAt = null; resolve(); };
    m.replayer!.stopAt = count;
    m.resume();
  });
}

test('going back through the Rewinder gives the state a plain replay has at that count, and going forward again the later one', { timeout: HANG_GUARD_MS, skip: haveGuest ? false : 'guest/bzImage not built' }, async () => {
  const chunks: Uint8Array[] = [];
  const rec = new Machine({ ...base(), record: { write: (c) => chunks.push(c) } });
  rec.serialInput(Buffer.from('echo back-$((2*3)); poweroff\n'));
  assert.equal((await rec.run()).kind, 'poweroff');
  const log = Buffer.concat(chunks);
  const total = rec.cpu.instructions;
  const early = Math.floor(total * 0.3) + 1, late = Math.floor(total * 0.8) + 3;

  // A plain replay, stopped at both counts.
  const plain = new Machine({ ...base(), replay: log });
  await plain.pause();
  const plainRun = plain.run();
  await runTo(plain, early);
  const atEarly = state(plain);
  await runTo(plain, late);
  const atLate = state(plain);
  plain.stop('test');
  await plainRun;

  // A replay with images every 5 M instructions: forward to late, back to early, forward again.
  const m = new Machine({ ...base(), replay: log });
  const rw = new Rewinder(m, 5_000_000);
  await m.pause();
  const run = m.run();
  await runTo(m, late);
  assert.deepEqual(state(m), atLate);
  await rw.runTo(early);
  assert.deepEqual(state(m), atEarly, 'back to the early count');
  await rw.runTo(early - 1000);
  assert.equal(m.cpu.instructions, early - 1000);
  await runTo(m, late);
  assert.deepEqual(state(m), atLate, 'forward again to the late count');
  m.resume();
  assert.equal((await run).kind, 'poweroff', 'the replay still ends as the recording did');
  assert.ok(m.replayer!.checked > 0);
});
