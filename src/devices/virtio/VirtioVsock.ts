// virtio 1.2 §5.10 (socket device): stream sockets between the guest and host programs, host side as Firecracker exposes it.
//
// Host side (Firecracker's vsock model): the device listens on a Unix socket PATH. A
// host program connects there and writes "CONNECT <port>\n"; the device opens a
// connection to guest port <port> and, once the guest accepts, answers
// "OK <hostport>\n" and relays bytes both ways. A guest connecting to host (CID 2)
// port P is relayed to the Unix socket "PATH_P".
//
// Flow control is the spec's credit scheme (§5.10.6.3): every packet carries
// buf_alloc and fwd_cnt; the device never sends more than the guest's free credit,
// and advertises its own receive buffer (bytes from the guest that were handed to the
// host socket count as forwarded once the socket took them).
//
// Offered features: none beyond VERSION_1 and the ring features (stream sockets only,
// VIRTIO_VSOCK_F_STREAM implied; no SEQPACKET).

import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { unlinkSync } from 'node:fs';
import { listenUnix, unixPathProblem } from '../../net/unixSocket.js';
import type { PhysicalMemory } from '../../memory/PhysicalMemory.js';
import { DEVICE_ID_VSOCK } from './constants.js';
import { DescChain, POP_ERROR, POP_OK, type Virtqueue } from './Virtqueue.js';
import { Features, VirtioDevice, type VirtioDeviceOptions } from './VirtioDevice.js';

export const VSOCK_HOST_CID = 2;
export const VSOCK_HDR_SIZE = 44;
export const VSOCK_TYPE_STREAM = 1;
export const OP_REQUEST = 1;
export const OP_RESPONSE = 2;
export const OP_RST = 3;
export const OP_SHUTDOWN = 4;
export const OP_RW = 5;
export const OP_CREDIT_UPDATE = 6;
export const OP_CREDIT_REQUEST = 7;
export const SHUTDOWN_RCV = 1;
export const SHUTDOWN_SEND = 2;
export const EVENT_TRANSPORT_RESET = 0;

const RXQ = 0;
const TXQ = 1;
const EVQ = 2;
/** Receive buffer the host side advertises per connection. */
export const HOST_BUF_ALLOC = 256 * 1024;
/** Largest payload accepted in one guest packet (Linux sends at most 64 KiB). */
const MAX_PKT_PAYLOAD = 64 * 1024;
/** Host data read ahead per connection before the socket is paused. */
const RX_HIGH_WATER = 256 * 1024;
/** First host-side port for host-initiated connections. */
const FIRST_LOCAL_PORT = 1 << 30;
const CONNECT_LINE_MAX = 64;

export interface VsockOptions extends VirtioDeviceOptions {
  /** Guest context ID (3 and up). */
  cid: number;
  /** Unix socket path for host-initiated connections; guest-initiated ones go to PATH_<port>. */
  path: string;
}

interface Header {
  srcCid: number;
  dstCid: number;
  srcPort: number;
  dstPort: number;
  len: number;
  type: number;
  op: number;
  flags: number;
  bufAlloc: number;
  fwdCnt: number;
}

class Conn {
  state: 'connecting' | 'connected' | 'closed' = 'connecting';
  /** Guest's credit view. */
  peerBufAlloc = 0;
  peerFwdCnt = 0;
  /** Bytes sent to the guest / received from it / handed to the host socket. */
  txCnt = 0;
  rxCnt = 0;
  fwdCnt = 0;
  lastFwdCntSent = 0;
  /** Host data waiting to go to the guest. */
  rxData: Buffer[] = [];
  rxBytes = 0;
  paused = false;
  /** The host socket ended: tell the guest once rxData is drained. */
  hostEnded = false;
  shutdownSent = false;
  constructor(
    readonly localPort: number,
    readonly peerPort: number,
    readonly sock: Socket,
    readonly hostInitiated: boolean,
  ) {}
  get key(): string {
    return `${this.localPort}:${this.peerPort}`;
  }
  credit(): number {
    const c = this.peerBufAlloc - ((this.txCnt - this.peerFwdCnt) >>> 0);
    return c > 0 ? c : 0;
  }
}

export class VirtioVsock extends VirtioDevice {
  protected readonly config = new Uint8Array(8);
  readonly cid: number;
  readonly path: string;
  private server: Server | null = null;
  private readonly conns = new Map<string, Conn>();
  /** Control packets (headers only) waiting for receive buffers. */
  private ctrl: Uint8Array[] = [];
  private readonly chain = new DescChain();
  private readonly hdr = new Uint8Array(VSOCK_HDR_SIZE);
  private readonly hdrView = new DataView(this.hdr.buffer);
  private nextLocalPort = FIRST_LOCAL_PORT;
  private pendingReset = false;
  private readonly hostSockets = new Set<Socket>();

  /** Create the device and listen on `opts.path`. */
  static async open(memory: PhysicalMemory, opts: VsockOptions): Promise<VirtioVsock> {
    const dev = new VirtioVsock(memory, opts);
    await dev.listen();
    return dev;
  }

  constructor(memory: PhysicalMemory, opts: VsockOptions) {
    super('virtio-vsock', DEVICE_ID_VSOCK, memory, 3, new Features(), opts);
    if (!Number.isInteger(opts.cid) || opts.cid < 3 || opts.cid > 0xfffffffe) throw new RangeError(`vsock: guest CID ${opts.cid} out of range 3..4294967294`);
    this.cid = opts.cid;
    this.path = opts.path;
    const v = new DataView(this.config.buffer);
    v.setUint32(0, opts.cid >>> 0, true);
    v.setUint32(4, 0, true);
  }

  /**
   * Listen for host connections on the Unix socket (listenUnix: a path too long for the
   * kernel, a live server there or a file that is not a socket is refused; a stale socket
   * is replaced).
   */
  async listen(): Promise<void> {
    const server = createServer({ allowHalfOpen: true }, (sock) => this.hostConnect(sock));
    try {
      await listenUnix(server, this.path);
    } catch (e) {
      throw new Error(`vsock: cannot listen on ${this.path}: ${(e as Error).message}`);
    }
    this.server = server;
  }

  // ---- host-initiated connections ----

  private hostConnect(sock: Socket): void {
    this.hostSockets.add(sock);
    sock.on('close', () => this.hostSockets.delete(sock));
    let line = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      line = Buffer.concat([line, chunk]);
      const nl = line.indexOf(0x0a);
      if (nl < 0) {
        if (line.length > CONNECT_LINE_MAX) sock.destroy();
        return;
      }
      sock.off('data', onData);
      sock.pause();
      const m = /^CONNECT (\d{1,10})\r?$/.exec(line.subarray(0, nl).toString('latin1'));
      const port = m ? Number(m[1]) : NaN;
      if (!(port >= 0 && port <= 0xffffffff) || !this.driverOk) {
        sock.destroy();
        return;
      }
      const local = this.allocLocalPort(port);
      const conn = new Conn(local, port, sock, true);
      const rest = line.subarray(nl + 1);
      if (rest.length > 0) {
        conn.rxData.push(rest);
        conn.rxBytes += rest.length;
      }
      this.conns.set(conn.key, conn);
      this.wireSocket(conn);
      this.sendCtrl(conn, OP_REQUEST, 0);
    };
    sock.on('data', onData);
    sock.on('error', () => sock.destroy());
  }

  private allocLocalPort(peer: number): number {
    for (;;) {
      const p = this.nextLocalPort;
      this.nextLocalPort = this.nextLocalPort >= 0xfffffff0 ? FIRST_LOCAL_PORT : this.nextLocalPort + 1;
      if (!this.conns.has(`${p}:${peer}`)) return p;
    }
  }

  // ---- guest-initiated connections ----

  private guestConnect(h: Header): void {
    const key = `${h.dstPort}:${h.srcPort}`;
    if (this.conns.has(key)) {
      this.sendRst(h.dstPort, h.srcPort);
      return;
    }
    // A path the kernel would cut short could reach another socket: refused as a
    // connection nobody accepts.
    const path = `${this.path}_${h.dstPort}`;
    if (unixPathProblem(path) !== null) {
      this.sendRst(h.dstPort, h.srcPort);
      return;
    }
    const sock = createConnection({ path, allowHalfOpen: true });
    this.hostSockets.add(sock);
    sock.on('close', () => this.hostSockets.delete(sock));
    sock.pause();
    const conn = new Conn(h.dstPort, h.srcPort, sock, false);
    conn.peerBufAlloc = h.bufAlloc;
    conn.peerFwdCnt = h.fwdCnt;
    this.conns.set(key, conn);
    sock.once('connect', () => {
      if (conn.state !== 'connecting') return;
      conn.state = 'connected';
      this.sendCtrl(conn, OP_RESPONSE, 0);
      sock.resume();
    });
    this.wireSocket(conn);
  }

  /** Socket events shared by both directions. */
  private wireSocket(conn: Conn): void {
    const sock = conn.sock;
    sock.on('data', (chunk: Buffer) => {
      if (conn.state === 'closed') return;
      conn.rxData.push(chunk);
      conn.rxBytes += chunk.length;
      if (conn.rxBytes >= RX_HIGH_WATER && !conn.paused) {
        conn.paused = true;
        sock.pause();
      }
      this.pumpRx(true);
    });
    sock.on('end', () => {
      conn.hostEnded = true;
      this.pumpRx(true);
    });
    sock.on('error', () => {
      // Connection refused (guest-initiated) or reset: the guest gets RST.
      if (conn.state === 'closed') return;
      this.drop(conn, true);
    });
    sock.on('close', () => {
      if (conn.state === 'closed') return;
      conn.hostEnded = true;
      this.pumpRx(true);
    });
  }

  /** Forget a connection; optionally tell the guest with RST. */
  private drop(conn: Conn, rst: boolean): void {
    if (conn.state === 'closed') return;
    conn.state = 'closed';
    this.conns.delete(conn.key);
    conn.sock.destroy();
    if (rst) this.sendRst(conn.localPort, conn.peerPort);
  }

  // ---- packets to the guest ----

  private makeHeader(local: number, peer: number, op: number, flags: number, len: number, conn: Conn | null): Uint8Array {
    const b = new Uint8Array(VSOCK_HDR_SIZE);
    const v = new DataView(b.buffer);
    v.setUint32(0, VSOCK_HOST_CID, true);
    v.setUint32(4, 0, true);
    v.setUint32(8, this.cid >>> 0, true);
    v.setUint32(12, 0, true);
    v.setUint32(16, local >>> 0, true);
    v.setUint32(20, peer >>> 0, true);
    v.setUint32(24, len, true);
    v.setUint16(28, VSOCK_TYPE_STREAM, true);
    v.setUint16(30, op, true);
    v.setUint32(32, flags, true);
    v.setUint32(36, conn ? HOST_BUF_ALLOC : 0, true);
    v.setUint32(40, conn ? conn.fwdCnt >>> 0 : 0, true);
    if (conn) conn.lastFwdCntSent = conn.fwdCnt;
    return b;
  }

  private sendCtrl(conn: Conn, op: number, flags: number): void {
    this.ctrl.push(this.makeHeader(conn.localPort, conn.peerPort, op, flags, 0, conn));
    this.pumpRx(true);
  }

  private sendRst(local: number, peer: number): void {
    this.ctrl.push(this.makeHeader(local, peer, OP_RST, 0, 0, null));
    this.pumpRx(true);
  }

  /**
   * Fill receive buffers: control packets first, then data from connections with
   * guest credit, then SHUTDOWN for connections whose host side ended.
   */
  private pumpRx(fromHost: boolean): void {
    if (!this.driverOk) return;
    const q = this.queues[RXQ]!;
    const chain = this.chain;
    let pushed = false;
    for (;;) {
      // What goes next?
      let ctrl: Uint8Array | undefined = this.ctrl[0];
      let dataConn: Conn | null = null;
      if (ctrl === undefined) {
        for (const c of this.conns.values()) {
          if (c.state !== 'connected') continue;
          if (c.rxBytes > 0 && c.credit() > 0) {
            dataConn = c;
            break;
          }
          if (c.rxBytes === 0 && c.hostEnded && !c.shutdownSent) {
            c.shutdownSent = true;
            ctrl = this.makeHeader(c.localPort, c.peerPort, OP_SHUTDOWN, SHUTDOWN_RCV | SHUTDOWN_SEND, 0, c);
            this.ctrl.push(ctrl);
            break;
          }
          if (c.fwdCnt - c.lastFwdCntSent >= HOST_BUF_ALLOC / 4) {
            ctrl = this.makeHeader(c.localPort, c.peerPort, OP_CREDIT_UPDATE, 0, 0, c);
            this.ctrl.push(ctrl);
            break;
          }
        }
        if (ctrl === undefined && dataConn === null) break;
      }
      const r = q.pop(chain);
      if (r === POP_ERROR) {
        this.fail(q.error ?? 'bad chain');
        return;
      }
      if (r !== POP_OK) break;
      if (chain.writeLen < VSOCK_HDR_SIZE) {
        q.push(chain.head, 0);
        pushed = true;
        continue;
      }
      if (ctrl !== undefined) {
        this.ctrl.shift();
        chain.write(this.ram, 0, ctrl);
        q.push(chain.head, VSOCK_HDR_SIZE);
        pushed = true;
        continue;
      }
      const c = dataConn!;
      const n = Math.min(c.credit(), chain.writeLen - VSOCK_HDR_SIZE, c.rxBytes, MAX_PKT_PAYLOAD);
      const hdr = this.makeHeader(c.localPort, c.peerPort, OP_RW, 0, n, c);
      chain.write(this.ram, 0, hdr);
      let off = VSOCK_HDR_SIZE;
      let left = n;
      while (left > 0) {
        const b = c.rxData[0]!;
        const k = Math.min(b.length, left);
        chain.write(this.ram, off, b, 0, k);
        off += k;
        left -= k;
        if (k === b.length) c.rxData.shift();
        else c.rxData[0] = b.subarray(k);
      }
      c.rxBytes -= n;
      c.txCnt = (c.txCnt + n) >>> 0;
      q.push(chain.head, VSOCK_HDR_SIZE + n);
      pushed = true;
      if (c.paused && c.rxBytes < RX_HIGH_WATER / 2) {
        c.paused = false;
        c.sock.resume();
      }
    }
    if (pushed) {
      if (fromHost) this.asyncDone(q);
      else this.queueDone(q);
    }
  }

  // ---- packets from the guest ----

  protected queueNotify(q: Virtqueue): void {
    if (q.index === RXQ) {
      this.pumpRx(false);
      return;
    }
    if (q.index === EVQ) {
      if (this.pendingReset) this.sendTransportReset();
      return;
    }
    const chain = this.chain;
    for (;;) {
      const r = q.pop(chain);
      if (r === POP_ERROR) return this.fail(q.error ?? 'bad chain');
      if (r !== POP_OK) break;
      if (chain.readLen >= VSOCK_HDR_SIZE) {
        chain.read(this.ram, 0, this.hdr);
        const h = this.parseHeader();
        let payload: Buffer | null = null;
        if (h.op === OP_RW && h.len > 0 && h.len <= MAX_PKT_PAYLOAD && h.len <= chain.readLen - VSOCK_HDR_SIZE) {
          payload = Buffer.allocUnsafe(h.len);
          chain.read(this.ram, VSOCK_HDR_SIZE, payload);
        }
        q.push(chain.head, 0);
        this.guestPacket(h, payload);
      } else {
        q.push(chain.head, 0);
      }
    }
    this.queueDone(q);
    this.pumpRx(false);
  }

  private parseHeader(): Header {
    const v = this.hdrView;
    const u64 = (o: number): number => v.getUint32(o, true) + v.getUint32(o + 4, true) * 0x100000000;
    return {
      srcCid: u64(0),
      dstCid: u64(8),
      srcPort: v.getUint32(16, true),
      dstPort: v.getUint32(20, true),
      len: v.getUint32(24, true),
      type: v.getUint16(28, true),
      op: v.getUint16(30, true),
      flags: v.getUint32(32, true),
      bufAlloc: v.getUint32(36, true),
      fwdCnt: v.getUint32(40, true),
    };
  }

  private guestPacket(h: Header, payload: Buffer | null): void {
    // Only packets from this guest to the host are relayed.
    if (h.srcCid !== this.cid || h.dstCid !== VSOCK_HOST_CID) return;
    if (h.type !== VSOCK_TYPE_STREAM) {
      if (h.op !== OP_RST) this.sendRst(h.dstPort, h.srcPort);
      return;
    }
    const conn = this.conns.get(`${h.dstPort}:${h.srcPort}`);
    if (conn === undefined) {
      if (h.op === OP_REQUEST) this.guestConnect(h);
      else if (h.op !== OP_RST) this.sendRst(h.dstPort, h.srcPort);
      return;
    }
    conn.peerBufAlloc = h.bufAlloc;
    conn.peerFwdCnt = h.fwdCnt;
    switch (h.op) {
      case OP_RESPONSE:
        if (conn.hostInitiated && conn.state === 'connecting') {
          conn.state = 'connected';
          conn.sock.write(`OK ${conn.localPort}\n`);
          conn.sock.resume();
        } else {
          this.drop(conn, true);
        }
        break;
      case OP_RW: {
        if (conn.state !== 'connected' || payload === null) {
          if (payload === null && h.len === 0) break;
          this.drop(conn, true);
          break;
        }
        conn.rxCnt = (conn.rxCnt + payload.length) >>> 0;
        if (((conn.rxCnt - conn.fwdCnt) >>> 0) > HOST_BUF_ALLOC) {
          // The guest overran the credit it was given.
          this.drop(conn, true);
          break;
        }
        const n = payload.length;
        conn.sock.write(payload, () => {
          conn.fwdCnt = (conn.fwdCnt + n) >>> 0;
          if (conn.state === 'connected' && conn.fwdCnt - conn.lastFwdCntSent >= HOST_BUF_ALLOC / 4) this.pumpRx(true);
        });
        break;
      }
      case OP_CREDIT_UPDATE:
        break; // credit already taken from the header; pumpRx follows
      case OP_CREDIT_REQUEST:
        this.ctrl.push(this.makeHeader(conn.localPort, conn.peerPort, OP_CREDIT_UPDATE, 0, 0, conn));
        break;
      case OP_SHUTDOWN:
        if (h.flags & SHUTDOWN_SEND) conn.sock.end();
        if ((h.flags & (SHUTDOWN_SEND | SHUTDOWN_RCV)) === (SHUTDOWN_SEND | SHUTDOWN_RCV)) {
          // Both directions closed: finish with RST once the socket has flushed.
          conn.state = 'closed';
          this.conns.delete(conn.key);
          this.sendRst(conn.localPort, conn.peerPort);
        }
        break;
      case OP_RST: {
        // Refused (no listener in the guest) closes at once; an open stream flushes first.
        const wasOpen = conn.state === 'connected';
        conn.state = 'closed';
        this.conns.delete(conn.key);
        if (wasOpen) conn.sock.end();
        else conn.sock.destroy();
        break;
      }
      case OP_REQUEST:
        this.drop(conn, true);
        break;
      default:
        this.drop(conn, true);
    }
  }

  /** Tell the guest every connection is gone (after a restore): VIRTIO_VSOCK_EVENT_TRANSPORT_RESET. */
  private sendTransportReset(): void {
    if (!this.driverOk) return;
    const q = this.queues[EVQ]!;
    const r = q.pop(this.chain);
    if (r === POP_ERROR) return this.fail(q.error ?? 'bad chain');
    if (r !== POP_OK) return;
    this.pendingReset = false;
    const ev = new Uint8Array(4);
    new DataView(ev.buffer).setUint32(0, EVENT_TRANSPORT_RESET, true);
    const n = this.chain.write(this.ram, 0, ev);
    q.push(this.chain.head, n);
    this.queueDone(q);
  }

  /** Open connections (for tests and stats). */
  get connectionCount(): number {
    return this.conns.size;
  }

  private closeAll(): void {
    for (const c of this.conns.values()) {
      c.state = 'closed';
      c.sock.destroy();
    }
    this.conns.clear();
    this.ctrl = [];
  }

  protected resetDevice(): void {
    this.closeAll();
    this.pendingReset = false;
  }

  override pendingIo(): number {
    return 0;
  }

  override async close(): Promise<void> {
    this.closeAll();
    for (const s of this.hostSockets) s.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((r) => server.close(() => r()));
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
  }

  protected saveDeviceState(): unknown {
    return {};
  }

  protected loadDeviceState(): void {
    // Host sockets do not survive a snapshot: the guest is told its connections reset.
    this.closeAll();
    this.pendingReset = this.driverOk;
    if (this.pendingReset) this.sendTransportReset();
  }
}
