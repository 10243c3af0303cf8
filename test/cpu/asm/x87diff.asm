; x87diff.asm — x87 arithmetic, differentially: 21 operations (FADD FSUB FSUBR FMUL FDIV
; FDIVR FSQRT FRNDINT FSCALE FXTRACT FPREM FPREM1 FCOM FUCOM FXAM FIST FISTP m64 FBSTP
; FST m32/m64 FST m80) over every pair of 28 80-bit values (zeros, ones, fractions with
; 53- and 64-bit significands, huge and tiny doubles, the 80-bit extremes, 80-bit
; denormals, a pseudo-denormal, an unnormal, 2^63, infinity, NaNs) under every
; precision control (24, 53, 64 bits) and rounding mode, exceptions masked. The 80-bit
; results, stored integers/floats/BCD and the status word (every flag, C0-C3 with C1's
; round-up indication, TOP) are hashed per operation and compared with hashes recorded
; on real x87 hardware by x87diff-host.c, a native replica of this program (QEMU is no
; reference here: it leaves C1 set across FSTP, reports PE on loads under reduced
; precision, gets FPREM1's quotient bits wrong and does not model C1 or DE):
;     cc -O1 -o /tmp/x87diff-host test/cpu/asm/x87diff-host.c
;     /tmp/x87diff-host > test/cpu/asm/x87diff-expected.inc
; For a case-by-case diff of two engines, this program built with -DRECORD -DDUMP prints
; every case (operation, control word, operand indexes, result, status word) in the
; format of `x87diff-host --dump`. Built with -DQEMU_TCG (scripts/build-asm.sh --qemu) it
; runs every case but compares nothing.
%include "common.inc"
org BASE

    REAL_START
    ENTER_PM32 pm_entry

; XRUN routine, mask — run `routine` (ST0 = a, ST1 = b) over all control words and
; pairs; `mask` keeps the defined status-word bits.
ARITH equ 0x3AFF     ; exception flags, SF, ES, C1 (round-up), TOP: C0, C2, C3 are undefined
CMPC  equ 0x7FFF     ; the same and the condition codes
%macro XRUN 2
    jmp %%go
%%name: db %str(%1), 0
%%go:
    mov dword [h], 0x811C9DC5
    mov dword [kk], 0
%%lk:
    mov dword [ii], 0
%%li:
    mov dword [jj], 0
%%lj:
    fninit
    mov eax, [kk]
    fldcw [cws + eax*2]
    imul eax, [jj], 10
    fld tword [vals + eax]
    imul eax, [ii], 10
    fld tword [vals + eax]
    xor eax, eax
    mov [res], eax
    mov [res+4], eax
    mov [res+8], eax
    mov [res+12], eax
    mov [res+16], eax
    mov [res+20], eax
    call %1
    fnstsw ax
    and eax, %2
    call mixres
    inc dword [jj]
    cmp dword [jj], NVALS
    jb %%lj
    inc dword [ii]
    cmp dword [ii], NVALS
    jb %%li
    inc dword [kk]
    cmp dword [kk], NCWS
    jb %%lk
    mov esi, %%name
    call finish_op
%endmacro

bits 32
pm_entry:
    PM32_SETUP
%ifdef RECORD
    PRINT "; x87diff-expected.inc: recorded by x87diff.asm -DRECORD", 10, "expected:", 10
%else
    PRINT "x87diff: differential hashes", 10
%endif
    XRUN x_fadd, ARITH
    XRUN x_fsub, ARITH
    XRUN x_fsubr, ARITH
    XRUN x_fmul, ARITH
    XRUN x_fdiv, ARITH
    XRUN x_fdivr, ARITH
    XRUN x_fsqrt, ARITH
    XRUN x_frndint, ARITH
    XRUN x_fscale, ARITH
    XRUN x_fxtract, ARITH
    XRUN x_fprem, CMPC
    XRUN x_fprem1, CMPC
    XRUN x_fcom, CMPC
    XRUN x_fucom, CMPC
    XRUN x_fxam, CMPC
    XRUN x_fist, ARITH
    XRUN x_fistp64, ARITH
    XRUN x_fbstp, ARITH
    XRUN x_fst32, ARITH
    XRUN x_fst64, ARITH
    XRUN x_fst80, ARITH
    jmp pass32

x_fadd:   fadd st0, st1
          fstp tword [res]
          ret
x_fsub:   fsub st0, st1
          fstp tword [res]
          ret
x_fsubr:  fsubr st0, st1
          fstp tword [res]
          ret
x_fmul:   fmul st0, st1
          fstp tword [res]
          ret
x_fdiv:   fdiv st0, st1
          fstp tword [res]
          ret
x_fdivr:  fdivr st0, st1
          fstp tword [res]
          ret
x_fsqrt:  fsqrt
          fstp tword [res]
          ret
x_frndint: frndint
          fstp tword [res]
          ret
x_fscale: fscale
          fstp tword [res]
          ret
x_fxtract: fxtract
          fstp tword [res]
          fstp tword [res+10]
          ret
x_fprem:  fprem
          fnstsw [res+12]            ; the quotient bits (C1 is cleared by the FSTP)
          fstp tword [res]
          ret
x_fprem1: fprem1
          fnstsw [res+12]
          fstp tword [res]
          ret
x_fcom:   fcom st1
          ret
x_fucom:  fucom st1
          ret
x_fxam:   fxam
          ret
x_fist:   fist dword [res]
          ret
x_fistp64: fistp qword [res]
          ret
x_fbstp:  fbstp tword [res]
          ret
x_fst32:  fst dword [res]
          ret
x_fst64:  fst qword [res]
          ret
x_fst80:  fld st0                    ; FST m80 is FSTP only
          fstp tword [res]
          ret

; mixres: fold the 24 result bytes and AX (the status word) into [h].
mixres:
%ifdef DUMP
    pushad
    mov eax, [opi]
    call puthex32
    mov eax, [kk]
    call puthex32
    mov eax, [ii]
    call puthex32
    mov eax, [jj]
    call puthex32
    mov al, ' '
    out 0xE9, al
    xor ecx, ecx
.d: mov eax, [res + ecx*4]
    call puthex32
    inc ecx
    cmp ecx, 6
    jb .d
    mov al, ' '
    out 0xE9, al
    mov eax, [esp+28]
    call puthex32
    mov al, 10
    out 0xE9, al
    popad
%endif
    push esi
    push ecx
    mov esi, [h]
    xor ecx, ecx
.l: xor esi, [res + ecx*4]
    imul esi, esi, 16777619
    inc ecx
    cmp ecx, 6
    jb .l
    xor esi, eax
    imul esi, esi, 16777619
    mov [h], esi
    pop ecx
    pop esi
    ret

; finish_op: ESI = the operation's name. Record its hash, or compare with the expected one.
finish_op:
    mov eax, [h]
    mov ecx, [opi]
    inc dword [opi]
%ifdef RECORD
    push esi
    mov esi, str_dd
    call puts32
    call puthex32
    mov esi, str_sc
    call puts32
    pop esi
    call puts32
    mov al, 10
    out 0xE9, al
    ret
%elifdef QEMU_TCG
    ret                              ; QEMU is no reference for these hashes
%else
    cmp eax, [expected + ecx*4]
    jne .bad
    ret
.bad:
    push esi
    mov esi, str_mism
    call puts32
    pop esi
    call puts32
    mov esi, str_got
    call puts32
    call puthex32
    mov esi, str_exp
    call puts32
    mov eax, [expected + ecx*4]
    call puthex32
    mov al, 10
    out 0xE9, al
    lea eax, [ecx+1]
    jmp fail32
%endif

align 8
; V se, significand — one 80-bit value (FLD m80 loads it unchanged)
%macro V 2
    dq %2
    dw %1
%endmacro
vals:
    V 0x0000, 0x0000000000000000     ; +0
    V 0x8000, 0x0000000000000000     ; -0
    V 0x3FFF, 0x8000000000000000     ; 1
    V 0xBFFF, 0x8000000000000000     ; -1
    V 0x3FFF, 0xC000000000000000     ; 1.5
    V 0x4000, 0xA000000000000000     ; 2.5
    V 0xC000, 0xE000000000000000     ; -3.5
    V 0x3FFB, 0xCCCCCCCCCCCCD000     ; 0.1 (double)
    V 0x3FFD, 0xAAAAAAAAAAAAA800     ; 1/3 (double)
    V 0x43E3, 0xBF21E44003ACE000     ; 1e300 (double)
    V 0xBC1A, 0xAB70FE17C79AC800     ; -1e-300 (double)
    V 0x3BCD, 0x8000000000000000     ; 2^-1074 (the smallest double denormal)
    V 0x43FE, 0xFFFFFFFFFFFFF800     ; DBL_MAX
    V 0x403E, 0x8000000000000000     ; 2^63
    V 0x7FFF, 0x8000000000000000     ; +infinity
    V 0x7FFF, 0xC000000000000000     ; QNaN
    V 0x3FFF, 0x8000000000000001     ; 1 + 2^-63
    V 0x3FFB, 0xCCCCCCCCCCCCCCCD     ; 0.1 (extended)
    V 0x7FFE, 0xFFFFFFFFFFFFFFFF     ; the largest finite number
    V 0x0001, 0x8000000000000000     ; the smallest normal
    V 0x0000, 0x0000000000000001     ; the smallest denormal
    V 0x0000, 0x7FFFFFFFFFFFFFFF     ; the largest denormal
    V 0x0000, 0x8000000000000000     ; a pseudo-denormal (2^-16382)
    V 0xFE7F, 0xC90FDAA22168C235     ; -pi × 2^16000
    V 0x017F, 0xC90FDAA22168C235     ; pi × 2^-16000
    V 0x3FFF, 0x4000000000000000     ; an unnormal (invalid since the 387)
    V 0x7FFF, 0xA000000000000000     ; an SNaN
    V 0x403E, 0xFFFFFFFFFFFFFFFF     ; 2^64 - 1
NVALS equ ($ - vals) / 10
cws:                                 ; RC 0..3 at PC 24, 53 and 64 bits, all masked
    dw 0x007F, 0x047F, 0x087F, 0x0C7F
    dw 0x027F, 0x067F, 0x0A7F, 0x0E7F
    dw 0x037F, 0x077F, 0x0B7F, 0x0F7F
NCWS equ ($ - cws) / 2
align 4
res:        times 24 db 0
h:          dd 0
ii:         dd 0
jj:         dd 0
kk:         dd 0
opi:        dd 0
str_dd:     db '    dd 0x', 0
str_sc:     db '   ; ', 0
str_mism:   db 'x87diff: mismatch in ', 0
str_got:    db ': hash ', 0
str_exp:    db ' expected ', 0
prog_name:  db 'x87diff', 0
%ifndef RECORD
%include "x87diff-expected.inc"
%endif

    COMMON_CODE
