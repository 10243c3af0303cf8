// Virtual-8086 mode without VME: IRET into VM86, segment arithmetic, the IOPL-sensitive
// instructions (CLI STI PUSHF POPF INT n IRET) faulting with #GP(0) below IOPL 3, I/O
// through the TSS bitmap regardless of IOPL, and interrupts out of VM86 with the
// nine-slot frame and nulled data segments.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSys, NEEDS_NASM, hex, R_VEC, R_ERR, R_EIP, R_FRAME, R_DS } from './sysasm.js';

const GP = 13;

function ok(r: ReturnType<typeof runSys>): void {
  assert.equal(r.exitCode, 0, `program failed: exit ${hex(r.exitCode)} stop ${r.stop} vec ${r.d(R_VEC)} err ${hex(r.d(R_ERR))} eip ${hex(r.d(R_EIP))} out ${r.output}`);
}

/** TO_V86 label, iopl — IRETD into VM86 at 1000:(label-0x10000), DS=ES=0x2000, SS:SP=3000:FFF0. */
const MACROS = `
%macro TO_V86 2
  push dword 0x0
  push dword 0x0
  push dword 0x2000
  push dword 0x2000
  push dword 0x3000
  push dword 0xfff0
  push dword 0x20002 | ((%2) << 12)
  push dword 0x1000
  push dword (%1) - $$
  iretd
%endmacro
; V86TRY label, iopl, slot — run VM86 code at label; its fault goes to slot, slot+1
%macro V86TRY 3
  EXPECT %%c
  TO_V86 %1, %2
%%c:
  SAVEFAULT %3
%endmacro
`;

test('IRET to VM86: segment arithmetic, #GP(0) frame with nine slots, data segments nulled in the handler', NEEDS_NASM, () => {
  const r = runSys({
    body: MACROS + `
  EXPECT c1
  TO_V86 v1, 0
c1:
  SAVEFAULT 0
%assign k 0
%rep 9
  mov eax, [R_FRAME + 4*k]
  SAVE 2 + k, eax
%assign k k+1
%endrep
  mov eax, [R_DS]
  SAVE 11, eax
  movzx eax, word [0x20010]
  SAVE 12, eax
  movzx eax, word [0x3ffee]
  SAVE 13, eax
  DONE
bits 16
v1:
  mov word [0x10], 0x1234         ; DS 0x2000: linear 0x20010
  push word 0x5678                ; SS 0x3000, SP 0xfff0: linear 0x3ffee
  mov ax, 0x4000
  mov fs, ax
  cli                             ; IOPL 0: #GP(0)
bits 32`,
  });
  ok(r);
  assert.deepEqual([r.slot(0), r.slot(1)], [GP, 0]);
  const frame = Array.from({ length: 9 }, (_, k) => r.slot(2 + k));
  assert.equal(frame[1], 0x1000, 'CS');
  assert.equal(frame[2]! & 0x20000, 0x20000, 'EFLAGS.VM in the frame');
  assert.deepEqual(frame.slice(3), [0xffee, 0x3000, 0x2000, 0x2000, 0x4000, 0], 'SP SS ES DS FS GS');
  assert.equal(r.slot(11), 0, 'DS is null in the handler');
  assert.deepEqual([r.slot(12), r.slot(13)], [0x1234, 0x5678]);
});

test('VM86 at IOPL 0: CLI STI PUSHF POPF INT n INT3 IRET HLT are #GP(0); I/O uses the TSS bitmap', NEEDS_NASM, () => {
  const r = runSys({
    body: MACROS + `
  V86TRY v_cli, 0, 0
  V86TRY v_sti, 0, 2
  V86TRY v_pushf, 0, 4
  V86TRY v_popf, 0, 6
  V86TRY v_int, 0, 8
  V86TRY v_int3, 0, 10
  V86TRY v_iret, 0, 12
  V86TRY v_hlt, 0, 14
  V86TRY v_in80, 3, 16            ; denied in the bitmap even at IOPL 3
  V86TRY v_oute9, 0, 18           ; allowed in the bitmap at IOPL 0; then HLT
  V86TRY v_limit, 3, 20           ; offset beyond 64 KiB
  DONE
bits 16
v_cli: cli
v_sti: sti
v_pushf: pushf
v_popf: popf
v_int: int 0x21
v_int3: int3
v_iret: iret
v_hlt: hlt
v_in80: in al, 0x80
v_oute9:
  mov al, 'V'
  out 0xe9, al
  hlt
v_limit:
  mov ax, [0xffff]
bits 32`,
  });
  ok(r);
  for (let s = 0; s <= 20; s += 2) assert.deepEqual([r.slot(s), r.slot(s + 1)], [GP, 0], `slot ${s}`);
  assert.equal(r.output, 'V');
});

test('VM86 at IOPL 3: CLI/STI/PUSHF/POPF work, POPF and IRET keep IOPL, INT n goes to a ring-0 handler and IRET returns', NEEDS_NASM, () => {
  const r = runSys({
    body: MACROS + `
  SETGATE 0x81, kint, 0xee
  EXPECT c1
  TO_V86 v1, 3
c1:
  SAVEFAULT 0
  movzx eax, word [0x20030]
  SAVE 2, eax
  movzx eax, word [0x20032]
  SAVE 3, eax
  mov eax, [0x20034]
  SAVE 4, eax
  movzx eax, word [0x20038]
  SAVE 5, eax
  movzx eax, word [0x2003a]
  SAVE 6, eax
  DONE
kint:
  mov eax, ds
  SAVE 10, eax
  mov eax, [esp + 4]
  SAVE 11, eax                   ; CS
  mov eax, [esp + 8]
  SAVE 12, eax                   ; EFLAGS
  mov eax, [esp + 24]
  SAVE 13, eax                   ; DS
  mov eax, cs
  SAVE 14, eax
  mov ebx, 0xcafe
  iretd
bits 16
v1:
  cli
  sti
  push word 0x0202                ; IOPL 0 in the image
  popf
  pushf
  pop ax
  mov [0x30], ax
  pushfd
  pop eax
  mov [0x34], eax                 ; PUSHFD: VM clear in the image
  pushf                           ; IRET with an IOPL-0 image
  push cs
  push word v1b - $$
  and word [ss:0xffee], 0xcfff    ; clear IOPL in the pushed FLAGS image
  iret
v1b:
  pushf
  pop ax
  mov [0x32], ax
  mov bx, 0
  int 0x81
  mov [0x38], bx
  mov ax, ds
  mov [0x3a], ax
  hlt
bits 32`,
  });
  ok(r);
  assert.deepEqual([r.slot(0), r.slot(1)], [GP, 0], 'HLT at the end');
  assert.equal(r.slot(2) & 0x3000, 0x3000, `POPF kept IOPL: ${hex(r.slot(2))}`);
  assert.equal(r.slot(3) & 0x3000, 0x3000, `IRET kept IOPL: ${hex(r.slot(3))}`);
  assert.equal(r.slot(4) & 0x20000, 0, 'PUSHFD clears VM in the image');
  assert.deepEqual([r.slot(5), r.slot(6)], [0xcafe, 0x2000]);
  assert.deepEqual([r.slot(10), r.slot(11), r.slot(13), r.slot(14)], [0, 0x1000, 0x2000, 0x08]);
  assert.equal(r.slot(12) & 0x23000, 0x23000);
});
