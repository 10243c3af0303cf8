import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhysicalMemory } from '../../src/memory/PhysicalMemory.js';
import { BootError } from '../../src/boot/BootError.js';
import { loadMultiboot, scanMultiboot } from '../../src/boot/Multiboot.js';
import { cstr, makeElf, multibootHeader, pattern, rd32, rd64 } from './images.js';

const MiB = 1 << 20;
const MBI = 0x9000;

function throwsBoot(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof BootError && re.test(e.message) && !e.message.includes('\n'));
}

/** An a.out-kludge kernel: 0x1800 bytes loaded at 1 MiB, header at file offset 0x20, BSS to 0x103000. */
function aoutKernel(over: Partial<{ headerAddr: number; loadAddr: number; loadEndAddr: number; bssEndAddr: number; entry: number }> = {}, flags = 0x10003): Uint8Array {
  const img = pattern(0x1800, 4);
  img.set(multibootHeader(flags, { headerAddr: 0x100020, loadAddr: 0x100000, loadEndAddr: 0, bssEndAddr: 0x103000, entry: 0x100040, ...over }), 0x20);
  return img;
}

test('multiboot a.out kludge: image at load_addr, BSS zero, EAX magic, EBX info, flat segments', () => {
  const mem = new PhysicalMemory(64 * MiB);
  mem.u8.fill(0xee, 0x101800, 0x103000);
  const img = aoutKernel();
  const r = loadMultiboot(mem, img, { cmdline: 'hello world' });
  assert.deepEqual(mem.u8.subarray(0x100000, 0x101800), img);
  assert.ok(mem.u8.subarray(0x101800, 0x103000).every((b) => b === 0), 'BSS zero');
  assert.equal(r.format, 'multiboot');
  assert.deepEqual(r.kernel, { base: 0x100000, end: 0x103000 });
  const e = r.entry;
  assert.equal(e.kind, 'flat32');
  assert.equal(e.eip, 0x100040);
  assert.deepEqual(e.regs, { eax: 0x2badb002, ebx: MBI, ecx: 0, edx: 0, esi: 0, edi: 0, ebp: 0, esp: 0 });
  assert.equal(e.codeSelector, 0x10);
  assert.equal(e.dataSelector, 0x18);
  assert.equal(rd32(mem, e.gdtBase + 0x14), 0x00cf9b00);
  assert.equal(r.bootInfo, MBI);
  assert.deepEqual(r.warnings, []);
});

test('multiboot info: memory, mmap from the e820 list, command line, loader name', () => {
  const mem = new PhysicalMemory(64 * MiB);
  const r = loadMultiboot(mem, aoutKernel(), { cmdline: 'hello world' });
  const flags = rd32(mem, MBI);
  assert.equal(flags, (1 << 0) | (1 << 2) | (1 << 3) | (1 << 6) | (1 << 9));
  assert.equal(rd32(mem, MBI + 4), 639, 'mem_lower KiB');
  assert.equal(rd32(mem, MBI + 8), 63 * 1024, 'mem_upper KiB');
  assert.equal(cstr(mem, rd32(mem, MBI + 16)), 'hello world');
  assert.equal(rd32(mem, MBI + 20), 0, 'mods_count');
  assert.equal(cstr(mem, rd32(mem, MBI + 64)), 'typevisor');
  const len = rd32(mem, MBI + 44);
  const addr = rd32(mem, MBI + 48);
  assert.equal(len, r.e820.length * 24);
  assert.ok(addr < 0x10000 && addr > MBI);
  r.e820.forEach((m, i) => {
    const at = addr + i * 24;
    assert.equal(rd32(mem, at), 20, 'size field');
    assert.equal(rd64(mem, at + 4), m.addr);
    assert.equal(rd64(mem, at + 12), m.size);
    assert.equal(rd32(mem, at + 20), m.type);
  });
  assert.deepEqual(r.e820.map((m) => m.type), [1, 2, 3, 2, 1]);
});

test('multiboot modules: initrd is module 0 with its string, page-aligned after the kernel', () => {
  const mem = new PhysicalMemory(64 * MiB);
  const rd = pattern(0x1234, 8);
  const extra = pattern(0x800, 9);
  const r = loadMultiboot(mem, aoutKernel(), { initrd: rd, initrdName: 'initrd.img root=x', modules: [{ data: extra, string: 'second' }] });
  assert.equal(rd32(mem, MBI + 20), 2);
  const mods = rd32(mem, MBI + 24);
  const [s0, e0, str0, res0] = [0, 4, 8, 12].map((o) => rd32(mem, mods + o));
  assert.equal(s0, 0x103000, 'first page after the BSS');
  assert.equal(e0, s0! + rd.length);
  assert.equal(cstr(mem, str0!), 'initrd.img root=x');
  assert.equal(res0, 0);
  assert.deepEqual(mem.u8.subarray(s0!, e0!), rd);
  const s1 = rd32(mem, mods + 16);
  assert.equal(s1, 0x105000);
  assert.equal(rd32(mem, mods + 20), s1 + extra.length);
  assert.equal(cstr(mem, rd32(mem, mods + 24)), 'second');
  assert.deepEqual(mem.u8.subarray(s1, s1 + extra.length), extra);
  assert.deepEqual(r.initrd, { addr: 0x103000, size: rd.length });
  // Default module string.
  const mem2 = new PhysicalMemory(64 * MiB);
  loadMultiboot(mem2, aoutKernel(), { initrd: rd });
  assert.equal(cstr(mem2, rd32(mem2, rd32(mem2, MBI + 24) + 8)), 'initrd');
});

test('multiboot ELF kernel (no bit 16): segments by p_paddr, entry converted', () => {
  const mem = new PhysicalMemory(32 * MiB);
  const code = pattern(0x200, 6);
  const img = makeElf({
    entry: 0xc0100000,
    segments: [{ vaddr: 0xc0100000, paddr: 0x100000, data: code, memsz: 0x2000 }],
    extra: multibootHeader(0x3),
  });
  const r = loadMultiboot(mem, img);
  assert.equal(r.entry.eip, 0x100000);
  assert.deepEqual(mem.u8.subarray(0x100000, 0x100200), code);
  assert.deepEqual(r.kernel, { base: 0x100000, end: 0x102000 });
  assert.equal(r.entry.regs.eax, 0x2badb002);
});

test('multiboot header: found on a 4-byte boundary in the first 8 KiB only', () => {
  const img = new Uint8Array(0x4000);
  img.set(multibootHeader(0), 0x1ff4);
  assert.deepEqual(scanMultiboot(img).header, { offset: 0x1ff4, flags: 0 });
  const late = new Uint8Array(0x4000);
  late.set(multibootHeader(0), 0x2000);
  assert.equal(scanMultiboot(late).header, null);
  const odd = new Uint8Array(0x100);
  odd.set(multibootHeader(0), 0x12);
  assert.equal(scanMultiboot(odd).header, null);
});

test('multiboot errors', () => {
  const mem = new PhysicalMemory(64 * MiB);
  const bad = new Uint8Array(0x100);
  bad.set(multibootHeader(0x10000, undefined, 1), 0);
  throwsBoot(() => loadMultiboot(mem, bad), /header at offset 0x0 has a bad checksum/);
  throwsBoot(() => loadMultiboot(mem, new Uint8Array(0x100)), /no multiboot header/);
  throwsBoot(() => loadMultiboot(mem, aoutKernel({}, 0x10000 | 0x10)), /does not know \(header flags 0x10 in bits 3-15\)/);
  const notElf = new Uint8Array(0x100);
  notElf.set(multibootHeader(0), 0);
  throwsBoot(() => loadMultiboot(mem, notElf), /not ELF and its header has no load addresses/);
  throwsBoot(() => loadMultiboot(mem, aoutKernel({ headerAddr: 0x90020, loadAddr: 0x90000, entry: 0x90040, bssEndAddr: 0 })), /loads at 0x90000, below 1 MiB/);
  throwsBoot(() => loadMultiboot(mem, aoutKernel({ loadEndAddr: 0x102000 })), /truncated: it should have 8192 bytes/);
  throwsBoot(() => loadMultiboot(mem, aoutKernel({ entry: 0x200000 })), /entry_addr 0x200000 is outside the loaded image/);
  throwsBoot(() => loadMultiboot(mem, aoutKernel({ loadAddr: 0x100100 })), /load_addr 0x100100 is above header_addr/);
  throwsBoot(() => loadMultiboot(mem, aoutKernel({ headerAddr: 0x100100 })), /larger than the header's file offset/);
  throwsBoot(() => loadMultiboot(mem, aoutKernel({ bssEndAddr: 0x101000 })), /bss_end_addr 0x101000 is below load_end_addr/);
  throwsBoot(() => loadMultiboot(mem, aoutKernel({ bssEndAddr: 0x5000000 })), /beyond the guest's 64 MiB of RAM; give the guest at least 80 MiB/);
  throwsBoot(() => loadMultiboot(new PhysicalMemory(2 * MiB), aoutKernel(), { initrd: new Uint8Array(MiB) }), /kernel and modules do not fit in 2 MiB/);
  assert.equal(mem.u8[0x100000], 0, 'nothing loaded after a refusal');
});

test('multiboot video mode request is a warning, not a refusal', () => {
  const mem = new PhysicalMemory(64 * MiB);
  const r = loadMultiboot(mem, aoutKernel({}, 0x10007));
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0]!, /video mode/);
  assert.equal(rd32(mem, MBI) & ((1 << 11) | (1 << 12)), 0, 'no VBE or framebuffer info claimed');
});
