// What a virtio-blk device reads and writes its medium through: Node's FileHandle (an
// image file, blockImageFile.ts) or an image held in memory (MemoryBlockImage, the
// browser page's). Positions are byte offsets; short reads mean the end of the image.

export interface BlockImage {
  read(buf: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  write(buf: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** A disk image held in memory (the browser page's: a file the user picked, downloadable again). */
export class MemoryBlockImage implements BlockImage {
  constructor(readonly bytes: Uint8Array) {}

  get size(): number {
    return this.bytes.length;
  }

  async read(buf: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    const n = Math.max(0, Math.min(length, this.bytes.length - position));
    buf.set(this.bytes.subarray(position, position + n), offset);
    return { bytesRead: n };
  }

  async write(buf: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }> {
    // VirtioBlk checks every request against the capacity: a write past the end is a bug.
    if (position + length > this.bytes.length) throw new RangeError(`write of ${length} bytes at ${position} past the image's ${this.bytes.length}`);
    this.bytes.set(buf.subarray(offset, offset + length), position);
    return { bytesWritten: length };
  }

  async sync(): Promise<void> {}
  async close(): Promise<void> {}
}
