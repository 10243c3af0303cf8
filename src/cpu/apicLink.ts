// What the CPU asks of its local APIC beyond interrupt acceptance (InterruptController):
// the IA32_APIC_BASE and IA32_TSC_DEADLINE MSRs (SDM vol. 3A §11.4.4, §11.5.4.1) and
// whether CPUID.01H:EDX.APIC is reported (it reads 0 while the APIC is disabled).

export interface CpuApicLink {
  /** IA32_APIC_BASE as RDMSR reads it. */
  readonly base: number;
  /** WRMSR to IA32_APIC_BASE, reserved bits already checked: bit 11 enables or disables the APIC. */
  writeBase(value: number): void;
  /** True while IA32_APIC_BASE[11] is set. */
  readonly enabled: boolean;
  /** IA32_TSC_DEADLINE (0: disarmed). */
  readonly tscDeadline: number;
  writeTscDeadline(tsc: number): void;
}
