// IBM PC/AT "Manufacturing Test port" 0x80 (POST codes); Linux also writes it as an I/O delay.
// Like the POST card a firmware developer plugs in (and Bochs' and QEMU's debug output), it
// shows which codes the firmware wrote, in order: the last POST_HISTORY distinct codes, a
// code written several times in a row kept once.

import type { IoBus, PortHandler } from '../machine/IoBus.js';
import type { Device } from './Device.js';
import { stateBytes, stateNum, stateRecord } from './support.js';

/** How many codes the history keeps (consecutive repeats collapsed); older ones are counted as dropped. */
export const POST_HISTORY = 64;

/** The codes written, as history() gives them. */
export interface PostCodeHistory {
  /** The last POST_HISTORY distinct codes, oldest first (a code repeated in a row appears once). */
  codes: number[];
  /** Codes that entered the history before those and were dropped from it. */
  dropped: number;
}

/** Port 0x80: keeps the last byte written, the recent distinct codes, and counts the writes. Reads return the last code. */
export class PostCode implements Device {
  readonly name = 'postcode';
  /** Called on each write when set (leave null on the hot path: Linux's io delay writes here). */
  onCode: ((code: number) => void) | null = null;
  private last = 0;
  private count = 0;
  /** Codes entered in the history since power-on; the ring holds the last POST_HISTORY of them. */
  private entered = 0;
  private readonly ring = new Uint8Array(POST_HISTORY);

  private readonly ports: PortHandler = {
    read: () => this.last,
    write: (_port, _size, v) => {
      const code = v & 0xff;
      if (this.entered === 0 || code !== this.last) this.ring[this.entered++ % POST_HISTORY] = code;
      this.last = code;
      this.count++;
      this.onCode?.(code);
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

  /** The recent distinct codes, oldest first, and how many earlier ones were dropped. */
  history(): PostCodeHistory {
    const kept = Math.min(this.entered, POST_HISTORY);
    const codes: number[] = [];
    for (let i = this.entered - kept; i < this.entered; i++) codes.push(this.ring[i % POST_HISTORY]!);
    return { codes, dropped: this.entered - kept };
  }

  reset(): void {
    this.last = 0;
    this.count = 0;
    this.entered = 0;
  }

  saveState(): unknown {
    const h = this.history();
    return { last: this.last, count: this.count, codes: h.codes, dropped: h.dropped };
  }

  loadState(state: unknown): void {
    const s = stateRecord(state, this.name);
    this.last = stateNum(s, 'last', this.name) & 0xff;
    this.count = stateNum(s, 'count', this.name);
    // Snapshots from before the history have only the last code.
    const codes = s['codes'] === undefined ? (this.count > 0 ? [this.last] : []) : stateBytes(s, 'codes', this.name);
    const dropped = s['dropped'] === undefined ? 0 : stateNum(s, 'dropped', this.name);
    if (codes.length > POST_HISTORY || !Number.isSafeInteger(dropped) || dropped < 0) throw new TypeError(`${this.name}: saved history does not fit`);
    this.entered = dropped + codes.length;
    codes.forEach((c, i) => { this.ring[(dropped + i) % POST_HISTORY] = c; });
  }
}
