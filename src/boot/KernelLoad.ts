// What the three kernel loaders (bzImage, ELF, multiboot) share: their options, their
// result, the platform tables (ACPI + e820), the command line and initrd placement.

import type { PhysicalMemory } from '../memory/PhysicalMemory.js';
import { writeAcpiTables, type AcpiOptions, type AcpiTables } from './Acpi.js';
import type { Flat32Entry } from './BootEntry.js';
import { BootError, hex, size } from './BootError.js';
import { buildE820, type E820Entry } from './E820.js';
import { alignDown, alignUp, cString, putBytes } from './GuestBytes.js';
import { CMDLINE_BASE, CMDLINE_MAX, INITRD_ABSOLUTE_MAX, INITRD_TOP_MARGIN } from './Layout.js';

export interface KernelOptions {
  /** Kernel command line (default empty). */
  cmdline?: string;
  /** Initial ramdisk (Linux) or module 0 (multiboot). Empty means none. */
  initrd?: Uint8Array;
  /** Multiboot only: the string of module 0 (default "initrd"). */
  initrdName?: string;
  /** Build ACPI tables (default true); an object passes options to them. */
  acpi?: boolean | AcpiOptions;
  /**
   * The vCPU implements long mode. Without it an x86-64 kernel is refused: its 32-bit
   * entry would only stop in a HLT loop when it finds no long mode.
   */
  longMode?: boolean;
}

export type KernelFormat = 'bzImage' | 'elf' | 'multiboot';

export interface LoadedKernel {
  format: KernelFormat;
  entry: Flat32Entry;
  /** The memory map given to the guest. */
  e820: E820Entry[];
  acpi: AcpiTables | null;
  /** Memory the kernel occupies or claims while it starts (bzImage: up to the end of its decompression buffer). */
  kernel: { base: number; end: number };
  initrd: { addr: number; size: number } | null;
  /** Command line address and length including the NUL. */
  cmdline: { addr: number; size: number };
  /** Address of boot_params (Linux, ELF) or the multiboot information structure. */
  bootInfo: number;
  /** bzImage: the boot protocol version, e.g. 0x020f. */
  protocol?: number;
  /** The kernel is x86-64 (bzImage with XLF_KERNEL_64). */
  is64Bit?: boolean;
  /** Things the user may want to know that did not stop the boot. */
  warnings: string[];
}

/** Write the ACPI tables (unless disabled) and build the e820 map around them. */
export function setupPlatform(mem: PhysicalMemory, opts: KernelOptions): { acpi: AcpiTables | null; e820: E820Entry[] } {
  // Check RAM before writing anything.
  buildE820(mem.ramSize);
  const acpi = opts.acpi === false ? null : writeAcpiTables(mem, opts.acpi === true || opts.acpi === undefined ? {} : opts.acpi);
  const e820 = buildE820(mem.ramSize, acpi === null ? {} : { acpi: { base: acpi.base, size: acpi.size } });
  return { acpi, e820 };
}

/**
 * The command line as NUL-terminated bytes, checked against `max`, the longest the
 * kernel accepts without the NUL (Linux cmdline_size).
 */
export function cmdlineBytes(cmdline: string, max: number): Uint8Array {
  const bytes = cString(cmdline, 'kernel command line');
  const len = bytes.length - 1;
  if (len > max) {
    throw new BootError(`kernel command line is ${len} bytes; this kernel accepts at most ${max}`);
  }
  if (bytes.length > CMDLINE_MAX) {
    throw new BootError(`kernel command line is ${len} bytes; typevisor passes at most ${CMDLINE_MAX - 1}`);
  }
  return bytes;
}

/** Write command line bytes from cmdlineBytes at CMDLINE_BASE. */
export function writeCmdline(mem: PhysicalMemory, bytes: Uint8Array): { addr: number; size: number } {
  putBytes(mem, CMDLINE_BASE, bytes, 'command line');
  return { addr: CMDLINE_BASE, size: bytes.length };
}

/**
 * The least guest RAM in which a kernel claiming memory up to `kernelEnd` and an initrd
 * of `initrdSize` bytes (0: none) both fit, the initrd placed as initrdAddress places it.
 */
export function ramNeeded(kernelEnd: number, initrdSize: number): number {
  if (initrdSize === 0) return kernelEnd;
  return alignUp(kernelEnd, 0x1000) + alignUp(initrdSize, 0x1000) + INITRD_TOP_MARGIN;
}

/**
 * Where the initrd goes: page-aligned and as high as allowed, its last byte at or
 * below min(maxAddr, INITRD_ABSOLUTE_MAX, RAM end - INITRD_TOP_MARGIN - 1), its start
 * at or above `kernelEnd`. Throws when there is no such place.
 */
export function initrdAddress(ramSize: number, initrdSize: number, kernelEnd: number, maxAddr: number): number {
  const ramLimit = ramSize - INITRD_TOP_MARGIN - 1;
  const limit = Math.min(maxAddr, INITRD_ABSOLUTE_MAX, ramLimit);
  const addr = alignDown(limit + 1 - initrdSize, 0x1000);
  const floor = alignUp(kernelEnd, 0x1000);
  if (addr < floor) {
    const need = ramNeeded(kernelEnd, initrdSize);
    if (limit < ramLimit) {
      throw new BootError(`initrd of ${size(initrdSize)} does not fit between the kernel (ends at ${hex(floor)}) and the highest address this kernel accepts for it (${hex(limit)}); use a smaller initrd`);
    }
    throw new BootError(`kernel and initrd (${size(initrdSize)}) do not fit in ${size(ramSize)} of guest RAM; give the guest at least ${Math.ceil(need / (1 << 20))} MiB`);
  }
  return addr;
}
