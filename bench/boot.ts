// Boot benchmark: wall time from start to the default guest's init banner
// ("typevisor guest: Linux ... up N.NNs", the first line /init prints) on three VMMs
// (or, with `kernel: 'debian-686'`, the same initramfs under Debian's stock
// linux-image-686, crypto self-tests on, fetched by `scripts/setup-debian.sh --bench`)
// in the same run, several repetitions each, interleaved (one boot of each VMM per
// round) so that a change in host load hits all of them alike:
//   - typevisor: a Machine (fast pacing: idle time is skipped) in a fresh Node process
//     (bench/child.ts), timed from construction; 'typevisor' is the default engine (the
//     binary translator), 'typevisor-interp' the interpreter alone;
//   - v86 (npm package v86, with Debian's SeaBIOS and VGA BIOS): its bzimage boot runs
//     SeaBIOS first and then the kernel through v86's own loader; timed from `new V86`
//     (so wasm start-up and the firmware are part of it, as they are for a user);
//   - QEMU TCG (qemu-system-i386 -accel tcg, direct -kernel/-initrd boot, serial on
//     stdout), timed from spawn (process start-up and firmware included).
// Each boot also records the time to the kernel's "Run /init" line and to the shell
// prompt, and the uptime the guest printed in its banner (virtual time on typevisor,
// host time on the peers, which run in real time). A peer that is not installed is
// reported as skipped with how to install it; a boot that does not reach the banner in
// the timeout is reported as a timeout.
// Besides the ratio of median wall times the report gives the median of per-round
// ratios and the ratio of host CPU time to the banner, both less disturbed by other load
// on the host (v86 in particular slows down a lot on a busy host: its JIT compiles on
// background threads).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Machine } from '../src/machine/Machine.js';
import type { CpuEngine } from '../src/machine/cpuEngine.js';
import { BenchArgs, isMain } from './args.js';
import { inFreshProcess } from './child.js';
import { hostLine, hostLoad, loadText, median, ratioText, type HostLoad } from './report.js';

export const CMDLINE = 'console=ttyS0 panic=-1 tsc=reliable';
export const MEMORY_MIB = 128;
const BANNER = 'typevisor guest:';
const RUN_INIT = 'Run /init';
const PROMPT = 'typevisor:/# ';

const SEABIOS = ['/usr/share/seabios/bios.bin', '/usr/share/seabios/bios-256k.bin'];
const VGABIOS = ['/usr/share/seabios/vgabios-stdvga.bin', '/usr/share/seabios/vgabios.bin'];
export const QEMU = 'qemu-system-i386';
export const INSTALL_QEMU = 'sudo scripts/setup-debian.sh --bench (Debian package qemu-system-x86)';
const INSTALL_SEABIOS = 'sudo scripts/setup-debian.sh --bench (Debian package seabios)';
const INSTALL_V86 = 'npm install (v86 is a dev dependency)';

export type VmmName = 'typevisor' | 'typevisor-interp' | 'v86' | 'qemu-tcg';
export const VMMS: readonly VmmName[] = ['typevisor', 'typevisor-interp', 'v86', 'qemu-tcg'];
/** typevisor's engines, each compared with the peers. */
const OWN: readonly VmmName[] = ['typevisor', 'typevisor-interp'];

/** One boot. Times are seconds from start; null when the milestone was not seen. */
export interface BootRun {
  status: 'ok' | 'failed' | 'timeout';
  note?: string;
  banner: number | null;
  runInit: number | null;
  prompt: number | null;
  /** The uptime the guest printed in its banner (seconds of guest time). */
  guestUptime: number | null;
  /**
   * Host CPU seconds the VMM used up to the banner (all its threads: for the in-process
   * VMMs this process's, GC and compiler threads included; for QEMU its process's).
   * Less sensitive to other load on the host than the wall time.
   */
  cpuBanner: number | null;
}

export interface VmmResult {
  name: VmmName;
  /** ok: every boot reached the banner; failed/timeout: at least one did not. */
  status: 'ok' | 'skipped' | 'failed' | 'timeout';
  note?: string;
  /** How the VMM was set up (command line, images). */
  setup?: string;
  runs: BootRun[];
  /** Medians over the boots that reached each milestone. */
  median: { banner: number | null; runInit: number | null; prompt: number | null; guestUptime: number | null; cpuBanner: number | null };
}

export interface BootBenchReport {
  benchmark: 'boot';
  kernel: BootKernel;
  reps: number;
  timeoutSeconds: number;
  cmdline: string;
  memoryMiB: number;
  host: HostLoad;
  vmms: VmmResult[];
  /** Median time to the banner, typevisor / peer (below 1: typevisor boots faster). */
  ratios: Record<string, number | null>;
  /**
   * Median over rounds of typevisor's banner time / the peer's in the same round (boots
   * of one round run back to back, so they saw about the same host load).
   */
  pairedRatios: Record<string, number | null>;
  /** The same for the median host CPU time to the banner (secondary; see BootRun.cpuBanner). */
  cpuRatios: Record<string, number | null>;
}

export interface BootBenchOptions {
  /** Boots per VMM (default 3). */
  reps?: number;
  /** Seconds a boot may take to reach the banner (default 120). */
  timeoutSeconds?: number;
  /** VMMs to run (default all). */
  only?: VmmName[];
  /** The kernel booted (default: the default guest's). */
  kernel?: BootKernel;
  log?: (line: string) => void;
}

export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
  return dir;
}

/**
 * Watches a guest's console text for the milestones, timing each from t0 when the
 * text that completes it arrives. done() fires once, at the prompt (or the banner
 * when the prompt is not wanted).
 */
class ConsoleWatch {
  private text = '';
  banner: number | null = null;
  runInit: number | null = null;
  prompt: number | null = null;
  guestUptime: number | null = null;
  cpuBanner: number | null = null;

  /** cpuSeconds: the VMM's CPU time since its start, read when the banner appears. */
  constructor(private readonly t0: number, private readonly done: () => void, private readonly cpuSeconds: () => number | null) {}

  feed(chunk: string): void {
    if (this.prompt !== null) return;
    const now = (performance.now() - this.t0) / 1000;
    // Keep only what a milestone still to come may need: the boot log is ~20 KB, but
    // searching a short tail keeps this cheap on byte-at-a-time consoles.
    this.text = (this.text + chunk).slice(-4096);
    if (this.runInit === null && this.text.includes(RUN_INIT)) this.runInit = now;
    if (this.banner === null) {
      const at = this.text.indexOf(BANNER);
      if (at >= 0) {
        this.banner = now;
        this.cpuBanner = this.cpuSeconds();
        this.text = this.text.slice(at);
      }
    }
    if (this.banner !== null && this.guestUptime === null) {
      const m = /typevisor guest: .* up ([0-9.]+)s/.exec(this.text);
      if (m) this.guestUptime = Number(m[1]);
    }
    if (this.banner !== null && this.text.includes(PROMPT)) {
      this.prompt = now;
      this.done();
    }
  }

  tail(): string {
    return this.text.slice(-200).replace(/\s+/g, ' ').trim();
  }

  result(status: BootRun['status'], note?: string): BootRun {
    // The banner is what is measured: a boot that reached it but timed out waiting for
    // the prompt still counts, with a note.
    if (status === 'timeout' && this.banner !== null) status = 'ok';
    const r: BootRun = { status, banner: this.banner, runInit: this.runInit, prompt: this.prompt, guestUptime: this.guestUptime, cpuBanner: this.cpuBanner };
    if (note !== undefined) r.note = note;
    return r;
  }
}

/** A boot that produced no figures (its process failed). */
const NO_RUN: BootRun = { status: 'failed', banner: null, runInit: null, prompt: null, guestUptime: null, cpuBanner: null };

/** CPU seconds of this process since `from` (a process.cpuUsage() reading). */
function processCpuSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1e6;
}

/** USER_HZ: Linux reports /proc times in units of 1/100 s on every architecture we run on. */
const CLOCK_TICKS = 100;

/** CPU seconds (user + system, all threads) a child process has used so far, from /proc. */
function childCpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}
const KERNEL_TEXT: Record<BootKernel, string> = { 'default': 'default guest', 'debian-686': "Debian's linux-image-686 with the default initramfs" };

/** Which kernel boots: the default guest's, or Debian's stock i686 one. */
export type BootKernel = 'default' | 'debian-686';
export const BOOT_KERNELS: readonly BootKernel[] = ['default', 'debian-686'];

/**
 * Where `scripts/setup-debian.sh` puts Debian's linux-image-686 kernel (or
 * TYPEVISOR_DISTRO_KERNEL), or with `flavour` '686-pae' its PAE build (or TYPEVISOR_DISTRO_KERNEL_PAE).
 */
export function debianKernelPath(flavour: '686' | '686-pae' = '686'): string {
  const env = process.env[flavour === '686' ? 'TYPEVISOR_DISTRO_KERNEL' : 'TYPEVISOR_DISTRO_KERNEL_PAE'];
  return env ?? join(repoRoot(), 'bench', '.cache', `vmlinuz-${flavour}`);
}

/** The guest images, read once; each boot gets its own copies (a VMM may write to them). */
interface Images { kernel: Uint8Array; initrd: Uint8Array; kernelPath: string; initrdPath: string; memoryMiB: number }

function loadImages(which: BootKernel): Images {
  const root = repoRoot();
  const kernelPath = which === 'default' ? join(root, 'guest', 'bzImage') : debianKernelPath();
  const initrdPath = join(root, 'guest', 'initramfs.cpio.gz');
  if (!existsSync(kernelPath)) {
    throw new Error(`${kernelPath} is missing; fetch Debian's linux-image-686 with: sudo scripts/setup-debian.sh --bench`);
  }
  // A distribution kernel's page tables and caches want more than the tiny default kernel.
  const memoryMiB = which === 'default' ? MEMORY_MIB : 256;
  return { kernel: new Uint8Array(readFileSync(kernelPath)), initrd: new Uint8Array(readFileSync(initrdPath)), kernelPath, initrdPath, memoryMiB };
}

// ---------------------------------------------------------------------------
// typevisor

/** One boot on `engine`, in this process; run through inFreshProcess (bench/child.ts). */
export async function bootTypevisor(engine: CpuEngine, timeoutMs: number, which: BootKernel): Promise<BootRun> {
  const img = loadImages(which);
  const kernel = img.kernel.slice(), initrd = img.initrd.slice();
  const decoder = new TextDecoder('latin1');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let machine: Machine | null = null;
  const watch = new ConsoleWatch(t0, () => machine?.stop('shell prompt reached'), () => processCpuSince(cpu0));
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; machine?.stop('timeout'); }, timeoutMs);
  try {
    machine = new Machine({ memoryMiB: img.memoryMiB, kernel, initrd, cmdline: CMDLINE, pacing: 'fast', cpu: engine });
    machine.externalInputOpen = true; // as under `typevisor run` with stdin open
    machine.onSerialOutput = (bytes) => watch.feed(decoder.decode(bytes));
    const exit = await machine.run();
    if (watch.prompt !== null) return watch.result('ok');
    if (timedOut) return watch.result('timeout', `no ${watch.banner === null ? 'banner' : 'prompt'} within ${timeoutMs / 1000} s; console: ${watch.tail()}`);
    return watch.result('failed', `guest ended before the prompt (${JSON.stringify(exit)}); console: ${watch.tail()}`);
  } catch (e) {
    return watch.result('failed', e instanceof Error ? e.message : String(e));
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------
// v86

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type V86Ctor = new (opts: Record<string, unknown>) => any;

interface V86Setup { V86: V86Ctor; wasm: string; bios: Uint8Array; vgaBios: Uint8Array; biosPath: string; vgaPath: string; version: string }

async function setUpV86(): Promise<V86Setup | string> {
  let mod: { V86?: V86Ctor; default?: { V86?: V86Ctor } };
  try {
    mod = await import('v86' as string);
  } catch {
    return `npm package v86 not installed; install it with: ${INSTALL_V86}`;
  }
  const V86 = mod.V86 ?? mod.default?.V86;
  if (V86 === undefined) return 'the v86 package exports no V86 constructor';
  const require = createRequire(import.meta.url);
  let wasm: string, version = '?';
  try {
    const main = require.resolve('v86');
    wasm = join(dirname(main), 'v86.wasm');
    const pkg = JSON.parse(readFileSync(join(dirname(main), '..', 'package.json'), 'utf8')) as { version?: string };
    version = pkg.version ?? '?';
  } catch {
    return 'v86.wasm not found in the v86 package';
  }
  if (!existsSync(wasm)) return `v86.wasm not found at ${wasm}`;
  const biosPath = SEABIOS.find((p) => existsSync(p));
  const vgaPath = VGABIOS.find((p) => existsSync(p));
  if (biosPath === undefined || vgaPath === undefined) {
    return `SeaBIOS images not found (${SEABIOS[0]}, ${VGABIOS[0]}); install them with: ${INSTALL_SEABIOS}`;
  }
  return { V86, wasm, bios: readFileSync(biosPath), vgaBios: readFileSync(vgaPath), biosPath, vgaPath, version };
}

function bootV86(s: V86Setup, img: Images, timeoutMs: number): Promise<BootRun> {
  // Fresh ArrayBuffers for every boot: v86 patches the setup header inside the bzimage.
  const ab = (b: Uint8Array): ArrayBuffer => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  const bios = ab(s.bios), vga = ab(s.vgaBios), kernel = ab(img.kernel), initrd = ab(img.initrd);
  return new Promise((resolve) => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let settled = false;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    let emulator: any = null;
    const finish = (status: BootRun['status'], note?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const result = watch.result(status, note);
      const e = emulator;
      if (e === null) { resolve(result); return; }
      Promise.resolve().then(() => e.destroy()).catch(() => {}).finally(() => resolve(result));
    };
    const watch = new ConsoleWatch(t0, () => finish('ok'), () => processCpuSince(cpu0));
    const timer = setTimeout(() => finish('timeout', `no ${watch.banner === null ? 'banner' : 'prompt'} within ${timeoutMs / 1000} s; console: ${watch.tail()}`), timeoutMs);
    try {
      emulator = new s.V86({
        wasm_path: s.wasm,
        bios: { buffer: bios },
        vga_bios: { buffer: vga },
        bzimage: { buffer: kernel },
        initrd: { buffer: initrd },
        cmdline: CMDLINE,
        memory_size: img.memoryMiB << 20,
        autostart: true,
        disable_keyboard: true,
        disable_mouse: true,
        disable_speaker: true,
        log_level: 0,
      });
      emulator.add_listener('serial0-output-byte', (b: number) => watch.feed(String.fromCharCode(b)));
    } catch (e) {
      finish('failed', e instanceof Error ? e.message : String(e));
    }
  });
}

// ---------------------------------------------------------------------------
// QEMU

function qemuArgs(img: Images): string[] {
  return [
    '-accel', 'tcg', '-cpu', 'pentium2', '-m', String(img.memoryMiB),
    '-kernel', img.kernelPath, '-initrd', img.initrdPath, '-append', CMDLINE,
    // -nographic puts COM1 on stdio; -monitor none keeps the monitor off it.
    '-nographic', '-no-reboot', '-monitor', 'none',
  ];
}

export function qemuVersion(): string | null {
  const r = spawnSync(QEMU, ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  return (r.stdout.split('\n')[0] ?? '').trim();
}

function bootQemu(img: Images, timeoutMs: number): Promise<BootRun> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let settled = false;
    let stderr = '';
    let child: ChildProcess | undefined;
    const finish = (status: BootRun['status'], note?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const result = watch.result(status, note);
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) { resolve(result); return; }
      child.once('exit', () => resolve(result));
      child.kill('SIGKILL');
    };
    const watch = new ConsoleWatch(t0, () => finish('ok'), () => childCpuSeconds(child?.pid));
    const timer = setTimeout(() => finish('timeout', `no ${watch.banner === null ? 'banner' : 'prompt'} within ${timeoutMs / 1000} s; console: ${watch.tail()}`), timeoutMs);
    child = spawn(QEMU, qemuArgs(img), { stdio: ['ignore', 'pipe', 'pipe'] });
    const c = child;
    c.stdout!.setEncoding('latin1');
    c.stdout!.on('data', (s: string) => watch.feed(s));
    c.stderr!.setEncoding('utf8');
    c.stderr!.on('data', (s: string) => { stderr = (stderr + s).slice(-2000); });
    c.on('error', (e) => finish('failed', e.message));
    c.on('exit', (code, signal) => {
      if (!settled) finish('failed', `qemu exited (${code ?? signal}) before the prompt: ${stderr.trim()}; console: ${watch.tail()}`);
    });
  });
}

// ---------------------------------------------------------------------------

function fmt(s: number | null): string {
  return s === null ? '-' : `${s.toFixed(2)} s`;
}

export async function benchBoot(opts: BootBenchOptions = {}): Promise<BootBenchReport> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const reps = opts.reps ?? 3;
  const timeoutSeconds = opts.timeoutSeconds ?? 120;
  const timeoutMs = timeoutSeconds * 1000;
  const wanted = opts.only ?? [...VMMS];
  const which = opts.kernel ?? 'default';
  const img = loadImages(which);
  const loadAvgBefore = loadavg();

  const results = new Map<VmmName, VmmResult>();
  const boots = new Map<VmmName, () => Promise<BootRun>>();
  const empty = (): VmmResult['median'] => ({ banner: null, runInit: null, prompt: null, guestUptime: null, cpuBanner: null });
  for (const name of VMMS) {
    if (!wanted.includes(name)) continue;
    const r: VmmResult = { name, status: 'ok', runs: [], median: empty() };
    results.set(name, r);
    if (name === 'typevisor' || name === 'typevisor-interp') {
      const engine: CpuEngine = name === 'typevisor' ? 'jit' : 'interp';
      r.setup = `Machine (cpu '${engine}') in a fresh Node process, pacing 'fast', ${img.memoryMiB} MiB, direct bzImage boot`;
      boots.set(name, () => inFreshProcess<BootRun>(import.meta.url, 'bootTypevisor', [engine, timeoutMs, which], () => {})
        .catch((e: unknown) => ({ ...NO_RUN, status: 'failed' as const, note: e instanceof Error ? e.message : String(e) })));
    } else if (name === 'v86') {
      const s = await setUpV86();
      if (typeof s === 'string') { r.status = 'skipped'; r.note = s; continue; }
      r.setup = `v86 ${s.version} in-process (wasm JIT), ${img.memoryMiB} MiB, bios ${s.biosPath}, vga_bios ${s.vgaPath}, ` +
        'bzimage+initrd (SeaBIOS runs first, then v86 loads the kernel)';
      boots.set(name, () => bootV86(s, img, timeoutMs));
    } else {
      const v = qemuVersion();
      if (v === null) { r.status = 'skipped'; r.note = `${QEMU} not found; install it with: ${INSTALL_QEMU}`; continue; }
      r.setup = `${v}: ${QEMU} ${qemuArgs(img).map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(' ')}`;
      boots.set(name, () => bootQemu(img, timeoutMs));
    }
  }

  log(`boot: ${KERNEL_TEXT[which]} to its init banner, ${reps} boots per VMM (interleaved), timeout ${timeoutSeconds} s; ` +
    `host ${cpus().length} CPUs, load average ${loadText(loadAvgBefore)}`);
  for (let rep = 1; rep <= reps; rep++) {
    for (const [name, boot] of boots) {
      const run = await boot();
      results.get(name)!.runs.push(run);
      log(`  ${name} boot ${rep}: ${run.status === 'ok' ? '' : `${run.status}, `}banner ${fmt(run.banner)} ` +
        `(Run /init ${fmt(run.runInit)}, prompt ${fmt(run.prompt)}, guest uptime ${run.guestUptime ?? '-'} s, ` +
        `CPU to banner ${fmt(run.cpuBanner)})` +
        (run.note !== undefined ? `: ${run.note}` : ''));
    }
  }

  for (const r of results.values()) {
    if (r.status === 'skipped') continue;
    const pick = (k: keyof VmmResult['median']): number | null =>
      median(r.runs.map((x) => x[k]).filter((x): x is number => x !== null));
    r.median = { banner: pick('banner'), runInit: pick('runInit'), prompt: pick('prompt'), guestUptime: pick('guestUptime'), cpuBanner: pick('cpuBanner') };
    const bad = r.runs.find((x) => x.status !== 'ok');
    if (bad !== undefined) {
      r.status = r.runs.some((x) => x.status === 'timeout') ? 'timeout' : 'failed';
      r.note = bad.note;
    }
  }

  const ratios: Record<string, number | null> = {};
  const cpuRatios: Record<string, number | null> = {};
  const pairedRatios: Record<string, number | null> = {};
  for (const own of OWN) {
    const tv = results.get(own);
    if (tv === undefined) continue;
    for (const r of results.values()) {
      if (OWN.includes(r.name)) continue;
      // Ratios only from VMMs whose every boot reached the banner.
      const both = tv.status === 'ok' && r.status === 'ok';
      const ratio = (a: number | null, b: number | null): number | null => (both && a !== null && b !== null && b > 0 ? a / b : null);
      const key = `${own}/${r.name}`;
      ratios[key] = ratio(tv.median.banner, r.median.banner);
      cpuRatios[key] = ratio(tv.median.cpuBanner, r.median.cpuBanner);
      pairedRatios[key] = both
        ? median(tv.runs.flatMap((t, i) => {
          const p = r.runs[i];
          return t.banner !== null && p !== undefined && p.banner !== null && p.banner > 0 ? [t.banner / p.banner] : [];
        }))
        : null;
    }
  }
  return {
    benchmark: 'boot', kernel: which, reps, timeoutSeconds, cmdline: CMDLINE, memoryMiB: img.memoryMiB,
    host: hostLoad(loadAvgBefore),
    vmms: [...results.values()], ratios, pairedRatios, cpuRatios,
  };
}

/** Human-readable lines for a report. */
export function formatBootReport(r: BootBenchReport): string[] {
  const lines = [
    `boot benchmark: ${KERNEL_TEXT[r.kernel]}, ${r.memoryMiB} MiB, "${r.cmdline}", median of ${r.reps} boots, wall time from start to`,
    `  the init banner (and to "Run /init", the shell prompt; guest uptime is what the banner printed)`,
  ];
  for (const v of r.vmms) {
    const name = v.name.padEnd(16);
    if (v.status === 'skipped') { lines.push(`  ${name} skipped: ${v.note}`); continue; }
    const m = v.median;
    lines.push(`  ${name} banner ${fmt(m.banner).padStart(8)}   Run /init ${fmt(m.runInit).padStart(8)}   prompt ${fmt(m.prompt).padStart(8)}` +
      `   guest uptime ${m.guestUptime === null ? '-' : `${m.guestUptime.toFixed(2)} s`}   CPU to banner ${fmt(m.cpuBanner)}` +
      `   runs ${v.runs.map((x) => (x.banner === null ? x.status : x.banner.toFixed(2))).join(' ')}`);
    if (v.status !== 'ok') lines.push(`  ${''.padEnd(16)} ${v.status}: ${v.note}`);
  }
  const times = (v: number | null): string => ratioText(v, 'the peer', 'slower');
  for (const [k, v] of Object.entries(r.ratios)) {
    lines.push(`  ${k} = ${times(v)}`);
    lines.push(`    median of per-round ratios ${times(r.pairedRatios[k] ?? null)}; host CPU time to banner ${times(r.cpuRatios[k] ?? null)}`);
  }
  lines.push(`  setup:`);
  for (const v of r.vmms) if (v.setup !== undefined) lines.push(`    ${v.name}: ${v.setup}`);
  lines.push(hostLine(r.host));
  if (Math.max(r.host.loadAvgBefore[0] ?? 0, r.host.loadAvgAfter[0] ?? 0) > r.host.cpus) {
    lines.push(`  note: the host was busy (load average above its CPU count); wall times are inflated, the CPU-time column less so`);
  }
  return lines;
}

// Run directly: node dist/bench/boot.js [--json] [--reps N] [--timeout S] [--kernel default|debian-686] [--only typevisor,typevisor-interp,v86,qemu-tcg]
if (isMain(import.meta.url)) {
  const a = new BenchArgs('node dist/bench/boot.js [--json] [--reps N] [--timeout S] [--kernel default|debian-686] [--only typevisor,typevisor-interp,v86,qemu-tcg]',
    ['reps', 'timeout', 'only', 'kernel']);
  const opts: BootBenchOptions = { log: a.log };
  const reps = a.count('reps'), timeout = a.number('timeout', (n) => n > 0, 'a positive number of seconds'), only = a.only(VMMS);
  const kernel = a.value('kernel');
  if (kernel !== undefined && !(BOOT_KERNELS as readonly string[]).includes(kernel)) {
    console.error(`--kernel takes ${BOOT_KERNELS.join(' or ')}, got "${kernel}"`);
    process.exit(2);
  }
  if (reps !== undefined) opts.reps = reps;
  if (timeout !== undefined) opts.timeoutSeconds = timeout;
  if (only !== undefined) opts.only = only;
  if (kernel !== undefined) opts.kernel = kernel as BootKernel;
  a.report(benchBoot(opts), formatBootReport);
}
