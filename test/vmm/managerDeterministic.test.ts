// Deterministic VMs through the manager's API (PUT /vms/{id} {"deterministic": true,
// "seed": N}): two such VMs booting the same guest print the same console output, byte
// for byte, printk timestamps included, however the host schedules them; the summary
// says so; a seed without deterministic, and a network interface or vsock on a
// deterministic VM, are refused with a reason.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiServer } from '../../src/vmm/api/ApiServer.js';
import { Manager } from '../../src/vmm/Manager.js';
import { PROMPT } from '../machine/serialSession.js';
import { api } from './apiClient.js';
import { bootSource, CLI, haveGuest, ok, BOOT_GUARD_MS, TEST_GUARD_MS, waitUntil } from './managerSupport.js';

const dir = mkdtempSync(join(tmpdir(), 'typevisor-mgr-det-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const skip = haveGuest ? false : 'the default guest (guest/bzImage, guest/initramfs.cpio.gz) is missing';

test('two deterministic VMs of the manager boot to the same console output, printk timestamps included', { skip, timeout: TEST_GUARD_MS }, async () => {
  const manager = new Manager({ consoleDir: dir, pacing: 'realtime' });
  const server = new ApiServer(manager);
  const sock = join(dir, 'det.sock');
  await server.listen(sock);
  try {
    const boot = { ...bootSource, boot_args: `${bootSource.boot_args} printk.time=1` };
    for (const id of ['a', 'b']) {
      await ok(sock, 'PUT', `/vms/${id}`, { deterministic: true, seed: 7 });
      await ok(sock, 'PUT', `/vms/${id}/boot-source`, boot);
      await ok(sock, 'PUT', `/vms/${id}/machine-config`, { vcpu_count: 1, mem_size_mib: 32 });
    }
    const summary = (await api(sock, 'GET', '/vms/a')).body as { deterministic: boolean; seed: number };
    assert.equal(summary.deterministic, true);
    assert.equal(summary.seed, 7);
    await ok(sock, 'PUT', '/vms/a/actions', { action_type: 'InstanceStart' });
    await ok(sock, 'PUT', '/vms/b/actions', { action_type: 'InstanceStart' });
    const consoleOf = async (id: string): Promise<string> => ((await api(sock, 'GET', `/vms/${id}/console`)).body as { output: string }).output;
    const outputs: string[] = [];
    for (const id of ['a', 'b']) {
      await waitUntil(`VM ${id} reaches its shell prompt`, async () => PROMPT.test(await consoleOf(id)), { guardMs: BOOT_GUARD_MS });
      outputs.push(await consoleOf(id));
    }
    // The prompt ends what the guest prints unasked; both end there.
    const upToPrompt = outputs.map((o) => o.slice(0, o.search(PROMPT)));
    assert.match(upToPrompt[0]!, /\[\s*\d+\.\d{6}\] /, 'printk timestamps are in the output');
    assert.equal(upToPrompt[1], upToPrompt[0]);
  } finally {
    await server.close();
    await manager.shutdown();
  }
});

test('the manager refuses a seed without deterministic, and a deterministic VM with a network interface', async () => {
  const manager = new Manager({ consoleDir: dir, pacing: 'fast' });
  const server = new ApiServer(manager);
  const sock = join(dir, 'refuse.sock');
  await server.listen(sock);
  try {
    const r = await api(sock, 'PUT', '/vms/x', { seed: 3 });
    assert.equal(r.status, 400);
    assert.match((r.body as { fault_message: string }).fault_message, /seed needs "deterministic": true/);
    const bad = await api(sock, 'PUT', '/vms/x', { deterministic: true, seed: -1 });
    assert.equal(bad.status, 400);
    await ok(sock, 'PUT', '/vms/n', { deterministic: true });
    await ok(sock, 'PUT', '/vms/n/boot-source', bootSource);
    const net = await api(sock, 'PUT', '/vms/n/network-interfaces/eth0', { iface_id: 'eth0', host_dev_name: 'tvtap-unused' });
    assert.equal(net.status, 400);
    assert.match((net.body as { fault_message: string }).fault_message, /deterministic microVM cannot have network interfaces/);
    const vsock = await api(sock, 'PUT', '/vms/n/vsock', { guest_cid: 3, uds_path: join(dir, 'v.sock') });
    assert.equal(vsock.status, 400);
    assert.match((vsock.body as { fault_message: string }).fault_message, /deterministic microVM cannot have a vsock device/);
  } finally {
    await server.close();
    await manager.shutdown();
  }
});

test('typevisor serve --deterministic --seed: a seed needs --deterministic, and must be a 32-bit whole number', () => {
  const serve = (...args: string[]): { status: number | null; stderr: string } => spawnSync(process.execPath, [CLI, 'serve', '--api-sock', join(dir, 'never.sock'), ...args], { encoding: 'utf8' });
  const lone = serve('--seed', '5');
  assert.equal(lone.status, 1);
  assert.match(lone.stderr, /--seed needs --deterministic/);
  const big = serve('--deterministic', '--seed', '4294967296');
  assert.equal(big.status, 1);
  assert.match(big.stderr, /--seed takes a whole number from 0 to 4294967295/);
});
