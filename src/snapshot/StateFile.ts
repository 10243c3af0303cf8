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

import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, fsyncSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { SnapshotError } from './SnapshotError.js';

export const STATE_MAGIC = 'TVSNAPST';
/** Bumped whenever the payload changes in a way an older reader would misread. */
export const STATE_FORMAT_VERSION = 1;
export const STATE_HEADER_BYTES = 48;
/** Larger state files are refused before hashing (a state is tens of KiB). */
export const MAX_STATE_BYTES = 64 << 20;

/** Encode `payload` and write it atomically (a temporary file renamed over `path`). */
export function writeStateFile(path: string, payload: unknown): number {
  const body = Buffer.from(JSON.stringify(payload), 'utf8');
  if (body.length > MAX_STATE_BYTES) throw new SnapshotError(`snapshot state of ${body.length} bytes is larger than ${MAX_STATE_BYTES}`);
  const head = Buffer.alloc(STATE_HEADER_BYTES);
  head.write(STATE_MAGIC, 0, 'latin1');
  head.writeUInt32LE(STATE_FORMAT_VERSION, 8);
  head.writeUInt32LE(body.length, 12);
  createHash('sha256').update(body).digest().copy(head, 16);
  const tmp = `${path}.tmp-${process.pid}`;
  let fd = -1;
  try {
    fd = openSync(tmp, 'w');
    writeSync(fd, head);
    writeSync(fd, body);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    try { unlinkSync(tmp); } catch { /* never created */ }
    throw new SnapshotError(`cannot write snapshot state ${path}: ${(e as Error).message}`);
  }
  return head.length + body.length;
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
    if (st.size < STATE_HEADER_BYTES || readFully(fd, head, 0) < STATE_HEADER_BYTES || head.toString('latin1', 0, 8) !== STATE_MAGIC) {
      throw new SnapshotError(`${path} is not a typevisor snapshot state file (bad magic)`);
    }
    const version = head.readUInt32LE(8);
    if (version !== STATE_FORMAT_VERSION) {
      throw new SnapshotError(`${path}: snapshot format version ${version} is not supported (this typevisor reads version ${STATE_FORMAT_VERSION})`);
    }
    const len = head.readUInt32LE(12);
    if (len > MAX_STATE_BYTES) throw new SnapshotError(`${path}: snapshot state payload of ${len} bytes is larger than ${MAX_STATE_BYTES}`);
    if (st.size !== STATE_HEADER_BYTES + len) {
      throw new SnapshotError(`${path}: snapshot state is ${st.size} bytes, its header says ${STATE_HEADER_BYTES + len} (truncated or padded)`);
    }
    const body = Buffer.alloc(len);
    if (readFully(fd, body, STATE_HEADER_BYTES) !== len) throw new SnapshotError(`${path}: snapshot state ends early (the file shrank while being read)`);
    const sum = createHash('sha256').update(body).digest();
    if (!sum.equals(head.subarray(16, 48))) throw new SnapshotError(`${path}: snapshot state checksum mismatch (the file is corrupted)`);
    try {
      return JSON.parse(body.toString('utf8')) as unknown;
    } catch (e) {
      throw new SnapshotError(`${path}: snapshot state is not valid JSON: ${(e as Error).message}`);
    }
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
