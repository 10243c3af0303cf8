// Bounded fuzz of the queue code with a seeded PRNG: random descriptor tables, indirect
// tables, flags, lengths, addresses and ring indices. Whatever the guest wrote, nothing
// throws, every walk ends, and the only guest bytes that change are inside buffers the
// driver marked device-writable or in the used rings.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PhysicalMemory } from '../../../src/memory/PhysicalMemory.js';
import { GuestRam } from '../../../src/devices/virtio/GuestRam.js';
import { DescChain, POP_OK, POP_EMPTY, Virtqueue } from '../../../src/devices/virtio/Virtqueue.js';
import { VirtioMmio } from '../../../src/devices/virtio/VirtioMmio.js';
import { VirtioRng } from '../../../src/devices/virtio/VirtioRng.js';
import { VirtioConsole } from '../../../src/devices/virtio/VirtioConsole.js';
import { VirtioNet } from '../../../src/devices/virtio/VirtioNet.js';
import { VirtioBlk } from '../../../src/devices/virtio/VirtioBlk.js';
import type { VirtioDevice } from '../../../src/devices/virtio/VirtioDevice.js';
import { mmioNotify, prng, w16, w32, w64, writeDesc } from './fakeGuest.js';

const SEED = Number(process.env['TYPEVISOR_FUZZ_SEED'] ?? 0x5eed);
const RAM = 1 << 20; // 1 MiB: includes the VGA MMIO hole at 0xA0000 and a ROM page
const DESC = 0x1000;
const AVAIL = 0x2000;
const USED = 0x3000;
const IND = 0x8000; // indirect tables live in [IND, IND + IND_SIZE)
const IND_SIZE = 0x4000;
const BUF_LO = 0x10000;
const quiet = { log: () => {} };

type Rand = () => number;
const int = (rnd: Rand, n: number): number => Math.floor(rnd() * n);

function memory(): PhysicalMemory {
  const mem = new PhysicalMemory(RAM);
  mem.addRom(0xf0000, new Uint8Array(0x10000), 'bios');
  return mem;
}

/** A plausible-to-hostile buffer address and length. */
function randomBuffer(rnd: Rand): [number, number] {
  switch (int(rnd, 10)) {
    case 0: return [RAM - int(rnd, 64), int(rnd, 256)]; // straddles the end of RAM
    case 1: return [0xa0000 + int(rnd, 0x1000), 1 + int(rnd, 64)]; // MMIO hole
    case 2: return [0xf0000 + int(rnd, 0x100), 1 + int(rnd, 64)]; // ROM
    case 3: return [2 ** 32 + int(rnd, 4096), 16]; // above 4 GiB
    case 4: return [int(rnd, RAM), 0xffffffff - int(rnd, 16)]; // huge length
    case 5: return [int(rnd, 2 ** 52), int(rnd, 4096)];
    default: return [BUF_LO + int(rnd, 0x80000), int(rnd, 3000)];
  }
}

/** Fill the descriptor table and the indirect area with random descriptors; return queue size. */
function randomTables(mem: PhysicalMemory, rnd: Rand, size: number): void {
  const fill = (table: number, n: number, allowIndirect: boolean): void => {
    for (let i = 0; i < n; i++) {
      const [addr, len] = randomBuffer(rnd);
      let flags = int(rnd, 8);
      if (!allowIndirect && rnd() < 0.8) flags &= ~4;
      let a = addr;
      let l = len;
      if (flags & 4 && rnd() < 0.8) {
        a = IND + 16 * int(rnd, IND_SIZE / 16 - 8);
        l = 16 * (1 + int(rnd, 8)) + (rnd() < 0.1 ? int(rnd, 16) : 0);
      }
      const next = rnd() < 0.9 ? int(rnd, n) : int(rnd, 0x10000);
      writeDesc(mem, table, i, a, l, flags, next);
    }
  };
  fill(DESC, size, true);
  fill(IND, IND_SIZE / 16, false);
  for (let i = 0; i < size; i++) w16(mem, AVAIL + 4 + 2 * i, rnd() < 0.9 ? int(rnd, size) : int(rnd, 0x10000));
  w16(mem, AVAIL, int(rnd, 2)); // flags
  w16(mem, AVAIL + 4 + 2 * size, int(rnd, 0x10000)); // used_event
}

/** Byte ranges a device may write: WRITE-flagged descriptors anywhere a table can be, and the used ring. */
function writableRanges(mem: PhysicalMemory, size: number): [number, number][] {
  const ranges: [number, number][] = [[USED, USED + 6 + 8 * size]];
  const scan = (table: number, n: number): void => {
    for (let i = 0; i < n; i++) {
      const d = table + 16 * i;
      const flags = mem.u8[d + 12]! | (mem.u8[d + 13]! << 8);
      if (!(flags & 2)) continue;
      const lo = mem.u8[d]! | (mem.u8[d + 1]! << 8) | (mem.u8[d + 2]! << 16) | (mem.u8[d + 3]! * 2 ** 24);
      const hi = mem.u8[d + 4]! | (mem.u8[d + 5]! << 8) | (mem.u8[d + 6]! << 16) | (mem.u8[d + 7]! * 2 ** 24);
      const len = (mem.u8[d + 8]! | (mem.u8[d + 9]! << 8) | (mem.u8[d + 10]! << 16) | (mem.u8[d + 11]! << 24)) >>> 0;
      const addr = hi * 2 ** 32 + lo;
      ranges.push([addr, addr + len]);
    }
  };
  scan(DESC, size);
  scan(IND, IND_SIZE / 16);
  return ranges;
}

function assertOnlyWritable(before: Uint8Array, mem: PhysicalMemory, ranges: [number, number][], what: string): void {
  const after = mem.u8;
  // Merge the allowed ranges, then compare 8 bytes at a time and look closer only where they differ.
  const sorted = ranges.map(([lo, hi]) => [Math.max(0, lo), Math.min(after.length, hi)] as [number, number]).filter(([lo, hi]) => lo < hi).sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const r of sorted) {
    const last = merged.at(-1);
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  const allowed = (i: number): boolean => {
    let lo = 0;
    let hi = merged.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [a, b] = merged[mid]!;
      if (i < a) hi = mid - 1;
      else if (i >= b) lo = mid + 1;
      else return true;
    }
    return false;
  };
  const wa = new Float64Array(after.buffer as ArrayBuffer, 0, after.length / 8);
  const wb = new Float64Array(before.buffer, 0, before.length / 8);
  for (let w = 0; w < wa.length; w++) {
    if (Object.is(wa[w], wb[w])) continue;
    for (let i = w * 8; i < w * 8 + 8; i++) {
      if (after[i] !== before[i] && !allowed(i)) assert.fail(`${what}: byte 0x${i.toString(16)} changed outside any device-writable buffer`);
    }
  }
}

// That every pop ends is the loop's own bound (size + 1 pops per table); the timeout
// only guards against a pop that never returns, not how fast a loaded host runs this.
test('fuzz: Virtqueue.pop over random tables never throws, ends, and yields only in-RAM, correctly-ordered segments', { timeout: 600_000 }, () => {
  const rnd = prng(SEED);
  const mem = memory();
  const ram = new GuestRam(mem);
  const chain = new DescChain();
  const fill = new Uint8Array(64).fill(0x5a);
  const before = new Uint8Array(RAM);
  let ok = 0;
  let errors = 0;
  for (let iter = 0; iter < 1500; iter++) {
    const size = 1 << int(rnd, 9); // 1..256
    mem.u8.fill(0, 0, BUF_LO);
    randomTables(mem, rnd, size);
    const vq = new Virtqueue(ram, 0, 256);
    vq.size = size;
    vq.desc = DESC;
    vq.driver = AVAIL;
    vq.device = USED;
    vq.indirect = rnd() < 0.8;
    vq.eventIdx = rnd() < 0.5;
    assert.equal(vq.validate(), null);
    vq.ready = true;
    vq.lastAvail = int(rnd, 0x10000);
    w16(mem, AVAIL + 2, (vq.lastAvail + (rnd() < 0.9 ? int(rnd, size + 1) : int(rnd, 0x10000))) & 0xffff);
    const ranges = writableRanges(mem, size);
    before.set(mem.u8);
    for (let k = 0; k <= size; k++) {
      const r = vq.pop(chain);
      if (r !== POP_OK) {
        if (r !== POP_EMPTY) errors++;
        break;
      }
      ok++;
      assert.ok(chain.n <= size + 1024);
      for (let s = 0; s < chain.n; s++) {
        assert.ok(ram.check(chain.addr[s]!, chain.len[s]!, s >= chain.nRead), 'segment inside RAM');
      }
      const scratch = new Uint8Array(Math.min(chain.readLen, 4096));
      chain.read(ram, 0, scratch);
      chain.write(ram, 0, fill, 0, Math.min(chain.writeLen, fill.length));
      vq.push(chain.head, chain.writeLen);
      vq.needsInterrupt();
    }
    assertOnlyWritable(before, mem, ranges, `iteration ${iter}`);
  }
  assert.ok(ok > 100 && errors > 100, `both outcomes exercised (ok ${ok}, errors ${errors})`);
});

const dir = mkdtempSync(join(tmpdir(), 'typevisor-fuzz-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Set a device up over MMIO by hand with queues at the fuzz layout (one queue at a time). */
function driverOk(mmio: VirtioMmio, size: number, queues: number, qi: number): void {
  const wr = (o: number, v: number) => mmio.write(o, 4, v);
  wr(0x070, 0);
  wr(0x070, 3);
  wr(0x024, 0);
  wr(0x020, mmio.device.deviceFeatures.lo);
  wr(0x024, 1);
  wr(0x020, 1);
  wr(0x070, 11);
  for (let q = 0; q < queues; q++) {
    // Only queue qi gets the fuzzed rings; the others get empty valid rings elsewhere.
    const base = q === qi ? 0 : 0x4000 + 0x1000 * q;
    wr(0x030, q);
    wr(0x038, q === qi ? size : 8);
    wr(0x080, q === qi ? DESC : base);
    wr(0x090, q === qi ? AVAIL : base + 0x200);
    wr(0x0a0, q === qi ? USED : base + 0x400);
    wr(0x044, 1);
  }
  wr(0x070, 15);
}

test('fuzz: devices (rng, console, net, blk) over random rings: no throw, no write outside writable buffers', async () => {
  const rnd = prng(SEED ^ 0xdead);
  const img = join(dir, 'fuzz.img');
  writeFileSync(img, Buffer.alloc(64 * 1024, 0x33));
  const makers: [string, number, (mem: PhysicalMemory) => Promise<VirtioDevice>][] = [
    ['rng', 1, async (mem) => new VirtioRng(mem, quiet)],
    ['console', 2, async (mem) => {
      const c = new VirtioConsole(mem, quiet);
      c.onOutput = () => {};
      return c;
    }],
    ['net', 2, async (mem) => new VirtioNet(mem, { send() {}, onReceive: () => {}, close() {} }, quiet)],
    ['blk', 1, async (mem) => VirtioBlk.open(mem, { ...quiet, path: img })],
  ];
  let broken = 0;
  for (const [name, queues, make] of makers) {
    for (let iter = 0; iter < 100; iter++) {
      const mem = memory();
      const dev = await make(mem);
      const mmio = new VirtioMmio(dev, 0xd0000000, 5, () => {});
      const size = 1 << int(rnd, 7);
      const qi = int(rnd, queues);
      randomTables(mem, rnd, size);
      w16(mem, AVAIL + 2, rnd() < 0.9 ? int(rnd, size + 1) : int(rnd, 0x10000));
      // Headers that look like real requests now and then, so deeper paths run.
      for (let k = 0; k < 8; k++) {
        const a = BUF_LO + int(rnd, 0x80000);
        w32(mem, a, [0, 1, 4, 8, 11, 13, int(rnd, 20)][int(rnd, 7)]!);
        w64(mem, a + 8, int(rnd, 200));
      }
      const ranges = writableRanges(mem, size);
      const before = mem.u8.slice();
      assert.doesNotThrow(() => {
        driverOk(mmio, size, queues, qi);
        for (let k = 0; k < 3; k++) mmioNotify(mmio, qi);
        if (dev instanceof VirtioConsole) dev.input(new Uint8Array(100).fill(0x41));
        if (dev instanceof VirtioNet) dev.receive(new Uint8Array(200 + int(rnd, 3000)).fill(0x42));
      }, `${name} iteration ${iter}`);
      if (dev instanceof VirtioBlk) await dev.drain();
      if (dev.brokenReason !== null) broken++;
      assertOnlyWritable(before, mem, ranges, `${name} iteration ${iter}`);
      await dev.close();
    }
  }
  assert.ok(broken > 40, `hostile rings marked devices broken (${broken})`);
});
