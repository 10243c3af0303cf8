// ACPI Specification 6.4 §4.8 fixed hardware: PM1 event/control registers (§4.8.3.1-2) and the PM timer (§4.8.3.3).

import type { IoBus, PortHandler } from '../machine/IoBus.js';
import type { Timer, VirtualClock } from '../machine/VirtualClock.js';
import type { Device, IrqLine } from './Device.js';
import { nsToTicks, stateBool, stateNum, stateRecord, ticksToNs } from './support.js';

/** The PM timer's clock: 3.579545 MHz (the NTSC colour burst crystal). */
export const PM_TIMER_HZ = 3579545;

// Port layout agreed with src/boot/Acpi.ts (the FADT points here).
export const PM1A_EVT_BLK = 0x600; // status 0x600-0x601, enable 0x602-0x603
export const PM1A_CNT_BLK = 0x604; // 2 bytes
export const PM_TMR_BLK = 0x608; // 4 bytes

// PM1 status / enable bits
export const PM1_TMR = 1 << 0;
export const PM1_BM_STS = 1 << 4;
export const PM1_GBL = 1 << 5;
export const PM1_PWRBTN = 1 << 8;
export const PM1_SLPBTN = 1 << 9;
export const PM1_RTC = 1 << 10;
export const PM1_WAK_STS = 1 << 15;
const PM1_EVENTS = PM1_TMR | PM1_GBL | PM1_PWRBTN | PM1_SLPBTN | PM1_RTC;
const PM1_STS_BITS = PM1_EVENTS | PM1_BM_STS | PM1_WAK_STS;
// PM1 control bits
const CNT_SCI_EN = 1 << 0;
const CNT_WRITABLE = (1 << 1) | (7 << 10); // BM_RLD, SLP_TYP
const CNT_SLP_EN = 1 << 13;

/** The timer's bit 23 flips every 2^23 ticks; each flip sets TMR_STS. */
const TMR_HALF = 1 << 23;

/**
 * ACPI PM1a event/control blocks and PM timer. The machine is always in ACPI mode
 * (SCI_EN reads 1; there is no SMI_CMD). Writing SLP_TYP = `s5SlpTyp` with SLP_EN powers off.
 */
export class AcpiPm implements Device {
  readonly name = 'acpi-pm';
  /** S5 requested (SLP_TYP = 5 with SLP_EN). */
  onPowerOff: (() => void) | null = null;
  /** Any other sleep state requested (the DSDT only offers \_S5, so Linux never asks). */
  onSleep: ((slpTyp: number) => void) | null = null;

  private sts = 0;
  private en = 0;
  private cnt = CNT_SCI_EN;
  /** Timer half-periods (flips of bit 23) already folded into TMR_STS. */
  private tmrFlips = 0;
  private sciLevel = false;
  private readonly timer: Timer;

  private readonly ports: PortHandler = {
    read: (port, size) => {
      if (port === PM_TMR_BLK && size === 4) return this.timerValue();
      let v = 0;
      for (let i = 0; i < size; i++) v |= this.readByte(port + i) << (8 * i);
      return v >>> 0;
    },
    write: (port, size, value) => {
      for (let i = 0; i < size; i++) this.writeByte(port + i, (value >>> (8 * i)) & 0xff);
    },
  };

  constructor(private readonly clock: VirtualClock, private readonly sci: IrqLine, readonly s5SlpTyp = 5) {
    this.timer = clock.addTimer('acpi-pm-tmr', (now) => this.onTimer(now));
    this.tmrFlips = this.flips(clock.now());
  }

  /** Register 0x600-0x60B (PM1a_EVT, PM1a_CNT, PM_TMR). */
  attach(bus: IoBus): void {
    bus.register(PM1A_EVT_BLK, 4, 'acpi-pm1-evt', this.ports);
    bus.register(PM1A_CNT_BLK, 2, 'acpi-pm1-cnt', this.ports);
    bus.register(PM_TMR_BLK, 4, 'acpi-pm-tmr', this.ports);
  }

  /** Press the (fixed-feature) power button: PWRBTN_STS, SCI if the OS enabled it. */
  pressPowerButton(): void {
    this.sts |= PM1_PWRBTN;
    this.update(this.clock.now());
  }

  /** The 24-bit PM timer value now. */
  timerValue(): number {
    return nsToTicks(this.clock.now(), PM_TIMER_HZ) & 0xffffff;
  }

  private flips(now: number): number {
    return Math.floor(nsToTicks(now, PM_TIMER_HZ) / TMR_HALF);
  }

  /** Fold timer flips into TMR_STS, drive the SCI and arm the timer when TMR_EN wants it. */
  private update(now: number): void {
    const f = this.flips(now);
    if (f > this.tmrFlips) {
      this.tmrFlips = f;
      this.sts |= PM1_TMR;
    }
    const level = (this.cnt & CNT_SCI_EN) !== 0 && (this.sts & this.en & PM1_EVENTS) !== 0;
    if (level !== this.sciLevel) {
      this.sciLevel = level;
      this.sci(level);
    }
    this.timer.deadline = this.en & PM1_TMR && !(this.sts & PM1_TMR) ? ticksToNs((this.tmrFlips + 1) * TMR_HALF, PM_TIMER_HZ) : Infinity;
  }

  private onTimer(now: number): void {
    this.update(now);
  }

  private readByte(port: number): number {
    switch (port) {
      case PM1A_EVT_BLK:
      case PM1A_EVT_BLK + 1:
        this.update(this.clock.now());
        return port === PM1A_EVT_BLK ? this.sts & 0xff : this.sts >> 8;
      case PM1A_EVT_BLK + 2:
        return this.en & 0xff;
      case PM1A_EVT_BLK + 3:
        return this.en >> 8;
      case PM1A_CNT_BLK:
        return this.cnt & 0xff;
      case PM1A_CNT_BLK + 1:
        return (this.cnt >> 8) & ~(CNT_SLP_EN >> 8);
      case PM_TMR_BLK:
      case PM_TMR_BLK + 1:
      case PM_TMR_BLK + 2:
      case PM_TMR_BLK + 3:
        return (this.timerValue() >>> (8 * (port - PM_TMR_BLK))) & 0xff;
      default:
        return 0xff;
    }
  }

  private writeByte(port: number, v: number): void {
    const now = this.clock.now();
    switch (port) {
      case PM1A_EVT_BLK:
      case PM1A_EVT_BLK + 1: {
        this.update(now);
        const shift = 8 * (port - PM1A_EVT_BLK);
        this.sts &= ~((v << shift) & PM1_STS_BITS); // write 1 to clear
        break;
      }
      case PM1A_EVT_BLK + 2:
        this.en = (this.en & 0xff00) | (v & PM1_EVENTS & 0xff);
        break;
      case PM1A_EVT_BLK + 3:
        this.en = (this.en & 0x00ff) | ((v << 8) & PM1_EVENTS);
        break;
      case PM1A_CNT_BLK:
        this.cnt = CNT_SCI_EN | (this.cnt & CNT_WRITABLE & 0xff00) | (v & CNT_WRITABLE & 0xff);
        break;
      case PM1A_CNT_BLK + 1: {
        this.cnt = CNT_SCI_EN | (this.cnt & CNT_WRITABLE & 0xff) | ((v << 8) & CNT_WRITABLE);
        if ((v << 8) & CNT_SLP_EN) {
          const typ = (this.cnt >> 10) & 7;
          if (typ === this.s5SlpTyp) this.onPowerOff?.();
          else this.onSleep?.(typ);
        }
        break;
      }
      default:
        return; // the PM timer is read-only
    }
    this.update(now);
  }

  reset(): void {
    this.sts = 0;
    this.en = 0;
    this.cnt = CNT_SCI_EN;
    this.tmrFlips = this.flips(this.clock.now());
    this.update(this.clock.now());
  }

  saveState(): unknown {
    return { sts: this.sts, en: this.en, cnt: this.cnt, tmrFlips: this.tmrFlips, sciLevel: this.sciLevel };
  }

  loadState(state: unknown): void {
    const w = this.name;
    const s = stateRecord(state, w);
    this.sts = stateNum(s, 'sts', w) & PM1_STS_BITS;
    this.en = stateNum(s, 'en', w) & PM1_EVENTS;
    this.cnt = (stateNum(s, 'cnt', w) & CNT_WRITABLE) | CNT_SCI_EN;
    this.tmrFlips = stateNum(s, 'tmrFlips', w);
    this.sciLevel = stateBool(s, 'sciLevel', w); // the line's level lives in the PIC's state
    this.timer.deadline = this.en & PM1_TMR && !(this.sts & PM1_TMR) ? ticksToNs((this.tmrFlips + 1) * TMR_HALF, PM_TIMER_HZ) : Infinity;
  }
}
