// Put the software CPU into the state a loader asked for (src/boot/BootEntry.ts):
// 32-bit flat protected mode for the Linux 32-bit boot protocol and multiboot, the
// reset vector for firmware, or real mode for flat programs.

import type { BootEntry } from '../boot/BootEntry.js';
import type { Cpu } from '../cpu/Cpu.js';
import { CR0_ET, CR0_PE, CS, DESC_DB, DESC_G, DESC_P, DESC_RW, DESC_S, DESC_CODE, DS, EAX, EBP, EBX, ECX, EDI, EDX, ES, ESI, ESP, FS, GS, SS, FLAGS_FIXED1 } from '../cpu/constants.js';

export function applyBootEntry(cpu: Cpu, entry: BootEntry): void {
  cpu.reset();
  if (entry.kind === 'reset') return;
  const r = entry.regs;
  cpu.regs[EAX] = r.eax; cpu.regs[EBX] = r.ebx; cpu.regs[ECX] = r.ecx; cpu.regs[EDX] = r.edx;
  cpu.regs[ESI] = r.esi; cpu.regs[EDI] = r.edi; cpu.regs[EBP] = r.ebp; cpu.regs[ESP] = r.esp;
  cpu.flags = FLAGS_FIXED1;
  cpu.lazyMask = 0;
  if (entry.kind === 'real') {
    cpu.cr0 = CR0_ET;
    cpu.loadRealSeg(CS, entry.cs);
    cpu.loadRealSeg(SS, entry.ss);
    cpu.loadRealSeg(DS, entry.ds);
    cpu.loadRealSeg(ES, entry.es);
    cpu.loadRealSeg(FS, entry.ds);
    cpu.loadRealSeg(GS, entry.ds);
    cpu.regs[ESP] = entry.sp;
    cpu.eip = entry.ip;
    cpu.updateMode();
    return;
  }
  cpu.cr0 = CR0_ET | CR0_PE;
  cpu.gdtBase = entry.gdtBase;
  cpu.gdtLimit = entry.gdtLimit;
  cpu.idtBase = 0;
  cpu.idtLimit = 0;
  const flat = DESC_P | DESC_S | DESC_DB | DESC_G | 0x01;
  for (const seg of [ES, CS, SS, DS, FS, GS]) {
    const code = seg === CS;
    cpu.segSel[seg] = code ? entry.codeSelector : entry.dataSelector;
    cpu.segBase[seg] = 0;
    cpu.segLimit[seg] = -1;
    cpu.segAttr[seg] = flat | DESC_RW | (code ? DESC_CODE : 0);
    cpu.updateSegCheck(seg);
  }
  cpu.setCpl(0);
  cpu.eip = entry.eip;
  cpu.updateMode();
  cpu.flushTlb(true);
}
