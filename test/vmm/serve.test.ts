// End to end over the socket: `typevisor serve --api-sock` as a child process, the default
// guest configured and started through the API alone, the shell answering on the
// process's stdin/stdout, PATCH /vm Paused (the vCPU runs no instruction, input waits)
// and Resumed, then SIGTERM. And the same guest from Firecracker's --config-file format,
// powered off from its shell. Waits end on events; their bounds are hang guards
// (serveProcess.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PROMPT } from '../machine/serialSession.js';
import { api } from './apiClient.js';
import { BOOT_GUARD_MS, startServe, STEP_GUARD_MS, TEST_GUARD_MS, waitForSocket } from './serveProcess.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const bootSource = {
  kernel_image_path: join(ROOT, 'guest/bzImage'),
  initrd_path: join(ROOT, 'guest/initramfs.cpio.gz'),
  boot_args: 'console=ttyS0 panic=-1 tsc=reliable',
};

test('typevisor serve: boot the default guest through the API, use its shell, pause and resume, stop', { timeout: TEST_GUARD_MS }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'typevisor-serve-'));
  const sock = join(dir, 'api.sock');
  const { child, serial, stderr, exit } = startServe(['--api-sock', sock, '--fast', '--id', 'e2e-vm']);
  try {
    await waitForSocket(sock, exit);
    const put = async (path: string, body: unknown, method = 'PUT'): Promise<void> => {
      const r = await api(sock, method, path, body);
      assert.equal(r.status, 204, `${method} ${path}: ${r.text}`);
    };
    await put('/boot-source', bootSource);
    await put('/machine-config', { vcpu_count: 1, mem_size_mib: 128 });
    await put('/metrics', { metrics_path: join(dir, 'metrics.json') });
    const info = (await api(sock, 'GET', '/')).body as Record<string, unknown>;
    assert.deepEqual({ ...info, vmm_version: typeof info.vmm_version }, { id: 'e2e-vm', state: 'Not started', vmm_version: 'string', app_name: 'typevisor' });
    await put('/actions', { action_type: 'InstanceStart' });
    assert.equal(((await api(sock, 'GET', '/')).body as { state: string }).state, 'Running');
    await serial.waitFor(PROMPT, BOOT_GUARD_MS);
    child.stdin.write('echo api-$((6*7))\n');
    await serial.waitFor(/api-42/, STEP_GUARD_MS);
    await serial.waitFor(PROMPT, STEP_GUARD_MS);

    // Live counters of the running VM through FlushMetrics.
    type Metrics = { state: string; vcpu: { instructions: number }; exits: { io: number }; uart: { write_count: number }; guest: { virtual_time_ms: number } };
    const flush = async (): Promise<Metrics> => {
      await put('/actions', { action_type: 'FlushMetrics' });
      return JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8').trim().split('\n').at(-1)!) as Metrics;
    };
    const m = await flush();
    assert.equal(m.state, 'Running');
    assert.ok(m.vcpu.instructions > 1e6 && m.exits.io > 1000 && m.uart.write_count > 1000, JSON.stringify(m));
    await put('/vm', { state: 'Paused' }, 'PATCH');
    assert.equal(((await api(sock, 'GET', '/')).body as { state: string }).state, 'Paused');
    // Paused, the vCPU runs no instruction and virtual time stands still, input or not.
    // The counters come fresh from the VM thread at each flush; a --fast guest that was
    // not parked would run between any two of them (its loop runs slices between the
    // messages its thread takes), however slow the host. The sleep only lets the input
    // reach the VM; its length bounds nothing.
    const p0 = await flush();
    const before = serial.output.length;
    child.stdin.write('echo resumed-$((1+1))\n');
    await sleep(400);
    const p1 = await flush();
    assert.equal(p1.state, 'Paused');
    assert.deepEqual([p1.vcpu.instructions, p1.guest.virtual_time_ms], [p0.vcpu.instructions, p0.guest.virtual_time_ms], 'the paused guest ran');
    assert.equal(serial.output.length, before, `output while paused: ${JSON.stringify(serial.output.slice(before))}`);
    await put('/vm', { state: 'Resumed' }, 'PATCH');
    assert.equal(((await api(sock, 'GET', '/')).body as { state: string }).state, 'Running');
    await serial.waitFor(/resumed-2/, STEP_GUARD_MS);
    // No keyboard path: Ctrl-Alt-Del is the ACPI power button, which this guest ignores.
    await put('/actions', { action_type: 'SendCtrlAltDel' });
    // Pre-boot resources stay refused while running.
    assert.equal((await api(sock, 'PUT', '/boot-source', bootSource)).status, 400);

    child.kill('SIGTERM');
    assert.equal(await exit, 0, stderr());
    assert.ok(!existsSync(sock), 'the socket is removed at exit');
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('typevisor serve --config-file --no-api: Firecracker\'s config format boots the guest; poweroff ends the process', { timeout: TEST_GUARD_MS }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'typevisor-serve-'));
  const config = join(dir, 'vm.json');
  const disk = join(dir, 'disk.img');
  writeFileSync(disk, Buffer.alloc(1024 * 1024));
  writeFileSync(config, JSON.stringify({
    'boot-source': bootSource,
    'drives': [{ drive_id: 'data', path_on_host: disk, is_root_device: false, is_read_only: true }],
    'machine-config': { vcpu_count: 1, mem_size_mib: 64 },
    'entropy': {},
    'vsock': { guest_cid: 3, uds_path: join(dir, 'v.sock') },
  }));
  const { child, serial, stderr, exit } = startServe(['--config-file', config, '--no-api', '--fast']);
  try {
    await serial.waitFor(PROMPT, BOOT_GUARD_MS);
    child.stdin.write('cat /sys/block/vda/ro; cat /sys/block/vda/size\n');
    await serial.waitFor(/\b1\s+2048\b/, STEP_GUARD_MS);
    child.stdin.write('cat /sys/class/misc/hw_random/rng_current; head -c 16 /dev/hwrng | wc -c\n');
    await serial.waitFor(/virtio_rng\.\d+\s+16\b/, STEP_GUARD_MS);
    assert.ok(existsSync(join(dir, 'v.sock')), 'the vsock device listens on uds_path');
    child.stdin.write('poweroff -f\n');
    assert.equal(await exit, 0, stderr());
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
