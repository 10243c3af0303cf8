; paging.asm — 32-bit paging: page directory and tables, a PSE 4 MiB page, alias
; mappings, accessed/dirty bits, restartable #PF (handler maps the page, IRET retries
; the instruction) for reads, writes, page-crossing writes and instruction fetches,
; CR0.WP on a read-only page at CPL 0, and TLB invalidation by CR3 reload and INVLPG.
%include "common.inc"
org BASE

PD   equ 0x80000
PT1  equ 0x82000           ; linear 0x00400000..0x007FFFFF: alias mappings
PT2  equ 0x83000           ; linear 0x00800000..0x00BFFFFF: mapped on demand by #PF

%macro PF_EXPECT 4          ; count, error code, cr2, first check number
    CHECKEQ dword [pf_count], %1, %4
    CHECKEQ dword [pf_err], %2, %4+1
    CHECKEQ dword [pf_cr2], %3, %4+2
%endmacro

    REAL_START
    ENTER_PM32 pm_entry

bits 32
pm_entry:
    PM32_SETUP
    mov eax, pf_handler
    mov ecx, 14
    mov dl, 0x8E
    call set_gate

    ; Tables: identity map of 0..4 MiB (PT0), PT1 and PT2 empty, a 4 MiB page at
    ; linear 0x40000000 → physical 0.
    call paging_init
    mov edi, PT1
    call zero_page
    mov edi, PT2
    call zero_page
    mov dword [PD + 1*4], PT1 | 3
    mov dword [PD + 2*4], PT2 | 3
    mov dword [PD + 0x100*4], 0x00000000 | 0x83     ; PS | W | P
    ; Pool pages with known contents.
    mov edi, POOL
    call zero_page
    mov edi, POOL + 0x1000
    call zero_page
    mov edi, POOL + 0x2000
    call zero_page
    mov dword [POOL + 0x234], 0x600DF00D
    mov word [POOL + 0x1FFE], 0x1111
    mov word [POOL + 0x2000], 0x2222
    mov edi, POOL + 0x3000            ; code: mov eax, 0x77 / ret
    mov dword [edi], 0x000077B8
    mov word [edi+4], 0xC300

    mov eax, cr4
    or eax, 0x10                      ; PSE
    mov cr4, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp .pg
.pg:
    PRINT "paging: on", 10
    mov eax, cr0
    test eax, 0x80000000
    CHECK nz, 1
    mov eax, cr3
    CHECKEQ eax, PD, 2

    ; Alias: linear 0x400000 → physical 0x90000.
    mov dword [PT1 + 0*4], 0x90000 | 3
    mov dword [0x400010], 0xA1A1A1A1
    CHECKEQ dword [0x90010], 0xA1A1A1A1, 3
    mov dword [0x90020], 0x5EED5EED
    CHECKEQ dword [0x400020], 0x5EED5EED, 4

    ; PSE: linear 0x40000000 + x → physical x; the PDE gets A and D.
    mov dword [0x40000000 + 0x91000], 0xB2B2B2B2
    CHECKEQ dword [0x91000], 0xB2B2B2B2, 5
    mov eax, [PD + 0x100*4]
    and eax, 0x60
    CHECKEQ eax, 0x60, 6
    CHECKEQ dword [0x40000000 + 0x10000 + (prog_name - BASE)], 'pagi', 7

    ; Accessed and dirty bits of a 4 KiB page: a read sets A, a write sets D.
    mov dword [PT1 + 1*4], 0x92000 | 3
    mov eax, [0x401000]
    mov eax, [PT1 + 1*4]
    and eax, 0x60
    CHECKEQ eax, 0x20, 8
    test dword [PD + 1*4], 0x20
    CHECK nz, 9
    mov dword [0x401004], 1
    mov eax, [PT1 + 1*4]
    and eax, 0x60
    CHECKEQ eax, 0x60, 10
    ; Cleared by software and flushed, they are set again.
    mov dword [PT1 + 1*4], 0x92000 | 3
    invlpg [0x401000]
    mov eax, [0x401008]
    mov eax, [PT1 + 1*4]
    and eax, 0x60
    CHECKEQ eax, 0x20, 11
    mov byte [0x401009], 2
    mov eax, [PT1 + 1*4]
    and eax, 0x60
    CHECKEQ eax, 0x60, 12

    ; A read of a not-present page: #PF(0), CR2, the handler maps it, the read is retried.
    PRINT "paging: demand faults", 10
    mov ebx, 0x12345678
.f1: mov ebx, [0x800234]
    PF_EXPECT 1, 0, 0x800234, 13
    CHECKEQ dword [pf_eip], .f1, 16
    CHECKEQ ebx, 0x600DF00D, 17
    CHECKEQ dword [PT2 + 0*4], POOL | 0x23, 18

    ; A write to a not-present page: #PF(W); after the retry the PTE is accessed and dirty.
.f2: mov dword [0x801008], 0x12345678
    PF_EXPECT 2, 2, 0x801008, 19
    CHECKEQ dword [pf_eip], .f2, 22
    CHECKEQ dword [POOL + 0x1008], 0x12345678, 23
    CHECKEQ dword [PT2 + 1*4], (POOL + 0x1000) | 0x63, 24

    ; A dword write across into a not-present page: the fault comes before any byte is
    ; written (the handler sees the old bytes), CR2 is the start of the missing page.
    mov dword [split_watch], 0x801FFE
.f3: mov dword [0x801FFE], 0xAABBCCDD
    mov dword [split_watch], 0
    PF_EXPECT 3, 2, 0x802000, 25
    CHECKEQ dword [pf_eip], .f3, 28
    CHECKEQ word [split_seen], 0x1111, 29
    CHECKEQ dword [0x801FFE], 0xAABBCCDD, 30
    CHECKEQ word [POOL + 0x1FFE], 0xCCDD, 31
    CHECKEQ word [POOL + 0x2000], 0xAABB, 32

    ; An instruction fetch from a not-present page: #PF(0) at the target EIP.
    xor eax, eax
    mov ebx, 0x803000
    call ebx
    PF_EXPECT 4, 0, 0x803000, 33
    CHECKEQ dword [pf_eip], 0x803000, 36
    CHECKEQ eax, 0x77, 37

    ; CR0.WP: a read-only supervisor page is writable at CPL 0 while WP = 0 ...
    PRINT "paging: write protect", 10
    mov dword [PT1 + 3*4], 0x93000 | 1
    mov dword [0x403000], 0x11111111
    CHECKEQ dword [0x93000], 0x11111111, 38
    CHECKEQ dword [pf_count], 4, 39
    ; ... and with WP = 1 the write faults #PF(P|W); the handler makes the page writable.
    mov eax, cr0
    or eax, 0x10000
    mov cr0, eax
.f4: mov dword [0x403004], 0x22222222
    PF_EXPECT 5, 3, 0x403004, 40
    CHECKEQ dword [pf_eip], .f4, 43
    CHECKEQ dword [0x93004], 0x22222222, 44
    mov eax, cr0
    and eax, ~0x10000
    mov cr0, eax

    ; TLB: a changed PTE is seen after a CR3 reload, and after INVLPG.
    PRINT "paging: tlb", 10
    mov dword [0x94000], 1
    mov dword [0x95000], 2
    mov dword [PT1 + 4*4], 0x94000 | 3
    CHECKEQ dword [0x404000], 1, 45
    mov dword [PT1 + 4*4], 0x95000 | 3
    mov eax, cr3
    mov cr3, eax
    CHECKEQ dword [0x404000], 2, 46
    mov dword [PT1 + 4*4], 0x94000 | 3
    invlpg [0x404000]
    CHECKEQ dword [0x404000], 1, 47

    ; Code reached through an alias: copy a function to 0x96000, call it at 0x405000.
    mov dword [PT1 + 5*4], 0x96000 | 3
    mov dword [0x96000], 0x5A5A5AB8
    mov word [0x96004], 0xC35A
    xor eax, eax
    mov ebx, 0x405000
    call ebx
    CHECKEQ eax, 0x5A5A5A5A, 48
    CHECKEQ dword [pf_count], 5, 49

    ; Global pages (CR4.PGE): a write to CR4 that changes PGE flushes them, and so
    ; does INVLPG. (Whether a CR3 reload keeps them is up to the TLB: not checked.)
    mov dword [0x97000], 0x61
    mov dword [0x98000], 0x62
    mov eax, cr4
    or eax, 0x80
    mov cr4, eax
    mov dword [PT1 + 6*4], 0x97000 | 0x103    ; G | W | P
    invlpg [0x406000]
    CHECKEQ dword [0x406000], 0x61, 50
    mov dword [PT1 + 6*4], 0x98000 | 0x103
    mov eax, cr4
    and eax, ~0x80
    mov cr4, eax
    CHECKEQ dword [0x406000], 0x62, 51
    or eax, 0x80
    mov cr4, eax
    CHECKEQ dword [0x406000], 0x62, 52
    mov dword [PT1 + 6*4], 0x97000 | 0x103
    invlpg [0x406000]
    CHECKEQ dword [0x406000], 0x61, 53

    jmp pass32

prog_name:   db 'paging', 0

    COMMON_CODE
