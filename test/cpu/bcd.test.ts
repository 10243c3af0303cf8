// DAA DAS AAA AAS AAM AAD (SDM vol. 2A pseudo-code). Flags the SDM calls undefined are
// masked out, except OF after DAA/DAS and OF/AF/CF after AAM/AAD, which assert the
// P6 behaviour documented in src/cpu/bcd.ts (cleared).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exec, CF, PF, AF, ZF, SF, OF } from './insn.js';

const DEF = CF | AF | SF | ZF | PF;

function check(src: string, ax: number, flags: number, wantAx: number, mask: number, want: number): void {
  const r = exec(src, { regs: { eax: ax }, flags });
  assert.equal(r.fault, -1);
  assert.equal(r.reg('eax') & 0xffff, wantAx, `${src}: AX=0x${(r.reg('eax') & 0xffff).toString(16)}`);
  assert.equal(r.flags & mask, want, `${src}: flags 0x${(r.flags & mask).toString(16)} want 0x${want.toString(16)}`);
}

test('DAA after ADD: 79 + 35 = 114 (AL=0x14, CF=1)', () => {
  check('add al, 0x35\ndaa', 0x79, 0, 0x14, DEF | OF, CF | AF | PF);
});
test('DAA after ADD with a nibble carry: 38 + 49 = 87 (AF from the ADD)', () => {
  check('add al, 0x49\ndaa', 0x38, 0, 0x87, DEF | OF, AF | SF | PF);
});
test('DAA on 0x9A: both adjustments, result 0 with CF', () => {
  check('daa', 0x9a, 0, 0x00, DEF | OF, CF | AF | ZF | PF);
});
test('DAA with only CF set adds 0x60', () => {
  check('daa', 0x00, CF, 0x60, DEF, CF | PF);
});
test('DAA on 0x99 with clear flags does nothing', () => {
  check('daa', 0x99, OF, 0x99, DEF | OF, SF | PF);
});
test('DAS after SUB: 35 - 47 = 88 borrow 1', () => {
  check('sub al, 0x47\ndas', 0x35, 0, 0x88, DEF | OF, CF | AF | SF | PF);
});
test('DAS: AL=05 with AF: AL-6 borrows, CF stays set (no second adjustment)', () => {
  check('das', 0x05, AF, 0xff, DEF | OF, CF | AF | SF | PF);
});
test('DAS: AL=10 with AF: no borrow, CF=0', () => {
  check('das', 0x10, AF, 0x0a, DEF, AF | PF);
});
test('DAS with CF only subtracts 0x60', () => {
  check('das', 0x70, CF, 0x10, DEF, CF);
});

test('AAA adjusts AX by 0x106 and masks AL', () => {
  check('aaa', 0x000f, 0, 0x0105, CF | AF, CF | AF);
  check('aaa', 0x00fb, 0, 0x0201, CF | AF, CF | AF); // AX + 106h carries into AH twice
  check('aaa', 0x0102, AF, 0x0208, CF | AF, CF | AF);
  check('aaa', 0x1235, CF, 0x1205, CF | AF, 0);
});
test('AAS adjusts AX by -6, AH by -1 and masks AL', () => {
  check('aas', 0x0200, AF, 0x000a, CF | AF, CF | AF);
  check('aas', 0x000b, 0, 0xff05, CF | AF, CF | AF);
  check('aas', 0x0105, CF, 0x0105, CF | AF, 0);
});

test('AAM splits AL by the base', () => {
  check('aam', 0x004f, 0, 0x0709, SF | ZF | PF | CF | AF | OF, PF);
  check('aam 16', 0x00ab, CF | AF | OF, 0x0a0b, SF | ZF | PF | CF | AF | OF, 0);
  check('aam', 0x5500, 0, 0x0000, SF | ZF | PF, ZF | PF);
});
test('AAM 0 raises #DE with AX unchanged', () => {
  const r = exec('db 0xd4, 0x00', { regs: { eax: 0x1234 } });
  assert.equal(r.fault, 0);
  assert.equal(r.reg('eax'), 0x1234);
  assert.equal(r.cpu.eip, 0);
});
test('AAD combines AH*base + AL into AL and clears AH', () => {
  check('aad', 0x0709, 0, 0x004f, SF | ZF | PF | CF | AF | OF, 0);
  check('aad 16', 0x0a0b, 0, 0x00ab, SF | ZF | PF, SF);
  check('aad', 0x1909, 0, 0x0003, SF | ZF | PF, PF);
  check('db 0xd5, 0x00', 0x0512, 0, 0x0012, SF | ZF | PF, PF);
});
