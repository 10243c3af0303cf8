// Real Linux-guest tests of the virtio devices: the default guest (guest/bzImage and its
// busybox initramfs) boots on the software CPU with the devices attached and runs the
// scripts in guest-scripts/ on its serial console; the host then checks the results.
// Skipped when the default guest is missing or TYPEVISOR_SKIP_GUEST_TESTS is set.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootGuest, haveGuest } from './guestBoot.js';
import { findExecutable } from '../../../src/net/PasstBackend.js';
import { closeHostedSwitches } from '../../../src/net/SwitchBackend.js';

const skip = !haveGuest ? 'the default guest (guest/bzImage) is not built' : process.env['TYPEVISOR_SKIP_GUEST_TESTS'] ? 'TYPEVISOR_SKIP_GUEST_TESTS is set' : false;
const scripts = join(dirname(fileURLToPath(import.meta.url)), '../../../../test/devices/virtio/guest-scripts');
const scriptDir = (() => {
  // Run from src (tsx) or from dist/: the scripts stay in the source tree.
  const here = join(dirname(fileURLToPath(import.meta.url)), 'guest-scripts');
  try {
    readFileSync(join(here, 'blk.sh'));
    return here;
  } catch {
    return scripts;
  }
})();
const toolDir = join(scriptDir, '../guest-tools');
const dir = mkdtempSync(join(tmpdir(), 'typevisor-guest-'));
after(() => {
  closeHostedSwitches();
  rmSync(dir, { recursive: true, force: true });
});

function script(name: string, vars: Record<string, string> = {}): string[] {
  let text = readFileSync(join(scriptDir, name), 'utf8');
  for (const [k, v] of Object.entries(vars)) text = text.replaceAll(`@${k}@`, v);
  return text.trimEnd().split('\n');
}

const TIMEOUT = 540_000;

test('guest: virtio-blk (ext2 written by the guest, read by the host; read-only drive refuses), virtio-rng, virtio-console over MMIO', { skip, timeout: TIMEOUT }, async () => {
  const rw = join(dir, 'rw.img');
  const ro = join(dir, 'ro.img');
  writeFileSync(rw, Buffer.alloc(8 << 20));
  writeFileSync(ro, Buffer.alloc(1 << 20, 0x5a));
  const text = `written-by-guest-${process.pid}`;
  const r = await bootGuest({
    virtio: { drives: [{ file: rw, readonly: false, id: 'rw-disk' }, { file: ro, readonly: true, id: 'ro-disk' }], rng: true, console: true },
    script: [...script('blk.sh', { TEXT: text }), ...script('rng.sh'), ...script('console.sh', { TEXT: 'hello-over-hvc0' })],
    until: /END-console-42/,
    timeoutMs: TIMEOUT - 20_000,
  });
  const out = r.output.replace(/\r/g, '');
  assert.match(out, /vda=16384 serial=rw-disk vdb-ro=1/, 'size, serial, read-only flag from sysfs');
  assert.match(out, /blk-rw-ok-42/);
  assert.match(out, /blk-ro-refused-42/);
  assert.match(out, /rng=virtio_rng\.0 bytes=64/);
  assert.match(out, /hello-over-hvc0-42/, 'text written to /dev/hvc0 reached the host');
  assert.ok(readFileSync(ro).every((b) => b === 0x5a), 'the read-only image is untouched');
  const debugfs = findExecutable('debugfs');
  if (debugfs) {
    const content = execFileSync(debugfs, ['-R', 'cat /hello.txt', rw], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    assert.equal(content, `${text}\n`, 'the host reads the guest file out of the image');
  } else {
    assert.ok(readFileSync(rw).includes(Buffer.from(text)), 'the guest file is in the image');
  }
});

test('guest: virtio-console as the kernel console (console=hvc0) carries the shell', { skip, timeout: TIMEOUT }, async () => {
  let hvcText = '';
  const r = await bootGuest({
    virtio: { console: true },
    append: 'console=hvc0',
    typeInto: 'hvc',
    script: script('hvc-shell.sh'),
    until: /END-hvc-42/,
    timeoutMs: TIMEOUT - 20_000,
    onAttached: (v) => {
      const forward = v.console!.onOutput;
      v.console!.onOutput = (b) => {
        hvcText += new TextDecoder().decode(b);
        forward?.(b);
      };
    },
  });
  assert.match(r.output, /tty=\/dev\/hvc0 console=hvc0/);
  assert.match(hvcText, /Run \/init as init process/, 'kernel messages on hvc0');
});

test('guest: virtio-pci devices are found through the ACPI PCI root bridge (no pci=noacpi), bound and used (blk, rng)', { skip, timeout: TIMEOUT }, async () => {
  const img = join(dir, 'pci.img');
  writeFileSync(img, Buffer.alloc(2 << 20));
  const text = `pci-write-${process.pid}`;
  const r = await bootGuest({
    transport: 'pci',
    virtio: { drives: [{ file: img, readonly: false }], rng: true },
    script: [
      ...script('pci.sh'),
      `echo "vda=$(cat /sys/block/vda/size)"; printf ${text} | dd of=/dev/vda bs=512 conv=sync,fsync 2>/dev/null && echo pci-blk-wrote-$((6*7))`,
      ...script('rng.sh'),
    ],
    until: /END-rng-42/,
    timeoutMs: TIMEOUT - 20_000,
  });
  const out = r.output.replace(/\r/g, '');
  // The _PRT routes slot 3 INTA# and slot 4 INTA# to PIRQC#/D#, both IRQ 11 on the PIIX3.
  assert.match(out, /pci=0x1af4:0x1042 driver=virtio-pci irq=11/);
  assert.match(out, /pci=0x1af4:0x1044 driver=virtio-pci irq=11/);
  assert.match(out, /virtio=2 acpi-root-bridges=1 noacpi=0/, 'bus found through \\_SB.PCI0 with ACPI on');
  assert.match(out, /elcr: setting IRQ 11 as level-triggered/, 'Linux marks the _PRT interrupt level-triggered');
  assert.equal(r.machine.io.read(0x4d1, 1) & (1 << (11 - 8)), 1 << (11 - 8), 'ELCR bit of IRQ 11 set after boot');
  assert.match(out, /vda=4096/);
  assert.match(out, /pci-blk-wrote-42/);
  assert.equal(readFileSync(img).subarray(0, text.length).toString('latin1'), text, 'the write reached the image');
  assert.match(out, /rng=virtio_rng\.0 bytes=64/);
});

// --net user (passt) with a real guest: test/net/userNet.guest.test.ts.

test('guest: virtio-vsock carries data in both directions (guest to PATH_port, host CONNECT to a guest listener)', { skip, timeout: TIMEOUT }, async () => {
  const path = join(dir, 'vsock.sock');
  const hostPort = 6000;
  const guestPort = 5000;
  let hostGot = '';
  const srv = createNetServer((s) => {
    s.on('data', (d) => {
      hostGot += d.toString();
      if (hostGot.includes('\n')) s.end('hello-from-host-listener\n');
    });
  });
  await new Promise<void>((res) => srv.listen(`${path}_${hostPort}`, res));
  let hostReply = '';
  let connected = false;
  // The run ends on events: the guest's END marker and the guest's answer at the host.
  let ended!: () => void;
  let answered!: () => void;
  const endSeen = new Promise<void>((res) => (ended = res));
  const answerSeen = new Promise<void>((res) => (answered = res));
  let seen = '';
  const r = await bootGuest({
    virtio: { vsock: { cid: 3, path } },
    extraFiles: [{ name: 'vsockcat', data: readFileSync(join(toolDir, 'vsockcat')) }],
    script: script('vsock.sh', { HOSTPORT: String(hostPort), GUESTPORT: String(guestPort) }),
    stopWhen: Promise.all([endSeen, answerSeen]),
    timeoutMs: TIMEOUT - 20_000,
    onOutput: (t) => {
      seen = (seen + t).slice(-200);
      if (/END-vsock-42/.test(seen)) ended();
      if (seen.includes('vsock-listening') && !connected) {
        connected = true;
        const c = createConnection(path);
        let pinged = false;
        c.on('data', (d) => {
          hostReply += d.toString();
          if (!pinged && /^OK \d+\n/.test(hostReply)) {
            pinged = true;
            c.write('ping-from-host\n');
          }
          if (hostReply.includes('pong-from-guest-42\n')) answered();
        });
        c.on('error', () => {});
        c.write(`CONNECT ${guestPort}\n`);
      }
    },
  });
  srv.close();
  const out = r.output.replace(/\r/g, '');
  assert.equal(hostGot, 'hi-from-guest-42\n', 'guest-initiated data reached PATH_6000');
  assert.match(out, /\nhello-from-host-listener\n/, 'the host reply reached the guest');
  assert.match(out, /\nping-from-host\n/, 'host-initiated data reached the guest listener');
  assert.match(hostReply, /^OK \d+\npong-from-guest-42\n$/, 'the guest answer reached the host');
});

test('guest: two guests on one switch ping each other', { skip, timeout: TIMEOUT }, async () => {
  const path = join(dir, 'sw.sock');
  let aDone!: () => void;
  const aFinished = new Promise<void>((res) => (aDone = res));
  const b = bootGuest({
    virtio: { nets: [{ kind: 'switch', path, mac: '52:54:00:00:00:0b' }] },
    script: script('net-switch.sh', { ME: '10.0.0.2', PEER: '10.0.0.1' }),
    stopWhen: aFinished,
    timeoutMs: TIMEOUT - 20_000,
  });
  const a = await bootGuest({
    virtio: { nets: [{ kind: 'switch', path, mac: '52:54:00:00:00:0a' }] },
    script: script('net-switch.sh', { ME: '10.0.0.1', PEER: '10.0.0.2' }),
    until: /END-switch-42/,
    timeoutMs: TIMEOUT - 30_000,
  });
  aDone();
  const rb = await b;
  const out = a.output.replace(/\r/g, '');
  assert.match(out, /[1-9]\d* packets received/, `ping across the switch\n${out.slice(-600)}\n--- B ---\n${rb.output.slice(-400)}`);
});
