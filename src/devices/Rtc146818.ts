// Motorola MC146818A RTC datasheet (registers A-D, "Update Cycle", "Periodic Interrupt Rates" table 4) with IBM AT CMOS layout.

import type { IoBus, PortHandler } from '../machine/IoBus.js';
import type { Timer, VirtualClock } from '../machine/VirtualClock.js';
import type { Device, IrqLine } from './Device.js';
import { fromBcd, nsToTicks, stateBool, stateBytes, stateNum, stateRecord, ticksToNs, toBcd } from './support.js';

// Register indices.
const SECONDS = 0x00;
const SECONDS_ALARM = 0x01;
const MINUTES = 0x02;
const MINUTES_ALARM = 0x03;
const HOURS = 0x04;
const HOURS_ALARM = 0x05;
const DAY_OF_WEEK = 0x06;
const DAY_OF_MONTH = 0x07;
const MONTH = 0x08;
const YEAR = 0x09;
const REG_A = 0x0a;
const REG_B = 0x0b;
const REG_C = 0x0c;
const REG_D = 0x0d;
const CENTURY = 0x32;

// Register A
const A_UIP = 0x80;
// Register B
const B_SET = 0x80;
const B_PIE = 0x40;
const B_AIE = 0x20;
const B_UIE = 0x10;
const B_DM_BINARY = 0x04;
const B_24H = 0x02;
// Register C
const C_IRQF = 0x80;
const C_PF = 0x40;
const C_AF = 0x20;
const C_UF = 0x10;

/** Time base of the divider chain. */
const XTAL_HZ = 32768;
/** UIP rises tBUC = 244 µs before each update (the update itself is instantaneous here). */
const UIP_NS = 244_000;
const SEC_NS = 1e9;

export interface RtcOptions {
  /** Bytes of guest RAM below 4 GiB (sets the CMOS memory size fields). */
  ramSize: number;
  /** Bytes of guest RAM above 4 GiB (CMOS 0x5b-0x5d). */
  ramAbove4G?: number;
  /** Wall-clock time at power-on in ms since the Unix epoch (UTC). Defaults to the host's time. */
  startTimeMs?: number;
}

/** MC146818 RTC + 128 bytes of CMOS at ports 0x70 (index, bit 7 = NMI disable) and 0x71 (data). IRQ8. */
export class Rtc146818 implements Device {
  readonly name = 'rtc146818';
  private readonly cmos = new Uint8Array(128);
  private index = 0;
  private nmiDisabledBit = true;
  /** The time is epochAtBase + floor((now - baseNs) / 1 s); baseNs <= now and marks the update phase. */
  private epochAtBase = 0;
  private baseNs = 0;
  /** The epoch second the time registers were last filled from (NaN: refill on next read). */
  private cachedEpoch = NaN;
  /** Last periodic-interrupt index and update (second) index already reflected in register C. */
  private pfIndex = 0;
  private ufIndex = 0;
  private irqLevel = false;
  private readonly timer: Timer;
  private readonly initialCmos: Uint8Array;

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

  /** `opts` may be just the RAM size below 4 GiB in bytes. */
  constructor(private readonly clock: VirtualClock, private readonly irq8: IrqLine, options: RtcOptions | number) {
    const opts: RtcOptions = typeof options === 'number' ? { ramSize: options } : options;
    this.timer = clock.addTimer('rtc', (now) => this.onTimer(now));
    const c = this.cmos;
    c[REG_A] = 0x26; // 32.768 kHz time base, 1024 Hz periodic rate
    c[REG_B] = B_24H; // BCD, 24-hour
    c[REG_D] = 0x80; // valid RAM and time
    c[0x10] = 0x00; // no floppy drives
    c[0x12] = 0x00; // no fixed disks
    c[0x14] = 0x02; // equipment: math coprocessor present, VGA, no floppy
    // Base memory: 640 KiB.
    c[0x15] = 640 & 0xff;
    c[0x16] = 640 >> 8;
    // Extended memory above 1 MiB in KiB, capped at 63 MiB as AT BIOSes do.
    const ram = opts.ramSize;
    const extKiB = Math.min(Math.max(0, Math.floor((ram - 0x100000) / 1024)), 63 * 1024);
    c[0x17] = c[0x30] = extKiB & 0xff;
    c[0x18] = c[0x31] = extKiB >> 8;
    // Memory above 16 MiB (below 4 GiB) in 64 KiB units.
    const over16 = Math.min(Math.max(0, Math.floor((ram - 0x1000000) / 0x10000)), 0xffff);
    c[0x34] = over16 & 0xff;
    c[0x35] = over16 >> 8;
    // Memory above 4 GiB in 64 KiB units (24 bits).
    const above4g = Math.min(Math.floor((opts.ramAbove4G ?? 0) / 0x10000), 0xffffff);
    c[0x5b] = above4g & 0xff;
    c[0x5c] = (above4g >> 8) & 0xff;
    c[0x5d] = (above4g >> 16) & 0xff;
    // Checksum of 0x10-0x2d, big-endian at 0x2e/0x2f.
    let sum = 0;
    for (let i = 0x10; i <= 0x2d; i++) sum += c[i]!;
    c[0x2e] = (sum >> 8) & 0xff;
    c[0x2f] = sum & 0xff;
    this.initialCmos = c.slice();
    const ms = opts.startTimeMs ?? Date.now();
    this.epochAtBase = Math.floor(ms / 1000);
    this.baseNs = clock.now() - (ms - this.epochAtBase * 1000) * 1e6;
    this.pfIndex = this.periodicIndex(clock.now());
    this.ufIndex = this.secondIndex(clock.now());
  }

  /** Register ports 0x70-0x71. */
  attach(bus: IoBus): void {
    bus.register(0x70, 2, this.name, this.ports);
  }

  /** Bit 7 of the last index write: NMIs are masked. */
  get nmiMasked(): boolean {
    return this.nmiDisabledBit;
  }

  /** The RTC's current time, seconds since the Unix epoch (UTC). */
  epochSeconds(): number {
    const now = this.clock.now();
    if (this.frozen()) return this.parseRegisters() ?? this.currentEpoch(now);
    return this.currentEpoch(now);
  }

  /** Direct CMOS access for firmware/boot code (no side effects on the clock registers). */
  cmosByte(index: number): number {
    return this.cmos[index & 0x7f]!;
  }

  setCmosByte(index: number, value: number): void {
    this.cmos[index & 0x7f] = value;
  }

  // ---- time keeping ----

  private frozen(): boolean {
    return (this.cmos[REG_B]! & B_SET) !== 0 || !this.dividerRunning();
  }

  private dividerRunning(): boolean {
    return (this.cmos[REG_A]! & 0x60) !== 0x60; // DV2-DV1 = 11: divider chain held in reset
  }

  private secondIndex(now: number): number {
    return Math.floor((now - this.baseNs) / SEC_NS);
  }

  private currentEpoch(now: number): number {
    return this.epochAtBase + this.secondIndex(now);
  }

  /** Cycles of the 32.768 kHz base per periodic interrupt, or 0 when RS = 0. */
  private periodCycles(): number {
    const rs = this.cmos[REG_A]! & 0x0f;
    if (rs === 0) return 0;
    return rs <= 2 ? 1 << (rs + 6) : 1 << (rs - 1);
  }

  private periodicIndex(now: number): number {
    const cycles = this.periodCycles();
    if (cycles === 0) return 0;
    return Math.floor(nsToTicks(now - this.baseNs, XTAL_HZ) / cycles);
  }

  private encode(v: number): number {
    return this.cmos[REG_B]! & B_DM_BINARY ? v : toBcd(v);
  }

  private decode(v: number): number {
    return this.cmos[REG_B]! & B_DM_BINARY ? v : fromBcd(v);
  }

  private encodeHour(h: number): number {
    if (this.cmos[REG_B]! & B_24H) return this.encode(h);
    return this.encode(h % 12 === 0 ? 12 : h % 12) | (h >= 12 ? 0x80 : 0);
  }

  private decodeHour(v: number): number {
    if (this.cmos[REG_B]! & B_24H) return this.decode(v);
    return (this.decode(v & 0x7f) % 12) + (v & 0x80 ? 12 : 0);
  }

  /** Fill the time registers from the running clock (only when the second changed). */
  private syncRegisters(now: number): void {
    if (this.frozen()) return;
    const e = this.currentEpoch(now);
    if (e === this.cachedEpoch) return;
    this.cachedEpoch = e;
    const d = new Date(e * 1000);
    const c = this.cmos;
    c[SECONDS] = this.encode(d.getUTCSeconds());
    c[MINUTES] = this.encode(d.getUTCMinutes());
    c[HOURS] = this.encodeHour(d.getUTCHours());
    c[DAY_OF_WEEK] = this.encode(d.getUTCDay() + 1);
    c[DAY_OF_MONTH] = this.encode(d.getUTCDate());
    c[MONTH] = this.encode(d.getUTCMonth() + 1);
    const year = d.getUTCFullYear();
    c[YEAR] = this.encode(year % 100);
    c[CENTURY] = this.encode(Math.floor(year / 100));
  }

  /** The time the registers hold, or null when they do not form a date. */
  private parseRegisters(): number | null {
    const c = this.cmos;
    const year = this.decode(c[CENTURY]!) * 100 + this.decode(c[YEAR]!);
    const ms = Date.UTC(year, this.decode(c[MONTH]!) - 1, this.decode(c[DAY_OF_MONTH]!),
      this.decodeHour(c[HOURS]!), this.decode(c[MINUTES]!), this.decode(c[SECONDS]!));
    if (!Number.isFinite(ms)) return null;
    return Math.floor(ms / 1000);
  }

  /** Restart the running clock from the registers, keeping (or resetting) the update phase. */
  private startFromRegisters(now: number, phaseReset: boolean): void {
    const e = this.parseRegisters() ?? this.currentEpoch(now);
    if (phaseReset) {
      // After a divider reset the first update comes 500 ms later.
      this.baseNs = now - SEC_NS / 2;
    } else {
      this.baseNs += this.secondIndex(now) * SEC_NS;
    }
    this.epochAtBase = e;
    this.cachedEpoch = e;
    this.pfIndex = this.periodicIndex(now);
    this.ufIndex = this.secondIndex(now);
  }

  // ---- interrupts ----

  /** Fold periodic and update events up to `now` into register C, drive IRQ8 and re-arm the timer. */
  private account(now: number): void {
    const c = this.cmos;
    if (!this.frozen()) {
      if (this.periodCycles() !== 0) {
        const p = this.periodicIndex(now);
        if (p > this.pfIndex) {
          this.pfIndex = p;
          c[REG_C] = c[REG_C]! | C_PF;
        }
      }
      const s = this.secondIndex(now);
      if (s > this.ufIndex) {
        this.ufIndex = s;
        c[REG_C] = c[REG_C]! | C_UF;
        this.syncRegisters(now);
        if (this.alarmMatches()) c[REG_C] = c[REG_C]! | C_AF;
      }
    }
    this.updateIrq();
    this.armTimer(now);
  }

  private alarmMatches(): boolean {
    const c = this.cmos;
    const match = (alarm: number, value: number): boolean => (alarm & 0xc0) === 0xc0 || alarm === value;
    return match(c[SECONDS_ALARM]!, c[SECONDS]!) && match(c[MINUTES_ALARM]!, c[MINUTES]!) && match(c[HOURS_ALARM]!, c[HOURS]!);
  }

  private updateIrq(): void {
    const c = this.cmos;
    const irqf = (c[REG_C]! & c[REG_B]! & (C_PF | C_AF | C_UF)) !== 0;
    c[REG_C] = irqf ? c[REG_C]! | C_IRQF : c[REG_C]! & ~C_IRQF;
    if (irqf !== this.irqLevel) {
      this.irqLevel = irqf;
      this.irq8(irqf);
    }
  }

  private armTimer(now: number): void {
    let deadline = Infinity;
    const b = this.cmos[REG_B]!;
    if (!this.frozen()) {
      const cycles = this.periodCycles();
      if (cycles !== 0 && b & B_PIE) {
        deadline = this.baseNs + ticksToNs((this.pfIndex + 1) * cycles, XTAL_HZ);
      }
      if (b & (B_UIE | B_AIE)) {
        deadline = Math.min(deadline, this.baseNs + (this.ufIndex + 1) * SEC_NS);
      }
    }
    this.timer.deadline = deadline < now ? now : deadline;
  }

  private onTimer(now: number): void {
    this.account(now);
  }

  // ---- port access ----

  private readByte(port: number): number {
    if (port !== 0x71) return 0xff; // the index register is write-only
    const now = this.clock.now();
    const i = this.index;
    switch (i) {
      case REG_A: {
        let a = this.cmos[REG_A]! & 0x7f;
        if (!this.frozen() && (now - this.baseNs) % SEC_NS >= SEC_NS - UIP_NS) a |= A_UIP;
        return a;
      }
      case REG_C: {
        this.account(now);
        const v = this.cmos[REG_C]!;
        this.cmos[REG_C] = 0;
        this.updateIrq();
        return v;
      }
      case REG_D:
        return 0x80;
      case SECONDS: case MINUTES: case HOURS: case DAY_OF_WEEK:
      case DAY_OF_MONTH: case MONTH: case YEAR: case CENTURY:
        this.syncRegisters(now);
        return this.cmos[i]!;
      default:
        return this.cmos[i]!;
    }
  }

  private writeByte(port: number, v: number): void {
    if (port === 0x70) {
      this.index = v & 0x7f;
      this.nmiDisabledBit = (v & 0x80) !== 0;
      return;
    }
    if (port !== 0x71) return;
    const now = this.clock.now();
    const i = this.index;
    const c = this.cmos;
    switch (i) {
      case REG_A: {
        this.account(now);
        const wasRunning = this.dividerRunning();
        const frozenBefore = this.frozen();
        if (!frozenBefore) this.syncRegisters(now);
        const oldRs = c[REG_A]! & 0x0f;
        c[REG_A] = v & 0x7f;
        const running = this.dividerRunning();
        if (!this.frozen() && frozenBefore) {
          this.startFromRegisters(now, !wasRunning && running);
        } else if ((v & 0x0f) !== oldRs) {
          this.pfIndex = this.periodicIndex(now);
        }
        this.account(now);
        return;
      }
      case REG_B: {
        this.account(now);
        const frozenBefore = this.frozen();
        if (!frozenBefore) this.syncRegisters(now);
        const old = c[REG_B]!;
        let nb = v;
        if (nb & B_SET) nb &= ~B_UIE; // SET clears UIE
        c[REG_B] = nb;
        if (frozenBefore && !this.frozen()) {
          this.startFromRegisters(now, false);
        } else if (!this.frozen() && ((old ^ nb) & (B_DM_BINARY | B_24H)) !== 0) {
          this.cachedEpoch = NaN; // re-encode in the new format
        }
        this.account(now);
        return;
      }
      case REG_C:
      case REG_D:
        return; // read-only
      case SECONDS: case MINUTES: case HOURS: case DAY_OF_WEEK:
      case DAY_OF_MONTH: case MONTH: case YEAR: case CENTURY:
        if (this.frozen()) {
          c[i] = v;
          return;
        }
        // Written while running: the clock carries on from the new value, same phase.
        this.syncRegisters(now);
        c[i] = v;
        {
          const e = this.parseRegisters();
          if (e !== null) {
            this.epochAtBase = e - this.secondIndex(now);
            this.cachedEpoch = i === DAY_OF_WEEK ? e : NaN;
          }
        }
        return;
      default:
        c[i] = v;
    }
  }

  reset(): void {
    // The RESET pin clears the interrupt enables and flags; time and CMOS survive.
    const now = this.clock.now();
    this.account(now);
    this.cmos[REG_B] = this.cmos[REG_B]! & ~(B_PIE | B_AIE | B_UIE | 0x08);
    this.cmos[REG_C] = 0;
    this.updateIrq();
    this.armTimer(now);
  }

  /** Back to the power-on CMOS contents (a machine built afresh), keeping the current time. */
  clearCmos(): void {
    const now = this.clock.now();
    const e = this.epochSeconds();
    this.cmos.set(this.initialCmos);
    this.epochAtBase = e;
    this.baseNs = now - ((now - this.baseNs) % SEC_NS);
    this.cachedEpoch = NaN;
    this.pfIndex = this.periodicIndex(now);
    this.ufIndex = this.secondIndex(now);
    this.updateIrq();
    this.armTimer(now);
  }

  saveState(): unknown {
    return {
      cmos: Array.from(this.cmos),
      index: this.index,
      nmiDisabled: this.nmiDisabledBit,
      epochAtBase: this.epochAtBase,
      baseNs: this.baseNs,
      pfIndex: this.pfIndex,
      ufIndex: this.ufIndex,
      irqLevel: this.irqLevel,
    };
  }

  loadState(state: unknown): void {
    const w = this.name;
    const s = stateRecord(state, w);
    this.cmos.set(stateBytes(s, 'cmos', w, 128));
    this.index = stateNum(s, 'index', w) & 0x7f;
    this.nmiDisabledBit = stateBool(s, 'nmiDisabled', w);
    this.epochAtBase = stateNum(s, 'epochAtBase', w);
    this.baseNs = stateNum(s, 'baseNs', w);
    this.pfIndex = stateNum(s, 'pfIndex', w);
    this.ufIndex = stateNum(s, 'ufIndex', w);
    this.irqLevel = stateBool(s, 'irqLevel', w); // the line's level lives in the PIC's state
    this.cachedEpoch = NaN;
    this.armTimer(this.clock.now());
  }
}
