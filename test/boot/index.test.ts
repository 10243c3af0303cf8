import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhysicalMemory } from '../../src/memory/PhysicalMemory.js';
import { BootError, loadFlatBinary, loadKernel } from '../../src/boot/index.js';
import { makeBzImage, makeElf, multibootHeader, pattern, rd32 } from './images.js';

const MiB = 1 << 20;

function throwsBoot(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof BootError && re.test(e.message) && !e.message.includes('\n'));
}

test('loadKernel recognizes a bzImage', () => {
  const mem = new PhysicalMemory(64 * MiB);
  const r = loadKernel(mem, makeBzImage(), { cmdline: 'console=ttyS0', initrd: pattern(100, 1) });
  assert.equal(r.format, 'bzImage');
  assert.equal(r.entry.regs.esi, 0x7000);
  assert.equal(rd32(mem, 0x7000 + 0x21c), 100);
});

test('loadKernel recognizes a multiboot kernel, also an ELF one, before plain ELF', () => {
  const mem = new PhysicalMemory(64 * MiB);
  const aout = pattern(0x1000, 2);
  aout.set(multibootHeader(0x10000, { headerAddr: 0x100000, loadAddr: 0x100000, loadEndAddr: 0, bssEndAddr: 0, entry: 0x100010 }), 0);
  assert.equal(loadKernel(mem, aout).format, 'multiboot');
  const elf = makeElf({ entry: 0x100000, segments: [{ vaddr: 0x100000, paddr: 0x100000, data: pattern(64, 0) }], extra: multibootHeader(0) });
  const r = loadKernel(new PhysicalMemory(64 * MiB), elf, { initrd: pattern(10, 0) });
  assert.equal(r.format, 'multiboot');
  assert.equal(r.entry.regs.eax, 0x2badb002);
  assert.equal(r.initrd?.size, 10);
});

test('loadKernel recognizes an ELF vmlinux', () => {
  const elf = makeElf({ entry: 0x1000000, segments: [{ vaddr: 0xc1000000, paddr: 0x1000000, data: pattern(64, 0) }] });
  const r = loadKernel(new PhysicalMemory(64 * MiB), elf);
  assert.equal(r.format, 'elf');
  assert.equal(r.entry.eip, 0x1000000);
  assert.equal(r.entry.regs.esi, 0x7000);
});

test('loadKernel: an ELF with a broken multiboot-looking word is still loaded as ELF', () => {
  const elf = makeElf({ entry: 0x100000, segments: [{ vaddr: 0x100000, paddr: 0x100000, data: pattern(64, 0) }], extra: multibootHeader(0, undefined, 5) });
  assert.equal(loadKernel(new PhysicalMemory(64 * MiB), elf).format, 'elf');
});

test('loadKernel errors name what was expected', () => {
  const mem = new PhysicalMemory(64 * MiB);
  throwsBoot(() => loadKernel(mem, pattern(4096, 7)), /not a Linux bzImage \("HdrS" at 0x202\), a multiboot kernel .* or an ELF file/);
  throwsBoot(() => loadKernel(mem, new Uint8Array(0)), /kernel image is empty/);
  const bootSector = new Uint8Array(512);
  bootSector[510] = 0x55;
  bootSector[511] = 0xaa;
  throwsBoot(() => loadKernel(mem, bootSector), /boot sector signature but no Linux setup header/);
  const badMb = new Uint8Array(256);
  badMb.set(multibootHeader(0, undefined, 1), 8);
  throwsBoot(() => loadKernel(mem, badMb), /multiboot header at offset 0x8 has a bad checksum/);
  throwsBoot(() => loadKernel(mem, makeBzImage({ version: 0x0201 })), /boot protocol 2\.01, too old/);
});

test('loadFlatBinary: real-mode entry at 0000:7C00 with DL = 0x80', () => {
  const mem = new PhysicalMemory(2 * MiB);
  const prog = pattern(512, 3);
  const e = loadFlatBinary(mem, prog);
  assert.deepEqual(mem.u8.subarray(0x7c00, 0x7e00), prog);
  assert.deepEqual(e, { kind: 'real', cs: 0, ip: 0x7c00, ss: 0, sp: 0x7c00, ds: 0, es: 0, regs: { eax: 0, ebx: 0, ecx: 0, edx: 0x80, esi: 0, edi: 0, ebp: 0, esp: 0x7c00 } });
  const e2 = loadFlatBinary(mem, prog, { segment: 0x1000, offset: 0x100, sp: 0xfff0 });
  assert.equal(mem.u8[0x10100], prog[0]);
  assert.deepEqual([e2.cs, e2.ip, e2.sp], [0x1000, 0x100, 0xfff0]);
  throwsBoot(() => loadFlatBinary(mem, new Uint8Array(0x1000), { segment: 0x9f00, offset: 0xf800 }), /runs past 0x9FFFF/);
  throwsBoot(() => loadFlatBinary(mem, new Uint8Array(0)), /empty/);
});
