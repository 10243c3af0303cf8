// Guest RAM as the snapshot memory file holds it (MemoryFile.ts: a raw image, file offset
// = guest physical address), and the page map and checksum the state file keeps of it,
// made and checked in memory: the CLI writes and reads the image as a sparse file, the
// browser page keeps it in IndexedDB or hands it over as a download.

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

type Crc32 = (data: Uint8Array, value?: number) => number;
const zlib = typeof process === 'object' && typeof process.getBuiltinModule === 'function' ? (process.getBuiltinModule('node:zlib') as { crc32?: Crc32 }) : null;
/** CRC-32 (zlib's), continuing from `value`. */
export const crc32: Crc32 = typeof zlib?.crc32 === 'function' ? zlib.crc32 : crc32Js;

let crcTable: Int32Array | null = null;
/** Where zlib.crc32 is missing: browsers, and Node releases before 20.15. */
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
export function runs(bitmap: Uint8Array, pageCount: number): number[] {
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

/** The page map of guest RAM: a bit per page holding data, and how many do. */
export function dataPageMap(mem: PhysicalMemory): { bitmap: Uint8Array; dataPages: number } {
  const pageCount = mem.ramSize >>> PAGE_SHIFT;
  const bitmap = new Uint8Array((pageCount + 7) >>> 3);
  const words = new Int32Array(mem.buffer, 0, mem.ramSize >>> 2);
  const perPage = PAGE_SIZE >>> 2;
  let dataPages = 0;
  for (let p = 0; p < pageCount; p++) {
    const base = p * perPage;
    for (let i = 0; i < perPage; i++) {
      if (words[base + i] !== 0) { bitmap[p >>> 3]! |= 1 << (p & 7); dataPages++; break; }
    }
  }
  return { bitmap, dataPages };
}

/** base64 of `bytes` (the page map in the state file's JSON). */
export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
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
  const bitmap = fromBase64(m['pages']);
  if (bitmap.length !== (pageCount + 7) >>> 3) throw new SnapshotError(`${where}: memory page map covers ${bitmap.length * 8} pages, RAM has ${pageCount}`);
  return { info: m as unknown as MemoryInfo, bitmap };
}

/** The whole memory file of guest RAM, in memory (a copy), with its description. */
export function memoryImage(mem: PhysicalMemory): { bytes: Uint8Array; info: MemoryInfo } {
  const { bitmap, dataPages } = dataPageMap(mem);
  const bytes = mem.u8.slice(0, mem.ramSize);
  const r = runs(bitmap, mem.ramSize >>> PAGE_SHIFT);
  let crc = 0;
  for (let i = 0; i < r.length; i += 2) crc = crc32(bytes.subarray(r[i]! * PAGE_SIZE, (r[i]! + r[i + 1]!) * PAGE_SIZE), crc);
  return { bytes, info: { size: mem.ramSize, pages: toBase64(bitmap), dataPages, crc32: crc } };
}

/** Load a memory file held in memory into guest RAM (all zeros still), its checksum checked. */
export function loadMemoryImage(mem: PhysicalMemory, bytes: Uint8Array, info: MemoryInfo, bitmap: Uint8Array, where: string): void {
  if (bytes.length !== mem.ramSize) throw new SnapshotError(`snapshot memory ${where} is ${bytes.length} bytes, the snapshot's RAM is ${mem.ramSize} bytes`);
  const r = runs(bitmap, mem.ramSize >>> PAGE_SHIFT);
  let crc = 0;
  for (let i = 0; i < r.length; i += 2) {
    const chunk = bytes.subarray(r[i]! * PAGE_SIZE, (r[i]! + r[i + 1]!) * PAGE_SIZE);
    mem.u8.set(chunk, r[i]! * PAGE_SIZE);
    crc = crc32(chunk, crc);
  }
  if (crc !== info.crc32) throw new SnapshotError(`snapshot memory ${where}: checksum mismatch (the file is corrupted or belongs to another snapshot)`);
}
