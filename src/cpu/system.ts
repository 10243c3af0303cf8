// Instruction group: system. HLT, CLI/STI, PUSHF/POPF, CLTS, INVD/WBINVD, UD2, MOV to
// and from control and debug registers, RDTSC, RDPMC, SYSENTER/SYSEXIT, FXSAVE/FXRSTOR
// dispatch (SDM vol. 2A-2B; vol. 3A ch. 2, 5.8.7, 17). CPUID, the MSRs and the
// descriptor-table instructions live in cpuid.ts, msr.ts and descriptorTables.ts.

import type { Cpu } from './Cpu.js';
import type { OpTable } from './opcodes.js';
import {
  CR0_AM, CR0_CD, CR0_EM, CR0_ET, CR0_MP, CR0_NE, CR0_NW, CR0_PE, CR0_PG, CR0_TS, CR0_WP, CR4_DE, CR4_OSFXSR,
  CR4_OSXMMEXCPT, CR4_PAE, CR4_PCE, CR4_PGE, CR4_PSE, CR4_TSD, CS, ECX, EDX, ESP, EXC_DB, EXC_GP, EXC_NM, FLAG_IF, FLAG_IOPL, FLAG_RF,
  FLAG_VIF, FLAG_VIP, FLAG_VM, SS,
} from './constants.js';
import { getEflags } from './flags.js';
import { flushTlb, loadCr3, loadPdptes } from './mmu.js';
import { setFlagsFromPop } from './interrupts.js';
import { cpuid } from './cpuid.js';
import { rdmsr, readTsc, setEdxEax, wrmsr } from './msr.js';
import { installDescriptorTables, requireCpl0 } from './descriptorTables.js';
import { sseGroup15 } from './sse/sseOps.js';

/** CR0 bits a MOV CR0 can change (ET is hard-wired to 1 on P6; other bits are ignored). */
export const CR0_WRITABLE = CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_NE | CR0_WP | CR0_AM | CR0_NW | CR0_CD | CR0_PG;
/** CR4 bits that exist on this CPU; setting any other bit raises #GP(0). OSFXSR and OSXMMEXCPT need the x87 unit (which holds the SSE state). */
export const CR4_VALID = CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_PGE | CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT;

// Flat segment caches loaded by SYSENTER/SYSEXIT (base 0, limit 4 GiB, G=1, D/B=1, accessed).
const ATTR_CODE0 = 0xc09b;
const ATTR_STACK0 = 0xc093;
const ATTR_CODE3 = 0xc0fb;
const ATTR_STACK3 = 0xc0f3;

function cr4Valid(c: Cpu): number {
  return c.fpu === null ? CR4_VALID & ~(CR4_OSFXSR | CR4_OSXMMEXCPT) : CR4_VALID;
}

/**
 * MOV CR0: flushes the TLB when PG, PE or WP change and recomputes the mode. Turning
 * paging on (or changing CD/NW under it) with CR4.PAE loads the PDPTEs first (#GP(0) on a
 * reserved bit, CR0 unchanged).
 */
export function writeCr0(c: Cpu, v: number): void {
  v = (v & CR0_WRITABLE) | CR0_ET;
  if ((v & CR0_PG) !== 0 && (v & CR0_PE) === 0) c.raise(EXC_GP, 0);
  if ((v & CR0_NW) !== 0 && (v & CR0_CD) === 0) c.raise(EXC_GP, 0);
  const old = c.cr0;
  if ((v & CR0_PG) !== 0 && (c.cr4 & CR4_PAE) !== 0 && ((old ^ v) & (CR0_PG | CR0_CD | CR0_NW)) !== 0) loadPdptes(c, c.cr3);
  c.cr0 = v;
  if (((old ^ v) & (CR0_PG | CR0_PE | CR0_WP)) !== 0) flushTlb(c, true);
  if ((v & CR0_PE) === 0) c.cpl = 0;
  c.updateMode();
}

/** MOV CR3: a new page directory (or PDPT); global pages survive. */
export function writeCr3(c: Cpu, v: number): void {
  loadCr3(c, v);
}

/**
 * MOV CR4: reserved bits → #GP(0); PAE/PGE/PSE changes flush every translation and, under
 * paging with PAE after the write, reload the PDPTEs (#GP(0) on a reserved bit, CR4 unchanged).
 */
export function writeCr4(c: Cpu, v: number): void {
  if ((v & ~cr4Valid(c)) !== 0) c.raise(EXC_GP, 0);
  const old = c.cr4;
  const changed = (old ^ v) & (CR4_PAE | CR4_PGE | CR4_PSE);
  if (changed !== 0 && (v & CR4_PAE) !== 0 && (c.cr0 & CR0_PG) !== 0) loadPdptes(c, c.cr3);
  c.cr4 = v;
  if (changed !== 0) flushTlb(c, true);
}

/** DR7.GD: any debug-register access raises #DB with DR6.BD set and GD cleared. */
function checkGd(c: Cpu): void {
  if ((c.dr[7]! & 0x2000) !== 0) {
    c.dr[6] = c.dr[6]! | 0x2000;
    c.dr[7] = c.dr[7]! & ~0x2000;
    c.raise(EXC_DB);
  }
}

/** DR4/DR5 alias DR6/DR7 unless CR4.DE, where they are #UD. */
function drIndex(c: Cpu, n: number): number {
  if (n === 4 || n === 5) {
    if ((c.cr4 & CR4_DE) !== 0) c.raiseUD();
    return n + 2;
  }
  return n;
}

function movFromCr(c: Cpu): void {
  const m = c.modrm;
  const n = (m >> 3) & 7;
  if (n === 1 || n > 4) c.raiseUD();
  requireCpl0(c);
  c.regs[m & 7] = n === 0 ? c.cr0 : n === 2 ? c.cr2 : n === 3 ? c.cr3 : c.cr4;
}

function movToCr(c: Cpu): void {
  const m = c.modrm;
  const n = (m >> 3) & 7;
  if (n === 1 || n > 4) c.raiseUD();
  requireCpl0(c);
  const v = c.regs[m & 7]!;
  switch (n) {
    case 0: writeCr0(c, v); break;
    case 2: c.cr2 = v; break;
    case 3: writeCr3(c, v); break;
    default: writeCr4(c, v); break;
  }
}

function movFromDr(c: Cpu): void {
  const m = c.modrm;
  requireCpl0(c);
  const n = drIndex(c, (m >> 3) & 7);
  checkGd(c);
  c.regs[m & 7] = c.dr[n]!;
}

function movToDr(c: Cpu): void {
  const m = c.modrm;
  requireCpl0(c);
  const n = drIndex(c, (m >> 3) & 7);
  checkGd(c);
  const v = c.regs[m & 7]!;
  if (n === 6) c.dr[6] = (v & 0xe00f) | 0xffff0ff0;
  else if (n === 7) c.dr[7] = (v & ~0xd800) | 0x400;
  else c.dr[n] = v;
}

/** CLI/STI are allowed at CPL <= IOPL (real mode: always; VM86: IOPL 3, no VME). */
function ifChangeAllowed(c: Cpu): void {
  if ((c.cr0 & CR0_PE) === 0) return;
  const iopl = (c.flags & FLAG_IOPL) >>> 12;
  if ((c.flags & FLAG_VM) !== 0 ? iopl !== 3 : c.cpl > iopl) c.raise(EXC_GP, 0);
}

/** PUSHF/POPF in VM86 need IOPL 3 (no VME). */
function vm86Iopl3(c: Cpu): void {
  if ((c.flags & FLAG_VM) !== 0 && (c.flags & FLAG_IOPL) !== FLAG_IOPL) c.raise(EXC_GP, 0);
}

function popf(c: Cpu): void {
  vm86Iopl3(c);
  const v = c.o32 ? c.peek32(0) : c.peek16(0);
  let keep = FLAG_VM | FLAG_VIF | FLAG_VIP;
  if ((c.cr0 & CR0_PE) !== 0) {
    if ((c.flags & FLAG_VM) !== 0) keep |= FLAG_IOPL;
    else {
      if (c.cpl > 0) keep |= FLAG_IOPL;
      if (c.cpl > (c.flags & FLAG_IOPL) >>> 12) keep |= FLAG_IF;
    }
  }
  c.adjustSp(c.o32 ? 4 : 2);
  setFlagsFromPop(c, v & ~FLAG_RF, c.o32, keep);
  if ((c.flags & FLAG_IF) !== 0) c.irqPending = true;
}

/** SYSENTER (SDM vol. 2B): flat ring-0 CS/SS from IA32_SYSENTER_CS, ESP/EIP from the MSRs. */
export function sysenter(c: Cpu): void {
  if ((c.cr0 & CR0_PE) === 0 || (c.sysenterCs & 0xfffc) === 0) c.raise(EXC_GP, 0);
  c.flags &= ~(FLAG_VM | FLAG_IF | FLAG_RF);
  const sel = c.sysenterCs & 0xfffc;
  c.cpl = 0;
  c.segSel[CS] = sel; c.segBase[CS] = 0; c.segLimit[CS] = -1; c.segAttr[CS] = ATTR_CODE0;
  c.segSel[SS] = (sel + 8) & 0xffff; c.segBase[SS] = 0; c.segLimit[SS] = -1; c.segAttr[SS] = ATTR_STACK0;
  c.updateSegCheck(CS);
  c.updateSegCheck(SS);
  c.regs[ESP] = c.sysenterEsp;
  c.eip = c.sysenterEip;
}

/** SYSEXIT: flat ring-3 CS = SYSENTER_CS+16, SS = +24; EIP = EDX, ESP = ECX. */
export function sysexit(c: Cpu): void {
  if ((c.cr0 & CR0_PE) === 0 || (c.sysenterCs & 0xfffc) === 0 || c.cpl !== 0 || (c.flags & FLAG_VM) !== 0) c.raise(EXC_GP, 0);
  const sel = c.sysenterCs & 0xfffc;
  c.cpl = 3;
  c.segSel[CS] = (sel + 16) | 3; c.segBase[CS] = 0; c.segLimit[CS] = -1; c.segAttr[CS] = ATTR_CODE3;
  c.segSel[SS] = (sel + 24) | 3; c.segBase[SS] = 0; c.segLimit[SS] = -1; c.segAttr[SS] = ATTR_STACK3;
  c.updateSegCheck(CS);
  c.updateSegCheck(SS);
  c.regs[ESP] = c.regs[ECX]!;
  c.eip = c.regs[EDX]!;
}

/** 0F AE: FXSAVE (/0) and FXRSTOR (/1) with a memory operand; the rest is SSE (sse/sseOps.ts). */
function group15(c: Cpu): void {
  const op = c.reg;
  if (c.modrm >= 0xc0 || op > 1) { sseGroup15(c); return; }
  if (c.fpu === null) c.undefinedOpcode(0x1ae);
  if ((c.cr0 & (CR0_EM | CR0_TS)) !== 0) c.raise(EXC_NM);
  if ((c.eaOff & 15) !== 0) c.raise(EXC_GP, 0);
  const lin = c.eaLin(512, op === 0);
  if (op === 0) c.fpu.fxsave(lin); else c.fpu.fxrstor(lin);
}

/** RDTSC: the clock's TSC to EDX:EAX; #GP outside ring 0 with CR4.TSD. */
export function rdtsc(c: Cpu): void {
  if ((c.cr4 & CR4_TSD) !== 0 && c.cpl !== 0) c.raise(EXC_GP, 0);
  setEdxEax(c, readTsc(c));
}

export function installSystem(t: OpTable): void {
  installDescriptorTables(t);
  // HLT.
  t.def(0xf4, (c) => { requireCpl0(c); c.halted = true; });
  // CLI / STI: STI holds off interrupts until after the next instruction.
  t.def(0xfa, (c) => { ifChangeAllowed(c); c.flags &= ~FLAG_IF; });
  t.def(0xfb, (c) => {
    ifChangeAllowed(c);
    if ((c.flags & FLAG_IF) === 0) {
      c.flags |= FLAG_IF;
      c.inhibitAt = c.instructions + 1;
    }
    c.irqPending = true;
  });
  // PUSHF / POPF. The pushed image has VM and RF clear.
  t.def(0x9c, (c) => { vm86Iopl3(c); c.push16(getEflags(c) & 0xffff); },
    (c) => { vm86Iopl3(c); c.push32(getEflags(c) & ~(FLAG_VM | FLAG_RF)); });
  t.def(0x9d, popf);
  // CLTS, INVD, WBINVD, UD2.
  t.def0F(0x06, (c) => { requireCpl0(c); c.cr0 &= ~CR0_TS; });
  t.def0F(0x08, (c) => { requireCpl0(c); });
  t.def0F(0x09, (c) => { requireCpl0(c); });
  t.def0F(0x0b, (c) => c.raiseUD());
  // MOV r32, CRn / CRn, r32 / r32, DRn / DRn, r32 (ModRM mod is ignored: always registers).
  t.def0F(0x20, movFromCr);
  t.def0F(0x22, movToCr);
  t.def0F(0x21, movFromDr);
  t.def0F(0x23, movToDr);
  // WRMSR, RDTSC, RDMSR, RDPMC (no performance counters: #GP).
  t.def0F(0x30, (c) => { requireCpl0(c); wrmsr(c); });
  t.def0F(0x31, rdtsc);
  t.def0F(0x32, (c) => { requireCpl0(c); rdmsr(c); });
  t.def0F(0x33, (c) => c.raise(EXC_GP, 0));
  t.def0F(0x34, sysenter);
  t.def0F(0x35, sysexit);
  t.def0F(0xa2, cpuid);
  t.def0F(0xae, group15);
}

