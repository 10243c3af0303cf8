// A VM in its own child process (`typevisor manage --process-per-vm`): the child
// (processWorkerMain.ts) runs the VM exactly as the manager would in-process, as a
// VmWorker, and relays it over Node's IPC channel. A VM that crashes, or is killed,
// takes only its process down; the manager hears of it through onExit. This side
// offers the same VmHandle as VmWorker, so Vmm does not know the difference.
//
// Protocol (structured clone over IPC): to the child {type:'start', spec} then
// {type:'call', seq, method, args} for VmHandle methods; from the child 'started',
// 'start-failed', 'serial', 'exit' (as VmWorker's FromWorker) and {type:'reply', seq,
// error, value, stats}: every reply carries the counters as last published (at pause, for
// one), so they outlive a VM process that is killed.

import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { STAT_NAMES, STATS_SLOTS, VM_ANSWER_GUARD_MS, type VmExit, type VmHandle, type VmSpec, type VmStats } from './VmWorker.js';
import { readPostCounters } from '../machine/postCodeCounters.js';

/** VmHandle methods the child runs on request. */
export const RELAYED = ['serialInput', 'sendCtrlAltDel', 'pressPowerButton', 'pause', 'resume', 'swapDrive', 'setCpuShare', 'snapshot', 'stop', 'readStats'] as const;
export type RelayedMethod = (typeof RELAYED)[number];

export type ToChild =
  | { type: 'start'; spec: VmSpec }
  | { type: 'call'; seq: number; method: RelayedMethod; args: unknown[] };

export type FromChild =
  | { type: 'started' }
  | { type: 'start-failed'; message: string }
  | { type: 'serial'; bytes: Uint8Array }
  /** As VmWorker's FromWorker: serial input the guest has taken, in total. */
  | { type: 'input-taken'; total: number }
  | { type: 'exit'; kind: string; reason: string; stats: VmStats }
  /** stats: the counters as the VM last published them, so a VM killed later still reads back its last ones. */
  | { type: 'reply'; seq: number; error: string | null; value: unknown; stats: VmStats };

/** How long a stopping child gets past the VM's own grace time before SIGKILL. */
const KILL_AFTER_MS = 1000;

/** How often a pending call looks whether the VM process has been stopped (SIGSTOP, a debugger). */
const STOPPED_POLL_MS = 500;

/**
 * Whether process `pid` is stopped (state T, or t under a tracer), from /proc; false
 * where /proc cannot tell (another OS, the process gone).
 */
export function processStopped(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3); // the comm field may hold spaces and ')'
    return state === 'T' || state === 't';
  } catch {
    return false;
  }
}

export function zeroStats(): VmStats {
  const s = {} as VmStats;
  for (const n of STAT_NAMES) s[n] = 0;
  return Object.assign(s, readPostCounters(new Float64Array(STATS_SLOTS), STAT_NAMES.length));
}

export class ProcessVm implements VmHandle {
  private readonly child: ChildProcess;
  private seq = 0;
  private readonly calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; method: RelayedMethod; guardAt: number }>();
  /** Watches pending calls for a stopped or stuck VM process while any are pending. */
  private watch: NodeJS.Timeout | null = null;
  private exited: VmExit | null = null;
  private readonly exitPromise: Promise<VmExit>;
  private isPaused = false;
  private lastStats = zeroStats();
  onSerialOutput: (bytes: Uint8Array) => void = () => {};
  onExit: (exit: VmExit) => void = () => {};
  onInputTaken: () => void = () => {};
  private inputSent = 0;
  private inputTaken = 0;

  /** Start a VM in a new process; resolves once it runs, rejects if it could not start. */
  static start(spec: VmSpec): Promise<ProcessVm> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const vm: ProcessVm = new ProcessVm(spec, (e) => {
        if (settled) return;
        settled = true;
        if (e === null) resolve(vm); else reject(e);
      });
    });
  }

  private constructor(spec: VmSpec, started: (e: Error | null) => void) {
    this.child = fork(new URL('./processWorkerMain.js', import.meta.url), [], {
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    this.isPaused = spec.startPaused === true;
    let exitResolve!: (e: VmExit) => void;
    this.exitPromise = new Promise((r) => { exitResolve = r; });
    const finish = (e: VmExit): void => {
      if (this.exited) return;
      this.exited = e;
      this.failCalls(() => true, `the VM ended: ${e.reason}`);
      started(new Error(e.reason));
      exitResolve(e);
      this.onExit(e);
    };
    this.child.on('message', (m: FromChild) => {
      switch (m.type) {
        case 'started': started(null); break;
        case 'start-failed': started(new Error(m.message)); break;
        case 'serial': this.onSerialOutput(m.bytes); break;
        case 'input-taken': this.inputTaken = m.total; this.onInputTaken(); break;
        case 'exit': this.lastStats = m.stats; finish({ kind: m.kind, reason: m.reason }); break;
        case 'reply': {
          this.lastStats = m.stats;
          const c = this.calls.get(m.seq);
          this.calls.delete(m.seq);
          this.unwatchIfIdle();
          if (m.error === null) c?.resolve(m.value); else c?.reject(new Error(m.error));
          break;
        }
      }
    });
    this.child.on('error', (e) => finish({ kind: 'crashed', reason: `VM process failed: ${e.message}` }));
    this.child.on('exit', (code, signal) => finish({ kind: 'crashed', reason: `VM process ended (${signal ?? `code ${code}`})` }));
    this.post({ type: 'start', spec });
  }

  /** The child's process id (tests kill it to check that the manager survives). */
  get pid(): number | undefined { return this.child.pid; }

  get running(): boolean { return this.exited === null; }
  get exit(): VmExit | null { return this.exited; }
  get paused(): boolean { return this.isPaused && this.exited === null; }

  private post(m: ToChild): void {
    if (this.exited || !this.child.connected) return;
    try { this.child.send(m); } catch { /* the child is going: its exit event reports it */ }
  }

  /**
   * Ask the child to run `method`. The child answers between CPU slices, so a live VM
   * answers; one whose process is stopped (SIGSTOP, a debugger attached) or stuck never
   * would, and an API request must not wait for it forever: a stopped process fails its
   * calls at the next look (every STOPPED_POLL_MS), and calls that VmWorker also bounds
   * (pause, resume, fresh counters) fail after VM_ANSWER_GUARD_MS. Drive swaps and
   * snapshots, whose file work may be long, are bounded only by the stopped check.
   */
  private call(method: RelayedMethod, ...args: unknown[]): Promise<unknown> {
    if (this.exited) return Promise.reject(new Error('the VM is not running'));
    const seq = ++this.seq;
    const guarded = method === 'pause' || method === 'resume' || method === 'readStats';
    return new Promise((resolve, reject) => {
      this.calls.set(seq, { resolve, reject, method, guardAt: guarded ? Date.now() + VM_ANSWER_GUARD_MS : Infinity });
      this.post({ type: 'call', seq, method, args });
      this.watch ??= setInterval(() => this.checkCalls(), STOPPED_POLL_MS);
    });
  }

  private checkCalls(): void {
    const pid = this.child.pid;
    if (pid !== undefined && processStopped(pid)) {
      this.failCalls(() => true, `the VM process (pid ${pid}) is stopped; continue it (SIGCONT) or stop the VM`);
      return;
    }
    const now = Date.now();
    this.failCalls((c) => now >= c.guardAt, `the VM process did not answer within ${VM_ANSWER_GUARD_MS} ms`);
  }

  /** Reject the pending calls `which` picks with `message` (named after the method). */
  private failCalls(which: (c: { guardAt: number }) => boolean, message: string): void {
    for (const [seq, c] of this.calls) {
      if (!which(c)) continue;
      this.calls.delete(seq);
      c.reject(new Error(`${c.method}: ${message}`));
    }
    this.unwatchIfIdle();
  }

  private unwatchIfIdle(): void {
    if (this.calls.size === 0 && this.watch !== null) {
      clearInterval(this.watch);
      this.watch = null;
    }
  }

  private fire(method: RelayedMethod, ...args: unknown[]): void {
    this.call(method, ...args).catch(() => { /* the VM ended; nothing to tell */ });
  }

  stats(): VmStats { return { ...this.lastStats }; }

  /** Fresh counters; from a stopped or stuck VM process, the last ones (as VmWorker). */
  async readStats(): Promise<VmStats> {
    if (this.exited) return this.stats();
    try {
      this.lastStats = (await this.call('readStats')) as VmStats;
    } catch { /* the last counters stand */ }
    return this.stats();
  }

  serialInput(bytes: Uint8Array): void {
    if (this.exited) return;
    this.inputSent += bytes.length;
    this.fire('serialInput', bytes);
  }

  get inputBacklog(): number { return this.inputSent - this.inputTaken; }
  sendCtrlAltDel(): void { this.fire('sendCtrlAltDel'); }
  pressPowerButton(): void { this.fire('pressPowerButton'); }
  setCpuShare(share: number): void { this.fire('setCpuShare', share); }

  async pause(): Promise<void> {
    await this.call('pause');
    this.isPaused = true;
  }

  async resume(): Promise<void> {
    await this.call('resume');
    this.isPaused = false;
  }

  async swapDrive(index: number, path: string): Promise<void> {
    await this.call('swapDrive', index, path);
  }

  async snapshot(statePath: string, memPath: string): Promise<void> {
    await this.call('snapshot', statePath, memPath);
  }

  async stop(graceMs = 2000): Promise<VmExit> {
    if (this.exited) return this.exited;
    this.fire('stop', graceMs);
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs + KILL_AFTER_MS);
    const e = await this.exitPromise;
    clearTimeout(t);
    return e;
  }

  whenExited(): Promise<VmExit> { return this.exitPromise; }
}
