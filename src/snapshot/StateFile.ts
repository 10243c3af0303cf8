// The snapshot state file: a small binary container around a JSON payload.
//
//   offset  size  field
//   0       8     magic "TVSNAPST"
//   8       4     format version (u32 LE)
//   12      4     payload length in bytes (u32 LE)
//   16      32    SHA-256 of the payload
//   48      n     payload: UTF-8 JSON (SnapshotPayload)
//
// Everything is checked before the payload is parsed: a file that is truncated, padded,
// of another version or altered by a single bit is refused with a SnapshotError.

import { closeSync, constants, fstatSync, fsyncSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { SnapshotError } from './SnapshotError.js';
import { checkStateHeader, encodeState, parseStateBody, STATE_HEADER_BYTES } from './stateBytes.js';

export { MAX_STATE_BYTES, STATE_FORMAT_VERSION, STATE_HEADER_BYTES, STATE_MAGIC } from './stateBytes.js';

/** Encode `payload` and write it atomically (a temporary file renamed over `path`). */
export function writeStateFile(path: string, payload: unknown): number {
  const bytes = encodeState(payload);
  const tmp = `${path}.tmp-${process.pid}`;
  let fd = -1;
  try {
    fd = openSync(tmp, 'w');
    writeSync(fd, bytes);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    try { unlinkSync(tmp); } catch { /* never created */ }
    throw new SnapshotError(`cannot write snapshot state ${path}: ${(e as Error).message}`);
  }
  return bytes.length;
}

/**
 * Read, check and parse a state file. The header is checked before anything else is
 * read, and only the payload length it gives (at most MAX_STATE_BYTES) is read: a huge
 * or foreign file costs 48 bytes of reading, not its size. Opened non-blocking, so a FIFO
 * named as a state file is refused at once instead of waiting for a writer.
 */
export function readStateFile(path: string): unknown {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SnapshotError(`cannot read snapshot state ${path}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new SnapshotError(`${path} is not a typevisor snapshot state file (not a regular file)`);
    const head = Buffer.alloc(STATE_HEADER_BYTES);
    const got = st.size < STATE_HEADER_BYTES ? 0 : readFully(fd, head, 0);
    const len = checkStateHeader(head.subarray(0, got), st.size, path);
    const body = Buffer.alloc(len);
    if (readFully(fd, body, STATE_HEADER_BYTES) !== len) throw new SnapshotError(`${path}: snapshot state ends early (the file shrank while being read)`);
    return parseStateBody(head, body, path);
  } finally {
    closeSync(fd);
  }
}

/** Read into all of `buf` from file offset `at`; returns the bytes read (fewer at the end of the file). */
function readFully(fd: number, buf: Buffer, at: number): number {
  let done = 0;
  while (done < buf.length) {
    const n = readSync(fd, buf, done, buf.length - done, at + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}
