// `typevisor run --record FILE` and `--replay FILE` end to end: a piped script recorded
// as it arrives, replayed without reading stdin to the same output; a replay from another
// command line refused (exit 1, one line); a log with a changed input byte reported as
// divergence (exit 6).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { haveGuest } from '../devices/virtio/guestBoot.js';

const cli = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
const SCRIPT = 'echo rec=$((6*7)); date -u; poweroff\n';

function typevisor(args: string[], input: string): { status: number | null; stdout: string; stderr: string } {
  // The timeout only guards against a hang (each run is about 110 M guest instructions).
  return spawnSync(process.execPath, [cli, 'run', '--memory', '32', ...args], { input, encoding: 'latin1', timeout: 300_000 });
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
