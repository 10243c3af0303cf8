// Long CPU fuzz run: random byte streams executed in real mode, at ring 0 (32-bit,
// paging on) and at ring 3; fails on anything cpu.run throws or on host-side state out
// of range (see test/cpu/harness.ts). The bounded version runs in `npm test`
// (test/cpu/fuzz.test.ts).
//
//   npx tsx scripts/fuzz-cpu.ts [--iterations N] [--seed S] [--budget I] [--mode real|ring0|ring3]
//   npx tsx scripts/fuzz-cpu.ts --seed S --mode M --stream K     replay one stream
//   npx tsx scripts/fuzz-cpu.ts --jit [--threshold T] ...         the protected-mode streams on
//                                 the binary translator in lockstep with the interpreter
//                                 (test/cpu/lockstep.ts): every outcome must be the same
//
// --iterations is the number of streams per mode (default 20000); the seed defaults to
// a random one and is printed first, so any failure can be replayed. With --jit each
// stream's budget is its own (fuzzLockstepBudget) and --budget is not used.

import { CpuFuzzer, FUZZ_MODES, FuzzFailure, fuzzCpu, type FuzzMode } from '../test/cpu/harness.js';
import { fuzzLockstep } from '../test/cpu/lockstep.js';
import { attachX87 } from '../src/cpu/attachX87.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const seed = arg('seed') !== undefined ? Number(arg('seed')) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
const iterations = Number(arg('iterations') ?? 20000);
const budget = Number(arg('budget') ?? 5000);
const modeArg = arg('mode');
if (modeArg !== undefined && !FUZZ_MODES.includes(modeArg as FuzzMode)) {
  console.error(`unknown mode ${modeArg}; one of ${FUZZ_MODES.join(', ')}`);
  process.exit(2);
}
const modes: readonly FuzzMode[] = modeArg !== undefined ? [modeArg as FuzzMode] : FUZZ_MODES;
const stream = arg('stream');
const jit = process.argv.includes('--jit');
const threshold = Number(arg('threshold') ?? 4);

console.log(`cpu fuzz: seed ${seed}, ${stream !== undefined ? `stream ${stream}` : `${iterations} streams per mode`}, budget ${budget} instructions, modes ${modes.join(' ')}, x87 unit attached`);
try {
  if (jit) {
    const jitModes = modes.filter((m) => m !== 'real'); // the translator runs flat protected mode only
    const chunk = 500;
    const n = stream !== undefined ? 1 : iterations;
    const from = stream !== undefined ? Number(stream) : 0;
    let total = 0, instructions = 0, translated = 0, ms = 0;
    for (let first = from; first < from + n; first += chunk) {
      const r = fuzzLockstep({ seed, streams: Math.min(chunk, from + n - first), modes: jitModes, threshold, first, setup: attachX87 });
      total += r.streams; instructions += r.instructions; translated += r.translated; ms += r.ms;
      console.log(`  ${total} streams, ${(instructions / 1e6).toFixed(1)} M instructions (${(translated / 1e6).toFixed(1)} M translated), ${(ms / 1000).toFixed(1)} s`);
    }
    console.log(`ok: ${total} streams ran identically on the translator (threshold ${threshold}) and the interpreter`);
  } else if (stream !== undefined) {
    const fz = new CpuFuzzer(attachX87);
    for (const mode of modes) {
      const s = CpuFuzzer.stream(seed, mode, Number(stream));
      const out = fz.run(s, budget);
      console.log(`${mode} stream ${stream}: stop ${out.stop} after ${out.instructions} instructions, eip ${(fz.cpu.eip >>> 0).toString(16)}, cpl ${fz.cpu.cpl}`);
    }
  } else {
    // In chunks, to show progress on long runs.
    const chunk = 2000;
    let total = 0, instructions = 0, ms = 0;
    const stops: Record<string, number> = {};
    const exceptions = new Array<number>(32).fill(0);
    const ud = new Map<string, number>();
    for (let first = 0; first < iterations; first += chunk) {
      const r = fuzzCpu({ seed, streams: Math.min(chunk, iterations - first), budget, modes, first, setup: attachX87 });
      total += r.streams; instructions += r.instructions; ms += r.ms;
      for (const [k, v] of Object.entries(r.stops)) stops[k] = (stops[k] ?? 0) + v;
      r.exceptions.forEach((n, v) => { exceptions[v]! += n; });
      for (const [op, n] of r.undefinedOpcodes) ud.set(op, (ud.get(op) ?? 0) + n);
      console.log(`  ${total} streams, ${(instructions / 1e6).toFixed(1)} M instructions, ${(ms / 1000).toFixed(1)} s`);
    }
    console.log('stops:', stops);
    console.log('exceptions by vector:', Object.fromEntries(exceptions.map((n, v) => [v, n]).filter(([, n]) => n! > 0)));
    console.log('#UD by opcode (top 20):', [...ud].sort((a, b) => b[1] - a[1]).slice(0, 20).map(([op, n]) => `${op}:${n}`).join(' '));
    console.log(`ok: ${total} streams without a host-side failure`);
  }
} catch (e) {
  if (e instanceof FuzzFailure) {
    console.error(e.message);
    process.exit(1);
  }
  throw e;
}
