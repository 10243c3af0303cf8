// Debian's gdb against a replay (issue 15's gdb test): a small ELF kernel with symbols
// (nasm + ld; its function is named start_kernel, as a Linux vmlinux's) is recorded, then
// replayed under the stub. gdb breaks at start_kernel by symbol, reads registers and
// memory, single-steps, goes back with reverse-stepi (landing on the previous instruction,
// with the registers and memory it had there) and reverse-continue (to the previous
// breakpoint hit), sets a watchpoint and continues to it.
// Waits end on gdb's and the machine's own ends; the test's timeout is a hang guard only.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine, type MachineConfig } from '../../src/machine/Machine.js';
import { GdbStub } from '../../src/debug/GdbStub.js';
import { buildElf, gdbTestSkip } from './elfProgram.js';

const HANG_GUARD_MS = 300_000;

const PROGRAM = `
bits 32
global _start, start_kernel, counter
section .text
_start:
    mov esp, 0x90000
    xor eax, eax
    mov ecx, 5
.again:
    call start_kernel
    dec ecx
    jnz .again
    cli
    hlt
start_kernel:
    add dword [counter], 1
    add eax, 2
    ret
section .data
counter: dd 0
`;

function gdb(elf: string, port: number, commands: string[]): Promise<string> {
  const args = ['-nx', '-batch', '-ex', 'set pagination off', '-ex', 'set confirm off', '-ex', `file ${elf}`, '-ex', `target remote 127.0.0.1:${port}`];
  for (const c of commands) args.push('-ex', c);
  return new Promise<string>((resolve, reject) => {
    execFile('gdb', args, { encoding: 'utf8', timeout: HANG_GUARD_MS / 2 }, (err, stdout, stderr) => (err && !stdout ? reject(err) : resolve(stdout + stderr)));
  });
}

test('gdb on a replay: break at start_kernel, registers and memory, stepi, reverse-stepi to the previous instruction, reverse-continue, a watchpoint', { skip: gdbTestSkip, timeout: HANG_GUARD_MS }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tv-gdb-rev-'));
  try {
    const elf = buildElf(dir, PROGRAM);
    const config: MachineConfig = { memoryMiB: 16, kernel: new Uint8Array(readFileSync(elf)), cmdline: '' };
    const chunks: Uint8Array[] = [];
    const rec = new Machine({ ...config, record: { write: (c) => chunks.push(c) } });
    assert.equal((await rec.run()).kind, 'dead-halt');

    const m = new Machine({ ...config, replay: Buffer.concat(chunks) });
    const stub = new GdbStub(m);
    await stub.listen('127.0.0.1', 0);
    await m.pause(); // as -S
    const run = m.run().then((exit) => { stub.machineEnded(); return exit; });
    const out = await gdb(elf, stub.port, [
      'break start_kernel',
      'continue',
      'printf "HIT1 EIP=%x EAX=%x ECX=%x COUNTER=%d\\n", $eip, $eax, $ecx, *(int *)&counter',
      'stepi',
      'stepi',
      'printf "STEP2 EIP=%x EAX=%x COUNTER=%d\\n", $eip, $eax, *(int *)&counter',
      'reverse-stepi',
      'printf "BACK1 EIP=%x EAX=%x COUNTER=%d\\n", $eip, $eax, *(int *)&counter',
      'reverse-stepi',
      'printf "BACK2 EIP=%x EAX=%x COUNTER=%d\\n", $eip, $eax, *(int *)&counter',
      'continue',
      'continue',
      'printf "HIT3 EAX=%x COUNTER=%d\\n", $eax, *(int *)&counter',
      'reverse-continue',
      'printf "RHIT EAX=%x COUNTER=%d\\n", $eax, *(int *)&counter',
      'delete',
      'watch *(int *)&counter',
      'continue',
      'printf "WATCHED=%d EAX=%x\\n", *(int *)&counter, $eax',
      'kill',
    ]);
    const exit = await run;
    stub.close();
    const sk = Number(/Breakpoint 1 at (0x[0-9a-f]+): file .*k\.asm/.exec(out)?.[1]);
    assert.ok(sk > 0x100000, out);
    const hex = (n: number): string => n.toString(16);
    assert.match(out, /Breakpoint 1, start_kernel \(\) at .*k\.asm:\d+/, out);
    assert.match(out, new RegExp(`HIT1 EIP=${hex(sk)} EAX=0 ECX=5 COUNTER=0`), out);
    // add dword [counter], 1 (7 bytes), add eax, 2 (3 bytes)
    assert.match(out, new RegExp(`STEP2 EIP=${hex(sk + 10)} EAX=2 COUNTER=1`), out);
    assert.match(out, new RegExp(`BACK1 EIP=${hex(sk + 7)} EAX=0 COUNTER=1`), out);
    assert.match(out, new RegExp(`BACK2 EIP=${hex(sk)} EAX=0 COUNTER=0`), out);
    // From the first hit, forward to the third call's; back to the second's.
    assert.match(out, /HIT3 EAX=4 COUNTER=2/, out);
    assert.match(out, /RHIT EAX=2 COUNTER=1/, out);
    assert.match(out, /Hardware watchpoint 2: \*\(int \*\)&counter\s+Old value = 1\s+New value = 2/, out);
    assert.match(out, /WATCHED=2 EAX=2/, out);
    assert.deepEqual(exit, { kind: 'stopped', detail: 'killed by gdb' });
    t.diagnostic(out.split('\n').filter((l) => /^(HIT|STEP|BACK|RHIT|WATCHED)/.test(l)).join('; '));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
