; tasks.asm — a double fault handled by a task gate, the way i386 Linux catches it:
; a #PF whose delivery faults again (the stack page is not present) becomes #DF, which
; the IDT sends through a task gate to a second TSS with its own stack and registers.
; The new task sees the error code on its stack, NT set, the back link, both TSS
; descriptors busy, the old task's registers saved in the old TSS, and CR2 at the
; failed push.
%include "common.inc"
org BASE

TSS2      equ 0x6100
SEL_TSS2  equ 0x30
DF_STACK  equ 0xC000
BADSTACK  equ 0x9A000          ; not present
BADDATA   equ 0x9B000          ; not present

%macro GDT_EXTRA 0
    dq 0x0000890061000067           ; 0x30 32-bit TSS at 0x6100, limit 0x67, available
%endmacro

    REAL_START
    ENTER_PM32 pm_entry

bits 32
pm_entry:
    PM32_SETUP
    call paging_init
    mov dword [0x81000 + (BADSTACK >> 12)*4], 0
    mov dword [0x81000 + (BADDATA >> 12)*4], 0
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax

    ; Both TSSs: zeroed; the second one describes the #DF task.
    mov edi, TSS_ADDR
    xor eax, eax
    mov ecx, 0x200/4
.z: mov [edi], eax
    add edi, 4
    dec ecx
    jnz .z
    mov word [TSS_ADDR + 0x66], 0x68
    mov dword [TSS2 + 0x1C], 0x80000            ; CR3
    mov dword [TSS2 + 0x20], df_task             ; EIP
    mov dword [TSS2 + 0x24], 0x2                 ; EFLAGS
    mov dword [TSS2 + 0x28], 0x7A5C              ; EAX
    mov dword [TSS2 + 0x38], DF_STACK            ; ESP
    mov word [TSS2 + 0x48], SEL_DATA0            ; ES
    mov word [TSS2 + 0x4C], SEL_CODE0            ; CS
    mov word [TSS2 + 0x50], SEL_DATA0            ; SS
    mov word [TSS2 + 0x54], SEL_DATA0            ; DS
    mov word [TSS2 + 0x58], SEL_DATA0            ; FS
    mov word [TSS2 + 0x5C], SEL_DATA0            ; GS
    mov word [TSS2 + 0x66], 0x68
    mov ax, SEL_TSS
    ltr ax
    ; IDT vector 8: task gate to SEL_TSS2.
    mov dword [IDT_ADDR + 8*8], SEL_TSS2 << 16
    mov dword [IDT_ADDR + 8*8 + 4], 0x8500
    PRINT "tasks: double fault", 10

    ; #PF on a read, whose frame cannot be pushed: #PF again → #DF → task switch.
    mov ebx, 0xB0B0
    mov esi, 0x5151
    mov esp, BADSTACK + 0x100
    mov eax, [BADDATA]
    mov al, 0xF3                    ; the #DF task never returns here
    mov esp, STACK_TOP
    jmp fail32

; The #DF task.
df_task:
    CHECKEQ esp, DF_STACK - 4, 1
    CHECKEQ dword [esp], 0, 2       ; #DF error code
    CHECKEQ eax, 0x7A5C, 3          ; registers come from the new TSS
    str ax
    CHECKEQ ax, SEL_TSS2, 4
    CHECKEQ word [TSS2], SEL_TSS, 5 ; back link
    pushfd
    pop eax
    test eax, 0x4000                ; NT
    CHECK nz, 6
    mov al, [gdt + SEL_TSS + 5]
    and al, 0x0F
    CHECKEQ al, 0x0B, 7             ; the old task stays busy (nested)
    mov al, [gdt + SEL_TSS2 + 5]
    and al, 0x0F
    CHECKEQ al, 0x0B, 8
    CHECKEQ dword [TSS_ADDR + 0x34], 0xB0B0, 9      ; old EBX saved
    CHECKEQ dword [TSS_ADDR + 0x40], 0x5151, 10     ; old ESI saved
    CHECKEQ word [TSS_ADDR + 0x4C], SEL_CODE0, 11   ; old CS saved
    mov eax, cr2
    CHECKEQ eax, BADSTACK + 0xFC, 12                ; the push that failed
    mov eax, cr3
    CHECKEQ eax, 0x80000, 13
    jmp pass32

prog_name: db 'tasks', 0

    COMMON_CODE
