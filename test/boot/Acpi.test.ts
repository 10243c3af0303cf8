import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhysicalMemory } from '../../src/memory/PhysicalMemory.js';
import { BootError } from '../../src/boot/BootError.js';
import { acpiSum, pciRootBridgeAml, writeAcpiTables, ACPI_BASE, ACPI_SIZE, S5_AML } from '../../src/boot/Acpi.js';
import { rd16, rd32, rd64 } from './images.js';

const MiB = 1 << 20;

function sig(mem: PhysicalMemory, addr: number, n = 4): string {
  return String.fromCharCode(...mem.u8.subarray(addr, addr + n));
}

/** What Linux's acpi_find_root_pointer does: scan 0xE0000-0xFFFFF on 16-byte boundaries. */
function scanRsdp(mem: PhysicalMemory): number {
  for (let a = 0xe0000; a < 0x100000; a += 16) {
    if (sig(mem, a, 8) === 'RSD PTR ' && acpiSum(mem.u8, a, a + 20) === 0) return a;
  }
  return -1;
}

function gas(mem: PhysicalMemory, at: number): [number, number, number, number, number] {
  return [mem.u8[at]!, mem.u8[at + 1]!, mem.u8[at + 2]!, mem.u8[at + 3]!, rd64(mem, at + 4)];
}

test('RSDP: found by the BIOS-area scan, revision 2, both checksums', () => {
  const mem = new PhysicalMemory(16 * MiB);
  const t = writeAcpiTables(mem);
  const rsdp = scanRsdp(mem);
  assert.equal(rsdp, t.rsdp);
  assert.equal(rsdp % 16, 0);
  assert.ok(rsdp >= 0xe0000 && rsdp + 36 <= 0x100000);
  assert.equal(acpiSum(mem.u8, rsdp, rsdp + 20), 0, 'checksum over 20 bytes');
  assert.equal(acpiSum(mem.u8, rsdp, rsdp + 36), 0, 'extended checksum over 36 bytes');
  assert.equal(mem.u8[rsdp + 15], 2, 'revision');
  assert.equal(rd32(mem, rsdp + 16), t.rsdt);
  assert.equal(rd32(mem, rsdp + 20), 36, 'length');
  assert.equal(rd64(mem, rsdp + 24), t.xsdt);
  assert.equal(sig(mem, rsdp + 9, 6), 'TYPEVM');
});

test('RSDT and XSDT list the FADT, HPET and MADT; every table checksums to zero over its length', () => {
  const mem = new PhysicalMemory(16 * MiB);
  const t = writeAcpiTables(mem);
  assert.equal(sig(mem, t.rsdt), 'RSDT');
  assert.equal(rd32(mem, t.rsdt + 4), 48);
  assert.equal(rd32(mem, t.rsdt + 36), t.fadt);
  assert.equal(rd32(mem, t.rsdt + 40), t.hpet);
  assert.equal(rd32(mem, t.rsdt + 44), t.madt);
  assert.equal(sig(mem, t.xsdt), 'XSDT');
  assert.equal(rd32(mem, t.xsdt + 4), 60);
  assert.equal(rd64(mem, t.xsdt + 36), t.fadt);
  assert.equal(rd64(mem, t.xsdt + 44), t.hpet);
  assert.equal(rd64(mem, t.xsdt + 52), t.madt);
  // HPET table (IA-PC HPET spec §3.2.4): block ID = GCAP_ID low dword, base in system memory.
  const h = t.hpet!;
  assert.equal(rd32(mem, h + 4), 56);
  assert.equal(rd32(mem, h + 36), 0x8086a201, 'event timer block ID: Intel, legacy capable, 64-bit, 3 timers, rev 1');
  assert.deepEqual(gas(mem, h + 40), [0, 64, 0, 0, 0xfed00000]);
  assert.equal(writeAcpiTables(new PhysicalMemory(16 * MiB), { hpet: false }).hpet, null);
  for (const [addr, s] of [[t.rsdt, 'RSDT'], [t.xsdt, 'XSDT'], [t.fadt, 'FACP'], [t.dsdt, 'DSDT'], [h, 'HPET'], [t.madt!, 'APIC']] as const) {
    assert.equal(sig(mem, addr), s);
    const len = rd32(mem, addr + 4);
    assert.equal(acpiSum(mem.u8, addr, addr + len), 0, `${s} checksum`);
    assert.ok(addr >= t.base && addr + len <= t.base + t.size, `${s} inside the ACPI region`);
  }
  assert.deepEqual([t.base, t.size], [ACPI_BASE, ACPI_SIZE]);
});

test('MADT: the local APIC, the I/O APIC, IRQ0 → GSI 2 and the SCI level/active-high, LINT1 NMI; none with apic: false', () => {
  const mem = new PhysicalMemory(16 * MiB);
  const t = writeAcpiTables(mem);
  const m = t.madt!;
  const len = rd32(mem, m + 4);
  assert.equal(rd32(mem, m + 36), 0xfee00000, 'local APIC address');
  assert.equal(rd32(mem, m + 40), 1, 'PCAT_COMPAT: the 8259s are there too');
  const entries: number[][] = [];
  for (let e = m + 44; e < m + len; e += mem.u8[e + 1]!) entries.push([...mem.u8.subarray(e, e + mem.u8[e + 1]!)]);
  const le32 = (b: number[], i: number): number => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
  assert.deepEqual(entries.map((e) => e[0]), [0, 1, 2, 2, 4]);
  assert.deepEqual(entries[0], [0, 8, 0, 0, 1, 0, 0, 0], 'processor 0, APIC ID 0, enabled');
  assert.deepEqual([entries[1]![2], le32(entries[1]!, 4), le32(entries[1]!, 8)], [1, 0xfec00000, 0], 'I/O APIC 1 at 0xFEC00000, GSI base 0');
  // Interrupt source overrides: bus, IRQ, GSI, flags (polarity bits 0-1, trigger bits 2-3).
  assert.deepEqual([entries[2]![2], entries[2]![3], le32(entries[2]!, 4), entries[2]![8]], [0, 0, 2, 0x5], 'IRQ0 → GSI 2, edge, active high');
  assert.deepEqual([entries[3]![2], entries[3]![3], le32(entries[3]!, 4), entries[3]![8]], [0, 9, 9, 0xd], 'SCI: IRQ9 → GSI 9, level, active high');
  assert.deepEqual(entries[4], [4, 6, 0xff, 5, 0, 1], 'every processor: LINT1 is NMI');
  const without = writeAcpiTables(new PhysicalMemory(16 * MiB), { apic: false });
  assert.equal(without.madt, null);
});

test('FADT fields at their ACPI 6.x offsets', () => {
  const mem = new PhysicalMemory(16 * MiB);
  const t = writeAcpiTables(mem);
  const f = t.fadt;
  assert.equal(rd32(mem, f + 4), 276, 'length');
  assert.equal(mem.u8[f + 8], 6, 'revision');
  assert.equal(rd32(mem, f + 36), t.facs, 'FIRMWARE_CTRL');
  assert.equal(rd32(mem, f + 40), t.dsdt, 'DSDT');
  assert.equal(rd16(mem, f + 46), 9, 'SCI_INT');
  assert.equal(rd32(mem, f + 48), 0, 'SMI_CMD');
  assert.equal(mem.u8[f + 52], 0, 'ACPI_ENABLE');
  assert.equal(mem.u8[f + 53], 0, 'ACPI_DISABLE');
  assert.equal(rd32(mem, f + 56), 0x600, 'PM1a_EVT_BLK');
  assert.equal(rd32(mem, f + 60), 0, 'PM1b_EVT_BLK');
  assert.equal(rd32(mem, f + 64), 0x604, 'PM1a_CNT_BLK');
  assert.equal(rd32(mem, f + 68), 0, 'PM1b_CNT_BLK');
  assert.equal(rd32(mem, f + 76), 0x608, 'PM_TMR_BLK');
  assert.equal(rd32(mem, f + 80), 0, 'GPE0_BLK');
  assert.equal(mem.u8[f + 88], 4, 'PM1_EVT_LEN');
  assert.equal(mem.u8[f + 89], 2, 'PM1_CNT_LEN');
  assert.equal(mem.u8[f + 91], 4, 'PM_TMR_LEN');
  assert.equal(mem.u8[f + 92], 0, 'GPE0_BLK_LEN');
  assert.equal(rd16(mem, f + 109), 0x0007, 'IAPC_BOOT_ARCH: legacy devices, 8042, no VGA');
  const flags = rd32(mem, f + 112);
  assert.equal(flags & (1 << 10), 1 << 10, 'RESET_REG_SUP');
  assert.equal(flags & (1 << 20), 0, 'not HW_REDUCED_ACPI');
  assert.equal(flags & (1 << 8), 0, '24-bit PM timer');
  assert.deepEqual(gas(mem, f + 116), [1, 8, 0, 1, 0xcf9], 'RESET_REG: system I/O 0xCF9, byte');
  assert.equal(mem.u8[f + 128], 0x06, 'RESET_VALUE');
  assert.equal(rd64(mem, f + 132), t.facs, 'X_FIRMWARE_CTRL');
  assert.equal(rd64(mem, f + 140), t.dsdt, 'X_DSDT');
  assert.deepEqual(gas(mem, f + 148), [1, 32, 0, 2, 0x600], 'X_PM1a_EVT_BLK');
  assert.deepEqual(gas(mem, f + 160), [0, 0, 0, 0, 0], 'X_PM1b_EVT_BLK');
  assert.deepEqual(gas(mem, f + 172), [1, 16, 0, 2, 0x604], 'X_PM1a_CNT_BLK');
  assert.deepEqual(gas(mem, f + 208), [1, 32, 0, 3, 0x608], 'X_PM_TMR_BLK');
  assert.deepEqual(gas(mem, f + 220), [0, 0, 0, 0, 0], 'X_GPE0_BLK');
});

test('FADT says VGA present when asked', () => {
  const mem = new PhysicalMemory(16 * MiB);
  const t = writeAcpiTables(mem, { vga: true });
  assert.equal(rd16(mem, t.fadt + 109), 0x0003);
  assert.equal(acpiSum(mem.u8, t.fadt, t.fadt + 276), 0);
});

test('FACS: signature, 64 bytes, 64-byte aligned, version 2', () => {
  const mem = new PhysicalMemory(16 * MiB);
  const t = writeAcpiTables(mem);
  assert.equal(t.facs % 64, 0);
  assert.equal(sig(mem, t.facs), 'FACS');
  assert.equal(rd32(mem, t.facs + 4), 64);
  assert.equal(mem.u8[t.facs + 32], 2);
});

test('DSDT AML starts with Name(\\_S5, Package(){5, 5, 0, 0}) and then Scope(\\_SB) { Device(PCI0) }', () => {
  const mem = new PhysicalMemory(16 * MiB);
  const t = writeAcpiTables(mem);
  const aml = [0x08, 0x5c, 0x5f, 0x53, 0x35, 0x5f, 0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00];
  assert.deepEqual([...S5_AML], aml);
  const pci0 = pciRootBridgeAml();
  assert.equal(rd32(mem, t.dsdt + 4), 36 + aml.length + pci0.length);
  assert.equal(mem.u8[t.dsdt + 8], 2, 'revision 2: 64-bit integers');
  assert.deepEqual([...mem.u8.subarray(t.dsdt + 36, t.dsdt + 36 + aml.length)], aml);
  // PkgLength counts itself, NumElements and the elements.
  assert.equal(aml[7], aml.length - 7);
  const body = t.dsdt + 36 + aml.length;
  assert.equal(mem.u8[body], 0x10, 'ScopeOp');
  assert.deepEqual([...mem.u8.subarray(body, body + pci0.length)], pci0);
});

test('ACPI tables need RAM up to 1 MiB', () => {
  assert.throws(() => writeAcpiTables(new PhysicalMemory(512 * 1024)), BootError);
});
