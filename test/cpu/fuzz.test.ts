// Bounded CPU fuzzing (the long run is scripts/fuzz-cpu.ts): random byte streams run
// as code in real mode, at ring 0 with paging, and at ring 3, each for a bounded number
// of instructions. Every outcome must be one the guest could see — the run returns
// (budget spent, HLT, triple-fault shutdown) with exceptions counted in excCounts — and
// the CPU's host-side state must stay in range. Anything cpu.run throws fails the test
// with the seed, the stream and its bytes.
//
// The streams of the protected modes also run on the binary translator, in lockstep with
// the interpreter: every outcome must be the same (lockstep.ts, fuzzLockstep).
//
// The seed is fixed so CI is reproducible; CPU_FUZZ_SEED=<n> or CPU_FUZZ_SEED=random
// picks another, CPU_FUZZ_STREAMS the number of streams per mode.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CpuFuzzer, FUZZ_MODES, checkCpuSanity, fuzzCpu, prng, streamSeed } from './harness.js';
import { fuzzLockstep } from './lockstep.js';
import { attachX87 } from '../../src/cpu/attachX87.js';
import { STOP_BUDGET, STOP_HALT, STOP_SHUTDOWN } from '../../src/cpu/constants.js';

const envSeed = process.env['CPU_FUZZ_SEED'];
const SEED = envSeed === undefined ? 0x7e57ab1e : envSeed === 'random' ? (Math.random() * 2 ** 32) >>> 0 : Number(envSeed) >>> 0;
const STREAMS = Number(process.env['CPU_FUZZ_STREAMS'] ?? 200);
const BUDGET = 1500;

test('the PRNG and stream seeds are deterministic', () => {
  const a = prng(42), b = prng(42);
  for (let i = 0; i < 100; i++) assert.equal(a(), b());
  assert.notEqual(streamSeed(1, 'real', 0), streamSeed(1, 'real', 1));
  assert.notEqual(streamSeed(1, 'real', 0), streamSeed(1, 'ring0', 0));
  assert.deepEqual(CpuFuzzer.stream(5, 'ring3', 7).bytes, CpuFuzzer.stream(5, 'ring3', 7).bytes);
});

test('a prepared machine starts sane in every mode', () => {
  const fz = new CpuFuzzer();
  for (const mode of FUZZ_MODES) {
    fz.prepare(CpuFuzzer.stream(1, mode, 0));
    assert.equal(checkCpuSanity(fz.cpu, fz.mem), '', mode);
    assert.equal(fz.cpu.cpl, mode === 'ring3' ? 3 : 0, mode);
  }
  // A stream of NOPs runs to the budget; a HLT at ring 0 halts; at ring 3 it is #GP.
  const nops = { mode: 'ring0' as const, index: 0, seed: 0, bytes: new Uint8Array(64).fill(0x90) };
  assert.equal(fz.run(nops, 10).stop, STOP_BUDGET);
  assert.equal(fz.run({ ...nops, bytes: Uint8Array.of(0xf4) }, 10).stop, STOP_HALT);
  const gp = fz.cpu.excCounts[13]!;
  assert.equal(fz.run({ ...nops, mode: 'ring3', bytes: Uint8Array.of(0xf4) }, 50).stop, STOP_BUDGET);
  assert.ok(fz.cpu.excCounts[13]! > gp, 'HLT at ring 3 raises #GP');
  // A fault with a broken IDT ends in a triple fault, which is a guest-visible stop.
  fz.prepare({ ...nops, bytes: Uint8Array.of(0x0f, 0x0b) });
  fz.cpu.idtLimit = 0;
  assert.equal(fz.cpu.run(10), STOP_SHUTDOWN);
});

test(`random byte streams never make the CPU throw (seed ${SEED}, ${STREAMS} streams per mode)`, (t) => {
  t.diagnostic(`cpu fuzz seed ${SEED} (replay: CPU_FUZZ_SEED=${SEED}, or npx tsx scripts/fuzz-cpu.ts --seed ${SEED})`);
  // With the x87 unit attached, so D8-DF streams reach it too.
  const r = fuzzCpu({ seed: SEED, streams: STREAMS, budget: BUDGET, setup: attachX87 });
  t.diagnostic(`${r.streams} streams, ${r.instructions} instructions in ${r.ms.toFixed(0)} ms; stops ${JSON.stringify(r.stops)}`);
  t.diagnostic(`#UD opcodes (top 10): ${r.undefinedOpcodes.slice(0, 10).map(([op, n]) => `${op}:${n}`).join(' ')}`);
  assert.equal(r.streams, STREAMS * FUZZ_MODES.length);
  // The streams did reach the interesting paths: faults of several kinds were delivered.
  for (const v of [6, 13, 14]) assert.ok(r.exceptions[v]! > 0, `no exception ${v} in ${r.streams} streams`);
});

test(`random byte streams run identically on the translator and the interpreter (seed ${SEED}, ${STREAMS} streams per protected mode)`, (t) => {
  const r = fuzzLockstep({ seed: SEED, streams: STREAMS, setup: attachX87 });
  t.diagnostic(`${r.streams} streams, ${r.instructions} instructions (${r.translated} translated, ${r.regionsCompiled} regions compiled) in ${r.ms.toFixed(0)} ms`);
  assert.equal(r.streams, STREAMS * 2);
  // The streams did run translated: the comparison covers the translator, not just the dispatcher.
  assert.ok(r.translated > r.instructions / 3, `only ${r.translated} of ${r.instructions} instructions were translated`);
});

test(`random SSE/SSE2 streams never make the CPU throw (seed ${SEED}, ${STREAMS} streams per mode)`, (t) => {
  const r = fuzzCpu({ seed: SEED, streams: STREAMS, budget: BUDGET, setup: attachX87, sse: true });
  t.diagnostic(`${r.streams} streams, ${r.instructions} instructions in ${r.ms.toFixed(0)} ms; stops ${JSON.stringify(r.stops)}`);
  t.diagnostic(`#UD opcodes (top 10): ${r.undefinedOpcodes.slice(0, 10).map(([op, n]) => `${op}:${n}`).join(' ')}`);
  assert.equal(r.streams, STREAMS * FUZZ_MODES.length);
  // They ran SSE instructions to completion and raised SIMD exceptions (#XM) and alignment faults.
  for (const v of [13, 19]) assert.ok(r.exceptions[v]! > 0, `no exception ${v} in ${r.streams} SSE streams`);
});

test(`random SSE/SSE2 streams run identically on the translator and the interpreter (seed ${SEED}, ${STREAMS} streams per protected mode)`, (t) => {
  const r = fuzzLockstep({ seed: SEED, streams: STREAMS, setup: attachX87, sse: true });
  t.diagnostic(`${r.streams} streams, ${r.instructions} instructions (${r.translated} translated, ${r.regionsCompiled} regions compiled) in ${r.ms.toFixed(0)} ms`);
  assert.equal(r.streams, STREAMS * 2);
});
