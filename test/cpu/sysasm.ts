// Scaffolding for the system-level CPU tests (system, far, tasks, vm86): a nasm
// prelude that enters 32-bit protected mode with a GDT, an IDT whose exception gates
// record the fault and continue where the test asked, a TSS with an I/O bitmap, and
// optional paging; the test body is inserted after it. Results are dwords the program
// stores into slots, read back here after the run.
//
// Memory map: 0x2000 TSS (I/O bitmap from 0x2068), 0x6800 IDT, 0x7000 fault record,
// 0x7100 result slots, 0x10000 program, 0x7F000 user stack top, 0x8F000 kernel stack
// top, 0x100000 page directory, 0x101000 page table (identity, 0-4 MiB, U/W).

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cpu } from '../../src/cpu/Cpu.js';
import type { TranslatorOptions } from '../../src/cpu/jit/Translator.js';
import { flatResult, loadFlat, runFlat, type RunResult } from './harness.js';
import { flatSide, lockstep } from './lockstep.js';

export const HAVE_NASM = spawnSync('nasm', ['-v']).status === 0;
/** `{ skip }` option for node:test when nasm is missing. */
export const NEEDS_NASM = HAVE_NASM ? {} : { skip: 'nasm is not installed (apt-get install nasm)' };

export const R_VEC = 0x7000, R_ERR = 0x7004, R_EIP = 0x7008, R_CS = 0x700c, R_EFL = 0x7010, R_CR2 = 0x7014;
export const R_CNT = 0x7018, R_CONT = 0x701c, R_ESP = 0x7020, R_SS = 0x7024, R_DS = 0x7028;
/** Frame words at the handler's entry, after the vector/error were taken off (EIP CS EFLAGS ...). */
export const R_FRAME = 0x7040;
export const SLOTS = 0x7100;

const PRELUDE = String.raw`
bits 16
org 0x10000
%define A(x) ((x) - $$ + 0x10000)
R_VEC equ 0x7000
R_ERR equ 0x7004
R_EIP equ 0x7008
R_CS equ 0x700c
R_EFL equ 0x7010
R_CR2 equ 0x7014
R_CNT equ 0x7018
R_CONT equ 0x701c
R_ESP equ 0x7020
R_SS equ 0x7024
R_DS equ 0x7028
R_FRAME equ 0x7040
SLOTS equ 0x7100
TSS equ 0x2000
IDT equ 0x6800
USTACK equ 0x7F000
KSTACK equ 0x8F000
PD equ 0x100000
PT equ 0x101000
SEL_CODE0 equ 0x08
SEL_DATA0 equ 0x10
SEL_CODE3 equ 0x1b
SEL_DATA3 equ 0x23
SEL_TSS equ 0x28

; DESC base, limit(20 bits), attr (access byte | flags nibble << 12, as in segAttr)
%macro DESC 3
  dw ((%2) & 0xffff)
  dw ((%1) & 0xffff)
  db (((%1) >> 16) & 0xff)
  db ((%3) & 0xff)
  db ((((%2) >> 16) & 0x0f) | (((%3) >> 8) & 0xf0))
  db (((%1) >> 24) & 0xff)
%endmacro
; GATE selector, offset, access byte, param count
%macro GATE 4
  dw ((%2) & 0xffff)
  dw (%1)
  db (%4)
  db (%3)
  dw (((%2) >> 16) & 0xffff)
%endmacro
; SETGATE vector, handler, access byte [, selector] — write an IDT gate at run time
%macro SETGATE 3-4 SEL_CODE0
  mov eax, %2
  mov [IDT + (%1)*8], ax
  mov word [IDT + (%1)*8 + 2], %4
  mov byte [IDT + (%1)*8 + 4], 0
  mov byte [IDT + (%1)*8 + 5], %3
  shr eax, 16
  mov [IDT + (%1)*8 + 6], ax
%endmacro
; EXPECT label — the next exception continues at label (ring 0, flat segments, KSTACK)
%macro EXPECT 1
  mov dword [ss:R_CONT], %1
%endmacro
; SAVE slot, value
%macro SAVE 2
  mov dword [ss:SLOTS + 4*(%1)], %2
%endmacro
; SAVEFAULT slot — vector and error code of the last exception into slot, slot+1
%macro SAVEFAULT 1
  mov eax, [ss:R_VEC]
  mov [ss:SLOTS + 4*(%1)], eax
  mov eax, [ss:R_ERR]
  mov [ss:SLOTS + 4*(%1) + 4], eax
%endmacro
%macro DONE 0
  mov al, 0
  out 0xf4, al
  hlt
%endmacro
%macro FAILX 1
  mov al, %1
  out 0xf4, al
  hlt
%endmacro
; TO_RING3 label [, eflags] — IRET to ring 3 flat code on the user stack, DS = ES = ring-3 data
%macro TO_RING3 1-2 0x2
  push eax
  mov ax, SEL_DATA3
  mov ds, ax
  mov es, ax
  pop eax
  push dword SEL_DATA3
  push dword USTACK
  push dword %2
  push dword SEL_CODE3
  push dword %1
  iretd
%endmacro

; TRY {code}, slot — run code at the current level; the vector and error code of the
; exception it raises go to slot, slot+1 (0xdead in slot when nothing faulted)
%macro TRY 2
  EXPECT %%c
  %1
  mov dword [ss:SLOTS + 4*(%2)], 0xdead
  mov dword [ss:R_CONT], 0
  jmp %%n
%%c:
  SAVEFAULT %2
%%n:
%endmacro
; TRY3 {code}, slot — the same from ring 3 (continues at ring 0 either way)
%macro TRY3 2
  EXPECT %%c
  TO_RING3 %%u
%%u:
  %1
  mov dword [ss:SLOTS + 4*(%2)], 0xdead
  mov dword [ss:SLOTS + 4*(%2) + 4], 0xdead
  ud2
%%c:
  cmp dword [ss:SLOTS + 4*(%2)], 0xdead
  je %%n
  SAVEFAULT %2
%%n:
%endmacro

start:
  cli
  mov ax, 0x1000
  mov ds, ax
  lgdt [gdtr - $$]
  lidt [idtr - $$]
  mov eax, cr0
  or al, 1
  mov cr0, eax
  jmp dword SEL_CODE0:pm32
bits 32
pm32:
  mov ax, SEL_DATA0
  mov ds, ax
  mov es, ax
  mov fs, ax
  mov gs, ax
  mov ss, ax
  mov esp, KSTACK
  ; Clear the fault record and slots.
  mov edi, 0x7000
  xor eax, eax
  mov ecx, 0x400 / 4
  rep stosd
  ; IDT: 32 exception gates to the stubs, the rest not present.
  mov edi, IDT
  mov ecx, 256 * 2
  rep stosd
  mov edi, IDT
  mov eax, exc_stubs
  mov ecx, 32
.idt:
  mov [edi], ax
  mov word [edi + 2], SEL_CODE0
  mov word [edi + 4], 0x8e00
  mov ebx, eax
  shr ebx, 16
  mov [edi + 6], bx
  add eax, 16
  add edi, 8
  loop .idt
  ; TSS: ring-0 stack, I/O bitmap denying every port but 0xE9 and 0xF4.
  mov edi, TSS
  xor eax, eax
  mov ecx, 0x68 / 4
  rep stosd
  mov dword [TSS + 4], KSTACK
  mov dword [TSS + 8], SEL_DATA0
  mov word [TSS + 0x66], 0x68
  mov edi, TSS + 0x68
  mov eax, -1
  mov ecx, 0x2004 / 4
  rep stosd
  and byte [TSS + 0x68 + (0xe9 >> 3)], ~(1 << (0xe9 & 7))
  and byte [TSS + 0x68 + (0xf4 >> 3)], ~(1 << (0xf4 & 7))
  mov ax, SEL_TSS
  ltr ax
  jmp body

; Identity-map 0-4 MiB with 4 KiB user/writable pages and turn paging on.
enable_paging:
  push eax
  push ecx
  push edi
  mov edi, PD
  xor eax, eax
  mov ecx, 1024
  rep stosd
  mov dword [PD], PT | 7
  mov edi, PT
  mov eax, 7
  mov ecx, 1024
.pt:
  stosd
  add eax, 0x1000
  loop .pt
  mov eax, PD
  mov cr3, eax
  mov eax, cr0
  or eax, 0x80000000
  mov cr0, eax
  pop edi
  pop ecx
  pop eax
  ret

align 16
exc_stubs:
%assign i 0
%rep 32
  align 16
  %if i == 8 || (i >= 10 && i <= 14) || i == 17
    push dword i
  %else
    push dword -1
    push dword i
  %endif
  jmp exc_common
%assign i i+1
%endrep

exc_common:
  pop dword [ss:R_VEC]
  pop dword [ss:R_ERR]
  mov [ss:R_ESP], esp
  push eax
  mov eax, [esp + 4]
  mov [ss:R_EIP], eax
  mov eax, [esp + 8]
  mov [ss:R_CS], eax
  mov eax, [esp + 12]
  mov [ss:R_EFL], eax
%assign k 0
%rep 9
  mov eax, [esp + 4 + 4*k]
  mov [ss:R_FRAME + 4*k], eax
%assign k k+1
%endrep
  mov ax, ss
  mov [ss:R_SS], eax
  mov ax, ds
  mov [ss:R_DS], eax
  mov eax, cr2
  mov [ss:R_CR2], eax
  pop eax
  inc dword [ss:R_CNT]
  mov eax, [ss:R_CONT]
  test eax, eax
  jz .fatal
  mov dword [ss:R_CONT], 0
  mov esp, KSTACK
  mov bx, SEL_DATA0
  mov ds, bx
  mov es, bx
  mov fs, bx
  mov gs, bx
  jmp eax
.fatal:
  mov al, [ss:R_VEC]
  or al, 0x80
  out 0xf4, al
  hlt

gdtr:
  dw gdt_end - gdt - 1
  dd gdt
idtr:
  dw 256 * 8 - 1
  dd IDT

align 8
gdt:
  dq 0
  DESC 0, 0xfffff, 0xc09a          ; 0x08 ring-0 code
  DESC 0, 0xfffff, 0xc092          ; 0x10 ring-0 data
  DESC 0, 0xfffff, 0xc0fa          ; 0x18 ring-3 code
  DESC 0, 0xfffff, 0xc0f2          ; 0x20 ring-3 data
  DESC TSS, 0x2068, 0x0089         ; 0x28 TSS
`;

const DEFAULT_GDT_EXTRA = '';

export interface SysProgram {
  /** 32-bit code run at ring 0 after the prelude; starts at label `body`. */
  body: string;
  /** More GDT entries after 0x28 (the first is selector 0x30). */
  gdt?: string;
  /** Data appended after the GDT. */
  data?: string;
}

export function sysSource(p: SysProgram): string {
  return `${PRELUDE}${p.gdt ?? DEFAULT_GDT_EXTRA}\ngdt_end:\n${p.data ?? ''}\nbits 32\nbody:\n${p.body}\n`;
}

let dir: string | null = null;
const cache = new Map<string, Uint8Array>();

/** Assemble a nasm source as a flat binary; throws with nasm's messages on errors. */
export function nasm(src: string): Uint8Array {
  const hit = cache.get(src);
  if (hit) return hit;
  dir ??= mkdtempSync(join(tmpdir(), 'tv-sys-'));
  const inp = join(dir, 'p.asm'), out = join(dir, 'p.bin');
  writeFileSync(inp, src);
  try {
    execFileSync('nasm', ['-f', 'bin', '-o', out, inp], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: Buffer };
    throw new Error(`nasm failed:\n${err.stderr?.toString() ?? String(e)}`);
  }
  const bin = new Uint8Array(readFileSync(out));
  cache.set(src, bin);
  return bin;
}

export interface SysRun extends RunResult {
  /** Result slot i (a dword the program stored with SAVE). */
  slot(i: number): number;
  /** Dword at a physical address. */
  d(addr: number): number;
}

/** Translation threshold of runSys's translator run: everything hot at once. */
const SYS_JIT_THRESHOLD = 1;

/**
 * Assemble and run a system test program; `setup` runs on the fresh CPU; `jit`: on the
 * translator. Without either, the program runs on the interpreter and on the translator
 * in lockstep (lockstep.ts), which must agree throughout; the interpreter's run is returned.
 */
export function runSys(p: SysProgram, opts: { setup?: (cpu: Cpu) => void; budget?: number; jit?: TranslatorOptions } = {}): SysRun {
  const bin = nasm(sysSource(p));
  const budget = opts.budget ?? 2_000_000;
  let r: RunResult;
  if (opts.setup === undefined && opts.jit === undefined) {
    // (A setup may keep state of its own: it is not run on two CPUs.)
    const interp = loadFlat(bin, { ram: 4 << 20 });
    const jit = loadFlat(bin, { ram: 4 << 20, jit: { threshold: SYS_JIT_THRESHOLD } });
    const ls = lockstep(flatSide(interp), flatSide(jit), {
      budget, step: { min: 1, max: 400, seed: bin.length }, label: 'system program', until: () => interp.exitCode >= 0,
    });
    r = flatResult(interp, ls.stop);
  } else {
    r = runFlat(bin, { ram: 4 << 20, budget, setup: opts.setup, ...(opts.jit ? { jit: opts.jit } : {}) });
  }
  const mem = r.cpu.mem;
  return Object.assign(r, {
    slot: (i: number) => mem.read32(SLOTS + 4 * i) >>> 0,
    d: (addr: number) => mem.read32(addr) >>> 0,
  });
}

/** Hex for assertion messages. */
export function hex(v: number): string {
  return '0x' + (v >>> 0).toString(16);
}
