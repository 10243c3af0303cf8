// Host work delivered to the guest at a virtual time set by a rule, not when the host
// finishes it: the device half of a deterministic run (MachineConfig.deterministic).
//
// The rule: work the guest starts at virtual time T (the queue notify, exact to the
// instruction) is delivered — used ring written, interrupt raised — by this object's
// timer, i.e. between CPU slices at the first instruction boundary where virtual time is
// at least T + delayNs (the slice is cut there, or an idle guest's clock jumps there).
// Deliveries happen in the order the work was started. The host does the work
// asynchronously meanwhile; if it has not finished by the deadline, the run loop waits
// for it in host time before the vCPU runs another instruction (barrier()), with the
// virtual clock stopped. Either way the guest's instruction stream is the same.

import type { Timer, VirtualClock } from '../../machine/VirtualClock.js';

/** A deterministic run's virtio-blk request completes 100 µs of virtual time after the guest made it (10,000 instructions at the default 10 ns each). */
export const DETERMINISTIC_DISK_DELAY_NS = 100_000;

/** One piece of host work between its start and its delivery. */
export interface Scheduled {
  readonly due: number;
  /** Set by finish(): what to do at the deadline. */
  deliver: (() => void) | null;
  dropped: boolean;
}

export class ScheduledCompletions {
  private readonly queue: Scheduled[] = [];
  private readonly timer: Timer;
  /** The timer fired with work due that the host had not finished: the vCPU must wait. */
  private blocked = false;
  private waiter: (() => void) | null = null;
  /** Times the vCPU had to wait for the host (for tests and stats). */
  waits = 0;

  constructor(private readonly clock: VirtualClock, readonly delayNs: number, name: string) {
    this.timer = clock.addTimer(`${name} completions`, (now) => this.fire(now));
  }

  /** Host work starts now; call finish() on the result when the host is done. */
  start(): Scheduled {
    const s: Scheduled = { due: this.clock.now() + this.delayNs, deliver: null, dropped: false };
    this.queue.push(s);
    if (this.queue.length === 1) this.timer.deadline = s.due;
    return s;
  }

  /** The host finished `s`; `deliver` runs at its deadline (or at once if that has passed and the vCPU waits for it). */
  finish(s: Scheduled, deliver: () => void): void {
    if (s.dropped) return;
    s.deliver = deliver;
    if (this.waiter !== null && this.dueReady(this.timer.deadline)) {
      const w = this.waiter;
      this.waiter = null;
      w();
    }
  }

  /** Forget all work not yet delivered (device reset or state load): none of it will be delivered. */
  clear(): void {
    for (const s of this.queue) s.dropped = true;
    this.queue.length = 0;
    this.timer.deadline = Infinity;
    this.blocked = false;
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /**
   * Null while the vCPU may run; while work is due that the host has not finished, a
   * promise that resolves when it has. The run loop then fires due timers (this one
   * delivers) before the next instruction.
   */
  barrier(): Promise<void> | null {
    if (!this.blocked) return null;
    if (this.dueReady(this.timer.deadline)) return Promise.resolve();
    return new Promise((resolve) => { this.waiter = resolve; });
  }

  /** Is every piece of work due by `now` finished? */
  private dueReady(now: number): boolean {
    for (const s of this.queue) {
      if (s.due > now) break;
      if (s.deliver === null) return false;
    }
    return true;
  }

  private fire(now: number): void {
    if (!this.dueReady(now)) {
      // Deliver nothing yet: the run loop waits at this instruction, then fires again.
      if (!this.blocked) this.waits++;
      this.blocked = true;
      this.timer.deadline = now;
      return;
    }
    this.blocked = false;
    while (this.queue.length > 0 && this.queue[0]!.due <= now) this.queue.shift()!.deliver!();
    this.timer.deadline = this.queue.length > 0 ? this.queue[0]!.due : Infinity;
  }
}
