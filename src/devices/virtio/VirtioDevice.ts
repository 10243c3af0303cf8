// virtio 1.2 §2 (basic facilities of a virtio device) and §3.1 (device initialization): status, feature bits, config space, virtqueues, reset.
//
// The transport-independent half of every virtio device. A transport (VirtioMmio,
// VirtioPci) owns the registers and the interrupt wire; it forwards driver accesses
// here and is told through `VirtioTransport` when the interrupt status changes. Only
// non-legacy (virtio 1.x) drivers are served: FEATURES_OK is refused unless the driver
// accepted VIRTIO_F_VERSION_1.
//
// Subclasses give the device type: its feature bits, config space bytes, queue count
// and the handlers for queue notifications; they save and load their own state through
// saveDeviceState/loadDeviceState.

import type { Device } from '../Device.js';
import { stateRecord, type StateRecord } from '../support.js';
import {
  F_EVENT_IDX,
  F_INDIRECT_DESC,
  F_VERSION_1,
  ISR_CONFIG,
  ISR_QUEUE,
  STATUS_DEVICE_NEEDS_RESET,
  STATUS_DRIVER_OK,
  STATUS_FAILED,
  STATUS_FEATURES_OK,
} from './constants.js';
import { GuestRam } from './GuestRam.js';
import { Virtqueue, type VirtqueueState } from './Virtqueue.js';
import type { PhysicalMemory } from '../../memory/PhysicalMemory.js';

/** What a device needs from its transport. */
export interface VirtioTransport {
  /** The interrupt status (ISR) changed; the transport drives its interrupt accordingly. */
  interruptChanged(): void;
}

/** A 64-bit feature set held as two 32-bit words (no BigInt on the register paths). */
export class Features {
  constructor(public lo = 0, public hi = 0) {}
  has(bit: number): boolean {
    return bit < 32 ? ((this.lo >>> bit) & 1) === 1 : ((this.hi >>> (bit - 32)) & 1) === 1;
  }
  set(bit: number, on = true): this {
    if (bit < 32) this.lo = (on ? this.lo | (1 << bit) : this.lo & ~(1 << bit)) >>> 0;
    else this.hi = (on ? this.hi | (1 << (bit - 32)) : this.hi & ~(1 << (bit - 32))) >>> 0;
    return this;
  }
  /** Word `sel` (0 = bits 0-31, 1 = bits 32-63, others read 0). */
  word(sel: number): number {
    return sel === 0 ? this.lo : sel === 1 ? this.hi : 0;
  }
  setWord(sel: number, v: number): void {
    if (sel === 0) this.lo = v >>> 0;
    else if (sel === 1) this.hi = v >>> 0;
  }
  /** True when every bit set here is set in `other`. */
  subsetOf(other: Features): boolean {
    return (this.lo & ~other.lo) === 0 && (this.hi & ~other.hi) === 0;
  }
  static of(...bits: number[]): Features {
    const f = new Features();
    for (const b of bits) f.set(b);
    return f;
  }
}

export interface VirtioDeviceOptions {
  /** Maximum size of each queue (default 256; at most 32768 and a power of 2). */
  queueSize?: number;
  /** Called with a one-line reason when the device marks itself as needing reset. */
  log?: (message: string) => void;
}

export abstract class VirtioDevice implements Device {
  readonly ram: GuestRam;
  readonly queues: Virtqueue[];
  /** Features the device offers (VERSION_1, INDIRECT_DESC and EVENT_IDX always). */
  readonly deviceFeatures: Features;
  /** What the driver wrote (valid once FEATURES_OK is set). */
  readonly driverFeatures = new Features();
  status = 0;
  /** Interrupt status: ISR_QUEUE | ISR_CONFIG. */
  isr = 0;
  /** Bumped whenever the device changes its config space (§2.5.1). */
  configGeneration = 0;
  transport: VirtioTransport | null = null;
  /** Why the device needs reset, if it does. */
  brokenReason: string | null = null;
  protected readonly log: (message: string) => void;
  /**
   * Called after the device completed work outside a guest access (host I/O finished,
   * a frame arrived), so a run loop sleeping in HLT can wake and deliver the interrupt.
   */
  wake: (() => void) | null = null;

  /**
   * @param name      device name for logs and stats
   * @param deviceId  virtio device ID (§5)
   * @param numQueues number of virtqueues
   * @param features  device-type feature bits (the ring and version bits are added)
   */
  constructor(
    readonly name: string,
    readonly deviceId: number,
    memory: PhysicalMemory,
    numQueues: number,
    features: Features,
    opts: VirtioDeviceOptions = {},
  ) {
    this.ram = new GuestRam(memory);
    const qsize = opts.queueSize ?? 256;
    if (!(qsize >= 1 && qsize <= 32768 && (qsize & (qsize - 1)) === 0)) throw new RangeError(`${name}: queue size ${qsize} is not a power of 2 in 1..32768`);
    this.queues = [];
    for (let i = 0; i < numQueues; i++) this.queues.push(new Virtqueue(this.ram, i, qsize));
    this.deviceFeatures = features.set(F_VERSION_1).set(F_INDIRECT_DESC).set(F_EVENT_IDX);
    this.log = opts.log ?? ((m) => process.stderr.write(`typevisor: ${m}\n`));
  }

  // ---- what device types provide ----

  /** Device-specific config space (§2.5), at least as long as the type's config structure. */
  protected abstract readonly config: Uint8Array;
  /** The driver notified queue `q` (only called while DRIVER_OK and not broken). */
  protected abstract queueNotify(q: Virtqueue): void;
  /** Device-type reset (queues and common state are reset by the base). */
  protected abstract resetDevice(): void;
  /** The driver set DRIVER_OK: queues are live. */
  protected activate(): void {}
  /** A config-space write by the driver (most devices ignore them). */
  protected configWritten(_offset: number, _size: number): void {}
  protected abstract saveDeviceState(): unknown;
  protected abstract loadDeviceState(state: unknown): void;

  // ---- status and features (§2.1, §2.2, §3.1.1) ----

  get driverOk(): boolean {
    return (this.status & (STATUS_DRIVER_OK | STATUS_DEVICE_NEEDS_RESET | STATUS_FAILED)) === STATUS_DRIVER_OK;
  }

  /** True when feature `bit` was negotiated. */
  negotiated(bit: number): boolean {
    return (this.status & STATUS_FEATURES_OK) !== 0 && this.driverFeatures.has(bit);
  }

  /** Driver writes the device status. 0 resets the device. */
  writeStatus(value: number): void {
    value &= 0xff;
    if (value === 0) {
      this.reset();
      return;
    }
    const old = this.status;
    let v = (value & ~STATUS_DEVICE_NEEDS_RESET) | (old & STATUS_DEVICE_NEEDS_RESET);
    if (v & STATUS_FEATURES_OK && !(old & STATUS_FEATURES_OK)) {
      // Refuse features we did not offer, and legacy drivers (no VERSION_1).
      if (!this.driverFeatures.subsetOf(this.deviceFeatures) || !this.driverFeatures.has(F_VERSION_1) || !this.featuresOk()) {
        v &= ~STATUS_FEATURES_OK;
      }
    }
    // FEATURES_OK cannot be taken back without a reset; DRIVER_OK needs FEATURES_OK.
    if (old & STATUS_FEATURES_OK) v |= STATUS_FEATURES_OK;
    if (v & STATUS_DRIVER_OK && !(v & STATUS_FEATURES_OK)) v &= ~STATUS_DRIVER_OK;
    this.status = v;
    if (v & STATUS_DRIVER_OK && !(old & STATUS_DRIVER_OK)) {
      for (const q of this.queues) {
        if (!q.ready) continue;
        this.applyRingFeatures(q);
        const bad = q.validate();
        if (bad !== null) {
          this.fail(bad);
          return;
        }
      }
      this.activate();
      // Buffers made available before DRIVER_OK are served now.
      for (const q of this.queues) if (q.ready && q.hasAvail() && this.driverOk) this.queueNotify(q);
    }
  }

  /** Device-type check of the driver's feature choice before FEATURES_OK sticks. */
  protected featuresOk(): boolean {
    return true;
  }

  /** Driver writes a word of its feature bits (ignored once FEATURES_OK is set). */
  writeDriverFeatures(sel: number, value: number): void {
    if (this.status & STATUS_FEATURES_OK) return;
    this.driverFeatures.setWord(sel, value);
  }

  private applyRingFeatures(q: Virtqueue): void {
    q.indirect = this.driverFeatures.has(F_INDIRECT_DESC);
    q.eventIdx = this.driverFeatures.has(F_EVENT_IDX);
  }

  // ---- queues ----

  /** The driver enabled (or, for a reset of the queue, disabled) queue `q`. */
  setQueueReady(q: Virtqueue, ready: boolean): void {
    if (!ready) {
      q.ready = false;
      return;
    }
    if (q.ready) return;
    this.applyRingFeatures(q);
    const bad = q.validate();
    if (bad !== null) {
      this.fail(bad);
      return;
    }
    q.ready = true;
  }

  /** The driver notified queue `index` (transport's notify register). */
  notify(index: number): void {
    const q = this.queues[index];
    if (q === undefined || !q.ready || !this.driverOk) return;
    this.queueNotify(q);
  }

  /**
   * Mark the device as needing reset (§2.1.2): a malformed ring or chain. The driver
   * learns it from the status field and a configuration change interrupt; the device
   * processes nothing more until reset.
   */
  fail(reason: string): void {
    if (this.status & STATUS_DEVICE_NEEDS_RESET) return;
    this.brokenReason = reason;
    this.log(`${this.name}: device needs reset: ${reason}`);
    this.status |= STATUS_DEVICE_NEEDS_RESET;
    if (this.status & STATUS_DRIVER_OK) this.raiseConfigInterrupt(false);
  }

  /** Pushes for queue `q` are done: interrupt if the driver asked for one. */
  protected queueDone(q: Virtqueue): void {
    if (q.needsInterrupt()) this.raiseIsr(ISR_QUEUE);
  }

  /** Like queueDone, for completions that arrive from the host asynchronously. */
  protected asyncDone(q: Virtqueue): void {
    this.queueDone(q);
    this.wake?.();
  }

  /** Host operations in flight (the run loop should not skip idle time while this is > 0). */
  pendingIo(): number {
    return 0;
  }

  /**
   * The host side is likely to deliver work soon (network frames in flight): an idle
   * guest should wait in host time rather than skip virtual time past it. Unlike
   * pendingIo, nothing has to drain before a pause or snapshot.
   */
  hostActive(): boolean {
    return false;
  }

  /**
   * Deterministic runs: a promise while a completion is due by the device's schedule
   * but the host has not finished it (the vCPU must not run on); null otherwise.
   */
  ioBarrier(): Promise<void> | null {
    return null;
  }

  /** Release host resources (files, sockets, child processes). */
  async close(): Promise<void> {}

  /** The device changed its config space: new generation, configuration change interrupt. */
  protected raiseConfigInterrupt(bumpGeneration = true): void {
    if (bumpGeneration) this.configGeneration = (this.configGeneration + 1) & 0xff;
    if (this.status & STATUS_DRIVER_OK) this.raiseIsr(ISR_CONFIG);
  }

  private raiseIsr(bits: number): void {
    const old = this.isr;
    this.isr |= bits;
    if (this.isr !== old) this.transport?.interruptChanged();
  }

  /** Transport: the driver acknowledged `bits` of the interrupt status. */
  ackInterrupt(bits: number): void {
    const old = this.isr;
    this.isr &= ~bits;
    if (this.isr !== old) this.transport?.interruptChanged();
  }

  // ---- config space (§2.5) ----

  get configSize(): number {
    return this.config.length;
  }

  /** Little-endian read of `size` bytes at `offset` of the device config (out of range reads 0). */
  readConfig(offset: number, size: number): number {
    const c = this.config;
    let v = 0;
    for (let i = 0; i < size; i++) {
      const o = offset + i;
      v |= (o < c.length ? c[o]! : 0) << (8 * i);
    }
    return v >>> 0;
  }

  /** Driver write to the device config: bytes the type marks writable change, then configWritten. */
  writeConfig(offset: number, size: number, value: number): void {
    const c = this.config;
    const mask = this.configWritable();
    let any = false;
    for (let i = 0; i < size; i++) {
      const o = offset + i;
      if (o < c.length && mask !== null && mask[o]) {
        c[o] = (value >>> (8 * i)) & 0xff;
        any = true;
      }
    }
    if (any) this.configWritten(offset, size);
  }

  /** Per-byte flags of driver-writable config bytes, or null for a read-only config. */
  protected configWritable(): Uint8Array | null {
    return null;
  }

  // ---- reset and state ----

  reset(): void {
    this.status = 0;
    this.driverFeatures.lo = 0;
    this.driverFeatures.hi = 0;
    this.brokenReason = null;
    for (const q of this.queues) q.reset();
    this.resetDevice();
    if (this.isr !== 0) {
      this.isr = 0;
      this.transport?.interruptChanged();
    }
  }

  saveState(): unknown {
    return {
      status: this.status,
      driverFeatures: [this.driverFeatures.lo, this.driverFeatures.hi],
      isr: this.isr,
      configGeneration: this.configGeneration,
      config: Array.from(this.config),
      broken: this.brokenReason,
      queues: this.queues.map((q) => q.saveState()),
      device: this.saveDeviceState(),
    };
  }

  loadState(state: unknown): void {
    const s = stateRecord(state, this.name);
    const num = (r: StateRecord, k: string): number => {
      const v = r[k];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`${this.name}: saved field ${k} is not a number`);
      return v;
    };
    const feats = s['driverFeatures'];
    if (!Array.isArray(feats) || feats.length !== 2) throw new TypeError(`${this.name}: saved driverFeatures malformed`);
    const qs = s['queues'];
    if (!Array.isArray(qs) || qs.length !== this.queues.length) throw new TypeError(`${this.name}: saved queue count does not match`);
    const cfg = s['config'];
    if (!Array.isArray(cfg) || cfg.length !== this.config.length) throw new TypeError(`${this.name}: saved config space size does not match`);
    this.status = num(s, 'status') & 0xff;
    this.driverFeatures.lo = Number(feats[0]) >>> 0;
    this.driverFeatures.hi = Number(feats[1]) >>> 0;
    this.isr = num(s, 'isr') & 3;
    this.configGeneration = num(s, 'configGeneration') & 0xff;
    this.config.set(cfg.map((b) => Number(b) & 0xff));
    this.brokenReason = typeof s['broken'] === 'string' ? s['broken'] : null;
    for (let i = 0; i < qs.length; i++) {
      const r = stateRecord(qs[i], `${this.name}.queue${i}`);
      const q = this.queues[i]!;
      q.loadState({
        size: num(r, 'size'),
        ready: r['ready'] === true,
        desc: num(r, 'desc'),
        driver: num(r, 'driver'),
        device: num(r, 'device'),
        lastAvail: num(r, 'lastAvail'),
        usedIdx: num(r, 'usedIdx'),
        signalledUsed: num(r, 'signalledUsed'),
        signalledValid: r['signalledValid'] === true,
      } satisfies VirtqueueState);
      this.applyRingFeatures(q);
      if (q.ready) {
        const bad = q.validate();
        if (bad !== null) throw new TypeError(`${this.name}: saved ${bad}`);
      }
    }
    this.loadDeviceState(s['device']);
    this.transport?.interruptChanged();
  }
}
