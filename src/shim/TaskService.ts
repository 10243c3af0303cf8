// containerd's task service (runtime/v2/task/shim.proto, service containerd.task.v2.Task)
// for one container in one microVM: Create builds the rootfs image and boots the VM to
// its agent, Start runs the process, Wait/State/Kill/Delete follow it, Exec runs more
// processes in the same VM. Errors carry gRPC codes containerd maps to its own
// (NOT_FOUND, FAILED_PRECONDITION, UNIMPLEMENTED...).

import { openSync, closeSync } from 'node:fs';
import { Socket } from 'node:net';
import { constants } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import type { Timestamp } from '@bufbuild/protobuf/wkt';
import type * as T from './gen/github.com/containerd/containerd/runtime/v2/task/shim_pb.js';
import { Status, ProcessInfoSchema } from './gen/github.com/containerd/containerd/api/types/task/task_pb.js';
import {
  TaskCreateSchema, TaskStartSchema, TaskExitSchema, TaskDeleteSchema, TaskExecAddedSchema, TaskExecStartedSchema,
  TaskPausedSchema, TaskResumedSchema,
} from './gen/github.com/containerd/containerd/api/events/task_pb.js';
import { Code, RpcError } from './ttrpc.js';
import { ContainerVm } from './ContainerVm.js';
import { EventPublisher, now } from './events.js';
import { checkProcess, checkSpec, processCommand, readSpec, SpecError, jobScript, type OciProcess } from './ociSpec.js';
import { buildRootfsImage, JOB_IMAGE, mountRootfs, removeImages, ROOTFS_IMAGE, unmountRootfs, writeJobImage } from './rootfs.js';
import { typevisorVersion } from '../version.js';

/** How long a VM whose process was sent SIGKILL may take to stop before it is stopped from outside. */
const KILL_GRACE_MS = 10_000;
const SIGKILL = 9;

interface Proc {
  execId: string;
  status: Status;
  pid: number;
  exitStatus: number;
  exitedAt: Timestamp | undefined;
  stdin: string; stdout: string; stderr: string; terminal: boolean;
  out: Socket | null;
  /** The stderr FIFO, held open and closed at exit with nothing written: the guest merges stderr into stdout, and containerd's readers end only when their writer closes. */
  err: Socket | null;
  waiters: (() => void)[];
  /** Stopped and its output written: Wait answers at once. */
  settled: boolean;
  /** An exec's process (null for the main one). */
  process: OciProcess | null;
}

export class TaskService {
  private id = '';
  private bundle = '';
  private vm: ContainerVm | null = null;
  private main: Proc | null = null;
  private readonly execs = new Map<string, Proc>();
  private rootfsMounted = false;
  private stdinStream: Socket | null = null;
  private killGuard: ReturnType<typeof setTimeout> | null = null;
  /** Called when containerd asks the shim to go (Shutdown). */
  onShutdown: () => void = () => {};

  constructor(private readonly publisher: EventPublisher, private readonly log: (msg: string) => void) {}

  private proc(execId: string): Proc {
    const p = execId === '' ? this.main : this.execs.get(execId);
    if (p === undefined || p === null) throw new RpcError(Code.NOT_FOUND, execId === '' ? `task ${this.id || '(none)'} not created` : `exec ${execId} not found`);
    return p;
  }

  private checkId(id: string): void {
    if (this.main !== null && id !== this.id) throw new RpcError(Code.NOT_FOUND, `task ${id} not found (this shim runs ${this.id})`);
  }

  async create(r: T.CreateTaskRequest): Promise<Partial<T.CreateTaskResponse>> {
    if (this.main !== null) throw new RpcError(Code.ALREADY_EXISTS, `task ${this.id} already created`);
    if (r.checkpoint !== '') throw new RpcError(Code.UNIMPLEMENTED, 'restoring a checkpoint is not supported by typevisor');
    this.id = r.id;
    this.bundle = r.bundle;
    let memoryMiB: number;
    let spec;
    try {
      spec = readSpec(r.bundle);
      ({ memoryMiB } = checkSpec(spec));
    } catch (e) {
      if (e instanceof SpecError) throw new RpcError(Code.INVALID_ARGUMENT, e.message);
      throw e;
    }
    const t0 = Date.now();
    const rootPath = spec.root?.path ?? 'rootfs';
    const rootDir = isAbsolute(rootPath) ? rootPath : join(r.bundle, rootPath);
    const rootfsImage = join(r.bundle, ROOTFS_IMAGE);
    const jobImage = join(r.bundle, JOB_IMAGE);
    try {
      this.rootfsMounted = await mountRootfs(r.rootfs.map((m) => ({ type: m.type, source: m.source, options: m.options })), rootDir);
      try {
        await buildRootfsImage(rootDir, rootfsImage);
      } finally {
        if (this.rootfsMounted) { await unmountRootfs(rootDir); this.rootfsMounted = false; }
      }
      writeJobImage(jobImage, jobScript(spec));
      this.log(`root filesystem image built (${Date.now() - t0} ms)`);
    } catch (e) {
      removeImages(r.bundle);
      throw new RpcError(Code.INTERNAL, `preparing the root filesystem: ${(e as Error).message}`);
    }
    const main: Proc = {
      execId: '', status: Status.CREATED, pid: 0, exitStatus: 0, exitedAt: undefined,
      stdin: r.stdin, stdout: r.stdout, stderr: r.stderr, terminal: r.terminal, out: null, err: null, waiters: [], settled: false, process: null,
    };
    const vm = new ContainerVm({ memoryMiB, rootfsImage, jobImage, readonlyRoot: spec.root?.readonly === true }, {
      output: (b) => main.out?.write(b),
      mainExit: (code) => this.exited(main, code),
      execStarted: (id, pid) => { const p = this.execs.get(id); if (p !== undefined) p.pid = pid; },
      execOutput: (id, line) => this.execs.get(id)?.out?.write(`${line}\n`),
      execExit: (id, code) => { const p = this.execs.get(id); if (p !== undefined) this.exited(p, code); },
      vmExit: (e) => {
        this.log(`VM ended: ${e.kind}: ${e.reason}`);
        for (const p of this.execs.values()) if (p.status !== Status.STOPPED) this.exited(p, 137);
      },
    });
    try {
      // The FIFOs first: one that cannot be opened fails Create before a VM exists.
      [main.out, main.err] = openOutputs(r.stdout, r.stderr);
      await vm.boot();
    } catch (e) {
      main.out?.destroy();
      main.err?.destroy();
      await vm.stop();
      removeImages(r.bundle);
      throw new RpcError(Code.INTERNAL, `starting the container: ${(e as Error).message}`);
    }
    this.log(`VM booted to its agent (${Date.now() - t0} ms since Create, ${memoryMiB} MiB)`);
    this.vm = vm;
    this.main = main;
    main.pid = process.pid;
    await this.publisher.publish('/tasks/create', TaskCreateSchema, {
      containerId: r.id, bundle: r.bundle, rootfs: r.rootfs, io: { stdin: r.stdin, stdout: r.stdout, stderr: r.stderr, terminal: r.terminal }, pid: main.pid,
    });
    return { pid: main.pid };
  }

  async start(r: T.StartRequest): Promise<Partial<T.StartResponse>> {
    this.checkId(r.id);
    const p = this.proc(r.execId);
    if (p.status !== Status.CREATED) throw new RpcError(Code.FAILED_PRECONDITION, `process ${r.execId || r.id} is ${Status[p.status]}, not CREATED`);
    const vm = this.vm!;
    if (r.execId === '') {
      try {
        await vm.start();
      } catch (e) {
        throw new RpcError(Code.INTERNAL, `starting the process: ${(e as Error).message}`);
      }
      p.status = Status.RUNNING;
      if (p.stdin !== '') void this.pipeStdin(p.stdin);
      await this.publisher.publish('/tasks/start', TaskStartSchema, { containerId: this.id, pid: p.pid });
    } else {
      if (!vm.running) throw new RpcError(Code.FAILED_PRECONDITION, `task ${this.id} is not running`);
      try {
        [p.out, p.err] = openOutputs(p.stdout, p.stderr);
      } catch (e) {
        throw new RpcError(Code.FAILED_PRECONDITION, `exec ${r.execId}: its output: ${(e as Error).message}`);
      }
      p.status = Status.RUNNING;
      p.pid = process.pid;
      vm.exec(r.execId, `${processCommand(p.process!)}\n`);
      await this.publisher.publish('/tasks/exec-started', TaskExecStartedSchema, { containerId: this.id, execId: r.execId, pid: p.pid });
    }
    return { pid: p.pid };
  }

  /**
   * Stdin: the FIFO opened read-write, which never waits for a writer (ctr run -d never
   * opens one) and never reads end-of-file; containerd says when input ends with CloseIO.
   */
  private pipeStdin(path: string): void {
    try {
      const s = fifoSocket(path, constants.O_RDWR);
      this.stdinStream = s;
      s.on('data', (d: Buffer) => this.vm?.input(d));
      s.on('error', () => {});
    } catch (e) {
      this.log(`stdin ${path}: ${(e as Error).message}`);
    }
  }

  private exited(p: Proc, code: number): void {
    if (p.status === Status.STOPPED) return;
    p.status = Status.STOPPED;
    p.exitStatus = code;
    p.exitedAt = now();
    const out = p.out;
    p.out = null;
    p.err?.end();
    p.err = null;
    const done = (): void => {
      void this.publisher.publish('/tasks/exit', TaskExitSchema, { containerId: this.id, id: p.execId || this.id, pid: p.pid, exitStatus: code, exitedAt: p.exitedAt });
      p.settled = true;
      for (const w of p.waiters) w();
      p.waiters = [];
    };
    // Wait answers only after the output is written: ctr prints it before exiting.
    if (out !== null) endThen(out, done); else done();
    if (p === this.main) {
      if (this.killGuard !== null) { clearTimeout(this.killGuard); this.killGuard = null; }
      this.stdinStream?.destroy();
    }
  }

  async state(r: T.StateRequest): Promise<Partial<T.StateResponse>> {
    this.checkId(r.id);
    const p = this.proc(r.execId);
    return {
      id: r.execId || this.id, bundle: this.bundle, pid: p.pid, status: p.status,
      stdin: p.stdin, stdout: p.stdout, stderr: p.stderr, terminal: p.terminal,
      exitStatus: p.exitStatus, exitedAt: p.exitedAt, execId: r.execId,
    };
  }

  async wait(r: T.WaitRequest): Promise<Partial<T.WaitResponse>> {
    this.checkId(r.id);
    const p = this.proc(r.execId);
    if (!p.settled) await new Promise<void>((resolve) => p.waiters.push(resolve));
    return { exitStatus: p.exitStatus, exitedAt: p.exitedAt };
  }

  async kill(r: T.KillRequest): Promise<Record<string, never>> {
    this.checkId(r.id);
    const p = this.proc(r.execId);
    if (p.status === Status.STOPPED) throw new RpcError(Code.NOT_FOUND, `process ${r.execId || r.id} already finished`);
    const vm = this.vm!;
    if (p !== this.main) {
      if (p.status === Status.CREATED) this.exited(p, 128 + r.signal); else vm.killExec(p.execId, r.signal);
      return {};
    }
    if (p.status === Status.CREATED) {
      // Never started: there is no process to signal; the VM goes.
      await vm.stop();
      this.exited(p, 128 + r.signal);
      return {};
    }
    vm.kill(r.signal);
    if (r.signal === SIGKILL && this.killGuard === null) {
      this.killGuard = setTimeout(() => {
        this.log(`the process did not end ${KILL_GRACE_MS} ms after SIGKILL: stopping the VM`);
        void vm.stop();
      }, KILL_GRACE_MS);
    }
    return {};
  }

  async exec(r: T.ExecProcessRequest): Promise<Record<string, never>> {
    this.checkId(r.id);
    if (this.main === null || this.main.status !== Status.RUNNING) throw new RpcError(Code.FAILED_PRECONDITION, `task ${r.id} is not running`);
    if (this.execs.has(r.execId)) throw new RpcError(Code.ALREADY_EXISTS, `exec ${r.execId} already exists`);
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(r.execId)) throw new RpcError(Code.INVALID_ARGUMENT, `exec id ${JSON.stringify(r.execId)}: letters, digits, _ . - only`);
    if (r.terminal) throw new RpcError(Code.UNIMPLEMENTED, 'exec with a terminal is not supported by typevisor');
    let proc: OciProcess;
    try {
      proc = JSON.parse(Buffer.from(r.spec?.value ?? new Uint8Array()).toString('utf8')) as OciProcess;
      checkProcess(proc, 'exec process');
    } catch (e) {
      throw new RpcError(Code.INVALID_ARGUMENT, (e as Error).message);
    }
    this.execs.set(r.execId, {
      execId: r.execId, status: Status.CREATED, pid: 0, exitStatus: 0, exitedAt: undefined,
      stdin: r.stdin, stdout: r.stdout, stderr: r.stderr, terminal: false, out: null, err: null, waiters: [], settled: false, process: proc,
    });
    await this.publisher.publish('/tasks/exec-added', TaskExecAddedSchema, { containerId: this.id, execId: r.execId });
    return {};
  }

  async delete(r: T.DeleteRequest): Promise<Partial<T.DeleteResponse>> {
    this.checkId(r.id);
    const p = this.proc(r.execId);
    if (p.status === Status.RUNNING) throw new RpcError(Code.FAILED_PRECONDITION, `process ${r.execId || r.id} is running: kill it first`);
    if (r.execId !== '') {
      this.execs.delete(r.execId);
      return { pid: p.pid, exitStatus: p.exitStatus, exitedAt: p.exitedAt };
    }
    await this.vm?.stop();
    removeImages(this.bundle);
    await this.publisher.publish('/tasks/delete', TaskDeleteSchema, { containerId: this.id, id: this.id, pid: p.pid, exitStatus: p.exitStatus, exitedAt: p.exitedAt });
    return { pid: p.pid, exitStatus: p.exitStatus, exitedAt: p.exitedAt };
  }

  async pids(r: T.PidsRequest): Promise<Partial<T.PidsResponse>> {
    this.checkId(r.id);
    const list = [];
    if (this.main !== null && this.main.status === Status.RUNNING) list.push(create(ProcessInfoSchema, { pid: this.main.pid }));
    return { processes: list };
  }

  async pause(r: T.PauseRequest): Promise<Record<string, never>> {
    this.checkId(r.id);
    const p = this.proc('');
    if (p.status !== Status.RUNNING) throw new RpcError(Code.FAILED_PRECONDITION, `task ${r.id} is not running`);
    await this.vm!.pause();
    p.status = Status.PAUSED;
    await this.publisher.publish('/tasks/paused', TaskPausedSchema, { containerId: this.id });
    return {};
  }

  async resume(r: T.ResumeRequest): Promise<Record<string, never>> {
    this.checkId(r.id);
    const p = this.proc('');
    if (p.status !== Status.PAUSED) throw new RpcError(Code.FAILED_PRECONDITION, `task ${r.id} is not paused`);
    await this.vm!.resume();
    p.status = Status.RUNNING;
    await this.publisher.publish('/tasks/resumed', TaskResumedSchema, { containerId: this.id });
    return {};
  }

  async resizePty(r: T.ResizePtyRequest): Promise<Record<string, never>> {
    this.checkId(r.id);
    this.proc(r.execId);
    return {}; // the serial console has no window size to set
  }

  async closeIO(r: T.CloseIORequest): Promise<Record<string, never>> {
    this.checkId(r.id);
    this.proc(r.execId);
    // End of input: ^D at a line's start is end-of-file for the process (the guest's tty is canonical).
    if (r.stdin && r.execId === '') { this.stdinStream?.destroy(); if (!this.main!.terminal) this.vm?.input(Buffer.from('\x04')); }
    return {};
  }

  async connect(r: T.ConnectRequest): Promise<Partial<T.ConnectResponse>> {
    this.checkId(r.id);
    return { shimPid: process.pid, taskPid: this.main?.pid ?? 0, version: typevisorVersion() };
  }

  async shutdown(_r: T.ShutdownRequest): Promise<Record<string, never>> {
    if (this.main !== null && this.main.status === Status.RUNNING) return {}; // containerd asks again after Delete
    await this.vm?.stop();
    await this.publisher.flush();
    setImmediate(() => this.onShutdown());
    return {};
  }
}

/**
 * A FIFO as a non-blocking socket on the event loop (libuv's pipe handle), never as a
 * file stream: a file stream's reads and writes block thread-pool threads when the other
 * end stalls, and a process with a blocked thread-pool thread cannot exit.
 */
function fifoSocket(path: string, flags: number): Socket {
  const fd = openSync(path, flags | constants.O_NONBLOCK);
  try {
    return new Socket({ fd, readable: flags !== constants.O_WRONLY, writable: flags !== constants.O_RDONLY });
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** End a stream and call `then` once its data is out, or once it failed or closed (a reader that left). */
function endThen(s: Socket, then: () => void): void {
  let called = false;
  const once = (): void => { if (!called) { called = true; then(); } };
  if (s.destroyed) return once();
  s.once('close', once);
  s.once('error', once);
  s.end(once);
}

/** Open the stdout and stderr FIFOs (stderr only when it is another file). */
function openOutputs(stdout: string, stderr: string): [Socket | null, Socket | null] {
  const out = openOutput(stdout);
  const err = stderr !== stdout ? openOutput(stderr) : null;
  return [out, err];
}

/** Open a FIFO containerd made for output: it holds the reading end (else ENXIO, at once). */
function openOutput(path: string): Socket | null {
  if (path === '') return null;
  const s = fifoSocket(path, constants.O_WRONLY);
  s.on('error', () => {});
  return s;
}
