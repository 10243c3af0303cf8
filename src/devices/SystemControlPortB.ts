// IBM PC/AT Technical Reference, "System Control Port B" (port 0x61), as in Intel 82371SB PIIX3 datasheet §4.7.1 NMISC.

import type { IoBus, PortHandler } from '../machine/IoBus.js';
import type { Device } from './Device.js';
import type { Pit8254 } from './Pit8254.js';
import { stateBool, stateNum, stateRecord } from './support.js';

/**
 * Port 0x61. Write: bit 0 = PIT counter 2 gate, bit 1 = speaker data enable, bits 2/3 =
 * SERR#/IOCHK# NMI disable. Read: those bits back, bit 4 = refresh toggle (flips on every
 * read), bit 5 = PIT counter 2 OUT, bits 6/7 = IOCHK/SERR NMI sources (never set here).
 */
export class SystemControlPortB implements Device {
  readonly name = 'port61';
  private bits = 0;
  private refresh = false;

  private readonly ports: PortHandler = {
    read: () => this.read(),
    write: (_port, _size, value) => this.write(value & 0xff),
  };

  constructor(private readonly pit: Pit8254) {}

  /** Register port 0x61. */
  attach(bus: IoBus): void {
    bus.register(0x61, 1, this.name, this.ports);
  }

  /** Speaker data enable (bit 1): with the counter 2 gate, whether a tone would sound. */
  get speakerEnabled(): boolean {
    return (this.bits & 0x02) !== 0;
  }

  read(): number {
    this.refresh = !this.refresh;
    return (this.bits & 0x0f) | (this.refresh ? 0x10 : 0) | (this.pit.getOut(2) ? 0x20 : 0);
  }

  write(v: number): void {
    this.bits = v & 0x0f;
    this.pit.setGate(2, (v & 1) !== 0);
  }

  reset(): void {
    this.bits = 0;
    this.refresh = false;
    this.pit.setGate(2, false);
  }

  saveState(): unknown {
    return { bits: this.bits, refresh: this.refresh };
  }

  loadState(state: unknown): void {
    const s = stateRecord(state, this.name);
    this.bits = stateNum(s, 'bits', this.name) & 0x0f;
    this.refresh = stateBool(s, 'refresh', this.name);
    // The gate level itself is part of the PIT's saved state.
  }
}
