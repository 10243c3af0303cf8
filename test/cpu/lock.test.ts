// LOCK is legal only on read-modify-write instructions with a memory destination;
// everywhere else it raises #UD (SDM vol. 2A, LOCK).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exec } from './insn.js';
import { EXC_UD } from '../../src/cpu/constants.js';

const lockable = [
  'lock add [bx], ax', 'lock or byte [bx], 1', 'lock adc [bx], cx', 'lock sbb [bx], cx', 'lock and [bx], dx',
  'lock sub word [bx], 3', 'lock xor [bx], si', 'lock xchg [bx], ax', 'lock not word [bx]', 'lock neg byte [bx]',
  'lock inc word [bx]', 'lock dec byte [bx]', 'lock bts word [bx], 3', 'lock btr [bx], ax', 'lock btc [bx], ax',
  'lock cmpxchg [bx], cx', 'lock xadd [bx], ax', 'lock cmpxchg8b [bx]', 'lock add dword [ebx], eax',
];
const notLockable = [
  'lock add ax, bx', 'lock add ax, [bx]', 'lock mov [bx], ax', 'lock cmp [bx], ax', 'lock cmp word [bx], 1',
  'lock nop', 'lock inc ax', 'lock bt [bx], ax', 'lock test [bx], ax', 'lock xchg ax, bx', 'lock mul word [bx]',
];

test('LOCK on a memory read-modify-write runs', () => {
  for (const src of lockable) {
    const r = exec(src, { regs: { ebx: 0x100 } });
    assert.equal(r.fault, -1, src);
  }
});

test('LOCK anywhere else is #UD, before the instruction changes anything', () => {
  for (const src of notLockable) {
    const r = exec(src, { regs: { eax: 5, ebx: 0x100 } });
    assert.equal(r.fault, EXC_UD, src);
    assert.equal(r.reg('eax'), 5, src);
  }
});
