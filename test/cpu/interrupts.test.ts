// Interrupt and exception delivery details: 16-bit gates, conforming handlers, IRET's
// flag rules by CPL and IOPL, #DF escalation and triple fault, external interrupts
// with the EXT bit (SDM vol. 3A ch. 6; vol. 2A IRET).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSys, NEEDS_NASM, hex, R_VEC, R_ERR, R_EIP } from './sysasm.js';

const NP = 11, DF = 8;

function ok(r: ReturnType<typeof runSys>): void {
  assert.equal(r.exitCode, 0, `program failed: exit ${hex(r.exitCode)} stop ${r.stop} vec ${r.d(R_VEC)} err ${hex(r.d(R_ERR))} eip ${hex(r.d(R_EIP))} out ${r.output}`);
}

test('16-bit interrupt gate from ring 3: 16-bit frame on the ring-0 stack, 16-bit IRET back', NEEDS_NASM, () => {
  const r = runSys({
    gdt: `
  DESC 0x10000, 0xffff, 0x009a        ; 0x30 16-bit code DPL 0 based at the program
  DESC 0x10000, 0xffff, 0x40fa        ; 0x38 32-bit code DPL 3 based at the program
`,
    body: `
  mov eax, (h16 - $$)
  mov [IDT + 0x85*8], ax
  mov word [IDT + 0x85*8 + 2], 0x30
  mov word [IDT + 0x85*8 + 4], 0xe600  ; 16-bit interrupt gate, DPL 3
  mov word [IDT + 0x85*8 + 6], 0
  mov ax, SEL_DATA3
  mov ds, ax
  push dword SEL_DATA3
  push dword 0xe000
  push dword 0x202
  push dword 0x3b
  push dword u - $$
  iretd
u:
  int 0x85
  mov [SLOTS + 4*8], esp
  mov eax, cs
  mov [SLOTS + 4*9], eax
  pushfd
  pop eax
  mov [SLOTS + 4*10], eax
  EXPECT fin
  ud2
fin:
  DONE
bits 16
h16:
  mov eax, cs
  mov [ss:SLOTS + 4*0], eax
  mov [ss:SLOTS + 4*1], esp
  movzx eax, word [ss:esp]
  mov [ss:SLOTS + 4*2], eax       ; IP
  movzx eax, word [ss:esp + 2]
  mov [ss:SLOTS + 4*3], eax       ; CS
  movzx eax, word [ss:esp + 4]
  mov [ss:SLOTS + 4*4], eax       ; FLAGS
  movzx eax, word [ss:esp + 6]
  mov [ss:SLOTS + 4*5], eax       ; SP
  movzx eax, word [ss:esp + 8]
  mov [ss:SLOTS + 4*6], eax       ; SS
  pushfd
  pop eax
  mov [ss:SLOTS + 4*7], eax
  iret
bits 32`,
  });
  ok(r);
  assert.deepEqual([r.slot(0), r.slot(1)], [0x30, 0x8f000 - 10]);
  assert.deepEqual([r.slot(3), r.slot(4), r.slot(5), r.slot(6)], [0x3b, 0x202, 0xe000, 0x23]);
  assert.equal(r.slot(7) & 0x200, 0);
  assert.deepEqual([r.slot(8), r.slot(9)], [0xe000, 0x3b]);
  assert.equal(r.slot(10) & 0x200, 0x200);
});

test('an interrupt to a conforming handler keeps CPL 3 and the user stack', NEEDS_NASM, () => {
  const r = runSys({
    gdt: `
  DESC 0, 0xfffff, 0xc09e             ; 0x30 conforming code DPL 0
`,
    body: `
  SETGATE 0x86, hc, 0xee, 0x30
  TO_RING3 u
u:
  int 0x86
  EXPECT fin
  ud2
fin:
  DONE
hc:
  mov eax, cs
  mov [SLOTS + 4*0], eax
  mov [SLOTS + 4*1], esp
  mov eax, ss
  mov [SLOTS + 4*2], eax
  iretd`,
  });
  ok(r);
  assert.deepEqual([r.slot(0), r.slot(1), r.slot(2)], [0x33, 0x7f000 - 12, 0x23]);
});

test('IRET flag rules: CPL 3 keeps IOPL, keeps IF below IOPL; CPL 0 sets VIF/VIP only with IRETD', NEEDS_NASM, () => {
  const r = runSys({
    body: `
  SETGATE 0x80, back, 0xee
  ; CPL 3, IOPL 0: IRET to itself with IF=1 and IOPL=3 in the image changes neither.
  TO_RING3 u1
u1:
  push dword 0x3202 | 0x1
  push dword SEL_CODE3
  push dword u1b
  iretd
u1b:
  pushfd
  pop eax
  mov [SLOTS + 4*0], eax
  ; IOPL 3 at CPL 3 is set up from ring 0 below.
  int 0x80
back:
  cmp dword [ss:SLOTS + 4*1], 0
  jne phase2
  mov dword [ss:SLOTS + 4*1], 1
  TO_RING3 u2, 0x3002
u2:
  push dword 0x0202
  push dword SEL_CODE3
  push dword u2b
  iretd
u2b:
  pushfd
  pop eax
  mov [SLOTS + 4*2], eax
  int 0x80
phase2:
  ; CPL 0, IRETD: VIF and VIP come from the image; a 16-bit IRET leaves them.
  push dword 0x180002
  push dword SEL_CODE0
  push dword p3
  iretd
p3:
  pushfd
  pop eax
  SAVE 3, eax
  push dword 0x2
  popfd
  DONE`,
  });
  ok(r);
  assert.equal(r.slot(0), 0x0003, `CPL 3 IOPL 0: ${hex(r.slot(0))}`);
  assert.equal(r.slot(2), 0x3202, `CPL 3 IOPL 3: ${hex(r.slot(2))}`);
  assert.equal(r.slot(3), 0x180002, `CPL 0 IRETD: ${hex(r.slot(3))}`);
});

test('#GP while delivering #GP escalates to #DF(0); a fault delivering #DF is a triple fault', NEEDS_NASM, () => {
  const r = runSys({
    body: `
  mov word [IDT + 13*8 + 2], 0x1000   ; #GP gate: selector beyond the GDT
  EXPECT c1
  mov ax, 0x1000
  mov ds, ax
c1:
  SAVEFAULT 0
  DONE`,
  });
  ok(r);
  assert.deepEqual([r.slot(0), r.slot(1)], [DF, 0]);
  const t = runSys({
    body: `
  mov word [IDT + 13*8 + 2], 0x1000
  mov byte [IDT + 8*8 + 5], 0x0e      ; #DF gate not present
  mov ax, 0x1000
  mov ds, ax
  DONE`,
  });
  assert.equal(t.stop, 'shutdown');
  assert.match(t.cpu.shutdownReason, /triple fault/);
});

test('external interrupt with a missing gate: #NP(vector*8+2+EXT); delivered to ring 0 from ring 3', NEEDS_NASM, () => {
  let pending = true;
  const r = runSys({
    body: `
  SETGATE 0x41, irq, 0x8e
  mov byte [IDT + 0x40*8 + 5], 0x0e   ; interrupt gate, not present
  EXPECT c1
  TO_RING3 u, 0x202
u:
  jmp u
c1:
  SAVEFAULT 0
  EXPECT fin
  TO_RING3 u2, 0x202
u2:
  jmp u2
irq:
  mov eax, [esp + 4]
  SAVE 2, eax
  mov eax, [esp + 16]
  SAVE 3, eax
  DONE
fin:
  FAILX 0x80`,
  }, {
    setup: (cpu) => {
      let n = 0;
      cpu.pic = {
        hasInterrupt: () => pending && cpu.cpl === 3,
        acknowledge: () => { n++; if (n === 2) pending = false; return n === 1 ? 0x40 : 0x41; },
      };
      cpu.irqPending = true;
    },
  });
  ok(r);
  assert.deepEqual([r.slot(0), r.slot(1)], [NP, 0x40 * 8 + 3]);
  assert.deepEqual([r.slot(2), r.slot(3)], [0x1b, 0x23]);
});

