// Linux/x86 boot protocol 2.06+ (Documentation/arch/x86/boot.rst, zero-page.rst), the
// 32-bit entry as direct-boot VMMs use it: the protected-mode part of a bzImage at
// 1 MiB, boot_params built by the loader, entry at code32_start with ESI = boot_params.

import type { PhysicalMemory } from '../memory/PhysicalMemory.js';
import { flat32Entry } from './BootEntry.js';
import { BootError, hex, size } from './BootError.js';
import type { E820Entry } from './E820.js';
import { alignUp, fill, get16, get32, get64, get8, put16, put32, put64, put8, putBytes } from './GuestBytes.js';
import { cmdlineBytes, initrdAddress, ramNeeded, setupPlatform, writeCmdline, type KernelOptions, type LoadedKernel } from './KernelLoad.js';
import { KERNEL_BASE, ZERO_PAGE } from './Layout.js';

// boot_params offsets (zero-page.rst)
export const BP_ACPI_RSDP_ADDR = 0x070;
export const BP_EXT_RAMDISK_IMAGE = 0x0c0;
export const BP_EXT_RAMDISK_SIZE = 0x0c4;
export const BP_EXT_CMD_LINE_PTR = 0x0c8;
export const BP_ALT_MEM_K = 0x1e0;
export const BP_E820_ENTRIES = 0x1e8;
export const BP_SENTINEL = 0x1ef;
export const BP_E820_TABLE = 0x2d0;
export const BP_E820_MAX = 128;

// setup header offsets (boot.rst), the same in the image file and in boot_params
export const HDR_START = 0x1f1;
export const HDR_SETUP_SECTS = 0x1f1;
export const HDR_ROOT_FLAGS = 0x1f2;
export const HDR_SYSSIZE = 0x1f4;
export const HDR_VID_MODE = 0x1fa;
export const HDR_BOOT_FLAG = 0x1fe;
export const HDR_JUMP = 0x200;
export const HDR_HEADER = 0x202;
export const HDR_VERSION = 0x206;
export const HDR_TYPE_OF_LOADER = 0x210;
export const HDR_LOADFLAGS = 0x211;
export const HDR_CODE32_START = 0x214;
export const HDR_RAMDISK_IMAGE = 0x218;
export const HDR_RAMDISK_SIZE = 0x21c;
export const HDR_HEAP_END_PTR = 0x224;
export const HDR_EXT_LOADER_VER = 0x226;
export const HDR_EXT_LOADER_TYPE = 0x227;
export const HDR_CMD_LINE_PTR = 0x228;
export const HDR_INITRD_ADDR_MAX = 0x22c;
export const HDR_KERNEL_ALIGNMENT = 0x230;
export const HDR_RELOCATABLE = 0x234;
export const HDR_XLOADFLAGS = 0x236;
export const HDR_CMDLINE_SIZE = 0x238;
export const HDR_HARDWARE_SUBARCH = 0x23c;
export const HDR_PAYLOAD_OFFSET = 0x248;
export const HDR_PAYLOAD_LENGTH = 0x24c;
export const HDR_SETUP_DATA = 0x250;
export const HDR_PREF_ADDRESS = 0x258;
export const HDR_INIT_SIZE = 0x260;
/** boot_params.hdr may not run into edd_mbr_sig_buffer at 0x290. */
export const HDR_MAX_END = 0x290;

export const BOOT_FLAG_MAGIC = 0xaa55;
export const HDRS_MAGIC = 0x53726448; // "HdrS"

// loadflags
export const LOADED_HIGH = 1 << 0;
export const KEEP_SEGMENTS = 1 << 6;
export const CAN_USE_HEAP = 1 << 7;
// xloadflags
export const XLF_KERNEL_64 = 1 << 0;

export const MIN_PROTOCOL = 0x0206;
export const TYPE_OF_LOADER_UNDEFINED = 0xff;
export const VID_MODE_NORMAL = 0xffff;
/** End of setup stack/heap relative to the real-mode code, minus 0x200 (as with real-mode code at 0x10000 and the cmdline at 0x20000). */
export const HEAP_END_PTR = 0xfe00;
/** initrd_addr_max before protocol 2.03 (kept for the fabricated ELF header). */
export const DEFAULT_INITRD_ADDR_MAX = 0x37ffffff;

export function protocolString(v: number): string {
  return `${v >> 8}.${(v & 0xff).toString().padStart(2, '0')}`;
}

/** The facts of a bzImage setup header that loading depends on. */
export interface BzImageInfo {
  protocol: number;
  setupSects: number;
  /** Bytes before the protected-mode part: (setup_sects + 1) * 512. */
  setupSize: number;
  /** The setup header bytes, from 0x1F1 to 0x202 + byte at 0x201. */
  header: Uint8Array;
  loadflags: number;
  xloadflags: number;
  is64Bit: boolean;
  cmdlineSize: number;
  initrdAddrMax: number;
  relocatable: boolean;
  kernelAlignment: number;
  /** 0 before protocol 2.10. */
  prefAddress: number;
  /** 0 before protocol 2.10. */
  initSize: number;
}

export function isBzImage(image: Uint8Array): boolean {
  return image.length >= HDR_HEADER + 4 && get32(image, HDR_HEADER) === HDRS_MAGIC;
}

/** Validate a bzImage and read its setup header. Throws BootError with what is wrong. */
export function parseBzImage(image: Uint8Array): BzImageInfo {
  if (image.length < 0x400) {
    throw new BootError(`kernel image is ${image.length} bytes, too short to be a bzImage (truncated file?)`);
  }
  const hasHdrS = get32(image, HDR_HEADER) === HDRS_MAGIC;
  const hasFlag = get16(image, HDR_BOOT_FLAG) === BOOT_FLAG_MAGIC;
  if (!hasHdrS || !hasFlag) {
    const missing = [hasHdrS ? '' : '"HdrS" magic at 0x202', hasFlag ? '' : 'boot flag 0xAA55 at 0x1FE'].filter((s) => s).join(' and ');
    throw new BootError(`kernel image is not a bzImage: no ${missing}`);
  }
  const protocol = get16(image, HDR_VERSION);
  if (protocol < MIN_PROTOCOL) {
    throw new BootError(`kernel uses Linux boot protocol ${protocolString(protocol)}, too old: 2.06 or newer (Linux 2.6.22+) is required`);
  }
  const loadflags = get8(image, HDR_LOADFLAGS);
  if ((loadflags & LOADED_HIGH) === 0) {
    throw new BootError('kernel is a zImage that loads at 0x10000, not loadable high at 1 MiB: build a bzImage');
  }
  const headerEnd = HDR_HEADER + get8(image, HDR_JUMP + 1);
  if (headerEnd < HDR_CMDLINE_SIZE + 4 || headerEnd > HDR_MAX_END) {
    throw new BootError(`bzImage setup header ends at ${hex(headerEnd)} (from the jump at 0x200), which does not fit protocol ${protocolString(protocol)}; the image is corrupt`);
  }
  const rawSects = get8(image, HDR_SETUP_SECTS);
  const setupSects = rawSects === 0 ? 4 : rawSects;
  const setupSize = (setupSects + 1) * 512;
  if (image.length <= setupSize) {
    throw new BootError(`kernel image is truncated: ${image.length} bytes, but its real-mode setup alone is ${setupSize} bytes`);
  }
  const pmSize = image.length - setupSize;
  const syssize = get32(image, HDR_SYSSIZE) * 16;
  if (syssize > pmSize + 64) {
    throw new BootError(`kernel image is truncated: the header says ${syssize} bytes of protected-mode code, the file has ${pmSize}`);
  }
  if (protocol >= 0x0208) {
    const payloadEnd = get32(image, HDR_PAYLOAD_OFFSET) + get32(image, HDR_PAYLOAD_LENGTH);
    if (payloadEnd > pmSize) {
      throw new BootError(`kernel image is truncated: its compressed payload ends at byte ${payloadEnd} of the protected-mode part, which has ${pmSize}`);
    }
  }
  const xloadflags = protocol >= 0x020c ? get16(image, HDR_XLOADFLAGS) : 0;
  return {
    protocol,
    setupSects,
    setupSize,
    header: image.slice(HDR_START, headerEnd),
    loadflags,
    xloadflags,
    is64Bit: (xloadflags & XLF_KERNEL_64) !== 0,
    cmdlineSize: get32(image, HDR_CMDLINE_SIZE),
    initrdAddrMax: get32(image, HDR_INITRD_ADDR_MAX),
    relocatable: get8(image, HDR_RELOCATABLE) !== 0,
    kernelAlignment: get32(image, HDR_KERNEL_ALIGNMENT),
    prefAddress: protocol >= 0x020a ? get64(image, HDR_PREF_ADDRESS) : 0,
    initSize: protocol >= 0x020a ? get32(image, HDR_INIT_SIZE) : 0,
  };
}

/**
 * End of the memory the kernel uses while it starts: the loaded image, and (2.10+)
 * the init_size buffer at the address it decompresses to (pref_address, or for a
 * relocatable kernel the load address rounded up to kernel_alignment if that is higher).
 */
export function kernelFootprintEnd(info: BzImageInfo, pmSize: number): number {
  let end = KERNEL_BASE + pmSize;
  if (info.initSize > 0) {
    let runStart = info.prefAddress > 0 ? info.prefAddress : KERNEL_BASE;
    if (info.relocatable && info.kernelAlignment > 0) {
      runStart = Math.max(runStart, alignUp(KERNEL_BASE, info.kernelAlignment));
    }
    end = Math.max(end, runStart + info.initSize);
  }
  return end;
}

export interface BootParamsFields {
  /** Setup header bytes copied to 0x1F1 (from the bzImage), or null to fabricate one (ELF vmlinux). */
  header: Uint8Array | null;
  code32Start: number;
  cmdline: { addr: number; size: number };
  initrd: { addr: number; size: number } | null;
  e820: readonly E820Entry[];
  rsdp: number | null;
  /** cmdline_size for a fabricated header. */
  cmdlineMax?: number;
}

/** Build boot_params at ZERO_PAGE. Returns its address. */
export function writeBootParams(mem: PhysicalMemory, f: BootParamsFields): number {
  const zp = ZERO_PAGE;
  fill(mem, zp, 0x1000);
  if (f.header !== null) {
    putBytes(mem, zp + HDR_START, f.header, 'setup header');
  } else {
    // A minimal protocol 2.15 header for a kernel that has none (ELF vmlinux).
    put16(mem, zp + HDR_BOOT_FLAG, BOOT_FLAG_MAGIC);
    put32(mem, zp + HDR_HEADER, HDRS_MAGIC);
    put16(mem, zp + HDR_VERSION, 0x020f);
    put32(mem, zp + HDR_INITRD_ADDR_MAX, DEFAULT_INITRD_ADDR_MAX);
    put32(mem, zp + HDR_CMDLINE_SIZE, f.cmdlineMax ?? 2047);
  }
  put16(mem, zp + HDR_VID_MODE, VID_MODE_NORMAL);
  put8(mem, zp + HDR_TYPE_OF_LOADER, TYPE_OF_LOADER_UNDEFINED);
  const lf = mem.u8[zp + HDR_LOADFLAGS]!;
  put8(mem, zp + HDR_LOADFLAGS, (lf & ~KEEP_SEGMENTS) | LOADED_HIGH | CAN_USE_HEAP);
  put32(mem, zp + HDR_CODE32_START, f.code32Start);
  put32(mem, zp + HDR_RAMDISK_IMAGE, f.initrd?.addr ?? 0);
  put32(mem, zp + HDR_RAMDISK_SIZE, f.initrd?.size ?? 0);
  put16(mem, zp + HDR_HEAP_END_PTR, HEAP_END_PTR);
  put8(mem, zp + HDR_EXT_LOADER_VER, 0);
  put8(mem, zp + HDR_EXT_LOADER_TYPE, 0);
  put32(mem, zp + HDR_CMD_LINE_PTR, f.cmdline.addr);
  put64(mem, zp + HDR_SETUP_DATA, 0);

  if (f.rsdp !== null) put64(mem, zp + BP_ACPI_RSDP_ADDR, f.rsdp);
  const ram = f.e820.filter((e) => e.type === 1 && e.addr === KERNEL_BASE)[0];
  put32(mem, zp + BP_ALT_MEM_K, ram === undefined ? 0 : Math.floor(ram.size / 1024));
  if (f.e820.length > BP_E820_MAX) throw new BootError(`memory map has ${f.e820.length} entries; boot_params holds ${BP_E820_MAX}`);
  put8(mem, zp + BP_E820_ENTRIES, f.e820.length);
  f.e820.forEach((e, i) => {
    const at = zp + BP_E820_TABLE + i * 20;
    put64(mem, at, e.addr);
    put64(mem, at + 8, e.size);
    put32(mem, at + 16, e.type);
  });
  return zp;
}

/** Load a bzImage for the 32-bit boot protocol. */
export function loadBzImage(mem: PhysicalMemory, image: Uint8Array, opts: KernelOptions = {}): LoadedKernel {
  const info = parseBzImage(image);
  if (info.is64Bit && opts.longMode !== true) {
    throw new BootError('kernel is x86-64 (xloadflags has XLF_KERNEL_64) and this CPU has no long mode: use an i386 kernel or a CPU backend with long mode');
  }
  const pm = image.subarray(info.setupSize);
  const kernelEnd = kernelFootprintEnd(info, pm.length);
  const rd = opts.initrd !== undefined && opts.initrd.length > 0 ? opts.initrd : null;
  // One figure for the kernel's boot-protocol needs and the initrd above them.
  const need = ramNeeded(kernelEnd, rd?.length ?? 0);
  if (need > mem.ramSize) {
    throw new BootError(`kernel needs RAM up to ${hex(kernelEnd)} (${size(kernelEnd - KERNEL_BASE)} from 1 MiB, including the decompression buffer of its init_size)${rd === null ? '' : ` and its initrd (${size(rd.length)}) above that`}, but the guest has ${size(mem.ramSize)}; give it at least ${Math.ceil(need / (1 << 20))} MiB`);
  }
  // Everything that can be refused is checked before guest memory is touched.
  const clBytes = cmdlineBytes(opts.cmdline ?? '', info.cmdlineSize);
  const rdAddr = rd === null ? 0 : initrdAddress(mem.ramSize, rd.length, kernelEnd, info.initrdAddrMax);

  const { acpi, e820 } = setupPlatform(mem, opts);
  const cl = writeCmdline(mem, clBytes);
  putBytes(mem, KERNEL_BASE, pm, 'kernel');
  let initrd: { addr: number; size: number } | null = null;
  if (rd !== null) {
    putBytes(mem, rdAddr, rd, 'initrd');
    initrd = { addr: rdAddr, size: rd.length };
  }
  const zp = writeBootParams(mem, {
    header: info.header, code32Start: KERNEL_BASE, cmdline: cl, initrd, e820, rsdp: acpi?.rsdp ?? null,
  });
  const warnings: string[] = [];
  return {
    format: 'bzImage',
    entry: flat32Entry(mem, KERNEL_BASE, { esi: zp }),
    e820, acpi,
    kernel: { base: KERNEL_BASE, end: kernelEnd },
    initrd, cmdline: cl, bootInfo: zp,
    protocol: info.protocol, is64Bit: info.is64Bit,
    warnings,
  };
}
