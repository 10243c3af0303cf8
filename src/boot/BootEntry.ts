// How the CPU must start after a loader has filled guest memory. The machine applies
// one of these to its vCPU (software or KVM); the loaders never touch a CPU.

import type { PhysicalMemory } from '../memory/PhysicalMemory.js';
import { GDT_BASE } from './Layout.js';
import { put32 } from './GuestBytes.js';

export interface GeneralRegs {
  eax: number;
  ebx: number;
  ecx: number;
  edx: number;
  esi: number;
  edi: number;
  ebp: number;
  esp: number;
}

/**
 * 32-bit protected mode, paging off, interrupts off (EFLAGS = 0x2), CR0 = PE (0x1).
 * GDTR = gdtBase/gdtLimit (a real GDT in guest memory, see writeBootGdt).
 * CS = codeSelector with the FLAT_CODE cache; DS, ES, SS, FS, GS = dataSelector with
 * the FLAT_DATA cache. IDTR base 0 limit 0; the kernel loads its own before STI.
 * LDTR and TR null (a KVM backend may need its own TSS, that is its business).
 */
export interface Flat32Entry {
  kind: 'flat32';
  eip: number;
  gdtBase: number;
  gdtLimit: number;
  codeSelector: number;
  dataSelector: number;
  regs: GeneralRegs;
}

/** Power-on state: CS selector 0xF000 with base 0xFFFF0000, IP 0xFFF0 (firmware). */
export interface ResetEntry {
  kind: 'reset';
}

/**
 * Real mode with the given segment registers (base = selector << 4, limit 0xFFFF);
 * FS and GS equal DS. Used for flat test programs and boot sectors.
 */
export interface RealEntry {
  kind: 'real';
  cs: number;
  ip: number;
  ss: number;
  sp: number;
  ds: number;
  es: number;
  regs: GeneralRegs;
}

export type BootEntry = Flat32Entry | ResetEntry | RealEntry;

/** Selectors of the boot GDT: Linux's __BOOT_CS and __BOOT_DS. */
export const BOOT_CS = 0x10;
export const BOOT_DS = 0x18;
export const BOOT_GDT_LIMIT = 4 * 8 - 1;

/** Descriptor halves (low dword, high dword) of the boot GDT entries. */
export const FLAT_CODE_DESCRIPTOR = [0x0000ffff, 0x00cf9b00] as const; // base 0, 4 GiB, G=1 D=1, P DPL0 code exec/read accessed
export const FLAT_DATA_DESCRIPTOR = [0x0000ffff, 0x00cf9300] as const; // base 0, 4 GiB, G=1 B=1, P DPL0 data read/write accessed

/** The hidden (cached) part of a segment register, as a KVM backend loads it. */
export interface SegmentCache {
  base: number;
  limit: number;
  /** Descriptor type nibble: 0xB = code exec/read accessed, 0x3 = data read/write accessed. */
  type: number;
  s: 1;
  dpl: 0;
  present: 1;
  /** D/B bit: 32-bit. */
  db: 1;
  g: 1;
}

export const FLAT_CODE: Readonly<SegmentCache> = { base: 0, limit: 0xffffffff, type: 0xb, s: 1, dpl: 0, present: 1, db: 1, g: 1 };
export const FLAT_DATA: Readonly<SegmentCache> = { base: 0, limit: 0xffffffff, type: 0x3, s: 1, dpl: 0, present: 1, db: 1, g: 1 };

export function zeroRegs(): GeneralRegs {
  return { eax: 0, ebx: 0, ecx: 0, edx: 0, esi: 0, edi: 0, ebp: 0, esp: 0 };
}

/** Write the boot GDT (null, null, flat code at 0x10, flat data at 0x18) at GDT_BASE. */
export function writeBootGdt(mem: PhysicalMemory): { gdtBase: number; gdtLimit: number } {
  put32(mem, GDT_BASE + 0x00, 0);
  put32(mem, GDT_BASE + 0x04, 0);
  put32(mem, GDT_BASE + 0x08, 0);
  put32(mem, GDT_BASE + 0x0c, 0);
  put32(mem, GDT_BASE + BOOT_CS, FLAT_CODE_DESCRIPTOR[0]);
  put32(mem, GDT_BASE + BOOT_CS + 4, FLAT_CODE_DESCRIPTOR[1]);
  put32(mem, GDT_BASE + BOOT_DS, FLAT_DATA_DESCRIPTOR[0]);
  put32(mem, GDT_BASE + BOOT_DS + 4, FLAT_DATA_DESCRIPTOR[1]);
  return { gdtBase: GDT_BASE, gdtLimit: BOOT_GDT_LIMIT };
}

/** Write the boot GDT and return a flat32 entry at `eip` with the given registers set. */
export function flat32Entry(mem: PhysicalMemory, eip: number, regs: Partial<GeneralRegs>): Flat32Entry {
  const gdt = writeBootGdt(mem);
  return {
    kind: 'flat32',
    eip: eip >>> 0,
    gdtBase: gdt.gdtBase,
    gdtLimit: gdt.gdtLimit,
    codeSelector: BOOT_CS,
    dataSelector: BOOT_DS,
    regs: { ...zeroRegs(), ...regs },
  };
}
