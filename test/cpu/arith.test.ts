// Integer arithmetic (arith.ts, alu.ts, flags.ts): ADD ADC SUB SBB CMP NEG INC DEC and the
// logic ops at the carry/overflow/aux boundaries for 8/16/32 bits, MUL/IMUL CF/OF, and
// DIV/IDIV results and #DE (SDM vol. 2A-2B; expected values worked by hand or with
// exact integer arithmetic, never by running the emulator). Undefined flags are masked.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exec, DATA_AT, CF, PF, AF, ZF, SF, OF, ARITH, type RegName } from './insn.js';

interface Case {
  name: string;
  src: string;
  regs?: Partial<Record<RegName, number>>;
  flags?: number;
  expect?: Partial<Record<RegName, number>>;
  fmask?: number;
  fexp?: number;
  fault?: number;
}

const A = ARITH;
const MULF = CF | OF; // the only defined flags after MUL/IMUL

const cases: Case[] = [
  // ---- ADD
  { name: 'ADD8 0x7F+1 overflows', src: 'add al, 1', regs: { eax: 0x7f }, expect: { eax: 0x80 }, fmask: A, fexp: OF | SF | AF },
  { name: 'ADD8 0xFF+1 carries to 0', src: 'add al, 1', regs: { eax: 0xff }, expect: { eax: 0 }, fmask: A, fexp: CF | ZF | AF | PF },
  { name: 'ADD8 0x80+0x80: CF OF ZF', src: 'add al, bl', regs: { eax: 0x80, ebx: 0x80 }, expect: { eax: 0 }, fmask: A, fexp: CF | OF | ZF | PF },
  { name: 'ADD8 0x0F+1: AF only', src: 'add al, 1', regs: { eax: 0x0f }, expect: { eax: 0x10 }, fmask: A, fexp: AF },
  { name: 'ADD8 keeps AH', src: 'add ah, 1', regs: { eax: 0x12ff }, expect: { eax: 0x13ff }, fmask: A, fexp: 0 },
  { name: 'ADD16 0x7FFF+1', src: 'add ax, 1', regs: { eax: 0xabcd7fff }, expect: { eax: 0xabcd8000 }, fmask: A, fexp: OF | SF | AF | PF },
  { name: 'ADD16 0xFFFF+1', src: 'add ax, 1', regs: { eax: 0xffff }, expect: { eax: 0 }, fmask: A, fexp: CF | ZF | AF | PF },
  { name: 'ADD16 sign-extended imm8 (83)', src: 'add ax, -1', regs: { eax: 1 }, expect: { eax: 0 }, fmask: A, fexp: CF | ZF | AF | PF },
  { name: 'ADD32 0x7FFFFFFF+1', src: 'add eax, 1', regs: { eax: 0x7fffffff }, expect: { eax: 0x80000000 }, fmask: A, fexp: OF | SF | AF | PF },
  { name: 'ADD32 0xFFFFFFFF+1', src: 'add eax, 1', regs: { eax: 0xffffffff }, expect: { eax: 0 }, fmask: A, fexp: CF | ZF | AF | PF },
  { name: 'ADD32 0x80000000+0x80000000', src: 'add eax, ebx', regs: { eax: 0x80000000, ebx: 0x80000000 }, expect: { eax: 0 }, fmask: A, fexp: CF | OF | ZF | PF },
  { name: 'ADD32 imm32 no flags', src: 'add eax, 0x01010101', regs: { eax: 0x10101010 }, expect: { eax: 0x11111111 }, fmask: A, fexp: PF },
  // ---- ADC
  { name: 'ADC8 0xFF+0+CF', src: 'adc al, 0', regs: { eax: 0xff }, flags: CF, expect: { eax: 0 }, fmask: A, fexp: CF | ZF | AF | PF },
  { name: 'ADC8 0x7F+0+CF overflows', src: 'adc al, 0', regs: { eax: 0x7f }, flags: CF, expect: { eax: 0x80 }, fmask: A, fexp: OF | SF | AF },
  { name: 'ADC8 0xFF+0xFF+CF', src: 'adc al, bl', regs: { eax: 0xff, ebx: 0xff }, flags: CF, expect: { eax: 0xff }, fmask: A, fexp: CF | SF | AF | PF },
  { name: 'ADC16 0x8000+0x7FFF+CF = 0 (carry, no overflow)', src: 'adc ax, bx', regs: { eax: 0x8000, ebx: 0x7fff }, flags: CF, expect: { eax: 0 }, fmask: A, fexp: CF | ZF | AF | PF },
  { name: 'ADC32 0xFFFFFFFF+0xFFFFFFFF+CF', src: 'adc eax, ebx', regs: { eax: 0xffffffff, ebx: 0xffffffff }, flags: CF, expect: { eax: 0xffffffff }, fmask: A, fexp: CF | SF | AF | PF },
  { name: 'ADC32 0x7FFFFFFF+0+CF', src: 'adc eax, 0', regs: { eax: 0x7fffffff }, flags: CF, expect: { eax: 0x80000000 }, fmask: A, fexp: OF | SF | AF | PF },
  { name: 'ADC32 without CF', src: 'adc eax, 1', regs: { eax: 0xfffffffe }, expect: { eax: 0xffffffff }, fmask: A, fexp: SF | PF },
  // ---- SUB / CMP
  { name: 'SUB8 0-1 borrows', src: 'sub al, 1', regs: { eax: 0 }, expect: { eax: 0xff }, fmask: A, fexp: CF | SF | AF | PF },
  { name: 'SUB8 0x80-1 overflows', src: 'sub al, 1', regs: { eax: 0x80 }, expect: { eax: 0x7f }, fmask: A, fexp: OF | AF },
  { name: 'SUB8 5-5 = 0', src: 'sub al, 5', regs: { eax: 5 }, expect: { eax: 0 }, fmask: A, fexp: ZF | PF },
  { name: 'SUB16 0x8000-1', src: 'sub ax, 1', regs: { eax: 0x8000 }, expect: { eax: 0x7fff }, fmask: A, fexp: OF | AF | PF },
  { name: 'SUB16 1-0x8000 overflows negative->positive? (1 - -32768)', src: 'sub ax, bx', regs: { eax: 1, ebx: 0x8000 }, expect: { eax: 0x8001 }, fmask: A, fexp: CF | OF | SF },
  { name: 'SUB32 0x80000000-1', src: 'sub eax, 1', regs: { eax: 0x80000000 }, expect: { eax: 0x7fffffff }, fmask: A, fexp: OF | AF | PF },
  { name: 'SUB32 0-1', src: 'sub eax, 1', regs: { eax: 0 }, expect: { eax: 0xffffffff }, fmask: A, fexp: CF | SF | AF | PF },
  { name: 'CMP8 leaves the operand, flags as SUB', src: 'cmp al, 0x10', regs: { eax: 0x0f }, expect: { eax: 0x0f }, fmask: A, fexp: CF | SF | PF },
  { name: 'CMP32 equal', src: 'cmp eax, ebx', regs: { eax: 0x12345678, ebx: 0x12345678 }, fmask: A, fexp: ZF | PF },
  { name: 'CMP32 signed less, unsigned greater', src: 'cmp eax, byte 1', regs: { eax: 0x80000000 }, fmask: CF | OF | SF | ZF, fexp: OF },
  // ---- SBB
  { name: 'SBB8 0-0-CF', src: 'sbb al, 0', regs: { eax: 0 }, flags: CF, expect: { eax: 0xff }, fmask: A, fexp: CF | SF | AF | PF },
  { name: 'SBB8 0-0xFF-CF = 0 with borrow', src: 'sbb al, bl', regs: { eax: 0, ebx: 0xff }, flags: CF, expect: { eax: 0 }, fmask: A, fexp: CF | ZF | AF | PF },
  { name: 'SBB16 5-4-CF = 0', src: 'sbb ax, 4', regs: { eax: 5 }, flags: CF, expect: { eax: 0 }, fmask: A, fexp: ZF | PF },
  { name: 'SBB32 0x80000000-0-CF', src: 'sbb eax, 0', regs: { eax: 0x80000000 }, flags: CF, expect: { eax: 0x7fffffff }, fmask: A, fexp: OF | AF | PF },
  { name: 'SBB32 without CF', src: 'sbb eax, ebx', regs: { eax: 3, ebx: 3 }, expect: { eax: 0 }, fmask: A, fexp: ZF | PF },
  // ---- NEG
  { name: 'NEG8 0: CF=0', src: 'neg al', regs: { eax: 0 }, expect: { eax: 0 }, fmask: A, fexp: ZF | PF },
  { name: 'NEG8 0x80: CF OF', src: 'neg al', regs: { eax: 0x80 }, expect: { eax: 0x80 }, fmask: A, fexp: CF | OF | SF },
  { name: 'NEG16 1', src: 'neg ax', regs: { eax: 1 }, expect: { eax: 0xffff }, fmask: A, fexp: CF | SF | AF | PF },
  { name: 'NEG32 0x80000000', src: 'neg eax', regs: { eax: 0x80000000 }, expect: { eax: 0x80000000 }, fmask: A, fexp: CF | OF | SF | PF },
  { name: 'NEG32 1', src: 'neg eax', regs: { eax: 1 }, expect: { eax: 0xffffffff }, fmask: A, fexp: CF | SF | AF | PF },
  // ---- INC / DEC keep CF
  { name: 'INC8 0xFF keeps CF=1', src: 'inc al', regs: { eax: 0xff }, flags: CF, expect: { eax: 0 }, fmask: A, fexp: CF | ZF | AF | PF },
  { name: 'INC8 0xFF keeps CF=0', src: 'inc al', regs: { eax: 0xff }, expect: { eax: 0 }, fmask: A, fexp: ZF | AF | PF },
  { name: 'INC16 0x7FFF', src: 'inc ax', regs: { eax: 0x7fff }, expect: { eax: 0x8000 }, fmask: A, fexp: OF | SF | AF | PF },
  { name: 'INC32 0x7FFFFFFF', src: 'inc eax', regs: { eax: 0x7fffffff }, expect: { eax: 0x80000000 }, fmask: A, fexp: OF | SF | AF | PF },
  { name: 'DEC32 0x80000000', src: 'dec eax', regs: { eax: 0x80000000 }, flags: CF, expect: { eax: 0x7fffffff }, fmask: A, fexp: CF | OF | AF | PF },
  { name: 'DEC8 0', src: 'dec bl', regs: { ebx: 0 }, expect: { ebx: 0xff }, fmask: A, fexp: SF | AF | PF },
  { name: 'DEC16 m16 3 -> 2 (FF /1 form)', src: 'dec word [0x10]\nmov ax, [0x10]', regs: { eax: 0 }, expect: { eax: 2 }, fmask: A, fexp: 0 },
  { name: 'INC keeps the carry of a lazy ADD', src: 'add al, 0xff\ninc bl', regs: { eax: 1, ebx: 0x0f }, expect: { ebx: 0x10 }, fmask: A, fexp: CF | AF },
  { name: 'INC keeps the carry of a lazy SBB', src: 'sbb al, 0\ninc bl', regs: { eax: 0 }, flags: CF, expect: { ebx: 1 }, fmask: CF | ZF, fexp: CF },
  // ---- logic
  { name: 'OR clears CF and OF', src: 'or al, 0', regs: { eax: 0x80 }, flags: CF | OF, fmask: CF | OF | SF | ZF | PF, fexp: SF },
  { name: 'AND to zero', src: 'and eax, 0xffff0000', regs: { eax: 0xffff }, expect: { eax: 0 }, fmask: CF | OF | SF | ZF | PF, fexp: ZF | PF },
  { name: 'XOR self', src: 'xor eax, eax', regs: { eax: 0x1234 }, flags: CF, expect: { eax: 0 }, fmask: CF | OF | SF | ZF | PF, fexp: ZF | PF },
  { name: 'TEST sets SF', src: 'test al, 0x80', regs: { eax: 0x80 }, expect: { eax: 0x80 }, fmask: CF | OF | SF | ZF | PF, fexp: SF },
  { name: 'NOT changes no flags', src: 'not eax', regs: { eax: 0x0f0f0f0f }, flags: CF | ZF, expect: { eax: 0xf0f0f0f0 }, fmask: A, fexp: CF | ZF },
  // ---- MUL
  { name: 'MUL8 0x80*2 = 0x100: CF OF', src: 'mul bl', regs: { eax: 0x80, ebx: 2 }, expect: { eax: 0x100 }, fmask: MULF, fexp: CF | OF },
  { name: 'MUL8 0x10*0x0F = 0xF0: no CF OF', src: 'mul bl', regs: { eax: 0xff10, ebx: 0x0f }, expect: { eax: 0xf0 }, fmask: MULF, fexp: 0 },
  { name: 'MUL16 0xFFFF*0xFFFF', src: 'mul bx', regs: { eax: 0xffff, ebx: 0xffff, edx: 0x12340000 }, expect: { eax: 0x0001, edx: 0x1234fffe }, fmask: MULF, fexp: CF | OF },
  { name: 'MUL32 0xFFFFFFFF^2', src: 'mul ebx', regs: { eax: 0xffffffff, ebx: 0xffffffff }, expect: { eax: 1, edx: 0xfffffffe }, fmask: MULF, fexp: CF | OF },
  { name: 'MUL32 0x10000^2', src: 'mul eax', regs: { eax: 0x10000 }, expect: { eax: 0, edx: 1 }, fmask: MULF, fexp: CF | OF },
  { name: 'MUL32 0x12345678*0x9ABCDEF0', src: 'mul ebx', regs: { eax: 0x12345678, ebx: 0x9abcdef0 }, expect: { eax: 0x242d2080, edx: 0x0b00ea4e }, fmask: MULF, fexp: CF | OF },
  { name: 'MUL32 small: EDX=0, no CF', src: 'mul ebx', regs: { eax: 0x10000, ebx: 0xffff, edx: 5 }, expect: { eax: 0xffff0000, edx: 0 }, fmask: MULF, fexp: 0 },
  // ---- IMUL one operand
  { name: 'IMUL8 -128*-1 = 128: CF OF', src: 'imul bl', regs: { eax: 0x80, ebx: 0xff }, expect: { eax: 0x0080 }, fmask: MULF, fexp: CF | OF },
  { name: 'IMUL8 -2*3 = -6', src: 'imul bl', regs: { eax: 0xfe, ebx: 3 }, expect: { eax: 0xfffa }, fmask: MULF, fexp: 0 },
  { name: 'IMUL16 -32768^2', src: 'imul bx', regs: { eax: 0x8000, ebx: 0x8000 }, expect: { eax: 0, edx: 0x4000 }, fmask: MULF, fexp: CF | OF },
  { name: 'IMUL16 -1*1 sign-extends into DX', src: 'imul bx', regs: { eax: 0xffff, ebx: 1 }, expect: { eax: 0xffff, edx: 0xffff }, fmask: MULF, fexp: 0 },
  { name: 'IMUL32 -1*-1 = 1', src: 'imul ebx', regs: { eax: 0xffffffff, ebx: 0xffffffff }, expect: { eax: 1, edx: 0 }, fmask: MULF, fexp: 0 },
  { name: 'IMUL32 0x80000000*-1 = 2^31', src: 'imul ebx', regs: { eax: 0x80000000, ebx: 0xffffffff }, expect: { eax: 0x80000000, edx: 0 }, fmask: MULF, fexp: CF | OF },
  { name: 'IMUL32 -0x12345678*0x7654321', src: 'imul ebx', regs: { eax: -0x12345678 >>> 0, ebx: 0x7654321 }, expect: { eax: 0x8f477288, edx: 0xff795e36 }, fmask: MULF, fexp: CF | OF },
  { name: 'IMUL32 -5*7 fits', src: 'imul ebx', regs: { eax: -5 >>> 0, ebx: 7 }, expect: { eax: -35 >>> 0, edx: 0xffffffff }, fmask: MULF, fexp: 0 },
  // ---- IMUL two/three operands
  { name: 'IMUL r32,r/m32 0x10000^2 truncates', src: 'imul eax, ebx', regs: { eax: 0x10000, ebx: 0x10000 }, expect: { eax: 0 }, fmask: MULF, fexp: CF | OF },
  { name: 'IMUL r32,r/m32 -3*-4', src: 'imul ecx, edx', regs: { ecx: -3 >>> 0, edx: -4 >>> 0 }, expect: { ecx: 12 }, fmask: MULF, fexp: 0 },
  { name: 'IMUL r16,r/m16,imm8 0x4000*-2 = -32768 fits', src: 'imul ax, bx, -2', regs: { eax: 0xffff0000, ebx: 0x4000 }, expect: { eax: 0xffff8000 }, fmask: MULF, fexp: 0 },
  { name: 'IMUL r16,r/m16,imm8 0x4000*2 = 32768 overflows', src: 'imul ax, bx, 2', regs: { ebx: 0x4000 }, expect: { eax: 0x8000 }, fmask: MULF, fexp: CF | OF },
  { name: 'IMUL r32,m32,imm32', src: 'imul ecx, [0x10], 0x12345', regs: {}, expect: { ecx: 0x12345 * 3 }, fmask: MULF, fexp: 0 },
  // ---- DIV
  { name: 'DIV8 0x100/2 = 0x80', src: 'div bl', regs: { eax: 0x100, ebx: 2 }, expect: { eax: 0x0080 } },
  { name: 'DIV8 remainder in AH', src: 'div bl', regs: { eax: 251, ebx: 10 }, expect: { eax: 0x0119 } },
  { name: 'DIV8 quotient 0x100 is #DE', src: 'div bl', regs: { eax: 0x200, ebx: 2 }, expect: { eax: 0x200 }, fault: 0 },
  { name: 'DIV8 by zero is #DE', src: 'div bl', regs: { eax: 5, ebx: 0 }, fault: 0 },
  { name: 'DIV16 0x10000/0x10', src: 'div bx', regs: { eax: 0, edx: 1, ebx: 0x10 }, expect: { eax: 0x1000, edx: 0 } },
  { name: 'DIV16 0xFFFFFFFF/0xFFFF overflows', src: 'div bx', regs: { eax: 0xffff, edx: 0xffff, ebx: 0xffff }, fault: 0 },
  { name: 'DIV32 0x1_00000005/2', src: 'div ebx', regs: { eax: 5, edx: 1, ebx: 2 }, expect: { eax: 0x80000002, edx: 1 } },
  { name: 'DIV32 largest quotient', src: 'div ebx', regs: { eax: 0xffffffff, edx: 0xfffffffe, ebx: 0xffffffff }, expect: { eax: 0xffffffff, edx: 0xfffffffe } },
  { name: 'DIV32 0x123456789ABCDEF0/0xFEDCBA98', src: 'div ebx', regs: { eax: 0x9abcdef0, edx: 0x12345678, ebx: 0xfedcba98 }, expect: { eax: 0x12492492, edx: 0x51451440 } },
  { name: 'DIV32 0x3FFFFFFF_FFFFFFFF/0x7FFFFFFF', src: 'div ebx', regs: { eax: 0xffffffff, edx: 0x3fffffff, ebx: 0x7fffffff }, expect: { eax: 0x80000001, edx: 0 } },
  { name: 'DIV32 EDX = divisor overflows', src: 'div ebx', regs: { eax: 0, edx: 7, ebx: 7 }, expect: { eax: 0, edx: 7 }, fault: 0 },
  { name: 'DIV32 by zero', src: 'div dword [0x20]', regs: { eax: 1 }, fault: 0 },
  // ---- IDIV
  { name: 'IDIV8 -7/2 = -3 r -1', src: 'idiv bl', regs: { eax: 0xfff9, ebx: 2 }, expect: { eax: 0xfffd } },
  { name: 'IDIV8 7/-2 = -3 r 1', src: 'idiv bl', regs: { eax: 7, ebx: 0xfe }, expect: { eax: 0x01fd } },
  { name: 'IDIV8 -256/2 = -128 fits', src: 'idiv bl', regs: { eax: 0xff00, ebx: 2 }, expect: { eax: 0x0080 } },
  { name: 'IDIV8 256/2 = 128 is #DE', src: 'idiv bl', regs: { eax: 0x0100, ebx: 2 }, fault: 0 },
  { name: 'IDIV8 -32768/-1 is #DE', src: 'idiv bl', regs: { eax: 0x8000, ebx: 0xff }, fault: 0 },
  { name: 'IDIV16 -65536/-2 = 32768 is #DE', src: 'idiv bx', regs: { eax: 0, edx: 0xffff, ebx: 0xfffe }, fault: 0 },
  { name: 'IDIV16 -32768/-1 is #DE', src: 'idiv bx', regs: { eax: 0x8000, edx: 0xffff, ebx: 0xffff }, fault: 0 },
  { name: 'IDIV16 -65536/2 = -32768 fits', src: 'idiv bx', regs: { eax: 0, edx: 0xffff, ebx: 2 }, expect: { eax: 0x8000, edx: 0 } },
  { name: 'IDIV16 -1000/7 = -142 r -6', src: 'idiv bx', regs: { eax: -1000 & 0xffff, edx: 0xffff, ebx: 7 }, expect: { eax: -142 & 0xffff, edx: -6 & 0xffff } },
  { name: 'IDIV32 0x80000000_00000000 / -1 is #DE', src: 'idiv ebx', regs: { eax: 0, edx: 0x80000000, ebx: 0xffffffff }, expect: { eax: 0, edx: 0x80000000 }, fault: 0 },
  { name: 'IDIV32 -2^31 / -1 is #DE (most negative quotient negated)', src: 'idiv ebx', regs: { eax: 0x80000000, edx: 0xffffffff, ebx: 0xffffffff }, fault: 0 },
  { name: 'IDIV32 -2^31 / 1 fits', src: 'idiv ebx', regs: { eax: 0x80000000, edx: 0xffffffff, ebx: 1 }, expect: { eax: 0x80000000, edx: 0 } },
  { name: 'IDIV32 -2^32 / 2 = -2^31 fits', src: 'idiv ebx', regs: { eax: 0, edx: 0xffffffff, ebx: 2 }, expect: { eax: 0x80000000, edx: 0 } },
  { name: 'IDIV32 2^31 / 1 is #DE', src: 'idiv ebx', regs: { eax: 0x80000000, edx: 0, ebx: 1 }, fault: 0 },
  { name: 'IDIV32 -7/2 = -3 r -1', src: 'idiv ebx', regs: { eax: -7 >>> 0, edx: 0xffffffff, ebx: 2 }, expect: { eax: -3 >>> 0, edx: 0xffffffff } },
  { name: 'IDIV32 7/-2 = -3 r 1', src: 'idiv ebx', regs: { eax: 7, edx: 0, ebx: -2 >>> 0 }, expect: { eax: -3 >>> 0, edx: 1 } },
  { name: 'IDIV32 -2^32 / 0x7FFFFFFF = -2 r -2', src: 'idiv ebx', regs: { eax: 0, edx: 0xffffffff, ebx: 0x7fffffff }, expect: { eax: -2 >>> 0, edx: -2 >>> 0 } },
  { name: 'IDIV32 -2^32 / -2^31 = 2', src: 'idiv ebx', regs: { eax: 0, edx: 0xffffffff, ebx: 0x80000000 }, expect: { eax: 2, edx: 0 } },
  { name: 'IDIV32 positive quotient 0x80000001 is #DE', src: 'idiv ebx', regs: { eax: 0xffffffff, edx: 0x3fffffff, ebx: 0x7fffffff }, fault: 0 },
  { name: 'IDIV32 by zero', src: 'idiv ecx', regs: { eax: 1, ecx: 0 }, fault: 0 },
  // ---- memory read-modify-write forms
  { name: 'ADD m8, r8', src: 'add [0x10], bl\nmov al, [0x10]', regs: { eax: 0, ebx: 0x08 }, expect: { eax: 0x0b }, fmask: A, fexp: 0 },
  { name: 'SUB m32, imm8', src: 'sub dword [0x10], byte 4\nmov eax, [0x10]', expect: { eax: 0xffffffff }, fmask: A, fexp: CF | SF | AF | PF },
  { name: 'CMP m16, imm16 does not write', src: 'cmp word [0x10], 3\nmov ax, [0x10]', regs: { eax: 0 }, expect: { eax: 3 }, fmask: A, fexp: ZF | PF },
];

for (const k of cases) {
  test(k.name, () => {
    const r = exec(k.src, { regs: k.regs, flags: k.flags, setup: (_c, m) => { m.write32(DATA_AT + 0x10, 3); m.write32(DATA_AT + 0x20, 0); } });
    assert.equal(r.fault, k.fault ?? -1, 'fault vector');
    if (k.fault !== undefined) assert.equal(r.cpu.eip, 0, 'EIP at the faulting instruction');
    for (const [reg, want] of Object.entries(k.expect ?? {})) {
      assert.equal(r.reg(reg as RegName), want! >>> 0, `${reg} = 0x${r.reg(reg as RegName).toString(16)}`);
    }
    if (k.fmask !== undefined) assert.equal(r.flags & k.fmask, k.fexp, `flags 0x${(r.flags & k.fmask).toString(16)} want 0x${k.fexp!.toString(16)}`);
  });
}
