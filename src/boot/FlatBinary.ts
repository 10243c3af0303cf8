// A flat real-mode program (a boot sector or a CPU test), copied to segment:offset and
// started there in real mode. No BIOS services exist unless firmware is also mapped.

import type { PhysicalMemory } from '../memory/PhysicalMemory.js';
import { zeroRegs, type RealEntry } from './BootEntry.js';
import { BootError, hex } from './BootError.js';
import { putBytes } from './GuestBytes.js';

export interface FlatBinaryOptions {
  /** Code segment (default 0). */
  segment?: number;
  /** Offset in the segment (default 0x7C00, where a BIOS puts a boot sector). */
  offset?: number;
  /** Initial SP in segment 0 (SS = 0); default just below the program. */
  sp?: number;
}

export function loadFlatBinary(mem: PhysicalMemory, program: Uint8Array, opts: FlatBinaryOptions = {}): RealEntry {
  const seg = opts.segment ?? 0;
  const off = opts.offset ?? 0x7c00;
  if (seg < 0 || seg > 0xffff || off < 0 || off > 0xffff) throw new BootError(`real-mode address ${hex(seg)}:${hex(off)} is not a 16-bit segment:offset`);
  const addr = seg * 16 + off;
  if (program.length === 0) throw new BootError('flat binary is empty');
  if (addr + program.length > 0xa0000) {
    throw new BootError(`flat binary of ${program.length} bytes at ${hex(addr)} runs past 0x9FFFF, the end of conventional memory`);
  }
  putBytes(mem, addr, program, 'flat binary');
  const sp = opts.sp ?? Math.min(addr, 0xfffe);
  // DL = 0x80: the boot drive, as a BIOS passes it to a boot sector.
  return { kind: 'real', cs: seg, ip: off, ss: 0, sp, ds: 0, es: 0, regs: { ...zeroRegs(), edx: 0x80, esp: sp } };
}
