import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection } from 'node:net';
import { PasstBackend, findExecutable, passtForwardSpec } from '../../src/net/PasstBackend.js';
import { FrameReader, frameWithLength } from '../../src/net/NetBackend.js';

const passt = findExecutable('passt');
const skip = passt === null ? 'passt is not installed (scripts/setup-debian.sh installs it)' : false;
const MAC = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];

function ipChecksum(b: Buffer, off: number, len: number): number {
  let sum = 0;
  for (let i = 0; i < len; i += 2) sum += b.readUInt16BE(off + i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** A DHCPDISCOVER broadcast from MAC, as a guest's udhcpc sends it. */
function dhcpDiscover(xid: number): Uint8Array {
  const bootp = Buffer.alloc(240 + 4);
  bootp[0] = 1; // BOOTREQUEST
  bootp[1] = 1;
  bootp[2] = 6;
  bootp.writeUInt32BE(xid, 4);
  bootp.writeUInt16BE(0x8000, 10); // broadcast reply
  Buffer.from(MAC).copy(bootp, 28);
  bootp.writeUInt32BE(0x63825363, 236);
  bootp.set([53, 1, 1, 255], 240); // DHCP message type DISCOVER
  const udpLen = 8 + bootp.length;
  const ipLen = 20 + udpLen;
  const f = Buffer.alloc(14 + ipLen);
  f.fill(0xff, 0, 6);
  Buffer.from(MAC).copy(f, 6);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(ipLen, 16);
  f[22] = 64;
  f[23] = 17;
  f.writeUInt32BE(0xffffffff, 30);
  f.writeUInt16BE(ipChecksum(f, 14, 20), 24);
  f.writeUInt16BE(68, 34);
  f.writeUInt16BE(67, 36);
  f.writeUInt16BE(udpLen, 38);
  bootp.copy(f, 42);
  return f;
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return cond();
}

test('framing: 32-bit big-endian lengths, frames split across chunks, corrupt lengths rejected', () => {
  const got: number[][] = [];
  const r = new FrameReader((f) => got.push([...f]), 100);
  const a = frameWithLength(Uint8Array.of(1, 2, 3));
  const b = frameWithLength(Uint8Array.of(4));
  assert.deepEqual([...a.subarray(0, 4)], [0, 0, 0, 3]);
  const all = Buffer.concat([a, b]);
  assert.ok(r.push(all.subarray(0, 2)));
  assert.ok(r.push(all.subarray(2, 6)));
  assert.deepEqual(got, []);
  assert.ok(r.push(all.subarray(6)));
  assert.deepEqual(got, [[1, 2, 3], [4]]);
  assert.equal(r.push(Buffer.from([0, 0, 1, 0])), false, '256 > max 100');
});

test('hostfwd becomes passt -t/-u specs', () => {
  assert.equal(passtForwardSpec({ proto: 'tcp', hostPort: 8080, guestPort: 80 }), '8080:80');
  assert.equal(passtForwardSpec({ proto: 'tcp', hostAddr: '127.0.0.1', hostPort: 2222, guestPort: 22 }), '127.0.0.1/2222:22');
});

test('a missing passt is reported with the apt-get hint', async () => {
  await assert.rejects(PasstBackend.start({ passtPath: '/nonexistent/passt' }), /apt-get install passt/);
});

test('passt: DHCP offer over the stream socket, and a hostfwd connection reaches the guest as a SYN', { skip, timeout: 30000 }, async () => {
  const hostPort = 20000 + Math.floor(Math.random() * 20000);
  const be = await PasstBackend.start({ hostfwd: [{ proto: 'tcp', hostAddr: '127.0.0.1', hostPort, guestPort: 80 }], mtu: 1500 });
  try {
    assert.equal(be.mtu, 1500);
    const frames: Buffer[] = [];
    be.onReceive = (f) => frames.push(Buffer.from(f));
    const xid = 0x1234abcd;
    const isOffer = (f: Buffer): boolean =>
      f.length > 42 + 240 && f.readUInt16BE(12) === 0x0800 && f[23] === 17 && f.readUInt16BE(36) === 68 && f[42] === 2 && f.readUInt32BE(46) === xid;
    let offered = false;
    for (let i = 0; i < 5 && !offered; i++) {
      be.send(dhcpDiscover(xid));
      offered = await until(() => frames.some(isOffer), 1000);
    }
    assert.ok(offered, 'DHCPOFFER received');
    const offer = frames.find(isOffer)!;
    const yiaddr = offer.subarray(42 + 16, 42 + 20).join('.');
    assert.match(yiaddr, /^\d+\.\d+\.\d+\.\d+$/);
    // A host connection to the forwarded port becomes a TCP SYN to guest port 80.
    const sock = createConnection({ host: '127.0.0.1', port: hostPort });
    sock.on('error', () => {});
    const isSyn = (f: Buffer): boolean => f.length >= 54 && f.readUInt16BE(12) === 0x0800 && f[23] === 6 && f.readUInt16BE(36) === 80 && (f[47]! & 0x02) !== 0;
    assert.ok(await until(() => frames.some(isSyn), 5000), 'SYN toward guest port 80');
    sock.destroy();
  } finally {
    be.close();
  }
});
