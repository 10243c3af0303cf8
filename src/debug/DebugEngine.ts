// What runs the guest while gdb has breakpoints or watchpoints set, or steps: every
// instruction through the interpreter, in every mode (Cpu.debug takes precedence over the
// translator), with a check before it (breakpoints, by linear address of CS:EIP, as QEMU
// and hardware debug registers match) and after it (write watchpoints: the watched bytes
// changed). Without any, the stub takes it away and translated code runs at full speed.

import type { Cpu, ExecutionEngine } from '../cpu/Cpu.js';
import { CS, FLAG_IF, FLAG_TF } from '../cpu/constants.js';
import { debugByte } from './debugMemory.js';

export type StopKind = 'step' | 'breakpoint' | 'watchpoint';

export interface Watchpoint {
  lin: number;
  len: number;
  /** The bytes as they were before the instruction now running (-1: unmapped). */
  before: Int32Array;
}

export class DebugEngine implements ExecutionEngine {
  readonly breakpoints = new Set<number>();
  readonly watchpoints: Watchpoint[] = [];
  /** Stop after one instruction (or after the exception an instruction raised). */
  stepping = false;
  /** The watchpoint that stopped the guest. */
  hitWatch: Watchpoint | null = null;
  /** Instruction count at which a continue started: a breakpoint there was the one stopped at. */
  private resumedAt = -1;
  /** A step is under way (its instruction may have faulted out of execute). */
  private stepStarted = false;
  /**
   * Reverse-continue's scan (Rewinder): breakpoint and watchpoint hits are reported here,
   * with the instruction count where gdb would have stopped, and the guest runs on.
   */
  scan: ((count: number, kind: StopKind, w: Watchpoint | null) => void) | null = null;

  constructor(private readonly onStop: (kind: StopKind) => void) {}

  /** Before the guest runs on: the instruction at the current EIP runs even if it has a breakpoint (unless `!pastHere`). */
  resume(c: Cpu, step: boolean, pastHere = true): void {
    this.stepping = step;
    this.stepStarted = false;
    this.hitWatch = null;
    this.resumedAt = pastHere ? c.instructions : -1;
  }

  get idle(): boolean {
    return this.breakpoints.size === 0 && this.watchpoints.length === 0 && !this.stepping;
  }

  execute(c: Cpu): void {
    while (c.instructions < c.budgetEnd) {
      if (this.stepping && this.stepStarted) { this.stop(c, 'step'); return; } // the step faulted: stop in the handler
      // While stepping, interrupts wait (as QEMU steps with them masked by default).
      if (!this.stepping && c.irqPending && (c.flags & FLAG_IF) !== 0 && c.instructions !== c.inhibitAt) {
        c.takeInterrupt();
        if (c.halted) return;
      }
      if (this.breakpoints.size > 0 && c.instructions !== this.resumedAt && this.breakpoints.has((c.segBase[CS]! + c.eip) >>> 0)) {
        if (this.scan === null) { this.stop(c, 'breakpoint'); return; }
        this.scan(c.instructions, 'breakpoint', null);
        this.resumedAt = c.instructions;
      }
      for (const w of this.watchpoints) readWatched(c, w, w.before);
      const tf = c.flags & FLAG_TF;
      this.stepStarted = this.stepping;
      c.step();
      c.instructions++;
      if (tf !== 0) c.singleStepTrap();
      for (const w of this.watchpoints) {
        if (!changed(c, w)) continue;
        if (this.scan !== null) { this.scan(c.instructions, 'watchpoint', w); continue; }
        this.hitWatch = w;
        this.stop(c, 'watchpoint');
        return;
      }
      if (this.stepping) { this.stop(c, 'step'); return; }
      if (c.halted) return;
    }
  }

  flush(): void {}

  private stop(c: Cpu, kind: StopKind): void {
    this.stepping = false;
    this.stepStarted = false;
    c.requestStop();
    this.onStop(kind);
  }
}

const scratch = new Int32Array(8);

function readWatched(c: Cpu, w: Watchpoint, into: Int32Array): void {
  for (let i = 0; i < w.len; i++) {
    into[i] = debugByte(c, w.lin + i);
  }
}

function changed(c: Cpu, w: Watchpoint): boolean {
  readWatched(c, w, scratch);
  for (let i = 0; i < w.len; i++) if (scratch[i] !== w.before[i]) return true;
  return false;
}

