// The GDB stub driven by Debian's gdb: a small ELF kernel with symbols (nasm + ld) runs on
// a Machine with the stub; gdb attaches, breaks at a function, reads registers and memory,
// steps one instruction, sets a write watchpoint and continues to it, then kills the VM;
// read and access watchpoints stop at the instructions that touch their bytes.
// Waits end on gdb's and the machine's own ends; the test's timeout is a hang guard only.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine } from '../../src/machine/Machine.js';
import { GdbStub, parseGdbAddress } from '../../src/debug/GdbStub.js';
import { connect } from 'node:net';
import { jmpSelf, multibootKernel } from '../boot/images.js';
import { buildElf, gdbTestSkip } from './elfProgram.js';

const HANG_GUARD_MS = 300_000;

const skip = gdbTestSkip;

const PROGRAM = `
bits 32
global _start, work, counter, limit
section .text
_start:
    mov esp, 0x90000
    xor eax, eax
    mov ecx, 5
.again:
    call work
    dec ecx
    jnz .again
    cli
    hlt
work:
    add dword [counter], 1
    add eax, 2
    mov edx, [limit]
    ret
section .data
counter: dd 0
limit: dd 7
`;

function buildKernel(dir: string): string {
  return buildElf(dir, PROGRAM);
}

test('parseGdbAddress: QEMU\'s tcp::PORT on 127.0.0.1, tcp:HOST:PORT, and refusals', () => {
  assert.deepEqual(parseGdbAddress('tcp::1234'), { host: '127.0.0.1', port: 1234 });
  assert.deepEqual(parseGdbAddress('tcp:0.0.0.0:5000'), { host: '0.0.0.0', port: 5000 });
  assert.throws(() => parseGdbAddress('1234'), /tcp::PORT/);
  assert.throws(() => parseGdbAddress('tcp::0'), /port 1-65535/);
});

test('gdb breaks at a symbol, reads registers and memory, steps, watches a write and kills the VM', { skip, timeout: HANG_GUARD_MS }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tv-gdb-'));
  const elf = buildKernel(dir);
  const m = new Machine({ memoryMiB: 16, pacing: 'fast', kernel: new Uint8Array(readFileSync(elf)), cmdline: '' });
  const stub = new GdbStub(m);
  await stub.listen('127.0.0.1', 0);
  await m.pause(); // as -S: nothing runs before gdb says so
  // The stub tells a waiting gdb when the machine ends (the CLI does the same).
  const run = m.run().then((exit) => { stub.machineEnded(); return exit; });
  const gdb = new Promise<string>((resolve, reject) => {
    execFile('gdb', ['-nx', '-batch',
      '-ex', 'set pagination off', '-ex', 'set confirm off',
      '-ex', `file ${elf}`,
      '-ex', `target remote 127.0.0.1:${stub.port}`,
      '-ex', 'info registers eip',
      '-ex', 'break work',
      '-ex', 'continue',
      '-ex', 'printf "EAX=%x ECX=%x\\n", $eax, $ecx',
      '-ex', 'printf "COUNTER=%d\\n", *(int *)&counter',
      '-ex', 'stepi',
      '-ex', 'printf "AFTERSTEP=%d EIP=%x\\n", *(int *)&counter, $eip',
      '-ex', 'delete 1',
      '-ex', 'watch *(int *)&counter',
      '-ex', 'continue',
      '-ex', 'printf "WATCHED=%d EAX=%x\\n", *(int *)&counter, $eax',
      '-ex', 'set var *(int *)&counter = 40',
      '-ex', 'printf "SET=%d\\n", *(int *)&counter',
      '-ex', 'kill',
    ], { encoding: 'utf8' }, (err, stdout, stderr) => (err && !stdout ? reject(err) : resolve(stdout + stderr)));
  });
  const out = await gdb;
  const exit = await run;
  stub.close();
  // Attached at the entry point (EIP 0x100000, _start), stopped until gdb continued.
  assert.match(out, /eip\s+0x100000\s+0x100000 <_start>/, out);
  assert.match(out, /Breakpoint 1, work \(\) at .*k\.asm:\d+/, out);
  assert.match(out, /EAX=0 ECX=5/, out); // the first call
  assert.match(out, /COUNTER=0/, out);
  // stepi ran `add dword [counter], 1` (7 bytes) and nothing more.
  const work = Number(/Breakpoint 1 at (0x[0-9a-f]+): file .*k\.asm/.exec(out)![1]);
  assert.match(out, new RegExp(`AFTERSTEP=1 EIP=${(work + 7).toString(16)}`), out);
  // The watchpoint stops at the second call's write, after the first call's `add eax, 2`.
  assert.match(out, /Hardware watchpoint 2: \*\(int \*\)&counter\s+Old value = 1\s+New value = 2/, out);
  assert.match(out, /WATCHED=2 EAX=2/, out);
  assert.match(out, /SET=40/, out); // memory written through the stub
  assert.deepEqual(exit, { kind: 'stopped', detail: 'killed by gdb' });
});

test('gdb read and access watchpoints (rwatch, awatch) stop after the instruction that read, or read or wrote, the watched bytes', { skip, timeout: HANG_GUARD_MS }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tv-gdb-rw-'));
  const elf = buildKernel(dir);
  const m = new Machine({ memoryMiB: 16, pacing: 'fast', kernel: new Uint8Array(readFileSync(elf)), cmdline: '' });
  const stub = new GdbStub(m);
  await stub.listen('127.0.0.1', 0);
  await m.pause();
  const run = m.run().then((exit) => { stub.machineEnded(); return exit; });
  const out = await new Promise<string>((resolve, reject) => {
    execFile('gdb', ['-nx', '-batch',
      '-ex', 'set pagination off', '-ex', 'set confirm off',
      '-ex', `file ${elf}`,
      '-ex', `target remote 127.0.0.1:${stub.port}`,
      '-ex', 'rwatch *(int *)&limit',
      '-ex', 'continue',
      '-ex', 'printf "READ EAX=%x EDX=%x COUNTER=%d\\n", $eax, $edx, *(int *)&counter',
      '-ex', 'delete',
      '-ex', 'awatch *(int *)&counter',
      '-ex', 'continue',
      '-ex', 'printf "ACCESS EAX=%x COUNTER=%d\\n", $eax, *(int *)&counter',
      '-ex', 'kill',
    ], { encoding: 'utf8', timeout: HANG_GUARD_MS / 2 }, (err, stdout, stderr) => (err && !stdout ? reject(err) : resolve(stdout + stderr)));
  });
  const exit = await run;
  stub.close();
  // The first call's mov edx, [limit]; the writes to counter before it did not stop.
  assert.match(out, /Hardware read watchpoint 1: \*\(int \*\)&limit\s+Value = 7/, out);
  assert.match(out, /READ EAX=2 EDX=7 COUNTER=1/, out);
  // The second call's add dword [counter], 1 (read and written), before its add eax, 2.
  assert.match(out, /Hardware access \(read\/write\) watchpoint 2: \*\(int \*\)&counter/, out);
  assert.match(out, /ACCESS EAX=2 COUNTER=2/, out);
  assert.deepEqual(exit, { kind: 'stopped', detail: 'killed by gdb' });
});

/** A raw RSP client: send a packet (checksummed, or as given), collect what comes back. */
function rawClient(port: number): Promise<{ send(raw: string): void; packet(body: string): void; next(): Promise<string>; end(): void }> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let buf = '';
    const waiters: (() => void)[] = [];
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => { buf += d; for (const w of waiters.splice(0)) w(); });
    sock.on('error', reject);
    const sum = (b: string): string => ([...b].reduce((a, ch) => a + ch.charCodeAt(0), 0) & 0xff).toString(16).padStart(2, '0');
    const next = async (): Promise<string> => {
      for (;;) {
        buf = buf.replace(/^[+-]+/, '');
        const m = /^\$([^#]*)#[0-9a-f]{2}/.exec(buf);
        if (m) { buf = buf.slice(m[0].length); return m[1]!; }
        await new Promise<void>((r) => waiters.push(r));
      }
    };
    sock.on('connect', () => resolve({
      send: (raw) => sock.write(raw),
      packet: (body) => sock.write(`$${body}#${sum(body)}`),
      next,
      end: () => sock.end(),
    }));
  });
}

test('malformed packets get E01 (or a resend request for a bad checksum) and change nothing; MMIO is not reached', { timeout: HANG_GUARD_MS }, async () => {
  const m = new Machine({ memoryMiB: 8, pacing: 'fast', kernel: multibootKernel([...jmpSelf]), cmdline: '' });
  const stub = new GdbStub(m);
  await stub.listen('127.0.0.1', 0);
  await m.pause();
  const run = m.run().then((exit) => { stub.machineEnded(); return exit; });
  const c = await rawClient(stub.port);
  try {
    c.packet('?');
    assert.match(await c.next(), /^T05/);
    const before = Buffer.from(m.mem.u8.subarray(0, 64));
    for (const bad of ['mzz,4', 'm100000', 'M0,4:00', 'M0,2:0000ff', 'X0,4', 'Xq,1:a', 'Z0,,1', 'Z2,100000,0', 'pzz', 'P8=12', 'cq']) {
      c.packet(bad);
      assert.equal(await c.next(), 'E01', bad);
    }
    assert.deepEqual(Buffer.from(m.mem.u8.subarray(0, 64)), before, 'no malformed write reached memory');
    c.send('$g#00'); // a wrong checksum: ignored, with a request to send again
    c.packet('m100030,2');
    assert.equal(await c.next(), 'ebfe'); // the kernel's jmp $ at its entry, read through the stub
    // The legacy VGA window (0xA0000, MMIO inside RAM's range): its device is not reached.
    c.packet('ma0000,4');
    assert.equal(await c.next(), 'E14');
    c.packet('Ma0000,1:00');
    assert.equal(await c.next(), 'E14');
    c.packet('qRcmd,6869'); // unknown: the empty reply
    assert.equal(await c.next(), '');
    c.packet('k');
  } finally {
    c.end();
  }
  assert.deepEqual(await run, { kind: 'stopped', detail: 'killed by gdb' });
  stub.close();
});
