// Reading 32-bit little-endian x86 ELF executables (System V ABI, ELF header and
// program headers only), shared by the ELF vmlinux and the multiboot loaders.

import type { PhysicalMemory } from '../memory/PhysicalMemory.js';
import { BootError, hex } from './BootError.js';
import { fill, get16, get32, get8, putBytes } from './GuestBytes.js';
import { KERNEL_BASE } from './Layout.js';

export const ELF_MAGIC = 0x464c457f; // "\x7fELF" read little-endian
const ELFCLASS32 = 1;
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const ET_EXEC = 2;
const EM_386 = 3;
const PT_LOAD = 1;
const EHDR_SIZE = 52;
const PHDR_SIZE = 32;

const MACHINES: Record<number, string> = {
  2: 'SPARC', 8: 'MIPS', 20: 'PowerPC', 21: 'PowerPC64', 22: 'S/390', 40: 'ARM', 50: 'IA-64',
  62: 'x86-64', 183: 'AArch64', 243: 'RISC-V',
};

export interface ElfSegment {
  index: number;
  offset: number;
  vaddr: number;
  paddr: number;
  filesz: number;
  memsz: number;
}

export interface Elf32Image {
  /** e_entry as written in the file. */
  entry: number;
  /** PT_LOAD segments with a non-zero memory size, in file order. */
  segments: ElfSegment[];
}

export function isElf(image: Uint8Array): boolean {
  return image.length >= 4 && get32(image, 0) === ELF_MAGIC;
}

/** Validate an ELF32 i386 executable and list its loadable segments. */
export function parseElf32(image: Uint8Array, what = 'kernel'): Elf32Image {
  if (!isElf(image)) throw new BootError(`${what} is not an ELF file (no \\x7fELF magic)`);
  if (image.length < EHDR_SIZE) throw new BootError(`${what} ELF file is truncated: ${image.length} bytes, shorter than an ELF header`);
  const cls = get8(image, 4);
  if (cls === ELFCLASS64) {
    throw new BootError(`${what} is a 64-bit ELF (an x86-64 vmlinux?); only 32-bit ELF kernels load directly: boot its bzImage instead`);
  }
  if (cls !== ELFCLASS32) throw new BootError(`${what} ELF file has unknown class ${cls}`);
  if (get8(image, 5) !== ELFDATA2LSB) throw new BootError(`${what} ELF file is big-endian; x86 kernels are little-endian`);
  const machine = get16(image, 18);
  if (machine !== EM_386) {
    throw new BootError(`${what} is an ELF for ${MACHINES[machine] ?? `machine ${machine}`}, not i386`);
  }
  const type = get16(image, 16);
  if (type !== ET_EXEC) throw new BootError(`${what} ELF type is ${type}, not an executable (ET_EXEC)`);
  const entry = get32(image, 24);
  const phoff = get32(image, 28);
  const phentsize = get16(image, 42);
  const phnum = get16(image, 44);
  if (phnum === 0) throw new BootError(`${what} ELF file has no program headers`);
  if (phentsize < PHDR_SIZE) throw new BootError(`${what} ELF program header size ${phentsize} is smaller than ${PHDR_SIZE}`);
  if (phoff + phnum * phentsize > image.length) {
    throw new BootError(`${what} ELF file is truncated: program headers end at byte ${phoff + phnum * phentsize}, the file has ${image.length}`);
  }
  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (get32(image, ph) !== PT_LOAD) continue;
    const seg: ElfSegment = {
      index: i,
      offset: get32(image, ph + 4),
      vaddr: get32(image, ph + 8),
      paddr: get32(image, ph + 12),
      filesz: get32(image, ph + 16),
      memsz: get32(image, ph + 20),
    };
    if (seg.memsz === 0) continue;
    if (seg.filesz > seg.memsz) throw new BootError(`${what} ELF segment ${i} has more file bytes (${seg.filesz}) than memory bytes (${seg.memsz})`);
    if (seg.offset + seg.filesz > image.length) {
      throw new BootError(`${what} ELF file is truncated: segment ${i} ends at byte ${seg.offset + seg.filesz}, the file has ${image.length}`);
    }
    segments.push(seg);
  }
  if (segments.length === 0) throw new BootError(`${what} ELF file has no loadable (PT_LOAD) segments`);
  return { entry, segments };
}

/**
 * The physical entry address. An e_entry inside a segment's virtual range is turned
 * into the matching physical address; one inside a physical range (i386 vmlinux
 * stores phys_startup_32) is taken as is.
 */
export function physicalEntry(elf: Elf32Image, what = 'kernel'): number {
  for (const s of elf.segments) {
    if (elf.entry >= s.vaddr && elf.entry - s.vaddr < s.memsz) return (elf.entry - s.vaddr + s.paddr) >>> 0;
  }
  for (const s of elf.segments) {
    if (elf.entry >= s.paddr && elf.entry - s.paddr < s.memsz) return elf.entry;
  }
  throw new BootError(`${what} ELF entry point ${hex(elf.entry)} is outside all of its loadable segments`);
}

/** Check every segment lies in RAM at or above 1 MiB; returns the end of the highest. */
export function checkSegments(elf: Elf32Image, ramSize: number, what = 'kernel'): number {
  let end = 0;
  for (const s of elf.segments) {
    const segEnd = s.paddr + s.memsz;
    if (s.paddr < KERNEL_BASE) {
      throw new BootError(`${what} ELF segment ${s.index} at ${hex(s.paddr)} lies below 1 MiB, where the boot data and BIOS areas are; link it at 0x100000 or above`);
    }
    if (segEnd > ramSize) {
      throw new BootError(`${what} ELF segment ${s.index} at ${hex(s.paddr)}-${hex(segEnd)} is outside the guest's ${ramSize >>> 20} MiB of RAM; give the guest at least ${Math.ceil(segEnd / (1 << 20))} MiB`);
    }
    end = Math.max(end, segEnd);
  }
  return end;
}

/** Copy the segments to their physical addresses and zero their BSS parts. */
export function loadSegments(mem: PhysicalMemory, image: Uint8Array, elf: Elf32Image): void {
  for (const s of elf.segments) {
    putBytes(mem, s.paddr, image.subarray(s.offset, s.offset + s.filesz), `ELF segment ${s.index}`);
    if (s.memsz > s.filesz) fill(mem, s.paddr + s.filesz, s.memsz - s.filesz, 0);
  }
}
