// Differential testing of the binary translator against the interpreter: the same guest
// on both engines, stepped the same number of instructions at a time, with their
// architectural state compared at every stop. The translator must retire exactly the
// instructions the interpreter does and leave exactly its state, after any cpu.run(n).
//
// A state digest is a list of named numbers (registers, EIP, EFLAGS as getEflags sees
// them, segments, control and table registers, counters), so a divergence is reported by
// field; guest memory is compared by hash, where a caller asks (it costs a pass over RAM).

import { AssertionError } from 'node:assert';
import type { Cpu } from '../../src/cpu/Cpu.js';
import { STOP_HALT, STOP_SHUTDOWN } from '../../src/cpu/constants.js';
import { Translator } from '../../src/cpu/jit/Translator.js';
import type { PhysicalMemory } from '../../src/memory/PhysicalMemory.js';
import { ramHash } from '../../src/replay/stateHash.js';
import { CpuFuzzer, FuzzFailure, prng, type FlatMachine, type FuzzMode } from './harness.js';

const REG_NAMES = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
const SEG_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'];
const STOP_NAMES = ['budget', 'halt', 'shutdown', 'request'];

/** FNV-1a over 32-bit words. */
function mixInto(h: number, v: number): number {
  return Math.imul(h ^ (v | 0), 0x01000193);
}

function hashNumbers(values: ArrayLike<number>): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < values.length; i++) h = mixInto(h, values[i]!);
  return h >>> 0;
}

/** A hash of the numbers in a unit's saved state (numbers, booleans, arrays of numbers, nested objects). */
function hashState(state: unknown): number {
  let h = 0x811c9dc5;
  const visit = (v: unknown): void => {
    if (typeof v === 'number') h = mixInto(h, v);
    else if (typeof v === 'boolean') h = mixInto(h, v ? 1 : 0);
    else if (Array.isArray(v) || ArrayBuffer.isView(v)) for (const x of v as ArrayLike<unknown> & Iterable<unknown>) visit(x);
    else if (typeof v === 'object' && v !== null) for (const x of Object.values(v)) visit(x);
  };
  visit(state);
  return h >>> 0;
}

/** A hash of guest RAM (all of it, or [from, to) bytes, 4-aligned): a replay checkpoint's. */
export function memoryHash(mem: PhysicalMemory, from = 0, to = mem.ramSize): number {
  return ramHash(mem, from, to);
}

export type Digest = [name: string, value: number][];

/** The architectural state of a CPU (and its exception and interrupt counts), by field. */
export function cpuDigest(c: Cpu): Digest {
  const d: Digest = [];
  REG_NAMES.forEach((n, i) => d.push([n, c.regs[i]! >>> 0]));
  d.push(['eip', c.eip >>> 0], ['eflags', c.getEflags() >>> 0], ['cpl', c.cpl]);
  SEG_NAMES.forEach((n, i) => {
    d.push([n, c.segSel[i]!], [`${n}.base`, c.segBase[i]! >>> 0], [`${n}.limit`, c.segLimit[i]! >>> 0], [`${n}.attr`, c.segAttr[i]!]);
  });
  d.push(['cr0', c.cr0 >>> 0], ['cr2', c.cr2 >>> 0], ['cr3', c.cr3 >>> 0], ['cr4', c.cr4 >>> 0]);
  d.push(['efer', c.efer >>> 0], ['pdpte', hashNumbers(c.pdpte)]);
  d.push(['gdt.base', c.gdtBase >>> 0], ['gdt.limit', c.gdtLimit], ['idt.base', c.idtBase >>> 0], ['idt.limit', c.idtLimit]);
  d.push(['tr', c.trSel], ['halted', c.halted ? 1 : 0], ['instructions', c.instructions]);
  d.push(['exceptions', hashNumbers(c.excCounts)], ['interrupts', hashNumbers(c.intCounts)]);
  if (c.fpu !== null) d.push(['x87', hashState(c.fpu.saveState())]);
  return d;
}

/** The fields where two digests differ, as "name: a ≠ b" lines ('' when equal). */
export function digestDiff(a: Digest, b: Digest, names = ['interpreter', 'translator']): string {
  const lines: string[] = [];
  const bm = new Map(b);
  for (const [n, v] of a) {
    const w = bm.get(n);
    if (w !== v) lines.push(`  ${n}: ${names[0]} ${hex(v)}, ${names[1]} ${w === undefined ? 'missing' : hex(w)}`);
  }
  return lines.join('\n');
}

function hex(v: number): string {
  return Number.isInteger(v) && v >= -0x80000000 && v <= 0xffffffff ? '0x' + (v >>> 0).toString(16) : String(v);
}

/** A short account of a CPU's state for failure messages. */
export function describeCpu(c: Cpu): string {
  const exc: string[] = [];
  c.excCounts.forEach((n, v) => { if (n > 0) exc.push(`#${v}x${n}`); });
  return cpuDigest(c).filter(([n]) => REG_NAMES.includes(n) || ['eip', 'eflags', 'cs', 'cpl', 'instructions'].includes(n))
    .map(([n, v]) => `${n}=${n === 'instructions' ? v : hex(v)}`).join(' ') + ` exceptions=[${exc.join(' ')}]`;
}

export interface LockstepSide {
  cpu: Cpu;
  mem: PhysicalMemory;
  /** Guest-visible output so far (compared at every stop). */
  output?: () => string;
}

/** A flat program's machine (harness.loadFlat) as a lockstep side: its port 0xE9 text is its output. */
export function flatSide(f: FlatMachine): LockstepSide {
  return { cpu: f.cpu, mem: f.mem, output: () => f.output };
}

export interface LockstepOptions {
  /** Most instructions to run. */
  budget: number;
  /**
   * Instructions per step. Varied steps (seeded) put the budget's end at many places
   * inside translated blocks; the translator must stop exactly there.
   */
  step: { min: number; max: number; seed: number };
  /** Compare guest memory every `memoryEvery` steps (0: only at the end). */
  memoryEvery?: number;
  /** Ends the run (checked after each step, both sides equal). */
  until?: () => boolean;
  /** What runs, for messages. */
  label: string;
}

export interface LockstepResult {
  steps: number;
  instructions: number;
  /** How the last step of each side stopped (STOP_*). */
  stop: number;
}

/**
 * Run `a` (the interpreter) and `b` (the translator) in steps of the same length, comparing
 * how each step stopped, the state digests and the output after every step, guest memory
 * as asked and at the end. Ends at the budget, when `until` says so, at a shutdown, or when
 * a halted CPU can make no more progress. Throws an AssertionError at the first divergence.
 */
export function lockstep(a: LockstepSide, b: LockstepSide, opts: LockstepOptions): LockstepResult {
  const rnd = prng(opts.step.seed);
  const span = opts.step.max - opts.step.min + 1;
  let steps = 0, stop = -1;
  const fail = (what: string): never => {
    throw new AssertionError({ message: `${opts.label}: the translator diverged from the interpreter after step ${steps} ` +
      `(${a.cpu.instructions} instructions): ${what}\n  interpreter: ${describeCpu(a.cpu)}\n  translator:  ${describeCpu(b.cpu)}` });
  };
  const compareMemory = (): void => {
    const ha = memoryHash(a.mem), hb = memoryHash(b.mem);
    if (ha !== hb) fail(`guest memory differs (${firstMemoryDifference(a.mem, b.mem)})`);
  };
  while (a.cpu.instructions < opts.budget) {
    const n = Math.min(opts.step.min + (rnd() % span), opts.budget - a.cpu.instructions);
    const before = a.cpu.instructions;
    const sa = a.cpu.run(n), sb = b.cpu.run(n);
    steps++;
    stop = sa;
    if (sa !== sb) fail(`the step stopped differently (${STOP_NAMES[sa]} / ${STOP_NAMES[sb]})`);
    const diff = digestDiff(cpuDigest(a.cpu), cpuDigest(b.cpu));
    if (diff !== '') fail(`state differs:\n${diff}`);
    const oa = a.output?.() ?? '', ob = b.output?.() ?? '';
    if (oa !== ob) fail(`output differs:\n  interpreter: ${JSON.stringify(oa.slice(-200))}\n  translator:  ${JSON.stringify(ob.slice(-200))}`);
    if (opts.memoryEvery !== undefined && opts.memoryEvery > 0 && steps % opts.memoryEvery === 0) compareMemory();
    if (opts.until?.() === true || sa === STOP_SHUTDOWN) break;
    if (sa === STOP_HALT && a.cpu.halted && a.cpu.instructions === before) break; // nothing can wake it
  }
  compareMemory();
  return { steps, instructions: a.cpu.instructions, stop };
}

/** Where two memories first differ (for messages). */
export function firstMemoryDifference(a: PhysicalMemory, b: PhysicalMemory): string {
  const x = a.u8, y = b.u8;
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return `first at physical ${hex(i)}: ${hex(x[i]!)} / ${hex(y[i]!)}`;
  }
  return x.length === y.length ? 'same bytes' : 'sizes differ';
}

// ==========================================================================
// The fuzzer's random byte streams (harness.ts) on both engines.

export interface FuzzLockstepReport {
  streams: number;
  instructions: number;
  /** Of those, retired in translated code. */
  translated: number;
  regionsCompiled: number;
  ms: number;
}

/** The budget of stream `index`: varied, so it runs out at many places inside translated blocks. */
export function fuzzLockstepBudget(index: number): number {
  return 500 + ((index * 97) % 1500);
}

/**
 * Run streams of the protected modes on the interpreter and on the translator (translating
 * after `threshold` instructions in a page, so the streams' code and the fault handlers get
 * translated) and compare every outcome: how the run stopped, the instruction count, the
 * state digest (the exception counts among it) and the fingerprint (RAM included). Throws a
 * FuzzFailure at the first difference.
 */
export function fuzzLockstep(opts: {
  seed: number; streams: number; modes?: readonly FuzzMode[]; threshold?: number; first?: number; setup?: (cpu: Cpu) => void;
  /** SSE streams (CpuFuzzer.sseStream). */
  sse?: boolean;
}): FuzzLockstepReport {
  const modes = opts.modes ?? (['ring0', 'ring3'] as const);
  const interp = new CpuFuzzer(opts.setup);
  let translator: Translator | null = null;
  const jit = new CpuFuzzer((c) => {
    opts.setup?.(c);
    translator = new Translator(c.mem, { threshold: opts.threshold ?? 4 });
    translator.attach(c);
  });
  const t0 = performance.now();
  let streams = 0, instructions = 0;
  const first = opts.first ?? 0;
  for (const mode of modes) {
    for (let i = first; i < first + opts.streams; i++) {
      const s = opts.sse === true ? CpuFuzzer.sseStream(opts.seed, mode, i) : CpuFuzzer.stream(opts.seed, mode, i);
      const budget = fuzzLockstepBudget(i);
      const a = interp.run(s, budget), b = jit.run(s, budget);
      const fail = (what: string): never => { throw new FuzzFailure(s, jit.cpu, `the translator diverged from the interpreter (budget ${budget}): ${what}`, ' --jit'); };
      if (a.stop !== b.stop || a.instructions !== b.instructions) {
        fail(`stop ${STOP_NAMES[a.stop]}/${STOP_NAMES[b.stop]} after ${a.instructions}/${b.instructions} instructions`);
      }
      const diff = digestDiff(cpuDigest(interp.cpu), cpuDigest(jit.cpu));
      if (diff !== '') fail(`state differs:\n${diff}`);
      if (interp.fingerprint() !== jit.fingerprint()) fail(`memory differs (${firstMemoryDifference(interp.mem, jit.mem)})`);
      streams++;
      instructions += a.instructions;
    }
  }
  const st = (translator as Translator | null)!.stats;
  return { streams, instructions, translated: st.translatedInsns, regionsCompiled: st.regionsCompiled, ms: performance.now() - t0 };
}
