// virtio 1.2 §2.7 (split virtqueues): descriptor table, available and used rings, indirect descriptors (§2.7.5.3), event index (§2.7.7, §2.7.10).
//
// The device side of one split virtqueue. The rings live in guest RAM and are read and
// written through GuestRam, which bounds-checks every buffer. A descriptor chain is
// walked into a reusable DescChain (segment arrays that grow to the largest chain seen,
// never per descriptor). Anything malformed — a loop, an index past the table, a buffer
// outside RAM, a nested or mis-flagged indirect table, a readable descriptor after a
// writable one, an available index that ran ahead by more than the queue size — makes
// pop() return POP_ERROR with `error` set; the device then sets DEVICE_NEEDS_RESET.
// Nothing here throws on guest data.

import {
  INDIRECT_MAX,
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VIRTQ_USED_F_NO_NOTIFY,
} from './constants.js';
import type { GuestRam } from './GuestRam.js';

export const POP_EMPTY = 0;
export const POP_OK = 1;
export const POP_ERROR = -1;

/**
 * One descriptor chain as the device sees it: the device-readable segments first
 * (indices [0, nRead)), then the device-writable ones ([nRead, n)). Reused across pops.
 */
export class DescChain {
  /** Head descriptor index (the id that goes into the used ring). */
  head = -1;
  /** Number of segments; the first nRead are readable. */
  n = 0;
  nRead = 0;
  /** Total bytes in readable / writable segments. */
  readLen = 0;
  writeLen = 0;
  addr: Float64Array;
  len: Uint32Array;

  constructor(capacity = 8) {
    this.addr = new Float64Array(capacity);
    this.len = new Uint32Array(capacity);
  }

  clear(head: number): void {
    this.head = head;
    this.n = 0;
    this.nRead = 0;
    this.readLen = 0;
    this.writeLen = 0;
  }

  /** Append a segment (the walker has checked order and range). */
  add(addr: number, len: number, write: boolean): void {
    if (this.n === this.addr.length) {
      const a = new Float64Array(this.n * 2);
      a.set(this.addr);
      this.addr = a;
      const l = new Uint32Array(this.n * 2);
      l.set(this.len);
      this.len = l;
    }
    this.addr[this.n] = addr;
    this.len[this.n] = len;
    this.n++;
    if (write) this.writeLen += len;
    else {
      this.nRead++;
      this.readLen += len;
    }
  }

  /**
   * Copy up to `count` readable bytes starting `offset` bytes into the readable area into
   * dst[dstOff..]. Returns the bytes copied (short when the chain has fewer).
   */
  read(ram: GuestRam, offset: number, dst: Uint8Array, dstOff = 0, count = dst.length - dstOff): number {
    const u8 = ram.u8;
    let done = 0;
    for (let i = 0; i < this.nRead && done < count; i++) {
      const l = this.len[i]!;
      if (offset >= l) {
        offset -= l;
        continue;
      }
      const a = this.addr[i]! + offset;
      const k = Math.min(l - offset, count - done);
      dst.set(u8.subarray(a, a + k), dstOff + done);
      done += k;
      offset = 0;
    }
    return done;
  }

  /**
   * Copy `count` bytes of src[srcOff..] into the writable area starting `offset` bytes in.
   * Returns the bytes written (short when the writable area is smaller).
   */
  write(ram: GuestRam, offset: number, src: Uint8Array, srcOff = 0, count = src.length - srcOff): number {
    const u8 = ram.u8;
    let done = 0;
    for (let i = this.nRead; i < this.n && done < count; i++) {
      const l = this.len[i]!;
      if (offset >= l) {
        offset -= l;
        continue;
      }
      const a = this.addr[i]! + offset;
      const k = Math.min(l - offset, count - done);
      u8.set(src.subarray(srcOff + done, srcOff + done + k), a);
      ram.written(a, k);
      done += k;
      offset = 0;
    }
    return done;
  }

  /** Fill `count` writable bytes from `offset` with zeros. Returns bytes written. */
  zero(ram: GuestRam, offset: number, count: number): number {
    const u8 = ram.u8;
    let done = 0;
    for (let i = this.nRead; i < this.n && done < count; i++) {
      const l = this.len[i]!;
      if (offset >= l) {
        offset -= l;
        continue;
      }
      const a = this.addr[i]! + offset;
      const k = Math.min(l - offset, count - done);
      u8.fill(0, a, a + k);
      ram.written(a, k);
      done += k;
      offset = 0;
    }
    return done;
  }
}

/** Plain-data state of one queue (part of the device's saved state). */
export interface VirtqueueState {
  size: number;
  ready: boolean;
  desc: number;
  driver: number;
  device: number;
  lastAvail: number;
  usedIdx: number;
  signalledUsed: number;
  signalledValid: boolean;
}

export class Virtqueue {
  // Set by the driver through the transport.
  size: number;
  ready = false;
  /** Guest-physical addresses of the descriptor table, available ring ("driver area") and used ring ("device area"). */
  desc = 0;
  driver = 0;
  device = 0;

  // Device-side indices.
  lastAvail = 0;
  usedIdx = 0;
  private signalledUsed = 0;
  private signalledValid = false;

  /** Negotiated ring features, set by the device when the driver sets DRIVER_OK or a queue ready. */
  indirect = false;
  eventIdx = false;
  /** Why the last pop failed (for the log and tests). */
  error: string | null = null;

  constructor(private readonly ram: GuestRam, readonly index: number, readonly maxSize: number) {
    this.size = maxSize;
  }

  /** Back to the state after device reset. */
  reset(): void {
    this.size = this.maxSize;
    this.ready = false;
    this.desc = 0;
    this.driver = 0;
    this.device = 0;
    this.lastAvail = 0;
    this.usedIdx = 0;
    this.signalledUsed = 0;
    this.signalledValid = false;
    this.error = null;
  }

  /**
   * Check the layout the driver configured: size a power of two no larger than the
   * maximum, rings aligned (§2.7: 16, 2, 4) and wholly inside RAM (the used ring writable).
   * Returns null when usable, else the reason.
   */
  validate(): string | null {
    const s = this.size;
    if (!(s >= 1 && s <= this.maxSize && (s & (s - 1)) === 0)) return `queue ${this.index}: size ${s} is not a power of 2 in 1..${this.maxSize}`;
    const ram = this.ram;
    if (this.desc % 16 !== 0 || !ram.check(this.desc, 16 * s, false)) return `queue ${this.index}: descriptor table at 0x${this.desc.toString(16)} outside RAM or misaligned`;
    if (this.driver % 2 !== 0 || !ram.check(this.driver, 6 + 2 * s, false)) return `queue ${this.index}: available ring at 0x${this.driver.toString(16)} outside RAM or misaligned`;
    if (this.device % 4 !== 0 || !ram.check(this.device, 6 + 8 * s, true)) return `queue ${this.index}: used ring at 0x${this.device.toString(16)} outside RAM or misaligned`;
    return null;
  }

  /** The driver's available index. */
  availIdx(): number {
    return this.ram.r16(this.driver + 2);
  }

  /** True when the driver has made buffers available that the device has not taken. */
  hasAvail(): boolean {
    return this.ready && this.availIdx() !== this.lastAvail;
  }

  /** Buffers available and not yet taken (0 when the index is corrupt; pop reports that). */
  availCount(): number {
    if (!this.ready) return 0;
    const n = (this.availIdx() - this.lastAvail) & 0xffff;
    return n > this.size ? 0 : n;
  }

  private fail(reason: string): number {
    this.error = `queue ${this.index}: ${reason}`;
    return POP_ERROR;
  }

  /**
   * Take the next available chain into `chain`. POP_EMPTY when there is none, POP_OK, or
   * POP_ERROR when the ring or the chain is malformed (the chain's head has been consumed;
   * the device must be reset by the driver).
   */
  pop(chain: DescChain): number {
    if (!this.ready) return POP_EMPTY;
    const ram = this.ram;
    const avail = this.availIdx();
    if (avail === this.lastAvail) return POP_EMPTY;
    if (((avail - this.lastAvail) & 0xffff) > this.size) return this.fail(`available index moved from ${this.lastAvail} to ${avail}, more than the queue size`);
    const head = ram.r16(this.driver + 4 + 2 * (this.lastAvail & (this.size - 1)));
    this.lastAvail = (this.lastAvail + 1) & 0xffff;
    if (this.eventIdx) this.setAvailEvent(this.lastAvail);
    return this.walk(head, chain);
  }

  /** Give back the last `n` popped chains unused (only before they were pushed). */
  unpop(n: number): void {
    this.lastAvail = (this.lastAvail - n) & 0xffff;
    if (this.eventIdx) this.setAvailEvent(this.lastAvail);
  }

  /**
   * Walk the chain starting at descriptor `head` (§2.7.5, §2.7.5.3) into `chain`. Used by
   * pop, and to re-read requests that were in flight when the device state was saved.
   */
  walk(head: number, chain: DescChain): number {
    const ram = this.ram;
    chain.clear(head);
    let table = this.desc;
    let tableSize = this.size;
    let inIndirect = false;
    let steps = 0;
    let idx = head;
    for (;;) {
      if (idx >= tableSize) return this.fail(`descriptor index ${idx} outside a table of ${tableSize}`);
      if (++steps > tableSize) return this.fail(`descriptor chain from head ${head} is longer than its table (a loop?)`);
      const d = table + 16 * idx;
      const addr = ram.r64(d);
      const len = ram.r32(d + 8);
      const flags = ram.r16(d + 12);
      if (flags & VIRTQ_DESC_F_INDIRECT) {
        if (!this.indirect) return this.fail('indirect descriptor without VIRTIO_F_INDIRECT_DESC');
        if (inIndirect) return this.fail('nested indirect descriptor');
        if (flags & VIRTQ_DESC_F_NEXT) return this.fail('indirect descriptor with NEXT set');
        if (len === 0 || len % 16 !== 0 || len / 16 > INDIRECT_MAX) return this.fail(`indirect table length ${len} invalid`);
        if (!ram.check(addr, len, false)) return this.fail(`indirect table at 0x${addr.toString(16)}+${len} outside RAM`);
        table = addr;
        tableSize = len / 16;
        inIndirect = true;
        steps = 0;
        idx = 0;
        continue;
      }
      const write = (flags & VIRTQ_DESC_F_WRITE) !== 0;
      if (!write && chain.n > chain.nRead) return this.fail('device-readable descriptor after a device-writable one');
      if (!ram.check(addr, len, write)) return this.fail(`buffer 0x${addr.toString(16)}+${len} outside guest RAM${write ? ' (or not writable)' : ''}`);
      chain.add(addr, len, write);
      if ((flags & VIRTQ_DESC_F_NEXT) === 0) return POP_OK;
      idx = ram.r16(d + 14);
    }
  }

  /** Return chain `head` to the driver with `len` bytes written into its buffers (§2.7.8). */
  push(head: number, len: number): void {
    const ram = this.ram;
    const e = this.device + 4 + 8 * (this.usedIdx & (this.size - 1));
    ram.w32(e, head);
    ram.w32(e + 4, len);
    this.usedIdx = (this.usedIdx + 1) & 0xffff;
    ram.w16(this.device + 2, this.usedIdx);
  }

  /**
   * Whether the driver wants an interrupt for the used entries added since the last
   * interrupt (§2.7.7: the NO_INTERRUPT flag, or used_event with VIRTIO_F_EVENT_IDX).
   */
  needsInterrupt(): boolean {
    const ram = this.ram;
    if (!this.eventIdx) {
      const fresh = this.signalledUsed !== this.usedIdx || !this.signalledValid;
      this.signalledUsed = this.usedIdx;
      this.signalledValid = true;
      return fresh && (ram.r16(this.driver) & VIRTQ_AVAIL_F_NO_INTERRUPT) === 0;
    }
    const old = this.signalledUsed;
    const valid = this.signalledValid;
    const now = this.usedIdx;
    this.signalledUsed = now;
    this.signalledValid = true;
    if (!valid) return true;
    const usedEvent = ram.r16(this.driver + 4 + 2 * this.size);
    // vring_need_event: (u16)(new - event - 1) < (u16)(new - old)
    return ((now - usedEvent - 1) & 0xffff) < ((now - old) & 0xffff);
  }

  /** avail_event (§2.7.10): ask to be notified once the driver publishes index `idx`. */
  private setAvailEvent(idx: number): void {
    this.ram.w16(this.device + 4 + 8 * this.size, idx);
  }

  /**
   * With EVENT_IDX: ask for a notification as soon as the driver makes one more buffer
   * available (a device that is short of buffers, e.g. a frame waiting for room).
   */
  kickOnNextAvail(): void {
    if (this.ready && this.eventIdx) this.setAvailEvent(this.availIdx());
  }

  /** Ask for (or suppress) driver notifications (§2.7.10). */
  setNotify(enable: boolean): void {
    if (!this.ready) return;
    if (this.eventIdx) {
      if (enable) this.setAvailEvent(this.lastAvail);
    } else {
      this.ram.w16(this.device, enable ? 0 : VIRTQ_USED_F_NO_NOTIFY);
    }
  }

  saveState(): VirtqueueState {
    return {
      size: this.size,
      ready: this.ready,
      desc: this.desc,
      driver: this.driver,
      device: this.device,
      lastAvail: this.lastAvail,
      usedIdx: this.usedIdx,
      signalledUsed: this.signalledUsed,
      signalledValid: this.signalledValid,
    };
  }

  loadState(s: VirtqueueState): void {
    this.size = s.size;
    this.ready = s.ready;
    this.desc = s.desc;
    this.driver = s.driver;
    this.device = s.device;
    this.lastAvail = s.lastAvail & 0xffff;
    this.usedIdx = s.usedIdx & 0xffff;
    this.signalledUsed = s.signalledUsed & 0xffff;
    this.signalledValid = s.signalledValid;
    this.error = null;
  }
}
