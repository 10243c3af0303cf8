; blkbench: a tiny static i386 Linux program for the virtio-blk benchmark (bench/blk.ts):
; random 4 KiB reads or writes on /dev/vda with O_DIRECT, so every request reaches the
; device (no guest page cache) and no fork/exec happens per request, as it would in a
; shell loop of dd. Assemble: nasm -f bin -o blkbench.bin blkbench.asm (scripts/build-asm.sh)
;   blkbench r COUNT SPAN   COUNT pread64 of 4 KiB at pseudo-random 4 KiB-aligned offsets
;   blkbench w COUNT SPAN   the same with pwrite64 (the buffer holds a fixed pattern)
; SPAN is the number of 4 KiB blocks the offsets range over (a power of two). Offsets come
; from a fixed-seed LCG, so every run and every VMM does the same requests in the same
; order. Prints "blkbench-begin" just before the first request and "blkbench-end" after
; the last one (the host times the interval between the two lines), or "blkbench-error".
BITS 32
org 0x08048000

ehdr:
  db 0x7F, "ELF", 1, 1, 1, 0
  times 8 db 0
  dw 2                    ; ET_EXEC
  dw 3                    ; EM_386
  dd 1
  dd _start
  dd phdr - $$
  dd 0
  dd 0
  dw ehdrsize
  dw phdrsize
  dw 2                    ; two program headers
  dw 0, 0, 0
ehdrsize equ $ - ehdr
phdr:
  dd 1                    ; PT_LOAD
  dd 0
  dd $$
  dd $$
  dd filesize
  dd memsize
  dd 7                    ; RWX
  dd 0x1000
phdrsize equ $ - phdr
  dd 0x6474E551           ; PT_GNU_STACK: a non-executable stack (else Linux warns on exec)
  dd 0, 0, 0, 0, 0
  dd 6                    ; RW
  dd 16

SYS_EXIT    equ 1
SYS_WRITE   equ 4
SYS_OPEN    equ 5
SYS_PREAD64 equ 180
SYS_PWRITE64 equ 181
O_RDONLY    equ 0
O_RDWR      equ 2
O_DIRECT    equ 0x4000    ; i386 value (040000 octal)
BLOCK       equ 4096
SEED        equ 0x2545F491

_start:
  mov ebp, esp
  cmp dword [ebp], 4
  jb fail
  mov esi, [ebp + 8]
  mov al, [esi]
  mov [mode], al
  mov esi, [ebp + 12]
  call atoi
  mov [count], eax
  mov esi, [ebp + 16]
  call atoi
  dec eax
  mov [mask], eax
  ; A recognisable pattern for writes; reads overwrite it.
  mov edi, buf
  mov ecx, BLOCK / 4
  mov eax, 0x6b6c6274     ; "tblk"
  rep stosd
  mov ecx, O_RDONLY | O_DIRECT
  cmp byte [mode], 'w'
  jne .open
  mov ecx, O_RDWR | O_DIRECT
.open:
  mov eax, SYS_OPEN
  mov ebx, device
  xor edx, edx
  int 0x80
  test eax, eax
  js fail
  mov [fd], eax
  mov dword [state], SEED
  mov ecx, begin
  mov edx, begin_len
  call print

.next:
  cmp dword [count], 0
  je .done
  ; state = state * 1103515245 + 12345; block = (state >> 12) & mask
  mov eax, [state]
  imul eax, eax, 1103515245
  add eax, 12345
  mov [state], eax
  shr eax, 12
  and eax, [mask]
  shl eax, 12             ; byte offset (spans up to 4 GiB fit in the low word)
  mov esi, eax
  mov eax, SYS_PREAD64
  cmp byte [mode], 'w'
  jne .io
  mov eax, SYS_PWRITE64
.io:
  mov ebx, [fd]
  mov ecx, buf
  mov edx, BLOCK
  xor edi, edi            ; offset high 32 bits
  int 0x80
  cmp eax, BLOCK
  jne fail
  dec dword [count]
  jmp .next

.done:
  mov ecx, endtext
  mov edx, end_len
  call print
  mov eax, SYS_EXIT
  xor ebx, ebx
  int 0x80

; print: write edx bytes at ecx to stdout
print:
  mov eax, SYS_WRITE
  mov ebx, 1
  int 0x80
  ret

; atoi: decimal string at esi -> eax
atoi:
  xor eax, eax
.digit:
  movzx ecx, byte [esi]
  sub ecx, '0'
  cmp ecx, 9
  ja .out
  imul eax, eax, 10
  add eax, ecx
  inc esi
  jmp .digit
.out:
  ret

fail:
  mov ecx, errtext
  mov edx, errtext_len
  call print
  mov eax, SYS_EXIT
  mov ebx, 1
  int 0x80

device: db "/dev/vda", 0
begin: db "blkbench-begin", 10
begin_len equ $ - begin
endtext: db "blkbench-end", 10
end_len equ $ - endtext
errtext: db "blkbench-error", 10
errtext_len equ $ - errtext

filesize equ $ - $$

absolute $
mode: resb 1
alignb 4
fd: resd 1
count: resd 1
mask: resd 1
state: resd 1
alignb 4096               ; O_DIRECT wants the buffer aligned to the logical block size
buf: resb BLOCK
bss_end:
memsize equ bss_end - ehdr
