import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as M from '../../../src/devices/virtio/VirtioMmio.js';
import { VirtioMmio } from '../../../src/devices/virtio/VirtioMmio.js';
import { VirtioRng } from '../../../src/devices/virtio/VirtioRng.js';
import { VirtioNet } from '../../../src/devices/virtio/VirtioNet.js';
import type { NetBackend } from '../../../src/net/NetBackend.js';
import { PhysicalMemory } from '../../../src/memory/PhysicalMemory.js';
import {
  mmioAck, mmioFeatures, mmioInit, mmioNotify, mmioStatus, newMemory, writeDesc,
  S_ACK, S_DRIVER, S_DRIVER_OK, S_FEATURES_OK, S_NEEDS_RESET, VRING_DESC_F_NEXT, VRING_DESC_F_WRITE,
} from './fakeGuest.js';

const quiet = { log: () => {} };

function rig(mem = newMemory(4)) {
  const levels: boolean[] = [];
  const dev = new VirtioRng(mem, quiet);
  const mmio = new VirtioMmio(dev, 0xd0000000, 5, (l) => levels.push(l));
  mmio.attach(mem);
  return { mem, dev, mmio, levels, irq: () => levels.at(-1) ?? false };
}

const rd = (m: VirtioMmio, o: number) => m.read(o, 4) >>> 0;
const wr = (m: VirtioMmio, o: number, v: number) => m.write(o, 4, v);

test('identification registers: magic, version 2, device and vendor ID; window mapped in memory', () => {
  const { mem, mmio } = rig();
  assert.equal(rd(mmio, M.MMIO_MAGIC_VALUE), 0x74726976);
  assert.equal(rd(mmio, M.MMIO_VERSION), 2);
  assert.equal(rd(mmio, M.MMIO_DEVICE_ID), 4);
  assert.equal(rd(mmio, M.MMIO_VENDOR), 0x1af4);
  assert.equal(mem.read32(0xd0000000) >>> 0, 0x74726976, 'through PhysicalMemory');
  assert.equal(mem.read32(0xd0000004), 2);
  assert.equal(mmio.cmdline(), 'virtio_mmio.device=4K@0xd0000000:5');
  assert.equal(mmio.read(M.MMIO_MAGIC_VALUE, 2), 0, 'registers are 32-bit only');
});

test('features: VERSION_1, INDIRECT_DESC and EVENT_IDX offered; FEATURES_OK refused without VERSION_1 or with unknown bits', () => {
  const { mmio } = rig();
  const [lo, hi] = mmioFeatures(mmio);
  assert.equal(hi & 1, 1, 'VERSION_1 (bit 32)');
  assert.ok(lo & (1 << 28) && lo & (1 << 29));
  const negotiate = (l: number, h: number): number => {
    wr(mmio, M.MMIO_STATUS, 0);
    wr(mmio, M.MMIO_STATUS, S_ACK | S_DRIVER);
    wr(mmio, M.MMIO_DRIVER_FEATURES_SEL, 0);
    wr(mmio, M.MMIO_DRIVER_FEATURES, l);
    wr(mmio, M.MMIO_DRIVER_FEATURES_SEL, 1);
    wr(mmio, M.MMIO_DRIVER_FEATURES, h);
    wr(mmio, M.MMIO_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
    return rd(mmio, M.MMIO_STATUS);
  };
  assert.equal(negotiate(lo, 0) & S_FEATURES_OK, 0, 'legacy driver refused');
  assert.equal(negotiate(lo | 1, hi) & S_FEATURES_OK, 0, 'bit 0 not offered');
  assert.equal(negotiate(0, 1) & S_FEATURES_OK, S_FEATURES_OK, 'VERSION_1 alone is fine');
  // Driver features cannot change after FEATURES_OK.
  wr(mmio, M.MMIO_DRIVER_FEATURES_SEL, 0);
  wr(mmio, M.MMIO_DRIVER_FEATURES, 1 << 28);
  assert.equal(mmio.device.driverFeatures.lo, 0);
  // DRIVER_OK without FEATURES_OK does not stick.
  wr(mmio, M.MMIO_STATUS, 0);
  wr(mmio, M.MMIO_STATUS, S_ACK | S_DRIVER | S_DRIVER_OK);
  assert.equal(rd(mmio, M.MMIO_STATUS) & S_DRIVER_OK, 0);
});

test('queue registers: size max, addresses read back, frozen while ready, cleared by reset', () => {
  const { mem, mmio } = rig();
  const [q] = mmioInit(mmio, mem, { queueBase: 0x10000, sizes: [16] });
  wr(mmio, M.MMIO_QUEUE_SEL, 0);
  assert.equal(rd(mmio, M.MMIO_QUEUE_NUM_MAX), 256);
  assert.equal(rd(mmio, M.MMIO_QUEUE_READY), 1);
  assert.equal(rd(mmio, M.MMIO_QUEUE_DESC_LOW), q!.desc);
  assert.equal(rd(mmio, M.MMIO_QUEUE_DRIVER_LOW), q!.avail);
  assert.equal(rd(mmio, M.MMIO_QUEUE_DEVICE_LOW), q!.used);
  wr(mmio, M.MMIO_QUEUE_DESC_LOW, 0x50000);
  assert.equal(rd(mmio, M.MMIO_QUEUE_DESC_LOW), q!.desc, 'ignored while ready');
  wr(mmio, M.MMIO_QUEUE_SEL, 1);
  assert.equal(rd(mmio, M.MMIO_QUEUE_NUM_MAX), 0, 'no queue 1');
  wr(mmio, M.MMIO_STATUS, 0);
  assert.equal(rd(mmio, M.MMIO_STATUS), 0);
  wr(mmio, M.MMIO_QUEUE_SEL, 0);
  assert.equal(rd(mmio, M.MMIO_QUEUE_READY), 0);
  assert.equal(rd(mmio, M.MMIO_QUEUE_DESC_LOW), 0);
  assert.equal(rd(mmio, M.MMIO_SHM_LEN_LOW), 0xffffffff, 'no shared memory');
});

test('a request: used ring, interrupt status bit 0, level IRQ until acknowledged', () => {
  const { mem, mmio, irq } = rig();
  const [q] = mmioInit(mmio, mem, { queueBase: 0x10000, sizes: [8] });
  q!.post([{ addr: 0x200000, len: 64, write: true }]);
  assert.equal(irq(), false);
  mmioNotify(mmio, 0);
  assert.deepEqual(q!.takeUsed(), [{ id: 0, len: 64 }]);
  assert.equal(rd(mmio, M.MMIO_INTERRUPT_STATUS), 1);
  assert.equal(irq(), true);
  wr(mmio, M.MMIO_INTERRUPT_ACK, 1);
  assert.equal(rd(mmio, M.MMIO_INTERRUPT_STATUS), 0);
  assert.equal(irq(), false);
});

test('buffers posted and notified before DRIVER_OK are served at DRIVER_OK', () => {
  const { mem, mmio } = rig();
  const [q] = mmioInit(mmio, mem, {
    queueBase: 0x10000,
    sizes: [8],
    beforeDriverOk: ([fq]) => {
      fq!.post([{ addr: 0x200000, len: 32, write: true }]);
      mmioNotify(mmio, 0);
      assert.equal(fq!.usedIdx(), 0, 'not before DRIVER_OK');
    },
  });
  assert.deepEqual(q!.takeUsed(), [{ id: 0, len: 32 }]);
});

test('a malformed chain sets DEVICE_NEEDS_RESET with a config interrupt; reset recovers', () => {
  const { mem, mmio, irq } = rig();
  const [q] = mmioInit(mmio, mem, { queueBase: 0x10000, sizes: [8] });
  writeDesc(mem, q!.desc, 0, 0x200000, 8, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 0); // self loop
  q!.publish(0);
  assert.doesNotThrow(() => mmioNotify(mmio, 0));
  assert.equal(mmioStatus(mmio) & S_NEEDS_RESET, S_NEEDS_RESET);
  assert.equal(rd(mmio, M.MMIO_INTERRUPT_STATUS) & 2, 2);
  assert.equal(irq(), true);
  assert.match(mmio.device.brokenReason ?? '', /loop/);
  // Nothing more is processed until reset.
  q!.post([{ addr: 0x200000, len: 8, write: true }]);
  mmioNotify(mmio, 0);
  assert.equal(q!.usedIdx(), 0);
  // The driver cannot clear NEEDS_RESET by writing status.
  wr(mmio, M.MMIO_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
  assert.equal(mmioStatus(mmio) & S_NEEDS_RESET, S_NEEDS_RESET);
  const [q2] = mmioInit(mmio, mem, { queueBase: 0x10000, sizes: [8] });
  assert.equal(mmioStatus(mmio) & S_NEEDS_RESET, 0);
  assert.equal(irq(), false);
  q2!.post([{ addr: 0x200000, len: 8, write: true }]);
  mmioNotify(mmio, 0);
  assert.equal(q2!.usedIdx(), 1);
});

test('bad queue layouts at QueueReady: not a power of 2, over the maximum, rings outside RAM', () => {
  for (const [num, desc] of [[100, 0x10000], [512, 0x10000], [8, 0x3ffff8], [8, 0x1_0000_0000]] as [number, number][]) {
    const { mmio } = rig();
    wr(mmio, M.MMIO_STATUS, S_ACK | S_DRIVER);
    wr(mmio, M.MMIO_DRIVER_FEATURES_SEL, 1);
    wr(mmio, M.MMIO_DRIVER_FEATURES, 1);
    wr(mmio, M.MMIO_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
    wr(mmio, M.MMIO_QUEUE_SEL, 0);
    wr(mmio, M.MMIO_QUEUE_NUM, num);
    wr(mmio, M.MMIO_QUEUE_DESC_LOW, desc % 0x100000000);
    wr(mmio, M.MMIO_QUEUE_DESC_HIGH, Math.floor(desc / 0x100000000));
    wr(mmio, M.MMIO_QUEUE_DRIVER_LOW, 0x20000);
    wr(mmio, M.MMIO_QUEUE_DEVICE_LOW, 0x30000);
    assert.doesNotThrow(() => wr(mmio, M.MMIO_QUEUE_READY, 1));
    assert.equal(rd(mmio, M.MMIO_QUEUE_READY), 0, `num ${num} desc ${desc.toString(16)}`);
    assert.equal(mmioStatus(mmio) & S_NEEDS_RESET, S_NEEDS_RESET);
  }
});

test('config space: byte, word and dword reads; generation and config interrupt on link change', () => {
  const mem = newMemory(4);
  const backend: NetBackend = { send() {}, onReceive: () => {}, close() {} };
  const net = new VirtioNet(mem, backend, { ...quiet, mac: '52:54:00:12:34:56' });
  const levels: boolean[] = [];
  const mmio = new VirtioMmio(net, 0xd0001000, 6, (l) => levels.push(l));
  assert.equal(mmio.read(M.MMIO_CONFIG, 1), 0x52);
  assert.equal(mmio.read(M.MMIO_CONFIG + 4, 2), 0x5634);
  assert.equal(mmio.read(M.MMIO_CONFIG, 4) >>> 0, 0x00005452 | (0x12 << 24));
  assert.equal(mmio.read(M.MMIO_CONFIG + 6, 2), 1, 'link up');
  mmioInit(mmio, mem, { queueBase: 0x10000, sizes: [8, 8] });
  const gen = rd(mmio, M.MMIO_CONFIG_GENERATION);
  net.setLinkUp(false);
  assert.equal(mmio.read(M.MMIO_CONFIG + 6, 2), 0);
  assert.equal(rd(mmio, M.MMIO_CONFIG_GENERATION), (gen + 1) & 0xff);
  assert.equal(mmioAck(mmio), 2);
  assert.deepEqual(levels, [true, false]);
  mmio.write(M.MMIO_CONFIG, 1, 0xff);
  assert.equal(mmio.read(M.MMIO_CONFIG, 1), 0x52, 'read-only config');
});

test('save and load: a fresh transport continues where the saved one stopped', () => {
  const { mem, mmio } = rig();
  const [q] = mmioInit(mmio, mem, { queueBase: 0x10000, sizes: [8] });
  q!.post([{ addr: 0x200000, len: 16, write: true }]);
  mmioNotify(mmio, 0);
  const state = JSON.parse(JSON.stringify(mmio.saveState()));
  const mem2 = new PhysicalMemory(mem.ramSize);
  mem2.u8.set(mem.u8);
  const levels: boolean[] = [];
  const mmio2 = new VirtioMmio(new VirtioRng(mem2, quiet), 0xd0000000, 5, (l) => levels.push(l));
  mmio2.loadState(state);
  assert.equal(mmioStatus(mmio2), S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
  assert.deepEqual(levels, [true], 'pending interrupt re-driven');
  q!.post([{ addr: 0x200100, len: 16, write: true }]);
  mem2.u8.set(mem.u8.subarray(0x10000, 0x20000), 0x10000); // the guest's new post, in the copy
  mmioNotify(mmio2, 0);
  assert.equal(mem2.u8[q!.used + 2], 2);
  assert.throws(() => mmio2.loadState({ ...state, device: { ...state.device, queues: [] } }), /queue count/);
});
