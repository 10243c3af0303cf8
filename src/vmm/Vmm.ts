// One microVM as the API sees it: the pre-boot configuration (boot source, machine
// config, drives, network interfaces, serial, logger, metrics), the start action, and
// the running VM's state. Requests arrive here already validated against the schemas;
// this file checks what needs the host (files exist) and the VM's state.

import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { MIN_MEMORY_MIB, MAX_MEMORY_MIB } from '../machine/memoryLimits.js';
import type { Pacing } from '../machine/RunLoop.js';
import { DEFAULT_CPU_ENGINE, type CpuEngine } from '../machine/cpuEngine.js';
import { typevisorVersion } from '../version.js';
import { parseMac } from '../devices/virtio/VirtioNet.js';
import { tapProblem } from '../net/TapBackend.js';
import { INPUT_HIGH_WATER, INPUT_LOW_WATER, VmWorker, type VmExit, type VmHandle, type VmSpec, type VmStats } from './VmWorker.js';
import { MIN_CPU_SHARE } from '../machine/RunLoop.js';
import { readStateFile } from '../snapshot/StateFile.js';
import type { SnapshotPayload } from '../snapshot/MachineSnapshot.js';
import { unixPathProblem } from '../net/unixSocket.js';
import { OutputFile } from './OutputFile.js';

/** An answer other than success: HTTP status and Firecracker's fault_message. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}


/** Firecracker's states, and 'Exited' (typevisor): the VM ended and the VMM is still up (manager). */
export type InstanceState = 'Not started' | 'Running' | 'Paused' | 'Exited';

/** Firecracker's wording for a pre-boot-only request after InstanceStart. */
export const AFTER_START = 'The requested operation is not supported after starting the microVM.';

/** The kernel command line when PUT /boot-source gives no boot_args. */
export const DEFAULT_BOOT_ARGS = 'console=ttyS0 panic=-1';

export interface VmmOptions {
  /** Instance id reported by GET / (Firecracker's --id; default "anonymous-instance"). */
  id?: string;
  pacing?: Pacing;
  /** CPU engine of the VM (default: the machine's, the translator). */
  cpu?: CpuEngine;
  /** Guest serial output when PUT /serial named no file (default: stdout). */
  serialOut?: (bytes: Uint8Array) => void;
  /** Called once when the VM ends, however it ended. */
  onVmExit?: (exit: VmExit) => void;
  /** How the VM is run (default: a worker thread, VmWorker.start). */
  launch?: (spec: VmSpec) => Promise<VmHandle>;
  /** Share of one host core the VM may use (default 1: no cap). */
  cpuShare?: number;
  /**
   * A deterministic VM with this seed (README "Deterministic runs"): paced by its
   * instructions, whatever `pacing` says; no network interfaces or vsock.
   */
  deterministic?: { seed: number };
  /** After serialInput returned false: the guest has taken enough of its input to send more. */
  onSerialInputDrain?: () => void;
}

/** Live readout of one VM (manager's GET /vms/{id}/stats, typevisor's own shape). */
export interface VmReadout {
  id: string;
  state: InstanceState;
  uptime_ms: number;
  mem_size_mib: number;
  cpu_share: number;
  serial_bytes: number;
  /** Serial input sent to the VM and not yet taken by the guest (held below INPUT_HIGH_WATER plus one chunk). */
  serial_input_backlog: number;
  exit: VmExit | null;
  counters: VmStats | null;
}

/** Check a CPU share (typevisor's cpu_share, --cpu-share). */
export function checkCpuShare(share: number): void {
  if (!(share >= MIN_CPU_SHARE && share <= 1)) throw new ApiError(400, `cpu_share must be from ${MIN_CPU_SHARE} to 1 (a share of one host core), got ${share}.`);
}

/** A file the VM will write whole (snapshot files): absent, or a regular file it may replace. */
function requireWritableTarget(path: string, what: string): void {
  const st = statSync(path, { throwIfNoEntry: false });
  if (st !== undefined && !st.isFile()) throw new ApiError(400, `${what} ${JSON.stringify(path)} exists and is not a regular file.`);
}

/** A Unix socket path the VM will listen on: short enough for the kernel, not taken. */
function requireSocketPath(path: string, what: string): void {
  const problem = unixPathProblem(path);
  if (problem !== null) throw new ApiError(400, `${what} ${JSON.stringify(path)}: ${problem}.`);
  if (existsSync(path)) throw new ApiError(400, `${what} ${JSON.stringify(path)} already exists.`);
}

/** Open a file the API appends to (PUT /serial, /logger, /metrics); a 400 naming the field when it cannot be. */
function openOutput(path: string, field: string): OutputFile {
  try {
    return OutputFile.open(path);
  } catch (e) {
    throw new ApiError(400, `Cannot open ${field}: ${(e as Error).message}`);
  }
}

function requireFile(path: string, what: string): void {
  if (!existsSync(path)) throw new ApiError(400, `${what} ${JSON.stringify(path)} does not exist.`);
  if (!statSync(path).isFile()) throw new ApiError(400, `${what} ${JSON.stringify(path)} is not a regular file.`);
}

interface DriveConfig { drive_id: string; path_on_host: string; is_root_device: boolean; is_read_only?: boolean; partuuid?: string; cache_type?: string; io_engine?: string }
interface NetConfig { iface_id: string; host_dev_name: string; guest_mac?: string }

/**
 * The tap interfaces a snapshot's VM will attach, with the loader's network_overrides
 * (Firecracker's NetworkOverride: another host_dev_name for an iface_id) applied. Every
 * override must name an interface of the snapshot, once, and every tap must be there to
 * open: refused here with a 400 rather than half-way through the restore.
 */
function snapshotTaps(saved: SnapshotPayload, overrides: { iface_id: string; host_dev_name: string }[]): { taps: NetConfig[]; overrides: Map<string, string> } {
  const byId = new Map<string, string>();
  for (const o of overrides) {
    if (byId.has(o.iface_id)) throw new ApiError(400, `network_overrides names iface_id ${JSON.stringify(o.iface_id)} more than once.`);
    byId.set(o.iface_id, o.host_dev_name);
  }
  const taps: NetConfig[] = [];
  for (const v of Array.isArray(saved.virtio) ? saved.virtio : []) {
    for (const n of Array.isArray(v?.options?.nets) ? v.options.nets : []) {
      if (n.kind !== 'tap' || typeof n.id !== 'string') continue;
      taps.push({ iface_id: n.id, host_dev_name: byId.get(n.id) ?? n.ifname, ...(n.mac !== undefined ? { guest_mac: n.mac } : {}) });
    }
  }
  const ids = taps.map((t) => t.iface_id);
  for (const id of byId.keys()) {
    if (!ids.includes(id)) {
      throw new ApiError(400, `network_overrides: the snapshot has no network interface ${JSON.stringify(id)} (${ids.length > 0 ? `its interfaces: ${ids.map((x) => JSON.stringify(x)).join(', ')}` : 'it has none'}).`);
    }
  }
  for (const t of taps) {
    const problem = tapProblem(t.host_dev_name);
    if (problem === null) continue;
    const fix = byId.has(t.iface_id) ? '' : ' (network_overrides can name another tap for it)';
    throw new ApiError(400, `Cannot load the snapshot: network interface ${JSON.stringify(t.iface_id)}: host_dev_name ${JSON.stringify(t.host_dev_name)}: ${problem}${fix}.`);
  }
  return { taps, overrides: byId };
}

export class Vmm {
  readonly id: string;
  readonly version = typevisorVersion();
  private boot: { kernel_image_path: string; initrd_path?: string; boot_args?: string } | null = null;
  private machine = { vcpu_count: 1, mem_size_mib: 128, smt: false, track_dirty_pages: false, huge_pages: 'None' };
  private readonly drives = new Map<string, DriveConfig>();
  private readonly nets = new Map<string, NetConfig>();
  private rng = false;
  private vsock: { cid: number; path: string } | null = null;
  /** PUT /serial, /logger, /metrics files, open from the request that named them (OutputFile: never blocks). */
  private serialFile: OutputFile | null = null;
  private logFile: OutputFile | null = null;
  private loggerConfig: Record<string, unknown> | null = null;
  private metricsFile: OutputFile | null = null;
  private vm: VmHandle | null = null;
  private cpuShare: number;
  private starting = false;
  /** PUT/PATCH /machine-config was accepted (a snapshot load is refused after it). */
  private machineConfigured = false;
  private serialBytes = 0;
  private readonly startedAt = Date.now();
  /** When InstanceStart ran and when the VM ended (ms since the epoch), for its uptime. */
  private vmStartedAt = 0;
  private vmEndedAt = 0;
  /** shutdown() ran: a VM still being launched is stopped as soon as it is up. */
  private shutDown = false;
  /** serialInput returned false: the sender waits for onSerialInputDrain. */
  private inputHeld = false;

  /** The CPU engine the VM runs on. */
  get cpuEngine(): CpuEngine { return this.options.cpu ?? DEFAULT_CPU_ENGINE; }

  /** A deterministic VM is paced by its instructions alone. */
  private get pacing(): Pacing { return this.options.deterministic !== undefined ? 'fast' : this.options.pacing ?? 'realtime'; }

  /** The seed of a deterministic VM, or null. */
  get deterministicSeed(): number | null { return this.options.deterministic?.seed ?? null; }

  constructor(private readonly options: VmmOptions = {}) {
    this.id = options.id ?? 'anonymous-instance';
    this.cpuShare = options.cpuShare ?? 1;
    checkCpuShare(this.cpuShare);
  }

  get state(): InstanceState {
    if (this.vm === null) return 'Not started';
    if (!this.vm.running) return 'Exited';
    return this.vm.paused ? 'Paused' : 'Running';
  }

  get worker(): VmHandle | null { return this.vm; }

  /** Cap the VM's host CPU time (before or after start). */
  setCpuShare(share: number): void {
    checkCpuShare(share);
    this.cpuShare = share;
    this.vm?.setCpuShare(share);
  }

  /** Live counters, state and uptime, as last published by the VM. */
  readoutNow(): VmReadout {
    return {
      id: this.id, state: this.state,
      uptime_ms: this.vmStartedAt === 0 ? 0 : (this.vmEndedAt || Date.now()) - this.vmStartedAt,
      mem_size_mib: this.machine.mem_size_mib, cpu_share: this.cpuShare, serial_bytes: this.serialBytes,
      serial_input_backlog: this.vm?.running ? this.vm.inputBacklog : 0,
      exit: this.vm?.exit ?? null, counters: this.vm?.stats() ?? null,
    };
  }

  /** Like readoutNow, with counters fresh from a running VM. */
  async readout(): Promise<VmReadout> {
    const vm = this.vm;
    if (vm?.running) {
      try { await vm.readStats(); } catch { /* it ended meanwhile: the last counters stand */ }
    }
    return this.readoutNow();
  }

  private preBoot(): void {
    if (this.vm !== null || this.starting) throw new ApiError(400, AFTER_START);
  }

  /** A line in the PUT /logger file, when one is configured. */
  log(level: string, message: string): void {
    this.logFile?.write(`${new Date().toISOString()} [${this.id}:${level}] ${message}\n`); // dropped when it cannot be written: logging must not fail requests
  }

  instanceInfo(): { id: string; state: InstanceState; vmm_version: string; app_name: string } {
    return { id: this.id, state: this.state, vmm_version: this.version, app_name: 'typevisor' };
  }

  machineConfig(): typeof this.machine {
    return { ...this.machine };
  }

  /** GET /vm/config: every configured resource, in the config-file format. */
  vmConfig(): Record<string, unknown> {
    return {
      ...(this.boot ? { 'boot-source': { ...this.boot } } : {}),
      'machine-config': this.machineConfig(),
      'drives': [...this.drives.values()].map((d) => ({ ...d })),
      'network-interfaces': [...this.nets.values()].map((n) => ({ ...n })),
      ...(this.rng ? { entropy: {} } : {}),
      ...(this.vsock ? { vsock: { guest_cid: this.vsock.cid, uds_path: this.vsock.path } } : {}),
      ...(this.loggerConfig ? { logger: { ...this.loggerConfig } } : {}),
      ...(this.metricsFile !== null ? { metrics: { metrics_path: this.metricsFile.path } } : {}),
    };
  }

  putBootSource(b: { kernel_image_path: string; initrd_path?: string; boot_args?: string }): void {
    this.preBoot();
    requireFile(b.kernel_image_path, 'Kernel image');
    if (b.initrd_path !== undefined) requireFile(b.initrd_path, 'Initrd');
    this.boot = { ...b };
  }

  putMachineConfig(m: Partial<typeof this.machine> & { vcpu_count?: number; mem_size_mib?: number }, patch: boolean): void {
    this.preBoot();
    const next = patch ? { ...this.machine, ...m } : { vcpu_count: 1, mem_size_mib: 128, smt: false, track_dirty_pages: false, huge_pages: 'None', ...m };
    if (next.vcpu_count !== 1) throw new ApiError(400, `vcpu_count ${next.vcpu_count} is not supported: typevisor runs one vCPU per VM for now (vcpu_count must be 1).`);
    if (next.smt) throw new ApiError(400, 'smt is not supported by typevisor (one vCPU per VM).');
    if (next.track_dirty_pages) throw new ApiError(400, 'track_dirty_pages is not supported by typevisor yet.');
    if (next.huge_pages !== 'None') throw new ApiError(400, `huge_pages "${next.huge_pages}" is not supported by typevisor (guest memory is a SharedArrayBuffer).`);
    if (next.mem_size_mib < MIN_MEMORY_MIB || next.mem_size_mib > MAX_MEMORY_MIB) {
      throw new ApiError(400, `mem_size_mib must be from ${MIN_MEMORY_MIB} to ${MAX_MEMORY_MIB}, got ${next.mem_size_mib}.`);
    }
    this.machine = next;
    this.machineConfigured = true;
  }

  putDrive(d: DriveConfig): void {
    this.preBoot();
    requireFile(d.path_on_host, 'Drive path_on_host');
    if (d.partuuid !== undefined) throw new ApiError(400, 'partuuid is not supported by typevisor yet (give root= in boot_args).');
    if (d.is_root_device && [...this.drives.values()].some((x) => x.is_root_device && x.drive_id !== d.drive_id)) {
      throw new ApiError(400, 'A root block device already exists!');
    }
    this.drives.set(d.drive_id, { ...d });
  }

  putNetworkInterface(n: NetConfig): void {
    this.preBoot();
    this.refuseHostTimedInput('network interfaces');
    if (n.guest_mac !== undefined) {
      try { parseMac(n.guest_mac); } catch { throw new ApiError(400, `guest_mac ${JSON.stringify(n.guest_mac)} is not a MAC address (aa:bb:cc:dd:ee:ff).`); }
    }
    if (!/^[A-Za-z0-9_.-]{1,15}$/.test(n.host_dev_name)) {
      throw new ApiError(400, `host_dev_name ${JSON.stringify(n.host_dev_name)} is not a tap device name (1-15 letters, digits, "_", ".", "-").`);
    }
    // As Firecracker, refuse a tap that cannot be opened now rather than at InstanceStart
    // (permissions are only known when the VM opens it).
    const problem = tapProblem(n.host_dev_name);
    if (problem !== null) throw new ApiError(400, `host_dev_name ${JSON.stringify(n.host_dev_name)}: ${problem}.`);
    this.nets.set(n.iface_id, { ...n });
  }

  /** A deterministic VM takes no device whose input arrives at host times (deterministicProblem). */
  private refuseHostTimedInput(what: string): void {
    if (this.options.deterministic !== undefined) throw new ApiError(400, `A deterministic microVM cannot have ${what}: what comes from the host arrives at host times.`);
  }

  putEntropy(): void {
    this.preBoot();
    this.rng = true;
  }

  putVsock(v: { guest_cid: number; uds_path: string }): void {
    this.preBoot();
    this.refuseHostTimedInput('a vsock device');
    if (v.guest_cid > 0xfffffffe) throw new ApiError(400, `guest_cid must be at most 4294967294, got ${v.guest_cid}.`);
    const dir = dirname(resolve(v.uds_path));
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ApiError(400, `uds_path ${JSON.stringify(v.uds_path)}: directory ${JSON.stringify(dir)} does not exist.`);
    requireSocketPath(v.uds_path, 'uds_path');
    this.vsock = { cid: v.guest_cid, path: v.uds_path };
  }

  putSerial(s: { serial_out_path?: string }): void {
    this.preBoot();
    const file = s.serial_out_path !== undefined ? openOutput(s.serial_out_path, 'serial_out_path') : null;
    this.serialFile?.close();
    this.serialFile = file;
  }

  /** PUT /logger: the file is opened first, so a refused request leaves the old logger as it was. */
  putLogger(l: { log_path?: string }): void {
    const file = l.log_path !== undefined ? openOutput(l.log_path, 'log_path') : null;
    this.logFile?.close();
    this.logFile = file;
    this.loggerConfig = { ...l };
    this.log('Info', 'logger configured');
  }

  putMetrics(m: { metrics_path: string }): void {
    if (this.metricsFile !== null) throw new ApiError(400, 'Reinitialization of metrics not allowed.');
    this.metricsFile = openOutput(m.metrics_path, 'metrics_path');
  }

  async flushMetrics(): Promise<void> {
    const file = this.metricsFile;
    if (file === null) throw new ApiError(400, 'The metrics system is not initialized: PUT /metrics first.');
    const s = (await this.readout()).counters;
    const line = {
      utc_timestamp_ms: Date.now(), id: this.id, state: this.state, uptime_ms: Date.now() - this.startedAt,
      uart: { write_count: this.serialBytes },
      ...(s ? {
        vcpu: { instructions: s.instructions, halts: s.halts, exceptions: s.exceptions, interrupts: s.interrupts, thread_active_ms: Math.round(s.active_ms) },
        exits: { io: s.io_exits, hlt: s.halts },
        guest: { mem_size_mib: this.machine.mem_size_mib, virtual_time_ms: Math.round(s.virtual_ns / 1e6) },
      } : {}),
    };
    if (!file.write(`${JSON.stringify(line)}\n`)) throw new ApiError(400, `Cannot write metrics to ${JSON.stringify(file.path)}: it does not take the line now (a FIFO that is full or lost its reader, or a full disk).`);
  }

  async instanceStart(): Promise<void> {
    this.preBoot();
    if (this.boot === null) throw new ApiError(400, 'Cannot start microvm without kernel configuration.');
    const b = this.boot;
    this.starting = true;
    const serialFile = this.serialFile;
    const out = this.options.serialOut ?? ((bytes: Uint8Array) => { process.stdout.write(bytes); });
    try {
      const drives = [...this.drives.values()].sort((a, c) => Number(c.is_root_device) - Number(a.is_root_device));
      const launch = this.options.launch ?? ((spec: VmSpec) => VmWorker.start(spec));
      const vm = await launch({
        kernelPath: b.kernel_image_path,
        initrdPath: b.initrd_path ?? null,
        cmdline: b.boot_args ?? DEFAULT_BOOT_ARGS,
        memoryMiB: this.machine.mem_size_mib,
        drives: drives.map((d) => ({ id: d.drive_id, path: d.path_on_host, readonly: d.is_read_only ?? false })),
        nets: [...this.nets.values()].map((n) => ({ id: n.iface_id, tap: n.host_dev_name, ...(n.guest_mac !== undefined ? { mac: n.guest_mac } : {}) })),
        rng: this.rng,
        vsock: this.vsock,
        pacing: this.pacing,
        ...(this.options.cpu !== undefined ? { cpu: this.options.cpu } : {}),
        ...(this.options.deterministic !== undefined ? { deterministic: this.options.deterministic } : {}),
        cpuShare: this.cpuShare,
      });
      this.adopt(vm, serialFile, out);
      this.log('Info', 'InstanceStart: VM running');
    } catch (e) {
      throw new ApiError(400, `Cannot start the microVM: ${(e as Error).message}`);
    } finally {
      this.starting = false;
    }
  }

  /** PATCH /drives/{id} (Firecracker's PartialDrive): a new medium for a running VM's drive. */
  async patchDrive(d: { drive_id: string; path_on_host?: string }): Promise<void> {
    if (this.vm === null) throw new ApiError(400, 'The requested operation is not supported before starting the microVM.');
    const drives = [...this.drives.values()].sort((a, c) => Number(c.is_root_device) - Number(a.is_root_device));
    const index = drives.findIndex((x) => x.drive_id === d.drive_id);
    if (index < 0) throw new ApiError(400, `Unable to patch the block device: no drive with id ${JSON.stringify(d.drive_id)}.`);
    if (d.path_on_host === undefined) return;
    if (!this.vm.running) throw new ApiError(400, 'Unable to patch the block device: the microVM is not running.');
    requireFile(d.path_on_host, 'Drive path_on_host');
    try {
      await this.vm.swapDrive(index, d.path_on_host);
    } catch (e) {
      throw new ApiError(400, `Unable to patch the block device: ${(e as Error).message}`);
    }
    drives[index]!.path_on_host = d.path_on_host;
    this.log('Info', `drive ${d.drive_id}: medium swapped for ${d.path_on_host}`);
  }

  sendCtrlAltDel(): void {
    if (this.vm === null || !this.vm.running) throw new ApiError(400, 'SendCtrlAltDel needs a running microVM.');
    this.vm.sendCtrlAltDel();
  }

  async patchVm(state: 'Paused' | 'Resumed'): Promise<void> {
    if (this.vm === null || !this.vm.running) throw new ApiError(400, `Cannot ${state === 'Paused' ? 'pause' : 'resume'} a microVM that is not running.`);
    try {
      if (state === 'Paused') await this.vm.pause(); else await this.vm.resume();
    } catch (e) {
      throw new ApiError(400, (e as Error).message);
    }
    // A VM that ended while the request waited answers the wait at once: that is no pause.
    const exit = this.vm.exit;
    if (exit !== null) throw new ApiError(400, `Cannot ${state === 'Paused' ? 'pause' : 'resume'} the microVM: it ended (${exit.reason}).`);
    this.log('Info', `VM ${state.toLowerCase()}`);
  }

  /** Take a launched VM as this instance's: its serial output and its end. */
  private adopt(vm: VmHandle, serialFile: OutputFile | null, out: (bytes: Uint8Array) => void): void {
    // Deleted (manager) while the VM was being launched: it must not outlive its VMM.
    if (this.shutDown) {
      void vm.stop();
      throw new Error('the VMM was shut down while the VM started');
    }
    vm.onSerialOutput = (bytes) => {
      this.serialBytes += bytes.length;
      if (serialFile !== null) {
        serialFile.write(bytes); // a FIFO that cannot take it now loses it, as a console client does
      } else {
        out(bytes);
      }
    };
    vm.onInputTaken = () => {
      if (this.inputHeld && vm.inputBacklog <= INPUT_LOW_WATER) this.releaseInput();
    };
    vm.onExit = (e) => {
      this.vmEndedAt = Date.now();
      if (this.inputHeld) this.releaseInput(); // input now goes nowhere: let the sender go on
      this.log(e.kind === 'poweroff' || e.kind === 'stopped' ? 'Info' : 'Error', `VM ended: ${e.reason}`);
      this.options.onVmExit?.(e);
    };
    this.vm = vm;
    this.vmStartedAt = Date.now();
  }

  /** PUT /snapshot/create (SnapshotCreateParams): state and memory files of the paused VM. */
  async snapshotCreate(p: { snapshot_path: string; mem_file_path: string; snapshot_type?: string }): Promise<void> {
    if (this.vm === null) throw new ApiError(400, 'The requested operation is not supported before starting the microVM.');
    if (p.snapshot_type === 'Diff') throw new ApiError(400, 'Diff snapshots are not supported by typevisor yet (snapshot_type must be Full).');
    if (!this.vm.running) throw new ApiError(400, 'Cannot create a snapshot: the microVM is not running.');
    if (!this.vm.paused) throw new ApiError(400, 'Cannot create a snapshot: the microVM must be Paused first (PATCH /vm {"state": "Paused"}).');
    for (const [what, path] of [['snapshot_path', p.snapshot_path], ['mem_file_path', p.mem_file_path]] as const) {
      const dir = dirname(resolve(path));
      if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ApiError(400, `${what} ${JSON.stringify(path)}: directory ${JSON.stringify(dir)} does not exist.`);
    }
    if (resolve(p.snapshot_path) === resolve(p.mem_file_path)) throw new ApiError(400, 'snapshot_path and mem_file_path must be different files.');
    // The memory file is written at offsets (sparse) and the state file renamed into
    // place: a FIFO or a device there would hang the VM's thread, which writes them.
    requireWritableTarget(p.snapshot_path, 'snapshot_path');
    requireWritableTarget(p.mem_file_path, 'mem_file_path');
    try {
      await this.vm.snapshot(p.snapshot_path, p.mem_file_path);
    } catch (e) {
      throw new ApiError(400, `Cannot create a snapshot: ${(e as Error).message}`);
    }
    this.log('Info', `snapshot written to ${p.snapshot_path} and ${p.mem_file_path}`);
  }

  /**
   * PUT /snapshot/load (SnapshotLoadParams): a VM rebuilt from a snapshot, Paused unless
   * resume_vm. Only on a fresh instance: nothing configured but the logger, metrics and
   * serial output.
   */
  async snapshotLoad(p: {
    snapshot_path: string; mem_file_path?: string; mem_backend?: { backend_type: string; backend_path: string };
    enable_diff_snapshots?: boolean; track_dirty_pages?: boolean; resume_vm?: boolean;
    network_overrides?: { iface_id: string; host_dev_name: string }[]; vsock_override?: { uds_path: string }; clock_realtime?: boolean; huge_pages?: string;
  }): Promise<void> {
    if (this.vm !== null || this.starting) throw new ApiError(400, AFTER_START);
    if (this.boot !== null || this.drives.size > 0 || this.nets.size > 0 || this.rng || this.vsock !== null || this.machineConfigured) {
      throw new ApiError(400, 'Loading a microVM snapshot not allowed after configuring boot-specific resources.');
    }
    if ((p.mem_backend === undefined) === (p.mem_file_path === undefined)) {
      throw new ApiError(400, 'Exactly one of mem_backend and mem_file_path must be given.');
    }
    if (p.mem_backend?.backend_type === 'Uffd') throw new ApiError(400, 'The Uffd memory backend is not supported by typevisor yet (use File).');
    if (p.enable_diff_snapshots === true || p.track_dirty_pages === true) throw new ApiError(400, 'Dirty page tracking (diff snapshots) is not supported by typevisor yet.');
    if (p.clock_realtime === true) throw new ApiError(400, 'clock_realtime is not supported by typevisor yet (the guest clock resumes where it was).');
    if (p.huge_pages !== undefined && p.huge_pages !== 'Snapshot' && p.huge_pages !== 'None') throw new ApiError(400, `huge_pages "${p.huge_pages}" is not supported by typevisor (guest memory is a SharedArrayBuffer).`);
    const memPath = p.mem_backend?.backend_path ?? p.mem_file_path!;
    requireFile(p.snapshot_path, 'snapshot_path');
    requireFile(memPath, 'Memory file');
    const vsockPath = p.vsock_override?.uds_path;
    if (vsockPath !== undefined) requireSocketPath(vsockPath, 'vsock_override uds_path');
    let saved: SnapshotPayload;
    try {
      saved = readStateFile(p.snapshot_path) as SnapshotPayload;
    } catch (e) {
      throw new ApiError(400, `Cannot load the snapshot: ${(e as Error).message}`);
    }
    const netOverrides = snapshotTaps(saved, p.network_overrides ?? []);
    this.starting = true;
    const out = this.options.serialOut ?? ((bytes: Uint8Array) => { process.stdout.write(bytes); });
    try {
      const launch = this.options.launch ?? ((spec: VmSpec) => VmWorker.start(spec));
      const vm = await launch({
        kernelPath: '', initrdPath: null, cmdline: '', memoryMiB: 0, drives: [], nets: [], rng: false, vsock: null,
        pacing: this.pacing, cpuShare: this.cpuShare,
        ...(this.options.cpu !== undefined ? { cpu: this.options.cpu } : {}),
        restore: {
          statePath: p.snapshot_path, memPath, ...(vsockPath !== undefined ? { vsockPath } : {}),
          ...(p.network_overrides?.length ? { netOverrides: Object.fromEntries(netOverrides.overrides) } : {}),
        },
        startPaused: p.resume_vm !== true,
      });
      this.adopt(vm, this.serialFile, out);
    } catch (e) {
      throw new ApiError(400, `Cannot load the snapshot: ${(e as Error).message}`);
    } finally {
      this.starting = false;
    }
    // What GET /machine-config, GET /vm/config and PATCH /drives see of the restored VM.
    if (typeof saved.machine?.memoryMiB === 'number') this.machine.mem_size_mib = saved.machine.memoryMiB;
    for (const d of saved.virtio?.[0]?.options.drives ?? []) {
      const id = d.id ?? `drive${this.drives.size}`;
      this.drives.set(id, { drive_id: id, path_on_host: d.file, is_root_device: this.drives.size === 0, is_read_only: d.readonly });
    }
    for (const n of netOverrides.taps) this.nets.set(n.iface_id, n);
    this.log('Info', `snapshot loaded from ${p.snapshot_path}${p.resume_vm === true ? ', VM resumed' : ', VM paused'}`);
  }

  /**
   * Serial input to the guest (the process's stdin in `typevisor serve`, a console
   * socket in the manager). Like a stream's write(): false when the guest has
   * INPUT_HIGH_WATER bytes it has not taken yet, and the sender should stop reading its
   * source until onSerialInputDrain. Input before start or after the end is dropped.
   */
  serialInput(bytes: Uint8Array): boolean {
    const vm = this.vm;
    if (vm === null || !vm.running) return true;
    vm.serialInput(bytes);
    if (vm.inputBacklog >= INPUT_HIGH_WATER) this.inputHeld = true;
    return !this.inputHeld;
  }

  private releaseInput(): void {
    this.inputHeld = false;
    this.options.onSerialInputDrain?.();
  }

  /** Stop the VM, then close the files PUT /serial, /logger and /metrics opened. */
  async shutdown(): Promise<void> {
    this.shutDown = true;
    if (this.vm) await this.vm.stop();
    for (const f of [this.serialFile, this.logFile, this.metricsFile]) f?.close();
  }
}
