// `--net user` with a real guest: the default guest boots with a virtio-net on passt,
// takes a DHCP lease, fetches a page with busybox wget from an HTTP server this test
// runs on the host's loopback (through the gateway address, which passt maps to the
// host's 127.0.0.1), then serves a page with busybox httpd that the host fetches
// through a hostfwd port. One boot for all of it. Skipped without passt or the guest.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bootGuest, haveGuest } from '../devices/virtio/guestBoot.js';
import { findExecutable } from '../../src/net/PasstBackend.js';
import { fetchText } from './fetchText.js';
import { guestScript } from './guestScript.js';
import { freePort } from './freePort.js';

const skip = !haveGuest
  ? 'the default guest (guest/bzImage) is not built'
  : process.env['TYPEVISOR_SKIP_GUEST_TESTS']
    ? 'TYPEVISOR_SKIP_GUEST_TESTS is set'
    : findExecutable('passt') === null
      ? 'passt is not installed (scripts/setup-debian.sh installs it)'
      : false;

test('guest on --net user (passt): DHCP lease, wget from a host loopback server via the gateway, host reaches guest httpd through hostfwd', { skip, timeout: 600_000 }, async () => {
  // Content-Length lets wget finish on the body alone: Debian 12's passt (2023-03-09) does
  // not pass the host side's close on to the guest as a FIN (QEMU's guests see the same).
  const page = 'hello-from-host-http\n';
  const server = createServer((_req, res) => res.writeHead(200, { 'Content-Length': page.length, 'Content-Type': 'text/plain' }).end(page));
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as AddressInfo).port;
  const hostPort = await freePort();
  let fetched: Promise<string> | null = null;
  let seen = '';
  let done!: () => void;
  const finished = new Promise<void>((res) => (done = res));
  try {
    const r = await bootGuest({
      virtio: { nets: [{ kind: 'user', hostfwd: [{ proto: 'tcp', hostAddr: '127.0.0.1', hostPort, guestPort: 8080 }] }] },
      script: guestScript('net-user.sh', { PORT: String(port), TEXT: 'hello-from-guest-httpd' }),
      stopWhen: finished,
      // Flat out: idle virtual time is skipped except while frames are in flight (VirtioNet.hostActive).
      pacing: 'fast',
      timeoutMs: 150_000, // of guest time
      onOutput: (t) => {
        seen = (seen + t).slice(-200);
        if (fetched === null && seen.includes('httpd-up-42')) {
          fetched = fetchText(`http://127.0.0.1:${hostPort}/index.html`, 120_000);
          void fetched.then(done);
        }
      },
    });
    const out = r.output.replace(/\r/g, '');
    assert.match(out, /lease=\d+\.\d+\.\d+\.\d+ router=\d+\.\d+\.\d+\.\d+/, `DHCP lease from passt\n${out.slice(-1500)}`);
    assert.match(out, /\nhello-from-host-http\nwget-rc=0\n/, `the guest fetched the host page\n${out.slice(-1500)}`);
    assert.notEqual(fetched, null, 'the guest started httpd');
    assert.equal(await fetched, 'hello-from-guest-httpd\n', 'the host reached the guest server through hostfwd');
    const net = r.virtio.devices.find((d) => d.name === 'virtio-net') as unknown as { stats: { rxDropped: number; txDropped: number } };
    assert.equal(net.stats.txDropped, 0, 'no malformed transmit frames');
  } finally {
    server.close();
  }
});
