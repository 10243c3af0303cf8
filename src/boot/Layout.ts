// Where the loaders put things in guest physical memory (direct kernel boot).
//
//   0x00000 - 0x004ff  real-mode IVT and BIOS data area (left zero)
//   0x00500 - 0x0051f  boot GDT: null, null, 0x10 flat code, 0x18 flat data
//   0x07000 - 0x07fff  Linux boot_params ("zero page")
//   0x09000 - 0x09fff  multiboot information, memory map, module list, strings
//   0x20000 - 0x2ffff  kernel command line (NUL-terminated)
//   0x9fc00 - 0x9ffff  EBDA (reserved in the e820 map, left zero)
//   0xa0000 - 0xdffff  VGA window and option ROM space (a hole in the map)
//   0xe0000 - 0xe0fff  ACPI tables (RSDP first, where Linux scans for it)
//   0xe1000 - 0xfffff  BIOS area (reserved)
//   0x100000 -         kernel (protected-mode part of a bzImage, or ELF/multiboot segments)
//   top of RAM         initrd, page-aligned, as high as the kernel allows

export const GDT_BASE = 0x500;
export const ZERO_PAGE = 0x7000;
export const MULTIBOOT_INFO = 0x9000;
export const CMDLINE_BASE = 0x20000;
/** Room for the command line including its NUL. */
export const CMDLINE_MAX = 0x10000;
export const KERNEL_BASE = 0x100000;

export const EBDA_BASE = 0x9fc00;
export const LOW_RAM_END = 0xa0000;
export const BIOS_AREA_BASE = 0xe0000;
export const BIOS_AREA_END = 0x100000;

/** Bytes kept free at the top of RAM when placing an initrd (like QEMU's room for tables there). */
export const INITRD_TOP_MARGIN = 0x10000;
/** Highest byte an initrd may occupy on any kernel: the i386 lowmem limit (896 MiB). */
export const INITRD_ABSOLUTE_MAX = 0x37ffffff;
