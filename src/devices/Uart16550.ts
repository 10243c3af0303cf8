// National Semiconductor PC16550D UART datasheet (June 1995): registers, FIFO mode, Table IV interrupt priorities; OUT2 gates INTR as on the PC.

import type { IoBus, PortHandler } from '../machine/IoBus.js';
import type { Timer, VirtualClock } from '../machine/VirtualClock.js';
import type { Device, IrqLine } from './Device.js';
import { saveDeadline, stateBool, stateBytes, stateNum, stateRecord } from './support.js';

// IER
const IER_ERBFI = 0x01; // received data available
const IER_ETBEI = 0x02; // transmitter holding register empty
const IER_ELSI = 0x04; // receiver line status
const IER_EDSSI = 0x08; // modem status
// IIR
const IIR_NO_INT = 0x01;
const IIR_MSI = 0x00;
const IIR_THRI = 0x02;
const IIR_RDI = 0x04;
const IIR_RLSI = 0x06;
const IIR_CTI = 0x0c;
const IIR_FIFO = 0xc0;
// LCR
const LCR_DLAB = 0x80;
// MCR
const MCR_DTR = 0x01;
const MCR_RTS = 0x02;
const MCR_OUT1 = 0x04;
const MCR_OUT2 = 0x08;
const MCR_LOOP = 0x10;
// LSR
const LSR_DR = 0x01;
const LSR_OE = 0x02;
const LSR_PE = 0x04;
const LSR_FE = 0x08;
const LSR_BI = 0x10;
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;
const LSR_ERRORS = LSR_OE | LSR_PE | LSR_FE | LSR_BI;
// MSR
const MSR_DCTS = 0x01;
const MSR_DDSR = 0x02;
const MSR_TERI = 0x04;
const MSR_DDCD = 0x08;
const MSR_CTS = 0x10;
const MSR_DSR = 0x20;
const MSR_RI = 0x40;
const MSR_DCD = 0x80;

const FIFO_SIZE = 16;
const TRIGGER_LEVELS = [1, 4, 8, 14] as const;
/** The PC's UART clock (1.8432 MHz) divided by 16. */
const BAUD_BASE = 115200;

/** 16550A serial port. Host bytes go in through `receive`, guest output comes out of `onTransmit`. */
export class Uart16550 implements Device {
  /** Called with every byte the guest transmits (not in loopback mode). Keep it cheap. */
  onTransmit: ((byte: number) => void) | null = null;

  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  /** Error bits of LSR (OE, PE, FE, BI); DR, THRE and TEMT are derived. */
  private lsrErrors = 0;
  private msr = 0;
  private scr = 0;
  private dll = 0x0c; // 9600 baud
  private dlm = 0;
  private fifoEnabled = false;
  private triggerLevel = 1;
  private thrIpending = false;
  /** FIFO mode: the character timeout indication (IIR 0x0C) is pending. */
  private timeoutPending = false;
  private irqLevel = false;
  /** Modem control inputs from the host side of the line (CTS, DSR, RI, DCD in MSR bit positions). */
  private modemInputs = MSR_CTS | MSR_DSR | MSR_DCD;
  private lastRbr = 0;

  private readonly rxFifo = new Uint8Array(FIFO_SIZE);
  private rxHead = 0;
  private rxCount = 0;

  /**
   * Host-side input not yet taken into the receive FIFO (nothing is dropped). The host
   * honours RTS/CTS flow control: it sends only while the guest holds RTS (MCR bit 1)
   * outside loopback. Linux raises RTS when a tty opens, after the driver has flushed
   * the FIFO and RBR, so input piped in before the shell runs is not eaten by the probe.
   */
  private queue = new Uint8Array(256);
  private qHead = 0;
  private qCount = 0;

  private readonly timer: Timer | null;

  private readonly ports: PortHandler = {
    read: (port, size) => {
      if (size === 1) return this.readReg(port - this.base);
      let v = 0;
      for (let i = 0; i < size; i++) v |= this.readReg(port + i - this.base) << (8 * i);
      return v >>> 0;
    },
    write: (port, size, value) => {
      if (size === 1) {
        this.writeReg(port - this.base, value & 0xff);
        return;
      }
      for (let i = 0; i < size; i++) this.writeReg(port + i - this.base, (value >>> (8 * i)) & 0xff);
    },
  };

  /**
   * `base`: first of the eight ports (0x3F8, 0x2F8, 0x3E8, 0x2E8). `irq`: the ISA line the
   * machine wires it to. `clock`: for the FIFO character timeout; without one the timeout
   * indication is raised as soon as data waits below the trigger level.
   */
  constructor(readonly name: string, readonly base: number, private readonly irq: IrqLine, private readonly clock?: VirtualClock) {
    this.timer = clock ? clock.addTimer(`${name}-rx-timeout`, () => this.onTimeout()) : null;
    this.msr = this.modemInputs;
  }

  /** Register the eight ports base..base+7. */
  attach(bus: IoBus): void {
    bus.register(this.base, 8, this.name, this.ports);
  }

  /** Host input: queued, and fed into the receive FIFO as the guest drains it. */
  receive(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const need = this.qCount + bytes.length;
    if (need > this.queue.length) {
      let cap = this.queue.length;
      while (cap < need) cap *= 2;
      const q = new Uint8Array(cap);
      for (let i = 0; i < this.qCount; i++) q[i] = this.queue[(this.qHead + i) % this.queue.length]!;
      this.queue = q;
      this.qHead = 0;
    }
    const cap = this.queue.length;
    let tail = (this.qHead + this.qCount) % cap;
    for (let i = 0; i < bytes.length; i++) {
      this.queue[tail] = bytes[i]!;
      tail = tail + 1 === cap ? 0 : tail + 1;
    }
    this.qCount += bytes.length;
    if (this.pump()) this.restartTimeout();
    this.update();
  }

  /** Bytes received from the host and not yet read by the guest (FIFO + queue). */
  get pendingInput(): number {
    return this.rxCount + this.qCount;
  }

  /** Set the modem status inputs seen by the guest outside loopback mode (delta bits follow). */
  setModemInputs(inputs: { cts?: boolean; dsr?: boolean; ri?: boolean; dcd?: boolean }): void {
    let m = this.modemInputs;
    const set = (bit: number, on: boolean | undefined): void => {
      if (on !== undefined) m = on ? m | bit : m & ~bit;
    };
    set(MSR_CTS, inputs.cts);
    set(MSR_DSR, inputs.dsr);
    set(MSR_RI, inputs.ri);
    set(MSR_DCD, inputs.dcd);
    this.modemInputs = m;
    this.updateMsr();
    this.update();
  }

  // ---- internals ----

  private fifoCapacity(): number {
    return this.fifoEnabled ? FIFO_SIZE : 1;
  }

  /** Move host input into the receive FIFO while there is room and RTS is up (not in loopback). Returns true if any moved. */
  private pump(): boolean {
    if ((this.mcr & (MCR_LOOP | MCR_RTS)) !== MCR_RTS) return false;
    const cap = this.fifoCapacity();
    let moved = false;
    while (this.qCount > 0 && this.rxCount < cap) {
      this.rxFifo[(this.rxHead + this.rxCount) % FIFO_SIZE] = this.queue[this.qHead]!;
      this.rxCount++;
      this.qHead = this.qHead + 1 === this.queue.length ? 0 : this.qHead + 1;
      this.qCount--;
      moved = true;
    }
    return moved;
  }

  /** A character arriving from the line (loopback): overrun when there is no room. */
  private receiveFromLine(b: number): void {
    if (this.rxCount >= this.fifoCapacity()) {
      this.lsrErrors |= LSR_OE;
      if (!this.fifoEnabled) this.rxFifo[this.rxHead] = b; // the holding register is overwritten
      return;
    }
    this.rxFifo[(this.rxHead + this.rxCount) % FIFO_SIZE] = b;
    this.rxCount++;
    this.restartTimeout();
  }

  private clearRxFifo(): void {
    this.rxHead = 0;
    this.rxCount = 0;
    this.timeoutPending = false;
    if (this.timer) this.timer.deadline = Infinity;
  }

  /** Four character times at the current line settings, in ns. */
  private charTimeoutNs(): number {
    const divisor = (this.dlm << 8) | this.dll || 1;
    const dataBits = 5 + (this.lcr & 3);
    const stopBits = this.lcr & 4 ? (dataBits === 5 ? 1.5 : 2) : 1;
    const bits = 1 + dataBits + (this.lcr & 8 ? 1 : 0) + stopBits;
    return Math.ceil((4 * bits * 1e9 * divisor) / BAUD_BASE);
  }

  private restartTimeout(): void {
    this.timeoutPending = false;
    if (this.timer === null || this.clock === undefined) return;
    this.timer.deadline = this.fifoEnabled && this.rxCount > 0 ? this.clock.now() + this.charTimeoutNs() : Infinity;
  }

  private onTimeout(): void {
    if (this.fifoEnabled && this.rxCount > 0) this.timeoutPending = true;
    this.update();
  }

  private updateMsr(): void {
    let status: number;
    if (this.mcr & MCR_LOOP) {
      const m = this.mcr;
      status = (m & MCR_RTS ? MSR_CTS : 0) | (m & MCR_DTR ? MSR_DSR : 0) | (m & MCR_OUT1 ? MSR_RI : 0) | (m & MCR_OUT2 ? MSR_DCD : 0);
    } else {
      status = this.modemInputs;
    }
    const old = this.msr;
    const changed = (old ^ status) & 0xf0;
    let delta = old & 0x0f;
    if (changed & MSR_CTS) delta |= MSR_DCTS;
    if (changed & MSR_DSR) delta |= MSR_DDSR;
    if (changed & MSR_DCD) delta |= MSR_DDCD;
    if (changed & MSR_RI && (old & MSR_RI) !== 0) delta |= MSR_TERI; // trailing edge of RI
    this.msr = status | delta;
  }

  /** The interrupt identification, highest priority first (datasheet Table IV). */
  private iir(): number {
    const ier = this.ier;
    if (ier & IER_ELSI && this.lsrErrors !== 0) return IIR_RLSI;
    if (ier & IER_ERBFI) {
      if (this.fifoEnabled ? this.rxCount >= this.triggerLevel : this.rxCount > 0) return IIR_RDI;
      if (this.fifoEnabled && this.rxCount > 0 && (this.timeoutPending || this.timer === null)) return IIR_CTI;
    }
    if (ier & IER_ETBEI && this.thrIpending) return IIR_THRI;
    if (ier & IER_EDSSI && (this.msr & 0x0f) !== 0) return IIR_MSI;
    return IIR_NO_INT;
  }

  private update(): void {
    // On the PC, OUT2 enables the INTR driver; in loopback the OUT pins are forced inactive.
    const level = (this.mcr & (MCR_OUT2 | MCR_LOOP)) === MCR_OUT2 && this.iir() !== IIR_NO_INT;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq(level);
    }
  }

  private readReg(reg: number): number {
    switch (reg) {
      case 0: {
        if (this.lcr & LCR_DLAB) return this.dll;
        if (this.rxCount > 0) {
          this.lastRbr = this.rxFifo[this.rxHead]!;
          this.rxHead = (this.rxHead + 1) % FIFO_SIZE;
          this.rxCount--;
          this.pump();
          this.restartTimeout();
          this.update();
        }
        return this.lastRbr;
      }
      case 1:
        return this.lcr & LCR_DLAB ? this.dlm : this.ier;
      case 2: {
        const id = this.iir();
        if (id === IIR_THRI) {
          this.thrIpending = false; // reading IIR when THRE is the source clears it
          this.update();
        }
        return id | (this.fifoEnabled ? IIR_FIFO : 0);
      }
      case 3:
        return this.lcr;
      case 4:
        return this.mcr;
      case 5: {
        const v = (this.rxCount > 0 ? LSR_DR : 0) | this.lsrErrors | LSR_THRE | LSR_TEMT;
        if (this.lsrErrors !== 0) {
          this.lsrErrors = 0;
          this.update();
        }
        return v;
      }
      case 6: {
        const v = this.msr;
        if (v & 0x0f) {
          this.msr = v & 0xf0;
          this.update();
        }
        return v;
      }
      case 7:
        return this.scr;
      default:
        return 0xff;
    }
  }

  private writeReg(reg: number, v: number): void {
    switch (reg) {
      case 0:
        if (this.lcr & LCR_DLAB) {
          this.dll = v;
          return;
        }
        // The line is infinitely fast: the byte leaves at once and THR is empty again.
        if (this.mcr & MCR_LOOP) this.receiveFromLine(v);
        else this.onTransmit?.(v);
        this.thrIpending = true;
        this.update();
        return;
      case 1: {
        if (this.lcr & LCR_DLAB) {
          this.dlm = v;
          return;
        }
        const old = this.ier;
        this.ier = v & 0x0f;
        // Enabling ETBEI with THR empty raises the THRE interrupt.
        if (this.ier & IER_ETBEI && !(old & IER_ETBEI)) this.thrIpending = true;
        this.update();
        return;
      }
      case 2: {
        const enable = (v & 0x01) !== 0;
        if (enable !== this.fifoEnabled) {
          this.fifoEnabled = enable;
          this.clearRxFifo();
        }
        if (enable) {
          if (v & 0x02) this.clearRxFifo();
          // bit 2 (clear XMIT FIFO): the transmitter never holds data here.
          this.triggerLevel = TRIGGER_LEVELS[v >> 6]!;
        }
        if (this.pump()) this.restartTimeout();
        this.update();
        return;
      }
      case 3:
        this.lcr = v;
        return;
      case 4: {
        this.mcr = v & 0x1f;
        this.updateMsr();
        if (this.pump()) this.restartTimeout();
        this.update();
        return;
      }
      case 5:
        return; // LSR is read-only (factory test writes ignored)
      case 6:
        return;
      case 7:
        this.scr = v;
        return;
      default:
    }
  }

  reset(): void {
    this.ier = 0;
    this.lcr = 0;
    this.mcr = 0;
    this.lsrErrors = 0;
    this.scr = 0;
    this.dll = 0x0c;
    this.dlm = 0;
    this.fifoEnabled = false;
    this.triggerLevel = 1;
    this.thrIpending = false;
    this.clearRxFifo();
    this.msr = this.modemInputs;
    this.lastRbr = 0;
    this.pump();
    this.update();
  }

  saveState(): unknown {
    const rx: number[] = [];
    for (let i = 0; i < this.rxCount; i++) rx.push(this.rxFifo[(this.rxHead + i) % FIFO_SIZE]!);
    const q: number[] = [];
    for (let i = 0; i < this.qCount; i++) q.push(this.queue[(this.qHead + i) % this.queue.length]!);
    return {
      ier: this.ier, lcr: this.lcr, mcr: this.mcr, lsrErrors: this.lsrErrors, msr: this.msr, scr: this.scr,
      dll: this.dll, dlm: this.dlm, fifoEnabled: this.fifoEnabled, triggerLevel: this.triggerLevel,
      thrIpending: this.thrIpending, timeoutPending: this.timeoutPending, irqLevel: this.irqLevel,
      modemInputs: this.modemInputs, lastRbr: this.lastRbr, rx, queue: q,
      timeoutDeadline: saveDeadline(this.timer?.deadline ?? Infinity),
    };
  }

  loadState(state: unknown): void {
    const w = this.name;
    const s = stateRecord(state, w);
    const byte = (k: string): number => stateNum(s, k, w) & 0xff;
    this.ier = byte('ier') & 0x0f;
    this.lcr = byte('lcr');
    this.mcr = byte('mcr') & 0x1f;
    this.lsrErrors = byte('lsrErrors') & LSR_ERRORS;
    this.msr = byte('msr');
    this.scr = byte('scr');
    this.dll = byte('dll');
    this.dlm = byte('dlm');
    this.fifoEnabled = stateBool(s, 'fifoEnabled', w);
    const trig = stateNum(s, 'triggerLevel', w);
    if (!(TRIGGER_LEVELS as readonly number[]).includes(trig)) throw new TypeError(`${w}: bad triggerLevel`);
    this.triggerLevel = trig;
    this.thrIpending = stateBool(s, 'thrIpending', w);
    this.timeoutPending = stateBool(s, 'timeoutPending', w);
    this.irqLevel = stateBool(s, 'irqLevel', w); // the line's level lives in the PIC's state
    this.modemInputs = byte('modemInputs') & 0xf0;
    this.lastRbr = byte('lastRbr');
    const rx = stateBytes(s, 'rx', w);
    if (rx.length > FIFO_SIZE) throw new TypeError(`${w}: receive FIFO holds more than ${FIFO_SIZE} bytes`);
    this.rxFifo.set(rx);
    this.rxHead = 0;
    this.rxCount = rx.length;
    const q = stateBytes(s, 'queue', w);
    let cap = 256;
    while (cap < q.length) cap *= 2;
    this.queue = new Uint8Array(cap);
    this.queue.set(q);
    this.qHead = 0;
    this.qCount = q.length;
    const deadline = stateNum(s, 'timeoutDeadline', w);
    if (this.timer) this.timer.deadline = deadline;
  }
}
