// The debugger's view of guest memory under PAE paging: linear addresses through the
// PDPTE registers, 4 KiB and 2 MiB pages, without faults or accessed/dirty bits.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu } from '../cpu/harness.js';
import { debugByte, debugLinearToPhysical } from '../../src/debug/debugMemory.js';
import { CR0_PE, CR0_PG, CR4_PAE } from '../../src/cpu/constants.js';
import { loadPdptes } from '../../src/cpu/mmu.js';

test('debug memory walks PAE page tables: 4 KiB and 2 MiB pages, XD, absent and above-4-GiB frames', () => {
  const { cpu, mem } = makeCpu(4 << 20);
  const PDPT = 0x10000, PD = 0x11000, PT = 0x12000;
  const q = (at: number, lo: number, hi = 0): void => { mem.write32(at, lo); mem.write32(at + 4, hi); };
  q(PDPT + 8, PD | 1);                               // PDPTE 1: linear 1..2 GiB
  q(PD + 0 * 8, PT | 3);
  q(PD + 1 * 8, 0x200000 | 0x83, 0x80000000);       // 2 MiB page, XD
  q(PT + 5 * 8, 0x345000 | 3);                      // linear 0x40005000 → 0x345000
  q(PT + 6 * 8, 0x346000 | 3, 0x80000000);          // XD: still readable by the debugger
  q(PT + 7 * 8, 0x347000 | 3, 1);                   // a frame above 4 GiB: nothing there
  mem.write8(0x345123, 0xab);
  cpu.cr3 = PDPT;
  cpu.cr4 = CR4_PAE;
  cpu.cr0 |= CR0_PE | CR0_PG;
  loadPdptes(cpu, PDPT);
  assert.equal(debugLinearToPhysical(cpu, 0x40005123), 0x345123);
  assert.equal(debugByte(cpu, 0x40005123), 0xab);
  assert.equal(debugLinearToPhysical(cpu, 0x40006010), 0x346010);
  assert.equal(debugLinearToPhysical(cpu, 0x40200000 + 0x12345), 0x212345);
  assert.equal(debugLinearToPhysical(cpu, 0x40007000), -1);
  assert.equal(debugLinearToPhysical(cpu, 0x40008000), -1, 'PTE not present');
  assert.equal(debugLinearToPhysical(cpu, 0x00001000), -1, 'PDPTE 0 not present');
  // No side effects: the entries' accessed and dirty bits stay clear.
  assert.equal(mem.read32(PT + 5 * 8) & 0x60, 0);
  assert.equal(mem.read32(PD) & 0x60, 0);
});
