// IBM PC/AT Technical Reference "Keyboard Controller" (8042 commands, status, command byte) and the IBM PS/2 keyboard command set.

import type { IoBus, PortHandler } from '../machine/IoBus.js';
import type { Device, IrqLine } from './Device.js';
import { stateBool, stateBytes, stateNum, stateRecord } from './support.js';

// Status register (port 0x64 read)
const STR_OBF = 0x01;
const STR_SYS = 0x04;
const STR_CMD = 0x08;
const STR_UNLOCKED = 0x10;
const STR_AUXDATA = 0x20;
const STR_TIMEOUT = 0x40;
// Command byte (controller RAM byte 0)
const CTR_KBDINT = 0x01;
const CTR_AUXINT = 0x02;
const CTR_SYS = 0x04;
const CTR_KBDDIS = 0x10;
const CTR_AUXDIS = 0x20;
const CTR_XLATE = 0x40;
// Output port
const OUT_RESET = 0x01;
const OUT_A20 = 0x02;

/** Queue entries: the byte, plus flags for the timeout bit and the aux (AUXDATA) channel. */
const ENTRY_TIMEOUT = 0x100;
const ENTRY_AUX = 0x200;

const ACK = 0xfa;
const RESEND = 0xfe;

/**
 * The 8042 keyboard controller at 0x60 (data) / 0x64 (status, command) with an MF2 keyboard
 * behind it. The auxiliary (PS/2 mouse) port exists but nothing is plugged in: bytes sent
 * to it come back as 0xFE with the timeout bit, so Linux's psmouse probe fails at once.
 */
export class I8042 implements Device {
  readonly name = 'i8042';
  /** Called when the guest pulses the CPU reset line (0xFE, 0xF0-0xFF with bit 0 clear, or output port bit 0 = 0). */
  onReset: (() => void) | null = null;
  /** Called when the A20 gate bit of the output port changes. */
  onA20Change: ((enabled: boolean) => void) | null = null;

  private ram = new Uint8Array(32); // ram[0] is the command byte
  private outPort = OUT_RESET | OUT_A20;
  private lastWasCommand = false;
  /** Controller command waiting for its data byte on port 0x60 (0 = none). */
  private pendingCmd = 0;
  private obFull = false;
  private obByte = 0;
  private obAux = false;
  private obTimeout = false;
  private irq1Level = false;
  private irq12Level = false;
  private readonly ctrlQueue: number[] = [];
  private readonly kbdQueue: number[] = [];
  private readonly auxQueue: number[] = [];
  // The keyboard
  private kbdPendingCmd = 0;
  private kbdScanning = true;
  private kbdScanSet = 2;
  private kbdLeds = 0;
  private kbdTypematic = 0x2b;
  private kbdLastSent = 0xaa;

  private readonly ports: PortHandler = {
    read: (port) => (port === 0x60 ? this.readData() : this.readStatus()),
    write: (port, _size, value) => {
      if (port === 0x60) this.writeData(value & 0xff);
      else this.writeCommand(value & 0xff);
    },
  };

  constructor(private readonly irq1: IrqLine, private readonly irq12: IrqLine) {
    this.ram[0] = CTR_KBDINT | CTR_SYS | CTR_AUXDIS | CTR_XLATE;
  }

  /** Register ports 0x60 and 0x64. */
  attach(bus: IoBus): void {
    bus.register(0x60, 1, 'i8042-data', this.ports);
    bus.register(0x64, 1, 'i8042-cmd', this.ports);
  }

  /** The A20 gate as set through the output port (0xD1, 0xDD/0xDF). */
  get a20(): boolean {
    return (this.outPort & OUT_A20) !== 0;
  }

  /** The controller command byte (RAM byte 0). */
  get commandByte(): number {
    return this.ram[0]!;
  }

  /**
   * Queue bytes as if the keyboard had sent them (scancodes in the set the guest expects:
   * set 1 when the command byte has translation on). Dropped while the keyboard has
   * scanning disabled.
   */
  sendKeyboardBytes(bytes: ArrayLike<number>): void {
    if (!this.kbdScanning) return;
    for (let i = 0; i < bytes.length; i++) this.kbdQueue.push(bytes[i]! & 0xff);
    this.refill();
  }

  // ---- output buffer ----

  private refill(): void {
    if (!this.obFull) {
      const ctr = this.ram[0]!;
      // Data the controller generates itself (replies, 0xD2/0xD3) ignores the interface disables.
      let e = -1;
      if (this.ctrlQueue.length > 0) e = this.ctrlQueue.shift()!;
      else if (this.kbdQueue.length > 0 && !(ctr & CTR_KBDDIS)) e = this.kbdQueue.shift()!;
      else if (this.auxQueue.length > 0 && !(ctr & CTR_AUXDIS)) e = this.auxQueue.shift()! | ENTRY_AUX;
      if (e >= 0) {
        this.obFull = true;
        this.obByte = e & 0xff;
        this.obAux = (e & ENTRY_AUX) !== 0;
        this.obTimeout = (e & ENTRY_TIMEOUT) !== 0;
      }
    }
    this.updateIrq();
  }

  private updateIrq(): void {
    const ctr = this.ram[0]!;
    const l1 = this.obFull && !this.obAux && (ctr & CTR_KBDINT) !== 0;
    const l12 = this.obFull && this.obAux && (ctr & CTR_AUXINT) !== 0;
    if (l1 !== this.irq1Level) {
      this.irq1Level = l1;
      this.irq1(l1);
    }
    if (l12 !== this.irq12Level) {
      this.irq12Level = l12;
      this.irq12(l12);
    }
  }

  private readStatus(): number {
    return (this.obFull ? STR_OBF : 0) | (this.ram[0]! & CTR_SYS ? STR_SYS : 0) | (this.lastWasCommand ? STR_CMD : 0) |
      STR_UNLOCKED | (this.obFull && this.obAux ? STR_AUXDATA : 0) | (this.obFull && this.obTimeout ? STR_TIMEOUT : 0);
  }

  private readData(): number {
    const v = this.obByte;
    if (this.obFull) {
      this.obFull = false;
      this.obTimeout = false;
      this.updateIrq(); // the line falls before the next byte raises it again (a fresh edge)
      this.refill();
    }
    return v;
  }

  private controllerReply(b: number): void {
    this.ctrlQueue.push(b);
    this.refill();
  }

  // ---- controller commands ----

  private writeCommand(v: number): void {
    this.lastWasCommand = true;
    this.pendingCmd = 0;
    if (v >= 0x20 && v <= 0x3f) {
      this.controllerReply(this.ram[v & 0x1f]!);
      return;
    }
    if (v >= 0x60 && v <= 0x7f) {
      this.pendingCmd = v;
      return;
    }
    if (v >= 0xf0) {
      if ((v & 1) === 0) this.onReset?.(); // bit 0 of the pulse mask is the CPU reset line
      return;
    }
    switch (v) {
      case 0xa4: // password installed?
        this.controllerReply(0xf1); // no
        return;
      case 0xa7:
        this.setCtr(this.ram[0]! | CTR_AUXDIS);
        return;
      case 0xa8:
        this.setCtr(this.ram[0]! & ~CTR_AUXDIS);
        return;
      case 0xa9: // aux interface test
        this.controllerReply(0x00);
        return;
      case 0xaa: // controller self-test
        this.ram[0] = this.ram[0]! | CTR_SYS;
        this.controllerReply(0x55);
        return;
      case 0xab: // keyboard interface test
        this.controllerReply(0x00);
        return;
      case 0xad:
        this.setCtr(this.ram[0]! | CTR_KBDDIS);
        return;
      case 0xae:
        this.setCtr(this.ram[0]! & ~CTR_KBDDIS);
        return;
      case 0xc0: // read input port
        this.controllerReply(0x00);
        return;
      case 0xd0: { // read output port
        const ob = (this.obFull && !this.obAux ? 0x10 : 0) | (this.obFull && this.obAux ? 0x20 : 0);
        this.controllerReply((this.outPort & 0xcf) | ob);
        return;
      }
      case 0xd1: // write output port
      case 0xd2: // write keyboard output buffer
      case 0xd3: // write aux output buffer
      case 0xd4: // write to the aux device
        this.pendingCmd = v;
        return;
      case 0xdd:
        this.setOutPort(this.outPort & ~OUT_A20);
        return;
      case 0xdf:
        this.setOutPort(this.outPort | OUT_A20);
        return;
      case 0xe0: // read test inputs
        this.controllerReply(0x00);
        return;
      default:
        return; // unknown commands are ignored
    }
  }

  private setCtr(v: number): void {
    this.ram[0] = v;
    this.refill(); // an interface just enabled may have data waiting; the IRQ enables may have changed
  }

  private setOutPort(v: number): void {
    const old = this.outPort;
    this.outPort = v | OUT_RESET;
    if ((old ^ this.outPort) & OUT_A20) this.onA20Change?.((this.outPort & OUT_A20) !== 0);
    if ((v & OUT_RESET) === 0) this.onReset?.();
  }

  private writeData(v: number): void {
    this.lastWasCommand = false;
    const cmd = this.pendingCmd;
    this.pendingCmd = 0;
    if (cmd >= 0x60 && cmd <= 0x7f) {
      if (cmd === 0x60) this.setCtr(v);
      else this.ram[cmd & 0x1f] = v;
      return;
    }
    switch (cmd) {
      case 0xd1:
        this.setOutPort(v);
        return;
      case 0xd2:
        this.controllerReply(v);
        return;
      case 0xd3:
        this.controllerReply(v | ENTRY_AUX);
        return;
      case 0xd4:
        // No device on the aux port: the controller reports a timeout.
        this.auxQueue.push(RESEND | ENTRY_TIMEOUT);
        this.refill();
        return;
      default:
        // Data for the keyboard; sending to it re-enables the keyboard interface.
        if (this.ram[0]! & CTR_KBDDIS) this.ram[0] = this.ram[0]! & ~CTR_KBDDIS;
        this.keyboardCommand(v);
        this.refill();
    }
  }

  // ---- the keyboard ----

  private kbdSend(b: number): void {
    this.kbdQueue.push(b);
    if (b !== RESEND) this.kbdLastSent = b;
  }

  private keyboardCommand(v: number): void {
    const pending = this.kbdPendingCmd;
    if (pending !== 0) {
      this.kbdPendingCmd = 0;
      switch (pending) {
        case 0xed:
          this.kbdLeds = v & 7;
          this.kbdSend(ACK);
          return;
        case 0xf3:
          this.kbdTypematic = v & 0x7f;
          this.kbdSend(ACK);
          return;
        case 0xf0:
          if (v === 0) {
            this.kbdSend(ACK);
            this.kbdSend(this.kbdScanSet);
          } else if (v >= 1 && v <= 3) {
            this.kbdScanSet = v;
            this.kbdSend(ACK);
          } else {
            this.kbdSend(RESEND);
          }
          return;
        default:
          break;
      }
    }
    switch (v) {
      case 0xff: // reset and self-test (BAT)
        this.kbdDefaults();
        this.kbdScanning = true;
        this.kbdQueue.length = 0;
        this.kbdSend(ACK);
        this.kbdSend(0xaa);
        return;
      case 0xfe: // resend
        this.kbdQueue.push(this.kbdLastSent);
        return;
      case 0xf2: // identify: MF2 keyboard (0x83 arrives translated as 0x41)
        this.kbdSend(ACK);
        this.kbdSend(0xab);
        this.kbdSend(this.ram[0]! & CTR_XLATE ? 0x41 : 0x83);
        return;
      case 0xed: // set LEDs
      case 0xf3: // set typematic rate/delay
      case 0xf0: // get/set scancode set
        this.kbdPendingCmd = v;
        this.kbdSend(ACK);
        return;
      case 0xee: // echo
        this.kbdSend(0xee);
        return;
      case 0xf4: // enable scanning
        this.kbdScanning = true;
        this.kbdSend(ACK);
        return;
      case 0xf5: // disable scanning, set defaults
        this.kbdDefaults();
        this.kbdScanning = false;
        this.kbdSend(ACK);
        return;
      case 0xf6: // set defaults
        this.kbdDefaults();
        this.kbdSend(ACK);
        return;
      case 0xf7: case 0xf8: case 0xf9: case 0xfa: case 0xfb: case 0xfc: case 0xfd: // set-3 key types
        this.kbdSend(ACK);
        return;
      default:
        this.kbdSend(RESEND);
    }
  }

  private kbdDefaults(): void {
    this.kbdScanSet = 2;
    this.kbdLeds = 0;
    this.kbdTypematic = 0x2b;
    this.kbdPendingCmd = 0;
  }

  /** LED state last set by the guest: bit 0 scroll lock, 1 num lock, 2 caps lock. */
  get leds(): number {
    return this.kbdLeds;
  }

  reset(): void {
    this.ram.fill(0);
    this.ram[0] = CTR_KBDINT | CTR_SYS | CTR_AUXDIS | CTR_XLATE;
    const a20Was = this.a20;
    this.outPort = OUT_RESET | OUT_A20;
    if (!a20Was) this.onA20Change?.(true);
    this.lastWasCommand = false;
    this.pendingCmd = 0;
    this.obFull = false;
    this.obByte = 0;
    this.obAux = false;
    this.obTimeout = false;
    this.ctrlQueue.length = 0;
    this.kbdQueue.length = 0;
    this.auxQueue.length = 0;
    this.kbdDefaults();
    this.kbdScanning = true;
    this.kbdLastSent = 0xaa;
    this.updateIrq();
  }

  saveState(): unknown {
    return {
      ram: Array.from(this.ram), outPort: this.outPort, lastWasCommand: this.lastWasCommand,
      pendingCmd: this.pendingCmd, obFull: this.obFull, obByte: this.obByte, obAux: this.obAux,
      obTimeout: this.obTimeout, irq1Level: this.irq1Level, irq12Level: this.irq12Level,
      ctrlQueue: [...this.ctrlQueue], kbdQueue: [...this.kbdQueue], auxQueue: [...this.auxQueue],
      kbdPendingCmd: this.kbdPendingCmd, kbdScanning: this.kbdScanning, kbdScanSet: this.kbdScanSet,
      kbdLeds: this.kbdLeds, kbdTypematic: this.kbdTypematic, kbdLastSent: this.kbdLastSent,
    };
  }

  loadState(state: unknown): void {
    const w = this.name;
    const s = stateRecord(state, w);
    const queue = (k: string): number[] => {
      const v = s[k];
      if (!Array.isArray(v) || !v.every((e) => Number.isInteger(e) && e >= 0 && e <= 0x3ff)) throw new TypeError(`${w}: bad ${k}`);
      return v as number[];
    };
    this.ram.set(stateBytes(s, 'ram', w, 32));
    this.outPort = stateNum(s, 'outPort', w) & 0xff;
    this.lastWasCommand = stateBool(s, 'lastWasCommand', w);
    this.pendingCmd = stateNum(s, 'pendingCmd', w) & 0xff;
    this.obFull = stateBool(s, 'obFull', w);
    this.obByte = stateNum(s, 'obByte', w) & 0xff;
    this.obAux = stateBool(s, 'obAux', w);
    this.obTimeout = stateBool(s, 'obTimeout', w);
    this.irq1Level = stateBool(s, 'irq1Level', w); // line levels live in the PIC's state
    this.irq12Level = stateBool(s, 'irq12Level', w);
    this.ctrlQueue.splice(0, Infinity, ...queue('ctrlQueue'));
    this.kbdQueue.splice(0, Infinity, ...queue('kbdQueue'));
    this.auxQueue.splice(0, Infinity, ...queue('auxQueue'));
    this.kbdPendingCmd = stateNum(s, 'kbdPendingCmd', w) & 0xff;
    this.kbdScanning = stateBool(s, 'kbdScanning', w);
    this.kbdScanSet = stateNum(s, 'kbdScanSet', w);
    this.kbdLeds = stateNum(s, 'kbdLeds', w) & 7;
    this.kbdTypematic = stateNum(s, 'kbdTypematic', w) & 0x7f;
    this.kbdLastSent = stateNum(s, 'kbdLastSent', w) & 0xff;
  }
}
