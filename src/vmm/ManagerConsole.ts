// One managed VM's serial console (COM1), as QEMU's `-serial unix:PATH,server,nowait`:
// a Unix socket any number of clients may connect to; each gets the output from the
// moment it connects, and what any of them writes goes to the guest's serial input.
// The last RING_BYTES of output are also kept in a ring buffer, read by the manager's
// GET /vms/{id}/console, so a client that connects late (or a script with no socket
// client) can still see the boot log.

import { createServer, type Server, type Socket } from 'node:net';
import { existsSync, unlinkSync } from 'node:fs';
import { listenUnix } from '../net/unixSocket.js';

/** Serial output kept per VM for GET /vms/{id}/console. */
export const RING_BYTES = 64 * 1024;
/** Output queued for a slow console client before it is dropped (it must not grow host memory). */
const CLIENT_BACKLOG_BYTES = 1 << 20;

export class SerialRing {
  private readonly buf: Uint8Array;
  private pos = 0;
  /** Bytes ever written. */
  total = 0;

  constructor(size = RING_BYTES) {
    this.buf = new Uint8Array(size);
  }

  write(bytes: Uint8Array): void {
    const n = this.buf.length;
    const src = bytes.length > n ? bytes.subarray(bytes.length - n) : bytes;
    const first = Math.min(src.length, n - this.pos);
    this.buf.set(src.subarray(0, first), this.pos);
    this.buf.set(src.subarray(first), 0);
    this.pos = (this.pos + src.length) % n;
    this.total += bytes.length;
  }

  /** The kept bytes, oldest first. */
  contents(): Uint8Array {
    if (this.total < this.buf.length) return this.buf.slice(0, this.pos);
    const out = new Uint8Array(this.buf.length);
    out.set(this.buf.subarray(this.pos), 0);
    out.set(this.buf.subarray(0, this.pos), this.buf.length - this.pos);
    return out;
  }

  /** Bytes written that are no longer kept. */
  get dropped(): number {
    return Math.max(0, this.total - this.buf.length);
  }
}

export class ManagerConsole {
  readonly ring = new SerialRing();
  private server: Server | null = null;
  private readonly clients = new Set<Socket>();
  /** The VM has as much unread input as it may hold: clients are not read until drain(). */
  private held = false;

  /** `input` takes what clients write, and returns false (as a stream's write) when the VM holds enough: see drain(). */
  constructor(readonly path: string, private readonly input: (bytes: Uint8Array) => boolean) {}

  /** Listen on the console socket (listenUnix: too long a path, a live server there or another kind of file is refused; a stale socket replaced). */
  async listen(): Promise<void> {
    const server = createServer((c) => {
      this.clients.add(c);
      if (this.held) c.pause();
      c.on('data', (b: Buffer) => {
        if (this.input(new Uint8Array(b))) return;
        // A client that writes faster than the guest reads waits, in its own socket buffer.
        this.held = true;
        for (const x of this.clients) x.pause();
      });
      c.on('error', () => c.destroy());
      c.on('close', () => this.clients.delete(c));
    });
    await listenUnix(server, this.path);
    this.server = server;
  }

  /** Guest serial output: into the ring and out to every connected client. */
  output(bytes: Uint8Array): void {
    this.ring.write(bytes);
    for (const c of this.clients) {
      if (c.writableLength > CLIENT_BACKLOG_BYTES) continue; // a client that does not read loses output
      c.write(bytes);
    }
  }

  /** The VM has taken enough of its input: read the clients again. */
  drain(): void {
    if (!this.held) return;
    this.held = false;
    for (const c of this.clients) c.resume();
  }

  async close(): Promise<void> {
    for (const c of this.clients) c.destroy();
    this.clients.clear();
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
    if (s && existsSync(this.path)) {
      try { unlinkSync(this.path); } catch { /* gone already */ }
    }
  }
}
