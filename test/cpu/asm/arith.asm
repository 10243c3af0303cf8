; arith.asm — integer arithmetic: ADC/SBB carry chains (8/16/32/128-bit), overflow and
; sign flags, MUL/IMUL in every form, DIV/IDIV with exact quotients and remainders,
; #DE for division by zero and quotient overflow (a fault: EIP at the DIV, registers
; untouched), NEG, INC/DEC keeping CF, signed/unsigned compares, the atomic
; read-modify-write group Linux relies on (LOCK ADD, XADD, CMPXCHG, CMPXCHG8B,
; BSWAP), and DAA/DAS/AAA/AAM.
%include "common.inc"
org BASE

; DE_AT label, n — exactly one #DE at label (checks n..n+2).
%macro DE_AT 2
    CHECKEQ dword [exc_count], 1, %2
    CHECKEQ dword [exc_vec], 0, %2+1
    CHECKEQ dword [exc_eip], %1, %2+2
%endmacro
%macro ARM 1
    call reset_exc
    mov dword [recover], %1
%endmacro

    REAL_START
    ENTER_PM32 pm_entry

bits 32
pm_entry:
    PM32_SETUP
    PRINT "arith: carry chains", 10

    ; 128-bit increment of all ones: zero with carry out.
    mov dword [n128], -1
    mov dword [n128+4], -1
    mov dword [n128+8], -1
    mov dword [n128+12], -1
    add dword [n128], 1
    adc dword [n128+4], 0
    adc dword [n128+8], 0
    adc dword [n128+12], 0
    CHECK c, 1
    mov eax, [n128]
    or eax, [n128+4]
    or eax, [n128+8]
    or eax, [n128+12]
    CHECK z, 2
    ; 64-bit add with a carry between the halves.
    mov eax, 0xFFFFFFFF
    mov edx, 1
    add eax, 1
    adc edx, 2
    CHECK nc, 3
    CHECKEQ eax, 0, 4
    CHECKEQ edx, 4, 5
    ; 96-bit 0 - 1: all ones, borrow out.
    mov dword [n128], 0
    mov dword [n128+4], 0
    mov dword [n128+8], 0
    sub dword [n128], 1
    sbb dword [n128+4], 0
    sbb dword [n128+8], 0
    CHECK c, 6
    CHECKEQ dword [n128+8], -1, 7
    CHECKEQ dword [n128+4], -1, 8
    ; SBB with borrow in.
    stc
    mov eax, 5
    sbb eax, 3
    CHECKEQ eax, 1, 9
    ; 16-bit and 8-bit carries.
    mov ax, 0xFFFF
    mov dx, 7
    add ax, 1
    adc dx, 0
    CHECKEQ dx, 8, 10
    mov al, 0xF0
    mov ah, 0
    add al, 0x20
    adc ah, ah
    CHECKEQ ax, 0x0110, 11
    ; OF and SF.
    mov al, 0x7F
    add al, 1
    CHECK o, 12
    CHECK s, 13
    mov eax, 0x80000000
    sub eax, 1
    CHECK o, 14
    CHECKEQ eax, 0x7FFFFFFF, 15
    mov eax, 0x80000000
    add eax, eax
    CHECK c, 16
    CHECK o, 17
    CHECK z, 18

    PRINT "arith: multiply", 10
    mov eax, 0xFFFFFFFF
    mov ecx, 0xFFFFFFFF
    mul ecx
    CHECK c, 20
    CHECK o, 21
    CHECKEQ edx, 0xFFFFFFFE, 22
    CHECKEQ eax, 1, 23
    mov eax, 3
    mov ecx, 5
    mul ecx
    CHECK nc, 24
    CHECK no, 25
    CHECKEQ eax, 15, 26
    CHECKEQ edx, 0, 27
    mov ax, 0xFFFF
    mov cx, 0xFFFF
    mul cx
    CHECKEQ dx, 0xFFFE, 28
    CHECKEQ ax, 0x0001, 29
    mov al, 0xFF
    mov cl, 0xFF
    mul cl
    CHECKEQ ax, 0xFE01, 30
    mov eax, -2
    mov ecx, 3
    imul ecx
    CHECK nc, 31
    CHECKEQ eax, -6, 32
    CHECKEQ edx, -1, 33
    mov ebx, 0x10000
    imul eax, ebx, 0x10000
    CHECK c, 34
    CHECK o, 35
    CHECKEQ eax, 0, 36
    mov ecx, -7
    mov edx, 6
    imul ecx, edx
    CHECK nc, 37
    CHECKEQ ecx, -42, 38
    mov al, -128
    mov cl, -1
    imul cl
    CHECK o, 39
    CHECKEQ ax, 128, 40
    mov dword [mem32], -9
    mov eax, 11
    imul eax, [mem32]
    CHECKEQ eax, -99, 41
    mov ax, -300
    imul ax, ax, 300
    CHECK o, 42                      ; -90000 does not fit in 16 bits
    CHECKEQ ax, (-90000) & 0xFFFF, 43

    PRINT "arith: divide", 10
    mov edx, 0x12345678
    mov eax, 0x9ABCDEF0
    mov ecx, 0x87654321
    div ecx
    CHECKEQ eax, 0x226B9022, 50
    CHECKEQ edx, 0x38BC648E, 51
    mov edx, 1
    xor eax, eax
    mov ecx, 2
    div ecx
    CHECKEQ eax, 0x80000000, 52
    CHECKEQ edx, 0, 53
    mov eax, -7
    cdq
    mov ecx, 2
    idiv ecx
    CHECKEQ eax, -3, 54
    CHECKEQ edx, -1, 55
    mov ax, -1000
    cwd
    mov cx, 7
    idiv cx
    CHECKEQ ax, -142, 56
    CHECKEQ dx, -6, 57
    mov ax, -100
    mov cl, 9
    idiv cl
    CHECKEQ al, -11, 58
    CHECKEQ ah, -1, 59
    mov dx, 1
    xor ax, ax
    mov cx, 0x10
    div cx
    CHECKEQ ax, 0x1000, 60
    CHECKEQ dx, 0, 61
    mov ax, 1000
    mov cl, 7
    div cl
    CHECKEQ al, 142, 62
    CHECKEQ ah, 6, 63

    ; #DE: division by zero is a fault; nothing changes.
    PRINT "arith: divide errors", 10
    ARM .r1
    mov eax, 0x1234
    xor edx, edx
    xor ecx, ecx
.f1: div ecx
.r1: DE_AT .f1, 70
    CHECKEQ eax, 0x1234, 73
    CHECKEQ edx, 0, 74
    ; Quotient too large: 2^33 / 2.
    ARM .r2
    mov edx, 2
    xor eax, eax
    mov ecx, 2
.f2: div ecx
.r2: DE_AT .f2, 75
    CHECKEQ edx, 2, 78
    ; IDIV of the most negative value by -1.
    ARM .r3
    mov edx, -1
    mov eax, 0x80000000
    mov ecx, -1
.f3: idiv ecx
.r3: DE_AT .f3, 79
    CHECKEQ eax, 0x80000000, 82
    ; 8-bit: 0x1000 / 0x10 = 0x100 does not fit in AL.
    ARM .r4
    mov ax, 0x1000
    mov bl, 0x10
.f4: div bl
.r4: DE_AT .f4, 83
    CHECKEQ ax, 0x1000, 86
    ; 8-bit signed: -32768 / -1.
    ARM .r5
    mov ax, 0x8000
    mov bl, -1
.f5: idiv bl
.r5: DE_AT .f5, 87
    ; A memory divisor of zero.
    ARM .r6
    mov dword [mem32], 0
    mov eax, 1
    xor edx, edx
.f6: div dword [mem32]
.r6: DE_AT .f6, 90
    ; 16-bit: DX:AX = 0x10000 / 1 overflows AX.
    ARM .r7
    mov dx, 1
    xor ax, ax
    mov cx, 1
.f7: div cx
.r7: DE_AT .f7, 93

    PRINT "arith: flags and atomics", 10
    xor eax, eax
    neg eax
    CHECK nc, 100
    mov eax, 5
    neg eax
    CHECK c, 101
    CHECKEQ eax, -5, 102
    stc
    inc eax
    CHECK c, 103                     ; INC keeps CF
    clc
    dec eax
    CHECK nc, 104                    ; DEC keeps CF
    mov eax, -1
    cmp eax, 1
    CHECK l, 105                     ; signed: -1 < 1
    CHECK a, 106                     ; unsigned: 0xFFFFFFFF > 1
    mov al, 0x80
    cmp al, 1
    CHECK o, 107                     ; -128 - 1 overflows
    ; LOCK ADD, XADD, CMPXCHG (both outcomes), CMPXCHG8B, BSWAP, XCHG with memory.
    mov dword [mem32], 40
    lock add dword [mem32], 2
    CHECKEQ dword [mem32], 42, 108
    mov eax, 8
    lock xadd [mem32], eax
    CHECKEQ eax, 42, 109
    CHECKEQ dword [mem32], 50, 110
    mov eax, 50
    mov ecx, 60
    lock cmpxchg [mem32], ecx
    CHECK e, 111
    CHECKEQ dword [mem32], 60, 112
    mov eax, 50
    mov ecx, 70
    lock cmpxchg [mem32], ecx
    CHECK ne, 113
    CHECKEQ eax, 60, 114
    CHECKEQ dword [mem32], 60, 115
    mov dword [mem64], 0x11111111
    mov dword [mem64+4], 0x22222222
    mov eax, 0x11111111
    mov edx, 0x22222222
    mov ebx, 0x33333333
    mov ecx, 0x44444444
    lock cmpxchg8b [mem64]
    CHECK e, 116
    CHECKEQ dword [mem64], 0x33333333, 117
    CHECKEQ dword [mem64+4], 0x44444444, 118
    lock cmpxchg8b [mem64]
    CHECK ne, 119
    CHECKEQ eax, 0x33333333, 120
    CHECKEQ edx, 0x44444444, 121
    mov eax, 0x12345678
    bswap eax
    CHECKEQ eax, 0x78563412, 122
    mov eax, 1
    xchg [mem32], eax
    CHECKEQ eax, 60, 123
    CHECKEQ dword [mem32], 1, 124
    ; BCD adjusts.
    mov al, 0x19
    add al, 0x28
    daa
    CHECKEQ al, 0x47, 125
    mov al, 0x47
    sub al, 0x28
    das
    CHECKEQ al, 0x19, 126
    mov ax, 0x0009
    add al, 0x05
    aaa
    CHECKEQ ax, 0x0104, 127
    mov al, 63
    aam
    CHECKEQ ax, 0x0603, 128

    jmp pass32

align 8
n128:      dd 0, 0, 0, 0
mem64:     dd 0, 0
mem32:     dd 0
prog_name: db 'arith', 0

    COMMON_CODE
