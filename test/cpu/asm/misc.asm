; misc.asm — instruction semantics that are easy to get subtly wrong: shifts and rotates
; (count masking, count 0 keeps flags, RCL modulo 9, SHLD/SHRD), bit-string BT/BTS
; with register offsets outside the operand (negative too), BSF/BSR, PUSH ESP / POP ESP
; / POP [ESP], ENTER with nesting and LEAVE, self-modifying code, single-step #DB,
; an instruction crossing the CS limit (#GP) and one crossing into a not-present page
; (#PF, restarted), CMOV reading memory when its condition is false, an atomic
; read-modify-write crossing into a read-only page, LSL/LAR/VERR/VERW, RDTSC, CPUID.
%include "common.inc"
org BASE

PT2 equ 0x83000

%macro GDT_EXTRA 0
    dq 0                            ; 0x30 code segment with a small limit (built at run time)
%endmacro

    REAL_START
    ENTER_PM32 pm_entry

bits 32
pm_entry:
    PM32_SETUP
    PRINT "misc: shifts", 10
    mov eax, 0x80000001
    shl eax, 1
    CHECK c, 1
    CHECK o, 2                      ; MSB(result) xor CF
    CHECKEQ eax, 2, 3
    ; A count of 0 changes no flags.
    mov eax, 5
    mov cl, 0
    xor ebx, ebx                    ; ZF = 1
    stc
    shl eax, cl
    CHECK c, 4
    CHECK z, 5
    CHECKEQ eax, 5, 6
    ; Counts are masked to 5 bits.
    mov eax, 1
    mov cl, 33
    shl eax, cl
    CHECKEQ eax, 2, 7
    ; RCL of a byte rotates 9 bits: a count of 9 is the identity.
    clc
    mov al, 0x81
    mov cl, 9
    rcl al, cl
    CHECKEQ al, 0x81, 8
    clc
    mov al, 0x81
    rcl al, 1
    CHECK c, 9
    CHECKEQ al, 0x02, 10
    stc
    mov al, 0x01
    rcr al, 1
    CHECK c, 11
    CHECKEQ al, 0x80, 12
    mov eax, -8
    sar eax, 2
    CHECKEQ eax, -2, 13
    sar eax, 31
    CHECKEQ eax, -1, 14
    mov eax, 0x80000000
    shr eax, 31
    CHECKEQ eax, 1, 15
    mov eax, 1
    ror eax, 1
    CHECK c, 16
    CHECKEQ eax, 0x80000000, 17
    mov eax, 0x12345678
    mov edx, 0x9ABCDEF0
    shld eax, edx, 8
    CHECKEQ eax, 0x3456789A, 18
    mov eax, 0x12345678
    mov cl, 8
    shrd eax, edx, cl
    CHECKEQ eax, 0xF0123456, 19
    mov ax, 0x8001
    rol ax, 4
    CHECKEQ ax, 0x0018, 20

    PRINT "misc: bits", 10
    mov eax, 100
    bts [bitbase], eax
    CHECK nc, 21
    CHECKEQ dword [bitbase+12], 0x10, 22
    bt [bitbase], eax
    CHECK c, 23
    mov eax, -1
    bts [bitbase], eax
    CHECKEQ dword [bitbase-4], 0x80000000, 24
    mov ax, -9
    bts word [bitbase], ax
    CHECKEQ dword [bitbase-4], 0x80800000, 25
    bts dword [bitbase], 36          ; immediate offsets are taken modulo 32
    CHECKEQ dword [bitbase], 0x10, 26
    CHECKEQ dword [bitbase+4], 0, 27
    mov eax, 100
    btr [bitbase], eax
    CHECK c, 28
    CHECKEQ dword [bitbase+12], 0, 29
    mov eax, 0xF0
    bsf ecx, eax
    CHECKEQ ecx, 4, 30
    bsr ecx, eax
    CHECKEQ ecx, 7, 31
    xor eax, eax
    bsf ecx, eax
    CHECK z, 32

    PRINT "misc: stack", 10
    mov ebx, esp
    push esp                         ; pushes the value before the push
    pop eax
    CHECKEQ eax, ebx, 33
    lea eax, [ebx-64]
    push eax
    pop esp                          ; ESP gets the popped value
    CHECKEQ esp, eax, 34
    mov esp, ebx
    push dword 1
    push dword 2
    pop dword [esp]                  ; the address is computed after the pop
    CHECKEQ dword [esp], 2, 35
    lea eax, [ebx-4]
    CHECKEQ esp, eax, 36
    mov esp, ebx
    push dword 7
    push dword [esp]
    CHECKEQ dword [esp], 7, 37
    mov esp, ebx
    ; ENTER 16, 2 with a fake outer frame at EBP.
    mov dword [fake_frame-4], 0xAAAA
    mov ebp, fake_frame
    enter 16, 2
    lea eax, [ebx-4]
    CHECKEQ ebp, eax, 38
    lea eax, [ebx-28]
    CHECKEQ esp, eax, 39
    CHECKEQ dword [ebx-4], fake_frame, 40
    CHECKEQ dword [ebx-8], 0xAAAA, 41
    lea eax, [ebx-4]
    CHECKEQ [ebx-12], eax, 42
    leave
    CHECKEQ esp, ebx, 43
    CHECKEQ ebp, fake_frame, 44

    PRINT "misc: code", 10
    ; Self-modifying code: the store changes the very next instruction ...
    mov byte [.smc + 1], 0x42
.smc: mov al, 0x00
    CHECKEQ al, 0x42, 45
    ; ... and code that already ran.
    mov ecx, 2
.again:
.patched: mov eax, 1
    mov byte [.patched + 1], 2
    dec ecx
    jnz .again
    CHECKEQ eax, 2, 46
    mov byte [.patched + 1], 1

    ; Single-step: TF set by POPF traps after the next instruction, twice.
    mov eax, db_handler
    mov ecx, 1
    mov dl, 0x8E
    call set_gate
    pushfd
    or dword [esp], 0x100
    popfd
.s1: nop
.s2: nop
.s3: nop
    CHECKEQ dword [db_count], 2, 47
    CHECKEQ dword [db_eip], .s2, 48
    CHECKEQ dword [db_eip+4], .s3, 49
    mov eax, dr6
    test eax, 0x4000                 ; BS
    CHECK nz, 50

%ifndef QEMU_TCG  ; TCG does not check the CS limit byte by byte
    ; An instruction whose last bytes lie past the CS limit: #GP(0) at it.
    mov eax, cs_limit_insn + 2       ; limit: the first three bytes of the MOV
    mov [gdt + 0x30], ax
    mov word [gdt + 0x32], 0
    shr eax, 16
    and eax, 0xF
    shl eax, 16
    or eax, 0x00409A00               ; present code, 32-bit, byte granular, base 0
    mov [gdt + 0x34], eax
    call reset_exc
    mov dword [recover], .r1
    mov dword [recover_cs], SEL_CODE0
    call 0x30:cs_limit_insn
.r1:
    add esp, 8                       ; the far call's return address
    CHECKEQ dword [exc_count], 1, 51
    CHECKEQ dword [exc_vec], 13, 52
    CHECKEQ dword [exc_err], 0, 53
    CHECKEQ dword [exc_eip], cs_limit_insn, 54
    CHECKEQ dword [exc_cs], 0x30, 55
%endif

    ; Paging for the rest: 0x800000.. mapped on demand.
    PRINT "misc: paging", 10
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
    mov edi, POOL + 0x1000
    call zero_page
    mov dword [PT2 + 0*4], POOL | 3          ; 0x800000 present
    mov dword [pool_next], POOL + 0x1000      ; 0x801000 gets POOL + 0x1000 on demand
    ; mov eax, 0x12345678 / ret, split: B8 78 56 | 34 12 C3
    mov dword [POOL + 0xFFC], 0x5678B800
    mov dword [POOL + 0x1000], 0x00C31234
    mov eax, cr0
    or eax, 0x80010000               ; PG, WP
    mov cr0, eax

    ; An instruction that crosses into a not-present page: #PF(0) with CR2 at the page
    ; and EIP at the instruction; restarted after the mapping.
    xor eax, eax
    mov ebx, 0x800FFD
    call ebx
    CHECKEQ dword [pf_count], 1, 60
    CHECKEQ dword [pf_err], 0, 61
    CHECKEQ dword [pf_cr2], 0x801000, 62
    CHECKEQ dword [pf_eip], 0x800FFD, 63
    CHECKEQ eax, 0x12345678, 64

    ; CMOV reads its memory operand even when the condition is false.
    mov ebx, 0x55
    xor eax, eax                     ; ZF = 1
.cm: cmovnz ebx, [0x802010]
    CHECKEQ dword [pf_count], 2, 65
    CHECKEQ dword [pf_eip], .cm, 66
    CHECKEQ ebx, 0x55, 67

    ; LOCK XADD on a dword that crosses into a read-only page: #PF(P|W) before either
    ; half is written; the handler makes the page writable and the XADD completes.
    mov edi, POOL + 0x3000
    call zero_page
    mov edi, POOL + 0x4000
    call zero_page
    mov dword [PT2 + 6*4], (POOL + 0x3000) | 3     ; 0x806000 read/write
    mov dword [PT2 + 7*4], (POOL + 0x4000) | 1     ; 0x807000 read-only
    mov word [POOL + 0x3FFE], 0xBBAA
    mov word [POOL + 0x4000], 0xDDCC
    mov dword [split_watch], 0x806FFE
    mov eax, 0x01010101
.xa: lock xadd [0x806FFE], eax
    mov dword [split_watch], 0
    CHECKEQ dword [pf_count], 3, 68
    CHECKEQ dword [pf_err], 3, 69
    CHECKEQ dword [pf_cr2], 0x807000, 70
    CHECKEQ dword [pf_eip], .xa, 71
    CHECKEQ word [split_seen], 0xBBAA, 72
    CHECKEQ eax, 0xDDCCBBAA, 73
    CHECKEQ dword [0x806FFE], 0xDECDBCAB, 74

    PRINT "misc: system", 10
    mov eax, SEL_DATA0
    lsl ebx, eax
    CHECK z, 75
    CHECKEQ ebx, 0xFFFFFFFF, 76
    lar ebx, eax
    CHECK z, 77
    and ebx, 0x00F0FF00              ; bits 19..16 are undefined
    CHECKEQ ebx, 0x00C09300, 78
    xor eax, eax
    lsl ebx, eax
    CHECK nz, 79
    mov ax, SEL_CODE0
    verr ax
    CHECK z, 80
    verw ax
    CHECK nz, 81
    mov ax, SEL_DATA0
    verw ax
    CHECK z, 82
    ; RDTSC moves forward.
    rdtsc
    mov esi, eax
    mov edi, edx
    mov ecx, 100
.spin:
    dec ecx
    jnz .spin
    rdtsc
    sub eax, esi
    sbb edx, edi
    CHECK nc, 83
    or eax, edx
    CHECK nz, 84
    ; CPUID leaf 0: at least leaf 1, and a vendor string.
    xor eax, eax
    cpuid
    cmp eax, 1
    CHECK ae, 85
    test ebx, ebx
    CHECK nz, 86

    ; LSS loads SS:ESP together.
    mov ebx, esp
    mov dword [farptr], 0x7654
    mov word [farptr+4], SEL_DATA0
    lss esp, [farptr]
    mov eax, esp
    mov esp, ebx
    CHECKEQ eax, 0x7654, 87
%ifndef QEMU_TCG  ; TCG reads unknown MSRs as 0
    ; RDMSR/WRMSR of an MSR that does not exist: #GP(0) (what rdmsr_safe relies on).
    call reset_exc
    mov dword [recover], .r2
    mov ecx, 0x12345678
.f2: rdmsr
.r2: CHECKEQ dword [exc_vec], 13, 88
    CHECKEQ dword [exc_eip], .f2, 89
    call reset_exc
    mov dword [recover], .r3
    mov ecx, 0x12345678
.f3: wrmsr
.r3: CHECKEQ dword [exc_vec], 13, 90
    CHECKEQ dword [exc_eip], .f3, 91
%endif
    ; The TSC MSR is the RDTSC counter.
    mov ecx, 0x10
    rdmsr
    mov esi, eax
    mov edi, edx
    rdtsc
    sub eax, esi
    sbb edx, edi
    CHECK nc, 92

    jmp pass32

; Code run through the 0x30 segment (limit inside the MOV).
cs_limit_insn:
    mov eax, 0x12345678
    retf

; #DB: record EIP; after the second trap clear TF in the frame.
db_handler:
    push eax
    push ecx
    mov ecx, [db_count]
    mov eax, [esp+8]
    mov [db_eip + ecx*4], eax
    inc dword [db_count]
    cmp dword [db_count], 2
    jb .keep
    and dword [esp+16], ~0x100
.keep:
    pop ecx
    pop eax
    iretd

align 4
farptr:    dd 0
           dw 0
align 4
db_count:  dd 0
db_eip:    dd 0, 0, 0, 0
bitbuf:    dd 0, 0
bitbase:   dd 0, 0, 0, 0, 0, 0
           times 16 dd 0
fake_frame:
prog_name: db 'misc', 0

    COMMON_CODE
