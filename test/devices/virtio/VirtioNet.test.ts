import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtioNet, NET_HDR_SIZE, ACTIVE_WINDOW_MS, formatMac, parseMac } from '../../../src/devices/virtio/VirtioNet.js';
import { VirtioMmio } from '../../../src/devices/virtio/VirtioMmio.js';
import { VirtualSwitch, SwitchClientBackend, joinSwitch, closeHostedSwitches } from '../../../src/net/SwitchBackend.js';
import type { NetBackend } from '../../../src/net/NetBackend.js';
import { Alloc, mmioFeatures, mmioInit, mmioNotify, newMemory, r16, type FakeQueue } from './fakeGuest.js';

const quiet = { log: () => {} };
const dir = mkdtempSync(join(tmpdir(), 'typevisor-net-'));
after(() => {
  closeHostedSwitches();
  rmSync(dir, { recursive: true, force: true });
});

const MRG_RXBUF = 1 << 15;

/** A guest with a virtio-net: rx/tx queues over MMIO, helpers to post buffers, send and read frames. */
function guest(backend: NetBackend, mac: string, opts: { mrg?: boolean; rxBufs?: number; rxLen?: number } = {}) {
  const mem = newMemory(4);
  const dev = new VirtioNet(mem, backend, { ...quiet, mac });
  const irq: boolean[] = [];
  const mmio = new VirtioMmio(dev, 0xd0000000, 5, (l) => irq.push(l));
  const [lo, hi] = mmioFeatures(mmio);
  const [rx, tx] = mmioInit(mmio, mem, { queueBase: 0x10000, sizes: [64, 64], accept: [opts.mrg === false ? lo & ~MRG_RXBUF : lo, hi] }) as [FakeQueue, FakeQueue];
  const alloc = new Alloc(0x100000);
  const rxBufs = new Map<number, number>();
  const postRx = (n: number, len: number): void => {
    for (let i = 0; i < n; i++) {
      const a = alloc.take(len);
      rxBufs.set(rx.post([{ addr: a, len, write: true }]), a);
    }
    mmioNotify(mmio, 0);
  };
  postRx(opts.rxBufs ?? 8, opts.rxLen ?? 2048);
  const send = (frame: Uint8Array): void => {
    const h = alloc.take(NET_HDR_SIZE);
    const f = alloc.take(frame.length);
    mem.u8.set(frame, f);
    tx.post([{ addr: h, len: NET_HDR_SIZE }, { addr: f, len: frame.length }]);
    mmioNotify(mmio, 1);
  };
  /** Frames received (header stripped, merged buffers joined). */
  const received = (): Uint8Array[] => {
    const out: Uint8Array[] = [];
    const used = rx.takeUsed();
    for (let i = 0; i < used.length; ) {
      const first = rxBufs.get(used[i]!.id)!;
      const num = r16(mem, first + 10);
      const parts: Uint8Array[] = [mem.u8.slice(first + NET_HDR_SIZE, first + used[i]!.len)];
      for (let k = 1; k < num; k++) {
        const e = used[i + k]!;
        const a = rxBufs.get(e.id)!;
        parts.push(mem.u8.slice(a, a + e.len));
      }
      i += num;
      out.push(Buffer.concat(parts));
    }
    return out;
  };
  return { mem, dev, mmio, rx, tx, send, received, postRx, irq };
}

function frame(dst: string, src: string, payload: string, type = 0x88b5): Uint8Array {
  const p = Buffer.from(payload);
  const f = new Uint8Array(14 + p.length);
  f.set(parseMac(dst === 'ff:ff:ff:ff:ff:ff' ? '00:00:00:00:00:00' : dst), 0);
  if (dst === 'ff:ff:ff:ff:ff:ff') f.fill(0xff, 0, 6);
  f.set(parseMac(src), 6);
  f[12] = type >> 8;
  f[13] = type & 0xff;
  f.set(p, 14);
  return f;
}

const A = '52:54:00:00:00:0a';
const B = '52:54:00:00:00:0b';
const C = '52:54:00:00:00:0c';

test('features: CSUM, MAC, STATUS, MRG_RXBUF, MTU; no receive or segmentation offloads; MAC and MTU in config space', () => {
  const sw = new VirtualSwitch();
  const g = guest(sw.connect(), A);
  const [lo] = mmioFeatures(g.mmio);
  for (const bit of [0, 3, 5, 15, 16]) assert.equal((lo >>> bit) & 1, 1, `bit ${bit}`);
  for (const bit of [1, 7, 8, 10, 11, 17, 22]) assert.equal((lo >>> bit) & 1, 0, `offload bit ${bit} not offered`);
  assert.equal(formatMac(g.dev.mac), A);
  assert.equal(g.mmio.read(0x100 + 10, 2), 1500);
  sw.close();
});

test('two guests on one in-process switch: broadcast floods, unicast goes to the learned port only', () => {
  const sw = new VirtualSwitch();
  const a = guest(sw.connect(), A);
  const b = guest(sw.connect(), B);
  const c = guest(sw.connect(), C);
  a.send(frame('ff:ff:ff:ff:ff:ff', A, 'hello all'));
  const rb = b.received();
  assert.equal(rb.length, 1);
  assert.equal(Buffer.from(rb[0]!.subarray(14)).toString(), 'hello all');
  assert.equal(c.received().length, 1);
  assert.equal(a.received().length, 0, 'never back out of its own port');
  assert.ok(b.irq.includes(true), 'receiver interrupted');
  b.send(frame(A, B, 'reply to A'));
  assert.equal(Buffer.from(a.received()[0]!.subarray(14)).toString(), 'reply to A');
  assert.equal(c.received().length, 0, 'C does not see unicast to a learned MAC');
  a.send(frame(B, A, 'to B'));
  assert.equal(b.received().length, 1);
  assert.equal(c.received().length, 0);
  assert.equal(a.dev.stats.txFrames, 2);
  sw.close();
});

test('frames wait in the backlog until receive buffers are posted; link down drops them', () => {
  const sw = new VirtualSwitch();
  const a = guest(sw.connect(), A);
  const b = guest(sw.connect(), B, { rxBufs: 0 });
  a.send(frame(B, A, 'one'));
  a.send(frame(B, A, 'two'));
  assert.equal(b.dev.backlogLength, 2);
  b.postRx(1, 2048);
  assert.equal(b.received().length, 1);
  b.postRx(4, 2048);
  assert.equal(Buffer.from(b.received()[0]!.subarray(14)).toString(), 'two');
  b.dev.setLinkUp(false);
  a.send(frame(B, A, 'lost'));
  assert.equal(b.received().length, 0);
  assert.equal(b.dev.stats.rxDropped, 1);
  sw.close();
});

test('MRG_RXBUF: a 4000-byte frame spans several 1024-byte buffers; without it, it is dropped', () => {
  const big = new Uint8Array(4000).map((_, i) => i & 0xff);
  big.set(parseMac(B), 0);
  big.set(parseMac(A), 6);
  const sw = new VirtualSwitch();
  const port = sw.connect();
  const b = guest(sw.connect(), B, { rxBufs: 8, rxLen: 1024 });
  port.send(big);
  const got = b.received();
  assert.equal(got.length, 1);
  assert.deepEqual([...got[0]!], [...big]);
  const c = guest(sw.connect(), C, { rxBufs: 8, rxLen: 1024, mrg: false });
  big.set(parseMac(C), 0);
  port.send(big);
  assert.equal(c.received().length, 0);
  assert.equal(c.dev.stats.rxDropped, 1);
  sw.close();
});

/** Wait until a frame has reached `g`'s receive queue: it crosses a socket, so it takes the host's time, however long that is. */
async function arrived(g: { rx: FakeQueue }): Promise<void> {
  while (g.rx.usedIdx() === 0) await new Promise((r) => setTimeout(r, 5));
}

test('guests in other processes join through the switch socket (length-prefixed frames)', { timeout: 120_000 }, async () => {
  const path = join(dir, 'sw.sock');
  const hostSide = await joinSwitch(path); // this process starts the switch
  const a = guest(hostSide, A);
  const remote = await SwitchClientBackend.connect(path); // as another process would
  const b = guest(remote, B);
  b.send(frame('ff:ff:ff:ff:ff:ff', B, 'over the socket'));
  await arrived(a);
  assert.equal(Buffer.from(a.received()[0]!.subarray(14)).toString(), 'over the socket');
  a.send(frame(B, A, 'and back'));
  await arrived(b);
  assert.equal(Buffer.from(b.received()[0]!.subarray(14)).toString(), 'and back');
  const again = await joinSwitch(path);
  assert.equal(typeof again.send, 'function', 'a second in-process join reuses the hosted switch');
  remote.close();
});

test('runt and oversized transmit chains are dropped, not forwarded', () => {
  const sent: Uint8Array[] = [];
  const g = guest({ send: (f) => sent.push(f), onReceive: () => {}, close() {} }, A);
  g.send(new Uint8Array(4));
  assert.equal(sent.length, 0);
  assert.equal(g.dev.stats.txDropped, 1);
  assert.equal(g.tx.usedIdx(), 1, 'the buffer is still returned');
});

test('CSUM offload: a NEEDS_CSUM header gets its checksum completed; GSO headers are refused', async () => {
  const { completeChecksum } = await import('../../../src/devices/virtio/VirtioNet.js');
  const f = new Uint8Array(14 + 20 + 8 + 11).map((_, i) => (i * 37) & 0xff);
  const start = 34;
  const off = 6; // UDP checksum field
  f[start + off] = 0x12; // partial pseudo-header sum placed by the guest
  f[start + off + 1] = 0x34;
  const hdr = new Uint8Array(12);
  hdr[0] = 1;
  hdr[6] = start;
  hdr[8] = off;
  const expectFolded = (() => {
    let s = 0;
    for (let i = start; i < f.length; i += 2) s += (f[i]! << 8) | (i + 1 < f.length ? f[i + 1]! : 0);
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    return s;
  })();
  assert.ok(completeChecksum(hdr, f));
  let sum = 0x1234; // the receiver adds the pseudo-header sum back
  for (let i = start; i < f.length; i += 2) sum += (f[i]! << 8) | (i + 1 < f.length ? f[i + 1]! : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  assert.equal(sum, 0xffff, 'pseudo-header + region now sum to all ones');
  assert.notEqual(expectFolded, 0xffff);
  hdr[8] = 200;
  assert.equal(completeChecksum(hdr, f), false, 'offset outside the frame');
  hdr[8] = off;
  hdr[1] = 1; // GSO_TCPV4, not offered
  assert.equal(completeChecksum(hdr, f), false);
  const sent: Uint8Array[] = [];
  const g = guest({ send: (x) => sent.push(x), onReceive: () => {}, close() {} }, A);
  const [lo] = mmioFeatures(g.mmio);
  assert.equal(lo & 1, 1, 'CSUM offered');
});

test('concurrent joins of one switch path in one process share one switch', async () => {
  const path = join(dir, 'race.sock');
  const [p1, p2] = await Promise.all([joinSwitch(path), joinSwitch(path)]);
  const got: Uint8Array[] = [];
  p2.onReceive = (f) => got.push(f);
  p1.send(frame('ff:ff:ff:ff:ff:ff', A, 'x'));
  assert.equal(got.length, 1);
});

test('host activity: a frame either way keeps the link active for ACTIVE_WINDOW_MS (the run loop then waits instead of skipping idle time); nothing to drain', () => {
  const sw = new VirtualSwitch();
  const a = guest(sw.connect(), A);
  const b = guest(sw.connect(), B);
  // The window on a clock of the test's own: a loaded host that stalls this process
  // between two lines cannot close it early, nor a sleep fail to outlast it.
  let now = 1000;
  a.dev.hostNow = b.dev.hostNow = () => now;
  assert.equal(a.dev.hostActive(), false, 'quiet before any traffic');
  a.send(frame(B, A, 'ping'));
  assert.equal(a.dev.hostActive(), true, 'sender active');
  assert.equal(b.dev.hostActive(), true, 'receiver active');
  assert.equal(a.dev.pendingIo(), 0, 'frames are never awaited by pause/snapshot');
  now += ACTIVE_WINDOW_MS - 1;
  assert.equal(a.dev.hostActive(), true, 'still active within the window');
  now += 1;
  assert.equal(a.dev.hostActive(), false, 'quiet again after the window');
  assert.equal(b.dev.hostActive(), false);
  sw.close();
});
