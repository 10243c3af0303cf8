// Deterministic runs' configuration and their disk-completion rule, without a guest:
// what MachineConfig.deterministic sets and refuses, and ScheduledCompletions' rule on a
// bare virtual clock (delivered at start + delay, in order, never earlier; the vCPU held
// at the deadline while the host has not finished).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine, DETERMINISTIC_EPOCH_MS } from '../../src/machine/Machine.js';
import { VirtualClock } from '../../src/machine/VirtualClock.js';
import { ScheduledCompletions } from '../../src/devices/virtio/ScheduledCompletions.js';
import { attachVirtio } from '../../src/devices/virtio/options.js';
import { PhysicalMemory } from '../../src/memory/PhysicalMemory.js';
import { jmpSelf, multibootKernel } from '../boot/images.js';
import { attachVirtioTo } from '../../src/machine/attachVirtioTo.js';
import type { SeededRandom } from '../../src/machine/SeededRandom.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

test('deterministic: fast pacing, the RTC from the fixed epoch or rtcBaseMs, a checked seed; realtime refused', () => {
  const kernel = multibootKernel([...jmpSelf]);
  const m = new Machine({ memoryMiB: 16, kernel, deterministic: true });
  assert.equal(m.config.pacing, 'fast');
  assert.equal(m.rtcBaseMs, DETERMINISTIC_EPOCH_MS);
  assert.equal(DETERMINISTIC_EPOCH_MS, Date.parse('2024-01-01T00:00:00Z'));
  assert.equal(new Machine({ memoryMiB: 16, kernel, deterministic: true, rtcBaseMs: 5000 }).rtcBaseMs, 5000);
  assert.throws(() => new Machine({ memoryMiB: 16, kernel, deterministic: true, pacing: 'realtime' }), /realtime pacing cannot be deterministic/);
  assert.throws(() => new Machine({ memoryMiB: 16, kernel, deterministic: true, seed: 1.5 }), /seed must be a whole number/);
});

test('a deterministic machine\'s snapshot restores deterministic, with its seed and virtio-rng\'s generator where it was; realtime pacing restores it as a normal run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tv-determ-snap-'));
  try {
    const m = new Machine({ memoryMiB: 16, kernel: multibootKernel([...jmpSelf]), deterministic: true, seed: 5 });
    const v = await attachVirtioTo(m, { rng: true }, { log: () => {} });
    const generator = (v.devices[0] as unknown as { seeded: SeededRandom }).seeded;
    for (let i = 0; i < 3; i++) generator.nextU32(); // as if the guest had read 12 bytes
    const state = join(dir, 'vm.state'), mem = join(dir, 'vm.mem');
    await m.saveSnapshot(state, mem);
    const r = await Machine.restore(state, mem, { log: () => {} });
    assert.equal(r.config.deterministic, true);
    assert.equal(r.config.seed, 5);
    assert.equal(r.config.pacing, 'fast');
    const restored = (r.virtio[0]!.attached.devices[0] as unknown as { seeded: SeededRandom | null }).seeded;
    assert.ok(restored !== null, 'virtio-rng seeded again');
    assert.deepEqual(restored.saveState(), generator.saveState());
    const normal = await Machine.restore(state, mem, { log: () => {}, pacing: 'realtime' });
    assert.equal(normal.config.deterministic, false);
    for (const x of [m, r, normal]) for (const a of x.virtio) await a.attached.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('attachVirtio refuses network and vsock devices in a deterministic run', async () => {
  const host = { memory: new PhysicalMemory(1 << 20), pic: { irqLine: () => () => {} }, clock: new VirtualClock(), deterministic: true };
  await assert.rejects(attachVirtio(host, { nets: [{ kind: 'switch', path: '/nonexistent/sock' }] }), /--net switch: a deterministic run cannot take network frames/);
  await assert.rejects(attachVirtio(host, { vsock: { cid: 3, path: '/nonexistent/v.sock' } }), /--vsock: a deterministic run cannot/);
});

test('scheduled completions: delivered at start + delay in order, held at the deadline until the host finishes', async () => {
  let insns = 0;
  const clock = new VirtualClock();
  clock.attachInstructionCounter(() => insns);
  const s = new ScheduledCompletions(clock, 1000, 'test');
  const got: string[] = [];
  const seen = (): string => got.join(' ');
  const a = s.start(); // due at 1000
  insns = 50;
  const b = s.start(); // due at 1050
  s.finish(b, () => got.push('b'));
  s.finish(a, () => got.push('a'));
  assert.equal(clock.nextDeadline(), 1000);
  insns = 999;
  clock.runDue();
  assert.equal(seen(), '', 'nothing before its time, however early the host finished');
  insns = 1000;
  clock.runDue();
  assert.equal(seen(), 'a');
  assert.equal(s.barrier(), null);
  insns = 1060;
  clock.runDue();
  assert.equal(seen(), 'a b');
  assert.equal(clock.nextDeadline(), Infinity);

  // Late host: the deadline passes with the work unfinished; the vCPU waits (barrier) and the delivery stays at that time.
  const c = s.start(); // due at 2060
  insns = 2100;
  clock.runDue();
  assert.equal(seen(), 'a b');
  const wait = s.barrier();
  assert.ok(wait !== null, 'the vCPU must wait');
  assert.equal(s.waits, 1);
  setTimeout(() => s.finish(c, () => got.push(`c@${clock.now()}`)), 5);
  await wait;
  clock.runDue();
  assert.equal(seen(), 'a b c@2100');
  assert.equal(s.barrier(), null);

  // A reset drops work not yet delivered and releases a waiting vCPU.
  const d = s.start();
  insns = 5000;
  clock.runDue();
  const held = s.barrier();
  assert.ok(held !== null);
  s.clear();
  await held;
  s.finish(d, () => got.push('d'));
  clock.runDue();
  assert.equal(s.barrier(), null);
  assert.equal(seen(), 'a b c@2100');
});
