import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { PhysicalMemory } from '../../src/memory/PhysicalMemory.js';
import { BootError } from '../../src/boot/BootError.js';
import { loadFirmware, planFirmware } from '../../src/boot/Firmware.js';
import { pattern } from './images.js';

const KiB = 1024;
const MiB = 1 << 20;

function throwsBoot(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof BootError && re.test(e.message) && !e.message.includes('\n'));
}

test('firmware 128 KiB: whole image at 0xE0000 and at 4 GiB - 128 KiB; reset entry', () => {
  const img = pattern(128 * KiB, 1);
  const l = planFirmware(img);
  assert.deepEqual(l.entry, { kind: 'reset' });
  assert.deepEqual(l.roms.map((r) => [r.base, r.data.length, r.name]), [[0xe0000, 128 * KiB, 'bios-low'], [0xfffe0000, 128 * KiB, 'bios']]);
});

test('firmware 256 KiB: the last 128 KiB below 1 MiB; 64 KiB: at 0xF0000', () => {
  const img = pattern(256 * KiB, 2);
  const l = planFirmware(img);
  assert.equal(l.roms[0]!.base, 0xe0000);
  assert.deepEqual(l.roms[0]!.data, img.subarray(128 * KiB));
  assert.equal(l.roms[1]!.base, 0xfffc0000);
  assert.equal(l.roms[1]!.data.length, 256 * KiB);
  const small = planFirmware(pattern(64 * KiB, 3));
  assert.equal(small.roms[0]!.base, 0xf0000);
  assert.equal(small.roms[1]!.base, 0xffff0000);
});

test('firmware mapped: reset vector readable at 0xFFFFFFF0 and 0xFFFF0, ROM ignores writes', () => {
  const mem = new PhysicalMemory(32 * MiB);
  const img = pattern(128 * KiB, 5);
  loadFirmware(mem, img);
  const n = img.length;
  for (let i = 0; i < 16; i++) {
    assert.equal(mem.read8(0xfffffff0 + i), img[n - 16 + i]);
    assert.equal(mem.read8(0xffff0 + i), img[n - 16 + i]);
  }
  assert.equal(mem.read8(0xe0000), img[0]);
  const before = mem.read8(0xf0000);
  mem.write8(0xf0000, before ^ 0xff);
  assert.equal(mem.read8(0xf0000), before, 'low copy is ROM');
  mem.write8(0xfffe0000, 0);
  assert.equal(mem.read8(0xfffe0000), img[0], 'high copy is ROM');
});

test('firmware with a writable low copy (shadow RAM)', () => {
  const mem = new PhysicalMemory(32 * MiB);
  const img = pattern(128 * KiB, 6);
  loadFirmware(mem, img, { writableLowCopy: true });
  assert.equal(mem.read8(0xffff0), img[img.length - 16]);
  mem.write8(0xf0000, 0x5a);
  assert.equal(mem.read8(0xf0000), 0x5a);
  assert.equal(mem.read8(0xfffffff0), img[img.length - 16], 'high copy unchanged');
  throwsBoot(() => loadFirmware(new PhysicalMemory(512 * KiB), img, { writableLowCopy: true }), /does not reach 1 MiB/);
});

test('firmware errors: too small, too big, not a multiple of 64 KiB', () => {
  throwsBoot(() => planFirmware(new Uint8Array(32 * KiB)), /32 KiB; a BIOS image must be between 64 KiB and 16 MiB/);
  throwsBoot(() => planFirmware(new Uint8Array(17 * MiB)), /17 MiB; a BIOS image must be between/);
  throwsBoot(() => planFirmware(new Uint8Array(100000)), /100000 bytes, not a multiple of 64 KiB/);
  throwsBoot(() => planFirmware(new Uint8Array(0)), /0 bytes; a BIOS image/);
});

const seabios = ['/usr/share/seabios/bios.bin', '/usr/share/seabios/bios-256k.bin'];
test('SeaBIOS images map with a far jump at the reset vector (when installed)', (t) => {
  const present = seabios.filter((p) => existsSync(p));
  if (present.length === 0) {
    t.skip('/usr/share/seabios not present (apt-get install seabios to run this test)');
    return;
  }
  for (const path of present) {
    const img = new Uint8Array(readFileSync(path));
    const mem = new PhysicalMemory(32 * MiB);
    const l = loadFirmware(mem, img);
    assert.equal(l.roms[1]!.base, 0x100000000 - img.length, path);
    assert.equal(mem.read8(0xfffffff0), 0xea, `${path}: JMP FAR at the reset vector`);
    assert.equal(mem.read8(0xffff0), 0xea, `${path}: and in the low copy`);
  }
});
