// The typevisor command's errors: one clear line on stderr, a distinct exit code, and
// never a stack trace.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'tv-cli-'));

function run(args: string[]): { code: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { input: '', encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stderr: r.stderr };
}

function expectError(args: string[], re: RegExp): void {
  const r = run(args);
  assert.equal(r.code, 1, `exit code for ${args.join(' ')}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^typevisor: /);
  assert.match(lines[0]!, re);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}

test('a missing kernel file is one clear line', () => {
  expectError(['run', '--kernel', join(dir, 'nope')], /kernel file not found/);
});

test('a file that is not a kernel names what was expected', () => {
  const f = join(dir, 'junk.bin');
  writeFileSync(f, Buffer.alloc(4096, 0x41));
  expectError(['run', '--kernel', f], /not a Linux bzImage.*multiboot.*ELF/);
});

test('bad numbers and unknown flags are usage errors', () => {
  expectError(['run', '--memory', 'lots'], /--memory takes a whole number/);
  expectError(['run', '--memory', '2'], /memory must be a whole number of MiB from 4/);
  expectError(['run', '--timeout=-3'], /--timeout takes a positive number/);
  expectError(['run', '--timeout', '-3'], /--timeout/);
  expectError(['run', '--frobnicate'], /frobnicate/);
  expectError(['fly'], /unknown command "fly"/);
  expectError(['run', '--drive', 'readonly'], /drive/);
  expectError(['run', '--virtio-transport', 'isa'], /--virtio-transport takes mmio or pci, got "isa"/);
});

test('--help prints usage and exits 0', () => {
  const r = spawnSync(process.execPath, [cli, 'run', '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.match(r.stdout, /usage: typevisor run/);
});
