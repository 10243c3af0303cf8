import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { PasstBackend, findExecutable, passtForwardSpec } from '../../src/net/PasstBackend.js';
import { FrameReader, frameWithLength } from '../../src/net/NetBackend.js';
import { freePort } from './freePort.js';

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

/** Frames from the backend, and a promise for the first (from now on or already seen) that matches. */
function frameLog(be: PasstBackend): { frames: Buffer[]; next: (match: (f: Buffer) => boolean) => Promise<Buffer> } {
  const frames: Buffer[] = [];
  const waiters: { match: (f: Buffer) => boolean; resolve: (f: Buffer) => void }[] = [];
  be.onReceive = (f) => {
    const b = Buffer.from(f);
    frames.push(b);
    for (const w of waiters.filter((x) => x.match(b))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(b);
    }
  };
  return {
    frames,
    next: (match) => {
      const seen = frames.find(match);
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
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

test('hostfwd becomes passt -t/-u specs, on IPv4\'s any address when none is given (as QEMU binds)', () => {
  assert.equal(passtForwardSpec({ proto: 'tcp', hostPort: 8080, guestPort: 80 }), '0.0.0.0/8080:80');
  assert.equal(passtForwardSpec({ proto: 'tcp', hostAddr: '127.0.0.1', hostPort: 2222, guestPort: 22 }), '127.0.0.1/2222:22');
});

test('a hostfwd port already in use on the host is refused with a clear reason, whichever address holds it', { skip, timeout: 120_000 }, async () => {
  // Held on one family only: passt given a bare port bound the other and started silently.
  for (const host of ['127.0.0.1', '0.0.0.0', '::']) {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, host, resolve));
    const hostPort = (holder.address() as AddressInfo).port;
    try {
      await assert.rejects(PasstBackend.start({ hostfwd: [{ proto: 'tcp', hostPort, guestPort: 80 }] }),
        new RegExp(`^Error: --net user: hostfwd=tcp::${hostPort}-:80: cannot listen on host TCP port ${hostPort} \\(0\\.0\\.0\\.0\\): it is already in use on the host$`), `held on ${host}`);
    } finally {
      holder.close();
    }
  }
});

test('a missing passt is reported with the apt-get hint', async () => {
  await assert.rejects(PasstBackend.start({ passtPath: '/nonexistent/passt' }), /apt-get install passt/);
});

test('passt: DHCP offer over the stream socket, and a hostfwd connection reaches the guest as a SYN', { skip, timeout: 120_000 }, async () => {
  const hostPort = await freePort();
  const be = await PasstBackend.start({ hostfwd: [{ proto: 'tcp', hostAddr: '127.0.0.1', hostPort, guestPort: 80 }], mtu: 1500 });
  try {
    assert.equal(be.mtu, 1500);
    const log = frameLog(be);
    const xid = 0x1234abcd;
    const isOffer = (f: Buffer): boolean =>
      f.length > 42 + 240 && f.readUInt16BE(12) === 0x0800 && f[23] === 17 && f.readUInt16BE(36) === 68 && f[42] === 2 && f.readUInt32BE(46) === xid;
    // Like a DHCP client, ask again each second until passt answers (no deadline: the
    // test's timeout only guards against a hang).
    be.send(dhcpDiscover(xid));
    const resend = setInterval(() => be.send(dhcpDiscover(xid)), 1000);
    const offer = await log.next(isOffer).finally(() => clearInterval(resend));
    const yiaddr = offer.subarray(42 + 16, 42 + 20).join('.');
    assert.match(yiaddr, /^\d+\.\d+\.\d+\.\d+$/);
    // A host connection to the forwarded port becomes a TCP SYN to guest port 80.
    const sock = createConnection({ host: '127.0.0.1', port: hostPort });
    sock.on('error', () => {});
    const isSyn = (f: Buffer): boolean => f.length >= 54 && f.readUInt16BE(12) === 0x0800 && f[23] === 6 && f.readUInt16BE(36) === 80 && (f[47]! & 0x02) !== 0;
    await log.next(isSyn);
    sock.destroy();
  } finally {
    be.close();
  }
});
