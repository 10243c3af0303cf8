// What `typevisor run` hands the host besides the serial console: the debug console
// (port 0xE9) on stderr byte for byte, and with --stats the POST codes of port 0x80.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { movAlImm8, movDxImm16, multibootKernel, outDxAl, powerOff } from '../boot/images.js';

const cli = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

/** Run a kernel made of `code` (then an ACPI power-off) through the CLI with --stats. */
function runKernel(code: number[]): { code: number | null; stderr: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'tv-cli-out-'));
  try {
    const kernel = join(dir, 'kernel.bin');
    writeFileSync(kernel, multibootKernel([...code, ...powerOff]));
    // The timeout only guards against a hang: the run takes a few thousand guest instructions.
    const r = spawnSync(process.execPath, [cli, 'run', '--kernel', kernel, '--memory', '16', '--stats'], { input: '', timeout: 300_000 });
    return { code: r.status, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the debug console hands every byte over unchanged (0x80-0xFF not UTF-8 encoded), as QEMU\'s isa-debugcon', () => {
  const bytes = [0x41, 0x80, 0xff, 0x00, 0xe9, 0xc3, 0x0a, 0x7f, 0xfe];
  const code = [...movDxImm16(0xe9)];
  for (const b of bytes) code.push(...movAlImm8(b), ...outDxAl);
  const r = runKernel(code);
  assert.equal(r.code, 0, r.stderr.toString('latin1'));
  assert.deepEqual([...r.stderr.subarray(0, bytes.length)], bytes, 'the bytes as written, first on stderr');
  assert.match(r.stderr.subarray(bytes.length).toString('latin1'), /^\n--- typevisor stats ---/, 'nothing else between them and the stats');
});

test('--stats shows the last POST code and the distinct codes in order, repeats collapsed, the last 64 with a note of the dropped', () => {
  // 0x10 twice, 0x20, then 0..99: 102 distinct entries, 103 writes, the last 0x63.
  const codes = [0x10, 0x10, 0x20, ...Array.from({ length: 100 }, (_, i) => i)];
  const code: number[] = [];
  for (const c of codes) code.push(...movAlImm8(c), 0xe6, 0x80); // out 0x80, al
  const r = runKernel(code);
  const text = r.stderr.toString('latin1');
  assert.equal(r.code, 0, text);
  assert.match(text, /POST codes \(port 0x80\): 103 writes, last 0x63\n/);
  assert.match(text, /distinct codes in order \(repeats collapsed; the last 64, 38 earlier dropped\):\n/);
  const hex = (from: number, to: number): string => Array.from({ length: to - from }, (_, i) => (from + i).toString(16).padStart(2, '0')).join(' ');
  assert.ok(text.includes(`\n    ${hex(36, 52)}\n    ${hex(52, 68)}\n    ${hex(68, 84)}\n    ${hex(84, 100)}\n`), text);
});

test('--stats says when no POST code was written', () => {
  const r = runKernel([]);
  assert.equal(r.code, 0);
  assert.match(r.stderr.toString('latin1'), /POST codes \(port 0x80\): none written\n/);
});
