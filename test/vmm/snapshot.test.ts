// Snapshots through Firecracker's API, as issue #6 asks: the default guest booted by
// `typevisor serve` through the API alone (boot-source, machine-config, a drive,
// InstanceStart), paused, resumed, paused, snapshotted with PUT /snapshot/create, the
// process killed, the snapshot loaded into a fresh `typevisor serve` with PUT
// /snapshot/load, resumed, and the guest carries on: the shell answers, the disk reads.
// The refusals Firecracker specifies are checked on the way (not paused, Diff, Uffd,
// load after configuring, load twice, network_overrides naming no interface).
//
// Where a tap can be made (root, /dev/net/tun, iproute2) the VM also has a network
// interface on tap A: before the snapshot the guest pings the host and the host fetches
// a page from the guest's httpd. Then tap A is deleted and tap B made (same address and
// MAC, as on another host); loading without network_overrides is refused naming the
// missing tap, loading with {eth0 -> B} works, and the restored guest's network does
// both again through B, its httpd still up from before the snapshot.
//
// Waits end on events; their bounds are hang guards (serveProcess.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROMPT } from '../machine/serialSession.js';
import { api } from './apiClient.js';
import { BOOT_GUARD_MS, ROOT, startServe, STEP_GUARD_MS, TEST_GUARD_MS, waitForSocket } from './serveProcess.js';
import { haveGuest } from '../devices/virtio/guestBoot.js';
import { makeTap, removeTap, tapSkip, testSubnet } from '../net/hostTap.js';
import { fetchText } from '../net/fetchText.js';

const skip = haveGuest ? false : 'the default guest (guest/bzImage) is not built';
/** Unique per run: tests of other files may make taps at the same time. */
const TAP_A = `tvsnA${process.pid % 1_000_000}`;
const TAP_B = `tvsnB${process.pid % 1_000_000}`;
const HOST = `${testSubnet(6)}.1`;
const GUEST = `${testSubnet(6)}.2`;
const HOST_MAC = '02:77:06:00:00:01';
const net = tapSkip === false;

test('API: boot, pause, resume, pause, snapshot/create, kill, snapshot/load into a fresh serve, resume: the guest continues', { skip, timeout: TEST_GUARD_MS }, async () => {
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
  if (!net) console.log(`# snapshot API test without a network interface: ${String(tapSkip)}`);
  try {
    if (net) makeTap(TAP_A, `${HOST}/24`, HOST_MAC);
    await waitForSocket(sock1, first.exit);
    await call(sock1, 'PUT', '/snapshot/create', { snapshot_path: state, mem_file_path: mem }, 400, /not supported before starting/);
    await call(sock1, 'PUT', '/boot-source', {
      kernel_image_path: join(ROOT, 'guest/bzImage'), initrd_path: join(ROOT, 'guest/initramfs.cpio.gz'),
      boot_args: 'console=ttyS0 panic=-1 tsc=reliable',
    }, 204);
    await call(sock1, 'PUT', '/machine-config', { vcpu_count: 1, mem_size_mib: 32 }, 204);
    await call(sock1, 'PUT', '/drives/data', { drive_id: 'data', path_on_host: disk, is_root_device: false, is_read_only: false }, 204);
    if (net) await call(sock1, 'PUT', '/network-interfaces/eth0', { iface_id: 'eth0', host_dev_name: TAP_A, guest_mac: '06:00:0a:4d:06:02' }, 204);
    await call(sock1, 'PUT', '/snapshot/load', { snapshot_path: state, mem_file_path: mem }, 400, /not allowed after configuring boot-specific resources/);
    await call(sock1, 'PUT', '/actions', { action_type: 'InstanceStart' }, 204);
    await first.serial.waitFor(PROMPT, BOOT_GUARD_MS);
    first.child.stdin.write('echo first-$((6*7))\n');
    await first.serial.waitFor(/first-42/, STEP_GUARD_MS);
    await first.serial.waitFor(PROMPT, STEP_GUARD_MS);
    if (net) {
      first.child.stdin.write(`ip link set eth0 up && ip addr add ${GUEST}/24 dev eth0 && mkdir -p /tmp/www && echo snap-net > /tmp/www/index.html && httpd -p 8080 -h /tmp/www; ping -c 1 -W 5 ${HOST}; echo ping-before-rc=$?\n`);
      const rc = await first.serial.waitFor(/ping-before-rc=(\d+)/, STEP_GUARD_MS);
      assert.equal(rc[1], '0', `the guest pinged the host through ${TAP_A}\n${first.serial.output.slice(-600)}`);
      assert.equal(await fetchText(`http://${GUEST}:8080/index.html`, STEP_GUARD_MS), 'snap-net\n', 'the host fetched from the guest before the snapshot');
    }

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
    if (net) {
      // As if restoring on another host: the snapshot's tap is gone, another is there.
      removeTap(TAP_A);
      makeTap(TAP_B, `${HOST}/24`, HOST_MAC);
    }

    second = startServe(['--api-sock', sock2, '--fast']);
    await waitForSocket(sock2, second.exit);
    await call(sock2, 'PUT', '/snapshot/load', { snapshot_path: state, mem_backend: { backend_type: 'Uffd', backend_path: mem } }, 400, /Uffd memory backend is not supported/);
    await call(sock2, 'PUT', '/snapshot/load', { snapshot_path: state, mem_backend: { backend_type: 'File', backend_path: mem }, mem_file_path: mem }, 400, /Exactly one of mem_backend and mem_file_path/);
    await call(sock2, 'PUT', '/snapshot/load', { snapshot_path: mem, mem_file_path: mem }, 400, /not a typevisor snapshot state file/);
    await call(sock2, 'PUT', '/snapshot/load', { snapshot_path: state, mem_file_path: mem, network_overrides: [{ iface_id: 'nosuch', host_dev_name: 'lo' }] }, 400, /the snapshot has no network interface "nosuch"/);
    let overrides: { network_overrides?: { iface_id: string; host_dev_name: string }[] } = {};
    if (net) {
      await call(sock2, 'PUT', '/snapshot/load', { snapshot_path: state, mem_file_path: mem }, 400, new RegExp(`network interface "eth0": host_dev_name "${TAP_A}": there is no network interface ${TAP_A}.*network_overrides can name another tap`));
      await call(sock2, 'PUT', '/snapshot/load', { snapshot_path: state, mem_file_path: mem, network_overrides: [{ iface_id: 'eth0', host_dev_name: TAP_B }, { iface_id: 'eth0', host_dev_name: TAP_B }] }, 400, /names iface_id "eth0" more than once/);
      overrides = { network_overrides: [{ iface_id: 'eth0', host_dev_name: TAP_B }] };
    }
    await call(sock2, 'PUT', '/snapshot/load', { snapshot_path: state, mem_backend: { backend_type: 'File', backend_path: mem }, resume_vm: false, ...overrides }, 204);
    assert.equal(await stateOf(sock2), 'Paused');
    assert.equal(((await api(sock2, 'GET', '/machine-config')).body as { mem_size_mib: number }).mem_size_mib, 32);
    await call(sock2, 'PUT', '/snapshot/load', { snapshot_path: state, mem_file_path: mem }, 400, /not supported after starting/);
    await call(sock2, 'PUT', '/boot-source', { kernel_image_path: join(ROOT, 'guest/bzImage') }, 400, /not supported after starting/);
    await call(sock2, 'PATCH', '/vm', { state: 'Resumed' }, 204);
    assert.equal(await stateOf(sock2), 'Running');
    second.child.stdin.write('echo second-$((6*7)); head -c 15 /dev/vda; echo\n');
    await second.serial.waitFor(/second-42/, STEP_GUARD_MS);
    await second.serial.waitFor(/api-disk-marker/, STEP_GUARD_MS);
    if (net) {
      const nets = ((await api(sock2, 'GET', '/vm/config')).body as { 'network-interfaces': unknown[] })['network-interfaces'];
      assert.deepEqual(nets, [{ iface_id: 'eth0', host_dev_name: TAP_B, guest_mac: '06:00:0a:4d:06:02' }]);
      assert.equal(await fetchText(`http://${GUEST}:8080/index.html`, STEP_GUARD_MS), 'snap-net\n', `the host fetched from the restored guest through ${TAP_B}`);
      second.child.stdin.write(`ping -c 1 -W 5 ${HOST}; echo ping-after-rc=$?\n`);
      const rc = await second.serial.waitFor(/ping-after-rc=(\d+)/, STEP_GUARD_MS);
      assert.equal(rc[1], '0', `the restored guest pinged the host through ${TAP_B}\n${second.serial.output.slice(-600)}`);
    }
    // A snapshot of the restored VM works too.
    await call(sock2, 'PATCH', '/vm', { state: 'Paused' }, 204);
    await call(sock2, 'PUT', '/snapshot/create', { snapshot_path: join(dir, 'again.state'), mem_file_path: join(dir, 'again.mem') }, 204);
  } finally {
    first.child.kill('SIGKILL');
    second?.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    if (net) {
      removeTap(TAP_A);
      removeTap(TAP_B);
    }
  }
});
