; sse.asm — SSE/SSE2: the environment checks (CR4.OSFXSR, CR0.EM/TS, unmasked SIMD
; exceptions as #XM or #UD, LDMXCSR reserved bits, FXSAVE/FXRSTOR of XMM and MXCSR),
; a few known results, then a differential sweep: each floating-point operation over
; every pair of special operands (zeros, denormals, extremes, infinities, NaNs,
; rounding-sensitive values) under each rounding mode and FZ+DAZ, exceptions masked;
; the result vector, MXCSR and ZF/PF/CF are hashed per operation and compared with the
; hashes of the host's real SSE unit, where sse-host.sh runs the same operations:
;     test/cpu/asm/sse-host.sh > test/cpu/asm/sse-expected.inc
; QEMU (7.2) is no reference for them: it propagates the NaN with the larger significand
; where SSE takes the first source's, reports DE only when DAZ flushes an operand, and
; returns a denormal's bits from MIN/MAX under DAZ. Built with -DQEMU_TCG the sweep
; runs but compares nothing, and the checks of what QEMU does not model (#XM, LDMXCSR
; and FXRSTOR reserved bits) are left out. With -DDUMP every case is printed, in the
; format of `sse-host.sh --dump`, for a case-by-case diff.
%include "common.inc"
org BASE

; XMCASE insn, mxcsr, a, b, mxcsr after, n — insn xmm0 = [a], xmm1 = [b] under mxcsr must
; raise #XM, leave MXCSR as given and xmm0 unchanged; else fail with check n.
%macro XMCASE 6
    mov dword [tmp], %2
    ldmxcsr [tmp]
    movups xmm0, [%3]
    movups xmm1, [%4]
    mov dword [recover], %%r
    %1 xmm0, xmm1
    mov al, %6
    jmp fail32
%%r: CHECKEQ dword [exc_vec], 19, %6
    stmxcsr [tmp]
    CHECKEQ dword [tmp], %5, %6
    movups [out], xmm0
    mov eax, [%3 + 8]
    CHECKEQ [out + 8], eax, %6
%endmacro

; SAY "text" — PRINT, except in the recording run (whose output is the .inc file).
%macro SAY 1+
%ifndef RECORD
    PRINT %1
%endif
%endmacro

    REAL_START
    ENTER_PM32 pm_entry

bits 32
pm_entry:
    PM32_SETUP
    SAY "sse: environment", 10
    mov eax, cr0
    and eax, ~0x0C                  ; EM, TS off
    or eax, 0x22                    ; MP, NE
    mov cr0, eax
    ; CR4.OSFXSR clear: #UD
    mov eax, cr4
    and eax, ~0x600
    mov cr4, eax
    mov dword [recover], .r1
    xorps xmm0, xmm0
    mov al, 1
    jmp fail32
.r1: CHECKEQ dword [exc_vec], 6, 2
    mov eax, cr4
    or eax, 0x200                   ; OSFXSR
    mov cr4, eax
    xorps xmm0, xmm0
    ; CR0.TS: #NM
    mov eax, cr0
    or eax, 8
    mov cr0, eax
    mov dword [recover], .r2
    addps xmm0, xmm1
    mov al, 3
    jmp fail32
.r2: CHECKEQ dword [exc_vec], 7, 4
    clts
    ; CR0.EM: #UD (not #NM)
    mov eax, cr0
    or eax, 4
    mov cr0, eax
    mov dword [recover], .r3
    paddd xmm0, xmm1
    mov al, 5
    jmp fail32
.r3: CHECKEQ dword [exc_vec], 6, 6
    mov eax, cr0
    and eax, ~4
    mov cr0, eax
%ifndef QEMU_TCG                       ; QEMU 7.2 ignores reserved MXCSR bits
    ; LDMXCSR with a reserved bit: #GP(0)
    mov dword [tmp], 0x10000
    mov dword [recover], .r4
    ldmxcsr [tmp]
    mov al, 7
    jmp fail32
.r4: CHECKEQ dword [exc_vec], 13, 8
%endif
    ; a misaligned MOVAPS: #GP(0)
    mov dword [recover], .r5
    movaps xmm0, [vecs + 4]
    mov al, 9
    jmp fail32
.r5: CHECKEQ dword [exc_vec], 13, 10
%ifndef QEMU_TCG                       ; QEMU raises no SIMD floating-point exception
    ; an unmasked divide by zero without CR4.OSXMMEXCPT: #UD, flag set, no result
    mov dword [tmp], 0x1f80 & ~0x200       ; ZM clear
    ldmxcsr [tmp]
    movups xmm0, [one4]
    xorps xmm1, xmm1
    mov dword [recover], .r6
    divps xmm0, xmm1
    mov al, 11
    jmp fail32
.r6: CHECKEQ dword [exc_vec], 6, 12
    stmxcsr [tmp]
    CHECKEQ dword [tmp], 0x1d84, 13
    movd eax, xmm0
    CHECKEQ eax, 0x3f800000, 14
    ; ... and with it: #XM
    mov eax, cr4
    or eax, 0x400
    mov cr4, eax
    mov dword [recover], .r7
    divss xmm0, xmm1
    mov al, 15
    jmp fail32
.r7: CHECKEQ dword [exc_vec], 19, 16
    ; an unmasked precision exception: #XM, no result
    mov dword [tmp], 0x1f80 & ~0x1000
    ldmxcsr [tmp]
    movups xmm0, [one4]
    movss xmm1, [three]
    mov dword [recover], .r8
    divss xmm0, xmm1
    mov al, 17
    jmp fail32
.r8: CHECKEQ dword [exc_vec], 19, 18
    movd eax, xmm0
    CHECKEQ eax, 0x3f800000, 19
    stmxcsr [tmp]
    CHECKEQ dword [tmp], 0x0fa0, 20
    ; Unmasked exceptions over four lanes, as recorded on the host's SSE unit: with an
    ; unmasked pre-computation exception (IE DE ZE) MXCSR gets the pre-computation flags of
    ; every lane, else every lane's flags; no lane is written.
    XMCASE addps, 0x0000, xa1, xb1, 0x0001, 50
    XMCASE addps, 0x0f80, xa2, xb2, 0x0fa8, 51
    XMCASE divps, 0x0000, xa3, xb3, 0x0007, 52
    XMCASE divps, 0x1d80, xa3, xb3, 0x1d87, 53
    XMCASE divps, 0x1e80, xa3, xb3d, 0x1e82, 54
    XMCASE mulps, 0x1780, xa4, xb4, 0x1790, 55
    XMCASE mulps, 0x0f80, xa5, xb5, 0x0fb0, 56
    XMCASE cvtps2dq, 0x1f00, xa6, xb6, 0x1f01, 57
    XMCASE cvtps2dq, 0x0f80, xa6, xb6, 0x0fa1, 58
%endif

    SAY "sse: fxsave", 10
    mov dword [tmp], 0x3f80 | 0x15         ; RC down, some flags
    ldmxcsr [tmp]
    mov esi, vecs
    movups xmm0, [esi]
    movups xmm1, [esi+16]
    movups xmm2, [esi+32]
    movups xmm3, [esi+48]
    movups xmm4, [esi+64]
    movups xmm5, [esi+80]
    movups xmm6, [esi+96]
    movups xmm7, [esi+112]
    fxsave [fxarea]
    CHECKEQ dword [fxarea+24], 0x3f95, 21
    mov eax, [fxarea+160+7*16+12]
    CHECKEQ eax, [vecs+7*16+12], 22
    xorps xmm0, xmm0
    xorps xmm7, xmm7
    mov dword [tmp], 0x1f80
    ldmxcsr [tmp]
    fxrstor [fxarea]
    stmxcsr [tmp]
    CHECKEQ dword [tmp], 0x3f95, 23
    movups [out], xmm7
    mov eax, [out+8]
    CHECKEQ eax, [vecs+7*16+8], 24
    movups [out], xmm0
    mov eax, [out]
    CHECKEQ eax, [vecs], 25
%ifndef QEMU_TCG
    ; FXRSTOR with a reserved MXCSR bit: #GP(0)
    mov dword [fxarea+24], 0x20000
    mov dword [recover], .r9
    fxrstor [fxarea]
    mov al, 26
    jmp fail32
.r9: CHECKEQ dword [exc_vec], 13, 27
%endif

    SAY "sse: known results", 10
    mov dword [tmp], 0x1f80
    ldmxcsr [tmp]
    movdqu xmm0, [ints]
    movdqu xmm1, [ints+16]
    paddb xmm0, xmm1
    pmovmskb eax, xmm0
    CHECKEQ eax, 0x0081, 30
    movdqu xmm0, [ints]
    pcmpeqb xmm0, [ints+16]
    pmovmskb eax, xmm0
    CHECKEQ eax, 0x0100, 31
    movdqu xmm0, [ints]
    pshufd xmm0, xmm0, 0x1b
    movd eax, xmm0
    CHECKEQ eax, [ints+12], 32
    pextrw eax, xmm0, 7
    CHECKEQ eax, 0x0302, 33
    movdqu xmm0, [ints]
    psrldq xmm0, 3
    movd eax, xmm0
    CHECKEQ eax, 0x06050403, 34
    mov eax, 7
    cvtsi2sd xmm2, eax
    sqrtsd xmm2, xmm2
    cvttsd2si eax, xmm2
    CHECKEQ eax, 2, 35
    movsd xmm3, [dbl_big]
    cvtsd2si eax, xmm3
    CHECKEQ eax, 0x80000000, 36
    stmxcsr [tmp]
    CHECKEQ dword [tmp], 0x1fa1, 37          ; PE from the square root, IE
    ; RCPSS/RSQRTSS approximate within 1.5 x 2^-12 (3072 units in the last place here)
    mov dword [tmp], 0x40000000              ; 2.0
    rcpss xmm0, [tmp]
    movd eax, xmm0
    sub eax, 0x3f000000 - 3072               ; 0.5
    cmp eax, 6144
    CHECK be, 38
    mov dword [tmp], 0x40800000              ; 4.0
    rsqrtss xmm0, [tmp]
    movd eax, xmm0
    sub eax, 0x3f000000 - 3072
    cmp eax, 6144
    CHECK be, 39
    ; MMX: the x87 unit enters MMX state (TOP 0, every register valid, MMi's exponent
    ; field all ones); EMMS empties every register
    fninit
    fld1                                     ; TOP 7
    mov eax, 0x12345678
    movd mm1, eax
    fxsave [fxarea]
    CHECKEQ word [fxarea+2], 0, 41           ; FSW: TOP 0
    CHECKEQ byte [fxarea+4], 0xff, 42        ; abridged tags: all valid
%ifndef QEMU_TCG                             ; QEMU leaves the exponent field alone
    CHECKEQ word [fxarea+32+16+8], 0xffff, 43 ; ST(1) = R1 = MM1: exponent all ones
%endif
    CHECKEQ dword [fxarea+32+16], 0x12345678, 44
    emms
    fxsave [fxarea]
    CHECKEQ byte [fxarea+4], 0, 45           ; all empty
    ; MASKMOVDQU / MASKMOVQ: the bytes whose mask byte has bit 7 set go to DS:EDI
    mov edi, scratch
    mov eax, 0x11111111
    mov ecx, 4
.fill: mov [edi + ecx*4 - 4], eax
    loop .fill
    movdqu xmm0, [ints]
    movdqu xmm1, [ints+16]                   ; bit 7 in bytes 0 and 8
    maskmovdqu xmm0, xmm1
    CHECKEQ dword [scratch], 0x11111100, 46
    CHECKEQ dword [scratch+4], 0x11111111, 47
    CHECKEQ dword [scratch+8], 0x11111180, 48
    movdq2q mm0, xmm1
    movdq2q mm1, xmm0
    add edi, 4
    maskmovq mm1, mm0                        ; byte 0 of the data (0x00) to [scratch+4]
    emms
    CHECKEQ dword [scratch+4], 0x11111100, 49
%ifndef QEMU_TCG                             ; QEMU returns the denormal
    mov dword [tmp], 0x7f000000              ; 2^127: a reciprocal below the normals is 0
    rcpss xmm0, [tmp]
    movd eax, xmm0
    CHECKEQ eax, 0, 40
%endif

    SAY "sse: differential hashes", 10
    mov dword [opi], 0
    xor eax, eax
.ops:
    call run_op
    mov eax, [curop]
    inc eax
    cmp eax, NOPS
    jb .ops
    jmp pass32

; run_op: EAX = operation index. For every MXCSR setting and pair (i, j): xmm0 =
; 16 bytes of the value table at i, xmm1 at j; run the operation; hash xmm0, MXCSR, flags.
run_op:
    mov [curop], eax
    mov dword [h], 0x811C9DC5
    mov dword [kk], 0
.lk:
    mov dword [ii], 0
.li:
    mov dword [jj], 0
.lj:
    mov eax, [kk]
    mov eax, [mxcsrs + eax*4]
    mov [tmp], eax
    ldmxcsr [tmp]
    mov eax, [curop]
    mov ebx, [ops + eax*8 + 4]       ; 4 or 8: element size of the table
    mov eax, [ii]
    imul eax, ebx
    movups xmm0, [vals32 + eax]
    cmp ebx, 8
    jne .s1
    movups xmm0, [vals64 + eax]
.s1:
    mov eax, [jj]
    imul eax, ebx
    movups xmm1, [vals32 + eax]
    cmp ebx, 8
    jne .s2
    movups xmm1, [vals64 + eax]
.s2:
    xor eax, eax                     ; a known EFLAGS for the flag-less operations
    mov eax, [curop]
    call [ops + eax*8]
    pushfd
    pop eax
    and eax, 0x45                    ; ZF PF CF
    mov [out+20], eax
    movups [out], xmm0
    stmxcsr [out+16]
    call mixres
    inc dword [jj]
    mov eax, [curop]
    mov ecx, NV32
    cmp dword [ops + eax*8 + 4], 8
    jne .n1
    mov ecx, NV64
.n1:
    cmp [jj], ecx
    jb .lj
    inc dword [ii]
    cmp [ii], ecx
    jb .li
    inc dword [kk]
    cmp dword [kk], NMX
    jb .lk
    mov eax, [curop]
    imul esi, eax, 12
    add esi, names
    jmp finish_op

; mixres: FNV-1a over the 24 bytes at out. Built with -DDUMP, every case is printed
; (operation, MXCSR index, operand indexes, the 24 bytes) for a diff between two engines.
mixres:
%ifdef DUMP
    pushad
    mov eax, [curop]
    call puthex32
    mov eax, [kk]
    call puthex32
    mov eax, [ii]
    call puthex32
    mov eax, [jj]
    call puthex32
    xor ecx, ecx
.d: mov al, ' '
    out 0xE9, al
    mov eax, [out + ecx*4]
    call puthex32
    inc ecx
    cmp ecx, 6
    jb .d
    mov al, 10
    out 0xE9, al
    popad
%endif
    mov eax, [h]
    xor ecx, ecx
.m: movzx edx, byte [out + ecx]
    xor eax, edx
    imul eax, 0x01000193
    inc ecx
    cmp ecx, 24
    jb .m
    mov [h], eax
    ret

; finish_op: ESI = the operation's name. Record its hash, or compare it with the expected one.
finish_op:
    mov eax, [h]
    mov ecx, [opi]
    inc dword [opi]
%ifdef QEMU_TCG
    ret
%elifdef RECORD
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
    mov al, 1
    jmp fail32
%endif

; ---- operations (sse-host.sh assembles this part again, for the host's real SSE unit)
; The operations: xmm0 = xmm0 op xmm1 (conversions to integers go through EAX).
%macro OP 3   ; label, size, body
%1: %3
    ret
%endmacro
OP o_addps, 4, {addps xmm0, xmm1}
OP o_subps, 4, {subps xmm0, xmm1}
OP o_mulps, 4, {mulps xmm0, xmm1}
OP o_divps, 4, {divps xmm0, xmm1}
OP o_sqrtps, 4, {sqrtps xmm0, xmm1}
OP o_minps, 4, {minps xmm0, xmm1}
OP o_maxps, 4, {maxps xmm0, xmm1}
OP o_addss, 4, {addss xmm0, xmm1}
OP o_divss, 4, {divss xmm0, xmm1}
OP o_sqrtss, 4, {sqrtss xmm0, xmm1}
OP o_addpd, 8, {addpd xmm0, xmm1}
OP o_subpd, 8, {subpd xmm0, xmm1}
OP o_mulpd, 8, {mulpd xmm0, xmm1}
OP o_divpd, 8, {divpd xmm0, xmm1}
OP o_sqrtpd, 8, {sqrtpd xmm0, xmm1}
OP o_minpd, 8, {minpd xmm0, xmm1}
OP o_maxpd, 8, {maxpd xmm0, xmm1}
OP o_mulsd, 8, {mulsd xmm0, xmm1}
o_cmpps:  movaps xmm2, xmm0
          movaps xmm3, xmm0
          movaps xmm4, xmm0
          cmpps xmm0, xmm1, 0
          cmpps xmm2, xmm1, 1
          cmpps xmm3, xmm1, 2
          cmpps xmm4, xmm1, 3
          por xmm0, xmm2
          paddd xmm0, xmm3
          paddd xmm0, xmm4
          movaps xmm2, [vals32]
          cmpps xmm2, xmm0, 5
          pxor xmm0, xmm2
          ret
o_cmppd:  movapd xmm2, xmm0
          cmppd xmm0, xmm1, 1
          cmppd xmm2, xmm1, 6
          paddq xmm0, xmm2
          ret
o_comiss: comiss xmm0, xmm1
          ret
o_ucomiss: ucomiss xmm0, xmm1
          ret
o_comisd: comisd xmm0, xmm1
          ret
o_ucomisd: ucomisd xmm0, xmm1
          ret
o_cvtps2dq: cvtps2dq xmm0, xmm1
          ret
o_cvttps2dq: cvttps2dq xmm0, xmm1
          ret
o_cvtdq2ps: cvtdq2ps xmm0, xmm1
          ret
o_cvtps2pd: cvtps2pd xmm0, xmm1
          ret
o_cvtss2si: cvtss2si eax, xmm1
          cvttss2si ebx, xmm0
          movd xmm0, eax
          movd xmm2, ebx
          punpckldq xmm0, xmm2
          ret
o_cvtpd2ps: cvtpd2ps xmm0, xmm1
          ret
o_cvtpd2dq: cvtpd2dq xmm0, xmm1
          ret
o_cvttpd2dq: cvttpd2dq xmm0, xmm1
          ret
o_cvtsd2ss: cvtsd2ss xmm0, xmm1
          ret
o_cvtsd2si: cvtsd2si eax, xmm1
          cvttsd2si ebx, xmm0
          cvtsi2sd xmm0, eax
          cvtsi2ss xmm0, ebx
          ret
o_cvtdq2pd: cvtdq2pd xmm0, xmm1
          ret
o_cvtss2sd: cvtss2sd xmm0, xmm1
          ret
o_int1:   movdqa xmm2, xmm0
          paddsw xmm0, xmm1
          psubusb xmm2, xmm1
          pmulhw xmm2, xmm0
          pmaddwd xmm0, xmm2
          pavgb xmm2, xmm1
          psadbw xmm2, xmm0
          pxor xmm0, xmm2
          packsswb xmm0, xmm1
          ret
o_int2:   movdqa xmm2, xmm0
          pmuludq xmm0, xmm1
          pmulhuw xmm2, xmm1
          pmullw xmm2, xmm0
          punpckhbw xmm2, xmm1
          packuswb xmm0, xmm2
          pcmpgtw xmm2, xmm1
          psraw xmm0, xmm1
          pminsw xmm0, xmm2
          pmaxub xmm0, xmm1
          packssdw xmm2, xmm0
          paddq xmm0, xmm2
          psubsb xmm0, xmm1
          ret
o_int3:   movdqa xmm2, xmm0
          psllq xmm0, xmm1
          psrld xmm2, 3
          psrlw xmm2, xmm1
          pslldq xmm2, 5
          punpcklqdq xmm0, xmm2
          pshufhw xmm0, xmm0, 0x93
          pshuflw xmm2, xmm1, 0x39
          shufps xmm0, xmm2, 0xd2
          shufpd xmm2, xmm0, 1
          unpcklps xmm0, xmm1
          psubq xmm0, xmm2
          movmskps eax, xmm1
          pinsrw xmm0, eax, 3
          movmskpd eax, xmm2
          pinsrw xmm0, eax, 6
          ret

o_scal1:  movaps xmm2, xmm0
          movaps xmm3, xmm0
          subss xmm0, xmm1
          mulss xmm2, xmm1
          minss xmm3, xmm1
          unpcklps xmm0, xmm2
          movlhps xmm0, xmm3
          ret
o_scal2:  movaps xmm2, xmm0
          movaps xmm3, xmm0
          maxss xmm0, xmm1
          cmpss xmm2, xmm1, 2
          cmpss xmm3, xmm1, 5
          movd eax, xmm1
          cvtsi2ss xmm4, eax
          unpcklps xmm0, xmm2
          unpcklps xmm3, xmm4
          movlhps xmm0, xmm3
          ret
o_scal3:  movapd xmm2, xmm0
          movapd xmm3, xmm0
          movapd xmm4, xmm0
          subsd xmm0, xmm1
          addsd xmm2, xmm1
          divsd xmm3, xmm1
          sqrtsd xmm4, xmm1
          unpcklpd xmm0, xmm2
          paddq xmm0, xmm3
          pxor xmm0, xmm4
          ret
o_scal4:  movapd xmm2, xmm0
          movapd xmm3, xmm0
          minsd xmm0, xmm1
          maxsd xmm2, xmm1
          cmpsd xmm3, xmm1, 6
          unpcklpd xmm0, xmm2
          pxor xmm0, xmm3
          cmppd xmm2, xmm1, 3
          cmppd xmm3, xmm1, 7
          paddq xmm0, xmm2
          psubq xmm0, xmm3
          ret
o_int4:   movdqa xmm2, xmm0
          movdqa xmm3, xmm0
          pcmpeqw xmm2, xmm1
          pcmpgtb xmm3, xmm1
          paddusw xmm2, xmm3
          psubusw xmm3, xmm1
          pcmpeqd xmm0, xmm3
          pcmpgtd xmm3, xmm1
          paddsb xmm0, xmm2
          psubsw xmm2, xmm1
          pminub xmm2, xmm3
          pmaxsw xmm3, xmm1
          pavgw xmm0, xmm3
          pandn xmm0, xmm2
          por xmm0, xmm1
          punpcklwd xmm0, xmm2
          punpckhdq xmm2, xmm3
          punpckhqdq xmm0, xmm2
          psubd xmm0, xmm3
          paddw xmm0, xmm1
          psubw xmm0, xmm2
          paddd xmm0, xmm3
          psubb xmm0, xmm1
          paddusb xmm0, xmm2
          pcmpeqb xmm0, xmm1
          ret
o_int5:   movdqa xmm2, xmm0
          movdqa xmm3, xmm1
          psrlq xmm2, 13
          psraw xmm3, 5
          psrad xmm0, xmm1
          pslld xmm2, xmm1
          psllw xmm3, 9
          psrldq xmm2, 7
          psllq xmm3, 33
          pslld xmm0, 31
          psrlw xmm0, 1
          psrad xmm3, 17
          pxor xmm0, xmm2
          pxor xmm0, xmm3
          movdqa xmm3, xmm1
          pand xmm3, [mask_low]
          psrlq xmm2, xmm3
          paddq xmm0, xmm2
          ret
o_mov:    movaps xmm2, xmm0
          movaps xmm3, xmm1
          movss xmm2, xmm1
          movsd xmm3, xmm0
          movhlps xmm2, xmm3
          movlps [scratch], xmm0
          movhps [scratch+8], xmm1
          movhps xmm3, [scratch]
          movlpd xmm3, [scratch+8]
          movq xmm4, xmm3
          movq [scratch], xmm2
          movhpd xmm4, [scratch]
          movss xmm5, [scratch+4]
          movsd xmm6, [scratch+8]
          movdqu [scratch+3], xmm4
          movups xmm7, [scratch+1]
          pshufd xmm0, xmm7, 0x4e
          pshuflw xmm5, xmm5, 0x1b
          pshufhw xmm6, xmm6, 0xb1
          packssdw xmm5, xmm6
          paddd xmm0, xmm5
          movmskps eax, xmm0
          movmskpd ebx, xmm6
          pmovmskb ecx, xmm3
          pextrw edx, xmm2, 5
          pinsrw xmm0, eax, 0
          pinsrw xmm0, ebx, 2
          pinsrw xmm0, ecx, 4
          pinsrw xmm0, edx, 7
          unpckhps xmm3, xmm4
          unpckhpd xmm4, xmm3
          movlhps xmm3, xmm4
          xorpd xmm0, xmm3
          andpd xmm4, xmm1
          orps xmm0, xmm4
          andnps xmm4, xmm0
          andnpd xmm4, xmm2
          addps xmm0, xmm4
          ret

o_mmx1:   movdq2q mm0, xmm0
          movdq2q mm1, xmm1
          movq mm2, mm0
          paddsw mm0, mm1
          psubusb mm2, mm1
          pmulhw mm2, mm0
          pmaddwd mm0, mm2
          pavgb mm2, mm1
          psadbw mm2, mm0
          pxor mm0, mm2
          packsswb mm0, mm1
          movq mm3, mm1
          punpckhbw mm3, mm0
          packuswb mm3, mm2
          pcmpgtw mm2, mm1
          psraw mm3, mm1
          pminsw mm3, mm2
          pmaxub mm3, mm1
          packssdw mm2, mm3
          paddq mm3, mm2
          psubsb mm3, mm1
          pmuludq mm2, mm1
          pshufw mm2, mm2, 0x6c
          movq2dq xmm0, mm0
          movq2dq xmm2, mm3
          punpcklqdq xmm0, xmm2
          movq2dq xmm2, mm2
          pxor xmm0, xmm2
          emms
          ret
o_mmx2:   movdq2q mm0, xmm0
          movdq2q mm1, xmm1
          movq mm2, mm0
          movq mm3, mm1
          psrlq mm2, 13
          psraw mm3, 5
          psrad mm0, mm1
          pslld mm2, mm1
          psllw mm3, 9
          punpckhwd mm2, mm0
          punpckldq mm3, mm1
          punpckhdq mm0, mm3
          psrlw mm0, mm3
          pcmpeqb mm0, mm1
          pcmpgtd mm2, mm0
          pmovmskb eax, mm1
          pinsrw mm0, eax, 1
          pextrw ebx, mm2, 2
          pinsrw mm3, ebx, 3
          movd ecx, mm3
          movd mm2, ecx
          por mm0, mm2
          cvtpi2ps xmm0, mm3
          cvttps2pi mm2, xmm1
          cvtps2pi mm3, xmm0
          cvtpi2pd xmm2, mm1
          cvtpd2pi mm1, xmm2
          psubd mm0, mm1
          movq2dq xmm1, mm0
          movq2dq xmm2, mm2
          movq2dq xmm3, mm3
          punpcklqdq xmm2, xmm3
          pxor xmm1, xmm2
          addps xmm0, xmm1
          emms
          ret

align 16
mask_low: dq 63, 0
scratch:  times 32 db 0

align 8
ops:
    dd o_addps, 4, o_subps, 4, o_mulps, 4, o_divps, 4, o_sqrtps, 4, o_minps, 4, o_maxps, 4, o_addss, 4, o_divss, 4, o_sqrtss, 4
    dd o_addpd, 8, o_subpd, 8, o_mulpd, 8, o_divpd, 8, o_sqrtpd, 8, o_minpd, 8, o_maxpd, 8, o_mulsd, 8
    dd o_cmpps, 4, o_cmppd, 8, o_comiss, 4, o_ucomiss, 4, o_comisd, 8, o_ucomisd, 8
    dd o_cvtps2dq, 4, o_cvttps2dq, 4, o_cvtdq2ps, 4, o_cvtps2pd, 4, o_cvtss2si, 4
    dd o_cvtpd2ps, 8, o_cvtpd2dq, 8, o_cvttpd2dq, 8, o_cvtsd2ss, 8, o_cvtsd2si, 8, o_cvtdq2pd, 4, o_cvtss2sd, 4
    dd o_int1, 4, o_int2, 4, o_int3, 4
    dd o_scal1, 4, o_scal2, 4, o_scal3, 8, o_scal4, 8, o_int4, 4, o_int5, 4, o_mov, 4
    dd o_mmx1, 4, o_mmx2, 4
NOPS equ ($ - ops) / 8
names:                               ; 12 bytes each, in the order of ops
    db 'addps'
    times 12 - 5 db 0
    db 'subps'
    times 12 - 5 db 0
    db 'mulps'
    times 12 - 5 db 0
    db 'divps'
    times 12 - 5 db 0
    db 'sqrtps'
    times 12 - 6 db 0
    db 'minps'
    times 12 - 5 db 0
    db 'maxps'
    times 12 - 5 db 0
    db 'addss'
    times 12 - 5 db 0
    db 'divss'
    times 12 - 5 db 0
    db 'sqrtss'
    times 12 - 6 db 0
    db 'addpd'
    times 12 - 5 db 0
    db 'subpd'
    times 12 - 5 db 0
    db 'mulpd'
    times 12 - 5 db 0
    db 'divpd'
    times 12 - 5 db 0
    db 'sqrtpd'
    times 12 - 6 db 0
    db 'minpd'
    times 12 - 5 db 0
    db 'maxpd'
    times 12 - 5 db 0
    db 'mulsd'
    times 12 - 5 db 0
    db 'cmpps'
    times 12 - 5 db 0
    db 'cmppd'
    times 12 - 5 db 0
    db 'comiss'
    times 12 - 6 db 0
    db 'ucomiss'
    times 12 - 7 db 0
    db 'comisd'
    times 12 - 6 db 0
    db 'ucomisd'
    times 12 - 7 db 0
    db 'cvtps2dq'
    times 12 - 8 db 0
    db 'cvttps2dq'
    times 12 - 9 db 0
    db 'cvtdq2ps'
    times 12 - 8 db 0
    db 'cvtps2pd'
    times 12 - 8 db 0
    db 'cvtss2si'
    times 12 - 8 db 0
    db 'cvtpd2ps'
    times 12 - 8 db 0
    db 'cvtpd2dq'
    times 12 - 8 db 0
    db 'cvttpd2dq'
    times 12 - 9 db 0
    db 'cvtsd2ss'
    times 12 - 8 db 0
    db 'cvtsd2si'
    times 12 - 8 db 0
    db 'cvtdq2pd'
    times 12 - 8 db 0
    db 'cvtss2sd'
    times 12 - 8 db 0
    db 'int1'
    times 12 - 4 db 0
    db 'int2'
    times 12 - 4 db 0
    db 'int3'
    times 12 - 4 db 0

    db 'scal1'
    times 12 - 5 db 0
    db 'scal2'
    times 12 - 5 db 0
    db 'scal3'
    times 12 - 5 db 0
    db 'scal4'
    times 12 - 5 db 0
    db 'int4'
    times 12 - 4 db 0
    db 'int5'
    times 12 - 4 db 0
    db 'mov'
    times 12 - 3 db 0
    db 'mmx1'
    times 12 - 4 db 0
    db 'mmx2'
    times 12 - 4 db 0
; binary32 operands; three more at the end so 16 bytes can be read from every index
align 16
vals32:
    dd 0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x3fc00000, 0x40400000, 0x3eaaaaab
    dd 0x00000001, 0x007fffff, 0x00800000, 0x80800001, 0x7f7fffff, 0xff7fffff, 0x7f800000
    dd 0xff800000, 0x7fc00001, 0x7f800001, 0xffc12345, 0x4b800001, 0x3f800001, 0x4f000000
    dd 0xcf000000, 0x4effffff, 0x3f000000, 0xbfc00000, 0x40200000, 0x1a000001, 0x65000003
    dd 0x5f7fffff, 0x20800001
NV32 equ ($ - vals32) / 4
    dd 0x3f800000, 0x00000001, 0x7f800000
; binary64 operands, one more at the end
align 16
vals64:
    dq 0x0000000000000000, 0x8000000000000000, 0x3ff0000000000000, 0xbff0000000000000
    dq 0x3ff8000000000000, 0x4008000000000000, 0x3fd5555555555555, 0x0000000000000001
    dq 0x000fffffffffffff, 0x0010000000000000, 0x8010000000000001, 0x7fefffffffffffff
    dq 0xffefffffffffffff, 0x7ff0000000000000, 0xfff0000000000000, 0x7ff8000000000001
    dq 0x7ff0000000000001, 0xfff8123456789abc, 0x4340000000000001, 0x3ff0000000000001
    dq 0x41e0000000000000, 0xc1e0000000000000, 0x41dfffffffc00000, 0x41dfffffffe00000
    dq 0xc1e0000000100000, 0x3fe0000000000000, 0x4004000000000000, 0x2000000000000003
    dq 0x5ff0000000000005, 0x3810000000000001, 0x47efffffe0000000, 0x36a0000000000001
NV64 equ ($ - vals64) / 8
    dq 0x3ff0000000000000
mxcsrs:                              ; all masked: nearest, down, up, toward zero, nearest with FZ+DAZ
    dd 0x1f80, 0x3f80, 0x5f80, 0x7f80, 0x9fc0
NMX equ ($ - mxcsrs) / 4
; ---- end of operations
align 16
xa1: dd 0x7f7fffff, 0x3f800000, 0x7f800000, 0x3f800000   ; overflow, inexact, invalid, exact
xb1: dd 0x7f7fffff, 0x30800000, 0xff800000, 0x3f800000
xa2: dd 0x7f7fffff, 0x3f800000, 0x3f800000, 0x3f800000
xb2: dd 0x7f7fffff, 0x30800000, 0x3f800000, 0x3f800000
xa3: dd 0, 0x3f800000, 0x3f800000, 0x00000001            ; 0/0, 1/3, 1/0, denormal/1
xb3: dd 0, 0x40400000, 0, 0x3f800000
xb3d: dd 0x00000001, 0x40400000, 0x40000000, 0x3f800000
xa4: dd 0x00800000, 0x3f800000, 0x00800000, 0x3f800000   ; exact tiny products
xb4: dd 0x3f000000, 0x3f800000, 0x3e800000, 0x3f800000
xa5: dd 0x00800000, 0x3f800000, 0x00800001, 0x3f800000   ; exact tiny, inexact tiny
xb5: dd 0x3f000000, 0x3f800000, 0x3f000000, 0x3f800000
xa6: dd 0x11111111, 0x22222222, 0x33333333, 0x44444444
xb6: dd 0x4f800000, 0x3fc00000, 0x7fc00000, 0x3f800000   ; 2^32, 1.5, NaN, 1
one4:       dd 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000
three:      dd 0x40400000
dbl_big:    dq 0x41f0000000000000    ; 2^32
align 16
ints:       db 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x7f, 0x80, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0xff
            db 0x80, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x80, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x7f
align 16
vecs:       ; eight registers' worth of patterns
%assign n 0
%rep 32
            dd 0x01020304 * (n + 1) + n
%assign n n+1
%endrep
align 16
fxarea:     times 512 db 0
out:        times 24 db 0
tmp:        dd 0
h:          dd 0
ii:         dd 0
jj:         dd 0
kk:         dd 0
opi:        dd 0
curop:      dd 0
str_dd:     db '    dd 0x', 0
str_sc:     db '   ; ', 0
str_mism:   db 'sse: mismatch in ', 0
str_got:    db ': hash ', 0
str_exp:    db ' expected ', 0
prog_name:  db 'sse', 0
%ifndef RECORD
%include "sse-expected.inc"
%endif

    COMMON_CODE
