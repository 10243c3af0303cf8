// Record and replay (MachineConfig.record / replay) of the default guest: commands typed
// at host-timed moments (setImmediate after the prompt appears, so the test does not
// choose the instruction counts) are recorded with the position where the run loop gave
// them to COM1; the replay, fed from the log alone, prints the same and ends in the same
// state. A log with one input byte changed diverges at the first checkpoint after that
// input; damaged and mismatched logs are refused before anything runs.
//
// Runs are bounded by virtual time (an idle guest races through it under fast pacing
// while the host types, so the bound is generous), never by the wall clock.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Machine, type ExitReason, type MachineConfig } from '../../src/machine/Machine.js';
import { readLog, REC_CHECKPOINT, REC_INPUT, ReplayLogError } from '../../src/replay/ReplayLog.js';
import { digestDiff, type Digest } from '../cpu/lockstep.js';
import { machineDigest } from '../machine/machineLockstep.js';
import { PROMPT } from '../machine/serialSession.js';
import { INITRD, KERNEL, haveGuest } from '../devices/virtio/guestBoot.js';

const HANG_GUARD_MS = 600_000;
const VIRTUAL_BOUND_NS = 3600e9;
const CMDLINE = 'console=ttyS0 panic=-1';
const SCRIPT = ['echo rr-$((6*7)); uname -m', 'i=0; while [ $i -lt 300 ]; do i=$((i+1)); done; echo loop=$i', 'poweroff'];

const base = (): MachineConfig => ({
  memoryMiB: 32,
  kernel: new Uint8Array(readFileSync(KERNEL)),
  initrd: new Uint8Array(readFileSync(INITRD)),
  cmdline: CMDLINE,
  pacing: 'fast',
  checkpointInterval: 10_000_000,
});

interface Run { text: string; exit: ExitReason; digest: Digest; machine: Machine }

/** Run `m` to its end, collecting COM1's output; stop it if it runs VIRTUAL_BOUND_NS of virtual time. `onText` sees the output so far. */
async function runMachine(m: Machine, onText?: (text: string) => void): Promise<Run> {
  let text = '';
  m.onSerialOutput = (b) => { text += Buffer.from(b).toString('latin1'); onText?.(text); };
  const bound = m.clock.addTimer('test bound', () => m.stop(`ran ${VIRTUAL_BOUND_NS / 1e9} s of virtual time`));
  bound.deadline = VIRTUAL_BOUND_NS;
  const exit = await m.run();
  return { text, exit, digest: machineDigest(m, true), machine: m };
}

/** A recorded run: each command typed on the host's next turn after a prompt appears. */
async function record(): Promise<Run & { log: Uint8Array }> {
  const chunks: Uint8Array[] = [];
  const m = new Machine({ ...base(), record: { write: (c) => chunks.push(c) } });
  m.externalInputOpen = true;
  let typed = 0, from = 0;
  const r = await runMachine(m, (text) => {
    const hit = text.slice(from).match(PROMPT);
    if (hit && typed < SCRIPT.length) {
      from += (hit.index ?? 0) + hit[0].length;
      const line = SCRIPT[typed++]!;
      setImmediate(() => m.serialInput(Buffer.from(line + '\n')));
    }
  });
  return { ...r, log: Buffer.concat(chunks) };
}

function replay(log: Uint8Array, config: Partial<MachineConfig> = {}): Promise<Run> {
  return runMachine(new Machine({ ...base(), ...config, replay: log }));
}

const guest = { timeout: HANG_GUARD_MS, skip: haveGuest ? false : 'guest/bzImage not built' };

let recorded: (Run & { log: Uint8Array }) | null = null;
async function recording(): Promise<Run & { log: Uint8Array }> {
  recorded ??= await record();
  return recorded;
}

test('a recorded run of the default guest replays from its log: the same output, the same final state, every checkpoint matched', guest, async (t) => {
  const a = await recording();
  assert.deepEqual(a.exit, { kind: 'poweroff' }, a.text.slice(-1500));
  assert.match(a.text, /rr-42/);
  assert.match(a.text, /loop=300/);
  const { records } = readLog(a.log);
  const inputs = records.filter((r) => r.kind === REC_INPUT);
  assert.equal(inputs.length, SCRIPT.length, 'one input record per command');
  const b = await replay(a.log);
  assert.deepEqual(b.exit, { kind: 'poweroff' }, b.text.slice(-1500));
  assert.equal(b.text, a.text);
  const diff = digestDiff(a.digest, b.digest, ['recording', 'replay']);
  assert.equal(diff, '', `final state differs\n${diff}`);
  const checkpoints = records.filter((r) => r.kind === REC_CHECKPOINT).length;
  assert.ok(checkpoints >= 5, `${checkpoints} checkpoints`);
  assert.equal(b.machine.replayer!.checked, checkpoints, 'every checkpoint compared');
  // The interpreter retires the same instructions: it replays the translator's recording.
  const c = await replay(a.log, { cpu: 'interp' });
  assert.deepEqual(c.exit, { kind: 'poweroff' });
  assert.equal(c.text, a.text);
  t.diagnostic(`${a.machine.cpu.instructions} instructions, ${a.log.length} bytes of log, ${checkpoints} checkpoints, input at instructions ${inputs.map((r) => r.at.count).join(', ')}`);
});

test('a log with one input byte changed: the replay reports divergence at the first checkpoint after that input', guest, async () => {
  const a = await recording();
  const { records } = readLog(a.log);
  const input = records.find((r) => r.kind === REC_INPUT)!;
  const changed = Buffer.from(a.log);
  const at = changed.indexOf('rr-$((6*7))');
  assert.ok(at > 0);
  changed[at + 1] = 's'.charCodeAt(0); // "rs-42"
  const firstCheck = records.find((r) => r.kind === REC_CHECKPOINT && r.at.count >= input.at.count)!;
  const b = await replay(changed);
  assert.equal(b.exit.kind, 'diverged', JSON.stringify(b.exit));
  assert.equal((b.exit as { at: number }).at, firstCheck.at.count, JSON.stringify(b.exit));
  assert.match((b.exit as { detail: string }).detail, /RAM|registers/);
  assert.match(b.text, /rs-42/, 'the changed input reached the guest');
});

test('damaged logs are refused before the guest runs: truncated, no END record, bad magic, unknown version, bad record kind', guest, async () => {
  const { log } = await recording();
  const refused = (bytes: Uint8Array, re: RegExp): void => {
    assert.throws(() => new Machine({ ...base(), replay: bytes }), (e: unknown) => e instanceof ReplayLogError && re.test(e.message) && !e.message.includes('\n'));
  };
  refused(log.subarray(0, log.length - 3), /truncated/);
  refused(log.subarray(0, 100), /truncated/);
  refused(log.subarray(0, 56), /ends early/);
  refused(log.subarray(0, 20), /header/);
  const magic = Buffer.from(log); magic[0] = 0x58;
  refused(magic, /bad magic/);
  const version = Buffer.from(log); version[4] = 9;
  refused(version, /version 9 is not supported/);
  const kind = Buffer.from(log); kind[56] = 0x77;
  refused(kind, /unknown record kind 119/);
  const trailing = Buffer.concat([log, Buffer.from([1])]);
  refused(trailing, /after its END record/);
});

test('a log from another start is refused, naming what differs: kernel command line, memory, seed, --reboot', guest, async () => {
  const { log } = await recording();
  assert.throws(() => new Machine({ ...base(), cmdline: CMDLINE + ' quiet', replay: log }), /another start: kernel command line/);
  assert.throws(() => new Machine({ ...base(), memoryMiB: 33, replay: log }), /another start: memory \(MiB\): log 32, run 33$/);
  assert.throws(() => new Machine({ ...base(), seed: 7, replay: log }), /another start: seed: log 0, run 7$/);
  assert.throws(() => new Machine({ ...base(), reboot: true, replay: log }), /another start: restart on reset \(--reboot\): log false, run true$/);
});

test('a replay its host stops (a --timeout, Ctrl-A X) ends as stopped, not as diverged', guest, async () => {
  const { log } = await recording();
  const m = new Machine({ ...base(), replay: log });
  const cut = m.clock.addTimer('test cut', () => m.stop('cut short by the test'));
  cut.deadline = 0.3e9; // virtual: mid-boot, before the first input
  const r = await runMachine(m);
  assert.deepEqual(r.exit, { kind: 'stopped', detail: 'cut short by the test' });
  assert.throws(() => m.serialInput(Buffer.from('x')), /takes its input from the log/);
});
