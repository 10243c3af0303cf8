// Snapshots held in memory rather than in files: the same two files as the CLI's
// (MachineSnapshot.ts: the state file and the raw memory image), as byte arrays. The
// browser page keeps them in IndexedDB and offers them as downloads; a pair saved by the
// page restores in the CLI and the other way round. Machines with virtio devices are
// refused here: their host backends (drive images, networks) are reopened by the CLI.

import type { Machine } from '../machine/Machine.js';
import type { CpuEngine } from '../machine/cpuEngine.js';
import type { Pacing } from '../machine/RunLoop.js';
import { checkMemoryInfo, loadMemoryImage, memoryImage } from './memoryImage.js';
import { decodeState, encodeState } from './stateBytes.js';
import { checkPayload, collectPayload, fail, machineFromPayload } from './snapshotPayload.js';

export interface SnapshotBytes {
  state: Uint8Array;
  memory: Uint8Array;
  ms: number;
}

/** A snapshot of `m` (paused for it, running on afterwards unless it was paused). */
export async function snapshotToBytes(m: Machine, version: string): Promise<SnapshotBytes> {
  if (m.virtio.length > 0) throw new Error('a machine with virtio devices is snapshotted to files (typevisor run, serve), not to memory');
  return m.whilePaused(() => {
    const t0 = performance.now();
    const payload = collectPayload(m, version);
    const { bytes, info } = memoryImage(m.mem);
    return { state: encodeState({ ...payload, memory: info }), memory: bytes, ms: performance.now() - t0 };
  });
}

/** A machine rebuilt from a snapshot's two files held in memory; SnapshotError when they do not fit. */
export async function machineFromBytes(state: Uint8Array, memory: Uint8Array, o: { pacing?: Pacing; cpu?: CpuEngine } = {}): Promise<Machine> {
  const where = 'snapshot state';
  const p = checkPayload(decodeState(state, where), where);
  const { info, bitmap } = checkMemoryInfo(p.memory, p.machine.memoryMiB * 1024 * 1024, where);
  return machineFromPayload(p, where, {
    ...o,
    attachVirtio: async () => {
      if (p.virtio.length > 0) fail(where, 'the snapshot has virtio devices, whose host side only the CLI reopens (typevisor run, serve)');
    },
    loadMemory: (m) => loadMemoryImage(m.mem, memory, info, bitmap, 'image'),
  });
}
