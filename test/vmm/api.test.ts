// The API server's answers to every class of malformed request (table-driven), the
// pre-boot-only resources after InstanceStart, logger and metrics files, and a guest
// that triple-faults ending its worker but not the server.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiServer, MAX_BODY_BYTES } from '../../src/vmm/api/ApiServer.js';
import { Vmm } from '../../src/vmm/Vmm.js';
import type { VmExit } from '../../src/vmm/VmWorker.js';
import { api } from './apiClient.js';
import { applyConfigFile } from '../../src/vmm/configFile.js';
import { KERNEL, INITRD, tripleFaultKernel } from './managerSupport.js';
const dir = mkdtempSync(join(tmpdir(), 'typevisor-api-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const disk = join(dir, 'disk.img');
writeFileSync(disk, Buffer.alloc(64 * 1024));

async function serverFor(name: string, onVmExit?: (e: VmExit) => void): Promise<{ sock: string; server: ApiServer; vmm: Vmm }> {
  const vmm = new Vmm({ pacing: 'fast', serialOut: () => {}, ...(onVmExit ? { onVmExit } : {}) });
  const server = new ApiServer(vmm);
  const sock = join(dir, `${name}.sock`);
  await server.listen(sock);
  return { sock, server, vmm };
}

interface Case {
  name: string;
  method: string;
  path: string;
  body?: unknown;
  status?: number;
  fault: RegExp;
}

const bootSource = { kernel_image_path: KERNEL, initrd_path: INITRD, boot_args: 'console=ttyS0 panic=-1 tsc=reliable' };

// Before InstanceStart, in order (the first needs no boot source yet).
const PRE_BOOT: Case[] = [
  { name: 'start without a boot source', method: 'PUT', path: '/actions', body: { action_type: 'InstanceStart' }, fault: /without kernel configuration/ },
  { name: 'bad JSON', method: 'PUT', path: '/boot-source', body: '{"kernel_image_path": ', fault: /not valid JSON/ },
  { name: 'empty body', method: 'PUT', path: '/boot-source', body: '', fault: /needs a JSON body/ },
  { name: 'body not an object', method: 'PUT', path: '/boot-source', body: '[1,2]', fault: /body must be an object, got an array/ },
  { name: 'null body', method: 'PUT', path: '/machine-config', body: 'null', fault: /body must be an object, got null/ },
  { name: 'wrong type (string for integer)', method: 'PUT', path: '/machine-config', body: { vcpu_count: '1', mem_size_mib: 128 }, fault: /vcpu_count must be an integer, got a string/ },
  { name: 'wrong type (float for integer)', method: 'PUT', path: '/machine-config', body: { vcpu_count: 1, mem_size_mib: 12.5 }, fault: /mem_size_mib must be an integer, got a number/ },
  { name: 'wrong type (string for boolean)', method: 'PUT', path: '/drives/rootfs', body: { drive_id: 'rootfs', path_on_host: disk, is_root_device: 'yes' }, fault: /is_root_device must be a boolean/ },
  { name: 'unknown field', method: 'PUT', path: '/boot-source', body: { ...bootSource, kernel: 'x' }, fault: /unknown field "kernel"/ },
  { name: 'known but unsupported field', method: 'PUT', path: '/drives/rootfs', body: { drive_id: 'rootfs', path_on_host: disk, is_root_device: true, rate_limiter: {} }, fault: /"rate_limiter" is not supported by typevisor yet/ },
  { name: 'missing required field', method: 'PUT', path: '/boot-source', body: { initrd_path: INITRD }, fault: /missing required field "kernel_image_path"/ },
  { name: 'missing required field (drive)', method: 'PUT', path: '/drives/rootfs', body: { drive_id: 'rootfs', path_on_host: disk }, fault: /missing required field "is_root_device"/ },
  { name: 'kernel path that does not exist', method: 'PUT', path: '/boot-source', body: { kernel_image_path: join(dir, 'nope') }, fault: /does not exist/ },
  { name: 'drive path that is a directory', method: 'PUT', path: '/drives/rootfs', body: { drive_id: 'rootfs', path_on_host: dir, is_root_device: true }, fault: /not a regular file/ },
  { name: 'enum value out of range', method: 'PATCH', path: '/vm', body: { state: 'Frozen' }, fault: /state must be one of "Paused", "Resumed"/ },
  { name: 'action not in the enum', method: 'PUT', path: '/actions', body: { action_type: 'Reboot' }, fault: /action_type must be one of/ },
  { name: 'vcpu_count above the schema maximum', method: 'PUT', path: '/machine-config', body: { vcpu_count: 33, mem_size_mib: 128 }, fault: /vcpu_count must be at most 32/ },
  { name: 'more than one vCPU', method: 'PUT', path: '/machine-config', body: { vcpu_count: 2, mem_size_mib: 128 }, fault: /vcpu_count must be 1/ },
  { name: 'memory too small', method: 'PUT', path: '/machine-config', body: { vcpu_count: 1, mem_size_mib: 1 }, fault: /mem_size_mib must be from 4 to/ },
  { name: 'oversized body', method: 'PUT', path: '/boot-source', body: JSON.stringify({ ...bootSource, boot_args: 'x'.repeat(MAX_BODY_BYTES) }), fault: /larger than the limit of 51200/ },
  { name: 'path traversal in an id', method: 'PUT', path: '/drives/../../etc/passwd', body: { drive_id: 'x', path_on_host: disk, is_root_device: false }, fault: /Invalid request path/ },
  { name: 'encoded traversal in an id', method: 'PUT', path: '/drives/..%2F..%2Fetc', body: { drive_id: 'x', path_on_host: disk, is_root_device: false }, fault: /Invalid request path/ },
  { name: 'id with odd characters', method: 'PUT', path: '/network-interfaces/eth-0', body: { iface_id: 'eth-0', host_dev_name: 'tap0' }, fault: /Invalid id "eth-0"/ },
  { name: 'id too long', method: 'PUT', path: `/drives/${'a'.repeat(65)}`, body: { drive_id: 'a'.repeat(65), path_on_host: disk, is_root_device: false }, fault: /Invalid id/ },
  { name: 'id in path and body differ', method: 'PUT', path: '/drives/rootfs', body: { drive_id: 'other', path_on_host: disk, is_root_device: true }, fault: /id from the path does not match/ },
  { name: 'bad guest MAC', method: 'PUT', path: '/network-interfaces/eth0', body: { iface_id: 'eth0', host_dev_name: 'tap0', guest_mac: 'zz:00' }, fault: /not a MAC address/ },
  { name: 'vsock CID below the schema minimum', method: 'PUT', path: '/vsock', body: { guest_cid: 2, uds_path: join(dir, 'v.sock') }, fault: /guest_cid must be at least 3/ },
  { name: 'vsock socket in a missing directory', method: 'PUT', path: '/vsock', body: { guest_cid: 3, uds_path: join(dir, 'nope', 'v.sock') }, fault: /does not exist/ },
  { name: 'entropy rate limiter', method: 'PUT', path: '/entropy', body: { rate_limiter: {} }, fault: /"rate_limiter" is not supported by typevisor yet/ },
  { name: 'tap network interface that does not exist', method: 'PUT', path: '/network-interfaces/eth0', body: { iface_id: 'eth0', host_dev_name: 'tvnosuch1', guest_mac: '06:00:ac:10:00:02' }, fault: /there is no network interface tvnosuch1; create it with `ip tuntap add|\/dev\/net\/tun does not exist/ },
  { name: 'query string', method: 'GET', path: '/?verbose=1', fault: /Invalid request path/ },
  { name: 'unknown endpoint', method: 'GET', path: '/nope', fault: /Invalid request method and\/or path: GET \/nope/ },
  { name: 'unknown method', method: 'DELETE', path: '/drives/rootfs', fault: /Invalid request method and\/or path: DELETE/ },
  { name: 'Firecracker endpoint not supported yet', method: 'PUT', path: '/balloon', body: { amount_mib: 1, deflate_on_oom: false }, fault: /PUT \/balloon is not supported by typevisor yet/ },
  { name: 'PATCH drive before start (post-boot only)', method: 'PATCH', path: '/drives/rootfs', body: { drive_id: 'rootfs' }, fault: /not supported before starting the microVM/ },
  { name: 'GET with a body', method: 'GET', path: '/machine-config', body: { x: 1 }, fault: /takes no body/ },
  { name: 'pause before start', method: 'PATCH', path: '/vm', body: { state: 'Paused' }, fault: /not running/ },
  { name: 'FlushMetrics without metrics', method: 'PUT', path: '/actions', body: { action_type: 'FlushMetrics' }, fault: /metrics system is not initialized/ },
  { name: 'SendCtrlAltDel before start', method: 'PUT', path: '/actions', body: { action_type: 'SendCtrlAltDel' }, fault: /needs a running microVM/ },
];

const AFTER: Case[] = [
  { name: 'boot-source after start', method: 'PUT', path: '/boot-source', body: bootSource, fault: /not supported after starting/ },
  { name: 'machine-config after start', method: 'PUT', path: '/machine-config', body: { vcpu_count: 1, mem_size_mib: 64 }, fault: /not supported after starting/ },
  { name: 'machine-config PATCH after start', method: 'PATCH', path: '/machine-config', body: { mem_size_mib: 64 }, fault: /not supported after starting/ },
  { name: 'drive after start', method: 'PUT', path: '/drives/data', body: { drive_id: 'data', path_on_host: disk, is_root_device: false }, fault: /not supported after starting/ },
  { name: 'network interface after start', method: 'PUT', path: '/network-interfaces/eth1', body: { iface_id: 'eth1', host_dev_name: 'tap1' }, fault: /not supported after starting/ },
  { name: 'entropy after start', method: 'PUT', path: '/entropy', body: {}, fault: /not supported after starting/ },
  { name: 'vsock after start', method: 'PUT', path: '/vsock', body: { guest_cid: 3, uds_path: join(dir, 'v2.sock') }, fault: /not supported after starting/ },
  { name: 'serial after start', method: 'PUT', path: '/serial', body: { serial_out_path: join(dir, 's') }, fault: /not supported after starting/ },
  { name: 'second InstanceStart', method: 'PUT', path: '/actions', body: { action_type: 'InstanceStart' }, fault: /not supported after starting/ },
];

async function check(sock: string, c: Case): Promise<void> {
  const r = await api(sock, c.method, c.path, c.body);
  assert.equal(r.status, c.status ?? 400, `${c.name}: status ${r.status}, body ${r.text}`);
  const fault = (r.body as { fault_message?: unknown } | null)?.fault_message;
  assert.equal(typeof fault, 'string', `${c.name}: no fault_message in ${r.text}`);
  assert.match(fault as string, c.fault, c.name);
  assert.deepEqual(Object.keys(r.body as object), ['fault_message'], `${c.name}: Firecracker's error shape`);
}

test('every malformed request gets a 400 with a fault_message, and the pre-boot resources are refused after start', async () => {
  const { sock, server, vmm } = await serverFor('table');
  try {
    for (const c of PRE_BOOT) await check(sock, c);
    // Nothing refused above changed the configuration.
    assert.deepEqual((await api(sock, 'GET', '/machine-config')).body, { vcpu_count: 1, mem_size_mib: 128, smt: false, track_dirty_pages: false, huge_pages: 'None' });
    // Valid requests: 204 and no body, as Firecracker answers.
    for (const [m, p, b] of [
      ['PUT', '/boot-source', bootSource],
      ['PUT', '/machine-config', { vcpu_count: 1, mem_size_mib: 64 }],
      ['PATCH', '/machine-config', { mem_size_mib: 96 }],
      ['PUT', '/drives/rootfs', { drive_id: 'rootfs', path_on_host: disk, is_root_device: false, is_read_only: true }],
      ['PUT', '/logger', { log_path: join(dir, 'log'), level: 'Info' }],
      ['PUT', '/metrics', { metrics_path: join(dir, 'metrics') }],
      ['PUT', '/serial', { serial_out_path: join(dir, 'serial') }],
      ['PUT', '/entropy', {}],
      ['PUT', '/vsock', { guest_cid: 3, uds_path: join(dir, 'v.sock') }],
    ] as const) {
      const r = await api(sock, m, p, b);
      assert.equal(r.status, 204, `${m} ${p}: ${r.text}`);
      assert.equal(r.text, '');
    }
    assert.equal(((await api(sock, 'GET', '/machine-config')).body as { mem_size_mib: number }).mem_size_mib, 96);
    await check(sock, { name: 'refused, and logged', method: 'PUT', path: '/boot-source', body: {}, fault: /missing required field/ });
    assert.equal((await api(sock, 'PUT', '/actions', { action_type: 'FlushMetrics' })).status, 204);
    const metrics = JSON.parse(readFileSync(join(dir, 'metrics'), 'utf8').trim().split('\n').at(-1)!) as { state: string };
    assert.equal(metrics.state, 'Not started');
    // Start on a fresh Vmm (the drive and vsock above are not needed).
    const fresh = await serverFor('table2');
    try {
      assert.equal((await api(fresh.sock, 'PUT', '/boot-source', bootSource)).status, 204);
      const start = await api(fresh.sock, 'PUT', '/actions', { action_type: 'InstanceStart' });
      assert.equal(start.status, 204, start.text);
      for (const c of AFTER) await check(fresh.sock, c);
      assert.equal((await api(fresh.sock, 'GET', '/')).status, 200);
      assert.equal(fresh.server.answered.get(500), undefined);
    } finally {
      await fresh.vmm.shutdown();
      await fresh.server.close();
    }
    assert.match(readFileSync(join(dir, 'log'), 'utf8'), /request refused \(400\)/);
    assert.equal(server.answered.get(500), undefined);
  } finally {
    await vmm.shutdown();
    await server.close();
  }
});

test('a guest that triple-faults ends its VM worker; the server keeps answering', async () => {
  const kernel = join(dir, 'triple.bin');
  writeFileSync(kernel, tripleFaultKernel());
  let exited!: (e: VmExit) => void;
  const exit = new Promise<VmExit>((r) => { exited = r; });
  const { sock, server, vmm } = await serverFor('crash', (e) => exited(e));
  try {
    assert.equal((await api(sock, 'PUT', '/boot-source', { kernel_image_path: kernel })).status, 204);
    assert.equal((await api(sock, 'PUT', '/machine-config', { vcpu_count: 1, mem_size_mib: 16 })).status, 204);
    assert.equal((await api(sock, 'PUT', '/actions', { action_type: 'InstanceStart' })).status, 204);
    const e = await exit;
    assert.equal(e.kind, 'triple-fault', e.reason);
    const info = await api(sock, 'GET', '/');
    assert.equal(info.status, 200);
    assert.equal((await api(sock, 'PATCH', '/vm', { state: 'Paused' })).status, 400);
  } finally {
    await vmm.shutdown();
    await server.close();
  }
});

test('a kernel that is not a kernel: InstanceStart answers 400 with the loader\'s reason', async () => {
  const junk = join(dir, 'junk.bin');
  writeFileSync(junk, Buffer.alloc(4096, 0x90));
  const { sock, server, vmm } = await serverFor('junk');
  try {
    assert.equal((await api(sock, 'PUT', '/boot-source', { kernel_image_path: junk })).status, 204);
    const r = await api(sock, 'PUT', '/actions', { action_type: 'InstanceStart' });
    assert.equal(r.status, 400, r.text);
    assert.match((r.body as { fault_message: string }).fault_message, /^Cannot start the microVM: /);
    assert.equal(((await api(sock, 'GET', '/')).body as { state: string }).state, 'Not started');
  } finally {
    await vmm.shutdown();
    await server.close();
  }
});

test('GET /vm/config is the config-file format: applied to a fresh VM it gives the same configuration', async () => {
  const { sock, server, vmm } = await serverFor('roundtrip');
  try {
    for (const [p, b] of [
      ['/boot-source', bootSource],
      ['/machine-config', { vcpu_count: 1, mem_size_mib: 48 }],
      ['/drives/rootfs', { drive_id: 'rootfs', path_on_host: disk, is_root_device: true, is_read_only: true }],
      ['/entropy', {}],
      ['/vsock', { guest_cid: 7, uds_path: join(dir, 'rt.sock') }],
    ] as const) assert.equal((await api(sock, 'PUT', p, b)).status, 204, p);
    const config = (await api(sock, 'GET', '/vm/config')).body as Record<string, unknown>;
    assert.deepEqual(config['boot-source'], bootSource);
    assert.equal((config['machine-config'] as { mem_size_mib: number }).mem_size_mib, 48);
    const copy = new Vmm({ pacing: 'fast', serialOut: () => {} });
    applyConfigFile(copy, config);
    assert.deepEqual(copy.vmConfig(), config);
  } finally {
    await vmm.shutdown();
    await server.close();
  }
});
