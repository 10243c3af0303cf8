// Shifts and rotates (SDM vol. 2B SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR, SHLD, SHRD). Expected
// values are worked from the SDM pseudo-code. Flags the SDM leaves undefined are masked
// out, except where a case says it asserts the documented P6 hardware behaviour.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exec, DATA_AT, CF, PF, AF, ZF, SF, OF, ARITH, type RegName } from './insn.js';

interface Case {
  name: string;
  src: string;
  regs?: Partial<Record<RegName, number>>;
  flags?: number;
  /** Expected register values (compared after masking with `regMask`, default all 32 bits). */
  expect?: Partial<Record<RegName, number>>;
  regMask?: number;
  /** Flags to compare, and their expected values. */
  fmask?: number;
  fexp?: number;
}

const cases: Case[] = [
  // ---- SHL / SAL
  { name: 'SHL AL,1: 0x80 -> 0, CF=1 OF=1 ZF PF', src: 'shl al, 1', regs: { eax: 0x80 }, expect: { eax: 0 }, fmask: CF | OF | ZF | SF | PF, fexp: CF | OF | ZF | PF },
  { name: 'SHL AL,1: 0x40 -> 0x80, CF=0 OF=1 SF', src: 'shl al, 1', regs: { eax: 0x40 }, expect: { eax: 0x80 }, fmask: CF | OF | ZF | SF | PF, fexp: OF | SF },
  { name: 'SHL AL,1: 0xC0 -> 0x80, CF=1 OF=0', src: 'shl al, 1', regs: { eax: 0xc0 }, expect: { eax: 0x80 }, fmask: CF | OF | SF, fexp: CF | SF },
  { name: 'SHL AL,3 (C0 imm form) keeps AH', src: 'shl al, 3', regs: { eax: 0x1234 }, expect: { eax: 0x12a0 }, fmask: CF | ZF | SF | PF, fexp: CF | SF | PF },
  { name: 'SAL alias D0 /6', src: 'db 0xd0, 0xf0', regs: { eax: 0x40 }, expect: { eax: 0x80 }, fmask: CF | OF | SF, fexp: OF | SF },
  { name: 'SHL AX,1: 0x4000 -> 0x8000, OF=1', src: 'shl ax, 1', regs: { eax: 0xffff4000 }, expect: { eax: 0xffff8000 }, fmask: CF | OF | SF | ZF, fexp: OF | SF },
  { name: 'SHL EAX,31: CF = bit 1', src: 'shl eax, 31', regs: { eax: 3 }, expect: { eax: 0x80000000 }, fmask: CF | SF | ZF | PF, fexp: CF | SF | PF },
  { name: 'SHL EAX,CL with CL=33 shifts by 1 (count masked)', src: 'shl eax, cl', regs: { eax: 0x80000001, ecx: 33 }, expect: { eax: 2 }, fmask: CF | OF | ZF, fexp: CF | OF },
  { name: 'SHL count 0 (CL=0) leaves value and all flags', src: 'shl eax, cl', regs: { eax: 0x1234, ecx: 0 }, flags: ARITH, expect: { eax: 0x1234 }, fmask: ARITH, fexp: ARITH },
  { name: 'SHL count 32 (masked to 0) leaves all flags', src: 'shl byte [0x10], cl', regs: { ecx: 32 }, flags: CF | OF, fmask: ARITH, fexp: CF | OF },
  { name: 'SHL AL,CL=8 zeroes the byte', src: 'shl al, cl', regs: { eax: 0x01, ecx: 8 }, expect: { eax: 0 }, fmask: ZF | SF | PF, fexp: ZF | PF },
  { name: 'SHL AX,CL=20 zeroes the word', src: 'shl ax, cl', regs: { eax: 0xffffffff, ecx: 20 }, expect: { eax: 0xffff0000 }, fmask: ZF | SF, fexp: ZF },
  // ---- SHR
  { name: 'SHR AL,1: 0x81 -> 0x40, CF=1, OF=MSB(orig)=1', src: 'shr al, 1', regs: { eax: 0x81 }, expect: { eax: 0x40 }, fmask: CF | OF | ZF | SF | PF, fexp: CF | OF },
  { name: 'SHR AL,1: 0x01 -> 0, CF=1 ZF, OF=0', src: 'shr al, 1', regs: { eax: 0x01 }, expect: { eax: 0 }, fmask: CF | OF | ZF | PF, fexp: CF | ZF | PF },
  { name: 'SHR EAX,4', src: 'shr eax, 4', regs: { eax: 0xf000000f }, expect: { eax: 0x0f000000 }, fmask: CF | ZF | SF | PF, fexp: CF | PF },
  { name: 'SHR EAX,31 of a negative value', src: 'shr eax, 31', regs: { eax: 0xc0000000 }, expect: { eax: 1 }, fmask: CF | SF | ZF, fexp: CF },
  { name: 'SHR AX,CL=16 zeroes the word', src: 'shr ax, cl', regs: { eax: 0x8001, ecx: 16 }, expect: { eax: 0 }, fmask: ZF | SF, fexp: ZF },
  // ---- SAR
  { name: 'SAR AL,1: 0x81 -> 0xC0, CF=1, OF=0', src: 'sar al, 1', regs: { eax: 0x81 }, expect: { eax: 0xc0 }, fmask: CF | OF | ZF | SF | PF, fexp: CF | SF | PF },
  { name: 'SAR AL,7: 0x80 -> 0xFF, CF=bit 6=0', src: 'sar al, 7', regs: { eax: 0x80 }, expect: { eax: 0xff }, fmask: CF | ZF | SF | PF, fexp: SF | PF },
  { name: 'SAR AX,CL=20 fills with the sign', src: 'sar ax, cl', regs: { eax: 0x8000, ecx: 20 }, expect: { eax: 0xffff }, fmask: ZF | SF, fexp: SF },
  { name: 'SAR EAX,1 of 0x7FFFFFFF', src: 'sar eax, 1', regs: { eax: 0x7fffffff }, expect: { eax: 0x3fffffff }, fmask: CF | OF | SF | ZF | PF, fexp: CF | PF },
  { name: 'SAR EAX,31 of 0x80000000 -> all ones', src: 'sar eax, 31', regs: { eax: 0x80000000 }, expect: { eax: 0xffffffff }, fmask: CF | SF | ZF | PF, fexp: SF | PF },
  // ---- ROL / ROR: only CF and OF change
  { name: 'ROL AL,1: 0x81 -> 0x03, CF=1, OF=1; SF/ZF/PF/AF kept', src: 'rol al, 1', regs: { eax: 0x81 }, flags: ZF | SF | AF, expect: { eax: 0x03 }, fmask: ARITH, fexp: CF | OF | ZF | SF | AF },
  { name: 'ROL AL,CL=8: value kept, CF = LSB', src: 'rol al, cl', regs: { eax: 0x81, ecx: 8 }, expect: { eax: 0x81 }, fmask: CF | ZF | PF | SF, fexp: CF },
  { name: 'ROL AX,4', src: 'rol ax, 4', regs: { eax: 0x1234 }, expect: { eax: 0x2341 }, fmask: CF, fexp: CF },
  { name: 'ROL EAX,8 (P6 OF = MSB xor CF)', src: 'rol eax, 8', regs: { eax: 0x80000001 }, expect: { eax: 0x00000180 }, fmask: CF | OF, fexp: 0 },
  { name: 'ROR AL,1: 0x01 -> 0x80, CF=1, OF=1', src: 'ror al, 1', regs: { eax: 0x01 }, flags: PF, expect: { eax: 0x80 }, fmask: ARITH, fexp: CF | OF | PF },
  { name: 'ROR EAX,4 (P6 OF = bit31 xor bit30)', src: 'ror eax, 4', regs: { eax: 0x12345678 }, expect: { eax: 0x81234567 }, fmask: CF | OF, fexp: CF | OF },
  { name: 'ROR AX,CL=16: value kept, CF = MSB', src: 'ror ax, cl', regs: { eax: 0x8001, ecx: 16 }, expect: { eax: 0x8001 }, fmask: CF, fexp: CF },
  { name: 'ROL count 0 leaves CF/OF', src: 'rol eax, cl', regs: { eax: 1, ecx: 0x20 }, flags: OF, expect: { eax: 1 }, fmask: ARITH, fexp: OF },
  // ---- RCL / RCR
  { name: 'RCL AL,1 with CF=1: 0x80 -> 0x01, CF=1, OF=1', src: 'rcl al, 1', regs: { eax: 0x80 }, flags: CF, expect: { eax: 0x01 }, fmask: CF | OF | ZF, fexp: CF | OF },
  { name: 'RCL AL,4 with CF=1: 0x9A -> 0xAC, CF=1', src: 'rcl al, 4', regs: { eax: 0x9a }, flags: CF, expect: { eax: 0xac }, fmask: CF, fexp: CF },
  { name: 'RCL AL,CL=9 rotates by 0 (mod 9): value and CF kept', src: 'rcl al, cl', regs: { eax: 0x55, ecx: 9 }, expect: { eax: 0x55 }, fmask: CF, fexp: 0 },
  { name: 'RCL AL,CL=10 rotates by 1', src: 'rcl al, cl', regs: { eax: 0x80, ecx: 10 }, expect: { eax: 0x00 }, fmask: CF, fexp: CF },
  { name: 'RCL AX,CL=17 rotates by 0 (mod 17)', src: 'rcl ax, cl', regs: { eax: 0x8001, ecx: 17 }, flags: CF, expect: { eax: 0x8001 }, fmask: CF, fexp: CF },
  { name: 'RCL AX,16 with CF=1: 0x0001 -> 0x8000, CF=1', src: 'rcl ax, 16', regs: { eax: 0x0001 }, flags: CF, expect: { eax: 0x8000 }, fmask: CF, fexp: CF },
  { name: 'RCL EAX,31 with CF=1 (= RCR by 2 over 33 bits)', src: 'rcl eax, 31', regs: { eax: 2 }, flags: CF, expect: { eax: 0x40000000 }, fmask: CF, fexp: CF },
  { name: 'RCL EAX,1 keeps SF/ZF/PF/AF', src: 'rcl eax, 1', regs: { eax: 0x40000000 }, flags: ZF | PF | AF, expect: { eax: 0x80000000 }, fmask: ARITH, fexp: OF | ZF | PF | AF },
  { name: 'RCR AL,1 with CF=0: 0x01 -> 0, CF=1, OF=0; ZF kept clear', src: 'rcr al, 1', regs: { eax: 0x01 }, expect: { eax: 0 }, fmask: ARITH, fexp: CF },
  { name: 'RCR AL,1 with CF=1: 0x00 -> 0x80, OF=1', src: 'rcr al, 1', regs: { eax: 0x00 }, flags: CF, expect: { eax: 0x80 }, fmask: CF | OF, fexp: OF },
  { name: 'RCR AL,3 with CF=1: 0x0D -> 0x61, CF=1', src: 'rcr al, 3', regs: { eax: 0x0d }, flags: CF, expect: { eax: 0x61 }, fmask: CF, fexp: CF },
  { name: 'RCR AX,CL=17 rotates by 0', src: 'rcr ax, cl', regs: { eax: 0x1234, ecx: 17 }, expect: { eax: 0x1234 }, fmask: CF, fexp: 0 },
  { name: 'RCR EAX,1 with CF=1: 1 -> 0x80000000, CF=1, OF=1', src: 'rcr eax, 1', regs: { eax: 1 }, flags: CF, expect: { eax: 0x80000000 }, fmask: CF | OF, fexp: CF | OF },
  { name: 'RCR EAX,31 with CF=0 (= RCL by 2 over 33 bits)', src: 'rcr eax, 31', regs: { eax: 0xc0000000 }, expect: { eax: 0x00000001 }, fmask: CF, fexp: CF },
  // ---- memory operands
  { name: 'SHL byte [mem],3', src: 'shl byte [0x10], 3\nmov al, [0x10]', regs: { eax: 0 }, expect: { eax: 0xc0 }, regMask: 0xff, fmask: CF, fexp: CF },
  { name: 'ROR dword [mem],CL', src: 'ror dword [0x10], cl\nmov eax, [0x10]', regs: { ecx: 8 }, expect: { eax: 0x78123456 }, fmask: CF, fexp: 0 },
  // ---- SHLD / SHRD
  { name: 'SHLD AX,BX,4', src: 'shld ax, bx, 4', regs: { eax: 0x1234, ebx: 0xabcd }, expect: { eax: 0x234a }, fmask: CF | ZF | SF | PF, fexp: CF },
  { name: 'SHLD EAX,EBX,CL=1: sign change sets OF', src: 'shld eax, ebx, cl', regs: { eax: 0x40000000, ebx: 0x80000000, ecx: 1 }, expect: { eax: 0x80000001 }, fmask: CF | OF | SF | ZF, fexp: OF | SF },
  { name: 'SHLD EAX,EBX,31', src: 'shld eax, ebx, 31', regs: { eax: 0x00000003, ebx: 0xfffffffe }, expect: { eax: 0xffffffff }, fmask: CF | SF | ZF | PF, fexp: CF | SF | PF },
  { name: 'SHLD count 0 leaves flags and value', src: 'shld eax, ebx, cl', regs: { eax: 5, ebx: 7, ecx: 0x40 }, flags: ZF | CF, expect: { eax: 5 }, fmask: ARITH, fexp: ZF | CF },
  { name: 'SHRD EAX,EBX,8', src: 'shrd eax, ebx, 8', regs: { eax: 0x12345678, ebx: 0x9abcdef0 }, expect: { eax: 0xf0123456 }, fmask: CF | SF | ZF, fexp: SF },
  { name: 'SHRD AX,BX,1: 1 with 1 in -> 0x8000, CF=1, OF=1', src: 'shrd ax, bx, 1', regs: { eax: 0x0001, ebx: 0x0001 }, expect: { eax: 0x8000 }, fmask: CF | OF | SF | ZF, fexp: CF | OF | SF },
  { name: 'SHRD AX,BX,16: result = BX, CF = bit 15 of AX', src: 'shrd ax, bx, 16', regs: { eax: 0x8000, ebx: 0x1234 }, expect: { eax: 0x1234 }, fmask: CF, fexp: CF },
  { name: 'SHLD AX,BX,20 (P6: dest:src:dest)', src: 'shld ax, bx, 20', regs: { eax: 0x1234, ebx: 0xabcd }, expect: { eax: 0xbcd1 }, fmask: CF, fexp: 0 },
  { name: 'SHRD AX,BX,20 (P6: dest:src:dest)', src: 'shrd ax, bx, 20', regs: { eax: 0x1234, ebx: 0xabcd }, expect: { eax: 0x4abc }, fmask: CF, fexp: CF },
  { name: 'SHLD word [mem],AX,8', src: 'mov word [0x20], 0x1234\nshld [0x20], ax, 8\nmov dx, [0x20]', regs: { eax: 0xabcd, edx: 0 }, expect: { edx: 0x34ab }, fmask: CF | SF, fexp: 0 },
  { name: 'SHRD dword [mem],EBX,CL', src: 'mov dword [0x20], 0x80000001\nshrd [0x20], ebx, cl\nmov edx, [0x20]', regs: { ebx: 0, ecx: 1 }, expect: { edx: 0x40000000 }, fmask: CF | OF | SF, fexp: CF | OF },
];

for (const k of cases) {
  test(k.name, () => {
    const r = exec(k.src, {
      regs: k.regs, flags: k.flags,
      setup: (_c, m) => { m.write32(DATA_AT + 0x10, 0x12345678); },
    });
    assert.equal(r.fault, -1, 'no fault');
    for (const [reg, want] of Object.entries(k.expect ?? {})) {
      const m = k.regMask ?? 0xffffffff;
      assert.equal((r.reg(reg as RegName) & m) >>> 0, want! >>> 0, `${reg}`);
    }
    if (k.fmask !== undefined) assert.equal(r.flags & k.fmask, k.fexp, `flags 0x${(r.flags & k.fmask).toString(16)} want 0x${k.fexp!.toString(16)}`);
  });
}

test('SHL byte [mem],3 writes memory', () => {
  const r = exec('shl byte [0x10], 3', { setup: (_c, m) => { m.u8[DATA_AT + 0x10] = 0x21; } });
  assert.equal(r.mem.u8[DATA_AT + 0x10], 0x08);
  assert.equal(r.flags & CF, CF); // bit 5 of 0x21 shifted out last
});
