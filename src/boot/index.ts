// src/boot: everything that puts a kernel or firmware into guest memory and says how
// the CPU must start. loadKernel is the front door for --kernel.

import type { PhysicalMemory } from '../memory/PhysicalMemory.js';
import { BootError } from './BootError.js';
import { isElf } from './Elf32.js';
import { loadElfKernel } from './ElfBoot.js';
import { get16 } from './GuestBytes.js';
import type { LoadedKernel } from './KernelLoad.js';
import { BOOT_FLAG_MAGIC, HDR_BOOT_FLAG, isBzImage, loadBzImage } from './LinuxBoot.js';
import { badChecksumError, loadMultiboot, scanMultiboot, type MultibootOptions } from './Multiboot.js';

export * from './BootEntry.js';
export * from './BootError.js';
export * from './E820.js';
export * from './Acpi.js';
export * from './KernelLoad.js';
export { loadBzImage, parseBzImage, isBzImage, writeBootParams, type BzImageInfo } from './LinuxBoot.js';
export { loadElfKernel } from './ElfBoot.js';
export { parseElf32, isElf, type Elf32Image, type ElfSegment } from './Elf32.js';
export { loadMultiboot, findMultibootHeader, scanMultiboot, type MultibootOptions, type MultibootModule } from './Multiboot.js';
export { loadFirmware, planFirmware, type FirmwareLayout, type FirmwareOptions, type RomMapping } from './Firmware.js';
export { loadFlatBinary, type FlatBinaryOptions } from './FlatBinary.js';
export * as layout from './Layout.js';

/**
 * Load a kernel image, recognized by its magic: a Linux bzImage ("HdrS" at 0x202),
 * a multiboot kernel (header in the first 8 KiB), or an ELF32 vmlinux. Writes the
 * kernel, command line, initrd, boot information and ACPI tables into `mem`.
 */
export function loadKernel(mem: PhysicalMemory, kernel: Uint8Array, opts: MultibootOptions = {}): LoadedKernel {
  if (kernel.length === 0) throw new BootError('kernel image is empty');
  if (isBzImage(kernel)) return loadBzImage(mem, kernel, opts);
  const mb = scanMultiboot(kernel);
  if (mb.header !== null) return loadMultiboot(mem, kernel, opts);
  if (isElf(kernel)) return loadElfKernel(mem, kernel, opts);
  if (mb.badChecksumAt >= 0) throw badChecksumError(mb.badChecksumAt);
  if (kernel.length >= 0x200 && get16(kernel, HDR_BOOT_FLAG) === BOOT_FLAG_MAGIC) {
    throw new BootError('kernel image has a boot sector signature but no Linux setup header ("HdrS" at 0x202): a boot sector or a pre-2.00 zImage cannot be loaded as a kernel');
  }
  throw new BootError('kernel image is not a Linux bzImage ("HdrS" at 0x202), a multiboot kernel (header 0x1BADB002 in the first 8 KiB) or an ELF file (\\x7fELF)');
}
