; flags.asm — arithmetic flags, differentially: instruction forms (ALU, logic,
; CMPXCHG/XADD, INC/DEC/NEG, shifts and rotates by CL and by 1, SHLD/SHRD, MUL/IMUL,
; BT*, BSF/BSR, DAA/DAS/AAA/AAS/AAM/AAD, and the memory-operand forms of the ALU, shift,
; exchange and bit-string instructions) run over every pair of 20 interesting values
; (or 14 shift counts) with the flags all clear and all set before; the results and the
; architecturally defined flags (undefined ones masked per instruction and count) are
; hashed per form and compared with the hashes recorded on QEMU (flags-expected.inc:
; scripts/build-asm.sh --record regenerates it). A mismatch fails with the
; form's number and prints the instruction.
%include "common.inc"
org BASE

    REAL_START
    ENTER_PM32 pm_entry

; RUN pre, insn, mask — one instruction form over the whole table; `pre` runs before the
; flags are set (it may compute [dynmask]), `mask` keeps the defined flags.
%macro RUN 3
    jmp %%go
%%name: db %str(%2), 0
%%go:
    mov dword [h], 0x811C9DC5
    mov dword [ii], 0
%%li:
    mov dword [jj], 0
%%lj:
    mov dword [ff], 0
%%lf:
    mov eax, [ii]
    mov eax, [vals + eax*4]
    mov ebx, [jj]
    mov esi, [jbase]
    mov ebx, [esi + ebx*4]
    mov ecx, ebx
    mov edx, 0x5A5AA5A5
    %1
    mov edi, [ff]
    push dword [flagpat + edi*4]
    popfd
    %2
    pushfd
    pop edi
    and edi, %3
    call mix5
    inc dword [ff]
    cmp dword [ff], 2
    jb %%lf
    inc dword [jj]
    mov esi, [jn]
    cmp [jj], esi
    jb %%lj
    inc dword [ii]
    cmp dword [ii], NVALS
    jb %%li
    mov esi, %%name
    call finish_op
%endmacro
%macro USEVALS 0
    mov dword [jbase], vals
    mov dword [jn], NVALS
%endmacro
%macro USECOUNTS 0
    mov dword [jbase], counts
    mov dword [jn], NCOUNTS
%endmacro

bits 32
pm_entry:
    PM32_SETUP
%ifdef RECORD
    PRINT "; flags-expected.inc: recorded on QEMU by flags.asm -DRECORD", 10, "expected:", 10
%else
    PRINT "flags: differential hashes", 10
%endif
    USEVALS
    RUN {nop}, {add al, bl}, 0x8D5
    USEVALS
    RUN {nop}, {add ax, bx}, 0x8D5
    USEVALS
    RUN {nop}, {add eax, ebx}, 0x8D5
    USEVALS
    RUN {nop}, {adc al, bl}, 0x8D5
    USEVALS
    RUN {nop}, {adc ax, bx}, 0x8D5
    USEVALS
    RUN {nop}, {adc eax, ebx}, 0x8D5
    USEVALS
    RUN {nop}, {sub al, bl}, 0x8D5
    USEVALS
    RUN {nop}, {sub ax, bx}, 0x8D5
    USEVALS
    RUN {nop}, {sub eax, ebx}, 0x8D5
    USEVALS
    RUN {nop}, {sbb al, bl}, 0x8D5
    USEVALS
    RUN {nop}, {sbb ax, bx}, 0x8D5
    USEVALS
    RUN {nop}, {sbb eax, ebx}, 0x8D5
    USEVALS
    RUN {nop}, {cmp al, bl}, 0x8D5
    USEVALS
    RUN {nop}, {cmp ax, bx}, 0x8D5
    USEVALS
    RUN {nop}, {cmp eax, ebx}, 0x8D5
    USEVALS
    RUN {nop}, {xadd al, bl}, 0x8D5
    USEVALS
    RUN {nop}, {xadd ax, bx}, 0x8D5
    USEVALS
    RUN {nop}, {xadd eax, ebx}, 0x8D5
    USEVALS
    RUN {nop}, {and al, bl}, 0x8C5
    USEVALS
    RUN {nop}, {and ax, bx}, 0x8C5
    USEVALS
    RUN {nop}, {and eax, ebx}, 0x8C5
    USEVALS
    RUN {nop}, {or al, bl}, 0x8C5
    USEVALS
    RUN {nop}, {or ax, bx}, 0x8C5
    USEVALS
    RUN {nop}, {or eax, ebx}, 0x8C5
    USEVALS
    RUN {nop}, {xor al, bl}, 0x8C5
    USEVALS
    RUN {nop}, {xor ax, bx}, 0x8C5
    USEVALS
    RUN {nop}, {xor eax, ebx}, 0x8C5
    USEVALS
    RUN {nop}, {test al, bl}, 0x8C5
    USEVALS
    RUN {nop}, {test ax, bx}, 0x8C5
    USEVALS
    RUN {nop}, {test eax, ebx}, 0x8C5
    USEVALS
    RUN {nop}, {cmpxchg bl, dl}, 0x8D5
    USEVALS
    RUN {nop}, {cmpxchg bx, dx}, 0x8D5
    USEVALS
    RUN {nop}, {cmpxchg ebx, edx}, 0x8D5
    USEVALS
    RUN {nop}, {inc al}, 0x8D5
    USEVALS
    RUN {nop}, {inc ax}, 0x8D5
    USEVALS
    RUN {nop}, {inc eax}, 0x8D5
    USEVALS
    RUN {nop}, {dec al}, 0x8D5
    USEVALS
    RUN {nop}, {dec ax}, 0x8D5
    USEVALS
    RUN {nop}, {dec eax}, 0x8D5
    USEVALS
    RUN {nop}, {neg al}, 0x8D5
    USEVALS
    RUN {nop}, {neg ax}, 0x8D5
    USEVALS
    RUN {nop}, {neg eax}, 0x8D5
    USECOUNTS
    RUN {call pre_shift8}, {shl al, cl}, [dynmask]
    USECOUNTS
    RUN {call pre_shift16}, {shl ax, cl}, [dynmask]
    USECOUNTS
    RUN {call pre_shift32}, {shl eax, cl}, [dynmask]
    USECOUNTS
    RUN {call pre_shift8}, {shr al, cl}, [dynmask]
    USECOUNTS
    RUN {call pre_shift16}, {shr ax, cl}, [dynmask]
    USECOUNTS
    RUN {call pre_shift32}, {shr eax, cl}, [dynmask]
    USECOUNTS
    RUN {call pre_shift8}, {sar al, cl}, [dynmask]
    USECOUNTS
    RUN {call pre_shift16}, {sar ax, cl}, [dynmask]
    USECOUNTS
    RUN {call pre_shift32}, {sar eax, cl}, [dynmask]
    USECOUNTS
    RUN {call pre_rot8}, {rol al, cl}, [dynmask]
    USECOUNTS
    RUN {call pre_rot16}, {rol ax, cl}, [dynmask]
    USECOUNTS
    RUN {call pre_rot32}, {rol eax, cl}, [dynmask]
    USECOUNTS
    RUN {call pre_rot8}, {ror al, cl}, [dynmask]
    USECOUNTS
    RUN {call pre_rot16}, {ror ax, cl}, [dynmask]
    USECOUNTS
    RUN {call pre_rot32}, {ror eax, cl}, [dynmask]
    USECOUNTS
    RUN {call pre_rot8}, {rcl al, cl}, [dynmask]
    USECOUNTS
    RUN {call pre_rot16}, {rcl ax, cl}, [dynmask]
    USECOUNTS
    RUN {call pre_rot32}, {rcl eax, cl}, [dynmask]
    USECOUNTS
    RUN {call pre_rot8}, {rcr al, cl}, [dynmask]
    USECOUNTS
    RUN {call pre_rot16}, {rcr ax, cl}, [dynmask]
    USECOUNTS
    RUN {call pre_rot32}, {rcr eax, cl}, [dynmask]
    USEVALS
    RUN {nop}, {shl al, 1}, 0x8C5
    USEVALS
    RUN {nop}, {shl ax, 1}, 0x8C5
    USEVALS
    RUN {nop}, {shl eax, 1}, 0x8C5
    USEVALS
    RUN {nop}, {shr al, 1}, 0x8C5
    USEVALS
    RUN {nop}, {shr ax, 1}, 0x8C5
    USEVALS
    RUN {nop}, {shr eax, 1}, 0x8C5
    USEVALS
    RUN {nop}, {sar al, 1}, 0x8C5
    USEVALS
    RUN {nop}, {sar ax, 1}, 0x8C5
    USEVALS
    RUN {nop}, {sar eax, 1}, 0x8C5
    USEVALS
    RUN {nop}, {rol al, 1}, 0x8D5
    USEVALS
    RUN {nop}, {rol ax, 1}, 0x8D5
    USEVALS
    RUN {nop}, {rol eax, 1}, 0x8D5
    USEVALS
    RUN {nop}, {ror al, 1}, 0x8D5
    USEVALS
    RUN {nop}, {ror ax, 1}, 0x8D5
    USEVALS
    RUN {nop}, {ror eax, 1}, 0x8D5
    USEVALS
    RUN {nop}, {rcl al, 1}, 0x8D5
    USEVALS
    RUN {nop}, {rcl ax, 1}, 0x8D5
    USEVALS
    RUN {nop}, {rcl eax, 1}, 0x8D5
    USEVALS
    RUN {nop}, {rcr al, 1}, 0x8D5
    USEVALS
    RUN {nop}, {rcr ax, 1}, 0x8D5
    USEVALS
    RUN {nop}, {rcr eax, 1}, 0x8D5
    USECOUNTS
    RUN {call pre_dbl32}, {shld eax, ebx, cl}, [dynmask]
    USECOUNTS
    RUN {call pre_dbl32}, {shrd eax, ebx, cl}, [dynmask]
    USEVALS
    RUN {nop}, {mul bl}, 0x801
    USEVALS
    RUN {nop}, {mul bx}, 0x801
    USEVALS
    RUN {nop}, {mul ebx}, 0x801
    USEVALS
    RUN {nop}, {imul bl}, 0x801
    USEVALS
    RUN {nop}, {imul bx}, 0x801
    USEVALS
    RUN {nop}, {imul ebx}, 0x801
    USEVALS
    RUN {nop}, {imul ax, bx}, 0x801
    USEVALS
    RUN {nop}, {imul eax, ebx}, 0x801
    USEVALS
    RUN {nop}, {imul eax, ebx, -3}, 0x801
    USEVALS
    RUN {nop}, {bt ax, bx}, 0x41
    USEVALS
    RUN {nop}, {bt eax, ebx}, 0x41
    USEVALS
    RUN {nop}, {bts ax, bx}, 0x41
    USEVALS
    RUN {nop}, {bts eax, ebx}, 0x41
    USEVALS
    RUN {nop}, {btr ax, bx}, 0x41
    USEVALS
    RUN {nop}, {btr eax, ebx}, 0x41
    USEVALS
    RUN {nop}, {btc ax, bx}, 0x41
    USEVALS
    RUN {nop}, {btc eax, ebx}, 0x41
    USEVALS
    RUN {nop}, {call op_bsf16}, 0x40
    USEVALS
    RUN {nop}, {call op_bsf32}, 0x40
    USEVALS
    RUN {nop}, {call op_bsr16}, 0x40
    USEVALS
    RUN {nop}, {call op_bsr32}, 0x40
    USEVALS
    RUN {nop}, {daa}, 0xD5
    USEVALS
    RUN {nop}, {das}, 0xD5
    USEVALS
    RUN {nop}, {aaa}, 0x11
    USEVALS
    RUN {nop}, {aas}, 0x11
    USEVALS
    RUN {nop}, {aam}, 0xC4
    USEVALS
    RUN {nop}, {aad}, 0xC4
    USEVALS
    RUN {call pre_mem}, {add byte [memop], bl}, 0x8D5
    USEVALS
    RUN {call pre_mem}, {add word [memop], bx}, 0x8D5
    USEVALS
    RUN {call pre_mem}, {add dword [memop], ebx}, 0x8D5
    USEVALS
    RUN {call pre_mem}, {adc byte [memop], bl}, 0x8D5
    USEVALS
    RUN {call pre_mem}, {adc word [memop], bx}, 0x8D5
    USEVALS
    RUN {call pre_mem}, {adc dword [memop], ebx}, 0x8D5
    USEVALS
    RUN {call pre_mem}, {sub byte [memop], bl}, 0x8D5
    USEVALS
    RUN {call pre_mem}, {sub word [memop], bx}, 0x8D5
    USEVALS
    RUN {call pre_mem}, {sub dword [memop], ebx}, 0x8D5
    USEVALS
    RUN {call pre_mem}, {sbb byte [memop], bl}, 0x8D5
    USEVALS
    RUN {call pre_mem}, {sbb word [memop], bx}, 0x8D5
    USEVALS
    RUN {call pre_mem}, {sbb dword [memop], ebx}, 0x8D5
    USEVALS
    RUN {call pre_mem}, {cmp byte [memop], bl}, 0x8D5
    USEVALS
    RUN {call pre_mem}, {cmp word [memop], bx}, 0x8D5
    USEVALS
    RUN {call pre_mem}, {cmp dword [memop], ebx}, 0x8D5
    USEVALS
    RUN {call pre_mem}, {and byte [memop], bl}, 0x8C5
    USEVALS
    RUN {call pre_mem}, {and word [memop], bx}, 0x8C5
    USEVALS
    RUN {call pre_mem}, {and dword [memop], ebx}, 0x8C5
    USEVALS
    RUN {call pre_mem}, {or byte [memop], bl}, 0x8C5
    USEVALS
    RUN {call pre_mem}, {or word [memop], bx}, 0x8C5
    USEVALS
    RUN {call pre_mem}, {or dword [memop], ebx}, 0x8C5
    USEVALS
    RUN {call pre_mem}, {xor byte [memop], bl}, 0x8C5
    USEVALS
    RUN {call pre_mem}, {xor word [memop], bx}, 0x8C5
    USEVALS
    RUN {call pre_mem}, {xor dword [memop], ebx}, 0x8C5
    USEVALS
    RUN {call pre_mem}, {test byte [memop], bl}, 0x8C5
    USEVALS
    RUN {call pre_mem}, {test word [memop], bx}, 0x8C5
    USEVALS
    RUN {call pre_mem}, {test dword [memop], ebx}, 0x8C5
    USEVALS
    RUN {call pre_mem}, {inc dword [memop]}, 0x8D5
    USEVALS
    RUN {call pre_mem}, {dec dword [memop]}, 0x8D5
    USEVALS
    RUN {call pre_mem}, {neg dword [memop]}, 0x8D5
    USEVALS
    RUN {call pre_mem}, {not dword [memop]}, 0x8D5
    USECOUNTS
    RUN {call pre_memsh}, {shl dword [memop], cl}, [dynmask]
    USECOUNTS
    RUN {call pre_memsh}, {shr dword [memop], cl}, [dynmask]
    USECOUNTS
    RUN {call pre_memsh}, {sar dword [memop], cl}, [dynmask]
    USECOUNTS
    RUN {call pre_memrot}, {rol dword [memop], cl}, [dynmask]
    USECOUNTS
    RUN {call pre_memrot}, {ror dword [memop], cl}, [dynmask]
    USECOUNTS
    RUN {call pre_memrot}, {rcl dword [memop], cl}, [dynmask]
    USECOUNTS
    RUN {call pre_memrot}, {rcr dword [memop], cl}, [dynmask]
    USEVALS
    RUN {call pre_mem}, {xchg [memop], ebx}, 0x8D5
    USEVALS
    RUN {call pre_mem}, {xadd [memop], ebx}, 0x8D5
    USEVALS
    RUN {call pre_mem}, {cmpxchg [memop], edx}, 0x8D5
    USEVALS
    RUN {call pre_mem}, {lock add dword [memop], ebx}, 0x8D5
    USEVALS
    RUN {call pre_membit}, {bt [memop], ebx}, 0x41
    USEVALS
    RUN {call pre_membit}, {bt word [memop], bx}, 0x41
    USEVALS
    RUN {call pre_membit}, {bts [memop], ebx}, 0x41
    USEVALS
    RUN {call pre_membit}, {bts word [memop], bx}, 0x41
    USEVALS
    RUN {call pre_membit}, {btr [memop], ebx}, 0x41
    USEVALS
    RUN {call pre_membit}, {btr word [memop], bx}, 0x41
    USEVALS
    RUN {call pre_membit}, {btc [memop], ebx}, 0x41
    USEVALS
    RUN {call pre_membit}, {btc word [memop], bx}, 0x41
    USEVALS
    RUN {call pre_mem}, {shld [memop], ebx, 5}, 0xC5
    USEVALS
    RUN {call pre_mem}, {imul eax, [memop], 7}, 0x801
    jmp pass32

; mix5: fold EAX, EBX, ECX, EDX and the masked flags (EDI) into [h] (FNV-1a style).
mix5:
    push esi
    mov esi, [h]
    xor esi, eax
    imul esi, esi, 16777619
    xor esi, ebx
    imul esi, esi, 16777619
    xor esi, ecx
    imul esi, esi, 16777619
    xor esi, edx
    imul esi, esi, 16777619
    xor esi, edi
    imul esi, esi, 16777619
    xor esi, [memop-4]
    imul esi, esi, 16777619
    xor esi, [memop]
    imul esi, esi, 16777619
    xor esi, [memop+4]
    imul esi, esi, 16777619
    mov [h], esi
    pop esi
    ret

; Memory-operand forms: pre_mem puts EAX in the operand (and fixed values around it);
; pre_memsh also computes the shift/rotate flag mask; pre_membit limits the bit offset
; in EBX to -16..47 so bit strings stay in the area.
pre_mem:
    mov dword [memop-4], 0x13579BDF
    mov [memop], eax
    mov dword [memop+4], 0x2468ACE0
    ret
pre_memsh:
    call pre_mem
    jmp pre_shift32
pre_membit:
    call pre_mem
    and ebx, 0x3F
    sub ebx, 16
    ret

; finish_op: ESI = the form's text. Record its hash, or compare it with the expected one.
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

; Flag masks of shifts and rotates by CL (SDM: count 0 changes nothing; OF only for 1;
; SHL/SHR/SAR CF undefined past the operand size, AF undefined; rotates keep SF ZF AF PF).
%macro PRE_SHIFT 1
pre_shift%1:
    push ecx
    and ecx, 31
    mov dword [dynmask], 0x8D5
    jz .done
    mov dword [dynmask], 0xC4
    cmp ecx, %1
    ja .nocf
    or dword [dynmask], 1
.nocf:
    cmp ecx, 1
    jne .done
    or dword [dynmask], 0x800
.done:
    pop ecx
    ret
%endmacro
    PRE_SHIFT 8
    PRE_SHIFT 16
    PRE_SHIFT 32
%macro PRE_ROT 1
pre_rot%1:
    push ecx
    and ecx, 31
    mov dword [dynmask], 0x8D5
    jz .done
    mov dword [dynmask], 0xD5
    cmp ecx, 1
    jne .done
    or dword [dynmask], 0x800
.done:
    pop ecx
    ret
%endmacro
    PRE_ROT 8
    PRE_ROT 16
    PRE_ROT 32
pre_memrot:
    call pre_mem
    jmp pre_rot32
pre_dbl32:
    push ecx
    and ecx, 31
    mov dword [dynmask], 0x8D5
    jz .done
    mov dword [dynmask], 0xC5
    cmp ecx, 1
    jne .done
    or dword [dynmask], 0x800
.done:
    pop ecx
    ret

; BSF/BSR leave the destination undefined for a zero source: zero it then.
%macro OP_BS 2
op_%1%2:
%if %2 == 16
    %1 ax, bx
%else
    %1 eax, ebx
%endif
    jnz .k
    mov eax, 0
.k: ret
%endmacro
    OP_BS bsf, 16
    OP_BS bsf, 32
    OP_BS bsr, 16
    OP_BS bsr, 32

align 4
vals:
    dd 0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF
    dd 0x80000000, 0x80000001, 0xFFFFFFFF, 0x12345678, 0xFEDCBA98, 0x0F0F0F0F, 0x99, 0x09
NVALS equ ($ - vals) / 4
counts:
    dd 0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33
NCOUNTS equ ($ - counts) / 4
flagpat:    dd 0x00000002, 0x000008D7   ; all six clear / all six set
h:          dd 0
ii:         dd 0
jj:         dd 0
ff:         dd 0
jbase:      dd 0
jn:         dd 0
opi:        dd 0
dynmask:    dd 0
            dd 0
memop:      dd 0, 0
str_dd:     db '    dd 0x', 0
str_sc:     db '   ; ', 0
str_mism:   db 'flags: mismatch in ', 0
str_got:    db ': hash ', 0
str_exp:    db ' expected ', 0
prog_name:  db 'flags', 0
%ifndef RECORD
%include "flags-expected.inc"
%endif

    COMMON_CODE
