// The binary translator (src/cpu/jit) on the cases where it is easiest to get wrong,
// each a small nasm program whose code gets hot enough to be translated before the case
// happens, run on the translator in lockstep with the interpreter (lockstep.ts) and
// checked against what the architecture says:
//   - self-modifying code: a write from a block to a later instruction of it, to the very
//     next instruction, through other linear aliases of the page, and by a device (a
//     virtio-blk read into the page);
//   - faults inside a block (#PF on its third memory access, #GP from FS's limit, #DE),
//     delivered with the vector, error code, CR2, EIP, ESP, registers and flags the
//     interpreter has, then restarted by the handler;
//   - flags and dispatcher corners the fuzzer found (parity, port I/O faults, STI with no
//     interrupt controller).
// Port 0xE8 is a checkpoint: the test records the translator's counters when the guest
// writes it (just before the case), to show the code was translated by then.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onRegionCompiled } from '../../src/cpu/jit/compile.js';
import type { TranslatorStats } from '../../src/cpu/jit/Translator.js';
import { STOP_REQUEST } from '../../src/cpu/constants.js';
import { VirtioBlk } from '../../src/devices/virtio/VirtioBlk.js';
import { VirtioMmio } from '../../src/devices/virtio/VirtioMmio.js';
import { loadFlat, type FlatMachine } from './harness.js';
import { cpuDigest, digestDiff, flatSide, lockstep, memoryHash } from './lockstep.js';
import { NEEDS_NASM, SLOTS, hex, nasm, sysSource, type SysProgram } from './sysasm.js';
import { Alloc, mmioInit, mmioNotify, w32, w64 } from '../devices/virtio/fakeGuest.js';

/** Low, so the warm-up loops (a few hundred iterations) get their page translated. */
const THRESHOLD = 50;
const CHECKPOINT = 0xe8;
const DATA = 0x200000;

interface Checkpoint {
  stats: TranslatorStats;
  /** Page offset of each block compiled so far (every region) → the invalidation count when it last was. */
  blockStarts: Map<number, number>;
}

interface Engines {
  interp: FlatMachine;
  jit: FlatMachine;
  checkpoints: Checkpoint[];
  /** Result slot i of the translator's run. */
  slot(i: number): number;
}

/** Load a system program on both engines, with the checkpoint port on each. */
function load(p: SysProgram): Omit<Engines, 'slot'> & { slot(i: number): number } {
  const bin = nasm(sysSource(p));
  const interp = loadFlat(bin, { ram: 4 << 20 });
  const jit = loadFlat(bin, { ram: 4 << 20, jit: { threshold: THRESHOLD } });
  const checkpoints: Checkpoint[] = [];
  const blockStarts = new Map<number, number>();
  onRegionCompiled((_bytes, blocks) => { for (const b of blocks) blockStarts.set(b.start, jit.translator!.stats.invalidations); });
  interp.io.register(CHECKPOINT, 1, 'checkpoint', { read: () => 0, write: () => {} });
  jit.io.register(CHECKPOINT, 1, 'checkpoint', {
    read: () => 0,
    write: () => { checkpoints.push({ stats: { ...jit.translator!.stats }, blockStarts: new Map(blockStarts) }); },
  });
  return { interp, jit, checkpoints, slot: (i) => jit.mem.read32(SLOTS + 4 * i) >>> 0 };
}

/** Run a system program on both engines in lockstep; both must pass (exit 0) and agree throughout. */
function runBoth(p: SysProgram, label: string): Engines {
  const e = load(p);
  try {
    lockstep(flatSide(e.interp), flatSide(e.jit), {
      budget: 2_000_000, step: { min: 50, max: 3000, seed: label.length }, label, until: () => e.interp.exitCode >= 0,
    });
  } finally {
    onRegionCompiled(null);
  }
  assert.equal(e.interp.exitCode, 0, `${label}: the program failed on the interpreter (exit ${hex(e.interp.exitCode)})`);
  assert.equal(e.jit.exitCode, 0, `${label}: the program failed on the translator (exit ${hex(e.jit.exitCode)})`);
  return e;
}

/**
 * At checkpoint k the block at linear `addr` was translated, and nothing was invalidated
 * since (the programs' code fits in one page): its translation is what runs next.
 */
function assertTranslated(e: Engines, k: number, addr: number, what: string): void {
  const c = e.checkpoints[k];
  assert.ok(c !== undefined, `checkpoint ${k} was not reached`);
  assert.ok(c.stats.regions > 0, `${what}: no region alive at checkpoint ${k}`);
  assert.equal(c.blockStarts.get(addr & 0xfff), c.stats.invalidations, `${what}: the block at ${hex(addr)} was not translated (since the last invalidation) by checkpoint ${k}`);
}

// ---- Self-modifying code ----------------------------------------------------------------

/** Call `fn` 300 times (a warm-up that makes its page hot) in a loop at `label`. Uses ebp. */
const warm = (fn: string, label: string): string => `
  mov ebp, 300
${label}:
  call ${fn}
  dec ebp
  jnz ${label}`;

test('translator: a block that writes a later instruction of itself runs the new code', NEEDS_NASM, () => {
  const e = runBoth({
    body: `
  SAVE 30, smc
  xor ecx, ecx
  mov edi, ${DATA}          ; warm-up: the store goes to data
  mov eax, 0x22222222
  ${warm('smc', 'warm')}
  SAVE 0, eax
  out ${CHECKPOINT}, al
  mov edi, smc_imm          ; now the store rewrites the immediate three instructions on
  mov eax, 0x33333333
  call smc
  SAVE 1, eax
  mov edi, ${DATA}
  mov eax, 0x44444444
  call smc                  ; the code stays rewritten
  SAVE 2, eax
  SAVE 3, ecx
  out ${CHECKPOINT}, al
  DONE
smc:
  mov [edi], eax
  add ecx, 1
  xor edx, edx
  mov eax, 0x11111111
smc_imm equ $ - 4
  ret
`,
  }, 'smc-same-block');
  assertTranslated(e, 0, e.slot(30), 'the self-modifying block');
  assert.equal(e.slot(0), 0x11111111);
  assert.equal(e.slot(1), 0x33333333, 'the rewritten immediate was used by the same call');
  assert.equal(e.slot(2), 0x33333333);
  assert.equal(e.slot(3), 302);
  assert.ok(e.checkpoints[1]!.stats.invalidations > 0, 'the write invalidated the translation');
});

test('translator: a write to the very next instruction (its opcode) runs the new instruction', NEEDS_NASM, () => {
  const e = runBoth({
    body: `
  SAVE 31, smc
  xor ecx, ecx
  mov edi, ${DATA}
  mov al, 0x49              ; dec ecx
  ${warm('smc', 'warm')}
  SAVE 0, ecx               ; 300 incs
  out ${CHECKPOINT}, al
  mov edi, smc_next
  call smc                  ; inc ecx becomes dec ecx before it runs
  SAVE 1, ecx
  mov edi, ${DATA}
  call smc
  SAVE 2, ecx
  out ${CHECKPOINT}, al
  DONE
smc:
  mov [edi], al
smc_next:
  inc ecx
  ret
`,
  }, 'smc-next-insn');
  assertTranslated(e, 0, e.slot(31), 'the self-modifying block');
  assert.equal(e.slot(0), 300);
  assert.equal(e.slot(1), 299, 'the rewritten opcode ran (dec, not inc)');
  assert.equal(e.slot(2), 298);
  assert.ok(e.checkpoints[1]!.stats.invalidations > 0);
});

test('translator: writes through other linear aliases of the code page (in the TLB before and after translation) invalidate it', NEEDS_NASM, () => {
  const ALIAS1 = 0x300000, ALIAS2 = 0x340000;
  const e = runBoth({
    body: `
  SAVE 31, fn
  call enable_paging
  mov eax, fn
  and eax, ~0xfff
  or eax, 3
  mov [PT + (${ALIAS1} >> 12) * 4], eax
  mov [PT + (${ALIAS2} >> 12) * 4], eax
  mov ebx, [${ALIAS1}]      ; ALIAS1 is in the TLB before the page holds translated code
  ${warm('fn', 'warm1')}
  SAVE 0, eax
  out ${CHECKPOINT}, al
  mov edi, fn_imm
  and edi, 0xfff
  add edi, ${ALIAS1}
  mov dword [edi], 0x66666666
  call fn
  SAVE 1, eax
  ${warm('fn', 'warm2')}
  SAVE 2, eax
  out ${CHECKPOINT}, al
  mov edi, fn_imm           ; ALIAS2's first use: its TLB entry is made after the page was translated again
  and edi, 0xfff
  add edi, ${ALIAS2}
  mov dword [edi], 0x77777777
  call fn
  SAVE 3, eax
  out ${CHECKPOINT}, al
  DONE
fn:
  mov eax, 0x11111111
fn_imm equ $ - 4
  ret
`,
  }, 'smc-alias');
  assertTranslated(e, 0, e.slot(31), 'the aliased code');
  assert.equal(e.slot(0), 0x11111111);
  assert.equal(e.slot(1), 0x66666666, 'the write through ALIAS1 reached the code');
  assert.equal(e.slot(2), 0x66666666);
  assert.equal(e.slot(3), 0x77777777, 'the write through ALIAS2 reached the code');
  const [c0, c1, c2] = e.checkpoints;
  assert.ok(c1!.stats.invalidations > c0!.stats.invalidations, 'the write through ALIAS1 invalidated the page');
  assert.ok(c1!.stats.regionsCompiled > c0!.stats.regionsCompiled, 'the page was translated again before the second write');
  assert.ok(c2!.stats.invalidations > c1!.stats.invalidations, 'the write through ALIAS2 invalidated the page');
});

test('translator: a virtio-blk read into a page of translated code runs the code it brought', NEEDS_NASM, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'typevisor-jit-dma-'));
  try {
  // Sector 0 of the disk: mov eax, 0x99999999 / ret, then INT3 padding.
  const image = join(dir, 'code.img');
  const sector = new Uint8Array(4096).fill(0xcc);
  sector.set([0xb8, 0x99, 0x99, 0x99, 0x99, 0xc3]);
  writeFileSync(image, sector);
  const src = sysSource({
    body: `
  SAVE 31, dmafn
  ${warm('dmafn', 'warm')}
  SAVE 0, eax
  out ${CHECKPOINT}, al     ; the host reads sector 0 over dmafn and resumes the CPU once it is written
  call dmafn
  SAVE 1, eax
  out ${CHECKPOINT}, al
  DONE
align 512
dmafn:
  mov eax, 0x11111111
  ret
  times 512 - ($ - dmafn) db 0xcc
`,
  });
  const bin = nasm(src);

  // One engine's run: the fake driver posts the read at the first checkpoint.
  const run = async (jit: boolean): Promise<{ f: FlatMachine; stats: TranslatorStats[] }> => {
    const f = loadFlat(bin, { ram: 4 << 20, ...(jit ? { jit: { threshold: THRESHOLD } } : {}) });
    const dev = await VirtioBlk.open(f.mem, { log: () => {}, path: image, readonly: true });
    const mmio = new VirtioMmio(dev, 0xd0000000, 5, () => {});
    const [q] = mmioInit(mmio, f.mem, { queueBase: 0x300000, sizes: [16] });
    const alloc = new Alloc(0x310000);
    const stats: TranslatorStats[] = [];
    let hits = 0;
    f.io.register(CHECKPOINT, 1, 'checkpoint', {
      read: () => 0,
      write: () => {
        if (f.translator) stats.push({ ...f.translator.stats });
        if (hits++ > 0) return;
        const hdr = alloc.take(16), status = alloc.take(1);
        w32(f.mem, hdr, 0); // VIRTIO_BLK_T_IN
        w32(f.mem, hdr + 4, 0);
        w64(f.mem, hdr + 8, 0);
        q!.post([{ addr: hdr, len: 16 }, { addr: f.mem.read32(SLOTS + 4 * 31) >>> 0, len: 512, write: true }, { addr: status, len: 1, write: true }]);
        mmioNotify(mmio, 0);
        f.cpu.requestStop();
      },
    });
    try {
      for (let i = 0; i < 100 && f.exitCode < 0; i++) {
        if (f.cpu.run(2_000_000) === STOP_REQUEST) await dev.drain();
      }
    } finally {
      await dev.close();
    }
    return { f, stats };
  };
  const a = await run(false), b = await run(true);
  for (const { f } of [a, b]) {
    assert.equal(f.exitCode, 0);
    assert.equal(f.mem.read32(SLOTS) >>> 0, 0x11111111);
    assert.equal(f.mem.read32(SLOTS + 4) >>> 0, 0x99999999, 'the code read from the disk ran');
  }
  assert.equal(digestDiff(cpuDigest(a.f.cpu), cpuDigest(b.f.cpu)), '', 'both engines end in the same state');
  assert.equal(memoryHash(a.f.mem), memoryHash(b.f.mem), 'both engines end with the same memory');
  const [c0, c1] = b.stats;
  assert.ok(c0!.regions > 0 && c0!.translatedInsns > 0, 'the code was translated before the read');
  assert.ok(c1!.invalidations > c0!.invalidations, 'the device write invalidated the translation');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- Faults inside a block --------------------------------------------------------------

/**
 * Handler prologue: what the exception left, into slots — 0 times entered, 1 error code
 * (-1 without one), 2 EIP, 3 EFLAGS, 4 ESP at the fault, 5 CR2, 6 vector, 8-15 the
 * registers at the fault as PUSHAD saved them (edi esi ebp - ebx edx ecx eax).
 * Ends with PUSHAD's frame on the stack.
 */
const record = (vector: number, hasError: boolean): string => {
  const f = hasError ? 36 : 32;
  return `
  pushad
  mov dword [SLOTS + 4*6], ${vector}
  ${hasError ? 'mov eax, [esp + 32]' : 'mov eax, -1'}
  mov [SLOTS + 4*1], eax
  mov eax, [esp + ${f}]
  mov [SLOTS + 4*2], eax
  mov eax, [esp + ${f + 8}]
  mov [SLOTS + 4*3], eax
  lea eax, [esp + ${f + 12}]
  mov [SLOTS + 4*4], eax
  mov eax, cr2
  mov [SLOTS + 4*5], eax
  mov esi, esp
  mov edi, SLOTS + 4*8
  mov ecx, 8
  cld
  rep movsd
  inc dword [SLOTS]`;
};

/** After the run: registers saved at label `after` (slots 16-23: eax ecx edx ebx esp ebp esi edi). */
const SAVE_REGS = `
  SAVE 16, eax
  SAVE 17, ecx
  SAVE 18, edx
  SAVE 19, ebx
  SAVE 20, esp
  SAVE 21, ebp
  SAVE 22, esi
  SAVE 23, edi`;

const KSTACK = 0x8f000;
const EFLAGS_FIXED = 0x2, CF = 0x1, PF = 0x4, AF = 0x10, SF = 0x80, OF = 0x800;

interface FaultRecord { count: number; error: number; eip: number; eflags: number; esp: number; cr2: number; vector: number; regs: number[] }

function faultRecord(e: Engines): FaultRecord {
  const s = (i: number): number => e.slot(i);
  // PUSHAD order in slots 8-15: edi esi ebp esp ebx edx ecx eax → eax ecx edx ebx esi edi ebp.
  return { count: s(0), error: s(1), eip: s(2), eflags: s(3), esp: s(4), cr2: s(5), vector: s(6),
    regs: [s(15), s(14), s(13), s(12), s(9), s(8), s(10)] };
}

test('translator: a #PF on the third memory access of a block is precise and restarts', NEEDS_NASM, () => {
  const VICTIM = 0x201000;
  const e = runBoth({
    body: `
  SAVE 30, block
  SAVE 31, fault
  call enable_paging
  SETGATE 14, pf_handler, 0x8e
  mov dword [${DATA}], 1
  mov edx, 0x5eed
  mov ebp, 300
.warm:
  mov esi, ${DATA}
  mov edi, ${VICTIM} + 0x10
  mov ebx, 0x7fffffff
  call block
  dec ebp
  jnz .warm
  mov dword [PT + (${VICTIM} >> 12) * 4], 0
  invlpg [${VICTIM}]
  out ${CHECKPOINT}, al
  mov esi, ${DATA}
  mov edi, ${VICTIM} + 0x10
  mov ebx, 0x7fffffff
  call block
  ${SAVE_REGS}
  DONE
block:
  mov eax, [esi]            ; 1: read
  add eax, ebx              ; flags live into the fault: 1 + 0x7fffffff
  mov [esi + 4], eax        ; 2: write
fault:
  add [edi], eax            ; 3: read-modify-write, not present the last time
  mov ecx, [edi]
  ret
pf_handler:
  ${record(14, true)}
  mov dword [PT + (${VICTIM} >> 12) * 4], ${VICTIM} | 3
  invlpg [${VICTIM}]
  popad
  add esp, 4
  iretd
`,
  }, 'pf-third-access');
  assertTranslated(e, 0, e.slot(30), 'the faulting block');
  const f = faultRecord(e);
  assert.deepEqual({ ...f, regs: f.regs.map(hex) }, {
    count: 1, vector: 14, error: 2 /* write, not present, supervisor */, eip: e.slot(31), cr2: 0x201010,
    esp: KSTACK - 4, eflags: EFLAGS_FIXED | OF | SF | AF | PF,
    regs: [0x80000000, 0, 0x5eed, 0x7fffffff, DATA, 0x201010, 0].map(hex),
  });
  // Restarted: the add completed and the block ran on.
  assert.equal(e.slot(17), 0x80000000, 'ecx: the value the restarted add left');
  assert.equal(e.jit.mem.read32(0x201010) >>> 0, 0x80000000);
  assert.equal(e.slot(20), KSTACK);
});

test('translator: a #GP from FS\'s limit inside a block is precise and restarts', NEEDS_NASM, () => {
  const e = runBoth({
    gdt: '  DESC 0, 0xfff, 0x4092   ; 0x30: data, base 0, limit 4 KiB - 1 (byte granular)\n',
    body: `
  SAVE 30, block
  SAVE 31, fault
  SETGATE 13, gp_handler, 0x8e
  mov ax, 0x30
  mov fs, ax
  mov dword [${DATA}], 1
  mov dword [0x1000], 0x1234
  mov ebp, 300
.warm:
  mov esi, ${DATA}
  mov edx, 0x800
  mov ebx, 5
  call block
  dec ebp
  jnz .warm
  out ${CHECKPOINT}, al
  mov esi, ${DATA}
  mov edx, 0x1000           ; one past FS's limit
  mov ebx, 5
  call block
  ${SAVE_REGS}
  xor eax, eax
  mov ax, fs
  SAVE 24, eax
  DONE
block:
  mov eax, [esi]
  sub eax, ebx              ; flags live into the fault: 1 - 5
  mov [esi + 8], eax
fault:
  mov ecx, [fs:edx]
  add ecx, eax
  ret
gp_handler:
  ${record(13, true)}
  mov ax, SEL_DATA0         ; FS flat: the access succeeds when restarted
  mov fs, ax
  popad
  add esp, 4
  iretd
`,
  }, 'gp-fs-limit');
  assertTranslated(e, 0, e.slot(30), 'the faulting block');
  const f = faultRecord(e);
  assert.deepEqual({ ...f, regs: f.regs.map(hex), cr2: 0 }, {
    count: 1, vector: 13, error: 0, eip: e.slot(31), cr2: 0, esp: KSTACK - 4,
    eflags: EFLAGS_FIXED | CF | SF | AF | PF,
    regs: [0xfffffffc, f.regs[1]!, 0x1000, 5, DATA, f.regs[5]!, 0].map(hex),
  });
  assert.equal(e.slot(17), (0x1234 + 0xfffffffc) >>> 0, 'ecx: the restarted load, plus eax');
  assert.equal(e.slot(24), 0x10, 'the handler left FS flat');
});

test('translator: a #DE from DIV inside a block is precise and restarts', NEEDS_NASM, () => {
  const e = runBoth({
    body: `
  SAVE 30, block
  SAVE 31, fault
  SETGATE 0, de_handler, 0x8e
  mov dword [${DATA}], 1000
  xor ebx, ebx
  mov ebp, 300
.warm:
  mov esi, ${DATA}
  mov ecx, 3
  call block
  dec ebp
  jnz .warm
  out ${CHECKPOINT}, al
  mov esi, ${DATA}
  xor ecx, ecx              ; divide by zero
  mov ebx, 0x7fffffff
  call block
  ${SAVE_REGS}
  DONE
block:
  mov eax, [esi]
  xor edx, edx
  add ebx, 1                ; flags live into the fault
fault:
  div ecx
  mov [esi + 12], eax
  ret
de_handler:
  ${record(0, false)}
  mov dword [esp + 24], 7   ; the saved ECX: divide by 7 when restarted
  popad
  iretd
`,
  }, 'de-div');
  assertTranslated(e, 0, e.slot(30), 'the faulting block');
  const f = faultRecord(e);
  assert.deepEqual({ ...f, regs: f.regs.map(hex), cr2: 0 }, {
    count: 1, vector: 0, error: 0xffffffff, eip: e.slot(31), cr2: 0, esp: KSTACK - 4,
    eflags: EFLAGS_FIXED | OF | SF | AF | PF,
    regs: [1000, 0, 0, 0x80000000, DATA, f.regs[5]!, 0].map(hex),
  });
  assert.equal(e.slot(16), 142, 'eax: 1000 / 7 after the restart');
  assert.equal(e.slot(18), 6, 'edx: 1000 % 7');
  assert.equal(e.jit.mem.read32(DATA + 12), 142);
});

// ---- Flags and dispatcher corners --------------------------------------------------------

test('translator: PF is the parity of the low byte of the result only (JP/JNP/SETP after OR, ADD, CMP)', NEEDS_NASM, () => {
  // Low bytes with even parity under high bytes of every parity: PF is set every time.
  const e = runBoth({
    body: `
  xor ebx, ebx
  mov esi, 0x01000000
  mov ebp, 400
.loop:
  mov eax, esi
  or eax, 0x03
  jpo .a
  inc ebx
.a:
  mov eax, esi
  add eax, 0x05
  jnp .b
  inc ebx
.b:
  mov eax, esi
  or eax, 0x0f
  cmp eax, 0x0fff0000
  setp cl
  movzx ecx, cl
  add ebx, ecx
  add esi, 0x01010100
  dec ebp
  jnz .loop
  SAVE 0, ebx
  DONE
`,
  }, 'parity');
  assert.equal(e.slot(0), 1200);
});

test('translator: LEA with 16-bit addressing (0x67) wraps its offset at 64 KiB', NEEDS_NASM, () => {
  const e = runBoth({
    body: `
  mov ebp, 0x55264889
  mov edi, 0x00000767
  xor ebx, ebx
  mov ecx, 400
.loop:
  lea eax, [bp + di - 0x5e] ; (0x4889 + 0x767 - 0x5e) & 0xffff
  add ebx, eax
  lea edx, [bp + di + 0xc000]
  add ebx, edx
  dec ecx
  jnz .loop
  SAVE 0, eax
  SAVE 1, edx
  SAVE 2, ebx
  DONE
`,
  }, 'lea-a16');
  assert.equal(hex(e.slot(0)), hex(0x4f92));
  assert.equal(hex(e.slot(1)), hex((0x4889 + 0x767 + 0xc000) & 0xffff));
  assert.equal(e.slot(2), (400 * (0x4f92 + ((0x4889 + 0x767 + 0xc000) & 0xffff))) >>> 0);
});

test('translator: a port access that faults at ring 3 pushes the flags of the instruction before it', NEEDS_NASM, () => {
  // The flags of INC are overwritten by XOR after the OUT, but the OUT's #GP (IOPL 0, port
  // denied by the I/O bitmap) must see them.
  const e = runBoth({
    body: `
  SAVE 30, fault_block
  SAVE 31, fault
  SETGATE 13, gp_handler, 0x8e
  EXPECT done
  TO_RING3 ring3
ring3:
  xor ecx, ecx
  mov ebp, 400
ring3_loop:
  inc ecx
  cmp ebp, 1
  jne ring3_skip
fault_block:
  mov al, 0x7f
  inc al                    ; 0x80: SF OF AF, the flags the #GP frame must hold
fault:
  out 0x80, al
  xor edx, edx
ring3_skip:
  dec ebp
  jnz ring3_loop
  ud2
gp_handler:
  ${record(13, true)}
  out ${CHECKPOINT}, al      ; (at ring 0: the fault has been taken, the translation must still be there)
  popad
  mov eax, [ss:R_CONT]
  mov esp, KSTACK
  mov bx, SEL_DATA0
  mov ds, bx
  mov es, bx
  jmp eax
done:
  DONE
`,
  }, 'out-fault-flags');
  assertTranslated(e, 0, e.slot(30), 'the block of the OUT');
  const f = faultRecord(e);
  assert.equal(f.count, 1);
  assert.equal(f.vector, 13);
  assert.equal(f.eip, e.slot(31));
  assert.equal(hex(f.eflags), hex(EFLAGS_FIXED | OF | SF | AF), 'EFLAGS in the #GP frame: those INC AL left');
});

test('translator: STI on a CPU without an interrupt controller does not stall the dispatcher', NEEDS_NASM, () => {
  const e = load({
    body: `
  mov ecx, 2000
.l:
  sti
  nop
  cli
  dec ecx
  jnz .l
  SAVE 0, ecx
  DONE
`,
  });
  onRegionCompiled(null);
  // A request for an interrupt no controller can answer must be dropped, not retried forever.
  const take = e.jit.cpu.takeInterrupt.bind(e.jit.cpu);
  let calls = 0;
  e.jit.cpu.takeInterrupt = (): boolean => {
    if (++calls > 100_000) throw new Error('the dispatcher keeps asking for an interrupt nothing can deliver');
    return take();
  };
  e.jit.cpu.run(1_000_000);
  assert.equal(e.jit.exitCode, 0);
  assert.ok(e.jit.translator!.stats.translatedInsns > 0);
});
