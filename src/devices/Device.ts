// What every device of the PC model shares: a name, a reset, and its whole state as
// plain data (snapshots and migration rest on this; see DESIGN.md "State is data").

export interface Device {
  readonly name: string;
  /** Return to the power-on state. */
  reset(): void;
  /** Whole device state as JSON-serializable data. */
  saveState(): unknown;
  /** Restore what saveState returned. Throws on data that does not fit. */
  loadState(state: unknown): void;
}

/** A device's connection to one interrupt line of the interrupt controller. */
export type IrqLine = (level: boolean) => void;

/** What the CPU needs from an interrupt controller (the 8259 pair, later the APIC). */
export interface InterruptController {
  /** True when an unmasked interrupt is waiting for the CPU. */
  hasInterrupt(): boolean;
  /** INTA cycle: returns the vector and marks the interrupt in service. */
  acknowledge(): number;
}
