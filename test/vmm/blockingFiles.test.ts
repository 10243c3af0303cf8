// Files named in API requests must never block the thread that answers the API (nor the
// VM's thread): `typevisor serve` as a child process gets FIFOs with no reader as
// log_path, serial_out_path and metrics_path (refused at once, naming the reason; a FIFO
// with a reader is accepted, as Firecracker accepts one), and a FIFO as a snapshot's
// mem_file_path or snapshot_path (refused; the VM resumes and runs). A refused PUT /logger
// leaves the logger as it was. A huge file named as a snapshot state is refused after its
// 48-byte header, not read whole.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Socket } from 'node:net';
import { constants, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiServer } from '../../src/vmm/api/ApiServer.js';
import { Vmm } from '../../src/vmm/Vmm.js';
import { MAX_STATE_BYTES, STATE_FORMAT_VERSION, STATE_HEADER_BYTES, STATE_MAGIC } from '../../src/snapshot/StateFile.js';
import { api, faultOf } from './apiClient.js';
import { busyKernel } from './managerSupport.js';
import { startServe, TEST_GUARD_MS, waitForSocket } from './serveProcess.js';

const dir = mkdtempSync(join(tmpdir(), 'typevisor-fifo-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const haveMkfifo = spawnSync('mkfifo', ['--version']).status === 0;

function fifo(name: string): string {
  const p = join(dir, name);
  const r = spawnSync('mkfifo', [p]);
  assert.equal(r.status, 0, String(r.stderr));
  return p;
}

test('typevisor serve: FIFOs with no reader as log, serial or metrics file are refused at once; one with a reader is written; SIGTERM still ends it', { skip: haveMkfifo ? false : 'no mkfifo', timeout: TEST_GUARD_MS }, async (t) => {
  const sock = join(dir, 'serve.sock');
  const s = startServe(['--api-sock', sock, '--fast']);
  t.after(() => { s.child.kill('SIGKILL'); }); // also when the test times out
  await waitForSocket(sock, s.exit);
  for (const [path, body] of [
    ['/logger', { log_path: fifo('log.fifo') }],
    ['/serial', { serial_out_path: fifo('serial.fifo') }],
    ['/metrics', { metrics_path: fifo('metrics.fifo') }],
  ] as const) {
    const r = await api(sock, 'PUT', path, body); // blocked for good in open() before the fix
    assert.equal(r.status, 400, `${path}: ${r.text}`);
    assert.match(faultOf(r.body), /is a FIFO with no reader/, path);
    assert.equal((await api(sock, 'GET', '/')).status, 200);
  }
  assert.equal(((await api(sock, 'GET', '/vm/config')).body as { logger?: unknown }).logger, undefined, 'the refused logger is not configured');

  // With a reader, a FIFO is a fine log: the lines arrive there.
  const logFifo = join(dir, 'log.fifo');
  // Opened without blocking (no writer yet), read through libuv's pipe handling.
  const reader = new Socket({ fd: openSync(logFifo, constants.O_RDONLY | constants.O_NONBLOCK), readable: true, writable: false });
  reader.on('error', () => {});
  let got = '';
  const configured = new Promise<void>((resolve) => reader.on('data', (b) => { got += String(b); if (/logger configured/.test(got)) resolve(); }));
  assert.equal((await api(sock, 'PUT', '/logger', { log_path: logFifo, level: 'Info' })).status, 204);
  await configured;
  // Other files of the wrong kind are refused too: a directory, a socket.
  const d = await api(sock, 'PUT', '/metrics', { metrics_path: dir });
  assert.equal(d.status, 400, d.text);
  const so = await api(sock, 'PUT', '/metrics', { metrics_path: sock });
  assert.equal(so.status, 400, so.text);
  assert.match(faultOf(so.body), /is not a regular file or a FIFO/);
  reader.destroy();

  s.child.kill('SIGTERM');
  assert.equal(await s.exit, 0, s.stderr());
});

test('typevisor serve: a FIFO as snapshot mem_file_path or snapshot_path is refused; the VM then resumes and runs', { skip: haveMkfifo ? false : 'no mkfifo', timeout: TEST_GUARD_MS }, async (t) => {
  const sock = join(dir, 'snap.sock');
  const kernel = join(dir, 'busy.bin');
  writeFileSync(kernel, busyKernel());
  const s = startServe(['--api-sock', sock, '--fast']);
  t.after(() => { s.child.kill('SIGKILL'); }); // also when the test times out
  const ok = async (method: string, path: string, body: unknown): Promise<void> => {
    const r = await api(sock, method, path, body);
    assert.equal(r.status, 204, `${method} ${path}: ${r.text}`);
  };
  await waitForSocket(sock, s.exit);
  await ok('PUT', '/boot-source', { kernel_image_path: kernel });
  await ok('PUT', '/machine-config', { vcpu_count: 1, mem_size_mib: 8 });
  await ok('PUT', '/actions', { action_type: 'InstanceStart' });
  await ok('PATCH', '/vm', { state: 'Paused' });
  const memFifo = fifo('mem.fifo');
  const stateFifo = fifo('state.fifo');
  for (const [p, what] of [[{ snapshot_path: join(dir, 'vm.state'), mem_file_path: memFifo }, 'mem_file_path'], [{ snapshot_path: stateFifo, mem_file_path: join(dir, 'vm.mem') }, 'snapshot_path']] as const) {
    const r = await api(sock, 'PUT', '/snapshot/create', p); // never answered before the fix
    assert.equal(r.status, 400, r.text);
    assert.match(faultOf(r.body), new RegExp(`${what} .* exists and is not a regular file`));
  }
  await ok('PATCH', '/vm', { state: 'Resumed' });
  await ok('PUT', '/metrics', { metrics_path: join(dir, 'metrics') });
  const stats = async (): Promise<number> => {
    await ok('PUT', '/actions', { action_type: 'FlushMetrics' });
    const last = readFileSync(join(dir, 'metrics'), 'utf8').trim().split('\n').at(-1)!;
    return (JSON.parse(last) as { vcpu: { instructions: number } }).vcpu.instructions;
  };
  const i0 = await stats();
  let i1 = i0;
  while (i1 === i0) i1 = await stats(); // the guest runs again
  assert.equal(((await api(sock, 'GET', '/')).body as { state: string }).state, 'Running');
  // And a snapshot to regular files works.
  await ok('PATCH', '/vm', { state: 'Paused' });
  await ok('PUT', '/snapshot/create', { snapshot_path: join(dir, 'vm.state'), mem_file_path: join(dir, 'vm.mem') });
  s.child.kill('SIGTERM');
  assert.equal(await s.exit, 0, s.stderr());
});

test('a refused PUT /logger changes nothing: the logger configured before stays, and logs the refusal', async () => {
  const vmm = new Vmm({ serialOut: () => {} });
  const server = new ApiServer(vmm);
  const sock = join(dir, 'logger.sock');
  await server.listen(sock);
  const log = join(dir, 'first.log');
  try {
    assert.equal((await api(sock, 'PUT', '/logger', { log_path: log, level: 'Info' })).status, 204);
    const bad = await api(sock, 'PUT', '/logger', { log_path: join(dir, 'no-such-dir', 'x.log'), level: 'Debug' });
    assert.equal(bad.status, 400, bad.text);
    assert.match(faultOf(bad.body), /Cannot open log_path: ENOENT/);
    assert.deepEqual(((await api(sock, 'GET', '/vm/config')).body as { logger: unknown }).logger, { log_path: log, level: 'Info' });
    assert.match(readFileSync(log, 'utf8'), /request refused \(400\): Cannot open log_path/);
    // Metrics and serial refusals leave nothing configured either.
    assert.equal((await api(sock, 'PUT', '/metrics', { metrics_path: join(dir, 'no-such-dir', 'm') })).status, 400);
    assert.equal((await api(sock, 'PUT', '/metrics', { metrics_path: join(dir, 'm') })).status, 204, 'metrics still configurable');
  } finally {
    await vmm.shutdown();
    await server.close();
  }
});

/** Bytes this process has read through read() and the like (Linux /proc/self/io rchar). */
function bytesRead(): number {
  return Number(/rchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))![1]);
}

test('snapshot/load checks the state file\'s header and size before reading it: a 512 MiB file costs a header read', { skip: process.platform === 'linux' ? false : 'reads /proc/self/io' }, async () => {
  const vmm = new Vmm({ serialOut: () => {} });
  const server = new ApiServer(vmm);
  const sock = join(dir, 'load.sock');
  await server.listen(sock);
  const mem = join(dir, 'load.mem');
  writeFileSync(mem, 'x');
  const big = join(dir, 'big.state');
  const head = Buffer.alloc(STATE_HEADER_BYTES);
  try {
    for (const [name, len, fault_] of [
      ['a foreign file', null, /bad magic/],
      ['a header whose payload length does not match the size', 1000, /truncated or padded/],
      ['a header with a payload over the limit', MAX_STATE_BYTES + 1, /larger than/],
    ] as const) {
      head.fill(0);
      if (len !== null) {
        head.write(STATE_MAGIC, 0, 'latin1');
        head.writeUInt32LE(STATE_FORMAT_VERSION, 8);
        head.writeUInt32LE(len, 12);
      }
      writeFileSync(big, head);
      truncateSync(big, 512 << 20); // sparse: no disk, but read whole it is 512 MiB of reading and memory
      const r0 = bytesRead();
      const r = await api(sock, 'PUT', '/snapshot/load', { snapshot_path: big, mem_file_path: mem });
      const read = bytesRead() - r0;
      assert.equal(r.status, 400, `${name}: ${r.text}`);
      assert.match(faultOf(r.body), fault_, name);
      // Other reads of this process (modules, pipes of children) count too: the bound is
      // loose, the file's 512 MiB are not.
      assert.ok(read < 32 << 20, `${name}: ${read} bytes read`);
    }
  } finally {
    await vmm.shutdown();
    await server.close();
  }
});

test('a kernel over 2 GiB named through the API fails InstanceStart with the file and its size, as typevisor run says it', { timeout: TEST_GUARD_MS }, async () => {
  const vmm = new Vmm({ pacing: 'fast', serialOut: () => {} });
  const server = new ApiServer(vmm);
  const sock = join(dir, 'big.sock');
  await server.listen(sock);
  try {
    const big = join(dir, 'big-kernel.img');
    writeFileSync(big, busyKernel());
    truncateSync(big, 3 * 2 ** 30); // sparse
    assert.equal((await api(sock, 'PUT', '/boot-source', { kernel_image_path: big })).status, 204);
    const r = await api(sock, 'PUT', '/actions', { action_type: 'InstanceStart' });
    assert.equal(r.status, 400, r.text);
    assert.match(faultOf(r.body), /kernel .*big-kernel\.img is 3\.0 GiB; typevisor reads kernel, initrd and firmware files of up to 2 GiB/);
  } finally {
    await vmm.shutdown();
    await server.close();
  }
});
