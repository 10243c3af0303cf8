// The tap backend's reader thread: waits on the tap's file descriptor with poll(2) and
// hands every frame the host sends to the main thread, so the vCPU never blocks on a
// read. It polls with a short timeout and checks a stop flag in between, so closing the
// backend, or the process ending, never waits on a read that may never return.

import { parentPort, workerData } from 'node:worker_threads';
import { EAGAIN, EINTR, POLLIN, libc } from './libc.js';

export interface TapReaderData {
  fd: number;
  /** [0] stop flag (set by the main thread), [1] frames posted and not yet taken. */
  shared: SharedArrayBuffer;
  /** Frames waiting in the main thread beyond which further frames are dropped. */
  queueLimit: number;
}

/** Messages to the main thread. */
export type TapReaderMessage = { frames: Uint8Array[]; dropped: number } | { error: string };

const POLL_MS = 100;
const { fd, shared, queueLimit } = workerData as TapReaderData;
const ctl = new Int32Array(shared);
const c = libc();
const pfd = Buffer.alloc(8);
pfd.writeInt32LE(fd, 0);
pfd.writeInt16LE(POLLIN, 4);
const buf = Buffer.alloc(65536 + 64);

function fail(what: string): void {
  if (Atomics.load(ctl, 0) !== 0) return; // closing: the interface may already be gone
  parentPort!.postMessage({ error: `${what} failed (errno ${c.errno()})` } satisfies TapReaderMessage);
}

loop: while (Atomics.load(ctl, 0) === 0) {
  const r = c.poll(pfd, 1, POLL_MS);
  if (r < 0) {
    if (c.errno() === EINTR) continue;
    fail('poll');
    break;
  }
  if (r === 0) continue;
  const frames: Uint8Array[] = [];
  let dropped = 0;
  for (;;) {
    const n = c.read(fd, buf, buf.length);
    if (n < 0) {
      const e = c.errno();
      if (e === EAGAIN) break;
      if (e === EINTR) continue;
      fail('read');
      break loop;
    }
    if (n === 0) break;
    if (Atomics.load(ctl, 1) + frames.length >= queueLimit) dropped++;
    else {
      const f = new Uint8Array(n); // its own ArrayBuffer, transferred below
      f.set(buf.subarray(0, n));
      frames.push(f);
    }
  }
  if (frames.length > 0 || dropped > 0) {
    Atomics.add(ctl, 1, frames.length);
    parentPort!.postMessage({ frames, dropped } satisfies TapReaderMessage, frames.map((f) => f.buffer as ArrayBuffer));
  }
}
