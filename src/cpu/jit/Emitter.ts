// The code generator's working state for one region: the WebAssembly it writes, and the
// pieces every instruction template is built from — guest registers (kept in locals
// r0-r7), memory operands (the software TLB's fast path inline, the CPU's accessors as
// the slow path), the stack, the flag state (locals fk/fa/fb/fr/fx, see runtime.ts, plus
// what the generator knows about them statically), and the ways out of a block.
//
// Values: 32-bit quantities are i32 as they are, 8- and 16-bit ones are masked, as the
// interpreter's group files keep them. Templates build values as small expression trees
// (X, below) that push one i32 when emitted.
//
// Precise faults: every memory access passes its site (the instruction's page offset and
// index in the block) to its helper; when the TLB's fast path misses, the CPU's accessor
// records the site in a slot and throws the CPU's fault on a fault; the region catches it
// (a wasm catch_all around its body) and leaves at the faulting instruction with
// everything as it was before it, for the interpreter to run it again and deliver the
// fault exactly as after an interpreted instruction. (Templates therefore change nothing before their last
// access that can fault, as the interpreter's handlers do; the accessors find a fault
// before any side effect.) Calls that run a whole instruction's semantics on the CPU (the
// interpreter's fallback, RDTSC) spill the registers and flags into the host area and
// deliver their own faults.

import { DS, ES, SS } from '../constants.js';
import { TLB_MMIO, TLB_NOEXEC, TLB_NOUSER, TLB_VALID, TLB_CODE, TLB_NOWRITE_SUP, TLB_NOWRITE_USER } from '../mmu.js';
import { FK_IN_C, FK_ADC, FK_ADD, FK_DEC, FK_INC, FK_LOGIC, FK_RCO, FK_SBB, FK_SUB } from './runtime.js';
import { Bytes, I32, Op, VOID, sleb, uleb, type FuncType } from './wasmModule.js';
import { HELPERS, SLOW_IMPORTS } from './memoryHelpers.js';
import type { Insn } from './scan.js';

// ---- Locals of the region function run(off, base, left, n): the parameters, then fixed
// locals, then temps. `n` counts the instructions retired since the dispatcher's call, across
// regions that chain into each other.
export const L_OFF = 0, L_BASE = 1, L_LEFT = 2, L_N = 3;
export const L_R0 = 4, L_FK = 12, L_FA = 13, L_FB = 14, L_FR = 15, L_FX = 16;
export const L_STATUS = 17, L_EIP = 18, L_Q0 = 19, L_TEMP0 = 20;
/** Number of fixed i32 locals after the parameters (L_R0 .. L_EIP); then one i64 (L_Q0), then the i32 temps. */
export const FIXED_LOCALS = L_Q0 - 4;

// ---- Functions a region may import (module "rt"). A region imports only those it calls,
// numbered in the order it first calls them (fewer imports: a cheaper instantiation).
const JS_IMPORTS: { name: string; params: number; result: boolean }[] = [
  // Memory slow paths behind the inline fast paths: (linear address[, value], site) → value
  // (the same as the memory helpers' own, see memoryHelpers.ts); they throw.
  ...SLOW_IMPORTS.map((f) => ({ name: f.name, params: f.type.params.length, result: f.type.results.length > 0 })),
  { name: 'segLin', params: 5, result: true },
  { name: 'step', params: 2, result: true }, { name: 'flags', params: 5, result: false },
  { name: 'cond', params: 6, result: true }, { name: 'carry', params: 5, result: true },
  { name: 'setCfOf', params: 2, result: false }, { name: 'setCf', params: 1, result: false },
  { name: 'cpuFlags', params: 2, result: false }, { name: 'rdtsc', params: 2, result: true },
  // Port I/O on the CPU: (offset, next offset, port, size) → 1 when the region must leave.
  { name: 'pin', params: 4, result: true }, { name: 'pout', params: 4, result: true },
];
/** Every importable function: the JS imports, then the helpers (memoryHelpers.ts). */
export const IMPORTABLE: { name: string; type: FuncType }[] = [
  ...JS_IMPORTS.map((f) => ({ name: f.name, type: { params: new Array<number>(f.params).fill(I32), results: f.result ? [I32] : [] } })),
  ...HELPERS,
];
export type ImportName = string;
const IMPORT_ID = new Map<string, number>(IMPORTABLE.map((f, i) => [f.name, i]));

/** Region status (the return value of run): how the region was left. EIP in the slot, EIP in
 *  the CPU (after the interpreter ran an instruction), or EIP in the slot at a page offset the
 *  region has no block for (never chained on: it would come straight back). */
export const EXIT_EIP = 0, EXIT_CPU_EIP = 1, EXIT_UNKNOWN = 2;
/** Left at a block that does not fit in the budget: EIP in the slot, never chained on either. */
export const EXIT_BUDGET = 3;
/** Left at an instruction whose memory access faulted (EIP in the slot): the interpreter runs it again. */
export const EXIT_FAULT = 4;

/** Size index of the flag locals: 0 for 32-bit, 1 for 16-bit, 2 for 8-bit operands. */
export function sizeIndex(size: number): number {
  return size === 4 ? 0 : size === 2 ? 1 : 2;
}
/** The interpreter's lzShift for a size index. */
const SHIFT_OF = [0, 16, 24];

/** Static knowledge of the flag locals: not known (read fk at run time), in the CPU, or a producer. */
export const FLAGS_DYNAMIC = -1;

/** An expression: pushes one i32. */
export type X = (e: Emitter) => void;
/** Reads of the fixed locals and the first temps, made once (templates use them all the time). */
const LOCS: X[] = Array.from({ length: 64 }, (_, l) => (e: Emitter) => e.get(l));
const LOCAL_OF = new Map<X, number>(LOCS.map((x, l) => [x, l]));
export const loc = (l: number): X => LOCS[l] ?? ((e) => e.get(l));
/** The local `x` reads, or -1 when it is not a plain local read. */
export const localOf = (x: X): number => LOCAL_OF.get(x) ?? -1;
export const cst = (v: number): X => (e) => e.i32(v);
const bin = (op: number) => (a: X, b: X): X => (e) => { a(e); b(e); e.op(op); };
export const add = bin(Op.i32Add), sub = bin(Op.i32Sub), and = bin(Op.i32And), or = bin(Op.i32Or), xor = bin(Op.i32Xor);
export const shl = bin(Op.i32Shl), shrU = bin(Op.i32ShrU), shrS = bin(Op.i32ShrS), mul = bin(Op.i32Mul);
export const rotl = bin(Op.i32Rotl), rotr = bin(Op.i32Rotr);
export const eq = bin(Op.i32Eq), ne = bin(Op.i32Ne), ltU = bin(Op.i32LtU), ltS = bin(Op.i32LtS), leU = bin(Op.i32LeU), leS = bin(Op.i32LeS);
export const gtS = bin(Op.i32GtS);
export const eqz = (a: X): X => (e) => { a(e); e.op(Op.i32Eqz); };
/** cond ? a : b (both evaluated). */
export const sel = (cond: X, a: X, b: X): X => (e) => { a(e); b(e); cond(e); e.op(Op.select); };

/** CF of the flag state in the locals, by the kind in fk (not FK_IN_C): cf() decided at run time. */
function dynamicCf(): X {
  const fa = loc(L_FA), fb = loc(L_FB), fr = loc(L_FR), fx = loc(L_FX);
  const k = shrU(loc(L_FK), cst(2));
  const is = (kind: number): X => eq(k, cst(kind));
  return sel(is(FK_ADD), ltU(fr, fa),
    sel(is(FK_SUB), ltU(fa, fb),
      sel(is(FK_ADC), sel(fx, leU(fr, fa), ltU(fr, fa)),
        sel(is(FK_SBB), sel(fx, leU(fa, fb), ltU(fa, fb)),
          sel(is(FK_LOGIC), cst(0),
            // INC/DEC keep the CF before them in fx; RCO keeps CF in bit 0 of fx.
            sel(ltU(sub(k, cst(FK_INC)), cst(2)), fx, and(fx, cst(1))))))));
}
/** Logical or of two booleans (0/1 values). */
export const lor = (a: X, b: X): X => or(a, b);
export const not = (a: X): X => eqz(a);

export class Emitter {
  /** The function body being written. */
  readonly code = new Bytes(1 << 16);
  /** The region's imports (IMPORTABLE ids) in index order, and each id's index (-1: not imported yet). */
  readonly imports: number[] = [];
  private readonly importIndex = new Int16Array(IMPORTABLE.length).fill(-1);
  /** Read/write TLB masks for the region's privilege level (see Cpu.tlbReadMask). */
  readonly rmask: number;
  readonly wmask: number;
  /** TLB mask for entering code on a page: readable and not execute-disabled (XD). */
  readonly xmask: number;
  /** Offsets where the region's blocks start (where it can jump to itself). */
  readonly starts: Set<number>;
  /** Absolute memory addresses of the TLB, the register file and the slots. */
  readonly tlbAt: number;
  readonly regsAt: number;
  readonly slotsAt: number;

  // ---- Structured control: open constructs, and the depths of the two labels.
  depth = 0;
  labelTop = -1;
  labelExit = -1;
  /** Left with the block's offset in `off` when its instructions do not fit in the budget. */
  labelBudget = -1;

  // ---- The instruction being emitted.
  i!: Insn;
  /** Index of the instruction in its block (instructions retired before it, from the block start). */
  idx = 0;
  /** Instructions in the current block (counted when it is left). */
  blockLen = 0;
  /** Flags live after the instruction (the rest may be left uncomputed). */
  liveOut = 0;
  /** Memory accesses of this block inline the TLB fast path (loops), else call the helpers. */
  inlineMemory = false;
  private temp = 0;
  maxTemps = 0;

  // ---- What is known of the flag locals: FLAGS_DYNAMIC, FK_IN_C, or an FK_* producer of size flagSize.
  flagKind = FLAGS_DYNAMIC;
  flagSize = 0;

  constructor(readonly user: boolean, starts: Set<number>, hostBase: number, regsOff: number, slotsOff: number) {
    this.rmask = TLB_VALID | TLB_MMIO | (user ? TLB_NOUSER : 0);
    this.wmask = TLB_VALID | TLB_MMIO | TLB_CODE | (user ? TLB_NOUSER | TLB_NOWRITE_USER : TLB_NOWRITE_SUP);
    this.xmask = this.rmask | TLB_NOEXEC;
    this.starts = starts;
    this.tlbAt = hostBase;
    this.regsAt = hostBase + regsOff;
    this.slotsAt = hostBase + slotsOff;
  }

  begin(i: Insn, idx: number, liveOut: number): void {
    this.i = i;
    this.idx = idx;
    this.liveOut = liveOut;
    this.temp = 0;
  }

  // ==================================================================================
  // Raw code

  op(b: number): void { this.code.push(b); }
  op2(a: number, b: number): void { this.code.push2(a, b); }
  i32(v: number): void { this.code.push(Op.i32Const); sleb(this.code, v); }
  get(l: number): void { this.code.push(Op.localGet); uleb(this.code, l); }
  set(l: number): void { this.code.push(Op.localSet); uleb(this.code, l); }
  tee(l: number): void { this.code.push(Op.localTee); uleb(this.code, l); }
  call(f: number): void { this.code.push(Op.call); uleb(this.code, f); }
  /** Call an imported function (its arguments already pushed). */
  rt(name: ImportName): void { this.call(this.importOf(name)); }
  /** Tail-call an imported function (the region's own result type). */
  rtTail(name: ImportName): void { this.code.push(Op.returnCall); uleb(this.code, this.importOf(name)); }
  private importOf(name: ImportName): number {
    const id = IMPORT_ID.get(name)!;
    let k = this.importIndex[id]!;
    if (k < 0) { k = this.imports.length; this.imports.push(id); this.importIndex[id] = k; }
    return k;
  }
  i64(v: number): void { this.code.push(Op.i64Const); sleb(this.code, v); }
  /** The i64 scratch local (wide multiplies). */
  tmp64(): number { return L_Q0; }
  /** Memory access at absolute `offset` + the address on the stack. */
  mem(op: number, offset: number, align: number): void { this.code.push2(op, align); uleb(this.code, offset); }

  /** local = x */
  let(l: number, x: X): void { x(this); this.set(l); }

  /** Open a block/loop/if; returns its depth for br(). */
  open(kind: number, type = VOID): number {
    this.code.push2(kind, type);
    return this.depth++;
  }
  else_(): void { this.code.push(Op.else); }
  close(): void { this.code.push(Op.end); this.depth--; }
  /** Branch to the construct opened at `label` (a depth from open()). */
  br(label: number): void { this.code.push(Op.br); uleb(this.code, this.depth - 1 - label); }

  /** if (cond) { then } [else { other }] */
  if_(cond: X, then: () => void, other?: () => void): void {
    cond(this);
    this.open(Op.if);
    then();
    if (other !== undefined) { this.else_(); other(); }
    this.close();
  }

  /** A scratch i32 local for this instruction. */
  tmp(): number {
    const n = this.temp++;
    if (n >= this.maxTemps) this.maxTemps = n + 1;
    return L_TEMP0 + n;
  }

  /** x into a new temp (so it can be used twice, and keeps its value when registers change). */
  val(x: X): number {
    const t = this.tmp();
    this.let(t, x);
    return t;
  }

  /**
   * A local holding x's value, for uses that all come before any local x reads is written:
   * the local itself when x is a plain local read, else a new temp.
   */
  use(x: X): number {
    const l = localOf(x);
    return l >= 0 ? l : this.val(x);
  }

  // ==================================================================================
  // Registers

  reg(size: number, r: number): X {
    if (size === 4) return loc(L_R0 + r);
    if (size === 2) return and(loc(L_R0 + r), cst(0xffff));
    return r < 4 ? and(loc(L_R0 + r), cst(0xff)) : and(shrU(loc(L_R0 + r - 4), cst(8)), cst(0xff));
  }

  setReg(size: number, r: number, v: X): void {
    if (size === 4) { this.let(L_R0 + r, v); return; }
    if (size === 2) { this.let(L_R0 + r, or(and(loc(L_R0 + r), cst(-65536)), and(v, cst(0xffff)))); return; }
    if (r < 4) { this.let(L_R0 + r, or(and(loc(L_R0 + r), cst(-256)), and(v, cst(0xff)))); return; }
    const h = L_R0 + r - 4;
    this.let(h, or(and(loc(h), cst(-65281)), shl(and(v, cst(0xff)), cst(8))));
  }

  /** Operand size of the current instruction for its v/z operands. */
  get osize(): number { return this.i.o32 ? 4 : 2; }

  /** Truncate to `size` (i32 arithmetic wraps at 32 bits by itself). */
  trunc(size: number, v: X): X {
    return size === 4 ? v : and(v, cst(size === 2 ? 0xffff : 0xff));
  }

  // ==================================================================================
  // Spilling state for calls that may fault or that read the CPU

  /** Registers and flag locals to the host area, with the count retired before this instruction and the page base. */
  spill(): void {
    for (let r = 0; r < 8; r++) this.get(L_R0 + r);
    for (let l = L_FK; l <= L_FX; l++) this.get(l);
    this.get(L_N); this.i32(this.idx); this.op(Op.i32Add);
    this.get(L_BASE);
    this.rt('spill');
  }

  /** This instruction as the site of a memory access (the argument its slow path records when it throws). */
  private site(): void { this.i32((this.idx << 12) | this.i.off); }

  /**
   * Run an instruction's semantics in the CPU (the interpreter's step, an import such as
   * RDTSC): everything spilled, the call (which delivers its own faults and returns 1 when the
   * region must leave), the registers back, the flags now in the CPU.
   */
  private onCpu(call: () => void, exit: boolean): void {
    this.spill(); // (arguments computed by `call` read locals only: still current)
    call();
    this.i32(0); this.set(L_FK);
    this.flagKind = FK_IN_C;
    this.reload();
    if (exit) { this.op(Op.drop); this.exit(null, this.idx + 1); return; }
    this.open(Op.if);
    this.exit(null, this.idx + 1);
    this.close();
  }

  /** Registers back from the host area (after the interpreter ran). */
  reload(): void {
    this.rt('loadRegs');
    for (let r = 7; r >= 0; r--) this.set(L_R0 + r);
  }

  // ==================================================================================
  // Memory operands

  get isMem(): boolean { return this.i.modrm < 0xc0; }
  get rm(): number { return this.i.modrm & 7; }

  /** The memory operand's offset (before the segment base); 32-bit addressing only. */
  offset(): X {
    const i = this.i;
    let x: X | null = null;
    if (i.eaBase >= 0) x = loc(L_R0 + i.eaBase);
    if (i.eaIndex >= 0) {
      const ix = i.eaScale !== 0 ? shl(loc(L_R0 + i.eaIndex), cst(i.eaScale)) : loc(L_R0 + i.eaIndex);
      x = x === null ? ix : add(x, ix);
    }
    if (x === null) return cst(i.eaDisp | 0);
    return i.eaDisp !== 0 ? add(x, cst(i.eaDisp | 0)) : x;
  }

  /**
   * Linear address of `off` in segment `seg`: `off` itself where the segment is flat in the
   * region's mode (DS/ES/SS), else a temp with the interpreter's segLin of it (FS, GS, CS:
   * base and checks at run time). Its uses must come before any register it reads changes.
   */
  linearOf(seg: number, off: X, size: number, write: boolean): X {
    if (seg === DS || seg === ES || seg === SS) return off;
    const t = this.tmp();
    this.i32(seg); off(this); this.i32(size); this.i32(write ? 1 : 0); this.site(); this.rt('segLin');
    this.set(t);
    return loc(t);
  }

  /** Linear address of the memory operand (see linearOf). */
  linear(size: number, write: boolean): X {
    return this.linearOf(this.i.eaSeg, this.offset(), size, write);
  }

  /** TLB entry of `lin` into a new temp. */
  private tlbEntry(lin: number): number {
    const e = this.tmp();
    this.get(lin); this.i32(12); this.op(Op.i32ShrU); this.i32(2); this.op(Op.i32Shl);
    this.mem(Op.i32Load, this.tlbAt, 2);
    this.set(e);
    return e;
  }

  /** The fast-path test: the TLB entry allows the access and it stays within the page. */
  private fastTest(e: number, lin: number, mask: number, size: number): void {
    this.get(e); this.i32(mask); this.op(Op.i32And);
    if (size > 1) {
      // Bit 12 of (offset in page + size - 1) is set when the access runs into the next page.
      this.get(lin); this.i32(4095); this.op(Op.i32And); this.i32(size - 1); this.op(Op.i32Add); this.i32(4096); this.op(Op.i32And);
      this.op(Op.i32Or);
    }
    this.i32(1); this.op(Op.i32Eq);
  }

  /** Physical address of `lin` through TLB entry `e`. */
  private phys(e: number, lin: number): void {
    this.get(e); this.i32(-4096); this.op(Op.i32And); this.get(lin); this.i32(4095); this.op(Op.i32And); this.op(Op.i32Or);
  }

  private static LOAD = [0, Op.i32Load8U, Op.i32Load16U, 0, Op.i32Load];
  private static STORE = [0, Op.i32Store8, Op.i32Store16, 0, Op.i32Store];
  private static ALIGN = [0, 0, 1, 0, 2];

  /** A memory helper of this region's privilege level (memoryHelpers.ts). */
  private helper(kind: string, size: number): string { return `${kind}${size * 8}${this.user ? 'u' : 's'}`; }

  /**
   * Load `size` bytes at linear address `lin` into a new temp: the fast path inline in
   * loops, else through the memory helper; the slow path through the CPU's accessor.
   */
  load(size: number, lin: X): number {
    const v = this.tmp();
    if (this.inlineMemory) {
      const l = this.use(lin);
      const e = this.tlbEntry(l);
      this.fastTest(e, l, this.rmask, size);
      this.open(Op.if, I32);
      this.phys(e, l); this.mem(Emitter.LOAD[size]!, 0, Emitter.ALIGN[size]!);
      this.else_();
      this.get(l); this.site(); this.rt(`rd${size * 8}`);
      this.close();
    } else {
      lin(this); this.site(); this.rt(this.helper('ld', size));
    }
    this.set(v);
    return v;
  }

  /** Store `v` (truncated to `size`) at linear address `lin`. */
  store(size: number, lin: X, v: X): void {
    if (this.inlineMemory) {
      const l = this.use(lin), val = this.use(v);
      const e = this.tlbEntry(l);
      this.fastTest(e, l, this.wmask, size);
      this.open(Op.if);
      this.phys(e, l); this.get(val); this.mem(Emitter.STORE[size]!, 0, Emitter.ALIGN[size]!);
      this.else_();
      this.get(l); this.get(val); this.site(); this.rt(`wr${size * 8}`);
      this.close();
    } else {
      lin(this); v(this); this.site(); this.rt(this.helper('st', size));
    }
  }

  /**
   * Start a read-modify-write of `size` bytes at `lin`: checks the write first (as rmwLin),
   * returns [old value temp, commit(newValue)].
   */
  rmw(size: number, lin: X): [number, (v: X) => void] {
    const old = this.tmp();
    const l = this.use(lin);
    if (!this.inlineMemory) {
      this.get(l); this.site(); this.rt(this.helper('rmw', size)); this.set(old);
      // The write was checked: the store's slow path cannot fault.
      return [old, (v: X) => { this.get(l); v(this); this.site(); this.rt(this.helper('st', size)); }];
    }
    const e = this.tlbEntry(l), p = this.tmp();
    this.fastTest(e, l, this.wmask, size);
    this.open(Op.if);
    this.phys(e, l); this.tee(p); this.mem(Emitter.LOAD[size]!, 0, Emitter.ALIGN[size]!); this.set(old);
    this.else_();
    this.get(l); this.site(); this.rt(`rmw${size * 8}`); this.set(old);
    this.i32(-1); this.set(p);
    this.close();
    return [old, (v: X) => {
      const nv = this.use(v);
      this.if_(ne(loc(p), cst(-1)), () => { this.get(p); this.get(nv); this.mem(Emitter.STORE[size]!, 0, Emitter.ALIGN[size]!); },
        () => { this.get(l); this.get(nv); this.site(); this.rt(`wr${size * 8}`); });
    }];
  }

  /** Check `size` bytes at `lin` for writing without accessing them (the interpreter's probeWrite). */
  probe(lin: X, size: number): void {
    lin(this); this.i32(size); this.site(); this.rt(this.user ? 'probeu' : 'probes');
  }

  /** Read the r/m operand of `size` (register or memory). */
  readRm(size: number): X {
    if (!this.isMem) return this.reg(size, this.rm);
    return loc(this.load(size, this.linear(size, false)));
  }

  /** Write the r/m operand. */
  writeRm(size: number, v: X): void {
    if (!this.isMem) { this.setReg(size, this.rm, v); return; }
    this.store(size, this.linear(size, true), v);
  }

  // ==================================================================================
  // Stack (the region's mode guarantees a flat 32-bit SS)

  push(size: number, v: X): void {
    const t = this.val(sub(loc(L_R0 + 4), cst(size)));
    this.store(size, loc(t), v);
    this.let(L_R0 + 4, loc(t));
  }

  /** Pop `size` bytes into a new temp; ESP moves after the read (a fault leaves it). */
  pop(size: number): number {
    const v = this.load(size, loc(L_R0 + 4));
    this.let(L_R0 + 4, add(loc(L_R0 + 4), cst(size)));
    return v;
  }

  // ==================================================================================
  // Flags

  /** The instruction writes flags someone reads: skip computing them otherwise. */
  flagsLive(written: number): boolean { return (this.liveOut & written) !== 0; }

  /** Record an arithmetic result as the flag producer (kind FK_*, operands as values of `size`). */
  produce(kind: number, size: number, a: X, b: X, r: X, x: X = cst(0)): void {
    const szi = sizeIndex(size);
    // Only the locals the kind reads (see flagsOut, cf, of): fx first, it may be the carry
    // of the state being replaced (INC/DEC, ADC/SBB).
    const arith = kind !== FK_LOGIC && kind !== FK_RCO;
    if (kind !== FK_ADD && kind !== FK_SUB && kind !== FK_LOGIC) this.let(L_FX, x);
    if (arith) this.let(L_FA, a);
    if (arith && kind !== FK_INC && kind !== FK_DEC) this.let(L_FB, b);
    this.let(L_FR, r);
    this.let(L_FK, cst((kind << 2) | szi));
    this.flagKind = kind;
    this.flagSize = szi;
  }

  private flagArgs(): void { for (let l = L_FK; l <= L_FX; l++) this.get(l); }

  /** Put the flag state into the CPU (before code that reads or edits the CPU's flags). */
  flagsToCpu(): void {
    if (this.flagKind === FK_IN_C) return;
    this.flagArgs(); this.rt('flags');
    this.i32(0); this.set(L_FK);
    this.flagKind = FK_IN_C;
  }

  private sign(x: X): X {
    const sh = SHIFT_OF[this.flagSize]!;
    return sh === 0 ? ltS(x, cst(0)) : ltS(shl(x, cst(sh)), cst(0));
  }

  /** CF as 0/1. */
  carry(): X {
    if (this.flagKind === FK_IN_C) return (e) => { e.flagArgs(); e.rt('carry'); };
    if (this.flagKind === FLAGS_DYNAMIC) {
      // The producer's kind is known only at run time (a block's first reader): CF from the
      // locals by kind, without leaving WebAssembly; only a state in the CPU (fk 0) asks it.
      return (e) => {
        const t = e.tmp();
        e.if_(eqz(loc(L_FK)), () => { e.flagArgs(); e.rt('carry'); e.set(t); }, () => e.let(t, dynamicCf()));
        e.get(t);
      };
    }
    return this.cf();
  }

  private cf(): X {
    const fa = loc(L_FA), fb = loc(L_FB), fr = loc(L_FR), fx = loc(L_FX);
    switch (this.flagKind) {
      case FK_ADD: return ltU(fr, fa);
      case FK_ADC: return sel(fx, leU(fr, fa), ltU(fr, fa));
      case FK_SUB: return ltU(fa, fb);
      case FK_SBB: return sel(fx, leU(fa, fb), ltU(fa, fb));
      case FK_INC: case FK_DEC: return fx;
      case FK_LOGIC: return cst(0);
      default: return and(fx, cst(1));
    }
  }

  private of(): X {
    const fa = loc(L_FA), fb = loc(L_FB), fr = loc(L_FR), fx = loc(L_FX);
    switch (this.flagKind) {
      case FK_ADD: case FK_ADC: return this.sign(and(xor(fa, fr), xor(fb, fr)));
      case FK_INC: return this.sign(and(xor(fa, fr), xor(cst(1), fr))); // (fb is not kept for INC/DEC: 1)
      case FK_SUB: case FK_SBB: return this.sign(and(xor(fa, fb), xor(fa, fr)));
      case FK_DEC: return this.sign(and(xor(fa, cst(1)), xor(fa, fr)));
      case FK_LOGIC: return cst(0);
      default: return shrU(and(fx, cst(2)), cst(1));
    }
  }

  /** Condition code cc (Jcc/SETcc/CMOVcc low nibble) as a 0/1 value. */
  cond(cc: number): X {
    if (this.flagKind === FLAGS_DYNAMIC || this.flagKind === FK_IN_C) {
      return (e) => { e.flagArgs(); e.i32(cc); e.rt('cond'); };
    }
    const r = this.condTrue(cc >> 1);
    return (cc & 1) === 0 ? r : eqz(r);
  }

  private condTrue(c2: number): X {
    const k = this.flagKind, sh = SHIFT_OF[this.flagSize]!;
    const fa = loc(L_FA), fb = loc(L_FB), fr = loc(L_FR);
    const zf = eqz(fr);
    const sf = this.sign(fr);
    if (k === FK_SUB) {
      // CMP a, b and SUB: the conditions are comparisons of the operands.
      const s = (x: X): X => (sh === 0 ? x : shl(x, cst(sh)));
      switch (c2) {
        case 1: return ltU(fa, fb);
        case 2: return eq(fa, fb);
        case 3: return leU(fa, fb);
        case 6: return ltS(s(fa), s(fb));
        case 7: return leS(s(fa), s(fb));
        default:
      }
    }
    if (k === FK_LOGIC) {
      switch (c2) {
        case 0: case 1: return cst(0);
        case 3: return zf;
        case 6: return sf;
        case 7: return sh === 0 ? leS(fr, cst(0)) : leS(shl(fr, cst(sh)), cst(0));
        default:
      }
    }
    switch (c2) {
      case 0: return this.of();
      case 1: return this.cf();
      case 2: return zf;
      case 3: return lor(this.cf(), zf);
      case 4: return sf;
      // PF: even parity of the low byte of the result only.
      case 5: return (e) => { e.get(L_FR); e.i32(0xff); e.op(Op.i32And); e.op(Op.i32Popcnt); e.i32(1); e.op(Op.i32And); e.op(Op.i32Eqz); };
      case 6: return ne(sf, this.of());
      default: return lor(zf, ne(sf, this.of()));
    }
  }

  // ==================================================================================
  // Leaving the instruction stream

  /** Leave the region: EIP `eip` (or the CPU's own EIP), after `retired` more instructions. */
  exit(eip: X | null, retired: number, status = EXIT_EIP): void {
    if (retired !== 0) this.let(L_N, add(loc(L_N), cst(retired)));
    if (eip === null) this.let(L_STATUS, cst(EXIT_CPU_EIP));
    else { this.let(L_EIP, eip); this.let(L_STATUS, cst(status)); }
    this.br(this.labelExit);
  }

  /** EIP of a page offset. */
  eipOf(off: number): X { return add(loc(L_BASE), cst(off)); }

  /** Jump to a page offset known now: inside the region, or out through the dispatcher. */
  jumpTo(target: number): void {
    if (!(target >= 0 && target < 4096 && this.starts.has(target))) { this.exit(this.eipOf(target), this.blockLen); return; }
    this.let(L_N, add(loc(L_N), cst(this.blockLen)));
    this.let(L_OFF, cst(target));
    this.br(this.labelTop);
  }

  /** Jump to a linear EIP computed at run time (RET, indirect): out of the block to wherever it is. */
  jumpDyn(target: X): void {
    this.exit(target, this.blockLen);
  }

  /**
   * Run the current instruction in an import that works on the CPU: (page offset, next offset,
   * ...args) → 1 when the region must leave.
   */
  cpuCall(name: ImportName, args: X[] = []): void {
    this.onCpu(() => { this.i32(this.i.off); this.i32(this.i.off + this.i.len); for (const a of args) a(this); this.rt(name); }, false);
  }

  /** Set bits of the CPU's EFLAGS outside the arithmetic ones (DF): c.flags = c.flags & ~mask | value. */
  cpuFlags(value: number, mask: number): void { this.i32(value); this.i32(mask); this.rt('cpuFlags'); }

  /** Run the current instruction in the interpreter (the step import puts the spilled flags in the CPU first). */
  fallback(exit: boolean): void {
    const i = this.i;
    this.onCpu(() => { this.i32(i.off); this.i32(i.off + i.len); this.rt('step'); }, exit);
  }
}

export { FK_ADC, FK_ADD, FK_DEC, FK_INC, FK_LOGIC, FK_RCO, FK_SBB, FK_SUB, FK_IN_C } from './runtime.js';
