import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BootError } from '../../src/boot/BootError.js';
import { buildE820, e820TypeName, upperMemoryEnd, E820_ACPI, E820_RAM, E820_RESERVED } from '../../src/boot/E820.js';

const MiB = 1 << 20;

test('e820: usable low RAM, EBDA, BIOS area, usable RAM from 1 MiB to the end', () => {
  const m = buildE820(128 * MiB);
  assert.deepEqual(m, [
    { addr: 0, size: 0x9fc00, type: E820_RAM },
    { addr: 0x9fc00, size: 0x400, type: E820_RESERVED },
    { addr: 0xe0000, size: 0x20000, type: E820_RESERVED },
    { addr: 0x100000, size: 127 * MiB, type: E820_RAM },
  ]);
  assert.equal(upperMemoryEnd(m), 128 * MiB);
});

test('e820: the ACPI table region is type 3 inside the BIOS area', () => {
  assert.deepEqual(buildE820(32 * MiB, { acpi: { base: 0xe0000, size: 0x1000 } }).slice(2, 4), [
    { addr: 0xe0000, size: 0x1000, type: E820_ACPI },
    { addr: 0xe1000, size: 0x1f000, type: E820_RESERVED },
  ]);
  assert.deepEqual(buildE820(32 * MiB, { acpi: { base: 0xf0000, size: 0x10000 } }).slice(2, 4), [
    { addr: 0xe0000, size: 0x10000, type: E820_RESERVED },
    { addr: 0xf0000, size: 0x10000, type: E820_ACPI },
  ]);
  assert.throws(() => buildE820(32 * MiB, { acpi: { base: 0xd0000, size: 0x1000 } }), BootError);
});

test('e820: entries are sorted, do not overlap and leave the VGA hole', () => {
  const m = buildE820(256 * MiB, { acpi: { base: 0xe0000, size: 0x1000 } });
  for (let i = 1; i < m.length; i++) assert.ok(m[i]!.addr >= m[i - 1]!.addr + m[i - 1]!.size);
  assert.ok(!m.some((e) => e.addr < 0xe0000 && e.addr + e.size > 0xa0000));
});

test('e820: RAM too small to hold a kernel above 1 MiB', () => {
  assert.throws(() => buildE820(1 * MiB), (e: unknown) => e instanceof BootError && /too small .* at least 2 MiB/.test(e.message));
  assert.equal(buildE820(2 * MiB).length, 4);
});

test('e820: type names', () => {
  assert.equal(e820TypeName(1), 'usable');
  assert.equal(e820TypeName(3), 'ACPI data');
  assert.equal(e820TypeName(9), 'type 9');
});
