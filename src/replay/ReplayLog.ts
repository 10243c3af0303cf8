// The record/replay log (typevisor run --record / --replay): what came from outside a
// deterministic run, at the point of the run where it came, and state hashes to check a
// replay against. Read whole and checked before a replay starts, so a damaged log is
// refused with nothing applied.
//
// Format, version 3 (version 1 hashed RAM as one range, version 2 left EFER, the PDPTEs,
// the x87 and SSE state out of the CPU hash; their logs are refused). All integers
// little-endian; a "count" is an unsigned 64-bit
// instruction count (CPU.instructions); "ns" is virtual time as an IEEE-754 float64 (the
// virtual clock's own number: idle skips jump it to timer deadlines, which need not be
// whole). A position (count, ns) names one point between CPU slices: a halted guest stays
// at one count while its clock moves on.
//
//   header, 56 bytes:
//     0  4  magic "TVRL"
//     4  2  version (2)
//     6  2  header size in bytes (56)
//     8  4  guest RAM in MiB
//    12  4  seed
//    16  4  virtual ns per instruction
//    20  4  flags: bit 0 the run restarts on a guest reset (--reboot); the others 0
//    24  8  the RTC's start, ms since the Unix epoch (float64)
//    32  8  kernel (or firmware) image: the first 8 bytes of its SHA-256
//    40  8  initrd: the first 8 bytes of its SHA-256 (of no bytes when there is none)
//    48  8  kernel command line (UTF-8): the first 8 bytes of its SHA-256
//   then records, each a kind byte and its fields, in the order of the run:
//     1 INPUT       count, ns, device u8 (0: COM1), length u16, that many bytes: host
//                   bytes handed to the device at that position
//     2 INPUT_OPEN  count, ns, open u8 (0/1): from here the host may (1) or may no
//                   longer (0) send input (decides whether an idle guest waits or ends)
//     3 CHECKPOINT  count, ns, cpu u32, ram u32: state hashes (stateHash.ts: cpuHash, and
//                   pagedRamHash, each 4 KiB page's hash hashed in page order) at the
//                   first position at or after each multiple of the checkpoint interval
//     4 END         count, ns, cpu u32, ram u32, exit kind u8 (EXIT_KINDS), detail
//                   length u16, detail (UTF-8): how and where the run ended; the last
//                   record, and every log has one
//     5 DRIVE       count, ns, drive index u8, image size u64, image id (the first 8
//                   bytes of its SHA-256): a virtio-blk drive's image as the run started
//                   (host-side disk content the guest may read); before any other record
// Record sizes: INPUT 20 + its bytes, INPUT_OPEN 18, CHECKPOINT 25, END 28 + detail, DRIVE 34.

import { sha256, Sha256Stream, toHex } from '../util/sha256.js';

export const LOG_MAGIC = 'TVRL';
export const LOG_VERSION = 3;
export const HEADER_SIZE = 56;

export const REC_INPUT = 1;
export const REC_INPUT_OPEN = 2;
export const REC_CHECKPOINT = 3;
export const REC_END = 4;
export const REC_DRIVE = 5;

/** Devices an INPUT record may name. */
export const DEVICE_COM1 = 0;

/** Exit kinds an END record may carry, by index (ExitReason['kind']). */
export const EXIT_KINDS = ['poweroff', 'reset', 'triple-fault', 'dead-halt', 'stopped', 'diverged'] as const;

const MAX_INPUT_CHUNK = 0xffff;
const FLAG_REBOOT = 1;

/** What identifies a run's start; a replay must start the same. */
export interface LogHeader {
  memoryMiB: number;
  seed: number;
  nsPerInstruction: number;
  rtcBaseMs: number;
  /** A guest reset restarts the machine (MachineConfig.reboot) rather than ending the run. */
  reboot: boolean;
  /** 16 hex digits each (the first 8 bytes of the SHA-256). */
  kernel: string;
  initrd: string;
  cmdline: string;
}

export interface Position { count: number; ns: number }
export type LogRecord =
  | { kind: typeof REC_INPUT; at: Position; device: number; bytes: Uint8Array }
  | { kind: typeof REC_INPUT_OPEN; at: Position; open: boolean }
  | { kind: typeof REC_CHECKPOINT; at: Position; cpu: number; ram: number }
  | { kind: typeof REC_END; at: Position; cpu: number; ram: number; exit: string; detail: string }
  | { kind: typeof REC_DRIVE; at: Position; index: number; size: number; id: string };

/**
 * A drive image's identity: its size and the first 8 bytes of its SHA-256 (16 hex digits),
 * read in 1 MiB chunks. Drive images are host files, so Node only (node:fs is asked for at
 * run time, keeping this module loadable in a browser, where drives are in memory).
 */
export function fileId(path: string): { size: number; id: string } {
  const fs = typeof process === 'object' && typeof process.getBuiltinModule === 'function'
    ? process.getBuiltinModule('node:fs') as typeof import('node:fs') : null;
  if (fs === null) throw new Error(`drive ${path}: image files can be identified only under Node`);
  const fd = fs.openSync(path, 'r');
  try {
    const h = new Sha256Stream();
    const buf = new Uint8Array(1 << 20);
    let size = 0;
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, size)) > 0;) { h.update(buf.subarray(0, n)); size += n; }
    return { size, id: toHex(h.digest()).slice(0, 16) };
  } finally {
    fs.closeSync(fd);
  }
}

export class ReplayLogError extends Error {}

/** A prefix of a log: its first `bytes` bytes, whose SHA-256 (hex) is `sha256`. */
export interface LogPrefix { bytes: number; sha256: string }

/** The index of the record that starts right after `prefix` in `log`, or -1 when the log does not begin with that prefix at a record boundary. */
export function recordAfter(log: Uint8Array, offsets: readonly number[], prefix: LogPrefix): number {
  const i = offsets.indexOf(prefix.bytes);
  if (i < 0) return -1;
  return toHex(sha256(log.subarray(0, prefix.bytes))) === prefix.sha256 ? i : -1;
}

/** The first 8 bytes of SHA-256, as hex: a start's identity, cheap to compare and to name. */
export function imageId(bytes: Uint8Array | string | null | undefined): string {
  return toHex(sha256(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes ?? new Uint8Array(0))).slice(0, 16);
}

/** Header fields that differ between a log and a run, as "name (log X, run Y)" ('' when none). */
export function headerMismatch(log: LogHeader, run: LogHeader): string {
  const names: Record<keyof LogHeader, string> = {
    memoryMiB: 'memory (MiB)', seed: 'seed', nsPerInstruction: 'ns per instruction', rtcBaseMs: 'RTC start (ms)', reboot: 'restart on reset (--reboot)',
    kernel: 'kernel (SHA-256 prefix)', initrd: 'initrd (SHA-256 prefix)', cmdline: 'kernel command line (SHA-256 prefix)',
  };
  return (Object.keys(names) as (keyof LogHeader)[])
    .filter((k) => log[k] !== run[k])
    .map((k) => `${names[k]}: log ${log[k]}, run ${run[k]}`)
    .join('; ');
}

/** Encodes a log into chunks handed to `sink` (64 KiB at a time, and the rest at close). */
export class LogWriter {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  private len = 0;
  /** Bytes handed to the sink so far, and pending. */
  get size(): number { return this.written + this.len; }
  private written = 0;
  /** SHA-256 of the bytes handed to the sink: names a prefix of the log (a snapshot's place in it). */
  private readonly sha = new Sha256Stream();

  constructor(private readonly sink: { write(chunk: Uint8Array): void }, header: LogHeader) {
    this.ascii(LOG_MAGIC);
    this.u16(LOG_VERSION);
    this.u16(HEADER_SIZE);
    this.u32(header.memoryMiB);
    this.u32(header.seed);
    this.u32(header.nsPerInstruction);
    this.u32(header.reboot ? FLAG_REBOOT : 0);
    this.f64(header.rtcBaseMs);
    for (const id of [header.kernel, header.initrd, header.cmdline]) this.hex8(id);
  }

  input(at: Position, device: number, bytes: Uint8Array): void {
    for (let off = 0; off < bytes.length; off += MAX_INPUT_CHUNK) {
      const part = bytes.subarray(off, off + MAX_INPUT_CHUNK);
      this.head(REC_INPUT, at, 3 + part.length);
      this.u8(device);
      this.u16(part.length);
      this.buf.set(part, this.len);
      this.len += part.length;
    }
  }

  inputOpen(at: Position, open: boolean): void {
    this.head(REC_INPUT_OPEN, at, 1);
    this.u8(open ? 1 : 0);
  }

  checkpoint(at: Position, cpu: number, ram: number): void {
    this.head(REC_CHECKPOINT, at, 8);
    this.u32(cpu);
    this.u32(ram);
  }

  drive(at: Position, index: number, size: number, id: string): void {
    this.head(REC_DRIVE, at, 17);
    this.u8(index);
    this.u32(size % 0x1_0000_0000);
    this.u32(Math.floor(size / 0x1_0000_0000));
    this.hex8(id);
  }

  /** The END record; everything is handed to the sink. */
  end(at: Position, cpu: number, ram: number, exit: string, detail: string): void {
    const kind = EXIT_KINDS.indexOf(exit as (typeof EXIT_KINDS)[number]);
    if (kind < 0) throw new RangeError(`unknown exit kind ${exit}`);
    const text = new TextEncoder().encode(detail).subarray(0, MAX_INPUT_CHUNK);
    this.head(REC_END, at, 11 + text.length);
    this.u32(cpu);
    this.u32(ram);
    this.u8(kind);
    this.u16(text.length);
    this.buf.set(text, this.len);
    this.len += text.length;
    this.flush();
  }

  /** Hand what is buffered to the sink. */
  flush(): void {
    if (this.len === 0) return;
    const chunk = this.buf.slice(0, this.len);
    this.sha.update(chunk);
    this.sink.write(chunk);
    this.written += this.len;
    this.len = 0;
  }

  /** The log so far (flushed): its length and SHA-256, which a replay finds its place by. */
  prefix(): LogPrefix {
    this.flush();
    return { bytes: this.written, sha256: toHex(this.sha.copy().digest()) };
  }

  private head(kind: number, at: Position, rest: number): void {
    this.room(17 + rest);
    this.u8(kind);
    this.u32(at.count % 0x1_0000_0000);
    this.u32(Math.floor(at.count / 0x1_0000_0000));
    this.f64(at.ns);
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) {
      this.buf = new Uint8Array(n);
      this.view = new DataView(this.buf.buffer);
    }
  }

  private u8(v: number): void { this.view.setUint8(this.len, v); this.len += 1; }
  private u16(v: number): void { this.view.setUint16(this.len, v, true); this.len += 2; }
  private u32(v: number): void { this.view.setUint32(this.len, v >>> 0, true); this.len += 4; }
  private f64(v: number): void { this.view.setFloat64(this.len, v, true); this.len += 8; }
  private ascii(s: string): void { for (let i = 0; i < s.length; i++) this.u8(s.charCodeAt(i)); }
  private hex8(s: string): void { for (let i = 0; i < 8; i++) this.u8(parseInt(s.slice(2 * i, 2 * i + 2), 16)); }
}

/** Parse and check a whole log: its header and records, ending in END. Throws ReplayLogError naming the first fault. */
export function readLog(bytes: Uint8Array): { header: LogHeader; records: LogRecord[]; offsets: number[] } {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8) throw new ReplayLogError(`replay log is ${bytes.length} bytes, shorter than its header`);
  const magic = String.fromCharCode(bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!);
  if (magic !== LOG_MAGIC) throw new ReplayLogError('not a typevisor replay log (bad magic)');
  const version = v.getUint16(4, true);
  if (version !== LOG_VERSION) throw new ReplayLogError(`replay log format version ${version} is not supported (this typevisor reads version ${LOG_VERSION})`);
  if (v.getUint16(6, true) !== HEADER_SIZE || bytes.length < HEADER_SIZE) throw new ReplayLogError('replay log header is damaged (wrong size)');
  const flags = v.getUint32(20, true);
  if ((flags & ~FLAG_REBOOT) !== 0) throw new ReplayLogError(`replay log header is damaged (unknown flags 0x${flags.toString(16)})`);
  const hex = (off: number): string => Array.from(bytes.subarray(off, off + 8), (b) => b.toString(16).padStart(2, '0')).join('');
  const header: LogHeader = {
    memoryMiB: v.getUint32(8, true),
    seed: v.getUint32(12, true),
    nsPerInstruction: v.getUint32(16, true),
    rtcBaseMs: v.getFloat64(24, true),
    reboot: (flags & FLAG_REBOOT) !== 0,
    kernel: hex(32), initrd: hex(40), cmdline: hex(48),
  };
  const records: LogRecord[] = [];
  /** The byte offset of each record. */
  const offsets: number[] = [];
  let off = HEADER_SIZE;
  let last: Position = { count: 0, ns: 0 };
  const need = (n: number, what: string): void => {
    if (off + n > bytes.length) throw new ReplayLogError(`replay log is truncated: its ${what} at byte ${off} is cut off`);
  };
  while (off < bytes.length) {
    if (records.length > 0 && records[records.length - 1]!.kind === REC_END) throw new ReplayLogError(`replay log is damaged: bytes after its END record at byte ${off}`);
    const start = off;
    offsets.push(start);
    const kind = bytes[off]!;
    if (kind < REC_INPUT || kind > REC_DRIVE) throw new ReplayLogError(`replay log is damaged: unknown record kind ${kind} at byte ${off}`);
    need(17, 'record');
    const at: Position = { count: v.getUint32(off + 1, true) + v.getUint32(off + 5, true) * 0x1_0000_0000, ns: v.getFloat64(off + 9, true) };
    if (!(at.count >= last.count && at.ns >= last.ns) || !Number.isFinite(at.ns)) throw new ReplayLogError(`replay log is damaged: the record at byte ${start} goes back in the run`);
    last = at;
    off += 17;
    switch (kind) {
      case REC_INPUT: {
        need(3, 'input record');
        const device = bytes[off]!;
        const n = v.getUint16(off + 1, true);
        if (device !== DEVICE_COM1) throw new ReplayLogError(`replay log is damaged: input for unknown device ${device} at byte ${start}`);
        off += 3;
        need(n, 'input record');
        records.push({ kind, at, device, bytes: bytes.slice(off, off + n) });
        off += n;
        break;
      }
      case REC_INPUT_OPEN:
        need(1, 'input-open record');
        if (bytes[off]! > 1) throw new ReplayLogError(`replay log is damaged: bad input-open record at byte ${start}`);
        records.push({ kind, at, open: bytes[off] === 1 });
        off += 1;
        break;
      case REC_CHECKPOINT:
        need(8, 'checkpoint record');
        records.push({ kind, at, cpu: v.getUint32(off, true), ram: v.getUint32(off + 4, true) });
        off += 8;
        break;
      case REC_DRIVE:
        need(17, 'drive record');
        if (records.some((r) => r.kind !== REC_DRIVE)) throw new ReplayLogError(`replay log is damaged: a drive record after the run started, at byte ${start}`);
        records.push({ kind, at, index: bytes[off]!, size: v.getUint32(off + 1, true) + v.getUint32(off + 5, true) * 0x1_0000_0000, id: hex(off + 9) });
        off += 17;
        break;
      case REC_END: {
        need(11, 'end record');
        const exit = EXIT_KINDS[bytes[off + 8]!];
        const n = v.getUint16(off + 9, true);
        if (exit === undefined) throw new ReplayLogError(`replay log is damaged: unknown exit kind ${bytes[off + 8]} at byte ${start}`);
        need(11 + n, 'end record');
        records.push({ kind, at, cpu: v.getUint32(off, true), ram: v.getUint32(off + 4, true), exit, detail: new TextDecoder().decode(bytes.subarray(off + 11, off + 11 + n)) });
        off += 11 + n;
        break;
      }
    }
  }
  if (records.length === 0 || records[records.length - 1]!.kind !== REC_END) {
    throw new ReplayLogError('replay log ends early: no END record (the recording was cut off)');
  }
  return { header, records, offsets };
}
