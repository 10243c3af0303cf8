// `typevisor manage --process-per-vm`: each VM in a child process of its own. A Linux
// guest with a drive boots; PATCH /vms/{id}/drives/{drive} swaps the drive's medium
// while it runs and the guest sees the new size and contents; a spinning guest's
// process is killed with SIGKILL and the manager and the Linux guest carry on; a snapshot
// of the Linux guest, loaded into a new VM (another process), answers on its console.
// Waits end on events; their bounds are hang guards (serveProcess.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROMPT } from '../machine/serialSession.js';
import { api } from './apiClient.js';
import { BOOT_GUARD_MS, bootSource, busyKernel, ConsoleClient, endSessionsOnExit, haveGuest, ok, startManager, STEP_GUARD_MS, TEST_GUARD_MS, waitUntil } from './managerSupport.js';

const skip = haveGuest ? false : 'the default guest (guest/bzImage, guest/initramfs.cpio.gz) is missing';

/** A raw image of `sectors` 512-byte sectors whose first sector starts with `tag`. */
function image(path: string, sectors: number, tag: string): void {
  const b = Buffer.alloc(sectors * 512);
  b.write(tag, 0, 'latin1');
  writeFileSync(path, b);
}

test('typevisor manage --process-per-vm: PATCH /drives swaps a running guest\'s medium; a VM process killed leaves the manager and the others running', { skip, timeout: TEST_GUARD_MS }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'typevisor-proc-'));
  const sock = join(dir, 'api.sock');
  const { child, stderr, exit } = await startManager(sock, ['--process-per-vm']);
  let con: ConsoleClient | null = null;
  const consoles = new Map<string, ConsoleClient>();
  const watch = endSessionsOnExit(sock, consoles);
  try {
    image(join(dir, 'a.img'), 2048, 'MEDIUM-A');
    image(join(dir, 'b.img'), 4096, 'MEDIUM-B');
    writeFileSync(join(dir, 'busy.bin'), busyKernel());
    await ok(sock, 'PUT', '/vms/linux');
    await ok(sock, 'PUT', '/vms/linux/boot-source', bootSource);
    await ok(sock, 'PUT', '/vms/linux/machine-config', { vcpu_count: 1, mem_size_mib: 24 });
    await ok(sock, 'PUT', '/vms/linux/drives/data', { drive_id: 'data', path_on_host: join(dir, 'a.img'), is_root_device: false, is_read_only: true });
    await ok(sock, 'PUT', '/vms/spin', { cpu_share: 0.1 });
    await ok(sock, 'PUT', '/vms/spin/boot-source', { kernel_image_path: join(dir, 'busy.bin') });
    await ok(sock, 'PUT', '/vms/spin/machine-config', { vcpu_count: 1, mem_size_mib: 8 });
    con = await ConsoleClient.open(join(dir, 'linux.console'));
    consoles.set('linux', con);
    await ok(sock, 'PUT', '/vms/linux/actions', { action_type: 'InstanceStart' });
    await ok(sock, 'PUT', '/vms/spin/actions', { action_type: 'InstanceStart' });
    const info = (await api(sock, 'GET', '/vms')).body as { vms: { id: string; pid?: number }[] };
    const pids = new Map(info.vms.map((v) => [v.id, v.pid]));
    assert.ok(pids.get('linux') !== child.pid && typeof pids.get('linux') === 'number' && typeof pids.get('spin') === 'number', JSON.stringify(info));

    const s = con.serial;
    await s.waitFor(PROMPT, BOOT_GUARD_MS);
    con.type('cat /sys/block/vda/size; head -c 8 /dev/vda; echo');
    await s.waitFor(/2048\s+MEDIUM-A/, STEP_GUARD_MS);
    await s.waitFor(PROMPT, STEP_GUARD_MS);

    // Swap the medium: a bigger image with other contents.
    await ok(sock, 'PATCH', '/vms/linux/drives/data', { drive_id: 'data', path_on_host: join(dir, 'b.img') });
    con.type('cat /sys/block/vda/size; echo 3 > /proc/sys/vm/drop_caches; head -c 8 /dev/vda; echo');
    await s.waitFor(/^4096\r?$/m, STEP_GUARD_MS); // the new capacity (the kernel also logs "detected capacity change")
    await s.waitFor(/MEDIUM-B/, STEP_GUARD_MS);
    const cfg = (await api(sock, 'GET', '/vms/linux/vm/config')).body as { drives: { path_on_host: string }[] };
    assert.equal(cfg.drives[0]!.path_on_host, join(dir, 'b.img'));
    // Refusals: an unknown drive, a missing file.
    const bad = await api(sock, 'PATCH', '/vms/linux/drives/nope', { drive_id: 'nope', path_on_host: join(dir, 'b.img') });
    assert.equal(bad.status, 400, bad.text);
    const missing = await api(sock, 'PATCH', '/vms/linux/drives/data', { drive_id: 'data', path_on_host: join(dir, 'none.img') });
    assert.match((missing.body as { fault_message: string }).fault_message, /does not exist/);

    // Kill the spinning guest's process: the manager lists it as ended and carries on.
    const st = (await api(sock, 'GET', '/vms/spin/stats')).body as {
      state: string; host_rss_mib: number; counters: { instructions: number; heap_bytes: number; jit_translated_insns: number; jit_regions_compiled: number };
    };
    assert.equal(st.state, 'Running');
    assert.ok(st.counters.instructions > 0 && st.counters.heap_bytes > 1e6, JSON.stringify(st));
    // The spinning loop runs translated (the default engine), and the counters say so.
    assert.ok(st.counters.jit_regions_compiled >= 1 && st.counters.jit_translated_insns > 0, JSON.stringify(st.counters));
    assert.ok(st.host_rss_mib > 20 && st.host_rss_mib < 500, `the VM process's RSS: ${st.host_rss_mib} MiB`);
    process.kill(pids.get('spin')!, 'SIGKILL');
    await waitUntil('the killed VM listed as Exited', async () => ((await api(sock, 'GET', '/vms/spin')).body as { state: string }).state === 'Exited', { exit });
    const spin = (await api(sock, 'GET', '/vms/spin')).body as { state: string; exit: { kind: string; reason: string } };
    assert.equal(spin.state, 'Exited');
    assert.equal(spin.exit.kind, 'crashed');
    assert.match(spin.exit.reason, /SIGKILL/);
    con.type('echo still-$((20+1))');
    await s.waitFor(/still-21/, STEP_GUARD_MS);
    await s.waitFor(PROMPT, STEP_GUARD_MS);
    await ok(sock, 'DELETE', '/vms/spin');

    // Snapshot the Linux guest and load it into a new VM: the copy carries on from the prompt.
    await ok(sock, 'PATCH', '/vms/linux/vm', { state: 'Paused' });
    await ok(sock, 'PUT', '/vms/linux/snapshot/create', { snapshot_path: join(dir, 'vm.snap'), mem_file_path: join(dir, 'vm.mem') });
    await ok(sock, 'DELETE', '/vms/linux');
    await ok(sock, 'PUT', '/vms/copy');
    const copy = await ConsoleClient.open(join(dir, 'copy.console'));
    consoles.set('copy', copy);
    try {
      await ok(sock, 'PUT', '/vms/copy/snapshot/load', { snapshot_path: join(dir, 'vm.snap'), mem_backend: { backend_type: 'File', backend_path: join(dir, 'vm.mem') }, resume_vm: true });
      copy.type('echo copy-$((6*7)); head -c 8 /dev/vda; echo');
      await copy.serial.waitFor(/copy-42/, STEP_GUARD_MS);
      await copy.serial.waitFor(/MEDIUM-B/, STEP_GUARD_MS);
    } finally {
      copy.close();
    }
    await ok(sock, 'DELETE', '/vms/copy');
    child.kill('SIGTERM');
  } catch (e) {
    throw new Error(`${(e as Error).message}\nmanager stderr: ${stderr()}`);
  } finally {
    watch.stop();
    con?.close();
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
