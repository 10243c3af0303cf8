// The checkpoints' CPU hash covers the whole architectural register state a replay can
// go wrong in: besides the integer core, EFER, the PAE PDPTE registers, the x87 unit and
// the SSE state (a replay whose XMM registers or x87 stack went their own way was seen
// only once the difference reached RAM).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attachX87 } from '../../src/cpu/attachX87.js';
import { Fpu } from '../../src/cpu/fpu/Fpu.js';
import { cpuHash } from '../../src/replay/stateHash.js';
import { makeCpu } from '../cpu/harness.js';

test('cpuHash changes with EFER, a PDPTE register, an x87 data register, TOP, the control word, MXCSR and an XMM register', () => {
  const { cpu } = makeCpu();
  attachX87(cpu);
  const fpu = cpu.fpu as Fpu;
  const base = cpuHash(cpu);
  assert.equal(cpuHash(cpu), base, 'the hash is a function of the state');
  const changes: [string, () => void, () => void][] = [
    ['EFER', () => { cpu.efer = 0x800; }, () => { cpu.efer = 0; }],
    ['PDPTE', () => { cpu.pdpte[3] = 0x1001; }, () => { cpu.pdpte[3] = 0; }],
    ['x87 R5', () => { fpu.regs[3 * 5 + 1] = 0x80000000; }, () => { fpu.regs[3 * 5 + 1] = 0; }],
    ['TOP', () => { fpu.top = 6; }, () => { fpu.top = 0; }],
    ['FPU control word', () => { fpu.cw ^= 0x0c00; }, () => { fpu.cw ^= 0x0c00; }],
    ['MXCSR', () => { fpu.mxcsr = 0x3f80; }, () => { fpu.mxcsr = 0x1f80; }],
    ['XMM7', () => { fpu.xmm32[7 * 4 + 2] = 1; }, () => { fpu.xmm32[7 * 4 + 2] = 0; }],
  ];
  for (const [what, change, undo] of changes) {
    change();
    assert.notEqual(cpuHash(cpu), base, what);
    undo();
    assert.equal(cpuHash(cpu), base, `${what} undone`);
  }
});
