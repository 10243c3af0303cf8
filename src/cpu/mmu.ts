// Paging (SDM vol. 3A §4.3: 32-bit paging with 4 KiB pages and PSE 4 MiB pages; §4.4:
// PAE paging with its four PDPTE registers, 64-bit entries, 2 MiB pages and the XD bit
// under EFER.NXE; both with PGE global pages, CR0.WP and accessed/dirty bits) and the
// software TLB.
//
// The TLB is one Int32Array indexed by linear page number. An entry is the physical
// page address ORed with TLB_* bits; the fast paths in Cpu.ts accept an entry when
// the bits in their mask are exactly TLB_VALID. Anything else comes here. PAE entries
// may name physical pages above 4 GiB (up to MAXPHYADDR): there is nothing there (open
// bus, as on a machine with less memory), and such pages are never cached.

import type { Cpu } from './Cpu.js';
import {
  CR0_PG, CR0_WP, CR4_PAE, CR4_PGE, CR4_PSE, EFER_NXE, EXC_GP, EXC_PF, PF_ID, PF_P, PF_RSVD, PF_U, PF_W, PTE_A,
  PTE_D, PTE_G, PTE_P, PTE_PS, PTE_U, PTE_W,
} from './constants.js';

/** Physical address width (CPUID 0x80000008 EAX[7:0]): PAE entry bits 62:36 are reserved. */
export const MAXPHYADDR = 36;
/** Reserved bits 62:MAXPHYADDR of a PAE entry, in its high dword (bit 63, XD, apart). */
const PAE_RSVD_HI = 0x7fffffff & ~((1 << (MAXPHYADDR - 32)) - 1);
/** A PDPTE's reserved bits: 2:1 and 8:5 in the low dword, 63:MAXPHYADDR in the high one. */
const PDPTE_RSVD_LO = 0x1e6;
const PDPTE_RSVD_HI = PAE_RSVD_HI | (1 << 31);
/** A 2 MiB PDE's reserved bits 20:13 (the page address starts at bit 21). */
const PDE2M_RSVD_LO = 0x1fe000;
/** Frame bits MAXPHYADDR-1:32 of a PAE entry, in its high dword. */
const PAE_FRAME_HI = (1 << (MAXPHYADDR - 32)) - 1;
const TWO32 = 4294967296;

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
/** Execute-disabled (PAE XD with EFER.NXE): translated code is not entered from this page. */
export const TLB_NOEXEC = 128;

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

/**
 * INVLPG: drop one page. A large page is cached as 4 KiB pieces, so where one was cached
 * in the 2 MiB region of `lin` (tlbLarge) every piece of the large page holding it goes.
 */
export function invalidatePage(c: Cpu, lin: number): void {
  c.tlb[lin >>> 12] = 0;
  c.fetchLinPage = -1;
  const r = lin >>> 21;
  if (c.tlbLarge[r] === 0) return;
  const pae = (c.cr4 & CR4_PAE) !== 0;
  const first = pae ? r << 9 : (lin >>> 22) << 10, n = pae ? 512 : 1024;
  for (let i = 0; i < n; i++) c.tlb[first + i] = 0;
  c.tlbLarge[r] = 0;
  if (!pae) c.tlbLarge[r ^ 1] = 0;
}

/** Whether the CPU may write the entry's page directly, at some CPL (TLB_CODE aside: the translator clears it without a fill). */
export function tlbWritable(entry: number): boolean {
  return (entry & (TLB_VALID | TLB_MMIO)) === TLB_VALID && (entry & (TLB_NOWRITE_SUP | TLB_NOWRITE_USER)) !== (TLB_NOWRITE_SUP | TLB_NOWRITE_USER);
}

function addEntry(c: Cpu, page: number, entry: number): void {
  if (c.tlb[page] === 0) {
    if (c.tlbCount === c.tlbList.length) flushTlb(c, true);
    c.tlbList[c.tlbCount++] = page;
  }
  c.tlb[page] = entry;
  // Writes through the entry never reach PhysicalMemory: count the page written now.
  if (tlbWritable(entry)) c.mem.dirtyPages[entry >>> 12] = 1;
}

function pageFault(c: Cpu, lin: number, code: number): never {
  c.cr2 = lin;
  return c.raise(EXC_PF, code);
}

/**
 * The 32-byte aligned PDPT at `cr3` into the PDPTE registers (SDM vol. 3A §4.4.1), as MOV
 * CR0/CR3/CR4 and task switches do when PAE paging is (or becomes) active. A present
 * entry with a reserved bit set raises #GP(0) before anything changes.
 */
export function loadPdptes(c: Cpu, cr3: number): void {
  const mem = c.mem, base = (cr3 & ~0x1f) >>> 0;
  for (let i = 0; i < 4; i++) {
    const lo = mem.read32(base + 8 * i), hi = mem.read32(base + 8 * i + 4);
    if ((lo & PTE_P) !== 0 && ((lo & PDPTE_RSVD_LO) !== 0 || (hi & PDPTE_RSVD_HI) !== 0)) c.raise(EXC_GP, 0);
  }
  for (let i = 0; i < 8; i++) c.pdpte[i] = mem.read32(base + 4 * i);
}

/** True when paging is on with CR4.PAE: the walk then starts at the PDPTE registers. */
export function paePaging(c: Cpu): boolean {
  return (c.cr0 & CR0_PG) !== 0 && (c.cr4 & CR4_PAE) !== 0;
}

/** CR3 := v (MOV CR3, task switch): PDPTEs reloaded under PAE paging; global pages survive. */
export function loadCr3(c: Cpu, v: number): void {
  if (paePaging(c)) loadPdptes(c, v);
  c.cr3 = v;
  flushTlb(c, false);
}

/** Physical address of a 64-bit entry's frame (bits MAXPHYADDR-1:12); above 4 GiB it is a double. */
export function paeFrame(lo: number, hi: number): number {
  return (hi & PAE_FRAME_HI) * TWO32 + ((lo & ~0xfff) >>> 0);
}

/**
 * A PAE paging-structure dword: a table above 4 GiB reads as all ones (nothing there), so
 * its entries fault with RSVD before any accessed/dirty bit would be written there.
 */
function readEntry(c: Cpu, addr: number): number {
  return addr >= TWO32 ? -1 : c.mem.read32(addr);
}

/** Cache a translation with its permissions; `phys` is below 4 GiB. */
function cacheEntry(c: Cpu, page: number, phys: number, allowU: boolean, allowW: boolean, dirty: boolean,
  global: boolean, noExec: boolean): void {
  const mem = c.mem, wp = (c.cr0 & CR0_WP) !== 0;
  let bits = TLB_VALID;
  if (!allowU) bits |= TLB_NOUSER;
  if (!allowW || !dirty) bits |= TLB_NOWRITE_USER;
  if ((!allowW && wp) || !dirty) bits |= TLB_NOWRITE_SUP;
  if (!mem.isRamPage(phys)) { bits |= TLB_MMIO; c.exitReq = 1; }
  if (global && (c.cr4 & CR4_PGE) !== 0) bits |= TLB_GLOBAL;
  if (noExec) bits |= TLB_NOEXEC;
  if (mem.codePages[phys >>> 12]) bits |= TLB_CODE;
  addEntry(c, page, phys | bits);
}

/**
 * PAE walk (SDM vol. 3A §4.4.2): PDPTE register, 64-bit PDE (2 MiB page with PS), 64-bit
 * PTE. Not present → #PF; a reserved bit → #PF with P and RSVD; then the U/W/XD checks.
 */
function translatePae(c: Cpu, lin: number, write: boolean, user: boolean, exec: boolean): number {
  const mem = c.mem;
  const nxe = (c.efer & EFER_NXE) !== 0;
  const rsvdHi = nxe ? PAE_RSVD_HI : PAE_RSVD_HI | (1 << 31);
  const err = (write ? PF_W : 0) | (user ? PF_U : 0) | (exec && nxe ? PF_ID : 0);
  const i = lin >>> 30;
  const pdpLo = c.pdpte[2 * i]!;
  if ((pdpLo & PTE_P) === 0) return pageFault(c, lin, err);
  const pdeAddr = paeFrame(pdpLo, c.pdpte[2 * i + 1]!) + ((lin >>> 21) & 0x1ff) * 8;
  let pde = readEntry(c, pdeAddr);
  if ((pde & PTE_P) === 0) return pageFault(c, lin, err);
  const pdeHi = readEntry(c, pdeAddr + 4);
  if ((pdeHi & rsvdHi) !== 0) return pageFault(c, lin, err | PF_P | PF_RSVD);
  const wp = (c.cr0 & CR0_WP) !== 0;
  let allowU: boolean, allowW: boolean, noExec: boolean, dirty: boolean, global: boolean;
  let phys: number;
  if ((pde & PTE_PS) !== 0) {
    if ((pde & PDE2M_RSVD_LO) !== 0) return pageFault(c, lin, err | PF_P | PF_RSVD);
    allowU = (pde & PTE_U) !== 0;
    allowW = (pde & PTE_W) !== 0;
    noExec = nxe && pdeHi < 0;
    if ((user && !allowU) || (write && !allowW && (user || wp)) || (exec && noExec)) return pageFault(c, lin, err | PF_P);
    const upd = pde | PTE_A | (write ? PTE_D : 0);
    if (upd !== pde) { mem.write32(pdeAddr, upd); pde = upd; }
    dirty = (pde & PTE_D) !== 0;
    global = (pde & PTE_G) !== 0;
    phys = paeFrame(pde & ~0x1fffff, pdeHi) + (lin & 0x1ff000);
    c.tlbLarge[lin >>> 21] = 1;
  } else {
    const pteAddr = paeFrame(pde, pdeHi) + ((lin >>> 12) & 0x1ff) * 8;
    let pte = readEntry(c, pteAddr);
    if ((pte & PTE_P) === 0) return pageFault(c, lin, err);
    const pteHi = readEntry(c, pteAddr + 4);
    if ((pteHi & rsvdHi) !== 0) return pageFault(c, lin, err | PF_P | PF_RSVD);
    allowU = (pde & pte & PTE_U) !== 0;
    allowW = (pde & pte & PTE_W) !== 0;
    noExec = nxe && (pdeHi | pteHi) < 0;
    if ((user && !allowU) || (write && !allowW && (user || wp)) || (exec && noExec)) return pageFault(c, lin, err | PF_P);
    // Intel sets A/D only after a walk that succeeds (see test/cpu/asm/pagediff.asm).
    if ((pde & PTE_A) === 0) mem.write32(pdeAddr, pde | PTE_A);
    const upd = pte | PTE_A | (write ? PTE_D : 0);
    if (upd !== pte) { mem.write32(pteAddr, upd); pte = upd; }
    dirty = (pte & PTE_D) !== 0;
    global = (pte & PTE_G) !== 0;
    phys = paeFrame(pte, pteHi);
  }
  // Nothing is there above 4 GiB: each access comes back here and goes to open bus.
  if (phys >= TWO32) { c.exitReq = 1; return phys + (lin & 0xfff); }
  cacheEntry(c, lin >>> 12, phys | 0, allowU, allowW, dirty, global, noExec);
  return phys | (lin & 0xfff);
}

/**
 * Translate a linear address for one access, raising #PF as the hardware would, setting
 * accessed/dirty bits, and caching the result. `user` is a CPL-3 access (implicit
 * supervisor accesses to descriptor tables pass false); `exec` an instruction fetch.
 * Returns the physical address (above 4 GiB only under PAE, where nothing is there).
 */
export function translateSlow(c: Cpu, lin: number, write: boolean, user: boolean, exec: boolean): number {
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
  if ((c.cr4 & CR4_PAE) !== 0) return translatePae(c, lin, write, user, exec);
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
    c.tlbLarge[(lin >>> 21) & ~1] = c.tlbLarge[(lin >>> 21) | 1] = 1;
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
  cacheEntry(c, page, phys, allowU, allowW, dirty, global, false);
  return phys | (lin & 0xfff);
}
