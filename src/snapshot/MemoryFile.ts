// The snapshot memory file: guest RAM as a raw image (file offset = guest physical
// address, length = RAM size, as Firecracker's memory file), written sparse. All-zero
// pages are holes (the file is sized with ftruncate and only non-zero pages are written
// at their offsets); the state file records which pages hold data in a bitmap and a
// CRC-32 of them, so a restore reads only those pages, straight into the guest's
// SharedArrayBuffer (fs.readSync at offsets, no intermediate copy), and a fresh buffer
// supplies the zeros for free.

import { closeSync, constants, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { PAGE_SHIFT, PAGE_SIZE, type PhysicalMemory } from '../memory/PhysicalMemory.js';
import { SnapshotError } from './SnapshotError.js';
import { crc32, dataPageMap, runs, toBase64, type MemoryInfo } from './memoryImage.js';

export { checkMemoryInfo, type MemoryInfo } from './memoryImage.js';

/** Write guest RAM to `path` (created or replaced), sparse. */
export function writeMemoryFile(mem: PhysicalMemory, path: string): MemoryInfo {
  const size = mem.ramSize;
  const pageCount = size >>> PAGE_SHIFT;
  const { bitmap, dataPages } = dataPageMap(mem);
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
  return { size, pages: toBase64(bitmap), dataPages, crc32: crc };
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
