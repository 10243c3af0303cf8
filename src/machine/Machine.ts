// One PC: guest RAM, the I/O bus, the virtual clock, the legacy devices, and one vCPU.
// Loads a kernel or firmware, runs it, and reports how the run ended. The devices are
// shared by every CPU backend; this file only wires them together.

import { buildE820, loadFirmware, loadKernel, type BootEntry } from '../boot/index.js';
import { Cpu } from '../cpu/Cpu.js';
import { Translator } from '../cpu/jit/Translator.js';
import { attachX87 } from '../cpu/attachX87.js';
import { PhysicalMemory } from '../memory/PhysicalMemory.js';
import { IoBus } from './IoBus.js';
import { VirtualClock } from './VirtualClock.js';
import { PAUSE_IO_GUARD_MS, RunLoop, type Pacing } from './RunLoop.js';
import { applyBootEntry } from './applyBootEntry.js';
import { Platform } from './Platform.js';
import type { LocalApic } from '../devices/LocalApic.js';
import { ByteBatcher } from './ByteBatcher.js';
import { virtioAcpiOptions } from './virtioAcpi.js';
import { MIN_MEMORY_MIB, MAX_MEMORY_MIB } from './memoryLimits.js';
import { checkSeed } from './SeededRandom.js';
import { LogWriter, ReplayLogError, fileId, headerMismatch, imageId, readLog, type LogHeader } from '../replay/ReplayLog.js';
import { Recorder, Replayer, type ReplayHost } from '../replay/RecordReplay.js';
import type { AttachedVirtio, VirtioOptions } from '../devices/virtio/options.js';
import type { RestoreOptions, SnapshotInfo } from '../snapshot/MachineSnapshot.js';

/** Virtio devices put on the machine by attachVirtioTo, with what they were made from (snapshots reopen them). */
export interface VirtioAttachment {
  options: VirtioOptions;
  transport: 'pci' | 'mmio';
  attached: AttachedVirtio;
}

export interface MachineConfig {
  /** Guest RAM in MiB. */
  memoryMiB: number;
  kernel?: Uint8Array | null;
  initrd?: Uint8Array | null;
  cmdline?: string;
  /** Firmware image for --bios (boots from the reset vector instead of a kernel). */
  bios?: Uint8Array | null;
  pacing?: Pacing;
  /** A reset request resets the machine instead of ending the run. */
  reboot?: boolean;
  /** Virtual ns per guest instruction (default 10: the guest sees a ~100 MIPS CPU). */
  nsPerInstruction?: number;
  /** CPU engine: the binary translator over the interpreter ('jit', the default), or the interpreter alone. */
  cpu?: CpuEngine;
  /**
   * Time of day the RTC starts from, ms since the Unix epoch (as QEMU's -rtc base=); by
   * default the host's clock at power-on. Fixing it makes a fast-paced run reproducible.
   */
  rtcBaseMs?: number;
  /**
   * A deterministic run: the same guest with the same inputs gives the same instruction
   * stream on any host, however loaded. Forces fast pacing (virtual time from the
   * instruction count alone, idle time skipped), fixes the RTC's start (rtcBaseMs, else
   * DETERMINISTIC_EPOCH_MS), feeds virtio-rng from a seeded generator, delivers disk
   * completions at virtual times set by a rule (ScheduledCompletions), and refuses
   * network and vsock devices. Serial input is the caller's to time.
   */
  deterministic?: boolean;
  /** Seed of a deterministic run's random generator (0 to 2^32 - 1, default 0). */
  seed?: number;
  /**
   * Record the run (implies deterministic): host serial input is handed to COM1 only
   * between CPU slices, and the log (src/replay/ReplayLog.ts) is written to this sink in
   * chunks as the run goes; its END record comes when run() returns.
   */
  record?: { write(chunk: Uint8Array): void };
  /** Instructions between a recording's state hashes (default CHECKPOINT_INTERVAL, 50 M). */
  checkpointInterval?: number;
  /**
   * Replay a recorded log (implies deterministic): checked whole first (ReplayLogError if
   * damaged or made from another start), its input fed at its positions, its state
   * hashes compared; serialInput() is refused. A divergence ends the run with the exit
   * reason 'diverged'.
   */
  replay?: Uint8Array;
  /**
   * A local APIC (0xFEE00000) and an I/O APIC (0xFEC00000), described in the ACPI MADT
   * (default true). A guest that never enables them sees only the 8259 PIC, as without.
   */
  apic?: boolean;
}

/** A deterministic run's RTC start when rtcBaseMs is not given: 2024-01-01T00:00:00Z. */
export const DETERMINISTIC_EPOCH_MS = Date.UTC(2024, 0, 1);

import { type CpuEngine, CPU_ENGINES, DEFAULT_CPU_ENGINE } from './cpuEngine.js';
export { type CpuEngine, CPU_ENGINES };

export type ExitReason =
  | { kind: 'poweroff' }
  | { kind: 'reset'; source: string }
  | { kind: 'triple-fault'; detail: string }
  | { kind: 'dead-halt'; detail: string }
  | { kind: 'stopped'; detail: string }
  /** A replay whose run differed from the recording, first seen at instruction `at`. */
  | { kind: 'diverged'; at: number; detail: string };

export { MIN_MEMORY_MIB, MAX_MEMORY_MIB } from './memoryLimits.js';

export class Machine {
  readonly mem: PhysicalMemory;
  readonly io = new IoBus();
  readonly clock = new VirtualClock();
  /** See MachineConfig.rtcBaseMs (read by the Platform's RTC). */
  readonly rtcBaseMs: number | undefined;
  readonly cpu: Cpu;
  /** The binary translator when the engine is 'jit'. */
  readonly translator: Translator | null;
  readonly platform: Platform;
  readonly loop: RunLoop;
  readonly config: Required<Omit<MachineConfig, 'kernel' | 'initrd' | 'bios' | 'rtcBaseMs' | 'record' | 'replay' | 'checkpointInterval'>> & MachineConfig;
  /** MachineConfig.apic (read by the Platform). */
  readonly apic: boolean;
  /** The recording (MachineConfig.record) or the replay (MachineConfig.replay) of this run, if any. */
  readonly recorder: Recorder | null = null;
  readonly replayer: Replayer | null = null;
  private exit: ExitReason | null = null;
  /** Built by Machine.restore (a replay from a snapshot: its drives are as at the snapshot, not the recording's start). */
  private readonly restored: boolean;
  /** Serial (COM1) bytes out of the guest. */
  onSerialOutput: (bytes: Uint8Array) => void = () => {};
  /** Debug console (port 0xE9) bytes. */
  onDebugOutput: (byte: number) => void = () => {};
  /** True while the host may still send serial input (keeps an idle guest waiting). */
  externalInputOpen = false;
  /** Sources of asynchronous host I/O (virtio devices); counted before skipping idle time. */
  readonly ioSources: { pendingIo(): number; hostActive?(): boolean; ioBarrier?(): Promise<void> | null }[] = [];
  /** Wall-clock ms (performance.now) at construction, and milestones in ms since then. */
  readonly startedAt = performance.now();
  readonly milestones = new Map<string, number>();
  resets = 0;
  /** Virtio devices attached through attachVirtioTo (saved and reopened by snapshots). */
  readonly virtio: VirtioAttachment[] = [];
  private looping = false;
  private pauseWanted = false;
  private parkRelease: (() => void) | null = null;
  private parkWaiters: (() => void)[] = [];

  /**
   * @param restoring internal (Machine.restore): build the machine without loading a
   *                  kernel; its memory and state come from a snapshot.
   * @param replayStart internal (Machine.restore with a replay log): the first record
   *                  to apply, the one after the log's prefix the snapshot was taken at.
   */
  constructor(config: MachineConfig, restoring = false, replayStart = 0) {
    const mib = config.memoryMiB;
    if (!Number.isInteger(mib) || mib < MIN_MEMORY_MIB || mib > MAX_MEMORY_MIB) {
      throw new RangeError(`memory must be a whole number of MiB from ${MIN_MEMORY_MIB} to ${MAX_MEMORY_MIB}, got ${mib}`);
    }
    if (config.deterministic === true && config.pacing === 'realtime') throw new RangeError('a deterministic run is paced by its instructions: realtime pacing cannot be deterministic');
    checkSeed(config.seed ?? 0);
    if (config.record !== undefined && config.replay !== undefined) throw new RangeError('a run is recorded or replayed, not both');
    const recordReplay = config.record !== undefined || config.replay !== undefined;
    if (recordReplay && config.pacing === 'realtime') throw new RangeError('a recorded or replayed run is deterministic: realtime pacing cannot be');
    if (config.record !== undefined && restoring) throw new RangeError('a recording starts from a boot, not from a snapshot');
    this.config = { pacing: 'realtime', reboot: false, cmdline: '', nsPerInstruction: 10, cpu: DEFAULT_CPU_ENGINE, deterministic: false, seed: 0, apic: true, ...config };
    this.apic = this.config.apic;
    if (recordReplay) this.config.deterministic = true;
    if (this.config.deterministic) {
      this.config.pacing = 'fast';
      this.config.rtcBaseMs ??= DETERMINISTIC_EPOCH_MS;
    }
    if (!CPU_ENGINES.includes(this.config.cpu)) throw new RangeError(`cpu engine must be one of ${CPU_ENGINES.join(', ')}, got ${String(this.config.cpu)}`);
    this.rtcBaseMs = this.config.rtcBaseMs;
    this.mem = new PhysicalMemory(mib * 1024 * 1024);
    this.cpu = new Cpu(this.mem, this.io);
    attachX87(this.cpu);
    this.translator = this.config.cpu === 'jit' ? new Translator(this.mem) : null;
    this.translator?.attach(this.cpu);
    this.clock.nsPerInstruction = this.config.nsPerInstruction;
    this.clock.attachInstructionCounter(() => this.cpu.instructions);
    this.cpu.tscSource = () => Math.floor(this.clock.now());
    this.platform = new Platform(this, {
      serialOut: (b) => this.serialOut(b),
      debugOut: (b) => this.onDebugOutput(b),
      reset: (source) => this.resetRequested(source),
      powerOff: () => this.requestExit({ kind: 'poweroff' }),
    });
    this.cpu.pic = this.platform.interruptController;
    this.cpu.lapic = this.platform.lapic;
    if (this.platform.lapic !== null) this.wireLapic(this.platform.lapic);
    this.restored = restoring;
    if (recordReplay) [this.recorder, this.replayer] = this.recordOrReplay(restoring, replayStart);
    this.platform.pic.notify = () => { this.cpu.irqPending = true; this.cpu.exitReq = 1; };
    this.loop = new RunLoop({
      cpu: this.cpu,
      clock: this.clock,
      exitPending: () => this.exit !== null,
      onShutdown: (reason) => this.resetRequested(`triple fault: ${reason}`),
      onDeadHalt: (detail) => this.requestExit({ kind: 'dead-halt', detail }),
      hasExternalWakeSources: () => this.recorder?.inputOpen ?? this.replayer?.inputOpen ?? this.externalInputOpen,
      // A deterministic run never waits on the host for an idle guest (its virtual time
      // would then follow host time): its devices deliver at scheduled times (ioBarrier).
      hasPendingIo: () => !this.config.deterministic && this.ioSources.some((s) => s.pendingIo() > 0 || s.hostActive?.() === true),
      parkIfPaused: () => this.parkIfPaused(),
      // Only a deterministic run's devices schedule completions (ScheduledCompletions).
      ...(this.config.deterministic ? {
        ioBarrier: () => {
          for (const s of this.ioSources) {
            const b = s.ioBarrier?.() ?? null;
            if (b !== null) return b;
          }
          return null;
        },
      } : {}),
      ...(this.recorder !== null ? { beforeSlice: () => this.recorder!.beforeSlice(this.externalInputOpen) } : {}),
      ...(this.replayer !== null ? { beforeSlice: () => this.replayer!.beforeSlice(), sliceLimit: () => this.replayer!.sliceLimit() } : {}),
    }, this.config.pacing);
    if (!restoring || this.config.bios) this.load(); // firmware ROMs are mapped, not saved
  }

  /** The local APIC's links to the CPU: interrupt requests, the TSC offset, and slices cut at its timer's deadline. */
  private wireLapic(lapic: LocalApic): void {
    const cpu = this.cpu, clock = this.clock;
    lapic.notify = () => { cpu.irqPending = true; cpu.exitReq = 1; };
    lapic.tscOffset = () => cpu.tscOffset;
    // A deadline armed mid-slice ends the slice there (the slice was sized to the deadlines before it).
    lapic.onArm = (deadline) => {
      const insns = Math.ceil((deadline - clock.now()) / clock.nsPerInstruction);
      const end = cpu.instructions + (insns < 1 ? 1 : insns);
      if (end < cpu.budgetEnd) {
        cpu.budgetEnd = end;
        cpu.exitReq = 1;
      }
    };
  }

  /** What identifies this run's start in a record/replay log. */
  private logHeader(): LogHeader {
    const c = this.config;
    return {
      memoryMiB: c.memoryMiB, seed: c.seed, nsPerInstruction: c.nsPerInstruction, rtcBaseMs: c.rtcBaseMs!, reboot: c.reboot,
      kernel: imageId(c.bios ?? c.kernel), initrd: imageId(c.initrd), cmdline: imageId(c.cmdline),
    };
  }

  /** The recorder or replayer for this run (the log checked whole before anything runs). */
  private recordOrReplay(restoring: boolean, replayStart: number): [Recorder | null, Replayer | null] {
    const host: ReplayHost = {
      cpu: this.cpu, clock: this.clock, mem: this.mem,
      deliverSerial: (bytes) => this.platform.com1.receive(bytes),
      stopAt: (reason) => this.requestExit(reason),
    };
    const c = this.config;
    if (c.replay !== undefined) {
      const log = readLog(c.replay);
      // From a snapshot, Machine.restore found the snapshot's place in the log (its prefix, header included, by SHA-256).
      const diff = restoring ? '' : headerMismatch(log.header, this.logHeader());
      if (diff !== '') throw new ReplayLogError(`replay log was recorded from another start: ${diff}`);
      return [null, new Replayer(host, log.records, replayStart)];
    }
    const interval = c.checkpointInterval ?? undefined;
    if (interval !== undefined && !(Number.isInteger(interval) && interval > 0)) throw new RangeError(`checkpoint interval must be a positive whole number of instructions, got ${interval}`);
    return [new Recorder(host, new LogWriter(c.record!, this.logHeader()), interval), null];
  }

  /** Load the kernel or firmware and put the CPU at its entry point. */
  private load(): void {
    const c = this.config;
    let entry: BootEntry;
    if (c.bios) {
      entry = loadFirmware(this.mem, c.bios).entry;
      this.platform.enableFwCfg(this.mem, buildE820(this.mem.ramSize), () => this.cpu.flushTlb(true));
    } else if (c.kernel) {
      entry = loadKernel(this.mem, c.kernel, { cmdline: c.cmdline, initrd: c.initrd ?? undefined, acpi: virtioAcpiOptions(c.cmdline, this.virtio, this.apic) }).entry;
    } else {
      throw new Error('nothing to boot: give a kernel or a firmware image');
    }
    applyBootEntry(this.cpu, entry);
  }

  private serialFirst = false;
  private serialTail = '';
  private serialOut(byte: number): void {
    if (!this.serialFirst) { this.serialFirst = true; this.mark('first serial byte'); }
    // Watch for boot milestones in the console text (cheap: only a short tail is kept).
    this.serialTail = (this.serialTail + String.fromCharCode(byte)).slice(-64);
    if (byte === 10) {
      if (this.serialTail.includes('Freeing unused kernel')) this.mark('kernel freed init memory');
      else if (this.serialTail.includes('Run /init') || this.serialTail.includes('Run /sbin/init')) this.mark('init started');
    }
    this.serialBatch.push(byte);
  }
  private readonly serialBatch = new ByteBatcher((bytes) => this.onSerialOutput(bytes));

  mark(name: string): void {
    if (!this.milestones.has(name)) this.milestones.set(name, performance.now() - this.startedAt);
  }

  /** Bytes from the host into COM1 (in a recording, at the run loop's next stop between slices). */
  serialInput(bytes: Uint8Array): void {
    if (this.replayer !== null) throw new Error('a replay takes its input from the log, not from serialInput');
    if (this.recorder !== null) this.recorder.queueInput(bytes);
    else this.platform.com1.receive(bytes);
    this.loop.wake();
  }

  /** End the run at the next instruction boundary. */
  requestExit(reason: ExitReason): void {
    if (this.exit === null) this.exit = reason;
    this.cpu.requestStop();
    this.loop.wake();
    this.releasePark(); // a paused machine ends too
  }

  /** How the run ended, or null while it has not. */
  get exitReason(): ExitReason | null {
    return this.exit;
  }

  // ---- pause and resume ----

  /** True from pause() until resume(). */
  get paused(): boolean {
    return this.pauseWanted;
  }

  /**
   * Stop the vCPU between slices and wait for host I/O in flight (disk requests) to
   * complete, so devices and queues are at rest. The host event loop keeps running:
   * serial input queues up, device backends still complete their work.
   */
  async pause(): Promise<void> {
    this.pauseWanted = true;
    if (this.looping && this.parkRelease === null && this.exit === null) {
      await new Promise<void>((resolve) => {
        this.parkWaiters.push(resolve);
        this.loop.wake();
      });
    }
    const end = performance.now() + PAUSE_IO_GUARD_MS;
    while (this.ioSources.some((s) => s.pendingIo() > 0)) {
      if (performance.now() > end) throw new Error(`pause: host I/O did not complete within ${PAUSE_IO_GUARD_MS / 1000} s`);
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  /** Let a paused machine run again. */
  resume(): void {
    this.pauseWanted = false;
    this.releasePark();
  }

  private releasePark(): void {
    const r = this.parkRelease;
    this.parkRelease = null;
    r?.();
    for (const w of this.parkWaiters.splice(0)) w();
  }

  private parkIfPaused(): Promise<void> | null {
    const rp = this.replayer;
    if (rp !== null && this.cpu.instructions >= rp.stopAt && this.exit === null) {
      // A replay run to a count for reverse execution: it stops here, before that position's records.
      rp.stopAt = Infinity;
      this.pauseWanted = true;
      rp.onStopAt?.();
    }
    if (!this.pauseWanted || this.exit !== null) return null;
    return new Promise<void>((resolve) => {
      this.parkRelease = resolve;
      for (const w of this.parkWaiters.splice(0)) w();
    });
  }

  // ---- snapshots ----

  /**
   * Write a snapshot: the state file (CPU, clock, every device, virtio queues, a
   * checksum) and the guest memory file (raw, sparse). The machine is paused for it
   * (host I/O drained first) and runs on afterwards unless it was paused already.
   */
  async saveSnapshot(statePath: string, memPath: string): Promise<SnapshotInfo> {
    // Loaded when used: snapshot files are Node's (the browser bundle keeps machines without them).
    const { writeSnapshot } = await import('../snapshot/MachineSnapshot.js');
    return this.whilePaused(() => writeSnapshot(this, statePath, memPath));
  }

  /**
   * Run `fn` with the machine paused (host I/O drained first), then let it run on
   * unless it was paused already: for taking a snapshot.
   */
  async whilePaused<T>(fn: () => T): Promise<T> {
    if (this.exit !== null) throw new Error(`cannot snapshot a machine that has ended (${this.exit.kind})`);
    const wasPaused = this.pauseWanted;
    await this.pause();
    try {
      return fn();
    } finally {
      if (!wasPaused) this.resume();
    }
  }

  /**
   * A machine rebuilt from a snapshot: files checked (magic, version, checksum, sizes,
   * device set) before anything is built, virtio backends reopened (drive images by
   * path, vsock listening again, network backends restarted), memory and state loaded.
   * Throws a SnapshotError and leaves nothing running when the snapshot does not fit.
   * Call run() to continue the guest.
   */
  static async restore(statePath: string, memPath: string, options: RestoreOptions = {}): Promise<Machine> {
    const { restoreMachine } = await import('../snapshot/MachineSnapshot.js');
    return restoreMachine(statePath, memPath, options);
  }

  private resetRequested(source: string): void {
    if (!this.config.reboot) {
      this.requestExit(source.startsWith('triple fault') ? { kind: 'triple-fault', detail: source } : { kind: 'reset', source });
      return;
    }
    if (!this.config.kernel && !this.config.bios) {
      // Restored from a snapshot without the boot images: nothing to reload.
      this.requestExit({ kind: 'reset', source });
      return;
    }
    // Reboot: devices to power-on state, memory reloaded, CPU to the entry point.
    this.resets++;
    this.cpu.clearShutdown();
    this.platform.reset();
    this.mem.u8.fill(0);
    this.mem.markWritten(0, this.mem.ramSize);
    this.load();
    this.cpu.requestStop();
  }

  /** Run until the guest powers off, resets (without --reboot), dies, or stop() is called. */
  /** The virtio-blk drives' images (index order across device sets): path, size, id. */
  private driveImages(): { path: string; size: number; id: string }[] {
    const paths = this.virtio.flatMap((v) => v.attached.devices.filter((d) => 'imagePath' in d).map((d) => (d as unknown as { imagePath: string }).imagePath));
    return paths.map((path) => ({ path, ...fileId(path) }));
  }

  private drivesNoted = false;

  /**
   * Record: log the drive images (size, SHA-256) as the run starts. Replay from boot:
   * refuse (ReplayLogError) drives whose images are not the ones the recording started
   * with. Done by run() before the first instruction if not called earlier (the CLI calls
   * it after attaching the drives, to refuse a bad start as bad input).
   */
  checkReplayDrives(): void {
    if (this.drivesNoted || (this.recorder === null && this.replayer === null) || this.restored) return;
    this.drivesNoted = true;
    const images = this.driveImages();
    if (this.recorder !== null) { this.recorder.drives(images); return; }
    const diff = this.replayer!.driveMismatch(images);
    if (diff !== '') throw new ReplayLogError(`replay log was recorded from another start: ${diff}`);
  }

  async run(): Promise<ExitReason> {
    this.checkReplayDrives();
    this.looping = true;
    try {
      await this.loop.run();
    } finally {
      this.looping = false;
      for (const w of this.parkWaiters.splice(0)) w();
    }
    this.serialBatch.flush();
    const exit: ExitReason = this.exit ?? { kind: 'stopped', detail: 'run loop ended' };
    this.recorder?.end(exit);
    if (this.replayer !== null && exit.kind !== 'diverged') {
      const diverged = this.replayer.checkEnd(exit);
      if (diverged !== null) this.exit = diverged;
    }
    return this.exit ?? exit;
  }

  /** Ctrl, Alt and Del pressed and released on the PS/2 keyboard (Linux reboots, or runs its ctrl-alt-del action). */
  sendCtrlAltDel(): void {
    // Scancode set 1 when the controller translates (the command byte's bit 6, as Linux
    // sets it), set 2 otherwise.
    const kbc = this.platform.kbc;
    const set1 = [0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d];
    const set2 = [0x14, 0x11, 0xe0, 0x71, 0xe0, 0xf0, 0x71, 0xf0, 0x11, 0xf0, 0x14];
    kbc.sendKeyboardBytes((kbc.commandByte & 0x40) !== 0 ? set1 : set2);
    this.loop.wake();
  }

  stop(detail: string): void {
    this.requestExit({ kind: 'stopped', detail });
  }

  /** Wall ms since the machine was made. */
  uptimeMs(): number {
    return performance.now() - this.startedAt;
  }
}
