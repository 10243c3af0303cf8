// The self-checking guest programs of test/cpu/asm/: each one runs from real mode,
// checks a part of the architecture and reports through port 0xF4 (0 = every check
// passed, otherwise the number of the first failed check) with text on port 0xE9.
// The committed .bin files are what runs; scripts/build-asm.sh rebuilds them.
//
// Each program runs on the interpreter, and again on the binary translator in lockstep
// with the interpreter (test/cpu/lockstep.ts): a low translation threshold (100) gets
// its loops translated; both engines must pass, with the same state after every step.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cpu } from '../../src/cpu/Cpu.js';
import { attachX87 } from '../../src/cpu/attachX87.js';
import { describeRun, loadFlat, programPath, repoRoot, runProgram, type RunOptions } from './harness.js';
import { flatSide, lockstep } from './lockstep.js';

/** The x87 unit lives apart from the core (src/cpu/attachX87); the FPU programs attach it. */
function withX87(cpu: Cpu): void {
  if (cpu.fpu === null) attachX87(cpu);
}

interface Program {
  name: string;
  /** Lines the program prints on a successful run, in order. */
  expect: string[];
  ram?: number;
  /** Marks the test as todo with this reason while a needed unit is missing. */
  todo?: () => string | undefined;
  setup?: RunOptions['setup'];
  /** Instructions allowed (default BUDGET). */
  budget?: number;
}

const PROGRAMS: Program[] = [
  { name: 'pm', expect: ['pm: real mode', 'pm: protected mode', 'pm: back to real mode', 'pm: ok'] },
  { name: 'paging', expect: ['paging: on', 'paging: demand faults', 'paging: write protect', 'paging: tlb', 'paging: ok'] },
  { name: 'strings', expect: ['strings: real mode', 'strings: protected mode', 'strings: outs ok', 'strings: faults', 'strings: ok'] },
  { name: 'arith', expect: ['arith: carry chains', 'arith: multiply', 'arith: divide', 'arith: divide errors', 'arith: flags and atomics', 'arith: ok'] },
  { name: 'flags', expect: ['flags: differential hashes', 'flags: ok'] },
  { name: 'decode', expect: ['decode: addressing forms', 'decode: ok'] },
  { name: 'descriptors', expect: ['descriptors: cpl 0', 'descriptors: ok'] },
  { name: 'pagediff', expect: ['pagediff: cpl 0', 'pagediff: ok'] },
  {
    name: 'pae',
    expect: ['pae: 32-bit accessed/dirty', 'pae: on', 'pae: 2 MiB pages', 'pae: reserved bits', 'pae: nx', 'pae: global pages', 'pae: pdptes', 'pae: ok'],
  },
  { name: 'tasks', expect: ['tasks: double fault', 'tasks: ok'] },
  { name: 'misc', expect: ['misc: shifts', 'misc: bits', 'misc: stack', 'misc: code', 'misc: paging', 'misc: system', 'misc: ok'] },
  {
    name: 'x87',
    expect: ['x87: start', 'x87: sqrt pi sin', 'x87: bcd', 'x87: fsave', 'x87: exceptions', 'x87: nm mf', 'x87: ok'],
    setup: withX87,
  },
  {
    name: 'x87diff',
    expect: ['x87diff: differential hashes', 'x87diff: ok'],
    setup: withX87,
  },
  { name: 'ring3', expect: ['ring3: iret to ring 3', 'ring3: user I/O', 'ring3: ok'] },
  {
    name: 'sse',
    expect: ['sse: environment', 'sse: fxsave', 'sse: known results', 'sse: differential hashes', 'sse: ok'],
    setup: withX87,
    budget: 60_000_000,
  },
];

const BUDGET = 20_000_000;

function checkOutput(p: Program, output: string): void {
  let at = 0;
  for (const line of p.expect) {
    const i = output.indexOf(line + '\n', at);
    assert.ok(i >= 0, `${p.name}: expected "${line}" in the output (in order):\n${output}`);
    at = i + line.length + 1;
  }
}

for (const p of PROGRAMS) {
  const todo = p.todo?.();
  test(`program ${p.name}.asm passes its checks`, todo !== undefined ? { todo } : {}, () => {
    const r = runProgram(p.name, { ram: p.ram ?? 4 << 20, budget: p.budget ?? BUDGET, ...(p.setup ? { setup: p.setup } : {}) });
    assert.equal(r.exitCode, 0, `${p.name} failed: ${describeRun(r)}`);
    checkOutput(p, r.output);
  });
}

// On the translator, after the interpreter's runs. flags.asm, which translates the most
// code, goes last.
for (const p of [...PROGRAMS].sort((a, b) => Number(a.name === 'flags') - Number(b.name === 'flags'))) {
  const todo = p.todo?.();
  test(`program ${p.name}.asm passes on the translator, in lockstep with the interpreter`, todo !== undefined ? { todo } : {}, (t) => {
    const bin = new Uint8Array(readFileSync(programPath(p.name)));
    const opts: RunOptions = { ram: p.ram ?? 4 << 20, ...(p.setup ? { setup: p.setup } : {}) };
    const interp = loadFlat(bin, opts);
    const jit = loadFlat(bin, { ...opts, jit: { threshold: 100 } });
    const r = lockstep(flatSide(interp), flatSide(jit), {
      budget: p.budget ?? BUDGET, step: { min: 100, max: 8000, seed: p.name.length }, memoryEvery: 64, label: `${p.name}.asm`,
      until: () => interp.exitCode >= 0,
    });
    const st = jit.translator!.stats;
    t.diagnostic(`${r.instructions} instructions in ${r.steps} steps; translator: ${st.regionsCompiled} regions compiled, ` +
      `${st.translatedInsns} instructions translated, ${st.invalidations} invalidations`);
    assert.equal(jit.exitCode, 0, `${p.name} failed on the translator: exit ${jit.exitCode}\n${jit.output}`);
    checkOutput(p, jit.output);
  });
}

// The optimizing tier: regions recompiled by TurboFan as soon as they have run a little
// (Translator's tierUpInsnsPerByte) and swapped in while the program runs, in lockstep.
for (const name of ['arith', 'strings', 'paging']) {
  test(`program ${name}.asm passes on the translator with its regions recompiled by the optimizing compiler, in lockstep`, (t) => {
    const p = PROGRAMS.find((x) => x.name === name)!;
    const bin = new Uint8Array(readFileSync(programPath(name)));
    const opts: RunOptions = { ram: p.ram ?? 4 << 20, ...(p.setup ? { setup: p.setup } : {}) };
    const interp = loadFlat(bin, opts);
    const jit = loadFlat(bin, { ...opts, jit: { threshold: 100, tierUpInsnsPerByte: 0.5 } });
    lockstep(flatSide(interp), flatSide(jit), {
      budget: BUDGET, step: { min: 100, max: 8000, seed: name.length }, memoryEvery: 64, label: `${name}.asm (optimized)`,
      until: () => interp.exitCode >= 0,
    });
    const st = jit.translator!.stats;
    t.diagnostic(`${st.regionsOptimized} of ${st.regionsCompiled} regions recompiled by the optimizing compiler`);
    assert.ok(st.regionsOptimized > 0, 'some region was recompiled by the optimizing compiler');
    assert.equal(jit.exitCode, 0, `${name} failed on the translator: exit ${jit.exitCode}\n${jit.output}`);
    checkOutput(p, jit.output);
  });
}

test('every program in test/cpu/asm has a test', () => {
  const dir = join(repoRoot(), 'test', 'cpu', 'asm');
  const sources = readdirSync(dir).filter((f) => f.endsWith('.asm')).map((f) => f.slice(0, -4)).sort();
  assert.deepEqual(sources, PROGRAMS.map((p) => p.name).sort());
});

function hasNasm(): boolean {
  try {
    execFileSync('nasm', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const nasm = hasNasm();
test('the committed .bin files match their .asm sources', nasm ? {} : { skip: 'nasm not installed (apt-get install nasm)' }, () => {
  // The test programs and the benchmark guest (bench/asm), as scripts/build-asm.sh builds them.
  const dirs = [join(repoRoot(), 'test', 'cpu', 'asm'), join(repoRoot(), 'bench', 'asm')];
  const tmp = mkdtempSync(join(tmpdir(), 'typevisor-asm-'));
  try {
    const stale: string[] = [];
    for (const dir of dirs) {
      if (!existsSync(dir)) continue;
      for (const src of readdirSync(dir).filter((f) => f.endsWith('.asm'))) {
        const name = src.slice(0, -4);
        const out = join(tmp, `${name}.bin`);
        execFileSync('nasm', ['-f', 'bin', '-I', dir + '/', '-o', out, join(dir, src)], { stdio: 'pipe' });
        const committed = join(dir, `${name}.bin`);
        if (!existsSync(committed) || !readFileSync(out).equals(readFileSync(committed))) stale.push(committed);
      }
    }
    assert.deepEqual(stale, [], `stale .bin files (run scripts/build-asm.sh): ${stale.join(', ')}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
