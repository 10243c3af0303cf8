// Snapshot benchmark: restore-to-running time of the default guest (128 MiB, booted to
// its shell prompt and snapshotted there) next to a fresh boot of the same guest to the
// prompt. Issue #6's goal: restore under 20 ms.
//   - fresh boot: an in-process Machine, fast pacing, from construction to the prompt;
//   - restore (warm): Machine.restore in this process (code already compiled by the boot),
//     timed from the call to the first CPU slice of the restored guest, with the memory
//     CRC checked (the default) and without; then to the shell's answer to a command;
//   - restore (cold): the same in a fresh Node process (nothing compiled yet), timed in
//     the child from the Machine.restore call, plus the child's whole wall time from
//     spawn to the shell's answer (Node start-up and module loading included).
// Also reported: the time to write the snapshot and the size of its files (the memory
// file is sparse: only non-zero pages take space).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Machine } from '../src/machine/Machine.js';
import { BenchArgs, isMain } from './args.js';
import { CMDLINE, MEMORY_MIB } from './boot.js';
import { median } from './report.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const PROMPT = 'typevisor:/# ';
const REPS = 5;

export interface SnapshotBenchReport {
  memoryMiB: number;
  bootToPromptMs: number;
  save: { ms: number; stateBytes: number; memoryDataBytes: number; memoryFileBlocksBytes: number };
  /** Medians over REPS restores. */
  warm: { toRunningMs: number; toRunningNoVerifyMs: number; toAnswerMs: number; runs: number[] };
  cold: { toRunningMs: number; toAnswerMs: number; processWallMs: number } | { error: string };
  ratio: number;
}

/** Resolve when `text` appears in the machine's serial output. */
function serialWait(m: Machine, text: string, ms: number): Promise<void> {
  let out = '';
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no "${text}" within ${ms} ms; tail: ${out.slice(-300)}`)), ms);
    m.onSerialOutput = (b) => {
      out += Buffer.from(b).toString('latin1');
      if (out.includes(text)) { clearTimeout(t); resolve(); }
    };
  });
}

/** Restore, run, have the shell answer; ms from the restore call to the first slice and to the answer. */
export async function timeRestore(state: string, mem: string, verifyMemory: boolean): Promise<{ toRunning: number; toAnswer: number }> {
  const t0 = performance.now();
  const m = await Machine.restore(state, mem, { pacing: 'fast', verifyMemory });
  let running = 0;
  const slice = m.cpu.run;
  m.cpu.run = (budget: number): number => {
    running = performance.now();
    m.cpu.run = slice;
    return slice.call(m.cpu, budget);
  };
  m.externalInputOpen = true;
  const answered = serialWait(m, 'bench-42', 60_000);
  const done = m.run();
  m.serialInput(Buffer.from('echo bench-$((6*7))\n'));
  await answered;
  const toAnswer = performance.now() - t0;
  m.stop('done');
  await done;
  return { toRunning: running - t0, toAnswer };
}

export async function benchSnapshot(opts: { log?: (l: string) => void } = {}): Promise<SnapshotBenchReport> {
  const log = opts.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'typevisor-bench-snap-'));
  const state = join(dir, 'vm.state');
  const mem = join(dir, 'vm.mem');
  try {
    log(`snapshot: booting the default guest (${MEMORY_MIB} MiB) to its prompt...`);
    const t0 = performance.now();
    const m = new Machine({
      memoryMiB: MEMORY_MIB, pacing: 'fast', cmdline: CMDLINE,
      kernel: new Uint8Array(readFileSync(join(ROOT, 'guest/bzImage'))),
      initrd: new Uint8Array(readFileSync(join(ROOT, 'guest/initramfs.cpio.gz'))),
    });
    m.externalInputOpen = true;
    const prompt = serialWait(m, PROMPT, 600_000);
    const done = m.run();
    await prompt;
    const bootToPromptMs = performance.now() - t0;
    const saved = await m.saveSnapshot(state, mem);
    m.stop('snapshot taken');
    await done;
    log(`snapshot: boot ${(bootToPromptMs / 1000).toFixed(2)} s, snapshot written in ${saved.ms.toFixed(1)} ms`);

    const runs: number[] = [];
    const noVerify: number[] = [];
    const answers: number[] = [];
    for (let i = 0; i < REPS; i++) {
      const a = await timeRestore(state, mem, true);
      runs.push(a.toRunning);
      answers.push(a.toAnswer);
      noVerify.push((await timeRestore(state, mem, false)).toRunning);
    }
    log(`snapshot: warm restores ${runs.map((r) => r.toFixed(1)).join(' ')} ms`);

    let cold: SnapshotBenchReport['cold'];
    const c0 = performance.now();
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', state, mem], { encoding: 'utf8', timeout: 120_000 });
    const processWallMs = performance.now() - c0;
    try {
      const r = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '') as { toRunning: number; toAnswer: number };
      cold = { toRunningMs: r.toRunning, toAnswerMs: r.toAnswer, processWallMs };
    } catch {
      cold = { error: `child failed (${child.status}): ${(child.stderr || child.stdout).slice(-300)}` };
    }
    const toRunningMs = median(runs)!;
    return {
      memoryMiB: MEMORY_MIB,
      bootToPromptMs,
      save: { ms: saved.ms, stateBytes: saved.stateBytes, memoryDataBytes: saved.memoryDataBytes, memoryFileBlocksBytes: statSync(mem).blocks * 512 },
      warm: { toRunningMs, toRunningNoVerifyMs: median(noVerify)!, toAnswerMs: median(answers)!, runs },
      cold,
      ratio: bootToPromptMs / toRunningMs,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatSnapshotReport(r: SnapshotBenchReport): string[] {
  const mib = (b: number): string => `${(b / 1048576).toFixed(1)} MiB`;
  const ms = (x: number): string => `${x.toFixed(1)} ms`;
  return [
    `snapshot benchmark: default guest, ${r.memoryMiB} MiB, snapshotted at its shell prompt (goal: restore to running under 20 ms)`,
    `  fresh boot to the prompt          ${(r.bootToPromptMs / 1000).toFixed(2)} s`,
    `  snapshot written                  ${ms(r.save.ms)}: state ${(r.save.stateBytes / 1024).toFixed(0)} KiB, memory ${mib(r.save.memoryDataBytes)} of data in a sparse ${r.memoryMiB} MiB file (${mib(r.save.memoryFileBlocksBytes)} on disk)`,
    `  restore to running (warm)         ${ms(r.warm.toRunningMs)} median of ${r.warm.runs.length} (memory CRC checked; ${ms(r.warm.toRunningNoVerifyMs)} without)   runs ${r.warm.runs.map((x) => x.toFixed(1)).join(' ')}`,
    `  restore to the shell's answer     ${ms(r.warm.toAnswerMs)}`,
    'error' in r.cold
      ? `  restore in a fresh process        ${r.cold.error}`
      : `  restore in a fresh process        ${ms(r.cold.toRunningMs)} to running, ${ms(r.cold.toAnswerMs)} to the answer; ${ms(r.cold.processWallMs)} from spawn (Node start-up included)`,
    `  fresh boot / restore = ${r.ratio.toFixed(0)}x`,
  ];
}

// Run directly: node dist/bench/snapshot.js [--json]; child mode (the cold restore):
// node dist/bench/snapshot.js --child STATE MEM
if (isMain(import.meta.url) && process.argv[2] === '--child') {
  timeRestore(process.argv[3]!, process.argv[4]!, true).then((r) => {
    console.log(JSON.stringify(r));
    process.exit(0);
  }, (e: unknown) => {
    console.error((e as Error).message);
    process.exit(1);
  });
} else if (isMain(import.meta.url)) {
  const a = new BenchArgs('node dist/bench/snapshot.js [--json]', []);
  a.report(benchSnapshot({ log: a.log }), formatSnapshotReport);
}
