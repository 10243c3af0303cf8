// Snapshots through Firecracker's API, as issue #6 asks: the default guest booted by
// `typevisor serve` through the API alone (boot-source, machine-config, a drive,
// InstanceStart), paused, resumed, paused, snapshotted with PUT /snapshot/create, the
// process killed, the snapshot loaded into a fresh `typevisor serve` with PUT
// /snapshot/load, resumed, and the guest carries on: the shell answers, the disk reads.
// The refusals Firecracker specifies are checked on the way (not paused, Diff, Uffd,
// load after configuring, load twice).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROMPT } from '../machine/serialSession.js';
import { api } from './apiClient.js';
import { ROOT, startServe, waitForSocket } from './serveProcess.js';
import { haveGuest } from '../devices/virtio/guestBoot.js';

const skip = haveGuest ? false : 'the default guest (guest/bzImage) is not built';
const BOOT_MS = 120_000;

test('API: boot, pause, resume, pause, snapshot/create, kill, snapshot/load into a fresh serve, resume: the guest continues', { skip, timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'typevisor-apisnap-'));
  const disk = join(dir, 'disk.img');
  const img = Buffer.alloc(1 << 20);
  img.write('api-disk-marker', 0);
  writeFileSync(disk, img);
  const state = join(dir, 'vm.state');
  const mem = join(dir, 'vm.mem');
  const sock1 = join(dir, 'api1.sock');
  const sock2 = join(dir, 'api2.sock');
  const first = startServe(['--api-sock', sock1, '--fast']);
  let second: ReturnType<typeof startServe> | null = null;
  const call = async (sock: string, method: string, path: string, body: unknown, status: number, fault?: RegExp): Promise<void> => {
    const r = await api(sock, method, path, body);
    assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
    if (fault) assert.match((r.body as { fault_message: string }).fault_message, fault);
  };
  const stateOf = async (sock: string): Promise<string> => ((await api(sock, 'GET', '/')).body as { state: string }).state;
  try {
    await waitForSocket(sock1, 10_000);
    await call(sock1, 'PUT', '/snapshot/create', { snapshot_path: state, mem_file_path: mem }, 400, /not supported before starting/);
    await call(sock1, 'PUT', '/boot-source', {
      kernel_image_path: join(ROOT, 'guest/bzImage'), initrd_path: join(ROOT, 'guest/initramfs.cpio.gz'),
      boot_args: 'console=ttyS0 panic=-1 tsc=reliable',
    }, 204);
    await call(sock1, 'PUT', '/machine-config', { vcpu_count: 1, mem_size_mib: 32 }, 204);
    await call(sock1, 'PUT', '/drives/data', { drive_id: 'data', path_on_host: disk, is_root_device: false, is_read_only: false }, 204);
    await call(sock1, 'PUT', '/snapshot/load', { snapshot_path: state, mem_file_path: mem }, 400, /not allowed after configuring boot-specific resources/);
    await call(sock1, 'PUT', '/actions', { action_type: 'InstanceStart' }, 204);
    await first.serial.waitFor(PROMPT, BOOT_MS);
    first.child.stdin.write('echo first-$((6*7))\n');
    await first.serial.waitFor(/first-42/, 30_000);
    await first.serial.waitFor(PROMPT, 30_000);

    await call(sock1, 'PUT', '/snapshot/create', { snapshot_path: state, mem_file_path: mem }, 400, /must be Paused first/);
    await call(sock1, 'PATCH', '/vm', { state: 'Paused' }, 204);
    await call(sock1, 'PATCH', '/vm', { state: 'Resumed' }, 204);
    assert.equal(await stateOf(sock1), 'Running');
    await call(sock1, 'PATCH', '/vm', { state: 'Paused' }, 204);
    await call(sock1, 'PUT', '/snapshot/create', { snapshot_path: state, mem_file_path: mem, snapshot_type: 'Diff' }, 400, /Diff snapshots are not supported/);
    await call(sock1, 'PUT', '/snapshot/create', { snapshot_path: state, mem_file_path: mem, snapshot_type: 'Full' }, 204);
    assert.equal(statSync(mem).size, 32 << 20);
    assert.equal(await stateOf(sock1), 'Paused', 'the VM stays paused after a snapshot');
    first.child.kill('SIGKILL');
    await first.exit;

    second = startServe(['--api-sock', sock2, '--fast']);
    await waitForSocket(sock2, 10_000);
    await call(sock2, 'PUT', '/snapshot/load', { snapshot_path: state, mem_backend: { backend_type: 'Uffd', backend_path: mem } }, 400, /Uffd memory backend is not supported/);
    await call(sock2, 'PUT', '/snapshot/load', { snapshot_path: state, mem_backend: { backend_type: 'File', backend_path: mem }, mem_file_path: mem }, 400, /Exactly one of mem_backend and mem_file_path/);
    await call(sock2, 'PUT', '/snapshot/load', { snapshot_path: mem, mem_file_path: mem }, 400, /not a typevisor snapshot state file/);
    await call(sock2, 'PUT', '/snapshot/load', { snapshot_path: state, mem_backend: { backend_type: 'File', backend_path: mem }, resume_vm: false }, 204);
    assert.equal(await stateOf(sock2), 'Paused');
    assert.equal(((await api(sock2, 'GET', '/machine-config')).body as { mem_size_mib: number }).mem_size_mib, 32);
    await call(sock2, 'PUT', '/snapshot/load', { snapshot_path: state, mem_file_path: mem }, 400, /not supported after starting/);
    await call(sock2, 'PUT', '/boot-source', { kernel_image_path: join(ROOT, 'guest/bzImage') }, 400, /not supported after starting/);
    await call(sock2, 'PATCH', '/vm', { state: 'Resumed' }, 204);
    assert.equal(await stateOf(sock2), 'Running');
    second.child.stdin.write('echo second-$((6*7)); head -c 15 /dev/vda; echo\n');
    await second.serial.waitFor(/second-42/, 30_000);
    await second.serial.waitFor(/api-disk-marker/, 30_000);
    // A snapshot of the restored VM works too.
    await call(sock2, 'PATCH', '/vm', { state: 'Paused' }, 204);
    await call(sock2, 'PUT', '/snapshot/create', { snapshot_path: join(dir, 'again.state'), mem_file_path: join(dir, 'again.mem') }, 204);
  } finally {
    first.child.kill('SIGKILL');
    second?.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
