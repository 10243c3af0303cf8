// From the blocks of one page to one WebAssembly function (a region). The region keeps
// the guest registers and the flag state in locals while control stays in it: a loop
// around a br_table over the region's blocks, where a jump to another block of the
// region is `idx = case; br top` and a block falls through into the next when that is
// where it goes.
//
//   run(idx, base, left) → EXIT_EIP | EXIT_CPU_EIP; EIP and the count retired in slots
//
// `idx` is the entry block's case number, `base` the linear address of the page (a region
// serves every linear alias of its physical page), `left` the instructions the budget
// allows. Each block first checks that all of its instructions fit, so a region never
// retires more than the interpreter would in the same budget. Flag liveness over each
// block decides which producers need their flags recorded: a producer whose flags are
// overwritten before anything (a reader, an instruction that may fault, a call into the
// interpreter, the block's end) looks at them records nothing.

import {
  F_ALL, F_C, F_O, FLOW_EXIT, FLOW_UD, FMT_MODRM, FMT_REG_ONLY, OP_FLAGS_READ, OP_FLAGS_WRITTEN, OP_FORMAT, infoIndex,
} from '../opcodeInfo.js';
import {
  Emitter, FIXED_LOCALS, FN_SPILL, IMPORTS, L_EIP, L_FK, L_IDX, L_LEFT, L_N, L_R0, L_STATUS, S_EIP, S_FK, S_N, S_SITE,
  add, cst, gtS, loc,
} from './Emitter.js';
import { TEMPLATES } from './emit/index.js';
import { type Block, type Insn, opcodeOf } from './scan.js';
import { Bytes, I32, I64, Op, assemble, uleb, type FuncType } from './wasmModule.js';

export type RegionFn = (idx: number, base: number, left: number) => number;

export interface CompiledRegion {
  run: RegionFn;
  /** Case number of each page offset that starts a block, -1 elsewhere. */
  caseAt: Int16Array;
  /** Size of the module, the code cache's measure of a region. */
  bytes: number;
  insns: number;
  blocks: number;
  /** Instructions that run through the interpreter from inside the region. */
  fallbacks: number;
}

/** Where the region's state lives: the memory and its host-area layout (see Cpu). */
export interface RegionTarget {
  memory: WebAssembly.Memory;
  memoryPages: number;
  hostBase: number;
  regsOffset: number;
  slotsOffset: number;
  imports: Record<string, (...args: never[]) => unknown>;
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

/** Can the instruction be emitted inline? (Its template accepts it; tried on a scratch emitter.) */
function translatable(i: Insn, scratch: Emitter): boolean {
  const t = TEMPLATES[opcodeOf(i)];
  if (t === undefined) return false;
  if (!i.a32 && (hasMemOperand(i) || (opcodeOf(i) >= 0xa0 && opcodeOf(i) <= 0xa3))) return false; // 16-bit addressing
  scratch.code.length = 0;
  scratch.begin(i, 0, F_ALL);
  return t(scratch);
}

/** Flags the instruction must write (so they are dead before it) and must see (live before it). */
function flagUse(i: Insn, inline: boolean): [read: number, written: number] {
  const op = opcodeOf(i);
  const idx = infoIndex(op, i.modrm);
  let read = OP_FLAGS_READ[idx]!, written = OP_FLAGS_WRITTEN[idx]!;
  if (inline && (op === 0xc1 || op === 0xd1) && i.o32) {
    // Shifts by a non-zero constant: the table counts group 2 as writing nothing for sure.
    const n = (op === 0xd1 ? 1 : i.imm) & 31;
    if (n !== 0) written = i.reg <= 1 ? F_C | F_O : F_ALL;
  }
  // Anything that can fault or calls the interpreter needs every flag as it stands.
  if (!inline || hasMemOperand(i) || usesStack(i) || (op >= 0xa0 && op <= 0xa3)) read = F_ALL;
  return [read, written];
}

const SPILL_TYPE: FuncType = { params: new Array<number>(15).fill(I32), results: [] };

/** The spill helper: registers, flag locals, fault site and retired count into the host area. */
function spillBody(regsAt: number, slotsAt: number): Bytes {
  const b = new Bytes();
  const store = (param: number, at: number): void => {
    b.push2(Op.i32Const, 0); b.push(Op.localGet); uleb(b, param);
    b.push2(Op.i32Store, 2); uleb(b, at);
  };
  for (let r = 0; r < 8; r++) store(r, regsAt + 4 * r);
  for (let f = 0; f < 5; f++) store(8 + f, slotsAt + 4 * (S_FK + f));
  store(13, slotsAt + 4 * S_SITE);
  store(14, slotsAt + 4 * S_N);
  b.push(Op.end);
  return b;
}

/** Compile the blocks of a page into a region for mode `mode` (Cpu.jitMode). */
export function compileRegion(blocks: Block[], mode: number, target: RegionTarget): CompiledRegion {
  const caseOf = new Map<number, number>();
  blocks.forEach((b, k) => caseOf.set(b.start, k));
  const e = new Emitter(mode === 1, caseOf, target.hostBase, target.regsOffset, target.slotsOffset);
  const scratch = new Emitter(mode === 1, caseOf, target.hostBase, target.regsOffset, target.slotsOffset);
  const N = blocks.length;
  let insns = 0, fallbacks = 0;

  // Entry: the registers into locals (the flag locals start at 0: the CPU holds the flags).
  e.reload();
  e.labelExit = e.open(Op.block);
  e.labelTop = e.open(Op.loop);
  const caseLabel = new Array<number>(N);
  for (let k = N - 1; k >= 0; k--) caseLabel[k] = e.open(Op.block);
  e.get(L_IDX);
  e.op(Op.brTable);
  uleb(e.code, N);
  for (let k = 0; k < N; k++) uleb(e.code, e.depth - 1 - caseLabel[k]!);
  uleb(e.code, e.depth - 1 - e.labelExit);

  for (let b = 0; b < N; b++) {
    e.close(); // the end of case b's block: its code follows
    const block = blocks[b]!;
    const n = block.insns.length;
    insns += n;
    // Which instructions go inline, then flag liveness backwards from the block's end.
    const inline = block.insns.map((i) => translatable(i, scratch));
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
    if (n === 0) { e.exit(e.eipOf(block.start), 0); continue; }
    // Budget: the whole block must fit.
    e.if_(gtS(add(loc(L_N), cst(n)), loc(L_LEFT)), () => e.exit(e.eipOf(block.start), 0));
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
      e.checkExit();
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
  e.close(); // loop $top
  e.close(); // block $exit
  // Exit: registers, flags and the retired count to the host area, EIP to its slot.
  for (let r = 0; r < 8; r++) e.get(L_R0 + r);
  for (let l = L_FK; l < L_FK + 5; l++) e.get(l);
  e.i32(-1);
  e.get(L_N);
  e.call(FN_SPILL);
  e.i32(0); e.get(L_EIP); e.mem(Op.i32Store, e.slotsAt + 4 * S_EIP, 2);
  e.get(L_STATUS);
  e.op(Op.end);

  const bytes = assemble({
    imports: IMPORTS.map((f) => ({ name: f.name, type: { params: new Array<number>(f.params).fill(I32), results: f.result ? [I32] : [] } })),
    memoryPages: target.memoryPages,
    funcs: [
      {
        type: { params: [I32, I32, I32], results: [I32] },
        locals: [{ count: FIXED_LOCALS, type: I32 }, { count: 1, type: I64 }, { count: Math.max(e.maxTemps, scratch.maxTemps), type: I32 }],
        body: e.code,
      },
      { type: SPILL_TYPE, locals: [], body: spillBody(e.regsAt, e.slotsAt) },
    ],
  });
  sourceHook?.(bytes, blocks);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { rt: { ...target.imports, mem: target.memory } });
  const caseAt = new Int16Array(4096).fill(-1);
  caseOf.forEach((k, off) => { caseAt[off] = k; });
  return { run: instance.exports['run'] as RegionFn, caseAt, bytes: bytes.length, insns, blocks: N, fallbacks };
}
