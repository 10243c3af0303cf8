// Port 0x80's POST codes among a VM's live counters (the manager's GET /vms/{id}/stats):
// the VM's worker writes them into the shared Float64Array of counters, after the numeric
// ones, and the VMM reads them back from there.

import { POST_HISTORY, type PostCode } from '../devices/PostCode.js';

export interface PostCodeCounters {
  /** The last code written to port 0x80 (0 before any write). */
  post_code: number;
  /** Writes to port 0x80 since power-on. */
  post_writes: number;
  /** The recent distinct codes, oldest first, consecutive repeats collapsed (PostCode.history). */
  post_codes: number[];
  /** Codes written before those, dropped from the history. */
  post_codes_dropped: number;
}

/** Float64 slots the readout takes: last code, writes, dropped, how many codes, the codes. */
export const POST_COUNTER_SLOTS = 4 + POST_HISTORY;

export function writePostCounters(post: PostCode, out: Float64Array, at: number): void {
  const h = post.history();
  out[at] = post.code;
  out[at + 1] = post.writes;
  out[at + 2] = h.dropped;
  out[at + 3] = h.codes.length;
  for (let i = 0; i < h.codes.length; i++) out[at + 4 + i] = h.codes[i]!;
}

/** The readout from a buffer writePostCounters wrote (all zero: no codes yet). */
export function readPostCounters(buf: Float64Array, at: number): PostCodeCounters {
  const n = Math.min(Math.max(buf[at + 3] ?? 0, 0), POST_HISTORY);
  return {
    post_code: buf[at] ?? 0,
    post_writes: buf[at + 1] ?? 0,
    post_codes: Array.from(buf.subarray(at + 4, at + 4 + n)),
    post_codes_dropped: buf[at + 2] ?? 0,
  };
}
