// A test double for a virtio driver: lays out split virtqueues in guest RAM byte by byte
// (virtio 1.2 §2.7), posts descriptor chains, and drives the MMIO transport's registers
// the way Linux's virtio_mmio does.

import { PhysicalMemory } from '../../../src/memory/PhysicalMemory.js';
import * as M from '../../../src/devices/virtio/VirtioMmio.js';
import type { VirtioMmio } from '../../../src/devices/virtio/VirtioMmio.js';

export const VRING_DESC_F_NEXT = 1;
export const VRING_DESC_F_WRITE = 2;
export const VRING_DESC_F_INDIRECT = 4;

export function w8(mem: PhysicalMemory, a: number, v: number): void {
  mem.u8[a] = v & 0xff;
}
export function w16(mem: PhysicalMemory, a: number, v: number): void {
  mem.u8[a] = v & 0xff;
  mem.u8[a + 1] = (v >>> 8) & 0xff;
}
export function w32(mem: PhysicalMemory, a: number, v: number): void {
  for (let i = 0; i < 4; i++) mem.u8[a + i] = (v >>> (8 * i)) & 0xff;
}
export function w64(mem: PhysicalMemory, a: number, v: number): void {
  w32(mem, a, v % 0x100000000);
  w32(mem, a + 4, Math.floor(v / 0x100000000));
}
export function r16(mem: PhysicalMemory, a: number): number {
  return mem.u8[a]! | (mem.u8[a + 1]! << 8);
}
export function r32(mem: PhysicalMemory, a: number): number {
  return (mem.u8[a]! | (mem.u8[a + 1]! << 8) | (mem.u8[a + 2]! << 16) | (mem.u8[a + 3]! << 24)) >>> 0;
}

/** Write descriptor `i` of the table at `table`: addr le64, len le32, flags le16, next le16. */
export function writeDesc(mem: PhysicalMemory, table: number, i: number, addr: number, len: number, flags: number, next: number): void {
  const d = table + 16 * i;
  w64(mem, d, addr);
  w32(mem, d + 8, len);
  w16(mem, d + 12, flags);
  w16(mem, d + 14, next);
}

export interface Seg {
  addr: number;
  len: number;
  write?: boolean;
}

/** One split virtqueue laid out by the "driver" at `base`. */
export class FakeQueue {
  readonly desc: number;
  readonly avail: number;
  readonly used: number;
  availIdx = 0;
  lastUsed = 0;
  private nextDesc = 0;

  constructor(readonly mem: PhysicalMemory, base: number, readonly size: number) {
    this.desc = base;
    this.avail = base + 16 * size;
    this.used = (this.avail + 6 + 2 * size + 4095) & ~4095;
    // Zero the rings.
    mem.u8.fill(0, this.desc, this.used + 6 + 8 * size);
  }

  /** End of the memory the rings use. */
  get end(): number {
    return this.used + 6 + 8 * this.size;
  }

  /** Write a chain of direct descriptors and publish its head. Returns the head. */
  post(segs: Seg[]): number {
    const head = this.nextDesc % this.size;
    for (let i = 0; i < segs.length; i++) {
      const s = segs[i]!;
      const idx = (head + i) % this.size;
      const last = i === segs.length - 1;
      writeDesc(this.mem, this.desc, idx, s.addr, s.len, (s.write ? VRING_DESC_F_WRITE : 0) | (last ? 0 : VRING_DESC_F_NEXT), last ? 0 : (idx + 1) % this.size);
    }
    this.nextDesc += segs.length;
    this.publish(head);
    return head;
  }

  /** Write an indirect table at `table` holding `segs` and post one descriptor pointing to it. */
  postIndirect(table: number, segs: Seg[]): number {
    for (let i = 0; i < segs.length; i++) {
      const s = segs[i]!;
      const last = i === segs.length - 1;
      writeDesc(this.mem, table, i, s.addr, s.len, (s.write ? VRING_DESC_F_WRITE : 0) | (last ? 0 : VRING_DESC_F_NEXT), last ? 0 : i + 1);
    }
    const head = this.nextDesc % this.size;
    writeDesc(this.mem, this.desc, head, table, 16 * segs.length, VRING_DESC_F_INDIRECT, 0);
    this.nextDesc++;
    this.publish(head);
    return head;
  }

  /** Put `head` in the next available slot and bump avail->idx. */
  publish(head: number): void {
    w16(this.mem, this.avail + 4 + 2 * (this.availIdx % this.size), head);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    w16(this.mem, this.avail + 2, this.availIdx);
  }

  usedIdx(): number {
    return r16(this.mem, this.used + 2);
  }

  /** Used elements not yet consumed by the test. */
  takeUsed(): { id: number; len: number }[] {
    const out: { id: number; len: number }[] = [];
    const idx = this.usedIdx();
    while (this.lastUsed !== idx) {
      const e = this.used + 4 + 8 * (this.lastUsed % this.size);
      out.push({ id: r32(this.mem, e), len: r32(this.mem, e + 4) });
      this.lastUsed = (this.lastUsed + 1) & 0xffff;
    }
    return out;
  }

  /** used_event (avail->ring[size]) and avail_event (used->ring[size]). */
  setUsedEvent(v: number): void {
    w16(this.mem, this.avail + 4 + 2 * this.size, v);
  }
  availEvent(): number {
    return r16(this.mem, this.used + 4 + 8 * this.size);
  }
  setAvailFlags(v: number): void {
    w16(this.mem, this.avail, v);
  }
}

export function newMemory(mib = 4): PhysicalMemory {
  return new PhysicalMemory(mib << 20);
}

/** Bump allocator for test buffers in guest RAM. */
export class Alloc {
  constructor(private next: number) {}
  take(len: number, align = 16): number {
    this.next = Math.ceil(this.next / align) * align;
    const a = this.next;
    this.next += len;
    return a;
  }
}

// Status bits
export const S_ACK = 1;
export const S_DRIVER = 2;
export const S_DRIVER_OK = 4;
export const S_FEATURES_OK = 8;
export const S_NEEDS_RESET = 0x40;

const rd = (m: VirtioMmio, off: number): number => m.read(off, 4) >>> 0;
const wr = (m: VirtioMmio, off: number, v: number): void => m.write(off, 4, v);

/** Device features as [lo, hi]. */
export function mmioFeatures(m: VirtioMmio): [number, number] {
  wr(m, M.MMIO_DEVICE_FEATURES_SEL, 0);
  const lo = rd(m, M.MMIO_DEVICE_FEATURES);
  wr(m, M.MMIO_DEVICE_FEATURES_SEL, 1);
  const hi = rd(m, M.MMIO_DEVICE_FEATURES);
  return [lo, hi];
}

/**
 * Linux-style initialization over MMIO (§3.1.1): reset, ACK, DRIVER, accept `accept`
 * (default: everything offered), FEATURES_OK, set up `queues.length` queues, DRIVER_OK.
 * Returns the FakeQueues.
 */
export function mmioInit(m: VirtioMmio, mem: PhysicalMemory, opts: { queueBase: number; sizes: number[]; accept?: [number, number]; beforeDriverOk?: (qs: FakeQueue[]) => void }): FakeQueue[] {
  wr(m, M.MMIO_STATUS, 0);
  wr(m, M.MMIO_STATUS, S_ACK);
  wr(m, M.MMIO_STATUS, S_ACK | S_DRIVER);
  const [lo, hi] = opts.accept ?? mmioFeatures(m);
  wr(m, M.MMIO_DRIVER_FEATURES_SEL, 0);
  wr(m, M.MMIO_DRIVER_FEATURES, lo);
  wr(m, M.MMIO_DRIVER_FEATURES_SEL, 1);
  wr(m, M.MMIO_DRIVER_FEATURES, hi);
  wr(m, M.MMIO_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
  if (!(rd(m, M.MMIO_STATUS) & S_FEATURES_OK)) throw new Error('FEATURES_OK did not stick');
  const qs: FakeQueue[] = [];
  let base = opts.queueBase;
  opts.sizes.forEach((size, i) => {
    const q = new FakeQueue(mem, base, size);
    base = (q.end + 4095) & ~4095;
    wr(m, M.MMIO_QUEUE_SEL, i);
    wr(m, M.MMIO_QUEUE_NUM, size);
    wr(m, M.MMIO_QUEUE_DESC_LOW, q.desc);
    wr(m, M.MMIO_QUEUE_DESC_HIGH, 0);
    wr(m, M.MMIO_QUEUE_DRIVER_LOW, q.avail);
    wr(m, M.MMIO_QUEUE_DRIVER_HIGH, 0);
    wr(m, M.MMIO_QUEUE_DEVICE_LOW, q.used);
    wr(m, M.MMIO_QUEUE_DEVICE_HIGH, 0);
    wr(m, M.MMIO_QUEUE_READY, 1);
    qs.push(q);
  });
  opts.beforeDriverOk?.(qs);
  wr(m, M.MMIO_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
  return qs;
}

export function mmioNotify(m: VirtioMmio, q: number): void {
  wr(m, M.MMIO_QUEUE_NOTIFY, q);
}

export function mmioStatus(m: VirtioMmio): number {
  return rd(m, M.MMIO_STATUS);
}

/** Read and acknowledge the interrupt status. */
export function mmioAck(m: VirtioMmio): number {
  const isr = rd(m, M.MMIO_INTERRUPT_STATUS);
  wr(m, M.MMIO_INTERRUPT_ACK, isr);
  return isr;
}

/** Deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
