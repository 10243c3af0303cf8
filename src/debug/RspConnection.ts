// The GDB remote serial protocol's framing (GDB manual, appendix E "GDB Remote Serial
// Protocol", §E.1 Overview): packets `$data#cc` (cc: the modulo-256 sum of data, two hex
// digits), acknowledged with `+` (or `-`: send again) until QStartNoAckMode, the escape
// `}` (the next byte XOR 0x20) in binary data, and a lone 0x03 from gdb to interrupt the
// target. Commands are the stub's (GdbStub); this file only moves packets.

import type { Socket } from 'node:net';

/** Longest packet accepted (also what qSupported advertises as PacketSize). */
export const MAX_PACKET = 0x4000;

export class RspConnection {
  private buf: Buffer = Buffer.alloc(0);
  private noAck = false;
  private closed = false;

  /**
   * `onPacket` gets each packet's data (escapes already undone), `onInterrupt` a Ctrl-C
   * from gdb, `onClose` the end of the connection.
   */
  constructor(
    private readonly socket: Socket,
    private readonly onPacket: (data: Buffer) => void,
    private readonly onInterrupt: () => void,
    onClose: () => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.feed(d));
    socket.on('close', () => { this.closed = true; onClose(); });
    socket.on('error', () => socket.destroy());
  }

  /** After QStartNoAckMode's OK: neither side acknowledges any more. */
  startNoAck(): void {
    this.noAck = true;
  }

  /** Send one packet (data escaped where the protocol needs it). */
  send(data: string | Buffer): void {
    if (this.closed) return;
    const raw = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    const out: number[] = [0x24];
    let sum = 0;
    for (const b of raw) {
      if (b === 0x23 || b === 0x24 || b === 0x7d || b === 0x2a) {
        out.push(0x7d, b ^ 0x20);
        sum += 0x7d + (b ^ 0x20);
      } else {
        out.push(b);
        sum += b;
      }
    }
    out.push(0x23, ...Buffer.from((sum & 0xff).toString(16).padStart(2, '0'), 'latin1'));
    this.socket.write(Buffer.from(out));
  }

  close(): void {
    this.socket.end();
  }

  private feed(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    for (;;) {
      let i = 0;
      // Acks, naks and stray bytes between packets; a lone 0x03 is an interrupt.
      while (i < this.buf.length && this.buf[i] !== 0x24) {
        if (this.buf[i] === 0x03) this.onInterrupt();
        i++;
      }
      this.buf = this.buf.subarray(i);
      const end = this.buf.indexOf(0x23);
      if (end < 0 || end + 2 >= this.buf.length) {
        if (this.buf.length > MAX_PACKET * 2 + 4) {
          this.socket.destroy(); // a packet far past what we advertised: not gdb
        }
        return;
      }
      const body = this.buf.subarray(1, end);
      const given = parseInt(this.buf.subarray(end + 1, end + 3).toString('latin1'), 16);
      this.buf = this.buf.subarray(end + 3);
      let sum = 0;
      for (const b of body) sum += b;
      if ((sum & 0xff) !== given) {
        if (!this.noAck) this.socket.write('-');
        continue;
      }
      if (!this.noAck) this.socket.write('+');
      this.onPacket(unescape(body));
    }
  }
}

/** Undo `}` escapes (binary data of X packets). */
function unescape(b: Buffer): Buffer {
  if (!b.includes(0x7d)) return Buffer.from(b);
  const out: number[] = [];
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0x7d && i + 1 < b.length) out.push(b[++i]! ^ 0x20);
    else out.push(b[i]!);
  }
  return Buffer.from(out);
}
