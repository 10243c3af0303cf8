// System instructions: CPUID, MSRs, RDTSC, control/debug registers, TLB control,
// HLT/CLI/STI/PUSHF/POPF privilege rules, descriptor-table instructions, LAR/LSL/
// VERR/VERW/ARPL, SYSENTER/SYSEXIT. Each case is a small nasm program run from reset.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSys, NEEDS_NASM, hex, R_VEC, R_ERR, R_CR2, R_EIP, R_CS, R_FRAME } from './sysasm.js';
import { CPUID_FEATURES_EDX, FEAT_NEEDS_FPU, FEAT_FPU, FEAT_FXSR, FEAT_APIC, FEAT_PAE, FEAT_MMX, FEAT_SSE, FEAT_SEP, FEAT_PGE, FEAT_PSE, FEAT_TSC, FEAT_MSR, FEAT_CX8, FEAT_CMOV, FEAT_DE, FEAT_PAT, FEAT_VME } from '../../src/cpu/cpuid.js';
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
  DONE`,
  });
  ok(r);
  assert.equal(r.slot(0), 2);
  const vendor = Buffer.alloc(12);
  vendor.writeUInt32LE(r.slot(1), 0); vendor.writeUInt32LE(r.slot(2), 4); vendor.writeUInt32LE(r.slot(3), 8);
  assert.equal(vendor.toString('latin1'), 'GenuineIntel');
  assert.equal(r.slot(4), 0x633);
  assert.equal(r.slot(5), 0);
  assert.equal(r.slot(6), 0);
  // No x87 unit attached in this run: FPU and FXSR are not reported.
  assert.equal(r.slot(7), (CPUID_FEATURES_EDX & ~FEAT_NEEDS_FPU) >>> 0);
  assert.equal(r.slot(8), 0x03020101);
  assert.equal(r.slot(9), 0x0c040843);
  assert.equal(r.slot(10), 0x80000004);
  assert.equal(r.slot(11), 0x03020101);
  const brand = Buffer.alloc(48);
  for (let i = 0; i < 12; i++) brand.writeUInt32LE(r.slot(16 + i), i * 4);
  assert.equal(brand.toString('latin1').replace(/\0+$/, ''), 'typevisor virtual CPU');
});

test('CPUID feature constant: the Pentium II set this CPU implements, nothing more', () => {
  for (const f of [FEAT_FPU, FEAT_DE, FEAT_PSE, FEAT_TSC, FEAT_MSR, FEAT_CX8, FEAT_SEP, FEAT_PGE, FEAT_CMOV, FEAT_PAT, FEAT_FXSR]) {
    assert.notEqual(CPUID_FEATURES_EDX & f, 0, hex(f));
  }
  for (const f of [FEAT_VME, FEAT_PAE, FEAT_APIC, FEAT_MMX, FEAT_SSE]) assert.equal(CPUID_FEATURES_EDX & f, 0, hex(f));
});

/** A stand-in x87 unit that records FXSAVE/FXRSTOR addresses. */
function fakeFpu(log: string[]): X87Unit {
  return {
    execute: () => {}, fwait: () => {}, reset: () => {}, hardReset: () => {},
    fxsave: (lin) => { log.push(`fxsave ${hex(lin)}`); },
    fxrstor: (lin) => { log.push(`fxrstor ${hex(lin)}`); },
    saveState: () => null, loadState: () => {},
  };
}

test('CPUID reports FPU and FXSR with an x87 unit; FXSAVE/FXRSTOR dispatch, alignment #GP, CR0.TS #NM, SSE forms #UD', NEEDS_NASM, () => {
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
  assert.equal(r.slot(0), CPUID_FEATURES_EDX >>> 0);
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
  mov eax, 1 << 5         ; PAE: not supported
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
