// Privilege transitions: IRET to ring 3 and back through interrupt gates, call gates
// (32/16-bit, parameter copying, stack switch through the TSS), RETF to an outer level,
// and the faults with their error codes (#GP, #NP, #TS, #SS) in the SDM's order.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSys, NEEDS_NASM, hex, R_VEC, R_ERR, R_EIP } from './sysasm.js';

const GP = 13, NP = 11, SS_ = 12, UD = 6;

function ok(r: ReturnType<typeof runSys>): void {
  assert.equal(r.exitCode, 0, `program failed: exit ${hex(r.exitCode)} stop ${r.stop} vec ${r.d(R_VEC)} err ${hex(r.d(R_ERR))} eip ${hex(r.d(R_EIP))} out ${r.output}`);
}

test('IRET to ring 3 and back through a DPL-3 interrupt gate: frame, TSS stack, segment nulling', NEEDS_NASM, () => {
  const r = runSys({
    body: `
  SETGATE 0x80, kint, 0xee
  mov ax, SEL_DATA0
  mov fs, ax                    ; DPL 0: IRET to ring 3 must null it
  mov ax, SEL_DATA3
  mov ds, ax
  push dword SEL_DATA3
  push dword USTACK
  push dword 0x202
  push dword SEL_CODE3
  push dword user
  iretd
user:
  mov eax, fs
  mov [SLOTS + 4*0], eax
  mov eax, cs
  mov [SLOTS + 4*1], eax
  mov eax, ss
  mov [SLOTS + 4*2], eax
  mov [SLOTS + 4*3], esp
  mov ebx, 0x1234
  int 0x80
after:
  mov [SLOTS + 4*12], ebx
  mov eax, ds
  mov [SLOTS + 4*13], eax
  ud2
kint:
  mov eax, cs
  SAVE 4, eax
  mov eax, ss
  SAVE 5, eax
  SAVE 6, esp
  mov eax, [esp]
  SAVE 7, eax                   ; EIP
  mov eax, [esp + 4]
  SAVE 8, eax                   ; CS
  mov eax, [esp + 8]
  SAVE 9, eax                   ; EFLAGS
  mov eax, [esp + 12]
  SAVE 10, eax                  ; ESP
  mov eax, [esp + 16]
  SAVE 11, eax                  ; SS
  pushfd
  pop eax
  SAVE 14, eax
  mov ebx, 0x5678
  EXPECT done
  iretd
done:
  DONE`,
  });
  ok(r);
  assert.deepEqual([r.slot(0), r.slot(1), r.slot(2), r.slot(3)], [0, 0x1b, 0x23, 0x7f000]);
  assert.deepEqual([r.slot(4), r.slot(5), r.slot(6)], [0x08, 0x10, 0x8f000 - 20]);
  assert.equal(r.slot(8), 0x1b);
  assert.equal(r.slot(9), 0x202);
  assert.deepEqual([r.slot(10), r.slot(11)], [0x7f000, 0x23]);
  assert.deepEqual([r.slot(12), r.slot(13)], [0x5678, 0x23]);
  assert.equal(r.slot(14) & 0x200, 0, 'interrupt gate clears IF');
  // The ud2 after the return from ring 0 ends the run through the recording handler.
  assert.equal(r.d(R_VEC), UD);
});

test('INT n from ring 3: DPL-0 gate #GP(vec*8+2), missing gate #NP(vec*8+2), beyond IDT limit #GP, trap gate keeps IF', NEEDS_NASM, () => {
  const r = runSys({
    body: `
  SETGATE 0x81, ktrap, 0xef
  SETGATE 0x82, kint, 0x8e
  mov byte [IDT + 0x83*8 + 5], 0x6e   ; DPL 3, not present
  TRY3 {int 0x82}, 0
  TRY3 {int 0x83}, 2
  TRY {int 0x83}, 4
  mov dword [0x40000], 0x00ff     ; IDT limit 0xff: 32 gates
  mov dword [0x40002], IDT
  lidt [0x40000]
  TRY {int 0x40}, 6
  mov word [0x40000], 0x7ff
  lidt [0x40000]
  EXPECT c8
  TO_RING3 u8, 0x202
u8:
  int 0x81
c8:
  DONE
ktrap:
  pushfd
  pop eax
  SAVE 8, eax
  mov dword [ss:R_CONT], 0
  DONE
kint:
  FAILX 0x60`,
  });
  ok(r);
  assert.deepEqual([r.slot(0), r.slot(1)], [GP, 0x82 * 8 + 2]);
  assert.deepEqual([r.slot(2), r.slot(3)], [NP, 0x83 * 8 + 2]);
  assert.deepEqual([r.slot(4), r.slot(5)], [NP, 0x83 * 8 + 2]);
  assert.deepEqual([r.slot(6), r.slot(7)], [GP, 0x40 * 8 + 2]);
  assert.equal(r.slot(8) & 0x200, 0x200);
});

test('exceptions carry EXT in error codes: a fault whose gate is missing reports #NP(vec*8+3)', NEEDS_NASM, () => {
  const r = runSys({
    body: `
  ; #UD's gate not present: delivering #UD raises #NP(6*8+2+1).
  mov byte [IDT + 6*8 + 5], 0x0e
  TRY {ud2}, 0
  mov byte [IDT + 6*8 + 5], 0x8e
  ; #UD's gate points at a selector beyond the GDT: #GP(sel+1).
  mov word [IDT + 6*8 + 2], 0x1000
  TRY {ud2}, 2
  mov word [IDT + 6*8 + 2], SEL_CODE0
  DONE`,
  });
  ok(r);
  assert.deepEqual([r.slot(0), r.slot(1)], [NP, 6 * 8 + 3]);
  assert.deepEqual([r.slot(2), r.slot(3)], [GP, 0x1001]);
});

test('segment loads: #GP(sel) beyond limit, SS RPL mismatch, #NP and #SS for not-present, null SS #GP(0)', NEEDS_NASM, () => {
  const r = runSys({
    gdt: `
  DESC 0, 0xfffff, 0x4012          ; 0x30 data, not present
  DESC 0, 0xfffff, 0xc098          ; 0x38 execute-only code
`,
    body: `
  mov ax, 0x1000
  TRY {mov ds, ax}, 0
  mov ax, SEL_DATA3
  TRY {mov ss, ax}, 2
  mov ax, 0x30
  TRY {mov ds, ax}, 4
  TRY {mov ss, ax}, 6
  xor ax, ax
  TRY {mov ss, ax}, 8
  mov ax, 0x38
  TRY {mov es, ax}, 10
  mov bx, SEL_DATA0 | 3
  TRY3 {mov gs, bx}, 12
  xor ax, ax
  mov es, ax
  TRY {mov dword [es:0], 1}, 14
  DONE`,
  });
  ok(r);
  assert.deepEqual([r.slot(0), r.slot(1)], [GP, 0x1000]);
  assert.deepEqual([r.slot(2), r.slot(3)], [GP, 0x20]);
  assert.deepEqual([r.slot(4), r.slot(5)], [NP, 0x30]);
  assert.deepEqual([r.slot(6), r.slot(7)], [SS_, 0x30]);
  assert.deepEqual([r.slot(8), r.slot(9)], [GP, 0]);
  assert.deepEqual([r.slot(10), r.slot(11)], [GP, 0x38]);
  assert.deepEqual([r.slot(12), r.slot(13)], [GP, 0x10]);
  assert.deepEqual([r.slot(14), r.slot(15)], [GP, 0]);
});

test('CALL through a 32-bit call gate from ring 3 to ring 0 copies parameters; RETF n returns to ring 3', NEEDS_NASM, () => {
  const r = runSys({
    gdt: `
  GATE SEL_CODE0, A(kgate), 0xec, 2   ; 0x30 32-bit call gate, DPL 3, 2 dwords
  GATE SEL_CODE0, A(kgate), 0x8c, 0   ; 0x38 DPL 0 call gate
  GATE SEL_CODE0, A(kgate), 0x6c, 0   ; 0x40 not present
`,
    body: `
  TO_RING3 user
user:
  push dword 0x1111
  push dword 0x2222
  mov [SLOTS + 4*0], esp
  call 0x33:0
ret_here:
  mov [SLOTS + 4*10], esp
  mov eax, cs
  mov [SLOTS + 4*11], eax
  mov eax, ss
  mov [SLOTS + 4*12], eax
  mov eax, ds
  mov [ss:SLOTS + 4*13], eax
  mov eax, es
  mov [ss:SLOTS + 4*14], eax
  ; Gate DPL 0 from CPL 3: #GP(0x38). Not-present gate: #NP(0x40).
  EXPECT c1
  call 0x3b:0
c1:
  SAVEFAULT 15
  TRY3 {call 0x43:0}, 17
  DONE
kgate:
  mov eax, cs
  SAVE 1, eax
  mov eax, ss
  SAVE 2, eax
  SAVE 3, esp
  mov eax, [esp]
  SAVE 4, eax                    ; return EIP
  mov eax, [esp + 4]
  SAVE 5, eax                    ; caller CS
  mov eax, [esp + 8]
  SAVE 6, eax                    ; parameter 1 (last pushed)
  mov eax, [esp + 12]
  SAVE 7, eax                    ; parameter 2
  mov eax, [esp + 16]
  SAVE 8, eax                    ; caller ESP
  mov eax, [esp + 20]
  SAVE 9, eax                    ; caller SS
  mov ax, SEL_DATA0
  mov es, ax                     ; DPL 0: nulled by the RETF to ring 3
  retf 8`,
  });
  ok(r);
  const userEsp = 0x7f000 - 8;
  assert.equal(r.slot(0), userEsp);
  assert.deepEqual([r.slot(1), r.slot(2), r.slot(3)], [0x08, 0x10, 0x8f000 - 24]);
  assert.equal(r.slot(5), 0x1b);
  assert.deepEqual([r.slot(6), r.slot(7)], [0x2222, 0x1111]);
  assert.deepEqual([r.slot(8), r.slot(9)], [userEsp, 0x23]);
  assert.deepEqual([r.slot(10), r.slot(11), r.slot(12)], [userEsp + 8, 0x1b, 0x23]);
  assert.deepEqual([r.slot(13), r.slot(14)], [0x23, 0]);
  assert.deepEqual([r.slot(15), r.slot(16)], [GP, 0x38]);
  assert.deepEqual([r.slot(17), r.slot(18)], [NP, 0x40]);
});

test('16-bit call gate to ring 0 pushes a 16-bit frame; JMP through a call gate; direct far CALL/RETF; conforming code keeps CPL', NEEDS_NASM, () => {
  const r = runSys({
    gdt: `
  GATE 0x50, (kgate16 - $$), 0xe4, 1  ; 0x30 16-bit call gate DPL 3, one word
  GATE SEL_CODE0, A(jtarget), 0x8c, 0 ; 0x38 32-bit call gate DPL 0 (for JMP at ring 0)
  DESC 0, 0xfffff, 0xc09e             ; 0x40 conforming code DPL 0
  GATE 0x40, A(conf), 0xec, 0         ; 0x48 call gate to conforming code
  DESC 0x10000, 0xffff, 0x409a        ; 0x50 code DPL 0 based at the program
  DESC 0x10000, 0xffff, 0x40fa        ; 0x58 code DPL 3 based at the program
`,
    body: `
  jmp 0x38:0
  FAILX 0x61
jtarget:
  mov eax, cs
  SAVE 0, eax
  call SEL_CODE0:near_far
  SAVE 1, esp
  mov ax, SEL_DATA3
  mov ds, ax
  push dword SEL_DATA3
  push dword USTACK
  push dword 2
  push dword 0x5b
  push dword user - $$             ; offsets in 0x58 are relative to the program
  iretd
user:
  mov esp, 0xe000                ; below 64 KiB: a 16-bit gate saves only SP
  push word 0xabcd
  mov [SLOTS + 4*2], esp
  call 0x33:0
  mov [SLOTS + 4*9], esp
  call 0x4b:0
  mov [SLOTS + 4*12], eax
  EXPECT fin
  ud2
fin:
  DONE
near_far:
  retf
conf:
  mov eax, cs
  mov [SLOTS + 4*10], eax
  mov [SLOTS + 4*11], esp
  mov eax, 0x77
  retf
kgate16:
  mov eax, cs
  SAVE 3, eax
  SAVE 4, esp
  movzx eax, word [esp]
  SAVE 5, eax                    ; IP
  movzx eax, word [esp + 2]
  SAVE 6, eax                    ; CS
  movzx eax, word [esp + 4]
  SAVE 7, eax                    ; the parameter
  movzx eax, word [esp + 6]
  SAVE 8, eax                    ; SP
  o16 retf 2`,
  });
  ok(r);
  assert.equal(r.slot(0), 0x08);
  assert.equal(r.slot(1), 0x8f000);
  const sp = 0xe000 - 2;
  assert.equal(r.slot(2), sp);
  assert.deepEqual([r.slot(3), r.slot(4)], [0x50, 0x8f000 - 10]);
  assert.deepEqual([r.slot(6), r.slot(7), r.slot(8)], [0x5b, 0xabcd, sp & 0xffff]);
  assert.equal(r.slot(9), sp + 2);
  assert.deepEqual([r.slot(10), r.slot(11), r.slot(12)], [0x43, sp + 2 - 8, 0x77]);
});

test('RETF to an outer level checks the returned SS; RETF with RPL < CPL is #GP', NEEDS_NASM, () => {
  const r = runSys({
    gdt: `
  DESC 0, 0x00fff, 0x40fa              ; 0x30 code DPL 3, limit 0xfff
`,
    body: `
  ; RETF to ring 3 with an SS of the wrong privilege: #GP(SS sel).
  push dword SEL_DATA0 | 3
  push dword USTACK
  push dword SEL_CODE3
  push dword 0
  TRY {retf}, 0
  ; SS null: #GP(0)
  push dword 0
  push dword USTACK
  push dword SEL_CODE3
  push dword 0
  TRY {retf}, 2
  ; From ring 3, RETF to ring 0: #GP(code sel).
  TRY3 {jmp r3retf}, 4
  ; Return EIP beyond the code limit: #GP(0) before anything changes.
  push dword SEL_DATA3
  push dword USTACK
  push dword 0x33
  push dword 0x100000
  TRY {retf}, 6
  DONE
r3retf:
  push dword SEL_CODE0
  push dword 0
  retf`,
  });
  ok(r);
  assert.deepEqual([r.slot(0), r.slot(1)], [GP, 0x10]);
  assert.deepEqual([r.slot(2), r.slot(3)], [GP, 0]);
  assert.deepEqual([r.slot(4), r.slot(5)], [GP, 0x08]);
  assert.deepEqual([r.slot(6), r.slot(7)], [GP, 0]);
});
