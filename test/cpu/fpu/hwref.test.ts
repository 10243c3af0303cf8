// The unit against results recorded on real x87 hardware (hwref.ts: the cases; x87ref.c: the
// recorder; hwref-expected.txt: the data): status and tag words, register images, stored memory and
// EFLAGS for special operands through arithmetic, FPREM/FSCALE/FSQRT/FRNDINT/FXTRACT, comparisons,
// loads and stores, with exceptions masked and unmasked.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rig, hex } from './fpuHarness.js';
import { CHK_APPROX, HwCase, compact, hwCases, inputLine, recorded } from './hwref.js';
import { ratOfImage } from './oracle.js';

/** For CHK_APPROX cases: the same status (but C1) and tag words, registers within one ulp. */
function close(c: HwCase, want: string, got: string): boolean {
  const w = want.split(' '), g = got.split(' ');
  if (w.length !== g.length || (parseInt(w[0]!, 16) & ~0x200) !== (parseInt(g[0]!, 16) & ~0x200) || w[1] !== g[1]) return false;
  for (let i = 2; i < w.length; i++) {
    if (w[i] === g[i]) continue;
    const img = (s: string): [number, number, number] => [parseInt(s.slice(0, 4), 16), parseInt(s.slice(4, 12), 16), parseInt(s.slice(12), 16)];
    const a = img(w[i] === '=' ? '' : w[i]!), b = img(g[i] === '=' ? '' : g[i]!);
    if (w[i] === '=' || g[i] === '=' || w[i] === '-' || g[i] === '-' || (a[0] & 0x7fff) === 0x7fff) return false;
    const [an, ad] = ratOfImage(...a), [bn, bd] = ratOfImage(...b);
    const diff = an * bd - bn * ad; // (a - b) × ad × bd
    const e = Math.max(a[0] & 0x7fff, b[0] & 0x7fff) - 16383 - 63; // one ulp of the larger
    const ulp = e >= 0 ? [1n << BigInt(e), 1n] : [1n, 1n << BigInt(-e)];
    if ((diff < 0n ? -diff : diff) * ulp[1]! > ulp[0]! * ad * bd) return false;
  }
  return c !== undefined;
}

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
    if (got !== want[k] && !((c.check & CHK_APPROX) !== 0 && close(c, want[k]!, got))) fails.push(`${inputLine(c)}\n    hardware:  ${want[k]}\n    typevisor: ${got}`);
  }
  assert.equal(fails.length, 0, `${fails.length} of ${cases.length} cases differ:\n${fails.slice(0, 25).join('\n')}`);
});
