// Drive a guest's serial console from a test: wait for text, send lines. Used with the
// Machine API (in process) and with the typevisor command (a child process).
//
// A wait is bounded by the guest's own virtual time when the session has the machine's
// clock (an in-process Machine, attachSerial): it fails after the guest ran that long
// without printing the text, however busy the host is. A child process's session has no
// clock, so its bound is wall time and only guards against a hang: keep it generous.

import type { ExitReason, Machine } from '../../src/machine/Machine.js';
import type { Timer, VirtualClock } from '../../src/machine/VirtualClock.js';

interface Waiter {
  re: RegExp;
  from: number;
  /** Virtual ns after which the wait fails (sessions with a clock). */
  deadline: number;
  resolve: (m: RegExpMatchArray) => void;
  reject: (e: Error) => void;
}

export class SerialSession {
  private text = '';
  private waiters: Waiter[] = [];
  /** Offset from which the next waitFor searches (so answers are matched after their command). */
  private mark = 0;
  private ended: string | null = null;
  private readonly timer: Timer | null;

  /** @param clock the machine's clock, when the guest runs in this process: waits are then bounded by virtual time. */
  constructor(private readonly clock?: VirtualClock) {
    this.timer = clock ? clock.addTimer('test serial wait', (now) => this.expire(now)) : null;
  }

  /** Feed console output in. */
  push(bytes: Uint8Array | string): void {
    this.text += typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('latin1');
    for (const w of [...this.waiters]) {
      const m = this.text.slice(w.from).match(w.re);
      if (m) {
        this.drop(w);
        this.mark = w.from + (m.index ?? 0) + m[0].length;
        w.resolve(m);
      }
    }
  }

  get output(): string { return this.text; }

  /**
   * Resolve when `re` appears after the last match. Reject with the tail of the output
   * when the guest has run `ms` more milliseconds of virtual time without it (with a
   * clock), after `ms` of wall time (without one), or when the session ends.
   */
  waitFor(re: RegExp, ms: number): Promise<RegExpMatchArray> {
    const from = this.mark;
    const m = this.text.slice(from).match(re);
    if (m) {
      this.mark = from + (m.index ?? 0) + m[0].length;
      return Promise.resolve(m);
    }
    if (this.ended !== null) return Promise.reject(this.failure(re, this.ended));
    return new Promise((resolve, reject) => {
      const w: Waiter = { re, from, deadline: Infinity, resolve, reject };
      if (this.clock && this.timer) {
        w.deadline = this.clock.now() + ms * 1e6;
        this.timer.deadline = Math.min(this.timer.deadline, w.deadline);
      } else {
        const t = setTimeout(() => { this.drop(w); reject(this.failure(re, `${ms} ms of wall time passed`)); }, ms);
        w.resolve = (x) => { clearTimeout(t); resolve(x); };
        w.reject = (e) => { clearTimeout(t); reject(e); };
      }
      this.waiters.push(w);
    });
  }

  /** The guest is gone (machine stopped, process exited): every wait still open fails now, and later ones at once. */
  end(reason: string): void {
    this.ended = reason;
    for (const w of this.waiters.splice(0)) w.reject(this.failure(w.re, reason));
    if (this.timer) this.timer.deadline = Infinity;
  }

  private drop(w: Waiter): void {
    this.waiters.splice(this.waiters.indexOf(w), 1);
  }

  /** The virtual-time bound: fail the waits whose deadline passed, re-arm for the next. */
  private expire(now: number): void {
    let next = Infinity;
    for (const w of [...this.waiters]) {
      if (w.deadline <= now) {
        this.drop(w);
        w.reject(this.failure(w.re, `the guest ran ${((now - w.deadline) / 1e9).toFixed(3)} s of virtual time past the bound`));
      } else if (w.deadline < next) next = w.deadline;
    }
    this.timer!.deadline = next;
  }

  private failure(re: RegExp, why: string): Error {
    return new Error(`no ${re} (${why}); output tail:\n${this.text.slice(-1500)}`);
  }
}

/** The default guest's shell prompt. */
export const PROMPT = /typevisor:\/# /;

/**
 * An in-process Machine's serial console as a SerialSession bounded by the machine's
 * virtual time, open for input; a way to type into it; and run(), which runs the machine
 * and ends the session's waits when it stops.
 */
export function attachSerial(m: Machine): { serial: SerialSession; send: (text: string) => void; run: () => Promise<ExitReason> } {
  const serial = new SerialSession(m.clock);
  m.onSerialOutput = (b) => serial.push(b);
  m.externalInputOpen = true;
  return {
    serial,
    send: (text) => m.serialInput(Buffer.from(text)),
    run: () => m.run().then((r) => { serial.end(`the machine stopped: ${JSON.stringify(r)}`); return r; }),
  };
}

/** Resolve once the machine's virtual clock has advanced by `ms` (a clock timer: no wall-clock guess at how far the guest got). */
export function afterVirtualTime(clock: VirtualClock, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = clock.addTimer('test delay', () => resolve());
    t.deadline = clock.now() + ms * 1e6;
  });
}
