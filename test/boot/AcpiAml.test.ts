// The AML encoder (src/boot/aml.ts), the DSDT's PCI root bridge and virtio-mmio devices:
// encodings checked byte for byte against the ACPI 6.x grammar, the _PRT checked against
// PciHost's own routing, and the whole DSDT disassembled and recompiled by ACPICA's iasl
// (Debian package acpica-tools; skipped with a message when it is missing).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PhysicalMemory } from '../../src/memory/PhysicalMemory.js';
import { pciRoutingTable, writeAcpiTables, ACPI_PCI_PIRQ_IRQS, type AcpiVirtioMmio } from '../../src/boot/Acpi.js';
import { BootError } from '../../src/boot/BootError.js';
import {
  buffer, device, dwordAddressSpace, eisaId, extendedInterrupt, integer, ioPort, memory32Fixed, method, name, nameString, pkg,
  pkgLength, resourceTemplate, ret, scope, string, wordAddressSpace, INT_CONSUMER, INT_EDGE, INT_SHARED, RES_BUS, RES_MEMORY,
  MEM_RW_NONCACHEABLE,
} from '../../src/boot/aml.js';
import { PciDevice, PciHost } from '../../src/devices/PciHost.js';
import { rd32 } from './images.js';

const ascii = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));

/** Decode a PkgLength at `at`: [value, bytes it took]. */
function readPkgLength(b: ArrayLike<number>, at: number): [number, number] {
  const lead = b[at]!;
  const extra = lead >> 6;
  if (extra === 0) return [lead & 0x3f, 1];
  let v = lead & 0x0f;
  for (let i = 0; i < extra; i++) v |= b[at + 1 + i]! << (4 + 8 * i);
  return [v, 1 + extra];
}

test('PkgLength: one byte up to 63, then 2, 3 and 4 bytes, each counting itself', () => {
  assert.deepEqual(pkgLength(0), [1]);
  assert.deepEqual(pkgLength(62), [63]);
  assert.deepEqual(pkgLength(63), [0x41, 0x04], '65 = 0x41: lead 01 0001, then 0x04');
  for (const len of [63, 100, 4093, 4094, 0xffffc, 0xffffd, 0x100000]) {
    const enc = pkgLength(len);
    const [v, n] = readPkgLength(enc, 0);
    assert.equal(n, enc.length);
    assert.equal(v, len + enc.length, `length ${len}`);
  }
  assert.equal(pkgLength(4093).length, 2);
  assert.equal(pkgLength(4094).length, 3);
  assert.equal(pkgLength(0x100000).length, 4);
  assert.throws(() => pkgLength(0x10000000), RangeError);
});

test('integers take the shortest constant form', () => {
  assert.deepEqual(integer(0), [0x00]);
  assert.deepEqual(integer(1), [0x01]);
  assert.deepEqual(integer(2), [0x0a, 2]);
  assert.deepEqual(integer(0xff), [0x0a, 0xff]);
  assert.deepEqual(integer(0x100), [0x0b, 0x00, 0x01]);
  assert.deepEqual(integer(0x12345678), [0x0c, 0x78, 0x56, 0x34, 0x12]);
  assert.deepEqual(integer(0x1_0000_0002), [0x0e, 2, 0, 0, 0, 1, 0, 0, 0]);
  assert.throws(() => integer(-1), RangeError);
  assert.throws(() => integer(0.5), RangeError);
});

test('names: segments padded with _, root and parent prefixes, dual and multi paths', () => {
  assert.deepEqual(nameString('_HID'), ascii('_HID'));
  assert.deepEqual(nameString('_SB'), ascii('_SB_'));
  assert.deepEqual(nameString('\\_SB.PCI0'), [0x5c, 0x2e, ...ascii('_SB_PCI0')]);
  assert.deepEqual(nameString('^PCI0'), [0x5e, ...ascii('PCI0')]);
  assert.deepEqual(nameString('\\_SB.PCI0.ISA'), [0x5c, 0x2f, 3, ...ascii('_SB_PCI0ISA_')]);
  assert.deepEqual(nameString('\\'), [0x5c, 0x00]);
  for (const bad of ['pci0', '0ABC', 'TOOLONG', 'A..B', 'A-B']) assert.throws(() => nameString(bad), RangeError, bad);
});

test('EISAID("PNP0A03") is the DWord 0x030AD041, strings end in NUL', () => {
  assert.deepEqual(eisaId('PNP0A03'), [0x0c, 0x41, 0xd0, 0x0a, 0x03]);
  assert.deepEqual(eisaId('PNP0C0F'), [0x0c, 0x41, 0xd0, 0x0c, 0x0f]);
  assert.throws(() => eisaId('pnp0a03'), RangeError);
  assert.deepEqual(string('ok'), [0x0d, 0x6f, 0x6b, 0x00]);
});

test('Name, Scope, Device, Package, Buffer, Method and Return encode as the grammar says', () => {
  assert.deepEqual(name('_UID', integer(0)), [0x08, ...ascii('_UID'), 0x00]);
  assert.deepEqual(method('_STA', 0, ret(integer(0x0f))), [0x14, 0x09, ...ascii('_STA'), 0x00, 0xa4, 0x0a, 0x0f]);
  assert.deepEqual(pkg(integer(1), integer(2)), [0x12, 0x05, 0x02, 0x01, 0x0a, 0x02]);
  assert.deepEqual(buffer([0xaa, 0xbb]), [0x11, 0x05, 0x0a, 0x02, 0xaa, 0xbb]);
  assert.deepEqual(device('DEV0'), [0x5b, 0x82, 0x05, ...ascii('DEV0')]);
  assert.deepEqual(scope('\\_SB', device('DEV0')), [0x10, 0x0d, 0x5c, ...ascii('_SB_'), 0x5b, 0x82, 0x05, ...ascii('DEV0')]);
  // A package over 63 bytes gets a two-byte PkgLength that still counts itself.
  const big = pkg(...Array.from({ length: 40 }, () => integer(0x80)));
  const [len, n] = readPkgLength(big, 1);
  assert.equal(n, 2);
  assert.equal(len, big.length - 1);
  assert.throws(() => pkg(...Array.from({ length: 256 }, () => integer(0))), RangeError);
  assert.throws(() => method('_STA', 8), RangeError);
});

test('resource descriptors: Word/DWord address spaces, IO, End Tag', () => {
  const bus = wordAddressSpace(RES_BUS, 0, 0, 0xff);
  assert.deepEqual(bus, [0x88, 13, 0, 2, 0x0c, 0, 0, 0, 0, 0, 0xff, 0, 0, 0, 0x00, 0x01]);
  const mem = dwordAddressSpace(RES_MEMORY, MEM_RW_NONCACHEABLE, 0xe0000000, 0xfebfffff);
  assert.equal(mem.length, 26);
  assert.deepEqual(mem.slice(0, 6), [0x87, 23, 0, 0, 0x0c, 0x01]);
  assert.equal(new DataView(Uint8Array.from(mem).buffer).getUint32(22, true), 0x1ec00000, '_LEN');
  assert.deepEqual(ioPort(0xcf8, 0xcf8, 1, 8), [0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08]);
  const rt = resourceTemplate(ioPort(0x60, 0x60, 1, 1));
  assert.deepEqual(rt.slice(-2), [0x79, 0x00]);
  assert.deepEqual(rt.slice(0, 3), [0x11, 13, 0x0a]);
  assert.throws(() => wordAddressSpace(RES_BUS, 0, 5, 4), RangeError);
  // Memory32Fixed (§6.4.3.4) and Interrupt (§6.4.3.6): tag, 16-bit length, then the fields.
  assert.deepEqual(memory32Fixed(true, 0xd0001000, 0x1000), [0x86, 9, 0, 1, 0x00, 0x10, 0x00, 0xd0, 0x00, 0x10, 0, 0]);
  assert.deepEqual(extendedInterrupt(INT_CONSUMER, [5]), [0x89, 6, 0, 0x01, 1, 5, 0, 0, 0]);
  assert.deepEqual(extendedInterrupt(INT_CONSUMER | INT_EDGE | INT_SHARED, [3, 4]).slice(0, 5), [0x89, 10, 0, 0x0b, 2]);
  assert.throws(() => memory32Fixed(true, 0xfffff000, 0x2000), RangeError);
  assert.throws(() => extendedInterrupt(INT_CONSUMER, []), RangeError);
});

/** virtio-mmio windows as attachVirtio lays them out: 4 KiB each from 0xD0000000. */
const windows = (n: number, irqs = [5, 6, 7]): AcpiVirtioMmio[] =>
  Array.from({ length: n }, (_, i) => ({ base: 0xd0000000 + i * 0x1000, size: 0x1000, irq: irqs[i % irqs.length]!, shared: n > irqs.length }));

test('virtio-mmio devices: two dozen fit the ACPI area, too many are a clear BootError', () => {
  const mem = new PhysicalMemory(16 << 20);
  const t = writeAcpiTables(mem, { virtioMmio: windows(24) });
  assert.ok(rd32(mem, t.dsdt + 4) > 3000);
  assert.throws(() => writeAcpiTables(mem, { virtioMmio: windows(64) }), (e: Error) => e instanceof BootError && /64 virtio-mmio devices/.test(e.message));
});

type AmlValue = number | AmlValue[];

/** Read an integer or a nested Package at `at` (the subset the _PRT uses): [value, next offset]. */
function readValue(b: Uint8Array, at: number): [AmlValue, number] {
  const op = b[at]!;
  const le = (n: number): number => { let v = 0; for (let i = n - 1; i >= 0; i--) v = v * 256 + b[at + 1 + i]!; return v; };
  if (op === 0x00 || op === 0x01) return [op, at + 1];
  if (op === 0x0a) return [le(1), at + 2];
  if (op === 0x0b) return [le(2), at + 3];
  if (op === 0x0c) return [le(4), at + 5];
  if (op !== 0x12) throw new Error(`unexpected AML opcode 0x${op.toString(16)} at ${at}`);
  const [len, n] = readPkgLength(b, at + 1);
  const end = at + 1 + len;
  const count = b[at + 1 + n]!;
  const out: AmlValue[] = [];
  let p = at + 2 + n;
  for (let i = 0; i < count; i++) {
    const [v, next] = readValue(b, p);
    out.push(v);
    p = next;
  }
  assert.equal(p, end, 'package length matches its elements');
  return [out, end];
}

test('_PRT: every slot and INTA-D# goes to the IRQ PciHost routes it to', () => {
  const [prt] = readValue(Uint8Array.from(pciRoutingTable()), 0);
  assert.ok(Array.isArray(prt));
  assert.equal(prt.length, 32 * 4);
  const routes = new Map<string, number>();
  for (const e of prt) {
    assert.ok(Array.isArray(e) && e.length === 4);
    const [addr, pin, source, irq] = e as number[];
    assert.equal(addr! & 0xffff, 0xffff, 'any function');
    assert.equal(source, 0, 'fixed interrupt, no link device');
    routes.set(`${addr! >>> 16}.${pin}`, irq!);
  }
  assert.equal(routes.size, 128);
  for (let slot = 2; slot < 32; slot++) {
    for (let pin = 1; pin <= 4; pin++) {
      const host = new PciHost({ pirqRoutes: ACPI_PCI_PIRQ_IRQS });
      const dev = new PciDevice('t', { vendorId: 0x1af4, deviceId: 0x1000, classCode: 0xff0000, interruptPin: pin });
      host.addDevice(dev, slot);
      assert.equal(routes.get(`${slot}.${pin - 1}`), host.routedIrq(dev), `slot ${slot} INT${'ABCD'[pin - 1]}#`);
    }
  }
  // PciHost's power-on routes are the ones the DSDT assumes.
  const dflt = new PciHost();
  assert.deepEqual([0, 1, 2, 3].map((n) => dflt.isaBridge.pirqIrq(n)), [...ACPI_PCI_PIRQ_IRQS]);
});

const iasl = spawnSync('iasl', ['-v'], { encoding: 'utf8' });
const noIasl = iasl.error !== undefined ? 'iasl is not installed (Debian package acpica-tools; scripts/setup-debian.sh)' : false;

test('iasl disassembles the DSDT (with virtio-mmio devices) cleanly and recompiles it to the same AML', { skip: noIasl }, () => {
  const mem = new PhysicalMemory(16 << 20);
  const t = writeAcpiTables(mem, { virtioMmio: windows(4) });
  const dsdt = mem.u8.slice(t.dsdt, t.dsdt + rd32(mem, t.dsdt + 4));
  const dir = mkdtempSync(join(tmpdir(), 'typevisor-dsdt-'));
  try {
    writeFileSync(join(dir, 'dsdt.dat'), dsdt);
    const dis = spawnSync('iasl', ['-d', 'dsdt.dat'], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
    assert.equal(dis.status, 0, dis.stdout + dis.stderr);
    const asl = readFileSync(join(dir, 'dsdt.dsl'), 'utf8');
    for (const want of ['Name (\\_S5, Package (0x04)', 'Scope (\\_SB)', 'Device (PCI0)', 'EisaId ("PNP0A03")',
      'WordBusNumber (ResourceProducer', 'IO (Decode16', 'WordIO (ResourceProducer', 'DWordMemory (ResourceProducer',
      '0xE0000000,         // Range Minimum', 'Method (_PRT, 0, NotSerialized)', 'Return (Package (0x80)',
      'Device (V000)', 'Device (V003)', 'Name (_HID, "LNRO0005")', 'Name (_UID, 0x03)',
      'Memory32Fixed (ReadWrite,', '0xD0003000,         // Address Base', '0x00001000,         // Address Length',
      'Interrupt (ResourceConsumer, Level, ActiveHigh, Shared, ,, )']) {
      assert.ok(asl.includes(want), `disassembly has ${want}`);
    }
    // Each device names its own window and line, in order.
    const irqs = [...asl.matchAll(/Interrupt \(ResourceConsumer[^)]*\)\s*\{\s*0x([0-9A-F]+),/g)].map((m) => parseInt(m[1]!, 16));
    assert.deepEqual(irqs, [5, 6, 7, 5]);
    // Compile the disassembly back with optimisations off: the same bytes after the header.
    const asm = spawnSync('iasl', ['-oa', '-p', 're', 'dsdt.dsl'], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
    assert.match(asm.stdout + asm.stderr, /Compilation successful\. 0 Errors, 0 Warnings/);
    const re = readFileSync(join(dir, 're.aml'));
    assert.deepEqual([...re.subarray(36)], [...dsdt.subarray(36)]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
