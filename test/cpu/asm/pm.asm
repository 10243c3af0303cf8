; pm.asm — real mode → 32-bit protected mode, then segmentation checks: limits,
; read-only, expand-down, selector checks on loads (#GP/#NP with the selector as error
; code), null selectors, interrupt/trap gates and far CALL/RET at CPL 0.
%include "common.inc"
org BASE

%macro GDT_EXTRA 0
    dq 0x0040920200000FFF           ; 0x30 data, base 0x20000, limit 0xFFF (bytes)
    dq 0x004090020000FFFF           ; 0x38 read-only data, base 0x20000, limit 0xFFFF
    dq 0x0040960200000FFF           ; 0x40 expand-down data, base 0x20000, limit 0xFFF, B=1
    dq 0x00CF98000000FFFF           ; 0x48 execute-only code
    dq 0x00CF12000000FFFF           ; 0x50 data, not present
    dq 0x00009A010000FFFF           ; 0x58 16-bit code, base 0x10000, limit 0xFFFF
    dq 0x008F92000000FFFF           ; 0x60 16-bit data, base 0, limit 4 GiB
    dq 0x000092000000FFFF           ; 0x68 16-bit data, base 0, limit 0xFFFF
%endmacro

; EXPECT_FAULT vec, err, label — the fault recorded by exc_common was `vec` with error
; code `err` at instruction `label` (check numbers n, n+1, n+2, n+3).
%macro EXPECT_FAULT 4
    CHECKEQ dword [exc_count], 1, %4
    CHECKEQ dword [exc_vec], %1, %4+1
    CHECKEQ dword [exc_err], %2, %4+2
    CHECKEQ dword [exc_eip], %3, %4+3
%endmacro

; ARM label — the next fault resumes at `label`.
%macro ARM 1
    call reset_exc
    mov dword [recover], %1
%endmacro

    REAL_START
    PRINT "pm: real mode", 10
    ENTER_PM32 pm_entry

bits 32
pm_entry:
    PM32_SETUP
    PRINT "pm: protected mode", 10
    mov eax, cr0
    test al, 1
    CHECK nz, 1
    mov ax, cs
    CHECKEQ ax, SEL_CODE0, 2
    mov ax, ss
    CHECKEQ ax, SEL_DATA0, 3

    ; 32-bit addressing beyond the first 64 KiB and 1 MiB (A20 on: no aliasing).
    mov dword [0x10FFFC], 0x11223344
    mov dword [0x00FFFC], 0x55667788
    CHECKEQ dword [0x10FFFC], 0x11223344, 4
    CHECKEQ dword [0x00FFFC], 0x55667788, 5

    ; A data segment with base 0x20000, limit 0xFFF.
    mov ax, 0x30
    mov es, ax
    mov dword [es:0xFFC], 0xCAFEBABE
    CHECKEQ dword [0x20FFC], 0xCAFEBABE, 6
    mov byte [es:0xFFF], 0x5A
    CHECKEQ byte [0x20FFF], 0x5A, 7

%ifndef QEMU_TCG  ; QEMU's TCG does not check limits or types on data accesses
    ; A dword read straddling the limit: #GP(0), no state changed.
    ARM .r1
    mov eax, 0x12345678
.f1: mov eax, [es:0xFFE]
.r1: EXPECT_FAULT 13, 0, .f1, 10
    CHECKEQ dword [exc_cs], SEL_CODE0, 14
    CHECKEQ eax, 0x12345678, 15

    ; A byte write one past the limit.
    mov byte [0x21000], 0x77
    ARM .r2
.f2: mov byte [es:0x1000], 1
.r2: EXPECT_FAULT 13, 0, .f2, 16
    CHECKEQ byte [0x21000], 0x77, 20

    ; Read-only data segment: reads work, writes #GP(0).
    mov ax, 0x38
    mov fs, ax
    CHECKEQ dword [fs:0xFFC], 0x5AFEBABE, 21
    ARM .r3
.f3: mov dword [fs:0], 0
.r3: EXPECT_FAULT 13, 0, .f3, 22
%endif

    ; Expand-down segment: offsets 0x1000.. are valid, 0..0xFFF are not.
    mov dword [0x22000], 0xD00DFEED
    mov ax, 0x40
    mov gs, ax
    CHECKEQ dword [gs:0x2000], 0xD00DFEED, 26
%ifndef QEMU_TCG
    ARM .r4
.f4: mov eax, [gs:0x800]
.r4: EXPECT_FAULT 13, 0, .f4, 27
    ARM .r5
.f5: mov eax, [gs:0xFFE]
.r5: EXPECT_FAULT 13, 0, .f5, 31
%endif

    ; A selector beyond the GDT limit: #GP(selector without RPL).
    ARM .r6
    mov ax, 0x103
.f6: mov es, ax
.r6: EXPECT_FAULT 13, 0x100, .f6, 35
    mov ax, es
    CHECKEQ ax, 0x30, 39

    ; An execute-only code segment in a data register: #GP(selector).
    ARM .r7
    mov ax, 0x48
.f7: mov es, ax
.r7: EXPECT_FAULT 13, 0x48, .f7, 40

    ; A not-present data segment: #NP(selector).
    ARM .r8
    mov ax, 0x50
.f8: mov es, ax
.r8: EXPECT_FAULT 11, 0x50, .f8, 44

    ; A code segment in SS: #GP(selector).
    ARM .r9
    mov ax, SEL_CODE0
.f9: mov ss, ax
.r9: EXPECT_FAULT 13, SEL_CODE0, .f9, 48
    mov ax, ss
    CHECKEQ ax, SEL_DATA0, 52

    ; A null selector loads into ES; using it faults #GP(0).
    xor eax, eax
    mov es, ax
    mov ax, es
    CHECKEQ ax, 0, 53
%ifndef QEMU_TCG
    ARM .r10
.f10: mov eax, [es:0x1000]
.r10: EXPECT_FAULT 13, 0, .f10, 54
%endif
    mov ax, SEL_DATA0
    mov es, ax

    ; Null SS: #GP(0).
    ARM .r11
    xor eax, eax
.f11: mov ss, ax
.r11: EXPECT_FAULT 13, 0, .f11, 58
    mov ax, ss
    CHECKEQ ax, SEL_DATA0, 62

    ; Software interrupts through an interrupt gate (IF cleared) and a trap gate (IF kept).
    mov eax, int_handler
    mov ecx, 0x30
    mov dl, 0x8E
    call set_gate
    mov ecx, 0x31
    mov dl, 0x8F
    call set_gate
    mov ebx, esp
    sti
    int 0x30
.a1:
    cli
    CHECKEQ dword [frame_eip], .a1, 63
    CHECKEQ dword [frame_cs], SEL_CODE0, 64
    mov eax, [frame_eflags]
    test eax, 0x200
    CHECK nz, 65                    ; IF was set when INT executed
    test dword [handler_flags], 0x200
    CHECK z, 66                     ; interrupt gate cleared it
    sub ebx, 12
    CHECKEQ [frame_esp], ebx, 67
    add ebx, 12
    CHECKEQ esp, ebx, 68
    sti
    int 0x31
.a2:
    cli
    CHECKEQ dword [frame_eip], .a2, 69
    test dword [handler_flags], 0x200
    CHECK nz, 70                    ; trap gate kept IF

    ; Far call and return at the same privilege level.
    call dword SEL_CODE0:far_fn
.a3:
    CHECKEQ dword [frame_eip], .a3, 71
    CHECKEQ dword [frame_cs], SEL_CODE0, 72
    CHECKEQ esp, ebx, 73

    ; INT 3 through the recording handler: #BP is a trap, EIP after the INT3.
    ARM .r12
    int3
.f12:
.r12: CHECKEQ dword [exc_vec], 3, 74
    CHECKEQ dword [exc_eip], .f12, 75

    ; An IDT limit too small for the vector: #GP(vector*8 + 2).
    mov word [small_idt], 0x30*8 - 1
    mov dword [small_idt+2], IDT_ADDR
    lidt [small_idt]
    ARM .r13
.f13: int 0x30
.r13: lidt [idt_desc]
    EXPECT_FAULT 13, 0x30*8 + 2, .f13, 76

    ; Back to real mode through a 16-bit code segment, with 4 GiB data limits that
    ; real-mode segment loads keep ("unreal mode").
    PRINT "pm: back to real mode", 10
    jmp 0x58:R(pm16)

bits 16
%define FAIL fail16
pm16:
    mov ax, 0x60
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ax, 0x68
    mov ss, ax
    mov eax, cr0
    and al, 0xFE
    mov cr0, eax
    jmp 0x1000:R(real_again)
real_again:
    xor ax, ax
    mov ss, ax
    mov sp, STACK_TOP
    mov ax, cs
    mov ds, ax
    lidt [R(ivt_desc)]
    mov eax, cr0
    test al, 1
    CHECK z, 80
    mov ax, cs
    CHECKEQ ax, 0x1000, 81
    ; ES reloaded in real mode: base 0, the 4 GiB limit stays.
    xor ax, ax
    mov es, ax
    CHECKEQ dword [es:dword 0x10FFFC], 0x11223344, 82
    mov dword [es:dword 0x120000], 0xFEEDC0DE
    CHECKEQ dword [es:dword 0x120000], 0xFEEDC0DE, 83
    ; Interrupts go through the IVT again.
    mov word [es:0x31*4], R(rm_int31)
    mov word [es:0x31*4+2], 0x1000
    mov byte [R(rm_flag)], 0
    int 0x31
    CHECKEQ byte [R(rm_flag)], 1, 84
    jmp pass16

rm_int31:
    mov byte [cs:R(rm_flag)], 1
    iret

bits 32
%define FAIL fail32

; Records the interrupt frame and the handler's EFLAGS.
int_handler:
    mov eax, [esp]
    mov [frame_eip], eax
    mov eax, [esp+4]
    mov [frame_cs], eax
    mov eax, [esp+8]
    mov [frame_eflags], eax
    mov [frame_esp], esp
    pushfd
    pop dword [handler_flags]
    iretd

far_fn:
    mov eax, [esp]
    mov [frame_eip], eax
    mov eax, [esp+4]
    mov [frame_cs], eax
    retf

align 4
frame_eip:     dd 0
frame_cs:      dd 0
frame_eflags:  dd 0
frame_esp:     dd 0
handler_flags: dd 0
small_idt:     dw 0
               dd 0
ivt_desc:      dw 0x3FF
               dd 0
rm_flag:       db 0
prog_name:     db 'pm', 0

    COMMON_CODE
