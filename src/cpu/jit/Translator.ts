// The binary translator's dispatcher and code cache. Between regions it does what the
// interpreter's run loop does at every instruction boundary (interrupts, the STI/MOV SS
// shadow, halts), then finds the region for CS:EIP: the code cache is keyed by the
// physical page of the code and the mode it was translated for (Cpu.jitMode), so every
// linear alias of a page, and every process that maps the same page, shares it. Code that
// is not hot yet runs in the interpreter a block at a time while each page counts how
// often it was entered and where; a page entered often enough is translated with all the
// entry points seen, and translated again when a new entry point becomes hot.
//
// Self-modifying code: a page with translations is marked in PhysicalMemory.codePages and
// in the TLB (TLB_CODE), so every write to it, by the CPU (any linear alias) or by a
// device (GuestRam), reaches invalidatePage(), which drops the page's regions and asks
// the running region to leave after the current instruction. A page rewritten again and
// again waits longer each time before it is translated again.
//
// Execute permission (PAE XD) belongs to a linear mapping, not to the physical page: the
// key leaves it out, and every way into translated code (this dispatcher, a region's chain
// to the next) first requires the EIP page's TLB entry to be readable without TLB_NOEXEC.
// An execute-disabled alias of a translated page thus reaches the interpreter, whose
// fetch walks the page tables and raises the #PF.

import { ESP, FLAG_IF, FLAG_TF } from '../constants.js';
import { FAULT, HOST_REGS, HOST_SLOTS, HOST_TLB, type Cpu, type ExecutionEngine } from '../Cpu.js';
import { TLB_CODE, TLB_NOEXEC, TLB_VALID, translateSlow } from '../mmu.js';
import type { PhysicalMemory } from '../../memory/PhysicalMemory.js';
import { type CompiledRegion, type RegionTarget, compileRegion } from './compile.js';
import { EXIT_CPU_EIP, EXIT_FAULT } from './Emitter.js';
import { S_BASE, S_EIP, S_FA, S_FB, S_FK, S_FR, S_FX, S_N, S_SITE } from './slots.js';
import { flagImports, flagsOut } from './runtime.js';
import { rdtsc } from '../system.js';
import { portIn, portOut } from '../io.js';
import { scanRegion } from './scan.js';
import { buildMemoryHelpers } from './memoryHelpers.js';
import { preferBaselineWasm } from './wasmTiering.js';

/** PAE frames may lie at or above 4 GiB (MAXPHYADDR 36): never RAM. */
const FOUR_GIB = 4294967296;

/** Thrown by a memory slow path of translated code for an access only the interpreter may make. */
const NEEDS_INTERPRETER: { readonly needsInterpreter: true } = Object.freeze({ needsInterpreter: true });

export interface TranslatorOptions {
  /** Code cache size cap in bytes of generated source (default 64 MiB). */
  cacheBytes?: number;
  /** Instructions interpreted in a page before it is translated (default 50 000). */
  threshold?: number;
  /** Most instructions translated into one region (default 1500). */
  maxRegionInsns?: number;
  /**
   * Instructions a region runs, per byte of its code, before it is compiled again by the
   * optimizing compiler (default 10 000): its compile time grows with the size, and a
   * region must run long after it to repay it (TurboFan's code is 5-25% faster here).
   */
  tierUpInsnsPerByte?: number;
}

/** What the translator has done, for --stats and the live counters. */
export interface TranslatorStats {
  /** Regions compiled (pages, including recompilations with new entry points). */
  regionsCompiled: number;
  /** Of those, compiled again by the optimizing compiler because they ran long. */
  regionsOptimized: number;
  blocksCompiled: number;
  insnsCompiled: number;
  /** Host milliseconds spent scanning and compiling. */
  compileMs: number;
  /** Region entries that ran translated code. */
  cacheHits: number;
  /** Guest instructions retired in translated code (the rest ran in the interpreter). */
  translatedInsns: number;
  /** Regions dropped because their page was written. */
  invalidations: number;
  /** Regions dropped to keep the cache under its cap. */
  evictions: number;
  /** Generated source bytes of the regions now cached. */
  cacheBytes: number;
  /** Regions now cached. */
  regions: number;
}

interface Region extends CompiledRegion {
  /** Page offsets the region was compiled from. */
  entries: Set<number>;
  /** Its slot in the shared function table. */
  slot: number;
  /** Instructions retired by runs entered here (chained regions' included): where time goes, roughly. */
  ran: number;
  /** Compiled by the optimizing compiler. */
  optimized: boolean;
}

/** Most regions alive at once (the shared table's size). */
const TABLE_MAX = 16384;

export class Translator implements ExecutionEngine {
  /** Region per key (physical page << 1 | mode), RAM pages only (only they are translated). */
  private readonly regionAt: (Region | undefined)[];
  /**
   * Instructions interpreted in each key's page since its last translation; a page is
   * translated when this reaches the threshold. Negative while a rewritten page cools down.
   */
  private readonly heat: Int32Array;
  /** Entry offsets seen in warm pages (heat past a quarter of the threshold). */
  private readonly entries = new Map<number, Int32Array>();
  /** Times each page's translations were dropped by writes. */
  private readonly rewrites = new Map<number, number>();
  /** Keys with a region, oldest first (eviction order). */
  private readonly live = new Set<number>();
  private readonly cap: number;
  private readonly threshold: number;
  private readonly maxInsns: number;
  private readonly tierUp: number;
  readonly stats: TranslatorStats = {
    regionsCompiled: 0, regionsOptimized: 0, blocksCompiled: 0, insnsCompiled: 0, compileMs: 0, cacheHits: 0, translatedInsns: 0,
    invalidations: 0, evictions: 0, cacheBytes: 0, regions: 0,
  };
  private cpu: Cpu | null = null;
  private target: RegionTarget | null = null;
  /** Regions by slot, so a region can tail-call another (the code map in the host area names the slot). */
  private readonly table = new WebAssembly.Table({ element: 'anyfunc', initial: 64, maximum: TABLE_MAX });
  private readonly freeSlots: number[] = [];
  private nextSlot = 0;
  /** key → slot + 1 of its region (0: none), in the memory's host area where regions read it. */
  private readonly codeMap: Int32Array;
  /** The dispatcher's call into translated code now running: the count at entry, the mode. */
  private ins0 = 0;
  private mode = 0;

  constructor(private readonly mem: PhysicalMemory, opts: TranslatorOptions = {}) {
    preferBaselineWasm();
    this.cap = opts.cacheBytes ?? 64 << 20;
    this.threshold = opts.threshold ?? 50_000;
    this.maxInsns = opts.maxRegionInsns ?? 1500;
    this.tierUp = opts.tierUpInsnsPerByte ?? 10_000;
    const keys = (mem.ramSize >>> 12) << 1;
    this.regionAt = new Array<Region | undefined>(keys).fill(undefined);
    this.heat = new Int32Array(keys);
    this.codeMap = new Int32Array(mem.buffer, mem.codeMapBase, keys);
    this.codeMap.fill(0);
  }

  /** Make this the CPU's execution engine and watch its memory for writes to code. */
  attach(c: Cpu): void {
    this.cpu = c;
    c.engine = this;
    this.mem.onCodeWrite = (page) => this.invalidatePage(page);
    const s = c.jitSlots;
    s[S_SITE] = -1;
    const sync = (n: number): void => { c.instructions = this.ins0 + n; };
    // Run an instruction's semantics on the CPU for translated code (everything spilled):
    // its fault is delivered here, as after an interpreted instruction; 1 when the region
    // must leave (EIP moved, a fault, an exit request, another mode).
    const onCpu = (off: number, next: number, op: (c: Cpu, next: number) => void): number => {
      const base = s[S_BASE]!;
      flagsOut(c, s[S_FK]!, s[S_FA]!, s[S_FB]!, s[S_FR]!, s[S_FX]!);
      c.eip = (base + off) | 0;
      sync(s[S_N]!);
      try {
        op(c, (base + next) | 0);
      } catch (x) {
        if (x !== FAULT) throw x;
        c.faulted();
        return 1;
      }
      return c.eip !== ((base + next) | 0) || c.exitReq !== 0 || c.jitMode !== this.mode ? 1 : 0;
    };
    const stepOp = (cpu: Cpu): void => cpu.step();
    // Instructions whose semantics run straight from their operands (no decoder).
    let port = 0, size: 1 | 2 | 4 = 1;
    const begin = (cpu: Cpu): void => { cpu.startEip = cpu.eip; cpu.startEsp = cpu.regs[ESP]!; };
    const rdtscOp = (cpu: Cpu, next: number): void => { begin(cpu); rdtsc(cpu); cpu.eip = next; };
    const inOp = (cpu: Cpu, next: number): void => {
      begin(cpu);
      const v = portIn(cpu, port, size);
      if (size === 4) cpu.regs[0] = v; else if (size === 2) cpu.r16[0] = v; else cpu.r8[0] = v;
      cpu.eip = next;
    };
    const outOp = (cpu: Cpu, next: number): void => {
      begin(cpu);
      portOut(cpu, port, size, size === 4 ? cpu.regs[0]! : size === 2 ? cpu.r16[0]! : cpu.r8[0]!);
      cpu.eip = next;
    };
    // The memory slow paths: the page walk (a fault is thrown on to the region, which
    // leaves at the faulting instruction), and an access only the interpreter may make
    // (MMIO, ROM, a write to translated code: interrupts and invalidation are seen at its
    // instruction boundary) leaves the same way. The access's site is in the slot while
    // either may throw; neither needs the instruction count (no device is reached here).
    const mem = this.mem;
    const walk = (lin: number, size: number, write: boolean, site: number): void => {
      s[S_SITE] = site;
      const user = c.cpl === 3;
      // (A PAE frame above 4 GiB is never RAM: nothing is there.)
      let p = translateSlow(c, lin, write, user, false);
      if (p >= FOUR_GIB || !mem.isRamPage(p) || (write && mem.codePages[p >>> 12] !== 0)) throw NEEDS_INTERPRETER;
      if ((lin & 0xfff) + size > 0x1000) {
        p = translateSlow(c, (lin & ~0xfff) + 0x1000, write, user, false);
        if (p >= FOUR_GIB || !mem.isRamPage(p) || (write && mem.codePages[p >>> 12] !== 0)) throw NEEDS_INTERPRETER;
      }
      s[S_SITE] = -1;
    };
    const slow = {
      rd8: (lin: number, site: number) => { walk(lin, 1, false, site); return c.rd8(lin); },
      rd16: (lin: number, site: number) => { walk(lin, 2, false, site); return c.rd16(lin); },
      rd32: (lin: number, site: number) => { walk(lin, 4, false, site); return c.rd32(lin); },
      wr8: (lin: number, v: number, site: number) => { walk(lin, 1, true, site); c.wr8(lin, v); },
      wr16: (lin: number, v: number, site: number) => { walk(lin, 2, true, site); c.wr16(lin, v); },
      wr32: (lin: number, v: number, site: number) => { walk(lin, 4, true, site); c.wr32(lin, v); },
      rmw8: (lin: number, site: number) => { walk(lin, 1, true, site); return c.rd8(lin); },
      rmw16: (lin: number, site: number) => { walk(lin, 2, true, site); return c.rd16(lin); },
      rmw32: (lin: number, site: number) => { walk(lin, 4, true, site); return c.rd32(lin); },
      probe: (lin: number, size: number, site: number) => { walk(lin, size, true, site); },
    };
    const memoryPages = this.mem.buffer.byteLength / 65536;
    const helpers = buildMemoryHelpers(this.mem.wasmMemory, memoryPages,
      { tlbAt: this.mem.hostBase + HOST_TLB, regsAt: this.mem.hostBase + HOST_REGS, slotsAt: this.mem.hostBase + HOST_SLOTS },
      this.table, TABLE_MAX, slow);
    this.target = {
      memory: this.mem.wasmMemory,
      memoryPages,
      hostBase: this.mem.hostBase,
      regsOffset: HOST_REGS,
      slotsOffset: HOST_SLOTS,
      codeMapAt: this.mem.codeMapBase,
      instanceImports: { rt: {
        ...slow,
        ...helpers,
        segLin: (seg: number, off: number, size: number, write: number, site: number) => {
          s[S_SITE] = site;
          const lin = c.segLin(seg, off, size, write !== 0);
          s[S_SITE] = -1;
          return lin;
        },
        // An instruction the region leaves to the interpreter.
        step: (off: number, next: number) => onCpu(off, next, stepOp),
        rdtsc: (off: number, next: number) => onCpu(off, next, rdtscOp),
        pin: (off: number, next: number, p: number, sz: number) => { port = p; size = sz as 1 | 2 | 4; return onCpu(off, next, inOp); },
        pout: (off: number, next: number, p: number, sz: number) => { port = p; size = sz as 1 | 2 | 4; return onCpu(off, next, outOp); },
        ...flagImports(c),
        mem: this.mem.wasmMemory,
      } as Record<string, WebAssembly.ImportValue> },
    };
  }

  execute(c: Cpu): void {
    const tlb = c.tlb;
    while (c.instructions < c.budgetEnd) {
      if (c.irqPending && (c.flags & FLAG_IF) !== 0) {
        // As the interpreter: the interrupt is taken here, or after the one instruction
        // an STI or MOV SS shadows.
        if (c.instructions !== c.inhibitAt) c.takeInterrupt(); else c.stepBlock(1);
        if (c.halted || c.shutdownReason !== '') return;
        continue;
      }
      if (c.halted || c.jitMode < 0 || (c.flags & FLAG_TF) !== 0) return;
      const eip = c.eip;
      const e = tlb[eip >>> 12]!;
      if ((e & (c.tlbReadMask | TLB_NOEXEC)) !== TLB_VALID) { this.interpret(c, -1); continue; }
      const key = ((e >>> 12) << 1) | c.jitMode;
      const r = this.regionAt[key];
      if (r !== undefined && r.starts[eip & 0xfff] !== 0) {
        if (r.ran > r.bytes * this.tierUp && !r.optimized) {
          r.optimized = true; // tried once, whatever comes of it
          this.translate(c, key, eip, e & ~0xfff, true);
        }
        if (this.runRegion(c, this.regionAt[key]!, eip)) { this.stats.cacheHits++; continue; }
        c.stepBlock(64); // too little budget left for the block
        c.resumeEip = c.eip;
        continue;
      }
      let due = this.threshold;
      if (r !== undefined && eip === c.resumeEip) {
        // Back inside a block (IRET, or the slice before ended there): interpreted to the
        // block's end, not noted as an entry, which would split the region's blocks at
        // every instruction interrupts land on.
        c.resumeEip = -1;
        this.interpret(c, -1);
        continue;
      }
      if (r !== undefined) {
        // A way into a translated page that its region lacks: noted for the next translation,
        // which comes sooner than a cold page's first (the page has proved hot).
        this.noteEntry(key, eip);
        due >>= 2;
      }
      if (this.heat[key]! >= due && this.translate(c, key, eip, e & ~0xfff)) continue;
      this.interpret(c, key);
    }
  }

  /** Run region `r` from EIP (a block start); false when it could not start (budget). */
  private runRegion(c: Cpu, r: Region, eip: number): boolean {
    const s = c.jitSlots;
    const ins0 = c.instructions;
    this.ins0 = ins0;
    this.mode = c.jitMode;
    c.exitReq = 0;
    s[S_FK] = 0; // the flags are in the CPU
    const status = r.run(eip & 0xfff, eip & ~0xfff, Math.min(c.budgetEnd - ins0, 0x7fffffff), 0);
    const n = s[S_N]!;
    r.ran += n;
    c.instructions = ins0 + n;
    this.stats.translatedInsns += n;
    if (status !== EXIT_CPU_EIP) c.eip = s[S_EIP]!;
    flagsOut(c, s[S_FK]!, s[S_FA]!, s[S_FB]!, s[S_FR]!, s[S_FX]!);
    if (status === EXIT_FAULT) {
      // A memory access the region may not make (a fault, MMIO, a write to translated code)
      // left it at its instruction: the interpreter runs that one instruction.
      c.excVector = -1;
      c.stepBlock(1);
      return true;
    }
    return n !== 0;
  }

  /**
   * Interpret from EIP, counting instructions into the page's heat, until the budget
   * ends, an interrupt is due, the CPU halts or leaves the translator's modes, or control
   * reaches a page (at a jump, or running on into the next page) that has a region or is
   * hot enough to translate.
   */
  private interpret(c: Cpu, key: number): void {
    const tlb = c.tlb, heat = this.heat, regionAt = this.regionAt, threshold = this.threshold;
    let page = c.eip & ~0xfff;
    let from = c.instructions;
    while (c.instructions < c.budgetEnd) {
      if (c.irqPending && (c.flags & FLAG_IF) !== 0 && c.instructions !== c.inhibitAt) break;
      const tf = c.flags & FLAG_TF;
      c.step();
      c.instructions++;
      if (tf !== 0) { c.singleStepTrap(); break; }
      if (c.halted) break;
      const eip = c.eip;
      if (eip === c.nextEip && (eip & ~0xfff) === page) continue;
      // A block boundary: the run so far counts for the page it ran in.
      if (key >= 0) heat[key] += c.instructions - from;
      if (c.jitMode < 0) return;
      from = c.instructions;
      page = eip & ~0xfff;
      const e = tlb[eip >>> 12]!;
      if ((e & (c.tlbReadMask | TLB_NOEXEC)) !== TLB_VALID) { key = -1; continue; }
      key = ((e >>> 12) << 1) | c.jitMode;
      if (regionAt[key] !== undefined || heat[key]! >= threshold) return;
      if (heat[key]! >= threshold >> 3) this.noteEntry(key, eip);
    }
    if (key >= 0) heat[key] += c.instructions - from;
  }

  /** Note an entry offset of a warm page (a bitmap of its 4096 offsets). */
  private noteEntry(key: number, eip: number): void {
    let bits = this.entries.get(key);
    if (bits === undefined) { bits = new Int32Array(128); this.entries.set(key, bits); }
    const off = eip & 0xfff;
    bits[off >> 5] |= 1 << (off & 31);
  }

  /** Translate the page of `key` with the entry points seen (and `eip`). Returns false if nothing came of it. */
  private translate(c: Cpu, key: number, eip: number, phys: number, optimize = false): boolean {
    this.heat[key] = 0;
    const t0 = performance.now();
    const entries = new Set<number>();
    const bits = this.entries.get(key);
    this.entries.delete(key);
    if (bits !== undefined) {
      for (let w = 0; w < 128; w++) for (let m = bits[w]!; m !== 0; m &= m - 1) entries.add((w << 5) | (31 - Math.clz32(m & -m)));
    }
    entries.add(eip & 0xfff);
    const old = this.regionAt[key];
    if (old !== undefined) for (const x of old.entries) entries.add(x);
    const blocks = scanRegion(c, eip & ~0xfff, phys, entries, this.maxInsns);
    if (blocks.length === 0 || blocks.every((b) => b.insns.length === 0)) return false;
    const compiled = compileRegion(blocks, key & 1, this.target!, optimize);
    if (optimize) this.stats.regionsOptimized++;
    if (old !== undefined) this.drop(key);
    const slot = this.freeSlots.pop() ?? this.nextSlot++;
    if (slot >= this.table.length) this.table.grow(Math.min(this.table.length, TABLE_MAX - this.table.length));
    const region: Region = { ...compiled, entries, slot, ran: 0, optimized: optimize };
    this.table.set(slot, region.run);
    this.codeMap[key] = slot + 1;
    this.regionAt[key] = region;
    this.live.add(key);
    this.stats.cacheBytes += region.bytes;
    this.stats.regions = this.live.size;
    this.stats.regionsCompiled++;
    this.stats.blocksCompiled += region.blocks;
    this.stats.insnsCompiled += region.insns;
    this.markCode(c, phys);
    if (this.stats.cacheBytes > this.cap) this.evict(key);
    this.stats.compileMs += performance.now() - t0;
    return true;
  }

  /** Writes to the page must now take the slow path, where they are seen (TLB_CODE). */
  private markCode(c: Cpu, phys: number): void {
    const page = phys >>> 12;
    if (this.mem.codePages[page] !== 0) return;
    this.mem.codePages[page] = 1;
    const tlb = c.tlb, list = c.tlbList;
    for (let i = 0; i < c.tlbCount; i++) {
      const lin = list[i]!;
      const e = tlb[lin]!;
      if ((e & TLB_VALID) !== 0 && ((e ^ phys) & ~0xfff) === 0) tlb[lin] = e | TLB_CODE;
    }
  }

  private drop(key: number): void {
    const r = this.regionAt[key];
    if (r === undefined) return;
    this.regionAt[key] = undefined;
    this.codeMap[key] = 0;
    this.table.set(r.slot, null);
    this.freeSlots.push(r.slot);
    this.live.delete(key);
    this.stats.cacheBytes -= r.bytes;
    this.stats.regions = this.live.size;
  }

  /** Keep the cache under its cap: drop the oldest regions (not `keep`) down to three quarters. */
  private evict(keep: number): void {
    for (const key of this.live) {
      if (this.stats.cacheBytes <= this.cap * 0.75) break;
      if (key === keep) continue;
      this.drop(key);
      this.stats.evictions++;
    }
  }

  /** A page holding translated code was written: its regions go, the running one leaves. */
  invalidatePage(page: number): void {
    this.mem.codePages[page] = 0;
    const n = Math.min((this.rewrites.get(page) ?? 0) + 1, 10);
    this.rewrites.set(page, n);
    for (let mode = 0; mode < 2; mode++) {
      const key = (page << 1) | mode;
      if (this.regionAt[key] !== undefined) {
        this.drop(key);
        this.stats.invalidations++;
      }
      // A page rewritten again and again waits longer each time before it is translated again.
      this.heat[key] = -this.threshold * ((1 << n) - 1);
    }
    if (this.cpu !== null) this.cpu.exitReq = 1;
  }

  flush(): void {
    for (const key of [...this.live]) this.drop(key);
    this.heat.fill(0);
    this.entries.clear();
    this.rewrites.clear();
    this.mem.codePages.fill(0);
    this.stats.cacheBytes = 0;
    this.stats.regions = 0;
  }
}
