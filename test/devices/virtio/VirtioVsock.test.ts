import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  VirtioVsock, VSOCK_HDR_SIZE, OP_CREDIT_UPDATE, OP_REQUEST, OP_RESPONSE, OP_RST, OP_RW, OP_SHUTDOWN, SHUTDOWN_RCV, SHUTDOWN_SEND,
} from '../../../src/devices/virtio/VirtioVsock.js';
import { VirtioMmio } from '../../../src/devices/virtio/VirtioMmio.js';
import { Alloc, mmioInit, mmioNotify, newMemory, type FakeQueue } from './fakeGuest.js';

const dir = mkdtempSync(join(tmpdir(), 'typevisor-vsock-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const quiet = { log: () => {} };
const CID = 42;

interface Pkt {
  srcCid: number; dstCid: number; srcPort: number; dstPort: number; len: number; type: number; op: number; flags: number; bufAlloc: number; fwdCnt: number; data: Buffer;
}

/** Wait for host-side events (socket data, accepts, closes) however long a loaded host takes; the bound only guards against a hang. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const hang = performance.now() + 120_000;
  while (!cond()) {
    if (performance.now() > hang) assert.fail(`no ${what} after 2 minutes`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

let n = 0;
async function rig() {
  const path = join(dir, `v${n++}.sock`);
  const mem = newMemory(4);
  const dev = await VirtioVsock.open(mem, { ...quiet, cid: CID, path });
  const mmio = new VirtioMmio(dev, 0xd0000000, 5, () => {});
  const [rx, tx, ev] = mmioInit(mmio, mem, { queueBase: 0x10000, sizes: [64, 64, 8] }) as [FakeQueue, FakeQueue, FakeQueue];
  const alloc = new Alloc(0x100000);
  const rxAddr = new Map<number, number>();
  const postRx = (count: number, len = 4096 + VSOCK_HDR_SIZE): void => {
    for (let i = 0; i < count; i++) {
      const a = alloc.take(len);
      rxAddr.set(rx.post([{ addr: a, len, write: true }]), a);
    }
    mmioNotify(mmio, 0);
  };
  postRx(32);
  ev.post([{ addr: alloc.take(8), len: 8, write: true }]);
  mmioNotify(mmio, 2);
  const inbox: Pkt[] = [];
  const poll = (): Pkt[] => {
    for (const u of rx.takeUsed()) {
      const a = rxAddr.get(u.id)!;
      const b = Buffer.from(mem.u8.slice(a, a + u.len));
      inbox.push({
        srcCid: b.readUInt32LE(0), dstCid: b.readUInt32LE(8), srcPort: b.readUInt32LE(16), dstPort: b.readUInt32LE(20), len: b.readUInt32LE(24),
        type: b.readUInt16LE(28), op: b.readUInt16LE(30), flags: b.readUInt32LE(32), bufAlloc: b.readUInt32LE(36), fwdCnt: b.readUInt32LE(40),
        data: b.subarray(VSOCK_HDR_SIZE),
      });
    }
    return inbox;
  };
  const take = async (op: number, what = `op ${op}`): Promise<Pkt> => {
    let p: Pkt | undefined;
    await until(() => {
      poll();
      const i = inbox.findIndex((x) => x.op === op);
      if (i >= 0) p = inbox.splice(i, 1)[0];
      return p !== undefined;
    }, what);
    return p!;
  };
  /** The guest sends a packet on the TX queue. */
  const send = (h: Partial<Pkt> & { op: number; srcPort: number; dstPort: number }, data: Buffer = Buffer.alloc(0)): void => {
    const b = Buffer.alloc(VSOCK_HDR_SIZE);
    b.writeUInt32LE(h.srcCid ?? CID, 0);
    b.writeUInt32LE(h.dstCid ?? 2, 8);
    b.writeUInt32LE(h.srcPort, 16);
    b.writeUInt32LE(h.dstPort, 20);
    b.writeUInt32LE(data.length, 24);
    b.writeUInt16LE(h.type ?? 1, 28);
    b.writeUInt16LE(h.op, 30);
    b.writeUInt32LE(h.flags ?? 0, 32);
    b.writeUInt32LE(h.bufAlloc ?? 65536, 36);
    b.writeUInt32LE(h.fwdCnt ?? 0, 40);
    const ha = alloc.take(VSOCK_HDR_SIZE);
    mem.u8.set(b, ha);
    const segs = [{ addr: ha, len: VSOCK_HDR_SIZE }];
    if (data.length) {
      const da = alloc.take(data.length);
      mem.u8.set(data, da);
      segs.push({ addr: da, len: data.length });
    }
    tx.post(segs);
    mmioNotify(mmio, 1);
  };
  return { path, mem, dev, mmio, rx, tx, ev, send, take, poll, postRx, inbox };
}

function collect(sock: Socket): { text: () => string; ended: () => boolean } {
  let buf = '';
  let ended = false;
  sock.on('data', (d) => (buf += d.toString('latin1')));
  sock.on('end', () => (ended = true));
  sock.on('close', () => (ended = true));
  return { text: () => buf, ended: () => ended };
}

test('config space holds the guest CID; no device-type features', async () => {
  const r = await rig();
  assert.equal(r.mmio.read(0x100, 4), CID);
  assert.equal(r.mmio.read(0x104, 4), 0);
  await r.dev.close();
});

test('host-initiated: CONNECT <port>, OK <hostport>, data both ways, guest shutdown closes the host socket', async () => {
  const r = await rig();
  const sock = createConnection(r.path);
  const host = collect(sock);
  sock.write('CONNECT 5000\n');
  const req = await r.take(OP_REQUEST, 'REQUEST');
  assert.equal(req.srcCid, 2);
  assert.equal(req.dstCid, CID);
  assert.equal(req.dstPort, 5000);
  assert.ok(req.bufAlloc > 0);
  r.send({ op: OP_RESPONSE, srcPort: 5000, dstPort: req.srcPort });
  await until(() => host.text().includes('\n'), 'OK line');
  assert.equal(host.text(), `OK ${req.srcPort}\n`);
  sock.write('ping from host');
  const rw = await r.take(OP_RW, 'host data');
  assert.equal(rw.data.toString(), 'ping from host');
  assert.equal(rw.dstPort, 5000);
  r.send({ op: OP_RW, srcPort: 5000, dstPort: req.srcPort }, Buffer.from('pong from guest'));
  await until(() => host.text().endsWith('pong from guest'), 'guest data at the host');
  r.send({ op: OP_SHUTDOWN, srcPort: 5000, dstPort: req.srcPort, flags: SHUTDOWN_RCV | SHUTDOWN_SEND });
  await until(host.ended, 'host socket end');
  const rst = await r.take(OP_RST, 'RST after shutdown');
  assert.equal(rst.dstPort, 5000);
  await until(() => r.dev.connectionCount === 0, 'connection forgotten');
  sock.destroy();
  await r.dev.close();
});

test('host-initiated to a port nobody listens on in the guest: RST closes the host socket', async () => {
  const r = await rig();
  const sock = createConnection(r.path);
  const host = collect(sock);
  sock.write('CONNECT 7\n');
  const req = await r.take(OP_REQUEST);
  r.send({ op: OP_RST, srcPort: 7, dstPort: req.srcPort });
  await until(host.ended, 'host socket closed');
  assert.equal(host.text(), '');
  await r.dev.close();
});

test('a malformed CONNECT line closes the host connection', async () => {
  const r = await rig();
  const sock = createConnection(r.path);
  const host = collect(sock);
  sock.write('HELLO 12\n');
  await until(host.ended, 'closed');
  assert.equal(r.dev.connectionCount, 0);
  await r.dev.close();
});

test('guest-initiated: a connection to host port P reaches PATH_P; data both ways; host close sends SHUTDOWN', async () => {
  const r = await rig();
  let server: Socket | null = null;
  const srv = createServer((s) => (server = s));
  await new Promise<void>((res) => srv.listen(`${r.path}_6000`, res));
  r.send({ op: OP_REQUEST, srcPort: 1234, dstPort: 6000 });
  const resp = await r.take(OP_RESPONSE, 'RESPONSE');
  assert.equal(resp.srcPort, 6000);
  assert.equal(resp.dstPort, 1234);
  await until(() => server !== null, 'host accept');
  const host = collect(server!);
  r.send({ op: OP_RW, srcPort: 1234, dstPort: 6000 }, Buffer.from('GET / HTTP/1.0\r\n\r\n'));
  await until(() => host.text().length > 0, 'data at host');
  assert.equal(host.text(), 'GET / HTTP/1.0\r\n\r\n');
  server!.end('HTTP/1.0 200 OK\r\n\r\nhi');
  const rw = await r.take(OP_RW, 'reply');
  assert.equal(rw.data.toString(), 'HTTP/1.0 200 OK\r\n\r\nhi');
  const sd = await r.take(OP_SHUTDOWN, 'SHUTDOWN');
  assert.equal(sd.flags, SHUTDOWN_RCV | SHUTDOWN_SEND);
  r.send({ op: OP_RST, srcPort: 1234, dstPort: 6000 });
  await until(() => r.dev.connectionCount === 0, 'forgotten');
  srv.close();
  await r.dev.close();
});

test('guest-initiated to a port with no host listener gets RST', async () => {
  const r = await rig();
  r.send({ op: OP_REQUEST, srcPort: 99, dstPort: 6001 });
  const rst = await r.take(OP_RST);
  assert.equal(rst.dstPort, 99);
  assert.equal(rst.srcPort, 6001);
  await r.dev.close();
});

test('credit: the device never sends more than the guest advertised; CREDIT_UPDATE releases more', async () => {
  const r = await rig();
  let server: Socket | null = null;
  const srv = createServer((s) => (server = s));
  await new Promise<void>((res) => srv.listen(`${r.path}_6002`, res));
  r.send({ op: OP_REQUEST, srcPort: 77, dstPort: 6002, bufAlloc: 100, fwdCnt: 0 });
  await r.take(OP_RESPONSE);
  await until(() => server !== null, 'accept');
  server!.write(Buffer.alloc(300, 0x61));
  // The bytes the guest got: wait for at least `want` (they come through a host socket),
  // then take what is there; a device that ignored the credit would have sent past it.
  const got = async (want: number): Promise<number> => {
    let total = 0;
    await until(() => {
      r.poll();
      total += r.inbox.filter((p) => p.op === OP_RW).reduce((s, p) => s + p.data.length, 0);
      r.inbox.length = 0;
      return total >= want;
    }, `${want} bytes`);
    return total;
  };
  assert.equal(await got(100), 100, 'only the advertised 100 bytes');
  r.send({ op: OP_CREDIT_UPDATE, srcPort: 77, dstPort: 6002, bufAlloc: 100, fwdCnt: 100 });
  assert.equal(await got(100), 100);
  r.send({ op: OP_CREDIT_UPDATE, srcPort: 77, dstPort: 6002, bufAlloc: 1000, fwdCnt: 200 });
  assert.equal(await got(100), 100, 'the rest');
  srv.close();
  server!.destroy();
  await r.dev.close();
});

test('hostile packets: foreign source CID ignored, unknown connection answered with RST, short header returned', async () => {
  const r = await rig();
  r.send({ op: OP_REQUEST, srcPort: 1, dstPort: 6003, srcCid: 99 });
  r.send({ op: OP_RW, srcPort: 5, dstPort: 6004 }, Buffer.from('x'));
  const rst = await r.take(OP_RST);
  assert.equal(rst.dstPort, 5);
  const a = 0x3f0000;
  r.tx.post([{ addr: a, len: 10 }]);
  mmioNotify(r.mmio, 1);
  assert.equal(r.tx.usedIdx(), 3);
  await new Promise((res) => setTimeout(res, 20));
  assert.equal(r.poll().length, 0, 'nothing for the foreign CID or the short packet');
  assert.equal(r.dev.connectionCount, 0);
  await r.dev.close();
});

test('after a restore, the guest gets a transport reset event', async () => {
  const r = await rig();
  const st = JSON.parse(JSON.stringify(r.mmio.saveState()));
  r.mmio.loadState(st);
  assert.equal(r.ev.usedIdx(), 1);
  assert.equal(r.mem.u8[0x100000 + 32 * (4096 + VSOCK_HDR_SIZE)], 0, 'event id 0 = TRANSPORT_RESET');
  await r.dev.close();
});
