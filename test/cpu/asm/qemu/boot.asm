; boot.asm — a boot sector that runs a test program on a PC BIOS (used by
; scripts/build-asm.sh --qemu to check the programs against QEMU): it reads the
; 120 sectors (60 KiB) that follow it to 1000:0000 and jumps there in real mode, the
; state test/cpu/harness.ts starts programs in.
bits 16
org 0x7C00
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7C00
    mov si, dap
    mov ah, 0x42
    int 0x13
    jc .err
    jmp 0x1000:0x0000
.err:
    mov al, 'E'
    out 0xE9, al
    mov al, 0xFD
    out 0xF4, al
    hlt
align 4
dap:
    db 16, 0
    dw 120               ; sectors
    dw 0x0000, 0x1000    ; buffer offset, segment
    dq 1                 ; first LBA
    times 510 - ($ - $$) db 0
    dw 0xAA55
