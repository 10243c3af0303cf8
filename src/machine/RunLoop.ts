// The run loop: runs the vCPU in slices bounded by the next timer deadline, fires due
// timers, and on HLT either jumps virtual time to the next deadline (fast pacing) or
// sleeps until it on the host (real-time pacing), so an idle guest costs no host CPU.
// A CPU cap (cpuShare < 1) is enforced here too: the loop keeps the host time it spent
// running within share × wall time, sleeping off any excess at its yield points.

import { yieldTurn } from './yieldTurn.js';
import { STOP_HALT, STOP_SHUTDOWN, FLAG_IF } from '../cpu/constants.js';
import type { Cpu } from '../cpu/Cpu.js';
import type { VirtualClock } from './VirtualClock.js';

/** Longest slice between looks at the host (input, timeouts), in guest instructions. */
const MAX_SLICE = 500_000;
/** How often the loop lets the host event loop run (ms of wall time). */
const YIELD_MS = 15;
/** CPU-cap accounting window (ms): older busy or idle time earns no credit. */
const CAP_WINDOW_MS = 1000;
/** Smallest share a cap may give (below it a VM barely runs its timer tick). */
export const MIN_CPU_SHARE = 0.01;
/** How long Machine.pause waits for host I/O in flight (disk requests) to complete before it gives up. */
export const PAUSE_IO_GUARD_MS = 30_000;

export type Pacing = 'realtime' | 'fast';

/** Instructions the next slice may run: up to the next timer deadline (at least one), at most MAX_SLICE. */
export function sliceBudget(clock: VirtualClock): number {
  const deadline = clock.nextDeadline();
  if (deadline === Infinity) return MAX_SLICE;
  const insns = Math.ceil((deadline - clock.now()) / clock.nsPerInstruction);
  return insns < 1 ? 1 : insns < MAX_SLICE ? insns : MAX_SLICE;
}

export interface RunLoopHost {
  readonly cpu: Cpu;
  readonly clock: VirtualClock;
  /** Set when the machine must stop; checked between slices. */
  exitPending(): boolean;
  /** Triple fault seen by the CPU. */
  onShutdown(reason: string): void;
  /** HLT that nothing can end (interrupts off, or nothing armed or open to raise one); `detail` says which. */
  onDeadHalt(detail: string): void;
  /** True while something outside the guest may still raise an interrupt (stdin open). */
  hasExternalWakeSources(): boolean;
  /** Host I/O in flight for the guest (disk, network): an idle guest waits for it. */
  hasPendingIo(): boolean;
  /**
   * Checked before each slice: a promise while the machine is paused (the loop parks on
   * it, its event loop free for host I/O and snapshots), null to run.
   */
  parkIfPaused?(): Promise<void> | null;
  /**
   * Checked before each slice (deterministic runs): a promise while a device's completion
   * is due by its rule but the host has not finished it. The loop waits for it in host
   * time, virtual time stopped, then fires due timers (the completion) before the next
   * instruction; null to run.
   */
  ioBarrier?(): Promise<void> | null;
  /**
   * Called just before each slice, where the machine's state is a function of its
   * position (instruction count, virtual time): record/replay hand over input there. It
   * may end the run (exitPending is checked again).
   */
  beforeSlice?(): void;
  /** Most instructions the next slice may run (a replay's next record), on top of the timer deadline. */
  sliceLimit?(): number;
}

export class RunLoop {
  private wakeResolve: (() => void) | null = null;
  private wallStart = 0;
  /** HLT exits taken, for --stats. */
  halts = 0;
  /** Share of one host core the loop may use (1: no cap). Can change while running. */
  private share = 1;
  /** Start of the cap window and the host ms spent waiting (not running) inside it. */
  private capStart = 0;
  private capIdleMs = 0;
  /** Host ms slept to honour the cap, for stats and tests. */
  cappedMs = 0;
  /** Host ms slept waiting for an idle guest's next event (HLT, host I/O), for tests. */
  idleSleptMs = 0;

  constructor(private readonly host: RunLoopHost, readonly pacing: Pacing) {}

  get cpuShare(): number { return this.share; }
  set cpuShare(v: number) {
    if (!(v >= MIN_CPU_SHARE && v <= 1)) throw new RangeError(`cpu share must be from ${MIN_CPU_SHARE} to 1, got ${v}`);
    this.share = v;
    this.capStart = performance.now();
    this.capIdleMs = 0;
  }

  /** Host time since the loop started, in ns. */
  private wallNs(): number {
    return (performance.now() - this.wallStart) * 1e6;
  }

  /** Wake a sleeping idle loop early (host input arrived). */
  wake(): void {
    const r = this.wakeResolve;
    this.wakeResolve = null;
    r?.();
  }

  private async sleep(ms: number): Promise<void> {
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => { this.wakeResolve = null; resolve(); }, Math.max(0, Math.min(ms, 1000)));
      this.wakeResolve = () => { clearTimeout(t); resolve(); };
    });
    const slept = performance.now() - t0;
    this.capIdleMs += slept;
    this.idleSleptMs += slept;
  }

  /**
   * Under a cap: if the host time spent running in this window exceeds share × the
   * window's wall time, sleep off the excess (input does not cut this sleep short).
   */
  private async honourCap(now: number): Promise<void> {
    const elapsed = now - this.capStart;
    const busy = elapsed - this.capIdleMs;
    const owed = busy / this.share - elapsed;
    if (owed >= 1) {
      await new Promise<void>((r) => setTimeout(r, Math.min(owed, CAP_WINDOW_MS)));
      const slept = performance.now() - now;
      this.cappedMs += slept;
      this.capIdleMs += slept;
    }
    if (performance.now() - this.capStart > CAP_WINDOW_MS) {
      this.capStart = performance.now();
      this.capIdleMs = 0;
    }
  }

  async run(): Promise<void> {
    const { cpu, clock } = this.host;
    const realtime = this.pacing === 'realtime';
    this.wallStart = performance.now() - clock.now() / 1e6;
    let lastYield = performance.now();
    this.capStart = lastYield;
    this.capIdleMs = 0;
    while (!this.host.exitPending()) {
      const park = this.host.parkIfPaused?.() ?? null;
      if (park !== null) {
        const t0 = performance.now();
        await park;
        this.wallStart += performance.now() - t0; // paused time is not guest time
        this.capIdleMs += performance.now() - t0; // nor busy time for the CPU cap
        lastYield = performance.now();
        continue;
      }
      const io = this.host.ioBarrier?.() ?? null;
      if (io !== null) {
        const t0 = performance.now();
        await io;
        this.capIdleMs += performance.now() - t0; // waiting on the host is not busy time
        clock.runDue();
        lastYield = performance.now();
        continue;
      }
      if (this.host.beforeSlice !== undefined) {
        this.host.beforeSlice();
        if (this.host.exitPending()) continue;
      }
      let budget = sliceBudget(clock);
      const limit = this.host.sliceLimit?.() ?? budget;
      if (limit < budget) budget = limit;
      const stop = cpu.run(budget);
      clock.sync();
      if (realtime) clock.advanceTo(this.wallNs());
      clock.runDue();
      if (stop === STOP_SHUTDOWN) {
        this.host.onShutdown(cpu.shutdownReason);
        continue;
      }
      if (stop === STOP_HALT && cpu.halted && !this.host.exitPending()) {
        this.halts++;
        if ((cpu.flags & FLAG_IF) === 0) {
          // Only NMI could wake it, and nothing here raises NMI.
          this.host.onDeadHalt('the guest halted with interrupts disabled: nothing can wake it');
          continue;
        }
        // A timer that fired just now (runDue above) may have raised the interrupt that
        // ends this HLT: take it before sleeping, not after the next deadline. (The next
        // cpu.run delivers it, or clears a stale flag if the PIC has nothing to give.)
        if (cpu.irqPending) continue;
        if (this.host.hasPendingIo()) {
          // A device is waiting on the host: don't skip virtual time past its completion,
          // but let it pass at host speed while waiting (with --fast too), so the guest's
          // own timers still fire when the wait is long (network frames keep coming).
          const waitStart = performance.now();
          await this.sleep(realtime ? 5 : 1);
          if (realtime) clock.advanceTo(this.wallNs());
          else clock.advanceTo(clock.now() + (performance.now() - waitStart) * 1e6);
          clock.runDue();
          lastYield = performance.now();
          continue;
        }
        const next = clock.nextDeadline();
        if (next === Infinity) {
          if (!this.host.hasExternalWakeSources()) { this.host.onDeadHalt('the guest halted waiting for an interrupt, with no timer armed and no input open that could raise one'); continue; }
          await this.sleep(50);
          if (realtime) clock.advanceTo(this.wallNs());
          lastYield = performance.now();
          continue;
        }
        if (realtime) {
          const waitMs = (next - this.wallNs()) / 1e6;
          if (waitMs > 0.5) {
            // The sleep may end early (input, or its 1 s cap): time moves only as far as
            // the host clock did, never on to a deadline still seconds away (HPET one-shots).
            await this.sleep(waitMs);
            lastYield = performance.now();
            clock.advanceTo(this.wallNs());
          } else {
            clock.advanceTo(Math.max(next, this.wallNs()));
          }
        } else {
          clock.advanceTo(next);
        }
        clock.runDue();
      }
      const t = performance.now();
      if (t - lastYield > YIELD_MS) {
        if (this.share < 1) await this.honourCap(t);
        await yieldTurn();
        lastYield = performance.now();
      }
    }
  }
}
