; apic.asm — self-checking program for the local APIC and the I/O APIC on the whole
; machine (test/devices/Apic.test.ts boots it as a multiboot kernel, deterministic).
;
; It reports on the debug console (port 0xE9): "FAIL nn" (hex check number) and
; "APIC OK" when every check held, then powers off through ACPI (PM1a_CNT 0x604).
; Every interrupt vector lands in one handler that appends the vector to LOG and, while
; AUTO_EOI is set, writes the local APIC's EOI; an exception (vector < 32) fails at once.
;
; Time: the TSC counts virtual nanoseconds (1 GHz) and the APIC timer's bus clock is
; 1 GHz too, so timer checks compare TSC deltas with exact bounds.

bits 32
org 0x100000

LAPIC     equ 0xFEE00000
IOAPIC    equ 0xFEC00000
L_ID      equ LAPIC + 0x20
L_VER     equ LAPIC + 0x30
L_TPR     equ LAPIC + 0x80
L_PPR     equ LAPIC + 0xA0
L_EOI     equ LAPIC + 0xB0
L_SVR     equ LAPIC + 0xF0
L_ISR     equ LAPIC + 0x100
L_TMR     equ LAPIC + 0x180
L_IRR     equ LAPIC + 0x200
L_ESR     equ LAPIC + 0x280
L_ICRLO   equ LAPIC + 0x300
L_ICRHI   equ LAPIC + 0x310
L_LVTT    equ LAPIC + 0x320
L_LVT0    equ LAPIC + 0x350
L_LVTERR  equ LAPIC + 0x370
L_TMICT   equ LAPIC + 0x380
L_TMCCT   equ LAPIC + 0x390
L_TDCR    equ LAPIC + 0x3E0
IO_SEL    equ IOAPIC
IO_WIN    equ IOAPIC + 0x10

MSR_APIC_BASE equ 0x1B
MSR_TSC_DEADLINE equ 0x6E0

IDT       equ 0x8000
LOG       equ 0x9000        ; dwords: vectors in the order taken
LOGN      equ 0x8F00        ; count of LOG entries
AUTO_EOI  equ 0x8F04
FAILED    equ 0x8F08
T0        equ 0x8F10        ; scratch: TSC low dword

; ---- multiboot header (a.out kludge: load this flat image at 0x100000) ----
MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0x00010000
mb:
    dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
    dd mb, 0x100000, 0, 0, start

; CHECK cc, n: go on when condition cc holds, else report check n as failed.
%macro CHECK 2
    j%+1 %%ok
    push dword %2
    call failed
    add esp, 4
%%ok:
%endmacro

; EXPECT_EQ reg/mem, value, n
%macro EXPECT_EQ 3
    cmp %1, %2
    CHECK e, %3
%endmacro

; LOG_IS n, v0, v1, ... : LOG holds exactly these vectors (check number n)
%macro LOG_IS 2-*
    %assign %%i 0
    %xdefine %%n %1
    cmp dword [LOGN], %0 - 1
    CHECK e, %%n
    %rep %0 - 1
        %rotate 1
        cmp dword [LOG + %%i * 4], %1
        CHECK e, %%n
        %assign %%i %%i + 1
    %endrep
%endmacro

; LOG_EMPTY n: nothing was taken
%macro LOG_EMPTY 1
    cmp dword [LOGN], 0
    CHECK e, %1
%endmacro

%macro CLEAR_LOG 0
    mov dword [LOGN], 0
%endmacro

; IRR_BIT v: ZF clear when vector v is set in the IRR (likewise ISR_BIT, TMR_BIT)
%macro REG_BIT 2
    test dword [%1 + ((%2) / 32) * 0x10], 1 << ((%2) % 32)
%endmacro

; SELF_IPI vector: fixed, edge, to self (shorthand 01)
%macro SELF_IPI 1
    mov dword [L_ICRLO], (1 << 18) | (%1)
%endmacro

; RTE pin, low dword (destination 0, physical)
%macro SET_RTE 2
    mov dword [IO_SEL], 0x10 + 2 * (%1) + 1
    mov dword [IO_WIN], 0
    mov dword [IO_SEL], 0x10 + 2 * (%1)
    mov dword [IO_WIN], %2
%endmacro

%macro GET_RTE 1
    mov dword [IO_SEL], 0x10 + 2 * (%1)
    mov eax, [IO_WIN]
%endmacro

start:
    cli
    mov esp, 0x7F000
    lgdt [gdtr]
    jmp 0x08:.flat
.flat:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov fs, ax
    mov gs, ax
    ; IDT: gate i → stubs + 16 i, 32-bit interrupt gates.
    xor ecx, ecx
.gate:
    mov eax, ecx
    shl eax, 4
    add eax, stubs
    mov [IDT + ecx * 8], ax
    mov word [IDT + ecx * 8 + 2], 0x08
    mov word [IDT + ecx * 8 + 4], 0x8E00
    shr eax, 16
    mov [IDT + ecx * 8 + 6], ax
    inc ecx
    cmp ecx, 256
    jb .gate
    lidt [idtr]
    mov dword [LOGN], 0
    mov dword [AUTO_EOI], 1
    mov dword [FAILED], 0

    ; ---- 1: identity: IA32_APIC_BASE, CPUID.1:EDX.APIC, ID and version ----
    mov ecx, MSR_APIC_BASE
    rdmsr
    EXPECT_EQ eax, 0xFEE00900, 0x01
    mov eax, 1
    cpuid
    test edx, 1 << 9
    CHECK nz, 0x02
    EXPECT_EQ dword [L_ID], 0, 0x03
    EXPECT_EQ dword [L_VER], 0x00050014, 0x04
    EXPECT_EQ dword [L_SVR], 0xFF, 0x05           ; software-disabled after reset
    ; the 8259's virtual wire as firmware leaves it; masked here, as Linux does with an I/O APIC
    EXPECT_EQ dword [L_LVT0], 0x700, 0x06
    mov dword [L_SVR], 0x1FF                      ; enable, spurious vector 0xFF
    mov dword [L_LVT0], 0x10700
    mov dword [L_TPR], 0

    ; ---- 2: a self-IPI is taken as soon as IF allows ----
    SELF_IPI 0x40
    REG_BIT L_IRR, 0x40
    CHECK nz, 0x10
    sti
    nop
    cli
    LOG_IS 0x11, 0x40
    REG_BIT L_IRR, 0x40
    CHECK z, 0x12
    REG_BIT L_ISR, 0x40
    CHECK z, 0x13                                  ; the handler's EOI cleared it

    ; ---- 3: priority: highest first, one class at a time, nesting only above PPR ----
    CLEAR_LOG
    mov dword [AUTO_EOI], 0
    SELF_IPI 0x50
    SELF_IPI 0x80
    SELF_IPI 0x61
    sti
    nop
    cli
    LOG_IS 0x20, 0x80                              ; 0x80 in service blocks 0x61 and 0x50
    REG_BIT L_ISR, 0x80
    CHECK nz, 0x21
    EXPECT_EQ dword [L_PPR], 0x80, 0x22
    SELF_IPI 0x85                                  ; same class as the one in service: waits
    SELF_IPI 0x90                                  ; a higher class: nests
    sti
    nop
    cli
    LOG_IS 0x23, 0x80, 0x90
    EXPECT_EQ dword [L_PPR], 0x90, 0x24
    mov dword [L_EOI], 0                           ; ends 0x90; 0x85 still below 0x80's class
    sti
    nop
    cli
    LOG_IS 0x25, 0x80, 0x90
    REG_BIT L_IRR, 0x85
    CHECK nz, 0x26
    mov dword [L_EOI], 0                           ; ends 0x80: 0x85 now
    sti
    nop
    cli
    LOG_IS 0x27, 0x80, 0x90, 0x85
    mov dword [L_EOI], 0                           ; ends 0x85: 0x61, then (after its EOI) 0x50
    sti
    nop
    cli
    LOG_IS 0x28, 0x80, 0x90, 0x85, 0x61
    mov dword [L_EOI], 0
    sti
    nop
    cli
    LOG_IS 0x29, 0x80, 0x90, 0x85, 0x61, 0x50
    mov dword [L_EOI], 0
    EXPECT_EQ dword [L_PPR], 0, 0x2A
    mov dword [AUTO_EOI], 1

    ; ---- 4: TPR holds back its class and below ----
    CLEAR_LOG
    mov dword [L_TPR], 0x70
    SELF_IPI 0x65
    SELF_IPI 0x75
    sti
    nop
    cli
    LOG_EMPTY 0x30
    EXPECT_EQ dword [L_PPR], 0x70, 0x31
    SELF_IPI 0x81
    sti
    nop
    cli
    LOG_IS 0x32, 0x81
    mov dword [L_TPR], 0
    sti
    nop
    nop
    cli
    LOG_IS 0x33, 0x81, 0x75, 0x65

    ; ---- 5: error status: an illegal vector is refused and reported ----
    mov dword [L_ESR], 0
    SELF_IPI 0x05
    mov dword [L_ESR], 0                           ; latch
    EXPECT_EQ dword [L_ESR], 0x20, 0x38            ; send illegal vector
    mov dword [L_ESR], 0
    EXPECT_EQ dword [L_ESR], 0, 0x39

    ; ---- 6: timer, one-shot: one interrupt, initial count × divider ns after the write ----
    CLEAR_LOG
    mov dword [L_TDCR], 0x0B                       ; divide by 1
    mov dword [L_LVTT], 0x30                       ; one-shot, vector 0x30
    rdtsc
    mov [T0], eax
    mov dword [L_TMICT], 1000000                   ; 1 ms
    mov eax, [L_TMCCT]
    cmp eax, 1000000
    CHECK be, 0x40
    cmp eax, 900000
    CHECK a, 0x41                                  ; counting down, not done
    sti
    hlt
    cli
    rdtsc
    sub eax, [T0]
    cmp eax, 1000000
    CHECK ae, 0x42                                 ; not early
    cmp eax, 1000000 + 2000
    CHECK b, 0x43                                  ; not late (the run loop woke at the deadline)
    LOG_IS 0x44, 0x30
    EXPECT_EQ dword [L_TMCCT], 0, 0x45
    ; masked, it counts but does not interrupt
    mov dword [L_LVTT], 0x10030
    mov dword [L_TMICT], 1000
    mov ecx, 2000
.spin1: loop .spin1
    EXPECT_EQ dword [L_TMCCT], 0, 0x46
    LOG_IS 0x47, 0x30

    ; ---- 7: timer, periodic: every initial count × divider ns ----
    CLEAR_LOG
    mov dword [L_TDCR], 0x00                       ; divide by 2
    mov dword [L_LVTT], 0x20031                    ; periodic, vector 0x31
    rdtsc
    mov [T0], eax
    mov dword [L_TMICT], 250000                    ; 0.5 ms
    sti
    hlt
    hlt
    hlt
    cli
    rdtsc
    sub eax, [T0]
    cmp eax, 1500000
    CHECK ae, 0x50
    cmp eax, 1500000 + 2000
    CHECK b, 0x51
    LOG_IS 0x52, 0x31, 0x31, 0x31
    mov eax, [L_TMCCT]                             ; reloaded: counting down from 250000 again
    cmp eax, 250000
    CHECK be, 0x53
    cmp eax, 240000
    CHECK a, 0x54
    mov dword [L_TMICT], 0                         ; stops it
    EXPECT_EQ dword [L_TMCCT], 0, 0x55

    ; ---- 8: timer, TSC-deadline ----
    CLEAR_LOG
    mov dword [L_LVTT], 0x40032                    ; TSC-deadline, vector 0x32
    rdtsc
    mov [T0], eax
    add eax, 3000000                               ; 3 ms ahead
    adc edx, 0
    mov ecx, MSR_TSC_DEADLINE
    wrmsr
    rdmsr
    mov ebx, [T0]
    add ebx, 3000000
    EXPECT_EQ eax, ebx, 0x60
    mov dword [L_TMICT], 12345                     ; ignored in this mode
    EXPECT_EQ dword [L_TMICT], 0, 0x61
    sti
    hlt
    cli
    rdtsc
    sub eax, [T0]
    cmp eax, 3000000
    CHECK ae, 0x62
    cmp eax, 3000000 + 2000
    CHECK b, 0x63
    LOG_IS 0x64, 0x32
    mov ecx, MSR_TSC_DEADLINE
    rdmsr
    EXPECT_EQ eax, 0, 0x65                         ; disarmed once it fired
    ; a deadline already passed interrupts at once
    rdtsc
    sub eax, 1000
    sbb edx, 0
    mov ecx, MSR_TSC_DEADLINE
    wrmsr
    sti
    nop
    nop
    cli
    LOG_IS 0x66, 0x32, 0x32
    mov dword [L_LVTT], 0x10000                    ; back to one-shot, masked

    ; ---- 9: I/O APIC identity ----
    mov dword [IO_SEL], 0
    EXPECT_EQ dword [IO_WIN], 0x01000000, 0x70
    mov dword [IO_SEL], 1
    EXPECT_EQ dword [IO_WIN], 0x00170011, 0x71     ; 24 entries, version 0x11
    GET_RTE 5
    EXPECT_EQ eax, 0x10000, 0x72                   ; masked after reset

    ; ---- 10: edge: the PIT's IRQ0 reaches pin 2 ----
    CLEAR_LOG
    SET_RTE 2, 0x42                                ; edge, active high, fixed, unmasked
    call pit_oneshot                               ; IRQ0 rises in ~1 ms
    sti
    hlt
    cli
    LOG_IS 0x80, 0x42
    REG_BIT L_TMR, 0x42
    CHECK z, 0x81                                  ; edge: TMR clear
    ; an edge on a masked pin is lost
    SET_RTE 2, 0x10042
    call pit_oneshot
    call wait_2ms
    SET_RTE 2, 0x42
    sti
    nop
    cli
    LOG_IS 0x82, 0x42, 0x33                        ; only wait_2ms's own timer

    ; ---- 11: level: COM1's THRE interrupt on pin 4, remote IRR until EOI ----
    CLEAR_LOG
    mov dword [AUTO_EOI], 0
    SET_RTE 4, 0x8044                              ; level, vector 0x44
    mov dx, 0x3FC
    mov al, 0x08                                   ; MCR OUT2: the UART drives its IRQ line
    out dx, al
    mov dx, 0x3F9
    mov al, 0x02                                   ; IER: THR empty
    out dx, al                                     ; line high
    sti
    nop
    cli
    LOG_IS 0x90, 0x44
    GET_RTE 4
    test eax, 1 << 14
    CHECK nz, 0x91                                 ; remote IRR set
    REG_BIT L_TMR, 0x44
    CHECK nz, 0x92                                 ; level: TMR set
    sti
    nop
    cli
    LOG_IS 0x93, 0x44                              ; not again before the EOI
    mov dword [L_EOI], 0                           ; broadcast EOI: line still high → again
    sti
    nop
    cli
    LOG_IS 0x94, 0x44, 0x44
    mov dx, 0x3FA
    in al, dx                                      ; IIR read clears THRE: line low
    mov dword [L_EOI], 0
    GET_RTE 4
    test eax, 1 << 14
    CHECK z, 0x95                                  ; remote IRR cleared by the EOI
    sti
    nop
    cli
    LOG_IS 0x96, 0x44, 0x44
    ; a level pin masked while its line rises delivers when unmasked
    SET_RTE 4, 0x18044
    mov dx, 0x3F9
    mov al, 0
    out dx, al
    mov al, 0x02
    out dx, al                                     ; THRE again: line high
    sti
    nop
    cli
    LOG_IS 0x97, 0x44, 0x44
    SET_RTE 4, 0x8044
    sti
    nop
    cli
    LOG_IS 0x98, 0x44, 0x44, 0x44
    mov dx, 0x3F9
    mov al, 0
    out dx, al                                     ; IER 0: line low
    mov dword [L_EOI], 0
    mov dword [AUTO_EOI], 1
    SET_RTE 4, 0x10000

    ; ---- 12: the 8259 through LINT0 (ExtINT) with the APIC enabled ----
    CLEAR_LOG
    SET_RTE 2, 0x10000
    call pic_init                                  ; IRQ0 → vector 0x20, only IRQ0 unmasked
    mov dword [L_LVT0], 0x700                      ; ExtINT, unmasked
    call pit_oneshot
    sti
    hlt
    cli
    LOG_IS 0xA0, 0x20
    mov al, 0x20                                   ; the 8259's EOI (the handler ends the APIC's only)
    out 0x20, al
    mov dword [L_LVT0], 0x10700                    ; masked: the PIC's IRQ0 does not get through
    call pit_oneshot
    call wait_2ms
    LOG_IS 0xA1, 0x20, 0x33
    ; the masked request stays in the 8259; unmasking LINT0 lets it through
    mov dword [L_LVT0], 0x700
    sti
    nop
    cli
    LOG_IS 0xA2, 0x20, 0x33, 0x20
    mov al, 0x20
    out 0x20, al

    ; ---- 13: software disable masks the LVT; hardware disable hides the APIC ----
    mov dword [L_SVR], 0xFF
    EXPECT_EQ dword [L_LVT0], 0x10700, 0xB0
    mov dword [L_LVTT], 0x30                       ; the mask cannot be cleared now
    EXPECT_EQ dword [L_LVTT], 0x10030, 0xB1
    mov ecx, MSR_APIC_BASE
    mov eax, 0xFEE00100                            ; enable bit clear
    xor edx, edx
    wrmsr
    mov eax, 1
    cpuid
    test edx, 1 << 9
    CHECK z, 0xB2                                  ; CPUID no longer reports it
    EXPECT_EQ dword [L_VER], 0xFFFFFFFF, 0xB3      ; nothing answers at 0xFEE00000
    ; with the APIC disabled the 8259 reaches the CPU directly
    CLEAR_LOG
    call pit_oneshot
    sti
    hlt
    cli
    LOG_IS 0xB4, 0x20
    mov al, 0x20
    out 0x20, al
    mov ecx, MSR_APIC_BASE
    mov eax, 0xFEE00900
    xor edx, edx
    wrmsr
    EXPECT_EQ dword [L_SVR], 0xFF, 0xB5            ; back from reset
    EXPECT_EQ dword [L_VER], 0x00050014, 0xB6

    ; ---- done ----
    cmp dword [FAILED], 0
    jne .off
    mov esi, msg_ok
    call puts
.off:
    mov dx, 0x604
    mov ax, (5 << 10) | (1 << 13)
    out dx, ax
    cli
    hlt

; PIT channel 0, mode 0 (interrupt on terminal count), 1193 counts (~1 ms): IRQ0 rises then.
pit_oneshot:
    mov al, 0x30
    out 0x43, al
    mov al, 0xA9
    out 0x40, al
    mov al, 0x04
    out 0x40, al
    ret

; Halt until the APIC's one-shot timer (vector 0x33) fires 2 ms from now.
wait_2ms:
    mov dword [L_TDCR], 0x0B
    mov dword [L_LVTT], 0x33
    mov dword [L_TMICT], 2000000
    sti
    hlt
    cli
    mov dword [L_LVTT], 0x10000
    ret

; The 8259 pair as Linux sets it up, vectors 0x20 and 0x28, only IRQ0 unmasked.
pic_init:
    mov al, 0x11
    out 0x20, al
    out 0xA0, al
    mov al, 0x20
    out 0x21, al
    mov al, 0x28
    out 0xA1, al
    mov al, 0x04
    out 0x21, al
    mov al, 0x02
    out 0xA1, al
    mov al, 0x01
    out 0x21, al
    out 0xA1, al
    mov al, 0xFE
    out 0x21, al
    mov al, 0xFF
    out 0xA1, al
    ret

; failed(n): print "FAIL nn" and remember it
failed:
    push eax
    push esi
    mov dword [FAILED], 1
    mov esi, msg_fail
    call puts
    mov eax, [esp + 12]
    call puthex8
    mov al, 10
    out 0xE9, al
    pop esi
    pop eax
    ret

puts:
    push eax
.l: lodsb
    test al, al
    jz .d
    out 0xE9, al
    jmp .l
.d: pop eax
    ret

puthex8:
    push eax
    push ecx
    mov ecx, eax
    shr eax, 4
    call .nib
    mov eax, ecx
    call .nib
    pop ecx
    pop eax
    ret
.nib:
    and eax, 0xF
    add al, '0'
    cmp al, '9'
    jbe .p
    add al, 7
.p: out 0xE9, al
    ret

; Every vector: log it; EOI the APIC while AUTO_EOI is set; an exception stops the run.
handler:
    push eax
    push ebx
    mov eax, [esp + 8]
    cmp eax, 32
    jb .exc
    mov ebx, [LOGN]
    mov [LOG + ebx * 4], eax
    inc dword [LOGN]
    cmp dword [AUTO_EOI], 0
    je .ret
    cmp eax, 0x20                                  ; the 8259's vectors are not the APIC's
    je .ret
    mov dword [L_EOI], 0
.ret:
    pop ebx
    pop eax
    add esp, 4
    iret
.exc:
    mov esi, msg_exc
    call puts
    call puthex8
    mov al, 10
    out 0xE9, al
    mov dx, 0x604
    mov ax, (5 << 10) | (1 << 13)
    out dx, ax
    cli
    hlt

msg_ok:   db "APIC OK", 10, 0
msg_fail: db "FAIL ", 0
msg_exc:  db "EXCEPTION ", 0

align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF
    dq 0x00CF92000000FFFF
gdtr:
    dw 23
    dd gdt
idtr:
    dw 256 * 8 - 1
    dd IDT

align 16
stubs:
%assign v 0
%rep 256
    push dword v
    jmp handler
    align 16
%assign v v + 1
%endrep
