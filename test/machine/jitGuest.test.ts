// The default guest on the binary translator in lockstep with the interpreter: two
// machines of the same configuration (cpu 'interp' and 'jit', fast pacing, the same RTC
// time), stepped to the same instruction counts (machineLockstep.ts), boot Linux to the
// shell, run a few commands typed into both at the same instruction, and power off. At
// every checkpoint (every 2-5 M instructions) the CPU state, the virtual clock and the
// serial output must be the same; guest RAM is compared every few checkpoints and at the
// end.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import type { Machine, MachineConfig } from '../../src/machine/Machine.js';
import { digestDiff } from '../cpu/lockstep.js';
import { prng } from '../cpu/harness.js';
import { machineAt, machineDigest, runTo } from './machineLockstep.js';
import { PROMPT } from './serialSession.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const HANG_GUARD_MS = 900_000;
/** The boot takes about 100 M instructions, the commands about 45 M. */
const MAX_INSTRUCTIONS = 300_000_000;
const MEMORY_EVERY = 8;

/** What is typed once the output matches `after` (searched from where the previous step's match ended). */
const SCRIPT: { after: RegExp; send: string }[] = [
  { after: PROMPT, send: 'uname -sm; echo sum=$((40+2))\n' },
  { after: PROMPT, send: 'i=0; while [ $i -lt 300 ]; do i=$((i+1)); done; echo loop=$i; ls /proc | wc -l; md5sum /bin/busybox\n' },
  { after: PROMPT, send: 'cat /proc/interrupts /proc/meminfo | wc -l; poweroff\n' },
];

test('the default guest boots, runs commands and powers off on the translator, in lockstep with the interpreter', { timeout: HANG_GUARD_MS }, async (t) => {
  const config: MachineConfig = {
    memoryMiB: 32,
    pacing: 'fast',
    kernel: new Uint8Array(readFileSync(resolve(root, 'guest/bzImage'))),
    initrd: new Uint8Array(readFileSync(resolve(root, 'guest/initramfs.cpio.gz'))),
    cmdline: 'console=ttyS0 panic=-1',
  };
  const epoch = Date.UTC(2024, 0, 1);
  const machines = [machineAt({ ...config, cpu: 'interp' }, epoch), machineAt({ ...config, cpu: 'jit' }, epoch)] as const;
  const [interp, jit] = machines;
  const text = ['', ''];
  machines.forEach((m, i) => { m.onSerialOutput = (b) => { text[i] += Buffer.from(b).toString('latin1'); }; });
  const rnd = prng(0x10c5);
  let step = 0, at = 0, from = 0;
  const fail = (what: string): never => assert.fail(`after ${interp.cpu.instructions} instructions (checkpoint ${step}): ${what}\nserial output tail:\n${text[0]!.slice(-800)}`);
  const t0 = performance.now();
  while (interp.exitReason === null || jit.exitReason === null) {
    if (interp.cpu.instructions >= MAX_INSTRUCTIONS) fail(`the script did not finish (${at} of ${SCRIPT.length} commands typed)`);
    const target = interp.cpu.instructions + 2_000_000 + (rnd() % 3_000_000);
    const ends = machines.map((m: Machine) => runTo(m, target));
    await new Promise((r) => setImmediate(r)); // serial output batched to the end of the task
    step++;
    const last = interp.exitReason !== null || jit.exitReason !== null;
    const diff = digestDiff(machineDigest(interp, last || step % MEMORY_EVERY === 0), machineDigest(jit, last || step % MEMORY_EVERY === 0));
    if (ends[0] !== ends[1] || diff !== '') {
      fail(`the translator's machine diverged: the run stopped with ${ends[0]} / ${ends[1]} ` +
        `(exit ${JSON.stringify(interp.exitReason)} / ${JSON.stringify(jit.exitReason)})\n${diff}`);
    }
    if (ends[0] === 'shutdown' || ends[0] === 'dead') fail(`the guest stopped: ${ends[0]}`);
    if (text[0] !== text[1]) fail(`serial output differs; the translator's tail:\n${text[1]!.slice(-800)}`);
    if (at < SCRIPT.length) {
      const m = text[0]!.slice(from).match(SCRIPT[at]!.after);
      if (m) {
        from += (m.index ?? 0) + m[0].length;
        for (const x of machines) x.serialInput(Buffer.from(SCRIPT[at]!.send));
        t.diagnostic(`typed command ${at} at ${interp.cpu.instructions} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
        at++;
      }
    }
  }
  assert.deepEqual(interp.exitReason, { kind: 'poweroff' });
  assert.deepEqual(jit.exitReason, { kind: 'poweroff' });
  const out = text[1]!;
  assert.match(out, /Linux i686/);
  assert.match(out, /sum=42/);
  assert.match(out, /loop=300/);
  assert.match(out, /[0-9a-f]{32}/);
  const st = jit.translator!.stats;
  t.diagnostic(`${interp.cpu.instructions} instructions, ${step} checkpoints in ${((performance.now() - t0) / 1000).toFixed(1)} s; ` +
    `translator: ${st.regionsCompiled} regions compiled, ${st.translatedInsns} instructions translated, ${st.invalidations} invalidations`);
  assert.ok(st.translatedInsns > interp.cpu.instructions / 2, 'most of the guest ran translated');
});
