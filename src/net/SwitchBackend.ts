// A virtual Ethernet switch (an IEEE 802.1D learning bridge without spanning tree): guests' virtio-net devices in this process plug in directly, guests in other processes through a Unix socket carrying 32-bit big-endian length-prefixed frames.
//
// Frames to a learned unicast MAC go to that port only; broadcast, multicast and
// unknown destinations are flooded to every other port. A frame never goes back out
// of the port it came in on.

import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { lstatSync, unlinkSync } from 'node:fs';
import { FrameReader, frameWithLength, type NetBackend } from './NetBackend.js';

/** Frames queued to a slow socket port beyond which further frames are dropped. */
const SOCKET_QUEUE_LIMIT = 4 << 20;

/** A 48-bit MAC address at `off` as a number (exact in a double). */
function macKey(f: Uint8Array, off: number): number {
  const hi = (f[off]! << 8) | f[off + 1]!;
  const lo = ((f[off + 2]! << 24) | (f[off + 3]! << 16) | (f[off + 4]! << 8) | f[off + 5]!) >>> 0;
  return hi * 0x100000000 + lo;
}

/** One port of the switch. */
export interface SwitchPortLike {
  readonly name: string;
  /** Hand a frame to whatever is plugged into this port. */
  deliver(frame: Uint8Array): void;
}

/** A port that a device in this process uses as its NetBackend. */
export class SwitchPort implements NetBackend, SwitchPortLike {
  onReceive: (frame: Uint8Array) => void = () => {};
  readonly mtu = 1500;
  constructor(readonly sw: VirtualSwitch, readonly name: string) {}
  send(frame: Uint8Array): void {
    this.sw.forward(this, frame);
  }
  deliver(frame: Uint8Array): void {
    this.onReceive(frame);
  }
  close(): void {
    this.sw.remove(this);
  }
}

class SocketPort implements SwitchPortLike {
  constructor(readonly name: string, private readonly sock: Socket) {}
  dropped = 0;
  deliver(frame: Uint8Array): void {
    if (this.sock.writableLength > SOCKET_QUEUE_LIMIT) {
      this.dropped++;
      return;
    }
    this.sock.write(frameWithLength(frame));
  }
}

export class VirtualSwitch {
  private readonly ports = new Set<SwitchPortLike>();
  private readonly table = new Map<number, SwitchPortLike>();
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private nextId = 0;
  readonly stats = { forwarded: 0, flooded: 0 };

  /** Plug a new in-process port in. */
  connect(name = `port${this.nextId++}`): SwitchPort {
    const p = new SwitchPort(this, name);
    this.ports.add(p);
    return p;
  }

  /** Unplug a port and forget the MACs learned on it. */
  remove(port: SwitchPortLike): void {
    this.ports.delete(port);
    for (const [mac, p] of this.table) if (p === port) this.table.delete(mac);
  }

  get portCount(): number {
    return this.ports.size;
  }

  /** A frame entered the switch on `from`. */
  forward(from: SwitchPortLike, frame: Uint8Array): void {
    if (frame.length < 14) return;
    if ((frame[6]! & 1) === 0) this.table.set(macKey(frame, 6), from);
    if ((frame[0]! & 1) === 0) {
      const to = this.table.get(macKey(frame, 0));
      if (to !== undefined && this.ports.has(to)) {
        if (to !== from) {
          this.stats.forwarded++;
          to.deliver(frame);
        }
        return;
      }
    }
    this.stats.flooded++;
    for (const p of this.ports) if (p !== from) p.deliver(frame);
  }

  /** Accept guests of other processes on a Unix socket. */
  listen(path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer((sock) => this.accept(sock));
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        this.server = server;
        resolve();
      });
    });
  }

  private accept(sock: Socket): void {
    const port = new SocketPort(`socket${this.nextId++}`, sock);
    this.sockets.add(sock);
    this.ports.add(port);
    const reader = new FrameReader((f) => this.forward(port, f));
    sock.on('data', (chunk: Buffer) => {
      if (!reader.push(chunk)) sock.destroy();
    });
    const gone = (): void => {
      this.sockets.delete(sock);
      this.remove(port);
    };
    sock.on('close', gone);
    sock.on('error', () => sock.destroy());
  }

  close(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    this.server?.close();
    this.server = null;
    this.ports.clear();
    this.table.clear();
  }
}

/** A NetBackend that joins a switch in another process through its Unix socket. */
export class SwitchClientBackend implements NetBackend {
  onReceive: (frame: Uint8Array) => void = () => {};
  readonly mtu = 1500;
  private readonly reader: FrameReader;

  private constructor(private readonly sock: Socket) {
    this.reader = new FrameReader((f) => this.onReceive(f));
    sock.on('data', (chunk: Buffer) => {
      if (!this.reader.push(chunk)) sock.destroy();
    });
    sock.on('error', () => sock.destroy());
  }

  static connect(path: string): Promise<SwitchClientBackend> {
    return new Promise((resolve, reject) => {
      const sock = createConnection({ path });
      sock.once('error', reject);
      sock.once('connect', () => {
        sock.off('error', reject);
        resolve(new SwitchClientBackend(sock));
      });
    });
  }

  send(frame: Uint8Array): void {
    if (this.sock.writableLength > SOCKET_QUEUE_LIMIT) return;
    this.sock.write(frameWithLength(frame));
  }

  close(): void {
    this.sock.destroy();
  }
}

/** Switches this process hosts, by socket path. */
const hosted = new Map<string, VirtualSwitch>();
/** Joins in progress per path: concurrent joins in one process wait for each other. */
const joining = new Map<string, Promise<unknown>>();

/**
 * `--net switch,path=SOCK`: join the switch at SOCK. A switch this process already
 * hosts there is joined in process; a switch another process listens on is joined
 * through the socket; otherwise this process starts one, listening on SOCK.
 */
export async function joinSwitch(path: string): Promise<NetBackend> {
  const before = joining.get(path) ?? Promise.resolve();
  const mine = before.catch(() => {}).then(() => joinNow(path));
  joining.set(path, mine);
  try {
    return await mine;
  } finally {
    if (joining.get(path) === mine) joining.delete(path);
  }
}

async function joinNow(path: string): Promise<NetBackend> {
  const local = hosted.get(path);
  if (local) return local.connect();
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await SwitchClientBackend.connect(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ECONNREFUSED') throw new Error(`--net switch,path=${path}: ${(e as Error).message}`);
    }
    try {
      if (lstatSync(path).isSocket()) unlinkSync(path); // stale: nobody listens
    } catch {
      // not there
    }
    const sw = new VirtualSwitch();
    try {
      await sw.listen(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') continue; // another process won the race
      throw new Error(`--net switch,path=${path}: cannot listen: ${(e as Error).message}`);
    }
    hosted.set(path, sw);
    return sw.connect();
  }
  throw new Error(`--net switch,path=${path}: could not join or start a switch`);
}

/** Stop every switch this process hosts (tests, exit). */
export function closeHostedSwitches(): void {
  for (const [path, sw] of hosted) {
    sw.close();
    try {
      unlinkSync(path);
    } catch {
      // gone
    }
  }
  hosted.clear();
}
