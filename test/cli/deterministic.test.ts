// `typevisor run --deterministic` end to end: the default guest driven by a piped script
// (read whole, given at power-on) with virtio-rng prints the same bytes and retires the
// same number of instructions in two runs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { haveGuest } from '../devices/virtio/guestBoot.js';

const cli = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
const SCRIPT = 'cat /proc/sys/kernel/random/boot_id; date -u; echo done=$((6*7)); poweroff\n';

function run(): { stdout: string; instructions: string } {
  // The timeout only guards against a hang (the run is about 110 M guest instructions).
  const r = spawnSync(process.execPath, [cli, 'run', '--deterministic', '--rng', '--memory', '32', '--stats'], { input: SCRIPT, encoding: 'latin1', timeout: 300_000 });
  assert.equal(r.status, 0, r.stderr);
  const m = /guest instructions: (\d+)/.exec(r.stderr);
  assert.ok(m, r.stderr);
  return { stdout: r.stdout, instructions: m[1]! };
}

test('typevisor run --deterministic with piped input: the same output and instruction count twice', { skip: haveGuest ? false : 'guest/bzImage not built' }, () => {
  const a = run();
  const b = run();
  assert.match(a.stdout, /done=42/);
  assert.match(a.stdout, /Mon Jan {2}1 00:00:0\d UTC 2024/);
  assert.equal(b.stdout, a.stdout);
  assert.equal(b.instructions, a.instructions);
});
