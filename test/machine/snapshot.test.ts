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
import { SerialSession, PROMPT } from './serialSession.js';
import { KERNEL, INITRD, haveGuest } from '../devices/virtio/guestBoot.js';

const skip = haveGuest ? false : 'the default guest (guest/bzImage) is not built';
const dir = mkdtempSync(join(tmpdir(), 'typevisor-snap-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const MS = 180_000;

function attachSerial(m: Machine): SerialSession {
  const s = new SerialSession();
  m.onSerialOutput = (b) => s.push(b);
  m.externalInputOpen = true;
  return s;
}

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
  const sa = attachSerial(a);
  const runA = a.run();

  // Mid-boot: as soon as the kernel has found the disk; the machine runs on afterwards.
  await sa.waitFor(/virtio_blk virtio0: \[vda\]/, MS);
  const mid = await a.saveSnapshot(join(dir, 'mid.state'), join(dir, 'mid.mem'));
  assert.equal(a.paused, false);
  assert.equal(mid.memoryBytes, 32 << 20);
  assert.ok(mid.memoryDataBytes > 1 << 20 && mid.memoryDataBytes < mid.memoryBytes, `data bytes ${mid.memoryDataBytes}`);
  // The memory file is raw guest memory, sparse: its holes take no disk space.
  assert.equal(statSync(join(dir, 'mid.mem')).size, 32 << 20);

  await sa.waitFor(PROMPT, MS);
  a.serialInput(Buffer.from('echo disk-marker-after | dd of=/dev/vda bs=512 seek=1 conv=fsync 2>/dev/null; echo wrote-$((6*7))\n'));
  await sa.waitFor(/wrote-42/, 60_000);
  await sa.waitFor(PROMPT, 60_000);
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
  const sb = attachSerial(b);
  const runB = b.run();
  b.serialInput(Buffer.from('echo restored-$((6*7)); dd if=/dev/vda bs=512 count=2 2>/dev/null | tr -d "\\000"; echo; echo end-$((1+1))\n'));
  await sb.waitFor(/restored-42/, 60_000);
  const out = await sb.waitFor(/disk-marker-before[^\n]*disk-marker-after[\s\S]*end-2/, 60_000);
  assert.ok(out);
  b.stop('done');
  await runB;
  for (const v of b.virtio) await v.attached.close();

  // The mid-boot snapshot boots on to the prompt.
  const c = await Machine.restore(join(dir, 'mid.state'), join(dir, 'mid.mem'), { log: () => {} });
  const sc = attachSerial(c);
  const runC = c.run();
  await sc.waitFor(PROMPT, MS);
  c.serialInput(Buffer.from('cat /sys/block/vda/size; echo mid-$((6*7))\n'));
  await sc.waitFor(/2048\s+mid-42/, 60_000);
  c.stop('done');
  await runC;
  for (const v of c.virtio) await v.attached.close();
});
