// The PC memory map as the BIOS INT 15h/E820 call reports it (ACPI 6.x §15, "System
// Address Map Interfaces"). One list, written into Linux boot_params and the multiboot
// memory map alike.

import { BootError, hex, size } from './BootError.js';
import { BIOS_AREA_BASE, BIOS_AREA_END, EBDA_BASE, KERNEL_BASE, LOW_RAM_END } from './Layout.js';

export const E820_RAM = 1;
export const E820_RESERVED = 2;
export const E820_ACPI = 3;
export const E820_NVS = 4;

export interface E820Entry {
  addr: number;
  size: number;
  type: number;
}

export interface E820Options {
  /** Region holding the ACPI tables, inside 0xE0000-0xFFFFF; reported as type 3. */
  acpi?: { base: number; size: number };
}

/** Smallest guest that has any RAM above 1 MiB to load a kernel into. */
export const MIN_RAM = KERNEL_BASE + 0x100000;

/**
 * usable 0 - 0x9FC00, reserved EBDA 0x9FC00 - 0xA0000, (hole for VGA and option
 * ROMs), reserved 0xE0000 - 0x100000 with the ACPI table region as type 3, usable
 * 0x100000 - end of RAM.
 */
export function buildE820(ramSize: number, opts: E820Options = {}): E820Entry[] {
  if (ramSize < MIN_RAM) {
    throw new BootError(`guest RAM of ${size(ramSize)} is too small to boot a kernel; give it at least ${size(MIN_RAM)}`);
  }
  const map: E820Entry[] = [
    { addr: 0, size: EBDA_BASE, type: E820_RAM },
    { addr: EBDA_BASE, size: LOW_RAM_END - EBDA_BASE, type: E820_RESERVED },
  ];
  const acpi = opts.acpi;
  if (acpi !== undefined && acpi.size > 0) {
    const end = acpi.base + acpi.size;
    if (acpi.base < BIOS_AREA_BASE || end > BIOS_AREA_END) {
      throw new BootError(`ACPI region ${hex(acpi.base)}-${hex(end)} is outside the BIOS area 0xe0000-0x100000`);
    }
    if (acpi.base > BIOS_AREA_BASE) map.push({ addr: BIOS_AREA_BASE, size: acpi.base - BIOS_AREA_BASE, type: E820_RESERVED });
    map.push({ addr: acpi.base, size: acpi.size, type: E820_ACPI });
    if (end < BIOS_AREA_END) map.push({ addr: end, size: BIOS_AREA_END - end, type: E820_RESERVED });
  } else {
    map.push({ addr: BIOS_AREA_BASE, size: BIOS_AREA_END - BIOS_AREA_BASE, type: E820_RESERVED });
  }
  map.push({ addr: KERNEL_BASE, size: ramSize - KERNEL_BASE, type: E820_RAM });
  return map;
}

/** End of the RAM entry that starts at 1 MiB (the "upper memory" of multiboot). */
export function upperMemoryEnd(map: readonly E820Entry[]): number {
  const e = map.find((m) => m.type === E820_RAM && m.addr === KERNEL_BASE);
  return e === undefined ? KERNEL_BASE : e.addr + e.size;
}

export function e820TypeName(type: number): string {
  switch (type) {
    case E820_RAM: return 'usable';
    case E820_RESERVED: return 'reserved';
    case E820_ACPI: return 'ACPI data';
    case E820_NVS: return 'ACPI NVS';
    default: return `type ${type}`;
  }
}
