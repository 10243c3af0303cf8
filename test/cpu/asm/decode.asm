; decode.asm — the address decoder, differentially: every ModRM/SIB form of 32-bit
; addressing (3 modes x 8 r/m, all 256 SIB bytes) and every 16-bit form (with 0x67),
; each as MOV EAX, [m] and LEA EAX, [m], with DS and SS at different bases so the
; default segment of EBP/ESP/BP-based forms shows. The loaded values and addresses are
; hashed and compared with the hash recorded on QEMU (decode-expected.inc, written by
; scripts/build-asm.sh --record); -DRECORD -DDUMP prints every form's value.
%include "common.inc"
org BASE

DSBASE equ 0x30000
SSBASE equ 0x40000
%macro GDT_EXTRA 0
    dq 0x00CF93030000FFFF           ; 0x30 data, base 0x30000, 4 GiB
    dq 0x00CF93040000FFFF           ; 0x38 data, base 0x40000, 4 GiB
%endmacro

%assign k 0
; FORM32 op, mod, rm, sib (-1: none) — one instruction with its displacement, result stored.
%macro FORM32 4
    mov eax, 0x20
    db %1, (%2 << 6) | %3
%if %4 >= 0
    db %4
%endif
%if %2 == 1
    db 0x10
%elif %2 == 2
    dd 0x1234
%elif %3 == 5
    dd 0x1234
%elif %4 >= 0 && (%4 & 7) == 5
    dd 0x1234
%endif
    mov [es:results + k*4], eax
%assign k k+1
%endmacro
%macro FORM16 3
    mov eax, 0x20
    db 0x67, %1, (%2 << 6) | %3
%if %2 == 1
    db 0x10
%elif %2 == 2
    dw 0x1234
%elif %3 == 6
    dw 0x1234
%endif
    mov [es:results + k*4], eax
%assign k k+1
%endmacro

    REAL_START
    ENTER_PM32 pm_entry

bits 32
pm_entry:
    PM32_SETUP
%ifndef RECORD
    PRINT "decode: addressing forms", 10
%endif
    ; A position-dependent pattern over both segment windows.
    mov edi, DSBASE
.fill:
    mov eax, edi
    imul eax, eax, 0x9E3779B1
    xor eax, edi
    mov [edi], eax
    add edi, 4
    cmp edi, SSBASE + 0x10000
    jb .fill

    mov ax, 0x30
    mov ds, ax
    mov ax, 0x38
    mov ss, ax
    mov ecx, 0x40
    mov edx, 0x8
    mov ebx, 0x100
    mov esp, 0x500
    mov ebp, 0x400
    mov esi, 0x200
    mov edi, 0x300
%assign op 0
%rep 2
%if op == 0
%define OPC 0x8B
%else
%define OPC 0x8D
%endif
%assign md 0
%rep 3
%assign rm 0
%rep 8
%if rm == 4
%assign sb 0
%rep 256
    FORM32 OPC, md, rm, sb
%assign sb sb+1
%endrep
%else
    FORM32 OPC, md, rm, -1
%endif
%assign rm rm+1
%endrep
%assign md md+1
%endrep
%assign md 0
%rep 3
%assign rm 0
%rep 8
    FORM16 OPC, md, rm
%assign rm rm+1
%endrep
%assign md md+1
%endrep
%assign op op+1
%endrep
NFORMS equ k

    mov ax, SEL_DATA0
    mov ds, ax
    mov ss, ax
    mov esp, STACK_TOP
    ; Hash the results (and dump them when asked).
    mov esi, 0x811C9DC5
    xor ecx, ecx
.h:
    mov eax, [results + ecx*4]
%ifdef DUMP
    push eax
    mov eax, ecx
    call puthex32
    mov al, ' '
    out 0xE9, al
    pop eax
    push eax
    call puthex32
    mov al, 10
    out 0xE9, al
    pop eax
%endif
    xor esi, eax
    imul esi, esi, 16777619
    inc ecx
    cmp ecx, NFORMS
    jb .h
    mov eax, esi
    FINISH_HASH 'decode'

prog_name: db 'decode', 0
%ifndef RECORD
%include "decode-expected.inc"
%endif
    COMMON_CODE
align 4
results:
