// Recording and replaying a deterministic run's outside input (ReplayLog.ts has the format).
//
// Both act at one point of the run loop: just before each CPU slice (RunLoopHost.beforeSlice),
// where the machine's state is a function of its position (instruction count, virtual
// time) alone. The recorder hands host input to the device there (never mid-slice) and
// logs the position; it also logs state hashes at the first position at or after every
// CHECKPOINT_INTERVAL instructions. The replayer cuts slices at the next record's count
// (RunLoopHost.sliceLimit: exact, where a deadline in float ns could round one instruction
// off) and keeps a timer at its virtual time (so an idle skip stops there too), applies
// the records in order when the run reaches their positions, and ends the run at the
// first checkpoint that differs (or that it goes past without reaching). Positions are
// matched exactly: a replay cuts more slices than its recording did, so it passes through
// positions the recording skipped (a slice cut just before an idle skip), never the other
// way. A replay that went its own way gets its input late rather than never; the next
// checkpoint reports the divergence.

import type { Cpu } from '../cpu/Cpu.js';
import type { PhysicalMemory } from '../memory/PhysicalMemory.js';
import type { Timer, VirtualClock } from '../machine/VirtualClock.js';
import { cpuHash, RamHasher } from './stateHash.js';
import { DEVICE_COM1, REC_CHECKPOINT, REC_DRIVE, REC_END, REC_INPUT, REC_INPUT_OPEN, type LogPrefix, type LogRecord, type LogWriter, type Position } from './ReplayLog.js';

/**
 * Where a snapshot taken during a recording is in it (the snapshot keeps this): the log
 * written before it, and the run's position. A replay from the snapshot starts with the
 * record after that prefix.
 */
export interface RecordingMark extends LogPrefix { count: number; ns: number }

/** Instructions between checkpoints (state hashes) in a recording. */
export const CHECKPOINT_INTERVAL = 50_000_000;

export interface ReplayHost {
  readonly cpu: Cpu;
  readonly clock: VirtualClock;
  readonly mem: PhysicalMemory;
  /** Hand host bytes to COM1. */
  deliverSerial(bytes: Uint8Array): void;
  /** End the run (at the next instruction boundary). */
  stopAt(reason: { kind: 'stopped'; detail: string } | { kind: 'diverged'; at: number; detail: string }): void;
}

function position(h: ReplayHost): Position {
  return { count: h.cpu.instructions, ns: h.clock.now() };
}

export class Recorder {
  private pending: Uint8Array[] = [];
  /** Whether the host may send input, as the run sees it (changes only between slices, logged). */
  inputOpen = false;
  private nextCheckpoint: number;
  /** Checkpoints written, and the host ms spent hashing RAM for them and the end (--stats). */
  checkpoints = 0;
  hashMs = 0;
  readonly ram: RamHasher;

  constructor(private readonly host: ReplayHost, private readonly log: LogWriter, private readonly interval = CHECKPOINT_INTERVAL) {
    this.nextCheckpoint = interval;
    this.ram = new RamHasher(host.mem, host.cpu);
  }

  /** Bytes of log written so far. */
  get logBytes(): number {
    return this.log.size;
  }

  /** For a snapshot of the paused run: the log so far and the position. */
  mark(): RecordingMark {
    return { ...this.log.prefix(), ...position(this.host) };
  }

  /** The drive images as the run starts (before its first slice). */
  drives(images: readonly { size: number; id: string }[]): void {
    images.forEach((d, i) => this.log.drive(position(this.host), i, d.size, d.id));
  }

  /** Host input: held until the run loop is between slices. */
  queueInput(bytes: Uint8Array): void {
    if (bytes.length > 0) this.pending.push(bytes.slice());
  }

  get pendingInput(): boolean {
    return this.pending.length > 0;
  }

  beforeSlice(hostInputOpen: boolean): void {
    const at = position(this.host);
    if (at.count >= this.nextCheckpoint) {
      const t0 = performance.now();
      this.log.checkpoint(at, cpuHash(this.host.cpu), this.ram.hash());
      this.hashMs += performance.now() - t0;
      this.checkpoints++;
      this.nextCheckpoint = (Math.floor(at.count / this.interval) + 1) * this.interval;
    }
    if (this.pending.length > 0) {
      for (const b of this.pending) {
        this.log.input(at, DEVICE_COM1, b);
        this.host.deliverSerial(b);
      }
      this.pending = [];
    }
    if (hostInputOpen !== this.inputOpen) {
      this.inputOpen = hostInputOpen;
      this.log.inputOpen(at, hostInputOpen);
    }
  }

  /** The END record (the log is complete after it). */
  end(exit: { kind: string; detail?: string; source?: string }): void {
    const t0 = performance.now();
    const ram = this.ram.hash();
    this.hashMs += performance.now() - t0;
    this.log.end(position(this.host), cpuHash(this.host.cpu), ram, exit.kind, exit.detail ?? exit.source ?? '');
  }
}

export class Replayer {
  private next = 0;
  inputOpen = false;
  private readonly timer: Timer;
  /** Checkpoints compared, for tests and --stats. */
  checked = 0;
  /** The replay reached the END of a recording that the host stopped, and stopped there too. */
  private endedByLog = false;
  readonly ram: RamHasher;

  /** `start`: the first record to apply (a replay from a snapshot taken during the recording: the records before it are in the snapshot's state). */
  constructor(private readonly host: ReplayHost, private readonly records: LogRecord[], start = 0) {
    this.ram = new RamHasher(host.mem, host.cpu);
    this.next = start;
    for (let i = 0; i < start; i++) {
      const r = records[i]!;
      if (r.kind === REC_INPUT_OPEN) this.inputOpen = r.open;
    }
    this.timer = host.clock.addTimer('replay', () => {});
    this.aim();
  }

  /** The END record (readLog guarantees one, last). */
  get endRecord(): Extract<LogRecord, { kind: typeof REC_END }> {
    return this.records[this.records.length - 1] as Extract<LogRecord, { kind: typeof REC_END }>;
  }

  /**
   * Reverse execution (debug/Rewinder.ts): the run pauses when it reaches this count
   * (Machine's park check, before the records there are applied), and onStopAt is called.
   */
  stopAt = Infinity;
  onStopAt: (() => void) | null = null;
  /** Called between slices after the records due there were applied (the Rewinder takes its images there). */
  onSlice: (() => void) | null = null;

  /** Most instructions the next slice may run: up to the next record's count (and stopAt). */
  sliceLimit(): number {
    const r = this.records[this.next]!;
    const count = this.host.cpu.instructions;
    let n = r.at.count - count;
    if (this.stopAt - count < n) n = this.stopAt - count;
    return n > 1 ? n : 1;
  }

  /** Where the replay is in its log (an in-memory image of the machine keeps it). */
  saveState(): { next: number; inputOpen: boolean; checked: number; endedByLog: boolean } {
    return { next: this.next, inputOpen: this.inputOpen, checked: this.checked, endedByLog: this.endedByLog };
  }

  loadState(s: { next: number; inputOpen: boolean; checked: number; endedByLog: boolean }): void {
    this.next = s.next;
    this.inputOpen = s.inputOpen;
    this.checked = s.checked;
    this.endedByLog = s.endedByLog;
    this.aim();
  }

  private aim(): void {
    this.timer.deadline = this.records[this.next]!.at.ns;
  }

  beforeSlice(): void {
    const h = this.host;
    const count = h.cpu.instructions;
    const ns = h.clock.now();
    for (;;) {
      const r = this.records[this.next]!;
      const here = count === r.at.count && ns === r.at.ns;
      // Past the record's position: only a replay that went its own way gets there.
      const passed = count > r.at.count || ns > r.at.ns;
      if (!here && !passed) break;
      if (r.kind === REC_CHECKPOINT) {
        this.checked++;
        const what: string[] = [];
        if (cpuHash(h.cpu) !== r.cpu) what.push(count === r.at.count ? 'registers' : `registers (the replay is at instruction ${count})`);
        if (ns !== r.at.ns) what.push(`clock (recorded ${r.at.ns} ns, replay ${ns} ns)`);
        if (this.ram.hash() !== r.ram) what.push('RAM');
        if (what.length > 0) { this.diverge(r.at.count, what.join(', ')); return; }
      } else if (r.kind === REC_END) {
        if (passed) { this.diverge(r.at.count, `the recorded run ended here (${r.exit}), the replay ran on`); return; }
        if (r.exit === 'stopped') { this.endedByLog = true; h.stopAt({ kind: 'stopped', detail: r.detail }); }
        break;
      } else if (r.kind === REC_DRIVE) {
        // Checked before the run (Machine.checkReplayDrives).
      } else if (r.kind === REC_INPUT) {
        // A diverged replay gets its input late rather than never; the next checkpoint reports it.
        h.deliverSerial(r.bytes);
      } else {
        this.inputOpen = r.open;
      }
      this.next++;
    }
    this.aim();
    this.onSlice?.();
  }

  /** The recording's drive images against these (by index): what differs, or '' when they match. */
  driveMismatch(images: readonly { path: string; size: number; id: string }[]): string {
    const rec = this.records.filter((r) => r.kind === REC_DRIVE);
    if (rec.length !== images.length) return `the recording had ${rec.length} drive(s), this run has ${images.length}`;
    for (const r of rec) {
      const d = images[r.index];
      if (d === undefined) return `the recording's drive ${r.index} is missing`;
      if (d.size !== r.size || d.id !== r.id) return `drive ${r.index} (${d.path}) is not the image the recording started with (recorded ${r.size} bytes, SHA-256 ${r.id}...; now ${d.size} bytes, ${d.id}...)`;
    }
    return '';
  }

  /**
   * After the run: the ending compared with the END record; a reason to report
   * divergence, or null. A replay its own host stopped (--timeout, Ctrl-A X) was cut
   * short, not diverged: nothing to compare.
   */
  checkEnd(exit: { kind: string }): { kind: 'diverged'; at: number; detail: string } | null {
    if (exit.kind === 'stopped' && !this.endedByLog) return null;
    const r = this.endRecord;
    const h = this.host;
    const count = h.cpu.instructions;
    if (this.records[this.next] !== r) {
      // Reported at the first state check the replay did not reach.
      const skipped = this.records.slice(this.next).find((x) => x.kind === REC_CHECKPOINT || x.kind === REC_END)!;
      return { kind: 'diverged', at: skipped.at.count, detail: `the replay ended (${exit.kind}) at instruction ${count}, before the recorded run's ${skipped.kind === REC_END ? 'end' : 'checkpoint'} at instruction ${skipped.at.count}` };
    }
    const what: string[] = [];
    if (exit.kind !== r.exit) what.push(`how it ended (recorded ${r.exit}, replay ${exit.kind})`);
    if (count !== r.at.count || cpuHash(h.cpu) !== r.cpu) what.push(count === r.at.count ? 'registers' : `registers (recorded end at instruction ${r.at.count}, replay at ${count})`);
    if (h.clock.now() !== r.at.ns) what.push('clock');
    if (this.ram.hash() !== r.ram) what.push('RAM');
    return what.length === 0 ? null : { kind: 'diverged', at: Math.min(count, r.at.count), detail: what.join(', ') };
  }

  private diverge(at: number, what: string): void {
    this.timer.deadline = Infinity;
    this.host.stopAt({ kind: 'diverged', at, detail: what });
  }
}
