// Serial input flow control: a console client that writes far more than its guest takes
// (here: the guest is paused) is not read beyond INPUT_HIGH_WATER of backlog, so it
// cannot grow the VM's memory; once the guest reads again everything arrives. In a worker
// thread (in-process manager) and with --process-per-vm, where a VM process killed while
// paused still reads back the counters it had at the pause.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { ApiServer } from '../../src/vmm/api/ApiServer.js';
import { Manager } from '../../src/vmm/Manager.js';
import { INPUT_HIGH_WATER } from '../../src/vmm/VmWorker.js';
import { api } from './apiClient.js';
import { busyKernel, multiboot, ok, startManager, TEST_GUARD_MS } from './managerSupport.js';

const dir = mkdtempSync(join(tmpdir(), 'typevisor-flow-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Raises DTR and RTS on COM1, then reads every byte that arrives, forever (polling LSR). */
function readerKernel(): Uint8Array {
  return multiboot([
    0x66, 0xba, 0xfc, 0x03, 0xb0, 0x03, 0xee, // mov dx,0x3fc; mov al,3; out dx,al
    0x66, 0xba, 0xfd, 0x03, 0xec, 0xa8, 0x01, 0x74, 0xf7, // l1: mov dx,0x3fd; in al,dx; test al,1; jz l1
    0x66, 0xba, 0xf8, 0x03, 0xec, 0xeb, 0xf0, // mov dx,0x3f8; in al,dx; jmp l1
  ]);
}

const INPUT_BYTES = 1 << 20;
/** A socket hands the manager at most this much at a time, over the high-water mark. */
const CHUNK = 64 * 1024;

interface Stats { state: string; serial_input_backlog: number; counters: { instructions: number } }

/** GET /vms/{id}/stats, after `pauseMs` when polling for a change. */
async function stats(sock: string, id: string, pauseMs = 0): Promise<Stats> {
  if (pauseMs > 0) await sleep(pauseMs);
  const r = await api(sock, 'GET', `/vms/${id}/stats`);
  assert.equal(r.status, 200, r.text);
  return r.body as Stats;
}

/** Pause the reading guest, write INPUT_BYTES to its console, check the backlog stays bounded, resume: all of it is taken. */
async function floodPausedGuest(sock: string, consoleDir: string, id: string): Promise<void> {
  writeFileSync(join(dir, 'reader.bin'), readerKernel());
  await ok(sock, 'PUT', `/vms/${id}`);
  await ok(sock, 'PUT', `/vms/${id}/boot-source`, { kernel_image_path: join(dir, 'reader.bin') });
  await ok(sock, 'PUT', `/vms/${id}/machine-config`, { vcpu_count: 1, mem_size_mib: 8 });
  await ok(sock, 'PUT', `/vms/${id}/actions`, { action_type: 'InstanceStart' });
  await ok(sock, 'PATCH', `/vms/${id}/vm`, { state: 'Paused' });
  const client: Socket = connect(join(consoleDir, `${id}.console`));
  client.on('error', () => {});
  try {
    await new Promise<void>((r) => client.once('connect', () => r()));
    let written = false;
    const allWritten = new Promise<void>((r) => client.write(Buffer.alloc(INPUT_BYTES, 0x61), () => { written = true; r(); }));
    // The backlog fills to the mark (the guest takes nothing while paused)...
    let s = await stats(sock, id);
    while (s.serial_input_backlog < INPUT_HIGH_WATER) s = await stats(sock, id, 10);
    // ...and stays there: the client is no longer read (before, all of it went into the VM).
    for (let i = 0; i < 20; i++) {
      s = await stats(sock, id);
      assert.ok(s.serial_input_backlog <= INPUT_HIGH_WATER + CHUNK, `backlog ${s.serial_input_backlog} bytes`);
    }
    assert.ok(!written, 'the client\'s write waits in its own socket');
    await ok(sock, 'PATCH', `/vms/${id}/vm`, { state: 'Resumed' });
    await allWritten;
    while ((await stats(sock, id, 10)).serial_input_backlog > 0) { /* the guest takes the rest */ }
  } finally {
    client.destroy();
  }
}

test('manager (worker threads): console input is held at the high-water mark while the guest does not read, then all arrives', { timeout: TEST_GUARD_MS }, async () => {
  const manager = new Manager({ consoleDir: dir, pacing: 'fast' });
  const server = new ApiServer(manager);
  const sock = join(dir, 'thread.sock');
  await server.listen(sock);
  try {
    await floodPausedGuest(sock, dir, 'rt');
  } finally {
    await manager.shutdown();
    await server.close();
  }
});

test('manage --process-per-vm: console input held the same way; a VM process killed while paused keeps its counters', { timeout: TEST_GUARD_MS }, async (t) => {
  const sock = join(dir, 'proc.sock');
  const { child, stderr } = await startManager(sock, ['--process-per-vm', '--fast']);
  t.after(() => { child.kill('SIGKILL'); }); // also when the test times out
  try {
    await floodPausedGuest(sock, dir, 'rp');
    // A VM whose counters were never asked for, killed while paused.
    writeFileSync(join(dir, 'busy.bin'), busyKernel());
    await ok(sock, 'PUT', '/vms/k');
    await ok(sock, 'PUT', '/vms/k/boot-source', { kernel_image_path: join(dir, 'busy.bin') });
    await ok(sock, 'PUT', '/vms/k/machine-config', { vcpu_count: 1, mem_size_mib: 8 });
    await ok(sock, 'PUT', '/vms/k/actions', { action_type: 'InstanceStart' });
    await ok(sock, 'PATCH', '/vms/k/vm', { state: 'Paused' });
    const pid = ((await api(sock, 'GET', '/vms/k')).body as { pid: number }).pid;
    process.kill(pid, 'SIGKILL');
    let s = await stats(sock, 'k');
    while (s.state !== 'Exited') s = await stats(sock, 'k', 10);
    assert.ok(s.counters.instructions > 0, `counters after the kill: ${JSON.stringify(s.counters)}`);
    child.kill('SIGTERM');
  } catch (e) {
    throw new Error(`${(e as Error).message}\nmanager stderr: ${stderr()}`);
  }
});
