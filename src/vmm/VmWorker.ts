// One VM in its own worker thread (Node worker_threads). The worker builds a Machine
// from a VmSpec, runs it, and posts serial output back; this side forwards serial
// input and pause/resume/stop. A guest that crashes, triple-faults or throws ends its
// worker only: the owner hears about it through onExit.
//
// Pause is a flag in a SharedArrayBuffer, announced with a 'wake' message: the worker's
// run loop then parks between CPU slices (Machine.pause, no host CPU) while its event
// loop stays free to finish host I/O and write snapshots.

import { Worker } from 'node:worker_threads';
import { PAUSE_IO_GUARD_MS, type Pacing } from '../machine/RunLoop.js';
import type { CpuEngine } from '../machine/cpuEngine.js';
import { POST_COUNTER_SLOTS, readPostCounters, type PostCodeCounters } from '../machine/postCodeCounters.js';

/** What a VM is made from (the API's pre-boot configuration, resolved). */
export interface VmSpec {
  kernelPath: string;
  initrdPath: string | null;
  /** Kernel command line before the virtio-mmio entries are appended. */
  cmdline: string;
  memoryMiB: number;
  drives: { id: string; path: string; readonly: boolean }[];
  nets: { id: string; tap: string; mac?: string }[];
  /** virtio-rng (PUT /entropy). */
  rng: boolean;
  /** virtio-vsock, Firecracker's host side: connections through the Unix socket at path. */
  vsock: { cid: number; path: string } | null;
  /** A virtio-console (hvc0) whose bytes go through onConsoleOutput / consoleInput (the containerd shim's agent channel). */
  console?: boolean;
  pacing: Pacing;
  /** CPU engine (default: the machine's, the translator). */
  cpu?: CpuEngine;
  /** Share of one host core the VM may use (RunLoop.cpuShare; default 1, no cap). */
  cpuShare?: number;
  /** A deterministic run (MachineConfig.deterministic) with this seed; pacing must be 'fast'. */
  deterministic?: { seed: number };
  /** Build the VM from a snapshot instead (PUT /snapshot/load); the boot fields are then unused. */
  /** netOverrides: iface_id → the tap to attach instead of the snapshot's (network_overrides). */
  restore?: { statePath: string; memPath: string; vsockPath?: string; netOverrides?: Record<string, string> };
  /** Start with the vCPU paused (a loaded snapshot without resume_vm). */
  startPaused?: boolean;
}

/** Control word values (Int32 index 0 of the control buffer). */
export const CTL_RUN = 0;
export const CTL_PAUSE = 1;
export const CTL_STOP = 2;

/** Messages from the worker. */
export type FromWorker =
  | { type: 'started' }
  | { type: 'start-failed'; message: string }
  | { type: 'serial'; bytes: Uint8Array }
  /** Guest output on the virtio-console (VmSpec.console). */
  | { type: 'console'; bytes: Uint8Array }
  | { type: 'paused' }
  | { type: 'resumed' }
  /** The counters were just written to the shared stats buffer (answers 'publish-stats'). */
  | { type: 'stats-published' }
  /** Serial input bytes the guest has taken since the start (from the UART's queue), in total. */
  | { type: 'input-taken'; total: number }
  | { type: 'drive-swapped'; seq: number; error: string | null }
  | { type: 'snapshot-done'; seq: number; error: string | null }
  | { type: 'exit'; reason: string; kind: string };

/** Messages to the worker. */
export type ToWorker =
  | { type: 'input'; bytes: Uint8Array }
  /** Host input for the virtio-console (VmSpec.console). */
  | { type: 'console-input'; bytes: Uint8Array }
  | { type: 'wake' }
  | { type: 'stop' }
  | { type: 'power-button' }
  | { type: 'ctrl-alt-del' }
  /** PATCH /drives: drive `index` (VmSpec.drives order) takes the image at `path`. */
  | { type: 'swap-drive'; seq: number; index: number; path: string }
  | { type: 'cpu-share'; share: number }
  /** Write the counters to the shared stats buffer now. */
  | { type: 'publish-stats' }
  /** PUT /snapshot/create: write the state and memory files (Machine.saveSnapshot). */
  | { type: 'snapshot'; seq: number; statePath: string; memPath: string };

/**
 * Live counters the worker keeps in a shared Float64Array: written when asked
 * (readStats), at pause and exit, and every STATS_MS besides. Each timer wake of an idle
 * VM's thread costs host CPU (at 100 ms, 1 % of a core: more than the idle guest itself).
 */
/**
 * active_ms: the VM thread's busy host time; throttled_ms: host time it slept to hold its
 * cpu_share (RunLoop.cappedMs); heap_bytes: its own JavaScript heap (V8 total_heap_size),
 * besides its guest RAM. The jit_* counters are the binary translator's (TranslatorStats;
 * 0 on the interpreter): instructions that ran translated, regions compiled (and of those
 * by the optimizing compiler), blocks compiled, host ms compiling, region entries (cache
 * hits), regions dropped by writes to their code and to keep the cache cap, and the
 * cache's size in bytes of WebAssembly.
 */
export const STAT_NAMES = [
  'instructions', 'halts', 'io_exits', 'exceptions', 'interrupts', 'virtual_ns', 'active_ms', 'throttled_ms', 'heap_bytes',
  'jit_translated_insns', 'jit_regions_compiled', 'jit_regions_optimized', 'jit_blocks_compiled', 'jit_compile_ms',
  'jit_cache_hits', 'jit_invalidations', 'jit_evictions', 'jit_cache_bytes',
] as const;
/** The numbers, then port 0x80's POST codes (after STAT_NAMES in the shared buffer). */
export type VmStats = Record<(typeof STAT_NAMES)[number], number> & PostCodeCounters;
/** Float64 slots of the shared counter buffer. */
export const STATS_SLOTS = STAT_NAMES.length + POST_COUNTER_SLOTS;
export const STATS_MS = 1000;

/**
 * How long a request the VM thread answers between CPU slices (pause, resume, fresh
 * counters) may wait for that answer. A VM that ended answers at once (its waits end with
 * it); this bounds only a thread that is alive but stuck. It is long because a healthy VM
 * can be slow to answer: a pause waits for host I/O in flight (up to PAUSE_IO_GUARD_MS,
 * a disk request behind a busy host's thread pool), and a loaded host may not run the
 * thread for a while. Failing sooner would fail a pause the VM then carries out anyway.
 */
export const VM_ANSWER_GUARD_MS = 2 * PAUSE_IO_GUARD_MS;

/**
 * Serial input flow control: input sent to a VM and not yet taken by its guest is held
 * below this (the sender stops reading its source: a console socket, stdin), so a client
 * that writes faster than the guest reads cannot grow host memory. Reading resumes once
 * the backlog is down to INPUT_LOW_WATER.
 */
export const INPUT_HIGH_WATER = 64 * 1024;
export const INPUT_LOW_WATER = 16 * 1024;

/**
 * What the VMM holds of a running VM, whether it runs in a worker thread (VmWorker) or
 * in a child process (ProcessVm, --process-per-vm).
 */
export interface VmHandle {
  onSerialOutput: (bytes: Uint8Array) => void;
  onExit: (exit: VmExit) => void;
  readonly running: boolean;
  readonly exit: VmExit | null;
  readonly paused: boolean;
  /** The host process id of a VM in a process of its own (undefined for a thread). */
  readonly pid?: number | undefined;
  /** The counters as last published (at most STATS_MS old for a thread; readStats for fresh ones). */
  stats(): VmStats;
  /** Fresh counters (a round trip for a child process). */
  readStats(): Promise<VmStats>;
  serialInput(bytes: Uint8Array): void;
  /** Serial input sent (serialInput) that the guest has not taken yet, in bytes. */
  readonly inputBacklog: number;
  /** Called when the guest has taken serial input (inputBacklog fell). */
  onInputTaken: () => void;
  sendCtrlAltDel(): void;
  pressPowerButton(): void;
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Swap the medium of drive `index` (VmSpec.drives order); rejects with the reason. */
  swapDrive(index: number, path: string): Promise<void>;
  setCpuShare(share: number): void;
  /** Write a snapshot of the paused VM; rejects with the reason. */
  snapshot(statePath: string, memPath: string): Promise<void>;
  stop(graceMs?: number): Promise<VmExit>;
  whenExited(): Promise<VmExit>;
}

export interface VmExit {
  /** ExitReason kind ('poweroff', 'triple-fault', ...) or 'crashed' when the worker died. */
  kind: string;
  reason: string;
}

export class VmWorker implements VmHandle {
  private readonly worker: Worker;
  private readonly ctl = new Int32Array(new SharedArrayBuffer(4));
  private readonly statsBuf = new Float64Array(new SharedArrayBuffer(8 * STATS_SLOTS));
  private ackWaiters: { type: string; resolve: () => void }[] = [];
  /** Requests awaiting the worker's answer (drive swaps, snapshots), by sequence number. */
  private readonly requests = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private requestSeq = 0;
  private exited: VmExit | null = null;
  private readonly exitPromise: Promise<VmExit>;
  onSerialOutput: (bytes: Uint8Array) => void = () => {};
  /** Guest output on the virtio-console (VmSpec.console). */
  onConsoleOutput: (bytes: Uint8Array) => void = () => {};
  onExit: (exit: VmExit) => void = () => {};
  onInputTaken: () => void = () => {};
  /** Serial input bytes sent to the worker, and taken by the guest, since the start. */
  private inputSent = 0;
  inputTaken = 0;

  private constructor(spec: VmSpec, private readonly startResult: { resolve: () => void; reject: (e: Error) => void }) {
    if (spec.startPaused) Atomics.store(this.ctl, 0, CTL_PAUSE);
    this.worker = new Worker(new URL('./vmWorkerMain.js', import.meta.url), {
      workerData: { spec, control: this.ctl.buffer, stats: this.statsBuf.buffer },
      // The run loop allocates next to nothing: a small young generation saves ~2 MiB of
      // host memory per VM at no measured cost in speed (bench/manager.ts).
      resourceLimits: { maxYoungGenerationSizeMb: 2 },
    });
    let exitResolve!: (e: VmExit) => void;
    this.exitPromise = new Promise((r) => { exitResolve = r; });
    const finish = (e: VmExit): void => {
      if (this.exited) return;
      this.exited = e;
      for (const w of this.ackWaiters) w.resolve();
      this.ackWaiters = [];
      for (const w of this.requests.values()) w.reject(new Error(`the VM ended: ${e.reason}`));
      this.requests.clear();
      startResult.reject(new Error(e.reason));
      exitResolve(e);
      this.onExit(e);
    };
    this.worker.on('message', (m: FromWorker) => {
      switch (m.type) {
        case 'started': startResult.resolve(); break;
        case 'start-failed': startResult.reject(new Error(m.message)); break;
        case 'serial': this.onSerialOutput(m.bytes); break;
        case 'console': this.onConsoleOutput(m.bytes); break;
        case 'input-taken': this.inputTaken = m.total; this.onInputTaken(); break;
        case 'paused': case 'stats-published': this.ack(m.type); break;
        // A pause overtaken by a resume before the thread parked ends with the VM running:
        // that answers the pause too.
        case 'resumed': this.ack('resumed'); this.ack('paused'); break;
        case 'drive-swapped': case 'snapshot-done': {
          const w = this.requests.get(m.seq);
          this.requests.delete(m.seq);
          if (m.error === null) w?.resolve(); else w?.reject(new Error(m.error));
          break;
        }
        case 'exit': finish({ kind: m.kind, reason: m.reason }); break;
      }
    });
    this.worker.on('error', (e) => finish({ kind: 'crashed', reason: `VM worker failed: ${e.message}` }));
    this.worker.on('exit', (code) => finish({ kind: 'crashed', reason: `VM worker ended (code ${code})` }));
  }

  /** Start a VM; resolves once the machine is built and running, rejects if it could not be. */
  static start(spec: VmSpec): Promise<VmWorker> {
    return new Promise((resolve, reject) => {
      let vm: VmWorker | null = null;
      let settled = false;
      vm = new VmWorker(spec, {
        resolve: () => { if (!settled) { settled = true; resolve(vm!); } },
        reject: (e) => { if (!settled) { settled = true; reject(e); } },
      });
    });
  }

  get running(): boolean { return this.exited === null; }
  get exit(): VmExit | null { return this.exited; }
  get paused(): boolean { return Atomics.load(this.ctl, 0) === CTL_PAUSE; }

  private ack(type: string): void {
    const ready = this.ackWaiters.filter((w) => w.type === type);
    this.ackWaiters = this.ackWaiters.filter((w) => w.type !== type);
    for (const w of ready) w.resolve();
  }

  private waitAck(type: string, ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`the VM did not acknowledge "${type}" within ${ms} ms`)), ms);
      this.ackWaiters.push({ type, resolve: () => { clearTimeout(t); resolve(); } });
    });
  }

  private send(m: ToWorker): void {
    if (this.exited) return;
    this.worker.postMessage(m);
  }

  /** The VM's counters as of the worker's last refresh (at most STATS_MS old while it runs). */
  stats(): VmStats {
    const s = {} as VmStats;
    STAT_NAMES.forEach((n, i) => { s[n] = this.statsBuf[i]!; });
    return Object.assign(s, readPostCounters(this.statsBuf, STAT_NAMES.length));
  }

  /** The counters fresh from the worker (it publishes on request, between CPU slices). */
  async readStats(): Promise<VmStats> {
    if (!this.exited) {
      const published = this.waitAck('stats-published', VM_ANSWER_GUARD_MS);
      this.send({ type: 'publish-stats' });
      try { await published; } catch { /* a stuck worker: the last counters stand */ }
    }
    return this.stats();
  }

  /** Send a request the worker answers with the same `seq` (and an error or null). */
  private request(make: (seq: number) => ToWorker): Promise<void> {
    if (this.exited) return Promise.reject(new Error('the VM is not running'));
    const seq = ++this.requestSeq;
    return new Promise((resolve, reject) => {
      this.requests.set(seq, { resolve, reject });
      this.send(make(seq));
    });
  }

  swapDrive(index: number, path: string): Promise<void> {
    return this.request((seq) => ({ type: 'swap-drive', seq, index, path }));
  }

  snapshot(statePath: string, memPath: string): Promise<void> {
    return this.request((seq) => ({ type: 'snapshot', seq, statePath, memPath }));
  }

  setCpuShare(share: number): void {
    this.send({ type: 'cpu-share', share });
  }

  serialInput(bytes: Uint8Array): void {
    if (this.exited) return;
    this.inputSent += bytes.length;
    this.send({ type: 'input', bytes });
  }

  /** Input for the virtio-console (VmSpec.console); held by the device until the guest's driver takes it. */
  consoleInput(bytes: Uint8Array): void {
    this.send({ type: 'console-input', bytes });
  }

  get inputBacklog(): number { return this.inputSent - this.inputTaken; }

  /** Ctrl-Alt-Del on the i8042 keyboard, as Firecracker's SendCtrlAltDel. */
  sendCtrlAltDel(): void {
    this.send({ type: 'ctrl-alt-del' });
  }

  pressPowerButton(): void {
    this.send({ type: 'power-button' });
  }

  /** Stop the vCPU between slices; resolves when it has stopped. */
  async pause(): Promise<void> {
    if (this.exited || this.paused) return;
    const acked = this.waitAck('paused', VM_ANSWER_GUARD_MS);
    Atomics.store(this.ctl, 0, CTL_PAUSE);
    this.send({ type: 'wake' }); // an idle guest sleeping in HLT reaches the check at once
    await acked;
  }

  async resume(): Promise<void> {
    if (this.exited || !this.paused) return;
    const acked = this.waitAck('resumed', VM_ANSWER_GUARD_MS);
    Atomics.store(this.ctl, 0, CTL_RUN);
    Atomics.notify(this.ctl, 0);
    this.send({ type: 'wake' });
    await acked;
  }

  /** End the VM: ask the machine to stop, terminate the thread if it does not. */
  async stop(graceMs = 2000): Promise<VmExit> {
    if (this.exited) return this.exited;
    Atomics.store(this.ctl, 0, CTL_STOP);
    Atomics.notify(this.ctl, 0);
    this.send({ type: 'stop' });
    const t = setTimeout(() => { void this.worker.terminate(); }, graceMs);
    const e = await this.exitPromise;
    clearTimeout(t);
    return e;
  }

  /** Resolves when the VM has ended, however it ended. */
  whenExited(): Promise<VmExit> {
    return this.exitPromise;
  }
}
