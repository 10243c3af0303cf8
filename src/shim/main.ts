#!/usr/bin/env node
// containerd-shim-typevisor-v2: containerd's runtime shim v2 for io.containerd.typevisor.v2
// (containerd runtime/v2/README.md). containerd runs it with Go-style flags
// (-namespace, -address, -publish-binary, -id, -debug) and the bundle as its working
// directory:
//   start   starts the shim's server (this program again, as `serve`, in its own
//           session), prints its ttrpc address and exits;
//   delete  cleans up after a shim that is gone (its VM, images, mounts) and prints a
//           DeleteResponse;
//   serve   the server: containerd's task service over ttrpc on -socket.

import { spawn } from 'node:child_process';
import { closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create, toBinary } from '@bufbuild/protobuf';
import { Task, DeleteResponseSchema } from './gen/github.com/containerd/containerd/runtime/v2/task/shim_pb.js';
import { TtrpcServer } from './ttrpc.js';
import { TaskService } from './TaskService.js';
import { EventPublisher, now } from './events.js';
import { removeImages, unmountRootfs } from './rootfs.js';
import { parseShimArgs, socketPath, type ShimFlags } from './shimFlags.js';
import { typevisorVersion } from '../version.js';

const PID_FILE = 'typevisor-shim.pid';

async function start(f: ShimFlags, bundle: string): Promise<void> {
  const socket = socketPath(f);
  mkdirSync(dirname(socket), { recursive: true });
  rmSync(socket, { force: true });
  let logFd: number | 'ignore' = 'ignore';
  // containerd reads the bundle's "log" FIFO into its own log: the server's stderr goes there.
  try { logFd = openSync(join(bundle, 'log'), constants.O_WRONLY | constants.O_NONBLOCK); } catch { /* no FIFO: no log */ }
  const args = [fileURLToPath(import.meta.url), '-namespace', f.namespace, '-address', f.address, '-publish-binary', f.publishBinary, '-id', f.id, '-socket', socket, ...(f.debug ? ['-debug'] : []), 'serve'];
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', 'ignore', logFd], cwd: bundle, env: process.env });
  if (typeof logFd === 'number') closeSync(logFd);
  let gone: string | null = null;
  child.on('exit', (code, sig) => { gone = `the shim server exited (${sig ?? code}) before listening`; });
  child.unref();
  // Up once its socket exists (bounded: a server that neither listens nor exits is a bug).
  for (let waited = 0; !existsSync(socket); waited += 20) {
    if (gone !== null) throw new Error(gone);
    if (waited > 60_000) { child.kill('SIGKILL'); throw new Error('the shim server did not listen within 60 s'); }
    await new Promise((r) => setTimeout(r, 20));
  }
  writeFileSync(join(bundle, PID_FILE), `${child.pid}`);
  writeFileSync(join(bundle, 'address'), `unix://${socket}`);
  process.stdout.write(`unix://${socket}`);
}

async function serve(f: ShimFlags, bundle: string): Promise<void> {
  const log = (msg: string): void => { process.stderr.write(`typevisor-shim ${f.id}: ${msg}\n`); };
  const publisher = new EventPublisher({ binary: f.publishBinary, address: f.address, namespace: f.namespace, log });
  const svc = new TaskService(publisher, log);
  const server = new TtrpcServer();
  server.onError = (e) => log(`ttrpc: ${e.message}`);
  server.register(Task, {
    create: (r) => svc.create(r), start: (r) => svc.start(r), state: (r) => svc.state(r), wait: (r) => svc.wait(r),
    kill: (r) => svc.kill(r), delete: (r) => svc.delete(r), pids: (r) => svc.pids(r), exec: (r) => svc.exec(r),
    pause: (r) => svc.pause(r), resume: (r) => svc.resume(r), resizePty: (r) => svc.resizePty(r), closeIO: (r) => svc.closeIO(r),
    connect: (r) => svc.connect(r), shutdown: (r) => svc.shutdown(r),
  });
  const quit = (code: number): never => {
    server.close();
    rmSync(f.socket, { force: true });
    process.exit(code);
  };
  svc.onShutdown = () => quit(0);
  process.on('SIGTERM', () => { void svc.shutdown({} as never).finally(() => quit(0)); });
  await server.listen(f.socket);
  if (f.debug) log(`listening on ${f.socket}, bundle ${bundle}`);
}

/** After a shim died: stop its server (and with it the VM thread), unmount, remove images. */
async function cleanup(f: ShimFlags, bundle: string): Promise<void> {
  try {
    const pid = Number(readFileSync(join(bundle, PID_FILE), 'utf8'));
    if (pid > 0) process.kill(pid, 'SIGKILL');
  } catch { /* not running */ }
  const rootfs = join(bundle, 'rootfs');
  if (readFileSync('/proc/self/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === rootfs)) {
    try { await unmountRootfs(rootfs); } catch { /* leave it to containerd's own unmount */ }
  }
  removeImages(bundle);
  rmSync(join(bundle, PID_FILE), { force: true });
  rmSync(socketPath(f), { force: true });
  const resp = create(DeleteResponseSchema, { exitStatus: 128 + 9, exitedAt: now(), pid: 0 });
  process.stdout.write(toBinary(DeleteResponseSchema, resp));
}

async function main(): Promise<void> {
  const f = parseShimArgs(process.argv.slice(2));
  const bundle = f.bundle || process.cwd();
  switch (f.action) {
    case 'version': process.stdout.write(`containerd-shim-typevisor-v2 (typevisor ${typevisorVersion()})\n`); return;
    case 'start': return start(f, bundle);
    case 'delete': return cleanup(f, bundle);
    case 'serve':
      if (f.socket === '') throw new Error('serve needs -socket');
      return serve(f, bundle);
    default: throw new Error(`usage: containerd-shim-typevisor-v2 -namespace NS -address ADDR -publish-binary BIN -id ID start|delete (got ${JSON.stringify(f.action)})`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`containerd-shim-typevisor-v2: ${(e as Error).message}\n`);
  process.exit(1);
});
