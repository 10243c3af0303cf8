; cpuloop.asm — the guest compute loop of the CPU micro-benchmark (bench/cpu.ts).
;
; One flat binary, loaded at 0x10000, with two ways in:
;   offset 0     real mode at 1000:0000 (typevisor's flat-binary start), and
;   mb_entry     32-bit protected mode from a multiboot loader (QEMU -kernel, v86),
;                through the multiboot header below (a.out kludge: load at 0x10000).
; Both switch to the same 32-bit code with flat segments and paging on (4 KiB pages,
; as Linux code runs), then repeat `iterations` times: a Fletcher-style checksum over
; a 64 KiB buffer, a 64x64 nested loop that reads and updates a matrix in memory, and
; 1024 calls of a small function with a stack frame. Port 0xF5 marks the start of
; the timed loop, the checksum goes to 0xE9 as hex, port 0xF4 ends the run (QEMU's
; isa-debug-exit). The iteration count is the dword after the 'ITER' tag; the
; benchmark patches it.
bits 16
org 0x10000

BUF   equ 0x40000                    ; 64 KiB
MAT   equ 0x50000                    ; 64 x 64 dwords
PD    equ 0x80000
PT0   equ 0x81000
STACK equ 0x90000

start:
    jmp short real_entry
align 4
mb_header:
    dd 0x1BADB002                    ; multiboot magic
    dd 0x00010000                    ; flags: the address fields below are valid
    dd -(0x1BADB002 + 0x00010000)
    dd mb_header                     ; header_addr
    dd start                         ; load_addr
    dd 0                             ; load_end_addr: the whole file
    dd 0                             ; bss_end_addr: none
    dd mb_entry                      ; entry_addr
    db 'ITER'
iterations:
    dd 100

real_entry:
    cli
    mov ax, cs
    mov ds, ax
    lgdt [gdt_desc - 0x10000]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp dword 0x08:pm32

bits 32
mb_entry:
    cli
    lgdt [gdt_desc]
    jmp 0x08:pm32

pm32:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov esp, STACK
    ; Paging: identity map of the first 4 MiB with 4 KiB pages.
    mov edi, PD
    xor eax, eax
    mov ecx, 1024
    rep stosd
    mov dword [PD], PT0 | 3
    mov edi, PT0
    mov eax, 3
    mov ecx, 1024
.pt:
    stosd
    add eax, 0x1000
    dec ecx
    jnz .pt
    mov eax, PD
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    ; Buffer and matrix contents.
    mov edi, BUF
    xor eax, eax
    mov ecx, 16384 + 4096
.init:
    stosd
    add eax, 0x9E3779B9
    dec ecx
    jnz .init

    out 0xF5, al                     ; the timed loop starts
    mov ebp, [iterations]
    xor edi, edi
    test ebp, ebp
    jz done
outer:
    ; 1. Checksum over 64 KiB.
    mov esi, BUF
    mov ecx, 16384
    xor eax, eax
    xor ebx, ebx
.sum:
    add eax, [esi]
    add ebx, eax
    rol ebx, 1
    add esi, 4
    dec ecx
    jnz .sum
    xor edi, eax
    add edi, ebx
    ; 2. m[i][j] += m[j][i] ^ i over a 64 x 64 matrix.
    xor edx, edx
.i:
    xor ecx, ecx
.j:
    mov eax, edx
    shl eax, 6
    add eax, ecx
    mov ebx, ecx
    shl ebx, 6
    add ebx, edx
    mov esi, [MAT + ebx*4]
    xor esi, edx
    add [MAT + eax*4], esi
    inc ecx
    cmp ecx, 64
    jb .j
    inc edx
    cmp edx, 64
    jb .i
    ; 3. Calls with stack frames over every 16th dword of the buffer.
    mov esi, BUF
    mov ecx, 1024
.call:
    push ecx
    push dword [esi]
    call mix
    pop ecx
    add esi, 64
    dec ecx
    jnz .call
    ; Feed the result back so every iteration differs.
    mov eax, edi
    and eax, 0x3FFC
    xor [BUF + eax*4], edi
    dec ebp
    jnz outer

done:
    mov eax, [MAT + 17*4]
    add edi, eax
    mov ecx, 8
.hex:
    rol edi, 4
    mov eax, edi
    and eax, 15
    mov al, [hexdigits + eax]
    out 0xE9, al
    dec ecx
    jnz .hex
    mov al, 10
    out 0xE9, al
    xor al, al
    out 0xF4, al
.h: cli
    hlt
    jmp .h

; mix(x): edi = (edi ^ x) * 16777619, through a stack frame.
mix:
    push ebp
    mov ebp, esp
    mov eax, [ebp+8]
    xor eax, edi
    imul eax, eax, 16777619
    mov edi, eax
    pop ebp
    ret 4

hexdigits: db '0123456789abcdef'
align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF            ; 0x08 code, flat, 32-bit
    dq 0x00CF92000000FFFF            ; 0x10 data, flat
gdt_end:
gdt_desc:
    dw gdt_end - gdt - 1
    dd gdt
