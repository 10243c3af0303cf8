// Drive a VirtualClock the way the machine's run loop does when the CPU is idle: jump
// to each timer deadline up to `ns`, firing what is due, then to `ns` itself.

import type { VirtualClock } from '../../src/machine/VirtualClock.js';

export function clockRunner(clock: VirtualClock): (ns: number) => void {
  return (ns: number): void => {
    for (;;) {
      const d = clock.nextDeadline();
      if (d > ns) break;
      clock.advanceTo(d);
      clock.runDue();
    }
    clock.advanceTo(ns);
    clock.runDue();
  };
}
