// Architectural constants of the IA-32 CPU (Intel SDM vol. 3A ch. 2-6).

// General registers, in ModRM encoding order.
export const EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7;

// Segment registers, in ModRM sreg encoding order.
export const ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5;
export const SEG_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'] as const;

// EFLAGS bits.
export const FLAG_CF = 1 << 0;
export const FLAG_PF = 1 << 2;
export const FLAG_AF = 1 << 4;
export const FLAG_ZF = 1 << 6;
export const FLAG_SF = 1 << 7;
export const FLAG_TF = 1 << 8;
export const FLAG_IF = 1 << 9;
export const FLAG_DF = 1 << 10;
export const FLAG_OF = 1 << 11;
export const FLAG_IOPL = 3 << 12;
export const FLAG_NT = 1 << 14;
export const FLAG_RF = 1 << 16;
export const FLAG_VM = 1 << 17;
export const FLAG_AC = 1 << 18;
export const FLAG_VIF = 1 << 19;
export const FLAG_VIP = 1 << 20;
export const FLAG_ID = 1 << 21;
/** The six arithmetic status flags, the ones evaluated lazily. */
export const FLAGS_ARITH = FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF;
/** Bit 1 of EFLAGS always reads 1. */
export const FLAGS_FIXED1 = 1 << 1;
/** Bits software can ever set (i486+ with CPUID: AC, ID; VIF/VIP only through VME paths). */
export const FLAGS_VALID = FLAGS_ARITH | FLAG_TF | FLAG_IF | FLAG_DF | FLAG_IOPL | FLAG_NT | FLAG_RF | FLAG_VM | FLAG_AC | FLAG_VIF | FLAG_VIP | FLAG_ID;

// CR0 bits.
export const CR0_PE = 1 << 0;
export const CR0_MP = 1 << 1;
export const CR0_EM = 1 << 2;
export const CR0_TS = 1 << 3;
export const CR0_ET = 1 << 4;
export const CR0_NE = 1 << 5;
export const CR0_WP = 1 << 16;
export const CR0_AM = 1 << 18;
export const CR0_NW = 1 << 29;
export const CR0_CD = 1 << 30;
export const CR0_PG = 1 << 31;

// CR4 bits.
export const CR4_VME = 1 << 0;
export const CR4_PVI = 1 << 1;
export const CR4_TSD = 1 << 2;
export const CR4_DE = 1 << 3;
export const CR4_PSE = 1 << 4;
export const CR4_PAE = 1 << 5;
export const CR4_MCE = 1 << 6;
export const CR4_PGE = 1 << 7;
export const CR4_PCE = 1 << 8;
export const CR4_OSFXSR = 1 << 9;
export const CR4_OSXMMEXCPT = 1 << 10;

// Exception vectors.
export const EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5, EXC_UD = 6, EXC_NM = 7;
export const EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12, EXC_GP = 13, EXC_PF = 14, EXC_MF = 16;
export const EXC_AC = 17, EXC_MC = 18, EXC_XM = 19;

// Page table entry bits (the low dword in PAE entries; XD is bit 63, the high dword's sign).
export const PTE_P = 1 << 0;
export const PTE_W = 1 << 1;
export const PTE_U = 1 << 2;
export const PTE_A = 1 << 5;
export const PTE_D = 1 << 6;
export const PTE_PS = 1 << 7;
export const PTE_G = 1 << 8;

// #PF error code bits.
export const PF_P = 1, PF_W = 2, PF_U = 4, PF_RSVD = 8, PF_ID = 16;

// Segment descriptor attribute word (descriptor bits 40..55, as kept in segAttr).
export const DESC_TYPE = 0x0f;
export const DESC_ACCESSED = 0x01;
export const DESC_RW = 0x02; // readable code / writable data
export const DESC_CE = 0x04; // conforming code / expand-down data
export const DESC_CODE = 0x08;
export const DESC_S = 0x10; // code/data (1) vs system (0)
export const DESC_DPL_SHIFT = 5;
export const DESC_P = 0x80;
export const DESC_AVL = 0x1000;
export const DESC_DB = 0x4000;
export const DESC_G = 0x8000;

// System descriptor types (S = 0).
export const SYS_TSS16_AVAIL = 1, SYS_LDT = 2, SYS_TSS16_BUSY = 3, SYS_CALL16 = 4, SYS_TASK = 5;
export const SYS_INT16 = 6, SYS_TRAP16 = 7, SYS_TSS32_AVAIL = 9, SYS_TSS32_BUSY = 11;
export const SYS_CALL32 = 12, SYS_INT32 = 14, SYS_TRAP32 = 15;

// MSRs.
export const MSR_TSC = 0x10;
export const MSR_APIC_BASE = 0x1b;
export const MSR_SYSENTER_CS = 0x174;
export const MSR_SYSENTER_ESP = 0x175;
export const MSR_SYSENTER_EIP = 0x176;
export const MSR_PAT = 0x277;
export const MSR_MTRRCAP = 0xfe;
export const MSR_MTRR_DEF_TYPE = 0x2ff;
export const MSR_MISC_ENABLE = 0x1a0;
export const MSR_EFER = 0xc0000080;

// IA32_EFER bits (SDM vol. 3A §2.2.1).
export const EFER_SCE = 1 << 0;
export const EFER_LME = 1 << 8;
export const EFER_LMA = 1 << 10;
export const EFER_NXE = 1 << 11;

/** Why `Cpu.run` returned. */
export const STOP_BUDGET = 0; // ran the instructions it was given
export const STOP_HALT = 1; // HLT; the machine waits for an interrupt
export const STOP_SHUTDOWN = 2; // triple fault: shutdown cycle on the bus
export const STOP_REQUEST = 3; // a device asked the CPU to stop (reset, power-off, I/O exit)
