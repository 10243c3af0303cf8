// ttrpc framing and the shim's server without containerd: frames cut anywhere, unknown
// methods, errors with their codes; and the shim's start/serve/delete contract run by
// hand (a bundle without config.json is refused by Create, Shutdown ends the server).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, existsSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create, fromBinary } from '@bufbuild/protobuf';
import { TtrpcServer, TtrpcClient, FrameReader, encodeFrame, Code, RpcError, MAX_MESSAGE, TYPE_REQUEST } from '../../src/shim/ttrpc.js';
import {
  Task, CreateTaskRequestSchema, CreateTaskResponseSchema, ConnectRequestSchema, ConnectResponseSchema, ShutdownRequestSchema,
  DeleteResponseSchema, StateRequestSchema, StateResponseSchema,
} from '../../src/shim/gen/github.com/containerd/containerd/runtime/v2/task/shim_pb.js';
import { EmptySchema } from '@bufbuild/protobuf/wkt';
import { parseShimArgs } from '../../src/shim/shimFlags.js';

const SHIM = fileURLToPath(new URL('../../src/shim/main.js', import.meta.url));

test('FrameReader: frames split at every byte and glued together come out whole; an oversized length is refused', () => {
  const a = encodeFrame(1, TYPE_REQUEST, Buffer.from('hello'));
  const b = encodeFrame(3, TYPE_REQUEST, Buffer.alloc(0));
  const all = Buffer.concat([a, b]);
  for (let cut = 0; cut <= all.length; cut++) {
    const r = new FrameReader();
    const got = [...r.push(all.subarray(0, cut)), ...r.push(all.subarray(cut))];
    assert.deepEqual(got.map((f) => [f.streamId, f.payload.toString()]), [[1, 'hello'], [3, '']]);
  }
  const bad = Buffer.alloc(10);
  bad.writeUInt32BE(MAX_MESSAGE + 1, 0);
  assert.throws(() => new FrameReader().push(bad), /over the/);
});

test('TtrpcServer: a registered method answers, an absent one is UNIMPLEMENTED, a thrown RpcError keeps its code', async (t) => {
  const dir = mkdtempSync('/tmp/tvttrpc-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const server = new TtrpcServer();
  server.register(Task, {
    connect: async (r: { id: string }) => ({ shimPid: 42, taskPid: 7, version: `v-${r.id}` }),
    state: async () => { throw new RpcError(Code.NOT_FOUND, 'no such task'); },
  });
  const path = join(dir, 'sock');
  await server.listen(path);
  t.after(() => server.close());
  const sock = connect(path);
  const c = new TtrpcClient(sock);
  t.after(() => c.close());
  // Calls in flight together get their own answers.
  const [a, b] = await Promise.all([
    c.call('containerd.task.v2.Task', 'Connect', ConnectRequestSchema, create(ConnectRequestSchema, { id: 'x' }), ConnectResponseSchema),
    c.call('containerd.task.v2.Task', 'Connect', ConnectRequestSchema, create(ConnectRequestSchema, { id: 'y' }), ConnectResponseSchema),
  ]);
  assert.deepEqual([a.shimPid, a.taskPid, a.version, b.version], [42, 7, 'v-x', 'v-y']);
  await assert.rejects(c.call('containerd.task.v2.Task', 'State', StateRequestSchema, create(StateRequestSchema, {}), StateResponseSchema),
    (e: RpcError) => e.code === Code.NOT_FOUND && /no such task/.test(e.message));
  await assert.rejects(c.call('containerd.task.v2.Task', 'Checkpoint', EmptySchema, create(EmptySchema), EmptySchema),
    (e: RpcError) => e.code === Code.UNIMPLEMENTED);
});

test('shim flags as containerd passes them (Go style)', () => {
  const f = parseShimArgs(['-namespace', 'default', '-address', '/run/c.sock', '-publish-binary', '/usr/bin/containerd', '-id', 'c1', '-debug', 'start']);
  assert.deepEqual([f.namespace, f.address, f.publishBinary, f.id, f.debug, f.action], ['default', '/run/c.sock', '/usr/bin/containerd', 'c1', true, 'start']);
  assert.equal(parseShimArgs(['--id=x', 'delete']).id, 'x');
  assert.throws(() => parseShimArgs(['-bogus', 'x']), /unknown flag -bogus/);
});

function runShim(args: string[], cwd: string): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [SHIM, ...args], { cwd, encoding: 'buffer', timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : Number((err as { code?: number }).code ?? -1), stdout, stderr: stderr.toString() });
    });
  });
}

test('shim start/Create/Shutdown/delete by hand: a bundle without config.json is refused naming it; Shutdown ends the server', { timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync('/tmp/tvshim-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bundle = join(dir, 'bundle');
  mkdirSync(bundle);
  const flags = ['-namespace', 'test', '-address', join(dir, 'c.sock'), '-publish-binary', '', '-id', 'nocfg'];
  const started = await runShim([...flags, 'start'], bundle);
  assert.equal(started.code, 0, started.stderr);
  const address = started.stdout.toString();
  assert.match(address, /^unix:\/\/\//);
  const path = address.slice('unix://'.length);
  const c = new TtrpcClient(connect(path));
  await assert.rejects(c.call('containerd.task.v2.Task', 'Create', CreateTaskRequestSchema, create(CreateTaskRequestSchema, { id: 'nocfg', bundle }), CreateTaskResponseSchema),
    (e: RpcError) => e.code === Code.INVALID_ARGUMENT && /config\.json/.test(e.message) && /ENOENT/.test(e.message));
  // Bad JSON is refused too.
  writeFileSync(join(bundle, 'config.json'), '{"process":');
  await assert.rejects(c.call('containerd.task.v2.Task', 'Create', CreateTaskRequestSchema, create(CreateTaskRequestSchema, { id: 'nocfg', bundle }), CreateTaskResponseSchema),
    (e: RpcError) => e.code === Code.INVALID_ARGUMENT && /not JSON/.test(e.message));
  // A stdout FIFO nobody reads: refused before a VM is started, its images removed.
  writeFileSync(join(bundle, 'config.json'), JSON.stringify({ process: { args: ['true'], cwd: '/' }, root: { path: 'rootfs' } }));
  mkdirSync(join(bundle, 'rootfs'));
  execFileSync('mkfifo', [join(dir, 'out')]);
  await assert.rejects(c.call('containerd.task.v2.Task', 'Create', CreateTaskRequestSchema, create(CreateTaskRequestSchema, { id: 'nocfg', bundle, stdout: join(dir, 'out') }), CreateTaskResponseSchema),
    (e: RpcError) => /starting the container: ENXIO/.test(e.message));
  assert.deepEqual(readdirSync(bundle).filter((f) => f.endsWith('.img')), []);
  const closed = new Promise((r) => (c as unknown as { sock: { once: (e: string, f: () => void) => void } }).sock.once('close', () => r(null)));
  await c.call('containerd.task.v2.Task', 'Shutdown', ShutdownRequestSchema, create(ShutdownRequestSchema, { id: 'nocfg' }), EmptySchema);
  await closed;
  assert.equal(existsSync(path), false, 'the socket is removed when the server ends');
  const del = await runShim([...flags, 'delete'], bundle);
  assert.equal(del.code, 0, del.stderr);
  assert.equal(fromBinary(DeleteResponseSchema, del.stdout).exitStatus, 137);
});
