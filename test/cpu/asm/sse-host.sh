#!/bin/sh
# sse-host.sh — the hashes of sse.asm's differential sweep, computed on the host's real SSE
# unit: the program's operations and tables (the part between its "; ---- operations" and
# "; ---- end of operations" lines) are assembled again as 64-bit code and run by a native
# replica of its loop (LDMXCSR, MOVUPS xmm0/xmm1 from the value tables, XOR EAX,EAX, the
# operation, ZF/PF/CF, MXCSR, FNV-1a hash of the 24 bytes). Nothing is copied by hand, so
# the two cannot drift apart.
#
#   test/cpu/asm/sse-host.sh > test/cpu/asm/sse-expected.inc
#   test/cpu/asm/sse-host.sh --dump    every case, in the format of sse.asm -DRECORD -DDUMP
#
# Needs an x86-64 host with SSE2 (every one; also inside a VM), nasm and a C compiler.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{
  echo 'bits 64'
  echo 'default rel'
  echo 'section .sweep progbits alloc exec write align=16'
  echo 'global ops, names, vals32, vals64, mxcsrs, counts, run_case'
  sed -n '/^; ---- operations/,/^; ---- end of operations/p' "$here/sse.asm"
  cat <<'EOF'
counts: dd NOPS, NV32, NV64, NMX
section .note.GNU-stack noalloc noexec nowrite progbits
section .sweep
; run_case(mxcsr *rdi, a *rsi, b *rdx, op rcx, out *r8): one case as sse.asm's loop runs it.
run_case:
    push rbx
    sub rsp, 8
    stmxcsr [rsp]
    ldmxcsr [rdi]
    movups xmm0, [rsi]
    movups xmm1, [rdx]
    xor eax, eax
    call rcx
    pushfq
    pop rax
    and eax, 0x45
    mov [r8+20], eax
    movups [r8], xmm0
    stmxcsr [r8+16]
    ldmxcsr [rsp]
    add rsp, 8
    pop rbx
    ret
EOF
} > "$tmp/ops.asm"
nasm -f elf64 -o "$tmp/ops.o" "$tmp/ops.asm"
cat > "$tmp/main.c" <<'EOF'
#include <stdint.h>
#include <stdio.h>
#include <string.h>
extern uint32_t ops[], mxcsrs[], counts[];
extern char names[];
extern uint8_t vals32[], vals64[];
extern void run_case(const uint32_t *mx, const void *a, const void *b, void *op, uint32_t *out);
int main(int argc, char **argv) {
  int dump = argc > 1 && strcmp(argv[1], "--dump") == 0;
  uint32_t nops = counts[0], nv32 = counts[1], nv64 = counts[2], nmx = counts[3];
  if (!dump) printf("; sse-expected.inc: recorded on the host's SSE unit by sse-host.sh\nexpected:\n");
  for (uint32_t op = 0; op < nops; op++) {
    uint32_t size = ops[2 * op + 1], n = size == 8 ? nv64 : nv32;
    const uint8_t *tab = size == 8 ? vals64 : vals32;
    uint32_t h = 0x811C9DC5u, out[6];
    for (uint32_t k = 0; k < nmx; k++)
      for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < n; j++) {
          run_case(&mxcsrs[k], tab + i * size, tab + j * size, (void *)(uintptr_t)ops[2 * op], out);
          if (dump) printf("%08X%08X%08X%08X %08X %08X %08X %08X %08X %08X\n", op, k, i, j,
                           out[0], out[1], out[2], out[3], out[4], out[5]);
          const uint8_t *b = (const uint8_t *)out;
          for (int x = 0; x < 24; x++) { h ^= b[x]; h *= 0x01000193u; }
        }
    if (!dump) printf("    dd 0x%08x   ; %s\n", h, names + 12 * op);
  }
  return 0;
}
EOF
cc -O1 -no-pie -Wl,--no-warn-rwx-segments -o "$tmp/sse-host" "$tmp/main.c" "$tmp/ops.o"
"$tmp/sse-host" "$@"
