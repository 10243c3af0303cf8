// CPUID (0F A2): what the virtual processor says it is (SDM vol. 2A CPUID; AP-485).
// A Pentium II class part (family 6 model 3) that reports exactly the features this
// CPU implements. Other modules (tests, the fuzz harness) read CPUID_FEATURES_EDX.

import type { Cpu } from './Cpu.js';
import { EAX, EBX, ECX, EDX, EFER_LME, EFER_NXE, EFER_SCE } from './constants.js';
import { MAXPHYADDR } from './mmu.js';

// CPUID.01H:EDX feature bits.
export const FEAT_FPU = 1 << 0;
export const FEAT_VME = 1 << 1;
export const FEAT_DE = 1 << 2;
export const FEAT_PSE = 1 << 3;
export const FEAT_TSC = 1 << 4;
export const FEAT_MSR = 1 << 5;
export const FEAT_PAE = 1 << 6;
export const FEAT_MCE = 1 << 7;
export const FEAT_CX8 = 1 << 8;
export const FEAT_APIC = 1 << 9;
export const FEAT_SEP = 1 << 11;
export const FEAT_MTRR = 1 << 12;
export const FEAT_PGE = 1 << 13;
export const FEAT_MCA = 1 << 14;
export const FEAT_CMOV = 1 << 15;
export const FEAT_PAT = 1 << 16;
export const FEAT_MMX = 1 << 23;
export const FEAT_FXSR = 1 << 24;
export const FEAT_SSE = 1 << 25;
export const FEAT_SSE2 = 1 << 26;

/**
 * CPUID.01H:EDX as reported with an x87 unit attached: FPU DE PSE TSC MSR PAE CX8 SEP
 * MTRR PGE CMOV PAT MMX FXSR SSE SSE2, and APIC with a local APIC (cpuidFeaturesEdx). No
 * VME, MCE or MCA (not implemented). FPU, MMX, FXSR, SSE and SSE2 are masked off while no
 * x87 unit (which holds the MMX and XMM state) is attached (see FEAT_NEEDS_FPU).
 */
export const CPUID_FEATURES_EDX =
  FEAT_FPU | FEAT_DE | FEAT_PSE | FEAT_TSC | FEAT_MSR | FEAT_PAE | FEAT_CX8 | FEAT_SEP | FEAT_MTRR | FEAT_PGE |
  FEAT_CMOV | FEAT_PAT | FEAT_MMX | FEAT_FXSR | FEAT_SSE | FEAT_SSE2;
/** Feature bits that depend on the x87 unit being present. */
export const FEAT_NEEDS_FPU = FEAT_FPU | FEAT_MMX | FEAT_FXSR | FEAT_SSE | FEAT_SSE2;
/** Feature bits that need an x87 unit holding the XMM state (src/cpu/sse/ runs MMX too). */
export const FEAT_NEEDS_XMM = FEAT_MMX | FEAT_SSE | FEAT_SSE2;
/**
 * CPUID.01H:ECX bit 31, "hypervisor present": reserved (0) on real parts, set by every
 * VMM (KVM, QEMU, Firecracker) so a guest knows it is virtualized and does not trust
 * model-specific hardware it cannot probe safely; Linux then skips the P6 performance
 * counters (MSRs 0xC1/0x186, absent here) with "PMU not available due to
 * virtualization" instead of logging "Broken PMU hardware" as an error.
 */
export const FEAT_ECX_HYPERVISOR = 1 << 31;
/** CPUID.01H:ECX: nothing of the SSE3-era set, only the hypervisor bit. */
export const CPUID_FEATURES_ECX = FEAT_ECX_HYPERVISOR;
/** CPUID.01H:EAX: family 6, model 3, stepping 3 (Pentium II, as in EDX at reset). */
export const CPUID_SIGNATURE = 0x00000633;
export const CPUID_MAX_BASIC = 2;
export const CPUID_MAX_EXTENDED = 0x80000008 | 0;
// CPUID.80000001H:EDX feature bits.
export const FEAT_EXT_SYSCALL = 1 << 11;
export const FEAT_EXT_NX = 1 << 20;
export const FEAT_EXT_LM = 1 << 29;
/** CPUID.80000001H:EDX: NX (the XD bit of PAE entries, EFER.NXE). No SYSCALL, no long mode. */
export const CPUID_EXT_FEATURES_EDX = FEAT_EXT_NX;
/** CPUID.80000008H:EAX: physical address bits (mmu.ts checks entries against them), 32 linear. */
export const CPUID_ADDRESS_SIZES = (32 << 8) | MAXPHYADDR;
export const CPUID_VENDOR = 'GenuineIntel';
export const CPUID_BRAND = 'typevisor virtual CPU';
/**
 * Hypervisor leaves (0x40000000 up, the range KVM, Xen and Hyper-V use): leaf
 * 0x40000000 gives the highest hypervisor leaf in EAX and a 12-byte vendor signature in
 * EBX, ECX, EDX. Guests that know no "TypeVisorCPU" treat the machine as bare metal.
 */
export const CPUID_HV_BASE = 0x40000000;
export const CPUID_HV_SIGNATURE = 'TypeVisorCPU';
/**
 * Leaf 2 cache/TLB descriptors of a Pentium II: 01 ITLB 4K, 02 ITLB 4M, 03 DTLB 4K,
 * 43 L2 512K 4-way, 08 L1I 16K, 04 DTLB 4M, 0C L1D 16K. AL = 1 (one iteration).
 */
export const CPUID_LEAF2 = [0x03020101, 0, 0, 0x0c040843] as const;

/** EFER bits a WRMSR may set: those of the features leaf 0x80000001 reports. */
export function eferWritable(): number {
  const f = CPUID_EXT_FEATURES_EDX as number;
  return ((f & FEAT_EXT_NX) !== 0 ? EFER_NXE : 0) | ((f & FEAT_EXT_LM) !== 0 ? EFER_LME : 0) |
    ((f & FEAT_EXT_SYSCALL) !== 0 ? EFER_SCE : 0);
}

/**
 * CPUID.01H:ECX bit 24: the local APIC timer has TSC-deadline mode (IA32_TSC_DEADLINE),
 * reported with a local APIC. (Linux fences its LVT timer write in that mode with MFENCE,
 * so it waited for SSE2.)
 */
export const FEAT_ECX_TSC_DEADLINE = 1 << 24;

/**
 * Feature bits this CPU reports right now: FPU/FXSR need an attached x87 unit, MMX/SSE/SSE2
 * one that holds the XMM state, APIC a local APIC that IA32_APIC_BASE[11] has not disabled.
 */
export function cpuidFeaturesEdx(c: Cpu): number {
  const d = c.fpu === null ? CPUID_FEATURES_EDX & ~FEAT_NEEDS_FPU
    : c.fpu.xmmU32 === undefined ? CPUID_FEATURES_EDX & ~FEAT_NEEDS_XMM : CPUID_FEATURES_EDX;
  return c.lapic !== null && c.lapic.enabled ? d | FEAT_APIC : d;
}

function str4(s: string, at: number): number {
  let v = 0;
  for (let i = 3; i >= 0; i--) v = (v << 8) | (at + i < s.length ? s.charCodeAt(at + i) & 0xff : 0);
  return v | 0;
}

const VENDOR_EBX = str4(CPUID_VENDOR, 0);
const VENDOR_EDX = str4(CPUID_VENDOR, 4);
const VENDOR_ECX = str4(CPUID_VENDOR, 8);
const HV_EBX = str4(CPUID_HV_SIGNATURE, 0);
const HV_ECX = str4(CPUID_HV_SIGNATURE, 4);
const HV_EDX = str4(CPUID_HV_SIGNATURE, 8);
/** 48 bytes of brand string, NUL padded, as 12 dwords (leaves 0x80000002-4). */
const BRAND = new Int32Array(12);
for (let i = 0; i < 12; i++) BRAND[i] = str4(CPUID_BRAND, i * 4);

/** Fill EAX/EBX/ECX/EDX for leaf `leaf` (the value EAX held). */
export function cpuid(c: Cpu): void {
  let leaf = c.regs[EAX]! >>> 0;
  const r = c.regs;
  // Intel: a leaf above the maximum returns the highest basic leaf's data.
  if (leaf >= 0x80000000) {
    if (leaf > (CPUID_MAX_EXTENDED >>> 0)) leaf = CPUID_MAX_BASIC;
  } else if (leaf === CPUID_HV_BASE) {
    // The hypervisor leaf answers; the rest of 0x40000000-0x4FFFFFFF reads as above max.
  } else if (leaf > CPUID_MAX_BASIC) {
    leaf = CPUID_MAX_BASIC;
  }
  let a = 0, b = 0, cx = 0, d = 0;
  switch (leaf) {
    case 0: a = CPUID_MAX_BASIC; b = VENDOR_EBX; d = VENDOR_EDX; cx = VENDOR_ECX; break;
    case 1: a = CPUID_SIGNATURE; cx = c.lapic !== null ? CPUID_FEATURES_ECX | FEAT_ECX_TSC_DEADLINE : CPUID_FEATURES_ECX; d = cpuidFeaturesEdx(c); break;
    case 2: a = CPUID_LEAF2[0]; b = CPUID_LEAF2[1]; cx = CPUID_LEAF2[2]; d = CPUID_LEAF2[3]; break;
    case CPUID_HV_BASE: a = CPUID_HV_BASE; b = HV_EBX; cx = HV_ECX; d = HV_EDX; break;
    case 0x80000000: a = CPUID_MAX_EXTENDED; break;
    case 0x80000001: d = CPUID_EXT_FEATURES_EDX; break;
    case 0x80000002: case 0x80000003: case 0x80000004: {
      const i = (leaf - 0x80000002) * 4;
      a = BRAND[i]!; b = BRAND[i + 1]!; cx = BRAND[i + 2]!; d = BRAND[i + 3]!;
      break;
    }
    case 0x80000008: a = CPUID_ADDRESS_SIZES; break;
    default: break;
  }
  r[EAX] = a; r[EBX] = b; r[ECX] = cx; r[EDX] = d;
}
