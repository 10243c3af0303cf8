// Paging (SDM vol. 3A §4.3: 32-bit paging with 4 KiB pages and PSE 4 MiB pages,
// PGE global pages, CR0.WP, accessed/dirty bits) and the software TLB.
//
// The TLB is one Int32Array indexed by linear page number. An entry is the physical
// page address ORed with TLB_* bits; the fast paths in Cpu.ts accept an entry when
// the bits in their mask are exactly TLB_VALID. Anything else comes here.

import type { Cpu } from './Cpu.js';
import { CR0_PG, CR0_WP, CR4_PGE, CR4_PSE, EXC_PF, PF_P, PF_U, PF_W, PTE_A, PTE_D, PTE_G, PTE_P, PTE_PS, PTE_U, PTE_W } from './constants.js';

export const TLB_VALID = 1;
/** Page is supervisor-only. */
export const TLB_NOUSER = 2;
/** A user-mode write must take the slow path (read-only or not yet dirty). */
export const TLB_NOWRITE_USER = 4;
/** A supervisor write must take the slow path (read-only with CR0.WP, or not yet dirty). */
export const TLB_NOWRITE_SUP = 8;
/** Not plain RAM: MMIO, ROM, or outside RAM; every access takes the slow path. */
export const TLB_MMIO = 16;
/** Page holds translated code: writes take the slow path so the translator sees them. */
export const TLB_CODE = 32;
/** Global page (survives CR3 reloads when CR4.PGE). */
export const TLB_GLOBAL = 64;

/** Forget cached translations; global pages survive unless `all`. */
export function flushTlb(c: Cpu, all: boolean): void {
  const tlb = c.tlb, list = c.tlbList;
  let kept = 0;
  for (let i = 0; i < c.tlbCount; i++) {
    const page = list[i]!;
    if (!all && (tlb[page]! & TLB_GLOBAL) !== 0) list[kept++] = page;
    else tlb[page] = 0;
  }
  c.tlbCount = kept;
  c.fetchLinPage = -1;
}

/** INVLPG: drop one page. */
export function invalidatePage(c: Cpu, lin: number): void {
  c.tlb[lin >>> 12] = 0;
  c.fetchLinPage = -1;
}

function addEntry(c: Cpu, page: number, entry: number): void {
  if (c.tlb[page] === 0) {
    if (c.tlbCount === c.tlbList.length) flushTlb(c, true);
    c.tlbList[c.tlbCount++] = page;
  }
  c.tlb[page] = entry;
}

function pageFault(c: Cpu, lin: number, code: number): never {
  c.cr2 = lin;
  return c.raise(EXC_PF, code);
}

/**
 * Translate a linear address for one access, raising #PF as the hardware would, setting
 * accessed/dirty bits, and caching the result. `user` is a CPL-3 access (implicit
 * supervisor accesses to descriptor tables pass false). Returns the physical address.
 */
export function translateSlow(c: Cpu, lin: number, write: boolean, user: boolean, _exec: boolean): number {
  lin |= 0;
  const page = lin >>> 12;
  const mem = c.mem;
  if ((c.cr0 & CR0_PG) === 0) {
    const phys = lin & ~0xfff;
    const ram = mem.isRamPage(phys);
    // A device access may raise an interrupt: translated code returns to the dispatcher.
    if (!ram) c.exitReq = 1;
    addEntry(c, page, phys | TLB_VALID | (ram ? 0 : TLB_MMIO) | (mem.codePages[phys >>> 12] ? TLB_CODE : 0));
    return lin;
  }
  const wp = (c.cr0 & CR0_WP) !== 0;
  const errBase = (write ? PF_W : 0) | (user ? PF_U : 0);
  const pdeAddr = (c.cr3 & ~0xfff) + ((lin >>> 22) << 2);
  let pde = mem.read32(pdeAddr);
  if ((pde & PTE_P) === 0) return pageFault(c, lin, errBase);
  let phys: number;
  let allowU: boolean, allowW: boolean, dirty: boolean, global: boolean;
  if ((pde & PTE_PS) !== 0 && (c.cr4 & CR4_PSE) !== 0) {
    allowU = (pde & PTE_U) !== 0;
    allowW = (pde & PTE_W) !== 0;
    if ((user && !allowU) || (write && !allowW && (user || wp))) return pageFault(c, lin, errBase | PF_P);
    const upd = pde | PTE_A | (write ? PTE_D : 0);
    if (upd !== pde) { mem.write32(pdeAddr, upd); pde = upd; }
    dirty = (pde & PTE_D) !== 0;
    global = (pde & PTE_G) !== 0;
    phys = (pde & 0xffc00000) | (lin & 0x3ff000);
  } else {
    const pteAddr = (pde & ~0xfff) + (((lin >>> 12) & 0x3ff) << 2);
    let pte = mem.read32(pteAddr);
    if ((pte & PTE_P) === 0) return pageFault(c, lin, errBase);
    allowU = (pde & pte & PTE_U) !== 0;
    allowW = (pde & pte & PTE_W) !== 0;
    if ((user && !allowU) || (write && !allowW && (user || wp))) return pageFault(c, lin, errBase | PF_P);
    if ((pde & PTE_A) === 0) mem.write32(pdeAddr, pde | PTE_A);
    const upd = pte | PTE_A | (write ? PTE_D : 0);
    if (upd !== pte) { mem.write32(pteAddr, upd); pte = upd; }
    dirty = (pte & PTE_D) !== 0;
    global = (pte & PTE_G) !== 0;
    phys = pte & ~0xfff;
  }
  let bits = TLB_VALID;
  if (!allowU) bits |= TLB_NOUSER;
  if (!allowW || !dirty) bits |= TLB_NOWRITE_USER;
  if ((!allowW && wp) || !dirty) bits |= TLB_NOWRITE_SUP;
  if (!mem.isRamPage(phys)) { bits |= TLB_MMIO; c.exitReq = 1; }
  if (global && (c.cr4 & CR4_PGE) !== 0) bits |= TLB_GLOBAL;
  if (mem.codePages[phys >>> 12]) bits |= TLB_CODE;
  addEntry(c, page, phys | bits);
  return phys | (lin & 0xfff);
}
