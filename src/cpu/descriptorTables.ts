// Descriptor-table and selector instructions: group 6 (0F 00: SLDT STR LLDT LTR VERR
// VERW), group 7 (0F 01: SGDT SIDT LGDT LIDT SMSW LMSW INVLPG), LAR (0F 02), LSL (0F 03)
// and ARPL (63) (SDM vol. 2A-2B; vol. 3A §2.4, §5.10).

import type { Cpu } from './Cpu.js';
import type { OpTable } from './opcodes.js';
import {
  CR0_PE, CR0_EM, CR0_MP, CR0_TS, DESC_CE, DESC_RW, EXC_GP, EXC_NP, FLAG_VM, FLAG_ZF,
  SYS_LDT, SYS_TSS16_AVAIL, SYS_TSS32_AVAIL,
} from './constants.js';
import { setFlag } from './flags.js';
import { invalidatePage } from './mmu.js';
import { Descriptor, readDescriptor } from './segments.js';

const d = new Descriptor();

/** Protected mode outside VM86: where the selector instructions exist. */
function requirePm(c: Cpu): void {
  if ((c.cr0 & CR0_PE) === 0 || (c.flags & FLAG_VM) !== 0) c.raiseUD();
}

/** CPL 0 (real mode counts as 0; VM86 runs at 3). */
export function requireCpl0(c: Cpu): void {
  if (c.cpl !== 0) c.raise(EXC_GP, 0);
}

/** Store a 16-bit system value to r/m: a register destination with 32-bit operand size is zero-extended. */
function storeSel(c: Cpu, v: number): void {
  if (c.modrm >= 0xc0 && c.o32) c.regs[c.modrm & 7] = v & 0xffff;
  else c.writeRM16(v);
}

/** LLDT: load the LDT register from a GDT descriptor (null selector disables the LDT). */
export function lldt(c: Cpu, sel: number): void {
  if ((sel & ~3) === 0) {
    c.ldtSel = sel; c.ldtBase = 0; c.ldtLimit = 0; c.ldtAttr = 0;
    return;
  }
  if ((sel & 4) !== 0 || !readDescriptor(c, sel, d)) c.raise(EXC_GP, sel & ~3);
  if (d.type !== SYS_LDT) c.raise(EXC_GP, sel & ~3);
  if (!d.present) c.raise(EXC_NP, sel & ~3);
  c.ldtSel = sel; c.ldtBase = d.base; c.ldtLimit = d.limit; c.ldtAttr = d.attr;
}

/** LTR: load the task register from an available TSS descriptor and mark it busy. */
export function ltr(c: Cpu, sel: number): void {
  if ((sel & ~3) === 0) c.raise(EXC_GP, 0);
  if ((sel & 4) !== 0 || !readDescriptor(c, sel, d)) c.raise(EXC_GP, sel & ~3);
  const t = d.type;
  if (t !== SYS_TSS16_AVAIL && t !== SYS_TSS32_AVAIL) c.raise(EXC_GP, sel & ~3);
  if (!d.present) c.raise(EXC_NP, sel & ~3);
  d.hi |= 0x200; // busy
  c.wrSys8(d.addr + 5, (d.hi >>> 8) & 0xff);
  c.trSel = sel; c.trBase = d.base; c.trLimit = d.limit; c.trAttr = d.attr;
}

/**
 * Privilege test shared by VERR/VERW/LAR/LSL: data and non-conforming code (and system
 * descriptors) need DPL >= CPL and DPL >= RPL; conforming code is always visible.
 */
function visible(c: Cpu, sel: number): boolean {
  if (d.isCode && (d.hi & (DESC_CE << 8)) !== 0) return true;
  const dpl = d.dpl;
  return dpl >= c.cpl && dpl >= (sel & 3);
}

/** VERR (write=false) / VERW: ZF=1 when the segment can be read / written at CPL and RPL. */
function verify(c: Cpu, sel: number, write: boolean): void {
  let ok = (sel & ~3) !== 0 && readDescriptor(c, sel, d) && d.isCodeData && visible(c, sel);
  if (ok) {
    const rw = (d.hi & (DESC_RW << 8)) !== 0;
    ok = write ? !d.isCode && rw : !d.isCode || rw;
  }
  setFlag(c, FLAG_ZF, ok);
}

/** System descriptor types LAR (lar=true) and LSL accept. */
function systemTypeOk(type: number, lar: boolean): boolean {
  switch (type) {
    case 1: case 2: case 3: case 9: case 11: return true;
    case 4: case 5: case 12: return lar; // call gates and task gates have no limit
    default: return false;
  }
}

/** LAR/LSL: the descriptor for `sel` if visible and of an accepted type, else null (ZF=0). */
function larLsl(c: Cpu, sel: number, lar: boolean): boolean {
  if ((sel & ~3) === 0 || !readDescriptor(c, sel, d)) return false;
  if (!d.isCodeData && !systemTypeOk(d.type, lar)) return false;
  return visible(c, sel);
}

function group6(c: Cpu): void {
  const op = c.reg;
  switch (op) {
    case 0: requirePm(c); storeSel(c, c.ldtSel); return; // SLDT
    case 1: requirePm(c); storeSel(c, c.trSel); return; // STR
    case 2: { requirePm(c); requireCpl0(c); lldt(c, c.readRM16()); return; }
    case 3: { requirePm(c); requireCpl0(c); ltr(c, c.readRM16()); return; }
    case 4: { requirePm(c); verify(c, c.readRM16(), false); return; }
    case 5: { requirePm(c); verify(c, c.readRM16(), true); return; }
    default: c.undefinedOpcode(0x100);
  }
}

function group7(c: Cpu): void {
  const op = c.reg;
  const mem = c.modrm < 0xc0;
  switch (op) {
    case 0: case 1: { // SGDT / SIDT
      if (!mem) c.undefinedOpcode(0x101);
      const limit = op === 0 ? c.gdtLimit : c.idtLimit;
      // The full 32-bit base is stored at either operand size (P6 and later).
      const base = op === 0 ? c.gdtBase : c.idtBase;
      const lin = c.eaLin(6, true);
      c.probeWrite(lin, 6);
      c.wr16(lin, limit);
      c.wr32((lin + 2) | 0, base);
      return;
    }
    case 2: case 3: { // LGDT / LIDT
      if (!mem) c.undefinedOpcode(0x101);
      requireCpl0(c);
      const lin = c.eaLin(6, false);
      const limit = c.rd16(lin);
      let base = c.rd32((lin + 2) | 0);
      if (!c.o32) base &= 0xffffff;
      if (op === 2) { c.gdtBase = base; c.gdtLimit = limit; } else { c.idtBase = base; c.idtLimit = limit; }
      return;
    }
    case 4: // SMSW
      if (!mem && c.o32) c.regs[c.modrm & 7] = c.cr0;
      else c.writeRM16(c.cr0 & 0xffff);
      return;
    case 6: { // LMSW: PE, MP, EM, TS; PE cannot be cleared
      requireCpl0(c);
      const v = c.readRM16();
      const bits = CR0_PE | CR0_MP | CR0_EM | CR0_TS;
      const old = c.cr0;
      c.cr0 = (old & ~(CR0_MP | CR0_EM | CR0_TS)) | (v & bits) | (old & CR0_PE);
      if (c.cr0 !== old) c.updateMode();
      return;
    }
    case 7: // INVLPG
      if (!mem) c.undefinedOpcode(0x101);
      requireCpl0(c);
      invalidatePage(c, (c.segBase[c.eaSeg]! + c.eaOff) | 0);
      return;
    default: c.undefinedOpcode(0x101);
  }
}

export function installDescriptorTables(t: OpTable): void {
  t.def0F(0x00, group6);
  t.def0F(0x01, group7);
  // LAR r, r/m16.
  t.def0F(0x02, (c) => {
    requirePm(c);
    const reg = c.reg;
    const sel = c.readRM16();
    if (!larLsl(c, sel, true)) { setFlag(c, FLAG_ZF, false); return; }
    setFlag(c, FLAG_ZF, true);
    c.r16[reg << 1] = d.hi & 0xff00;
  }, (c) => {
    requirePm(c);
    const reg = c.reg;
    const sel = c.readRM16();
    if (!larLsl(c, sel, true)) { setFlag(c, FLAG_ZF, false); return; }
    setFlag(c, FLAG_ZF, true);
    c.regs[reg] = d.hi & 0x00ffff00; // as hardware: bits 16-19 are limit 19:16 ("undefined" in the SDM)
  });
  // LSL r, r/m16.
  t.def0F(0x03, (c) => {
    requirePm(c);
    const reg = c.reg;
    const sel = c.readRM16();
    if (!larLsl(c, sel, false)) { setFlag(c, FLAG_ZF, false); return; }
    setFlag(c, FLAG_ZF, true);
    c.r16[reg << 1] = d.limit;
  }, (c) => {
    requirePm(c);
    const reg = c.reg;
    const sel = c.readRM16();
    if (!larLsl(c, sel, false)) { setFlag(c, FLAG_ZF, false); return; }
    setFlag(c, FLAG_ZF, true);
    c.regs[reg] = d.limit;
  });
  // ARPL r/m16, r16.
  t.def(0x63, (c) => {
    requirePm(c);
    const reg = c.reg;
    const src = c.r16[reg << 1]!;
    const lin = c.rmwLin(2);
    const dst = c.modrm >= 0xc0 ? c.r16[(c.modrm & 7) << 1]! : c.rd16(lin);
    if ((dst & 3) < (src & 3)) {
      const v = (dst & ~3) | (src & 3);
      if (c.modrm >= 0xc0) c.r16[(c.modrm & 7) << 1] = v; else c.wr16(lin, v);
      setFlag(c, FLAG_ZF, true);
    } else {
      setFlag(c, FLAG_ZF, false);
    }
  });
}
