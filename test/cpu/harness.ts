// A bare CPU on RAM and an I/O bus, for instruction-level tests: load a flat binary,
// start it in real mode at CS:IP, run until it halts, writes the exit port, or faults.
// Port 0xE9 collects text (like QEMU's debugcon); port 0xF4 ends the run with a code.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cpu } from '../../src/cpu/Cpu.js';
import {
  CR0_ET, CR0_NE, CR0_PE, CR0_PG, CR0_WP, CR4_OSFXSR, CR4_OSXMMEXCPT, CR4_PSE, CS, DS, ES, ESP, FLAG_DF, FLAG_IF, FLAG_VM, FLAGS_ARITH, FLAGS_FIXED1,
  FLAGS_VALID, FS, GS, SS, STOP_HALT, STOP_SHUTDOWN,
} from '../../src/cpu/constants.js';
import { TLB_MMIO } from '../../src/cpu/mmu.js';
import { Translator, type TranslatorOptions } from '../../src/cpu/jit/Translator.js';
import { Descriptor, loadCs, loadSeg, readDescriptor } from '../../src/cpu/segments.js';
import { IoBus } from '../../src/machine/IoBus.js';
import { PhysicalMemory } from '../../src/memory/PhysicalMemory.js';

export interface RunResult {
  /** Value written to port 0xF4, or -1 if the program never wrote it. */
  exitCode: number;
  /** Text written to port 0xE9. */
  output: string;
  /** 'exit' | 'halt' | 'shutdown' | 'budget' */
  stop: string;
  cpu: Cpu;
  /** The binary translator the program ran on (RunOptions.jit), or null. */
  translator: Translator | null;
}

export function makeCpu(ramBytes = 2 << 20): { cpu: Cpu; mem: PhysicalMemory; io: IoBus } {
  const mem = new PhysicalMemory(ramBytes);
  const io = new IoBus();
  const cpu = new Cpu(mem, io);
  return { cpu, mem, io };
}

export interface RunOptions {
  loadAt?: number;
  budget?: number;
  ram?: number;
  /** Called with the fresh CPU before the program is loaded (attach an FPU, hooks...). */
  setup?: (cpu: Cpu) => void;
  /** Run on the binary translator with these options (a low threshold gets loops translated), not the interpreter alone. */
  jit?: TranslatorOptions;
}

/** A flat program loaded and ready to run (loadFlat): run it with cpu.run, read what it reported. */
export interface FlatMachine {
  cpu: Cpu;
  mem: PhysicalMemory;
  io: IoBus;
  translator: Translator | null;
  /** Value written to port 0xF4 so far, or -1. */
  readonly exitCode: number;
  /** Text written to port 0xE9 so far. */
  readonly output: string;
}

/** Load `code` at physical `loadAt`, to be entered in real mode at segment loadAt>>4, offset 0. */
export function loadFlat(code: Uint8Array, opts: RunOptions = {}): FlatMachine {
  const loadAt = opts.loadAt ?? 0x10000;
  const { cpu, mem, io } = makeCpu(opts.ram);
  let translator: Translator | null = null;
  if (opts.jit !== undefined) {
    translator = new Translator(mem, opts.jit);
    translator.attach(cpu);
  }
  opts.setup?.(cpu);
  mem.load(loadAt, code);
  let exitCode = -1;
  let output = '';
  io.register(0xe9, 1, 'debugcon', { read: () => 0xe9, write: (_p, _s, v) => { output += String.fromCharCode(v & 0xff); } });
  io.register(0xf4, 1, 'exit', { read: () => 0xff, write: (_p, _s, v) => { exitCode = v & 0xff; cpu.requestStop(); } });
  cpu.loadRealSeg(CS, loadAt >>> 4);
  cpu.eip = 0;
  return { cpu, mem, io, translator, get exitCode() { return exitCode; }, get output() { return output; } };
}

/** Run `code` loaded at physical `loadAt`, entered in real mode at segment loadAt>>4, offset 0. */
export function runFlat(code: Uint8Array, opts: RunOptions = {}): RunResult {
  const f = loadFlat(code, opts);
  return flatResult(f, f.cpu.run(opts.budget ?? 50_000_000));
}

/** The result of a flat program's run that ended with `stop` (STOP_*). */
export function flatResult(f: FlatMachine, stop: number): RunResult {
  const name = f.exitCode >= 0 ? 'exit' : stop === STOP_HALT ? 'halt' : stop === STOP_SHUTDOWN ? 'shutdown' : 'budget';
  return { exitCode: f.exitCode, output: f.output, stop: name, cpu: f.cpu, translator: f.translator };
}

/** The repository root (works from test/ under tsx and from dist/test/ after tsc). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
  return dir;
}

/** Path of a committed test program, test/cpu/asm/<name>.bin. */
export function programPath(name: string): string {
  return join(repoRoot(), 'test', 'cpu', 'asm', `${name}.bin`);
}

/** Load and run test/cpu/asm/<name>.bin the way runFlat runs any flat binary. */
export function runProgram(name: string, opts: RunOptions = {}): RunResult {
  return runFlat(new Uint8Array(readFileSync(programPath(name))), opts);
}

/** A one-paragraph account of a run, for assertion messages. */
export function describeRun(r: RunResult): string {
  const c = r.cpu;
  const hex = (v: number): string => (v >>> 0).toString(16);
  const exc: string[] = [];
  c.excCounts.forEach((n, v) => { if (n > 0) exc.push(`#${v}x${n}`); });
  const ud = [...c.udCounts].map(([op, n]) => `${op >= 0x100 ? '0f ' + hex(op & 0xff) : hex(op)}x${n}`);
  return `stop=${r.stop} exit=${r.exitCode} eip=${hex(c.eip)} cs=${hex(c.segSel[1]!)} cpl=${c.cpl} ` +
    `instructions=${c.instructions} exceptions=[${exc.join(' ')}] undefined opcodes=[${ud.join(' ')}]` +
    (c.shutdownReason ? ` shutdown="${c.shutdownReason}"` : '') + `\noutput:\n${r.output}`;
}

// ==========================================================================
// Fuzzing: random byte streams executed as code in real mode, at ring 0 in 32-bit
// protected mode with paging, and at ring 3. Every outcome must be guest-visible (the
// run returns: budget, HLT, triple-fault shutdown); anything cpu.run throws, and any
// host-side state that is out of range afterwards, is a failure. Each stream is
// derived from (seed, mode, index) alone, so one failing stream can be replayed.

export type FuzzMode = 'real' | 'ring0' | 'ring3';
export const FUZZ_MODES: readonly FuzzMode[] = ['real', 'ring0', 'ring3'];

/** mulberry32: a small seeded PRNG (uint32 per call). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** The seed of one stream: a hash of the run seed, the mode and the stream index. */
export function streamSeed(seed: number, mode: FuzzMode, index: number): number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (FUZZ_MODES.indexOf(mode) + 1) ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  h = Math.imul(h ^ index ^ (h >>> 16), 0x27d4eb2f) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}

/** Fuzz memory layout (physical = linear in the protected modes). */
const FZ = {
  gdt: 0x1000, tss: 0x2000, idt: 0x3000, handlers: 0x4000, pd: 0x5000, pt: 0x6000,
  kstackTop: 0x9000, code: 0x10000, ustackTop: 0x21000, ram: 1 << 20,
} as const;

export interface FuzzStream {
  mode: FuzzMode;
  index: number;
  seed: number;
  /** The random bytes placed at the code address. */
  bytes: Uint8Array;
  /** An SSE stream (sseStream): CR4.OSFXSR/OSXMMEXCPT set, random XMM registers and MXCSR. */
  sse?: boolean;
}

/** The SSE/SSE2 opcodes (0F xx) an SSE stream is made of. */
const SSE_OPS = [
  0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
  0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
  0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
  0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x7e, 0x7f, 0xae, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6,
  0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf,
  0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef,
  0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe,
];
/** Lane values an SSE stream's XMM registers start with: specials of both widths among random bits. */
const SSE_LANES = [0, 0x80000000, 0x3f800000, 0x00000001, 0x007fffff, 0x7f7fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffc00000, 0x7ff00000, 0x7ff80000, 0x4f000000];

export interface FuzzOutcome {
  stop: number;
  instructions: number;
}

/** A fuzzing machine: one CPU and RAM reused across streams (re-initialized for each). */
export class CpuFuzzer {
  readonly cpu: Cpu;
  readonly mem: PhysicalMemory;
  readonly io: IoBus;
  /** Port writes the streams made (debugcon etc. are not wired here). */
  portWrites = 0;

  constructor(setup?: (cpu: Cpu) => void) {
    const m = makeCpu(FZ.ram);
    this.cpu = m.cpu;
    this.mem = m.mem;
    this.io = m.io;
    setup?.(this.cpu);
  }

  /** The bytes and initial register values of stream (seed, mode, index). */
  static stream(seed: number, mode: FuzzMode, index: number, codeBytes = 512): FuzzStream {
    const rnd = prng(streamSeed(seed, mode, index));
    const bytes = new Uint8Array(codeBytes);
    for (let i = 0; i < codeBytes; i++) bytes[i] = rnd() & 0xff;
    return { mode, index, seed, bytes };
  }

  /**
   * An SSE stream: instructions of the 0F map's SSE/SSE2 opcodes with a random mandatory
   * prefix (none, 66, F3, F2), mostly register operands, and random bytes after them
   * (immediates, displacements, and whatever the decoder makes of the rest).
   */
  static sseStream(seed: number, mode: FuzzMode, index: number, codeBytes = 512): FuzzStream {
    const rnd = prng(streamSeed(seed, mode, index) ^ 0x55e55e);
    const bytes = new Uint8Array(codeBytes);
    let i = 0;
    while (i < codeBytes - 8) {
      const p = rnd() & 7;
      if (p < 4) bytes[i++] = [0x66, 0xf3, 0xf2, 0x66][p]!;
      bytes[i++] = 0x0f;
      bytes[i++] = SSE_OPS[(rnd() >>> 0) % SSE_OPS.length]!;
      const m = rnd() & 0xff;
      bytes[i++] = (rnd() & 3) !== 0 ? m | 0xc0 : m;
      bytes[i++] = rnd() & 0xff; // imm8, SIB or displacement
    }
    for (; i < codeBytes; i++) bytes[i] = 0x90;
    return { mode, index, seed, bytes, sse: true };
  }

  /** Put the machine in the stream's starting state. */
  prepare(s: FuzzStream): void {
    const { cpu, mem } = this;
    const rnd = prng(streamSeed(s.seed, s.mode, s.index) ^ 0x5bd1e995);
    mem.u8.fill(0);
    cpu.reset();
    cpu.instructions = 0; // the TSC reads this: a stream must not see how many ran before it
    cpu.clearShutdown();
    cpu.halted = false;
    cpu.fpu?.hardReset();
    mem.load(FZ.code, s.bytes);
    // After the stream: HLT, so code that runs off its end stops (or #GPs at ring 3).
    mem.u8.fill(0xf4, FZ.code + s.bytes.length, FZ.code + 0x1000);
    for (let r = 0; r < 8; r++) cpu.regs[r] = rnd() | 0;
    if (s.mode === 'real') this.prepareReal(rnd);
    else this.prepareProtected(s.mode === 'ring3' ? 3 : 0, rnd);
    const x = cpu.fpu?.xmmU32;
    if (s.sse === true && x !== undefined) {
      cpu.cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
      for (let k = 0; k < x.length; k++) x[k] = (rnd() & 3) === 0 ? rnd() : SSE_LANES[(rnd() >>> 0) % SSE_LANES.length]!;
      // MXCSR: every mode and DAZ/FZ; exceptions mostly masked, sometimes one unmasked (#XM).
      (cpu.fpu as unknown as { mxcsr: number }).mxcsr = (rnd() & 0xe07f) | ((rnd() & 3) === 0 ? (0x1f80 & ~(0x80 << (rnd() & 7))) : 0x1f80);
    }
  }

  private prepareReal(rnd: () => number): void {
    const { cpu, mem } = this;
    // Every IVT vector → 0000:0500, which skips one byte of the interrupted code:
    // push bp / mov bp, sp / inc word [bp+2] / pop bp / iret.
    for (let v = 0; v < 256; v++) mem.write32(v * 4, 0x0500);
    mem.load(0x500, Uint8Array.from([0x55, 0x89, 0xe5, 0xff, 0x46, 0x02, 0x5d, 0xcf]));
    cpu.loadRealSeg(CS, FZ.code >>> 4);
    cpu.loadRealSeg(SS, 0x3000);
    cpu.loadRealSeg(DS, 0x2000);
    cpu.loadRealSeg(ES, 0x2000);
    cpu.loadRealSeg(FS, rnd() & 0xffff);
    cpu.loadRealSeg(GS, rnd() & 0xffff);
    cpu.regs[ESP] = 0xfffe;
    cpu.eip = 0;
    cpu.flags = FLAGS_FIXED1 | (rnd() & (FLAGS_ARITH | FLAG_DF));
    cpu.lazyMask = 0;
  }

  private prepareProtected(cpl: number, rnd: () => number): void {
    const { cpu, mem } = this;
    // GDT: null, code0, data0, code3, data3, TSS (busy); accessed bits preset because
    // the table's page is read-only.
    const gdt = [
      [0, 0], [0x0000ffff, 0x00cf9b00], [0x0000ffff, 0x00cf9300], [0x0000ffff, 0x00cffb00], [0x0000ffff, 0x00cff300],
      [(FZ.tss << 16) | 0x67, 0x00008b00 | ((FZ.tss >>> 16) & 0xff)],
    ];
    gdt.forEach(([lo, hi], i) => { mem.write32(FZ.gdt + i * 8, lo!); mem.write32(FZ.gdt + i * 8 + 4, hi!); });
    mem.write32(FZ.tss + 4, FZ.kstackTop);
    mem.write32(FZ.tss + 8, 0x10);
    mem.write16(FZ.tss + 0x66, 0x68);
    // Handlers: skip one byte of the interrupted code and return; #DF halts.
    //   err:  add esp, 4        skip: inc dword [esp] / iretd        df: hlt / jmp $-1
    const h = FZ.handlers;
    mem.load(h, Uint8Array.from([0x83, 0xc4, 0x04, 0xff, 0x04, 0x24, 0xcf, 0xf4, 0xeb, 0xfd]));
    const errStub = h, skipStub = h + 3, dfStub = h + 7;
    for (let v = 0; v < 256; v++) {
      const hasErr = v === 8 || (v >= 10 && v <= 14) || v === 17;
      const target = v === 8 ? dfStub : hasErr ? errStub : skipStub;
      const dpl = v < 32 && v !== 3 && v !== 4 ? 0 : 3;
      mem.write32(FZ.idt + v * 8, (0x08 << 16) | (target & 0xffff));
      mem.write32(FZ.idt + v * 8 + 4, (target & 0xffff0000) | 0x8e00 | (dpl << 13));
    }
    // Paging: 0..64 KiB supervisor read-only except the kernel stack page; the code page
    // and everything else up to the end of RAM user read/write; RAM end..4 MiB not present;
    // linear 4..8 MiB a supervisor read-only 4 MiB alias of 0.
    mem.write32(FZ.pd, FZ.pt | 7);
    mem.write32(FZ.pd + 4, 0x00000081);
    for (let p = 0; p < 1024; p++) {
      const phys = p << 12;
      let pte = 0;
      if (phys < 0x10000) pte = phys === FZ.kstackTop - 0x1000 ? phys | 3 : phys | 1;
      else if (phys < FZ.ram) pte = phys | 7;
      mem.write32(FZ.pt + p * 4, pte);
    }
    cpu.cr0 = CR0_PE | CR0_PG | CR0_WP | CR0_ET | CR0_NE;
    cpu.cr3 = FZ.pd;
    cpu.cr4 = CR4_PSE;
    cpu.gdtBase = FZ.gdt; cpu.gdtLimit = 6 * 8 - 1;
    cpu.idtBase = FZ.idt; cpu.idtLimit = 256 * 8 - 1;
    cpu.trSel = 0x28; cpu.trBase = FZ.tss; cpu.trLimit = 0x67; cpu.trAttr = 0x8b;
    cpu.flushTlb(true);
    cpu.cpl = cpl;
    const d = new Descriptor();
    const csSel = cpl === 3 ? 0x1b : 0x08, dsSel = cpl === 3 ? 0x23 : 0x10;
    readDescriptor(cpu, csSel, d);
    loadCs(cpu, csSel, d, cpl);
    for (const seg of [SS, DS, ES, FS, GS]) loadSeg(cpu, seg, dsSel);
    cpu.regs[ESP] = FZ.ustackTop - (rnd() & 0xff);
    cpu.eip = FZ.code;
    cpu.flags = FLAGS_FIXED1 | FLAG_IF | (rnd() & (FLAGS_ARITH | FLAG_DF));
    cpu.lazyMask = 0;
    cpu.updateMode();
  }

  /** Run one stream; throws FuzzFailure on a host exception or insane state. */
  run(s: FuzzStream, budget: number): FuzzOutcome {
    this.prepare(s);
    const before = this.cpu.instructions;
    let stop: number;
    try {
      stop = this.cpu.run(budget);
    } catch (e) {
      throw new FuzzFailure(s, this.cpu, `cpu.run threw: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    }
    const insane = checkCpuSanity(this.cpu, this.mem);
    if (insane !== '') throw new FuzzFailure(s, this.cpu, `host-side state out of range after the run: ${insane}`);
    return { stop, instructions: this.cpu.instructions - before };
  }

  /** A hash of the guest-visible state (registers, flags, segments, control registers, RAM). */
  fingerprint(): string {
    const c = this.cpu;
    let h = 0x811c9dc5;
    const mix = (v: number): void => { h = Math.imul(h ^ (v | 0), 0x01000193); };
    c.regs.forEach(mix);
    mix(c.eip); mix(c.getEflags()); mix(c.cpl); mix(c.cr0); mix(c.cr2); mix(c.cr3); mix(c.cr4);
    for (let i = 0; i < 6; i++) { mix(c.segSel[i]!); mix(c.segBase[i]!); mix(c.segLimit[i]!); mix(c.segAttr[i]!); }
    mix(c.gdtBase); mix(c.gdtLimit); mix(c.idtBase); mix(c.idtLimit); mix(c.trSel); mix(c.halted ? 1 : 0);
    const ram = new Int32Array(this.mem.buffer, 0, this.mem.ramSize >>> 2);
    for (let i = 0; i < ram.length; i++) mix(ram[i]!);
    return (h >>> 0).toString(16);
  }
}

/** Checks of the CPU's host-side state that hold whatever the guest did; '' when sane. */
export function checkCpuSanity(cpu: Cpu, mem: PhysicalMemory): string {
  const bad: string[] = [];
  const int32 = (v: number): boolean => Number.isInteger(v) && v >= -0x80000000 && v <= 0xffffffff;
  if (!int32(cpu.eip)) bad.push(`eip=${cpu.eip}`);
  if (!(cpu.cpl === 0 || cpu.cpl === 1 || cpu.cpl === 2 || cpu.cpl === 3)) bad.push(`cpl=${cpu.cpl}`);
  const pe = (cpu.cr0 & CR0_PE) !== 0;
  const vm = (cpu.flags & FLAG_VM) !== 0;
  if (!pe && cpu.cpl !== 0) bad.push(`cpl=${cpu.cpl} in real mode`);
  if (pe && !vm && (cpu.segSel[CS]! & 3) !== cpu.cpl) bad.push(`cs=${cpu.segSel[CS]} with cpl=${cpu.cpl}`);
  if (vm && cpu.cpl !== 3) bad.push(`cpl=${cpu.cpl} in virtual-8086 mode`);
  for (let s = 0; s < 6; s++) {
    if (!Number.isInteger(cpu.segAttr[s]) || (cpu.segAttr[s]! >>> 16) !== 0) bad.push(`segAttr[${s}]=${cpu.segAttr[s]}`);
  }
  let f: number;
  try {
    f = cpu.getEflags();
  } catch (e) {
    return `getEflags threw ${String(e)}`;
  }
  if (!int32(f) || (f & 2) === 0 || (f & ~(FLAGS_VALID | FLAGS_FIXED1)) !== 0) bad.push(`eflags=${(f >>> 0).toString(16)}`);
  for (const [name, v] of [['cr0', cpu.cr0], ['cr2', cpu.cr2], ['cr3', cpu.cr3], ['cr4', cpu.cr4], ['gdtBase', cpu.gdtBase], ['idtBase', cpu.idtBase]] as const) {
    if (!int32(v)) bad.push(`${name}=${v}`);
  }
  if (cpu.delivering !== -1) bad.push(`exception delivery still in flight (${cpu.delivering})`);
  if (cpu.excVector !== -1) bad.push(`exception ${cpu.excVector} raised but not delivered`);
  if (cpu.tlbCount < 0 || cpu.tlbCount > cpu.tlbList.length) bad.push(`tlbCount=${cpu.tlbCount}`);
  // Every fast-path TLB entry must point into RAM: the fast paths index the RAM views.
  for (let i = 0; i < cpu.tlbCount; i++) {
    const page = cpu.tlbList[i]!;
    const e = cpu.tlb[page]!;
    if (e !== 0 && (e & TLB_MMIO) === 0 && ((e & ~0xfff) >>> 0) >= mem.ramSize) {
      bad.push(`TLB entry for linear page ${page.toString(16)} points outside RAM (${(e >>> 0).toString(16)})`);
      break;
    }
  }
  if (cpu.fetchLinPage !== -1 && (cpu.fetchPhysPage >>> 0) >= mem.ramSize) bad.push(`fetch page ${cpu.fetchPhysPage} outside RAM`);
  if (mem.u8.length !== mem.ramSize) bad.push('RAM view changed size');
  return bad.join('; ');
}

export class FuzzFailure extends Error {
  /** @param replayFlags more flags for the replay command line (e.g. --jit). */
  constructor(readonly stream: FuzzStream, cpu: Cpu, what: string, replayFlags = '') {
    const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
    const at = (cpu.startEip >>> 0) - FZ.code;
    const near = at >= 0 && at < stream.bytes.length ? ` bytes at the last instruction (+${at}): ${hex(stream.bytes.subarray(at, at + 16))}` : '';
    super(`CPU fuzz failure, mode ${stream.mode}, seed ${stream.seed}, stream ${stream.index}: ${what}\n` +
      `  eip=${(cpu.eip >>> 0).toString(16)} startEip=${(cpu.startEip >>> 0).toString(16)} cs=${cpu.segSel[CS]!.toString(16)} cpl=${cpu.cpl} cr0=${(cpu.cr0 >>> 0).toString(16)}${near}\n` +
      `  stream bytes: ${hex(stream.bytes)}\n` +
      `  replay: npx tsx scripts/fuzz-cpu.ts --seed ${stream.seed} --mode ${stream.mode} --stream ${stream.index}${replayFlags}`);
    this.name = 'FuzzFailure';
  }
}

export interface FuzzReport {
  seed: number;
  streams: number;
  instructions: number;
  /** Stops by mode and kind (budget, halt, shutdown, request). */
  stops: Record<string, number>;
  /** Exceptions delivered, by vector, over all streams. */
  exceptions: number[];
  /** #UD by opcode over all streams, most frequent first. */
  undefinedOpcodes: [string, number][];
  ms: number;
}

/** Run `streams` streams of each mode; throws FuzzFailure at the first failure. */
export function fuzzCpu(opts: {
  seed: number; streams: number; budget?: number; modes?: readonly FuzzMode[]; codeBytes?: number; first?: number;
  /** SSE streams (CpuFuzzer.sseStream) instead of random bytes. */
  sse?: boolean;
  /** Every n-th stream is run a second time after a different one and must end identically (0: never). */
  recheckEvery?: number;
  /** Called with the fuzzing CPU once (attach the x87 unit...). */
  setup?: (cpu: Cpu) => void;
}): FuzzReport {
  const recheck = opts.recheckEvery ?? 16;
  const budget = opts.budget ?? 2000;
  const modes = opts.modes ?? FUZZ_MODES;
  const fz = new CpuFuzzer(opts.setup);
  const t0 = performance.now();
  const stops: Record<string, number> = {};
  const names = ['budget', 'halt', 'shutdown', 'request'];
  let instructions = 0;
  for (const mode of modes) {
    for (let i = opts.first ?? 0; i < (opts.first ?? 0) + opts.streams; i++) {
      const stream = opts.sse === true ? CpuFuzzer.sseStream(opts.seed, mode, i, opts.codeBytes) : CpuFuzzer.stream(opts.seed, mode, i, opts.codeBytes);
      const out = fz.run(stream, budget);
      if (recheck > 0 && i % recheck === 0) {
        // Same stream again, after the machine ran this one: the result must not change.
        const first = fz.fingerprint();
        const again = fz.run(stream, budget);
        if (again.stop !== out.stop || again.instructions !== out.instructions || fz.fingerprint() !== first) {
          throw new FuzzFailure(stream, fz.cpu, `a second run of the stream ended differently (stop ${out.stop}/${again.stop}, ` +
            `instructions ${out.instructions}/${again.instructions}): state from the previous run leaked in`);
        }
      }
      const key = `${mode}:${names[out.stop] ?? out.stop}`;
      stops[key] = (stops[key] ?? 0) + 1;
      instructions += out.instructions;
    }
  }
  const ud = [...fz.cpu.udCounts].sort((a, b) => b[1] - a[1])
    .map(([op, n]): [string, number] => [op >= 0x100 ? `0f ${(op & 0xff).toString(16).padStart(2, '0')}` : op.toString(16).padStart(2, '0'), n]);
  return { seed: opts.seed, streams: opts.streams * modes.length, instructions, stops, exceptions: Array.from(fz.cpu.excCounts), undefinedOpcodes: ud, ms: performance.now() - t0 };
}

