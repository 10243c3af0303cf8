// What runs the guest while gdb has breakpoints or watchpoints set, or steps: every
// instruction through the interpreter, in every mode (Cpu.debug takes precedence over the
// translator), with a check before it (breakpoints, by linear address of CS:EIP, as QEMU
// and hardware debug registers match) and after it (write watchpoints: the watched bytes
// changed; read and access watchpoints: the instruction read, or read or wrote, a watched
// byte, seen through Cpu.accessWatch with the watched pages' TLB entries kept on the slow
// path). Without any, the stub takes it away and translated code runs at full speed.

import type { Cpu, ExecutionEngine } from '../cpu/Cpu.js';
import { CS, FLAG_IF, FLAG_TF } from '../cpu/constants.js';
import { TLB_MMIO, TLB_VALID } from '../cpu/mmu.js';
import { debugByte } from './debugMemory.js';

export type StopKind = 'step' | 'breakpoint' | 'watchpoint';

/** gdb's watchpoint kinds: Z2 (the bytes changed), Z3 (read), Z4 (read or written). */
export type WatchKind = 'write' | 'read' | 'access';

export interface Watchpoint {
  kind: WatchKind;
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

  /** A read or access watchpoint the running instruction touched. */
  private accessed: Watchpoint | null = null;

  constructor(private readonly onStop: (kind: StopKind) => void) {}

  /** Read and access watchpoints set: the CPU then reports slow-path accesses (Cpu.accessWatch). */
  private get accessWatched(): boolean {
    for (const w of this.watchpoints) if (w.kind !== 'write') return true;
    return false;
  }

  /**
   * Cpu.accessWatch: a data access through the slow path. The watched pages' TLB entries
   * are kept marked (TLB_MMIO: every access takes the slow path) so none is missed.
   */
  private readonly onAccess = (lin: number, size: number, write: boolean): void => {
    for (const w of this.watchpoints) {
      if (w.kind === 'write') continue;
      if (this.accessed === null && (w.kind === 'access' || !write) && overlaps(lin, size, w)) this.accessed = w;
    }
    this.markWatchedPages(this.cpu!); // the access refilled its entry
  };
  private cpu: Cpu | null = null;

  private markWatchedPages(c: Cpu): void {
    const tlb = c.tlb;
    for (const w of this.watchpoints) {
      if (w.kind === 'write') continue;
      const last = ((w.lin + w.len - 1) >>> 12) & 0xfffff;
      for (let p = (w.lin >>> 12) & 0xfffff; ; p = (p + 1) & 0xfffff) {
        const e = tlb[p]!;
        if ((e & TLB_VALID) !== 0) tlb[p] = e | TLB_MMIO;
        if (p === last) break;
      }
    }
  }

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
      for (const w of this.watchpoints) if (w.kind === 'write') readWatched(c, w, w.before);
      const watching = this.accessWatched;
      if (watching) {
        this.accessed = null;
        this.cpu = c;
        this.markWatchedPages(c);
        c.accessWatch = this.onAccess;
      }
      const tf = c.flags & FLAG_TF;
      this.stepStarted = this.stepping;
      try {
        c.step();
      } finally {
        if (watching) c.accessWatch = null;
      }
      c.instructions++;
      if (tf !== 0) c.singleStepTrap();
      if (this.accessed !== null) {
        const w = this.accessed;
        this.accessed = null;
        if (this.scan !== null) this.scan(c.instructions, 'watchpoint', w);
        else { this.hitWatch = w; this.stop(c, 'watchpoint'); return; }
      }
      for (const w of this.watchpoints) {
        if (w.kind !== 'write' || !changed(c, w)) continue;
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

function overlaps(lin: number, size: number, w: Watchpoint): boolean {
  const a = lin >>> 0, b = w.lin >>> 0;
  return a < b + w.len && b < a + size;
}

function changed(c: Cpu, w: Watchpoint): boolean {
  readWatched(c, w, scratch);
  for (let i = 0; i < w.len; i++) if (scratch[i] !== w.before[i]) return true;
  return false;
}

