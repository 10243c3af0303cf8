// The contract between the integer CPU core and the x87 unit (SDM vol. 1 ch. 8).

/** What the FPU needs from the CPU. Memory accessors take linear addresses and may throw the
 *  CPU's fault sentinel (a page fault etc.); let it propagate untouched and make sure no FPU state
 *  has been changed before an access that may fault (instructions must be restartable). */
export interface FpuHost {
  read8(lin: number): number; read16(lin: number): number; read32(lin: number): number; // read32 returns int32
  write8(lin: number, v: number): void; write16(lin: number, v: number): void; write32(lin: number, v: number): void;
  /** Write AX (FSTSW AX). */
  setAX(v: number): void;
  /** CR0.NE: 1 => unmasked exceptions raise #MF (vector 16) at the next waiting FPU instruction; 0 => assert FERR# (IRQ13 via the PIC, the PC's legacy path). */
  readonly cr0NE: boolean;
  /** Raise #MF now (throws the CPU fault sentinel; does not return). */
  raiseMF(): never;
  /** Assert FERR# (legacy IRQ13). */
  signalFerr(): void;
  /** True in protected mode (FSTENV/FSAVE layouts differ in real mode). Must be false in
   *  virtual-8086 mode too: the SDM has V86 use the real-mode layouts. */
  readonly protectedMode: boolean;
  /** CS selector and EIP of the current instruction and the data segment selector, for FIP/FDP/FCS/FDS bookkeeping. */
  readonly instrCs: number; readonly instrEip: number;

  // ---- Added by the x87 unit ----

  /** Selector of the segment the current instruction's memory operand uses (FDS). Read only
   *  for memory forms, after the operand has been accessed. */
  readonly instrDs: number;
  /** Effective address (offset within that segment, before adding the base) of the memory
   *  operand (FDP). Read only for memory forms. In real mode FSTENV stores FDS*16+FDP. */
  readonly instrEa: number;
  /** EFLAGS as the FCMOVcc conditions see it (CF bit 0, PF bit 2, ZF bit 6). */
  readonly eflags: number;
  /** FCOMI/FCOMIP/FUCOMI/FUCOMIP result: set ZF, PF, CF as given and clear OF, SF and AF
   *  (SDM: OF/SF/AF are zeroed even when an unmasked #IA leaves ZF/PF/CF alone; the unit then
   *  passes the current ZF/PF/CF back). */
  setEflagsZPC(zf: boolean, pf: boolean, cf: boolean): void;
  /** Raise #UD (reserved x87 encodings, FISTTP without SSE3). Throws; does not return. */
  raiseUD(): never;
  /** Raise #GP(0) (FXSAVE/FXRSTOR: misaligned operand, reserved MXCSR bits). Throws. */
  raiseGP0(): never;
}
