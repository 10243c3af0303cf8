// Flag instructions, SALC, BOUND and the deliberate #UD opcodes (SDM vol. 2).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exec, DATA_AT, CF, ZF, SF, OF, AF, PF, DF, ARITH } from './insn.js';

test('CLC/STC/CMC change only CF, also after a lazy-flag instruction', () => {
  let r = exec('stc', { flags: ZF | OF });
  assert.equal(r.flags & ARITH, CF | ZF | OF);
  r = exec('clc', { flags: ARITH });
  assert.equal(r.flags & ARITH, ARITH & ~CF);
  r = exec('cmc', { flags: SF });
  assert.equal(r.flags & ARITH, SF | CF);
  r = exec('cmc', { flags: CF | PF });
  assert.equal(r.flags & ARITH, PF);
  // 0xFF + 1 = 0 (lazy: CF ZF AF PF set); CMC flips CF and keeps the rest.
  r = exec('add al, 1\ncmc', { regs: { eax: 0xff } });
  assert.equal(r.flags & ARITH, ZF | AF | PF);
  r = exec('add al, 1\nstc\ncmc\ncmc', { regs: { eax: 0x7f } });
  assert.equal(r.flags & ARITH, CF | OF | SF | AF);
});

test('CLD/STD set and clear DF only', () => {
  let r = exec('std', { flags: CF });
  assert.equal(r.flags & (DF | ARITH), DF | CF);
  r = exec('cld', { flags: DF | ZF });
  assert.equal(r.flags & (DF | ARITH), ZF);
});

test('SALC sets AL from CF without touching flags', () => {
  let r = exec('db 0xd6', { regs: { eax: 0x1234 }, flags: CF | ZF });
  assert.equal(r.reg('eax'), 0x12ff);
  assert.equal(r.flags & ARITH, CF | ZF);
  r = exec('db 0xd6', { regs: { eax: 0x1234 } });
  assert.equal(r.reg('eax'), 0x1200);
});

test('BOUND passes within the inclusive signed range, #BR outside', () => {
  const setup16 = (_c: unknown, m: { write32: (a: number, v: number) => void }) => m.write32(DATA_AT + 0x10, (5 << 16) | 0xfffe); // [-2, 5]
  for (const [v, ok] of [[-2, true], [5, true], [0, true], [-3, false], [6, false]] as const) {
    const r = exec('bound ax, [0x10]', { regs: { eax: v & 0xffff }, setup: setup16 });
    assert.equal(r.fault, ok ? -1 : 5, `AX=${v}`);
    if (!ok) assert.equal(r.cpu.eip, 0, 'EIP at the BOUND instruction');
  }
  const setup32 = (_c: unknown, m: { write32: (a: number, v: number) => void }) => { m.write32(DATA_AT + 0x20, 0x80000000 | 0); m.write32(DATA_AT + 0x24, 0x10); };
  for (const [v, ok] of [[0x80000000, true], [0x10, true], [0x11, false], [0x7fffffff, false], [-1, true]] as const) {
    const r = exec('bound eax, [0x20]', { regs: { eax: v }, setup: setup32 });
    assert.equal(r.fault, ok ? -1 : 5, `EAX=${v}`);
  }
});

test('BOUND with a register operand is #UD', () => {
  const r = exec('db 0x62, 0xc1');
  assert.equal(r.fault, 6);
});

test('UD1 (0F B9) and UD0 (0F FF) raise #UD', () => {
  assert.equal(exec('db 0x0f, 0xb9, 0xc0').fault, 6);
  assert.equal(exec('db 0x0f, 0xff, 0xc0').fault, 6);
});
