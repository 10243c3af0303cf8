// virtio 1.2 §5.1 (network device): one receiveq/transmitq pair, frames to and from a pluggable NetBackend.
//
// Offered features: VIRTIO_NET_F_MAC, VIRTIO_NET_F_STATUS (link up/down with a config
// interrupt), VIRTIO_NET_F_MRG_RXBUF (a received frame may span several receive
// buffers, so large-MTU backends work), VIRTIO_NET_F_MTU (the backend's MTU) and
// VIRTIO_NET_F_CSUM (transmit checksum offload: the device completes partial
// checksums, which also lets Linux use scatter-gather). Not offered: GUEST_CSUM and
// every segmentation offload (TSO/UFO/GSO), so frames to the guest carry complete
// checksums and a zeroed struct virtio_net_hdr (12 bytes with VERSION_1).
//
// Frames that arrive while the guest has posted no receive buffers wait in a bounded
// backlog (dropped beyond it, as a NIC drops on a full ring).

import type { PhysicalMemory } from '../../memory/PhysicalMemory.js';
import type { NetBackend } from '../../net/NetBackend.js';
import { stateRecord } from '../support.js';
import { DEVICE_ID_NET } from './constants.js';
import { DescChain, POP_ERROR, POP_OK, type Virtqueue } from './Virtqueue.js';
import { Features, VirtioDevice, type VirtioDeviceOptions } from './VirtioDevice.js';

// Feature bits (§5.1.3)
export const NET_F_CSUM = 0;
export const NET_F_GUEST_CSUM = 1;
export const NET_F_MTU = 3;
export const NET_F_MAC = 5;
export const NET_F_MRG_RXBUF = 15;
export const NET_F_STATUS = 16;
export const NET_S_LINK_UP = 1;

/** struct virtio_net_hdr with num_buffers (always this size for VERSION_1 drivers). */
export const NET_HDR_SIZE = 12;
const RXQ = 0;
const TXQ = 1;
/** Config: mac[6], status u16, max_virtqueue_pairs u16, mtu u16 (§5.1.4). */
const CONFIG_SIZE = 12;
/** Most frames held while the guest has no receive buffers. */
export const RX_BACKLOG_FRAMES = 256;
/** Most receive buffers one frame may span with MRG_RXBUF. */
const MAX_RX_CHAINS = 128;
/** Largest frame accepted from the guest (64 KiB IP packet + Ethernet header + VLAN). */
const MAX_FRAME = 65536 + 18;
/**
 * How long after a frame went either way the link counts as active (host ms): replies
 * from passt or a local peer come within a few ms, and while they may be on their way
 * an idle guest waits in host time instead of skipping virtual time past them (which,
 * with --fast, fired the guest's TCP timers before the host could answer).
 */
export const ACTIVE_WINDOW_MS = 100;

export interface NetOptions extends VirtioDeviceOptions {
  /** "52:54:00:12:34:56"; default: 52:54:00 and three random bytes. */
  mac?: string;
  /** MTU reported to the guest; default the backend's, else 1500. */
  mtu?: number;
}

/** Parse "aa:bb:cc:dd:ee:ff" (or with dashes). Throws on anything else. */
export function parseMac(s: string): Uint8Array {
  const parts = s.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) throw new Error(`bad MAC address "${s}" (want aa:bb:cc:dd:ee:ff)`);
  const mac = Uint8Array.from(parts, (p) => parseInt(p, 16));
  if (mac[0]! & 1) throw new Error(`bad MAC address "${s}": multicast bit set`);
  return mac;
}

export function formatMac(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':');
}

/** A locally usable unicast MAC in QEMU's 52:54:00 range. */
export function randomMac(): Uint8Array {
  const m = new Uint8Array(6);
  m.set([0x52, 0x54, 0x00]);
  m.set(crypto.getRandomValues(new Uint8Array(3)), 3);
  return m;
}

/** struct virtio_net_hdr flags and gso_type (§5.1.6) */
export const NET_HDR_F_NEEDS_CSUM = 1;
export const NET_HDR_GSO_NONE = 0;

/**
 * Apply a transmit header (§5.1.6.2): with NEEDS_CSUM, fold the ones' complement sum
 * of frame[csum_start..] into the 16 bits at csum_start + csum_offset. False for a
 * header the device did not offer (GSO) or offsets outside the frame.
 */
export function completeChecksum(hdr: Uint8Array, frame: Uint8Array): boolean {
  if (hdr[1] !== NET_HDR_GSO_NONE) return false;
  if ((hdr[0]! & NET_HDR_F_NEEDS_CSUM) === 0) return true;
  const start = hdr[6]! | (hdr[7]! << 8);
  const at = start + (hdr[8]! | (hdr[9]! << 8));
  if (at + 2 > frame.length) return false;
  let sum = 0;
  const end = frame.length;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (frame[i]! << 8) | frame[i + 1]!;
  if (i < end) sum += frame[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const c = ~sum & 0xffff;
  frame[at] = c >>> 8;
  frame[at + 1] = c & 0xff;
  return true;
}

export class VirtioNet extends VirtioDevice {
  protected readonly config = new Uint8Array(CONFIG_SIZE);
  readonly mtu: number;
  private readonly chains: DescChain[] = [];
  private readonly txChain = new DescChain();
  private readonly txHdr = new Uint8Array(NET_HDR_SIZE);
  private backlog: Uint8Array[] = [];
  private linkUp = true;
  /** hostNow() of the last frame in either direction. */
  private lastFrameMs = -Infinity;
  /** The host clock (ms) the activity window is measured on; a test sets its own to check the window without sleeping. */
  hostNow: () => number = () => performance.now();
  readonly stats = { rxFrames: 0, txFrames: 0, rxDropped: 0, txDropped: 0 };

  constructor(memory: PhysicalMemory, readonly backend: NetBackend, opts: NetOptions = {}) {
    super('virtio-net', DEVICE_ID_NET, memory, 2, Features.of(NET_F_CSUM, NET_F_MAC, NET_F_STATUS, NET_F_MRG_RXBUF, NET_F_MTU), opts);
    this.mtu = opts.mtu ?? backend.mtu ?? 1500;
    if (!(this.mtu >= 68 && this.mtu <= 65535)) throw new RangeError(`virtio-net: MTU ${this.mtu} out of range 68..65535`);
    this.config.set(opts.mac !== undefined ? parseMac(opts.mac) : randomMac(), 0);
    this.writeLinkStatus();
    this.config[10] = this.mtu & 0xff;
    this.config[11] = this.mtu >>> 8;
    for (let i = 0; i < MAX_RX_CHAINS; i++) this.chains.push(new DescChain());
    backend.onReceive = (frame) => this.receive(frame);
  }

  /** The MAC address (from the options, generated, or from loaded state). */
  get mac(): Uint8Array {
    return this.config.slice(0, 6);
  }

  private writeLinkStatus(): void {
    this.config[6] = this.linkUp ? NET_S_LINK_UP : 0;
    this.config[7] = 0;
  }

  /** Cable in or out: the guest sees the link status change (config interrupt). */
  setLinkUp(up: boolean): void {
    if (up === this.linkUp) return;
    this.linkUp = up;
    this.writeLinkStatus();
    this.raiseConfigInterrupt();
    this.wake?.();
  }

  /** A frame from the backend. */
  receive(frame: Uint8Array): void {
    this.lastFrameMs = this.hostNow();
    if (!this.driverOk || !this.linkUp) {
      this.stats.rxDropped++;
      return;
    }
    if (this.backlog.length > 0 && this.flushBacklog()) this.asyncDone(this.queues[RXQ]!);
    if (this.backlog.length > 0 || !this.deliver(frame)) {
      if (this.backlog.length >= RX_BACKLOG_FRAMES) {
        this.stats.rxDropped++;
        return;
      }
      this.backlog.push(frame);
      return;
    }
    this.asyncDone(this.queues[RXQ]!);
  }

  /** Frames waiting for receive buffers. */
  get backlogLength(): number {
    return this.backlog.length;
  }

  /**
   * Put one frame into receive buffers. False when there are not enough buffers yet
   * (nothing consumed). A frame that can never fit is dropped (true).
   */
  private deliver(frame: Uint8Array): boolean {
    const q = this.queues[RXQ]!;
    const mrg = this.negotiated(NET_F_MRG_RXBUF);
    const need = NET_HDR_SIZE + frame.length;
    let n = 0;
    let room = 0;
    while (room < need) {
      if (n === (mrg ? MAX_RX_CHAINS : 1)) {
        // Even the largest allowed set of buffers cannot hold it: drop the frame.
        q.unpop(n);
        this.stats.rxDropped++;
        return true;
      }
      const chain = this.chains[n]!;
      const r = q.pop(chain);
      if (r === POP_ERROR) {
        this.fail(q.error ?? 'bad chain');
        return true;
      }
      if (r !== POP_OK) {
        q.unpop(n);
        q.kickOnNextAvail();
        return false;
      }
      n++;
      room += chain.writeLen;
    }
    // Header: no flags, no GSO, num_buffers = n; then the frame, spread over the chains.
    const hdr = new Uint8Array(NET_HDR_SIZE);
    hdr[10] = n & 0xff;
    hdr[11] = n >>> 8;
    let fOff = 0;
    for (let i = 0; i < n; i++) {
      const chain = this.chains[i]!;
      let used = 0;
      if (i === 0) used = chain.write(this.ram, 0, hdr);
      const k = chain.write(this.ram, used, frame, fOff, Math.min(frame.length - fOff, chain.writeLen - used));
      fOff += k;
      used += k;
      q.push(chain.head, used);
    }
    this.stats.rxFrames++;
    return true;
  }

  private flushBacklog(): boolean {
    let any = false;
    while (this.backlog.length > 0 && this.driverOk) {
      if (!this.deliver(this.backlog[0]!)) break;
      this.backlog.shift();
      any = true;
    }
    return any;
  }

  protected queueNotify(q: Virtqueue): void {
    if (q.index === RXQ) {
      if (this.flushBacklog()) this.queueDone(q);
      return;
    }
    if (q.index !== TXQ) return;
    this.lastFrameMs = this.hostNow();
    const chain = this.txChain;
    for (;;) {
      const r = q.pop(chain);
      if (r === POP_ERROR) return this.fail(q.error ?? 'bad chain');
      if (r !== POP_OK) break;
      const len = chain.readLen - NET_HDR_SIZE;
      let frame: Uint8Array | null = null;
      if (len >= 14 && len <= MAX_FRAME) {
        frame = new Uint8Array(len);
        chain.read(this.ram, NET_HDR_SIZE, frame);
        chain.read(this.ram, 0, this.txHdr);
        if (!completeChecksum(this.txHdr, frame)) frame = null;
      }
      if (frame !== null) {
        this.stats.txFrames++;
        q.push(chain.head, 0);
        if (this.linkUp) this.backend.send(frame);
      } else {
        this.stats.txDropped++;
        q.push(chain.head, 0);
      }
    }
    this.queueDone(q);
  }

  protected resetDevice(): void {
    this.backlog = [];
  }

  /** Frames went either way within ACTIVE_WINDOW_MS: more are likely on their way. */
  override hostActive(): boolean {
    return this.hostNow() - this.lastFrameMs < ACTIVE_WINDOW_MS;
  }

  override async close(): Promise<void> {
    this.backend.close();
  }

  protected saveDeviceState(): unknown {
    return { linkUp: this.linkUp };
  }

  protected loadDeviceState(state: unknown): void {
    const s = stateRecord(state, this.name);
    this.linkUp = s['linkUp'] !== false;
    this.backlog = [];
    // The loaded config space carries the saved MAC, which the guest knows.
    this.writeLinkStatus();
  }
}
