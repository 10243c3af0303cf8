// Deterministic runs (MachineConfig.deterministic): the default guest booted twice with
// the same input gives the same serial output and the same final state (CPU registers,
// virtual clock, a hash of guest RAM), with virtio-rng fed from the seed and with a
// virtio-blk drive the guest reads and writes, even when the host's disk I/O is slowed
// by random host delays. Without the rule, those delays change the run.
//
// Each run is the real RunLoop (Machine.run). Commands are typed when the prompt has
// appeared, checked by a virtual-clock timer against the UART's bytes as the guest
// writes them, so they arrive at the same instruction in every run. Runs are bounded
// by virtual time, never by the wall clock.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine, DETERMINISTIC_EPOCH_MS, type ExitReason } from '../../src/machine/Machine.js';
import { attachVirtioTo } from '../../src/machine/attachVirtioTo.js';
import type { VirtioOptions } from '../../src/devices/virtio/options.js';
import type { VirtioBlk } from '../../src/devices/virtio/VirtioBlk.js';
import { digestDiff, type Digest } from '../cpu/lockstep.js';
import { machineDigest } from './machineLockstep.js';
import { PROMPT } from './serialSession.js';
import { INITRD, KERNEL, haveGuest } from '../devices/virtio/guestBoot.js';

const HANG_GUARD_MS = 600_000;
/** Virtual time a run may take (the boot is about 1 s of it, the scripts a few more). */
const VIRTUAL_BOUND_NS = 60e9;
/** How often the script looks for the prompt, in virtual ns. */
const POLL_NS = 1e6;

interface RunResult { text: string; digest: Digest; exit: ExitReason; instructions: number; waits: number }

interface RunOptions {
  deterministic: boolean;
  seed?: number;
  virtio?: VirtioOptions;
  /** Commands, each typed when a prompt has appeared after the previous one. */
  script: string[];
  /** Slow every host disk operation by a random 0-4 ms of host time. */
  hostDelay?: boolean;
}

async function runGuest(o: RunOptions): Promise<RunResult> {
  const m = new Machine({
    memoryMiB: 32,
    kernel: new Uint8Array(readFileSync(KERNEL)),
    initrd: new Uint8Array(readFileSync(INITRD)),
    cmdline: 'console=ttyS0 panic=-1',
    pacing: 'fast',
    deterministic: o.deterministic,
    ...(o.deterministic ? {} : { rtcBaseMs: DETERMINISTIC_EPOCH_MS }),
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
  });
  const virtio = o.virtio ? await attachVirtioTo(m, o.virtio, { log: () => {} }) : null;
  const blk = (virtio?.devices.find((d) => d.name.startsWith('virtio-blk')) ?? null) as VirtioBlk | null;
  if (o.hostDelay) {
    assert.ok(blk, 'a drive to delay');
    // The host's disk as a loaded machine would have it: each operation finishes late, by a random host time.
    const dev = blk as unknown as { run: (...a: unknown[]) => Promise<unknown> };
    const run = dev.run.bind(blk);
    dev.run = async (...a) => {
      const r = await run(...a);
      await new Promise((res) => setTimeout(res, Math.random() * 4));
      return r;
    };
  }
  // The guest's serial bytes as it writes them (Machine.onSerialOutput hands them on in batches, later).
  let text = '';
  const com1 = m.platform.com1;
  const transmit = com1.onTransmit;
  com1.onTransmit = (b) => { text += String.fromCharCode(b); transmit?.(b); };
  m.externalInputOpen = true;
  let at = 0, from = 0;
  const poll = m.clock.addTimer('test script', (now) => {
    if (now > VIRTUAL_BOUND_NS) { m.stop(`the guest ran ${VIRTUAL_BOUND_NS / 1e9} s of virtual time; ${at} of ${o.script.length} commands typed`); return; }
    if (at < o.script.length) {
      const hit = text.slice(from).match(PROMPT);
      if (hit) {
        from += (hit.index ?? 0) + hit[0].length;
        m.serialInput(Buffer.from(o.script[at++]! + '\n'));
      }
    }
    poll.deadline = now + POLL_NS;
  });
  poll.deadline = POLL_NS;
  const exit = await m.run();
  await virtio?.close();
  return { text, digest: machineDigest(m, true), exit, instructions: m.cpu.instructions, waits: blk?.schedule?.waits ?? 0 };
}

function assertSameRun(a: RunResult, b: RunResult, what: string): void {
  assert.deepEqual(a.exit, { kind: 'poweroff' }, `${what}: first run's end; output tail:\n${a.text.slice(-1500)}`);
  assert.deepEqual(b.exit, { kind: 'poweroff' }, `${what}: second run's end; output tail:\n${b.text.slice(-1500)}`);
  assert.equal(b.text, a.text, `${what}: serial output differs`);
  const diff = digestDiff(a.digest, b.digest, ['first run', 'second run']);
  assert.equal(diff, '', `${what}: final state differs\n${diff}`);
}

const RNG_SCRIPT = [
  'uname -sm; date -u +%Y-%m-%d; echo sum=$((40+2))',
  'cat /proc/sys/kernel/random/boot_id; dd if=/dev/hwrng bs=16 count=1 2>/dev/null | md5sum',
  'i=0; while [ $i -lt 200 ]; do i=$((i+1)); done; echo loop=$i; poweroff',
];

test('a deterministic run of the default guest repeats exactly: serial output and final state; the seed feeds virtio-rng', { timeout: HANG_GUARD_MS, skip: haveGuest ? false : 'guest/bzImage not built' }, async (t) => {
  const a = await runGuest({ deterministic: true, virtio: { rng: true }, script: RNG_SCRIPT });
  const b = await runGuest({ deterministic: true, virtio: { rng: true }, script: RNG_SCRIPT });
  assertSameRun(a, b, 'two deterministic runs');
  assert.match(a.text, /Linux i686/);
  assert.match(a.text, /2024-01-01/); // the fixed RTC start
  assert.match(a.text, /sum=42/);
  assert.match(a.text, /loop=200/);
  const rng = /([0-9a-f]{32})  -/.exec(a.text);
  assert.ok(rng, 'virtio-rng read');
  const c = await runGuest({ deterministic: true, seed: 1, virtio: { rng: true }, script: RNG_SCRIPT });
  assert.deepEqual(c.exit, { kind: 'poweroff' });
  assert.doesNotMatch(c.text, new RegExp(rng[1]!), 'another seed gives other random bytes');
  t.diagnostic(`${a.instructions} instructions per run`);
});

/** 1 MiB image: sector n filled with the byte n & 0xff. */
function makeImage(path: string): void {
  const img = Buffer.alloc(1 << 20);
  for (let s = 0; s < img.length / 512; s++) img.fill(s & 0xff, s * 512, (s + 1) * 512);
  writeFileSync(path, img);
}

const DISK_SCRIPT = [
  'md5sum /dev/vda; dd if=/dev/vda bs=512 skip=3 count=2 2>/dev/null | md5sum',
  'echo det-$((6*7)) | dd of=/dev/vda bs=512 seek=5 conv=sync 2>/dev/null; sync; echo 3 > /proc/sys/vm/drop_caches',
  'dd if=/dev/vda bs=512 skip=5 count=1 2>/dev/null | head -c 6; echo; md5sum /dev/vda',
  'dd if=/dev/zero of=/dev/vda bs=4096 seek=100 count=16 2>/dev/null; sync; echo 3 > /proc/sys/vm/drop_caches; md5sum /dev/vda; poweroff',
];

test('a deterministic run with a virtio-blk drive repeats exactly, however late the host finishes its disk I/O; without the rule the delays change the run', { timeout: HANG_GUARD_MS, skip: haveGuest ? false : 'guest/bzImage not built' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tv-determ-'));
  try {
    const image = join(dir, 'base.img');
    makeImage(image);
    const run = async (name: string, o: Omit<RunOptions, 'script' | 'virtio'>): Promise<RunResult & { image: Buffer }> => {
      const file = join(dir, `${name}.img`);
      copyFileSync(image, file);
      const r = await runGuest({ ...o, virtio: { drives: [{ file, readonly: false }] }, script: DISK_SCRIPT });
      return { ...r, image: readFileSync(file) };
    };
    const a = await run('a', { deterministic: true });
    const b = await run('b', { deterministic: true, hostDelay: true });
    assertSameRun(a, b, 'a deterministic run and one with host disk delays');
    assert.ok(b.waits > 0, 'the delayed run had the vCPU wait for the host');
    assert.ok(a.image.equals(b.image), 'the same image after both runs');
    // The guest's writes reached the image: "det-42\n" at sector 5, zeros at 400 KiB.
    assert.equal(a.image.subarray(5 * 512, 5 * 512 + 7).toString('latin1'), 'det-42\n');
    assert.ok(a.image.subarray(400 << 10, (400 << 10) + 65536).every((x) => x === 0));
    assert.match(a.text, /^det-42\r?$/m);
    assert.equal((a.text.match(/[0-9a-f]{32} {2}\/dev\/vda/g) ?? []).length, 3);
    t.diagnostic(`${a.instructions} instructions; the delayed run waited for the host ${b.waits} times`);

    // The control: the same delays in a run that is not deterministic (fast pacing, the
    // same RTC start) move the guest's completions, and with them its state.
    const c = await run('c', { deterministic: false, hostDelay: true });
    const d = await run('d', { deterministic: false, hostDelay: true });
    assert.deepEqual(c.exit, { kind: 'poweroff' });
    assert.deepEqual(d.exit, { kind: 'poweroff' });
    assert.notEqual(digestDiff(c.digest, d.digest), '', 'without the rule, host delays change the final state');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
