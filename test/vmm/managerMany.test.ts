// The manager test: `typevisor manage` starts 20 small guests at once (24 MiB
// each, the default guest, worker threads) and a 21st that triple-faults; all 20 reach
// init on their console sockets; the faulted VM is listed as Exited; one guest is
// deleted (stopped) and every other one still answers a command on its console.
// The heaviest test of the suite (20 Linux boots, ~3 s of CPU each): real-time pacing,
// so guests already at their prompt idle cheaply while the others boot. On a loaded
// host the boots take as long as they take: waits end on events (the console text, a
// VM's exit, the manager's), and their bounds are hang guards (serveProcess.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROMPT } from '../machine/serialSession.js';
import { api } from './apiClient.js';
import { BOOT_GUARD_MS, bootSource, ConsoleClient, endSessionsOnExit, haveGuest, ok, startManager, STEP_GUARD_MS, tripleFaultKernel } from './managerSupport.js';

const GUESTS = 20;
/** Hang guards: the boots share the host's cores, so theirs is several single boots' guard. */
const BOOTS_GUARD_MS = 3 * BOOT_GUARD_MS;
const skip = haveGuest ? false : 'the default guest (guest/bzImage, guest/initramfs.cpio.gz) is missing';

test(`typevisor manage: ${GUESTS} guests at once all reach init; a triple fault and a deleted VM leave the others running`, { skip, timeout: BOOTS_GUARD_MS + 10 * STEP_GUARD_MS }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'typevisor-many-'));
  const sock = join(dir, 'api.sock');
  const t0 = Date.now();
  const { child, stderr } = await startManager(sock);
  const byId = new Map<string, ConsoleClient>();
  const watch = endSessionsOnExit(sock, byId);
  try {
    const ids = Array.from({ length: GUESTS }, (_, i) => `vm${i}`);
    // Create and configure every VM, connect its console, then start them all at once.
    await Promise.all(ids.map(async (id) => {
      await ok(sock, 'PUT', `/vms/${id}`);
      await ok(sock, 'PUT', `/vms/${id}/boot-source`, bootSource);
      await ok(sock, 'PUT', `/vms/${id}/machine-config`, { vcpu_count: 1, mem_size_mib: 24 });
      const info = (await api(sock, 'GET', `/vms/${id}`)).body as { console_socket: string };
      byId.set(id, await ConsoleClient.open(info.console_socket));
    }));
    const triple = join(dir, 'triple.bin');
    writeFileSync(triple, tripleFaultKernel());
    await ok(sock, 'PUT', '/vms/crash');
    await ok(sock, 'PUT', '/vms/crash/boot-source', { kernel_image_path: triple });
    await ok(sock, 'PUT', '/vms/crash/machine-config', { vcpu_count: 1, mem_size_mib: 8 });
    await Promise.all([...ids, 'crash'].map((id) => ok(sock, 'PUT', `/vms/${id}/actions`, { action_type: 'InstanceStart' })));

    // All 20 reach init and their shell prompt (in whatever order the host schedules them).
    await Promise.all(ids.map(async (id) => {
      const s = byId.get(id)!.serial;
      await s.waitFor(/Run \/init as init process/, BOOTS_GUARD_MS);
      await s.waitFor(PROMPT, BOOT_GUARD_MS);
    }));
    const booted = Date.now() - t0;

    // The triple-faulted VM ended alone and stays listed, with its exit.
    const list = ((await api(sock, 'GET', '/vms')).body as { vms: { id: string; state: string; exit: { kind: string } | null }[] }).vms;
    assert.equal(list.length, GUESTS + 1);
    const crash = list.find((v) => v.id === 'crash')!;
    assert.equal(crash.state, 'Exited');
    assert.equal(crash.exit?.kind, 'triple-fault');
    assert.deepEqual(list.filter((v) => v.id !== 'crash').map((v) => v.state), ids.map(() => 'Running'));
    assert.equal(((await api(sock, 'GET', '/vms/crash/')).body as { state: string }).state, 'Exited');

    // Kill one; every other one answers on its console.
    await ok(sock, 'DELETE', `/vms/${ids[0]}`);
    await Promise.all(ids.slice(1).map(async (id, i) => {
      const c = byId.get(id)!;
      c.type(`echo alive-$((${i} * 3))`);
      await c.serial.waitFor(new RegExp(`alive-${i * 3}\\b`), STEP_GUARD_MS);
    }));
    // Live readouts of a running guest.
    const st = (await api(sock, 'GET', `/vms/${ids[1]}/stats`)).body as { state: string; uptime_ms: number; counters: { instructions: number; io_exits: number } };
    assert.equal(st.state, 'Running');
    assert.ok(st.uptime_ms > 0 && st.counters.instructions > 1e7 && st.counters.io_exits > 1000, JSON.stringify(st));
    process.stderr.write(`# ${GUESTS} guests at their prompt ${(booted / 1000).toFixed(1)} s after the manager started; whole test ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    child.kill('SIGTERM');
  } catch (e) {
    throw new Error(`${(e as Error).message}\nmanager stderr: ${stderr()}`);
  } finally {
    watch.stop();
    for (const c of byId.values()) c.close();
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
