; vsockcat: a tiny static i386 Linux program for the virtio-vsock guest tests (AF_VSOCK
; stream sockets; virtio 1.2 §5.10 on the device side). Assemble: nasm -f bin -o vsockcat vsockcat.asm
;   vsockcat c PORT MSG   connect to the host (CID 2) port PORT, send "MSG\n", copy the reply to stdout until EOF
;   vsockcat l PORT MSG   listen on PORT, print "vsock-listening", accept one connection,
;                         copy one line from it to stdout, answer "MSG\n", close
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
  dw 1
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

SYS_EXIT    equ 1
SYS_READ    equ 3
SYS_WRITE   equ 4
SYS_CLOSE   equ 6
SYS_SOCKET  equ 359
SYS_BIND    equ 361
SYS_CONNECT equ 362
SYS_LISTEN  equ 363
SYS_ACCEPT4 equ 364
AF_VSOCK    equ 40

_start:
  mov ebp, esp
  cmp dword [ebp], 4
  jb fail
  mov esi, [ebp + 8]
  mov al, [esi]
  mov [mode], al
  mov esi, [ebp + 12]
  call atoi
  mov [addr + 4], eax
  mov word [addr], AF_VSOCK
  mov eax, [ebp + 16]
  mov [msg], eax
  mov eax, SYS_SOCKET
  mov ebx, AF_VSOCK
  mov ecx, 1              ; SOCK_STREAM
  xor edx, edx
  int 0x80
  test eax, eax
  js fail
  mov [sock], eax
  cmp byte [mode], 'l'
  je listen_mode

  mov dword [addr + 8], 2 ; VMADDR_CID_HOST
  mov eax, SYS_CONNECT
  mov ebx, [sock]
  mov ecx, addr
  mov edx, 16
  int 0x80
  test eax, eax
  js fail
  mov ebx, [sock]
  call send_msg
.copy:
  mov eax, SYS_READ
  mov ebx, [sock]
  mov ecx, buf
  mov edx, 256
  int 0x80
  test eax, eax
  jle exit0
  mov edx, eax
  mov eax, SYS_WRITE
  mov ebx, 1
  mov ecx, buf
  int 0x80
  jmp .copy

listen_mode:
  mov dword [addr + 8], -1 ; VMADDR_CID_ANY
  mov eax, SYS_BIND
  mov ebx, [sock]
  mov ecx, addr
  mov edx, 16
  int 0x80
  test eax, eax
  js fail
  mov eax, SYS_LISTEN
  mov ebx, [sock]
  mov ecx, 1
  int 0x80
  test eax, eax
  js fail
  mov eax, SYS_WRITE
  mov ebx, 1
  mov ecx, listening
  mov edx, listening_len
  int 0x80
  mov eax, SYS_ACCEPT4
  mov ebx, [sock]
  xor ecx, ecx
  xor edx, edx
  xor esi, esi
  int 0x80
  test eax, eax
  js fail
  mov [conn], eax
.line:
  mov eax, SYS_READ
  mov ebx, [conn]
  mov ecx, buf
  mov edx, 256
  int 0x80
  test eax, eax
  jle .answer
  mov edx, eax
  push edx
  mov eax, SYS_WRITE
  mov ebx, 1
  mov ecx, buf
  int 0x80
  pop edx
  ; stop after a newline
  mov ecx, edx
  mov edi, buf
  mov al, 10
  repne scasb
  jne .line
.answer:
  mov ebx, [conn]
  call send_msg
  mov eax, SYS_CLOSE
  mov ebx, [conn]
  int 0x80
  jmp exit0

; send_msg: write [msg] and "\n" to fd ebx
send_msg:
  push ebx
  mov edi, [msg]
  xor ecx, ecx
  dec ecx
  xor al, al
  repne scasb
  not ecx
  dec ecx
  mov edx, ecx
  mov ecx, [msg]
  mov eax, SYS_WRITE
  int 0x80
  pop ebx
  mov eax, SYS_WRITE
  mov ecx, newline
  mov edx, 1
  int 0x80
  ret

; atoi: decimal string at esi -> eax
atoi:
  xor eax, eax
.next:
  movzx ecx, byte [esi]
  sub ecx, '0'
  cmp ecx, 9
  ja .done
  imul eax, eax, 10
  add eax, ecx
  inc esi
  jmp .next
.done:
  ret

fail:
  mov eax, SYS_WRITE
  mov ebx, 1
  mov ecx, errtext
  mov edx, errtext_len
  int 0x80
  mov eax, SYS_EXIT
  mov ebx, 1
  int 0x80

exit0:
  mov eax, SYS_EXIT
  xor ebx, ebx
  int 0x80

listening: db "vsock-listening", 10
listening_len equ $ - listening
errtext: db "vsock-error", 10
errtext_len equ $ - errtext
newline: db 10

filesize equ $ - $$

absolute $
mode: resb 1
alignb 4
sock: resd 1
conn: resd 1
msg: resd 1
addr: resb 16
buf: resb 256
bss_end:
memsize equ bss_end - ehdr
