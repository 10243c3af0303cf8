// BT/BTS/BTR/BTC, BSF/BSR, BSWAP, CMPXCHG, CMPXCHG8B, XADD (SDM vol. 2A-2B).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exec, enablePaging, DATA_AT, CF, ZF, SF, OF, AF, PF, ARITH } from './insn.js';

const M = DATA_AT;

test('BT/BTS/BTR/BTC register forms: offset masked to the operand width, CF = old bit', () => {
  let r = exec('bt ax, 3', { regs: { eax: 0x0008 } });
  assert.equal(r.flags & CF, CF);
  r = exec('bt eax, 35', { regs: { eax: 0x0008 } });
  assert.equal(r.flags & CF, CF);
  r = exec('bts eax, ecx', { regs: { eax: 0, ecx: 33 }, flags: CF });
  assert.equal(r.reg('eax'), 2);
  assert.equal(r.flags & CF, 0);
  r = exec('btr ax, cx', { regs: { eax: 0xffff0001, ecx: 0x10 } });
  assert.equal(r.reg('eax'), 0xffff0000);
  assert.equal(r.flags & CF, CF);
  r = exec('btc ebx, 31', { regs: { ebx: 0x80000000 } });
  assert.equal(r.reg('ebx'), 0);
  assert.equal(r.flags & CF, CF);
  r = exec('btc bx, 15', { regs: { ebx: 0x12340000 } });
  assert.equal(r.reg('ebx'), 0x12348000);
  assert.equal(r.flags & CF, 0);
});

test('BT leaves ZF alone', () => {
  const r = exec('bt eax, 0', { regs: { eax: 1 }, flags: ZF | SF });
  assert.equal(r.flags & (CF | ZF | SF), CF | ZF | SF);
});

test('BT memory with register offset addresses beyond the operand (signed, floor division)', () => {
  const setup = (_c: unknown, m: { u8: Uint8Array }) => { m.u8[M + 0x14] = 0x08; m.u8[M + 0x0d] = 0x00; };
  let r = exec('bt dword [0x10], eax', { regs: { eax: 35 }, setup });
  assert.equal(r.flags & CF, CF);
  r = exec('bts dword [0x10], eax', { regs: { eax: 0xffffffff }, setup });
  assert.equal(r.mem.u8[M + 0x0f], 0x80, 'bit -1 is bit 31 of the dword before');
  assert.equal(r.flags & CF, 0);
  r = exec('bts word [0x10], ax', { regs: { eax: 0xffef }, setup }); // -17: word at -4, bit 15
  assert.equal(r.mem.u8[M + 0x0d], 0x80);
  r = exec('btr word [0x10], ax', { regs: { eax: 0x100 }, setup: (_c, m) => { m.u8[M + 0x30] = 0xff; } }); // +256 bits = +32 bytes
  assert.equal(r.mem.u8[M + 0x30], 0xfe);
  assert.equal(r.flags & CF, CF);
  r = exec('db 0x0f, 0xba, 0x3e, 0x10, 0x00, 0x23', { setup: (_c, m) => { m.u8[M + 0x14] = 0x08; } }); // btc word [0x10], 0x23: masked to 3
  assert.equal(r.mem.u8[M + 0x10], 0x08, 'imm form masks the offset and stays in the operand');
  assert.equal(r.mem.u8[M + 0x14], 0x08);
});

test('group 8 /0-/3 is #UD', () => {
  assert.equal(exec('db 0x0f, 0xba, 0xc0, 0x01').fault, 6);
});

test('BSF/BSR find the lowest/highest set bit; a zero source sets ZF and keeps the destination', () => {
  let r = exec('bsf eax, ebx', { regs: { eax: 0xdeadbeef, ebx: 0x00801000 }, flags: ZF });
  assert.equal(r.reg('eax'), 12);
  assert.equal(r.flags & ZF, 0);
  r = exec('bsr eax, ebx', { regs: { ebx: 0x00801000 } });
  assert.equal(r.reg('eax'), 23);
  r = exec('bsr eax, ebx', { regs: { ebx: 0x80000000 } });
  assert.equal(r.reg('eax'), 31);
  r = exec('bsf eax, ebx', { regs: { eax: 0xdeadbeef, ebx: 0 } });
  assert.equal(r.reg('eax'), 0xdeadbeef);
  assert.equal(r.flags & ZF, ZF);
  r = exec('bsr ax, bx', { regs: { eax: 0xdead0000, ebx: 0xffff0001 } });
  assert.equal(r.reg('eax'), 0xdead0000);
  r = exec('bsf ax, bx', { regs: { eax: 0xdeadbeef, ebx: 0x8000 } });
  assert.equal(r.reg('eax'), 0xdead000f);
  r = exec('bsf ax, [0x10]', { regs: { eax: 0x5555 }, setup: (_c, m) => { m.u8[M + 0x10] = 0; m.u8[M + 0x11] = 0; } });
  assert.equal(r.reg('eax'), 0x5555);
  assert.equal(r.flags & ZF, ZF);
});

test('BSWAP reverses the bytes; the 16-bit form zeroes the low word (hardware behaviour)', () => {
  let r = exec('bswap eax', { mode: 'flat32', regs: { eax: 0x12345678 } });
  assert.equal(r.reg('eax'), 0x78563412);
  r = exec('bswap edi', { regs: { edi: 0x80000001 } });
  assert.equal(r.reg('edi'), 0x01000080);
  r = exec('db 0x66, 0x0f, 0xc9', { mode: 'flat32', regs: { ecx: 0x12345678 } });
  assert.equal(r.reg('ecx'), 0x12340000);
});

test('CMPXCHG success: destination = source, ZF=1', () => {
  const r = exec('cmpxchg ebx, ecx', { regs: { eax: 5, ebx: 5, ecx: 9 } });
  assert.equal(r.reg('ebx'), 9);
  assert.equal(r.reg('eax'), 5);
  assert.equal(r.flags & ARITH, ZF | PF);
});

test('CMPXCHG failure: accumulator = destination, flags of CMP acc,dest', () => {
  const r = exec('cmpxchg ebx, ecx', { regs: { eax: 4, ebx: 5, ecx: 9 } });
  assert.equal(r.reg('ebx'), 5);
  assert.equal(r.reg('eax'), 5);
  // 4 - 5 = 0xFFFFFFFF: CF, SF, AF (borrow from bit 4), PF (0xFF), no OF.
  assert.equal(r.flags & ARITH, CF | SF | AF | PF);
});

test('CMPXCHG byte/word memory forms', () => {
  let r = exec('cmpxchg [0x10], cl', { regs: { eax: 0x78, ecx: 0xaa }, setup: (_c, m) => { m.u8[M + 0x10] = 0x78; } });
  assert.equal(r.mem.u8[M + 0x10], 0xaa);
  assert.equal(r.flags & ZF, ZF);
  r = exec('cmpxchg [0x10], cx', { regs: { eax: 0xffff8000, ecx: 0x1111 }, setup: (_c, m) => { m.write32(M + 0x10, 0x7fff); } });
  assert.equal(r.mem.read32(M + 0x10), 0x7fff);
  assert.equal(r.reg('eax'), 0xffff7fff);
  // 0x8000 - 0x7FFF = 1: signed overflow.
  assert.equal(r.flags & (CF | OF | ZF | SF), OF);
});

test('CMPXCHG always writes its destination: a failing compare on a read-only page faults', () => {
  const r = exec('cmpxchg [0x61000], ecx', {
    mode: 'flat32', regs: { eax: 1, ecx: 2 },
    setup: (c, m) => { m.write32(0x61000, 7); enablePaging(c, m, [], [0x61000]); c.cr0 |= 1 << 16; },
  });
  assert.equal(r.fault, 14);
  assert.equal(r.reg('eax'), 1, 'nothing committed');
});

test('CMPXCHG8B success and failure', () => {
  const setup = (_c: unknown, m: { write32: (a: number, v: number) => void }) => { m.write32(M + 0x10, 0x11111111); m.write32(M + 0x14, 0x22222222); };
  let r = exec('cmpxchg8b [0x10]', { regs: { eax: 0x11111111, edx: 0x22222222, ebx: 0xaaaaaaaa, ecx: 0xbbbbbbbb }, flags: CF | SF, setup });
  assert.equal(r.mem.read32(M + 0x10) >>> 0, 0xaaaaaaaa);
  assert.equal(r.mem.read32(M + 0x14) >>> 0, 0xbbbbbbbb);
  assert.equal(r.flags & ARITH, ZF | CF | SF, 'only ZF changes');
  r = exec('cmpxchg8b [0x10]', { regs: { eax: 0x11111111, edx: 0x22222223, ebx: 0xaaaaaaaa, ecx: 0xbbbbbbbb }, flags: ZF | OF, setup });
  assert.equal(r.reg('eax'), 0x11111111);
  assert.equal(r.reg('edx'), 0x22222222);
  assert.equal(r.mem.read32(M + 0x10), 0x11111111);
  assert.equal(r.flags & ARITH, OF);
});

test('CMPXCHG8B with a register operand or another /reg is #UD', () => {
  assert.equal(exec('db 0x0f, 0xc7, 0xc8').fault, 6);
  assert.equal(exec('db 0x0f, 0xc7, 0x06, 0x10, 0x00').fault, 6);
});

test('XADD exchanges and adds with ADD flags', () => {
  let r = exec('xadd eax, ebx', { regs: { eax: 1, ebx: 2 } });
  assert.equal(r.reg('eax'), 3);
  assert.equal(r.reg('ebx'), 1);
  assert.equal(r.flags & ARITH, PF);
  r = exec('xadd al, al', { regs: { eax: 0x80 } });
  assert.equal(r.reg('eax'), 0x00, 'same register: the sum wins');
  assert.equal(r.flags & ARITH, CF | OF | ZF | PF);
  r = exec('xadd [0x10], cx', { regs: { ecx: 0x0001 }, setup: (_c, m) => { m.write32(M + 0x10, 0xffff); } });
  assert.equal(r.mem.read32(M + 0x10), 0);
  assert.equal(r.reg('ecx'), 0xffff);
  assert.equal(r.flags & ARITH, CF | ZF | AF | PF);
});
