// x87diff-host.c — the hashes of x87diff.asm, computed on the host's real x87 FPU: a native
// replica of that program's loop (FNINIT, FLDCW, FLD m80 b, FLD m80 a, the operation, FNSTSW,
// mask, FNV-style hash of the 24 result bytes and the status word). The values, control words,
// operation order and masks are read from x87diff.asm itself, so the two cannot drift apart; each
// operation's instructions are repeated here (an unknown name is an error).
//
//   cc -O1 -o /tmp/x87diff-host test/cpu/asm/x87diff-host.c
//   /tmp/x87diff-host [test/cpu/asm/x87diff.asm] > test/cpu/asm/x87diff-expected.inc
//   /tmp/x87diff-host --dump    every case, in the format of x87diff.asm -DRECORD -DDUMP
//
// Needs an x86-64 host (the x87 is real hardware there, also inside a VM).

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if !defined(__x86_64__)
#error "x87diff-host needs an x86-64 host"
#endif

static uint8_t vals[64][10];
static unsigned nvals;
static uint16_t cws[32];
static unsigned ncws;
static uint32_t res[6];

typedef uint16_t (*runner)(uint16_t cw, const void *a, const void *b);

#define CASE(name, code)                                                                       \
  static uint16_t run_##name(uint16_t cw, const void *a, const void *b) {                      \
    uint16_t ax;                                                                               \
    __asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt (%[b])\n\tfldt (%[a])\n\t" code             \
                     "\n\tfnstsw %%ax\n\tfninit"                                               \
                     : "=a"(ax)                                                                \
                     : [cw] "m"(cw), [a] "r"(a), [b] "r"(b), [p] "r"(res)                      \
                     : "memory");                                                              \
    return ax;                                                                                 \
  }

// The routines of x87diff.asm (register forms as bytes, to avoid AT&T's operand-order quirks).
CASE(x_fadd, ".byte 0xd8,0xc1\n\tfstpt (%[p])")      // fadd st0, st1
CASE(x_fsub, ".byte 0xd8,0xe1\n\tfstpt (%[p])")      // fsub st0, st1
CASE(x_fsubr, ".byte 0xd8,0xe9\n\tfstpt (%[p])")     // fsubr st0, st1
CASE(x_fmul, ".byte 0xd8,0xc9\n\tfstpt (%[p])")      // fmul st0, st1
CASE(x_fdiv, ".byte 0xd8,0xf1\n\tfstpt (%[p])")      // fdiv st0, st1
CASE(x_fdivr, ".byte 0xd8,0xf9\n\tfstpt (%[p])")     // fdivr st0, st1
CASE(x_fsqrt, "fsqrt\n\tfstpt (%[p])")
CASE(x_frndint, "frndint\n\tfstpt (%[p])")
CASE(x_fscale, "fscale\n\tfstpt (%[p])")
CASE(x_fxtract, "fxtract\n\tfstpt (%[p])\n\tfstpt 10(%[p])")
CASE(x_fprem, "fprem\n\tfnstsw 12(%[p])\n\tfstpt (%[p])")
CASE(x_fprem1, "fprem1\n\tfnstsw 12(%[p])\n\tfstpt (%[p])")
CASE(x_fcom, ".byte 0xd8,0xd1")                      // fcom st1
CASE(x_fucom, ".byte 0xdd,0xe1")                     // fucom st1
CASE(x_fxam, "fxam")
CASE(x_fist, "fistl (%[p])")                         // fist dword
CASE(x_fistp64, "fistpll (%[p])")                    // fistp qword
CASE(x_fbstp, "fbstp (%[p])")
CASE(x_fst32, "fsts (%[p])")
CASE(x_fst64, "fstl (%[p])")
CASE(x_fst80, "fld %%st(0)\n\tfstpt (%[p])")

static const struct { const char *name; runner fn; } known[] = {
#define K(n) { #n, run_##n }
  K(x_fadd), K(x_fsub), K(x_fsubr), K(x_fmul), K(x_fdiv), K(x_fdivr), K(x_fsqrt), K(x_frndint),
  K(x_fscale), K(x_fxtract), K(x_fprem), K(x_fprem1), K(x_fcom), K(x_fucom), K(x_fxam), K(x_fist),
  K(x_fistp64), K(x_fbstp), K(x_fst32), K(x_fst64), K(x_fst80),
#undef K
};

static struct { char name[64]; runner fn; uint32_t mask; } ops[64];
static unsigned nops;

static void die(const char *what, const char *line) {
  fprintf(stderr, "x87diff-host: %s%s%s", what, line ? ": " : "\n", line ? line : "");
  exit(2);
}

/** Read the value table, the control words, the masks and the XRUN list from x87diff.asm. */
static void parse(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) { perror(path); exit(2); }
  char line[512];
  unsigned arith = 0, cmpc = 0;
  int inCws = 0;
  while (fgets(line, sizeof line, f)) {
    unsigned se; unsigned long long sig; char name[64], mask[64];
    char *p = line;
    while (*p == ' ' || *p == '\t') p++;
    if (sscanf(line, "ARITH equ %x", &arith) == 1 || sscanf(line, "CMPC equ %x", &cmpc) == 1) continue;
    if (strncmp(line, "cws:", 4) == 0) { inCws = 1; continue; }
    if (inCws) {
      if (strncmp(p, "dw ", 3) != 0) { inCws = 0; continue; }
      for (char *t = strtok(p + 3, ", \t\n"); t && *t != ';'; t = strtok(NULL, ", \t\n")) {
        if (ncws == 32) die("too many control words", line);
        cws[ncws++] = (uint16_t)strtoul(t, NULL, 16);
      }
      continue;
    }
    if (sscanf(p, "V 0x%x, 0x%llx", &se, &sig) == 2) {
      if (nvals == 64) die("too many values", line);
      memcpy(vals[nvals], &sig, 8);
      vals[nvals][8] = se & 0xff;
      vals[nvals][9] = se >> 8;
      nvals++;
      continue;
    }
    if (sscanf(p, "XRUN %63[^,], %63s", name, mask) == 2) {
      unsigned k;
      for (k = 0; k < sizeof known / sizeof known[0]; k++) if (strcmp(known[k].name, name) == 0) break;
      if (k == sizeof known / sizeof known[0]) die("unknown operation (add it here)", line);
      if (nops == 64) die("too many operations", line);
      snprintf(ops[nops].name, sizeof ops[nops].name, "%s", name);
      ops[nops].fn = known[k].fn;
      ops[nops].mask = strcmp(mask, "ARITH") == 0 ? 1 : strcmp(mask, "CMPC") == 0 ? 2 : 0;
      if (ops[nops].mask == 0) die("unknown mask", line);
      nops++;
    }
  }
  fclose(f);
  if (!arith || !cmpc || !nvals || !ncws || !nops) die("x87diff.asm: missing masks, values, control words or XRUN lines", NULL);
  for (unsigned o = 0; o < nops; o++) ops[o].mask = ops[o].mask == 1 ? arith : cmpc;
}

int main(int argc, char **argv) {
  int dump = 0;
  const char *path = "test/cpu/asm/x87diff.asm";
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--dump") == 0) dump = 1;
    else path = argv[i];
  }
  parse(path);
  if (!dump) printf("; x87diff-expected.inc: recorded on real x87 hardware by x87diff-host.c\nexpected:\n");
  for (unsigned o = 0; o < nops; o++) {
    uint32_t h = 0x811C9DC5u;
    for (unsigned k = 0; k < ncws; k++) {
      for (unsigned i = 0; i < nvals; i++) {
        for (unsigned j = 0; j < nvals; j++) {
          memset(res, 0, sizeof res);
          uint32_t ax = ops[o].fn(cws[k], vals[i], vals[j]) & ops[o].mask;
          if (dump) {
            printf("%08x%08x%08x%08x ", o, k, i, j);
            for (int c = 0; c < 6; c++) printf("%08x", res[c]);
            printf(" %08x\n", ax);
          }
          for (int c = 0; c < 6; c++) { h ^= res[c]; h *= 16777619u; }
          h ^= ax;
          h *= 16777619u;
        }
      }
    }
    if (!dump) printf("    dd 0x%08x   ; %s\n", h, ops[o].name);
  }
  return 0;
}
