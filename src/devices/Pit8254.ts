// Intel 8254 Programmable Interval Timer datasheet (order 231164): modes 0-5, latch and read-back commands, §"Read-Back Command".

import type { IoBus, PortHandler } from '../machine/IoBus.js';
import type { Timer, VirtualClock } from '../machine/VirtualClock.js';
import type { Device, IrqLine } from './Device.js';
import { fromBcd, nsToTicks, stateArray, stateBool, stateNum, stateRecord, ticksToNs, toBcd } from './support.js';

/** The PC's PIT input clock: 14.31818 MHz / 12, as Linux's PIT_TICK_RATE. */
export const PIT_HZ = 1193182;

const ACCESS_LSB = 1;
const ACCESS_MSB = 2;
const ACCESS_LOHI = 3;

/** One of the three counters. Counter 0 drives IRQ0 through a clock timer; 1 and 2 are read on demand. */
class Counter {
  mode = 0;
  access = ACCESS_LOHI;
  bcd = false;
  /** The count register as written (0 means the maximum: 65536, or 10000 in BCD). */
  reload = 0;
  /** A whole count has been written since the last control word. */
  loaded = false;
  /** Modes 1 and 5: a gate trigger arrived since the count was loaded. */
  armed = false;
  /** Virtual ns at which tick 0 of the current count began. */
  startNs = 0;
  /** When counting is suspended (gate low), the elapsed ticks at that moment; -1 while running. */
  pausedTicks = -1;
  gate: boolean;
  /** lohi writes: the LSB has been written, the MSB comes next. */
  writeMsbNext = false;
  lsbWritten = 0;
  /** lohi reads of the live count: the MSB comes next. */
  readMsbNext = false;
  /** Count latch: bytes still to be read (0 = not latched) and the latched value. */
  latchBytes = 0;
  latchValue = 0;
  statusLatched = false;
  statusValue = 0;
  /** The output level last driven onto the IRQ line (counter 0 only). */
  outLevel = false;

  constructor(
    readonly index: number,
    private readonly clock: VirtualClock,
    private readonly gateAtPowerOn: boolean,
    private readonly irq: IrqLine | null,
    private readonly timer: Timer | null,
  ) {
    this.gate = gateAtPowerOn;
  }

  powerOn(): void {
    this.mode = 0;
    this.access = ACCESS_LOHI;
    this.bcd = false;
    this.reload = 0;
    this.loaded = false;
    this.armed = false;
    this.startNs = 0;
    this.pausedTicks = -1;
    this.gate = this.gateAtPowerOn;
    this.writeMsbNext = false;
    this.lsbWritten = 0;
    this.readMsbNext = false;
    this.latchBytes = 0;
    this.latchValue = 0;
    this.statusLatched = false;
    this.statusValue = 0;
    if (this.timer) this.timer.deadline = Infinity;
    this.outLevel = false;
    this.irq?.(false);
  }

  /** The count N in clock ticks. */
  private n(): number {
    if (this.reload === 0) return this.bcd ? 10000 : 0x10000;
    return this.bcd ? fromBcd(this.reload >> 8) * 100 + fromBcd(this.reload & 0xff) : this.reload;
  }

  /** Ticks counted since the count started, or -1 when the counter is not counting at all. */
  private elapsed(now: number): number {
    if (!this.loaded) return -1;
    if ((this.mode === 1 || this.mode === 5) && !this.armed) return -1;
    if (this.pausedTicks >= 0) return this.pausedTicks;
    return nsToTicks(now - this.startNs, PIT_HZ);
  }

  /** Level of OUT at `now`. */
  out(now: number): boolean {
    const d = this.elapsed(now);
    const n = this.n();
    switch (this.mode) {
      case 0:
        return d >= 0 && d >= n;
      case 1:
        return d < 0 || d >= n;
      case 2:
        if (d < 0 || !this.gate || n < 2) return true;
        return d % n !== n - 1;
      case 3:
        if (d < 0 || !this.gate) return true;
        return d % n < Math.ceil(n / 2);
      default: // 4, 5: one-tick low strobe at terminal count
        return d !== n;
    }
  }

  /** The counting element's value at `now`, in binary (0..65535 or 0..9999). */
  private value(now: number): number {
    const n = this.n();
    const m = this.bcd ? 10000 : 0x10000;
    const d = this.elapsed(now);
    if (d < 0) return n % m;
    let v: number;
    switch (this.mode) {
      case 2:
        v = n - (d % n);
        break;
      case 3: {
        const p = d % n;
        const half = Math.ceil(n / 2);
        v = (p < half ? n - 2 * p : n - 2 * (p - half)) & ~1;
        break;
      }
      default:
        v = (n - (d % m)) % m;
        if (v < 0) v += m;
    }
    return v % m;
  }

  private encoded(now: number): number {
    const v = this.value(now);
    return this.bcd ? (toBcd(Math.floor(v / 100)) << 8) | toBcd(v % 100) : v;
  }

  private status(now: number): number {
    const nullCount = !this.loaded || ((this.mode === 1 || this.mode === 5) && !this.armed);
    return (this.out(now) ? 0x80 : 0) | (nullCount ? 0x40 : 0) | (this.access << 4) | (this.mode << 1) | (this.bcd ? 1 : 0);
  }

  latchCount(now: number): void {
    if (this.latchBytes !== 0) return; // a second latch before the read is ignored
    this.latchValue = this.encoded(now);
    this.latchBytes = this.access === ACCESS_LOHI ? 2 : 1;
  }

  latchStatus(now: number): void {
    if (this.statusLatched) return;
    this.statusValue = this.status(now);
    this.statusLatched = true;
  }

  control(v: number, now: number): void {
    let mode = (v >> 1) & 7;
    if (mode >= 6) mode -= 4;
    this.mode = mode;
    this.access = (v >> 4) & 3;
    this.bcd = (v & 1) !== 0;
    this.loaded = false;
    this.armed = false;
    this.pausedTicks = -1;
    this.writeMsbNext = false;
    this.readMsbNext = false;
    this.latchBytes = 0;
    this.statusLatched = false;
    this.refresh(now);
  }

  readData(now: number): number {
    if (this.statusLatched) {
      this.statusLatched = false;
      return this.statusValue;
    }
    if (this.latchBytes !== 0) {
      const msb = this.access === ACCESS_MSB || (this.access === ACCESS_LOHI && this.latchBytes === 1);
      this.latchBytes--;
      return msb ? (this.latchValue >> 8) & 0xff : this.latchValue & 0xff;
    }
    const v = this.encoded(now);
    if (this.access === ACCESS_LSB) return v & 0xff;
    if (this.access === ACCESS_MSB) return (v >> 8) & 0xff;
    const msb = this.readMsbNext;
    this.readMsbNext = !msb;
    return msb ? (v >> 8) & 0xff : v & 0xff;
  }

  writeData(b: number, now: number): void {
    switch (this.access) {
      case ACCESS_LSB:
        this.load(b, now);
        return;
      case ACCESS_MSB:
        this.load(b << 8, now);
        return;
      case ACCESS_LOHI:
        if (!this.writeMsbNext) {
          this.lsbWritten = b;
          this.writeMsbNext = true;
          if (this.mode === 0) {
            // Mode 0: writing the first byte stops the count and drops OUT.
            this.loaded = false;
            this.refresh(now);
          }
          return;
        }
        this.writeMsbNext = false;
        this.load(this.lsbWritten | (b << 8), now);
        return;
      default:
        return;
    }
  }

  private load(count: number, now: number): void {
    this.reload = count & 0xffff;
    this.loaded = true;
    this.armed = false;
    this.startNs = now;
    // Modes 0 and 4 count only while the gate is high; 2 and 3 start when it rises.
    this.pausedTicks = this.gate || this.mode === 1 || this.mode === 5 ? -1 : 0;
    this.refresh(now);
  }

  setGate(level: boolean, now: number): void {
    if (level === this.gate) return;
    if (this.loaded) {
      switch (this.mode) {
        case 0:
        case 4:
          if (!level) {
            this.pausedTicks = this.elapsed(now);
          } else if (this.pausedTicks >= 0) {
            this.startNs = now - ticksToNs(this.pausedTicks, PIT_HZ);
            this.pausedTicks = -1;
          }
          break;
        case 2:
        case 3:
          if (!level) {
            this.pausedTicks = this.elapsed(now);
          } else {
            this.startNs = now; // a rising gate reloads the count
            this.pausedTicks = -1;
          }
          break;
        default: // 1, 5: a rising gate (re)triggers
          if (level) {
            this.armed = true;
            this.startNs = now;
            this.pausedTicks = -1;
          }
      }
    }
    this.gate = level;
    this.refresh(now);
  }

  /** Drive the IRQ line to the current OUT level and arm the timer for the next rising edge. */
  refresh(now: number): void {
    if (this.irq === null || this.timer === null) return;
    const level = this.out(now);
    if (level !== this.outLevel) {
      this.outLevel = level;
      this.irq(level);
    }
    this.timer.deadline = this.nextRisingEdge(now);
  }

  /** Timer callback: OUT rose (a pulse is replayed when the low phase fell between two looks). */
  fire(now: number): void {
    if (this.irq === null || this.timer === null) return;
    // Periodic modes spend at most half the period low and modes 4/5 one tick: the
    // edge is what the (edge-triggered) IRQ0 input needs, so the line is left high.
    if (this.outLevel) this.irq(false);
    this.outLevel = true;
    this.irq(true);
    // The next edge comes strictly after the one that fired: one-shot modes have one edge
    // per count; periodic ones move on by whole periods from the armed tick, so rounding
    // between ns and ticks can never re-arm the edge that just fired.
    if (this.mode === 2 || this.mode === 3) {
      const n = this.n();
      const d = this.elapsed(now);
      let tick = this.armedTick + n;
      if (d >= tick) tick = (Math.floor(d / n) + 1) * n;
      this.armedTick = tick;
      this.timer.deadline = this.startNs + ticksToNs(tick, PIT_HZ);
    } else {
      this.timer.deadline = Infinity;
    }
  }

  /** Tick (since startNs) of the rising edge the timer is armed for. */
  armedTick = 0;

  /** Virtual ns of the next rising edge of OUT after `now`, or Infinity. */
  private nextRisingEdge(now: number): number {
    const d = this.elapsed(now);
    if (d < 0 || this.pausedTicks >= 0) return Infinity;
    const n = this.n();
    let tick: number;
    switch (this.mode) {
      case 0:
      case 1:
      case 4:
      case 5:
        if (d >= n) return Infinity;
        tick = n;
        break;
      default: // 2, 3: periodic, rising edge at every multiple of N
        tick = (Math.floor(d / n) + 1) * n;
    }
    this.armedTick = tick;
    return this.startNs + ticksToNs(tick, PIT_HZ);
  }

  save(): Record<string, unknown> {
    return {
      mode: this.mode, access: this.access, bcd: this.bcd, reload: this.reload, loaded: this.loaded,
      armed: this.armed, startNs: this.startNs, pausedTicks: this.pausedTicks, gate: this.gate,
      writeMsbNext: this.writeMsbNext, lsbWritten: this.lsbWritten, readMsbNext: this.readMsbNext,
      latchBytes: this.latchBytes, latchValue: this.latchValue, statusLatched: this.statusLatched,
      statusValue: this.statusValue, outLevel: this.outLevel,
    };
  }

  load_(raw: unknown, what: string): void {
    const s = stateRecord(raw, what);
    this.mode = stateNum(s, 'mode', what);
    if (!(this.mode >= 0 && this.mode <= 5)) throw new TypeError(`${what}: bad mode`);
    this.access = stateNum(s, 'access', what) & 3;
    this.bcd = stateBool(s, 'bcd', what);
    this.reload = stateNum(s, 'reload', what) & 0xffff;
    this.loaded = stateBool(s, 'loaded', what);
    this.armed = stateBool(s, 'armed', what);
    this.startNs = stateNum(s, 'startNs', what);
    this.pausedTicks = stateNum(s, 'pausedTicks', what);
    this.gate = stateBool(s, 'gate', what);
    this.writeMsbNext = stateBool(s, 'writeMsbNext', what);
    this.lsbWritten = stateNum(s, 'lsbWritten', what) & 0xff;
    this.readMsbNext = stateBool(s, 'readMsbNext', what);
    this.latchBytes = stateNum(s, 'latchBytes', what);
    this.latchValue = stateNum(s, 'latchValue', what) & 0xffff;
    this.statusLatched = stateBool(s, 'statusLatched', what);
    this.statusValue = stateNum(s, 'statusValue', what) & 0xff;
    // The IRQ line's level is part of the PIC's saved state: take it as is, re-arm only.
    this.outLevel = stateBool(s, 'outLevel', what);
    if (this.timer) this.timer.deadline = this.nextRisingEdge(this.clock.now());
  }
}

/** The 8254 at 0x40-0x43. Counter 0 → IRQ0; counter 2's gate and output belong to port 0x61. */
export class Pit8254 implements Device {
  readonly name = 'pit8254';
  private readonly counters: Counter[];

  private readonly ports: PortHandler = {
    read: (port, size) => {
      let v = 0;
      for (let i = 0; i < size; i++) v |= this.readByte(port + i) << (8 * i);
      return v >>> 0;
    },
    write: (port, size, value) => {
      for (let i = 0; i < size; i++) this.writeByte(port + i, (value >>> (8 * i)) & 0xff);
    },
  };

  constructor(private readonly clock: VirtualClock, irq0: IrqLine) {
    const timer: Timer = clock.addTimer('pit0', (now) => this.counters[0]!.fire(now));
    this.counters = [
      new Counter(0, clock, true, irq0, timer),
      new Counter(1, clock, true, null, null),
      new Counter(2, clock, false, null, null), // gated by port 0x61 bit 0, low at power-on
    ];
  }

  /** Register 0x40-0x43. */
  attach(bus: IoBus): void {
    bus.register(0x40, 4, 'pit8254', this.ports);
  }

  /** Drive the GATE input of a counter (the PC wires counters 0 and 1 high; 0x61 bit 0 drives 2). */
  setGate(counter: number, level: boolean): void {
    this.counters[counter]!.setGate(level, this.clock.now());
  }

  getGate(counter: number): boolean {
    return this.counters[counter]!.gate;
  }

  /** Current level of a counter's OUT pin (port 0x61 bit 5 shows counter 2's). */
  getOut(counter: number): boolean {
    return this.counters[counter]!.out(this.clock.now());
  }

  private readByte(port: number): number {
    if (port >= 0x40 && port <= 0x42) return this.counters[port - 0x40]!.readData(this.clock.now());
    return 0xff; // the control word register is write-only
  }

  private writeByte(port: number, v: number): void {
    const now = this.clock.now();
    if (port >= 0x40 && port <= 0x42) {
      this.counters[port - 0x40]!.writeData(v, now);
      return;
    }
    if (port !== 0x43) return;
    const sc = v >> 6;
    if (sc === 3) {
      // Read-back: bit 5 clear = latch count, bit 4 clear = latch status, bits 3-1 select counters 2-0.
      for (let i = 0; i < 3; i++) {
        if ((v & (2 << i)) === 0) continue;
        const c = this.counters[i]!;
        if ((v & 0x20) === 0) c.latchCount(now);
        if ((v & 0x10) === 0) c.latchStatus(now);
      }
      return;
    }
    const c = this.counters[sc]!;
    if ((v & 0x30) === 0) c.latchCount(now);
    else c.control(v, now);
  }

  reset(): void {
    for (const c of this.counters) c.powerOn();
  }

  saveState(): unknown {
    return { counters: this.counters.map((c) => c.save()) };
  }

  loadState(state: unknown): void {
    const s = stateRecord(state, this.name);
    const cs = stateArray(s, 'counters', this.name, 3);
    for (let i = 0; i < 3; i++) this.counters[i]!.load_(cs[i], `${this.name}.counter${i}`);
  }
}
