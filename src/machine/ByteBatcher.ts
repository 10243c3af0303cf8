// Bytes a device puts out one at a time (a UART, the debug console), handed on in chunks:
// a host write per byte would cost a system call each. A chunk ends at a newline, when
// the buffer is full, or at the end of the current host task (a microtask), so output
// is never held back longer than the CPU slice that wrote it.

export class ByteBatcher {
  private readonly buf: Uint8Array;
  private len = 0;
  private scheduled = false;

  constructor(private readonly sink: (bytes: Uint8Array) => void, size = 4096) {
    this.buf = new Uint8Array(size);
  }

  push(byte: number): void {
    this.buf[this.len++] = byte;
    if (this.len === this.buf.length || byte === 10) this.flush();
    else if (!this.scheduled) { this.scheduled = true; queueMicrotask(() => this.flush()); }
  }

  /** Hand on what is buffered now (a fresh copy: the sink may keep it). */
  flush(): void {
    this.scheduled = false;
    if (this.len === 0) return;
    const out = this.buf.slice(0, this.len);
    this.len = 0;
    this.sink(out);
  }
}
