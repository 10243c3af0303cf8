// Give a CPU its x87 unit (kept apart so the core compiles and runs without it).
import type { Cpu } from './Cpu.js';
import { Fpu } from './fpu/Fpu.js';
import { makeFpuHost } from './fpuHost.js';

export function attachX87(cpu: Cpu): void {
  cpu.fpu = new Fpu(makeFpuHost(cpu));
  cpu.fpu.hardReset();
}
