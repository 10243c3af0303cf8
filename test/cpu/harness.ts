// A bare CPU on RAM and an I/O bus, for instruction-level tests: load a flat binary,
// start it in real mode at CS:IP, run until it halts, writes the exit port, or faults.
// Port 0xE9 collects text (like QEMU's debugcon); port 0xF4 ends the run with a code.

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

/** Run `code` loaded at physical `loadAt`, entered in real mode at segment loadAt>>4, offset 0. */
export function runFlat(code: Uint8Array, opts: { loadAt?: number; budget?: number; ram?: number } = {}): RunResult {
  const loadAt = opts.loadAt ?? 0x10000;
  const { cpu, mem, io } = makeCpu(opts.ram);
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
