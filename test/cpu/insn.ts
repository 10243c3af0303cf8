// Instruction-level test driver: assemble a snippet with nasm, load it into a bare
// CPU (real mode, or flat 32-bit protected mode with optional paging), set registers
// and EFLAGS directly, and step until EIP reaches the end of the snippet or an
// instruction faults. Faults are caught here (not delivered), so a test sees the
// vector and the register state exactly as the restart would.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cpu, FAULT } from '../../src/cpu/Cpu.js';
import {
  CR0_PE, CR0_PG, CS, DESC_CODE, DESC_DB, DESC_P, DESC_RW, DESC_S, DS, ES, ESP, FS, GS, SS, FLAGS_FIXED1,
} from '../../src/cpu/constants.js';
import { getEflags } from '../../src/cpu/flags.js';
import { makeCpu } from './harness.js';
import type { IoBus } from '../../src/machine/IoBus.js';
import type { PhysicalMemory } from '../../src/memory/PhysicalMemory.js';

let dir: string | null = null;
const cache = new Map<string, Uint8Array>();

/** Assemble `src` (nasm syntax) as a flat binary for `bits`-bit code. */
export function assemble(src: string, bits: 16 | 32 = 16, org = 0): Uint8Array {
  const key = `${bits}:${org}\n${src}`;
  const hit = cache.get(key);
  if (hit) return hit;
  dir ??= mkdtempSync(join(tmpdir(), 'tv-insn-'));
  const inp = join(dir, 'a.asm'), out = join(dir, 'a.bin');
  writeFileSync(inp, `bits ${bits}\norg ${org}\n${src}\n`);
  execFileSync('nasm', ['-f', 'bin', '-o', out, inp], { stdio: ['ignore', 'ignore', 'pipe'] });
  const bin = new Uint8Array(readFileSync(out));
  cache.set(key, bin);
  return bin;
}

export const REG_NAMES = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;
export type RegName = (typeof REG_NAMES)[number];

export interface ExecOptions {
  /** Initial general registers. */
  regs?: Partial<Record<RegName, number>>;
  /** Initial arithmetic/control flags (bit 1 is forced on). */
  flags?: number;
  /** 'real' (default): CS=0x1000, DS=ES=0x2000, SS=0x3000, SP=0xFFF0. 'flat32': all segments base 0, 4 GiB, code at 0x10000. */
  mode?: 'real' | 'flat32';
  /** Called after the state is set up and before the first instruction. */
  setup?: (cpu: Cpu, mem: PhysicalMemory, io: IoBus) => void;
  /** Maximum steps (instructions) before giving up. */
  maxSteps?: number;
}

export interface ExecResult {
  cpu: Cpu;
  mem: PhysicalMemory;
  io: IoBus;
  /** Vector of the fault that stopped the run, or -1. */
  fault: number;
  /** Error code of that fault, or -1. */
  error: number;
  /** EFLAGS with lazy bits resolved. */
  flags: number;
  steps: number;
  reg(name: RegName): number;
}

export const CODE_AT = 0x10000;
export const DATA_AT = 0x20000;

/** Run `src` until it falls off its end or faults. Registers read back unsigned. */
export function exec(src: string, opts: ExecOptions = {}): ExecResult {
  const mode = opts.mode ?? 'real';
  const code = assemble(src, mode === 'real' ? 16 : 32, mode === 'real' ? 0 : CODE_AT);
  const { cpu, mem, io } = makeCpu(4 << 20);
  mem.load(CODE_AT, code);
  if (mode === 'real') {
    cpu.loadRealSeg(CS, CODE_AT >>> 4);
    cpu.loadRealSeg(DS, DATA_AT >>> 4);
    cpu.loadRealSeg(ES, DATA_AT >>> 4);
    cpu.loadRealSeg(FS, DATA_AT >>> 4);
    cpu.loadRealSeg(GS, DATA_AT >>> 4);
    cpu.loadRealSeg(SS, 0x3000);
    cpu.eip = 0;
    cpu.regs[ESP] = 0xfff0;
  } else {
    cpu.cr0 |= CR0_PE;
    for (let s = 0; s < 6; s++) {
      cpu.segSel[s] = s === CS ? 0x08 : 0x10;
      cpu.segBase[s] = 0;
      cpu.segLimit[s] = -1;
      cpu.segAttr[s] = DESC_P | DESC_S | DESC_RW | DESC_DB | 0x8000 | 1 | (s === CS ? DESC_CODE : 0);
      cpu.updateSegCheck(s);
    }
    cpu.updateMode();
    cpu.eip = CODE_AT;
    cpu.regs[ESP] = 0x3fff0;
  }
  if (opts.regs) {
    for (const [k, v] of Object.entries(opts.regs)) cpu.regs[REG_NAMES.indexOf(k as RegName)] = v!;
  }
  cpu.flags = FLAGS_FIXED1 | (opts.flags ?? 0);
  cpu.lazyMask = 0;
  opts.setup?.(cpu, mem, io);
  const end = (mode === 'real' ? 0 : CODE_AT) + code.length;
  const max = opts.maxSteps ?? 100000;
  let fault = -1, error = -1, steps = 0;
  while (cpu.eip !== end && steps < max) {
    try {
      cpu.step();
      cpu.instructions++;
      steps++;
    } catch (e) {
      if (e !== FAULT) throw e;
      fault = cpu.excVector;
      error = cpu.excError;
      cpu.excVector = -1;
      cpu.eip = cpu.startEip;
      cpu.regs[ESP] = cpu.startEsp;
      break;
    }
  }
  return {
    cpu, mem, io, fault, error, steps,
    flags: getEflags(cpu),
    reg: (name) => cpu.regs[REG_NAMES.indexOf(name)]! >>> 0,
  };
}

/**
 * Turn on paging in flat32 mode: identity-map the first 4 MiB with 4 KiB pages
 * (page directory at 0x1000, one page table at 0x2000), then drop the pages in
 * `notPresent` (linear addresses) and make `readOnly` pages read-only.
 */
export function enablePaging(cpu: Cpu, mem: PhysicalMemory, notPresent: number[] = [], readOnly: number[] = []): void {
  mem.write32(0x1000, 0x2000 | 7);
  for (let i = 0; i < 1024; i++) mem.write32(0x2000 + i * 4, (i << 12) | 7);
  for (const a of notPresent) mem.write32(0x2000 + (a >>> 12) * 4, 0);
  for (const a of readOnly) mem.write32(0x2000 + (a >>> 12) * 4, (a & ~0xfff) | 5);
  cpu.cr3 = 0x1000;
  cpu.cr0 |= CR0_PG;
  cpu.flushTlb(true);
  cpu.updateMode();
}

// Flag bits, for masks in assertions.
export const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, DF = 0x400, OF = 0x800;
export const ARITH = CF | PF | AF | ZF | SF | OF;

/** Flags in `mask` from a run, for comparing with an expected set. */
export function flagsOf(r: ExecResult, mask = ARITH): number {
  return r.flags & mask;
}
