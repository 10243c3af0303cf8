// x87ref.c — runs x87 instructions on the host's real FPU and prints the state they leave; the
// source of test/cpu/fpu/hwref-expected.txt (see hwref.ts, which builds the case list, compiles
// this with cc and records the output). One case per input line:
//   CODE CW N ST0 ST1 ST2 MEM
// CODE: instruction bytes in hex; memory operands address [rdi] (ModRM mod 00, r/m 111).
// CW: the control word (hex), loaded after the registers. N: how many of ST2, ST1, ST0 to load
// (FLD m80 of the images se:hi:lo, hex; N=2 loads ST1 then ST0). MEM: the 16 bytes at [rdi] (hex,
// in memory order). Each case starts from FNINIT. Output per case, taken with FNSAVE (no wait, so
// an unmasked exception is only recorded) and PUSHF right after the code:
//   SW TW ST0 ST1 ST2 ST3 MEM EFLAGS(ZF PF CF OF SF AF)
// Needs an x86-64 host (the x87 is real hardware there, also inside a VM).
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if !defined(__x86_64__)
#error "x87ref needs an x86-64 host"
#endif

static void put_image(uint8_t *p, const char *s) {
  unsigned se, hi, lo;
  if (sscanf(s, "%x:%x:%x", &se, &hi, &lo) != 3) { fprintf(stderr, "x87ref: bad image %s\n", s); exit(2); }
  memcpy(p, &lo, 4);
  memcpy(p + 4, &hi, 4);
  p[8] = se & 0xff;
  p[9] = se >> 8;
}

static void print_image(const uint8_t *p) {
  uint32_t lo, hi;
  memcpy(&lo, p, 4);
  memcpy(&hi, p + 4, 4);
  printf(" %04x:%08x:%08x", p[8] | (p[9] << 8), hi, lo);
}

int main(void) {
  uint8_t *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (code == MAP_FAILED) { perror("x87ref: mmap"); return 1; }
  static uint8_t ctx[256] __attribute__((aligned(16)));
  static uint8_t mem[64] __attribute__((aligned(16)));
  char line[1024];
  while (fgets(line, sizeof line, stdin)) {
    char hexcode[256], img[3][64], memhex[64];
    unsigned cw, n;
    if (line[0] == '#' || line[0] == '\n') continue;
    if (sscanf(line, "%255s %x %u %63s %63s %63s %63s", hexcode, &cw, &n, img[0], img[1], img[2], memhex) != 7 || n > 3 ||
        strlen(memhex) != 32 || strlen(hexcode) % 2 != 0 || strlen(hexcode) > 64) {
      fprintf(stderr, "x87ref: bad line: %s", line);
      return 2;
    }
    memset(ctx, 0, sizeof ctx);
    memset(mem, 0, sizeof mem);
    put_image(ctx + 0x00, img[2]);
    put_image(ctx + 0x10, img[1]);
    put_image(ctx + 0x20, img[0]);
    ctx[0x30] = cw & 0xff;
    ctx[0x31] = cw >> 8;
    for (int i = 0; i < 16; i++) { unsigned b; sscanf(memhex + 2 * i, "%2x", &b); mem[i] = b; }
    // rdi = mem, rsi = ctx
    uint8_t *c = code;
    *c++ = 0xdb; *c++ = 0xe3;                                                  // fninit
    for (unsigned k = 3 - n; k < 3; k++) { *c++ = 0xdb; *c++ = 0x6e; *c++ = 0x10 * k; } // fld tbyte [rsi+16k]
    *c++ = 0xd9; *c++ = 0x6e; *c++ = 0x30;                                     // fldcw [rsi+0x30]
    for (size_t i = 0; i < strlen(hexcode) / 2; i++) { unsigned b; sscanf(hexcode + 2 * i, "%2x", &b); *c++ = b; }
    *c++ = 0xdd; *c++ = 0x76; *c++ = 0x40;                                     // fnsave [rsi+0x40]
    *c++ = 0x9c; *c++ = 0x58;                                                  // pushfq; pop rax
    *c++ = 0x48; *c++ = 0x89; *c++ = 0x86; *c++ = 0xb0; *c++ = 0; *c++ = 0; *c++ = 0; // mov [rsi+0xb0], rax
    *c++ = 0xc3;                                                               // ret (FNSAVE left FNINIT state)
    ((void (*)(void *, void *))code)(mem, ctx);
    const uint8_t *sv = ctx + 0x40;
    printf("%04x %04x", sv[4] | (sv[5] << 8), sv[8] | (sv[9] << 8));
    for (int i = 0; i < 4; i++) print_image(sv + 28 + 10 * i);
    printf(" ");
    for (int i = 0; i < 16; i++) printf("%02x", mem[i]);
    uint64_t fl;
    memcpy(&fl, ctx + 0xb0, 8);
    printf(" %04x\n", (unsigned)(fl & 0x8d5));
  }
  return 0;
}
