// Guest physical address space: RAM in one shared WebAssembly.Memory (its buffer is a
// SharedArrayBuffer), plus MMIO and ROM regions dispatched to handlers. Every access is
// bounds-checked here; nothing a guest does can reach host memory outside its own buffer.
//
// The buffer holds guest RAM at offset 0 and, after it, a host area that is never guest
// memory: the CPU's software TLB, its register file and the translator's slots, then the
// translator's map from code pages to translated regions (HOST_*). They live in the same
// memory so the binary translator's WebAssembly code (cpu/jit/) reaches guest RAM, the TLB,
// the registers and the other regions with plain loads and stores.

/** A device that answers memory-mapped accesses in a window of physical memory. */
export interface MmioHandler {
  /** Read `size` (1, 2 or 4) bytes at `offset` into the region. */
  read(offset: number, size: 1 | 2 | 4): number;
  /** Write `size` bytes at `offset`; value holds the low `size` bytes. */
  write(offset: number, size: 1 | 2 | 4, value: number): void;
}

export interface MmioRegion {
  readonly base: number;
  readonly size: number;
  readonly name: string;
  readonly handler: MmioHandler;
}

/** Physical pages are 4 KiB; page-granular facts (RAM or not) are kept per page. */
export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;

/** Host area after RAM: the TLB (one int32 per linear page), the register file and translator slots, the code map. */
export const HOST_TLB_BYTES = 4 << 20;
export const HOST_STATE_BYTES = 4096;
/** The code map: one int32 per RAM page and translator mode (two modes). */
export function codeMapBytes(ramSize: number): number { return (ramSize >>> 12) * 8; }
const WASM_PAGE = 65536;

/** Page kinds kept in `pageKind`. RAM pages are read/write directly from the buffer. */
export const PAGE_RAM = 0;
export const PAGE_ROM = 1; // reads from the buffer, writes are ignored
export const PAGE_MMIO = 2; // dispatched to an MmioHandler (or open bus)

export class PhysicalMemory {
  /** The memory (guest RAM, then the host area) as WebAssembly sees it. */
  readonly wasmMemory: WebAssembly.Memory;
  readonly buffer: SharedArrayBuffer;
  /** Offset of the host area: the TLB, then the CPU state (HOST_*), then the code map. */
  readonly hostBase: number;
  /** Offset of the translator's code map in the buffer. */
  readonly codeMapBase: number;
  readonly u8: Uint8Array;
  /** Bytes of guest RAM (a multiple of 4 KiB). */
  readonly ramSize: number;
  /** One byte per RAM page: PAGE_RAM or PAGE_ROM (MMIO above RAM is implied). */
  readonly pageKind: Uint8Array;
  private readonly regions: MmioRegion[] = [];
  /** Counts of MMIO accesses per region name, for --stats. */
  readonly mmioCounts = new Map<string, number>();
  /**
   * Called when a page that holds translated code is written, so the translator
   * can drop it. Set by the CPU; the bitmap marks pages that hold code.
   */
  readonly codePages: Uint8Array;
  onCodeWrite: ((page: number) => void) | null = null;
  /**
   * One byte per RAM page, set when the page may have been written since a RamHasher
   * (replay/stateHash.ts) last hashed it, so a checkpoint rehashes only those. Set by
   * every write here and by markWritten (loaders, device DMA); for the CPU's direct
   * writes through its TLB, when the TLB takes a writable entry (mmu.ts).
   */
  readonly dirtyPages: Uint8Array;

  constructor(ramSize: number) {
    if (!Number.isInteger(ramSize) || ramSize <= 0 || ramSize % PAGE_SIZE !== 0) {
      throw new RangeError(`guest RAM size must be a positive multiple of 4 KiB, got ${ramSize}`);
    }
    if (ramSize > 0xfe000000) throw new RangeError('guest RAM larger than the 32-bit physical space allows');
    this.ramSize = ramSize;
    this.hostBase = ramSize;
    this.codeMapBase = ramSize + HOST_TLB_BYTES + HOST_STATE_BYTES;
    const pages = Math.ceil((this.codeMapBase + codeMapBytes(ramSize)) / WASM_PAGE);
    this.wasmMemory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    this.buffer = this.wasmMemory.buffer as unknown as SharedArrayBuffer;
    this.u8 = new Uint8Array(this.buffer, 0, ramSize);
    this.pageKind = new Uint8Array(ramSize >>> PAGE_SHIFT);
    this.codePages = new Uint8Array(ramSize >>> PAGE_SHIFT);
    this.dirtyPages = new Uint8Array(ramSize >>> PAGE_SHIFT);
    // The legacy VGA window is a hole in RAM on a PC; with no VGA device it is open bus.
    this.markPages(0xa0000, 0x20000, PAGE_MMIO);
  }

  /** Set the kind of the RAM pages covering [base, base+size). */
  markPages(base: number, size: number, kind: number): void {
    const first = base >>> PAGE_SHIFT;
    const last = Math.min((base + size - 1) >>> PAGE_SHIFT, this.pageKind.length - 1);
    for (let p = first; p <= last; p++) this.pageKind[p] = kind;
  }

  /** Map a device window. Regions inside RAM turn those pages into MMIO holes. */
  addMmio(base: number, size: number, name: string, handler: MmioHandler): void {
    base >>>= 0;
    for (const r of this.regions) {
      if (base < r.base + r.size && r.base < base + size) {
        throw new RangeError(`MMIO region ${name} overlaps ${r.name}`);
      }
    }
    this.regions.push({ base, size, name, handler });
    this.regions.sort((a, b) => a.base - b.base);
    if (base < this.ramSize) this.markPages(base, size, PAGE_MMIO);
  }

  /**
   * Unmap the device window that starts at `base` (PCI BARs move when the guest
   * reprograms them). Only for windows above RAM; returns false when none starts there.
   */
  removeMmio(base: number): boolean {
    base >>>= 0;
    const i = this.regions.findIndex((r) => r.base === base);
    if (i < 0 || base < this.ramSize) return false;
    this.regions.splice(i, 1);
    return true;
  }

  /** Map a read-only image (firmware) at `base`; inside RAM it is copied and made ROM. */
  addRom(base: number, image: Uint8Array, name: string): void {
    base >>>= 0;
    if (base + image.length <= this.ramSize) {
      this.u8.set(image, base);
      this.markWritten(base, image.length);
      this.markPages(base, image.length, PAGE_ROM);
      return;
    }
    const rom = image;
    this.addMmio(base, image.length, name, {
      read(offset, size) {
        let v = 0;
        for (let i = size - 1; i >= 0; i--) v = (v << 8) | (rom[offset + i] ?? 0xff);
        return v >>> 0;
      },
      write() { /* ROM ignores writes */ },
    });
  }

  /** True when the page holding `addr` is plain RAM (fast path allowed for reads and writes). */
  isRamPage(addr: number): boolean {
    addr >>>= 0;
    return addr < this.ramSize && this.pageKind[addr >>> PAGE_SHIFT] === PAGE_RAM;
  }

  /** True when reads of the page can come straight from the buffer (RAM or ROM). */
  isReadablePage(addr: number): boolean {
    addr >>>= 0;
    return addr < this.ramSize && this.pageKind[addr >>> PAGE_SHIFT] !== PAGE_MMIO;
  }

  private findRegion(addr: number): MmioRegion | undefined {
    const rs = this.regions;
    for (let i = 0; i < rs.length; i++) {
      const r = rs[i]!;
      if (addr >= r.base && addr - r.base < r.size) return r;
    }
    return undefined;
  }

  private mmioRead(addr: number, size: 1 | 2 | 4): number {
    const r = this.findRegion(addr);
    if (r === undefined) return size === 1 ? 0xff : size === 2 ? 0xffff : -1; // open bus
    this.mmioCounts.set(r.name, (this.mmioCounts.get(r.name) ?? 0) + 1);
    return r.handler.read(addr - r.base, size);
  }

  private mmioWrite(addr: number, size: 1 | 2 | 4, value: number): void {
    const r = this.findRegion(addr);
    if (r === undefined) return;
    this.mmioCounts.set(r.name, (this.mmioCounts.get(r.name) ?? 0) + 1);
    r.handler.write(addr - r.base, size, value);
  }

  // Slow-path accessors: any physical address, any alignment. The CPU uses direct
  // buffer access for RAM pages it has in its TLB and comes here otherwise.

  read8(addr: number): number {
    addr >>>= 0;
    if (addr < this.ramSize && this.pageKind[addr >>> PAGE_SHIFT] !== PAGE_MMIO) return this.u8[addr]!;
    return this.mmioRead(addr, 1) & 0xff;
  }

  read16(addr: number): number {
    addr >>>= 0;
    if ((addr & 0xfff) === 0xfff) return this.read8(addr) | (this.read8(addr + 1) << 8);
    if (addr < this.ramSize && this.pageKind[addr >>> PAGE_SHIFT] !== PAGE_MMIO) {
      return this.u8[addr]! | (this.u8[addr + 1]! << 8);
    }
    return this.mmioRead(addr, 2) & 0xffff;
  }

  /** Returns a signed 32-bit value (use >>> 0 for unsigned). */
  read32(addr: number): number {
    addr >>>= 0;
    if ((addr & 0xfff) > 0xffc) return this.read16(addr) | (this.read16(addr + 2) << 16);
    if (addr < this.ramSize && this.pageKind[addr >>> PAGE_SHIFT] !== PAGE_MMIO) {
      const u8 = this.u8;
      return u8[addr]! | (u8[addr + 1]! << 8) | (u8[addr + 2]! << 16) | (u8[addr + 3]! << 24);
    }
    return this.mmioRead(addr, 4) | 0;
  }

  write8(addr: number, value: number): void {
    addr >>>= 0;
    if (addr < this.ramSize) {
      const page = addr >>> PAGE_SHIFT;
      const kind = this.pageKind[page];
      if (kind === PAGE_RAM) {
        this.u8[addr] = value;
        this.dirtyPages[page] = 1;
        if (this.codePages[page] !== 0) this.onCodeWrite?.(page);
        return;
      }
      if (kind === PAGE_ROM) return;
    }
    this.mmioWrite(addr, 1, value & 0xff);
  }

  write16(addr: number, value: number): void {
    addr >>>= 0;
    if ((addr & 0xfff) === 0xfff || !(addr < this.ramSize && this.pageKind[addr >>> PAGE_SHIFT] === PAGE_RAM)) {
      if (addr < this.ramSize && (addr & 0xfff) !== 0xfff && this.pageKind[addr >>> PAGE_SHIFT] === PAGE_MMIO) {
        this.mmioWrite(addr, 2, value & 0xffff);
        return;
      }
      this.write8(addr, value);
      this.write8(addr + 1, value >>> 8);
      return;
    }
    this.u8[addr] = value;
    this.u8[addr + 1] = value >>> 8;
    const page = addr >>> PAGE_SHIFT;
    this.dirtyPages[page] = 1;
    if (this.codePages[page] !== 0) this.onCodeWrite?.(page);
  }

  write32(addr: number, value: number): void {
    addr >>>= 0;
    if ((addr & 0xfff) > 0xffc || !(addr < this.ramSize && this.pageKind[addr >>> PAGE_SHIFT] === PAGE_RAM)) {
      if ((addr & 0xfff) <= 0xffc && !(addr < this.ramSize && this.pageKind[addr >>> PAGE_SHIFT] !== PAGE_MMIO)) {
        this.mmioWrite(addr, 4, value | 0);
        return;
      }
      this.write16(addr, value);
      this.write16(addr + 2, value >>> 16);
      return;
    }
    const u8 = this.u8;
    u8[addr] = value;
    u8[addr + 1] = value >>> 8;
    u8[addr + 2] = value >>> 16;
    u8[addr + 3] = value >>> 24;
    const page = addr >>> PAGE_SHIFT;
    this.dirtyPages[page] = 1;
    if (this.codePages[page] !== 0) this.onCodeWrite?.(page);
  }

  /** Copy bytes into guest RAM (loaders). Throws RangeError when it does not fit. */
  load(addr: number, data: Uint8Array): void {
    if (addr < 0 || addr + data.length > this.ramSize) {
      throw new RangeError(`image of ${data.length} bytes at 0x${addr.toString(16)} does not fit in ${this.ramSize >>> 20} MiB of RAM`);
    }
    this.u8.set(data, addr);
    this.markWritten(addr, data.length);
  }

  /**
   * After something other than the CPU wrote RAM [addr, addr+len) directly (a loader,
   * device DMA, a snapshot's restore): mark the pages written and let the translator
   * drop code on them, as a CPU store would.
   */
  markWritten(addr: number, len: number): void {
    if (len <= 0) return;
    const last = Math.min((addr + len - 1) >>> PAGE_SHIFT, this.dirtyPages.length - 1);
    const code = this.codePages, hook = this.onCodeWrite;
    for (let p = addr >>> PAGE_SHIFT; p <= last; p++) {
      this.dirtyPages[p] = 1;
      if (code[p] !== 0 && hook !== null) hook(p);
    }
  }
}
