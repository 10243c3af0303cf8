// The unit against results recorded on real x87 hardware (hwref.ts: the cases; x87ref.c: the
// recorder; hwref-expected.txt: the data): status and tag words, register images, stored memory and
// EFLAGS for special operands through arithmetic, FPREM/FSCALE/FSQRT/FRNDINT/FXTRACT, comparisons,
// loads and stores, with exceptions masked and unmasked.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rig, hex } from './fpuHarness.js';
import { compact, hwCases, inputLine, recorded } from './hwref.js';

const MEM = 0x800;

test('results match those recorded on real x87 hardware, case by case', () => {
  const cases = hwCases();
  const want = recorded(cases);
  const r = new Rig();
  r.fpu.sse3 = true; // FISTTP
  const fails: string[] = [];
  for (let k = 0; k < cases.length; k++) {
    const c = cases[k]!;
    r.x(0xdb, 0xe3); // FNINIT
    for (let i = c.regs.length - 1; i >= 0; i--) r.ldExt(...c.regs[i]!);
    r.cw(c.cw);
    r.host.mem.set(c.mem, MEM);
    r.host.eflags = 0x0002;
    for (let i = 0; i < c.code.length; i += 2) r.x(c.code[i]!, c.code[i + 1]!, MEM);
    const f = r.fpu;
    const st = [0, 1, 2, 3].map((i) => r.stx(i));
    const mem = [...r.host.mem.subarray(MEM, MEM + 16)].map((b) => hex(b, 2)).join('');
    const got = compact(c, f.getSW(), f.getTW(), st, mem, r.host.eflags & 0x8d5);
    if (got !== want[k]) fails.push(`${inputLine(c)}\n    hardware:  ${want[k]}\n    typevisor: ${got}`);
  }
  assert.equal(fails.length, 0, `${fails.length} of ${cases.length} cases differ:\n${fails.slice(0, 25).join('\n')}`);
});
