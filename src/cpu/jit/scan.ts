// Finding the code of a region: the instructions of one 4 KiB page reachable from its hot
// entry points, decoded by the CPU's own decoder (decoder.ts) with fetches confined to the
// page, and cut into blocks at every jump target. An instruction that crosses the page
// end, or that the decoder refuses (it would fault), ends its block: the dispatcher runs
// it through the interpreter, which raises what it must.

import { SCAN_END, FAULT, type Cpu } from '../Cpu.js';
import { decode } from '../decoder.js';
import { FLOW_CALL, FLOW_JCC, FLOW_JMP, FLOW_NEXT, FMT_MODRM, OP_FLOW, OP_FORMAT, infoIndex } from '../opcodeInfo.js';

/** One decoded instruction, as the decoder left the CPU's decode fields. */
export interface Insn {
  /** Offset of the instruction in its page, and its length. */
  off: number;
  len: number;
  /** Opcode-table index: opcode | 0x100 (0F map) | 0x200 (32-bit operands). */
  op: number;
  modrm: number;
  reg: number;
  imm: number;
  imm2: number;
  eaBase: number;
  eaIndex: number;
  eaScale: number;
  eaDisp: number;
  eaSeg: number;
  segOverride: number;
  o32: boolean;
  a32: boolean;
  rep: number;
  lock: boolean;
  /** FLOW_* of opcodeInfo for this opcode and ModRM.reg. */
  flow: number;
}

export interface Block {
  /** Offset of the first instruction in the page. */
  start: number;
  insns: Insn[];
}

/** The opcode (with its 0F bit, without the size bit) of an instruction. */
export function opcodeOf(i: Insn): number { return i.op & 0x1ff; }

/** Target offset (relative to the page) of a relative jump, call or jcc. */
export function relTarget(i: Insn): number {
  const op = i.op & 0x1ff;
  const short = op === 0xeb || (op >= 0x70 && op <= 0x7f) || (op >= 0xe0 && op <= 0xe3);
  const rel = short ? (i.imm << 24) >> 24 : i.o32 ? i.imm | 0 : (i.imm << 16) >> 16;
  return i.off + i.len + rel;
}

/**
 * Decode the instruction at `off` of the page mapped at linear `linPage` (physical
 * `physPage`) with the interpreter's decoder; null when it leaves the page or would fault.
 * The CPU's fetch state is put back as it was.
 */
export function scanInsn(c: Cpu, linPage: number, physPage: number, off: number): Insn | null {
  const eip = c.eip, startEip = c.startEip, nextEip = c.nextEip;
  const fetchLin = c.fetchLinPage, fetchPhys = c.fetchPhysPage;
  c.scanning = true;
  c.fetchLinPage = linPage;
  c.fetchPhysPage = physPage;
  c.eip = c.startEip = (linPage + off) | 0;
  try {
    const op = decode(c);
    const modrm = (OP_FORMAT[op & 0x1ff]! & FMT_MODRM) !== 0 ? c.modrm : 0;
    return {
      off, len: (c.eip - linPage) - off, op, modrm, reg: c.reg, imm: c.imm, imm2: c.imm2,
      eaBase: c.eaBase, eaIndex: c.eaIndex, eaScale: c.eaScale, eaDisp: c.eaDisp, eaSeg: c.eaSeg,
      segOverride: c.segOverride, o32: c.o32, a32: c.a32, rep: c.rep, lock: c.lock,
      flow: OP_FLOW[infoIndex(op & 0x1ff, modrm)]!,
    };
  } catch (e) {
    if (e !== SCAN_END && e !== FAULT) throw e;
    c.excVector = -1;
    return null;
  } finally {
    c.scanning = false;
    c.eip = eip; c.startEip = startEip; c.nextEip = nextEip;
    c.fetchLinPage = fetchLin; c.fetchPhysPage = fetchPhys;
  }
}

/**
 * The blocks of a page reachable from `entries` (offsets), at most `maxInsns` instructions
 * in all: runs of code are followed to their end and past conditional jumps (the way on
 * is as likely taken as not), but a jump's target joins only when the page's profile saw
 * control arrive there (it is in `entries`): code no run reached stays out of the region.
 */
export function scanRegion(c: Cpu, linPage: number, physPage: number, entries: Set<number>, maxInsns: number): Block[] {
  const decoded = new Map<number, Insn | null>();
  const at = (off: number): Insn | null => {
    let i = decoded.get(off);
    if (i === undefined) { i = scanInsn(c, linPage, physPage, off); decoded.set(off, i); }
    return i;
  };
  const starts = new Set<number>();
  const work: number[] = [];
  const addStart = (off: number): void => {
    if (off >= 0 && off < 4096 && !starts.has(off) && decoded.size < maxInsns) { starts.add(off); work.push(off); }
  };
  for (const e of entries) addStart(e);
  const seen = (off: number): void => { if (entries.has(off)) addStart(off); };
  // Discover block starts: walk each run of code until it leaves by a jump or ends.
  while (work.length > 0) {
    let off = work.pop()!;
    for (;;) {
      if (decoded.size >= maxInsns && !decoded.has(off)) break;
      const i = at(off);
      if (i === null) break;
      const next = off + i.len;
      if (i.flow === FLOW_JMP) { seen(relTarget(i)); break; }
      if (i.flow === FLOW_JCC || i.flow === FLOW_CALL) { seen(relTarget(i)); addStart(next); break; }
      if (i.flow !== FLOW_NEXT || next >= 4096 || starts.has(next)) break;
      off = next;
    }
  }
  // Cut into blocks: from each start up to the next start or the end of the run.
  const blocks: Block[] = [];
  for (const start of [...starts].sort((a, b) => a - b)) {
    const insns: Insn[] = [];
    let off = start;
    for (;;) {
      const i = decoded.get(off);
      if (i === undefined || i === null) break;
      insns.push(i);
      off += i.len;
      if (i.flow !== FLOW_NEXT || off >= 4096 || starts.has(off)) break;
    }
    blocks.push({ start, insns });
  }
  return blocks;
}
