; descriptors.asm — protection checks on selectors, differentially: a GDT with every
; descriptor type (S and the 4-bit type) at every DPL, some not present, plus null,
; out-of-limit and LDT selectors, each with every RPL, goes through MOV ES, MOV SS,
; LAR, LSL, VERR and VERW at CPL 0 and at CPL 3. The outcome of each (success, or the
; exception vector and error code; ZF and the LAR/LSL result) is hashed and compared
; with the hash recorded on QEMU (descriptors-expected.inc, written by
; scripts/build-asm.sh --record); -DRECORD -DDUMP prints every outcome.
%include "common.inc"
org BASE

NEWGDT  equ 0x20000
FIRST   equ 8                         ; first test descriptor index
NTEST   equ 32*4 + 3*4                ; every S|type at every DPL, then not-present ones
NSEL    equ (NTEST + 4) * 4           ; with every RPL; 4 special selectors
RESULTS equ 0x60000
USTACK  equ 0x50000

    REAL_START
    ENTER_PM32 pm_entry

bits 32
pm_entry:
    PM32_SETUP
    ; The new GDT: the six common entries, then the test descriptors (base 0, limit 4 GiB).
    mov esi, gdt
    mov edi, NEWGDT
    mov ecx, 6*2
.copy:
    mov eax, [esi]
    mov [edi], eax
    add esi, 4
    add edi, 4
    dec ecx
    jnz .copy
    mov edi, NEWGDT + FIRST*8
    xor ebx, ebx                      ; S|type
.t: xor edx, edx                      ; DPL
.d: mov eax, edx
    shl eax, 5
    or eax, ebx
    or eax, 0x80                      ; present
    shl eax, 8
    or eax, 0x00CF0000
    mov dword [edi], 0x0000FFFF
    mov [edi+4], eax
    add edi, 8
    inc edx
    cmp edx, 4
    jb .d
    inc ebx
    cmp ebx, 32
    jb .t
    xor edx, edx                      ; not present: data, code, TSS at every DPL
.np:
    mov eax, edx
    shl eax, 13
    or eax, 0x00CF1200
    mov dword [edi], 0x0000FFFF
    mov [edi+4], eax
    or eax, 0x0800                    ; code, readable
    mov dword [edi+8], 0x0000FFFF
    mov [edi+12], eax
    mov eax, edx
    shl eax, 13
    or eax, 0x00000900                ; 32-bit TSS
    mov dword [edi+16], 0x00000067
    mov [edi+20], eax
    add edi, 24
    inc edx
    cmp edx, 4
    jb .np
    mov word [newgdt_desc], (FIRST + NTEST)*8 - 1
    mov dword [newgdt_desc+2], NEWGDT
    lgdt [newgdt_desc]
    ; The TSS (ring-0 stack for the CPL 3 pass), no LDT.
    mov dword [TSS_ADDR + 4], 0xE000
    mov dword [TSS_ADDR + 8], SEL_DATA0
    mov word [TSS_ADDR + 0x66], 0x68
    mov ax, SEL_TSS
    ltr ax
    xor ax, ax
    lldt ax
    ; Selector list: every test descriptor with every RPL, then null, beyond the GDT
    ; limit, and two LDT selectors (no LDT), each with every RPL.
    mov edi, sellist
    mov eax, FIRST*8
    mov ecx, NTEST*4
.s: mov [edi], ax
    add edi, 2
    inc eax
    test al, 3
    jnz .same
    add eax, 4                        ; RPL 0..3 done: next index (TI stays 0)
.same:
    dec ecx
    jnz .s
    mov eax, 0
    call .four
    mov eax, 0xFF8
    call .four
    mov eax, 0x44
    call .four
    mov eax, 0x0C
    call .four
    jmp .run
.four:
    mov ecx, 4
.f: mov [edi], ax
    add edi, 2
    inc eax
    dec ecx
    jnz .f
    ret
.run:
%ifndef RECORD
    PRINT "descriptors: cpl 0", 10
%endif
    mov ebp, RESULTS
    call probe_all
    mov eax, report
    mov ecx, 0x80
    mov dl, 0xEE
    call set_gate
    ; Ring 3 (flat user segments from the common GDT entries).
    mov ax, SEL_DATA3
    mov ds, ax
    mov es, ax
    push dword SEL_DATA3
    push dword USTACK
    pushfd
    and dword [esp], ~0x3200
    push dword SEL_CODE3
    push dword ring3
    iretd
ring3:
    call probe_all
    mov eax, 1
    int 0x80                          ; back to ring 0 to report

; probe_all: EBP = result cursor. For each selector: MOV ES, MOV SS, LAR, LSL, VERR, VERW.
probe_all:
    mov esi, sellist
.next:
    movzx ebx, word [esi]
    ; MOV ES
    mov dword [exc_count], 0
    mov dword [recover], .r1
    mov es, bx
.r1: call outcome
    mov ax, ds
    mov es, ax
    ; MOV SS (put back the stack segment of this CPL right after)
    mov dword [exc_count], 0
    mov dword [recover], .r2
    mov ax, ss
    mov ss, bx
    mov ss, ax
.r2: call outcome
    ; LAR / LSL / VERR / VERW: ZF and the result
    mov ecx, 0x12345678
    lar ecx, ebx
    call zf_result_lar
    mov ecx, 0x12345678
    lsl ecx, ebx
    call zf_result
    xor ecx, ecx
    verr bx
    call zf_result
    verw bx
    call zf_result
    add esi, 2
    cmp esi, sellist + NSEL*2
    jb .next
    ret

; outcome: 0 when nothing faulted, else (vector << 16) | error code.
outcome:
    xor eax, eax
    cmp dword [exc_count], 0
    je .ok
    mov eax, [exc_vec]
    shl eax, 16
    mov ax, [exc_err]
.ok:
    mov [ebp], eax
    add ebp, 4
    mov dword [recover], 0
    ret
; zf_result: ZF in bit 31 (from the flags at the call), ECX below it.
zf_result:
    mov eax, ecx
    jnz .nz
    or eax, 0x80000000
    mov [ebp], eax
    add ebp, 4
    ret
.nz:
    and eax, 0x7FFFFFFF
    mov [ebp], eax
    add ebp, 4
    ret
zf_result_lar:
    jnz .nz
    and ecx, 0x00F0FF00              ; bits 19..16 are undefined
    or ecx, 0x80000000
    mov [ebp], ecx
    add ebp, 4
    ret
.nz:
    and ecx, 0x7FFFFFFF
    mov [ebp], ecx
    add ebp, 4
    ret

; INT 0x80 from ring 3: hash the results (both passes) and report.
report:
    mov ax, SEL_DATA0
    mov ds, ax
    mov es, ax
    mov esi, 0x811C9DC5
    mov ecx, RESULTS
.h: mov eax, [ecx]
%ifdef DUMP
    push eax
    push eax
    mov eax, ecx
    call puthex32
    mov al, ' '
    out 0xE9, al
    pop eax
    call puthex32
    mov al, 10
    out 0xE9, al
    pop eax
%endif
    xor esi, eax
    imul esi, esi, 16777619
    add ecx, 4
    cmp ecx, RESULTS + NSEL*6*4*2
    jb .h
    mov eax, esi
    FINISH_HASH 'descriptors'

align 4
newgdt_desc: dw 0
             dd 0
prog_name:   db 'descriptors', 0
%ifndef RECORD
%include "descriptors-expected.inc"
%endif
    COMMON_CODE
align 4
sellist:
