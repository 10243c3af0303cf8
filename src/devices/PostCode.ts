// IBM PC/AT "Manufacturing Test port" 0x80 (POST codes); Linux also writes it as an I/O delay.

import type { IoBus, PortHandler } from '../machine/IoBus.js';
import type { Device } from './Device.js';
import { stateNum, stateRecord } from './support.js';

/** Port 0x80: keeps the last byte written and counts the writes. Reads return the last code. */
export class PostCode implements Device {
  readonly name = 'postcode';
  /** Called on each write when set (leave null on the hot path: Linux's io delay writes here). */
  onCode: ((code: number) => void) | null = null;
  private last = 0;
  private count = 0;

  private readonly ports: PortHandler = {
    read: () => this.last,
    write: (_port, _size, v) => {
      this.last = v & 0xff;
      this.count++;
      this.onCode?.(this.last);
    },
  };

  /** Register port 0x80. */
  attach(bus: IoBus): void {
    bus.register(0x80, 1, this.name, this.ports);
  }

  /** The last code written. */
  get code(): number {
    return this.last;
  }

  /** Writes since power-on. */
  get writes(): number {
    return this.count;
  }

  reset(): void {
    this.last = 0;
    this.count = 0;
  }

  saveState(): unknown {
    return { last: this.last, count: this.count };
  }

  loadState(state: unknown): void {
    const s = stateRecord(state, this.name);
    this.last = stateNum(s, 'last', this.name) & 0xff;
    this.count = stateNum(s, 'count', this.name);
  }
}
