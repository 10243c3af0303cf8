// The default guest (guest/bzImage + guest/initramfs.cpio.gz) booted for real: a Linux
// kernel runs to its init and a busybox shell, answers commands typed on the serial
// port, and powers off through ACPI. Once through the `typevisor` command, as a user
// would (with a disk on the virtio-pci transport), and through the library with other
// memory sizes and on the binary translator.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { Machine, type CpuEngine } from '../../src/machine/Machine.js';
import { afterVirtualTime, attachSerial, SerialSession, PROMPT } from './serialSession.js';
import { DEFAULT_GUEST_MIN_MIB } from '../../src/cli/main.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const cli = resolve(root, 'dist/src/cli/main.js');
/** Wall-time guards against a hang only: a boot takes about 10 s of host time (more on a loaded host). */
const BOOT_MS = 240_000;
const HANG_GUARD_MS = 600_000;

test('typevisor run boots the default guest to a shell, runs a command, reads a --virtio-transport pci disk, powers off with exit code 0', { timeout: HANG_GUARD_MS }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'typevisor-cli-'));
  const img = join(dir, 'disk.img');
  writeFileSync(img, Buffer.concat([Buffer.from('pci-disk-ok\n'), Buffer.alloc((64 << 10) - 12)]));
  const child = spawn(process.execPath, [cli, 'run', '--fast', '--stats', '--virtio-transport', 'pci', '--drive', `file=${img},readonly`],
    { stdio: ['pipe', 'pipe', 'pipe'], cwd: root });
  const console_ = new SerialSession();
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => console_.push(b));
  child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => { console_.end(`typevisor exited (${code}); stderr:\n${stderr}`); r(code); }));
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
    // The default engine, the translator, says what it did.
    assert.match(stderr, /cpu engine: binary translator, (\d+\.\d)% of instructions ran translated/);
    assert.ok(Number(/(\d+\.\d)% of instructions ran translated/.exec(stderr)![1]) > 50, 'most of the boot ran translated');
    assert.match(stderr, /compiled: [1-9]\d* regions \(\d+ again by the optimizing compiler\), \d+ blocks/);
    assert.doesNotMatch(console_.output, /virtio_mmio\.device=/, 'PCI devices are not announced on the command line');
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Guest time the default guest gets to reach its prompt (it needs about 0.7 s) and to answer a command. */
const BOOT_VIRTUAL_MS = 20_000;
const COMMAND_VIRTUAL_MS = 10_000;

function defaultGuest(memoryMiB: number, cpu: CpuEngine = 'interp'): Machine {
  return new Machine({
    memoryMiB,
    cpu,
    pacing: 'fast',
    kernel: new Uint8Array(readFileSync(resolve(root, 'guest/bzImage'))),
    initrd: new Uint8Array(readFileSync(resolve(root, 'guest/initramfs.cpio.gz'))),
    cmdline: 'console=ttyS0 panic=-1',
  });
}

async function bootAndCheck(memoryMiB: number, checkIdle = false, cpu: CpuEngine = 'interp'): Promise<void> {
  const m = defaultGuest(memoryMiB, cpu);
  const { serial: s, send, run } = attachSerial(m);
  const done = run();
  try {
    await s.waitFor(PROMPT, BOOT_VIRTUAL_MS);
    send('grep MemTotal /proc/meminfo\n');
    const mt = await s.waitFor(/MemTotal:\s+(\d+) kB/, COMMAND_VIRTUAL_MS);
    const kib = Number(mt[1]);
    // The kernel keeps its image, page tables and page array (under 6 MiB, more with more
    // RAM); what it reports must fit the RAM given and hold the rest.
    assert.ok(kib <= memoryMiB * 1024 && kib > memoryMiB * 1024 * 0.97 - 6 * 1024, `MemTotal ${kib} kB with ${memoryMiB} MiB`);
    await s.waitFor(PROMPT, COMMAND_VIRTUAL_MS);
    if (checkIdle) {
      // Tickless on the HPET's one-shot: the idle guest's timer (IRQ0, vector 0x30) fires
      // a few times per second of virtual time, not every 27 ms as with the PIT alone.
      send('cat /sys/devices/system/clockevents/clockevent0/current_device\n');
      await s.waitFor(/\nhpet\r?\n/, COMMAND_VIRTUAL_MS);
      await s.waitFor(PROMPT, COMMAND_VIRTUAL_MS);
      const i0 = m.cpu.intCounts[0x30]!, t0 = m.clock.now();
      await afterVirtualTime(m.clock, 5000);
      const perS = (m.cpu.intCounts[0x30]! - i0) / ((m.clock.now() - t0) / 1e9);
      assert.ok(perS < 10, `idle guest takes ${perS.toFixed(1)} timer interrupts per virtual second`);
    }
    send('poweroff\n');
    const r = await done;
    assert.deepEqual(r, { kind: 'poweroff' });
    assert.ok(m.milestones.has('init started'), 'init milestone');
    if (cpu === 'jit') assert.ok(m.translator!.stats.translatedInsns > m.cpu.instructions / 2, 'most of the guest ran translated');
  } finally {
    m.stop('test ended');
    await done;
  }
}

// The least RAM the default guest reaches its shell in (the CLI refuses less), and one
// MiB below it, where its kernel panics for want of memory (panic=-1: it resets).
test(`the default guest boots with ${DEFAULT_GUEST_MIN_MIB} MiB of RAM, its minimum`, { timeout: HANG_GUARD_MS }, () => bootAndCheck(DEFAULT_GUEST_MIN_MIB, true));
test(`the default guest does not reach its shell with ${DEFAULT_GUEST_MIN_MIB - 1} MiB`, { timeout: HANG_GUARD_MS }, async () => {
  const m = defaultGuest(DEFAULT_GUEST_MIN_MIB - 1);
  const { serial: s, run } = attachSerial(m);
  const done = run();
  try {
    const seen = await s.waitFor(/Kernel panic - not syncing|typevisor:\/# /, BOOT_VIRTUAL_MS);
    assert.match(seen[0], /Kernel panic/, 'it panics instead of reaching its shell');
    assert.equal((await done).kind, 'reset', 'panic=-1: the panicked kernel resets the machine');
  } finally {
    m.stop('test ended');
    await done;
  }
});
test('the default guest boots with 512 MiB of RAM', { timeout: HANG_GUARD_MS }, () => bootAndCheck(512));
// The same through Machine.run on the binary translator (one boot: jitGuest.test.ts runs the
// guest on it in lockstep with the interpreter).
test('the default guest boots on the binary translator (cpu: jit)', { timeout: HANG_GUARD_MS }, () => bootAndCheck(64, false, 'jit'));
