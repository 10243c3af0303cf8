// The local APIC and the I/O APIC on the whole machine: test/devices/asm/apic.asm (a
// self-checking multiboot program, assembled here with nasm) runs deterministic on
// either engine and reports on the debug console: the LAPIC's identity, self-IPIs,
// ISR/TPR priority, the error register, the timer in one-shot, periodic and TSC-deadline
// modes (checked against the TSC to the virtual nanosecond range), the I/O APIC's edge
// (the PIT on pin 2) and level pins (COM1's THRE on pin 4: remote IRR until the EOI,
// masking), the 8259 through LINT0 and with the APIC disabled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Machine } from '../../src/machine/Machine.js';
import type { CpuEngine } from '../../src/machine/cpuEngine.js';
import { HAVE_NASM, NEEDS_NASM } from '../cpu/sysasm.js';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/devices/asm/apic.asm');

let image: Uint8Array | null = null;
function program(): Uint8Array {
  if (image === null) {
    const out = join(mkdtempSync(join(tmpdir(), 'tv-apic-')), 'apic.bin');
    execFileSync('nasm', ['-f', 'bin', '-o', out, SRC]);
    image = new Uint8Array(readFileSync(out));
  }
  return image;
}

async function runProgram(cpu: CpuEngine): Promise<{ text: string; exit: string; instructions: number; ns: number }> {
  const m = new Machine({ memoryMiB: 16, kernel: program(), deterministic: true, cpu });
  let text = '';
  m.onDebugOutput = (b) => { text += String.fromCharCode(b); };
  const exit = await m.run();
  return { text, exit: exit.kind, instructions: m.cpu.instructions, ns: m.clock.now() };
}

for (const cpu of ['jit', 'interp'] as const) {
  test(`apic.asm passes every check (${cpu})`, { ...NEEDS_NASM, timeout: 120_000 }, async () => {
    const r = await runProgram(cpu);
    assert.doesNotMatch(r.text, /FAIL|EXCEPTION/, r.text);
    assert.match(r.text, /APIC OK/);
    assert.equal(r.exit, 'poweroff');
  });
}

test('apic.asm runs the same on both engines, to the instruction and the nanosecond', { ...NEEDS_NASM, timeout: 120_000 }, async () => {
  if (!HAVE_NASM) return;
  const a = await runProgram('jit');
  const b = await runProgram('interp');
  assert.deepEqual([a.instructions, a.ns], [b.instructions, b.ns]);
});
