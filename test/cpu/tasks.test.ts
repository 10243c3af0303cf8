// Hardware task switching: CALL/JMP to task gates and TSS descriptors, IRET with NT,
// busy bits and back links, CR0.TS, CR3 and LDT from the new TSS, exceptions through
// task gates with their error code on the new stack (Linux's i386 #DF handler), and
// the checks of SDM table 7-1 with their error codes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSys, NEEDS_NASM, hex, R_VEC, R_ERR, R_EIP, type SysProgram } from './sysasm.js';

const GP = 13, NP = 11, TS = 10, SS_ = 12;

function ok(r: ReturnType<typeof runSys>): void {
  assert.equal(r.exitCode, 0, `program failed: exit ${hex(r.exitCode)} stop ${r.stop} vec ${r.d(R_VEC)} err ${hex(r.d(R_ERR))} eip ${hex(r.d(R_EIP))} out ${r.output}`);
}

/** GDT: 0x30 TSS2 @0x4100, 0x38 TSS3 @0x4200, 0x40 task gate→0x30 DPL 0, 0x48 task gate→0x38 DPL 3. */
const GDT = `
  DESC 0x4100, 0x67, 0x0089           ; 0x30 TSS2
  DESC 0x4200, 0x67, 0x0089           ; 0x38 TSS3
  GATE 0x30, 0, 0x85, 0               ; 0x40 task gate to TSS2, DPL 0
  GATE 0x38, 0, 0xe5, 0               ; 0x48 task gate to TSS3, DPL 3
`;

/** MKTSS addr, eip, esp, cs, data — a 32-bit TSS for a ring-0 flat task (clobbers eax, ecx, edi). */
const MKTSS = `
%macro MKTSS 5
  mov edi, %1
  xor eax, eax
  mov ecx, 0x68 / 4
  rep stosd
  mov dword [%1 + 4], KSTACK
  mov dword [%1 + 8], SEL_DATA0
  mov dword [%1 + 0x1c], PD
  mov dword [%1 + 0x20], %2
  mov dword [%1 + 0x24], 0x2
  mov dword [%1 + 0x38], %3
  mov word [%1 + 0x48], %5
  mov word [%1 + 0x4c], %4
  mov word [%1 + 0x50], %5
  mov word [%1 + 0x54], %5
  mov word [%1 + 0x66], 0x68
%endmacro
%macro BYTE_SLOT 2 ; slot, address
  movzx eax, byte [ss:%2]
  SAVE %1, eax
%endmacro
`;

function prog(p: SysProgram): SysProgram {
  return { gdt: GDT + (p.gdt ?? ''), data: p.data, body: MKTSS + p.body };
}

test('CALL to a task gate and IRET back: NT, back link, busy bits, CR0.TS, registers', NEEDS_NASM, () => {
  const r = runSys(prog({
    body: `
  MKTSS 0x4100, task2, 0x8e000, SEL_CODE0, SEL_DATA0
  mov dword [0x4100 + 0x28], 0xaaaa   ; the new task's EAX
  mov eax, 0x1111
  mov ebx, 0x2222
  call 0x40:0
back1:
  SAVE 0, eax
  SAVE 1, ebx
  pushfd
  pop eax
  SAVE 2, eax
  str eax
  SAVE 3, eax
  BYTE_SLOT 4, gdt + 0x28 + 5
  BYTE_SLOT 5, gdt + 0x30 + 5
  mov eax, cr0
  SAVE 6, eax
  clts
  SAVE 7, back1
  mov eax, [0x4100 + 0x20]
  SAVE 16, eax
  SAVE 17, after_iret
  DONE
task2:
  SAVE 8, eax
  pushfd
  pop eax
  SAVE 9, eax
  str eax
  SAVE 10, eax
  movzx eax, word [0x4100]
  SAVE 11, eax
  BYTE_SLOT 12, gdt + 0x28 + 5
  BYTE_SLOT 13, gdt + 0x30 + 5
  mov eax, [TSS + 0x20]
  SAVE 14, eax
  mov eax, cr0
  SAVE 15, eax
  mov ebx, 0x3333
  iretd
after_iret:
  FAILX 0x71`,
  }));
  ok(r);
  assert.deepEqual([r.slot(0), r.slot(1)], [0x1111, 0x2222], 'IRET reloads the old task\'s registers');
  assert.equal(r.slot(2) & 0x4000, 0, 'NT clear in the outer task');
  assert.equal(r.slot(3), 0x28);
  assert.deepEqual([r.slot(4), r.slot(5)], [0x8b, 0x89], 'after IRET: old task busy, nested task available');
  assert.equal(r.slot(6) & 8, 8, 'CR0.TS set by the task switch');
  assert.equal(r.slot(8), 0xaaaa);
  assert.equal(r.slot(9) & 0x4000, 0x4000, 'NT set in the nested task');
  assert.deepEqual([r.slot(10), r.slot(11)], [0x30, 0x28]);
  assert.deepEqual([r.slot(12), r.slot(13)], [0x8b, 0x8b], 'both tasks busy while nested');
  assert.equal(r.slot(14), r.slot(7), 'old task saved with EIP after the CALL');
  assert.equal(r.slot(15) & 8, 8);
  assert.equal(r.slot(16), r.slot(17), 'the nested task saved with EIP after its IRET');
});

test('JMP to a TSS: no back link or NT, old task released; a busy TSS is #GP(sel); JMP back', NEEDS_NASM, () => {
  const r = runSys(prog({
    body: `
  MKTSS 0x4100, task2, 0x8e000, SEL_CODE0, SEL_DATA0
  mov word [0x4100], 0x7777           ; back link left alone by JMP
  mov esi, 0x5555
  jmp 0x30:0
back2:
  SAVE 6, esi
  str eax
  SAVE 7, eax
  BYTE_SLOT 8, gdt + 0x30 + 5
  DONE
task2:
  pushfd
  pop eax
  SAVE 0, eax
  BYTE_SLOT 1, gdt + 0x28 + 5
  BYTE_SLOT 2, gdt + 0x30 + 5
  movzx eax, word [0x4100]
  SAVE 3, eax
  TRY {jmp 0x30:0}, 4
  jmp 0x28:0`,
  }));
  ok(r);
  assert.equal(r.slot(0) & 0x4000, 0);
  assert.deepEqual([r.slot(1), r.slot(2), r.slot(3)], [0x89, 0x8b, 0x7777]);
  assert.deepEqual([r.slot(4), r.slot(5)], [GP, 0x30]);
  assert.deepEqual([r.slot(6), r.slot(7), r.slot(8)], [0x5555, 0x28, 0x89]);
});

test('double fault through a task gate: error code 0 on the new stack, back link, CR2, faulting EIP saved', NEEDS_NASM, () => {
  const r = runSys(prog({
    body: `
  MKTSS 0x4100, dfh, 0x8e000, SEL_CODE0, SEL_DATA0
  mov dword [IDT + 8*8], 0x00300000
  mov dword [IDT + 8*8 + 4], 0x8500   ; #DF: task gate to TSS2
  mov byte [IDT + 14*8 + 5], 0x0e     ; #PF gate not present: #PF then #NP → #DF
  call enable_paging
  mov dword [PT + (0x300000 >> 12) * 4], 0
  invlpg [0x300000]
  SAVE 7, pf_insn
pf_insn:
  mov eax, [0x300abc]
  FAILX 0x72
dfh:
  pop eax
  SAVE 0, eax
  SAVE 1, esp
  movzx eax, word [0x4100]
  SAVE 2, eax
  pushfd
  pop eax
  SAVE 3, eax
  mov eax, [TSS + 0x20]
  SAVE 4, eax
  mov eax, cr2
  SAVE 5, eax
  mov eax, cr3
  SAVE 6, eax
  DONE`,
  }));
  ok(r);
  assert.deepEqual([r.slot(0), r.slot(1), r.slot(2)], [0, 0x8e000, 0x28]);
  assert.equal(r.slot(3) & 0x4000, 0x4000);
  assert.equal(r.slot(4), r.slot(7), 'the faulting instruction is the saved EIP');
  assert.deepEqual([r.slot(5), r.slot(6)], [0x300abc, 0x100000]);
});

for (const [name, ss0, esp0, vec, err] of [
  ['#TS(SS0 sel): SS0 is a code segment', 'SEL_CODE0', 'KSTACK', TS, 0x08],
  ['#SS(SS0 sel): the ring-0 stack has no room', '0x58', '8', SS_, 0x58],
] as const) {
  test(`call gate to ring 0 with a bad TSS stack raises ${name}, delivered through a task gate`, NEEDS_NASM, () => {
    const r = runSys(prog({
      gdt: `
  GATE SEL_CODE0, A(kg), 0xec, 0      ; 0x50 call gate DPL 3
  DESC 0x50000, 0x0000f, 0x0092       ; 0x58 data DPL 0, limit 15
`,
      body: `
  MKTSS 0x4100, handler, 0x8e000, SEL_CODE0, SEL_DATA0
  mov dword [IDT + ${vec}*8], 0x00300000
  mov dword [IDT + ${vec}*8 + 4], 0x8500
  mov dword [TSS + 8], ${ss0}
  mov dword [TSS + 4], ${esp0}
  TO_RING3 user
user:
  mov [SLOTS + 4*5], esp
  call 0x53:0
  FAILX 0x73
kg:
  FAILX 0x74
handler:
  pop eax
  SAVE 0, eax
  mov eax, [TSS + 0x4c]
  SAVE 1, eax
  mov eax, [TSS + 0x20]
  SAVE 2, eax
  mov eax, [TSS + 0x38]
  SAVE 3, eax
  SAVE 4, user + 6
  DONE`,
    }));
    ok(r);
    assert.equal(r.slot(0), err, 'error code');
    assert.equal(r.slot(1), 0x1b, 'saved CS: the ring-3 caller');
    assert.equal(r.slot(2), r.slot(4), 'saved EIP: the CALL itself');
    assert.equal(r.slot(3), r.slot(5), 'saved ESP: unchanged by the failed CALL');
  });
}

test('a bad data segment in the new TSS raises #TS(sel) in the new task', NEEDS_NASM, () => {
  const r = runSys(prog({
    body: `
  MKTSS 0x4100, task2, 0x8e000, SEL_CODE0, SEL_DATA0
  mov word [0x4100 + 0x54], SEL_TSS    ; DS = a TSS selector
  EXPECT c1
  jmp 0x30:0
task2:
  FAILX 0x75
c1:
  SAVEFAULT 0
  mov eax, [ss:R_EIP]
  SAVE 2, eax
  SAVE 3, task2
  str eax
  SAVE 4, eax
  DONE`,
  }));
  ok(r);
  assert.deepEqual([r.slot(0), r.slot(1)], [TS, 0x28]);
  assert.equal(r.slot(2), r.slot(3), 'fault reported at the new task\'s first instruction');
  assert.equal(r.slot(4), 0x30);
});

test('the new task gets its CR3 and LDT from the TSS', NEEDS_NASM, () => {
  const r = runSys(prog({
    gdt: `
  DESC A(ldt_table), 15, 0x0082       ; 0x50 LDT
`,
    data: `
align 8
ldt_table:
  dq 0
  DESC 0x40000, 0xfffff, 0xc092       ; LDT 0x0c: data based at 0x40000
`,
    body: `
  mov dword [0x50000], 0x11111111
  mov dword [0x51000], 0x22222222
  mov dword [0x40100], 0x33333333
  call enable_paging
  mov dword [PT + (0x300000 >> 12) * 4], 0x50000 | 7
  ; A second page directory whose table maps 0x300000 to 0x51000.
  mov esi, PD
  mov edi, 0x102000
  mov ecx, 2048
  rep movsd
  mov dword [0x102000], 0x103000 | 7
  mov dword [0x103000 + (0x300000 >> 12) * 4], 0x51000 | 7
  mov eax, cr3
  mov cr3, eax
  mov eax, [0x300000]
  SAVE 0, eax
  MKTSS 0x4100, task2, 0x8e000, SEL_CODE0, SEL_DATA0
  mov dword [0x4100 + 0x1c], 0x102000
  mov word [0x4100 + 0x60], 0x50
  mov word [0x4100 + 0x5c], 0x0c       ; GS from the LDT
  mov dword [TSS + 0x1c], PD           ; CR3 is never saved: IRET reloads this one
  call 0x30:0
  mov eax, [0x300000]
  SAVE 4, eax
  mov eax, cr3
  SAVE 5, eax
  DONE
task2:
  mov eax, [0x300000]
  SAVE 1, eax
  mov eax, [gs:0x100]
  SAVE 2, eax
  sldt eax
  SAVE 3, eax
  iretd`,
  }));
  ok(r);
  assert.deepEqual([r.slot(0), r.slot(1), r.slot(2), r.slot(3)], [0x11111111, 0x22222222, 0x33333333, 0x50]);
  assert.deepEqual([r.slot(4), r.slot(5)], [0x11111111, 0x100000]);
});

test('INT n through a DPL-3 task gate from ring 3 and IRET back to ring 3', NEEDS_NASM, () => {
  const r = runSys(prog({
    body: `
  MKTSS 0x4200, task3, 0x8e000, SEL_CODE0, SEL_DATA0
  mov dword [IDT + 0x90*8], 0x00380000
  mov dword [IDT + 0x90*8 + 4], 0xe500
  EXPECT fin
  TO_RING3 user
user:
  mov edx, 0x4444
  int 0x90
  mov [SLOTS + 4*4], edx
  mov eax, cs
  mov [SLOTS + 4*5], eax
  mov [SLOTS + 4*6], esp
  ud2
task3:
  mov eax, cs
  SAVE 0, eax
  mov eax, [TSS + 0x4c]
  SAVE 1, eax
  movzx eax, word [0x4200]
  SAVE 2, eax
  mov edx, 0x9999
  iretd
fin:
  DONE`,
  }));
  ok(r);
  assert.deepEqual([r.slot(0), r.slot(1), r.slot(2)], [0x08, 0x1b, 0x28]);
  assert.deepEqual([r.slot(4), r.slot(5), r.slot(6)], [0x4444, 0x1b, 0x7f000]);
});

test('task switch checks: gate DPL, non-TSS target, TSS limit, not present, IRET to an available TSS', NEEDS_NASM, () => {
  const r = runSys(prog({
    gdt: `
  GATE SEL_DATA0, 0, 0x85, 0           ; 0x50 task gate naming a data segment
  DESC 0x4100, 0x60, 0x0089           ; 0x58 TSS with limit below 0x67
  DESC 0x4100, 0x67, 0x0009           ; 0x60 TSS not present
  GATE 0x60, 0, 0xe5, 0                ; 0x68 task gate DPL 3 to a not-present TSS
`,
    body: `
  MKTSS 0x4100, never, 0x8e000, SEL_CODE0, SEL_DATA0
  TRY3 {call 0x43:0}, 0               ; gate DPL 0 from CPL 3
  TRY {call 0x50:0}, 2
  TRY {jmp 0x58:0}, 4
  TRY {jmp 0x60:0}, 6
  TRY3 {call 0x6b:0}, 8
  ; IRET with NT set and a back link to an available TSS.
  mov word [TSS], 0x30
  pushfd
  or dword [esp], 0x4000
  popfd
  TRY {iretd}, 10
  pushfd
  and dword [esp], ~0x4000
  popfd
  DONE
never:
  FAILX 0x76`,
  }));
  ok(r);
  assert.deepEqual([r.slot(0), r.slot(1)], [GP, 0x40]);
  assert.deepEqual([r.slot(2), r.slot(3)], [GP, 0x10]);
  assert.deepEqual([r.slot(4), r.slot(5)], [TS, 0x58]);
  assert.deepEqual([r.slot(6), r.slot(7)], [NP, 0x60]);
  assert.deepEqual([r.slot(8), r.slot(9)], [NP, 0x60]);
  assert.deepEqual([r.slot(10), r.slot(11)], [TS, 0x30]);
});

test('16-bit TSS: CALL into a 16-bit task and IRET back to the 32-bit one', NEEDS_NASM, () => {
  const r = runSys(prog({
    gdt: `
  DESC 0x4300, 0x2b, 0x0081           ; 0x50 16-bit TSS
  DESC 0x10000, 0xffff, 0x009a        ; 0x58 16-bit code based at the program
`,
    body: `
  mov edi, 0x4300
  xor eax, eax
  mov ecx, 0x2c / 4
  rep stosd
  mov word [0x4300 + 0x0e], task16 - $$
  mov word [0x4300 + 0x10], 0x0002
  mov word [0x4300 + 0x12], 0xa5a5    ; AX
  mov word [0x4300 + 0x18], 0x5a5a    ; BX
  mov word [0x4300 + 0x1a], 0xe000    ; SP
  mov word [0x4300 + 0x22], SEL_DATA0 ; ES
  mov word [0x4300 + 0x24], 0x58      ; CS
  mov word [0x4300 + 0x26], SEL_DATA0 ; SS
  mov word [0x4300 + 0x28], SEL_DATA0 ; DS
  mov eax, 0x12345678
  mov ebx, 0x87654321
  call 0x50:0
  SAVE 0, eax
  BYTE_SLOT 1, gdt + 0x50 + 5
  DONE
bits 16
task16:
  mov [SLOTS + 4*2], ax
  mov ax, [0x4300]
  mov [SLOTS + 4*3], ax
  mov [SLOTS + 4*4], sp
  mov ax, cs
  mov [SLOTS + 4*5], ax
  str ax
  mov [SLOTS + 4*6], ax
  pushf
  pop ax
  mov [SLOTS + 4*7], ax
  mov [SLOTS + 4*8], ebx
  mov [SLOTS + 4*9], esp
  iret
bits 32`,
  }));
  ok(r);
  assert.equal(r.slot(0), 0x12345678);
  assert.equal(r.slot(1), 0x81, 'the 16-bit TSS is available again');
  assert.deepEqual([r.slot(2), r.slot(3), r.slot(4), r.slot(5), r.slot(6)], [0xa5a5, 0x28, 0xe000, 0x58, 0x50]);
  assert.equal(r.slot(7) & 0x4000, 0x4000);
  // The 286 TSS has no upper halves: the processor loads them as 0xFFFF, not the old task's.
  assert.equal(hex(r.slot(8)), '0xffff5a5a', 'EBX upper half after the switch into a 16-bit TSS');
  assert.equal(hex(r.slot(9)), '0xffffe000', 'ESP upper half after the switch into a 16-bit TSS');
});
