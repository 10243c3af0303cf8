// Unix socket paths: a live server's socket is never taken over (a second `serve` on the
// same --api-sock is refused and the first keeps answering), a stale one is replaced;
// paths longer than the kernel keeps (sun_path) are refused naming the limit, for the
// API socket, the manager's console sockets, PUT /vsock, vsock_override and --vsock;
// a VM's console socket goes with DELETE, so its id can be used again.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiServer } from '../../src/vmm/api/ApiServer.js';
import { Manager } from '../../src/vmm/Manager.js';
import { Vmm } from '../../src/vmm/Vmm.js';
import { parseVsockOption } from '../../src/devices/virtio/options.js';
import { MAX_UNIX_PATH_BYTES } from '../../src/net/unixSocket.js';
import { api, faultOf } from './apiClient.js';
import { startServe, TEST_GUARD_MS, waitForSocket } from './serveProcess.js';

const dir = mkdtempSync(join(tmpdir(), 'typevisor-sock-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const LIMIT = new RegExp(`limited to ${MAX_UNIX_PATH_BYTES} bytes`);

/** A path in `parent` of exactly `bytes` bytes. */
function pathOf(parent: string, bytes: number, suffix = ''): string {
  const base = `${parent}/`;
  return `${base}${'p'.repeat(bytes - base.length - suffix.length)}${suffix}`;
}

/** A socket file nobody listens on: its process was killed before it could remove it. */
async function staleSocket(path: string): Promise<void> {
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]);
  await new Promise((r) => child.once('exit', r));
  assert.ok(lstatSync(path).isSocket(), 'a stale socket was left');
}

test('a live API socket is not taken over; a stale one is replaced; any other file is refused', async () => {
  const sock = join(dir, 'live.sock');
  const first = new ApiServer(new Vmm({ serialOut: () => {} }));
  await first.listen(sock);
  const second = new ApiServer(new Vmm({ serialOut: () => {} }));
  try {
    await assert.rejects(second.listen(sock), /a server is already listening on .*live\.sock/);
    assert.equal((await api(sock, 'GET', '/')).status, 200, 'the first server still answers');
  } finally {
    await first.close();
    await second.close();
  }
  const stale = join(dir, 'stale.sock');
  await staleSocket(stale);
  const third = new ApiServer(new Vmm({ serialOut: () => {} }));
  try {
    await third.listen(stale);
    assert.equal((await api(stale, 'GET', '/')).status, 200);
  } finally {
    await third.close();
  }
  const file = join(dir, 'plain');
  writeFileSync(file, 'x');
  await assert.rejects(new ApiServer(new Vmm({ serialOut: () => {} })).listen(file), /exists and is not a socket/);
});

test('typevisor serve: a second serve on a live --api-sock is refused and the first keeps answering', { timeout: TEST_GUARD_MS }, async (t) => {
  const sock = join(dir, 'serve.sock');
  const started: ReturnType<typeof startServe>[] = [];
  t.after(() => { for (const s of started) s.child.kill('SIGKILL'); }); // also when the test times out
  const serve = (args: string[]): ReturnType<typeof startServe> => {
    const s = startServe(args);
    started.push(s);
    return s;
  };
  const first = serve(['--api-sock', sock]);
  await waitForSocket(sock, first.exit);
  const second = serve(['--api-sock', sock]);
  assert.equal(await second.exit, 1, second.stderr());
  assert.match(second.stderr(), /--api-sock .*serve\.sock: a server is already listening/);
  assert.equal((await api(sock, 'GET', '/')).status, 200, 'the first serve still answers on its socket');
  // Too long a path: refused naming the limit, no truncated socket left behind.
  const long = pathOf(dir, MAX_UNIX_PATH_BYTES + 10, '.sock');
  const third = serve(['--api-sock', long]);
  assert.equal(await third.exit, 1, third.stderr());
  assert.match(third.stderr(), LIMIT);
  first.child.kill('SIGTERM');
  assert.equal(await first.exit, 0, first.stderr());
});

test('socket paths past the kernel\'s limit are refused naming it: API socket, console sockets, PUT /vsock, vsock_override, --vsock', async () => {
  const long = pathOf(dir, MAX_UNIX_PATH_BYTES + 1);
  const before = readdirSync(dir);
  await assert.rejects(new ApiServer(new Vmm({ serialOut: () => {} })).listen(long), LIMIT);
  assert.deepEqual(readdirSync(dir), before, 'no socket was made under a truncated name');
  // The longest path that fits works.
  const fits = pathOf(dir, MAX_UNIX_PATH_BYTES);
  const ok = new ApiServer(new Vmm({ serialOut: () => {} }));
  await ok.listen(fits);
  await ok.close();

  // The manager's console sockets: ids whose paths would be cut to the same name are refused.
  const deep = join(dir, 'd'.repeat(MAX_UNIX_PATH_BYTES - dir.length - 40));
  mkdirSync(deep);
  const manager = new Manager({ consoleDir: deep, pacing: 'fast' });
  const server = new ApiServer(manager);
  const sock = join(dir, 'mgr.sock');
  await server.listen(sock);
  const vmm = new Vmm({ serialOut: () => {} });
  const vserver = new ApiServer(vmm);
  const vsock = join(dir, 'vm.sock');
  await vserver.listen(vsock);
  try {
    for (const id of [`${'x'.repeat(40)}-one`, `${'x'.repeat(40)}-two`]) {
      const r = await api(sock, 'PUT', `/vms/${id}`);
      assert.equal(r.status, 400, r.text);
      assert.match(faultOf(r.body), LIMIT);
    }
    assert.equal(manager.size, 0);
    // A short id fits; deleting it removes its console socket and the id can be used again.
    for (let round = 0; round < 2; round++) {
      assert.equal((await api(sock, 'PUT', '/vms/short')).status, 204);
      assert.ok(existsSync(join(deep, 'short.console')));
      assert.equal((await api(sock, 'DELETE', '/vms/short')).status, 204);
      assert.ok(!existsSync(join(deep, 'short.console')), 'DELETE removed the console socket');
    }
    assert.deepEqual(readdirSync(deep), []);

    const v = await api(vsock, 'PUT', '/vsock', { guest_cid: 3, uds_path: long });
    assert.equal(v.status, 400, v.text);
    assert.match(faultOf(v.body), LIMIT);
    writeFileSync(join(dir, 'snap'), 'x');
    writeFileSync(join(dir, 'mem'), 'x');
    const o = await api(vsock, 'PUT', '/snapshot/load', { snapshot_path: join(dir, 'snap'), mem_file_path: join(dir, 'mem'), vsock_override: { uds_path: long } });
    assert.equal(o.status, 400, o.text);
    assert.match(faultOf(o.body), /vsock_override uds_path .*limited to/);
  } finally {
    await manager.shutdown();
    await server.close();
    await vmm.shutdown();
    await vserver.close();
  }
  assert.throws(() => parseVsockOption(`cid=3,path=${long}`), LIMIT);
});
