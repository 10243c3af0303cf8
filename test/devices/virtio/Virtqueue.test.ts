import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestRam } from '../../../src/devices/virtio/GuestRam.js';
import { DescChain, POP_EMPTY, POP_ERROR, POP_OK, Virtqueue } from '../../../src/devices/virtio/Virtqueue.js';
import { FakeQueue, newMemory, r16, r32, w16, writeDesc, VRING_DESC_F_INDIRECT, VRING_DESC_F_NEXT, VRING_DESC_F_WRITE } from './fakeGuest.js';
import type { PhysicalMemory } from '../../../src/memory/PhysicalMemory.js';

const QBASE = 0x10000;

function setup(size = 8, opts: { indirect?: boolean; eventIdx?: boolean; mem?: PhysicalMemory } = {}) {
  const mem = opts.mem ?? newMemory(4);
  const ram = new GuestRam(mem);
  const fq = new FakeQueue(mem, QBASE, size);
  const vq = new Virtqueue(ram, 0, 256);
  vq.size = size;
  vq.desc = fq.desc;
  vq.driver = fq.avail;
  vq.device = fq.used;
  vq.indirect = opts.indirect ?? true;
  vq.eventIdx = opts.eventIdx ?? false;
  assert.equal(vq.validate(), null);
  vq.ready = true;
  return { mem, ram, fq, vq, chain: new DescChain(2) };
}

test('a direct chain: readable then writable segments, data both ways, used ring entry', () => {
  const { mem, ram, fq, vq, chain } = setup();
  mem.u8.set([1, 2, 3, 4], 0x200000);
  mem.u8.set([5, 6], 0x200100);
  const head = fq.post([
    { addr: 0x200000, len: 4 },
    { addr: 0x200100, len: 2 },
    { addr: 0x200200, len: 3, write: true },
    { addr: 0x200300, len: 5, write: true },
  ]);
  assert.equal(vq.pop(chain), POP_OK);
  assert.equal(chain.head, head);
  assert.equal(chain.n, 4);
  assert.equal(chain.nRead, 2);
  assert.equal(chain.readLen, 6);
  assert.equal(chain.writeLen, 8);
  const got = new Uint8Array(6);
  assert.equal(chain.read(ram, 0, got), 6);
  assert.deepEqual([...got], [1, 2, 3, 4, 5, 6]);
  const part = new Uint8Array(3);
  assert.equal(chain.read(ram, 3, part), 3);
  assert.deepEqual([...part], [4, 5, 6]);
  assert.equal(chain.write(ram, 1, Uint8Array.from([9, 8, 7, 6, 5, 4, 3, 2, 1])), 7); // short: 8 - 1 bytes room
  assert.deepEqual([...mem.u8.subarray(0x200200, 0x200203)], [0, 9, 8]);
  assert.deepEqual([...mem.u8.subarray(0x200300, 0x200305)], [7, 6, 5, 4, 3]);
  assert.equal(vq.pop(chain), POP_EMPTY);
  vq.push(head, 8);
  assert.equal(fq.usedIdx(), 1);
  assert.deepEqual(fq.takeUsed(), [{ id: head, len: 8 }]);
});

test('indirect descriptors are walked when negotiated, refused when not', () => {
  const { fq, vq, chain } = setup(8, { indirect: true });
  fq.postIndirect(0x300000, [
    { addr: 0x200000, len: 16 },
    { addr: 0x201000, len: 512, write: true },
    { addr: 0x202000, len: 1, write: true },
  ]);
  assert.equal(vq.pop(chain), POP_OK);
  assert.equal(chain.n, 3);
  assert.equal(chain.readLen, 16);
  assert.equal(chain.writeLen, 513);
  const b = setup(8, { indirect: false });
  b.fq.postIndirect(0x300000, [{ addr: 0x200000, len: 16 }]);
  assert.equal(b.vq.pop(b.chain), POP_ERROR);
  assert.match(b.vq.error!, /INDIRECT_DESC/);
});

test('direct descriptors followed by an indirect one form one chain', () => {
  const { mem, fq, vq, chain } = setup(8);
  writeDesc(mem, 0x300000, 0, 0x201000, 100, VRING_DESC_F_WRITE, 0);
  writeDesc(mem, fq.desc, 0, 0x200000, 16, VRING_DESC_F_NEXT, 1);
  writeDesc(mem, fq.desc, 1, 0x300000, 16, VRING_DESC_F_INDIRECT, 0);
  fq.publish(0);
  assert.equal(vq.pop(chain), POP_OK);
  assert.equal(chain.n, 2);
  assert.equal(chain.readLen, 16);
  assert.equal(chain.writeLen, 100);
});

test('a chain as long as the queue is fine; a reused chain grows its arrays once', () => {
  const { fq, vq, chain } = setup(16);
  const segs = Array.from({ length: 16 }, (_, i) => ({ addr: 0x200000 + i * 64, len: 64, write: i >= 8 }));
  fq.post(segs);
  assert.equal(vq.pop(chain), POP_OK);
  assert.equal(chain.n, 16);
  assert.equal(chain.nRead, 8);
});

// ---- hostile input: every class fails the pop, never throws ----

function expectError(fn: (s: ReturnType<typeof setup>) => void, re: RegExp, opts?: Parameters<typeof setup>[1]): void {
  const s = setup(8, opts);
  fn(s);
  let r = 0;
  assert.doesNotThrow(() => { r = s.vq.pop(s.chain); });
  assert.equal(r, POP_ERROR);
  assert.match(s.vq.error ?? '', re);
}

test('hostile: a loop in a direct chain is bounded by the queue size', () => {
  expectError(({ mem, fq }) => {
    writeDesc(mem, fq.desc, 0, 0x200000, 8, VRING_DESC_F_NEXT, 1);
    writeDesc(mem, fq.desc, 1, 0x200000, 8, VRING_DESC_F_NEXT, 0);
    fq.publish(0);
  }, /loop/);
  expectError(({ mem, fq }) => {
    writeDesc(mem, fq.desc, 3, 0x200000, 8, VRING_DESC_F_NEXT, 3); // self-loop
    fq.publish(3);
  }, /loop/);
});

test('hostile: a loop inside an indirect table is bounded by the table size', () => {
  expectError(({ mem, fq }) => {
    writeDesc(mem, 0x300000, 0, 0x200000, 8, VRING_DESC_F_NEXT, 1);
    writeDesc(mem, 0x300000, 1, 0x200000, 8, VRING_DESC_F_NEXT, 0);
    writeDesc(mem, fq.desc, 0, 0x300000, 32, VRING_DESC_F_INDIRECT, 0);
    fq.publish(0);
  }, /loop/);
});

test('hostile: descriptor and head indices past the table', () => {
  expectError(({ mem, fq }) => {
    writeDesc(mem, fq.desc, 0, 0x200000, 8, VRING_DESC_F_NEXT, 8);
    fq.publish(0);
  }, /outside a table/);
  expectError(({ fq }) => fq.publish(0xffff), /outside a table/);
  expectError(({ mem, fq }) => {
    writeDesc(mem, 0x300000, 0, 0x200000, 8, VRING_DESC_F_NEXT, 5); // table has 2 entries
    writeDesc(mem, fq.desc, 0, 0x300000, 32, VRING_DESC_F_INDIRECT, 0);
    fq.publish(0);
  }, /outside a table/);
});

test('hostile: buffers outside guest RAM, above 4 GiB, wrapping, or in an MMIO hole', () => {
  const ramEnd = 4 << 20;
  for (const [addr, len, flags] of [
    [ramEnd - 8, 16, 0],
    [ramEnd, 1, VRING_DESC_F_WRITE],
    [0x1_0000_0000, 16, 0],
    [2 ** 52, 16, VRING_DESC_F_WRITE],
    [0xffff_ffff_ffff_f000, 0x2000, 0],
    [0x200000, 0xffffffff, VRING_DESC_F_WRITE],
    [0xa0000, 16, 0], // legacy VGA hole (MMIO)
    [0x9f000, 0x2000, VRING_DESC_F_WRITE], // runs into it
  ] as [number, number, number][]) {
    expectError(({ mem, fq }) => {
      writeDesc(mem, fq.desc, 0, addr, len, flags, 0);
      fq.publish(0);
    }, /outside guest RAM/);
  }
});

test('hostile: ROM pages are readable but never device-writable', () => {
  const mem = newMemory(4);
  mem.addRom(0xf0000, new Uint8Array(0x10000).fill(0xaa), 'bios');
  const s = setup(8, { mem });
  writeDesc(mem, s.fq.desc, 0, 0xf0000, 16, 0, 0);
  s.fq.publish(0);
  assert.equal(s.vq.pop(s.chain), POP_OK);
  writeDesc(mem, s.fq.desc, 1, 0xf0000, 16, VRING_DESC_F_WRITE, 0);
  s.fq.publish(1);
  assert.equal(s.vq.pop(s.chain), POP_ERROR);
});

test('hostile: nested indirect, indirect with NEXT, bad indirect lengths, indirect table outside RAM', () => {
  expectError(({ mem, fq }) => {
    writeDesc(mem, 0x300000, 0, 0x310000, 16, VRING_DESC_F_INDIRECT, 0);
    writeDesc(mem, fq.desc, 0, 0x300000, 16, VRING_DESC_F_INDIRECT, 0);
    fq.publish(0);
  }, /nested/);
  expectError(({ mem, fq }) => {
    writeDesc(mem, fq.desc, 0, 0x300000, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
    fq.publish(0);
  }, /NEXT/);
  for (const len of [0, 15, 24, 16 * 1025]) {
    expectError(({ mem, fq }) => {
      writeDesc(mem, fq.desc, 0, 0x300000, len, VRING_DESC_F_INDIRECT, 0);
      fq.publish(0);
    }, /indirect table length/);
  }
  expectError(({ mem, fq }) => {
    writeDesc(mem, fq.desc, 0, (4 << 20) - 16, 32, VRING_DESC_F_INDIRECT, 0);
    fq.publish(0);
  }, /outside RAM/);
});

test('hostile: a device-readable descriptor after a device-writable one', () => {
  expectError(({ fq }) => {
    fq.post([
      { addr: 0x200000, len: 16, write: true },
      { addr: 0x201000, len: 16 },
    ]);
  }, /readable descriptor after/);
});

test('hostile: the available index running ahead by more than the queue size', () => {
  expectError(({ mem, fq }) => w16(mem, fq.avail + 2, 9), /more than the queue size/);
  expectError(({ mem, fq }) => w16(mem, fq.avail + 2, 0xffff), /more than the queue size/);
});

test('queue layout: sizes must be powers of 2 within the maximum; rings aligned and inside RAM', () => {
  const mem = newMemory(4);
  const vq = new Virtqueue(new GuestRam(mem), 0, 256);
  vq.desc = 0x10000;
  vq.driver = 0x11000;
  vq.device = 0x12000;
  for (const size of [0, 3, 100, 512, 65535]) {
    vq.size = size;
    assert.match(vq.validate() ?? '', /power of 2/, `size ${size}`);
  }
  vq.size = 256;
  assert.equal(vq.validate(), null);
  vq.desc = 0x10008;
  assert.match(vq.validate() ?? '', /descriptor table/);
  vq.desc = (4 << 20) - 0x800;
  assert.match(vq.validate() ?? '', /descriptor table/);
  vq.desc = 0x10000;
  vq.driver = 0x11001;
  assert.match(vq.validate() ?? '', /available ring/);
  vq.driver = 0x11000;
  vq.device = 0x12002;
  assert.match(vq.validate() ?? '', /used ring/);
  vq.device = 0xa0000; // MMIO hole: not writable
  assert.match(vq.validate() ?? '', /used ring/);
  vq.device = 2 ** 40;
  assert.match(vq.validate() ?? '', /used ring/);
});

// ---- notification suppression (§2.7.7, §2.7.10) ----

test('without EVENT_IDX: NO_INTERRUPT suppresses interrupts, NO_NOTIFY asks for none', () => {
  const { mem, fq, vq, chain } = setup(8, { eventIdx: false });
  fq.post([{ addr: 0x200000, len: 4, write: true }]);
  vq.pop(chain);
  vq.push(chain.head, 0);
  assert.equal(vq.needsInterrupt(), true);
  assert.equal(vq.needsInterrupt(), false, 'nothing new since the last interrupt');
  fq.setAvailFlags(1);
  fq.post([{ addr: 0x200000, len: 4, write: true }]);
  vq.pop(chain);
  vq.push(chain.head, 0);
  assert.equal(vq.needsInterrupt(), false);
  vq.setNotify(false);
  assert.equal(r16(mem, fq.used), 1);
  vq.setNotify(true);
  assert.equal(r16(mem, fq.used), 0);
});

test('with EVENT_IDX: used_event decides interrupts; avail_event follows the consumed index', () => {
  const { fq, vq, chain } = setup(8, { eventIdx: true });
  for (let i = 0; i < 3; i++) fq.post([{ addr: 0x200000 + i * 16, len: 4, write: true }]);
  fq.setUsedEvent(2); // interrupt when used idx passes 2, i.e. after the third entry
  vq.pop(chain);
  assert.equal(fq.availEvent(), 1);
  vq.push(chain.head, 0);
  assert.equal(vq.needsInterrupt(), true, 'the first interrupt is always sent');
  vq.pop(chain);
  vq.push(chain.head, 0);
  assert.equal(vq.needsInterrupt(), false, 'used idx 2 has not passed used_event 2');
  vq.pop(chain);
  assert.equal(fq.availEvent(), 3);
  vq.push(chain.head, 0);
  assert.equal(vq.needsInterrupt(), true, 'used idx 3 passed used_event 2');
  assert.equal(vq.needsInterrupt(), false);
});

test('unpop gives chains back; save/load keeps indices', () => {
  const { fq, vq, chain } = setup(8);
  fq.post([{ addr: 0x200000, len: 4, write: true }]);
  fq.post([{ addr: 0x200100, len: 4, write: true }]);
  vq.pop(chain);
  vq.pop(chain);
  vq.unpop(1);
  assert.equal(vq.availCount(), 1);
  const st = vq.saveState();
  const copy = new Virtqueue(new GuestRam(fq.mem), 0, 256);
  copy.loadState(JSON.parse(JSON.stringify(st)));
  assert.equal(copy.lastAvail, 1);
  assert.equal(copy.pop(chain), POP_OK);
  assert.equal(chain.head, 1);
  copy.push(chain.head, 4);
  assert.equal(r32(fq.mem, fq.used + 4), 1);
});
