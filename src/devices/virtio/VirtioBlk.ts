// virtio 1.2 §5.2 (block device): a raw image file served with asynchronous host I/O.
//
// Requests (§5.2.6): IN, OUT, FLUSH (an fsync of the image), GET_ID, DISCARD (a checked
// hint: the data stays as it was, which §5.2.6.2 allows) and WRITE_ZEROES (zeros
// written to the file). Every request runs on Node's thread pool through a FileHandle,
// so the vCPU never waits for the disk; the completion writes the status byte, pushes
// the chain to the used ring and interrupts. A write is completed to the guest only
// after the host write returned. Data moves through host bounce buffers, so a request
// that completes after a device reset never writes into guest memory.
//
// Offered features: VIRTIO_BLK_F_SEG_MAX, VIRTIO_BLK_F_BLK_SIZE (512), VIRTIO_BLK_F_FLUSH,
// and either VIRTIO_BLK_F_RO (read-only drive) or VIRTIO_BLK_F_DISCARD +
// VIRTIO_BLK_F_WRITE_ZEROES; plus the ring features and VERSION_1 from the base.
//
// Deterministic runs (options.schedule): the host I/O runs the same way, but its result
// reaches the guest at a virtual time set by ScheduledCompletions' rule (request made at
// T, completed at T + schedule.delayNs, the vCPU waiting for the host if need be), never
// when the host happens to finish.
//
// Media swap (Firecracker's PATCH /drives path_on_host): swapMedium() opens the new
// image, serves every later request from it, updates the capacity in config space and
// raises a configuration-change interrupt (§2.5.1, §4.2.2.1), so the driver re-reads the
// capacity. Requests already running finish on the old file, which is closed after them.

import type { BlockImage } from './BlockImage.js';
import type { PhysicalMemory } from '../../memory/PhysicalMemory.js';
import { stateRecord } from '../support.js';
import { DEVICE_ID_BLOCK } from './constants.js';
import { DescChain, POP_ERROR, POP_OK, type Virtqueue } from './Virtqueue.js';
import { Features, VirtioDevice, type VirtioDeviceOptions } from './VirtioDevice.js';
import type { ScheduledCompletions } from './ScheduledCompletions.js';

// Feature bits (§5.2.3)
export const BLK_F_SIZE_MAX = 1;
export const BLK_F_SEG_MAX = 2;
export const BLK_F_GEOMETRY = 4;
export const BLK_F_RO = 5;
export const BLK_F_BLK_SIZE = 6;
export const BLK_F_FLUSH = 9;
export const BLK_F_TOPOLOGY = 10;
export const BLK_F_CONFIG_WCE = 11;
export const BLK_F_MQ = 12;
export const BLK_F_DISCARD = 13;
export const BLK_F_WRITE_ZEROES = 14;

// Request types and status (§5.2.6)
export const BLK_T_IN = 0;
export const BLK_T_OUT = 1;
export const BLK_T_FLUSH = 4;
export const BLK_T_GET_ID = 8;
export const BLK_T_GET_LIFETIME = 10;
export const BLK_T_DISCARD = 11;
export const BLK_T_WRITE_ZEROES = 13;
export const BLK_T_SECURE_ERASE = 14;
export const BLK_S_OK = 0;
export const BLK_S_IOERR = 1;
export const BLK_S_UNSUPP = 2;

export const SECTOR_SIZE = 512;
export const BLK_ID_BYTES = 20;
/** Largest data transfer of one request; larger ones fail with IOERR (bounds host buffers). */
export const MAX_REQUEST_BYTES = 64 << 20;
/** Largest discard / write-zeroes range in sectors, and segments per request (config space). */
const MAX_DISCARD_SECTORS = 0x3fffff;
const MAX_DISCARD_SEG = 1;
const ZERO_CHUNK = 1 << 20;

// Config space offsets (§5.2.4)
const CFG_CAPACITY = 0;
const CFG_SEG_MAX = 12;
const CFG_BLK_SIZE = 20;
const CFG_NUM_QUEUES = 34;
const CFG_MAX_DISCARD_SECTORS = 36;
const CFG_MAX_DISCARD_SEG = 40;
const CFG_DISCARD_ALIGNMENT = 44;
const CFG_MAX_WRITE_ZEROES_SECTORS = 48;
const CFG_MAX_WRITE_ZEROES_SEG = 52;
const CONFIG_SIZE = 60;

export interface BlkOptions extends VirtioDeviceOptions {
  /** Path of the raw image (with `image`, only its name). */
  path: string;
  /** The medium itself instead of the file at `path` (an image held in memory). */
  image?: BlockImage & { readonly size: number };
  readonly?: boolean;
  /** Serial reported by GET_ID (at most 20 bytes); default: the file's base name. */
  id?: string;
  /** Deterministic runs: completions are delivered by this schedule's rule, not as the host finishes them. */
  schedule?: ScheduledCompletions;
}

let zeroChunk: Uint8Array | null = null;

export class VirtioBlk extends VirtioDevice {
  protected readonly config = new Uint8Array(CONFIG_SIZE);
  readonly readonly: boolean;
  /** Capacity in 512-byte sectors (changes when the medium is swapped). */
  capacity: number;
  /** Path of the image being served (changes when the medium is swapped; snapshots reopen it). */
  imagePath: string;
  readonly idBytes: Uint8Array;
  /** Images swapped out while requests on them were still running (closed once idle). */
  private readonly retired: BlockImage[] = [];
  private readonly free: DescChain[] = [];
  /** Heads of requests popped and not yet completed (saved with the state, resubmitted on load). */
  private readonly inflight = new Set<number>();
  /** Bumped on reset and load: completions of older requests are dropped. */
  private generation = 0;
  private readonly header = new Uint8Array(16);
  private readonly headerView = new DataView(this.header.buffer);
  private readonly idle: (() => void)[] = [];
  private closed = false;
  /** Deterministic runs: settles when the last host operation started has finished (see submit). */
  private hostOrder: Promise<void> = Promise.resolve();
  /** See BlkOptions.schedule. */
  readonly schedule: ScheduledCompletions | null;
  /** Host operations running, including ones a reset orphaned. */
  private running = 0;
  /** Requests served, for stats and tests. */
  readonly counts = { read: 0, write: 0, flush: 0, getId: 0, discard: 0, writeZeroes: 0, errors: 0 };

  /**
   * Open the image and create the device: `opts.image` when given (an image held in
   * memory, the browser page's), else the file at `opts.path`. Throws a one-line Error
   * when the file cannot be used.
   */
  static async open(memory: PhysicalMemory, opts: BlkOptions): Promise<VirtioBlk> {
    if (opts.image !== undefined) return new VirtioBlk(memory, opts.image, opts.image.size, opts);
    const { fh, size } = await openImageFile(opts.path, opts.readonly === true);
    return new VirtioBlk(memory, fh, size, opts);
  }

  constructor(memory: PhysicalMemory, private file: BlockImage, sizeBytes: number, opts: BlkOptions) {
    const ro = opts.readonly === true;
    const f = Features.of(BLK_F_SEG_MAX, BLK_F_BLK_SIZE, BLK_F_FLUSH);
    if (ro) f.set(BLK_F_RO);
    else f.set(BLK_F_DISCARD).set(BLK_F_WRITE_ZEROES);
    super(`virtio-blk${opts.id !== undefined ? `-${opts.id}` : ''}`, DEVICE_ID_BLOCK, memory, 1, f, opts);
    this.readonly = ro;
    this.imagePath = opts.path;
    this.schedule = opts.schedule ?? null;
    this.capacity = Math.floor(sizeBytes / SECTOR_SIZE);
    const id = new TextEncoder().encode(opts.id ?? opts.path.slice(opts.path.lastIndexOf('/') + 1));
    this.idBytes = id.subarray(0, BLK_ID_BYTES);
    const v = new DataView(this.config.buffer);
    this.writeCapacity();
    v.setUint32(CFG_SEG_MAX, this.queues[0]!.maxSize - 2, true);
    v.setUint32(CFG_BLK_SIZE, SECTOR_SIZE, true);
    v.setUint16(CFG_NUM_QUEUES, 1, true);
    if (!ro) {
      v.setUint32(CFG_MAX_DISCARD_SECTORS, MAX_DISCARD_SECTORS, true);
      v.setUint32(CFG_MAX_DISCARD_SEG, MAX_DISCARD_SEG, true);
      v.setUint32(CFG_DISCARD_ALIGNMENT, 1, true);
      v.setUint32(CFG_MAX_WRITE_ZEROES_SECTORS, MAX_DISCARD_SECTORS, true);
      v.setUint32(CFG_MAX_WRITE_ZEROES_SEG, MAX_DISCARD_SEG, true);
    }
  }

  private writeCapacity(): void {
    const v = new DataView(this.config.buffer);
    v.setUint32(CFG_CAPACITY, this.capacity % 0x100000000, true);
    v.setUint32(CFG_CAPACITY + 4, Math.floor(this.capacity / 0x100000000), true);
  }

  /**
   * Swap the medium for the image at `path` (opened read-only if the drive is): later
   * requests use it, the capacity is updated and the driver told through a
   * configuration-change interrupt. Throws a one-line Error (and keeps the old medium)
   * when the file cannot be used.
   */
  async swapMedium(path: string): Promise<void> {
    if (this.closed) throw new Error(`${this.name}: the device is closed`);
    const { fh, size } = await openImageFile(path, this.readonly);
    const old = this.file;
    this.file = fh;
    this.imagePath = path;
    this.capacity = Math.floor(size / SECTOR_SIZE);
    this.writeCapacity();
    this.raiseConfigInterrupt();
    this.wake?.();
    if (this.running === 0) await old.close();
    else {
      this.retired.push(old);
      void this.drain().then(() => this.closeRetired());
    }
  }

  private async closeRetired(): Promise<void> {
    for (const fh of this.retired.splice(0)) {
      try { await fh.close(); } catch { /* already closed */ }
    }
  }

  protected queueNotify(q: Virtqueue): void {
    for (;;) {
      const chain = this.free.pop() ?? new DescChain();
      const r = q.pop(chain);
      if (r !== POP_OK) {
        this.free.push(chain);
        if (r === POP_ERROR) this.fail(q.error ?? 'bad chain');
        return;
      }
      if (!this.submit(q, chain)) return;
    }
  }

  /** Start one request. False when the device had to be marked broken. */
  private submit(q: Virtqueue, chain: DescChain): boolean {
    // §5.2.6: a 16-byte readable header, then data, then a 1-byte writable status.
    if (chain.readLen < 16 || chain.writeLen < 1) {
      this.free.push(chain);
      this.fail(`request ${chain.head} without header or status byte`);
      return false;
    }
    chain.read(this.ram, 0, this.header);
    const type = this.headerView.getUint32(0, true);
    const sector = this.headerView.getUint32(8, true) + this.headerView.getUint32(12, true) * 0x100000000;
    this.inflight.add(chain.head);
    this.running++;
    const gen = this.generation;
    const scheduled = this.schedule?.start() ?? null;
    const done = (status: number, data: Uint8Array | null): void => {
      if (scheduled !== null) this.schedule!.finish(scheduled, () => this.complete(q, chain, gen, status, data));
      else this.complete(q, chain, gen, status, data);
      this.settle();
    };
    // Deterministic runs: one host operation at a time, in request order, so a read that
    // overlaps an earlier write sees the same bytes whatever the thread pool does.
    let after: Promise<void> | null = null;
    let release = (): void => {};
    if (scheduled !== null) {
      after = this.hostOrder;
      this.hostOrder = new Promise<void>((r) => { release = r; });
    }
    this.run(type, sector, chain, after).finally(() => release()).then(
      (r) => done(r.status, r.data),
      (e: unknown) => {
        this.log(`${this.name}: host I/O error: ${(e as Error).message}`);
        done(BLK_S_IOERR, null);
      },
    );
    return true;
  }

  /**
   * Do request `type` on the host; resolves with the status and the data for the guest
   * (copied into guest memory by complete(), only if the device was not reset meanwhile).
   */
  private async run(type: number, sector: number, chain: DescChain, after: Promise<void> | null): Promise<{ status: number; data: Uint8Array | null }> {
    const file = this.file; // a media swap mid-request must not mix two images
    const dataIn = chain.writeLen - 1;
    const dataOut = chain.readLen - 16;
    const ioerr = { status: BLK_S_IOERR, data: null };
    const ok = { status: BLK_S_OK, data: null };
    const unsupp = { status: BLK_S_UNSUPP, data: null };
    switch (type) {
      case BLK_T_IN: {
        if (!this.rangeOk(sector, dataIn)) return ioerr;
        this.counts.read++;
        const buf = new Uint8Array(dataIn);
        if (after) await after;
        let got = 0;
        while (got < dataIn) {
          const { bytesRead } = await file.read(buf, got, dataIn - got, sector * SECTOR_SIZE + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        buf.fill(0, got);
        return { status: BLK_S_OK, data: buf };
      }
      case BLK_T_OUT: {
        if (this.readonly || !this.rangeOk(sector, dataOut)) return ioerr;
        this.counts.write++;
        const buf = new Uint8Array(dataOut);
        chain.read(this.ram, 16, buf);
        if (after) await after;
        let put = 0;
        while (put < dataOut) {
          const { bytesWritten } = await file.write(buf, put, dataOut - put, sector * SECTOR_SIZE + put);
          put += bytesWritten;
        }
        return ok;
      }
      case BLK_T_FLUSH:
        this.counts.flush++;
        if (after) await after;
        if (!this.readonly) await file.sync();
        return ok;
      case BLK_T_GET_ID: {
        this.counts.getId++;
        const id = new Uint8Array(Math.min(BLK_ID_BYTES, dataIn));
        id.set(this.idBytes.subarray(0, id.length));
        return { status: BLK_S_OK, data: id };
      }
      case BLK_T_DISCARD:
      case BLK_T_WRITE_ZEROES: {
        if (this.readonly) return unsupp;
        // One or more 16-byte segments {sector le64, num_sectors le32, flags le32} (§5.2.6).
        if (dataOut === 0 || dataOut % 16 !== 0 || dataOut / 16 > MAX_DISCARD_SEG) return ioerr;
        const seg = new Uint8Array(dataOut);
        chain.read(this.ram, 16, seg);
        const v = new DataView(seg.buffer);
        if (after) await after;
        for (let off = 0; off < dataOut; off += 16) {
          const s = v.getUint32(off, true) + v.getUint32(off + 4, true) * 0x100000000;
          const n = v.getUint32(off + 8, true);
          const flags = v.getUint32(off + 12, true);
          // Only the UNMAP flag is defined, and only for write-zeroes.
          if (flags & ~(type === BLK_T_WRITE_ZEROES ? 1 : 0)) return unsupp;
          if (n > MAX_DISCARD_SECTORS || !this.rangeOk(s, n * SECTOR_SIZE, true)) return ioerr;
          if (type === BLK_T_DISCARD) {
            this.counts.discard++;
            continue;
          }
          this.counts.writeZeroes++;
          zeroChunk ??= new Uint8Array(ZERO_CHUNK);
          let pos = s * SECTOR_SIZE;
          let left = n * SECTOR_SIZE;
          while (left > 0) {
            const k = Math.min(left, ZERO_CHUNK);
            const { bytesWritten } = await file.write(zeroChunk, 0, k, pos);
            pos += bytesWritten;
            left -= bytesWritten;
          }
        }
        return ok;
      }
      default:
        return unsupp;
    }
  }

  /** A transfer of `bytes` at `sector`: whole sectors, inside the disk, not too large. */
  private rangeOk(sector: number, bytes: number, anySize = false): boolean {
    if (bytes % SECTOR_SIZE !== 0) return false;
    if (!anySize && bytes > MAX_REQUEST_BYTES) return false;
    return sector + bytes / SECTOR_SIZE <= this.capacity;
  }

  /** Copy host data into the chain's writable data area (not the status byte). */
  private copyIn(chain: DescChain, data: Uint8Array): number {
    const n = Math.min(data.length, chain.writeLen - 1);
    return chain.write(this.ram, 0, data, 0, n);
  }

  private complete(q: Virtqueue, chain: DescChain, gen: number, status: number, data: Uint8Array | null): void {
    if (gen !== this.generation || this.closed) {
      // The device was reset (or its state replaced) while the host worked: drop it.
      this.free.push(chain);
      return;
    }
    this.inflight.delete(chain.head);
    if (status !== BLK_S_OK) this.counts.errors++;
    const written = data !== null ? this.copyIn(chain, data) : 0;
    const st = new Uint8Array([status]);
    chain.write(this.ram, chain.writeLen - 1, st);
    q.push(chain.head, written + 1);
    this.free.push(chain);
    this.asyncDone(q);
  }

  private settle(): void {
    this.running--;
    if (this.running === 0) for (const f of this.idle.splice(0)) f();
  }

  override pendingIo(): number {
    return this.running;
  }

  override ioBarrier(): Promise<void> | null {
    return this.schedule?.barrier() ?? null;
  }

  /** Resolves when no host operation is running (before a snapshot, or at exit). */
  drain(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  override async close(): Promise<void> {
    await this.drain();
    this.closed = true;
    await this.closeRetired();
    await this.file.close();
  }

  protected resetDevice(): void {
    this.generation++;
    this.inflight.clear();
    this.schedule?.clear();
  }

  protected saveDeviceState(): unknown {
    return { inflight: [...this.inflight] };
  }

  protected loadDeviceState(state: unknown): void {
    const s = stateRecord(state, this.name);
    const heads = s['inflight'];
    if (!Array.isArray(heads)) throw new TypeError(`${this.name}: saved inflight is not an array`);
    this.generation++;
    this.inflight.clear();
    this.schedule?.clear();
    // Requests that were in flight when the state was saved run again: their chains are
    // still in guest memory, untouched by the driver until it sees them used.
    const q = this.queues[0]!;
    if (!q.ready || !this.driverOk) return;
    for (const h of heads) {
      const chain = this.free.pop() ?? new DescChain();
      if (typeof h !== 'number' || q.walk(h, chain) !== POP_OK) {
        this.free.push(chain);
        throw new TypeError(`${this.name}: saved in-flight request ${String(h)} is not a valid chain`);
      }
      this.submit(q, chain);
    }
  }
}

/** A drive's image file, opened by the Node-side module (blockImageFile.ts) when a drive names one. */
async function openImageFile(path: string, readonly: boolean): Promise<{ fh: BlockImage; size: number }> {
  const { openImage } = await import('./blockImageFile.js');
  return openImage(path, readonly);
}
