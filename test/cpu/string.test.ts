// String instructions (SDM vol. 2B MOVS/CMPS/SCAS/LODS/STOS/INS/OUTS, REP prefixes):
// direction, address size, segment override, termination conditions, and restart of a
// repeated instruction after a fault in the middle of the string.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exec, enablePaging, DATA_AT, CF, ZF, SF, OF, AF, PF, DF, ARITH } from './insn.js';

const fill = (mem: { u8: Uint8Array }, at: number, bytes: number[] | string): void => {
  const b = typeof bytes === 'string' ? [...bytes].map((ch) => ch.charCodeAt(0)) : bytes;
  mem.u8.set(b, at);
};

test('MOVSB forward copies one byte and advances SI/DI', () => {
  const r = exec('movsb', { regs: { esi: 0x10, edi: 0x20 }, setup: (_c, m) => fill(m, DATA_AT + 0x10, [0x5a]) });
  assert.equal(r.mem.u8[DATA_AT + 0x20], 0x5a);
  assert.equal(r.reg('esi'), 0x11);
  assert.equal(r.reg('edi'), 0x21);
});

test('REP MOVSW backward (DF=1) copies from high to low and leaves CX=0', () => {
  const r = exec('rep movsw', {
    flags: DF, regs: { esi: 0x108, edi: 0x208, ecx: 5 },
    setup: (_c, m) => fill(m, DATA_AT + 0x100, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
  });
  assert.deepEqual([...r.mem.u8.subarray(DATA_AT + 0x200, DATA_AT + 0x20a)], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(r.reg('ecx'), 0);
  assert.equal(r.reg('esi'), 0x108 - 10);
  assert.equal(r.reg('edi'), 0x208 - 10);
});

test('REP MOVSD (66 prefix in real mode) copies 32 KiB across pages, in several steps', () => {
  const r = exec('rep movsd', {
    regs: { esi: 0x0004, edi: 0x8000, ecx: 0x1ffe },
    setup: (_c, m) => { for (let i = 0; i < 0x7ff8; i++) m.u8[DATA_AT + 4 + i] = (i * 7 + 3) & 0xff; },
  });
  for (let i = 0; i < 0x7ff8; i++) assert.equal(r.mem.u8[DATA_AT + 0x8000 + i], (i * 7 + 3) & 0xff, `byte ${i}`);
  assert.equal(r.reg('ecx'), 0);
  assert.equal(r.reg('esi'), 0x7ffc);
  assert.equal(r.reg('edi'), 0xfff8);
  assert.ok(r.steps > 1, 'a long REP yields and re-executes');
});

test('REP MOVSB with destination one above source replicates the first byte (no memmove)', () => {
  const r = exec('rep movsb', { regs: { esi: 0x40, edi: 0x41, ecx: 8 }, setup: (_c, m) => fill(m, DATA_AT + 0x40, [0xab, 1, 2, 3, 4, 5, 6, 7, 8]) });
  assert.deepEqual([...r.mem.u8.subarray(DATA_AT + 0x40, DATA_AT + 0x49)], Array(9).fill(0xab));
});

test('MOVS source segment override (ES:SI source, ES:DI destination)', () => {
  const r = exec('fs movsb', {
    regs: { esi: 0x10, edi: 0x20 },
    setup: (c, m) => { c.loadRealSeg(4, 0x4000); fill(m, 0x40010, [0x77]); fill(m, DATA_AT + 0x10, [0x11]); },
  });
  assert.equal(r.mem.u8[DATA_AT + 0x20], 0x77);
});

test('REP STOSB / STOSW / STOSD fill forward; STOSD backward', () => {
  let r = exec('rep stosb', { regs: { eax: 0x1234_56cd, edi: 0x101, ecx: 0x1003 } });
  assert.ok(r.mem.u8.subarray(DATA_AT + 0x101, DATA_AT + 0x1104).every((b) => b === 0xcd));
  assert.equal(r.mem.u8[DATA_AT + 0x1104], 0);
  assert.equal(r.mem.u8[DATA_AT + 0x100], 0);
  assert.equal(r.reg('edi'), 0x1104);
  r = exec('rep stosw', { regs: { eax: 0xbeef, edi: 0x11, ecx: 3 } });
  assert.deepEqual([...r.mem.u8.subarray(DATA_AT + 0x11, DATA_AT + 0x17)], [0xef, 0xbe, 0xef, 0xbe, 0xef, 0xbe]);
  r = exec('rep stosd', { regs: { eax: 0x11223344, edi: 0x2ffe, ecx: 0x402 } });
  for (let i = 0; i < 0x402; i++) assert.equal(r.mem.read32(DATA_AT + 0x2ffe + 4 * i), 0x11223344);
  r = exec('rep stosd', { flags: DF, regs: { eax: 0xa1b2c3d4, edi: 0x108, ecx: 3 } });
  assert.equal(r.mem.read32(DATA_AT + 0x100) >>> 0, 0xa1b2c3d4);
  assert.equal(r.mem.read32(DATA_AT + 0x108) >>> 0, 0xa1b2c3d4);
  assert.equal(r.mem.read32(DATA_AT + 0xfc), 0);
  assert.equal(r.reg('edi'), 0xfc);
});

test('REP with CX=0 does nothing and leaves flags alone', () => {
  const r = exec('repe cmpsb\nrep movsb', { flags: CF | ZF | OF, regs: { esi: 5, edi: 9, ecx: 0 } });
  assert.equal(r.flags & ARITH, CF | ZF | OF);
  assert.equal(r.reg('esi'), 5);
  assert.equal(r.reg('edi'), 9);
});

test('REPE CMPSB stops after the first mismatch with flags of that compare', () => {
  const r = exec('repe cmpsb', {
    regs: { esi: 0x10, edi: 0x20, ecx: 6 },
    setup: (_c, m) => { fill(m, DATA_AT + 0x10, 'abcdef'); fill(m, DATA_AT + 0x20, 'abcxef'); },
  });
  assert.equal(r.reg('ecx'), 2);
  assert.equal(r.reg('esi'), 0x14);
  assert.equal(r.reg('edi'), 0x24);
  // 'd' - 'x' = 0x64 - 0x78 = 0xEC: borrow, negative, no overflow, AF (4 < 8), parity of 0xEC (5 bits) odd.
  assert.equal(r.flags & ARITH, CF | SF | AF);
});

test('REPE CMPSW runs to the end on equal strings (ZF=1, CX=0)', () => {
  const r = exec('repe cmpsw', {
    regs: { esi: 0x10, edi: 0x20, ecx: 3 },
    setup: (_c, m) => { fill(m, DATA_AT + 0x10, 'abcdef'); fill(m, DATA_AT + 0x20, 'abcdef'); },
  });
  assert.equal(r.reg('ecx'), 0);
  assert.equal(r.flags & ARITH, ZF | PF);
});

test('REPNE CMPSB stops at the first equal pair', () => {
  const r = exec('repne cmpsb', {
    regs: { esi: 0x10, edi: 0x20, ecx: 10 },
    setup: (_c, m) => { fill(m, DATA_AT + 0x10, 'abcdef'); fill(m, DATA_AT + 0x20, 'xyzdef'); },
  });
  assert.equal(r.reg('ecx'), 6);
  assert.equal(r.reg('esi'), 0x14);
  assert.ok(r.flags & ZF);
});

test('REPNE SCASB finds the terminating zero (strlen idiom)', () => {
  const r = exec('repne scasb', { regs: { eax: 0, edi: 0x30, ecx: 0xffff }, setup: (_c, m) => fill(m, DATA_AT + 0x30, 'hello\0') });
  assert.equal(r.reg('ecx'), 0xffff - 6);
  assert.equal(r.reg('edi'), 0x36);
  assert.equal(r.flags & ARITH, ZF | PF);
});

test('SCASD compares EAX with ES:EDI: 0x80000000 - 1 overflows', () => {
  const r = exec('scasd', { regs: { eax: 0x80000000, edi: 0x40 }, setup: (_c, m) => m.write32(DATA_AT + 0x40, 1) });
  assert.equal(r.flags & (CF | OF | SF | ZF), OF);
  assert.equal(r.reg('edi'), 0x44);
});

test('REPE SCASW stops when a word differs from AX', () => {
  const r = exec('repe scasw', {
    regs: { eax: 0x4141, edi: 0x50, ecx: 8 },
    setup: (_c, m) => fill(m, DATA_AT + 0x50, 'AAAAAB'),
  });
  assert.equal(r.reg('ecx'), 5);
  assert.equal(r.reg('edi'), 0x56);
  assert.equal(r.flags & ZF, 0);
});

test('LODSB/LODSW/LODSD load the accumulator; DF=1 walks down', () => {
  let r = exec('lodsb\nlodsw', { regs: { eax: 0xffffffff, esi: 0x10 }, setup: (_c, m) => fill(m, DATA_AT + 0x10, [0x12, 0x34, 0x56]) });
  assert.equal(r.reg('eax'), 0xffff5634);
  assert.equal(r.reg('esi'), 0x13);
  r = exec('lodsd', { flags: DF, regs: { esi: 0x10 }, setup: (_c, m) => m.write32(DATA_AT + 0x10, 0xcafef00d | 0) });
  assert.equal(r.reg('eax'), 0xcafef00d);
  assert.equal(r.reg('esi'), 0x0c);
  r = exec('es lodsb', { regs: { esi: 0x10 }, setup: (c, m) => { c.loadRealSeg(0, 0x5000); fill(m, 0x50010, [0x99]); } });
  assert.equal(r.reg('eax') & 0xff, 0x99);
});

test('16-bit address size wraps SI/DI and leaves the high halves alone', () => {
  const r = exec('a16 rep movsb', {
    mode: 'flat32',
    regs: { esi: 0x1234fffe, edi: 0x5678fffe, ecx: 0xabcd0003 },
    setup: (_c, m) => { m.u8[0xfffe] = 1; m.u8[0xffff] = 2; m.u8[0] = 3; },
  });
  assert.equal(r.reg('esi'), 0x12340001);
  assert.equal(r.reg('edi'), 0x56780001);
  assert.equal(r.reg('ecx'), 0xabcd0000);
});

test('32-bit address size uses ESI/EDI/ECX', () => {
  const r = exec('rep movsd', {
    mode: 'flat32',
    regs: { esi: 0x100000, edi: 0x200000, ecx: 0x10001 },
    setup: (_c, m) => { for (let i = 0; i < 0x40004; i += 4) m.write32(0x100000 + i, i ^ 0x5a5a5a5a); },
  });
  assert.equal(r.reg('ecx'), 0);
  assert.equal(r.reg('esi'), 0x140004);
  assert.equal(r.reg('edi'), 0x240004);
  for (let i = 0; i < 0x40004; i += 4) assert.equal(r.mem.read32(0x200000 + i), i ^ 0x5a5a5a5a);
});

test('REP MOVSB faulting on a not-present page stops at that element and resumes', () => {
  let pagingReady = false;
  const r = exec('rep movsb', {
    mode: 'flat32',
    regs: { esi: 0x80ff8, edi: 0x90ff0, ecx: 0x20 },
    setup: (c, m) => {
      for (let i = 0; i < 0x20; i++) m.u8[0x80ff8 + i] = i + 1;
      enablePaging(c, m, [0x91000]);
      pagingReady = true;
    },
  });
  assert.ok(pagingReady);
  assert.equal(r.fault, 14);
  assert.equal(r.error, 2); // not present, write, supervisor
  assert.equal(r.cpu.cr2 >>> 0, 0x91000);
  assert.equal(r.reg('ecx'), 0x10);
  assert.equal(r.reg('esi'), 0x81008);
  assert.equal(r.reg('edi'), 0x91000);
  assert.equal(r.cpu.eip, 0x10000, 'EIP at the REP instruction');
  for (let i = 0; i < 0x10; i++) assert.equal(r.mem.u8[0x90ff0 + i], i + 1);
  // Map the page and re-execute: the copy completes.
  r.mem.write32(0x2000 + 0x91 * 4, 0x91000 | 7);
  r.cpu.step();
  assert.equal(r.cpu.regs[1], 0);
  for (let i = 0; i < 0x20; i++) assert.equal(r.mem.u8[0x90ff0 + i], i + 1);
  assert.equal(r.cpu.regs[7], 0x91010);
});

test('REP STOSD faulting on a read-only page with CR0.WP for supervisor writes', () => {
  const r = exec('rep stosd', {
    mode: 'flat32',
    regs: { eax: 0x01020304, edi: 0x60ff8, ecx: 8 },
    setup: (c, m) => { enablePaging(c, m, [], [0x61000]); c.cr0 |= 1 << 16; },
  });
  assert.equal(r.fault, 14);
  assert.equal(r.error, 3); // present, write
  assert.equal(r.reg('ecx'), 6);
  assert.equal(r.reg('edi'), 0x61000);
  assert.equal(r.mem.read32(0x60ffc), 0x01020304);
  assert.equal(r.mem.read32(0x61000), 0);
});

test('REP MOVSW in real mode faults #GP on a word at offset 0xFFFF with CX/SI at that element', () => {
  const r = exec('rep movsw', { regs: { esi: 0xfffb, edi: 0x100, ecx: 5 } });
  assert.equal(r.fault, 13);
  assert.equal(r.reg('ecx'), 3);
  assert.equal(r.reg('esi'), 0xffff);
  assert.equal(r.reg('edi'), 0x104);
});

test('REP MOVSD with paging: source and destination pages spanning several pages', () => {
  const r = exec('rep movsd', {
    mode: 'flat32',
    regs: { esi: 0x100802, edi: 0x180406, ecx: 3000 },
    setup: (c, m) => { for (let i = 0; i < 12000; i++) m.u8[0x100802 + i] = (i * 13) & 0xff; enablePaging(c, m); },
  });
  assert.equal(r.fault, -1);
  for (let i = 0; i < 12000; i++) assert.equal(r.mem.u8[0x180406 + i], (i * 13) & 0xff);
});

test('REP OUTSB / REP INSW go through the port bus element by element', () => {
  const out: number[] = [];
  let next = 0x100;
  const r = exec('rep outsb\nmov cx, 3\nrep insw', {
    regs: { edx: 0x300, esi: 0x10, edi: 0x40, ecx: 4 },
    setup: (_c, m, io) => {
      fill(m, DATA_AT + 0x10, 'PING');
      io.register(0x300, 1, 'test', { read: (_p, s) => { assert.equal(s, 2); return next++; }, write: (_p, s, v) => { assert.equal(s, 1); out.push(v); } });
    },
  });
  assert.equal(String.fromCharCode(...out), 'PING');
  assert.deepEqual([...r.mem.u8.subarray(DATA_AT + 0x40, DATA_AT + 0x46)], [0x00, 0x01, 0x01, 0x01, 0x02, 0x01]);
  assert.equal(r.reg('edi'), 0x46);
  assert.equal(r.reg('esi'), 0x14);
});

test('INSB checks the destination before reading the port (no data lost on a fault)', () => {
  let reads = 0;
  const r = exec('insb', {
    mode: 'flat32',
    regs: { edx: 0x310, edi: 0x70000 },
    setup: (c, m, io) => {
      io.register(0x310, 1, 'test', { read: () => { reads++; return 0x42; }, write: () => {} });
      enablePaging(c, m, [0x70000]);
    },
  });
  assert.equal(r.fault, 14);
  assert.equal(reads, 0);
});

test('STD; REP MOVSD copies downwards across pages (32-bit, paging)', () => {
  const r = exec('std\nrep movsd', {
    mode: 'flat32',
    regs: { esi: 0x102ffe, edi: 0x183002, ecx: 3000 },
    setup: (c, m) => { for (let i = 0; i < 12000; i++) m.u8[0x102ffe + 4 - 12000 + i] = (i * 11) & 0xff; enablePaging(c, m); },
  });
  assert.equal(r.fault, -1);
  for (let i = 0; i < 12000; i++) assert.equal(r.mem.u8[0x183002 + 4 - 12000 + i], (i * 11) & 0xff, `byte ${i}`);
  assert.equal(r.reg('esi'), 0x102ffe - 12000);
  assert.equal(r.reg('edi'), 0x183002 - 12000);
  assert.equal(r.reg('ecx'), 0);
});

test('STD; REP MOVSB with destination one below the source replicates the top byte', () => {
  const r = exec('std\nrep movsb', { regs: { esi: 0x48, edi: 0x47, ecx: 8 }, setup: (_c, m) => fill(m, DATA_AT + 0x40, [1, 2, 3, 4, 5, 6, 7, 8, 0xcd]) });
  assert.deepEqual([...r.mem.u8.subarray(DATA_AT + 0x40, DATA_AT + 0x49)], Array(9).fill(0xcd));
  assert.equal(r.mem.u8[DATA_AT + 0x3f], 0);
});

test('STD; REP MOVSW with destination above the source behaves like memmove', () => {
  const r = exec('std\nrep movsw', { regs: { esi: 0x4e, edi: 0x50, ecx: 8 }, setup: (_c, m) => fill(m, DATA_AT + 0x40, [...Array(16).keys()]) });
  assert.deepEqual([...r.mem.u8.subarray(DATA_AT + 0x42, DATA_AT + 0x52)], [...Array(16).keys()]);
});

test('STD; REP STOSB and STOSW fill downwards in real mode and stop at offset 0 wrap correctly', () => {
  let r = exec('std\nrep stosb', { regs: { eax: 0xee, edi: 0x1100, ecx: 0x1101 } });
  assert.ok(r.mem.u8.subarray(DATA_AT, DATA_AT + 0x1101).every((b) => b === 0xee));
  assert.equal(r.reg('edi'), 0xffff);
  r = exec('std\nrep stosw', { regs: { eax: 0x1234, edi: 0x2, ecx: 3 } });
  assert.equal(r.mem.read32(DATA_AT) >>> 0, 0x12341234);
  assert.equal(r.mem.u8[DATA_AT + 0xfffe], 0x34);
  assert.equal(r.mem.u8[DATA_AT + 0xffff], 0x12);
  assert.equal(r.reg('edi'), 0xfffc);
});
