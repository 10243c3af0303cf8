// IA-PC HPET (High Precision Event Timers) Specification rev 1.0a: §2.3 register set
// (capabilities/ID, general configuration, general interrupt status, main counter,
// timer N configuration/capability, comparator, FSB route), §2.3.9 legacy replacement
// routing, §2.3.9.2 edge/level interrupts, §2.3.9.2.2 periodic mode.
//
// The main counter is derived from the virtual clock (never incremented per tick), and
// each comparator becomes one clock timer armed for the instant the counter reaches it.
// With a 32-bit comparator a one-shot can be seconds away, unlike the PIT's 27 ms, so
// a tickless guest sleeps until its next real timer. In legacy replacement mode timer 0
// drives ISA IRQ0 and timer 1 IRQ8 (the PIT's and RTC's lines, which are then cut off,
// as QEMU does; the I/O APIC sees IRQ0 on its pin 2, as the spec's APIC routing says);
// other routes are ISA IRQ numbers the owner allows (routeCap), none by default.

import type { MmioHandler, PhysicalMemory } from '../memory/PhysicalMemory.js';
import type { Timer, VirtualClock } from '../machine/VirtualClock.js';
import type { Device, IrqLine } from './Device.js';
import { nsToTicks, saveDeadline, stateArray, stateBool, stateNum, stateRecord, ticksToNs, type StateRecord } from './support.js';

/** Where PC chipsets and Linux expect the first HPET block. */
export const HPET_BASE = 0xfed00000;
/** The register block is 1 KiB (§2.3.1); Linux maps exactly that. */
export const HPET_WINDOW = 0x400;
/** 100 MHz, as QEMU's: 10 ns per tick, so ns <-> ticks stays exact. */
export const HPET_HZ = 100_000_000;
/** COUNTER_CLK_PERIOD in femtoseconds. */
export const HPET_PERIOD_FS = 1e15 / HPET_HZ;
export const HPET_TIMERS = 3;
/** Intel's PCI vendor ID in VENDOR_ID, as on QEMU's HPET. */
const VENDOR_ID = 0x8086;

// General capabilities (low dword of 0x000)
const CAP_REV_ID = 0x01;
const CAP_COUNT_SIZE = 1 << 13;
const CAP_LEG_RT = 1 << 15;

/** The low dword of GCAP_ID, which the ACPI HPET table repeats as the Event Timer Block ID. */
export function hpetBlockId(timers = HPET_TIMERS): number {
  return (CAP_REV_ID | ((timers - 1) << 8) | CAP_COUNT_SIZE | CAP_LEG_RT | (VENDOR_ID << 16)) >>> 0;
}

// Register offsets
const REG_CAP = 0x000;
const REG_CAP_HI = 0x004;
const REG_CONFIG = 0x010;
const REG_STATUS = 0x020;
const REG_COUNTER = 0x0f0;
const REG_COUNTER_HI = 0x0f4;
const REG_TIMER0 = 0x100;
const TIMER_STRIDE = 0x20;
const TN_CONFIG = 0x00;
const TN_CONFIG_HI = 0x04;
const TN_CMP = 0x08;
const TN_CMP_HI = 0x0c;
const TN_FSB_VALUE = 0x10;
const TN_FSB_ADDR = 0x14;

// General configuration
export const HPET_ENABLE = 1 << 0;
export const HPET_LEGACY = 1 << 1;

// Timer N configuration and capability (low dword)
export const TN_LEVEL = 1 << 1;
export const TN_INT_ENB = 1 << 2;
export const TN_PERIODIC = 1 << 3;
export const TN_PER_CAP = 1 << 4;
export const TN_SIZE_CAP = 1 << 5;
export const TN_VAL_SET = 1 << 6;
export const TN_32MODE = 1 << 8;
export const TN_ROUTE_SHIFT = 9;
const TN_ROUTE_MASK = 0x1f << TN_ROUTE_SHIFT;
/** What software may change; FSB delivery is not offered (no FSB_INT_DEL_CAP). */
const TN_WRITABLE = TN_LEVEL | TN_INT_ENB | TN_PERIODIC | TN_VAL_SET | TN_32MODE | TN_ROUTE_MASK;

const TWO32 = 0x100000000;
const W32 = 1n << 32n;
const W64 = 1n << 64n;
/** Further than this many ticks (~1.4 years) is never. */
const MAX_TICKS = 2 ** 52;

class HpetTimer {
  config = TN_PER_CAP | TN_SIZE_CAP;
  /** Comparator, and in periodic mode the value added to it at each match. */
  cmp = W64 - 1n;
  period = 0n;
  fsbValue = 0;
  fsbAddr = 0;
  /** The ISA line this timer holds high (level mode), or -1. */
  lineRoute = -1;
  lineHigh = false;

  constructor(readonly index: number, readonly timer: Timer) {}

  powerOn(): void {
    this.config = TN_PER_CAP | TN_SIZE_CAP;
    this.cmp = W64 - 1n;
    this.period = 0n;
    this.fsbValue = 0;
    this.fsbAddr = 0;
    this.lineRoute = -1;
    this.lineHigh = false;
    this.timer.deadline = Infinity;
  }

  /** Modulus the comparator matches in: 2^32 in 32-bit mode. */
  width(): bigint {
    return (this.config & TN_32MODE) !== 0 ? W32 : W64;
  }
}

export interface HpetOptions {
  /** Number of timers, 3-32 (default 3, as QEMU). */
  timers?: number;
  /** Bit n set: a timer may be routed to ISA IRQ n outside legacy mode (Tn_INT_ROUTE_CAP). */
  routeCap?: number;
}

export class Hpet implements Device, MmioHandler {
  readonly name = 'hpet';
  /** The PIT's IRQ0 output goes through here: cut off in legacy replacement mode. */
  readonly pitLine: IrqLine;
  /** The RTC's IRQ8 output, likewise. */
  readonly rtcLine: IrqLine;

  private readonly timers: HpetTimer[];
  private readonly routeCap: number;
  private config = 0;
  private status = 0;
  /** Main counter value at startNs (running) or the halted value, as two uint32 halves. */
  private baseHi = 0;
  private baseLo = 0;
  private startNs = 0;
  private pitLevel = false;
  private rtcLevel = false;

  /** `setIrq` drives ISA interrupt line 0-15 (the PIC's setIrq). */
  constructor(private readonly clock: VirtualClock, private readonly setIrq: (irq: number, level: boolean) => void, opts: HpetOptions = {}) {
    const n = opts.timers ?? HPET_TIMERS;
    if (!(Number.isInteger(n) && n >= 3 && n <= 32)) throw new RangeError(`an HPET has 3 to 32 timers, not ${n}`);
    this.routeCap = (opts.routeCap ?? 0) & 0xffff;
    this.timers = [];
    for (let i = 0; i < n; i++) {
      const t: HpetTimer = new HpetTimer(i, clock.addTimer(`hpet${i}`, (now) => this.fire(t, now)));
      this.timers.push(t);
    }
    this.pitLine = (level) => {
      this.pitLevel = level;
      if ((this.config & HPET_LEGACY) === 0) this.setIrq(0, level);
    };
    this.rtcLine = (level) => {
      this.rtcLevel = level;
      if ((this.config & HPET_LEGACY) === 0) this.setIrq(8, level);
    };
  }

  /** Map the register block at `base` (default 0xFED00000). */
  attach(mem: PhysicalMemory, base = HPET_BASE): void {
    mem.addMmio(base, HPET_WINDOW, this.name, this);
  }

  // ---- main counter ----

  private running(): boolean {
    return (this.config & HPET_ENABLE) !== 0;
  }

  /** Ticks since startNs (0 while halted). */
  private elapsed(now: number): number {
    return this.running() ? nsToTicks(now - this.startNs, HPET_HZ) : 0;
  }

  private counterLo(now: number): number {
    return (this.baseLo + this.elapsed(now)) % TWO32;
  }

  private counterHi(now: number): number {
    return (this.baseHi + Math.floor((this.baseLo + this.elapsed(now)) / TWO32)) % TWO32;
  }

  private counter64(now: number): bigint {
    return (BigInt(this.counterHi(now)) << 32n) | BigInt(this.counterLo(now));
  }

  /** Make `v` the counter value at `now` (and the halted value while disabled). */
  private setCounter(v: bigint, now: number): void {
    v &= W64 - 1n;
    this.baseHi = Number(v >> 32n);
    this.baseLo = Number(v & (W32 - 1n));
    this.startNs = now;
  }

  // ---- comparators and interrupts ----

  /** ISA line timer `t` signals on now, or -1. */
  private routeOf(t: HpetTimer): number {
    if ((this.config & HPET_LEGACY) !== 0) {
      if (t.index === 0) return 0;
      if (t.index === 1) return 8;
    }
    const r = (t.config & TN_ROUTE_MASK) >> TN_ROUTE_SHIFT;
    return (this.routeCap & (1 << r)) !== 0 ? r : -1;
  }

  /** Level mode: the line is high while the status bit is set, the timer's interrupt enabled and the counter on. */
  private updateLine(t: HpetTimer): void {
    const route = this.routeOf(t);
    const want = route >= 0 && (t.config & TN_LEVEL) !== 0 && (this.status & (1 << t.index)) !== 0 &&
      (t.config & TN_INT_ENB) !== 0 && this.running();
    if (t.lineRoute === route && t.lineHigh === want) return;
    if (t.lineHigh && t.lineRoute >= 0) this.setIrq(t.lineRoute, false);
    if (want) this.setIrq(route, true);
    t.lineRoute = route;
    t.lineHigh = want;
  }

  /**
   * Arm `t`'s clock timer for the instant the counter next equals its comparator.
   * `justFired`: a comparator equal to the counter now has already matched (wait a wrap).
   * Timers that could show nothing (edge mode, interrupt disabled) are not armed.
   */
  private arm(t: HpetTimer, now: number, justFired: boolean): void {
    if (!this.running() || ((t.config & TN_INT_ENB) === 0 && (t.config & TN_LEVEL) === 0)) {
      t.timer.deadline = Infinity;
      return;
    }
    const e = this.elapsed(now);
    const w = t.width();
    let d = (t.cmp - this.counter64(now)) % w;
    if (d < 0n) d += w;
    if (d === 0n && justFired) d = w;
    const target = e + Number(d);
    t.timer.deadline = target > MAX_TICKS ? Infinity : this.startNs + ticksToNs(target, HPET_HZ);
  }

  private fire(t: HpetTimer, now: number): void {
    const w = t.width();
    if ((t.config & TN_PERIODIC) !== 0 && t.period % w !== 0n) {
      // Move on past the counter by whole periods (late wakes skip the periods they missed).
      const p = t.period % w;
      let behind = (this.counter64(now) - t.cmp) % w;
      if (behind < 0n) behind += w;
      t.cmp = (t.cmp + (behind / p + 1n) * p) % w;
    }
    if ((t.config & TN_LEVEL) !== 0) {
      this.status |= 1 << t.index;
      this.updateLine(t);
    } else if ((t.config & TN_INT_ENB) !== 0) {
      const route = this.routeOf(t);
      if (route >= 0) {
        this.setIrq(route, true);
        this.setIrq(route, false);
      }
    }
    this.arm(t, now, true);
  }

  // ---- registers ----

  /** Any size; sub-dword and unaligned reads take the bytes of the dwords they cover. */
  read(offset: number, size: 1 | 2 | 4): number {
    if (size === 4 && (offset & 3) === 0) return this.readDword(offset);
    let v = 0;
    for (let i = 0; i < size; i++) {
      const o = offset + i;
      v |= ((this.readDword(o & ~3) >>> ((o & 3) * 8)) & 0xff) << (8 * i);
    }
    return v >>> 0;
  }

  /** Registers are written as aligned dwords (§2.3: 32- or 64-bit accesses); narrower or unaligned writes are ignored. */
  write(offset: number, size: 1 | 2 | 4, value: number): void {
    if (size !== 4 || (offset & 3) !== 0) return;
    this.writeDword(offset, value >>> 0);
  }

  private readDword(off: number): number {
    const now = this.clock.now();
    switch (off) {
      case REG_CAP: return hpetBlockId(this.timers.length);
      case REG_CAP_HI: return HPET_PERIOD_FS;
      case REG_CONFIG: return this.config;
      case REG_STATUS: return this.status >>> 0;
      case REG_COUNTER: return this.counterLo(now);
      case REG_COUNTER_HI: return this.counterHi(now);
    }
    const t = this.timerAt(off);
    if (t === undefined) return 0;
    switch ((off - REG_TIMER0) % TIMER_STRIDE) {
      case TN_CONFIG: return t.config;
      case TN_CONFIG_HI: return this.routeCap;
      case TN_CMP: return Number(t.cmp & (W32 - 1n));
      case TN_CMP_HI: return Number(t.cmp >> 32n);
      case TN_FSB_VALUE: return t.fsbValue;
      case TN_FSB_ADDR: return t.fsbAddr;
      default: return 0;
    }
  }

  private timerAt(off: number): HpetTimer | undefined {
    if (off < REG_TIMER0) return undefined;
    return this.timers[Math.floor((off - REG_TIMER0) / TIMER_STRIDE)];
  }

  private writeDword(off: number, v: number): void {
    const now = this.clock.now();
    switch (off) {
      case REG_CONFIG: this.writeConfig(v & (HPET_ENABLE | HPET_LEGACY), now); return;
      case REG_STATUS: this.clearStatus(v); return;
      case REG_COUNTER:
      case REG_COUNTER_HI: {
        // Software should halt the counter first (§2.3.7); a running one restarts from the new value.
        const c = this.counter64(now);
        const nv = off === REG_COUNTER ? (c & ~(W32 - 1n)) | BigInt(v) : (BigInt(v) << 32n) | (c & (W32 - 1n));
        this.setCounter(nv, now);
        for (const t of this.timers) this.arm(t, now, false);
        return;
      }
    }
    const t = this.timerAt(off);
    if (t === undefined) return;
    switch ((off - REG_TIMER0) % TIMER_STRIDE) {
      case TN_CONFIG: this.writeTimerConfig(t, v, now); return;
      case TN_CMP: this.writeComparator(t, 0n, BigInt(v), now); return;
      case TN_CMP_HI: this.writeComparator(t, 32n, BigInt(v), now); return;
      case TN_FSB_VALUE: t.fsbValue = v; return;
      case TN_FSB_ADDR: t.fsbAddr = v; return;
      default: // capabilities and reserved: read-only
    }
  }

  private writeConfig(v: number, now: number): void {
    const old = this.config;
    if ((old ^ v) & HPET_ENABLE) {
      const c = this.counter64(now); // halting freezes the count; enabling resumes from it
      this.config = (old & ~HPET_ENABLE) | (v & HPET_ENABLE);
      this.setCounter(c, now);
    }
    const legacyOn = (v & HPET_LEGACY) !== 0 && (old & HPET_LEGACY) === 0;
    const legacyOff = (v & HPET_LEGACY) === 0 && (old & HPET_LEGACY) !== 0;
    this.config = v;
    if (legacyOn) {
      // The PIT and RTC lose IRQ0 and IRQ8 to timers 0 and 1.
      this.setIrq(0, false);
      this.setIrq(8, false);
    }
    for (const t of this.timers) this.updateLine(t);
    if (legacyOff) {
      this.setIrq(0, this.pitLevel);
      this.setIrq(8, this.rtcLevel);
    }
    for (const t of this.timers) this.arm(t, now, false);
  }

  private clearStatus(v: number): void {
    const clear = v & ((1 << this.timers.length) - 1 || -1);
    if ((this.status & clear) === 0) return;
    this.status &= ~clear;
    for (const t of this.timers) this.updateLine(t);
  }

  private writeTimerConfig(t: HpetTimer, v: number, now: number): void {
    const old = t.config;
    let c = (old & ~TN_WRITABLE) | (v & TN_WRITABLE);
    if ((c & TN_PER_CAP) === 0) c &= ~TN_PERIODIC;
    // A route the timer cannot take reads back as the old one (§2.3.8, Tn_INT_ROUTE_CNF).
    const route = (c & TN_ROUTE_MASK) >> TN_ROUTE_SHIFT;
    if ((this.routeCap & (1 << route)) === 0) c = (c & ~TN_ROUTE_MASK) | (old & TN_ROUTE_MASK);
    t.config = c;
    if ((c & TN_32MODE) !== 0 && (old & TN_32MODE) === 0) {
      t.cmp &= W32 - 1n;
      t.period &= W32 - 1n;
    }
    if ((c & TN_LEVEL) === 0) this.status &= ~(1 << t.index); // status is for level mode only
    this.updateLine(t);
    this.arm(t, now, false);
  }

  /**
   * One half of the comparator (§2.3.9.2.2): a one-shot takes the value; a periodic timer
   * takes it as its period, and as the comparator too when Tn_VAL_SET_CNF was set (which
   * the write clears). In 32-bit mode the high half is ignored.
   */
  private writeComparator(t: HpetTimer, shift: bigint, v: bigint, now: number): void {
    if ((t.config & TN_32MODE) !== 0 && shift !== 0n) return;
    const mask = (W32 - 1n) << shift;
    const periodic = (t.config & TN_PERIODIC) !== 0;
    if (!periodic || (t.config & TN_VAL_SET) !== 0) t.cmp = (t.cmp & ~mask) | (v << shift);
    if (periodic) t.period = (t.period & ~mask) | (v << shift);
    t.config &= ~TN_VAL_SET;
    this.arm(t, now, false);
  }

  // ---- Device ----

  reset(): void {
    const wasLegacy = (this.config & HPET_LEGACY) !== 0;
    for (const t of this.timers) {
      if (t.lineHigh && t.lineRoute >= 0) this.setIrq(t.lineRoute, false);
      t.powerOn();
    }
    this.config = 0;
    this.status = 0;
    this.baseHi = 0;
    this.baseLo = 0;
    this.startNs = 0;
    if (wasLegacy) {
      this.setIrq(0, this.pitLevel);
      this.setIrq(8, this.rtcLevel);
    }
  }

  saveState(): unknown {
    return {
      config: this.config, status: this.status, baseHi: this.baseHi, baseLo: this.baseLo, startNs: this.startNs,
      pitLevel: this.pitLevel, rtcLevel: this.rtcLevel,
      timers: this.timers.map((t) => ({
        config: t.config, cmp: t.cmp.toString(), period: t.period.toString(), fsbValue: t.fsbValue, fsbAddr: t.fsbAddr,
        lineRoute: t.lineRoute, lineHigh: t.lineHigh, deadline: saveDeadline(t.timer.deadline),
      })),
    };
  }

  loadState(state: unknown): void {
    const w = this.name;
    const s = stateRecord(state, w);
    const ts = stateArray(s, 'timers', w, this.timers.length);
    const config = u32(s, 'config', w) & (HPET_ENABLE | HPET_LEGACY);
    const status = u32(s, 'status', w);
    const baseHi = u32(s, 'baseHi', w);
    const baseLo = u32(s, 'baseLo', w);
    const startNs = stateNum(s, 'startNs', w);
    if (!Number.isFinite(startNs)) throw new TypeError(`${w}: saved field startNs is not finite`);
    const pitLevel = stateBool(s, 'pitLevel', w);
    const rtcLevel = stateBool(s, 'rtcLevel', w);
    // Check every timer before changing anything: never half-loaded.
    const loaded = ts.map((raw, i) => {
      const tw = `${w}.timer${i}`;
      const r = stateRecord(raw, tw);
      const cfg = u32(r, 'config', tw);
      const lineRoute = stateNum(r, 'lineRoute', tw);
      if (!(Number.isInteger(lineRoute) && lineRoute >= -1 && lineRoute < 16)) throw new TypeError(`${tw}: bad lineRoute`);
      const deadline = stateNum(r, 'deadline', tw);
      return {
        config: (cfg & TN_WRITABLE) | TN_PER_CAP | TN_SIZE_CAP, cmp: u64(r, 'cmp', tw), period: u64(r, 'period', tw),
        fsbValue: u32(r, 'fsbValue', tw), fsbAddr: u32(r, 'fsbAddr', tw), lineRoute, lineHigh: stateBool(r, 'lineHigh', tw), deadline,
      };
    });
    this.config = config;
    this.status = status;
    this.baseHi = baseHi;
    this.baseLo = baseLo;
    this.startNs = startNs;
    this.pitLevel = pitLevel;
    this.rtcLevel = rtcLevel;
    // Line levels themselves are part of the PIC's saved state.
    loaded.forEach((l, i) => {
      const t = this.timers[i]!;
      t.config = l.config;
      t.cmp = l.cmp;
      t.period = l.period;
      t.fsbValue = l.fsbValue;
      t.fsbAddr = l.fsbAddr;
      t.lineRoute = l.lineRoute;
      t.lineHigh = l.lineHigh;
      t.timer.deadline = l.deadline;
    });
  }
}

function u32(s: StateRecord, key: string, what: string): number {
  const v = stateNum(s, key, what);
  if (!(Number.isInteger(v) && v >= 0 && v < TWO32)) throw new TypeError(`${what}: saved field ${key} is not a 32-bit value`);
  return v;
}

function u64(s: StateRecord, key: string, what: string): bigint {
  const v = s[key];
  if (typeof v !== 'string' || !/^[0-9]{1,20}$/.test(v) || BigInt(v) >= W64) throw new TypeError(`${what}: saved field ${key} is not a 64-bit value`);
  return BigInt(v);
}
