// The software IA-32 CPU: architectural state, instruction fetch, ModRM decoding,
// TLB-backed memory access, the stack, and the run loop (Intel SDM vol. 3A).
// Instruction semantics live in the group files (arith.ts, logic.ts, ...), installed
// into the opcode table by opcodes.ts; system mechanisms in mmu.ts, segments.ts and
// interrupts.ts. Faults are thrown as the FAULT sentinel after recording the vector,
// caught by the run loop, and delivered with EIP back at the faulting instruction.

import { HOST_TLB_BYTES, type PhysicalMemory } from '../memory/PhysicalMemory.js';
import type { IoBus } from '../machine/IoBus.js';
import type { InterruptController } from '../devices/Device.js';
import type { CpuApicLink } from './apicLink.js';
import {
  CR0_ET, CR0_PE, CR0_PG, CR0_WP, CS, DESC_CODE, DESC_DB, DESC_P, DESC_RW, DESC_S, DESC_CE, DS, EBP, ESP,
  ES, EXC_DF, EXC_GP, EXC_SS, EXC_UD, FLAG_IF, FLAG_TF, FLAG_RF, FLAG_VM, FLAGS_FIXED1, SS,
  STOP_BUDGET, STOP_HALT, STOP_REQUEST, STOP_SHUTDOWN, EXC_DB,
} from './constants.js';
import { getEflags } from './flags.js';
import {
  TLB_MMIO, TLB_NOUSER, TLB_NOWRITE_SUP, TLB_NOWRITE_USER, TLB_VALID, TLB_CODE, translateSlow, flushTlb,
} from './mmu.js';
import { deliverException, deliverInterrupt } from './interrupts.js';
import { OPCODES } from './opcodes.js';
import { decode } from './decoder.js';
import type { X87Unit } from './x87.js';

import { FAULT, REG8 } from './fault.js';
export { FAULT, REG8 };

/** Runs guest code faster than one instruction at a time (the translator, jit/). */
export interface ExecutionEngine {
  /** Run from CS:EIP until the budget is spent, the CPU halts or shuts down, or the mode
   *  leaves what the engine handles (jitMode -1, TF); faults propagate as FAULT. */
  execute(c: Cpu): void;
  /** Forget everything translated (reset, snapshot restore). */
  flush(): void;
}

/** Layout of the memory's host area (PhysicalMemory.hostBase): offsets of the TLB, the
 *  register file and the translator's slots. */
/** PAE frames (MAXPHYADDR 36) may lie at or above 4 GiB: nothing is mapped there. */
const FOUR_GIB = 4294967296;
export const HOST_TLB = 0;
export const HOST_REGS = HOST_TLB_BYTES;
export const HOST_SLOTS = HOST_REGS + 32;
export const JIT_SLOTS = 64;
/** The slot of Cpu.exitReq (translated code reads it there). */
export const SLOT_EXITREQ = 8;

/** Thrown while the translator scans code when a fetch leaves the page being scanned. */
export const SCAN_END: { readonly scanEnd: true } = Object.freeze({ scanEnd: true });

/** What the CPU tells the machine about itself; all hooks are optional. */
export interface CpuHooks {
  /** Called for a triple fault before run() returns STOP_SHUTDOWN. */
  onShutdown?(reason: string): void;
}

export class Cpu {
  // ---- General registers. regs[i] is the 32-bit register; r16/r8 alias it. They live in
  // the memory's host area (HOST_REGS), where translated code reaches them too.
  readonly regs: Int32Array;
  readonly r16: Uint16Array;
  readonly r8: Uint8Array;
  /** Slots translated code and the translator exchange values through (jit/, HOST_SLOTS). */
  readonly jitSlots: Int32Array;
  eip = 0;

  // ---- EFLAGS: `flags` holds every bit not in lazyMask; the lazy ones come from lz*.
  flags = FLAGS_FIXED1;
  lazyMask = 0;
  lzOp = 0;
  lzA = 0;
  lzB = 0;
  lzRes = 0;
  lzCin = 0;
  lzShift = 0;

  // ---- Segment registers with their hidden descriptor caches.
  readonly segSel = new Uint16Array(6);
  readonly segBase = new Int32Array(6);
  /** Effective byte limit (granularity applied); compare with >>> 0. */
  readonly segLimit = new Int32Array(6);
  /** Descriptor bits 40..55: type, S, DPL, P, AVL, L, D/B, G (DESC_*). */
  readonly segAttr = new Int32Array(6);
  /** 1 when accesses through the segment need limit/type checks (not a flat r/w segment). */
  readonly segCheck = new Uint8Array(6);

  // ---- Mode.
  cpl = 0;
  /** Default operand/address size of CS is 32-bit. */
  cs32 = false;
  /** SS.B: the stack pointer is ESP (else SP). */
  ss32 = false;
  /** Mask applied to EIP as it advances: 0xFFFF for 16-bit code. */
  ipMask = 0xffff;

  // ---- Control, debug and system table registers.
  cr0 = CR0_ET;
  cr2 = 0;
  cr3 = 0;
  cr4 = 0;
  /** PAE PDPTE registers (lo, hi per entry), loaded from CR3's PDPT by loadPdptes. */
  readonly pdpte = new Int32Array(8);
  /** IA32_EFER (SCE, LME, LMA, NXE). */
  efer = 0;
  readonly dr = new Int32Array(8);
  gdtBase = 0;
  gdtLimit = 0xffff;
  idtBase = 0;
  idtLimit = 0x3ff;
  ldtSel = 0;
  ldtBase = 0;
  ldtLimit = 0xffff;
  ldtAttr = 0;
  trSel = 0;
  trBase = 0;
  trLimit = 0xffff;
  trAttr = 0;

  // ---- Model-specific registers Linux touches.
  sysenterCs = 0;
  sysenterEsp = 0;
  sysenterEip = 0;
  apicBase = 0;
  pat = 0x00070406;
  patHi = 0x00070406;
  mtrrDefType = 0;
  miscEnable = 1; // fast strings
  /** Added to the clock-derived TSC (guest writes to IA32_TIME_STAMP_COUNTER). */
  tscOffset = 0;

  // ---- Per-instruction decode state.
  /** Operand size of the current instruction is 32-bit. */
  o32 = false;
  /** Address size of the current instruction is 32-bit. */
  a32 = false;
  /** Segment override prefix, or -1. */
  segOverride = -1;
  /** 0 none, 1 REP/REPE (F3), 2 REPNE (F2). */
  rep = 0;
  lock = false;
  modrm = 0;
  /** ModRM.reg (the register operand, or the opcode extension of a group). */
  reg = 0;
  /** Immediates: the first (zero-extended as fetched), and the second of ENTER and far pointers. */
  imm = 0;
  imm2 = 0;
  /** Segment and offset of the decoded memory operand. */
  eaSeg = DS;
  eaOff = 0;
  /** The memory operand's components: base and index register (-1 none), scale, displacement. */
  eaBase = -1;
  eaIndex = -1;
  eaScale = 0;
  eaDisp = 0;
  /** EIP and ESP at the start of the current instruction (faults restart here). */
  startEip = 0;
  startEsp = 0;

  // ---- Exceptions in flight.
  excVector = -1;
  excError = -1;
  /** Vector being delivered (double fault detection), -1 when none. */
  delivering = -1;

  // ---- Execution control.
  /** Instructions retired since power-on (the clock reads this). */
  instructions = 0;
  /** run() returns when `instructions` reaches this; devices lower it to stop early. */
  budgetEnd = 0;
  halted = false;
  shutdownReason = '';
  /** Set by the machine when the interrupt controller's output may be high. */
  irqPending = false;
  /** Interrupts are inhibited at the boundary where instructions === inhibitAt (STI, MOV SS). */
  inhibitAt = -1;
  /**
   * An EIP reached without a jump to it: where IRET returned (after an interrupt or an
   * exception, often inside a block of the interrupted code) or where a slice ended inside
   * a block. Entering translated code there is no new entry point (Translator).
   */
  resumeEip = -1;
  /**
   * Set when something outside the instruction stream needs translated code to return to
   * the dispatcher at the next instruction boundary: an interrupt request, a stop request,
   * an MMIO access (devices may have raised one), a write to a page holding translated code.
   */
  get exitReq(): number { return this.jitSlots[SLOT_EXITREQ]!; }
  set exitReq(v: number) { this.jitSlots[SLOT_EXITREQ] = v; }
  /** EIP after the instruction just decoded (where it falls through to). */
  nextEip = 0;
  /**
   * What translated code may assume, or -1 where nothing is translated: 0 for CPL 0-2, 1
   * for CPL 3, with 32-bit flat protected mode (CS, DS, ES, SS based at 0, 4 GiB data
   * segments, 32-bit code and stack, not VM86).
   */
  jitMode = -1;
  /** The translator's decoder pass: fetches are confined to the page being scanned. */
  scanning = false;
  /** The execution engine used where jitMode allows (null: interpret everything). */
  engine: ExecutionEngine | null = null;
  pic: InterruptController | null = null;
  /** The local APIC's MSRs and CPUID bit (null: no APIC; IA32_APIC_BASE is then plain storage). */
  lapic: CpuApicLink | null = null;
  /** Reads the TSC from the machine clock (cycles); set by the machine. */
  tscSource: () => number = () => this.instructions;

  // ---- Memory and TLB.
  readonly mem: PhysicalMemory;
  readonly io: IoBus;
  readonly u8: Uint8Array;
  readonly i32: Int32Array;
  readonly u16: Uint16Array;
  /** Linear page → (physical page | TLB_* bits); 0 = not cached. In the host area (HOST_TLB). */
  readonly tlb: Int32Array;
  /** Pages with a TLB entry, so a flush clears only those. */
  readonly tlbList = new Int32Array(4096);
  tlbCount = 0;
  /** Per 2 MiB of linear space: an entry there may have come from a large page (INVLPG, mmu.ts). */
  readonly tlbLarge = new Uint8Array(2048);
  /** TLB bits that must be clear for a fast read/write at the current CPL. */
  tlbReadMask = TLB_VALID | TLB_MMIO;
  tlbWriteMask = TLB_VALID | TLB_MMIO | TLB_NOWRITE_SUP | TLB_CODE;
  /** Instruction fetch cache: linear page of EIP and its physical page, or -1. */
  fetchLinPage = -1;
  fetchPhysPage = 0;

  /** The x87 unit; null until one is attached (D8-DF then raise #NM as with CR0.EM). */
  fpu: X87Unit | null = null;
  /** FERR# output (legacy IRQ13 path), wired by the machine. */
  onFerr: (() => void) | null = null;
  /** #UD by opcode (one-byte ops 0-255, 0F xx as 0x100+xx), for `--stats`. */
  readonly udCounts = new Map<number, number>();
  /** Exceptions delivered, by vector, and external interrupts, by vector. */
  readonly excCounts = new Float64Array(32);
  readonly intCounts = new Float64Array(256);
  hooks: CpuHooks = {};

  constructor(mem: PhysicalMemory, io: IoBus) {
    this.mem = mem;
    this.io = io;
    const buf = mem.buffer;
    this.tlb = new Int32Array(buf, mem.hostBase + HOST_TLB, 1 << 20);
    this.regs = new Int32Array(buf, mem.hostBase + HOST_REGS, 8);
    this.r16 = new Uint16Array(buf, mem.hostBase + HOST_REGS, 16);
    this.r8 = new Uint8Array(buf, mem.hostBase + HOST_REGS, 32);
    this.jitSlots = new Int32Array(buf, mem.hostBase + HOST_SLOTS, JIT_SLOTS);
    this.u8 = mem.u8;
    this.i32 = new Int32Array(mem.buffer, 0, mem.ramSize >>> 2);
    this.u16 = new Uint16Array(mem.buffer, 0, mem.ramSize >>> 1);
    this.reset();
  }

  /** Power-on / RESET# state (SDM vol. 3A table 9-1). */
  reset(): void {
    this.regs.fill(0);
    this.regs[2] = 0x00000633; // EDX: family 6, model 3, stepping 3
    this.eip = 0xfff0;
    this.flags = FLAGS_FIXED1;
    this.lazyMask = 0;
    this.cr0 = CR0_ET | 0x60000000; // CD, NW set at reset
    this.cr2 = this.cr3 = this.cr4 = 0;
    this.pdpte.fill(0);
    this.efer = 0;
    this.dr.fill(0);
    this.dr[6] = 0xffff0ff0 | 0;
    this.dr[7] = 0x400;
    for (let s = 0; s < 6; s++) this.loadRealSeg(s, 0);
    this.segSel[CS] = 0xf000;
    this.segBase[CS] = 0xffff0000 | 0;
    this.gdtBase = 0; this.gdtLimit = 0xffff;
    this.idtBase = 0; this.idtLimit = 0x3ff;
    this.ldtSel = 0; this.ldtBase = 0; this.ldtLimit = 0xffff; this.ldtAttr = 0x82;
    this.trSel = 0; this.trBase = 0; this.trLimit = 0xffff; this.trAttr = 0x8b;
    this.cpl = 0;
    this.sysenterCs = this.sysenterEsp = this.sysenterEip = 0;
    this.apicBase = 0;
    this.tscOffset = 0;
    this.halted = false;
    this.excVector = -1;
    this.delivering = -1;
    this.inhibitAt = -1;
    this.fpu?.hardReset();
    this.updateMode();
    flushTlb(this, true);
    this.engine?.flush();
  }

  // ======================================================================
  // Mode bookkeeping

  get protectedMode(): boolean { return (this.cr0 & CR0_PE) !== 0; }
  get vm86(): boolean { return (this.flags & FLAG_VM) !== 0; }
  get paging(): boolean { return (this.cr0 & CR0_PG) !== 0; }

  /** Recompute cached mode facts after CS/SS/CR0/CPL/EFLAGS.VM change. */
  updateMode(): void {
    this.cs32 = (this.segAttr[CS]! & DESC_DB) !== 0 && (this.cr0 & CR0_PE) !== 0 && (this.flags & FLAG_VM) === 0;
    this.ss32 = (this.segAttr[SS]! & DESC_DB) !== 0 && (this.cr0 & CR0_PE) !== 0 && (this.flags & FLAG_VM) === 0;
    this.ipMask = this.cs32 ? -1 : 0xffff;
    const user = this.cpl === 3;
    this.tlbReadMask = TLB_VALID | TLB_MMIO | (user ? TLB_NOUSER : 0);
    this.tlbWriteMask = TLB_VALID | TLB_MMIO | TLB_CODE | (user ? TLB_NOUSER | TLB_NOWRITE_USER : TLB_NOWRITE_SUP);
    this.fetchLinPage = -1;
    this.updateJitMode();
  }

  /** Recompute jitMode (see there) after a mode or segment change. */
  private updateJitMode(): void {
    const b = this.segBase, chk = this.segCheck;
    const flat = this.cs32 && this.ss32 && b[CS] === 0 && this.segLimit[CS] === -1 &&
      b[DS] === 0 && b[ES] === 0 && b[SS] === 0 && chk[DS] === 0 && chk[ES] === 0 && chk[SS] === 0;
    this.jitMode = flat ? (this.cpl === 3 ? 1 : 0) : -1;
  }

  /** Set CPL (it lives in CS.RPL / SS.DPL); TLB permission masks depend on it. */
  setCpl(cpl: number): void {
    if (this.cpl !== cpl) {
      this.cpl = cpl;
      this.updateMode();
    }
  }

  /** Real-mode / VM86 segment load: base = selector << 4, limit kept (unreal mode keeps it). */
  loadRealSeg(seg: number, sel: number): void {
    sel &= 0xffff;
    this.segSel[seg] = sel;
    this.segBase[seg] = sel << 4;
    if ((this.cr0 & CR0_PE) === 0 && this.segAttr[seg] !== 0 && (this.segAttr[seg]! & DESC_P) !== 0) {
      // Real mode keeps the cached limit and attributes (unreal mode); only the base changes.
    } else {
      this.segLimit[seg] = 0xffff;
      this.segAttr[seg] = DESC_P | DESC_S | DESC_RW | 0x01 | (seg === CS ? DESC_CODE : 0) | ((this.flags & FLAG_VM) !== 0 ? 3 << 5 : 0);
    }
    this.updateSegCheck(seg);
  }

  /** Recompute whether accesses through `seg` need checks (anything but a flat r/w segment). */
  updateSegCheck(seg: number): void {
    const a = this.segAttr[seg]!;
    const flatRw = (a & DESC_P) !== 0 && (a & DESC_CODE) === 0 && (a & DESC_RW) !== 0 && (a & DESC_CE) === 0 && this.segLimit[seg] === -1;
    this.segCheck[seg] = flatRw ? 0 : 1;
    if (seg === CS || seg === SS) this.updateMode(); else this.updateJitMode();
  }

  // ======================================================================
  // Exceptions

  /** Raise a fault: record it and unwind the instruction. errorCode -1 = none. */
  raise(vector: number, errorCode = -1): never {
    this.excVector = vector;
    this.excError = errorCode;
    throw FAULT;
  }

  raiseGP(errorCode = 0): never { return this.raise(EXC_GP, errorCode); }
  raiseUD(): never { return this.raise(EXC_UD); }

  /** Count an opcode with no implementation and raise #UD. */
  undefinedOpcode(op: number): never {
    this.udCounts.set(op, (this.udCounts.get(op) ?? 0) + 1);
    return this.raise(EXC_UD);
  }

  // ======================================================================
  // Instruction fetch

  private refillFetch(lin: number): void {
    if (this.scanning) throw SCAN_END;
    // CS limit (SDM vol. 3A §5.3): every byte of an instruction must lie within it. The
    // fetch cache only ever covers pages below the limit, plus the page holding the limit
    // when the limit ends that page; fetches anywhere else come here and are checked.
    const limit = this.segLimit[CS]! >>> 0;
    if ((this.eip >>> 0) > limit) this.raiseGP(0);
    const end = (this.segBase[CS]! + limit) | 0;
    const limitPage = (end & 0xfff) !== 0xfff && (end & ~0xfff) === (lin & ~0xfff);
    const phys = translateSlow(this, lin, false, this.cpl === 3, true);
    if (phys < FOUR_GIB && this.mem.isReadablePage(phys) && !limitPage) {
      this.fetchLinPage = lin & ~0xfff;
      this.fetchPhysPage = phys & ~0xfff;
    } else {
      this.fetchLinPage = -1;
      this.fetchPhysPage = phys - (lin & 0xfff); // may lie above 4 GiB (PAE): not masked
    }
  }

  fetch8(): number {
    const lin = (this.segBase[CS]! + this.eip) | 0;
    if ((lin & ~0xfff) !== this.fetchLinPage) {
      this.refillFetch(lin);
      if (this.fetchLinPage === -1) {
        this.eip = (this.eip + 1) & this.ipMask;
        return this.physRead(this.fetchPhysPage + (lin & 0xfff), 1);
      }
    }
    this.eip = (this.eip + 1) & this.ipMask;
    return this.u8[this.fetchPhysPage | (lin & 0xfff)]!;
  }

  fetch16(): number {
    const lin = (this.segBase[CS]! + this.eip) | 0;
    if ((lin & ~0xfff) === this.fetchLinPage && (lin & 0xfff) < 0xfff && this.ipMask === -1) {
      this.eip = (this.eip + 2) | 0;
      const p = this.fetchPhysPage | (lin & 0xfff);
      return this.u8[p]! | (this.u8[p + 1]! << 8);
    }
    const lo = this.fetch8();
    return lo | (this.fetch8() << 8);
  }

  fetch32(): number {
    const lin = (this.segBase[CS]! + this.eip) | 0;
    if ((lin & ~0xfff) === this.fetchLinPage && (lin & 0xfff) < 0xffd && this.ipMask === -1) {
      this.eip = (this.eip + 4) | 0;
      const p = this.fetchPhysPage | (lin & 0xfff);
      const u8 = this.u8;
      return u8[p]! | (u8[p + 1]! << 8) | (u8[p + 2]! << 16) | (u8[p + 3]! << 24);
    }
    const lo = this.fetch16();
    return lo | (this.fetch16() << 16);
  }

  /** Sign-extended 8-bit displacement. */
  fetchS8(): number { return (this.fetch8() << 24) >> 24; }

  // ======================================================================
  // Segmented → linear addressing with limit and type checks (SDM vol. 3A §5.3)

  /** Linear address for `size` bytes at seg:off, checking the segment when it is not flat. */
  segLin(seg: number, off: number, size: number, write: boolean): number {
    if (this.segCheck[seg] !== 0) this.checkSegAccess(seg, off, size, write);
    return (this.segBase[seg]! + off) | 0;
  }

  /** Linear address of the decoded memory operand. */
  eaLin(size: number, write: boolean): number {
    const seg = this.eaSeg;
    if (this.segCheck[seg] !== 0) this.checkSegAccess(seg, this.eaOff, size, write);
    return (this.segBase[seg]! + this.eaOff) | 0;
  }

  checkSegAccess(seg: number, off: number, size: number, write: boolean): void {
    const a = this.segAttr[seg]!;
    const vec = seg === SS ? EXC_SS : EXC_GP;
    if ((a & DESC_P) === 0) this.raise(vec, 0); // null or not-present selector loaded
    if ((this.cr0 & CR0_PE) !== 0 && (this.flags & FLAG_VM) === 0) {
      if (write) {
        if ((a & DESC_CODE) !== 0 || (a & DESC_RW) === 0) this.raise(vec, 0);
      } else if ((a & DESC_CODE) !== 0 && (a & DESC_RW) === 0) {
        this.raise(vec, 0);
      }
    }
    off >>>= 0;
    const limit = this.segLimit[seg]! >>> 0;
    const last = off + size - 1;
    if ((a & (DESC_CODE | DESC_CE)) === DESC_CE) {
      // Expand-down data: valid offsets are limit+1 .. 0xFFFF or 0xFFFFFFFF.
      const upper = (a & DESC_DB) !== 0 ? 0xffffffff : 0xffff;
      if (off <= limit || last > upper) this.raise(vec, 0);
    } else if (last > limit) {
      this.raise(vec, 0);
    }
  }

  // ======================================================================
  // Linear memory access through the TLB (mmu.ts fills it)

  rd8(lin: number): number {
    const e = this.tlb[lin >>> 12]!;
    if ((e & this.tlbReadMask) === TLB_VALID) return this.u8[(e & ~0xfff) | (lin & 0xfff)]!;
    return this.rdSlow(lin, 1, this.cpl === 3);
  }

  rd16(lin: number): number {
    const e = this.tlb[lin >>> 12]!;
    if ((e & this.tlbReadMask) === TLB_VALID && (lin & 0xfff) !== 0xfff) {
      const p = (e & ~0xfff) | (lin & 0xfff);
      return (p & 1) === 0 ? this.u16[p >>> 1]! : this.u8[p]! | (this.u8[p + 1]! << 8);
    }
    return this.rdSlow(lin, 2, this.cpl === 3);
  }

  rd32(lin: number): number {
    const e = this.tlb[lin >>> 12]!;
    if ((e & this.tlbReadMask) === TLB_VALID && (lin & 0xfff) <= 0xffc) {
      const p = (e & ~0xfff) | (lin & 0xfff);
      if ((p & 3) === 0) return this.i32[p >>> 2]!;
      const u8 = this.u8;
      return u8[p]! | (u8[p + 1]! << 8) | (u8[p + 2]! << 16) | (u8[p + 3]! << 24);
    }
    return this.rdSlow(lin, 4, this.cpl === 3);
  }

  wr8(lin: number, v: number): void {
    const e = this.tlb[lin >>> 12]!;
    if ((e & this.tlbWriteMask) === TLB_VALID) { this.u8[(e & ~0xfff) | (lin & 0xfff)] = v; return; }
    this.wrSlow(lin, 1, v, this.cpl === 3);
  }

  wr16(lin: number, v: number): void {
    const e = this.tlb[lin >>> 12]!;
    if ((e & this.tlbWriteMask) === TLB_VALID && (lin & 0xfff) !== 0xfff) {
      const p = (e & ~0xfff) | (lin & 0xfff);
      if ((p & 1) === 0) this.u16[p >>> 1] = v;
      else { this.u8[p] = v; this.u8[p + 1] = v >>> 8; }
      return;
    }
    this.wrSlow(lin, 2, v, this.cpl === 3);
  }

  wr32(lin: number, v: number): void {
    const e = this.tlb[lin >>> 12]!;
    if ((e & this.tlbWriteMask) === TLB_VALID && (lin & 0xfff) <= 0xffc) {
      const p = (e & ~0xfff) | (lin & 0xfff);
      if ((p & 3) === 0) { this.i32[p >>> 2] = v; return; }
      const u8 = this.u8;
      u8[p] = v; u8[p + 1] = v >>> 8; u8[p + 2] = v >>> 16; u8[p + 3] = v >>> 24;
      return;
    }
    this.wrSlow(lin, 4, v, this.cpl === 3);
  }

  /**
   * A physical access of the slow paths. PAE frames may lie above 4 GiB, where nothing is
   * (open bus); PhysicalMemory itself takes 32-bit addresses (the page walk's reads stay as cheap).
   */
  private physRead(p: number, size: number): number {
    if (p >= FOUR_GIB) return size === 1 ? 0xff : size === 2 ? 0xffff : -1;
    return size === 2 ? this.mem.read16(p) : size === 4 ? this.mem.read32(p) : this.mem.read8(p);
  }
  private physWrite(p: number, size: number, v: number): void {
    if (p >= FOUR_GIB) return;
    if (size === 2) this.mem.write16(p, v); else if (size === 4) this.mem.write32(p, v); else this.mem.write8(p, v);
  }

  /** Read of any size/alignment through the page walk; `user` false for implicit supervisor accesses. */
  rdSlow(lin: number, size: number, user: boolean): number {
    if (((lin & 0xfff) + size) <= 0x1000) {
      const p = translateSlow(this, lin, false, user, false);
      if (this.accessWatch !== null) this.accessWatch(lin, size, false);
      return this.physRead(p, size);
    }
    // Crosses a page: both pages are translated before any byte is read.
    const p1 = translateSlow(this, lin, false, user, false);
    const p2 = translateSlow(this, (lin & ~0xfff) + 0x1000, false, user, false);
    if (this.accessWatch !== null) this.accessWatch(lin, size, false);
    let v = 0;
    for (let i = size - 1; i >= 0; i--) {
      const l = (lin + i) | 0;
      const p = (l & ~0xfff) === (lin & ~0xfff) ? p1 + i : p2 + ((l & 0xfff));
      v = (v << 8) | this.physRead(p, 1);
    }
    return size === 4 ? v | 0 : v;
  }

  /** Write of any size/alignment; a page-crossing write faults before writing either half. */
  wrSlow(lin: number, size: number, v: number, user: boolean): void {
    if (((lin & 0xfff) + size) <= 0x1000) {
      const p = translateSlow(this, lin, true, user, false);
      if (this.accessWatch !== null) this.accessWatch(lin, size, true);
      this.physWrite(p, size, v);
      return;
    }
    const p1 = translateSlow(this, lin, true, user, false);
    const p2 = translateSlow(this, (lin & ~0xfff) + 0x1000, true, user, false);
    if (this.accessWatch !== null) this.accessWatch(lin, size, true);
    for (let i = 0; i < size; i++) {
      const l = (lin + i) | 0;
      const p = (l & ~0xfff) === (lin & ~0xfff) ? p1 + i : p2 + (l & 0xfff);
      this.physWrite(p, 1, v >>> (8 * i));
    }
  }

  /** Make sure `size` bytes at `lin` can be written without faulting (read-modify-write). */
  probeWrite(lin: number, size: number): void {
    const e = this.tlb[lin >>> 12]!;
    if ((e & this.tlbWriteMask) === TLB_VALID && (lin & 0xfff) <= 0x1000 - size) return;
    translateSlow(this, lin, true, this.cpl === 3, false);
    if (((lin & 0xfff) + size) > 0x1000) translateSlow(this, (lin & ~0xfff) + 0x1000, true, this.cpl === 3, false);
    if (this.accessWatch !== null) this.accessWatch(lin, size, true); // the write that follows may take the refilled entry
  }

  // ---- Supervisor (implicit) accesses: descriptor tables, TSS, IDT. Never user-checked.
  rdSys8(lin: number): number { return this.rdSlow(lin, 1, false); }
  rdSys16(lin: number): number { return this.rdSlow(lin, 2, false); }
  rdSys32(lin: number): number { return this.rdSlow(lin, 4, false); }
  wrSys8(lin: number, v: number): void { this.wrSlow(lin, 1, v, false); }
  wrSys16(lin: number, v: number): void { this.wrSlow(lin, 2, v, false); }
  wrSys32(lin: number, v: number): void { this.wrSlow(lin, 4, v, false); }

  // ======================================================================
  // ModRM operand helpers (register or memory, per the decoded ModRM)

  readRM8(): number {
    const m = this.modrm;
    if (m >= 0xc0) return this.r8[REG8[m & 7]!]!;
    return this.rd8(this.eaLin(1, false));
  }
  readRM16(): number {
    const m = this.modrm;
    if (m >= 0xc0) return this.r16[(m & 7) << 1]!;
    return this.rd16(this.eaLin(2, false));
  }
  readRM32(): number {
    const m = this.modrm;
    if (m >= 0xc0) return this.regs[m & 7]!;
    return this.rd32(this.eaLin(4, false));
  }
  writeRM8(v: number): void {
    const m = this.modrm;
    if (m >= 0xc0) { this.r8[REG8[m & 7]!] = v; return; }
    this.wr8(this.eaLin(1, true), v);
  }
  writeRM16(v: number): void {
    const m = this.modrm;
    if (m >= 0xc0) { this.r16[(m & 7) << 1] = v; return; }
    this.wr16(this.eaLin(2, true), v);
  }
  writeRM32(v: number): void {
    const m = this.modrm;
    if (m >= 0xc0) { this.regs[m & 7] = v; return; }
    this.wr32(this.eaLin(4, true), v);
  }

  /**
   * Read the r/m operand of `size` bytes (1, 2, 4): the register named by ModRM, or
   * memory at `lin` (from eaLin/rmwLin) for a memory form.
   */
  readRM(size: number, lin: number): number {
    const m = this.modrm;
    if (m >= 0xc0) {
      const i = m & 7;
      return size === 1 ? this.r8[REG8[i]!]! : size === 2 ? this.r16[i << 1]! : this.regs[i]!;
    }
    return size === 1 ? this.rd8(lin) : size === 2 ? this.rd16(lin) : this.rd32(lin);
  }

  /** Write the r/m operand of `size` bytes; see readRM. */
  writeRM(size: number, lin: number, v: number): void {
    const m = this.modrm;
    if (m >= 0xc0) {
      const i = m & 7;
      if (size === 1) this.r8[REG8[i]!] = v; else if (size === 2) this.r16[i << 1] = v; else this.regs[i] = v;
    } else if (size === 1) this.wr8(lin, v); else if (size === 2) this.wr16(lin, v); else this.wr32(lin, v);
  }

  /**
   * Start a read-modify-write of the r/m operand: checks the memory operand for
   * writing first, so the instruction cannot fault after it has changed anything.
   * Returns the linear address; for a register operand it returns 0 and callers test
   * `modrm >= 0xc0` (every int32, negative ones included, is a valid linear address).
   */
  rmwLin(size: number): number {
    if (this.modrm >= 0xc0) return 0;
    const lin = this.eaLin(size, true);
    this.probeWrite(lin, size);
    return lin;
  }

  getReg8(i: number): number { return this.r8[REG8[i]!]!; }
  setReg8(i: number, v: number): void { this.r8[REG8[i]!] = v; }
  getReg16(i: number): number { return this.r16[i << 1]!; }
  setReg16(i: number, v: number): void { this.r16[i << 1] = v; }

  // ======================================================================
  // Stack (SS:ESP or SS:SP per SS.B)

  push16(v: number): void {
    const sp = (this.regs[ESP]! - 2) & (this.ss32 ? -1 : 0xffff);
    this.wr16(this.segLin(SS, sp, 2, true), v);
    if (this.ss32) this.regs[ESP] = sp; else this.r16[ESP << 1] = sp;
  }
  push32(v: number): void {
    const sp = (this.regs[ESP]! - 4) & (this.ss32 ? -1 : 0xffff);
    this.wr32(this.segLin(SS, sp, 4, true), v);
    if (this.ss32) this.regs[ESP] = sp; else this.r16[ESP << 1] = sp;
  }
  /** Push of the current operand size. */
  push(v: number): void { if (this.o32) this.push32(v); else this.push16(v); }

  pop16(): number {
    const sp = this.ss32 ? this.regs[ESP]! : this.r16[ESP << 1]!;
    const v = this.rd16(this.segLin(SS, sp, 2, false));
    if (this.ss32) this.regs[ESP] = sp + 2; else this.r16[ESP << 1] = sp + 2;
    return v;
  }
  pop32(): number {
    const sp = this.ss32 ? this.regs[ESP]! : this.r16[ESP << 1]!;
    const v = this.rd32(this.segLin(SS, sp, 4, false));
    if (this.ss32) this.regs[ESP] = sp + 4; else this.r16[ESP << 1] = sp + 4;
    return v;
  }
  pop(): number { return this.o32 ? this.pop32() : this.pop16(); }

  /** Read the stack at ESP+offset without popping (for instructions that must not commit early). */
  peek16(offset: number): number {
    const sp = ((this.ss32 ? this.regs[ESP]! : this.r16[ESP << 1]!) + offset) & (this.ss32 ? -1 : 0xffff);
    return this.rd16(this.segLin(SS, sp, 2, false));
  }
  peek32(offset: number): number {
    const sp = ((this.ss32 ? this.regs[ESP]! : this.r16[ESP << 1]!) + offset) & (this.ss32 ? -1 : 0xffff);
    return this.rd32(this.segLin(SS, sp, 4, false));
  }
  /** Add to the stack pointer (SP or ESP per SS.B). */
  adjustSp(delta: number): void {
    if (this.ss32) this.regs[ESP] = this.regs[ESP]! + delta;
    else this.r16[ESP << 1] = this.r16[ESP << 1]! + delta;
  }

  /** EFLAGS with lazy bits resolved. */
  getEflags(): number { return getEflags(this); }

  // ======================================================================
  // Run loop

  /** Execute up to `budget` instructions, or until HLT, shutdown or a stop request. */
  run(budget: number): number {
    this.budgetEnd = this.instructions + budget;
    while (this.instructions < this.budgetEnd) {
      if (this.halted) {
        if (!this.takeInterrupt()) return STOP_HALT;
        continue;
      }
      try {
        if (this.debug !== null) this.debug.execute(this);
        else if (this.engine !== null && this.jitMode >= 0 && (this.flags & FLAG_TF) === 0) this.engine.execute(this);
        else this.runInner();
      } catch (e) {
        if (e !== FAULT) throw e;
        this.faulted();
      }
      if (this.shutdownReason !== '') return STOP_SHUTDOWN;
    }
    if (this.shutdownReason !== '') return STOP_SHUTDOWN;
    if (this.stopRequested) {
      this.stopRequested = false;
      return STOP_REQUEST;
    }
    return this.halted ? STOP_HALT : STOP_BUDGET;
  }

  /**
   * A debugger's engine (GdbStub): while set, it runs every instruction, in every mode, in
   * place of the translator and the interpreter's loop (breakpoints, watchpoints, steps).
   */
  debug: ExecutionEngine | null = null;
  /**
   * A debugger's read and access watchpoints (DebugEngine): told of every data access that
   * takes the slow path (the engine keeps the watched pages there), after its translation.
   */
  accessWatch: ((lin: number, size: number, write: boolean) => void) | null = null;

  /** A device asked the CPU to return to the machine at the next instruction boundary. */
  stopRequested = false;
  requestStop(): void {
    this.stopRequested = true;
    this.budgetEnd = this.instructions;
    this.exitReq = 1;
  }

  private runInner(): void {
    while (this.instructions < this.budgetEnd) {
      if (this.irqPending && (this.flags & FLAG_IF) !== 0 && this.instructions !== this.inhibitAt) {
        this.takeInterrupt();
      }
      const tf = this.flags & FLAG_TF;
      this.step();
      this.instructions++;
      if (tf !== 0) this.singleStepTrap();
      if (this.halted) return;
      // Entered a mode the execution engine handles: hand over to it.
      if (this.jitMode >= 0 && this.engine !== null && (this.flags & FLAG_TF) === 0) return;
    }
  }

  /**
   * Interpret from EIP to the end of its straight run of code (a taken jump, a fault, a
   * page change, HLT) or `limit` instructions, taking interrupts as runInner does.
   */
  stepBlock(limit: number): void {
    const page = this.eip & ~0xfff;
    while (this.instructions < this.budgetEnd) {
      if (this.irqPending && (this.flags & FLAG_IF) !== 0 && this.instructions !== this.inhibitAt) {
        this.takeInterrupt();
        return;
      }
      const tf = this.flags & FLAG_TF;
      this.step();
      this.instructions++;
      if (tf !== 0) { this.singleStepTrap(); return; }
      if (this.halted || this.eip !== this.nextEip || (this.eip & ~0xfff) !== page || --limit <= 0) return;
    }
  }

  /** Decode and execute one instruction. */
  step(): void {
    this.startEip = this.eip;
    this.startEsp = this.regs[ESP]!;
    if (this.segCheck[CS] !== 0 && (this.eip >>> 0) > (this.segLimit[CS]! >>> 0)) this.raiseGP(0);
    OPCODES[decode(this)]!(this);
  }

  /** Deliver a pending external interrupt if one is there; returns true if taken. */
  takeInterrupt(): boolean {
    if ((this.flags & FLAG_IF) === 0) return false;
    // No controller, or nothing in it: the request is stale (callers loop while it is set).
    if (this.pic === null || !this.pic.hasInterrupt()) {
      this.irqPending = false;
      return false;
    }
    const vector = this.pic.acknowledge();
    this.halted = false;
    this.intCounts[vector & 0xff]!++;
    // A fault while delivering restarts nothing: the return point is the current EIP.
    this.startEip = this.eip;
    this.startEsp = this.regs[ESP]!;
    try {
      deliverInterrupt(this, vector & 0xff, false, -1, this.eip);
    } catch (e) {
      if (e !== FAULT) throw e;
      this.faulted();
    }
    return true;
  }

  /** TF was set when the instruction began: #DB trap after it (SDM vol. 3B §17.3.1.4). */
  singleStepTrap(): void {
    this.dr[6] = this.dr[6]! | 0x4000; // BS
    this.startEip = this.eip;
    this.startEsp = this.regs[ESP]!;
    try {
      deliverInterrupt(this, EXC_DB, false, -1, this.eip);
    } catch (e) {
      if (e !== FAULT) throw e;
      this.faulted();
    }
  }

  /** An instruction faulted: restore EIP/ESP and deliver, escalating to #DF and shutdown. */
  faulted(): void {
    const vector = this.excVector;
    const error = this.excError;
    this.excVector = -1;
    if (this.delivering === -1) {
      this.eip = this.startEip;
      this.regs[ESP] = this.startEsp;
    }
    // Each delivery counts against the budget, so a guest whose handler faults again
    // forever (a hang on hardware too) still returns control to the machine.
    this.instructions++;
    deliverException(this, vector, error);
  }

  /** Triple fault: the processor enters shutdown. */
  shutdown(reason: string): void {
    this.shutdownReason = reason;
    this.halted = true;
    this.budgetEnd = this.instructions;
    this.hooks.onShutdown?.(reason);
  }

  /** Clear halted/shutdown state and the TLB (after the machine resets devices). */
  clearShutdown(): void {
    this.shutdownReason = '';
  }

  /** Flush cached translations (CR3 write, paging mode change). */
  flushTlb(global: boolean): void { flushTlb(this, global); }
}
