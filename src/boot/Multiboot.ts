// Multiboot Specification 0.6.96 (multiboot 1): header in the first 8 KiB, a.out
// kludge or ELF loading, boot information with memory, the e820-derived memory map,
// command line and modules; entry with EAX = 0x2BADB002 and EBX = the information.

import type { PhysicalMemory } from '../memory/PhysicalMemory.js';
import { flat32Entry } from './BootEntry.js';
import { BootError, hex } from './BootError.js';
import { upperMemoryEnd } from './E820.js';
import { checkSegments, isElf, loadSegments, parseElf32, physicalEntry } from './Elf32.js';
import { alignUp, cString, fill, get32, put32, put64, putBytes } from './GuestBytes.js';
import { cmdlineBytes, setupPlatform, writeCmdline, type KernelOptions, type LoadedKernel } from './KernelLoad.js';
import { CMDLINE_MAX, EBDA_BASE, KERNEL_BASE, MULTIBOOT_INFO } from './Layout.js';

export const MULTIBOOT_HEADER_MAGIC = 0x1badb002;
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2badb002;
export const MULTIBOOT_SEARCH = 8192;

// header flags
export const MB_PAGE_ALIGN = 1 << 0;
export const MB_MEMORY_INFO = 1 << 1;
export const MB_VIDEO_MODE = 1 << 2;
export const MB_AOUT_KLUDGE = 1 << 16;

// information flags
export const MBI_MEMORY = 1 << 0;
export const MBI_CMDLINE = 1 << 2;
export const MBI_MODS = 1 << 3;
export const MBI_MMAP = 1 << 6;
export const MBI_LOADER_NAME = 1 << 9;

// information structure offsets
export const MBI_FLAGS = 0;
export const MBI_MEM_LOWER = 4;
export const MBI_MEM_UPPER = 8;
export const MBI_CMDLINE_PTR = 16;
export const MBI_MODS_COUNT = 20;
export const MBI_MODS_ADDR = 24;
export const MBI_MMAP_LENGTH = 44;
export const MBI_MMAP_ADDR = 48;
export const MBI_LOADER_NAME_PTR = 64;
export const MBI_SIZE = 120;

// Where the pieces of the boot information go inside the MULTIBOOT_INFO page.
export const MBI_LOADER_NAME_AT = MULTIBOOT_INFO + 0x080;
export const MBI_MMAP_AT = MULTIBOOT_INFO + 0x100;
export const MBI_MODS_AT = MULTIBOOT_INFO + 0x300;
export const MBI_STRINGS_AT = MULTIBOOT_INFO + 0x400;
const MMAP_MAX = (MBI_MODS_AT - MBI_MMAP_AT) / 24;
const MODS_MAX = (MBI_STRINGS_AT - MBI_MODS_AT) / 16;
const STRINGS_END = MULTIBOOT_INFO + 0x1000;

export const LOADER_NAME = 'typevisor';

export interface MultibootHeader {
  /** Byte offset of the header in the file. */
  offset: number;
  flags: number;
}

export interface MultibootModule {
  data: Uint8Array;
  string: string;
}

export interface MultibootOptions extends KernelOptions {
  /** Modules after the initrd (which, if given, is module 0). */
  modules?: MultibootModule[];
}

/**
 * Look for a multiboot header (magic, flags, checksum summing to 0) on a 4-byte
 * boundary in the first 8 KiB. `badChecksumAt` is the first offset holding the magic
 * with a wrong checksum, or -1.
 */
export function scanMultiboot(image: Uint8Array): { header: MultibootHeader | null; badChecksumAt: number } {
  const end = Math.min(MULTIBOOT_SEARCH, image.length) - 12;
  let badAt = -1;
  for (let off = 0; off <= end; off += 4) {
    if (get32(image, off) !== MULTIBOOT_HEADER_MAGIC) continue;
    const flags = get32(image, off + 4);
    const sum = (MULTIBOOT_HEADER_MAGIC + flags + get32(image, off + 8)) >>> 0;
    if (sum === 0) return { header: { offset: off, flags }, badChecksumAt: badAt };
    if (badAt < 0) badAt = off;
  }
  return { header: null, badChecksumAt: badAt };
}

export function badChecksumError(offset: number): BootError {
  return new BootError(`multiboot header at offset ${hex(offset)} has a bad checksum (magic + flags + checksum must be 0)`);
}

/** The multiboot header; throws when there is none or only one with a bad checksum. */
export function findMultibootHeader(image: Uint8Array): MultibootHeader {
  const { header, badChecksumAt } = scanMultiboot(image);
  if (header !== null) return header;
  if (badChecksumAt >= 0) throw badChecksumError(badChecksumAt);
  throw new BootError(`kernel has no multiboot header (magic ${hex(MULTIBOOT_HEADER_MAGIC)}) in its first 8 KiB`);
}

/** Where the a.out kludge fields say the image goes. */
export interface AoutPlan {
  entry: number;
  /** load_addr */
  base: number;
  /** bss_end_addr (or load end when there is no BSS). */
  end: number;
  fileStart: number;
  loadEnd: number;
}

export function planAout(image: Uint8Array, h: MultibootHeader, ramSize: number): AoutPlan {
  const o = h.offset;
  if (o + 32 > image.length) throw new BootError('multiboot kernel is truncated inside its header address fields');
  const headerAddr = get32(image, o + 12);
  const loadAddr = get32(image, o + 16);
  const loadEndAddr = get32(image, o + 20);
  const bssEndAddr = get32(image, o + 24);
  const entry = get32(image, o + 28);
  if (loadAddr > headerAddr) throw new BootError(`multiboot load_addr ${hex(loadAddr)} is above header_addr ${hex(headerAddr)}`);
  const fileStart = o - (headerAddr - loadAddr);
  if (fileStart < 0) throw new BootError(`multiboot header_addr - load_addr (${hex(headerAddr - loadAddr)}) is larger than the header's file offset ${hex(o)}`);
  const loadEnd = loadEndAddr === 0 ? loadAddr + (image.length - fileStart) : loadEndAddr;
  if (loadEnd <= loadAddr) throw new BootError(`multiboot load_end_addr ${hex(loadEndAddr)} is not above load_addr ${hex(loadAddr)}`);
  if (fileStart + (loadEnd - loadAddr) > image.length) {
    throw new BootError(`multiboot kernel is truncated: it should have ${loadEnd - loadAddr} bytes from file offset ${hex(fileStart)}, the file has ${image.length - fileStart}`);
  }
  const end = bssEndAddr === 0 ? loadEnd : bssEndAddr;
  if (end < loadEnd) throw new BootError(`multiboot bss_end_addr ${hex(bssEndAddr)} is below load_end_addr ${hex(loadEnd)}`);
  if (loadAddr < KERNEL_BASE) {
    throw new BootError(`multiboot kernel loads at ${hex(loadAddr)}, below 1 MiB where the boot data and BIOS areas are; link it at 0x100000 or above`);
  }
  if (end > ramSize) {
    throw new BootError(`multiboot kernel occupies ${hex(loadAddr)}-${hex(end)}, beyond the guest's ${ramSize >>> 20} MiB of RAM; give the guest at least ${Math.ceil(end / (1 << 20))} MiB`);
  }
  if (entry < loadAddr || entry >= loadEnd) {
    throw new BootError(`multiboot entry_addr ${hex(entry)} is outside the loaded image ${hex(loadAddr)}-${hex(loadEnd)}`);
  }
  return { entry, base: loadAddr, end, fileStart, loadEnd };
}

/** Load a multiboot 1 kernel. */
export function loadMultiboot(mem: PhysicalMemory, image: Uint8Array, opts: MultibootOptions = {}): LoadedKernel {
  const h = findMultibootHeader(image);
  const unknown = h.flags & 0xfff8;
  if (unknown !== 0) {
    throw new BootError(`multiboot kernel requires features typevisor does not know (header flags ${hex(unknown)} in bits 3-15)`);
  }
  const warnings: string[] = [];
  if ((h.flags & MB_VIDEO_MODE) !== 0) warnings.push('multiboot kernel asks for a video mode; there is no display, so no video information is passed');

  // Plan the kernel image.
  let entry: number;
  let base: number;
  let end: number;
  let copy: () => void;
  if ((h.flags & MB_AOUT_KLUDGE) !== 0) {
    const p = planAout(image, h, mem.ramSize);
    ({ entry, base, end } = p);
    copy = () => {
      putBytes(mem, p.base, image.subarray(p.fileStart, p.fileStart + (p.loadEnd - p.base)), 'multiboot kernel');
      if (p.end > p.loadEnd) fill(mem, p.loadEnd, p.end - p.loadEnd, 0);
    };
  } else {
    if (!isElf(image)) {
      throw new BootError('multiboot kernel is not ELF and its header has no load addresses (flag bit 16): cannot tell where to load it');
    }
    const elf = parseElf32(image, 'multiboot kernel');
    entry = physicalEntry(elf, 'multiboot kernel');
    end = checkSegments(elf, mem.ramSize, 'multiboot kernel');
    base = Math.min(...elf.segments.map((s) => s.paddr));
    copy = () => loadSegments(mem, image, elf);
  }

  // Plan the modules: page-aligned, one after another, after the kernel.
  const modules: MultibootModule[] = [];
  if (opts.initrd !== undefined && opts.initrd.length > 0) modules.push({ data: opts.initrd, string: opts.initrdName ?? 'initrd' });
  modules.push(...(opts.modules ?? []));
  if (modules.length > MODS_MAX) throw new BootError(`${modules.length} multiboot modules given; typevisor passes at most ${MODS_MAX}`);
  const placed: { addr: number; data: Uint8Array; str: Uint8Array }[] = [];
  let next = alignUp(end, 0x1000);
  let strAt = MBI_STRINGS_AT;
  for (const [i, m] of modules.entries()) {
    const str = cString(m.string, `multiboot module ${i} string`);
    if (strAt + str.length > STRINGS_END) throw new BootError('multiboot module strings are too long together (at most 3 KiB)');
    if (next + m.data.length > mem.ramSize) {
      throw new BootError(`multiboot kernel and modules do not fit in ${mem.ramSize >>> 20} MiB of guest RAM; give the guest at least ${Math.ceil((next + m.data.length) / (1 << 20))} MiB`);
    }
    placed.push({ addr: next, data: m.data, str });
    next = alignUp(next + m.data.length, 0x1000);
    strAt += str.length;
  }
  const clBytes = cmdlineBytes(opts.cmdline ?? '', CMDLINE_MAX - 1);

  // Write.
  const { acpi, e820 } = setupPlatform(mem, opts);
  if (e820.length > MMAP_MAX) throw new BootError(`memory map has ${e820.length} entries; the multiboot area holds ${MMAP_MAX}`);
  copy();
  const cl = writeCmdline(mem, clBytes);
  fill(mem, MULTIBOOT_INFO, 0x1000, 0);
  const mbi = MULTIBOOT_INFO;
  put32(mem, mbi + MBI_FLAGS, MBI_MEMORY | MBI_CMDLINE | MBI_MODS | MBI_MMAP | MBI_LOADER_NAME);
  put32(mem, mbi + MBI_MEM_LOWER, EBDA_BASE >>> 10);
  put32(mem, mbi + MBI_MEM_UPPER, Math.floor((upperMemoryEnd(e820) - KERNEL_BASE) / 1024));
  put32(mem, mbi + MBI_CMDLINE_PTR, cl.addr);
  put32(mem, mbi + MBI_MODS_COUNT, placed.length);
  put32(mem, mbi + MBI_MODS_ADDR, placed.length > 0 ? MBI_MODS_AT : 0);
  put32(mem, mbi + MBI_MMAP_LENGTH, e820.length * 24);
  put32(mem, mbi + MBI_MMAP_ADDR, MBI_MMAP_AT);
  put32(mem, mbi + MBI_LOADER_NAME_PTR, MBI_LOADER_NAME_AT);
  putBytes(mem, MBI_LOADER_NAME_AT, cString(LOADER_NAME, 'loader name'));
  e820.forEach((e, i) => {
    const at = MBI_MMAP_AT + i * 24;
    put32(mem, at, 20); // size of the entry not counting this field
    put64(mem, at + 4, e.addr);
    put64(mem, at + 12, e.size);
    put32(mem, at + 20, e.type);
  });
  strAt = MBI_STRINGS_AT;
  placed.forEach((p, i) => {
    putBytes(mem, p.addr, p.data, `multiboot module ${i}`);
    putBytes(mem, strAt, p.str, 'module string');
    const at = MBI_MODS_AT + i * 16;
    put32(mem, at, p.addr);
    put32(mem, at + 4, p.addr + p.data.length);
    put32(mem, at + 8, strAt);
    put32(mem, at + 12, 0);
    strAt += p.str.length;
  });

  const first = placed[0];
  return {
    format: 'multiboot',
    entry: flat32Entry(mem, entry, { eax: MULTIBOOT_BOOTLOADER_MAGIC, ebx: mbi }),
    e820, acpi,
    kernel: { base, end },
    initrd: first !== undefined && opts.initrd !== undefined && opts.initrd.length > 0 ? { addr: first.addr, size: first.data.length } : null,
    cmdline: cl,
    bootInfo: mbi,
    warnings,
  };
}
