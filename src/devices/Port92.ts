// IBM PS/2 "System Control Port A" (port 0x92), as in Intel 82371SB PIIX3 datasheet §4.7.1 PORT92 (fast A20, fast reset).

import type { IoBus, PortHandler } from '../machine/IoBus.js';
import type { Device } from './Device.js';
import { stateNum, stateRecord } from './support.js';

/** Port 0x92. Bit 1: A20 gate (reads back). Bit 0: writing 1 where it was 0 resets the CPU. */
export class Port92 implements Device {
  readonly name = 'port92';
  /** Called on a fast reset (bit 0 written 0 → 1). */
  onReset: (() => void) | null = null;
  /** Called when bit 1 (A20) changes. */
  onA20Change: ((enabled: boolean) => void) | null = null;
  private value = 0x02; // A20 enabled

  private readonly ports: PortHandler = {
    read: () => this.value,
    write: (_port, _size, v) => this.write(v & 0xff),
  };

  /** Register port 0x92. */
  attach(bus: IoBus): void {
    bus.register(0x92, 1, this.name, this.ports);
  }

  get a20(): boolean {
    return (this.value & 0x02) !== 0;
  }

  write(v: number): void {
    const old = this.value;
    this.value = v & 0x03; // the other bits (security lock, LEDs) are not modelled
    if ((old ^ v) & 0x02) this.onA20Change?.((v & 0x02) !== 0);
    if (v & 0x01 && !(old & 0x01)) this.onReset?.();
  }

  reset(): void {
    const wasOn = this.a20;
    this.value = 0x02;
    if (!wasOn) this.onA20Change?.(true);
  }

  saveState(): unknown {
    return { value: this.value };
  }

  loadState(state: unknown): void {
    this.value = stateNum(stateRecord(state, this.name), 'value', this.name) & 0x03;
  }
}
