// Messages between the page (web/main.ts) and the machine's Web Worker (web/worker.ts).

import type { CpuEngine } from '../src/machine/cpuEngine.js';
import type { Pacing } from '../src/machine/RunLoop.js';

export interface BootRequest {
  type: 'boot';
  kernel: Uint8Array;
  initrd: Uint8Array | null;
  cmdline: string;
  memoryMiB: number;
  cpu: CpuEngine;
  /** A virtio-blk disk image, held in the worker's memory. */
  disk: Uint8Array | null;
  /** Realtime (the default) or fast: idle time skipped, as the benchmark boots it (page URL ?pacing=fast). */
  pacing: Pacing;
}

export interface RestoreRequest {
  type: 'restore';
  /** The CLI's snapshot files: the state file and the raw memory file. */
  state: Uint8Array;
  memory: Uint8Array;
  cpu: CpuEngine;
}

export type ToWorker =
  | BootRequest
  | RestoreRequest
  | { type: 'input'; bytes: Uint8Array }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'ctrl-alt-del' }
  | { type: 'snapshot' }
  | { type: 'disk' };

/** Counters of one moment of the run (sent twice a second). */
export interface Stats {
  uptimeMs: number;
  instructions: number;
  /** Guest instructions per wall µs since the previous report. */
  mips: number;
  translatedShare: number;
  exits: { portIo: number; mmio: number; hlt: number; exceptions: number; interrupts: number };
  /** The busiest ports, MMIO devices and vectors: [label, count]. */
  ports: [string, number][];
  mmio: [string, number][];
  exceptionVectors: [string, number][];
  interruptVectors: [string, number][];
  /** Host memory the VM holds: guest RAM, the translator's code cache, and the worker's JS heap where the browser tells. */
  ramBytes: number;
  codeCacheBytes: number;
  heapBytes: number | null;
  paused: boolean;
}

export type FromWorker =
  | { type: 'serial'; bytes: Uint8Array }
  | { type: 'running' }
  | { type: 'stats'; stats: Stats }
  | { type: 'paused'; paused: boolean }
  | { type: 'snapshot'; state: Uint8Array; memory: Uint8Array; ms: number }
  | { type: 'disk'; image: Uint8Array | null }
  /** The run ended (exit kind and a sentence), or could not start (kind 'error'). */
  | { type: 'exit'; kind: string; message: string }
  | { type: 'error'; message: string };
