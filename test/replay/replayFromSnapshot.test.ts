// Replay from a snapshot taken during a recording (Machine.saveSnapshot while recording,
// Machine.restore with replay): the restored machine takes the log's records after the
// snapshot's place in it, prints what the recording printed after that point, checks
// every later checkpoint and ends in the recording's final state. A snapshot from
// another recording, or from a run that was not recorded, is refused before anything
// runs. Runs are bounded by virtual time, never by the wall clock.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine, type ExitReason, type MachineConfig } from '../../src/machine/Machine.js';
import { readLog, REC_CHECKPOINT, REC_INPUT } from '../../src/replay/ReplayLog.js';
import { SnapshotError } from '../../src/snapshot/SnapshotError.js';
import { digestDiff, type Digest } from '../cpu/lockstep.js';
import { machineDigest } from '../machine/machineLockstep.js';
import { PROMPT } from '../machine/serialSession.js';
import { INITRD, KERNEL, haveGuest } from '../devices/virtio/guestBoot.js';

const HANG_GUARD_MS = 600_000;
const VIRTUAL_BOUND_NS = 3600e9;
const SCRIPT = ['echo one-$((1+1))', 'echo two-$((2+2)); i=0; while [ $i -lt 300 ]; do i=$((i+1)); done; echo loop=$i', 'poweroff'];

const base = (): MachineConfig => ({
  memoryMiB: 32,
  kernel: new Uint8Array(readFileSync(KERNEL)),
  initrd: new Uint8Array(readFileSync(INITRD)),
  cmdline: 'console=ttyS0 panic=-1',
  pacing: 'fast',
  checkpointInterval: 5_000_000,
});

interface Run { text: string; exit: ExitReason; digest: Digest; machine: Machine }

async function runMachine(m: Machine, onText?: (text: string) => void): Promise<Run> {
  let text = '';
  m.onSerialOutput = (b) => { text += Buffer.from(b).toString('latin1'); onText?.(text); };
  const bound = m.clock.addTimer('test bound', () => m.stop('virtual time bound'));
  bound.deadline = VIRTUAL_BOUND_NS;
  const exit = await m.run();
  // Exception and interrupt counts are the machine's own since it was made (a restored one starts at 0), not the guest's state.
  const digest = machineDigest(m, true).filter(([name]) => name !== 'exceptions' && name !== 'interrupts');
  return { text, exit, digest, machine: m };
}

/** A recording with a snapshot taken (host-timed) when the second prompt appears, before the second command is typed. */
async function recordWithSnapshot(dir: string, name: string, script = SCRIPT): Promise<Run & { log: Uint8Array; snap: [string, string]; snapCount: number }> {
  const chunks: Uint8Array[] = [];
  const m = new Machine({ ...base(), record: { write: (c) => chunks.push(c) } });
  m.externalInputOpen = true;
  const snap: [string, string] = [join(dir, `${name}.state`), join(dir, `${name}.mem`)];
  let typed = 0, from = 0, snapCount = -1;
  const r = await runMachine(m, (text) => {
    const hit = text.slice(from).match(PROMPT);
    if (hit && typed < script.length) {
      from += (hit.index ?? 0) + hit[0].length;
      const line = script[typed++]!;
      if (typed === 2) {
        void (async () => {
          await m.pause();
          snapCount = m.cpu.instructions;
          await m.saveSnapshot(...snap);
          m.resume();
          m.serialInput(Buffer.from(line + '\n'));
        })();
      } else {
        setImmediate(() => m.serialInput(Buffer.from(line + '\n')));
      }
    }
  });
  return { ...r, log: Buffer.concat(chunks), snap, snapCount };
}

const guest = { timeout: HANG_GUARD_MS, skip: haveGuest ? false : 'guest/bzImage not built' };

test('a replay from a snapshot taken during the recording: the output after it, every later checkpoint matched, the same final state; snapshots of another recording or of no recording refused', guest, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tv-rr-snap-'));
  try {
    const a = await recordWithSnapshot(dir, 'a');
    assert.deepEqual(a.exit, { kind: 'poweroff' }, a.text.slice(-1500));
    assert.match(a.text, /loop=300/);
    const { records } = readLog(a.log);
    const after = records.filter((r) => r.kind === REC_CHECKPOINT && r.at.count >= a.snapCount).length;
    assert.ok(after >= 1, `${after} checkpoints after the snapshot`);
    assert.ok(records.some((r) => r.kind === REC_INPUT && r.at.count < a.snapCount), 'input before the snapshot');

    for (const cpu of ['jit', 'interp'] as const) {
      const m = await Machine.restore(...a.snap, { replay: a.log, cpu });
      assert.equal(m.cpu.instructions, a.snapCount);
      const b = await runMachine(m);
      assert.deepEqual(b.exit, { kind: 'poweroff' }, `${cpu}: ${b.text.slice(-1500)}`);
      assert.match(b.text, /two-4/);
      assert.match(b.text, /loop=300/);
      assert.doesNotMatch(b.text, /one-2/, 'the first command ran before the snapshot');
      assert.ok(a.text.endsWith(b.text), `${cpu}: the replay's output is the end of the recording's`);
      const diff = digestDiff(a.digest, b.digest, ['recording', 'replay from the snapshot']);
      assert.equal(diff, '', `${cpu}: final state differs\n${diff}`);
      assert.equal(m.replayer!.checked, after, `${cpu}: every checkpoint after the snapshot compared`);
    }

    // Another recording and its log: the first snapshot does not belong to it. Its first
    // command differs, so its log differs before the snapshot's place whatever the host's
    // timing (with the same first command, the two inputs can land at the same count, and
    // the logs then share that prefix: the snapshot would rightly fit both).
    const other = await recordWithSnapshot(dir, 'other', ['echo uno-$((1+1))', 'echo three', 'poweroff']);
    assert.deepEqual(other.exit, { kind: 'poweroff' });
    await assert.rejects(Machine.restore(...a.snap, { replay: other.log }), (e: unknown) => e instanceof SnapshotError && /taken during another recording/.test(e.message) && !e.message.includes('\n'));
    // A log changed after the snapshot's place replays from it and diverges there, not at the restore.
    const changed = Buffer.from(a.log);
    const at = changed.indexOf('echo two-$((2+2))');
    assert.ok(at > 0);
    changed[at + 5] = 'T'.charCodeAt(0);
    const c = await runMachine(await Machine.restore(...a.snap, { replay: changed }));
    assert.equal(c.exit.kind, 'diverged', JSON.stringify(c.exit));
    // A snapshot of a run that was not recorded.
    const plain = new Machine({ ...base() });
    const plainSnap: [string, string] = [join(dir, 'plain.state'), join(dir, 'plain.mem')];
    await plain.saveSnapshot(...plainSnap);
    await assert.rejects(Machine.restore(...plainSnap, { replay: a.log }), /not taken during a recording/);
    t.diagnostic(`snapshot at instruction ${a.snapCount} of ${a.machine.cpu.instructions}; ${after} checkpoints after it`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
