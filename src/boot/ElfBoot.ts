// An uncompressed 32-bit Linux vmlinux (ELF, i386): segments at their physical
// addresses, entry startup_32 with ESI = boot_params as in the 32-bit boot protocol
// (Documentation/arch/x86/boot.rst). The setup header is made up, since vmlinux has none.

import type { PhysicalMemory } from '../memory/PhysicalMemory.js';
import { flat32Entry } from './BootEntry.js';
import { checkSegments, loadSegments, parseElf32, physicalEntry } from './Elf32.js';
import { cmdlineBytes, initrdAddress, setupPlatform, writeCmdline, type KernelOptions, type LoadedKernel } from './KernelLoad.js';
import { putBytes } from './GuestBytes.js';
import { DEFAULT_INITRD_ADDR_MAX, writeBootParams } from './LinuxBoot.js';

/** COMMAND_LINE_SIZE of i386 Linux minus the NUL; vmlinux does not say its own. */
export const ELF_CMDLINE_MAX = 2047;

export function loadElfKernel(mem: PhysicalMemory, image: Uint8Array, opts: KernelOptions = {}): LoadedKernel {
  const elf = parseElf32(image);
  const entry = physicalEntry(elf);
  const kernelEnd = checkSegments(elf, mem.ramSize);
  const kernelBase = Math.min(...elf.segments.map((s) => s.paddr));
  const clBytes = cmdlineBytes(opts.cmdline ?? '', ELF_CMDLINE_MAX);
  const rd = opts.initrd !== undefined && opts.initrd.length > 0 ? opts.initrd : null;
  const rdAddr = rd === null ? 0 : initrdAddress(mem.ramSize, rd.length, kernelEnd, DEFAULT_INITRD_ADDR_MAX);

  const { acpi, e820 } = setupPlatform(mem, opts);
  const cl = writeCmdline(mem, clBytes);
  loadSegments(mem, image, elf);
  let initrd: { addr: number; size: number } | null = null;
  if (rd !== null) {
    putBytes(mem, rdAddr, rd, 'initrd');
    initrd = { addr: rdAddr, size: rd.length };
  }
  const zp = writeBootParams(mem, {
    header: null, code32Start: entry, cmdline: cl, initrd, e820, rsdp: acpi?.rsdp ?? null, cmdlineMax: ELF_CMDLINE_MAX,
  });
  return {
    format: 'elf',
    entry: flat32Entry(mem, entry, { esi: zp }),
    e820, acpi,
    kernel: { base: kernelBase, end: kernelEnd },
    initrd, cmdline: cl, bootInfo: zp,
    warnings: [],
  };
}
