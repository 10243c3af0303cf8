// Stack-width corner cases against hardware results: POP SS advances the stack pointer
// by the width of the stack it popped from, ENTER builds the frame pointer from the
// whole ESP on a 16-bit stack, and ENTER checks its final stack pointer as a write
// (segment and paging) before any register changes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSys, NEEDS_NASM, hex, R_VEC, R_ERR, R_EIP } from './sysasm.js';

const PF = 14;

function ok(r: ReturnType<typeof runSys>): void {
  assert.equal(r.exitCode, 0, `program failed: exit ${hex(r.exitCode)} stop ${r.stop} vec ${r.d(R_VEC)} err ${hex(r.d(R_ERR))} eip ${hex(r.d(R_EIP))} out ${r.output}`);
}

/** 0x30: a flat data segment with B = 0 (a 16-bit stack). */
const GDT16 = `
  DESC 0, 0xfffff, 0x8092             ; 0x30 flat data, B=0
`;

test('POP SS: SP/ESP advance by the width of the old stack, not the one just loaded', NEEDS_NASM, () => {
  const r = runSys({
    gdt: GDT16,
    body: `
  ; 16-bit stack → 32-bit stack: SP wraps 0xFFFC → 0x0000, ESP's upper half stays.
  mov ax, 0x30
  mov ss, ax
  mov esp, 0x2fffc
  mov dword [0xfffc], SEL_DATA0
  pop ss
  mov eax, esp
  mov esp, KSTACK
  SAVE 0, eax
  ; 32-bit stack → 16-bit stack: ESP advances by 4 as a 32-bit pointer.
  mov esp, 0x2fffc
  mov dword [0x2fffc], 0x30
  pop ss
  mov eax, esp
  mov bx, SEL_DATA0
  mov ss, bx
  mov esp, KSTACK
  SAVE 1, eax
  ; 16-bit operand size, 16-bit → 32-bit stack: SP 0xFFFE → 0x0000.
  mov ax, 0x30
  mov ss, ax
  mov esp, 0x4fffe
  mov word [0xfffe], SEL_DATA0
  o16 pop ss
  mov eax, esp
  mov esp, KSTACK
  SAVE 2, eax
  DONE`,
  });
  ok(r);
  assert.equal(hex(r.slot(0)), '0x20000', '32-bit POP SS from a 16-bit stack');
  assert.equal(hex(r.slot(1)), '0x30000', '32-bit POP SS from a 32-bit stack');
  assert.equal(hex(r.slot(2)), '0x40000', '16-bit POP SS from a 16-bit stack');
});

test("ENTER with 32-bit operands on a 16-bit stack: EBP keeps ESP's upper half", NEEDS_NASM, () => {
  const r = runSys({
    gdt: GDT16,
    body: `
  mov ax, 0x30
  mov ss, ax
  mov esp, 0x10000
  mov ebp, 0x11223344
  enter 8, 0
  mov eax, ebp
  mov ebx, esp
  mov cx, SEL_DATA0
  mov ss, cx
  mov esp, KSTACK
  SAVE 0, eax
  SAVE 1, ebx
  mov eax, [0xfffc]
  SAVE 2, eax
  ; Nesting level 2: the frame pointer pushed is the same 32-bit value.
  mov ax, 0x30
  mov ss, ax
  mov esp, 0x10000
  mov ebp, 0x20000
  mov dword [0xfffc], 0xcafe
  enter 0, 2
  mov eax, ebp
  mov ebx, esp
  mov cx, SEL_DATA0
  mov ss, cx
  mov esp, KSTACK
  SAVE 3, eax
  SAVE 4, ebx
  mov eax, [0xfff4]                   ; SS base 0: pushed at linear SP
  SAVE 5, eax
  DONE`,
  });
  ok(r);
  assert.equal(hex(r.slot(0)), '0x1fffc', 'EBP = ESP[31:16]:SP after the push');
  assert.equal(hex(r.slot(1)), '0x1fff4', 'ESP');
  assert.equal(hex(r.slot(2)), '0x11223344', 'old EBP pushed at SS:0xFFFC');
  assert.equal(hex(r.slot(3)), '0x1fffc', 'EBP with nesting level 2');
  assert.equal(hex(r.slot(4)), '0x1fff4', 'ESP with nesting level 2');
  assert.equal(hex(r.slot(5)), '0x1fffc', 'frame pointer pushed last');
});

test('ENTER faults on its final stack pointer before ESP/EBP change: #PF read-only at CPL 3, not present at CPL 0', NEEDS_NASM, () => {
  const r = runSys({
    body: `
  call enable_paging
  and dword [PT + 0x50*4], ~2          ; page 0x50000 read-only
  and dword [PT + 0x60*4], ~1          ; page 0x60000 not present
  invlpg [0x50000]
  invlpg [0x60000]
  ; CPL 3: the push of EBP lands in a writable page, the frame's end in the read-only one.
  EXPECT .f3
  TO_RING3 .u3
.u3:
  mov esp, 0x51010
  mov ebp, 0x1234
  enter 0x20, 0
  ud2
.f3:
  SAVEFAULT 0
  mov eax, [R_CR2]
  SAVE 2, eax
  mov eax, [R_FRAME + 12]             ; the user ESP in the exception frame
  SAVE 3, eax
  SAVE 4, ebp
  ; CPL 0: the frame's end in a not-present page.
  EXPECT .f0
  mov esp, 0x61100                    ; the handler's frame stays in page 0x61000
  mov ebp, 0x5678
  enter 0x200, 0
  ud2
.f0:
  SAVEFAULT 5
  mov eax, [R_CR2]
  SAVE 7, eax
  mov eax, [R_ESP]
  SAVE 8, eax
  SAVE 9, ebp
  ; The same ENTER with the page writable again completes.
  or dword [PT + 0x60*4], 1
  invlpg [0x60000]
  mov esp, 0x61100
  mov ebp, 0x5678
  enter 0x200, 0
  SAVE 10, esp
  SAVE 11, ebp
  mov esp, KSTACK
  DONE`,
  });
  ok(r);
  assert.deepEqual([r.slot(0), hex(r.slot(1))], [PF, '0x7'], 'CPL 3: #PF, user write to a present page');
  assert.equal(hex(r.slot(2)), '0x50fec', 'CR2 = the final ESP');
  assert.equal(hex(r.slot(3)), '0x51010', 'ESP unchanged');
  assert.equal(hex(r.slot(4)), '0x1234', 'EBP unchanged');
  assert.deepEqual([r.slot(5), hex(r.slot(6))], [PF, '0x2'], 'CPL 0: #PF, write to a not-present page');
  assert.equal(hex(r.slot(7)), '0x60efc', 'CR2 = the final ESP');
  assert.equal(hex(r.slot(9)), '0x5678', 'EBP unchanged');
  // The handler was entered on the same stack (no privilege change): its frame sits just
  // below the faulting ESP, which was restored before delivery.
  assert.equal(hex(r.slot(8)), hex(0x61100 - 12), 'ESP restored before delivery');
  assert.deepEqual([hex(r.slot(10)), hex(r.slot(11))], ['0x60efc', '0x610fc']);
});
