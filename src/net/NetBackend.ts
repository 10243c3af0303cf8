// The host side of a virtio-net device: where the guest's Ethernet frames go and come from.
//
// A backend carries whole Ethernet frames (destination MAC first, no FCS). The device
// sets `onReceive` and calls `send` for every frame the guest transmits; a backend
// must not keep the array it is given past the call unless it copies it (the device
// hands over a fresh array per frame, so keeping it is fine in practice).

export interface NetBackend {
  /** A frame from the guest. */
  send(frame: Uint8Array): void;
  /** Set by the device: a frame for the guest. */
  onReceive: (frame: Uint8Array) => void;
  /** Stop: close sockets, end child processes. */
  close(): void;
  /** Largest IP MTU the backend carries (the device reports it to the guest); default 1500. */
  readonly mtu?: number;
}

/** Length-prefixed framing on a byte stream (QEMU's -netdev stream / passt's qemu mode): 32-bit big-endian length, then the frame. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (frame: Uint8Array) => void, private readonly maxFrame = 65536 + 64) {}

  /** Feed bytes from the stream; calls onFrame for every complete frame. Returns false on a corrupt length. */
  push(chunk: Buffer): boolean {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    let off = 0;
    while (this.buf.length - off >= 4) {
      const len = this.buf.readUInt32BE(off);
      if (len > this.maxFrame) {
        this.buf = Buffer.alloc(0);
        return false;
      }
      if (this.buf.length - off - 4 < len) break;
      this.onFrame(new Uint8Array(this.buf.subarray(off + 4, off + 4 + len)));
      off += 4 + len;
    }
    this.buf = off === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(off);
    return true;
  }
}

/** One frame with its 32-bit big-endian length prefix. */
export function frameWithLength(frame: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + frame.length);
  out.writeUInt32BE(frame.length, 0);
  out.set(frame, 4);
  return out;
}
