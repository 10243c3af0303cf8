import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhysicalMemory } from '../../src/memory/PhysicalMemory.js';
import { BootError } from '../../src/boot/BootError.js';
import { loadElfKernel } from '../../src/boot/ElfBoot.js';
import { parseElf32, physicalEntry } from '../../src/boot/Elf32.js';
import { cstr, makeElf, pattern, rd16, rd32, rd64 } from './images.js';

const MiB = 1 << 20;
const ZP = 0x7000;

function throwsBoot(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof BootError && re.test(e.message) && !e.message.includes('\n'));
}

/** Like an i386 vmlinux: linked at 0xC1000000, loaded at 16 MiB, e_entry physical. */
function vmlinux(): { img: Uint8Array; text: Uint8Array; data: Uint8Array } {
  const text = pattern(0x2000, 1);
  const data = pattern(0x800, 2);
  const img = makeElf({
    entry: 0x1000000,
    segments: [
      { vaddr: 0xc1000000, paddr: 0x1000000, data: text },
      { vaddr: 0xc1002000, paddr: 0x1002000, data, memsz: 0x3000 },
      { vaddr: 0, paddr: 0, data: new Uint8Array(0), type: 4 }, // PT_NOTE, ignored
    ],
  });
  return { img, text, data };
}

test('ELF vmlinux: segments at p_paddr, BSS zeroed, entry physical, ESI = boot_params', () => {
  const mem = new PhysicalMemory(64 * MiB);
  mem.u8.fill(0xee, 0x1002000, 0x1005000); // dirty, to see the BSS cleared
  const { img, text, data } = vmlinux();
  const r = loadElfKernel(mem, img, { cmdline: 'console=ttyS0' });
  assert.deepEqual(mem.u8.subarray(0x1000000, 0x1002000), text);
  assert.deepEqual(mem.u8.subarray(0x1002000, 0x1002800), data);
  assert.ok(mem.u8.subarray(0x1002800, 0x1005000).every((b) => b === 0), 'BSS zero');
  assert.equal(mem.u8[0x1005000], 0);
  assert.equal(r.format, 'elf');
  assert.deepEqual(r.kernel, { base: 0x1000000, end: 0x1005000 });
  assert.equal(r.entry.kind, 'flat32');
  assert.equal(r.entry.eip, 0x1000000);
  assert.deepEqual(r.entry.regs, { eax: 0, ebx: 0, ecx: 0, edx: 0, esi: ZP, edi: 0, ebp: 0, esp: 0 });
  assert.equal(r.entry.codeSelector, 0x10);
  assert.equal(r.entry.dataSelector, 0x18);
});

test('ELF vmlinux: a made-up setup header and the same boot_params as a bzImage', () => {
  const mem = new PhysicalMemory(64 * MiB);
  const rd = pattern(0x3000, 5);
  const r = loadElfKernel(mem, vmlinux().img, { cmdline: 'quiet', initrd: rd });
  assert.equal(rd16(mem, ZP + 0x1fe), 0xaa55);
  assert.equal(rd32(mem, ZP + 0x202), 0x53726448);
  assert.equal(rd16(mem, ZP + 0x206), 0x020f);
  assert.equal(mem.u8[ZP + 0x210], 0xff);
  assert.equal(mem.u8[ZP + 0x211], 0x81);
  assert.equal(rd32(mem, ZP + 0x214), 0x1000000, 'code32_start = entry');
  assert.equal(rd32(mem, ZP + 0x228), 0x20000);
  assert.equal(rd32(mem, ZP + 0x238), 2047, 'cmdline_size');
  assert.equal(rd32(mem, ZP + 0x23c), 0, 'hardware_subarch: PC');
  assert.equal(cstr(mem, 0x20000), 'quiet');
  const addr = rd32(mem, ZP + 0x218);
  assert.equal(rd32(mem, ZP + 0x21c), rd.length);
  assert.equal(addr, 64 * MiB - 0x10000 - 0x3000);
  assert.deepEqual(mem.u8.subarray(addr, addr + rd.length), rd);
  assert.deepEqual(r.initrd, { addr, size: rd.length });
  assert.equal(mem.u8[ZP + 0x1e8], 5);
  assert.equal(rd64(mem, ZP + 0x2d0 + 4 * 20), 0x100000);
  assert.equal(rd64(mem, ZP + 0x2d0 + 4 * 20 + 8), 63 * MiB);
  assert.equal(rd64(mem, ZP + 0x070), 0xe0000);
});

test('ELF: a virtual e_entry is turned into its physical address', () => {
  const img = makeElf({ entry: 0xc0100010, segments: [{ vaddr: 0xc0100000, paddr: 0x100000, data: pattern(0x100, 3) }] });
  const elf = parseElf32(img);
  assert.equal(physicalEntry(elf), 0x100010);
  const mem = new PhysicalMemory(16 * MiB);
  assert.equal(loadElfKernel(mem, img).entry.eip, 0x100010);
  // Identity-linked: the same either way.
  const id = makeElf({ entry: 0x200004, segments: [{ vaddr: 0x200000, paddr: 0x200000, data: pattern(16, 0) }] });
  assert.equal(physicalEntry(parseElf32(id)), 0x200004);
});

test('ELF errors: 64-bit, wrong machine, big-endian, not executable', () => {
  const mem = new PhysicalMemory(64 * MiB);
  const seg = [{ vaddr: 0x100000, paddr: 0x100000, data: pattern(16, 0) }];
  throwsBoot(() => loadElfKernel(mem, makeElf({ entry: 0x100000, segments: seg, cls: 2 })), /64-bit ELF .*boot its bzImage/);
  throwsBoot(() => loadElfKernel(mem, makeElf({ entry: 0x100000, segments: seg, machine: 40 })), /ELF for ARM, not i386/);
  throwsBoot(() => loadElfKernel(mem, makeElf({ entry: 0x100000, segments: seg, machine: 62 })), /ELF for x86-64, not i386/);
  throwsBoot(() => loadElfKernel(mem, makeElf({ entry: 0x100000, segments: seg, machine: 999 })), /ELF for machine 999/);
  throwsBoot(() => loadElfKernel(mem, makeElf({ entry: 0x100000, segments: seg, data: 2 })), /big-endian/);
  throwsBoot(() => loadElfKernel(mem, makeElf({ entry: 0x100000, segments: seg, type: 3 })), /not an executable/);
  throwsBoot(() => loadElfKernel(mem, new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 1])), /truncated/);
  throwsBoot(() => loadElfKernel(mem, new Uint8Array(64)), /not an ELF file/);
});

test('ELF errors: segments outside RAM or below 1 MiB, truncated, no PT_LOAD, entry outside', () => {
  const mem = new PhysicalMemory(16 * MiB);
  throwsBoot(() => loadElfKernel(mem, vmlinux().img), /segment 0 at 0x1000000-0x1002000 is outside/);
  throwsBoot(() => loadElfKernel(new PhysicalMemory(16 * MiB + 0x4000), vmlinux().img), /segment 1 at 0x1002000-0x1005000 is outside the guest's 16 MiB of RAM; give the guest at least 17 MiB/);
  throwsBoot(() => loadElfKernel(mem, makeElf({ entry: 0x8000, segments: [{ vaddr: 0x8000, paddr: 0x8000, data: pattern(16, 0) }] })), /segment 0 at 0x8000 lies below 1 MiB/);
  const img = makeElf({ entry: 0x100000, segments: [{ vaddr: 0x100000, paddr: 0x100000, data: pattern(0x400, 0) }] });
  throwsBoot(() => loadElfKernel(mem, img.subarray(0, img.length - 1)), /truncated: segment 0 ends at byte 1280, the file has 1279/);
  throwsBoot(() => loadElfKernel(mem, img.subarray(0, 60)), /truncated: program headers end/);
  throwsBoot(() => loadElfKernel(mem, makeElf({ entry: 0x100000, segments: [{ vaddr: 0x100000, paddr: 0x100000, data: pattern(16, 0), type: 4 }] })), /no loadable \(PT_LOAD\) segments/);
  throwsBoot(() => loadElfKernel(mem, makeElf({ entry: 0x900000, segments: [{ vaddr: 0x100000, paddr: 0x100000, data: pattern(16, 0) }] })), /entry point 0x900000 is outside/);
  assert.equal(mem.u8[0x100000], 0, 'nothing loaded after a refusal');
});
