; pae.asm — PAE paging (SDM vol. 3A §4.4) and what comes with it: CPUID's PAE and NX
; bits, IA32_EFER.NXE, the four PDPTEs loaded at MOV CR3, 64-bit PDEs and PTEs, 2 MiB
; pages, the XD bit (#PF with I/D on a fetch, also from a page whose code was already
; run through another mapping), reserved bits (#PF with RSVD), frames above 4 GiB
; (nothing there: no alias of low memory), global pages, INVLPG, accessed/dirty bits in
; 32-bit and in PAE paging, and a write to code through a PAE alias.
; Checks of behaviour QEMU's TCG does not model (PDPTE #GP at MOV CR3, PDPTEs cached
; until the next load, EFER reserved bits #GP, global pages kept over a CR3 reload) are
; left out with -DQEMU_TCG. scripts/build-asm.sh --qemu runs QEMU with NX.
%include "common.inc"
org BASE

PDPT  equ 0x84000              ; 32-byte aligned
PD0   equ 0x85000              ; linear 0..1 GiB
PT0   equ 0x86000              ; linear 0..2 MiB: identity, 4 KiB pages
PT1   equ 0x87000              ; linear 0x400000..0x5FFFFF: the test mappings
PD1   equ 0x88000              ; linear 1..2 GiB
PDPT2 equ 0x89000              ; a PDPT with a reserved bit set in a present entry

EFER  equ 0xC0000080

; A reserved-bit #PF has P and RSVD set (SDM vol. 3A §4.7: "bit 3 of the error code can
; be set only if bit 0 is also set"); QEMU's TCG leaves P clear.
%ifdef QEMU_TCG
RSVD  equ 0x08
%else
RSVD  equ 0x09
%endif

; FAULTS {code}, vector, error code, cr2, n — code must fault so; checks n..n+3
%macro FAULTS 5
    mov dword [recover], %%r
    %1
    mov dword [recover], 0
    mov al, %5
    jmp FAIL
%%r:
    CHECKEQ dword [exc_vec], %2, %5+1
    CHECKEQ dword [exc_err], %3, %5+2
    CHECKEQ dword [exc_cr2], %4, %5+3
%endmacro

;  GPF {code}, n — code must raise #GP(0); checks n..n+2
%macro GPF 2
    mov dword [recover], %%r
    %1
    mov dword [recover], 0
    mov al, %2
    jmp FAIL
%%r:
    CHECKEQ dword [exc_vec], 13, %2+1
    CHECKEQ dword [exc_err], 0, %2+2
%endmacro

; MAP index, lo, hi — PT1 entry `index` (linear 0x400000 + index * 4 KiB)
%macro MAP 3
    mov dword [PT1 + (%1)*8], %2
    mov dword [PT1 + (%1)*8 + 4], %3
    invlpg [0x400000 + (%1)*0x1000]
%endmacro

    REAL_START
    ENTER_PM32 pm_entry

bits 32
pm_entry:
    PM32_SETUP

    ; ---- CPUID: PAE (1:EDX bit 6), NX (80000001h:EDX bit 20).
    mov eax, 1
    cpuid
    test edx, 1 << 6
    CHECK nz, 1
    mov eax, 0x80000000
    cpuid
    cmp eax, 0x80000001
    CHECK ae, 2
    mov eax, 0x80000001
    cpuid
    test edx, 1 << 20
    CHECK nz, 3

    ; ---- 32-bit paging: accessed and dirty bits of the PTE and the PDE.
    call paging_init                  ; PD 0x80000, PT 0x81000, entries P|W|U (A, D clear)
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp .pg
.pg:
    PRINT "pae: 32-bit accessed/dirty", 10
    mov eax, [0x90000]
    CHECKEQ dword [0x81000 + 0x90*4], 0x90000 | 0x27, 4     ; read: A
    mov eax, [0x80000]
    and eax, 0x20
    CHECKEQ eax, 0x20, 5                                     ; the PDE: A
    mov dword [0x91000], 1
    CHECKEQ dword [0x81000 + 0x91*4], 0x91000 | 0x67, 6     ; write: A and D
    mov eax, [0x92000]
    CHECKEQ dword [0x81000 + 0x92*4], 0x92000 | 0x27, 7
    mov dword [0x92000], 1                                   ; a write after a read still sets D
    CHECKEQ dword [0x81000 + 0x92*4], 0x92000 | 0x67, 8
    ; INVLPG of one address of a 4 MiB page drops the whole page (both of its 2 MiB halves).
    mov eax, cr4
    or eax, 0x10                                             ; PSE
    mov cr4, eax
    mov dword [0x80000 + 1*4], 0x000000 | 0x83               ; linear 4..8 MiB → physical 0
    mov eax, [0x400000 + 0x90000]
    mov eax, [0x400000 + 0x91000]
    mov eax, [0x400000 + 0x3F1000]
    mov dword [0x80000 + 1*4], 0
    invlpg [0x400000 + 0x90000]
    FAULTS {mov eax, [0x400000 + 0x91000]}, 14, 0, 0x491000, 103
    FAULTS {mov eax, [0x400000 + 0x3F1000]}, 14, 0, 0x7F1000, 107
    mov eax, cr0
    and eax, 0x7FFFFFFF
    mov cr0, eax
    jmp .nopg
.nopg:

    ; ---- PAE tables.
    mov edi, PDPT
    call zero_page
    mov edi, PD0
    call zero_page
    mov edi, PT1
    call zero_page
    mov edi, PD1
    call zero_page
    mov dword [PDPT + 0*8], PD0 | 1
    mov dword [PDPT + 1*8], PD1 | 1
    mov dword [PD0 + 0*8], PT0 | 3
    mov dword [PD0 + 1*8], 0x000000 | 0x83          ; linear 2..4 MiB → physical 0..2 MiB (PS)
    mov dword [PD0 + 2*8], PT1 | 3
    mov dword [PD1 + 0*8], 0x000000 | 0x83          ; linear 1 GiB.. → physical 0 (PS)
    mov edi, PT0
    mov eax, 3
    mov ecx, 512
.pt0:
    mov [edi], eax
    mov dword [edi + 4], 0
    add eax, 0x1000
    add edi, 8
    dec ecx
    jnz .pt0
    ; PDPT2: entry 0 as PDPT's, entry 3 present with reserved bit 1 set.
    mov edi, PDPT2
    call zero_page
    mov dword [PDPT2 + 0*8], PD0 | 1
    mov dword [PDPT2 + 3*8], PD0 | 3
    ; Code at 0x93000: mov eax, 0x77 / ret.
    mov dword [0x93000], 0x000077B8
    mov word [0x93004], 0xC300

    mov eax, PDPT
    mov cr3, eax
    mov eax, cr4
    or eax, 0x20                      ; PAE
    mov cr4, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp .pae
.pae:
    PRINT "pae: on", 10
    mov eax, cr4
    test eax, 0x20
    CHECK nz, 9

    ; ---- 4 KiB pages: an alias, and its PTE's A and D; the PDE's A.
    MAP 0, 0x90000 | 3, 0
    mov dword [0x90010], 0x11223344
    CHECKEQ dword [0x400010], 0x11223344, 10
    CHECKEQ dword [PT1 + 0*8], 0x90000 | 0x23, 11
    mov eax, [PD0 + 2*8]
    and eax, 0x20
    CHECKEQ eax, 0x20, 12
    mov dword [0x400020], 0x55667788
    CHECKEQ dword [0x90020], 0x55667788, 13
    CHECKEQ dword [PT1 + 0*8], 0x90000 | 0x63, 14
    CHECKEQ dword [PT1 + 0*8 + 4], 0, 15

    ; ---- 2 MiB pages: linear 0x200000 + x → physical x; the PDE gets A, then D.
    PRINT "pae: 2 MiB pages", 10
    mov dword [0x94000], 0x0BADCAFE
    CHECKEQ dword [0x200000 + 0x94000], 0x0BADCAFE, 16
    mov eax, [PD0 + 1*8]
    CHECKEQ eax, 0x000000 | 0xA3, 17
    mov dword [0x200000 + 0x94004], 0x600DF00D
    CHECKEQ dword [0x94004], 0x600DF00D, 18
    CHECKEQ dword [PD0 + 1*8], 0x000000 | 0xE3, 19
    CHECKEQ dword [0x40000000 + 0x94000], 0x0BADCAFE, 20   ; through PDPTE 1
    ; INVLPG of one address of a 2 MiB page drops the whole page.
    mov eax, [0x200000 + 0x95000]
    mov dword [PD0 + 1*8], 0
    invlpg [0x200000 + 0x94000]
    FAULTS {mov eax, [0x200000 + 0x95000]}, 14, 0, 0x295000, 111
    mov dword [PD0 + 1*8], 0x000000 | 0xE3

    ; ---- Reserved bits (error code P | RSVD, with W on a write).
    PRINT "pae: reserved bits", 10
    MAP 1, 0x95000 | 3, 0x80000000                  ; XD without EFER.NXE: reserved
    FAULTS {mov eax, [0x401000]}, 14, RSVD, 0x401000, 21
    MAP 1, 0x95000 | 3, 0x40000000                  ; bit 62
    FAULTS {mov dword [0x401008], 0}, 14, RSVD | 2, 0x401008, 25
    MAP 1, 0x95000 | 3, 0x10                        ; bit 36: above MAXPHYADDR (36)
    FAULTS {mov eax, [0x401000]}, 14, RSVD, 0x401000, 29
    mov dword [PD0 + 1*8], 0x000000 | 0x2083        ; 2 MiB PDE with bit 13 set
    invlpg [0x200000 + 0x94000]
    FAULTS {mov eax, [0x200000 + 0x94000]}, 14, RSVD, 0x294000, 33
    mov dword [PD0 + 1*8], 0x000000 | 0x83
    invlpg [0x200000 + 0x94000]
    MAP 1, 0x95000, 0x40000000                      ; not present: reserved bits do not matter
    FAULTS {mov eax, [0x401000]}, 14, 0x00, 0x401000, 37

    ; ---- A frame above 4 GiB: no RAM there, and no alias of physical 0x96000.
    mov dword [0x96000], 0x5A5A5A5A
    MAP 2, 0x96000 | 3, 1
    mov dword [0x402000], 0x12345678
    CHECKEQ dword [0x96000], 0x5A5A5A5A, 41
    mov eax, [0x402000]
    cmp eax, 0x12345678
    CHECK ne, 42
%ifndef QEMU_TCG
    CHECKEQ eax, 0xFFFFFFFF, 43                     ; open bus
%endif

    ; ---- EFER.NXE and the XD bit.
    PRINT "pae: nx", 10
    mov ecx, EFER
    rdmsr
    CHECKEQ eax, 0, 44
    CHECKEQ edx, 0, 45
    mov ecx, EFER
    mov eax, 0x800
    xor edx, edx
    wrmsr
    rdmsr
    CHECKEQ eax, 0x800, 50
    ; An executable alias of the code page at 0x93000, run often enough to be translated,
    ; from a loop that is translated too; its last call goes to an XD alias of the page.
    MAP 3, 0x93000 | 3, 0
    MAP 4, 0x93000 | 3, 0x80000000                  ; the same page, XD
    CHECKEQ dword [0x404000], 0x000077B8, 51        ; data reads of an XD page are fine
    mov esi, 400
    mov ebx, 0x403000
.warm:
    xor eax, eax
    cmp esi, 1
    jne .call
    mov ebx, 0x404000
    mov dword [recover], .nx
.call:
    call ebx
    CHECKEQ eax, 0x77, 52
    dec esi
    jnz .warm
    mov al, 53                                      ; the XD call did not fault
    jmp FAIL
.nx:
    CHECKEQ dword [exc_vec], 14, 54
    CHECKEQ dword [exc_err], 0x11, 55               ; fetch: P | I/D
    CHECKEQ dword [exc_cr2], 0x404000, 56
    CHECKEQ dword [exc_eip], 0x404000, 57
    ; XD in the PDE covers its whole table; a 2 MiB page with XD.
    mov dword [PD0 + 2*8 + 4], 0x80000000
    mov eax, cr3
    mov cr3, eax
    FAULTS {call 0x403000}, 14, 0x11, 0x403000, 58
    mov dword [PD0 + 2*8 + 4], 0
    mov dword [PD1 + 0*8 + 4], 0x80000000
    mov eax, cr3
    mov cr3, eax
    FAULTS {call 0x40093000}, 14, 0x11, 0x40093000, 62
    mov dword [PD1 + 0*8 + 4], 0
    mov eax, cr3
    mov cr3, eax
    xor eax, eax
    call 0x40093000
    CHECKEQ eax, 0x77, 66
    ; A not-present fetch under NXE has I/D too.
    MAP 5, 0, 0
    FAULTS {call 0x405000}, 14, 0x10, 0x405000, 67
    ; Clearing XD (and INVLPG) makes it executable.
    MAP 4, 0x93000 | 3, 0
    xor eax, eax
    call 0x404000
    CHECKEQ eax, 0x77, 71
    ; A write to the translated code through a PAE data alias is seen: mov eax, 0x78.
    MAP 6, 0x93000 | 3, 0
    mov byte [0x406001], 0x78
    xor eax, eax
    call 0x403000
    CHECKEQ eax, 0x78, 72
    CHECKEQ dword [PT1 + 6*8], 0x93000 | 0x63, 73
    ; With NXE clear again, XD is reserved once more.
    MAP 4, 0x93000 | 3, 0x80000000
    mov eax, [0x404000]                             ; cached with NXE set
    mov ecx, EFER
    xor eax, eax
    xor edx, edx
    wrmsr
    invlpg [0x404000]
    FAULTS {mov eax, [0x404000]}, 14, RSVD, 0x404000, 74
    mov ecx, EFER
    mov eax, 0x800
    wrmsr

    ; ---- Global pages: INVLPG and a CR4.PGE toggle flush them.
    PRINT "pae: global pages", 10
    mov eax, cr4
    or eax, 0x80                      ; PGE
    mov cr4, eax
    mov dword [0x97000], 0x61
    mov dword [0x98000], 0x62
    MAP 7, 0x97000 | 0x103, 0         ; G
    MAP 8, 0x97000 | 0x003, 0
    CHECKEQ dword [0x407000], 0x61, 78
    CHECKEQ dword [0x408000], 0x61, 79
    mov dword [PT1 + 7*8], 0x98000 | 0x103
    mov dword [PT1 + 8*8], 0x98000 | 0x003
    mov eax, cr3
    mov cr3, eax
    CHECKEQ dword [0x408000], 0x62, 80              ; not global: reloaded
%ifndef QEMU_TCG
    CHECKEQ dword [0x407000], 0x61, 81              ; global: kept (typevisor's TLB)
%endif
    invlpg [0x407000]
    CHECKEQ dword [0x407000], 0x62, 82
    mov dword [PT1 + 7*8], 0x97000 | 0x103
    mov eax, cr4
    and eax, ~0x80
    mov cr4, eax
    or eax, 0x80
    mov cr4, eax
    CHECKEQ dword [0x407000], 0x61, 83

%ifndef QEMU_TCG
    ; ---- PDPTEs: loaded at MOV CR3 (reserved bit → #GP(0), CR3 unchanged), and kept.
    PRINT "pae: pdptes", 10
    mov eax, PDPT2
    GPF {mov cr3, eax}, 84
    mov eax, cr3
    CHECKEQ eax, PDPT, 88
    mov dword [PDPT + 1*8], 0                       ; not seen until CR3 is loaded again
    invlpg [0x40000000 + 0x94000]
    CHECKEQ dword [0x40000000 + 0x94000], 0x0BADCAFE, 89
    mov eax, cr3
    mov cr3, eax
    FAULTS {mov eax, [0x40000000 + 0x94000]}, 14, 0x00, 0x40094000, 90
    mov dword [PDPT + 1*8], PD1 | 1
    mov eax, cr3
    mov cr3, eax
    ; EFER: LME and SCE are not writable here (no long mode, no SYSCALL), nor bit 1.
    mov ecx, EFER
    mov eax, 0x900
    xor edx, edx
    GPF {wrmsr}, 94
    mov eax, 0x801
    GPF {wrmsr}, 98
    rdmsr
    CHECKEQ eax, 0x800, 102
    ; MOV CR4 changing PGE and MOV CR0 turning paging on load the PDPTEs too.
    mov dword [PDPT + 3*8], PD0 | 3                 ; a reserved bit, seen at the next load
    mov eax, cr4
    mov ebx, eax
    xor eax, 0x80
    GPF {mov cr4, eax}, 115
    mov eax, cr4
    CHECKEQ eax, ebx, 118                           ; CR4 unchanged
    mov eax, cr0
    and eax, 0x7FFFFFFF
    mov cr0, eax                                    ; paging off: nothing loaded
    jmp .off
.off:
    mov ebx, cr0
    mov eax, ebx
    or eax, 0x80000000
    GPF {mov cr0, eax}, 119
    mov eax, cr0
    CHECKEQ eax, ebx, 122                           ; still off
    mov dword [PDPT + 3*8], 0
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp .on
.on:
    CHECKEQ dword [0x40000000 + 0x94000], 0x0BADCAFE, 123
%endif

    jmp pass32

prog_name:   db 'pae', 0

    COMMON_CODE
