; ring3.asm — privilege levels: a TSS with SS0:ESP0, IRET to ring 3 (data segments
; the new CPL may not use are nulled), INT 0x80 through a DPL-3 interrupt gate back to
; ring 0 with a stack switch (the frame: SS, ESP, EFLAGS, CS, EIP), privileged
; instructions and I/O at CPL 3 → #GP(0), a DPL-0 gate → #GP(vector), a DPL-0 data
; selector → #GP(selector), user accesses to supervisor and read-only pages → #PF with
; the U bit, and IOPL 3 granting CLI and I/O while POPF cannot change IOPL.
%include "common.inc"
org BASE

%macro GDT_EXTRA 0
    dq 0                           ; 0x30 call gate to ring 0, DPL 3 (built at run time)
%endmacro
SEL_GATE equ 0x33
SYSENTER_STACK equ 0xD000

KSTACK   equ 0xE000            ; TSS.ESP0
USTACK   equ 0x50000           ; ring-3 stack top
SUPPAGE  equ 0x97000           ; supervisor-only page
ROPAGE   equ 0x98000           ; user read-only page
NOPAGE   equ 0x99000           ; not present

; ARM label — the next exception resumes at `label` (works from ring 3: data is user).
%macro ARM 1
    mov dword [exc_count], 0
    mov dword [recover], %1
%endmacro

; GP_AT label, err, n — one #GP(err) at label, from ring 3 (checks n..n+3).
%macro FAULT_AT 4
    CHECKEQ dword [exc_count], 1, %4
    CHECKEQ dword [exc_vec], %1, %4+1
    CHECKEQ dword [exc_err], %2, %4+2
    CHECKEQ dword [exc_eip], %3, %4+3
%endmacro

    REAL_START
    ENTER_PM32 pm_entry

bits 32
pm_entry:
    PM32_SETUP
    ; Paging: identity map, everything user-accessible but three pages.
    call paging_init
    mov dword [0x81000 + (SUPPAGE >> 12)*4], SUPPAGE | 3
    mov dword [0x81000 + (ROPAGE >> 12)*4], ROPAGE | 5
    mov dword [0x81000 + (NOPAGE >> 12)*4], 0
    mov dword [SUPPAGE], 0x5EC2E7
    mov dword [ROPAGE], 0x2EAD
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    CHECKEQ dword [SUPPAGE], 0x5EC2E7, 1      ; ring 0 reads the supervisor page

    ; TSS: SS0:ESP0, no I/O bitmap (its offset lies past the limit).
    mov edi, TSS_ADDR
    mov ecx, 0x68/4
    xor eax, eax
.z: mov [edi], eax
    add edi, 4
    dec ecx
    jnz .z
    mov dword [TSS_ADDR + 4], KSTACK
    mov dword [TSS_ADDR + 8], SEL_DATA0
    mov word [TSS_ADDR + 0x66], 0x68
    mov ax, SEL_TSS
    ltr ax
    str ax
    CHECKEQ ax, SEL_TSS, 2
    test byte [gdt + SEL_TSS + 5], 2          ; LTR marks the TSS busy
    CHECK nz, 3

    mov eax, syscall
    mov ecx, 0x80
    mov dl, 0xEE                              ; interrupt gate, DPL 3
    call set_gate
    mov ecx, 0x81
    mov dl, 0x8E                              ; DPL 0: not for ring 3
    call set_gate

    ; A 32-bit call gate (DPL 3, two parameters) to gate_target, and SYSENTER MSRs.
    mov eax, gate_target
    mov [gdt + 0x30], ax
    mov word [gdt + 0x32], SEL_CODE0
    mov ax, 0xEC02                            ; present, DPL 3, 32-bit call gate, 2 dwords
    mov [gdt + 0x34], eax                     ; offset 31..16 stays in the high word
    mov ecx, 0x174
    xor edx, edx
    mov eax, SEL_CODE0
    wrmsr
    mov ecx, 0x175
    mov eax, SYSENTER_STACK
    wrmsr
    mov ecx, 0x176
    mov eax, sysenter_target
    wrmsr

    ; To ring 3: DS/ES/GS user data (kept), FS kernel data (nulled by the IRET).
    mov ax, SEL_DATA3
    mov ds, ax
    mov es, ax
    mov gs, ax
    mov ax, SEL_DATA0
    mov fs, ax
    PRINT "ring3: iret to ring 3", 10
    push dword SEL_DATA3
    push dword USTACK
    pushfd
    and dword [esp], ~0x3200                  ; IF = 0, IOPL = 0
    push dword SEL_CODE3
    push dword user_main
    iretd

; ---------------------------------------------------------------------------
; Ring 3. Checks fail through syscall 1.
%define FAIL user_fail
user_main:
    mov ax, cs
    CHECKEQ ax, SEL_CODE3, 10
    mov ax, ss
    CHECKEQ ax, SEL_DATA3, 11
    mov ax, fs
    CHECKEQ ax, 0, 12
    mov ax, ds
    CHECKEQ ax, SEL_DATA3, 13
    mov ax, gs
    CHECKEQ ax, SEL_DATA3, 14
    CHECKEQ esp, USTACK, 15

    ; INT 0x80: ring 0 on the TSS stack, the frame holds the ring-3 state.
    mov eax, 2
    mov ebx, esp
    int 0x80
.after_int:
    CHECKEQ eax, 0x600D, 20
    CHECKEQ esp, ebx, 21
    mov ax, cs
    CHECKEQ ax, SEL_CODE3, 22
    CHECKEQ dword [frame_eip], .after_int, 23
    CHECKEQ dword [frame_cs], SEL_CODE3, 24
    mov eax, [frame_eflags]
    and eax, 0x3202
    CHECKEQ eax, 2, 25                        ; reserved bit 1 set, IF = 0, IOPL = 0
    CHECKEQ dword [frame_esp], ebx, 26
    CHECKEQ dword [frame_ss], SEL_DATA3, 27
    CHECKEQ dword [entry_esp], KSTACK - 20, 28
    CHECKEQ dword [entry_cs], SEL_CODE0, 29
    CHECKEQ dword [entry_ss], SEL_DATA0, 30
    CHECKEQ dword [entry_cpl_flags], 0, 31    ; the interrupt gate cleared IF (was 0)

    ; Privileged instructions: #GP(0) at the instruction, frame from ring 3.
    ARM .r1
.f1: cli
.r1: FAULT_AT 13, 0, .f1, 40
    CHECKEQ dword [exc_cs], SEL_CODE3, 44
    CHECKEQ dword [exc_ss], SEL_DATA3, 45
    CHECKEQ dword [exc_esp], ebx, 46
    ARM .r2
.f2: hlt
.r2: FAULT_AT 13, 0, .f2, 47
    ARM .r3
.f3: mov eax, cr0
.r3: FAULT_AT 13, 0, .f3, 51
    ARM .r4
    mov al, '!'
.f4: out 0xE9, al
.r4: FAULT_AT 13, 0, .f4, 55
    ARM .r5
.f5: lgdt [gdt_desc]
.r5: FAULT_AT 13, 0, .f5, 59
    ARM .r6
.f6: sti
.r6: FAULT_AT 13, 0, .f6, 63
    ; A gate with DPL 0: #GP(vector * 8 + 2).
    ARM .r7
.f7: int 0x81
.r7: FAULT_AT 13, 0x81*8 + 2, .f7, 67
    ; A DPL-0 data segment: #GP(selector).
    ARM .r8
    mov ax, SEL_DATA0
.f8: mov es, ax
.r8: FAULT_AT 13, SEL_DATA0, .f8, 71

    ; Pages: supervisor-only → #PF(U|P), read-only → #PF(U|W|P) on write, absent → #PF(U).
    ARM .r9
.f9: mov eax, [SUPPAGE]
.r9: FAULT_AT 14, 5, .f9, 75
    CHECKEQ dword [exc_cr2], SUPPAGE, 79
    ARM .r10
.f10: mov dword [SUPPAGE + 8], 1
.r10: FAULT_AT 14, 7, .f10, 80
    CHECKEQ dword [exc_cr2], SUPPAGE + 8, 84
    CHECKEQ dword [ROPAGE], 0x2EAD, 85
    ARM .r11
.f11: mov dword [ROPAGE + 4], 1
.r11: FAULT_AT 14, 7, .f11, 86
    CHECKEQ dword [exc_cr2], ROPAGE + 4, 90
    ARM .r12
.f12: mov eax, [NOPAGE + 0x10]
.r12: FAULT_AT 14, 4, .f12, 91
    CHECKEQ dword [exc_cr2], NOPAGE + 0x10, 95
    ; A user stack push into a supervisor page: #PF(U|W|P), ESP unchanged.
    ARM .r13
    mov ecx, esp
    mov esp, SUPPAGE + 0x100
.f13: push eax
.r13: mov edx, esp
    mov esp, ecx
    FAULT_AT 14, 7, .f13, 96
    CHECKEQ edx, SUPPAGE + 0x100, 100
    CHECKEQ dword [exc_cr2], SUPPAGE + 0xFC, 101

    ; IOPL 3 (set by the kernel in the frame): CLI and port I/O are allowed ...
    mov eax, 4
    int 0x80
    pushfd
    pop eax
    and eax, 0x3000
    CHECKEQ eax, 0x3000, 102
    mov dword [exc_count], 0
    cli
    PRINT "ring3: user I/O", 10
    CHECKEQ dword [exc_count], 0, 103
    ; ... and POPF at CPL 3 does not change IOPL.
    pushfd
    and dword [esp], ~0x3000
    popfd
    pushfd
    pop eax
    and eax, 0x3000
    CHECKEQ eax, 0x3000, 104

    ; A far call through the call gate: ring 0 on the TSS stack with the two parameters
    ; copied; RETF 8 returns to ring 3 and drops them from both stacks.
    mov ebx, esp
    push dword 0xA1
    push dword 0xB2
    call SEL_GATE:0
.after_gate:
    CHECKEQ esp, ebx, 120
    mov ax, cs
    CHECKEQ ax, SEL_CODE3, 121
    CHECKEQ dword [gate_frame], .after_gate, 122
    CHECKEQ dword [gate_frame+4], SEL_CODE3, 123
    CHECKEQ dword [gate_frame+8], 0xB2, 124
    CHECKEQ dword [gate_frame+12], 0xA1, 125
    lea eax, [ebx-8]
    CHECKEQ [gate_frame+16], eax, 126
    CHECKEQ dword [gate_frame+20], SEL_DATA3, 127
    CHECKEQ dword [gate_cs], SEL_CODE0, 128
    CHECKEQ dword [gate_esp], KSTACK - 24, 129

    ; SYSENTER to the MSR-given ring-0 entry, SYSEXIT back to EDX with ESP = ECX.
    mov ecx, esp
    mov edx, .after_sysexit
    sysenter
.after_sysexit:
    CHECKEQ esp, ebx, 130
    mov ax, cs
    CHECKEQ ax, SEL_CODE3, 131
    mov ax, ss
    CHECKEQ ax, SEL_DATA3, 132
    CHECKEQ dword [se_cs], SEL_CODE0, 133
    CHECKEQ dword [se_ss], SEL_DATA0, 134
    CHECKEQ dword [se_esp], SYSENTER_STACK, 135

    mov eax, 3
    int 0x80
    mov al, 0xF2                              ; syscall 3 does not return
    jmp user_fail

user_fail:
    movzx ebx, al
    mov eax, 1
    int 0x80

; ---------------------------------------------------------------------------
; Ring 0: INT 0x80. EAX = 1 fail with check EBX, 2 probe (returns 0x600D),
; 3 finish, 4 set IOPL 3 in the returned EFLAGS.
%define FAIL fail32
syscall:
    mov [entry_esp], esp
    push eax
    mov eax, [esp+4]
    mov [frame_eip], eax
    mov eax, [esp+8]
    mov [frame_cs], eax
    mov eax, [esp+12]
    mov [frame_eflags], eax
    mov eax, [esp+16]
    mov [frame_esp], eax
    mov eax, [esp+20]
    mov [frame_ss], eax
    mov [entry_cs], cs
    mov [entry_ss], ss
    pushfd
    pop eax
    and eax, 0x200
    mov [entry_cpl_flags], eax
    pop eax
    cmp eax, 1
    je .fail
    cmp eax, 2
    je .probe
    cmp eax, 3
    je .finish
    cmp eax, 4
    je .iopl
    mov al, 0xF1
    jmp fail32
.fail:
    mov al, bl
    jmp fail32
.probe:
    mov eax, 0x600D
    iretd
.iopl:
    or dword [esp+8], 0x3000
    iretd
.finish:
    CHECKEQ dword [TSS_ADDR + 4], KSTACK, 110  ; the CPU never writes ESP0
    mov ax, cs
    CHECKEQ ax, SEL_CODE0, 111
    jmp pass32

; Call gate target (ring 0): record the frame and return to ring 3.
gate_target:
    mov [gate_esp], esp
    mov [gate_cs], cs
    push eax
    push ecx
    xor ecx, ecx
.copy:
    mov eax, [esp + 8 + ecx*4]
    mov [gate_frame + ecx*4], eax
    inc ecx
    cmp ecx, 6
    jb .copy
    pop ecx
    pop eax
    retf 8

; SYSENTER target (ring 0): record CS, SS, ESP and exit.
sysenter_target:
    mov [se_cs], cs
    mov [se_ss], ss
    mov [se_esp], esp
    sysexit

align 4
gate_frame:      dd 0, 0, 0, 0, 0, 0
gate_cs:         dd 0
gate_esp:        dd 0
se_cs:           dd 0
se_ss:           dd 0
se_esp:          dd 0
frame_eip:       dd 0
frame_cs:        dd 0
frame_eflags:    dd 0
frame_esp:       dd 0
frame_ss:        dd 0
entry_esp:       dd 0
entry_cs:        dd 0
entry_ss:        dd 0
entry_cpl_flags: dd -1
prog_name:       db 'ring3', 0

    COMMON_CODE
