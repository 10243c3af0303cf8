// System instructions: CPUID, MSRs, RDTSC, control/debug registers, TLB control,
// HLT/CLI/STI/PUSHF/POPF privilege rules, descriptor-table instructions, LAR/LSL/
// VERR/VERW/ARPL, SYSENTER/SYSEXIT. Each case is a small nasm program run from reset.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSys, NEEDS_NASM, hex, R_VEC, R_ERR, R_CR2, R_EIP, R_CS, R_FRAME } from './sysasm.js';
import { CPUID_FEATURES_ECX, CPUID_FEATURES_EDX, FEAT_NEEDS_FPU, FEAT_FPU, FEAT_FXSR, FEAT_APIC, FEAT_PAE, FEAT_MMX, FEAT_SSE, FEAT_SSE2, FEAT_SEP, FEAT_PGE, FEAT_PSE, FEAT_TSC, FEAT_MSR, FEAT_CX8, FEAT_CMOV, FEAT_DE, FEAT_PAT, FEAT_VME } from '../../src/cpu/cpuid.js';
import type { X87Unit } from '../../src/cpu/x87.js';

const GP = 13, UD = 6, NM = 7, PF = 14, NP = 11, DB = 1;

function ok(r: ReturnType<typeof runSys>): void {
  assert.equal(r.exitCode, 0, `program failed: exit ${hex(r.exitCode)} stop ${r.stop} vec ${r.d(R_VEC)} err ${hex(r.d(R_ERR))} eip ${hex(r.d(R_EIP))} out ${r.output}`);
}

test('CPUID: vendor, signature, features, cache descriptors, brand string', NEEDS_NASM, () => {
  const r = runSys({
    body: `
  xor eax, eax
  cpuid
  SAVE 0, eax
  SAVE 1, ebx
  SAVE 2, edx
  SAVE 3, ecx
  mov eax, 1
  cpuid
  SAVE 4, eax
  SAVE 5, ebx
  SAVE 6, ecx
  SAVE 7, edx
  mov eax, 2
  cpuid
  SAVE 8, eax
  SAVE 9, edx
  mov eax, 0x80000000
  cpuid
  SAVE 10, eax
  mov edi, SLOTS + 4*16
  mov esi, 0x80000002
.b:
  mov eax, esi
  cpuid
  mov [edi], eax
  mov [edi+4], ebx
  mov [edi+8], ecx
  mov [edi+12], edx
  add edi, 16
  inc esi
  cmp esi, 0x80000005
  jne .b
  mov eax, 7          ; above the maximum: highest basic leaf (2)
  cpuid
  SAVE 11, eax
  mov eax, 0x40000000 ; hypervisor leaf: highest hypervisor leaf, signature
  cpuid
  SAVE 12, eax
  SAVE 13, ebx
  SAVE 14, ecx
  SAVE 15, edx
  mov eax, 0x40000001 ; beyond it: as above the maximum
  cpuid
  SAVE 28, eax
  mov eax, 0x80000001 ; extended features: NX
  cpuid
  SAVE 29, edx
  SAVE 30, ecx
  mov eax, 0x80000008 ; address sizes
  cpuid
  SAVE 31, eax
  mov eax, 0x80000009 ; above the extended maximum: highest basic leaf
  cpuid
  SAVE 32, eax
  DONE`,
  });
  ok(r);
  assert.equal(r.slot(0), 2);
  const vendor = Buffer.alloc(12);
  vendor.writeUInt32LE(r.slot(1), 0); vendor.writeUInt32LE(r.slot(2), 4); vendor.writeUInt32LE(r.slot(3), 8);
  assert.equal(vendor.toString('latin1'), 'GenuineIntel');
  assert.equal(r.slot(4), 0x633);
  assert.equal(r.slot(5), 0);
  assert.equal(r.slot(6), 0x80000000, 'ECX: only the hypervisor-present bit');
  assert.equal(r.slot(6), CPUID_FEATURES_ECX >>> 0);
  // No x87 unit attached in this run: FPU and FXSR are not reported.
  assert.equal(r.slot(7), (CPUID_FEATURES_EDX & ~FEAT_NEEDS_FPU) >>> 0);
  assert.equal(r.slot(8), 0x03020101);
  assert.equal(r.slot(9), 0x0c040843);
  assert.equal(r.slot(10), 0x80000008);
  assert.equal(r.slot(29), 1 << 20, '80000001h EDX: NX only (no SYSCALL, no long mode)');
  assert.equal(r.slot(30), 0);
  assert.equal(r.slot(31), 0x2024, '80000008h: 36 physical address bits (MAXPHYADDR, checked in PAE entries), 32 linear');
  assert.equal(r.slot(32), 0x03020101);
  assert.equal(r.slot(11), 0x03020101);
  assert.equal(r.slot(12), 0x40000000);
  const hv = Buffer.alloc(12);
  hv.writeUInt32LE(r.slot(13), 0); hv.writeUInt32LE(r.slot(14), 4); hv.writeUInt32LE(r.slot(15), 8);
  assert.equal(hv.toString('latin1'), 'TypeVisorCPU');
  assert.equal(r.slot(28), 0x03020101);
  const brand = Buffer.alloc(48);
  for (let i = 0; i < 12; i++) brand.writeUInt32LE(r.slot(16 + i), i * 4);
  assert.equal(brand.toString('latin1').replace(/\0+$/, ''), 'typevisor virtual CPU');
});

test('CPUID feature constant: the Pentium II set this CPU implements, with PAE and MMX/SSE/SSE2, nothing more', () => {
  for (const f of [FEAT_FPU, FEAT_DE, FEAT_PSE, FEAT_TSC, FEAT_MSR, FEAT_PAE, FEAT_CX8, FEAT_SEP, FEAT_PGE, FEAT_CMOV, FEAT_PAT, FEAT_FXSR, FEAT_MMX, FEAT_SSE, FEAT_SSE2]) {
    assert.notEqual(CPUID_FEATURES_EDX & f, 0, hex(f));
  }
  for (const f of [FEAT_VME, FEAT_APIC]) assert.equal(CPUID_FEATURES_EDX & f, 0, hex(f));
});

/** A stand-in x87 unit that records FXSAVE/FXRSTOR addresses. */
function fakeFpu(log: string[]): X87Unit {
  return {
    execute: () => {}, fwait: () => {}, reset: () => {}, hardReset: () => {},
    fxsave: (lin) => { log.push(`fxsave ${hex(lin)}`); },
    fxrstor: (lin) => { log.push(`fxrstor ${hex(lin)}`); },
    saveState: () => null, loadState: () => {}, hashState: (h) => h,
  };
}

test('CPUID reports FPU and FXSR with an x87 unit (MMX/SSE only with one holding XMM state); FXSAVE/FXRSTOR dispatch, alignment #GP, CR0.TS #NM, SSE forms #UD without XMM state', NEEDS_NASM, () => {
  const log: string[] = [];
  const r = runSys({
    body: `
  mov eax, 1
  cpuid
  SAVE 0, edx
  mov eax, cr4
  or eax, 1 << 9      ; OSFXSR is valid with an x87 unit
  mov cr4, eax
  fxsave [0x40000]
  fxrstor [0x40200]
  EXPECT .c1
  fxsave [0x40008]
.c1:
  SAVEFAULT 1
  mov eax, cr0
  or eax, 8           ; TS
  mov cr0, eax
  EXPECT .c2
  fxsave [0x40000]
.c2:
  SAVEFAULT 3
  clts
  EXPECT .c3
  ldmxcsr [0x40000]
.c3:
  SAVEFAULT 5
  EXPECT .c4
  lfence
.c4:
  SAVEFAULT 7
  DONE`,
  }, { setup: (cpu) => { cpu.fpu = fakeFpu(log); } });
  ok(r);
  assert.equal(r.slot(0), (CPUID_FEATURES_EDX & ~(FEAT_MMX | FEAT_SSE | FEAT_SSE2)) >>> 0);
  assert.deepEqual(log, ['fxsave 0x40000', 'fxrstor 0x40200']);
  assert.deepEqual([r.slot(1), r.slot(2)], [GP, 0]);
  assert.deepEqual([r.slot(3), r.slot(4)], [NM, 0xffffffff]);
  assert.deepEqual([r.slot(5), r.slot(7)], [UD, UD]);
});

test('RDMSR/WRMSR: SYSENTER, PAT, MTRRs, MISC_ENABLE, APIC_BASE, microcode; unknown MSRs and bad values #GP(0)', NEEDS_NASM, () => {
  const r = runSys({
    body: `
%macro WR 3
  mov ecx, %1
  mov eax, %2
  mov edx, %3
  wrmsr
%endmacro
%macro RD 2
  mov ecx, %1
  rdmsr
  SAVE %2, eax
  SAVE %2 + 1, edx
%endmacro
%macro GPTEST 2 ; instruction, slot
  EXPECT %%c
  %1
  mov dword [ss:SLOTS + 4*(%2)], 0xdead
  jmp %%n
%%c:
  SAVEFAULT %2
%%n:
%endmacro
  WR 0x174, 0x08, 0
  WR 0x175, 0x12345678, 0
  WR 0x176, 0xc0001000, 0
  RD 0x174, 0
  RD 0x175, 2
  RD 0x176, 4
  WR 0x277, 0x00070106, 0x00070406
  RD 0x277, 6
  RD 0xfe, 8
  WR 0x2ff, 0xc06, 0
  RD 0x2ff, 10
  WR 0x200, 0x00000006, 0x0
  WR 0x201, 0xfff00800, 0xf
  RD 0x200, 12
  RD 0x201, 14
  WR 0x250, 0x06060606, 0x06060606
  WR 0x26f, 0x05050505, 0x04040404
  RD 0x250, 16
  RD 0x26f, 18
  RD 0x1a0, 20
  RD 0x1b, 22
  RD 0x17, 24
  WR 0x8b, 0, 0
  RD 0x8b, 26
  mov ecx, 0x12345
  GPTEST rdmsr, 30
  mov ecx, 0xc1
  GPTEST rdmsr, 32
  mov ecx, 0x277
  mov eax, 0x02
  xor edx, edx
  GPTEST wrmsr, 34
  mov ecx, 0xfe
  GPTEST wrmsr, 36
  mov ecx, 0x2ff
  mov eax, 0x1000
  GPTEST wrmsr, 38
  DONE`,
  });
  ok(r);
  assert.deepEqual([r.slot(0), r.slot(1)], [0x08, 0]);
  assert.equal(r.slot(2), 0x12345678);
  assert.equal(r.slot(4), 0xc0001000);
  assert.deepEqual([r.slot(6), r.slot(7)], [0x00070106, 0x00070406]);
  assert.deepEqual([r.slot(8), r.slot(9)], [0x508, 0]);
  assert.equal(r.slot(10), 0xc06);
  assert.deepEqual([r.slot(12), r.slot(13), r.slot(14), r.slot(15)], [6, 0, 0xfff00800, 0xf]);
  assert.deepEqual([r.slot(16), r.slot(17), r.slot(18), r.slot(19)], [0x06060606, 0x06060606, 0x05050505, 0x04040404]);
  assert.equal(r.slot(20), 1);
  assert.deepEqual([r.slot(22), r.slot(23)], [0, 0]);
  assert.deepEqual([r.slot(24), r.slot(25), r.slot(26), r.slot(27)], [0, 0, 0, 0]);
  for (const s of [30, 32, 34, 36, 38]) assert.deepEqual([r.slot(s), r.slot(s + 1)], [GP, 0], `slot ${s}`);
  assert.equal(r.cpu.sysenterEip >>> 0, 0xc0001000);
});

test('RDTSC is monotonic; WRMSR to the TSC moves it; CR4.TSD makes it #GP at CPL 3', NEEDS_NASM, () => {
  const r = runSys({
    body: `
  rdtsc
  mov esi, eax
  mov edi, edx
  nop
  nop
  rdtsc
  SAVE 0, esi
  SAVE 1, edi
  SAVE 2, eax
  SAVE 3, edx
  mov ecx, 0x10
  mov eax, 0x40000000
  mov edx, 0x5
  wrmsr
  rdtsc
  SAVE 4, eax
  SAVE 5, edx
  mov ecx, 0x10
  rdmsr
  SAVE 6, eax
  SAVE 7, edx
  SETGATE 0x80, back, 0xee
  TO_RING3 u1
u1:
  rdtsc                 ; allowed at CPL 3 while CR4.TSD is clear
  mov [ss:SLOTS + 4*8], eax
  int 0x80
back:
  mov eax, cr4
  or eax, 4
  mov cr4, eax
  EXPECT c_tsd
  TO_RING3 u2
u2:
  rdtsc
  FAILX 0x55
c_tsd:
  SAVEFAULT 10
  mov eax, [ss:R_CS]
  SAVE 12, eax
  rdtsc                 ; still fine at CPL 0
  DONE`,
  });
  ok(r);
  const t0 = r.slot(1) * 2 ** 32 + r.slot(0), t1 = r.slot(3) * 2 ** 32 + r.slot(2);
  assert.ok(t1 > t0, `${t1} > ${t0}`);
  const t2 = r.slot(5) * 2 ** 32 + r.slot(4), t3 = r.slot(7) * 2 ** 32 + r.slot(6);
  assert.ok(t2 >= 0x540000000 && t2 < 0x540000000 + 100, hex(t2));
  assert.ok(t3 > t2 && t3 < t2 + 100, `${t3} after ${t2}`);
  assert.notEqual(r.slot(8), 0);
  assert.deepEqual([r.slot(10), r.slot(11), r.slot(12)], [GP, 0, 0x1b]);
});

test('MOV CR: reserved CR4 bits, PG without PE, NW without CD #GP(0); CR1/CR5 #UD; CPL 3 #GP; CR0.ET reads 1', NEEDS_NASM, () => {
  const r = runSys({
    body: `
  mov eax, cr4
  SAVE 0, eax
  mov eax, 1 << 6         ; MCE: not supported
  TRY {mov cr4, eax}, 2
  mov eax, 1 << 11
  TRY {mov cr4, eax}, 4
  mov eax, 1              ; VME: not supported
  TRY {mov cr4, eax}, 6
  mov eax, cr0
  and eax, ~0x60000000
  or eax, 0x20000000      ; NW without CD
  TRY {mov cr0, eax}, 8
  TRY {db 0x0f, 0x20, 0xc8}, 10   ; mov eax, cr1
  TRY {db 0x0f, 0x22, 0xe8}, 12   ; mov cr5, eax
  mov eax, 0x10 | 0x80 | 0x4 | 0x8 | 0x100   ; PSE PGE TSD DE PCE
  mov cr4, eax
  mov ebx, cr4
  SAVE 14, ebx
  xor eax, eax
  mov cr4, eax
  mov eax, cr0
  and eax, ~0x10          ; ET cannot be cleared
  mov cr0, eax
  mov eax, cr0
  SAVE 15, eax
  mov eax, 0xabcd1234
  mov cr2, eax
  mov ebx, cr2
  SAVE 16, ebx
  TRY3 {mov eax, cr0}, 17
  TRY3 {mov cr3, eax}, 19
  TRY3 {mov eax, dr7}, 21
  TRY3 {wbinvd}, 23
  TRY3 {clts}, 25
  TRY3 {invlpg [0]}, 27
  TRY3 {lgdt [0]}, 29
  TRY3 {hlt}, 31
  TRY3 {rdmsr}, 33
  TRY3 {lmsw ax}, 35
  TRY3 {mov cr0, eax}, 37
  DONE`,
  });
  ok(r);
  assert.equal(r.slot(0), 0);
  for (const s of [2, 4, 6, 8]) assert.deepEqual([r.slot(s), r.slot(s + 1)], [GP, 0], `slot ${s}`);
  assert.equal(r.slot(10), UD);
  assert.equal(r.slot(12), UD);
  assert.equal(r.slot(14), 0x19c);
  assert.equal(r.slot(15) & 0x11, 0x11, hex(r.slot(15)));
  assert.equal(r.slot(16), 0xabcd1234);
  for (let s = 17; s <= 37; s += 2) assert.deepEqual([r.slot(s), r.slot(s + 1)], [GP, 0], `slot ${s}`);
});

test('MOV CR0 with PG=1 and PE=0 is #GP(0) and changes nothing', NEEDS_NASM, () => {
  const r = runSys({
    body: `
  mov eax, cr0
  and eax, ~1
  or eax, 0x80000000
  EXPECT .c
  mov cr0, eax
  FAILX 0x55
.c:
  SAVEFAULT 0
  mov eax, cr0
  SAVE 2, eax
  DONE`,
  });
  ok(r);
  assert.deepEqual([r.slot(0), r.slot(1)], [GP, 0]);
  assert.equal(r.slot(2) & 0x80000001, 1);
});

test('CR3 reload flushes non-global translations, INVLPG one page, CR4.PGE keeps global pages; #PF error codes and CR2', NEEDS_NASM, () => {
  // Linear 0x300000 maps to 0x50000 (holds 0x11111111); remapping to 0x51000 (0x22222222)
  // is seen only after a flush.
  const r = runSys({
    body: `
  mov dword [0x50000], 0x11111111
  mov dword [0x51000], 0x22222222
  call enable_paging
  mov dword [PT + (0x300000 >> 12) * 4], 0x50000 | 7
  mov eax, cr3
  mov cr3, eax
  mov eax, [0x300000]
  SAVE 0, eax
  mov dword [PT + (0x300000 >> 12) * 4], 0x51000 | 7
  mov eax, [0x300000]          ; stale TLB entry
  SAVE 1, eax
  invlpg [0x300000]
  mov eax, [0x300000]
  SAVE 2, eax
  ; Global page with CR4.PGE: survives a CR3 reload, not an INVLPG or a PGE toggle.
  mov eax, cr4
  or eax, 0x80
  mov cr4, eax
  mov dword [PT + (0x300000 >> 12) * 4], 0x50000 | 7 | 0x100
  invlpg [0x300000]
  mov eax, [0x300000]
  SAVE 3, eax
  mov dword [PT + (0x300000 >> 12) * 4], 0x51000 | 7 | 0x100
  mov eax, cr3
  mov cr3, eax
  mov eax, [0x300000]
  SAVE 4, eax                  ; still 0x11111111
  mov eax, cr4
  and eax, ~0x80
  mov cr4, eax
  mov eax, [0x300000]
  SAVE 5, eax                  ; 0x22222222
  ; #PF: not present at CPL 0 (read), read-only write with CR0.WP, user access to a supervisor page.
  mov dword [PT + (0x301000 >> 12) * 4], 0
  invlpg [0x301000]
  TRY {mov eax, [0x301234]}, 6
  mov eax, cr2
  SAVE 8, eax
  mov dword [PT + (0x302000 >> 12) * 4], 0x52000 | 5
  invlpg [0x302000]
  mov dword [0x302010], 1      ; CR0.WP clear: a supervisor write succeeds
  mov eax, cr0
  or eax, 1 << 16
  mov cr0, eax
  TRY {mov dword [0x302020], 1}, 9
  mov eax, [ss:R_CR2]
  SAVE 11, eax
  mov dword [PT + (0x303000 >> 12) * 4], 0x53000 | 3
  invlpg [0x303000]
  TRY3 {mov dword [0x303ffe], 1}, 12
  mov eax, [ss:R_CR2]
  SAVE 14, eax
  TRY3 {mov eax, [0x302000]}, 15    ; user read of a user read-only page: fine
  TRY3 {mov dword [0x302000], 0}, 17
  DONE`,
  });
  ok(r);
  assert.deepEqual([r.slot(0), r.slot(1), r.slot(2)], [0x11111111, 0x11111111, 0x22222222]);
  assert.deepEqual([r.slot(3), r.slot(4), r.slot(5)], [0x11111111, 0x11111111, 0x22222222]);
  assert.deepEqual([r.slot(6), r.slot(7), r.slot(8)], [PF, 0, 0x301234]);
  assert.deepEqual([r.slot(9), r.slot(10), r.slot(11)], [PF, 3, 0x302020]);
  assert.deepEqual([r.slot(12), r.slot(13), r.slot(14)], [PF, 7, 0x303ffe]);
  assert.deepEqual([r.slot(15), r.slot(16)], [0xdead, 0xdead]);
  assert.deepEqual([r.slot(17), r.slot(18)], [PF, 7]);
});

test('HLT, CLI/STI, PUSHF/POPF privilege rules at CPL 3 and IOPL', NEEDS_NASM, () => {
  const r = runSys({
    body: `
  TRY3 {hlt}, 0
  TRY3 {cli}, 2
  TRY3 {sti}, 4
  ; IOPL 3: CLI/STI allowed at CPL 3; HLT still is not.
  EXPECT c1
  TO_RING3 u1, 0x3002
u1:
  cli
  sti
  pushfd
  pop eax
  mov [ss:SLOTS + 4*6], eax
  ; POPF at CPL 3 with IOPL 3: IF changes, IOPL does not.
  push dword 0x0002
  popfd
  pushfd
  pop eax
  mov [ss:SLOTS + 4*7], eax
  hlt
c1:
  SAVEFAULT 8
  ; IOPL 0 at CPL 3: POPF silently keeps IF and IOPL; other flags change.
  EXPECT c2
  TO_RING3 u2, 0x0202
u2:
  push dword 0x3000 | 0x0001 | 0x0800 | 0x0400
  popfd
  pushfd
  pop eax
  mov [ss:SLOTS + 4*10], eax
  cld
  ud2
c2:
  ; CPL 0: POPF changes IOPL and IF; never VM (bit 17) or RF; PUSHF clears VM and RF in the image.
  push dword 0x23002 | 0x10000 | 0x200
  popfd
  pushfd
  pop eax
  SAVE 11, eax
  push dword 0x2
  popfd
  ; 16-bit POPF keeps the high half.
  push word 0x0203
  popf
  pushfd
  pop eax
  SAVE 12, eax
  push dword 0x2
  popfd
  DONE`,
  });
  ok(r);
  for (const s of [0, 2, 4]) assert.deepEqual([r.slot(s), r.slot(s + 1)], [GP, 0], `slot ${s}`);
  assert.equal(r.slot(6), 0x3202);
  assert.equal(r.slot(7), 0x3002);
  assert.deepEqual([r.slot(8), r.slot(9)], [GP, 0]);
  assert.equal(r.slot(10), 0x0202 | 0x0001 | 0x0800 | 0x0400);
  assert.equal(r.slot(11), 0x3202);
  assert.equal(r.slot(12), 0x0203);
});

test('STI holds off interrupts for one instruction; HLT sets halted', NEEDS_NASM, () => {
  // A fake interrupt controller that always has vector 0x40 pending.
  let acks = 0;
  const r = runSys({
    body: `
  SETGATE 0x40, irq, 0x8e
  mov ecx, 0
  sti
  mov ecx, 1        ; runs before the interrupt
  mov ecx, 2        ; the interrupt is taken before this one
  FAILX 0x56
irq:
  SAVE 0, ecx
  DONE`,
  }, {
    setup: (cpu) => {
      cpu.pic = { hasInterrupt: () => true, acknowledge: () => { acks++; return 0x40; } };
    },
  });
  ok(r);
  assert.equal(r.slot(0), 1);
  assert.equal(acks, 1);
  const h = runSys({ body: 'hlt\nFAILX 0x57' });
  assert.equal(h.stop, 'halt');
  assert.equal(h.cpu.halted, true);
});

test('SGDT/SIDT/SLDT/STR, LLDT and LTR with their checks; LTR marks the TSS busy', NEEDS_NASM, () => {
  const r = runSys({
    gdt: `
  DESC A(ldt_table), 15, 0x0082       ; 0x30 LDT
  DESC TSS, 0x67, 0x0089           ; 0x38 a second available TSS
  DESC 0, 0xfffff, 0xc092          ; 0x40 data (not a system descriptor)
  DESC A(ldt_table), 15, 0x0002       ; 0x48 LDT, not present
`,
    data: `
align 8
ldt_table:
  dq 0
  DESC 0x40000, 0xfff, 0x40f2      ; LDT selector 0x0c / 0x0f: data DPL 3, base 0x40000
`,
    body: `
  sgdt [0x40000]
  mov eax, [0x40002]
  SAVE 0, eax
  movzx eax, word [0x40000]
  SAVE 1, eax
  sidt [0x40010]
  mov eax, [0x40012]
  SAVE 2, eax
  movzx eax, word [0x40010]
  SAVE 3, eax
  mov eax, 0xffffffff
  str eax
  SAVE 4, eax
  mov al, [gdt + 0x28 + 5]
  movzx eax, al
  SAVE 5, eax                   ; type 0x8b: busy
  mov ax, SEL_TSS
  TRY {ltr ax}, 6               ; busy TSS
  mov ax, 0x40
  TRY {ltr ax}, 8               ; not a TSS
  mov ax, 0x0c
  TRY {ltr ax}, 10              ; LDT selector
  xor ax, ax
  TRY {ltr ax}, 12              ; null
  mov ax, 0x40
  TRY {lldt ax}, 14
  mov ax, 0x48
  TRY {lldt ax}, 16
  mov ax, 0x30
  lldt ax
  mov eax, 0xffffffff
  sldt eax
  SAVE 18, eax
  mov dword [0x40100], 0x5a5a5a5a
  mov ax, 0x0f
  mov es, ax
  mov eax, [es:0x100]
  SAVE 19, eax
  mov ax, SEL_DATA0
  mov es, ax
  xor ax, ax
  lldt ax
  mov ax, 0x0f
  TRY {mov es, ax}, 20          ; the LDT is gone
  TRY3 {str ax}, 22             ; STR and SLDT are not privileged
  TRY3 {lldt ax}, 24
  TRY3 {ltr ax}, 26
  TRY3 {sgdt [ss:0x40020]}, 28
  DONE`,
  });
  ok(r);
  assert.ok(r.slot(0) > 0x10000 && r.slot(0) < 0x11000, hex(r.slot(0)));
  assert.equal(r.slot(1), 0x4f);
  assert.deepEqual([r.slot(2), r.slot(3)], [0x6800, 0x7ff]);
  assert.equal(r.slot(4), 0x28);
  assert.equal(r.slot(5), 0x8b);
  assert.deepEqual([r.slot(6), r.slot(7)], [GP, 0x28]);
  assert.deepEqual([r.slot(8), r.slot(9)], [GP, 0x40]);
  assert.deepEqual([r.slot(10), r.slot(11)], [GP, 0x0c]);
  assert.deepEqual([r.slot(12), r.slot(13)], [GP, 0]);
  assert.deepEqual([r.slot(14), r.slot(15)], [GP, 0x40]);
  assert.deepEqual([r.slot(16), r.slot(17)], [NP, 0x48]);
  assert.equal(r.slot(18), 0x30);
  assert.equal(r.slot(19), 0x5a5a5a5a);
  assert.deepEqual([r.slot(20), r.slot(21)], [GP, 0x0c]);
  assert.deepEqual([r.slot(22), r.slot(23)], [0xdead, 0xdead]);
  assert.deepEqual([r.slot(24), r.slot(25)], [GP, 0]);
  assert.deepEqual([r.slot(26), r.slot(27)], [GP, 0]);
  assert.deepEqual([r.slot(28), r.slot(29)], [0xdead, 0xdead]);
});

test('LAR, LSL, VERR, VERW: ZF and results by type and privilege; ARPL', NEEDS_NASM, () => {
  const r = runSys({
    gdt: `
  DESC 0x12345, 0x12345, 0x0092    ; 0x30 data, byte limit 0x12345, DPL 0
  DESC 0, 0xfffff, 0xc098          ; 0x38 execute-only code
  DESC 0, 0xfffff, 0xc09e          ; 0x40 conforming readable code, DPL 0
  GATE SEL_CODE0, 0x1000, 0xec, 0  ; 0x48 call gate DPL 3
  DESC 0, 0x00003, 0x80f2          ; 0x50 data DPL 3, page-granular limit 3 → 0x3fff
`,
    body: `
%macro ZF 1 ; slot ← ZF
  pushfd
  pop esi
  shr esi, 6
  and esi, 1
  SAVE %1, esi
%endmacro
  mov ebx, 0xdeadbeef
  mov ax, 0x30
  lar ebx, ax
  ZF 0
  SAVE 1, ebx
  lsl ebx, ax
  ZF 2
  SAVE 3, ebx
  mov ax, SEL_CODE0
  lar ebx, ax
  SAVE 4, ebx
  lsl ebx, ax
  SAVE 5, ebx
  mov ax, 0x48
  lar ebx, ax
  ZF 6
  SAVE 7, ebx
  mov ebx, 0x77
  lsl ebx, ax                   ; gates have no limit
  ZF 8
  SAVE 9, ebx
  mov ax, SEL_TSS
  lar ebx, ax
  SAVE 10, ebx
  lsl ebx, ax
  SAVE 11, ebx
  xor ax, ax
  lar ebx, ax
  ZF 12
  mov ax, 0x1000                ; beyond the GDT
  lsl ebx, ax
  ZF 13
  mov ax, 0x50
  lsl bx, ax
  ZF 14
  movzx ebx, bx
  SAVE 15, ebx
  mov ax, 0x30
  verr ax
  ZF 16
  verw ax
  ZF 17
  mov ax, 0x38
  verr ax
  ZF 18
  mov ax, SEL_CODE0
  verr ax
  ZF 19
  verw ax
  ZF 20
  mov ax, 0x33                  ; RPL 3 > DPL 0
  verr ax
  ZF 21
  mov ax, 0x43                  ; conforming: no privilege check
  verr ax
  ZF 22
  mov ax, 0x48                  ; a gate is not a segment
  verr ax
  ZF 23
  ; From CPL 3: DPL 0 descriptors are invisible, DPL 3 ones visible.
  EXPECT c3
  TO_RING3 u3
u3:
  mov ax, 0x30
  lar ebx, ax
  setz cl
  mov ax, 0x53
  lar edx, ax
  setz ch
  movzx ecx, cx
  mov [ss:SLOTS + 4*24], ecx
  mov [ss:SLOTS + 4*25], edx
  mov ax, 0x48
  lar edx, ax
  setz cl
  movzx ecx, cl
  mov [ss:SLOTS + 4*26], ecx
  ud2
c3:
  ; ARPL
  mov ax, 0x10
  mov bx, 0x03
  arpl ax, bx
  ZF 27
  movzx eax, ax
  SAVE 28, eax
  mov ax, 0x13
  mov bx, 0x01
  arpl ax, bx
  ZF 29
  movzx eax, ax
  SAVE 30, eax
  mov word [0x40000], 0x20
  mov bx, 2
  arpl [0x40000], bx
  movzx eax, word [0x40000]
  SAVE 31, eax
  DONE`,
  });
  ok(r);
  assert.deepEqual([r.slot(0), r.slot(1), r.slot(2), r.slot(3)], [1, 0x00019200, 1, 0x12345]);
  assert.deepEqual([r.slot(4), r.slot(5)], [0x00cf9b00, 0xffffffff]);
  assert.deepEqual([r.slot(6), r.slot(7)], [1, 0x0000ec00]);
  assert.deepEqual([r.slot(8), r.slot(9)], [0, 0x77]);
  assert.deepEqual([r.slot(10), r.slot(11)], [0x00008b00, 0x2068]);
  assert.deepEqual([r.slot(12), r.slot(13)], [0, 0]);
  assert.deepEqual([r.slot(14), r.slot(15)], [1, 0x3fff]);
  assert.deepEqual([16, 17, 18, 19, 20, 21, 22, 23].map((i) => r.slot(i)), [1, 1, 0, 1, 0, 0, 1, 0]);
  assert.equal(r.slot(24), 0x0100, 'LAR at CPL 3: DPL 0 data invisible, DPL 3 data visible');
  assert.equal(r.slot(25), 0x0080f200);
  assert.equal(r.slot(26), 1);
  assert.deepEqual([r.slot(27), r.slot(28), r.slot(29), r.slot(30), r.slot(31)], [1, 0x13, 0, 0x13, 0x22]);
});

test('SYSENTER/SYSEXIT round trip with flat segment caches; #GP when SYSENTER_CS is 0 or SYSEXIT at CPL 3', NEEDS_NASM, () => {
  const r = runSys({
    body: `
  mov ecx, 0x174
  xor eax, eax
  xor edx, edx
  wrmsr
  TRY {sysenter}, 0
  TRY {sysexit}, 2
  mov ecx, 0x174
  mov eax, SEL_CODE0
  wrmsr
  mov ecx, 0x175
  mov eax, 0x8e000
  wrmsr
  mov ecx, 0x176
  mov eax, kentry
  wrmsr
  mov edx, uentry
  mov ecx, 0x7e000
  sti
  sysexit
uentry:
  mov eax, cs
  mov [ss:SLOTS + 4*4], eax
  mov eax, ss
  mov [ss:SLOTS + 4*5], eax
  mov [ss:SLOTS + 4*6], esp
  pushfd
  pop eax
  mov [ss:SLOTS + 4*7], eax
  TRY {sysexit}, 8            ; CPL 3 (continues at ring 0: come back to ring 3 first)
  EXPECT kfail
  TO_RING3 u2, 0x202
u2:
  sysenter
kfail:
  FAILX 0x58
kentry:
  mov dword [ss:R_CONT], 0
  mov eax, cs
  SAVE 10, eax
  mov eax, ss
  SAVE 11, eax
  SAVE 12, esp
  pushfd
  pop eax
  SAVE 13, eax
  DONE`,
  });
  ok(r);
  for (const s of [0, 2]) assert.deepEqual([r.slot(s), r.slot(s + 1)], [GP, 0], `slot ${s}`);
  assert.deepEqual([r.slot(4), r.slot(5), r.slot(6)], [0x1b, 0x23, 0x7e000]);
  assert.equal(r.slot(7) & 0x200, 0x200);
  assert.deepEqual([r.slot(8), r.slot(9)], [GP, 0]);
  assert.deepEqual([r.slot(10), r.slot(11), r.slot(12)], [0x08, 0x10, 0x8e000]);
  assert.equal(r.slot(13) & 0x200, 0, 'SYSENTER clears IF');
  const c = r.cpu;
  assert.equal(c.cpl, 0);
  assert.equal(c.cs32, true);
  assert.equal(c.segLimit[1], -1);
});

test('Debug registers: DR4/DR5 alias DR6/DR7 unless CR4.DE; DR6/DR7 fixed bits; DR7.GD raises #DB', NEEDS_NASM, () => {
  const r = runSys({
    body: `
  mov eax, 0x12345678
  mov dr0, eax
  mov eax, dr0
  SAVE 0, eax
  xor eax, eax
  mov dr6, eax
  mov eax, dr6
  SAVE 1, eax
  mov eax, 0x3
  mov dr7, eax
  db 0x0f, 0x21, 0xe8          ; mov eax, dr5 (= dr7)
  SAVE 2, eax
  mov eax, cr4
  or eax, 8
  mov cr4, eax
  TRY {db 0x0f, 0x21, 0xe8}, 3
  mov eax, cr4
  and eax, ~8
  mov cr4, eax
  mov eax, 0x2000
  mov dr7, eax
  TRY {mov eax, dr0}, 5
  mov eax, dr6
  SAVE 7, eax
  mov eax, dr7
  SAVE 8, eax
  DONE`,
  });
  ok(r);
  assert.equal(r.slot(0), 0x12345678);
  assert.equal(r.slot(1), 0xffff0ff0);
  assert.equal(r.slot(2), 0x403);
  assert.equal(r.slot(3), UD);
  assert.deepEqual([r.slot(5), r.slot(6)], [DB, 0xffffffff]);
  assert.equal(r.slot(7), 0xffff2ff0);
  assert.equal(r.slot(8), 0x400);
});
