// Intel 82093AA I/O Advanced Programmable Interrupt Controller datasheet (order 290566):
// §3.0 IOREGSEL (0x00) and IOWIN (0x10) at 0xFEC00000, §3.2.1 IOAPICID, §3.2.2 IOAPICVER
// (version 0x11, 24 redirection entries), §3.2.3 IOAPICARB, §3.2.4 the redirection table
// (vector, delivery mode, destination mode, delivery status, polarity, remote IRR,
// trigger mode, mask, destination).
//
// Pins: the ISA IRQ lines reach the pins of the same number, except IRQ0 (the PIT, or
// the HPET's timer 0 in legacy replacement) which reaches pin 2, as the MADT's interrupt
// source override says and PC chipsets wire it. Lines are the devices' logical
// "asserted" levels: the polarity bit is kept for the guest but does not invert them.
// Edge-triggered pins deliver on a rising edge while unmasked (an edge on a masked pin
// is lost, §3.2.4 "Interrupt Mask"). Level-triggered pins deliver while asserted and
// their remote IRR is clear; the remote IRR is set when the local APIC takes the
// interrupt and cleared by its EOI of that vector (the local APIC's broadcast EOI: this
// version has no EOI register), after which a line still asserted delivers again.

import type { MmioHandler, PhysicalMemory } from '../memory/PhysicalMemory.js';
import type { ApicBus } from './LocalApic.js';
import type { Device } from './Device.js';
import { stateRecord, stateU32, stateU32s } from './support.js';

export const IOAPIC_BASE = 0xfec00000;
export const IOAPIC_WINDOW = 0x1000;
export const IOAPIC_PINS = 24;
/** The ID firmware gives it (the MADT names it so); the local APIC is 0. */
export const IOAPIC_ID = 1;
export const IOAPIC_VERSION = 0x11 | ((IOAPIC_PINS - 1) << 16);

const IOREGSEL = 0x00;
const IOWIN = 0x10;
const REG_ID = 0x00;
const REG_VERSION = 0x01;
const REG_ARB = 0x02;
const REG_TABLE = 0x10;

export const RTE_MASKED = 1 << 16;
export const RTE_LEVEL = 1 << 15;
export const RTE_REMOTE_IRR = 1 << 14;
const RTE_LOGICAL = 1 << 11;
/** Vector, delivery mode, destination mode, polarity, trigger mode, mask. */
const RTE_WRITABLE = 0x0001afff;
const DM_FIXED = 0;
const DM_LOWEST = 1;

/** The pin an ISA IRQ line reaches (IRQ0 → pin 2, as the MADT's override says). */
export function isaIrqPin(irq: number): number {
  return irq === 0 ? 2 : irq;
}

export class IoApic implements Device, MmioHandler {
  readonly name = 'ioapic';
  private id = IOAPIC_ID;
  private regsel = 0;
  private readonly lo = new Uint32Array(IOAPIC_PINS);
  private readonly hi = new Uint32Array(IOAPIC_PINS);
  /** Pin levels, bit n for pin n. */
  private lines = 0;

  constructor(private readonly bus: ApicBus) {
    this.reset();
  }

  attach(mem: PhysicalMemory, base = IOAPIC_BASE): void {
    mem.addMmio(base, IOAPIC_WINDOW, this.name, this);
  }

  /** Drive ISA interrupt line `irq` (0-15; IRQ2, the 8259 cascade, is no bus line: pin 2 is IRQ0's). */
  setIsaIrq(irq: number, level: boolean): void {
    if (irq !== 2) this.setPin(isaIrqPin(irq), level);
  }

  setPin(pin: number, level: boolean): void {
    const bit = 1 << pin;
    const was = (this.lines & bit) !== 0;
    this.lines = level ? this.lines | bit : this.lines & ~bit;
    const e = this.lo[pin]!;
    if (!level || (e & RTE_MASKED) !== 0) return;
    if ((e & RTE_LEVEL) !== 0 || !was) this.service(pin);
  }

  /** Send pin `pin`'s interrupt if it is due (unmasked; level: asserted with no remote IRR). */
  private service(pin: number): void {
    const e = this.lo[pin]!;
    if ((e & RTE_MASKED) !== 0) return;
    const level = (e & RTE_LEVEL) !== 0;
    if (level && ((e & RTE_REMOTE_IRR) !== 0 || (this.lines & (1 << pin)) === 0)) return;
    const dm = (e >> 8) & 7;
    // NMI, SMI, INIT and ExtINT deliveries have nothing to reach on this machine (no NMI
    // input, the 8259 reaches the CPU through LINT0).
    if (dm !== DM_FIXED && dm !== DM_LOWEST) return;
    const taken = this.bus.deliver(e & 0xff, level, this.hi[pin]! >>> 24, (e & RTE_LOGICAL) !== 0);
    if (level && taken) this.lo[pin] = e | RTE_REMOTE_IRR;
  }

  /** The local APIC's EOI of a level-triggered `vector`. */
  eoi(vector: number): void {
    for (let pin = 0; pin < IOAPIC_PINS; pin++) {
      const e = this.lo[pin]!;
      if ((e & RTE_REMOTE_IRR) !== 0 && (e & 0xff) === vector) {
        this.lo[pin] = e & ~RTE_REMOTE_IRR;
        this.service(pin);
      }
    }
  }

  private readRegister(r: number): number {
    switch (r) {
      case REG_ID: return this.id << 24;
      case REG_VERSION: return IOAPIC_VERSION;
      case REG_ARB: return this.id << 24;
      default: {
        const i = r - REG_TABLE;
        if (i < 0 || i >= 2 * IOAPIC_PINS) return 0xffffffff;
        return (i & 1) === 0 ? this.lo[i >> 1]! : this.hi[i >> 1]!;
      }
    }
  }

  private writeRegister(r: number, v: number): void {
    if (r === REG_ID) {
      this.id = (v >>> 24) & 0xf;
      return;
    }
    const i = r - REG_TABLE;
    if (i < 0 || i >= 2 * IOAPIC_PINS) return; // version, arbitration, absent entries: read-only
    const pin = i >> 1;
    if ((i & 1) !== 0) {
      this.hi[pin] = (v & 0xff000000) >>> 0;
      return;
    }
    let e = (this.lo[pin]! & ~RTE_WRITABLE) | (v & RTE_WRITABLE);
    if ((e & RTE_LEVEL) === 0) e &= ~RTE_REMOTE_IRR; // an edge pin has no remote IRR
    this.lo[pin] = e >>> 0;
    // Unmasked with its level line asserted: it is due now.
    if ((e & (RTE_MASKED | RTE_LEVEL)) === RTE_LEVEL) this.service(pin);
  }

  read(offset: number, size: 1 | 2 | 4): number {
    const reg = offset & ~3;
    let v: number;
    if (reg === IOREGSEL) v = this.regsel;
    else if (reg === IOWIN) v = this.readRegister(this.regsel);
    else v = 0;
    const shift = (offset & 3) * 8;
    return ((v >>> shift) & (size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff)) >>> 0;
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    const reg = offset & ~3;
    if (reg === IOREGSEL) {
      if ((offset & 3) === 0) this.regsel = value & 0xff;
    } else if (reg === IOWIN) {
      const shift = (offset & 3) * 8;
      if (size !== 4 || shift !== 0) {
        const mask = (size === 2 ? 0xffff : size === 1 ? 0xff : 0xffffffff) << shift;
        value = (this.readRegister(this.regsel) & ~mask) | ((value << shift) & mask);
      }
      this.writeRegister(this.regsel, value >>> 0);
    }
  }

  reset(): void {
    this.id = IOAPIC_ID;
    this.regsel = 0;
    this.lo.fill(RTE_MASKED);
    this.hi.fill(0);
    this.lines = 0; // as the 8259's: devices drive their lines again
  }

  saveState(): unknown {
    return { id: this.id, regsel: this.regsel, lo: [...this.lo], hi: [...this.hi], lines: this.lines };
  }

  loadState(state: unknown): void {
    const what = this.name;
    const s = stateRecord(state, what);
    const lo = stateU32s(s, 'lo', what, IOAPIC_PINS), hi = stateU32s(s, 'hi', what, IOAPIC_PINS);
    const id = stateU32(s, 'id', what), regsel = stateU32(s, 'regsel', what), lines = stateU32(s, 'lines', what);
    this.id = id & 0xf;
    this.regsel = regsel & 0xff;
    this.lines = lines & 0xffffff;
    for (let i = 0; i < IOAPIC_PINS; i++) {
      this.lo[i] = (lo[i]! & (RTE_WRITABLE | RTE_REMOTE_IRR)) >>> 0;
      this.hi[i] = (hi[i]! & 0xff000000) >>> 0;
    }
  }
}
