; x87diff.asm — x87 arithmetic, differentially: 17 operations (FADD FSUB FSUBR FMUL FDIV
; FDIVR FSQRT FRNDINT FSCALE FXTRACT FPREM FCOM FUCOM FXAM FIST FST m32/m64) over
; every pair of 16 values (zeros, ones, fractions, huge, tiny, denormal, 2^63, infinity,
; NaN) under every rounding mode, extended precision, exceptions masked. (Reduced
; precision control is left out: QEMU reports PE on loads under it, where hardware does
; not, so it is no reference there.) The 80-bit
; results, stored integers/floats and the defined status-word bits (less DE and C1's
; round-up indication, which QEMU does not model; FPREM1 is left out because QEMU's
; quotient bits are wrong there) are hashed per operation and compared with hashes recorded on QEMU's softfloat
; (x87diff-expected.inc: scripts/build-asm.sh --record rerecords it). With -DRECORD
; -DDUMP it prints every case (operation, control word, operand indexes, result, status
; word), for a line-by-line diff of two engines.
%include "common.inc"
org BASE

    REAL_START
    ENTER_PM32 pm_entry

; XRUN routine, mask — run `routine` (ST0 = a, ST1 = b) over all control words and
; pairs; `mask` keeps the defined status-word bits.
ARITH equ 0x38FD     ; exception flags (not DE), SF, ES, TOP: C0-C3 are undefined or,
                     ; for C1 (rounded up), not modelled by QEMU
CMPC  equ 0x7FFD     ; the same and the condition codes
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
    mov eax, [jj]
    fld qword [vals + eax*8]
    mov eax, [ii]
    fld qword [vals + eax*8]
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
    PRINT "; x87diff-expected.inc: recorded on QEMU by x87diff.asm -DRECORD", 10, "expected:", 10
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
    XRUN x_fcom, CMPC
    XRUN x_fucom, CMPC
    XRUN x_fxam, CMPC
    XRUN x_fist, ARITH
    XRUN x_fst32, ARITH
    XRUN x_fst64, ARITH
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
x_fst32:  fst dword [res]
          ret
x_fst64:  fst qword [res]
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
vals:
    dq 0.0, -0.0, 1.0, -1.0, 1.5, 2.5, -3.5, 0.1
    dq 0.3333333333333333, 1.0e300, -1.0e-300, 4.9e-324
    dq 1.7976931348623157e308, 9.223372036854775808e18, __Infinity__, __QNaN__
NVALS equ ($ - vals) / 8
cws:                                 ; RC 0..3, extended precision, all masked
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
