; pagediff.asm — page-table permissions and accessed/dirty bits, differentially: four
; page tables under PDEs with every U/W combination, each holding PTEs with every
; P/W/U/A/D combination, four PSE 4 MiB pages with every U/W combination and a
; not-present PDE are read and written at CPL 0 (CR0.WP clear and set) and at CPL 3.
; For each access the outcome (success, or the #PF error code and whether CR2 is the
; address) and the A/D bits of the PTE and PDE after a successful access are hashed
; and compared with the hash recorded on QEMU (pagediff-expected.inc, written by
; scripts/build-asm.sh --record); -DRECORD -DDUMP prints every outcome. Whether a walk that faults sets the
; accessed bits of the entries it used is unspecified: QEMU sets the PDE's, Intel
; processors update A/D only after a walk that succeeds (and so does typevisor), so
; they are not compared after faults.
%include "common.inc"
org BASE

PD      equ 0x80000
PT1     equ 0x82000                   ; PTs for PDE 1..4 at PT1 + (k-1)*0x1000
TARGET  equ 0x98000                   ; the physical page every test mapping points to
RESULTS equ 0x60000
USTACK  equ 0x50000

    REAL_START
    ENTER_PM32 pm_entry

bits 32
pm_entry:
    PM32_SETUP
    call paging_init
    mov edi, PT1
    mov ecx, 4
.z: call zero_page
    add edi, 0x1000
    dec ecx
    jnz .z
    ; Fill every entry once (reset does one at a time afterwards).
    mov ebx, 1
.k: xor ecx, ecx
.i: call reset_entry
    inc ecx
    cmp ecx, 32
    jb .i
    inc ebx
    cmp ebx, 10
    jb .k
    mov eax, cr4
    or eax, 0x10                      ; PSE
    mov cr4, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    mov eax, syscall
    mov ecx, 0x80
    mov dl, 0xEE
    call set_gate
    mov dword [TSS_ADDR + 4], 0xE000
    mov dword [TSS_ADDR + 8], SEL_DATA0
    mov word [TSS_ADDR + 0x66], 0x68
    mov ax, SEL_TSS
    ltr ax
%ifndef RECORD
    PRINT "pagediff: cpl 0", 10
%endif
    mov ebp, RESULTS
    call sweep                        ; CPL 0, WP clear
    mov eax, cr0
    or eax, 0x10000
    mov cr0, eax
    call sweep                        ; CPL 0, WP set
    mov ax, SEL_DATA3
    mov ds, ax
    mov es, ax
    push dword SEL_DATA3
    push dword USTACK
    pushfd
    and dword [esp], ~0x3200
    push dword SEL_CODE3
    push dword ring3
    iretd
ring3:
    call sweep
    mov eax, 2
    int 0x80

; sweep: every (k, i, read/write) access; EBP = result cursor.
sweep:
    mov ebx, 1
.k: xor ecx, ecx
.i: xor edx, edx                      ; 0 read, 1 write
.rw:
    mov eax, 1
    int 0x80                          ; reset entries (k = EBX, i = ECX), INVLPG
    call linear                       ; EDI = the address
    mov dword [exc_count], 0
    mov dword [exc_cr2], -1
    mov dword [recover], .r
    test edx, edx
    jnz .w
    mov eax, [edi]
    jmp .r
.w: mov [edi], eax
.r: mov dword [recover], 0
    ; outcome: 0xFFFF on success, else the error code; bit 16: CR2 was the address
    mov eax, 0xFFFF
    cmp dword [exc_count], 0
    je .ok
    mov eax, [exc_err]
    cmp [exc_cr2], edi
    jne .ok
    or eax, 0x10000
.ok:
    mov [ebp], eax
    ; A/D bits of the PTE (bits 5, 6) and the PDE (bits 13, 14) after the access
    mov esi, ebx
    mov eax, [PD + esi*4]
    and eax, 0x60
    shl eax, 8
    cmp ebx, 5
    jae .nopte
    mov esi, ebx
    dec esi
    shl esi, 12
    mov esi, [PT1 + esi + ecx*4]
    and esi, 0x60
    or eax, esi
.nopte:
    cmp dword [exc_count], 0
    je .keep
    xor eax, eax                      ; after a fault: unspecified (see the header)
.keep:
    mov [ebp+4], eax
    add ebp, 8
    inc edx
    cmp edx, 2
    jb .rw
    inc ecx
    cmp ebx, 5
    jae .one                          ; PSE and absent PDEs: one page each
    cmp ecx, 32
    jb .i
.one:
    inc ebx
    cmp ebx, 10
    jb .k
    ret

; linear: EDI = k * 4 MiB + i * 4 KiB + 0x10 (EBX = k, ECX = i).
linear:
    mov edi, ebx
    shl edi, 22
    push ecx
    shl ecx, 12
    add edi, ecx
    pop ecx
    add edi, 0x10
    ret

; reset_entry (ring 0): the PDE for k (EBX) and, for k 1..4, the PTE i (ECX):
;   k 1..4: PDE = PT | P | W=(k-1)&1 | U=((k-1)>>1)&1; PTE = TARGET | P W U A D from i
;   k 5..8: PSE PDE = 0 | PS | P | W/U from k-5;  k 9: not present.
reset_entry:
    pushad
    cmp ebx, 9
    je .absent
    cmp ebx, 5
    jae .pse
    lea eax, [ebx-1]
    mov esi, eax
    and eax, 1
    shl eax, 1
    and esi, 2
    shl esi, 1
    or eax, esi
    or eax, 1
    lea esi, [ebx-1]
    shl esi, 12
    add esi, PT1
    or eax, esi
    mov [PD + ebx*4], eax
    ; PTE from i: bit0 P, bit1 W, bit2 U, bit3 A, bit4 D
    mov eax, ecx
    and eax, 7
    mov edx, ecx
    and edx, 0x18
    shl edx, 2
    or eax, edx
    or eax, TARGET
    mov [esi + ecx*4], eax
    jmp .done
.pse:
    lea eax, [ebx-5]
    mov esi, eax
    and eax, 1
    shl eax, 1
    and esi, 2
    shl esi, 1
    or eax, esi
    or eax, 0x81
    mov [PD + ebx*4], eax
    jmp .done
.absent:
    mov dword [PD + ebx*4], 0
.done:
    popad
    ret

; INT 0x80: EAX = 1 reset the entries of (EBX, ECX) and INVLPG the page; 2 report.
syscall:
    cmp eax, 2
    je report
    call reset_entry
    push edi
    call linear
    invlpg [edi]
    pop edi
    iretd

report:
    mov ax, SEL_DATA0
    mov ds, ax
    mov es, ax
    mov esi, 0x811C9DC5
    mov ecx, RESULTS
.h: mov eax, [ecx]
%ifdef DUMP
    push eax
    push eax
    mov eax, ecx
    call puthex32
    mov al, ' '
    out 0xE9, al
    pop eax
    call puthex32
    mov al, 10
    out 0xE9, al
    pop eax
%endif
    xor esi, eax
    imul esi, esi, 16777619
    add ecx, 4
    cmp ecx, ebp
    jb .h
    mov eax, esi
    FINISH_HASH 'pagediff'

prog_name: db 'pagediff', 0
%ifndef RECORD
%include "pagediff-expected.inc"
%endif
    COMMON_CODE
