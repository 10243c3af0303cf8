// The incremental RAM hash of replay checkpoints (stateHash.ts RamHasher): at every
// checkpoint of a recorded run of the default guest it equals the hash computed from
// scratch over all of RAM, so no write path escapes the dirty map: the loaders, the
// CPU's stores through its TLB (interpreter and translator, string instructions
// included), page-table accessed/dirty bits, and virtio-blk and virtio-rng DMA. It reads
// only the pages written since the last checkpoint (far fewer than all of RAM).
//
// Runs are bounded by virtual time, never by the wall clock.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine } from '../../src/machine/Machine.js';
import { attachVirtioTo } from '../../src/machine/attachVirtioTo.js';
import { pagedRamHash } from '../../src/replay/stateHash.js';
import { PAGE_SHIFT, PhysicalMemory } from '../../src/memory/PhysicalMemory.js';
import { RamHasher } from '../../src/replay/stateHash.js';
import { GuestRam } from '../../src/devices/virtio/GuestRam.js';
import { putBytes } from '../../src/boot/GuestBytes.js';
import type { Cpu } from '../../src/cpu/Cpu.js';
import { PROMPT } from '../machine/serialSession.js';
import { INITRD, KERNEL, haveGuest } from '../devices/virtio/guestBoot.js';

const HANG_GUARD_MS = 600_000;
const VIRTUAL_BOUND_NS = 120e9;
const SCRIPT = [
  'dd if=/dev/hwrng of=/dev/vda bs=4096 count=32 2>/dev/null; sync; echo 3 > /proc/sys/vm/drop_caches',
  'dd if=/dev/vda bs=4096 count=32 2>/dev/null | md5sum; i=0; while [ $i -lt 100 ]; do i=$((i+1)); done; echo loop=$i',
  'poweroff',
];

async function recordChecked(cpu: 'jit' | 'interp', image: string): Promise<{ checks: number; rehashed: number[]; pages: number; text: string; exit: string }> {
  const m = new Machine({
    memoryMiB: 32,
    kernel: new Uint8Array(readFileSync(KERNEL)),
    initrd: new Uint8Array(readFileSync(INITRD)),
    cmdline: 'console=ttyS0 panic=-1',
    pacing: 'fast',
    cpu,
    checkpointInterval: 3_000_000,
    record: { write: () => {} },
  });
  const virtio = await attachVirtioTo(m, { drives: [{ file: image, readonly: false }], rng: true }, { log: () => {} });
  const hasher = m.recorder!.ram;
  const incremental = hasher.hash.bind(hasher);
  const rehashed: number[] = [];
  let checks = 0;
  hasher.hash = () => {
    const before = hasher.rehashed;
    const h = incremental();
    rehashed.push(hasher.rehashed - before);
    assert.equal(h, pagedRamHash(m.mem), `${cpu}: the incremental RAM hash differs from the full one at instruction ${m.cpu.instructions} (checkpoint ${checks})`);
    checks++;
    return h;
  };
  let text = '', from = 0, typed = 0;
  m.onSerialOutput = (b) => {
    text += Buffer.from(b).toString('latin1');
    const hit = text.slice(from).match(PROMPT);
    if (hit && typed < SCRIPT.length) {
      from += (hit.index ?? 0) + hit[0].length;
      const line = SCRIPT[typed++]!;
      setImmediate(() => m.serialInput(Buffer.from(line + '\n')));
    }
  };
  m.externalInputOpen = true;
  const bound = m.clock.addTimer('test bound', () => m.stop('virtual time bound'));
  bound.deadline = VIRTUAL_BOUND_NS;
  const exit = await m.run();
  await virtio.close();
  return { checks, rehashed, pages: m.mem.ramSize >>> PAGE_SHIFT, text, exit: exit.kind };
}

test('writes that do not come from the CPU mark their pages: device DMA, loaders, PhysicalMemory stores; unwritten pages are not read again', () => {
  const mem = new PhysicalMemory(1 << 20);
  const noTlb = { tlb: new Int32Array(0), tlbList: new Int32Array(0), tlbCount: 0 } as unknown as Cpu;
  const hasher = new RamHasher(mem, noTlb);
  assert.equal(hasher.hash(), pagedRamHash(mem), 'all zeros');
  assert.equal(hasher.rehashed, 0);
  const steps: [string, () => void][] = [
    ['virtio DMA (GuestRam.w32)', () => new GuestRam(mem).w32(0x3000, 0xdeadbeef)],
    ['a loader (putBytes)', () => putBytes(mem, 0x7ffe, new Uint8Array([1, 2, 3, 4]))],
    ['PhysicalMemory.write8', () => mem.write8(0x20000, 9)],
    ['PhysicalMemory.write16', () => mem.write16(0x21000, 0x1234)],
    ['PhysicalMemory.write32', () => mem.write32(0x22000, 0x12345678)],
    ['PhysicalMemory.load', () => mem.load(0x30000, new Uint8Array([5]))],
  ];
  for (const [what, write] of steps) {
    const before = hasher.rehashed;
    write();
    assert.equal(hasher.hash(), pagedRamHash(mem), what);
    assert.ok(hasher.rehashed - before <= 2, `${what}: only the written pages read again`);
  }
});

for (const cpu of ['jit', 'interp'] as const) {
  test(`${cpu}: every checkpoint's incremental RAM hash equals the full hash, with disk and entropy DMA; only written pages are read again`, { timeout: HANG_GUARD_MS, skip: haveGuest ? false : 'guest/bzImage not built' }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tv-ramhash-'));
    try {
      const image = join(dir, 'disk.img');
      writeFileSync(image, Buffer.alloc(1 << 20));
      const r = await recordChecked(cpu, image);
      assert.equal(r.exit, 'poweroff', r.text.slice(-1500));
      assert.match(r.text, /loop=100/);
      assert.match(r.text, /[0-9a-f]{32} {2}-/);
      assert.ok(r.checks >= 10, `${r.checks} checkpoints`);
      // The first hash reads what the loaders wrote (kernel, initrd, tables), not all of RAM.
      assert.ok(r.rehashed[0]! < r.pages / 2, `first hash read ${r.rehashed[0]} of ${r.pages} pages`);
      const later = r.rehashed.slice(1);
      t.diagnostic(`${r.checks} checkpoints; pages read again: first ${r.rehashed[0]}, then max ${Math.max(...later)}, mean ${Math.round(later.reduce((a, b) => a + b, 0) / later.length)} of ${r.pages}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
