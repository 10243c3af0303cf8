// The API server's open connections: which have a request in flight, which are idle and
// for how long. Idle ones are closed after the idle timeout, and their number is capped:
// a client that opens connections and sends nothing (thousands of them, or slowly, one
// byte at a time) must not hold the server's file descriptors until it cannot accept
// anyone else. A connection with a request in flight is kept however long its answer
// takes (a snapshot of a large VM, a pause waiting for disk I/O).
//
// Node's HTTP parser reads the socket itself, so bytes arriving are not seen here: a
// connection is idle from when it was opened or its last answer went out until its next
// request's headers are in.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

interface Conn {
  /** Requests in flight (more than one when pipelined). */
  busy: number;
  /** When it was opened or its last answer went out (ms since the epoch). */
  lastActive: number;
  /** The answer of the request in flight last. */
  res: ServerResponse | null;
}

export class Connections {
  private readonly conns = new Map<Socket, Conn>();
  private sweeper: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly idleTimeoutMs: number, private readonly max: number) {
    if (!(idleTimeoutMs > 0)) throw new RangeError(`idle timeout must be positive, got ${idleTimeoutMs}`);
    if (!(Number.isInteger(max) && max >= 1)) throw new RangeError(`the connection cap must be a positive whole number, got ${max}`);
  }

  get size(): number { return this.conns.size; }

  /** Close idle connections as they pass the timeout (checked four times per timeout, at most once a second). */
  start(): void {
    if (this.sweeper !== null) return;
    this.sweeper = setInterval(() => this.closeIdle(), Math.max(10, Math.min(1000, this.idleTimeoutMs / 4)));
    this.sweeper.unref();
  }

  /** Stop, and close every connection. */
  stop(): void {
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.sweeper = null;
    for (const socket of this.conns.keys()) socket.destroy();
    this.conns.clear();
  }

  /**
   * A new connection. Past the cap, the one idle longest is closed to make room; false
   * when every one has a request in flight (the caller refuses this one).
   */
  admit(socket: Socket): boolean {
    if (this.conns.size >= this.max) {
      let oldest: Socket | null = null;
      let at = Infinity;
      for (const [s, c] of this.conns) {
        if (c.busy === 0 && c.lastActive < at) { oldest = s; at = c.lastActive; }
      }
      if (oldest === null) return false;
      this.conns.delete(oldest);
      oldest.destroy();
    }
    this.conns.set(socket, { busy: 0, lastActive: Date.now(), res: null });
    socket.on('close', () => this.conns.delete(socket));
    return true;
  }

  /**
   * A request is in flight on its connection from now until its answer is done. False
   * (and the connection closed) for a connection that was refused or let go.
   */
  begin(req: IncomingMessage, res: ServerResponse): boolean {
    const conn = this.conns.get(req.socket);
    if (conn === undefined) {
      req.socket.destroy();
      return false;
    }
    conn.busy++;
    conn.res = res;
    res.once('close', () => {
      conn.busy--;
      conn.lastActive = Date.now();
    });
    return true;
  }

  /** Whether an answer is being written on `socket` (a refusal must not be sent into the middle of it). */
  answering(socket: Socket): boolean {
    const conn = this.conns.get(socket);
    return conn !== undefined && conn.busy > 0 && conn.res?.headersSent !== false;
  }

  private closeIdle(): void {
    const limit = Date.now() - this.idleTimeoutMs;
    for (const [socket, c] of this.conns) {
      if (c.busy === 0 && c.lastActive <= limit) {
        this.conns.delete(socket);
        socket.destroy();
      }
    }
  }
}
