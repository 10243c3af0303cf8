// Builders of small synthetic kernel images for the boot tests.

export class Bytes {
  readonly u8: Uint8Array;
  private readonly dv: DataView;
  constructor(len: number) {
    this.u8 = new Uint8Array(len);
    this.dv = new DataView(this.u8.buffer);
  }
  b(off: number, v: number): this { this.dv.setUint8(off, v); return this; }
  w(off: number, v: number): this { this.dv.setUint16(off, v, true); return this; }
  d(off: number, v: number): this { this.dv.setUint32(off, v >>> 0, true); return this; }
  q(off: number, v: number): this { this.d(off, v % 0x100000000); this.d(off + 4, Math.floor(v / 0x100000000)); return this; }
  s(off: number, str: string): this { for (let i = 0; i < str.length; i++) this.u8[off + i] = str.charCodeAt(i); return this; }
}

export interface BzOptions {
  version?: number;
  setupSects?: number;
  loadflags?: number;
  pmSize?: number;
  xloadflags?: number;
  cmdlineSize?: number;
  initrdAddrMax?: number;
  prefAddress?: number;
  initSize?: number;
  relocatable?: boolean;
  kernelAlignment?: number;
  headerEnd?: number;
  bootFlag?: number;
  magic?: string;
  syssize?: number;
}

/** A fake bzImage: setup sectors with a setup header, then a patterned protected-mode part. */
export function makeBzImage(o: BzOptions = {}): Uint8Array {
  const sects = o.setupSects ?? 4;
  const setup = ((sects === 0 ? 4 : sects) + 1) * 512;
  const pmSize = o.pmSize ?? 0x3000;
  const img = new Bytes(setup + pmSize);
  const headerEnd = o.headerEnd ?? 0x26c;
  img.b(0x1f1, sects)
    .w(0x1f2, 1) // root_flags
    .d(0x1f4, o.syssize ?? Math.ceil(pmSize / 16))
    .w(0x1fa, 0xfffd) // vid_mode as the image has it (ASK)
    .w(0x1fc, 0x0301) // root_dev
    .w(0x1fe, o.bootFlag ?? 0xaa55)
    .b(0x200, 0xeb).b(0x201, headerEnd - 0x202)
    .s(0x202, o.magic ?? 'HdrS')
    .w(0x206, o.version ?? 0x020f)
    .w(0x20e, 0x1234) // kernel_version pointer
    .b(0x211, o.loadflags ?? 0x01)
    .d(0x214, 0x100000)
    .d(0x22c, o.initrdAddrMax ?? 0x7fffffff)
    .d(0x230, o.kernelAlignment ?? 0x1000000)
    .b(0x234, o.relocatable === true ? 1 : 0)
    .b(0x235, 12)
    .w(0x236, o.xloadflags ?? 0)
    .d(0x238, o.cmdlineSize ?? 2047)
    .d(0x248, 0x100) // payload_offset
    .d(0x24c, pmSize - 0x200) // payload_length
    .q(0x258, o.prefAddress ?? 0x1000000)
    .d(0x260, o.initSize ?? 0x400000)
    .d(0x268, 0x1d0); // kernel_info_offset
  // Bytes after the header that must not reach boot_params.
  for (let i = headerEnd; i < 0x290; i++) img.u8[i] = 0xcc;
  img.u8[0x1ef] = 0xff; // the image's sentinel byte
  for (let i = 0; i < pmSize; i++) img.u8[setup + i] = (i * 7 + 3) & 0xff;
  return img.u8;
}

export interface ElfSeg {
  vaddr: number;
  paddr: number;
  data: Uint8Array;
  memsz?: number;
  type?: number;
}

export interface ElfOptions {
  entry: number;
  segments: ElfSeg[];
  cls?: number;
  data?: number;
  machine?: number;
  type?: number;
  /** Bytes placed at file offset 0x80 (before the segment data), e.g. a multiboot header. */
  extra?: Uint8Array;
}

/** A minimal ELF32 executable: header, program headers, segment data one after another. */
export function makeElf(o: ElfOptions): Uint8Array {
  const phoff = 52;
  let off = Math.max(0x100, 0x80 + (o.extra?.length ?? 0));
  const placed = o.segments.map((s) => {
    const at = off;
    off += s.data.length;
    return at;
  });
  const img = new Bytes(off);
  img.b(0, 0x7f).s(1, 'ELF').b(4, o.cls ?? 1).b(5, o.data ?? 1).b(6, 1)
    .w(16, o.type ?? 2).w(18, o.machine ?? 3).d(20, 1).d(24, o.entry).d(28, phoff)
    .w(40, 52).w(42, 32).w(44, o.segments.length);
  o.segments.forEach((s, i) => {
    const ph = phoff + i * 32;
    img.d(ph, s.type ?? 1).d(ph + 4, placed[i]!).d(ph + 8, s.vaddr).d(ph + 12, s.paddr)
      .d(ph + 16, s.data.length).d(ph + 20, s.memsz ?? s.data.length).d(ph + 24, 5).d(ph + 28, 0x1000);
    img.u8.set(s.data, placed[i]!);
  });
  if (o.extra !== undefined) img.u8.set(o.extra, 0x80);
  return img.u8;
}

export function pattern(len: number, seed: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = (i * 13 + seed) & 0xff;
  return out;
}

/** A multiboot header (12 bytes, or 32 with the a.out kludge fields). */
export function multibootHeader(flags: number, aout?: { headerAddr: number; loadAddr: number; loadEndAddr: number; bssEndAddr: number; entry: number }, checksumDelta = 0): Uint8Array {
  const h = new Bytes(aout === undefined ? 12 : 32);
  h.d(0, 0x1badb002).d(4, flags).d(8, (-(0x1badb002 + flags) + checksumDelta) >>> 0);
  if (aout !== undefined) h.d(12, aout.headerAddr).d(16, aout.loadAddr).d(20, aout.loadEndAddr).d(24, aout.bssEndAddr).d(28, aout.entry);
  return h.u8;
}

export function rd32(mem: { u8: Uint8Array }, addr: number): number {
  const b = mem.u8;
  return (b[addr]! | (b[addr + 1]! << 8) | (b[addr + 2]! << 16) | (b[addr + 3]! << 24)) >>> 0;
}
export function rd16(mem: { u8: Uint8Array }, addr: number): number {
  return mem.u8[addr]! | (mem.u8[addr + 1]! << 8);
}
export function rd64(mem: { u8: Uint8Array }, addr: number): number {
  return rd32(mem, addr) + rd32(mem, addr + 4) * 0x100000000;
}
export function cstr(mem: { u8: Uint8Array }, addr: number): string {
  let end = addr;
  while (mem.u8[end] !== 0) end++;
  return new TextDecoder().decode(mem.u8.subarray(addr, end));
}

/**
 * A multiboot v1 kernel (a.out kludge) whose code starts right after the header.
 * Loaded at 1 MiB, entered in flat 32-bit protected mode.
 */
export function multibootKernel(code: number[]): Uint8Array {
  const load = 0x100000;
  const hdr = 48;
  const size = hdr + code.length;
  const img = new Uint8Array(size);
  const dv = new DataView(img.buffer);
  const flags = 0x00010000; // bit 16: addresses in the header
  dv.setUint32(0, 0x1badb002, true);
  dv.setUint32(4, flags, true);
  dv.setUint32(8, (-(0x1badb002 + flags)) >>> 0, true);
  dv.setUint32(12, load, true); // header_addr
  dv.setUint32(16, load, true); // load_addr
  dv.setUint32(20, load + size, true); // load_end_addr
  dv.setUint32(24, load + size, true); // bss_end_addr
  dv.setUint32(28, load + hdr, true); // entry_addr
  img.set(code, hdr);
  return img;
}

// Machine code for those kernels (32-bit).
export const movDxImm16 = (v: number): number[] => [0x66, 0xba, v & 0xff, v >> 8];
export const movAxImm16 = (v: number): number[] => [0x66, 0xb8, v & 0xff, v >> 8];
export const movAlImm8 = (v: number): number[] => [0xb0, v];
export const outDxAx = [0x66, 0xef];
export const outDxAl = [0xee];
export const cli = [0xfa];
export const hlt = [0xf4];
export const jmpSelf = [0xeb, 0xfe];
/** ACPI S5: SLP_TYP=5 | SLP_EN to PM1a_CNT (0x604), then spin until the machine stops. */
export const powerOff = [...movDxImm16(0x604), ...movAxImm16((5 << 10) | (1 << 13)), ...outDxAx, ...jmpSelf];
