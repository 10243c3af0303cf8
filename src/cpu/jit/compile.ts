// From the blocks of one page to one WebAssembly function (a region). The region keeps
// the guest registers and the flag state in locals while control stays in it: a loop
// around a br_table over the page offsets of its blocks, where a jump to another block of
// the region is `off = target; br top` and a block falls through into the next when that
// is where it goes. When control leaves for another page that has a region too, the
// region tail-calls it through the helpers' chain and the table of regions (the code map
// in the host area says which slot), so code moving between translated pages stays in
// WebAssembly.
//
//   run(off, base, left, n) → EXIT_EIP | EXIT_CPU_EIP; EIP and the count retired in slots
//
// `off` is the entry offset, `base` the linear address of the page (a region serves every
// linear alias of its physical page), `left` the instructions the budget allows and `n`
// those retired so far. Each block first checks that all of its instructions fit, so a region never
// retires more than the interpreter would in the same budget. Flag liveness over each
// block decides which producers need their flags recorded: a producer whose flags are
// overwritten before anything (a reader, an instruction that may fault, a call into the
// interpreter, the block's end) looks at them records nothing.

import {
  F_ALL, F_C, F_O, FLOW_EXIT, FLOW_JCC, FLOW_JMP, FLOW_UD, FMT_MODRM, FMT_REG_ONLY, OP_FLAGS_READ, OP_FLAGS_WRITTEN, OP_FORMAT, infoIndex,
} from '../opcodeInfo.js';
import {
  EXIT_BUDGET, EXIT_FAULT, EXIT_UNKNOWN, Emitter, FIXED_LOCALS, IMPORTABLE, L_BASE, L_EIP, L_FK, L_LEFT, L_N, L_OFF, L_R0,
  L_STATUS, type X, add, and, cst, eq, eqz, gtS, loc, ltS, shrU,
} from './Emitter.js';
import { TEMPLATES } from './emit/index.js';
import { RUN_TYPE } from './memoryHelpers.js';
import { S_EIP, S_EXITREQ, S_FK, S_SITE } from './slots.js';
import { type Block, type Insn, opcodeOf, relTarget } from './scan.js';
import { I32, I64, Op, assemble, uleb, type FuncType } from './wasmModule.js';
import { compileOptimized } from './wasmTiering.js';

export type RegionFn = (off: number, base: number, left: number, n: number) => number;

export interface CompiledRegion {
  run: RegionFn;
  /** 1 at each page offset that starts a block (where the region can be entered). */
  starts: Uint8Array;
  /** Size of the module, the code cache's measure of a region. */
  bytes: number;
  insns: number;
  blocks: number;
  /** Instructions that run through the interpreter from inside the region. */
  fallbacks: number;
}

/** Where the region's state lives: the memory, its host-area layout (see Cpu), the shared table. */
export interface RegionTarget {
  memory: WebAssembly.Memory;
  memoryPages: number;
  hostBase: number;
  regsOffset: number;
  slotsOffset: number;
  /** Absolute address of the code map (key → table slot + 1, 0 for none). */
  codeMapAt: number;
  /** What a region module is instantiated with, under "rt": every importable function
   *  (IMPORTABLE: the JS imports and the helpers) and the memory. */
  instanceImports: WebAssembly.Imports;
}

let sourceHook: ((bytes: Uint8Array, blocks: Block[]) => void) | null = null;
/** See every region's module as it is compiled (debugging, tests). */
export function onRegionCompiled(hook: ((bytes: Uint8Array, blocks: Block[]) => void) | null): void { sourceHook = hook; }

/** The instruction has a memory operand (not LEA, not a hint NOP: those do not access it). */
function hasMemOperand(i: Insn): boolean {
  const op = opcodeOf(i);
  const fmt = OP_FORMAT[op]!;
  return (fmt & FMT_MODRM) !== 0 && (fmt & FMT_REG_ONLY) === 0 && i.modrm < 0xc0 && op !== 0x8d && !(op >= 0x118 && op <= 0x11f);
}

/** The instruction touches the stack (so it may fault there). */
function usesStack(i: Insn): boolean {
  const op = opcodeOf(i);
  return (op >= 0x50 && op <= 0x5f) || op === 0x68 || op === 0x6a || op === 0x8f || op === 0xc2 || op === 0xc3 ||
    op === 0xc9 || op === 0xe8 || (op === 0xff && (i.reg === 2 || i.reg === 6));
}

/** The template runs the instruction on the CPU (port I/O, RDTSC: emit/system.ts), where it may fault (#GP). */
function runsOnCpu(i: Insn): boolean {
  const op = opcodeOf(i);
  return (op >= 0xe4 && op <= 0xe7) || (op >= 0xec && op <= 0xef) || op === 0x131;
}

/** Can the instruction be emitted inline? (A template accepts it, with 32-bit addressing for a memory operand.) */
function translatable(i: Insn): boolean {
  const t = TEMPLATES[opcodeOf(i)];
  if (t === undefined) return false;
  if (!i.a32 && hasMemOperand(i)) return false;
  return t.accepts === undefined || t.accepts(i);
}

/** Flags the instruction must write (so they are dead before it) and must see (live before it). */
function flagUse(i: Insn, inline: boolean): [read: number, written: number] {
  const op = opcodeOf(i);
  const idx = infoIndex(op, i.modrm);
  let read = OP_FLAGS_READ[idx]!, written = OP_FLAGS_WRITTEN[idx]!;
  if (inline && (op === 0xc0 || op === 0xc1 || op === 0xd0 || op === 0xd1)) {
    // Shifts by a non-zero constant (the forms the templates take): the table counts
    // group 2 as writing nothing for sure.
    const n = (op === 0xd0 || op === 0xd1 ? 1 : i.imm) & 31;
    if (n !== 0) written = i.reg <= 1 ? F_C | F_O : F_ALL;
  }
  // Anything that can fault or calls the interpreter needs every flag as it stands.
  if (!inline || hasMemOperand(i) || usesStack(i) || runsOnCpu(i) || (op >= 0xa0 && op <= 0xa3)) read = F_ALL;
  return [read, written];
}

/** Compile the blocks of a page into a region for mode `mode` (Cpu.jitMode). */
export function compileRegion(blocks: Block[], mode: number, target: RegionTarget, optimize = false): CompiledRegion {
  const startSet = new Set(blocks.map((b) => b.start));
  const e = new Emitter(mode === 1, startSet, target.hostBase, target.regsOffset, target.slotsOffset);
  const N = blocks.length;
  let insns = 0, fallbacks = 0;

  // Entry: registers and flag state from the host area (the caller spilled them there).
  e.reload();
  for (let f = 0; f < 5; f++) { e.i32(0); e.mem(Op.i32Load, e.slotsAt + 4 * (S_FK + f), 2); e.set(L_FK + f); }
  e.labelExit = e.open(Op.block);
  // A memory access that faults throws out of its import: caught below, around everything.
  e.open(Op.try);
  e.labelBudget = e.open(Op.block);
  e.labelTop = e.open(Op.loop);
  const unknown = e.open(Op.block);
  const caseLabel = new Array<number>(N);
  for (let k = N - 1; k >= 0; k--) caseLabel[k] = e.open(Op.block);
  // Dispatch on the page offset: a br_table over the span of block starts, the rest out.
  const first = blocks[0]?.start ?? 0, span = N === 0 ? 0 : blocks[N - 1]!.start - first + 1;
  const caseOf = new Int16Array(4096).fill(-1);
  blocks.forEach((b, k) => { caseOf[b.start] = k; });
  e.get(L_OFF); e.i32(first); e.op(Op.i32Sub);
  e.op(Op.brTable);
  uleb(e.code, span);
  for (let off = first; off < first + span; off++) {
    const k = caseOf[off]!;
    uleb(e.code, e.depth - 1 - (k < 0 ? unknown : caseLabel[k]!));
  }
  uleb(e.code, e.depth - 1 - unknown);

  const loops = loopBlocks(blocks);
  for (let b = 0; b < N; b++) {
    e.close(); // the end of case b's block: its code follows
    const block = blocks[b]!;
    const n = block.insns.length;
    insns += n;
    // Which instructions go inline, then flag liveness backwards from the block's end.
    const inline = block.insns.map(translatable);
    const liveOut = new Array<number>(n);
    let live = F_ALL;
    for (let k = n - 1; k >= 0; k--) {
      liveOut[k] = live;
      const [read, written] = flagUse(block.insns[k]!, inline[k]!);
      live = (live & ~written) | read;
    }
    e.blockLen = n;
    e.flagKind = -1;
    e.idx = 0;
    e.inlineMemory = loops.has(block.start);
    // A block the scan could not decode (the instruction crosses the page end, or would
    // fault): out to the interpreter, never chained on (it would come straight back).
    if (n === 0) { e.exit(e.eipOf(block.start), 0, EXIT_UNKNOWN); continue; }
    // Budget: the whole block must fit.
    e.if_(gtS(add(loc(L_N), cst(n)), loc(L_LEFT)), () => { e.let(L_OFF, cst(block.start)); e.br(e.labelBudget); });
    let ended = false;
    for (let k = 0; k < n; k++) {
      const i = block.insns[k]!;
      e.begin(i, k, liveOut[k]!);
      if (inline[k]) {
        TEMPLATES[opcodeOf(i)]!(e);
      } else {
        fallbacks++;
        const exits = i.flow === FLOW_EXIT || i.flow === FLOW_UD;
        e.fallback(exits);
        if (exits) ended = true;
      }
    }
    if (!ended) {
      // Fall through: into the next case, to another block, or out.
      const last = block.insns[n - 1]!;
      const next = last.off + last.len;
      e.idx = n;
      if (blocks[b + 1]?.start === next) e.let(L_N, add(loc(L_N), cst(n)));
      else e.jumpTo(next);
    }
  }
  e.close(); // block $unknown: an offset that starts no block comes here (the last case never falls in)
  e.let(L_EIP, add(loc(L_BASE), loc(L_OFF)));
  e.let(L_STATUS, cst(EXIT_UNKNOWN));
  e.br(e.labelExit);
  e.close(); // loop $top
  e.close(); // block $budget: a block that did not fit in the budget, at `off`
  e.let(L_EIP, add(loc(L_BASE), loc(L_OFF)));
  e.let(L_STATUS, cst(EXIT_BUDGET));
  e.op(Op.catchAll);
  // The site of the faulting access, which its slow path recorded: its instruction's page
  // offset and index in the block. None (-1): the exception did not come from a memory
  // access, pass it on.
  const site = e.tmp();
  e.let(site, loadSlot(e, S_SITE));
  e.if_(ltS(loc(site), cst(0)), () => { e.op(Op.rethrow); uleb(e.code, 1); });
  e.i32(0); e.i32(-1); e.mem(Op.i32Store, e.slotsAt + 4 * S_SITE, 2);
  e.let(L_N, add(loc(L_N), shrU(loc(site), cst(12))));
  e.let(L_EIP, add(loc(L_BASE), and(loc(site), cst(4095))));
  e.let(L_STATUS, cst(EXIT_FAULT));
  e.close(); // try
  e.close(); // block $exit
  // Exit: registers, flags and the count to the host area; then, when the region left at
  // a plain EIP with budget left and no exit asked for, on to the region of that EIP's page.
  for (let r = 0; r < 8; r++) e.get(L_R0 + r);
  for (let l = L_FK; l < L_FK + 5; l++) e.get(l);
  e.get(L_N);
  e.get(L_BASE);
  e.rt('spill');
  e.if_(and(eqz(loc(L_STATUS)), and(eqz(loadSlot(e, S_EXITREQ)), ltS(loc(L_N), loc(L_LEFT)))), () => {
    const te = e.tmp(), slot = e.tmp();
    e.get(L_EIP); e.i32(12); e.op(Op.i32ShrU); e.i32(2); e.op(Op.i32Shl); e.mem(Op.i32Load, e.tlbAt, 2); e.set(te);
    e.if_(eq(and(loc(te), cst(e.xmask)), cst(1)), () => {
      // The code map entry of (physical page << 1 | mode): int32 at codeMap + page * 8 + mode * 4.
      e.get(te); e.i32(9); e.op(Op.i32ShrU); e.i32(-8); e.op(Op.i32And); e.mem(Op.i32Load, target.codeMapAt + mode * 4, 2); e.set(slot);
      e.if_(loc(slot), () => {
        e.get(L_EIP); e.i32(4095); e.op(Op.i32And);
        e.get(L_EIP); e.i32(-4096); e.op(Op.i32And);
        e.get(L_LEFT);
        e.get(L_N);
        e.get(slot); e.i32(1); e.op(Op.i32Sub);
        e.rtTail('chain');
      });
    });
  });
  e.i32(0); e.get(L_EIP); e.mem(Op.i32Store, e.slotsAt + 4 * S_EIP, 2);
  e.get(L_STATUS);
  e.op(Op.end);

  const bytes = assemble({
    imports: e.imports.map((id) => IMPORTABLE[id]!),
    memoryPages: target.memoryPages,
    ...(optimize ? { tag: 'optimized' } : {}),
    funcs: [{
      type: RUN_TYPE,
      locals: [{ count: FIXED_LOCALS, type: I32 }, { count: 1, type: I64 }, { count: Math.max(e.maxTemps, 2), type: I32 }],
      body: e.code,
    }],
  });
  sourceHook?.(bytes, blocks);
  const module = optimize ? compileOptimized(() => new WebAssembly.Module(bytes)) : new WebAssembly.Module(bytes);
  const instance = new WebAssembly.Instance(module, target.instanceImports);
  const starts = new Uint8Array(4096);
  for (const b of blocks) starts[b.start] = 1;
  return { run: instance.exports['run'] as RegionFn, starts, bytes: bytes.length, insns, blocks: N, fallbacks };
}

/**
 * Starts of the blocks that lie in a loop of the region: from the target of a backward
 * jump to the block that jumps there. Their memory accesses inline the TLB fast path.
 */
function loopBlocks(blocks: Block[]): Set<number> {
  const inLoop = new Set<number>();
  for (const b of blocks) {
    const last = b.insns[b.insns.length - 1];
    if (last === undefined || (last.flow !== FLOW_JMP && last.flow !== FLOW_JCC)) continue;
    const target = relTarget(last);
    if (target > b.start || target < 0) continue;
    for (const x of blocks) if (x.start >= target && x.start <= b.start) inLoop.add(x.start);
  }
  return inLoop;
}

function loadSlot(e: Emitter, slot: number): X {
  return (ee) => { ee.i32(0); ee.mem(Op.i32Load, e.slotsAt + 4 * slot, 2); };
}
