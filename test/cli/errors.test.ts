// The typevisor command's errors: one clear line on stderr, a distinct exit code, and
// never a stack trace.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_GUEST_MIN_MIB } from '../../src/cli/main.js';
import { findExecutable } from '../../src/net/PasstBackend.js';

const cli = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'tv-cli-'));

function run(args: string[]): { code: number | null; stderr: string } {
  // The timeout guards against a hang only (these fail at once); a hang is a failure here.
  const r = spawnSync(process.execPath, [cli, ...args], { input: '', encoding: 'utf8', timeout: 120_000 });
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
  const kernel = join(dir, 'any.bin');
  writeFileSync(kernel, Buffer.alloc(4096));
  expectError(['run', '--kernel', kernel, '--memory', '2'], /memory must be a whole number of MiB from 4/);
  expectError(['run', '--timeout=-3'], /--timeout takes a positive number/);
  expectError(['run', '--timeout', '-3'], /--timeout/);
  expectError(['run', '--frobnicate'], /frobnicate/);
  expectError(['fly'], /unknown command "fly"/);
  expectError(['run', '--drive', 'readonly'], /drive/);
  expectError(['run', '--virtio-transport', 'isa'], /--virtio-transport takes mmio or pci, got "isa"/);
});

test('--deterministic refuses what cannot be deterministic, and --seed is checked', () => {
  expectError(['run', '--deterministic', '--realtime'], /--deterministic and --realtime exclude each other/);
  expectError(['run', '--seed', '3'], /--seed needs --deterministic/);
  expectError(['run', '--deterministic', '--seed', '0x10'], /--seed takes a whole number from 0 to 4294967295 in decimal digits, got "0x10"/);
  expectError(['run', '--deterministic', '--seed', '4294967296'], /--seed takes a whole number/);
  expectError(['run', '--deterministic', '--net', 'user'], /--net user: a deterministic run cannot take network frames/);
  expectError(['run', '--deterministic', '--net', 'tap,ifname=tv0'], /--net tap: a deterministic run cannot/);
  expectError(['run', '--deterministic', '--net', `switch,path=${join(dir, 'sw')}`], /--net switch: a deterministic run cannot/);
  expectError(['run', '--deterministic', '--vsock', `cid=3,path=${join(dir, 'v.sock')}`], /--vsock: a deterministic run cannot/);
});

test('--gdb: a bad address, -S without a stub, a port in use are usage errors', async () => {
  expectError(['run', '--gdb', 'tcp:1234'], /--gdb takes tcp::PORT or tcp:HOST:PORT/);
  expectError(['run', '--gdb', 'tcp::99999'], /--gdb takes tcp::PORT/);
  expectError(['run', '-S'], /-S waits for gdb: give --gdb tcp::PORT or -s too/);
  expectError(['run', '-s', '--gdb', 'tcp::1235'], /--gdb and -s exclude each other/);
  const held = createServer();
  await new Promise<void>((r) => held.listen(0, '127.0.0.1', r));
  try {
    const port = (held.address() as AddressInfo).port;
    expectError(['run', '--gdb', `tcp::${port}`], new RegExp(`--gdb: cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
  } finally {
    held.close();
  }
});

test('--help prints usage and exits 0', () => {
  const r = spawnSync(process.execPath, [cli, 'run', '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.match(r.stdout, /usage: typevisor run/);
});

test('--memory: plain decimal digits only, an empty value is missing, and the default guest is refused below its minimum', () => {
  expectError(['run', '--memory', '1e3'], /--memory takes a whole number of MiB in decimal digits, got "1e3"/);
  expectError(['run', '--memory', '0x80'], /got "0x80"/);
  expectError(['run', '--memory', ' 64'], /got " 64"/);
  expectError(['run', '--memory', '-8'], /--memory/);
  expectError(['run', '--memory='], /--memory: missing value/);
  expectError(['run', '--memory', String(DEFAULT_GUEST_MIN_MIB - 1)], new RegExp(`the default guest needs at least ${DEFAULT_GUEST_MIN_MIB} MiB of RAM.*got --memory ${DEFAULT_GUEST_MIN_MIB - 1}$`));
  expectError(['run', '--memory', '2'], new RegExp(`the default guest needs at least ${DEFAULT_GUEST_MIN_MIB} MiB`));
});

test('the README gives the default guest\'s minimum the CLI enforces', () => {
  const readme = readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), '../../../README.md'), 'utf8');
  const row = readme.split('\n').find((l) => l.startsWith('| `--memory MIB`'));
  assert.ok(row, 'the --memory row');
  assert.match(row, new RegExp(`default guest is refused below ${DEFAULT_GUEST_MIN_MIB} MiB`));
});

test('kernel, initrd and firmware files that cannot be read are bad input naming the file and the cause', { skip: existsSync('/proc/self/mem') ? false : 'no /proc/self/mem' }, () => {
  // /proc/self/mem stats as an empty regular file; reading it fails with EIO.
  expectError(['run', '--kernel', '/proc/self/mem'], /^typevisor: kernel \/proc\/self\/mem cannot be read: EIO/);
  expectError(['run', '--initrd', '/proc/self/mem'], /initrd \/proc\/self\/mem cannot be read: EIO/);
  expectError(['run', '--bios', '/proc/self/mem'], /firmware \/proc\/self\/mem cannot be read: EIO/);
});

test('a kernel or initrd over 2 GiB is refused with its size, not read', () => {
  const big = join(dir, 'big.img');
  writeFileSync(big, '');
  truncateSync(big, 3 * 2 ** 30); // sparse: no disk space
  expectError(['run', '--kernel', big], /kernel .*big\.img is 3\.0 GiB; typevisor reads kernel, initrd and firmware files of up to 2 GiB/);
  expectError(['run', '--initrd', big], /initrd .*big\.img is 3\.0 GiB/);
  expectError(['run', '--bios', big], /firmware .*big\.img is 3\.0 GiB/);
  rmSync(big);
});

test('a named pipe as a kernel is refused at once, not opened', { skip: process.platform === 'win32' ? 'no mkfifo' : false }, () => {
  const fifo = join(dir, 'kernel.fifo');
  execFileSync('mkfifo', [fifo]);
  expectError(['run', '--kernel', fifo], /kernel is not a regular file/);
});

test('a drive must be a regular file or block device: a named pipe is refused at once (it used to hang), an unreadable image at start', { skip: process.platform === 'win32' ? 'no mkfifo' : false }, () => {
  const fifo = join(dir, 'drive.fifo');
  execFileSync('mkfifo', [fifo]);
  expectError(['run', '--drive', `file=${fifo},readonly`], /--drive .*drive\.fifo: not a regular file or block device/);
  expectError(['run', '--drive', `file=${fifo}`], /not a regular file or block device/);
  expectError(['run', '--drive', `file=${dir}`], /not a regular file or block device/);
  if (existsSync('/proc/self/mem')) expectError(['run', '--drive', 'file=/proc/self/mem,readonly'], /--drive \/proc\/self\/mem: cannot be read \(EIO\)/);
});

test('--net user,hostfwd with the host port already in use is refused (it started silently, the forward going nowhere)', { skip: findExecutable('passt') === null ? 'passt is not installed' : false }, async () => {
  const holder = createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
  const port = (holder.address() as AddressInfo).port;
  try {
    // spawnSync would block this process's event loop, and with it the holder socket's accept: spawn.
    // --timeout: a hang guard only (the refusal comes before the guest starts).
    const child = spawn(process.execPath, [cli, 'run', '--net', `user,hostfwd=tcp::${port}-:80`, '--timeout', '300'], { stdio: ['pipe', 'ignore', 'pipe'] });
    child.stdin.end();
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    assert.equal(code, 1, stderr);
    assert.equal(stderr.trim().split('\n').length, 1, stderr);
    assert.match(stderr, new RegExp(`^typevisor: --net user: hostfwd=tcp::${port}-:80: cannot listen on host TCP port ${port} \\(0\\.0\\.0\\.0\\): it is already in use on the host\n$`));
  } finally {
    holder.close();
  }
});
