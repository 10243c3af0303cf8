// RDMSR/WRMSR (0F 32 / 0F 30) and the model-specific registers of a Pentium II class
// part that firmware and Linux touch (SDM vol. 4 tables 2-2, 2-3; vol. 3A ch. 11-12).
// Any other MSR raises #GP(0), as hardware does, so rdmsr_safe() probes see "absent".

import type { Cpu } from './Cpu.js';
import { flushTlb } from './mmu.js';
import { eferWritable } from './cpuid.js';
import {
  EAX, ECX, EDX, EXC_GP, MSR_APIC_BASE, MSR_MISC_ENABLE, MSR_MTRR_DEF_TYPE, MSR_MTRRCAP, MSR_PAT, MSR_SYSENTER_CS,
  MSR_SYSENTER_EIP, MSR_SYSENTER_ESP, MSR_TSC,
} from './constants.js';
import { EFER_LMA, EFER_NXE, MSR_EFER } from './constants.js';

export const MSR_PLATFORM_ID = 0x17;
/** IA32_TSC_DEADLINE (SDM vol. 3A §11.5.4.1): present with a local APIC. */
export const MSR_TSC_DEADLINE = 0x6e0;
export const MSR_BIOS_SIGN_ID = 0x8b;
export const MSR_MTRR_PHYS_FIRST = 0x200;
export const MSR_MTRR_PHYS_LAST = 0x20f;
/** Fixed-range MTRRs in storage order. */
export const MSR_MTRR_FIXED = [0x250, 0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b, 0x26c, 0x26d, 0x26e, 0x26f] as const;
/** MTRRcap: 8 variable ranges, fixed ranges supported, write-combining supported. */
export const MTRRCAP_VALUE = 0x508;

const TWO32 = 4294967296;

/** Per-CPU MTRR storage (lo/hi pairs): 16 variable MSRs, then the 11 fixed ones. */
const mtrrs = new WeakMap<Cpu, Int32Array>();

/** MTRR contents of `c` as lo/hi pairs (variable 0x200-0x20F, then fixed); for snapshots. */
export function mtrrState(c: Cpu): Int32Array {
  let m = mtrrs.get(c);
  if (m === undefined) { m = new Int32Array(2 * (16 + MSR_MTRR_FIXED.length)); mtrrs.set(c, m); }
  return m;
}

function fixedIndex(msr: number): number {
  for (let i = 0; i < MSR_MTRR_FIXED.length; i++) if (MSR_MTRR_FIXED[i] === msr) return i;
  return -1;
}

/** Valid memory type for PAT entries and MTRRs: UC WC WT WP WB (and UC- for PAT). */
function validType(t: number, pat: boolean): boolean {
  return t === 0 || t === 1 || t === 4 || t === 5 || t === 6 || (pat && t === 7);
}
function validTypes8(v: number, pat: boolean): boolean {
  for (let i = 0; i < 4; i++) if (!validType((v >>> (8 * i)) & 0xff, pat)) return false;
  return true;
}

/** Current TSC as a double: the machine clock plus the guest's offset. */
export function readTsc(c: Cpu): number {
  let t = c.tscSource() + c.tscOffset;
  if (t < 0) t += TWO32 * TWO32;
  return t;
}

/** Split a non-negative double into EDX:EAX without BigInt. */
export function setEdxEax(c: Cpu, v: number): void {
  const lo = v % TWO32;
  c.regs[EAX] = lo | 0;
  c.regs[EDX] = ((v - lo) / TWO32) % TWO32 | 0;
}

/** RDMSR: ECX selects, EDX:EAX receives. Unknown MSRs → #GP(0). */
export function rdmsr(c: Cpu): void {
  const msr = c.regs[ECX]! >>> 0;
  let lo = 0, hi = 0;
  switch (msr) {
    case MSR_TSC: setEdxEax(c, readTsc(c)); return;
    case MSR_PLATFORM_ID: break; // platform id 0
    case MSR_APIC_BASE: lo = c.lapic !== null ? c.lapic.base : c.apicBase; break;
    case MSR_TSC_DEADLINE:
      if (c.lapic === null) c.raise(EXC_GP, 0);
      setEdxEax(c, c.lapic.tscDeadline);
      return;
    case MSR_BIOS_SIGN_ID: break; // microcode revision 0 in EDX
    case MSR_MTRRCAP: lo = MTRRCAP_VALUE; break;
    case MSR_SYSENTER_CS: lo = c.sysenterCs; break;
    case MSR_SYSENTER_ESP: lo = c.sysenterEsp; break;
    case MSR_SYSENTER_EIP: lo = c.sysenterEip; break;
    case MSR_MISC_ENABLE: lo = c.miscEnable; break;
    case MSR_PAT: lo = c.pat; hi = c.patHi; break;
    case MSR_MTRR_DEF_TYPE: lo = c.mtrrDefType; break;
    case MSR_EFER: lo = c.efer; break;
    default: {
      const m = mtrrState(c);
      let i: number;
      if (msr >= MSR_MTRR_PHYS_FIRST && msr <= MSR_MTRR_PHYS_LAST) i = msr - MSR_MTRR_PHYS_FIRST;
      else if ((i = fixedIndex(msr)) >= 0) i += 16;
      else c.raise(EXC_GP, 0);
      lo = m[2 * i]!; hi = m[2 * i + 1]!;
    }
  }
  c.regs[EAX] = lo;
  c.regs[EDX] = hi;
}

/** WRMSR: ECX selects, EDX:EAX is written. Unknown MSRs and reserved bits → #GP(0). */
export function wrmsr(c: Cpu): void {
  const msr = c.regs[ECX]! >>> 0;
  const lo = c.regs[EAX]!, hi = c.regs[EDX]!;
  switch (msr) {
    case MSR_TSC:
      c.tscOffset = (hi >>> 0) * TWO32 + (lo >>> 0) - c.tscSource();
      return;
    case MSR_APIC_BASE:
      if (hi !== 0 || (lo & 0x6ff) !== 0) c.raise(EXC_GP, 0);
      if (c.lapic !== null) c.lapic.writeBase(lo); else c.apicBase = lo;
      return;
    case MSR_TSC_DEADLINE:
      if (c.lapic === null) c.raise(EXC_GP, 0);
      c.lapic.writeTscDeadline((hi >>> 0) * TWO32 + (lo >>> 0));
      c.exitReq = 1; // the timer may now be due before the slice's end
      return;
    case MSR_BIOS_SIGN_ID: return; // cleared before CPUID by microcode loaders; reads give 0
    case MSR_SYSENTER_CS: c.sysenterCs = lo; return;
    case MSR_SYSENTER_ESP: c.sysenterEsp = lo; return;
    case MSR_SYSENTER_EIP: c.sysenterEip = lo; return;
    case MSR_MISC_ENABLE: c.miscEnable = lo; return;
    case MSR_PAT:
      if (!validTypes8(lo, true) || !validTypes8(hi, true)) c.raise(EXC_GP, 0);
      c.pat = lo; c.patHi = hi;
      return;
    case MSR_MTRR_DEF_TYPE:
      if (hi !== 0 || (lo & ~0xcff) !== 0 || !validType(lo & 0xff, false)) c.raise(EXC_GP, 0);
      c.mtrrDefType = lo;
      return;
    case MSR_EFER: writeEfer(c, lo, hi); return;
    default: {
      const m = mtrrState(c);
      if (msr >= MSR_MTRR_PHYS_FIRST && msr <= MSR_MTRR_PHYS_LAST) {
        const i = msr - MSR_MTRR_PHYS_FIRST;
        // 36-bit physical addresses: EDX bits 4-31 reserved.
        if ((hi & ~0xf) !== 0) c.raise(EXC_GP, 0);
        if ((i & 1) === 0 ? (lo & 0xf00) !== 0 || !validType(lo & 0xff, false) : (lo & 0x7ff) !== 0) c.raise(EXC_GP, 0);
        m[2 * i] = lo; m[2 * i + 1] = hi;
        return;
      }
      const f = fixedIndex(msr);
      if (f < 0) c.raise(EXC_GP, 0);
      if (!validTypes8(lo, false) || !validTypes8(hi, false)) c.raise(EXC_GP, 0);
      m[2 * (16 + f)] = lo; m[2 * (16 + f) + 1] = hi;
    }
  }
}

/**
 * WRMSR IA32_EFER: only the bits of features CPUID reports are writable (eferWritable;
 * the rest, LME and SCE included while long mode and SYSCALL are not implemented, raise
 * #GP(0)); LMA is the processor's status and ignores writes. NXE changes what a PAE
 * entry's bit 63 means, so cached translations go.
 */
function writeEfer(c: Cpu, lo: number, hi: number): void {
  if (hi !== 0 || (lo & ~(eferWritable() | EFER_LMA)) !== 0) c.raise(EXC_GP, 0);
  const v = (lo & ~EFER_LMA) | (c.efer & EFER_LMA);
  const old = c.efer;
  c.efer = v;
  if (((old ^ v) & EFER_NXE) !== 0) flushTlb(c, true);
}
