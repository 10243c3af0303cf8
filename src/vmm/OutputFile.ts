// A file the VMM appends to from the API thread: the logger's log_path, the metrics'
// metrics_path, the serial device's serial_out_path. Opened once, non-blocking, so that
// nothing a client names can stall the thread that answers every request (and, in the
// manager, every other VM's API and console): a FIFO with no reader fails at once with
// ENXIO instead of blocking open() until one comes, and writes to a FIFO whose reader is
// slow or gone drop what does not fit instead of waiting.
//
// Accepted: regular files (created if missing) and FIFOs that have a reader, as
// Firecracker accepts a FIFO for its logger and metrics. Refused: anything else
// (directories, sockets, devices: opening a device can act on it).

import { closeSync, constants, fstatSync, openSync, statSync, writeSync } from 'node:fs';

const FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK;

export class OutputFile {
  /** Bytes that were not written (a FIFO full or without a reader, a failed write). */
  dropped = 0;

  private constructor(readonly path: string, private fd: number) {}

  /** Open `path` for appending; throws an Error saying why it cannot be. */
  static open(path: string): OutputFile {
    let fd: number;
    try {
      fd = openSync(path, FLAGS, 0o644);
    } catch (e) {
      // ENXIO: a FIFO with no reader, or a socket or device file nobody serves.
      if ((e as NodeJS.ErrnoException).code === 'ENXIO') {
        if (statSync(path, { throwIfNoEntry: false })?.isFIFO()) throw new Error(`${path} is a FIFO with no reader (open it for reading first)`);
        throw new Error(`${path} is not a regular file or a FIFO`);
      }
      throw new Error((e as Error).message);
    }
    const st = fstatSync(fd);
    if (!st.isFile() && !st.isFIFO()) {
      closeSync(fd);
      throw new Error(`${path} is not a regular file or a FIFO`);
    }
    return new OutputFile(path, fd);
  }

  /** Append `data`; what cannot be written now is dropped (never waits). False when something was. */
  write(data: string | Uint8Array): boolean {
    if (this.fd < 0) return false;
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let done = 0;
    try {
      while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done);
    } catch {
      // EAGAIN (a full FIFO), EPIPE (its reader left), ENOSPC...: drop the rest.
    }
    this.dropped += bytes.length - done;
    return done === bytes.length;
  }

  close(): void {
    if (this.fd < 0) return;
    try { closeSync(this.fd); } catch { /* closed already */ }
    this.fd = -1;
  }
}
