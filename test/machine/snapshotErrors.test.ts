// Damaged and mismatched snapshots are refused with a clear SnapshotError before any
// machine runs: a flipped byte, a truncated or padded state file, another format
// version, a truncated, missing or altered memory file, a resized drive image.
// The snapshot is of a machine that never ran (the kernel loaded, the CPU at its entry):
// cheap to make, and every check is the same as for a running guest.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine } from '../../src/machine/Machine.js';
import { attachVirtioTo } from '../../src/machine/attachVirtioTo.js';
import { SnapshotError } from '../../src/snapshot/SnapshotError.js';
import { STATE_HEADER_BYTES, readStateFile, writeStateFile } from '../../src/snapshot/StateFile.js';
import { KERNEL, haveGuest } from '../devices/virtio/guestBoot.js';

const skip = haveGuest ? false : 'the default guest (guest/bzImage) is not built';
const dir = mkdtempSync(join(tmpdir(), 'typevisor-snaperr-'));
const disk = join(dir, 'disk.img');
const state = join(dir, 'good.state');
const mem = join(dir, 'good.mem');
let eip = 0;

before(async () => {
  if (skip) return;
  writeFileSync(disk, Buffer.alloc(64 << 10));
  const m = new Machine({ memoryMiB: 16, pacing: 'fast', kernel: new Uint8Array(readFileSync(KERNEL)), cmdline: 'console=ttyS0' });
  await attachVirtioTo(m, { drives: [{ file: disk, readonly: true }], rng: true }, { log: () => {} });
  eip = m.cpu.eip;
  await m.saveSnapshot(state, mem);
  for (const v of m.virtio) await v.attached.close();
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of the good snapshot, changed by `damage`, must be refused with a message matching `re`. */
async function refused(name: string, damage: (s: string, m: string) => void, re: RegExp): Promise<void> {
  const s = join(dir, `${name}.state`);
  const m = join(dir, `${name}.mem`);
  copyFileSync(state, s);
  copyFileSync(mem, m);
  damage(s, m);
  const restoring = Machine.restore(s, m, { log: () => {} });
  void restoring.then(async (x) => { for (const v of x.virtio) await v.attached.close(); }, () => {}); // if it wrongly succeeds
  await assert.rejects(restoring, (e: unknown) => {
    assert.ok(e instanceof SnapshotError, `${name}: ${String(e)}`);
    assert.match(e.message, re, name);
    return true;
  });
}

function patch(path: string, at: number, fn: (b: number) => number): void {
  const b = readFileSync(path);
  b[at] = fn(b[at]!);
  writeFileSync(path, b);
}

test('a good snapshot restores (the CPU where it was, the devices reopened)', { skip }, async () => {
  const m = await Machine.restore(state, mem, { log: () => {} });
  assert.equal(m.cpu.eip, eip);
  assert.deepEqual(m.virtio[0]!.attached.transports.map((t) => t.device.deviceId), [2, 4]);
  await m.virtio[0]!.attached.close();
});

test('damaged state files are refused', { skip }, async () => {
  const len = readFileSync(state).length;
  await refused('flip', (s) => patch(s, STATE_HEADER_BYTES + 100, (b) => b ^ 0x01), /checksum mismatch/);
  await refused('flip-header-sum', (s) => patch(s, 20, (b) => b ^ 0x80), /checksum mismatch/);
  await refused('truncated', (s) => truncateSync(s, len - 1), /truncated or padded/);
  await refused('short', (s) => truncateSync(s, 10), /not a typevisor snapshot/);
  await refused('padded', (s) => writeFileSync(s, Buffer.concat([readFileSync(s), Buffer.from('x')])), /truncated or padded/);
  await refused('magic', (s) => patch(s, 0, () => 0x58), /bad magic/);
  await refused('version', (s) => patch(s, 8, () => 99), /format version 99 is not supported/);
  await refused('missing', (s) => unlinkSync(s), /no such file/);
});

test('missing, truncated, resized or altered memory files are refused', { skip }, async () => {
  await refused('mem-missing', (_s, m) => unlinkSync(m), /cannot open snapshot memory .*no such file/);
  await refused('mem-truncated', (_s, m) => truncateSync(m, (16 << 20) - 4096), /is 16773120 bytes, the snapshot's RAM is 16777216/);
  await refused('mem-grown', (_s, m) => truncateSync(m, 32 << 20), /is 33554432 bytes/);
  // A byte of a data page (the kernel at 1 MiB) changed: the CRC catches it.
  await refused('mem-flip', (_s, m) => patch(m, (1 << 20) + 7, (b) => b ^ 0xff), /checksum mismatch/);
});

test('well-formed snapshots of another machine are refused: device set, memory size, page map', { skip }, async () => {
  const rewrite = (edit: (p: Record<string, any>) => void) => (s: string): void => {
    const p = readStateFile(s) as Record<string, any>;
    edit(p);
    writeStateFile(s, p);
  };
  await refused('no-rtc', rewrite((p) => { p.devices = p.devices.filter((d: { name: string }) => d.name !== 'rtc146818'); }), /the snapshot's devices \(.*\) do not match this machine's/);
  await refused('virtio-kind', rewrite((p) => { p.virtio[0].devices[1].name = 'virtio-mmio-virtio-net'; }), /virtio device 1 is virtio-mmio-virtio-rng, the snapshot's is virtio-mmio-virtio-net/);
  await refused('mem-size', rewrite((p) => { p.machine.memoryMiB = 32; }), /memory size 16777216 does not match the machine's 33554432 bytes/);
  await refused('page-map', rewrite((p) => { p.memory.pages = 'AAAA'; }), /memory page map covers 24 pages, RAM has 4096/);
  await refused('cpu', rewrite((p) => { p.cpu.regs = [1, 2]; }), /cannot restore: CPU state: regs must be 8 numbers/);
});

test('a drive image that no longer matches the snapshot is refused, and so is a missing one', { skip }, async () => {
  const saved = readFileSync(disk);
  try {
    writeFileSync(disk, Buffer.alloc(128 << 10));
    await refused('disk-resized', () => {}, /the drive image now holds 256 sectors, the snapshot's held 128/);
    unlinkSync(disk);
    await refused('disk-missing', () => {}, /cannot open/);
  } finally {
    writeFileSync(disk, saved);
  }
});
