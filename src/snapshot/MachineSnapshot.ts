// A whole machine as a snapshot: collects the state file's payload from a Machine
// (configuration, CPU, clock, page kinds, every platform device, every virtio transport
// with its device and queues, the memory file's page map) and rebuilds a Machine from one.
//
// Restore order: the state and memory files are checked first (StateFile: magic,
// version, checksum; MemoryFile: size and page map), then a fresh machine is built with
// the recorded devices (the device set must match name for name; drive images must still
// have the recorded capacity), memory is read, and CPU, clock, devices and transports
// load their state in that order (the clock after the CPU, whose instruction count it
// reads; the virtio transports after the PIC, since they re-drive their interrupt lines).
// Any failure closes what was opened and throws a SnapshotError: no half-loaded machine
// is ever returned, let alone run.

import { loadCpuState, saveCpuState } from '../cpu/CpuState.js';
import { PAGE_RAM, PAGE_SHIFT } from '../memory/PhysicalMemory.js';
import { Machine, MAX_MEMORY_MIB, MIN_MEMORY_MIB } from '../machine/Machine.js';
import { attachVirtioTo } from '../machine/attachVirtioTo.js';
import type { Pacing } from '../machine/RunLoop.js';
import type { CpuEngine } from '../machine/cpuEngine.js';
import type { NetOption, VirtioOptions } from '../devices/virtio/options.js';
import type { VirtioDevice } from '../devices/virtio/VirtioDevice.js';
import { SnapshotError } from './SnapshotError.js';
import { readStateFile, writeStateFile } from './StateFile.js';
import { checkMemoryInfo, openMemoryFile, readMemoryFile, writeMemoryFile, type MemoryInfo } from './MemoryFile.js';
import { typevisorVersion } from '../version.js';
import type { RecordingMark } from '../replay/RecordReplay.js';
import { readLog, recordAfter } from '../replay/ReplayLog.js';
import { closeSync } from 'node:fs';

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

interface SavedDevice { name: string; state: unknown }
interface SavedVirtioDevice extends SavedDevice { deviceId: number; capacity?: number }
interface SavedVirtio { options: VirtioOptions; transport: 'pci' | 'mmio'; devices: SavedVirtioDevice[] }

/** The state file's JSON payload. */
export interface SnapshotPayload {
  typevisor: string;
  created: string;
  /**
   * deterministic and seed: absent in snapshots of normal runs (and those of versions before
   * them); apic: whether the machine has the local and I/O APICs (absent in snapshots from
   * before them: those machines had none, and restore without).
   */
  machine: { memoryMiB: number; cmdline: string; nsPerInstruction: number; reboot: boolean; pacing: Pacing; bios: string | null; deterministic?: boolean; seed?: number; apic?: boolean };
  cpu: unknown;
  clock: { ns: number };
  /** Pages that are not plain RAM: [firstPage, count, kind] triples (ROM shadows, MMIO holes). */
  pageKinds: number[];
  devices: SavedDevice[];
  virtio: SavedVirtio[];
  memory: MemoryInfo;
  /** A snapshot taken during a recording: where in its log (RecordReplay's RecordingMark). */
  recording?: RecordingMark;
}

/** The options a device set was made from, with drive images as they are now (media swaps). */
function currentOptions(o: VirtioOptions, devices: readonly VirtioDevice[]): VirtioOptions {
  if (!o.drives) return o;
  const paths = devices.filter((d) => 'imagePath' in d).map((d) => (d as unknown as { imagePath: string }).imagePath);
  return { ...o, drives: o.drives.map((d, i) => ({ ...d, file: paths[i] ?? d.file })) };
}

function pageKindRuns(kinds: Uint8Array): number[] {
  const out: number[] = [];
  let p = 0;
  while (p < kinds.length) {
    const k = kinds[p]!;
    const start = p;
    while (p < kinds.length && kinds[p] === k) p++;
    if (k !== PAGE_RAM) out.push(start, p - start, k);
  }
  return out;
}

/** Write both files of a snapshot of `m`, which must be paused (Machine.saveSnapshot). */
export function writeSnapshot(m: Machine, statePath: string, memPath: string): SnapshotInfo {
  const t0 = performance.now();
  const c = m.config;
  // Everything is captured in this one synchronous turn, so no device event can come
  // between the devices' state and the memory image.
  const payload: Omit<SnapshotPayload, 'memory'> = {
    typevisor: typevisorVersion(),
    created: new Date().toISOString(),
    machine: {
      memoryMiB: c.memoryMiB, cmdline: c.cmdline, nsPerInstruction: c.nsPerInstruction, reboot: c.reboot, pacing: c.pacing,
      bios: c.bios ? Buffer.from(c.bios).toString('base64') : null,
      ...(c.deterministic ? { deterministic: true, seed: c.seed } : {}),
      apic: c.apic,
    },
    cpu: saveCpuState(m.cpu),
    clock: m.clock.saveState(),
    pageKinds: pageKindRuns(m.mem.pageKind),
    ...(m.recorder !== null ? { recording: m.recorder.mark() } : {}),
    devices: m.platform.devices.map((d) => ({ name: d.name, state: d.saveState() })),
    virtio: m.virtio.map((v) => ({
      options: currentOptions(v.options, v.attached.devices),
      transport: v.transport,
      devices: v.attached.transports.map((t) => ({
        name: t.name,
        deviceId: t.device.deviceId,
        ...('capacity' in t.device ? { capacity: (t.device as { capacity: number }).capacity } : {}),
        state: t.saveState(),
      })),
    })),
  };
  const memory = writeMemoryFile(m.mem, memPath);
  const stateBytes = writeStateFile(statePath, { ...payload, memory });
  return { stateBytes, memoryDataBytes: memory.dataPages << PAGE_SHIFT, memoryBytes: memory.size, ms: performance.now() - t0 };
}

// ---- restore ----

function fail(where: string, what: string): never {
  throw new SnapshotError(`${where}: ${what}`);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Shape checks of a parsed payload (the device states check themselves as they load). */
function checkPayload(raw: unknown, where: string): SnapshotPayload {
  if (!isObj(raw)) fail(where, 'snapshot payload is not an object');
  const m = raw['machine'];
  if (!isObj(m)) fail(where, 'machine configuration missing');
  const mib = m['memoryMiB'];
  if (typeof mib !== 'number' || !Number.isInteger(mib) || mib < MIN_MEMORY_MIB || mib > MAX_MEMORY_MIB) fail(where, `memory size ${String(mib)} MiB out of range`);
  if (typeof m['nsPerInstruction'] !== 'number' || !(m['nsPerInstruction'] > 0)) fail(where, 'nsPerInstruction malformed');
  if (typeof m['cmdline'] !== 'string' || typeof m['reboot'] !== 'boolean') fail(where, 'machine configuration malformed');
  if (m['pacing'] !== 'fast' && m['pacing'] !== 'realtime') fail(where, 'pacing malformed');
  if (m['bios'] !== null && typeof m['bios'] !== 'string') fail(where, 'bios image malformed');
  if (m['deterministic'] !== undefined && typeof m['deterministic'] !== 'boolean') fail(where, 'deterministic flag malformed');
  if (m['apic'] !== undefined && typeof m['apic'] !== 'boolean') fail(where, 'apic flag malformed');
  const seed = m['seed'];
  if (seed !== undefined && (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)) fail(where, 'seed malformed');
  if (!isObj(raw['cpu'])) fail(where, 'CPU state missing');
  if (!isObj(raw['clock']) || typeof raw['clock']['ns'] !== 'number' || !(raw['clock']['ns'] >= 0)) fail(where, 'clock state missing');
  const kinds = raw['pageKinds'];
  const pages = (mib * 1024 * 1024) >>> PAGE_SHIFT;
  if (!Array.isArray(kinds) || kinds.length % 3 !== 0) fail(where, 'page kinds malformed');
  for (let i = 0; i < kinds.length; i += 3) {
    const [s, n, k] = [kinds[i], kinds[i + 1], kinds[i + 2]];
    if (!Number.isInteger(s) || !Number.isInteger(n) || !Number.isInteger(k) || s < 0 || n < 1 || s + n > pages || k < 0 || k > 2) fail(where, 'page kinds malformed');
  }
  const devs = raw['devices'];
  if (!Array.isArray(devs) || !devs.every((d) => isObj(d) && typeof d['name'] === 'string')) fail(where, 'device list malformed');
  const vs = raw['virtio'];
  if (!Array.isArray(vs)) fail(where, 'virtio list malformed');
  for (const v of vs) {
    if (!isObj(v) || !isObj(v['options']) || (v['transport'] !== 'pci' && v['transport'] !== 'mmio') || !Array.isArray(v['devices'])) fail(where, 'virtio list malformed');
    for (const d of v['devices'] as unknown[]) {
      if (!isObj(d) || typeof d['name'] !== 'string' || typeof d['deviceId'] !== 'number') fail(where, 'virtio device list malformed');
    }
  }
  const rec = raw['recording'];
  if (rec !== undefined) {
    if (!isObj(rec) || !Number.isSafeInteger(rec['bytes']) || typeof rec['sha256'] !== 'string' || !/^[0-9a-f]{64}$/.test(rec['sha256'])
      || !Number.isSafeInteger(rec['count']) || typeof rec['ns'] !== 'number') fail(where, 'recording mark malformed');
  }
  return raw as unknown as SnapshotPayload;
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
  let m: Machine | null = null;
  try {
    const pm = p.machine;
    m = new Machine({
      memoryMiB: pm.memoryMiB, cmdline: pm.cmdline, nsPerInstruction: pm.nsPerInstruction, reboot: pm.reboot, apic: pm.apic === true,
      pacing: o.pacing ?? pm.pacing, bios: pm.bios !== null ? new Uint8Array(Buffer.from(pm.bios, 'base64')) : null,
      ...(o.cpu !== undefined ? { cpu: o.cpu } : {}),
      ...(pm.deterministic === true && o.pacing !== 'realtime' ? { deterministic: true, seed: pm.seed ?? 0 } : {}),
      ...(o.replay !== undefined ? { replay: o.replay } : {}),
    }, true, replayStart);
    const ours = m.platform.devices.map((d) => d.name).join(', ');
    const theirs = p.devices.map((d) => d.name).join(', ');
    if (ours !== theirs) fail(statePath, `the snapshot's devices (${theirs}) do not match this machine's (${ours})`);

    // The options each device set is remade from, with the loader's overrides, checked
    // before any device (tap, socket) is opened.
    const overrides = new Map(Object.entries(o.netOverrides ?? {}));
    const remade = p.virtio.map((v) => {
      const options: VirtioOptions = { ...v.options };
      if (options.vsock && o.vsockPath !== undefined) options.vsock = { ...options.vsock, path: o.vsockPath };
      if (options.nets) options.nets = options.nets.map((n) => withOverride(n, overrides));
      return options;
    });
    if (overrides.size > 0) fail(statePath, `network_overrides: the snapshot has no tap interface ${[...overrides.keys()].map((k) => JSON.stringify(k)).join(', ')}`);

    for (const [k, v] of p.virtio.entries()) {
      const options = remade[k]!;
      const attached = await attachVirtioTo(m, options, { transport: v.transport, ...(o.log ? { log: o.log } : {}) });
      const got = attached.transports;
      if (got.length !== v.devices.length) fail(statePath, `the snapshot has ${v.devices.length} virtio devices, ${got.length} were made from its options`);
      got.forEach((t, i) => {
        const s = v.devices[i]!;
        if (t.name !== s.name || t.device.deviceId !== s.deviceId) fail(statePath, `virtio device ${i} is ${t.name}, the snapshot's is ${s.name}`);
        const cap = (t.device as { capacity?: number }).capacity;
        if (s.capacity !== undefined && cap !== s.capacity) {
          fail(statePath, `${t.name}: the drive image now holds ${cap ?? 0} sectors, the snapshot's held ${s.capacity}`);
        }
      });
    }

    const fd = memFd;
    memFd = -1; // readMemoryFile closes it
    readMemoryFile(m.mem, fd, memPath, info, bitmap, o.verifyMemory !== false);
    m.mem.markWritten(0, m.mem.ramSize);
    const kinds = m.mem.pageKind;
    kinds.fill(PAGE_RAM);
    for (let i = 0; i < p.pageKinds.length; i += 3) kinds.fill(p.pageKinds[i + 2]!, p.pageKinds[i]!, p.pageKinds[i]! + p.pageKinds[i + 1]!);

    loadCpuState(m.cpu, p.cpu);
    if (p.recording !== undefined && m.cpu.instructions !== p.recording.count) fail(statePath, `the recording mark (instruction ${p.recording.count}) does not match the CPU's state (instruction ${m.cpu.instructions})`);
    m.clock.loadState(p.clock);
    m.platform.devices.forEach((d, i) => d.loadState(p.devices[i]!.state));
    m.virtio.forEach((v, i) => v.attached.transports.forEach((t, j) => t.loadState(p.virtio[i]!.devices[j]!.state)));
    return m;
  } catch (e) {
    if (memFd >= 0) closeSync(memFd);
    for (const v of m?.virtio ?? []) await v.attached.close().catch(() => {});
    if (e instanceof SnapshotError) throw e;
    throw new SnapshotError(`${statePath}: cannot restore: ${(e as Error).message}`);
  }
}
