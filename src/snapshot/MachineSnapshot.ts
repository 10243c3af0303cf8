// A whole machine as a snapshot on disk: the state file (StateFile.ts) around the payload
// (snapshotPayload.ts) and the sparse memory file (MemoryFile.ts); a restore reopens the
// virtio devices' host backends (drive images by path, taps, vsock sockets).
//
// Restore order: the state and memory files are checked first (StateFile: magic,
// version, checksum; MemoryFile: size and page map), then a fresh machine is built with
// the recorded devices (the device set must match name for name; drive images must still
// have the recorded capacity), memory is read, and CPU, clock, devices and transports
// load their state in that order (the clock after the CPU, whose instruction count it
// reads; the virtio transports after the PIC, since they re-drive their interrupt lines).
// Any failure closes what was opened and throws a SnapshotError: no half-loaded machine
// is ever returned, let alone run.

import { PAGE_SHIFT } from '../memory/PhysicalMemory.js';
import type { Machine } from '../machine/Machine.js';
import { attachVirtioTo } from '../machine/attachVirtioTo.js';
import type { Pacing } from '../machine/RunLoop.js';
import type { CpuEngine } from '../machine/cpuEngine.js';
import type { NetOption, VirtioOptions } from '../devices/virtio/options.js';
import { SnapshotError } from './SnapshotError.js';
import { readStateFile, writeStateFile } from './StateFile.js';
import { checkMemoryInfo, openMemoryFile, readMemoryFile, writeMemoryFile } from './MemoryFile.js';
import { checkPayload, collectPayload, fail, machineFromPayload } from './snapshotPayload.js';
import { typevisorVersion } from '../version.js';
import type { RecordingMark } from '../replay/RecordReplay.js';
import { readLog, recordAfter } from '../replay/ReplayLog.js';
import { closeSync } from 'node:fs';

export type { SnapshotPayload } from './snapshotPayload.js';

export interface RestoreOptions {
  /**
   * Pacing of the restored machine (default: the snapshot's). A deterministic machine's
   * snapshot restores deterministic (its seeded generator where it was) unless this
   * asks for 'realtime', which runs it normally.
   */
  pacing?: Pacing;
  /** CPU engine of the restored machine (default: the machine's default; not part of the guest's state). */
  cpu?: CpuEngine;
  /**
   * Replay this recorded log from the snapshot, which must have been taken during that
   * recording (Machine.saveSnapshot while recording): the records after the snapshot's
   * place in the log are fed and checked as in a replay from boot.
   */
  replay?: Uint8Array;
  /** Listen for vsock connections on this path instead of the snapshot's (Firecracker's vsock_override). */
  vsockPath?: string;
  /**
   * Attach these taps instead of the snapshot's, by interface id (Firecracker's
   * network_overrides: the tap on the restoring host may have another name). Every id
   * must name a tap interface of the snapshot.
   */
  netOverrides?: Record<string, string>;
  /** Check the memory file's CRC-32 (default true; off saves a pass over the data pages). */
  verifyMemory?: boolean;
  /** One-line messages from the reopened virtio devices. */
  log?: (message: string) => void;
}

export interface SnapshotInfo {
  stateBytes: number;
  /** Bytes of RAM written (non-zero pages), and all of RAM. */
  memoryDataBytes: number;
  memoryBytes: number;
  ms: number;
}

/** Write both files of a snapshot of `m`, which must be paused (Machine.saveSnapshot). */
export function writeSnapshot(m: Machine, statePath: string, memPath: string): SnapshotInfo {
  const t0 = performance.now();
  const payload = collectPayload(m, typevisorVersion());
  const memory = writeMemoryFile(m.mem, memPath);
  const stateBytes = writeStateFile(statePath, { ...payload, memory });
  return { stateBytes, memoryDataBytes: memory.dataPages << PAGE_SHIFT, memoryBytes: memory.size, ms: performance.now() - t0 };
}

/** `n` with the tap named in `overrides` for its id (which is then taken off the map). */
function withOverride(n: NetOption, overrides: Map<string, string>): NetOption {
  if (n.kind !== 'tap' || n.id === undefined) return n;
  const ifname = overrides.get(n.id);
  if (ifname === undefined) return n;
  overrides.delete(n.id);
  return { ...n, ifname };
}

/** Machine.restore. */
export async function restoreMachine(statePath: string, memPath: string, o: RestoreOptions = {}): Promise<Machine> {
  const p = checkPayload(readStateFile(statePath), statePath);
  // A replay from the snapshot: its place in the log, found before anything is opened.
  let replayStart = 0;
  if (o.replay !== undefined) {
    const log = readLog(o.replay);
    if (p.recording === undefined) fail(statePath, 'the snapshot was not taken during a recording, so no replay can start from it');
    replayStart = recordAfter(o.replay, log.offsets, p.recording);
    if (replayStart < 0) fail(statePath, `the snapshot was taken during another recording (at instruction ${p.recording.count}, after ${p.recording.bytes} bytes of a log this one does not begin with)`);
    if (o.pacing === 'realtime') fail(statePath, 'a replay is deterministic: realtime pacing cannot be');
  }
  const ramSize = p.machine.memoryMiB * 1024 * 1024;
  const { info, bitmap } = checkMemoryInfo(p.memory, ramSize, statePath);
  let memFd = openMemoryFile(memPath, ramSize);
  try {
    // The options each device set is remade from, with the loader's overrides, checked
    // before any device (tap, socket) is opened.
    const overrides = new Map(Object.entries(o.netOverrides ?? {}));
    const remade = p.virtio.map((v) => {
      const options: VirtioOptions = { ...v.options };
      if (options.vsock && o.vsockPath !== undefined) options.vsock = { ...options.vsock, path: o.vsockPath };
      if (options.nets) options.nets = options.nets.map((n) => withOverride(n, overrides));
      return options;
    });
    return await machineFromPayload(p, statePath, {
      ...(o.pacing !== undefined ? { pacing: o.pacing } : {}),
      ...(o.cpu !== undefined ? { cpu: o.cpu } : {}),
      ...(o.replay !== undefined ? { replay: o.replay, replayStart } : {}),
      attachVirtio: async (m) => {
        // Checked here, inside the restore: the machine's devices are checked first.
        if (overrides.size > 0) fail(statePath, `network_overrides: the snapshot has no tap interface ${[...overrides.keys()].map((k) => JSON.stringify(k)).join(', ')}`);
        for (const [k, v] of p.virtio.entries()) await attachVirtioTo(m, remade[k]!, { transport: v.transport, ...(o.log ? { log: o.log } : {}) });
      },
      loadMemory: (m) => {
        const fd = memFd;
        memFd = -1; // readMemoryFile closes it
        readMemoryFile(m.mem, fd, memPath, info, bitmap, o.verifyMemory !== false);
      },
    });
  } finally {
    if (memFd >= 0) closeSync(memFd);
  }
}
