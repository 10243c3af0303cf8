// CPU micro-benchmark: one guest compute loop (bench/asm/cpuloop.asm: 32-bit protected
// mode with paging on, a checksum over a 64 KiB buffer, nested loops over a matrix in
// memory, calls with stack frames) run on typevisor's software CPU for a fixed number
// of guest instructions, reported as guest MIPS (median of several runs) for each of its
// engines (the binary translator, the default, and the interpreter alone; a translator
// run includes its compile time), and the same binary run in the same session on the peers:
//   - QEMU TCG (qemu-system-i386 -accel tcg, the binary as a multiboot -kernel, exit
//     through isa-debug-exit on port 0xF4), timed by wall clock minus QEMU's start-up
//     (a run with zero iterations);
//   - v86 (npm package v86, with Debian's SeaBIOS and VGA BIOS, the binary as a
//     multiboot kernel), timed between the guest's start marker (port 0xF5) and exit.
// Every engine must print the same checksum for the same iteration count. Peers that
// are not installed are reported as skipped with the way to install them.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Cpu } from '../src/cpu/Cpu.js';
import { Translator } from '../src/cpu/jit/Translator.js';
import type { CpuEngine } from '../src/machine/cpuEngine.js';
import { CS } from '../src/cpu/constants.js';
import { IoBus } from '../src/machine/IoBus.js';
import { PhysicalMemory } from '../src/memory/PhysicalMemory.js';
import { BenchArgs, isMain } from './args.js';
import { inFreshProcess } from './child.js';
import { repoRoot } from './boot.js';
import { median, ratioText } from './report.js';

export interface PeerResult {
  name: string;
  status: 'ok' | 'skipped' | 'failed';
  /** Why it was skipped or failed, and how to install it. */
  note?: string;
  iterations?: number;
  /** Guest instructions of the timed work (typevisor's count for the same iterations). */
  instructions?: number;
  seconds?: number;
  mips?: number;
  /** Checksum the guest printed (must agree between engines at equal iterations). */
  checksum?: string;
}

export interface CpuBenchReport {
  benchmark: 'cpu';
  /** Guest instructions per loop iteration. */
  instructionsPerIteration: number;
  /** The default engine (the binary translator). */
  typevisor: EngineResult;
  /** The interpreter alone. */
  interpreter: EngineResult;
  peers: PeerResult[];
  /** typevisor MIPS / peer MIPS (1.0 = as fast as the peer), for each engine. */
  ratios: Record<string, number | null>;
}

export type EngineResult = PeerResult & { runs: number[] };

export interface CpuBenchOptions {
  /** Guest instructions per typevisor run (default 30 million). */
  instructions?: number;
  /** typevisor runs; the median is reported (default 5). */
  runs?: number;
  /** Wall-clock seconds of guest work to aim for on each peer (default 2). */
  peerSeconds?: number;
  log?: (line: string) => void;
}

/** The guest binary with its iteration count patched in (the dword after 'ITER'). */
export function guestImage(iterations: number): Uint8Array {
  const bin = new Uint8Array(readFileSync(join(repoRoot(), 'bench', 'asm', 'cpuloop.bin')));
  const at = Buffer.from(bin).indexOf('ITER');
  if (at < 0) throw new Error('cpuloop.bin has no ITER tag');
  new DataView(bin.buffer).setUint32(at + 4, iterations, true);
  return bin;
}

// ---------------------------------------------------------------------------
// typevisor

export interface TypevisorRun {
  instructions: number;
  seconds: number;
  checksum: string;
}

/** Run the loop on the software CPU; the timed part is from the 0xF5 marker to exit. */
export function runTypevisor(iterations: number, engine: CpuEngine): TypevisorRun {
  const mem = new PhysicalMemory(16 << 20);
  const io = new IoBus();
  const cpu = new Cpu(mem, io);
  if (engine === 'jit') new Translator(mem).attach(cpu);
  let out = '';
  let startInsn = -1, startT = 0, endInsn = -1, endT = 0;
  io.register(0xe9, 1, 'debugcon', { read: () => 0xe9, write: (_p, _s, v) => { out += String.fromCharCode(v & 0xff); } });
  io.register(0xf5, 1, 'bench-start', { read: () => 0xff, write: () => { startInsn = cpu.instructions; startT = performance.now(); } });
  io.register(0xf4, 1, 'exit', {
    read: () => 0xff,
    write: () => { endInsn = cpu.instructions; endT = performance.now(); cpu.requestStop(); },
  });
  mem.load(0x10000, guestImage(iterations));
  cpu.loadRealSeg(CS, 0x1000);
  cpu.eip = 0;
  while (endInsn < 0) {
    cpu.run(50_000_000);
    if (cpu.shutdownReason !== '' || (cpu.halted && endInsn < 0)) {
      throw new Error(`benchmark guest stopped early at eip ${(cpu.eip >>> 0).toString(16)}: ${cpu.shutdownReason || 'halted'}; output: ${out}`);
    }
  }
  if (startInsn < 0) throw new Error('benchmark guest never reached its start marker');
  return { instructions: endInsn - startInsn, seconds: (endT - startT) / 1000, checksum: out.trim() };
}

// ---------------------------------------------------------------------------
// QEMU

function which(cmd: string): boolean {
  const r = spawnSync(cmd, ['--version'], { stdio: 'ignore' });
  return r.status === 0;
}

interface QemuRun { seconds: number; checksum: string }

function runQemu(iterations: number, tmp: string): QemuRun {
  const kernel = join(tmp, `cpuloop-${iterations}.bin`);
  const out = join(tmp, `debugcon-${iterations}.txt`);
  writeFileSync(kernel, guestImage(iterations));
  writeFileSync(out, '');
  const t0 = performance.now();
  const r = spawnSync('qemu-system-i386', [
    '-accel', 'tcg', '-m', '32', '-display', 'none', '-no-reboot', '-nodefaults',
    '-kernel', kernel, '-debugcon', `file:${out}`, '-device', 'isa-debug-exit,iobase=0xf4,iosize=1',
  ], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 });
  const seconds = (performance.now() - t0) / 1000;
  // isa-debug-exit: status (value << 1) | 1, so a guest exit code of 0 is status 1.
  if (r.status !== 1) throw new Error(`qemu exited with ${r.status ?? r.signal}: ${r.stderr?.toString().trim()}`);
  return { seconds, checksum: readFileSync(out, 'latin1').trim() };
}

function benchQemu(iterations: number, perIteration: number, expectChecksum: string, targetSeconds: number, log: (l: string) => void): PeerResult {
  const name = 'qemu-tcg';
  if (!which('qemu-system-i386')) {
    return { name, status: 'skipped', note: 'qemu-system-i386 not found (Debian: apt-get install qemu-system-x86)' };
  }
  const tmp = mkdtempSync(join(tmpdir(), 'typevisor-bench-'));
  try {
    const same = runQemu(iterations, tmp);
    if (same.checksum !== expectChecksum) {
      return { name, status: 'failed', note: `checksum ${same.checksum} differs from typevisor's ${expectChecksum} at ${iterations} iterations` };
    }
    // Start-up (firmware, loading) is timed with zero iterations and subtracted.
    const base = median([0, 1, 2].map(() => runQemu(0, tmp).seconds))!;
    // Scale the work until the median of three runs takes about targetSeconds (at least
    // half of it), so start-up noise stays small against it.
    let n = Math.max(iterations, 1);
    let seconds: number;
    for (;;) {
      seconds = median([0, 1, 2].map(() => runQemu(n, tmp).seconds - base))!;
      if (seconds >= targetSeconds * 0.5 || n >= 1e7) break;
      n = Math.min(1e7, Math.ceil(n * Math.min(64, Math.max(2, targetSeconds / Math.max(seconds, 0.02)))));
    }
    const instructions = n * perIteration;
    log(`  qemu-tcg: ${n} iterations, ${(seconds).toFixed(3)} s of work after ${base.toFixed(3)} s start-up`);
    return { name, status: 'ok', iterations: n, instructions, seconds, mips: instructions / seconds / 1e6, checksum: same.checksum };
  } catch (e) {
    return { name, status: 'failed', note: e instanceof Error ? e.message : String(e) };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
// v86

const SEABIOS = '/usr/share/seabios/bios.bin';
const VGABIOS = ['/usr/share/seabios/vgabios-stdvga.bin', '/usr/share/seabios/vgabios.bin'];

interface V86Run { seconds: number; checksum: string; instructions: number }

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type V86Ctor = new (opts: Record<string, unknown>) => any;

async function loadV86(): Promise<{ V86: V86Ctor; wasm: string } | string> {
  let mod: { V86?: V86Ctor; default?: { V86?: V86Ctor } };
  try {
    mod = await import('v86' as string);
  } catch {
    return 'npm package v86 not installed (npm install --save-dev v86)';
  }
  const V86 = mod.V86 ?? mod.default?.V86;
  if (V86 === undefined) return 'the v86 package exports no V86 constructor';
  const require = createRequire(import.meta.url);
  let wasm: string;
  try {
    wasm = join(dirname(require.resolve('v86')), 'v86.wasm');
  } catch {
    return 'v86.wasm not found in the v86 package';
  }
  return { V86, wasm };
}

function runV86(V86: V86Ctor, wasm: string, iterations: number, timeoutMs: number): Promise<V86Run> {
  const vga = VGABIOS.find((p) => existsSync(p))!;
  const toAb = (b: Uint8Array): ArrayBuffer => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  return new Promise((resolve, reject) => {
    const emulator = new V86({
      wasm_path: wasm,
      bios: { buffer: toAb(readFileSync(SEABIOS)) },
      vga_bios: { buffer: toAb(readFileSync(vga)) },
      multiboot: { buffer: toAb(guestImage(iterations)) },
      memory_size: 32 << 20,
      vga_memory_size: 2 << 20,
      autostart: true,
      disable_keyboard: true,
      disable_mouse: true,
      disable_speaker: true,
      acpi: false,
      log_level: 0,
    });
    let out = '';
    let t0 = -1, i0 = 0;
    let done = false;
    const timer = setTimeout(() => finish(new Error(`v86 did not finish within ${timeoutMs / 1000} s (output: ${out})`)), timeoutMs);
    const finish = (err: Error | null, run?: V86Run): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      Promise.resolve(emulator.destroy()).catch(() => {}).finally(() => (err ? reject(err) : resolve(run!)));
    };
    emulator.add_listener('emulator-ready', () => {
      const io = emulator.v86.cpu.io;
      const dev = {};
      io.register_write(0xe9, dev, (v: number) => { out += String.fromCharCode(v & 0xff); });
      io.register_write(0xf5, dev, () => { t0 = performance.now(); i0 = emulator.get_instruction_counter(); });
      io.register_write(0xf4, dev, () => {
        const t1 = performance.now();
        const insns = (emulator.get_instruction_counter() - i0) >>> 0;
        if (t0 < 0) { finish(new Error('v86: exit before the start marker')); return; }
        // The checksum line is written just before the exit port.
        finish(null, { seconds: (t1 - t0) / 1000, checksum: out.trim(), instructions: insns });
      });
    });
  });
}

async function benchV86(iterations: number, perIteration: number, expectChecksum: string, targetSeconds: number, log: (l: string) => void): Promise<PeerResult> {
  const name = 'v86';
  const loaded = await loadV86();
  if (typeof loaded === 'string') return { name, status: 'skipped', note: loaded };
  if (!existsSync(SEABIOS) || !VGABIOS.some((p) => existsSync(p))) {
    return { name, status: 'skipped', note: `SeaBIOS images not found at ${SEABIOS} (Debian: apt-get install seabios)` };
  }
  const { V86, wasm } = loaded;
  try {
    const same = await runV86(V86, wasm, iterations, 120_000);
    if (same.checksum !== expectChecksum) {
      return { name, status: 'failed', note: `checksum ${same.checksum} differs from typevisor's ${expectChecksum} at ${iterations} iterations` };
    }
    // As for QEMU: scale until the median of three runs takes about targetSeconds.
    let n = Math.max(iterations, 1);
    let seconds: number;
    let counted = same.instructions;
    for (;;) {
      const runs: number[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await runV86(V86, wasm, n, 300_000);
        runs.push(r.seconds);
        counted = r.instructions;
      }
      seconds = median(runs)!;
      if (seconds >= targetSeconds * 0.5 || n >= 1e7) break;
      n = Math.min(1e7, Math.ceil(n * Math.min(64, Math.max(2, targetSeconds / Math.max(seconds, 0.02)))));
    }
    const instructions = n * perIteration;
    log(`  v86: ${n} iterations, ${seconds.toFixed(3)} s (v86 counted ${counted} instructions, typevisor's count is ${instructions})`);
    return { name, status: 'ok', iterations: n, instructions, seconds, mips: instructions / seconds / 1e6, checksum: same.checksum };
  } catch (e) {
    return { name, status: 'failed', note: e instanceof Error ? e.message : String(e) };
  }
}

// ---------------------------------------------------------------------------

/**
 * Median MIPS of `nRuns` runs of one engine (after a warm-up run that lets V8 optimize it).
 * Run through inFreshProcess (bench/child.ts): each engine in a process of its own.
 */
export function benchEngine(engine: CpuEngine, iterations: number, nRuns: number, log: (l: string) => void): EngineResult {
  const name = engine === 'jit' ? 'typevisor' : 'typevisor-interp';
  runTypevisor(Math.max(1, iterations >> 3), engine);
  const runs: TypevisorRun[] = [];
  for (let i = 0; i < nRuns; i++) {
    const r = runTypevisor(iterations, engine);
    runs.push(r);
    log(`  ${name} run ${i + 1}: ${(r.instructions / r.seconds / 1e6).toFixed(2)} MIPS (${r.instructions} instructions, ${r.seconds.toFixed(3)} s)`);
    if (r.checksum !== runs[0]!.checksum) throw new Error(`${name} checksums differ between runs: ${r.checksum} vs ${runs[0]!.checksum}`);
  }
  const mipsRuns = runs.map((r) => r.instructions / r.seconds / 1e6);
  return {
    name, status: 'ok', iterations, instructions: runs[0]!.instructions,
    seconds: median(runs.map((r) => r.seconds))!, mips: median(mipsRuns)!, checksum: runs[0]!.checksum, runs: mipsRuns,
  };
}

export async function benchCpu(opts: CpuBenchOptions = {}): Promise<CpuBenchReport> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const target = opts.instructions ?? 30_000_000;
  const nRuns = opts.runs ?? 5;
  // Instructions per iteration from the difference of two short runs (set-up cancels).
  const a = runTypevisor(1, 'interp'), b = runTypevisor(3, 'interp');
  const perIteration = (b.instructions - a.instructions) / 2;
  const iterations = Math.max(1, Math.round(target / perIteration));
  log(`cpu: ${perIteration} guest instructions per iteration, ${iterations} iterations per run`);
  const interpreter = await inFreshProcess<EngineResult>(import.meta.url, 'benchEngine', ['interp', iterations, nRuns], log);
  // The translator's runs are longer (as the peers' are), so that its compile time is not most of what is timed.
  const tv = await inFreshProcess<EngineResult>(import.meta.url, 'benchEngine', ['jit', iterations * 16, nRuns], log);
  const same = (await inFreshProcess<EngineResult>(import.meta.url, 'benchEngine', ['jit', iterations, 1], () => {})).checksum;
  if (same !== interpreter.checksum) throw new Error(`the translator's checksum ${same} differs from the interpreter's ${interpreter.checksum}`);
  const peerSeconds = opts.peerSeconds ?? 2;
  const peers = [
    benchQemu(iterations, perIteration, interpreter.checksum!, peerSeconds, log),
    await benchV86(iterations, perIteration, interpreter.checksum!, peerSeconds, log),
  ];
  const ratios: Record<string, number | null> = {};
  for (const e of [tv, interpreter]) {
    for (const p of peers) ratios[`${e.name}/${p.name}`] = p.status === 'ok' ? e.mips! / p.mips! : null;
  }
  return { benchmark: 'cpu', instructionsPerIteration: perIteration, typevisor: tv, interpreter, peers, ratios };
}

/** Human-readable lines for a report. */
export function formatCpuReport(r: CpuBenchReport): string[] {
  const lines = [`cpu micro-benchmark (guest loop: checksum + nested loops + calls, 32-bit, paging on)`];
  const row = (p: PeerResult): string => p.status === 'ok'
    ? `  ${p.name.padEnd(16)} ${p.mips!.toFixed(2).padStart(9)} MIPS  (${p.instructions} instructions in ${p.seconds!.toFixed(3)} s, checksum ${p.checksum})`
    : `  ${p.name.padEnd(16)} ${p.status}: ${p.note}`;
  for (const e of [r.typevisor, r.interpreter]) lines.push(row(e) + `  median of ${e.runs.length}: ${e.runs.map((m) => m.toFixed(2)).join(' ')}`);
  for (const p of r.peers) lines.push(row(p));
  for (const [k, v] of Object.entries(r.ratios)) {
    lines.push(`  ${k} = ${ratioText(v, 'the peer', 'faster', 4)}`);
  }
  return lines;
}

// Run directly: node dist/bench/cpu.js [--json] [--instructions N] [--runs N] [--peer-seconds S]
if (isMain(import.meta.url)) {
  const a = new BenchArgs('node dist/bench/cpu.js [--json] [--instructions N] [--runs N] [--peer-seconds S]', ['instructions', 'runs', 'peer-seconds']);
  const opts: CpuBenchOptions = { log: a.log };
  const ins = a.count('instructions'), runs = a.count('runs'), secs = a.number('peer-seconds', (n) => n > 0, 'a positive number of seconds');
  if (ins !== undefined) opts.instructions = ins;
  if (runs !== undefined) opts.runs = runs;
  if (secs !== undefined) opts.peerSeconds = secs;
  a.report(benchCpu(opts), formatCpuReport);
}
