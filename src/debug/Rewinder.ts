// Reverse execution for gdb under --replay (reverse-stepi, reverse-continue: the bs and bc
// packets), as QEMU's reverse debugging does it: a replay is deterministic, so the state
// at any earlier instruction count is had by going back to an earlier image of the machine
// and replaying forward to that count.
//
// Images are taken in memory between slices of the replay (Replayer.onSlice): one when the
// Rewinder is made (the start of the history) and then every `interval` instructions.
// Each holds all of guest RAM, so their number is capped: when full, every other one is
// dropped (the first kept) and the interval doubles, so they cover the whole history with
// a re-run of at most about one interval. Going back restores an image in place (RAM,
// CPU, clock, devices, the replay's place in its log) and runs the replay to the target
// count (Replayer.stopAt: slices are cut there exactly), on the translator; guest output
// on the way, already seen, is not printed again. A machine with virtio devices is refused:
// its drive images and host-side queues are not part of an image.

import { loadCpuState, saveCpuState, type CpuStateData } from '../cpu/CpuState.js';
import type { Machine } from '../machine/Machine.js';
import type { Replayer } from '../replay/RecordReplay.js';
import type { DebugEngine, StopKind, Watchpoint } from './DebugEngine.js';

/** Instructions between images at first. */
export const REWIND_INTERVAL = 20_000_000;
/** Bytes of images kept (guest RAM each). */
const MAX_IMAGE_BYTES = 512 << 20;

interface Image {
  count: number;
  ram: Uint8Array;
  pageKind: Uint8Array;
  cpu: CpuStateData;
  clock: { ns: number };
  devices: unknown[];
  replay: ReturnType<Replayer['saveState']>;
}

export interface Hit { count: number; kind: StopKind; watch: Watchpoint | null }

export class Rewinder {
  private readonly images: Image[] = [];
  private readonly maxImages: number;
  private nextAt: number;
  private readonly replayer: Replayer;

  constructor(private readonly m: Machine, private interval = REWIND_INTERVAL) {
    if (m.replayer === null) throw new Error('reverse execution needs a replay (--replay)');
    if (m.virtio.length > 0) throw new Error('reverse execution needs a machine without virtio devices (their host side is not in an image)');
    this.replayer = m.replayer;
    this.maxImages = Math.max(2, Math.floor(MAX_IMAGE_BYTES / m.mem.ramSize));
    this.images.push(this.capture());
    this.nextAt = m.cpu.instructions + interval;
    this.replayer.onSlice = () => {
      if (this.m.cpu.instructions >= this.nextAt) this.take();
    };
  }

  /** The earliest instruction count reverse execution can reach. */
  get begin(): number {
    return this.images[0]!.count;
  }

  private take(): void {
    const count = this.m.cpu.instructions;
    if (count <= this.images[this.images.length - 1]!.count) return; // gone back: this part of the history has its images
    if (this.images.length >= this.maxImages) {
      const kept = this.images.filter((_, i) => i % 2 === 0);
      this.images.length = 0;
      this.images.push(...kept);
      this.interval *= 2;
    }
    this.images.push(this.capture());
    this.nextAt = count + this.interval;
  }

  private capture(): Image {
    const m = this.m;
    return {
      count: m.cpu.instructions,
      ram: m.mem.u8.slice(),
      pageKind: m.mem.pageKind.slice(),
      cpu: saveCpuState(m.cpu),
      clock: m.clock.saveState(),
      devices: m.platform.devices.map((d) => d.saveState()),
      replay: this.replayer.saveState(),
    };
  }

  private restore(im: Image): void {
    const m = this.m;
    m.mem.u8.set(im.ram);
    m.mem.pageKind.set(im.pageKind);
    m.mem.markWritten(0, m.mem.ramSize); // checkpoint hashes, translated code
    loadCpuState(m.cpu, im.cpu);
    m.clock.loadState(im.clock);
    m.platform.devices.forEach((d, i) => d.loadState(im.devices[i]));
    this.replayer.loadState(im.replay);
  }

  /** The latest image at or before `count`. */
  private imageAt(count: number): Image {
    let best = this.images[0]!;
    for (const im of this.images) if (im.count <= count) best = im;
    return best;
  }

  /** Go back to instruction count `target` (clamped to begin) of the paused machine: restore the image before it and replay to it. */
  runTo(target: number): Promise<void> {
    if (target < this.begin) target = this.begin;
    return this.replay(this.imageAt(target), target, null, null);
  }

  /**
   * Restore `im` and replay to `target`: on the translator, or with `engine` (breakpoints,
   * watchpoints) telling `scan` of every hit and running on.
   */
  private async replay(im: Image, target: number, engine: DebugEngine | null, scan: ((h: Hit) => void) | null): Promise<void> {
    const m = this.m;
    this.restore(im);
    if (m.cpu.instructions >= target) return;
    const c = m.cpu;
    const saved = c.debug;
    if (scan !== null && engine !== null) {
      engine.resume(c, false, false);
      engine.scan = (count, kind, watch) => scan({ count, kind, watch });
      c.debug = engine;
    } else {
      c.debug = null;
    }
    // The guest's output on the way is the replay of output already shown (some may still come, batched).
    const out = m.onSerialOutput;
    m.onSerialOutput = () => {};
    try {
      await new Promise<void>((resolve) => {
        this.replayer.onStopAt = resolve;
        this.replayer.stopAt = target;
        m.resume();
      });
    } finally {
      this.replayer.onStopAt = null;
      m.onSerialOutput = out;
      if (engine !== null) engine.scan = null;
      c.debug = saved;
    }
  }

  /**
   * Reverse-continue: the last breakpoint or watchpoint hit before count `end`, searched
   * image by image from the latest back, and the machine left there; null (the machine
   * left at begin) when there is none.
   */
  async lastHitBefore(end: number, engine: DebugEngine): Promise<Hit | null> {
    let upTo = end;
    for (;;) {
      const from = this.imageAt(upTo - 1);
      let last: Hit | null = null;
      if (upTo > from.count) await this.replay(from, upTo, engine, (h) => { if (h.count < end) last = h; });
      if (last !== null) {
        const hit: Hit = last;
        await this.runTo(hit.count);
        return hit;
      }
      if (from.count <= this.begin) {
        await this.runTo(this.begin);
        return null;
      }
      upTo = from.count;
    }
  }
}
