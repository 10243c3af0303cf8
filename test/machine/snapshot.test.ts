// Snapshots of the default guest, end to end through the library: one boot (32 MiB, a
// virtio-blk drive) snapshotted mid-boot and again at its shell prompt after writing to
// the disk; the prompt snapshot restored into a fresh Machine answers on its serial shell
// and reads back what was written; the mid-boot snapshot resumes and reaches the prompt.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine } from '../../src/machine/Machine.js';
import { attachVirtioTo } from '../../src/machine/attachVirtioTo.js';
import { plannedMmioCmdline } from '../../src/devices/virtio/options.js';
import { attachSerial, PROMPT } from './serialSession.js';
import { KERNEL, INITRD, haveGuest } from '../devices/virtio/guestBoot.js';

const skip = haveGuest ? false : 'the default guest (guest/bzImage) is not built';
const dir = mkdtempSync(join(tmpdir(), 'typevisor-snap-'));
after(() => rmSync(dir, { recursive: true, force: true }));
/** A guard against a hang only (wall time); the waits below are bounded by the guest's virtual time. */
const MS = 180_000;

/** Guest (virtual) time bounds: the boot to the prompt takes about 0.7 s, a command milliseconds. */
const BOOT_VIRTUAL_MS = 20_000;
const COMMAND_VIRTUAL_MS = 10_000;

test('snapshot at the shell prompt and mid-boot; both restore into fresh machines that keep working, disk included', { skip, timeout: MS * 2 }, async () => {
  const disk = join(dir, 'disk.img');
  const img = Buffer.alloc(1 << 20);
  img.write('disk-marker-before', 0);
  writeFileSync(disk, img);
  const a = new Machine({
    memoryMiB: 32, pacing: 'fast',
    kernel: new Uint8Array(readFileSync(KERNEL)), initrd: new Uint8Array(readFileSync(INITRD)),
    cmdline: `console=ttyS0 panic=-1 tsc=reliable ${plannedMmioCmdline(1)}`,
  });
  await attachVirtioTo(a, { drives: [{ file: disk, readonly: false }] }, { log: () => {} });
  const { serial: sa, run: runMachineA } = attachSerial(a);
  const runA = runMachineA();

  // Mid-boot: as soon as the kernel has found the disk; the machine runs on afterwards.
  await sa.waitFor(/virtio_blk virtio0: \[vda\]/, BOOT_VIRTUAL_MS);
  const mid = await a.saveSnapshot(join(dir, 'mid.state'), join(dir, 'mid.mem'));
  assert.equal(a.paused, false);
  assert.equal(mid.memoryBytes, 32 << 20);
  assert.ok(mid.memoryDataBytes > 1 << 20 && mid.memoryDataBytes < mid.memoryBytes, `data bytes ${mid.memoryDataBytes}`);
  // The memory file is raw guest memory, sparse: its holes take no disk space.
  assert.equal(statSync(join(dir, 'mid.mem')).size, 32 << 20);

  await sa.waitFor(PROMPT, BOOT_VIRTUAL_MS);
  a.serialInput(Buffer.from('echo disk-marker-after | dd of=/dev/vda bs=512 seek=1 conv=fsync 2>/dev/null; echo wrote-$((6*7))\n'));
  await sa.waitFor(/wrote-42/, COMMAND_VIRTUAL_MS);
  await sa.waitFor(PROMPT, COMMAND_VIRTUAL_MS);
  await a.pause();
  await a.saveSnapshot(join(dir, 'prompt.state'), join(dir, 'prompt.mem'));
  assert.equal(a.paused, true, 'a paused machine stays paused across a snapshot');
  a.stop('snapshot taken');
  await runA;
  for (const v of a.virtio) await v.attached.close();
  assert.match(readFileSync(disk).toString('latin1', 512, 540), /disk-marker-after/);

  // The prompt snapshot: the shell answers and the disk reads back both markers.
  const b = await Machine.restore(join(dir, 'prompt.state'), join(dir, 'prompt.mem'), { log: () => {} });
  assert.equal(b.config.memoryMiB, 32);
  assert.equal(b.virtio.length, 1);
  const { serial: sb, run: runMachineB } = attachSerial(b);
  const runB = runMachineB();
  b.serialInput(Buffer.from('echo restored-$((6*7)); dd if=/dev/vda bs=512 count=2 2>/dev/null | tr -d "\\000"; echo; echo end-$((1+1))\n'));
  await sb.waitFor(/restored-42/, COMMAND_VIRTUAL_MS);
  const out = await sb.waitFor(/disk-marker-before[^\n]*disk-marker-after[\s\S]*end-2/, COMMAND_VIRTUAL_MS);
  assert.ok(out);
  b.stop('done');
  await runB;
  for (const v of b.virtio) await v.attached.close();

  // The mid-boot snapshot boots on to the prompt.
  const c = await Machine.restore(join(dir, 'mid.state'), join(dir, 'mid.mem'), { log: () => {} });
  const { serial: sc, run: runMachineC } = attachSerial(c);
  const runC = runMachineC();
  await sc.waitFor(PROMPT, BOOT_VIRTUAL_MS);
  c.serialInput(Buffer.from('cat /sys/block/vda/size; echo mid-$((6*7))\n'));
  await sc.waitFor(/2048\s+mid-42/, COMMAND_VIRTUAL_MS);
  c.stop('done');
  await runC;
  for (const v of c.virtio) await v.attached.close();
});
