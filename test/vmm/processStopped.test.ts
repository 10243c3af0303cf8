// A VM process that is stopped (SIGSTOP, or a debugger holding it) never answers the
// manager. Its calls must fail with a reason instead of hanging the API request that made
// them, and the VM must answer again once continued.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessVm, processStopped } from '../../src/vmm/processWorker.js';
import { VmWorker, type VmSpec } from '../../src/vmm/VmWorker.js';
import { busyKernel } from './managerSupport.js';
import { TEST_GUARD_MS } from './serveProcess.js';

/** A VM spinning in a tiny kernel written into `dir`, capped at a fifth of a core. */
function busySpec(dir: string): VmSpec {
  const kernelPath = join(dir, 'busy.bin');
  writeFileSync(kernelPath, busyKernel());
  return { kernelPath, initrdPath: null, cmdline: '', memoryMiB: 8, drives: [], nets: [], rng: false, vsock: null, pacing: 'fast', cpuShare: 0.2 };
}

test('a stopped VM process fails pause with a reason, keeps its last counters, and answers again after SIGCONT', { timeout: TEST_GUARD_MS }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'typevisor-stopped-'));
  const vm = await ProcessVm.start(busySpec(dir));
  const pid = vm.pid!;
  try {
    const before = await vm.readStats();
    process.kill(pid, 'SIGSTOP');
    // The kernel marks the process stopped soon after the signal; wait for /proc to say so.
    while (!processStopped(pid)) await new Promise((r) => setTimeout(r, 20));
    await assert.rejects(vm.pause(), /pause: the VM process \(pid \d+\) is stopped/);
    assert.equal(vm.paused, false);
    const held = await vm.readStats();
    assert.ok(held.instructions >= before.instructions, 'the last counters stand while stopped');
    process.kill(pid, 'SIGCONT');
    await vm.pause();
    assert.equal(vm.paused, true);
    await vm.resume();
    assert.equal(vm.running, true);
  } finally {
    process.kill(pid, 'SIGCONT');
    await vm.stop(500);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a resume asked for while a pause is still under way is carried out (the VM runs again and both calls answer)', { timeout: TEST_GUARD_MS }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'typevisor-pauseresume-'));
  const vm = await VmWorker.start(busySpec(dir));
  try {
    const paused = vm.pause();
    const resumed = vm.resume(); // before the VM thread has parked
    await Promise.all([paused, resumed]);
    assert.equal(vm.paused, false);
    const a = (await vm.readStats()).instructions;
    let b = a;
    while (b === a) b = (await vm.readStats()).instructions; // it runs: the counters move (a hang guard is the test's timeout)
    assert.ok(b > a);
  } finally {
    await vm.stop(500);
    rmSync(dir, { recursive: true, force: true });
  }
});
