// The snapshot memory file: guest RAM as a raw image (file offset = guest physical
// address, length = RAM size, as Firecracker's memory file), written sparse. All-zero
// pages are holes (the file is sized with ftruncate and only non-zero pages are written
// at their offsets); the state file records which pages hold data in a bitmap and a
// CRC-32 of them, so a restore reads only those pages, straight into the guest's
// SharedArrayBuffer (fs.readSync at offsets, no intermediate copy), and a fresh buffer
// supplies the zeros for free.

import { closeSync, constants, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import * as zlib from 'node:zlib';
import { PAGE_SHIFT, PAGE_SIZE, type PhysicalMemory } from '../memory/PhysicalMemory.js';
import { SnapshotError } from './SnapshotError.js';

export interface MemoryInfo {
  /** Bytes of RAM, and so of the file. */
  size: number;
  /** One bit per 4 KiB page (bit p%8 of byte p>>3), set when the page holds data; base64. */
  pages: string;
  /** Pages with data. */
  dataPages: number;
  /** CRC-32 of the data pages in address order. */
  crc32: number;
}

const crc32: (data: Uint8Array, value?: number) => number =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function' ? (zlib as unknown as { crc32: (d: Uint8Array, v?: number) => number }).crc32 : crc32Js;

let crcTable: Int32Array | null = null;
/** Fallback for Node releases without zlib.crc32 (before 20.15). */
function crc32Js(data: Uint8Array, value = 0): number {
  if (crcTable === null) {
    crcTable = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c;
    }
  }
  let c = ~value;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** Runs of consecutive set bits in a page bitmap: [firstPage, pageCount] pairs. */
function runs(bitmap: Uint8Array, pageCount: number): number[] {
  const out: number[] = [];
  let p = 0;
  while (p < pageCount) {
    if (bitmap[p >>> 3] === 0 && (p & 7) === 0) { p += 8; continue; }
    if ((bitmap[p >>> 3]! >> (p & 7)) & 1) {
      const start = p;
      while (p < pageCount && (bitmap[p >>> 3]! >> (p & 7)) & 1) p++;
      out.push(start, p - start);
    } else {
      p++;
    }
  }
  return out;
}

/** Write guest RAM to `path` (created or replaced), sparse. */
export function writeMemoryFile(mem: PhysicalMemory, path: string): MemoryInfo {
  const size = mem.ramSize;
  const pageCount = size >>> PAGE_SHIFT;
  const bitmap = new Uint8Array((pageCount + 7) >>> 3);
  const ram = Buffer.from(mem.buffer, 0, size);
  const zero = Buffer.alloc(PAGE_SIZE);
  let dataPages = 0;
  for (let p = 0, off = 0; p < pageCount; p++, off += PAGE_SIZE) {
    if (ram.compare(zero, 0, PAGE_SIZE, off, off + PAGE_SIZE) !== 0) {
      bitmap[p >>> 3]! |= 1 << (p & 7);
      dataPages++;
    }
  }
  let fd = -1;
  let crc = 0;
  try {
    fd = openSync(path, 'w');
    ftruncateSync(fd, size); // holes everywhere; data pages are written over them
    const r = runs(bitmap, pageCount);
    for (let i = 0; i < r.length; i += 2) {
      const off = r[i]! * PAGE_SIZE;
      const len = r[i + 1]! * PAGE_SIZE;
      const chunk = mem.u8.subarray(off, off + len);
      crc = crc32(chunk, crc);
      let done = 0;
      while (done < len) done += writeSync(fd, chunk, done, len - done, off + done);
    }
    closeSync(fd);
    fd = -1;
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    throw new SnapshotError(`cannot write snapshot memory ${path}: ${(e as Error).message}`);
  }
  return { size, pages: Buffer.from(bitmap).toString('base64'), dataPages, crc32: crc };
}

/** Check a MemoryInfo from a state file against the RAM it is for; returns its bitmap. */
export function checkMemoryInfo(info: unknown, ramSize: number, where: string): { info: MemoryInfo; bitmap: Uint8Array } {
  if (typeof info !== 'object' || info === null) throw new SnapshotError(`${where}: memory description missing`);
  const m = info as Record<string, unknown>;
  if (m['size'] !== ramSize) throw new SnapshotError(`${where}: memory size ${String(m['size'])} does not match the machine's ${ramSize} bytes`);
  if (typeof m['pages'] !== 'string' || typeof m['crc32'] !== 'number' || typeof m['dataPages'] !== 'number') {
    throw new SnapshotError(`${where}: memory page map malformed`);
  }
  const pageCount = ramSize >>> PAGE_SHIFT;
  const bitmap = new Uint8Array(Buffer.from(m['pages'], 'base64'));
  if (bitmap.length !== (pageCount + 7) >>> 3) throw new SnapshotError(`${where}: memory page map covers ${bitmap.length * 8} pages, RAM has ${pageCount}`);
  return { info: m as unknown as MemoryInfo, bitmap };
}

/**
 * Open the memory file and check it is a regular file of exactly `size` bytes; returns its
 * fd. Non-blocking, so a FIFO is refused at once rather than waiting for a writer.
 */
export function openMemoryFile(path: string, size: number): number {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SnapshotError(`cannot open snapshot memory ${path}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const st = fstatSync(fd);
  if (!st.isFile() || st.size !== size) {
    closeSync(fd);
    throw new SnapshotError(`snapshot memory ${path} is ${st.isFile() ? `${st.size} bytes` : 'not a regular file'}, the snapshot's RAM is ${size} bytes`);
  }
  return fd;
}

/**
 * Read the data pages of an open memory file into guest RAM (which must still be all
 * zeros) and close it. With `verify`, the CRC-32 is checked; the caller must discard the
 * machine when this throws.
 */
export function readMemoryFile(mem: PhysicalMemory, fd: number, path: string, info: MemoryInfo, bitmap: Uint8Array, verify: boolean): void {
  try {
    const r = runs(bitmap, mem.ramSize >>> PAGE_SHIFT);
    let crc = 0;
    for (let i = 0; i < r.length; i += 2) {
      const off = r[i]! * PAGE_SIZE;
      const len = r[i + 1]! * PAGE_SIZE;
      let done = 0;
      while (done < len) {
        const n = readSync(fd, mem.u8, off + done, len - done, off + done);
        if (n === 0) throw new SnapshotError(`snapshot memory ${path} ends early at ${off + done}`);
        done += n;
      }
      if (verify) crc = crc32(mem.u8.subarray(off, off + len), crc);
    }
    if (verify && crc !== info.crc32) throw new SnapshotError(`snapshot memory ${path}: checksum mismatch (the file is corrupted or belongs to another snapshot)`);
  } finally {
    closeSync(fd);
  }
}
