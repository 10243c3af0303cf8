// The snapshot state file's bytes (format in StateFile.ts), made and checked in memory:
// the CLI writes and reads them as files, the browser page keeps them in IndexedDB or
// hands them over as downloads.

import { sha256 } from '../util/sha256.js';
import { SnapshotError } from './SnapshotError.js';

export const STATE_MAGIC = 'TVSNAPST';
/** Bumped whenever the payload changes in a way an older reader would misread. */
export const STATE_FORMAT_VERSION = 1;
export const STATE_HEADER_BYTES = 48;
/** Larger state files are refused before hashing (a state is tens of KiB). */
export const MAX_STATE_BYTES = 64 << 20;

/** The whole state file for `payload`: header, then the JSON. */
export function encodeState(payload: unknown): Uint8Array {
  const body = new TextEncoder().encode(JSON.stringify(payload));
  if (body.length > MAX_STATE_BYTES) throw new SnapshotError(`snapshot state of ${body.length} bytes is larger than ${MAX_STATE_BYTES}`);
  const out = new Uint8Array(STATE_HEADER_BYTES + body.length);
  for (let i = 0; i < 8; i++) out[i] = STATE_MAGIC.charCodeAt(i);
  const v = new DataView(out.buffer);
  v.setUint32(8, STATE_FORMAT_VERSION, true);
  v.setUint32(12, body.length, true);
  out.set(sha256(body), 16);
  out.set(body, STATE_HEADER_BYTES);
  return out;
}

/**
 * Check a state file's header against the file's size; returns the payload length.
 * `where` names the file in the messages.
 */
export function checkStateHeader(head: Uint8Array, fileSize: number, where: string): number {
  let magic = '';
  for (let i = 0; i < 8 && i < head.length; i++) magic += String.fromCharCode(head[i]!);
  if (fileSize < STATE_HEADER_BYTES || head.length < STATE_HEADER_BYTES || magic !== STATE_MAGIC) {
    throw new SnapshotError(`${where} is not a typevisor snapshot state file (bad magic)`);
  }
  const v = new DataView(head.buffer, head.byteOffset, STATE_HEADER_BYTES);
  const version = v.getUint32(8, true);
  if (version !== STATE_FORMAT_VERSION) {
    throw new SnapshotError(`${where}: snapshot format version ${version} is not supported (this typevisor reads version ${STATE_FORMAT_VERSION})`);
  }
  const len = v.getUint32(12, true);
  if (len > MAX_STATE_BYTES) throw new SnapshotError(`${where}: snapshot state payload of ${len} bytes is larger than ${MAX_STATE_BYTES}`);
  if (fileSize !== STATE_HEADER_BYTES + len) {
    throw new SnapshotError(`${where}: snapshot state is ${fileSize} bytes, its header says ${STATE_HEADER_BYTES + len} (truncated or padded)`);
  }
  return len;
}

/** Check the payload against the header's checksum and parse it. */
export function parseStateBody(head: Uint8Array, body: Uint8Array, where: string): unknown {
  const sum = sha256(body);
  for (let i = 0; i < 32; i++) {
    if (sum[i] !== head[16 + i]) throw new SnapshotError(`${where}: snapshot state checksum mismatch (the file is corrupted)`);
  }
  try {
    return JSON.parse(new TextDecoder().decode(body)) as unknown;
  } catch (e) {
    throw new SnapshotError(`${where}: snapshot state is not valid JSON: ${(e as Error).message}`);
  }
}

/** Check and parse a whole state file held in memory. */
export function decodeState(bytes: Uint8Array, where: string): unknown {
  checkStateHeader(bytes.subarray(0, STATE_HEADER_BYTES), bytes.length, where);
  return parseStateBody(bytes.subarray(0, STATE_HEADER_BYTES), bytes.subarray(STATE_HEADER_BYTES), where);
}
