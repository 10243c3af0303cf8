// Intel 8259A PIC datasheet (order 231468): ICW1-4, OCW1-3, cascade (AT wiring); ELCR per Intel 82371SB PIIX3 datasheet §4.1.

import type { IoBus, PortHandler } from '../machine/IoBus.js';
import type { Device, InterruptController, IrqLine } from './Device.js';
import { stateBool, stateNum, stateRecord, type StateRecord } from './support.js';

/** One 8259A chip. All fields are small integers or booleans (the saved state). */
class Chip {
  /** Interrupt request register. */
  irr = 0;
  /** In-service register. */
  isr = 0;
  /** Interrupt mask register (OCW1). */
  imr = 0xff;
  /** Current level of the eight IR inputs (for edge detection and level mode). */
  lines = 0;
  /** Edge/level control (PIIX ELCR): bit set = level-triggered line. */
  elcr = 0;
  /** Vector base from ICW2 (bits 7-3). */
  vectorBase: number;
  /** Next ICW expected on the data port: 0 = none (OCW1), 2, 3 or 4. */
  initStep = 0;
  needIcw4 = false;
  single = false;
  icw3 = 0;
  autoEoi = false;
  rotateOnAutoEoi = false;
  /** Special fully nested mode (ICW4 bit 4), meaningful on the master. */
  sfnm = false;
  /** OCW3 RR/RIS: the command port reads ISR instead of IRR. */
  readIsr = false;
  /** OCW3 special mask mode. */
  specialMask = false;
  /** OCW3 poll command issued: the next read is the poll word. */
  poll = false;
  /** The IR level that currently has the highest priority (rotation). */
  priorityBase = 0;

  constructor(readonly elcrMask: number, readonly defaultVector: number) {
    this.vectorBase = defaultVector;
  }

  powerOn(): void {
    this.irr = 0;
    this.isr = 0;
    this.imr = 0xff;
    this.lines = 0;
    this.elcr = 0;
    this.vectorBase = this.defaultVector;
    this.initStep = 0;
    this.needIcw4 = false;
    this.single = false;
    this.icw3 = 0;
    this.autoEoi = false;
    this.rotateOnAutoEoi = false;
    this.sfnm = false;
    this.readIsr = false;
    this.specialMask = false;
    this.poll = false;
    this.priorityBase = 0;
  }

  /** Rank 0 (highest) .. 7 of IR level `irq` under the current rotation. */
  private rank(irq: number): number {
    return (irq - this.priorityBase) & 7;
  }

  /** The highest-priority IR level whose bit is set in `mask`, or -1. */
  highest(mask: number): number {
    if (mask === 0) return -1;
    for (let i = 0; i < 8; i++) {
      const irq = (i + this.priorityBase) & 7;
      if (mask & (1 << irq)) return irq;
    }
    return -1;
  }

  /**
   * The IR level that would interrupt the CPU now, or -1: the highest unmasked
   * request that outranks everything in service. `isMaster` enables the special
   * fully nested exception for the cascade input.
   */
  pending(isMaster: boolean): number {
    const req = this.irr & ~this.imr & 0xff;
    if (req === 0) return -1;
    const irq = this.highest(req);
    let inService = this.isr;
    if (this.specialMask) inService &= ~this.imr;
    if (isMaster && this.sfnm) inService &= ~(1 << 2);
    const busy = this.highest(inService);
    if (busy >= 0 && this.rank(busy) <= this.rank(irq)) return -1;
    return irq;
  }

  /** INTA on this chip for `irq`: mark it in service, consume an edge request. */
  ack(irq: number, keepIrr: boolean): void {
    const bit = 1 << irq;
    if (!keepIrr && (this.elcr & bit) === 0) this.irr &= ~bit;
    if (this.autoEoi) {
      if (this.rotateOnAutoEoi) this.priorityBase = (irq + 1) & 7;
    } else {
      this.isr |= bit;
    }
  }

  setLine(irq: number, level: boolean): void {
    const bit = 1 << irq;
    if (level) {
      if ((this.lines & bit) === 0 || (this.elcr & bit) !== 0) this.irr |= bit;
      this.lines |= bit;
    } else {
      this.lines &= ~bit;
      if (this.elcr & bit) this.irr &= ~bit;
    }
  }

  writeElcr(v: number): void {
    this.elcr = v & this.elcrMask;
    // Level lines follow their input; edge lines keep whatever edge they latched.
    this.irr = (this.irr & ~this.elcr) | (this.lines & this.elcr);
  }

  writeCommand(v: number): void {
    if (v & 0x10) {
      // ICW1: edge sense reset, IMR cleared, IR7 lowest, special mask off, read IRR.
      this.needIcw4 = (v & 0x01) !== 0;
      this.single = (v & 0x02) !== 0;
      this.initStep = 2;
      this.irr = this.lines & this.elcr;
      this.isr = 0;
      this.imr = 0;
      this.priorityBase = 0;
      this.specialMask = false;
      this.readIsr = false;
      this.poll = false;
      this.autoEoi = false;
      this.rotateOnAutoEoi = false;
      this.sfnm = false;
      return;
    }
    if (v & 0x08) {
      // OCW3
      if (v & 0x04) this.poll = true;
      if (v & 0x02) this.readIsr = (v & 0x01) !== 0;
      if (v & 0x40) this.specialMask = (v & 0x20) !== 0;
      return;
    }
    // OCW2: R SL EOI in bits 7-5, level in bits 2-0.
    const level = v & 7;
    switch (v >> 5) {
      case 0: // clear rotate in automatic EOI mode
        this.rotateOnAutoEoi = false;
        break;
      case 4: // set rotate in automatic EOI mode
        this.rotateOnAutoEoi = true;
        break;
      case 1: // non-specific EOI
      case 5: { // rotate on non-specific EOI
        const irq = this.highest(this.isr);
        if (irq >= 0) {
          this.isr &= ~(1 << irq);
          if (v >> 5 === 5) this.priorityBase = (irq + 1) & 7;
        }
        break;
      }
      case 3: // specific EOI
        this.isr &= ~(1 << level);
        break;
      case 7: // rotate on specific EOI
        this.isr &= ~(1 << level);
        this.priorityBase = (level + 1) & 7;
        break;
      case 6: // set priority: `level` becomes the lowest
        this.priorityBase = (level + 1) & 7;
        break;
      default: // 2: no operation
        break;
    }
  }

  writeData(v: number): void {
    switch (this.initStep) {
      case 2:
        this.vectorBase = v & 0xf8;
        this.initStep = this.single ? (this.needIcw4 ? 4 : 0) : 3;
        return;
      case 3:
        this.icw3 = v;
        this.initStep = this.needIcw4 ? 4 : 0;
        return;
      case 4:
        this.autoEoi = (v & 0x02) !== 0;
        this.sfnm = (v & 0x10) !== 0;
        this.initStep = 0;
        return;
      default:
        this.imr = v & 0xff;
    }
  }

  save(): StateRecord {
    return {
      irr: this.irr, isr: this.isr, imr: this.imr, lines: this.lines, elcr: this.elcr,
      vectorBase: this.vectorBase, initStep: this.initStep, needIcw4: this.needIcw4,
      single: this.single, icw3: this.icw3, autoEoi: this.autoEoi,
      rotateOnAutoEoi: this.rotateOnAutoEoi, sfnm: this.sfnm, readIsr: this.readIsr,
      specialMask: this.specialMask, poll: this.poll, priorityBase: this.priorityBase,
    };
  }

  load(raw: unknown, what: string): void {
    const s = stateRecord(raw, what);
    const byte = (k: string): number => stateNum(s, k, what) & 0xff;
    this.irr = byte('irr');
    this.isr = byte('isr');
    this.imr = byte('imr');
    this.lines = byte('lines');
    this.elcr = byte('elcr') & this.elcrMask;
    this.vectorBase = byte('vectorBase') & 0xf8;
    this.initStep = stateNum(s, 'initStep', what);
    if (![0, 2, 3, 4].includes(this.initStep)) throw new TypeError(`${what}: bad initStep`);
    this.needIcw4 = stateBool(s, 'needIcw4', what);
    this.single = stateBool(s, 'single', what);
    this.icw3 = byte('icw3');
    this.autoEoi = stateBool(s, 'autoEoi', what);
    this.rotateOnAutoEoi = stateBool(s, 'rotateOnAutoEoi', what);
    this.sfnm = stateBool(s, 'sfnm', what);
    this.readIsr = stateBool(s, 'readIsr', what);
    this.specialMask = stateBool(s, 'specialMask', what);
    this.poll = stateBool(s, 'poll', what);
    this.priorityBase = stateNum(s, 'priorityBase', what) & 7;
  }
}

/** The PC/AT pair of 8259As: master at 0x20/0x21 (IRQ 0-7), slave at 0xA0/0xA1 (IRQ 8-15) on master IR2. */
export class Pic8259 implements Device, InterruptController {
  readonly name = 'pic8259';
  // IRQ 0, 1, 2 (master) and 8, 13 (slave) are always edge-triggered on PIIX.
  private readonly master = new Chip(0xf8, 0x08);
  private readonly slave = new Chip(0xde, 0x70);
  private intrOut = false;
  /**
   * Set by the machine: called after any change that leaves INTR high, so the CPU
   * re-checks `hasInterrupt()` at its next instruction boundary. Must be cheap.
   */
  notify: (() => void) | null = null;

  private readonly ports: PortHandler = {
    read: (port, size) => this.portRead(port, size),
    write: (port, size, value) => this.portWrite(port, size, value),
  };

  /** Register 0x20-0x21, 0xA0-0xA1 and the ELCR pair 0x4D0-0x4D1. */
  attach(bus: IoBus): void {
    bus.register(0x20, 2, 'pic-master', this.ports);
    bus.register(0xa0, 2, 'pic-slave', this.ports);
    bus.register(0x4d0, 2, 'pic-elcr', this.ports);
  }

  /** The INTR output of the master. */
  get intr(): boolean {
    return this.intrOut;
  }

  hasInterrupt(): boolean {
    return this.intrOut;
  }

  /**
   * Set by the machine: every ISA line driven here also reaches this (the I/O APIC's
   * pins, which the same IRQ lines are wired to).
   */
  mirror: ((line: number, level: boolean) => void) | null = null;

  /** Drive ISA interrupt line 0-15 (IRQ2 is the cascade; requests on it are ignored). */
  setIrq(line: number, level: boolean): void {
    this.mirror?.(line, level);
    if (line < 8) {
      if (line === 2) return;
      this.master.setLine(line, level);
    } else {
      this.slave.setLine(line & 7, level);
    }
    this.update();
  }

  /** A ready-made IrqLine for `line`, to hand to a device's constructor. */
  irqLine(line: number): IrqLine {
    if (!(line >= 0 && line < 16)) throw new RangeError(`no ISA IRQ ${line}`);
    return (level: boolean) => this.setIrq(line, level);
  }

  /** INTA cycle. With nothing left to deliver it answers the spurious IRQ7 (or IRQ15) vector. */
  acknowledge(): number {
    const m = this.master;
    const irq = m.pending(true);
    let vector: number;
    if (irq < 0) {
      vector = m.vectorBase + 7; // spurious IRQ7: no ISR bit is set
    } else {
      m.ack(irq, irq === 2);
      if (irq === 2) {
        const s = this.slave;
        const sirq = s.pending(false);
        if (sirq < 0) {
          vector = s.vectorBase + 7; // spurious IRQ15: the master still has IR2 in service
        } else {
          s.ack(sirq, false);
          vector = s.vectorBase + sirq;
        }
      } else {
        vector = m.vectorBase + irq;
      }
    }
    this.update();
    return vector;
  }

  /** Recompute the cascade input and INTR; tell the CPU when INTR is high. */
  private update(): void {
    const slaveOut = this.slave.pending(false) >= 0;
    this.master.irr = slaveOut ? this.master.irr | 4 : this.master.irr & ~4;
    this.intrOut = this.master.pending(true) >= 0;
    if (this.intrOut) this.notify?.();
  }

  /** OCW3 poll read: acknowledge the highest request on this chip and report it. */
  private pollRead(chip: Chip): number {
    chip.poll = false;
    const isMaster = chip === this.master;
    const irq = chip.pending(isMaster);
    if (irq < 0) return 0;
    chip.ack(irq, isMaster && irq === 2);
    this.update();
    return 0x80 | irq;
  }

  private readByte(port: number): number {
    switch (port) {
      case 0x20:
      case 0xa0: {
        const chip = port === 0x20 ? this.master : this.slave;
        if (chip.poll) return this.pollRead(chip);
        return chip.readIsr ? chip.isr : chip.irr;
      }
      case 0x21:
      case 0xa1: {
        const chip = port === 0x21 ? this.master : this.slave;
        if (chip.poll) return this.pollRead(chip);
        return chip.imr;
      }
      case 0x4d0:
        return this.master.elcr;
      case 0x4d1:
        return this.slave.elcr;
      default:
        return 0xff;
    }
  }

  private writeByte(port: number, v: number): void {
    switch (port) {
      case 0x20: this.master.writeCommand(v); break;
      case 0x21: this.master.writeData(v); break;
      case 0xa0: this.slave.writeCommand(v); break;
      case 0xa1: this.slave.writeData(v); break;
      case 0x4d0: this.master.writeElcr(v); break;
      case 0x4d1: this.slave.writeElcr(v); break;
      default: return;
    }
    this.update();
  }

  private portRead(port: number, size: 1 | 2 | 4): number {
    if (size === 1) return this.readByte(port);
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.readByte(port + i) << (8 * i);
    return v >>> 0;
  }

  private portWrite(port: number, size: 1 | 2 | 4, value: number): void {
    if (size === 1) {
      this.writeByte(port, value & 0xff);
      return;
    }
    for (let i = 0; i < size; i++) this.writeByte(port + i, (value >>> (8 * i)) & 0xff);
  }

  reset(): void {
    this.master.powerOn();
    this.slave.powerOn();
    this.update();
  }

  saveState(): unknown {
    return { master: this.master.save(), slave: this.slave.save() };
  }

  loadState(state: unknown): void {
    const s = stateRecord(state, this.name);
    this.master.load(s['master'], `${this.name}.master`);
    this.slave.load(s['slave'], `${this.name}.slave`);
    this.update();
  }
}
