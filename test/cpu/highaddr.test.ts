// Read-modify-write instructions on memory operands at linear addresses of 2 GiB and
// above (negative as int32), where Linux keeps all its data. A regression test: the
// register/memory choice once keyed on the sign of the linear address.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exec } from './insn.js';
import { CR0_PG, CR4_PSE } from '../../src/cpu/constants.js';
import type { Cpu } from '../../src/cpu/Cpu.js';
import type { PhysicalMemory } from '../../src/memory/PhysicalMemory.js';

/** Identity-map the first 4 MiB and map 0xC0000000 → physical 0 with PSE pages. */
function highMap(cpu: Cpu, mem: PhysicalMemory): void {
  const pd = 0x300000;
  mem.write32(pd, 0x00000083);
  mem.write32(pd + (0x300 << 2), 0x00000083);
  cpu.cr3 = pd;
  cpu.cr4 |= CR4_PSE;
  cpu.cr0 |= CR0_PG;
  cpu.flushTlb(true);
  mem.write32(0x1000, 0x11223344);
}

const ADDR = '0xC0001000';

function run(src: string, regs: Record<string, number> = {}) {
  const r = exec(src, { mode: 'flat32', regs, setup: highMap });
  assert.equal(r.fault, -1, `fault ${r.fault}`);
  return { r, mem: r.mem.read32(0x1000) >>> 0 };
}

test('CMPXCHG m32 at a high address compares and stores memory, not a register', () => {
  const { r, mem } = run(`cmpxchg [${ADDR}], edi`, { eax: 0x11223344, edi: 0xcafef00d, ebx: 7 });
  assert.equal(mem, 0xcafef00d);
  assert.equal(r.reg('ebx'), 7);
  assert.equal(r.flags & 0x40, 0x40);
  const miss = run(`cmpxchg [${ADDR}], edi`, { eax: 1, edi: 2 });
  assert.equal(miss.r.reg('eax'), 0x11223344);
  assert.equal(miss.mem, 0x11223344);
});

test('XCHG, XADD, NOT, NEG, INC, ADD, SHL, BTS on high memory', () => {
  assert.equal(run(`xchg [${ADDR}], ecx`, { ecx: 5 }).mem, 5);
  assert.equal(run(`xadd [${ADDR}], ecx`, { ecx: 1 }).mem, 0x11223345);
  assert.equal(run(`not dword [${ADDR}]`).mem, (~0x11223344) >>> 0);
  assert.equal(run(`neg dword [${ADDR}]`).mem, (-0x11223344) >>> 0);
  assert.equal(run(`inc dword [${ADDR}]`).mem, 0x11223345);
  assert.equal(run(`add dword [${ADDR}], 0x10`).mem, 0x11223354);
  assert.equal(run(`shl dword [${ADDR}], 4`).mem, 0x12233440);
  assert.equal(run(`bts dword [${ADDR}], 31`).mem, 0x91223344);
  assert.equal(run(`xchg [${ADDR}], cl`, { ecx: 0x99 }).mem, 0x11223399);
});
