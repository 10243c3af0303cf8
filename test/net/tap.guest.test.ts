// `--net tap` with a real guest: the test creates a tap device (iproute2) with a
// per-process /24 on the host (hostTap.testSubnet), boots the default guest with a
// virtio-net on it, the guest takes .2 and pings the host at .1, then the host fetches a
// page from the guest's busybox httpd over TCP (no ping binary needed on the host). Needs
// root (to make the tap), /dev/net/tun and `ip`; skipped with the reason otherwise.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { bootGuest, haveGuest } from '../devices/virtio/guestBoot.js';
import { ipCmd, makeTap, removeTap, tapSkip, testSubnet } from './hostTap.js';
import { TapBackend, tapProblem } from '../../src/net/TapBackend.js';
import { fetchText } from './fetchText.js';
import { guestScript } from './guestScript.js';

// Per process (hostTap.testSubnet), so two copies of the suite can run on one host.
const TAP = `tvtap${process.pid % 1_000_000}`;
const HOST = `${testSubnet(0)}.1`;
const GUEST = `${testSubnet(0)}.2`;
const skip = !haveGuest ? 'the default guest (guest/bzImage) is not built' : process.env['TYPEVISOR_SKIP_GUEST_TESTS'] ? 'TYPEVISOR_SKIP_GUEST_TESTS is set' : tapSkip;

test('tap backend: clear errors for a missing interface, a non-tap interface and a bad name', { skip: process.platform !== 'linux' ? 'Linux only' : false }, async () => {
  await assert.rejects(TapBackend.open({ ifname: 'tvnosuch0' }), /there is no network interface tvnosuch0; create it with `ip tuntap add dev tvnosuch0 mode tap|\/dev\/net\/tun does not exist/);
  await assert.rejects(TapBackend.open({ ifname: 'a/b' }), /is not an interface name/);
  assert.match(tapProblem('tvnosuch0') ?? '', /there is no network interface tvnosuch0|\/dev\/net\/tun does not exist/);
  if (existsSync('/dev/net/tun') && existsSync('/sys/class/net/lo')) {
    await assert.rejects(TapBackend.open({ ifname: 'lo' }), /lo is not a tap device/);
  }
});

test('tap backend: the interface deleted under an attached backend stops its reader with the reason; sends after that are dropped, not thrown', { skip: tapSkip, timeout: 120_000 }, async () => {
  removeTap(TAP);
  ipCmd('tuntap', 'add', 'dev', TAP, 'mode', 'tap');
  let be: TapBackend | null = null;
  try {
    ipCmd('link', 'set', TAP, 'up');
    be = await TapBackend.open({ ifname: TAP });
    removeTap(TAP);
    // The reader notices on its next read or poll, however long a loaded host takes to run it.
    while (be.error === null) await new Promise((r) => setTimeout(r, 20));
    assert.match(be.error ?? 'no error', /read failed \(errno 77\)|poll failed/);
    be.send(new Uint8Array(60));
  } finally {
    be?.close();
    await be?.released;
    removeTap(TAP);
  }
});

test('guest on --net tap: the guest pings the host through the tap, the host fetches a page from the guest', { skip, timeout: 600_000 }, async () => {
  makeTap(TAP, `${HOST}/24`);
  try {
    assert.equal(tapProblem(TAP), null, 'seen as a tap (tun_flags) before opening');
    await assert.rejects(
      (async () => {
        const a = await TapBackend.open({ ifname: TAP });
        try {
          await TapBackend.open({ ifname: TAP });
        } finally {
          a.close();
          await a.released;
        }
      })(),
      new RegExp(`${TAP} is in use by another process`),
    );
    let fetched: Promise<string> | null = null;
    let seen = '';
    let done!: () => void;
    const finished = new Promise<void>((res) => (done = res));
    const r = await bootGuest({
      virtio: { nets: [{ kind: 'tap', ifname: TAP, mac: '52:54:00:77:00:02' }] },
      script: guestScript('net-tap.sh', { ME: GUEST, HOST, TEXT: 'hello-over-tap' }),
      pacing: 'fast',
      stopWhen: finished,
      timeoutMs: 100_000, // of guest time
      onOutput: (t) => {
        seen = (seen + t).slice(-200);
        if (fetched === null && seen.includes('httpd-up-42')) {
          fetched = fetchText(`http://${GUEST}:8080/index.html`, 120_000);
          void fetched.then(done);
        }
      },
    });
    const out = r.output.replace(/\r/g, '');
    assert.match(out, /link-up-42/);
    assert.match(out, /[1-9] packets received/, `the guest's pings to ${HOST} were answered\n${out.slice(-800)}`);
    assert.match(out, /guest-ping-rc=0/);
    assert.notEqual(fetched, null, 'the guest started httpd');
    assert.equal(await fetched, 'hello-over-tap\n', 'the host reached the guest over TCP through the tap');
  } finally {
    removeTap(TAP);
  }
});
