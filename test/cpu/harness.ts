// A bare CPU on RAM and an I/O bus, for instruction-level tests: load a flat binary,
// start it in real mode at CS:IP, run until it halts, writes the exit port, or faults.
// Port 0xE9 collects text (like QEMU's debugcon); port 0xF4 ends the run with a code.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cpu } from '../../src/cpu/Cpu.js';
import { CS, STOP_HALT, STOP_SHUTDOWN } from '../../src/cpu/constants.js';
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
}

/** Run `code` loaded at physical `loadAt`, entered in real mode at segment loadAt>>4, offset 0. */
export function runFlat(code: Uint8Array, opts: RunOptions = {}): RunResult {
  const loadAt = opts.loadAt ?? 0x10000;
  const { cpu, mem, io } = makeCpu(opts.ram);
  opts.setup?.(cpu);
  mem.load(loadAt, code);
  let exitCode = -1;
  let output = '';
  io.register(0xe9, 1, 'debugcon', { read: () => 0xe9, write: (_p, _s, v) => { output += String.fromCharCode(v & 0xff); } });
  io.register(0xf4, 1, 'exit', { read: () => 0xff, write: (_p, _s, v) => { exitCode = v & 0xff; cpu.requestStop(); } });
  cpu.loadRealSeg(CS, loadAt >>> 4);
  cpu.eip = 0;
  const budget = opts.budget ?? 50_000_000;
  const stop = cpu.run(budget);
  const name = exitCode >= 0 ? 'exit' : stop === STOP_HALT ? 'halt' : stop === STOP_SHUTDOWN ? 'shutdown' : 'budget';
  return { exitCode, output, stop: name, cpu };
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
