// A whole machine as a snapshot's payload (the state file's JSON, StateFile.ts):
// collected from a Machine (configuration, CPU, clock, page kinds, every platform
// device, every virtio transport with its device and queues; the memory file's page map
// is added by whoever writes the memory), checked, and loaded into a fresh Machine.
// Browser-safe: the CLI's files (MachineSnapshot.ts) and the page's IndexedDB both use it.

import { loadCpuState, saveCpuState } from '../cpu/CpuState.js';
import { PAGE_RAM, PAGE_SHIFT } from '../memory/PhysicalMemory.js';
import { Machine, MAX_MEMORY_MIB, MIN_MEMORY_MIB } from '../machine/Machine.js';
import type { Pacing } from '../machine/RunLoop.js';
import type { CpuEngine } from '../machine/cpuEngine.js';
import type { VirtioOptions } from '../devices/virtio/options.js';
import type { VirtioDevice } from '../devices/virtio/VirtioDevice.js';
import { SnapshotError } from './SnapshotError.js';
import { fromBase64, toBase64, type MemoryInfo } from './memoryImage.js';
import type { RecordingMark } from '../replay/RecordReplay.js';

export interface SavedDevice { name: string; state: unknown }
export interface SavedVirtioDevice extends SavedDevice { deviceId: number; capacity?: number }
export interface SavedVirtio { options: VirtioOptions; transport: 'pci' | 'mmio'; devices: SavedVirtioDevice[] }

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

/**
 * The payload of a snapshot of `m` (paused: Machine.pause) but its memory description.
 * Everything is captured in this one synchronous turn, so no device event can come
 * between the devices' state and the memory image taken right after it.
 */
export function collectPayload(m: Machine, version: string): Omit<SnapshotPayload, 'memory'> {
  const c = m.config;
  const payload: Omit<SnapshotPayload, 'memory'> = {
    typevisor: version,
    created: new Date().toISOString(),
    machine: {
      memoryMiB: c.memoryMiB, cmdline: c.cmdline, nsPerInstruction: c.nsPerInstruction, reboot: c.reboot, pacing: c.pacing,
      bios: c.bios ? toBase64(c.bios) : null,
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
  return payload;
}

// ---- restore ----

export function fail(where: string, what: string): never {
  throw new SnapshotError(`${where}: ${what}`);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Shape checks of a parsed payload (the device states check themselves as they load). */
export function checkPayload(raw: unknown, where: string): SnapshotPayload {
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

/** How a payload is loaded: the machine's host side, given by the caller. */
export interface PayloadLoad {
  pacing?: Pacing;
  cpu?: CpuEngine;
  /** A replay from the snapshot: the recording's log, and the index of the record after the snapshot's place in it. */
  replay?: Uint8Array;
  replayStart?: number;
  /** Attach the payload's virtio devices to `m` (checked against the payload afterwards). */
  attachVirtio(m: Machine): Promise<void>;
  /** Fill guest RAM (all zeros) from the memory file; throws a SnapshotError when it does not fit. */
  loadMemory(m: Machine): void;
}

/**
 * A machine rebuilt from a checked payload: built with the recorded devices (the device
 * set must match name for name; drive images must still have the recorded capacity),
 * memory loaded, then CPU, clock, devices and transports in that order (the clock after
 * the CPU, whose instruction count it reads; the virtio transports after the PIC, since
 * they re-drive their interrupt lines). Any failure closes what was opened and throws a
 * SnapshotError: no half-loaded machine is ever returned.
 */
export async function machineFromPayload(p: SnapshotPayload, where: string, o: PayloadLoad): Promise<Machine> {
  let m: Machine | null = null;
  try {
    const pm = p.machine;
    m = new Machine({
      memoryMiB: pm.memoryMiB, cmdline: pm.cmdline, nsPerInstruction: pm.nsPerInstruction, reboot: pm.reboot, apic: pm.apic === true,
      pacing: o.pacing ?? pm.pacing, bios: pm.bios !== null ? fromBase64(pm.bios) : null,
      ...(o.cpu !== undefined ? { cpu: o.cpu } : {}),
      ...(pm.deterministic === true && o.pacing !== 'realtime' ? { deterministic: true, seed: pm.seed ?? 0 } : {}),
      ...(o.replay !== undefined ? { replay: o.replay } : {}),
    }, true, o.replayStart ?? 0);
    const ours = m.platform.devices.map((d) => d.name).join(', ');
    const theirs = p.devices.map((d) => d.name).join(', ');
    if (ours !== theirs) fail(where, `the snapshot's devices (${theirs}) do not match this machine's (${ours})`);

    await o.attachVirtio(m);
    if (m.virtio.length !== p.virtio.length) fail(where, `the snapshot has ${p.virtio.length} virtio device sets, ${m.virtio.length} were made`);
    for (const [k, v] of p.virtio.entries()) {
      const got = m.virtio[k]!.attached.transports;
      if (got.length !== v.devices.length) fail(where, `the snapshot has ${v.devices.length} virtio devices, ${got.length} were made from its options`);
      got.forEach((t, i) => {
        const s = v.devices[i]!;
        if (t.name !== s.name || t.device.deviceId !== s.deviceId) fail(where, `virtio device ${i} is ${t.name}, the snapshot's is ${s.name}`);
        const cap = (t.device as { capacity?: number }).capacity;
        if (s.capacity !== undefined && cap !== s.capacity) {
          fail(where, `${t.name}: the drive image now holds ${cap ?? 0} sectors, the snapshot's held ${s.capacity}`);
        }
      });
    }

    o.loadMemory(m);
    m.mem.markWritten(0, m.mem.ramSize);
    const kinds = m.mem.pageKind;
    kinds.fill(PAGE_RAM);
    for (let i = 0; i < p.pageKinds.length; i += 3) kinds.fill(p.pageKinds[i + 2]!, p.pageKinds[i]!, p.pageKinds[i]! + p.pageKinds[i + 1]!);

    loadCpuState(m.cpu, p.cpu);
    if (p.recording !== undefined && m.cpu.instructions !== p.recording.count) fail(where, `the recording mark (instruction ${p.recording.count}) does not match the CPU's state (instruction ${m.cpu.instructions})`);
    m.clock.loadState(p.clock);
    m.platform.devices.forEach((d, i) => d.loadState(p.devices[i]!.state));
    m.virtio.forEach((v, i) => v.attached.transports.forEach((t, j) => t.loadState(p.virtio[i]!.devices[j]!.state)));
    return m;
  } catch (e) {
    for (const v of m?.virtio ?? []) await v.attached.close().catch(() => {});
    if (e instanceof SnapshotError) throw e;
    throw new SnapshotError(`${where}: cannot restore: ${(e as Error).message}`);
  }
}
