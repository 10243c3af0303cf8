// Whole machines stepped to exact instruction counts, for running the same guest on two
// CPU engines side by side (the translator against the interpreter): each machine runs
// synchronously as its RunLoop would with fast pacing — slices up to the next timer
// deadline, due timers fired after each, virtual time jumped to the next deadline when the
// guest halts — but stops exactly at the count asked for, where the two can be compared.

import { STOP_HALT, STOP_SHUTDOWN, FLAG_IF } from '../../src/cpu/constants.js';
import { Machine, type MachineConfig } from '../../src/machine/Machine.js';
import { sliceBudget } from '../../src/machine/RunLoop.js';
import { cpuDigest, memoryHash, type Digest } from '../cpu/lockstep.js';

/** A machine whose RTC starts at `epochMs`: two made with the same config and time run identically. */
export function machineAt(config: MachineConfig, epochMs: number): Machine {
  return new Machine({ ...config, rtcBaseMs: epochMs });
}

/** Why runTo stopped before its target: the machine ended, shut down, or halted with nothing to wake it. */
export type RunToEnd = 'target' | 'ended' | 'shutdown' | 'dead';

/** Run `m` (fast pacing, not running its own loop) until it has retired `target` instructions. */
export function runTo(m: Machine, target: number): RunToEnd {
  const { cpu, clock } = m;
  while (cpu.instructions < target) {
    if (m.exitReason !== null) return 'ended';
    const stop = cpu.run(Math.min(sliceBudget(clock), target - cpu.instructions));
    clock.sync();
    clock.runDue();
    if (stop === STOP_SHUTDOWN) return 'shutdown';
    if (stop === STOP_HALT && cpu.halted && m.exitReason === null) {
      if ((cpu.flags & FLAG_IF) === 0) return 'dead';
      if (cpu.irqPending) continue;
      const next = clock.nextDeadline();
      if (next === Infinity) return 'dead';
      clock.advanceTo(next);
      clock.runDue();
    }
  }
  return m.exitReason !== null ? 'ended' : 'target';
}

/** The CPU's digest (cpu/lockstep.ts) and the virtual clock; RAM's hash when `withMemory`. */
export function machineDigest(m: Machine, withMemory: boolean): Digest {
  const d = cpuDigest(m.cpu);
  d.push(['clock.ns', m.clock.now()]);
  if (withMemory) d.push(['ram', memoryHash(m.mem)]);
  return d;
}
