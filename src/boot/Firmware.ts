// A PC BIOS image (--bios FILE, e.g. SeaBIOS bios.bin) mapped as on a PC: the whole
// image just below 4 GiB, its last 128 KiB also at 0xE0000-0xFFFFF, and the CPU
// started at the reset vector F000:FFF0 (physical 0xFFFFFFF0).

import type { PhysicalMemory } from '../memory/PhysicalMemory.js';
import type { ResetEntry } from './BootEntry.js';
import { BootError, size } from './BootError.js';
import { BIOS_AREA_END } from './Layout.js';

export const FIRMWARE_MIN = 64 * 1024;
export const FIRMWARE_MAX = 16 * 1024 * 1024;
export const FIRMWARE_GRANULE = 64 * 1024;
/** How much of the image's end appears below 1 MiB. */
export const FIRMWARE_LOW_MAX = 128 * 1024;
const FOUR_GIB = 0x100000000;

export interface RomMapping {
  base: number;
  data: Uint8Array;
  name: string;
}

export interface FirmwareLayout {
  /** Low copy first (0xE0000 or 0xF0000 .. 0xFFFFF), then the whole image at 4 GiB - size. */
  roms: RomMapping[];
  entry: ResetEntry;
}

export interface FirmwareOptions {
  /**
   * Map the low copy as ordinary RAM (writable), as if the chipset's shadow RAM were
   * already unlocked. For machines without PAM registers: SeaBIOS writes its data
   * into the F segment.
   */
  writableLowCopy?: boolean;
}

/** Validate a firmware image and say where it goes. */
export function planFirmware(image: Uint8Array): FirmwareLayout {
  const n = image.length;
  if (n < FIRMWARE_MIN || n > FIRMWARE_MAX) {
    throw new BootError(`firmware image is ${size(n)}; a BIOS image must be between 64 KiB and 16 MiB`);
  }
  if (n % FIRMWARE_GRANULE !== 0) {
    throw new BootError(`firmware image is ${n} bytes, not a multiple of 64 KiB: is it a BIOS ROM image (e.g. SeaBIOS bios.bin)?`);
  }
  const low = Math.min(n, FIRMWARE_LOW_MAX);
  return {
    roms: [
      { base: BIOS_AREA_END - low, data: image.subarray(n - low), name: 'bios-low' },
      { base: FOUR_GIB - n, data: image, name: 'bios' },
    ],
    entry: { kind: 'reset' },
  };
}

/** Map the firmware into guest memory with PhysicalMemory.addRom. */
export function loadFirmware(mem: PhysicalMemory, image: Uint8Array, opts: FirmwareOptions = {}): FirmwareLayout {
  const layout = planFirmware(image);
  for (const r of layout.roms) {
    if (opts.writableLowCopy === true && r.name === 'bios-low') {
      if (r.base + r.data.length > mem.ramSize) {
        throw new BootError(`guest RAM of ${size(mem.ramSize)} does not reach 1 MiB, so the BIOS cannot be shadowed in RAM`);
      }
      mem.load(r.base, r.data);
      continue;
    }
    mem.addRom(r.base, r.data, r.name);
  }
  return layout;
}
