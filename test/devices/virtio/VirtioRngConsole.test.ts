import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtioRng, RNG_MAX_REQUEST } from '../../../src/devices/virtio/VirtioRng.js';
import { VirtioConsole } from '../../../src/devices/virtio/VirtioConsole.js';
import { VirtioMmio } from '../../../src/devices/virtio/VirtioMmio.js';
import { Alloc, mmioFeatures, mmioInit, mmioNotify, newMemory, S_ACK, S_DRIVER, S_DRIVER_OK, S_FEATURES_OK } from './fakeGuest.js';

const quiet = { log: () => {} };

test('rng: fills every writable byte with random data, across segments; bounded per request', () => {
  const mem = newMemory(4);
  const rng = new VirtioRng(mem, quiet);
  const mmio = new VirtioMmio(rng, 0xd0000000, 5, () => {});
  const [q] = mmioInit(mmio, mem, { queueBase: 0x10000, sizes: [8] });
  const [lo, hi] = mmioFeatures(mmio);
  assert.equal(lo & 0xffffff, 0, 'no device-type features');
  assert.equal(hi, 1);
  q!.post([{ addr: 0x200000, len: 64, write: true }, { addr: 0x201000, len: 64, write: true }]);
  q!.post([{ addr: 0x210000, len: RNG_MAX_REQUEST * 2, write: true }]);
  mmioNotify(mmio, 0);
  const used = q!.takeUsed();
  assert.deepEqual(used, [{ id: 0, len: 128 }, { id: 2, len: RNG_MAX_REQUEST }]);
  const a = mem.u8.slice(0x200000, 0x200040);
  const b = mem.u8.slice(0x201000, 0x201040);
  assert.ok(a.some((x) => x !== 0) && b.some((x) => x !== 0));
  assert.notDeepEqual(a, b);
  assert.equal(rng.bytesServed, 128 + RNG_MAX_REQUEST);
});

function consoleRig() {
  const mem = newMemory(4);
  const con = new VirtioConsole(mem, quiet);
  const out: number[] = [];
  con.onOutput = (d) => out.push(...d);
  const mmio = new VirtioMmio(con, 0xd0000000, 5, () => {});
  return { mem, con, out, mmio };
}

test('console: transmitq output reaches the host; host input waits for receive buffers', () => {
  const { mem, con, out, mmio } = consoleRig();
  con.input(new TextEncoder().encode('early '));
  const [rx, tx] = mmioInit(mmio, mem, { queueBase: 0x10000, sizes: [16, 16] });
  const alloc = new Alloc(0x200000);
  const msg = new TextEncoder().encode('Linux version 6.1 on hvc0\n');
  const a = alloc.take(msg.length);
  mem.u8.set(msg, a);
  tx!.post([{ addr: a, len: msg.length }]);
  mmioNotify(mmio, 1);
  assert.equal(new TextDecoder().decode(Uint8Array.from(out)), 'Linux version 6.1 on hvc0\n');
  assert.deepEqual(tx!.takeUsed(), [{ id: 0, len: 0 }]);
  con.input(new TextEncoder().encode('ls -l\n'));
  assert.equal(con.pendingInput, 12);
  const b1 = alloc.take(8);
  const b2 = alloc.take(8);
  rx!.post([{ addr: b1, len: 8, write: true }]);
  rx!.post([{ addr: b2, len: 8, write: true }]);
  mmioNotify(mmio, 0);
  const used = rx!.takeUsed();
  assert.deepEqual(used, [{ id: 0, len: 8 }, { id: 1, len: 4 }]);
  assert.equal(new TextDecoder().decode(mem.u8.slice(b1, b1 + 8)) + new TextDecoder().decode(mem.u8.slice(b2, b2 + 4)), 'early ls -l\n');
  assert.equal(con.pendingInput, 0);
  // Input with buffers already posted is delivered at once.
  const b3 = alloc.take(8);
  rx!.post([{ addr: b3, len: 8, write: true }]);
  mmioNotify(mmio, 0);
  con.input(Uint8Array.of(0x03));
  assert.deepEqual(rx!.takeUsed(), [{ id: 2, len: 1 }]);
  assert.equal(mem.u8[b3], 3);
});

test('console: emergency write outputs a character when EMERG_WRITE was negotiated', () => {
  const { mem, out, mmio } = consoleRig();
  const [lo] = mmioFeatures(mmio);
  assert.equal(lo & 7, 4, 'EMERG_WRITE only');
  mmio.write(0x100 + 8, 4, 0x41);
  assert.deepEqual(out, [], 'not before negotiation');
  mmioInit(mmio, mem, { queueBase: 0x10000, sizes: [16, 16] });
  mmio.write(0x100 + 8, 4, 0x42);
  assert.deepEqual(out, [0x42]);
  assert.equal(mmio.read(0x100 + 4, 4), 0, 'max_nr_ports read as 0 without MULTIPORT');
  void [S_ACK, S_DRIVER, S_DRIVER_OK, S_FEATURES_OK];
});

test('console: pending input survives save and load', () => {
  const { mem, con, mmio } = consoleRig();
  mmioInit(mmio, mem, { queueBase: 0x10000, sizes: [16, 16] });
  con.input(new TextEncoder().encode('abc'));
  const st = JSON.parse(JSON.stringify(mmio.saveState()));
  const c2 = consoleRig();
  c2.mmio.loadState(st);
  assert.equal(c2.con.pendingInput, 3);
});
