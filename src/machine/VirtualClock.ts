// The machine's own clock. PIT, RTC, TSC and every device timer read it; the run loop
// moves it forward with executed instructions (and host time when pacing in real
// time) and jumps it to the next deadline when the guest halts with nothing to do.

export class Timer {
  /** Absolute deadline in ns of virtual time, or Infinity when disarmed. */
  deadline = Infinity;
  constructor(readonly name: string, readonly callback: (now: number) => void) {}
}

export class VirtualClock {
  /** Virtual nanoseconds since power-on, as last set by the run loop. */
  private baseNs = 0;
  /** While the CPU runs a slice, time also advances with its instruction count. */
  private sliceStartInsns = 0;
  private insnCounter: () => number = () => 0;
  /** Virtual ns per guest instruction (1 => a guest running at 1000 MIPS). */
  nsPerInstruction = 1;
  private readonly timers: Timer[] = [];

  /** The run loop tells the clock how to read the CPU's instruction count. */
  attachInstructionCounter(counter: () => number): void {
    this.insnCounter = counter;
    this.sliceStartInsns = counter();
  }

  /** Current virtual time in ns. Cheap; safe to call from device handlers mid-slice. */
  now(): number {
    return this.baseNs + (this.insnCounter() - this.sliceStartInsns) * this.nsPerInstruction;
  }

  /** Fold executed instructions into the base time (call between slices). */
  sync(): void {
    const insns = this.insnCounter();
    this.baseNs += (insns - this.sliceStartInsns) * this.nsPerInstruction;
    this.sliceStartInsns = insns;
  }

  /** Move time forward to `ns` (never backwards): idle skips and real-time pacing. */
  advanceTo(ns: number): void {
    this.sync();
    if (ns > this.baseNs) this.baseNs = ns;
  }

  addTimer(name: string, callback: (now: number) => void): Timer {
    const t = new Timer(name, callback);
    this.timers.push(t);
    return t;
  }

  /** Earliest armed deadline, or Infinity. */
  nextDeadline(): number {
    let d = Infinity;
    for (const t of this.timers) if (t.deadline < d) d = t.deadline;
    return d;
  }

  /** Fire every timer whose deadline has passed. A callback may re-arm its timer. */
  runDue(): void {
    const now = this.now();
    for (const t of this.timers) {
      if (t.deadline <= now) {
        t.deadline = Infinity;
        t.callback(now);
      }
    }
  }

  saveState(): { ns: number } {
    this.sync();
    return { ns: this.baseNs };
  }

  loadState(s: { ns: number }): void {
    this.sliceStartInsns = this.insnCounter();
    this.baseNs = s.ns;
  }
}
