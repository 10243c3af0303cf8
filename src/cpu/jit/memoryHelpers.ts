// The helpers translated code calls (one small WebAssembly module per machine): memory
// accessors, the software TLB's fast path and the CPU's own accessor (an import) when it
// misses; and spill/loadRegs, which move a region's registers and flag state to and from
// the host area around calls into the CPU.
// Regions call these for accesses outside loops, which keeps their code small (Liftoff
// compiles it faster); inside loops they inline the same fast path (Emitter).
//
//   ld{8,16,32}{s,u}(lin, site) → value     st{8,16,32}{s,u}(lin, value, site)
//   rmw{8,16,32}{s,u}(lin, site) → value    (the write checked first, then the read)
//   probe{s,u}(lin, size, site)             (the write checked, nothing accessed)
//
// s/u: supervisor or user privilege (the TLB masks of Cpu.updateMode); site: the access's
// instruction in its region (see Emitter), passed on to the slow path. The slow paths
// throw the CPU's fault, or NEEDS_INTERPRETER where only the interpreter may do the access
// (see Translator), having recorded the site where the region finds it.

import { TLB_CODE, TLB_MMIO, TLB_NOUSER, TLB_NOWRITE_SUP, TLB_NOWRITE_USER, TLB_VALID } from '../mmu.js';
import { Bytes, I32, Op, assemble, sleb, uleb, type FuncDef, type FuncType } from './wasmModule.js';
import { S_BASE, S_FK, S_N } from './slots.js';

export const SIZES = [1, 2, 4] as const;
const LOAD: Record<number, number> = { 1: Op.i32Load8U, 2: Op.i32Load16U, 4: Op.i32Load };
const STORE: Record<number, number> = { 1: Op.i32Store8, 2: Op.i32Store16, 4: Op.i32Store };
const ALIGN: Record<number, number> = { 1: 0, 2: 1, 4: 2 };

/** TLB bits that must be clear for a fast access (Cpu.tlbReadMask / tlbWriteMask). */
export function tlbMasks(user: boolean): { read: number; write: number } {
  return {
    read: TLB_VALID | TLB_MMIO | (user ? TLB_NOUSER : 0),
    write: TLB_VALID | TLB_MMIO | TLB_CODE | (user ? TLB_NOUSER | TLB_NOWRITE_USER : TLB_NOWRITE_SUP),
  };
}

/** The slow-path imports of the helper module, in index order. */
export const SLOW_IMPORTS = [
  ...SIZES.map((s) => ({ name: `rd${s * 8}`, type: { params: [I32, I32], results: [I32] } })),
  ...SIZES.map((s) => ({ name: `wr${s * 8}`, type: { params: [I32, I32, I32], results: [] } })),
  ...SIZES.map((s) => ({ name: `rmw${s * 8}`, type: { params: [I32, I32], results: [I32] } })),
  { name: 'probe', type: { params: [I32, I32, I32], results: [] } },
];
const slowIndex = (name: string): number => SLOW_IMPORTS.findIndex((f) => f.name === name);

/** The helpers the module exports, in the order regions import them. */
export const HELPERS: { name: string; type: FuncType }[] = [];
for (const p of ['s', 'u']) {
  for (const s of SIZES) HELPERS.push({ name: `ld${s * 8}${p}`, type: { params: [I32, I32], results: [I32] } });
  for (const s of SIZES) HELPERS.push({ name: `st${s * 8}${p}`, type: { params: [I32, I32, I32], results: [] } });
  for (const s of SIZES) HELPERS.push({ name: `rmw${s * 8}${p}`, type: { params: [I32, I32], results: [I32] } });
  HELPERS.push({ name: `probe${p}`, type: { params: [I32, I32, I32], results: [] } });
}
/** spill(r0..r7, fk, fa, fb, fr, fx, n, base): the region's state into the host area. */
const SPILL_TYPE: FuncType = { params: new Array<number>(15).fill(I32), results: [] };
/** loadRegs() → r0..r7: the registers from the host area. */
const LOAD_REGS_TYPE: FuncType = { params: [], results: new Array<number>(8).fill(I32) };
/** A region: run(off, base, left, n) → status (compile.ts). */
export const RUN_TYPE: FuncType = { params: [I32, I32, I32, I32], results: [I32] };
/** chain(off, base, left, n, slot): tail-call the region in table slot `slot`. */
const CHAIN_TYPE: FuncType = { params: [I32, I32, I32, I32, I32], results: [I32] };
HELPERS.push({ name: 'spill', type: SPILL_TYPE }, { name: 'loadRegs', type: LOAD_REGS_TYPE }, { name: 'chain', type: CHAIN_TYPE });

/** Where the helpers find the CPU's state: absolute addresses in the memory's host area. */
export interface HostLayout { tlbAt: number; regsAt: number; slotsAt: number }

/**
 * Code of the fast-path test: TLB entry of `lin` (param 0) into local `e`, then 1 when the
 * entry's `mask` bits are exactly TLB_VALID and the `size` bytes stay in the page.
 */
function fastTest(b: Bytes, tlbAt: number, mask: number, size: number, sizeLocal: number, e: number): void {
  b.push2(Op.localGet, 0); b.push(Op.i32Const); sleb(b, 12); b.push(Op.i32ShrU); b.push(Op.i32Const); sleb(b, 2); b.push(Op.i32Shl);
  b.push2(Op.i32Load, 2); uleb(b, tlbAt);
  b.push(Op.localTee); uleb(b, e);
  b.push(Op.i32Const); sleb(b, mask); b.push(Op.i32And);
  // Bit 12 of (offset in page + size - 1) is set when the access runs into the next page.
  b.push2(Op.localGet, 0); b.push(Op.i32Const); sleb(b, 4095); b.push(Op.i32And);
  if (sizeLocal >= 0) { b.push(Op.localGet); uleb(b, sizeLocal); b.push(Op.i32Const); sleb(b, 1); b.push(Op.i32Sub); } else { b.push(Op.i32Const); sleb(b, size - 1); }
  b.push(Op.i32Add); b.push(Op.i32Const); sleb(b, 4096); b.push(Op.i32And);
  b.push(Op.i32Or); b.push(Op.i32Const); sleb(b, 1); b.push(Op.i32Eq);
}

/** Physical address: the TLB entry (local `e`) page and the offset of `lin` (param 0). */
function phys(b: Bytes, e: number): void {
  b.push(Op.localGet); uleb(b, e); b.push(Op.i32Const); sleb(b, -4096); b.push(Op.i32And);
  b.push2(Op.localGet, 0); b.push(Op.i32Const); sleb(b, 4095); b.push(Op.i32And); b.push(Op.i32Or);
}

function helperBody(kind: string, size: number, tlbAt: number, mask: number): FuncDef {
  const b = new Bytes();
  const params = kind === 'st' || kind === 'probe' ? 3 : 2;
  const e = params; // the one local after the parameters: the TLB entry
  const sizeLocal = kind === 'probe' ? 1 : -1;
  fastTest(b, tlbAt, mask, size, sizeLocal, e);
  const siteParam = kind === 'st' || kind === 'probe' ? 2 : 1;
  const call = (name: string): void => { b.push(Op.call); uleb(b, slowIndex(name)); };
  if (kind === 'ld' || kind === 'rmw') {
    b.push2(Op.if, I32);
    phys(b, e); b.push2(LOAD[size]!, ALIGN[size]!); uleb(b, 0);
    b.push(Op.else);
    b.push2(Op.localGet, 0); b.push2(Op.localGet, siteParam); call(`${kind === 'ld' ? 'rd' : 'rmw'}${size * 8}`);
    b.push(Op.end);
  } else if (kind === 'st') {
    b.push2(Op.if, 0x40);
    phys(b, e); b.push2(Op.localGet, 1); b.push2(STORE[size]!, ALIGN[size]!); uleb(b, 0);
    b.push(Op.else);
    b.push2(Op.localGet, 0); b.push2(Op.localGet, 1); b.push2(Op.localGet, siteParam); call(`wr${size * 8}`);
    b.push(Op.end);
  } else {
    b.push(Op.i32Eqz);
    b.push2(Op.if, 0x40);
    b.push2(Op.localGet, 0); b.push2(Op.localGet, 1); b.push2(Op.localGet, siteParam); call('probe');
    b.push(Op.end);
  }
  b.push(Op.end);
  return { type: HELPERS.find((h) => h.name.startsWith(kind))!.type, locals: [{ count: 1, type: I32 }], body: b };
}

function spillBody(at: HostLayout): FuncDef {
  const b = new Bytes();
  const store = (param: number, addr: number): void => {
    b.push2(Op.i32Const, 0); b.push(Op.localGet); uleb(b, param);
    b.push2(Op.i32Store, 2); uleb(b, addr);
  };
  for (let r = 0; r < 8; r++) store(r, at.regsAt + 4 * r);
  for (let f = 0; f < 5; f++) store(8 + f, at.slotsAt + 4 * (S_FK + f));
  store(13, at.slotsAt + 4 * S_N);
  store(14, at.slotsAt + 4 * S_BASE);
  b.push(Op.end);
  return { type: SPILL_TYPE, locals: [], body: b };
}

function loadRegsBody(at: HostLayout): FuncDef {
  const b = new Bytes();
  for (let r = 0; r < 8; r++) { b.push2(Op.i32Const, 0); b.push2(Op.i32Load, 2); uleb(b, at.regsAt + 4 * r); }
  b.push(Op.end);
  return { type: LOAD_REGS_TYPE, locals: [], body: b };
}

// Regions go on to each other through this one function: the table of regions is imported
// by this module alone, as V8 keeps a copy of an imported table per importing instance
// (instantiating a region that imported it copied the table, and each table.set updated
// every region: 1 ms per region at a hundred).
function chainBody(): FuncDef {
  const b = new Bytes();
  for (let p = 0; p < 5; p++) b.push2(Op.localGet, p);
  b.push(Op.returnCallIndirect); uleb(b, 0); uleb(b, 0); // type 0 (RUN_TYPE), table 0
  b.push(Op.end);
  return { type: CHAIN_TYPE, locals: [], body: b };
}

/** Build and instantiate the helper module; returns its exports by name. */
export function buildMemoryHelpers(memory: WebAssembly.Memory, memoryPages: number, at: HostLayout,
  table: WebAssembly.Table, tableMax: number, slow: Record<string, (...args: never[]) => unknown>): Record<string, unknown> {
  const funcs: FuncDef[] = [];
  for (const p of ['s', 'u']) {
    const { read, write } = tlbMasks(p === 'u');
    for (const s of SIZES) funcs.push(helperBody('ld', s, at.tlbAt, read));
    for (const s of SIZES) funcs.push(helperBody('st', s, at.tlbAt, write));
    for (const s of SIZES) funcs.push(helperBody('rmw', s, at.tlbAt, write));
    funcs.push(helperBody('probe', 1, at.tlbAt, write));
  }
  funcs.push(spillBody(at), loadRegsBody(at), chainBody());
  const bytes = assemble({
    imports: SLOW_IMPORTS,
    memoryPages,
    tableMax,
    types: [RUN_TYPE],
    funcs,
    exports: HELPERS.map((h, i) => ({ name: h.name, func: SLOW_IMPORTS.length + i })),
  });
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), { rt: { ...slow, mem: memory, tab: table } }).exports;
}
