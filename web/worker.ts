// The machine's Web Worker: one typevisor Machine (src/machine/Machine.ts, the same the
// CLI runs) per worker. COM1 goes to the page's terminal, the page's keys come back;
// stats are reported twice a second. The page starts a fresh worker for a reset.

import { Machine, type ExitReason } from '../src/machine/Machine.js';
import { BootError } from '../src/boot/BootError.js';
import { attachVirtioTo } from '../src/machine/attachVirtioTo.js';
import { MemoryBlockImage } from '../src/devices/virtio/BlockImage.js';
import type { BootRequest, FromWorker, Stats, ToWorker } from './protocol.js';
import { machineFromBytes, snapshotToBytes } from '../src/snapshot/snapshotBytes.js';

/** package.json's version, put in by the bundle build (snapshots record it). */
declare const TYPEVISOR_VERSION: string;

const EXC_NAMES = ['#DE', '#DB', 'NMI', '#BP', '#OF', '#BR', '#UD', '#NM', '#DF', '', '#TS', '#NP', '#SS', '#GP', '#PF', '', '#MF', '#AC', '#MC', '#XM'];
const STATS_MS = 500;

const post = (m: FromWorker, transfer: Transferable[] = []): void => (self as unknown as Worker).postMessage(m, transfer);
let machine: Machine | null = null;
/** The virtio-blk disk's medium, when the boot had one. */
let disk: MemoryBlockImage | null = null;
let lastInsns = 0;
let lastAt = 0;

function top(entries: [string, number][], n: number): [string, number][] {
  return entries.filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]).slice(0, n);
}

function stats(m: Machine): Stats {
  const cpu = m.cpu;
  const now = performance.now();
  const insns = cpu.instructions;
  const mips = now > lastAt ? (insns - lastInsns) / ((now - lastAt) * 1000) : 0;
  lastInsns = insns;
  lastAt = now;
  const ports: [string, number][] = [];
  cpu.io.counts.forEach((v, p) => { if (v > 0) ports.push([`0x${p.toString(16).padStart(4, '0')} ${cpu.io.ownerOf(p) ?? 'unclaimed'}`, v]); });
  const mmio = [...m.mem.mmioCounts.entries()];
  const exc: [string, number][] = [];
  cpu.excCounts.forEach((v, i) => exc.push([`${i} ${EXC_NAMES[i] ?? ''}`, v]));
  const ints: [string, number][] = [];
  cpu.intCounts.forEach((v, i) => ints.push([`0x${i.toString(16).padStart(2, '0')}`, v]));
  const sum = (e: [string, number][]): number => e.reduce((s, [, v]) => s + v, 0);
  const heap = (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? null;
  return {
    uptimeMs: m.uptimeMs(), instructions: insns, mips,
    translatedShare: m.translator !== null && insns > 0 ? m.translator.stats.translatedInsns / insns : 0,
    exits: { portIo: sum(ports), mmio: sum(mmio), hlt: m.loop.halts, exceptions: sum(exc), interrupts: sum(ints) },
    ports: top(ports, 8), mmio: top(mmio, 8), exceptionVectors: top(exc, 8), interruptVectors: top(ints, 8),
    ramBytes: m.mem.ramSize, codeCacheBytes: m.translator?.stats.cacheBytes ?? 0, heapBytes: heap, paused: m.paused,
  };
}

/** A sentence for how the run ended, as the CLI words it. */
function exitMessage(r: ExitReason): string {
  switch (r.kind) {
    case 'poweroff': return 'The guest powered off.';
    case 'reset': return `The guest reset (${r.source}).`;
    case 'triple-fault': return `The guest triple-faulted: ${r.detail}. The machine stopped.`;
    case 'dead-halt': return `The guest halted for good: ${r.detail}.`;
    default: return `The run ended: ${'detail' in r ? r.detail : (r as ExitReason).kind}.`;
  }
}

async function start(m: Machine): Promise<void> {
  machine = m;
  m.onSerialOutput = (bytes) => post({ type: 'serial', bytes }, [bytes.buffer]);
  m.externalInputOpen = true; // the page's terminal may type at any time
  lastInsns = m.cpu.instructions;
  lastAt = performance.now();
  const timer = setInterval(() => post({ type: 'stats', stats: stats(m) }), STATS_MS);
  post({ type: 'running' });
  try {
    const r = await m.run();
    post({ type: 'stats', stats: stats(m) });
    post({ type: 'exit', kind: r.kind, message: exitMessage(r) });
  } catch (e) {
    post({ type: 'exit', kind: 'error', message: `Internal error: ${(e as Error).message}` });
  } finally {
    clearInterval(timer);
  }
}

async function boot(msg: BootRequest): Promise<Machine> {
  const m = new Machine({ memoryMiB: msg.memoryMiB, kernel: msg.kernel, initrd: msg.initrd, cmdline: msg.cmdline, cpu: msg.cpu, pacing: msg.pacing });
  if (msg.disk !== null) {
    if (msg.disk.length < 512) throw new Error(`the disk image is ${msg.disk.length} bytes: a disk holds at least one 512-byte sector`);
    disk = new MemoryBlockImage(msg.disk);
    // The guest finds it in the DSDT (virtio-mmio), as /dev/vda.
    await attachVirtioTo(m, { drives: [{ file: 'disk.img', readonly: false, image: disk }] }, { log: (line) => post({ type: 'error', message: line }) });
  }
  return m;
}

function fail(e: unknown): void {
  const msg = (e as Error).message ?? String(e);
  post({ type: 'error', message: e instanceof BootError ? `Cannot boot: ${msg}` : msg });
}

// Anything that escapes a handler still reaches the page as a message.
self.addEventListener('unhandledrejection', (ev) => fail((ev as PromiseRejectionEvent).reason));

self.onmessage = (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  const m = machine;
  switch (msg.type) {
    case 'boot':
      boot(msg).then((booted) => start(booted), fail);
      break;
    case 'restore':
      machineFromBytes(msg.state, msg.memory, { cpu: msg.cpu, pacing: 'realtime' }).then((r) => start(r), fail);
      break;
    case 'input': m?.serialInput(msg.bytes); break;
    case 'ctrl-alt-del': m?.sendCtrlAltDel(); break;
    case 'pause': m?.pause().then(() => post({ type: 'paused', paused: true }), fail); break;
    case 'resume': m?.resume(); post({ type: 'paused', paused: false }); break;
    case 'snapshot':
      if (m === null) { fail(new Error('no machine is running')); break; }
      snapshotToBytes(m, TYPEVISOR_VERSION).then((s) => post({ type: 'snapshot', ...s }, [s.state.buffer, s.memory.buffer]), fail);
      break;
    case 'disk': post({ type: 'disk', image: disk?.bytes.slice() ?? null }); break;
  }
};
