// Intel SDM vol. 3A ch. 11 "Advanced Programmable Interrupt Controller (APIC)", xAPIC
// mode: §11.4.1 the register map at 0xFEE00000, §11.4.3-4 IA32_APIC_BASE (enable bit;
// the window is not relocated), §11.4.6 ID, §11.4.8 version, §11.4.7.2 spurious-vector
// register and software enable, §11.5.1 LVT, §11.5.3 error status, §11.5.4 the timer
// (one-shot, periodic, TSC-deadline; divide configuration), §11.6.1 ICR, §11.6.2
// destinations, §11.8.3-5 IRR/ISR/TMR, TPR/PPR, EOI (a level-triggered vector's EOI is
// broadcast to the I/O APIC, §11.8.5).
//
// One CPU, so the ICR delivers fixed IPIs only to this APIC (self, all-including-self,
// or a destination that names it); INIT, SIPI, SMI and NMI messages have no other
// processor to reach and are not modelled. The CPU has no NMI input: LINT1 (NMI) and
// NMI deliveries are stored, never raised.
//
// The APIC is also the CPU's interrupt controller: it answers the CPU's acceptance
// checks first with its own highest deliverable vector, then with the 8259's INTR, which
// reaches the CPU while the APIC is disabled (IA32_APIC_BASE[11] clear) or LINT0 is
// unmasked in ExtINT mode, as the BIOS leaves it ("virtual wire", QEMU's reset state of
// the bootstrap processor). A guest that never touches the APIC sees the plain PIC.
//
// Time: the timer counts a 1 GHz bus clock (one tick per virtual ns, before the divider)
// derived from the VirtualClock and fires through one clock timer, so an idle guest
// sleeps to its next deadline; the TSC is the clock's ns plus the CPU's TSC offset.

import type { MmioHandler, PhysicalMemory } from '../memory/PhysicalMemory.js';
import type { Timer, VirtualClock } from '../machine/VirtualClock.js';
import type { CpuApicLink } from '../cpu/apicLink.js';
import type { Device, InterruptController } from './Device.js';
import { saveDeadline, stateBool, stateNum, stateRecord, stateU32, stateU32s } from './support.js';

export const LAPIC_BASE = 0xfee00000;
export const LAPIC_WINDOW = 0x1000;
/** Version 0x14 (integrated xAPIC), highest LVT entry 5 (timer, thermal, perf, LINT0, LINT1, error). */
export const LAPIC_VERSION = 0x00050014;

// IA32_APIC_BASE
export const APIC_BASE_BSP = 1 << 8;
export const APIC_BASE_ENABLE = 1 << 11;
const APIC_BASE_RESET = (LAPIC_BASE | APIC_BASE_BSP | APIC_BASE_ENABLE) >>> 0;

// Register offsets
export const REG_ID = 0x020;
export const REG_VERSION = 0x030;
export const REG_TPR = 0x080;
export const REG_APR = 0x090;
export const REG_PPR = 0x0a0;
export const REG_EOI = 0x0b0;
export const REG_RRD = 0x0c0;
export const REG_LDR = 0x0d0;
export const REG_DFR = 0x0e0;
export const REG_SVR = 0x0f0;
export const REG_ISR = 0x100;
export const REG_TMR = 0x180;
export const REG_IRR = 0x200;
export const REG_ESR = 0x280;
export const REG_ICR_LO = 0x300;
export const REG_ICR_HI = 0x310;
export const REG_LVT_TIMER = 0x320;
export const REG_LVT_ERROR = 0x370;
export const REG_TIMER_INIT = 0x380;
export const REG_TIMER_CUR = 0x390;
export const REG_TIMER_DIV = 0x3e0;

// LVT entries, in register order from 0x320
const LVT_TIMER = 0;
const LVT_LINT0 = 3;
const LVT_LINT1 = 4;
const LVT_ERROR = 5;
const LVT_COUNT = 6;
export const LVT_MASKED = 1 << 16;
const LVT_DM_SHIFT = 8;
const DM_FIXED = 0;
const DM_LOWEST = 1;
const DM_NMI = 4;
const DM_EXTINT = 7;
const LVT_LEVEL = 1 << 15;
/** What software may write in each LVT entry (vector, delivery mode, polarity, trigger, mask, timer mode). */
const LVT_WRITABLE = [0x000700ff, 0x000107ff, 0x000107ff, 0x0001a7ff, 0x0001a7ff, 0x000100ff] as const;
/** Timer modes (LVT timer bits 17-18). */
export const TIMER_ONESHOT = 0;
export const TIMER_PERIODIC = 1;
export const TIMER_TSC_DEADLINE = 2;

export const SVR_ENABLE = 1 << 8;
/** Vector and enable; focus checking (bit 9) kept as written; no EOI-broadcast suppression. */
const SVR_WRITABLE = 0x3ff;

// Error status bits
export const ESR_SEND_ILLEGAL_VECTOR = 1 << 5;
export const ESR_RECEIVE_ILLEGAL_VECTOR = 1 << 6;
export const ESR_ILLEGAL_REGISTER = 1 << 7;

/**
 * Shortest periodic interval the timer fires at (ns): a guest asking for shorter ones
 * still reads the count it programmed, but gets at most one interrupt per 10 µs of
 * virtual time, so it cannot turn the run loop into nothing but timer events.
 */
export const TIMER_MIN_PERIOD_NS = 10_000;

/** TSC-deadline timers further ahead than this (ns, ~104 days) are not armed. */
const TSC_DEADLINE_NEVER_NS = 2 ** 53;

/** How the I/O APIC reaches a local APIC (§11.6.2 destinations; a message on the APIC bus). */
export interface ApicBus {
  /** A fixed or lowest-priority interrupt: true when this APIC is a destination and took it into its IRR. */
  deliver(vector: number, level: boolean, dest: number, logical: boolean): boolean;
}

function highestBit(v: Uint32Array): number {
  for (let i = 7; i >= 0; i--) {
    const w = v[i]!;
    if (w !== 0) return i * 32 + 31 - Math.clz32(w);
  }
  return -1;
}

function setBit(v: Uint32Array, n: number, on: boolean): void {
  const w = n >>> 5, b = 1 << (n & 31);
  v[w] = on ? v[w]! | b : v[w]! & ~b;
}

function testBit(v: Uint32Array, n: number): boolean {
  return (v[n >>> 5]! & (1 << (n & 31))) !== 0;
}

export class LocalApic implements Device, MmioHandler, InterruptController, CpuApicLink, ApicBus {
  readonly name = 'lapic';

  /** Set by the machine: an interrupt may now be deliverable (the CPU re-checks at its next boundary). */
  notify: (() => void) | null = null;
  /** Set by the machine: EOI of a level-triggered vector, broadcast to the I/O APIC. */
  onEoi: ((vector: number) => void) | null = null;
  /** Set by the machine: the timer was armed for `deadline` (ns), so a running slice can end there. */
  onArm: ((deadline: number) => void) | null = null;
  /** Set by the machine: the CPU's TSC offset (TSC = virtual ns + offset). */
  tscOffset: () => number = () => 0;

  private baseMsr = APIC_BASE_RESET;
  private id = 0;
  private tpr = 0;
  private ldr = 0;
  private dfr = 0xffffffff;
  private svr = 0xff;
  private readonly isr = new Uint32Array(8);
  private readonly tmr = new Uint32Array(8);
  private readonly irr = new Uint32Array(8);
  /** ESR as last latched by a write, and errors seen since. */
  private esr = 0;
  private esrPending = 0;
  private icrLo = 0;
  private icrHi = 0;
  private readonly lvt = new Uint32Array(LVT_COUNT);
  private timerInitial = 0;
  private timerStartNs = 0;
  private dcr = 0;
  /** The one-shot count has reached zero (no further interrupt until the next initial count). */
  private timerDone = true;
  private deadlineTsc = 0;
  private readonly timer: Timer;

  constructor(private readonly clock: VirtualClock, private readonly pic: InterruptController) {
    this.timer = clock.addTimer('lapic', (now) => this.timerFired(now));
    this.powerOn();
  }

  attach(mem: PhysicalMemory, base = LAPIC_BASE): void {
    mem.addMmio(base, LAPIC_WINDOW, this.name, this);
  }

  private powerOn(): void {
    this.id = 0;
    this.registersReset();
  }

  /** Every register but the ID to its reset value (power-on, and hardware disable). */
  private registersReset(): void {
    this.tpr = 0;
    this.ldr = 0;
    this.dfr = 0xffffffff;
    this.svr = 0xff;
    this.isr.fill(0);
    this.tmr.fill(0);
    this.irr.fill(0);
    this.esr = 0;
    this.esrPending = 0;
    this.icrLo = 0;
    this.icrHi = 0;
    this.lvt.fill(LVT_MASKED);
    // As firmware leaves the bootstrap processor: LINT0 the 8259's virtual wire, LINT1 NMI.
    this.lvt[LVT_LINT0] = DM_EXTINT << LVT_DM_SHIFT;
    this.lvt[LVT_LINT1] = DM_NMI << LVT_DM_SHIFT;
    this.timerInitial = 0;
    this.timerStartNs = 0;
    this.dcr = 0;
    this.timerDone = true;
    this.deadlineTsc = 0;
    this.timer.deadline = Infinity;
  }

  // ---- CpuApicLink ----

  get base(): number {
    return this.baseMsr;
  }

  get enabled(): boolean {
    return (this.baseMsr & APIC_BASE_ENABLE) !== 0;
  }

  writeBase(value: number): void {
    const wasEnabled = this.enabled;
    // The BSP flag is the processor's, and the window stays at 0xFEE00000 (not relocated).
    this.baseMsr = ((this.baseMsr & ~APIC_BASE_ENABLE) | (value & APIC_BASE_ENABLE)) >>> 0;
    if (wasEnabled && !this.enabled) {
      // Disabled: as a processor without an APIC; when enabled again it starts from reset.
      this.registersReset();
      this.lvt[LVT_LINT0] = LVT_MASKED | (DM_EXTINT << LVT_DM_SHIFT);
    }
    this.update();
  }

  get tscDeadline(): number {
    return this.deadlineTsc;
  }

  writeTscDeadline(tsc: number): void {
    if (!this.enabled || this.timerMode() !== TIMER_TSC_DEADLINE) return; // ignored in the other modes
    this.deadlineTsc = tsc;
    this.arm(this.clock.now());
  }

  // ---- interrupt acceptance (InterruptController, for the CPU) ----

  private get swEnabled(): boolean {
    return (this.svr & SVR_ENABLE) !== 0;
  }

  /** The 8259's INTR reaches the CPU: no APIC in the way, or LINT0 an unmasked ExtINT input. */
  private passesPic(): boolean {
    return !this.enabled || (this.lvt[LVT_LINT0]! & (LVT_MASKED | (7 << LVT_DM_SHIFT))) === DM_EXTINT << LVT_DM_SHIFT;
  }

  /** Processor priority (§11.8.3.1). */
  private ppr(): number {
    const isrv = highestBit(this.isr);
    const isrClass = isrv < 0 ? 0 : isrv & 0xf0;
    return (this.tpr & 0xf0) >= isrClass ? this.tpr : isrClass;
  }

  /** The IRR vector the APIC would hand the CPU now, or -1. */
  private deliverable(): number {
    if (!this.enabled || !this.swEnabled) return -1;
    const v = highestBit(this.irr);
    return v >= 0 && (v & 0xf0) > (this.ppr() & 0xf0) ? v : -1;
  }

  hasInterrupt(): boolean {
    return this.deliverable() >= 0 || (this.passesPic() && this.pic.hasInterrupt());
  }

  acknowledge(): number {
    const v = this.deliverable();
    if (v >= 0) {
      setBit(this.irr, v, false);
      setBit(this.isr, v, true);
      return v;
    }
    if (this.passesPic() && this.pic.hasInterrupt()) return this.pic.acknowledge();
    return this.svr & 0xff; // the request went away before the CPU took it: spurious
  }

  private update(): void {
    if (this.deliverable() >= 0) this.notify?.();
  }

  /** Take `vector` into the IRR (edge or level); vectors 0-15 are refused with an error. */
  private accept(vector: number, level: boolean): void {
    if (vector < 16) {
      this.error(ESR_RECEIVE_ILLEGAL_VECTOR);
      return;
    }
    setBit(this.irr, vector, true);
    setBit(this.tmr, vector, level);
    this.update();
  }

  private error(bits: number): void {
    this.esrPending |= bits;
    const e = this.lvt[LVT_ERROR]!;
    // An error LVT with an illegal vector would only report itself again: it is not taken.
    if ((e & LVT_MASKED) === 0 && this.swEnabled && (e & 0xff) >= 16) this.accept(e & 0xff, false);
  }

  /** Raise a local interrupt through LVT entry `i` (timer, LINT0/1, error). */
  private raiseLocal(i: number): void {
    const e = this.lvt[i]!;
    if ((e & LVT_MASKED) !== 0 || !this.enabled || !this.swEnabled) return;
    const dm = (e >> LVT_DM_SHIFT) & 7;
    if (i === LVT_TIMER || dm === DM_FIXED) this.accept(e & 0xff, i !== LVT_TIMER && (e & LVT_LEVEL) !== 0);
  }

  // ---- ApicBus ----

  /** Whether `dest` in physical or logical mode (§11.6.2) names this APIC. */
  private isDestination(dest: number, logical: boolean): boolean {
    if (!logical) return dest === 0xff || dest === this.id;
    if (dest === 0xff) return true;
    const ldr = this.ldr >>> 24;
    if ((this.dfr >>> 28) === 0xf) return (ldr & dest) !== 0; // flat model
    return (ldr >> 4) === (dest >> 4) && (ldr & dest & 0xf) !== 0; // cluster model
  }

  deliver(vector: number, level: boolean, dest: number, logical: boolean): boolean {
    if (!this.enabled || !this.isDestination(dest, logical)) return false;
    this.accept(vector, level);
    return vector >= 16;
  }

  // ---- EOI and IPIs ----

  private eoi(): void {
    const v = highestBit(this.isr);
    if (v < 0) return;
    setBit(this.isr, v, false);
    if (testBit(this.tmr, v)) this.onEoi?.(v);
    this.update();
  }

  private sendIpi(): void {
    const lo = this.icrLo;
    const vector = lo & 0xff;
    const dm = (lo >> 8) & 7;
    if (dm !== DM_FIXED && dm !== DM_LOWEST) return; // INIT, SIPI, SMI, NMI: no other CPU to reach
    let toSelf: boolean;
    switch ((lo >> 18) & 3) {
      case 0: toSelf = this.isDestination(this.icrHi >>> 24, (lo & (1 << 11)) !== 0); break;
      case 3: toSelf = false; break; // all excluding self
      default: toSelf = true; // self, all including self
    }
    if (vector < 16) {
      this.error(ESR_SEND_ILLEGAL_VECTOR);
      return;
    }
    if (toSelf) this.accept(vector, false);
  }

  // ---- timer ----

  private timerMode(): number {
    return (this.lvt[LVT_TIMER]! >> 17) & 3;
  }

  /** Bus clocks per count: 2, 4, ... 128 or 1 (divide configuration bits 0, 1, 3). */
  private divisor(): number {
    const v = ((this.dcr >> 1) & 4) | (this.dcr & 3);
    return v === 7 ? 1 : 2 << v;
  }

  /** The current-count register at `now`. */
  private currentCount(now: number): number {
    const mode = this.timerMode();
    if (mode === TIMER_TSC_DEADLINE || this.timerInitial === 0) return 0;
    const counts = Math.floor((now - this.timerStartNs) / this.divisor());
    if (mode === TIMER_PERIODIC) return this.timerInitial - (counts % this.timerInitial);
    return counts >= this.timerInitial ? 0 : this.timerInitial - counts;
  }

  /** Set the clock timer for the next expiry (or disarm it). */
  private arm(now: number): void {
    let d = Infinity;
    const mode = this.timerMode();
    if (!this.enabled) {
      // a disabled APIC has no timer
    } else if (mode === TIMER_TSC_DEADLINE) {
      // A deadline further than ~104 days away is never (as the HPET's beyond its range).
      if (this.deadlineTsc !== 0) d = Math.max(this.deadlineTsc - this.tscOffset(), now);
      if (d - now > TSC_DEADLINE_NEVER_NS) d = Infinity;
    } else if (this.timerInitial !== 0) {
      const period = this.timerInitial * this.divisor();
      if (mode === TIMER_PERIODIC) {
        if ((this.lvt[LVT_TIMER]! & LVT_MASKED) === 0) {
          const step = Math.max(period, TIMER_MIN_PERIOD_NS);
          d = this.timerStartNs + (Math.floor((now - this.timerStartNs) / step) + 1) * step;
        }
      } else if (!this.timerDone) {
        d = this.timerStartNs + period;
      }
    }
    this.timer.deadline = d;
    if (d !== Infinity) this.onArm?.(d);
  }

  private timerFired(now: number): void {
    const mode = this.timerMode();
    if (mode === TIMER_TSC_DEADLINE) this.deadlineTsc = 0;
    else if (mode === TIMER_ONESHOT) this.timerDone = true;
    this.raiseLocal(LVT_TIMER);
    this.arm(now);
  }

  // ---- registers ----

  read(offset: number, size: 1 | 2 | 4): number {
    const v = this.readRegister(offset & 0xff0);
    const shift = (offset & 3) * 8;
    if (size === 4 && shift === 0) return v >>> 0;
    return ((v >>> shift) & (size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff)) >>> 0;
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    // Registers take 32-bit writes; a narrower one writes its bytes into the register.
    const reg = offset & 0xff0;
    if (size !== 4 || (offset & 0xf) !== 0) {
      const shift = (offset & 3) * 8;
      const mask = (size === 2 ? 0xffff : size === 1 ? 0xff : 0xffffffff) << shift;
      value = (this.readRegister(reg) & ~mask) | ((value << shift) & mask);
    }
    this.writeRegister(reg, value >>> 0);
  }

  private readRegister(reg: number): number {
    if (!this.enabled) return 0xffffffff; // no APIC on the bus
    if (reg >= REG_ISR && reg < REG_ISR + 0x80) return this.isr[(reg - REG_ISR) >> 4]!;
    if (reg >= REG_TMR && reg < REG_TMR + 0x80) return this.tmr[(reg - REG_TMR) >> 4]!;
    if (reg >= REG_IRR && reg < REG_IRR + 0x80) return this.irr[(reg - REG_IRR) >> 4]!;
    if (reg >= REG_LVT_TIMER && reg <= REG_LVT_ERROR) return this.lvt[(reg - REG_LVT_TIMER) >> 4]!;
    switch (reg) {
      case REG_ID: return this.id << 24;
      case REG_VERSION: return LAPIC_VERSION;
      case REG_TPR: return this.tpr;
      case REG_APR: return 0;
      case REG_PPR: return this.ppr();
      case REG_EOI: return 0;
      case REG_RRD: return 0;
      case REG_LDR: return this.ldr;
      case REG_DFR: return this.dfr;
      case REG_SVR: return this.svr;
      case REG_ESR: return this.esr;
      case REG_ICR_LO: return this.icrLo; // delivery status 0: every IPI is sent at once
      case REG_ICR_HI: return this.icrHi;
      case REG_TIMER_INIT: return this.timerInitial;
      case REG_TIMER_CUR: return this.currentCount(this.clock.now());
      case REG_TIMER_DIV: return this.dcr;
      default:
        this.error(ESR_ILLEGAL_REGISTER);
        return 0;
    }
  }

  private writeRegister(reg: number, v: number): void {
    if (!this.enabled) return;
    if (reg >= REG_LVT_TIMER && reg <= REG_LVT_ERROR) {
      this.writeLvt((reg - REG_LVT_TIMER) >> 4, v);
      return;
    }
    switch (reg) {
      case REG_ID: this.id = v >>> 24; return;
      case REG_TPR: this.tpr = v & 0xff; this.update(); return;
      case REG_EOI: this.eoi(); return;
      case REG_LDR: this.ldr = (v & 0xff000000) >>> 0; return;
      case REG_DFR: this.dfr = (v | 0x0fffffff) >>> 0; return;
      case REG_SVR: {
        this.svr = v & SVR_WRITABLE;
        // Software disable masks every LVT entry (§11.4.7.2).
        if (!this.swEnabled) for (let i = 0; i < LVT_COUNT; i++) this.lvt[i] = this.lvt[i]! | LVT_MASKED;
        this.arm(this.clock.now());
        this.update();
        return;
      }
      case REG_ESR:
        this.esr = this.esrPending;
        this.esrPending = 0;
        return;
      case REG_ICR_LO:
        this.icrLo = v & 0x000ccfff;
        this.sendIpi();
        return;
      case REG_ICR_HI: this.icrHi = (v & 0xff000000) >>> 0; return;
      case REG_TIMER_INIT: {
        if (this.timerMode() === TIMER_TSC_DEADLINE) return; // ignored in TSC-deadline mode
        const now = this.clock.now();
        this.timerInitial = v;
        this.timerStartNs = now;
        this.timerDone = v === 0;
        this.arm(now);
        return;
      }
      case REG_TIMER_DIV: {
        // The count goes on from where it is at the new rate.
        const now = this.clock.now();
        const cur = this.currentCount(now);
        this.dcr = v & 0xb;
        if (this.timerInitial !== 0 && this.timerMode() !== TIMER_TSC_DEADLINE) {
          this.timerStartNs = now - (this.timerInitial - cur) * this.divisor();
          this.arm(now);
        }
        return;
      }
      case REG_VERSION: case REG_APR: case REG_PPR: case REG_RRD:
      case REG_TIMER_CUR:
        return; // read-only
      default:
        if ((reg >= REG_ISR && reg < REG_IRR + 0x80)) return; // read-only
        this.error(ESR_ILLEGAL_REGISTER);
    }
  }

  private writeLvt(i: number, v: number): void {
    let e = v & LVT_WRITABLE[i]!;
    if (!this.swEnabled) e |= LVT_MASKED; // masks stay set while software-disabled
    if (i === LVT_TIMER) {
      const oldMode = this.timerMode();
      const newMode = (e >> 17) & 3;
      if (newMode === 3) e &= ~(3 << 17); // reserved mode: one-shot
      this.lvt[i] = (this.lvt[i]! & ~LVT_WRITABLE[i]!) | e;
      // Changing to or from TSC-deadline mode disarms the timer (§11.5.4.1).
      if ((oldMode === TIMER_TSC_DEADLINE) !== (this.timerMode() === TIMER_TSC_DEADLINE)) {
        this.timerInitial = 0;
        this.timerDone = true;
        this.deadlineTsc = 0;
      }
      this.arm(this.clock.now());
      return;
    }
    // Delivery status and remote IRR are read-only.
    this.lvt[i] = (this.lvt[i]! & ~LVT_WRITABLE[i]!) | e;
    if (i === LVT_LINT0 && this.passesPic() && this.pic.hasInterrupt()) this.notify?.();
  }

  // ---- Device ----

  reset(): void {
    this.baseMsr = APIC_BASE_RESET;
    this.powerOn();
  }

  saveState(): unknown {
    return {
      base: this.baseMsr, id: this.id, tpr: this.tpr, ldr: this.ldr, dfr: this.dfr, svr: this.svr,
      isr: [...this.isr], tmr: [...this.tmr], irr: [...this.irr], esr: this.esr, esrPending: this.esrPending,
      icrLo: this.icrLo, icrHi: this.icrHi, lvt: [...this.lvt],
      timerInitial: this.timerInitial, timerStartNs: this.timerStartNs, dcr: this.dcr, timerDone: this.timerDone,
      tscDeadline: this.deadlineTsc, deadline: saveDeadline(this.timer.deadline),
    };
  }

  loadState(state: unknown): void {
    const what = this.name;
    const s = stateRecord(state, what);
    // Everything is checked before anything changes.
    const r = (k: string): number => stateU32(s, k, what);
    const isr = stateU32s(s, 'isr', what, 8), tmr = stateU32s(s, 'tmr', what, 8), irr = stateU32s(s, 'irr', what, 8);
    const lvt = stateU32s(s, 'lvt', what, LVT_COUNT);
    const v = {
      base: r('base'), id: r('id'), tpr: r('tpr'), ldr: r('ldr'), dfr: r('dfr'), svr: r('svr'), esr: r('esr'),
      esrPending: r('esrPending'), icrLo: r('icrLo'), icrHi: r('icrHi'), timerInitial: r('timerInitial'), dcr: r('dcr'),
    };
    const timerStartNs = stateNum(s, 'timerStartNs', what);
    const tscDeadline = stateNum(s, 'tscDeadline', what);
    const deadline = stateNum(s, 'deadline', what);
    if (!Number.isFinite(timerStartNs) || !(Number.isFinite(tscDeadline) && tscDeadline >= 0) || !(deadline >= 0)) {
      throw new TypeError(`${what}: saved timer out of range`);
    }
    const timerDone = stateBool(s, 'timerDone', what);
    this.baseMsr = ((v.base & (APIC_BASE_BSP | APIC_BASE_ENABLE)) | LAPIC_BASE) >>> 0;
    this.id = v.id & 0xff;
    this.tpr = v.tpr & 0xff;
    this.ldr = (v.ldr & 0xff000000) >>> 0;
    this.dfr = (v.dfr | 0x0fffffff) >>> 0;
    this.svr = v.svr & SVR_WRITABLE;
    this.isr.set(isr);
    this.tmr.set(tmr);
    this.irr.set(irr);
    this.esr = v.esr & 0xff;
    this.esrPending = v.esrPending & 0xff;
    this.icrLo = v.icrLo & 0x000ccfff;
    this.icrHi = (v.icrHi & 0xff000000) >>> 0;
    for (let i = 0; i < LVT_COUNT; i++) this.lvt[i] = lvt[i]! & (LVT_WRITABLE[i]! | (1 << 12) | (1 << 14));
    this.timerInitial = v.timerInitial;
    this.timerStartNs = timerStartNs;
    this.dcr = v.dcr & 0xb;
    this.timerDone = timerDone;
    this.deadlineTsc = tscDeadline;
    this.timer.deadline = deadline;
    this.update();
  }

}
