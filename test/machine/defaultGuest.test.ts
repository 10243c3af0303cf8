// The default guest (guest/bzImage + guest/initramfs.cpio.gz) booted for real: a Linux
// kernel runs to its init and a busybox shell, answers commands typed on the serial
// port, and powers off through ACPI. Once through the `typevisor` command, as a user
// would (with a disk on the virtio-pci transport), and twice through the library with
// other memory sizes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { Machine } from '../../src/machine/Machine.js';
import { attachSerial, SerialSession, PROMPT } from './serialSession.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const cli = resolve(root, 'dist/src/cli/main.js');
const BOOT_MS = 240_000;

test('typevisor run boots the default guest to a shell, runs a command, reads a --virtio-transport pci disk, powers off with exit code 0', { timeout: BOOT_MS + 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'typevisor-cli-'));
  const img = join(dir, 'disk.img');
  writeFileSync(img, Buffer.concat([Buffer.from('pci-disk-ok\n'), Buffer.alloc((64 << 10) - 12)]));
  const child = spawn(process.execPath, [cli, 'run', '--fast', '--stats', '--virtio-transport', 'pci', '--drive', `file=${img},readonly`],
    { stdio: ['pipe', 'pipe', 'pipe'], cwd: root });
  const console_ = new SerialSession();
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => console_.push(b));
  child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    await console_.waitFor(/Run \/init as init process/, BOOT_MS);
    await console_.waitFor(/typevisor guest: Linux 6\.1\.\d+ up \d+\.\d+s/, 60_000);
    await console_.waitFor(PROMPT, 60_000);
    child.stdin.write('uname -sm; echo sum=$((40+2))\n');
    await console_.waitFor(/Linux i686/, 60_000);
    await console_.waitFor(/sum=42/, 60_000);
    await console_.waitFor(PROMPT, 60_000);
    child.stdin.write('cat /proc/cmdline; readlink -f /sys/block/vda/device; head -c 12 /dev/vda\n');
    await console_.waitFor(/\/devices\/pci0000:00\/0000:00:03\.0\/virtio\d/, 60_000);
    await console_.waitFor(/pci-disk-ok/, 60_000);
    await console_.waitFor(PROMPT, 60_000);
    child.stdin.write('poweroff\n');
    const code = await exited;
    assert.equal(code, 0, `exit code ${code}; stderr:\n${stderr}`);
    assert.match(stderr, /exit: poweroff/);
    assert.match(stderr, /guest instructions: \d+/);
    assert.doesNotMatch(console_.output, /virtio_mmio\.device=/, 'PCI devices are not announced on the command line');
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

async function bootAndCheck(memoryMiB: number, checkIdle = false): Promise<void> {
  const m = new Machine({
    memoryMiB,
    pacing: 'fast',
    kernel: new Uint8Array(readFileSync(resolve(root, 'guest/bzImage'))),
    initrd: new Uint8Array(readFileSync(resolve(root, 'guest/initramfs.cpio.gz'))),
    cmdline: 'console=ttyS0 panic=-1',
  });
  const { serial: s, send } = attachSerial(m);
  const done = m.run();
  try {
    await s.waitFor(PROMPT, BOOT_MS);
    send('grep MemTotal /proc/meminfo\n');
    const mt = await s.waitFor(/MemTotal:\s+(\d+) kB/, 60_000);
    const kib = Number(mt[1]);
    // The kernel keeps some for itself; what it reports must fit the RAM given and most of it.
    assert.ok(kib <= memoryMiB * 1024 && kib > memoryMiB * 1024 * 0.6, `MemTotal ${kib} kB with ${memoryMiB} MiB`);
    await s.waitFor(PROMPT, 60_000);
    if (checkIdle) {
      // Tickless on the HPET's one-shot: the idle guest's timer (IRQ0, vector 0x30) fires
      // a few times per second of virtual time, not every 27 ms as with the PIT alone.
      send('cat /sys/devices/system/clockevents/clockevent0/current_device\n');
      await s.waitFor(/\nhpet\r?\n/, 60_000);
      await s.waitFor(PROMPT, 60_000);
      const i0 = m.cpu.intCounts[0x30]!, t0 = m.clock.now();
      await new Promise((r) => setTimeout(r, 300));
      const perS = (m.cpu.intCounts[0x30]! - i0) / ((m.clock.now() - t0) / 1e9);
      assert.ok(m.clock.now() - t0 > 5e9, 'fast pacing skipped idle time');
      assert.ok(perS < 10, `idle guest takes ${perS.toFixed(1)} timer interrupts per virtual second`);
    }
    send('poweroff\n');
    const r = await done;
    assert.deepEqual(r, { kind: 'poweroff' });
    assert.ok(m.milestones.has('init started'), 'init milestone');
  } finally {
    m.stop('test ended');
    await done;
  }
}

// 24 MiB: the smallest RAM that holds this kernel's init_size (boot protocol) from 1 MiB.
test('the default guest boots with 24 MiB of RAM', { timeout: BOOT_MS + 60_000 }, () => bootAndCheck(24, true));
test('the default guest boots with 512 MiB of RAM', { timeout: BOOT_MS + 60_000 }, () => bootAndCheck(512));
