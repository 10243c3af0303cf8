// Minimal ACPI tables for a PC, ACPI 6.x §5.2: RSDP (rev 2), RSDT, XSDT, FADT (rev 6),
// FACS, HPET (IA-PC HPET spec §3.2.4), MADT (§5.2.12: the local APIC, the I/O APIC with
// GSIs 0-23, the overrides ISA IRQ0 → GSI2 and IRQ9 (SCI) level/active-high, LINT1 as
// NMI) and a DSDT with \_S5 and the PCI root bridge \_SB.PCI0
// (§6.1, §6.2.13 _PRT, §6.4 _CRS), and one \_SB.Vnnn device per virtio-mmio window
// (_HID "LNRO0005", the ID Linux's virtio_mmio driver matches, as QEMU's microvm and
// Firecracker ≥1.8 describe theirs), so kernels built without
// CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES find them. Interrupts are given as ISA IRQ numbers,
// which are also the GSIs (I/O APIC pins) but for IRQ0: a kernel without APIC support
// (or a machine without the MADT) uses the 8259 PIC with the same numbers.

import type { PhysicalMemory } from '../memory/PhysicalMemory.js';
import { BootError } from './BootError.js';
import { putBytes } from './GuestBytes.js';
import {
  device, dwordAddressSpace, eisaId, extendedInterrupt, integer, INT_CONSUMER, INT_SHARED, ioPort, IO_ENTIRE_RANGE,
  memory32Fixed, MEM_RW_NONCACHEABLE, method, name, pkg, RES_BUS, RES_IO, RES_MEMORY, resourceTemplate, ret, scope,
  string, wordAddressSpace, type Aml,
} from './aml.js';
import { BIOS_AREA_BASE } from './Layout.js';
import { HPET_BASE, hpetBlockId } from '../devices/Hpet.js';
import { LAPIC_BASE } from '../devices/LocalApic.js';
import { IOAPIC_BASE, IOAPIC_ID } from '../devices/IoApic.js';

/** The ACPI tables live in the first page of the BIOS area (RSDP at its start). */
export const ACPI_BASE = BIOS_AREA_BASE;
export const ACPI_SIZE = 0x1000;

// Fixed hardware the FADT promises; the PM device and the reset port must answer here.
export const ACPI_SCI_IRQ = 9;
export const ACPI_PM1A_EVT_BLK = 0x600; // PM1 status (2 bytes) + enable (2 bytes)
export const ACPI_PM1_EVT_LEN = 4;
export const ACPI_PM1A_CNT_BLK = 0x604; // PM1 control: SCI_EN bit 0, SLP_TYP bits 10-12, SLP_EN bit 13
export const ACPI_PM1_CNT_LEN = 2;
export const ACPI_PM_TMR_BLK = 0x608; // 24-bit 3.579545 MHz timer
export const ACPI_PM_TMR_LEN = 4;
export const ACPI_RESET_PORT = 0xcf9;
export const ACPI_RESET_VALUE = 0x06;
/** SLP_TYP that \_S5 names; writing it with SLP_EN to PM1a_CNT means power off. */
export const ACPI_S5_SLP_TYP = 5;

// Offsets of each table inside the ACPI page.
const RSDP_OFF = 0x000;
const RSDT_OFF = 0x040;
const XSDT_OFF = 0x080;
const FACS_OFF = 0x0c0; // 64-byte aligned, as FACS must be
const FADT_OFF = 0x100;
const HPET_OFF = 0x218; // right after the FADT (which ends at 0x214)
const DSDT_OFF = 0x250;

const SDT_HEADER_LEN = 36;
const FADT_LEN = 276; // FADT revision 6 (ACPI 6.0 and later)
const FACS_LEN = 64;
const RSDP_LEN = 36;

const OEM_ID = 'TYPEVM';
const OEM_TABLE_ID = 'TYPEVISR';
const CREATOR_ID = 'TVMM';

// FADT Flags (ACPI 6.x Table 5.10)
export const FADT_F_WBINVD = 1 << 0;
export const FADT_F_PROC_C1 = 1 << 2;
export const FADT_F_PWR_BUTTON = 1 << 4; // 1: no fixed-feature power button
export const FADT_F_SLP_BUTTON = 1 << 5; // 1: no fixed-feature sleep button
export const FADT_F_FIX_RTC = 1 << 6; // 1: RTC wake status not in fixed registers
export const FADT_F_RESET_REG_SUP = 1 << 10;
// IA-PC Boot Architecture Flags (ACPI 6.x Table 5.11)
export const BOOT_ARCH_LEGACY_DEVICES = 1 << 0;
export const BOOT_ARCH_8042 = 1 << 1;
export const BOOT_ARCH_VGA_NOT_PRESENT = 1 << 2;

/**
 * AML of the DSDT body: Name (\_S5, Package () { 5, 5, 0, 0 })
 *   08            NameOp
 *   5C 5F 53 35 5F  "\_S5_" (root prefix, one name segment)
 *   12            PackageOp
 *   08            PkgLength: 8 bytes from here to the end of the package
 *   04            NumElements
 *   0A 05  0A 05  BytePrefix 5, BytePrefix 5 (SLP_TYPa, SLP_TYPb)
 *   00  00        ZeroOp, ZeroOp (reserved)
 */
export const S5_AML = Uint8Array.of(
  0x08, 0x5c, 0x5f, 0x53, 0x35, 0x5f,
  0x12, 0x08, 0x04, 0x0a, ACPI_S5_SLP_TYP, 0x0a, ACPI_S5_SLP_TYP, 0x00, 0x00,
);

/**
 * ISA IRQs the PIIX3 routes PIRQA-D# to at power-on (PciHost's default, which firmware
 * would program and Linux leaves alone when ACPI routes PCI interrupts).
 */
export const ACPI_PCI_PIRQ_IRQS: readonly number[] = [10, 10, 11, 11];
/**
 * The 32-bit PCI memory window PCI0 decodes for BARs: above the largest RAM (3 GiB) and
 * the virtio-mmio windows (0xD0000000 up), below the IOAPIC/BIOS area, as on QEMU's i440FX.
 */
export const PCI_MMIO_WINDOW_BASE = 0xe0000000;
export const PCI_MMIO_WINDOW_END = 0xfebfffff;

export interface AcpiOptions {
  /** Set when the machine has a VGA adapter; otherwise the FADT says VGA is not present. */
  vga?: boolean;
  /** PIRQA-D# → ISA IRQ as the PIIX3 routes them (default ACPI_PCI_PIRQ_IRQS). */
  pirqIrqs?: readonly number[];
  /** virtio-mmio windows to describe as LNRO0005 devices, in device order. */
  virtioMmio?: readonly AcpiVirtioMmio[];
  /** The HPET the platform has at HPET_BASE (default); false leaves its table out. */
  hpet?: boolean;
  /** The local APIC and I/O APIC the platform has (default); false leaves the MADT out. */
  apic?: boolean;
}

/** One virtio-mmio window: its registers and its ISA interrupt line. */
export interface AcpiVirtioMmio {
  base: number;
  size: number;
  irq: number;
  /** The line is wired-OR with other devices' (more devices than lines). */
  shared?: boolean;
}

/** The ACPI/PNP ID Linux's virtio_mmio driver binds to (drivers/virtio/virtio_mmio.c). */
export const VIRTIO_MMIO_HID = 'LNRO0005';

/**
 * Scope (\_SB) { Device (Vnnn) { _HID "LNRO0005", _UID n, _CRS { Memory32Fixed (window),
 * Interrupt (level, active-high) { irq } } } } for each window. Level and active-high is
 * how the device drives the 8259 input (high while its interrupt status is non-zero);
 * Linux in PIC mode then marks the line level-triggered in the ELCR (§6.4.3.6).
 */
export function virtioMmioAml(windows: readonly AcpiVirtioMmio[]): Aml {
  if (windows.length === 0) return [];
  if (windows.length > 0x1000) throw new RangeError('at most 4096 virtio-mmio devices can be named in the DSDT');
  return scope('\\_SB', ...windows.map((w, i) => device(`V${i.toString(16).toUpperCase().padStart(3, '0')}`,
    name('_HID', string(VIRTIO_MMIO_HID)),
    name('_UID', integer(i)),
    name('_CRS', resourceTemplate(
      memory32Fixed(true, w.base, w.size),
      extendedInterrupt(INT_CONSUMER | (w.shared === true ? INT_SHARED : 0), [w.irq]),
    )),
  )));
}

/**
 * _PRT of bus 0 (§6.2.13): for every slot and INTA-D#, Package { slot << 16 | 0xFFFF, pin,
 * 0, IRQ } — a fixed interrupt (no link device) that Linux treats as level, active low
 * and marks level-triggered in the ELCR. Slot/pin → PIRQ is the PIIX3 swizzle PciHost
 * uses: PIRQ = (slot + pin - 1) & 3 with pin 0-3 = INTA-D#.
 */
export function pciRoutingTable(pirqIrqs: readonly number[] = ACPI_PCI_PIRQ_IRQS): Aml {
  const entries: Aml[] = [];
  for (let slot = 0; slot < 32; slot++) {
    for (let pin = 0; pin < 4; pin++) {
      const irq = pirqIrqs[(slot + pin - 1) & 3] ?? 0;
      entries.push(pkg(integer(((slot << 16) | 0xffff) >>> 0), integer(pin), integer(0), integer(irq)));
    }
  }
  return pkg(...entries);
}

/**
 * Device (\_SB.PCI0): the i440FX host bridge (PNP0A03) with bus 0-255, all I/O ports but
 * the configuration ports 0xCF8-0xCFF (which it consumes), the PCI memory window, and
 * the interrupt routing of its slots.
 */
export function pciRootBridgeAml(opts: AcpiOptions = {}): Aml {
  return scope('\\_SB', device('PCI0',
    name('_HID', eisaId('PNP0A03')),
    name('_UID', integer(0)),
    name('_CRS', resourceTemplate(
      wordAddressSpace(RES_BUS, 0, 0x00, 0xff),
      ioPort(0xcf8, 0xcf8, 1, 8),
      wordAddressSpace(RES_IO, IO_ENTIRE_RANGE, 0x0000, 0x0cf7),
      wordAddressSpace(RES_IO, IO_ENTIRE_RANGE, 0x0d00, 0xffff),
      dwordAddressSpace(RES_MEMORY, MEM_RW_NONCACHEABLE, PCI_MMIO_WINDOW_BASE, PCI_MMIO_WINDOW_END),
    )),
    // A method, not a named package: its body is parsed only when Linux asks for a
    // device's routing, so a guest without PCI devices that have interrupt pins (the
    // virtio-mmio default) does not pay ~1M guest instructions to load 128 packages.
    method('_PRT', 0, ret(pciRoutingTable(opts.pirqIrqs))),
  ));
}

/** Physical addresses of what writeAcpiTables put into guest memory. */
export interface AcpiTables {
  /** The region the tables occupy (for the e820 map). */
  base: number;
  size: number;
  rsdp: number;
  rsdt: number;
  xsdt: number;
  fadt: number;
  facs: number;
  dsdt: number;
  /** The HPET table, or null when left out. */
  hpet: number | null;
  /** The MADT ("APIC"), or null when left out. */
  madt: number | null;
}

/** Sum of the bytes mod 256; a table is valid when the sum over it is 0. */
export function acpiSum(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let s = 0;
  for (let i = start; i < end; i++) s = (s + bytes[i]!) & 0xff;
  return s;
}

class TableWriter {
  readonly u8: Uint8Array;
  private readonly dv: DataView;
  constructor(len: number) {
    this.u8 = new Uint8Array(len);
    this.dv = new DataView(this.u8.buffer);
  }
  u8At(off: number, v: number): void { this.dv.setUint8(off, v); }
  u16(off: number, v: number): void { this.dv.setUint16(off, v, true); }
  u32(off: number, v: number): void { this.dv.setUint32(off, v >>> 0, true); }
  u64(off: number, v: number): void {
    this.dv.setUint32(off, v % 0x100000000, true);
    this.dv.setUint32(off + 4, Math.floor(v / 0x100000000), true);
  }
  ascii(off: number, s: string, len: number): void {
    for (let i = 0; i < len; i++) this.u8[off + i] = i < s.length ? s.charCodeAt(i) : 0x20;
  }
  /** Generic Address Structure (ACPI 6.x §5.2.3.2). */
  gas(off: number, spaceId: number, bitWidth: number, bitOffset: number, accessSize: number, address: number): void {
    this.u8At(off, spaceId);
    this.u8At(off + 1, bitWidth);
    this.u8At(off + 2, bitOffset);
    this.u8At(off + 3, accessSize);
    this.u64(off + 4, address);
  }
  /** Standard 36-byte description header; the checksum is filled by finish(). */
  header(off: number, signature: string, length: number, revision: number): void {
    this.ascii(off, signature, 4);
    this.u32(off + 4, length);
    this.u8At(off + 8, revision);
    this.u8At(off + 9, 0);
    this.ascii(off + 10, OEM_ID, 6);
    this.ascii(off + 16, OEM_TABLE_ID, 8);
    this.u32(off + 24, 1); // OEM revision
    this.ascii(off + 28, CREATOR_ID, 4);
    this.u32(off + 32, 1); // creator revision
  }
  /** Set the checksum byte at `sumOff` so bytes [off, off+len) sum to zero. */
  checksum(off: number, len: number, sumOff: number): void {
    this.u8[sumOff] = 0;
    this.u8[sumOff] = (0x100 - acpiSum(this.u8, off, off + len)) & 0xff;
  }
}

const SPACE_SYSTEM_IO = 1;
const ACCESS_BYTE = 1;
const ACCESS_WORD = 2;
const ACCESS_DWORD = 3;

const HPET_TABLE_LEN = 56;
const SPACE_SYSTEM_MEMORY = 0;

/**
 * The "HPET" table (IA-PC HPET spec rev 1.0a §3.2.4): Event Timer Block ID (the low dword
 * of the block's capabilities), its base address as a GAS in system memory, HPET number 0,
 * the minimum tick Linux also uses for periodic mode (128), no page protection.
 */
function writeHpetTable(t: TableWriter, off: number): void {
  t.header(off, 'HPET', HPET_TABLE_LEN, 1);
  t.u32(off + 36, hpetBlockId());
  t.gas(off + 40, SPACE_SYSTEM_MEMORY, 64, 0, 0, HPET_BASE);
  t.u8At(off + 52, 0); // HPET number
  t.u16(off + 53, 128); // main counter minimum clock tick in periodic mode
  t.u8At(off + 55, 0); // page protection and OEM attribute
  t.checksum(off, HPET_TABLE_LEN, off + 9);
}

/** MADT flags: PCAT_COMPAT, the machine also has the dual 8259 (§5.2.12 Table 5.20). */
const MADT_PCAT_COMPAT = 1;
/** MPS INTI flags (§5.2.12.5 Table 5.26): polarity bits 0-1, trigger mode bits 2-3. */
const INTI_ACTIVE_HIGH = 1;
const INTI_EDGE = 1 << 2;
const INTI_LEVEL = 3 << 2;
const MADT_LEN = SDT_HEADER_LEN + 8 + 8 + 12 + 10 + 10 + 6;

/**
 * The MADT: processor 0's local APIC (ID 0, enabled), the I/O APIC (GSI base 0), the
 * overrides the platform wires (ISA IRQ0 → GSI 2 edge; the SCI, IRQ 9, level and
 * active-high as the FADT's SCI_INT and the PM device drive it) and LINT1 as NMI.
 */
function writeMadt(t: TableWriter, off: number): void {
  t.header(off, 'APIC', MADT_LEN, 4); // revision 4: ACPI 6.0
  t.u32(off + 36, LAPIC_BASE);
  t.u32(off + 40, MADT_PCAT_COMPAT);
  let e = off + 44;
  // Processor Local APIC (type 0): ACPI processor UID, APIC ID, flags (enabled).
  t.u8At(e, 0); t.u8At(e + 1, 8); t.u8At(e + 2, 0); t.u8At(e + 3, 0); t.u32(e + 4, 1);
  e += 8;
  // I/O APIC (type 1): ID, reserved, address, global system interrupt base.
  t.u8At(e, 1); t.u8At(e + 1, 12); t.u8At(e + 2, IOAPIC_ID); t.u8At(e + 3, 0); t.u32(e + 4, IOAPIC_BASE); t.u32(e + 8, 0);
  e += 12;
  // Interrupt Source Overrides (type 2): bus 0 (ISA), source IRQ, GSI, flags.
  for (const [irq, gsi, flags] of [[0, 2, INTI_ACTIVE_HIGH | INTI_EDGE], [ACPI_SCI_IRQ, ACPI_SCI_IRQ, INTI_ACTIVE_HIGH | INTI_LEVEL]] as const) {
    t.u8At(e, 2); t.u8At(e + 1, 10); t.u8At(e + 2, 0); t.u8At(e + 3, irq); t.u32(e + 4, gsi); t.u16(e + 8, flags);
    e += 10;
  }
  // Local APIC NMI (type 4): every processor (UID 0xFF), edge/active-high, LINT1.
  t.u8At(e, 4); t.u8At(e + 1, 6); t.u8At(e + 2, 0xff); t.u16(e + 3, INTI_ACTIVE_HIGH | INTI_EDGE); t.u8At(e + 5, 1);
  t.checksum(off, MADT_LEN, off + 9);
}

/** Build the tables into the ACPI page at ACPI_BASE. Needs RAM up to 1 MiB. */
export function writeAcpiTables(mem: PhysicalMemory, opts: AcpiOptions = {}): AcpiTables {
  if (mem.ramSize < ACPI_BASE + ACPI_SIZE) {
    throw new BootError(`guest RAM of ${mem.ramSize >>> 10} KiB does not reach the ACPI area at 0xe0000; give it at least 1 MiB`);
  }
  const base = ACPI_BASE;
  const t = new TableWriter(ACPI_SIZE);
  const a = {
    base, size: ACPI_SIZE,
    rsdp: base + RSDP_OFF, rsdt: base + RSDT_OFF, xsdt: base + XSDT_OFF,
    fadt: base + FADT_OFF, facs: base + FACS_OFF, dsdt: base + DSDT_OFF, hpet: null as number | null, madt: null as number | null,
  };

  // DSDT: header, \_S5, \_SB.PCI0, the virtio-mmio devices. Revision 2: integers are 64 bits.
  const body = [...S5_AML, ...pciRootBridgeAml(opts), ...virtioMmioAml(opts.virtioMmio ?? [])];
  const dsdtLen = SDT_HEADER_LEN + body.length;
  // The MADT follows the DSDT (8-byte aligned).
  const madtOff = (DSDT_OFF + dsdtLen + 7) & ~7;
  if ((opts.apic !== false ? madtOff + MADT_LEN : DSDT_OFF + dsdtLen) > ACPI_SIZE) {
    const room = ACPI_SIZE - DSDT_OFF - (opts.apic !== false ? MADT_LEN + 7 : 0);
    throw new BootError(`the DSDT of ${dsdtLen} bytes does not fit the ${room} bytes the ACPI area has for it (${opts.virtioMmio?.length ?? 0} virtio-mmio devices; use fewer, or the PCI transport)`);
  }
  t.header(DSDT_OFF, 'DSDT', dsdtLen, 2);
  t.u8.set(body, DSDT_OFF + SDT_HEADER_LEN);
  t.checksum(DSDT_OFF, dsdtLen, DSDT_OFF + 9);

  // FACS (§5.2.10): no checksum.
  t.ascii(FACS_OFF, 'FACS', 4);
  t.u32(FACS_OFF + 4, FACS_LEN);
  t.u32(FACS_OFF + 8, 0); // hardware signature
  t.u32(FACS_OFF + 12, 0); // firmware waking vector
  t.u32(FACS_OFF + 16, 0); // global lock
  t.u32(FACS_OFF + 20, 0); // flags: no S4BIOS, no 64-bit wake
  t.u64(FACS_OFF + 24, 0); // X firmware waking vector
  t.u8At(FACS_OFF + 32, 2); // version

  // FADT (§5.2.9, Table 5.9), revision 6 / minor 0.
  const f = FADT_OFF;
  t.header(f, 'FACP', FADT_LEN, 6);
  t.u32(f + 36, a.facs); // FIRMWARE_CTRL
  t.u32(f + 40, a.dsdt); // DSDT
  t.u8At(f + 45, 0); // Preferred_PM_Profile: unspecified
  t.u16(f + 46, ACPI_SCI_IRQ); // SCI_INT
  t.u32(f + 48, 0); // SMI_CMD: none, the machine is always in ACPI mode
  t.u32(f + 56, ACPI_PM1A_EVT_BLK);
  t.u32(f + 64, ACPI_PM1A_CNT_BLK);
  t.u32(f + 76, ACPI_PM_TMR_BLK);
  t.u8At(f + 88, ACPI_PM1_EVT_LEN);
  t.u8At(f + 89, ACPI_PM1_CNT_LEN);
  t.u8At(f + 91, ACPI_PM_TMR_LEN);
  t.u16(f + 96, 0x0fff); // P_LVL2_LAT > 100: no C2
  t.u16(f + 98, 0x0fff); // P_LVL3_LAT > 1000: no C3
  t.u8At(f + 108, 0); // CENTURY: no century register in CMOS
  t.u16(f + 109, BOOT_ARCH_LEGACY_DEVICES | BOOT_ARCH_8042 | (opts.vga === true ? 0 : BOOT_ARCH_VGA_NOT_PRESENT));
  t.u32(f + 112, FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_PWR_BUTTON | FADT_F_SLP_BUTTON | FADT_F_FIX_RTC | FADT_F_RESET_REG_SUP);
  t.gas(f + 116, SPACE_SYSTEM_IO, 8, 0, ACCESS_BYTE, ACPI_RESET_PORT); // RESET_REG
  t.u8At(f + 128, ACPI_RESET_VALUE);
  t.u16(f + 129, 0); // ARM_BOOT_ARCH
  t.u8At(f + 131, 0); // FADT minor version
  t.u64(f + 132, a.facs); // X_FIRMWARE_CTRL
  t.u64(f + 140, a.dsdt); // X_DSDT
  t.gas(f + 148, SPACE_SYSTEM_IO, ACPI_PM1_EVT_LEN * 8, 0, ACCESS_WORD, ACPI_PM1A_EVT_BLK); // X_PM1a_EVT_BLK
  t.gas(f + 172, SPACE_SYSTEM_IO, ACPI_PM1_CNT_LEN * 8, 0, ACCESS_WORD, ACPI_PM1A_CNT_BLK); // X_PM1a_CNT_BLK
  t.gas(f + 208, SPACE_SYSTEM_IO, ACPI_PM_TMR_LEN * 8, 0, ACCESS_DWORD, ACPI_PM_TMR_BLK); // X_PM_TMR_BLK
  t.checksum(f, FADT_LEN, f + 9);

  // RSDT (32-bit pointers) and XSDT (64-bit pointers), listing the FADT, HPET and MADT.
  const listed = [a.fadt];
  if (opts.hpet !== false) {
    writeHpetTable(t, HPET_OFF);
    listed.push(a.hpet = base + HPET_OFF);
  }
  if (opts.apic !== false) {
    writeMadt(t, madtOff);
    listed.push(a.madt = base + madtOff);
  }
  t.header(RSDT_OFF, 'RSDT', SDT_HEADER_LEN + 4 * listed.length, 1);
  listed.forEach((addr, i) => t.u32(RSDT_OFF + SDT_HEADER_LEN + 4 * i, addr));
  t.checksum(RSDT_OFF, SDT_HEADER_LEN + 4 * listed.length, RSDT_OFF + 9);
  t.header(XSDT_OFF, 'XSDT', SDT_HEADER_LEN + 8 * listed.length, 1);
  listed.forEach((addr, i) => t.u64(XSDT_OFF + SDT_HEADER_LEN + 8 * i, addr));
  t.checksum(XSDT_OFF, SDT_HEADER_LEN + 8 * listed.length, XSDT_OFF + 9);

  // RSDP (§5.2.5.3), revision 2: checksum over the first 20 bytes, extended over all 36.
  t.ascii(RSDP_OFF, 'RSD PTR ', 8);
  t.ascii(RSDP_OFF + 9, OEM_ID, 6);
  t.u8At(RSDP_OFF + 15, 2);
  t.u32(RSDP_OFF + 16, a.rsdt);
  t.u32(RSDP_OFF + 20, RSDP_LEN);
  t.u64(RSDP_OFF + 24, a.xsdt);
  t.checksum(RSDP_OFF, 20, RSDP_OFF + 8);
  t.checksum(RSDP_OFF, RSDP_LEN, RSDP_OFF + 32);

  putBytes(mem, base, t.u8, 'ACPI tables');
  return a;
}
