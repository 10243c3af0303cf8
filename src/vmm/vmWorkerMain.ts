// The body of a VM worker thread (see VmWorker.ts): builds the Machine from the VmSpec
// (or restores it from a snapshot), attaches the virtio-mmio devices, runs it, and
// reports back over the message port.

import { parentPort, workerData } from 'node:worker_threads';
import { readInputFile } from './inputFile.js';
import { getHeapStatistics } from 'node:v8';
import { Machine } from '../machine/Machine.js';
import { mmioDiscoveryCmdline, virtioDeviceCount, type AttachedVirtio, type VirtioOptions } from '../devices/virtio/options.js';
import { attachVirtioTo } from '../machine/attachVirtioTo.js';
import type { VirtioBlk } from '../devices/virtio/VirtioBlk.js';
import { writePostCounters } from '../machine/postCodeCounters.js';
import { CTL_PAUSE, CTL_STOP, STAT_NAMES, STATS_MS, type FromWorker, type ToWorker, type VmSpec } from './VmWorker.js';

const port = parentPort!;
/** How often the guest's progress on serial input is checked while input waits (backing off to the max). */
const INPUT_POLL_MIN_MS = 5;
const INPUT_POLL_MAX_MS = 500;
const { spec, control, stats } = workerData as { spec: VmSpec; control: SharedArrayBuffer; stats: SharedArrayBuffer };
const ctl = new Int32Array(control);
const statsOut = new Float64Array(stats);

function post(m: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(m, transfer);
}

async function main(): Promise<void> {
  let machine: Machine;
  let virtio: AttachedVirtio | null = null;
  try {
    if (spec.restore) {
      const r = spec.restore;
      machine = await Machine.restore(r.statePath, r.memPath, {
        pacing: spec.pacing, ...(spec.cpu !== undefined ? { cpu: spec.cpu } : {}),
        ...(r.vsockPath !== undefined ? { vsockPath: r.vsockPath } : {}),
        ...(r.netOverrides !== undefined ? { netOverrides: r.netOverrides } : {}),
        log: (msg) => process.stderr.write(`typevisor: ${msg}\n`),
      });
      virtio = machine.virtio[0]?.attached ?? null;
    } else {
      const kernel = readInputFile(spec.kernelPath, 'kernel');
      const initrd = spec.initrdPath !== null ? readInputFile(spec.initrdPath, 'initrd') : null;
      const opts: VirtioOptions = {
        drives: spec.drives.map((d) => ({ file: d.path, readonly: d.readonly, id: d.id })),
        nets: spec.nets.map((n) => ({ kind: 'tap' as const, ifname: n.tap, id: n.id, ...(n.mac !== undefined ? { mac: n.mac } : {}) })),
        vsock: spec.vsock, console: spec.console === true, rng: spec.rng,
      };
      const count = virtioDeviceCount(opts);
      machine = new Machine({
        memoryMiB: spec.memoryMiB,
        kernel, initrd,
        cmdline: mmioDiscoveryCmdline(spec.cmdline, count), // DSDT, or virtio_mmio.device= with acpi=off
        pacing: spec.pacing,
        ...(spec.cpu !== undefined ? { cpu: spec.cpu } : {}),
        ...(spec.deterministic !== undefined ? { deterministic: true, seed: spec.deterministic.seed } : {}),
      });
      if (count > 0) {
        virtio = await attachVirtioTo(machine, opts, { log: (msg) => process.stderr.write(`typevisor: ${msg}\n`) });
      }
    }
  } catch (e) {
    post({ type: 'start-failed', message: (e as Error).message });
    end(1);
    return;
  }

  machine.onSerialOutput = (bytes) => post({ type: 'serial', bytes }, [bytes.buffer as ArrayBuffer]);
  const hvc = virtio?.console ?? null;
  if (hvc !== null) hvc.onOutput = (bytes) => { const copy = bytes.slice(); post({ type: 'console', bytes: copy }, [copy.buffer]); };
  if (spec.cpuShare !== undefined) machine.loop.cpuShare = spec.cpuShare;
  // Drives by shape, not instanceof: device modules load only for VMs that have the device.
  const blks = (virtio?.devices ?? []).filter((d): d is VirtioBlk => 'swapMedium' in d);
  machine.externalInputOpen = true;

  // Live counters, in STAT_NAMES order, then the POST codes.
  const cpu = machine.cpu;
  const elu0 = performance.eventLoopUtilization();
  const sum = (a: ArrayLike<number>): number => { let t = 0; for (let i = 0; i < a.length; i++) t += a[i]!; return t; };
  const publishStats = (): void => {
    let io = 0;
    cpu.io.counts.forEach((v) => { io += v; });
    statsOut[0] = cpu.instructions;
    statsOut[1] = machine.loop.halts;
    statsOut[2] = io;
    statsOut[3] = sum(cpu.excCounts);
    statsOut[4] = sum(cpu.intCounts);
    statsOut[5] = machine.clock.now();
    statsOut[6] = performance.eventLoopUtilization(elu0).active;
    statsOut[7] = machine.loop.cappedMs;
    statsOut[8] = getHeapStatistics().total_heap_size;
    const jit = machine.translator?.stats;
    if (jit !== undefined) {
      statsOut[9] = jit.translatedInsns;
      statsOut[10] = jit.regionsCompiled;
      statsOut[11] = jit.regionsOptimized;
      statsOut[12] = jit.blocksCompiled;
      statsOut[13] = jit.compileMs;
      statsOut[14] = jit.cacheHits;
      statsOut[15] = jit.invalidations;
      statsOut[16] = jit.evictions;
      statsOut[17] = jit.cacheBytes;
    }
    writePostCounters(machine.platform.post, statsOut, STAT_NAMES.length);
  };
  setInterval(publishStats, STATS_MS).unref();

  // Pause: the control word says whether to run, a 'wake' message says it changed. The
  // run loop parks between slices (Machine.pause: no host CPU, host I/O drained) and the
  // event loop stays free, so a paused VM can still be snapshotted.
  // A pause takes a while (host I/O drains first); a resume asked for meanwhile is seen
  // when it ends: the control word is read again then, so the machine never stays parked
  // under a word that says run (nor is a second pause started beside the first).
  let pausing = false;
  const syncPause = (): void => {
    const word = Atomics.load(ctl, 0);
    if (pausing || word === CTL_STOP) return; // a stopping VM's exit answers what waits
    const want = word === CTL_PAUSE;
    if (want && !machine.paused) {
      pausing = true;
      const ack = (): void => {
        pausing = false;
        // The machine ended instead, or is being stopped: its exit answers the pause.
        if (!machine.paused || Atomics.load(ctl, 0) === CTL_STOP) return;
        publishStats();
        post({ type: 'paused' });
        syncPause();
      };
      machine.pause().then(ack, ack);
    } else if (!want && machine.paused) {
      machine.resume();
      post({ type: 'resumed' });
    } else if (!want) {
      post({ type: 'resumed' }); // a pause and a resume both seen at one wake: it never parked
    }
  };
  syncPause(); // a restored VM may start paused

  // Serial input flow control (INPUT_HIGH_WATER): how much of the input the guest has
  // taken is reported back, so the sender can hold the rest. Polled only while input
  // waits, backing off while the guest takes none (an idle VM must not wake for it).
  let inputGiven = 0;
  let inputReported = 0;
  let inputPoll: ReturnType<typeof setTimeout> | null = null;
  let inputPollMs = INPUT_POLL_MIN_MS;
  const reportInput = (): void => {
    inputPoll = null;
    // FIFO order: bytes queued before ours (a restored UART's) leave first, so ours taken
    // are what was given less what still waits, never below zero.
    const taken = Math.max(0, inputGiven - machine.platform.com1.pendingInput);
    if (taken !== inputReported) {
      inputReported = taken;
      inputPollMs = INPUT_POLL_MIN_MS;
      post({ type: 'input-taken', total: taken });
    } else {
      inputPollMs = Math.min(inputPollMs * 2, INPUT_POLL_MAX_MS);
    }
    if (taken < inputGiven) inputPoll = setTimeout(reportInput, inputPollMs);
  };

  port.on('message', (m: ToWorker) => {
    switch (m.type) {
      case 'input':
        machine.serialInput(m.bytes);
        inputGiven += m.bytes.length;
        if (inputPoll === null) { inputPollMs = INPUT_POLL_MIN_MS; inputPoll = setTimeout(reportInput, inputPollMs); }
        break;
      case 'console-input': hvc?.input(m.bytes); machine.loop.wake(); break;
      case 'publish-stats': publishStats(); post({ type: 'stats-published' }); break;
      case 'wake': syncPause(); machine.loop.wake(); break;
      case 'stop': machine.stop('stopped by the API'); break;
      case 'ctrl-alt-del': machine.sendCtrlAltDel(); break;
      case 'power-button': machine.platform.acpi.pressPowerButton(); machine.loop.wake(); break;
      case 'cpu-share': try { machine.loop.cpuShare = m.share; } catch { /* checked by the VMM */ } break;
      case 'snapshot':
        machine.saveSnapshot(m.statePath, m.memPath).then(() => post({ type: 'snapshot-done', seq: m.seq, error: null }),
          (e: unknown) => post({ type: 'snapshot-done', seq: m.seq, error: (e as Error).message }));
        break;
      case 'swap-drive': {
        const blk = blks[m.index];
        const done = blk ? blk.swapMedium(m.path) : Promise.reject(new Error(`no drive ${m.index}`));
        done.then(() => post({ type: 'drive-swapped', seq: m.seq, error: null }),
          (e: unknown) => post({ type: 'drive-swapped', seq: m.seq, error: (e as Error).message }));
        break;
      }
    }
  });

  post({ type: 'started' });
  let kind = 'crashed';
  let reason = '';
  try {
    const r = await machine.run();
    kind = r.kind;
    reason = r.kind === 'triple-fault' || r.kind === 'stopped' || r.kind === 'dead-halt' ? r.detail : r.kind === 'reset' ? `reset (${r.source})` : r.kind;
  } catch (e) {
    reason = `VM crashed: ${(e as Error).message}`;
  }
  publishStats();
  try { await virtio?.close(); } catch { /* the VM is over either way */ }
  post({ type: 'exit', kind, reason });
  end(0);
}

/** Let the last message go out, then end the thread (at once if nothing keeps it alive). */
function end(code: number): void {
  port.close();
  setTimeout(() => process.exit(code), 200).unref();
}

void main();
