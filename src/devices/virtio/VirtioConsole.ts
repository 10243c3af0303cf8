// virtio 1.2 §5.3 (console device): one port (receiveq0/transmitq0) that Linux names hvc0 and can use as its console (console=hvc0).
//
// Offered features: VIRTIO_CONSOLE_F_EMERG_WRITE (bytes written to the emerg_wr config
// field go straight to the output, as early and panic output does). Not offered:
// F_SIZE, F_MULTIPORT. Host input waits in a queue until the driver posts receive
// buffers, so none is lost.

import type { PhysicalMemory } from '../../memory/PhysicalMemory.js';
import { stateRecord } from '../support.js';
import { DEVICE_ID_CONSOLE } from './constants.js';
import { DescChain, POP_ERROR, POP_OK, type Virtqueue } from './Virtqueue.js';
import { Features, VirtioDevice, type VirtioDeviceOptions } from './VirtioDevice.js';

export const CONSOLE_F_SIZE = 0;
export const CONSOLE_F_MULTIPORT = 1;
export const CONSOLE_F_EMERG_WRITE = 2;

const RXQ = 0;
const TXQ = 1;
/** Config: cols u16, rows u16, max_nr_ports u32, emerg_wr u32 (§5.3.4). */
const CFG_EMERG_WR = 8;
const CONFIG_SIZE = 12;
/** Largest chunk taken from one transmit buffer (bounds the host copy). */
const TX_MAX = 1 << 20;

export class VirtioConsole extends VirtioDevice {
  protected readonly config = new Uint8Array(CONFIG_SIZE);
  private readonly writable = new Uint8Array(CONFIG_SIZE).fill(1, CFG_EMERG_WR, CFG_EMERG_WR + 4);
  private readonly chain = new DescChain();
  /** Host input not yet delivered. */
  private pending: Uint8Array[] = [];
  private pendingOff = 0;
  /** Called with guest output (transmitq and emergency writes). */
  onOutput: ((data: Uint8Array) => void) | null = null;

  constructor(memory: PhysicalMemory, opts: VirtioDeviceOptions = {}) {
    super('virtio-console', DEVICE_ID_CONSOLE, memory, 2, Features.of(CONSOLE_F_EMERG_WRITE), opts);
  }

  /** Queue host input (keystrokes) for the guest. */
  input(data: Uint8Array): void {
    if (data.length === 0) return;
    this.pending.push(data.slice());
    if (this.driverOk) this.flushInput(true);
  }

  /** Bytes of host input waiting for guest buffers. */
  get pendingInput(): number {
    let n = 0;
    for (const p of this.pending) n += p.length;
    return n - this.pendingOff;
  }

  private flushInput(fromHost: boolean): void {
    const q = this.queues[RXQ]!;
    const chain = this.chain;
    let pushed = false;
    while (this.pending.length > 0) {
      const r = q.pop(chain);
      if (r === POP_ERROR) return this.fail(q.error ?? 'bad chain');
      if (r !== POP_OK) break;
      let written = 0;
      while (this.pending.length > 0 && written < chain.writeLen) {
        const head = this.pending[0]!;
        const k = chain.write(this.ram, written, head, this.pendingOff);
        written += k;
        this.pendingOff += k;
        if (this.pendingOff === head.length) {
          this.pending.shift();
          this.pendingOff = 0;
        }
        if (k === 0) break;
      }
      q.push(chain.head, written);
      pushed = true;
    }
    if (pushed) {
      if (fromHost) this.asyncDone(q);
      else this.queueDone(q);
    }
  }

  protected queueNotify(q: Virtqueue): void {
    if (q.index === RXQ) {
      this.flushInput(false);
      return;
    }
    if (q.index !== TXQ) return;
    const chain = this.chain;
    for (;;) {
      const r = q.pop(chain);
      if (r === POP_ERROR) return this.fail(q.error ?? 'bad chain');
      if (r !== POP_OK) break;
      const n = Math.min(chain.readLen, TX_MAX);
      if (n > 0) {
        const out = new Uint8Array(n);
        chain.read(this.ram, 0, out);
        this.onOutput?.(out);
      }
      q.push(chain.head, 0);
    }
    this.queueDone(q);
  }

  protected override activate(): void {
    if (this.pending.length > 0) this.flushInput(false);
  }

  protected override configWritable(): Uint8Array {
    return this.writable;
  }

  protected override configWritten(offset: number): void {
    if (offset === CFG_EMERG_WR && this.negotiated(CONSOLE_F_EMERG_WRITE)) {
      this.onOutput?.(new Uint8Array([this.config[CFG_EMERG_WR]!]));
    }
  }

  protected resetDevice(): void {
    this.config.fill(0, CFG_EMERG_WR, CFG_EMERG_WR + 4);
  }

  protected saveDeviceState(): unknown {
    const rest: number[] = [];
    for (let i = 0; i < this.pending.length; i++) {
      const p = this.pending[i]!;
      for (let j = i === 0 ? this.pendingOff : 0; j < p.length; j++) rest.push(p[j]!);
    }
    return { pendingInput: rest };
  }

  protected loadDeviceState(state: unknown): void {
    const s = stateRecord(state, this.name);
    const p = s['pendingInput'];
    this.pending = Array.isArray(p) && p.length > 0 ? [Uint8Array.from(p, (b) => Number(b) & 0xff)] : [];
    this.pendingOff = 0;
  }
}
