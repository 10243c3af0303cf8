import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PhysicalMemory } from '../../src/memory/PhysicalMemory.js';
import { BootError } from '../../src/boot/BootError.js';
import { loadBzImage, parseBzImage } from '../../src/boot/LinuxBoot.js';
import { initrdAddress } from '../../src/boot/KernelLoad.js';
import { loadKernel } from '../../src/boot/index.js';
import { cstr, makeBzImage, pattern, rd16, rd32, rd64 } from './images.js';

const MiB = 1 << 20;
const ZP = 0x7000;

function throwsBoot(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof BootError, `expected BootError, got ${String(e)}`);
    assert.match(e.message, re);
    assert.ok(!e.message.includes('\n'), 'message is one line');
    return true;
  });
}

test('bzImage: protected-mode part at 1 MiB, setup header copied, loader fields set', () => {
  const mem = new PhysicalMemory(64 * MiB);
  const img = makeBzImage({ setupSects: 4, pmSize: 0x3000 });
  const r = loadBzImage(mem, img, { cmdline: 'console=ttyS0 root=/dev/ram0' });
  const setup = 5 * 512;
  assert.deepEqual(mem.u8.subarray(0x100000, 0x100000 + 0x3000), img.subarray(setup));
  assert.equal(r.format, 'bzImage');
  assert.equal(r.protocol, 0x020f);
  assert.equal(r.bootInfo, ZP);

  // Setup header: 0x1F1 .. 0x202 + byte at 0x201 (0x26C here), copied except the fields a loader writes.
  const written = new Set<number>();
  const mark = (off: number, n: number) => { for (let i = 0; i < n; i++) written.add(off + i); };
  mark(0x1fa, 2); mark(0x210, 2); mark(0x214, 4); mark(0x218, 8); mark(0x224, 4); mark(0x228, 4); mark(0x250, 8);
  for (let off = 0x1f1; off < 0x26c; off++) {
    if (!written.has(off)) assert.equal(mem.u8[ZP + off], img[off], `header byte ${off.toString(16)}`);
  }
  for (let off = 0x26c; off < 0x290; off++) assert.equal(mem.u8[ZP + off], 0, `byte ${off.toString(16)} after the header`);
  assert.equal(mem.u8[ZP + 0x1ef], 0, 'sentinel zero');
  assert.equal(mem.u8[ZP + 0x1f1], 4, 'setup_sects');
  assert.equal(rd16(mem, ZP + 0x1fc), 0x0301, 'root_dev kept');
  assert.equal(rd32(mem, ZP + 0x202), 0x53726448, 'HdrS');
  assert.equal(rd16(mem, ZP + 0x1fa), 0xffff, 'vid_mode normal');
  assert.equal(mem.u8[ZP + 0x210], 0xff, 'type_of_loader');
  assert.equal(mem.u8[ZP + 0x211], 0x81, 'loadflags LOADED_HIGH | CAN_USE_HEAP');
  assert.equal(rd32(mem, ZP + 0x214), 0x100000, 'code32_start');
  assert.equal(rd32(mem, ZP + 0x218), 0, 'ramdisk_image');
  assert.equal(rd32(mem, ZP + 0x21c), 0, 'ramdisk_size');
  assert.equal(rd16(mem, ZP + 0x224), 0xfe00, 'heap_end_ptr');
  assert.equal(rd32(mem, ZP + 0x228), 0x20000, 'cmd_line_ptr');
  assert.equal(cstr(mem, 0x20000), 'console=ttyS0 root=/dev/ram0');
  assert.deepEqual(r.cmdline, { addr: 0x20000, size: 29 });
  assert.equal(rd64(mem, ZP + 0x070), 0xe0000, 'acpi_rsdp_addr');
  assert.equal(rd32(mem, ZP + 0x1e0), (64 - 1) * 1024, 'alt_mem_k');
  assert.equal(rd32(mem, ZP + 0x0c0), 0, 'ext_ramdisk_image');
  assert.equal(rd32(mem, ZP + 0x0c8), 0, 'ext_cmd_line_ptr');

  // e820: count at 0x1E8, 20-byte entries at 0x2D0.
  const expected = [
    [0, 0x9fc00, 1], [0x9fc00, 0x400, 2], [0xe0000, 0x1000, 3], [0xe1000, 0x1f000, 2], [0x100000, 63 * MiB, 1],
  ];
  assert.equal(mem.u8[ZP + 0x1e8], expected.length);
  expected.forEach(([addr, size, type], i) => {
    const at = ZP + 0x2d0 + i * 20;
    assert.equal(rd64(mem, at), addr);
    assert.equal(rd64(mem, at + 8), size);
    assert.equal(rd32(mem, at + 16), type);
  });
  assert.equal(rd64(mem, ZP + 0x2d0 + expected.length * 20), 0, 'nothing after the last entry');
  assert.deepEqual(r.e820.map((e) => [e.addr, e.size, e.type]), expected);
});

test('bzImage: flat32 entry at code32_start with ESI = boot_params and a real GDT', () => {
  const mem = new PhysicalMemory(64 * MiB);
  const r = loadBzImage(mem, makeBzImage());
  const e = r.entry;
  assert.equal(e.kind, 'flat32');
  assert.equal(e.eip, 0x100000);
  assert.deepEqual(e.regs, { eax: 0, ebx: 0, ecx: 0, edx: 0, esi: 0x7000, edi: 0, ebp: 0, esp: 0 });
  assert.equal(e.codeSelector, 0x10);
  assert.equal(e.dataSelector, 0x18);
  assert.equal(e.gdtLimit, 31);
  // __BOOT_CS: base 0, limit 0xFFFFF pages, G D P DPL0 code exec/read; __BOOT_DS: same, data r/w.
  assert.equal(rd32(mem, e.gdtBase + 0x10), 0x0000ffff);
  assert.equal(rd32(mem, e.gdtBase + 0x14), 0x00cf9b00);
  assert.equal(rd32(mem, e.gdtBase + 0x18), 0x0000ffff);
  assert.equal(rd32(mem, e.gdtBase + 0x1c), 0x00cf9300);
  assert.equal(rd64(mem, e.gdtBase), 0, 'null descriptor');
  assert.ok(e.gdtBase + e.gdtLimit < ZP, 'GDT below the zero page');
});

test('bzImage: setup_sects 0 means 4', () => {
  const img = makeBzImage({ setupSects: 0 });
  const info = parseBzImage(img);
  assert.equal(info.setupSects, 4);
  assert.equal(info.setupSize, 5 * 512);
  const mem = new PhysicalMemory(64 * MiB);
  loadBzImage(mem, img);
  assert.equal(mem.u8[0x100000], img[5 * 512]);
  assert.equal(mem.u8[0x100001], img[5 * 512 + 1]);
});

test('bzImage: initrd page-aligned at the top of RAM, below the margin', () => {
  const mem = new PhysicalMemory(64 * MiB);
  const rd = pattern(0x12345, 9);
  const r = loadBzImage(mem, makeBzImage(), { initrd: rd });
  const addr = rd32(mem, ZP + 0x218);
  assert.equal(rd32(mem, ZP + 0x21c), rd.length);
  assert.equal(addr % 4096, 0);
  assert.ok(addr + rd.length <= 64 * MiB - 0x10000);
  assert.ok(addr + rd.length + 4096 > 64 * MiB - 0x10000, 'as high as it can go');
  assert.deepEqual(mem.u8.subarray(addr, addr + rd.length), rd);
  assert.deepEqual(r.initrd, { addr, size: rd.length });
});

test('bzImage: initrd stays below initrd_addr_max', () => {
  const mem = new PhysicalMemory(64 * MiB);
  const rd = pattern(0x5000, 1);
  loadBzImage(mem, makeBzImage({ initrdAddrMax: 0x1ffffff }), { initrd: rd });
  const addr = rd32(mem, ZP + 0x218);
  assert.equal(addr, 0x2000000 - 0x5000);
  assert.ok(addr + rd.length - 1 <= 0x1ffffff);
});

test('initrd placement rule: min(initrd_addr_max, 0x37FFFFFF, RAM - margin), above the kernel', () => {
  // 1 GiB of RAM and a 64-bit kernel's 0x7FFFFFFF: the i386 lowmem limit wins.
  assert.equal(initrdAddress(1024 * MiB, 0x100000, 0x1400000, 0x7fffffff), 0x38000000 - 0x100000);
  // Small RAM: the top of RAM less the margin wins.
  assert.equal(initrdAddress(64 * MiB, 0x1800, 0x1400000, 0x7fffffff), 64 * MiB - 0x10000 - 0x2000);
  // initrd_addr_max wins.
  assert.equal(initrdAddress(64 * MiB, 0x1000, 0x1400000, 0x1ffffff), 0x1fff000);
  // Does not fit above the kernel.
  assert.throws(() => initrdAddress(32 * MiB, 20 * MiB, 0x1400000, 0x7fffffff), /give the guest at least 41 MiB/);
  assert.throws(() => initrdAddress(64 * MiB, 16 * MiB, 0x1400000, 0x1ffffff), /highest address this kernel accepts/);
});

test('bzImage errors: not a bzImage', () => {
  const mem = new PhysicalMemory(64 * MiB);
  throwsBoot(() => loadBzImage(mem, makeBzImage({ magic: 'XXXX' })), /not a bzImage: no "HdrS" magic at 0x202/);
  throwsBoot(() => loadBzImage(mem, makeBzImage({ bootFlag: 0x1234 })), /not a bzImage: no boot flag 0xAA55 at 0x1FE/);
  throwsBoot(() => loadBzImage(mem, new Uint8Array(100)), /100 bytes, too short to be a bzImage/);
});

test('bzImage errors: protocol older than 2.06 names the version', () => {
  const mem = new PhysicalMemory(64 * MiB);
  throwsBoot(() => loadBzImage(mem, makeBzImage({ version: 0x0204 })), /boot protocol 2\.04, too old: 2\.06 or newer/);
  assert.doesNotThrow(() => loadBzImage(new PhysicalMemory(64 * MiB), makeBzImage({ version: 0x0206, headerEnd: 0x23c })));
});

test('bzImage errors: not loadable high', () => {
  const mem = new PhysicalMemory(64 * MiB);
  throwsBoot(() => loadBzImage(mem, makeBzImage({ loadflags: 0 })), /zImage .*not loadable high/);
});

test('bzImage errors: truncated files', () => {
  const mem = new PhysicalMemory(64 * MiB);
  const img = makeBzImage({ pmSize: 0x3000 });
  throwsBoot(() => loadBzImage(mem, img.subarray(0, 5 * 512)), /truncated: 2560 bytes, but its real-mode setup alone is 2560 bytes/);
  throwsBoot(() => loadBzImage(mem, img.subarray(0, 5 * 512 + 0x1000)), /truncated: the header says 12288 bytes of protected-mode code, the file has 4096/);
  const noSys = makeBzImage({ pmSize: 0x3000, syssize: 0 });
  throwsBoot(() => loadBzImage(mem, noSys.subarray(0, 5 * 512 + 0x1000)), /truncated: its compressed payload ends at byte 12032 of the protected-mode part, which has 4096/);
});

test('bzImage errors: corrupt header length', () => {
  const mem = new PhysicalMemory(64 * MiB);
  throwsBoot(() => loadBzImage(mem, makeBzImage({ headerEnd: 0x220 })), /setup header ends at 0x220/);
});

test('bzImage errors: kernel or kernel + initrd too big for RAM', () => {
  // pref_address 16 MiB + init_size 4 MiB needs 20 MiB.
  throwsBoot(() => loadBzImage(new PhysicalMemory(16 * MiB), makeBzImage()), /needs RAM up to 0x1400000 .* the guest has 16 MiB; give it at least 20 MiB/);
  // With an initrd, one figure whatever the RAM: not first the kernel's, then the sum.
  throwsBoot(() => loadBzImage(new PhysicalMemory(16 * MiB), makeBzImage(), { initrd: new Uint8Array(8 * MiB) }), /the guest has 16 MiB; give it at least 29 MiB/);
  const mem = new PhysicalMemory(24 * MiB);
  throwsBoot(() => loadBzImage(mem, makeBzImage(), { initrd: new Uint8Array(8 * MiB) }), /needs RAM up to 0x1400000 \(19 MiB from 1 MiB, including the decompression buffer of its init_size\) and its initrd \(8 MiB\) above that, but the guest has 24 MiB; give it at least 29 MiB/);
  // Nothing was written when the load was refused.
  assert.equal(mem.u8[0x100000], 0);
  assert.equal(mem.u8[ZP + 0x202], 0);
  assert.equal(mem.u8[0xe0000], 0);
  // A relocatable kernel with an alignment above pref_address decompresses there.
  throwsBoot(() => loadBzImage(new PhysicalMemory(32 * MiB), makeBzImage({ relocatable: true, kernelAlignment: 0x2000000, prefAddress: 0x1000000 })), /needs RAM up to 0x2400000/);
  // Protocol 2.09 has no init_size: only the image itself must fit.
  assert.doesNotThrow(() => loadBzImage(new PhysicalMemory(4 * MiB), makeBzImage({ version: 0x0209 })));
});

test('bzImage errors: command line longer than cmdline_size, or with a NUL', () => {
  const mem = new PhysicalMemory(64 * MiB);
  throwsBoot(() => loadBzImage(mem, makeBzImage({ cmdlineSize: 10 }), { cmdline: 'console=ttyS0' }), /command line is 13 bytes; this kernel accepts at most 10/);
  assert.doesNotThrow(() => loadBzImage(mem, makeBzImage({ cmdlineSize: 13 }), { cmdline: 'console=ttyS0' }));
  throwsBoot(() => loadBzImage(mem, makeBzImage(), { cmdline: 'a\0b' }), /contains a NUL/);
});

test('bzImage: an x86-64 kernel needs a CPU with long mode', () => {
  const img = makeBzImage({ xloadflags: 0x1 | 0x2 });
  throwsBoot(() => loadBzImage(new PhysicalMemory(64 * MiB), img), /x86-64 .*XLF_KERNEL_64.*no long mode/);
  const r = loadBzImage(new PhysicalMemory(64 * MiB), img, { longMode: true });
  assert.equal(r.is64Bit, true);
  assert.equal(r.entry.eip, 0x100000);
  // Before protocol 2.12 there is no xloadflags to look at.
  assert.equal(parseBzImage(makeBzImage({ version: 0x020b, xloadflags: 1 })).is64Bit, false);
});

test('bzImage: acpi false leaves out the tables and the RSDP pointer', () => {
  const mem = new PhysicalMemory(64 * MiB);
  const r = loadBzImage(mem, makeBzImage(), { acpi: false });
  assert.equal(r.acpi, null);
  assert.equal(rd64(mem, ZP + 0x070), 0);
  assert.equal(mem.u8[ZP + 0x1e8], 4);
  assert.deepEqual([rd64(mem, ZP + 0x2d0 + 40), rd64(mem, ZP + 0x2d0 + 48), rd32(mem, ZP + 0x2d0 + 56)], [0xe0000, 0x20000, 2]);
  assert.equal(mem.u8[0xe0000], 0);
});

// Opportunistic: real kernels, when present — the default guest (guest/build.sh), a
// distribution kernel in /boot, or the file named by TYPEVISOR_TEST_BZIMAGE.
function realKernels(): string[] {
  const found: string[] = [];
  // From test/boot (tsx) or dist/test/boot (compiled): the repository's guest/ either way.
  for (const rel of ['../../guest/bzImage', '../../../guest/bzImage']) {
    const guest = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(guest)) { found.push(guest); break; }
  }
  if (existsSync('/boot')) for (const f of readdirSync('/boot')) if (f.startsWith('vmlinuz-')) found.push(`/boot/${f}`);
  const env = process.env['TYPEVISOR_TEST_BZIMAGE'];
  if (env !== undefined && existsSync(env)) found.push(env);
  return found;
}

test('real bzImages load (when present)', (t) => {
  const kernels = realKernels();
  if (kernels.length === 0) {
    t.skip('no guest/bzImage, /boot/vmlinuz-* or TYPEVISOR_TEST_BZIMAGE present');
    return;
  }
  for (const path of kernels) {
    const img = new Uint8Array(readFileSync(path));
    const info = parseBzImage(img);
    assert.ok(info.protocol >= 0x0206, path);
    assert.equal(info.header.length, 0x202 + img[0x201]! - 0x1f1);
    const mem = new PhysicalMemory(256 * MiB);
    const r = loadKernel(mem, img, { cmdline: 'console=ttyS0', initrd: pattern(MiB, 1), longMode: true });
    assert.equal(r.format, 'bzImage', path);
    assert.equal(r.entry.eip, 0x100000);
    assert.deepEqual(mem.u8.subarray(0x100000, 0x100100), img.subarray(info.setupSize, info.setupSize + 0x100));
    assert.ok(r.initrd !== null && r.initrd.addr >= r.kernel.end, `${path}: initrd above the kernel's buffer`);
    assert.equal(rd32(mem, ZP + 0x202), 0x53726448);
  }
});
