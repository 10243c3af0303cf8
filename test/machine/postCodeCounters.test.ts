// Port 0x80's POST codes among a VM's live counters (the manager's GET /vms/{id}/stats):
// written by the VM's worker into the shared counter buffer, read back by the VMM, for a
// VM in a worker thread and in a process of its own.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostCode, POST_HISTORY } from '../../src/devices/PostCode.js';
import { IoBus } from '../../src/machine/IoBus.js';
import { POST_COUNTER_SLOTS, readPostCounters, writePostCounters } from '../../src/machine/postCodeCounters.js';
import { VmWorker, type VmHandle, type VmSpec } from '../../src/vmm/VmWorker.js';
import { ProcessVm } from '../../src/vmm/processWorker.js';
import { cli, hlt, movAlImm8, multibootKernel } from '../boot/images.js';

test('the readout survives the shared buffer: last code, writes, the distinct codes oldest first, the dropped count', () => {
  const bus = new IoBus();
  const post = new PostCode();
  post.attach(bus);
  const buf = new Float64Array(3 + POST_COUNTER_SLOTS);
  assert.deepEqual(readPostCounters(buf, 3), { post_code: 0, post_writes: 0, post_codes: [], post_codes_dropped: 0 });
  for (let i = 0; i < POST_HISTORY + 6; i++) bus.write(0x80, 1, i);
  writePostCounters(post, buf, 3);
  const r = readPostCounters(buf, 3);
  assert.equal(r.post_code, POST_HISTORY + 5);
  assert.equal(r.post_writes, POST_HISTORY + 6);
  assert.equal(r.post_codes_dropped, 6);
  assert.deepEqual(r.post_codes, Array.from({ length: POST_HISTORY }, (_, i) => i + 6));
  assert.deepEqual(buf.subarray(0, 3), new Float64Array(3), 'the slots before `at` untouched');
});

/** A guest that writes POST codes 1, 1, 2, 3, 0x3c, then halts with interrupts off (the VM ends). */
function writeKernel(dir: string): string {
  const code: number[] = [];
  for (const c of [1, 1, 2, 3, 0x3c]) code.push(...movAlImm8(c), 0xe6, 0x80);
  const path = join(dir, 'post.bin');
  writeFileSync(path, multibootKernel([...code, ...cli, ...hlt]));
  return path;
}

async function countersAfterExit(start: (spec: VmSpec) => Promise<VmHandle>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tv-post-'));
  try {
    const spec: VmSpec = {
      kernelPath: writeKernel(dir), initrdPath: null, cmdline: '', memoryMiB: 16,
      drives: [], nets: [], rng: false, vsock: null, pacing: 'fast',
    };
    const vm = await start(spec);
    const exit = await vm.whenExited();
    assert.equal(exit.kind, 'dead-halt', exit.reason);
    const s = vm.stats();
    assert.equal(s.post_code, 0x3c);
    assert.equal(s.post_writes, 5);
    assert.deepEqual(s.post_codes, [1, 2, 3, 0x3c]);
    assert.equal(s.post_codes_dropped, 0);
    assert.ok(s.instructions > 0, 'the numeric counters are still there');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a VM in a worker thread publishes its POST codes with its counters', () => countersAfterExit((spec) => VmWorker.start(spec)));
test('a VM in its own process publishes its POST codes with its counters', () => countersAfterExit((spec) => ProcessVm.start(spec)));
