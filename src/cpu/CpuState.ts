// The whole architectural state of the software CPU as plain, JSON-serializable data
// (DESIGN.md "State is data"): what a snapshot, a migration or a replay needs to resume
// the CPU exactly. Caches (TLB, fetch page) are not state: they are flushed on load.

import type { Cpu } from './Cpu.js';
import { materializeFlags } from './flags.js';
import { mtrrState } from './msr.js';

export interface SegmentState { sel: number; base: number; limit: number; attr: number }

export interface CpuStateData {
  /** 2 added EFER and the PDPTE registers; a version 1 state (from before PAE) loads with them zero. */
  version: 2;
  regs: number[];
  eip: number;
  eflags: number;
  segs: SegmentState[];
  cpl: number;
  cr0: number; cr2: number; cr3: number; cr4: number;
  /** PAE PDPTE registers as (lo, hi) pairs: what MOV CR3 loaded, not re-read from memory. */
  pdpte: number[];
  dr: number[];
  gdt: { base: number; limit: number };
  idt: { base: number; limit: number };
  ldt: SegmentState;
  tr: SegmentState;
  msr: {
    sysenterCs: number; sysenterEsp: number; sysenterEip: number; apicBase: number;
    pat: number; patHi: number; mtrrDefType: number; miscEnable: number; tscOffset: number; mtrr: number[];
    efer: number;
  };
  halted: boolean;
  /** STI / MOV SS shadow: interrupts stay blocked before the next instruction. */
  interruptShadow: boolean;
  instructions: number;
  fpu: unknown;
}

export function saveCpuState(c: Cpu): CpuStateData {
  materializeFlags(c);
  const segs: SegmentState[] = [];
  for (let s = 0; s < 6; s++) segs.push({ sel: c.segSel[s]!, base: c.segBase[s]!, limit: c.segLimit[s]!, attr: c.segAttr[s]! });
  return {
    version: 2,
    regs: Array.from(c.regs),
    eip: c.eip,
    eflags: c.flags,
    segs,
    cpl: c.cpl,
    cr0: c.cr0, cr2: c.cr2, cr3: c.cr3, cr4: c.cr4,
    pdpte: Array.from(c.pdpte),
    dr: Array.from(c.dr),
    gdt: { base: c.gdtBase, limit: c.gdtLimit },
    idt: { base: c.idtBase, limit: c.idtLimit },
    ldt: { sel: c.ldtSel, base: c.ldtBase, limit: c.ldtLimit, attr: c.ldtAttr },
    tr: { sel: c.trSel, base: c.trBase, limit: c.trLimit, attr: c.trAttr },
    msr: {
      sysenterCs: c.sysenterCs, sysenterEsp: c.sysenterEsp, sysenterEip: c.sysenterEip, apicBase: c.apicBase,
      pat: c.pat, patHi: c.patHi, mtrrDefType: c.mtrrDefType, miscEnable: c.miscEnable, tscOffset: c.tscOffset,
      mtrr: Array.from(mtrrState(c)),
      efer: c.efer,
    },
    halted: c.halted,
    interruptShadow: c.inhibitAt === c.instructions,
    instructions: c.instructions,
    fpu: c.fpu?.saveState() ?? null,
  };
}

function num(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`CPU state: ${what} is not a number`);
  return v;
}
function nums(v: unknown, n: number, what: string): number[] {
  if (!Array.isArray(v) || v.length !== n) throw new TypeError(`CPU state: ${what} must be ${n} numbers`);
  return v.map((x, i) => num(x, `${what}[${i}]`));
}
function seg(v: unknown, what: string): SegmentState {
  if (typeof v !== 'object' || v === null) throw new TypeError(`CPU state: ${what} is missing`);
  const o = v as Record<string, unknown>;
  return { sel: num(o.sel, `${what}.sel`), base: num(o.base, `${what}.base`), limit: num(o.limit, `${what}.limit`), attr: num(o.attr, `${what}.attr`) };
}

/** Load what saveCpuState wrote. Everything is checked before the CPU is touched. */
export function loadCpuState(c: Cpu, raw: unknown): void {
  const version = typeof raw === 'object' && raw !== null ? (raw as { version?: unknown }).version : undefined;
  if (version !== 1 && version !== 2) throw new TypeError('CPU state: not a version 1 or 2 CPU state');
  const s = raw as Record<string, unknown>;
  const regs = nums(s.regs, 8, 'regs');
  const dr = nums(s.dr, 8, 'dr');
  if (!Array.isArray(s.segs) || s.segs.length !== 6) throw new TypeError('CPU state: segs must be 6 segments');
  const segs = s.segs.map((x, i) => seg(x, `segs[${i}]`));
  const gdt = s.gdt as Record<string, unknown> | undefined, idt = s.idt as Record<string, unknown> | undefined;
  if (!gdt || !idt) throw new TypeError('CPU state: gdt/idt missing');
  const ldt = seg(s.ldt, 'ldt'), tr = seg(s.tr, 'tr');
  const m = s.msr as Record<string, unknown> | undefined;
  if (!m) throw new TypeError('CPU state: msr missing');
  const pdpte = version === 1 ? new Array<number>(8).fill(0) : nums(s.pdpte, 8, 'pdpte');
  const efer = version === 1 ? 0 : num(m.efer, 'msr.efer');
  const mtrr = mtrrState(c);
  const mtrrVals = nums(m.mtrr, mtrr.length, 'msr.mtrr');
  const cpl = num(s.cpl, 'cpl');
  if (cpl < 0 || cpl > 3) throw new TypeError('CPU state: cpl out of range');
  const gdtBase = num(gdt.base, 'gdt.base'), gdtLimit = num(gdt.limit, 'gdt.limit');
  const idtBase = num(idt.base, 'idt.base'), idtLimit = num(idt.limit, 'idt.limit');
  const scalars = {
    eip: num(s.eip, 'eip'), eflags: num(s.eflags, 'eflags'), cr0: num(s.cr0, 'cr0'), cr2: num(s.cr2, 'cr2'),
    cr3: num(s.cr3, 'cr3'), cr4: num(s.cr4, 'cr4'), instructions: num(s.instructions, 'instructions'),
  };
  const msr = {
    sysenterCs: num(m.sysenterCs, 'msr.sysenterCs'), sysenterEsp: num(m.sysenterEsp, 'msr.sysenterEsp'),
    sysenterEip: num(m.sysenterEip, 'msr.sysenterEip'), apicBase: num(m.apicBase, 'msr.apicBase'),
    pat: num(m.pat, 'msr.pat'), patHi: num(m.patHi, 'msr.patHi'), mtrrDefType: num(m.mtrrDefType, 'msr.mtrrDefType'),
    miscEnable: num(m.miscEnable, 'msr.miscEnable'), tscOffset: num(m.tscOffset, 'msr.tscOffset'),
  };
  if (c.fpu !== null && s.fpu !== null) c.fpu.loadState(s.fpu); // validates itself before changing anything

  // Commit.
  c.regs.set(regs);
  c.eip = scalars.eip;
  c.flags = scalars.eflags;
  c.lazyMask = 0;
  c.cr0 = scalars.cr0; c.cr2 = scalars.cr2; c.cr3 = scalars.cr3; c.cr4 = scalars.cr4;
  c.pdpte.set(pdpte);
  c.efer = efer;
  c.dr.set(dr);
  c.gdtBase = gdtBase; c.gdtLimit = gdtLimit; c.idtBase = idtBase; c.idtLimit = idtLimit;
  c.ldtSel = ldt.sel; c.ldtBase = ldt.base; c.ldtLimit = ldt.limit; c.ldtAttr = ldt.attr;
  c.trSel = tr.sel; c.trBase = tr.base; c.trLimit = tr.limit; c.trAttr = tr.attr;
  c.sysenterCs = msr.sysenterCs; c.sysenterEsp = msr.sysenterEsp; c.sysenterEip = msr.sysenterEip;
  c.apicBase = msr.apicBase; c.pat = msr.pat; c.patHi = msr.patHi; c.mtrrDefType = msr.mtrrDefType;
  c.miscEnable = msr.miscEnable; c.tscOffset = msr.tscOffset;
  mtrr.set(mtrrVals);
  c.cpl = cpl;
  for (let i = 0; i < 6; i++) {
    const g = segs[i]!;
    c.segSel[i] = g.sel; c.segBase[i] = g.base; c.segLimit[i] = g.limit; c.segAttr[i] = g.attr;
    c.updateSegCheck(i);
  }
  c.instructions = scalars.instructions;
  c.halted = s.halted === true;
  c.inhibitAt = s.interruptShadow === true ? c.instructions : -1;
  c.shutdownReason = '';
  c.excVector = -1;
  c.delivering = -1;
  c.irqPending = true; // let the run loop ask the interrupt controller again
  c.updateMode();
  c.flushTlb(true);
  c.engine?.flush();
}
