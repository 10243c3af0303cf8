; strings.asm — string instructions: REP MOVS/STOS/CMPS/SCAS/LODS in both directions
; with 16- and 32-bit address size (real mode and 32-bit code with 0x67), 16-bit
; index wraparound, CX = 0, segment override of the source, REP OUTS/INS, and REP
; MOVS/STOS that page-fault in the middle and resume after the handler maps the page
; with ECX/ESI/EDI at the faulting element.
%include "common.inc"
org BASE

PT2 equ 0x83000            ; linear 0x00800000..: pages mapped on demand

%macro GDT_EXTRA 0
    dq 0x00CF92030000FFFF           ; 0x30 data, base 0x30000, limit 4 GiB
%endmacro

    REAL_START
%define FAIL fail16
    PRINT "strings: real mode", 10
    cld
    ; REP MOVSB: CS-relative source (DS = 0x1000) to ES = 0x2000.
    mov ax, 0x2000
    mov es, ax
    mov si, R(hello)
    mov di, 0x100
    mov cx, 15
    rep movsb
    CHECKEQ cx, 0, 1
    CHECKEQ si, R(hello) + 15, 2
    CHECKEQ di, 0x10F, 3
    ; REPE CMPSB over equal strings: ZF = 1, CX = 0.
    mov si, R(hello)
    mov di, 0x100
    mov cx, 15
    repe cmpsb
    CHECK e, 4
    CHECKEQ cx, 0, 5
    CHECKEQ di, 0x10F, 6
    ; REPE CMPSB stops after the first difference.
    mov byte [es:0x105], 'X'
    mov si, R(hello)
    mov di, 0x100
    mov cx, 15
    repe cmpsb
    CHECK ne, 7
    CHECKEQ cx, 9, 8
    CHECKEQ si, R(hello) + 6, 9
    CHECKEQ di, 0x106, 10
    ; REPNE SCASB finds the first 'o'.
    mov di, 0x100
    mov cx, 15
    mov al, 'o'
    repne scasb
    CHECK e, 11
    CHECKEQ cx, 10, 12
    CHECKEQ di, 0x105, 13
    ; REP STOSW, then REPE SCASW over what it wrote.
    mov di, 0x200
    mov cx, 8
    mov ax, 0xBEEF
    rep stosw
    CHECKEQ di, 0x210, 14
    mov di, 0x200
    mov cx, 8
    repe scasw
    CHECK e, 15
    CHECKEQ cx, 0, 16
    ; STD: a backward REP MOVSB copies the same bytes.
    std
    mov si, R(hello) + 14
    mov di, 0x40E
    mov cx, 15
    rep movsb
    CHECKEQ si, R(hello) - 1, 17
    CHECKEQ di, 0x3FF, 18
    cld
    mov si, R(hello)
    mov di, 0x400
    mov cx, 15
    repe cmpsb
    CHECK e, 19
    ; Overlapping move to higher addresses, done backwards (memmove).
    mov dword [es:0x500], 'ABCD'
    mov dword [es:0x504], 'EFGH'
    push ds
    push es
    pop ds
    std
    mov si, 0x507
    mov di, 0x509
    mov cx, 8
    rep movsb
    cld
    pop ds
    CHECKEQ dword [es:0x500], 'ABAB', 20
    CHECKEQ dword [es:0x504], 'CDEF', 21
    CHECKEQ word [es:0x508], 'GH', 22
    ; CX = 0: nothing happens, flags and DI stay.
    xor ax, ax                       ; ZF = 1
    mov cx, 0
    mov di, 0x100
    mov al, 'H'
    repne scasb
    CHECK e, 23
    CHECKEQ di, 0x100, 24
    cmp al, 0                        ; ZF = 0
    mov di, 0x100
    repe scasb
    CHECK ne, 25
    ; 16-bit index wraps: STOSW at DI = 0xFFFE, then at 0.
    mov di, 0xFFFE
    mov ax, 0x1234
    stosw
    mov ax, 0x5678
    stosw
    CHECKEQ di, 2, 26
    CHECKEQ word [es:0xFFFE], 0x1234, 27
    CHECKEQ word [es:0], 0x5678, 28
    ; 32-bit address size in real mode (0x67): ECX/ESI/EDI are used whole.
    mov esi, R(hello)
    mov edi, 0x600
    mov ecx, 5
    a32 rep movsb
    CHECKEQ ecx, 0, 29
    CHECKEQ esi, R(hello) + 5, 30
    CHECKEQ edi, 0x605, 31
    CHECKEQ dword [es:0x600], 'Hell', 32
    ; 16-bit address size: only CX counts, the high half of ECX stays.
    mov ecx, 0xABCD0003
    mov si, R(hello)
    mov di, 0x700
    rep movsb
    CHECKEQ ecx, 0xABCD0000, 33
    ; LODSB / LODSD and MOVSD (operand-size prefix) in 16-bit code.
    mov si, R(hello)
    lodsb
    CHECKEQ al, 'H', 34
    lodsd
    CHECKEQ eax, 'ello', 35
    CHECKEQ si, R(hello) + 5, 36
    mov di, 0x800
    movsd
    CHECKEQ dword [es:0x800], ', st', 37
    CHECKEQ di, 0x804, 38

    mov ax, cs
    mov es, ax
    ENTER_PM32 pm_entry

; ---------------------------------------------------------------------------
bits 32
%define FAIL fail32
pm_entry:
    PM32_SETUP
    PRINT "strings: protected mode", 10
    mov eax, pf_handler
    mov ecx, 14
    mov dl, 0x8E
    call set_gate
    call paging_init
    mov edi, PT2
    call zero_page
    mov dword [0x80000 + 2*4], PT2 | 3
    mov edi, POOL
    call zero_page
    mov dword [PT2 + 0*4], POOL | 3         ; 0x800000 present, 0x801000.. on demand
    mov dword [pool_next], POOL + 0x1000
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    cld

    ; REP MOVSD of 4 KiB, then REPE CMPSD.
    mov edi, 0x30000
    xor eax, eax
.fill:
    mov [edi + eax*4], eax
    inc eax
    cmp eax, 1024
    jb .fill
    mov esi, 0x30000
    mov edi, 0x40000
    mov ecx, 1024
    rep movsd
    CHECKEQ ecx, 0, 40
    CHECKEQ esi, 0x31000, 41
    CHECKEQ edi, 0x41000, 42
    CHECKEQ dword [0x40FFC], 1023, 43
    mov esi, 0x30000
    mov edi, 0x40000
    mov ecx, 1024
    repe cmpsd
    CHECK e, 44
    CHECKEQ ecx, 0, 45

    ; REP STOSD and REPNE SCASD.
    mov edi, 0x42000
    mov ecx, 256
    xor eax, eax
    rep stosd
    mov dword [0x42000 + 100*4], 0x1234
    mov edi, 0x42000
    mov ecx, 256
    mov eax, 0x1234
    repne scasd
    CHECK e, 46
    CHECKEQ ecx, 155, 47
    CHECKEQ edi, 0x42000 + 101*4, 48

    ; Backward REP MOVSD shifting an array up by one element.
    mov edi, 0x43000
    xor eax, eax
.fill2:
    mov [edi + eax*4], eax
    inc eax
    cmp eax, 16
    jb .fill2
    std
    mov esi, 0x43000 + 14*4
    mov edi, 0x43000 + 15*4
    mov ecx, 15
    rep movsd
    cld
    CHECKEQ esi, 0x43000 - 4, 49
    CHECKEQ edi, 0x43000, 50
    CHECKEQ dword [0x43000 + 15*4], 14, 51
    CHECKEQ dword [0x43000 + 1*4], 0, 52
    CHECKEQ dword [0x43000 + 8*4], 7, 53

    ; 16-bit address size in 32-bit code: SI/DI/CX, the high halves stay.
    mov dword [0x1000], 'abcd'
    mov dword [0x1004], 'efgh'
    mov esi, 0x55551000
    mov edi, 0x66662000
    mov ecx, 0xABCD0008
    a16 rep movsb
    CHECKEQ ecx, 0xABCD0000, 54
    CHECKEQ esi, 0x55551008, 55
    CHECKEQ edi, 0x66662008, 56
    CHECKEQ dword [0x2004], 'efgh', 57

    ; A segment override on the source: FS base 0x30000.
    mov ax, 0x30
    mov fs, ax
    mov esi, 4*7
    mov edi, 0x44000
    fs movsd
    CHECKEQ dword [0x44000], 7, 58
    ; CMPSB sets flags as SUB: 'a' - 'b' borrows.
    mov byte [0x44010], 'a'
    mov byte [0x44011], 'b'
    mov esi, 0x44010
    mov edi, 0x44011
    cmpsb
    CHECK b, 59

    ; REP OUTSB to the debug console; REP INSB from it (reads 0xE9).
    mov esi, outs_msg
    mov ecx, outs_len
    mov dx, 0xE9
    rep outsb
    CHECKEQ ecx, 0, 60
    CHECKEQ esi, outs_msg + outs_len, 61
    mov edi, 0x44020
    mov ecx, 4
    rep insb
    CHECKEQ dword [0x44020], 0xE9E9E9E9, 62

    ; REP MOVSD into a not-present page: the fault comes at element 8 with ECX, ESI,
    ; EDI at that element; after the handler maps the page the copy completes.
    PRINT "strings: faults", 10
    mov edi, 0x45000
    mov eax, 0x100
.fill3:
    mov [edi], eax
    add edi, 4
    inc eax
    cmp eax, 0x110
    jb .fill3
    mov esi, 0x45000
    mov edi, 0x800FE0
    mov ecx, 16
.f1: rep movsd
    CHECKEQ dword [pf_count], 1, 63
    CHECKEQ dword [pf_err], 2, 64
    CHECKEQ dword [pf_cr2], 0x801000, 65
    CHECKEQ dword [pf_eip], .f1, 66
    CHECKEQ dword [pf_ecx], 8, 67
    CHECKEQ dword [pf_esi], 0x45020, 68
    CHECKEQ dword [pf_edi], 0x801000, 69
    CHECKEQ ecx, 0, 70
    CHECKEQ esi, 0x45040, 71
    CHECKEQ edi, 0x801020, 72
    mov esi, 0x45000
    mov edi, 0x800FE0
    mov ecx, 16
    repe cmpsd
    CHECK e, 73

    ; REP MOVSB reading from a not-present page: #PF(0) at byte 16.
    mov esi, 0x801FF0
    mov edi, 0x46000
    mov ecx, 32
.f2: rep movsb
    CHECKEQ dword [pf_count], 2, 74
    CHECKEQ dword [pf_err], 0, 75
    CHECKEQ dword [pf_cr2], 0x802000, 76
    CHECKEQ dword [pf_eip], .f2, 77
    CHECKEQ dword [pf_ecx], 16, 78
    CHECKEQ dword [pf_esi], 0x802000, 79
    CHECKEQ dword [pf_edi], 0x46010, 80
    CHECKEQ ecx, 0, 81
    CHECKEQ edi, 0x46020, 82

    ; STD: REP STOSD downwards from a present page into a not-present one.
    mov edi, POOL + 0x3000
    call zero_page
    mov dword [PT2 + 4*4], (POOL + 0x3000) | 3     ; 0x804000 present, 0x803000 not
    mov dword [pool_next], POOL + 0x4000
    std
    mov edi, 0x804008
    mov ecx, 6
    mov eax, 0x77
.f3: rep stosd
    cld
    CHECKEQ dword [pf_count], 3, 83
    CHECKEQ dword [pf_err], 2, 84
    CHECKEQ dword [pf_cr2], 0x803FFC, 85
    CHECKEQ dword [pf_ecx], 3, 86
    CHECKEQ dword [pf_edi], 0x803FFC, 87
    CHECKEQ ecx, 0, 88
    CHECKEQ edi, 0x803FF0, 89
    CHECKEQ dword [0x803FF4], 0x77, 90
    CHECKEQ dword [0x804008], 0x77, 91

    jmp pass32

hello:     db 'Hello, strings!'
outs_msg:  db 'strings: outs ok', 10
outs_len   equ $ - outs_msg
prog_name: db 'strings', 0

    COMMON_CODE
