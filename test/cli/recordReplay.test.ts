// `typevisor run --record FILE` and `--replay FILE` end to end: a piped script recorded
// as it arrives, replayed without reading stdin to the same output; a replay from another
// command line refused (exit 1, one line); a log with a changed input byte reported as
// divergence (exit 6). With --snapshot-every, a recording leaves snapshots that
// --replay --restore starts from; another recording's snapshot is refused.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { haveGuest } from '../devices/virtio/guestBoot.js';

const cli = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
const SCRIPT = 'echo rec=$((6*7)); date -u; poweroff\n';

function typevisor(args: string[], input: string): { status: number | null; stdout: string; stderr: string } {
  // The timeout only guards against a hang (each run is about 110 M guest instructions).
  // A start from a snapshot takes the memory size from it.
  const memory = args.includes('--restore') ? [] : ['--memory', '32'];
  return spawnSync(process.execPath, [cli, 'run', ...memory, ...args], { input, encoding: 'latin1', timeout: 300_000 });
}

test('typevisor run --record, then --replay: the same output without stdin; another start refused; a changed log diverges', { skip: haveGuest ? false : 'guest/bzImage not built' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tv-rr-'));
  try {
    const log = join(dir, 'run.log');
    const a = typevisor(['--record', log], SCRIPT);
    assert.equal(a.status, 0, a.stderr);
    assert.match(a.stdout, /rec=42/);
    const b = typevisor(['--replay', log], 'echo not-read; poweroff\n');
    assert.equal(b.status, 0, b.stderr);
    assert.equal(b.stdout, a.stdout);

    const c = typevisor(['--replay', log, '--append', 'console=ttyS0'], '');
    assert.equal(c.status, 1);
    assert.match(c.stderr, /^typevisor: replay log was recorded from another start: kernel command line \(SHA-256 prefix\): log [0-9a-f]{16}, run [0-9a-f]{16}\n$/);

    const bytes = readFileSync(log);
    const at = bytes.indexOf('rec=$');
    assert.ok(at > 0);
    bytes[at + 2] = 'x'.charCodeAt(0);
    const changed = join(dir, 'changed.log');
    writeFileSync(changed, bytes);
    const d = typevisor(['--replay', changed], '');
    assert.equal(d.status, 6, d.stderr);
    assert.match(d.stderr, /typevisor: replay diverged at instruction \d+: .*(RAM|registers)/);

    const e = typevisor(['--record', log, '--replay', log], '');
    assert.equal(e.status, 1);
    assert.match(e.stderr, /--record and --replay exclude each other/);
    const f = typevisor(['--record', log, '-s'], '');
    assert.equal(f.status, 1);
    assert.match(f.stderr, /--record and gdb exclude each other/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('typevisor run --record --snapshot-every, then --replay --restore: the rest of the run from a snapshot, checked; another recording\'s snapshot refused', { skip: haveGuest ? false : 'guest/bzImage not built' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tv-rr-snap-'));
  try {
    const log = join(dir, 'run.log');
    const a = typevisor(['--record', log, '--snapshot-every', '0.4'], 'echo first=$((6*7)); sleep 2; echo second=$((7*7)); poweroff\n');
    assert.equal(a.status, 0, a.stderr);
    const snaps = [...a.stderr.matchAll(/snapshot at instruction (\d+): .*--restore (\S+)\)/g)].map((m) => ({ count: Number(m[1]), prefix: m[2]! }));
    assert.ok(snaps.length >= 3, a.stderr);
    // In the guest's 2 s sleep (5 snapshots; the poweroff after it takes under 0.4 s):
    // after the boot and the first echo, before the second.
    const last = snaps[snaps.length - 3]!;
    const b = typevisor(['--replay', log, '--restore', last.prefix, '--stats'], '');
    assert.equal(b.status, 0, b.stderr);
    assert.match(b.stdout, /second=49/);
    assert.doesNotMatch(b.stdout, /Linux version|first=42/, 'no boot, no first echo: the run starts from the snapshot');
    assert.ok(a.stdout.endsWith(b.stdout.slice(-200)), 'the same end of output');
    // The first snapshot, mid-boot: its checkpoints are compared.
    const c = typevisor(['--replay', log, '--restore', snaps[0]!.prefix, '--stats'], '');
    assert.equal(c.status, 0, c.stderr);
    assert.match(c.stderr, /replay: [1-9]\d* checkpoints compared/);

    const other = join(dir, 'other.log');
    const d = typevisor(['--record', other], 'poweroff\n');
    assert.equal(d.status, 0, d.stderr);
    const e = typevisor(['--replay', other, '--restore', last.prefix], '');
    assert.equal(e.status, 1);
    assert.match(e.stderr, /^typevisor: .*\.state: the snapshot was taken during another recording \(at instruction \d+, after \d+ bytes of a log this one does not begin with\)\n$/);
    const f = typevisor(['--restore', last.prefix], '');
    assert.equal(f.status, 1);
    assert.match(f.stderr, /--restore starts a replay from a snapshot taken during its recording: give --replay FILE too/);
    const g = typevisor(['--replay', log, '--restore', last.prefix, '--kernel', log], '');
    assert.equal(g.status, 1);
    assert.match(g.stderr, /--restore and --kernel exclude each other/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('typevisor run --record with a drive notes its image: a replay with the image the recording wrote is refused, one with a copy of the start image replays', { skip: haveGuest ? false : 'guest/bzImage not built' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tv-rr-drive-'));
  try {
    const log = join(dir, 'run.log'), img = join(dir, 'disk.img'), start = join(dir, 'start.img');
    writeFileSync(img, Buffer.alloc(1 << 20));
    copyFileSync(img, start);
    const a = typevisor(['--record', log, '--drive', `file=${img}`], 'echo written > /dev/vda; sync; dd if=/dev/vda bs=8 count=1 2>/dev/null; echo; poweroff\n');
    assert.equal(a.status, 0, a.stderr);
    assert.match(a.stdout, /^written\r?$/m);
    const b = typevisor(['--replay', log, '--drive', `file=${img}`], '');
    assert.equal(b.status, 1);
    assert.match(b.stderr, /^typevisor: replay log was recorded from another start: drive 0 \(.*disk\.img\) is not the image the recording started with \(recorded 1048576 bytes, SHA-256 [0-9a-f]{16}\.\.\.; now 1048576 bytes, [0-9a-f]{16}\.\.\.\)\n$/);
    const c = typevisor(['--replay', log, '--drive', `file=${start}`], '');
    assert.equal(c.status, 0, c.stderr);
    assert.equal(c.stdout, a.stdout);
    const d = typevisor(['--replay', log], '');
    assert.equal(d.status, 1);
    assert.match(d.stderr, /the recording had 1 drive\(s\), this run has 0/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
