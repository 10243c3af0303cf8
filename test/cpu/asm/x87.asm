; x87.asm — the floating-point unit, in real mode: FINIT state, FLD/FADD/FMUL/FDIV/
; FSQRT with known results compared through FCOMP + FSTSW AX + SAHF and through FISTP,
; FLDPI to the last bit, FSIN/FCOS/FPTAN of 0, FBSTP/FBLD, FSAVE/FRSTOR round trip
; (the 16-bit real-mode image), masked division by zero, FXAM, rounding of FISTP,
; FCHS/FABS/FXCH.
%include "common.inc"
org BASE
%define FAIL fail16

; FEQ — FCOMP result was "equal" (check n, n+1).
%macro FEQ 1
    fnstsw ax
    sahf
    CHECK e, %1
    CHECK np, %1+1
%endmacro

    REAL_START
    PRINT "x87: start", 10
    fninit
    fnstsw ax
    CHECKEQ ax, 0, 1
    fnstcw [R(cw)]
    CHECKEQ word [R(cw)], 0x037F, 2

    ; 1 + 1 = 2.
    fld1
    fld1
    faddp st1, st0
    fcomp qword [R(two)]
    FEQ 3
    fnstsw ax
    and ax, 0x3800
    CHECKEQ ax, 0, 5                 ; stack empty again: TOP = 0
    ; 3 * 4 = 12, through FISTP.
    fld dword [R(three)]
    fmul qword [R(four)]
    fistp word [R(i16)]
    CHECKEQ word [R(i16)], 12, 6
    ; 10 / 4 = 2.5.
    fld qword [R(ten)]
    fdiv qword [R(four)]
    fcomp qword [R(two5)]
    FEQ 7
    ; 1 < 2: C0 → CF.
    fld1
    fcomp qword [R(two)]
    fnstsw ax
    sahf
    CHECK b, 9
    ; sqrt(2) rounded to double, bit for bit; sqrt(16) = 4.
    PRINT "x87: sqrt pi sin", 10
    fld qword [R(two)]
    fsqrt
    fstp qword [R(f64)]
    CHECKEQ dword [R(f64)], 0x667F3BCD, 10
    CHECKEQ dword [R(f64)+4], 0x3FF6A09E, 11
    fild word [R(sixteen)]
    fsqrt
    fistp word [R(i16)]
    CHECKEQ word [R(i16)], 4, 12
    ; FLDPI: 0x4000 C90FDAA2 2168C235.
    fldpi
    fstp tword [R(f80)]
    CHECKEQ dword [R(f80)], 0x2168C235, 13
    CHECKEQ dword [R(f80)+4], 0xC90FDAA2, 14
    CHECKEQ word [R(f80)+8], 0x4000, 15
    ; sin(0) = 0 (C2 clear: argument in range), cos(0) = 1, tan(0) = 0 and FPTAN pushes 1.
    fldz
    fsin
    fnstsw ax
    test ah, 4
    CHECK z, 16
    ftst
    fnstsw ax
    sahf
    CHECK e, 17
    fstp st0
    fldz
    fcos
    fld1
    fcompp
    FEQ 18
    fldz
    fptan
    fld1
    fcompp
    FEQ 20
    ftst
    FEQ 22
    fstp st0

    ; FBSTP of 1234567 and -98765; FBLD back.
    PRINT "x87: bcd", 10
    fild dword [R(i1234567)]
    fbstp tword [R(bcd)]
    CHECKEQ dword [R(bcd)], 0x01234567, 30
    CHECKEQ dword [R(bcd)+4], 0, 31
    CHECKEQ word [R(bcd)+8], 0, 32
    fild dword [R(im98765)]
    fbstp tword [R(bcd)]
    CHECKEQ dword [R(bcd)], 0x00098765, 33
    CHECKEQ byte [R(bcd)+9], 0x80, 34
    fbld tword [R(bcd)]
    fistp dword [R(i32)]
    CHECKEQ dword [R(i32)], -98765, 35

    ; FSAVE / FRSTOR: three values, the saved image, FINIT state after FSAVE, restore.
    PRINT "x87: fsave", 10
    fninit
    fld1
    fldpi
    fld qword [R(two)]
    fnsave [R(savebuf)]
    fnstsw ax
    CHECKEQ ax, 0, 40                ; FSAVE reinitializes
    fnstcw [R(cw)]
    CHECKEQ word [R(cw)], 0x037F, 41
    CHECKEQ word [R(savebuf)], 0x037F, 42     ; FCW
    mov ax, [R(savebuf)+2]                    ; FSW: TOP = 5
    and ax, 0x3800
    CHECKEQ ax, 0x2800, 43
    CHECKEQ word [R(savebuf)+4], 0x03FF, 44   ; tags: registers 5..7 valid
    CHECKEQ dword [R(savebuf)+14], 0, 45      ; ST0 = 2.0
    CHECKEQ dword [R(savebuf)+18], 0x80000000, 46
    CHECKEQ word [R(savebuf)+22], 0x4000, 47
    CHECKEQ word [R(savebuf)+32], 0x4000, 48  ; ST1 = pi: exponent
    frstor [R(savebuf)]
    fcomp qword [R(two)]
    FEQ 49
    fldpi
    fcompp
    FEQ 51
    fld1
    fcompp
    FEQ 53
    fnstsw ax
    and ax, 0x3800
    CHECKEQ ax, 0, 55

    ; Masked division by zero: +inf, ZE set; FXAM says infinity; FNCLEX clears.
    PRINT "x87: exceptions", 10
    fld1
    fldz
    fdivp st1, st0
    fnstsw ax
    test al, 4
    CHECK nz, 60
    fxam
    fnstsw ax
    and ax, 0x4700
    CHECKEQ ax, 0x0500, 61           ; C3=0 C2=1 C0=1: infinity, C1=0: positive
    fstp st0
    fnclex
    fnstsw ax
    test al, 0x3F
    CHECK z, 62

    ; FISTP rounds to nearest even.
    fld qword [R(two5)]
    fistp word [R(i16)]
    CHECKEQ word [R(i16)], 2, 63
    fld qword [R(three5)]
    fistp word [R(i16)]
    CHECKEQ word [R(i16)], 4, 64
    fld qword [R(mtwo5)]
    fistp word [R(i16)]
    CHECKEQ word [R(i16)], -2, 65
    ; FCHS, FABS, FXCH.
    fld qword [R(two)]
    fchs
    fistp word [R(i16)]
    CHECKEQ word [R(i16)], -2, 66
    fld qword [R(mtwo5)]
    fabs
    fcomp qword [R(two5)]
    FEQ 67
    fld1
    fld qword [R(two)]
    fxch
    fistp word [R(i16)]
    CHECKEQ word [R(i16)], 1, 69
    fistp word [R(i16)]
    CHECKEQ word [R(i16)], 2, 70

    ; The integer core's side: CR0.TS and CR0.EM raise #NM (the lazy FPU switch), WAIT
    ; faults only with MP and TS, and with CR0.NE an unmasked exception raises #MF at the
    ; next waiting FPU instruction.
    PRINT "x87: nm mf", 10
    xor ax, ax
    mov es, ax
    mov word [es:7*4], R(nm_handler)
    mov word [es:7*4+2], 0x1000
    mov word [es:16*4], R(mf_handler)
    mov word [es:16*4+2], 0x1000
    mov eax, cr0
    or al, 8                         ; TS
    mov cr0, eax
    fld1                             ; #NM; the handler's CLTS lets it run again
    CHECKEQ word [R(nm_count)], 1, 80
    fistp word [R(i16)]
    CHECKEQ word [R(i16)], 1, 81
    mov eax, cr0
    or al, 4                         ; EM
    mov cr0, eax
    fldz                             ; #NM; the handler clears EM
    CHECKEQ word [R(nm_count)], 2, 82
    fstp st0
    mov eax, cr0
    and al, ~2                       ; MP = 0, TS = 1: WAIT does not fault
    or al, 8
    mov cr0, eax
    fwait
    CHECKEQ word [R(nm_count)], 2, 83
    mov eax, cr0
    or al, 0x0A                      ; MP = 1, TS = 1: it does
    mov cr0, eax
.nmw: fwait
    CHECKEQ word [R(nm_count)], 3, 84
    CHECKEQ word [R(nm_ip)], R(.nmw), 85
    mov eax, cr0
    and al, ~0x0E
    or al, 0x20                      ; NE
    mov cr0, eax
    fninit
    fldcw [R(cw_zm)]                 ; divide-by-zero unmasked
    fld1
    fldz
    fdivp st1, st0
    fnstsw ax
    test ax, 0x80                    ; ES (error summary) set, no #MF yet
    CHECK nz, 86
    CHECKEQ word [R(mf_count)], 0, 87
.mfw: fwait
    CHECKEQ word [R(mf_count)], 1, 88
    CHECKEQ word [R(mf_ip)], R(.mfw), 89
    fninit

    jmp pass16

; #NM (real mode): count, record the IP, clear TS and EM, retry.
nm_handler:
    push bp
    mov bp, sp
    push eax
    mov ax, [bp+2]
    mov [cs:R(nm_ip)], ax
    inc word [cs:R(nm_count)]
    clts
    mov eax, cr0
    and al, ~4
    mov cr0, eax
    pop eax
    pop bp
    iret

; #MF (real mode): count, record the IP, clear the exception, retry.
mf_handler:
    push bp
    mov bp, sp
    push ax
    mov ax, [bp+2]
    mov [cs:R(mf_ip)], ax
    inc word [cs:R(mf_count)]
    fnclex
    pop ax
    pop bp
    iret

align 8
two:       dq 2.0
four:      dq 4.0
ten:       dq 10.0
two5:      dq 2.5
three5:    dq 3.5
mtwo5:     dq -2.5
three:     dd 3.0
i1234567:  dd 1234567
im98765:   dd -98765
i32:       dd 0
f64:       dq 0
f80:       dt 0.0
bcd:       dt 0.0
sixteen:   dw 16
i16:       dw 0
cw:        dw 0
cw_zm:     dw 0x037B
nm_count:  dw 0
nm_ip:     dw 0
mf_count:  dw 0
mf_ip:     dw 0
align 4
savebuf:   times 108 db 0
prog_name: db 'x87', 0

    COMMON_CODE
