// Linux TUN/TAP (Documentation/networking/tuntap.rst): `--net tap,ifname=NAME` and Firecracker's `host_dev_name`.
//
// Attaches to an existing tap device: open /dev/net/tun and TUNSETIFF with IFF_TAP |
// IFF_NO_PI (no packet-information prefix; no IFF_VNET_HDR, as virtio-net offers no
// receive or segmentation offloads and completes transmit checksums itself), through
// libc via koffi. Frames to the host are written from the calling thread on the
// non-blocking descriptor (a full tap queue or a downed interface drops the frame, as a
// NIC would); frames from the host come from a reader thread (tapReader.ts).

import { existsSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { NetBackend } from './NetBackend.js';
import { O_CLOEXEC, O_NONBLOCK, O_RDWR, libc, type Libc } from './libc.js';
import type { TapReaderData, TapReaderMessage } from './tapReader.js';

export interface TapOptions {
  ifname: string;
}

/** _IOW('T', 202, int) */
const TUNSETIFF = 0x400454ca;
const IFF_TAP = 0x0002;
const IFF_NO_PI = 0x1000;
/** struct ifreq: char ifr_name[16], then the union (ifr_flags is a short at 16); 40 bytes on 64-bit. */
const IFREQ_SIZE = 40;
/** Frames from the host waiting for the device beyond which more are dropped. */
const RX_QUEUE_LIMIT = 1024;

const EPERM = 1;
const ENOENT = 2;
const EACCES = 13;
const EBUSY = 16;
const EINVAL = 22;

/**
 * Why tap `name` cannot be attached, as far as can be told without opening it (no
 * /dev/net/tun, no such interface, not a tap), or null. Permissions are only known
 * when opening. For checks at configuration time (the API's PUT /network-interfaces).
 */
export function tapProblem(name: string): string | null {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(name)) return `"${name}" is not an interface name (1-15 letters, digits, "_", ".", "-")`;
  if (!existsSync('/dev/net/tun')) return '/dev/net/tun does not exist (load the tun module: modprobe tun)';
  if (!existsSync(`/sys/class/net/${name}`)) return `there is no network interface ${name}; create it with \`ip tuntap add dev ${name} mode tap user $(id -un) && ip link set ${name} up\` (as root)`;
  let flags = -1;
  try {
    flags = parseInt(readFileSync(`/sys/class/net/${name}/tun_flags`, 'latin1'), 16);
  } catch {
    // not a TUN/TAP interface
  }
  if (!(flags >= 0 && (flags & IFF_TAP) !== 0)) return `${name} is not a tap device (a tun device, or not a TUN/TAP interface at all)`;
  return null;
}

export class TapBackend implements NetBackend {
  onReceive: (frame: Uint8Array) => void = () => {};
  readonly mtu = 1500;
  /** Frames dropped: the tap's queue full or the interface down (tx), the device behind (rx). */
  readonly stats = { txDropped: 0, rxDropped: 0 };
  /** Why the reader stopped on its own (the interface deleted under us: EBADFD), if it did. */
  error: string | null = null;
  private closed = false;
  private readerDone = false;
  private readonly ctl: Int32Array;
  private fdClosed!: () => void;
  /** Settles once the descriptor is closed (the tap can be attached again). */
  readonly released = new Promise<void>((res) => (this.fdClosed = res));

  private constructor(readonly ifname: string, private readonly c: Libc, private readonly fd: number, private readonly worker: Worker, shared: SharedArrayBuffer) {
    this.ctl = new Int32Array(shared);
    worker.on('message', (m: TapReaderMessage) => {
      if ('error' in m) {
        // EBADFD (77) when the interface is deleted under us; after close() it is expected.
        if (!this.closed) {
          this.error = m.error;
          process.stderr.write(`typevisor: --net tap,ifname=${ifname}: ${m.error}; the guest's network is down\n`);
        }
        this.close();
        return;
      }
      Atomics.sub(this.ctl, 1, m.frames.length);
      this.stats.rxDropped += m.dropped;
      if (this.closed) return;
      for (const f of m.frames) this.onReceive(f);
    });
    worker.on('error', (e) => {
      process.stderr.write(`typevisor: --net tap,ifname=${ifname}: reader thread: ${e.message}\n`);
      this.close();
    });
    worker.once('exit', () => {
      this.readerDone = true;
      if (this.closed) this.release();
    });
    // Never keep the process alive: the reader polls with a timeout and stops with it.
    worker.unref();
  }

  /** Attach to tap `ifname`. Throws a one-line Error naming the fix when it cannot. */
  static async open(opts: TapOptions): Promise<TapBackend> {
    const name = opts.ifname;
    const what = `--net tap,ifname=${name}`;
    const problem = tapProblem(name);
    if (problem !== null) throw new Error(`${what}: ${problem}`);
    const create = `create it with \`ip tuntap add dev ${name} mode tap user $(id -un)\` (as root)`;
    let c: Libc;
    try {
      c = libc();
    } catch (e) {
      throw new Error(`${what}: ${(e as Error).message}`);
    }
    const fd = c.open('/dev/net/tun', O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      const e = c.errno();
      throw new Error(`${what}: cannot open /dev/net/tun: ${e === EACCES || e === EPERM ? 'permission denied (is this user allowed to use /dev/net/tun?)' : e === ENOENT ? 'no such device' : `errno ${e}`}`);
    }
    const ifr = Buffer.alloc(IFREQ_SIZE);
    ifr.write(name, 0, 'latin1');
    ifr.writeUInt16LE(IFF_TAP | IFF_NO_PI, 16);
    if (c.ioctl(fd, TUNSETIFF, ifr) < 0) {
      const e = c.errno();
      c.close(fd);
      const why =
        e === EPERM || e === EACCES
          ? `permission denied: ${name} belongs to another user or group, or attaching needs CAP_NET_ADMIN; ${create}`
          : e === EBUSY
            ? `${name} is in use by another process`
            : e === EINVAL
              ? `${name} is not a tap device (a tun device, or not a TUN/TAP interface at all)`
              : `TUNSETIFF failed with errno ${e}`;
      throw new Error(`${what}: ${why}`);
    }
    const shared = new SharedArrayBuffer(8);
    const worker = new Worker(new URL('./tapReader.js', import.meta.url), {
      workerData: { fd, shared, queueLimit: RX_QUEUE_LIMIT } satisfies TapReaderData,
    });
    return new TapBackend(name, c, fd, worker, shared);
  }

  send(frame: Uint8Array): void {
    if (this.closed) return;
    // EAGAIN (the tap's queue is full) and EIO (the interface is down) drop the frame.
    if (this.c.write(this.fd, frame, frame.length) < 0) this.stats.txDropped++;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.ctl, 0, 1);
    // The descriptor is closed once the reader has stopped polling it (within its poll
    // timeout); until then the reader holds the process open, so `released` settles.
    if (this.readerDone) this.release();
    else this.worker.ref();
  }

  private release(): void {
    this.c.close(this.fd);
    this.fdClosed();
  }
}
