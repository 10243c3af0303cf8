// Manager benchmark: the numbers Firecracker promises, measured for typevisor.
//   - API socket ready: wall time and host CPU time from spawning `typevisor serve` to
//     its socket answering GET / (Firecracker: within 8 CPU ms);
//   - host memory per VM beyond its guest RAM: RSS added per VM by `typevisor manage`
//     with VMS_FOR_MEMORY idle tiny guests (a HLT loop that touches none of its 64 MiB,
//     so the RSS is the VMM's own), in worker threads and with --process-per-vm (goal
//     ≤ 10 MiB, Firecracker ≤ 5 MiB);
//   - host CPU of an idle VM: the default guest at its shell prompt (real-time pacing),
//     the manager's CPU over IDLE_S seconds (goal < 0.5 % of a core);
//   - density: DENSITY idle 64 MiB default guests started at once; all must reach their
//     prompt and answer on their console socket; total RSS and idle CPU (goal: 200 on a
//     2-core 24 GiB machine). Set TYPEVISOR_BENCH_DENSITY=200 to try the goal.
// CPU time is read from /proc/PID/task/*/schedstat (ns, every thread), RSS from
// /proc/PID/status, so this benchmark needs Linux.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { api } from '../test/vmm/apiClient.js';
import { bootSource, CLI, multiboot, ok } from '../test/vmm/managerSupport.js';
import { BenchArgs, isMain } from './args.js';
import { hostLine, hostLoad, median, type HostLoad } from './report.js';

const PROMPT = 'typevisor:/# ';
const SOCKET_REPS = 5;
const VMS_FOR_MEMORY = 8;
const IDLE_S = 5;
const DEFAULT_DENSITY = 20;

export interface ManagerBenchReport {
  socketReady: { wallMs: number; cpuMs: number; runs: { wallMs: number; cpuMs: number }[] };
  memoryPerVm: { threadMiB: number; processMiB: number; vms: number; guestMiB: number };
  idleVm: { percentOfCore: number; seconds: number };
  density: { asked: number; answered: number; bootS: number; rssMiB: number; rssPerVmMiB: number; idlePercentOfCore: number; hostMemMiB: number; note?: string };
  host: HostLoad;
}

/** CPU ns of every thread of a process (0 once it is gone). */
function cpuNs(pid: number): number {
  let total = 0;
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      try { total += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]); } catch { /* thread ended */ }
    }
  } catch { /* process ended */ }
  return total;
}

function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch { return 0; }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitForSocket(sock: string, ms: number, child: ChildProcess, poll = 1): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the typevisor process ended (${child.exitCode ?? child.signalCode}) before its socket answered`);
    if (existsSync(sock)) {
      try { if ((await api(sock, 'GET', '/')).status === 200) return; } catch { /* not yet */ }
    }
    if (Date.now() > end) throw new Error(`no API socket at ${sock} after ${ms} ms`);
    await sleep(poll);
  }
}

function spawnCli(args: string[]): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await done;
  clearTimeout(t);
}

async function socketReady(dir: string): Promise<ManagerBenchReport['socketReady']> {
  const runs: { wallMs: number; cpuMs: number }[] = [];
  for (let i = 0; i < SOCKET_REPS; i++) {
    const sock = join(dir, `serve${i}.sock`);
    const t0 = performance.now();
    const child = spawnCli(['serve', '--api-sock', sock]);
    await waitForSocket(sock, 20_000, child);
    const wallMs = performance.now() - t0;
    runs.push({ wallMs, cpuMs: cpuNs(child.pid!) / 1e6 });
    await stop(child);
  }
  return { wallMs: median(runs.map((r) => r.wallMs))!, cpuMs: median(runs.map((r) => r.cpuMs))!, runs };
}

interface Managed { child: ChildProcess; sock: string; dir: string }

async function startManager(dir: string, name: string, args: string[] = []): Promise<Managed> {
  const sock = join(dir, `${name}.sock`);
  const child = spawnCli(['manage', '--api-sock', sock, ...args]);
  await waitForSocket(sock, 20_000, child, 20);
  return { child, sock, dir };
}

/** RSS of the manager and of its VM processes. */
async function totalRss(m: Managed): Promise<number> {
  const vms = ((await api(m.sock, 'GET', '/vms')).body as { vms: { pid?: number }[] }).vms;
  return rssMiB(m.child.pid!) + vms.reduce((t, v) => t + (v.pid !== undefined ? rssMiB(v.pid) : 0), 0);
}

async function totalCpuNs(m: Managed): Promise<number> {
  const vms = ((await api(m.sock, 'GET', '/vms')).body as { vms: { pid?: number }[] }).vms;
  return cpuNs(m.child.pid!) + vms.reduce((t, v) => t + (v.pid !== undefined ? cpuNs(v.pid) : 0), 0);
}

async function memoryPerVm(dir: string, processPerVm: boolean): Promise<number> {
  const kernel = join(dir, 'idle.bin');
  // STI; HLT; JMP back: no timer programmed, nothing wakes it.
  writeFileSync(kernel, multiboot([0xfb, 0xf4, 0xeb, 0xfd]));
  const m = await startManager(dir, processPerVm ? 'mem-proc' : 'mem-thread', processPerVm ? ['--process-per-vm'] : []);
  try {
    // One VM first, so that one-time costs (the worker's module graph) are not counted per VM.
    const start = async (id: string): Promise<void> => {
      await ok(m.sock, 'PUT', `/vms/${id}`);
      await ok(m.sock, 'PUT', `/vms/${id}/boot-source`, { kernel_image_path: kernel });
      await ok(m.sock, 'PUT', `/vms/${id}/machine-config`, { vcpu_count: 1, mem_size_mib: 64 });
      await ok(m.sock, 'PUT', `/vms/${id}/actions`, { action_type: 'InstanceStart' });
    };
    await start('warm');
    await sleep(1000);
    const before = await totalRss(m);
    for (let i = 0; i < VMS_FOR_MEMORY; i++) await start(`m${i}`);
    await sleep(2000);
    const after = await totalRss(m);
    return (after - before) / VMS_FOR_MEMORY;
  } finally {
    await stop(m.child);
  }
}

/** Console clients: connect, wait for the prompt, type a command, wait for its answer. */
function consoleAnswers(path: string, bootMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let out = '';
    let typed = false;
    const s = connect(path);
    const timer = setTimeout(() => { s.destroy(); resolve(false); }, bootMs);
    s.on('data', (b: Buffer) => {
      out += b.toString('latin1');
      if (!typed && out.includes(PROMPT)) { typed = true; s.write('echo answer-$((6*7))\n'); }
      if (typed && out.includes('answer-42')) { clearTimeout(timer); s.destroy(); resolve(true); }
    });
    s.on('error', () => { clearTimeout(timer); resolve(false); });
  });
}

async function idleCpu(m: Managed): Promise<number> {
  const c0 = await totalCpuNs(m);
  const t0 = performance.now();
  await sleep(IDLE_S * 1000);
  return (await totalCpuNs(m) - c0) / 1e6 / (performance.now() - t0) * 100;
}

async function bootMany(m: Managed, count: number, memMiB: number): Promise<{ answered: number; bootS: number }> {
  const ids = Array.from({ length: count }, (_, i) => `d${i}`);
  const t0 = performance.now();
  const answers = await Promise.all(ids.map(async (id) => {
    await ok(m.sock, 'PUT', `/vms/${id}`);
    await ok(m.sock, 'PUT', `/vms/${id}/boot-source`, bootSource);
    await ok(m.sock, 'PUT', `/vms/${id}/machine-config`, { vcpu_count: 1, mem_size_mib: memMiB });
    const answered = consoleAnswers(join(m.dir, `${id}.console`), 60_000 + count * 15_000);
    await ok(m.sock, 'PUT', `/vms/${id}/actions`, { action_type: 'InstanceStart' });
    return answered;
  }));
  return { answered: answers.filter((a) => a).length, bootS: (performance.now() - t0) / 1000 };
}

export async function benchManager(opts: { log?: (line: string) => void } = {}): Promise<ManagerBenchReport> {
  const log = opts.log ?? (() => {});
  const loadAvgBefore = loadavg();
  const dir = mkdtempSync(join(tmpdir(), 'tv-bench-mgr-'));
  try {
    log('manager: API socket ready time (typevisor serve)...');
    const sr = await socketReady(dir);
    log('manager: memory per VM (worker threads, then processes)...');
    const threadMiB = await memoryPerVm(dir, false);
    const processMiB = await memoryPerVm(dir, true);

    log('manager: idle cost of one default guest at its prompt...');
    const one = await startManager(dir, 'idle');
    let idlePct: number;
    try {
      const r = await bootMany(one, 1, 64);
      if (r.answered !== 1) throw new Error('the idle guest did not answer on its console');
      await sleep(2000);
      idlePct = await idleCpu(one);
    } finally {
      await stop(one.child);
    }

    const asked = Number(process.env.TYPEVISOR_BENCH_DENSITY ?? DEFAULT_DENSITY);
    log(`manager: density, ${asked} idle 64 MiB guests...`);
    const many = await startManager(dir, 'density', ['--max-vms', String(Math.max(asked, 1))]);
    let density: ManagerBenchReport['density'];
    try {
      const r = await bootMany(many, asked, 64);
      await sleep(2000);
      const rss = await totalRss(many);
      const idle = await idleCpu(many);
      density = {
        asked, answered: r.answered, bootS: r.bootS, rssMiB: rss, rssPerVmMiB: rss / asked,
        idlePercentOfCore: idle, hostMemMiB: totalmem() / 2 ** 20,
        ...(r.answered < asked ? { note: `${asked - r.answered} guests did not answer within the timeout` } : {}),
      };
    } finally {
      await stop(many.child);
    }
    return {
      socketReady: sr,
      memoryPerVm: { threadMiB, processMiB, vms: VMS_FOR_MEMORY, guestMiB: 64 },
      idleVm: { percentOfCore: idlePct, seconds: IDLE_S },
      density,
      host: hostLoad(loadAvgBefore),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatManagerReport(r: ManagerBenchReport): string[] {
  const d = r.density;
  return [
    'manager benchmark (typevisor serve / manage; Firecracker\'s promises as the anchors)',
    `  API socket answering after spawn:  ${r.socketReady.wallMs.toFixed(0)} ms wall, ${r.socketReady.cpuMs.toFixed(0)} CPU ms` +
      `   (goal: within 8 CPU ms, Firecracker)   runs ${r.socketReady.runs.map((x) => `${x.wallMs.toFixed(0)}/${x.cpuMs.toFixed(0)}`).join(' ')} (wall/CPU ms)`,
    `  host memory per VM beyond guest RAM (RSS added per idle ${r.memoryPerVm.guestMiB} MiB VM, ${r.memoryPerVm.vms} VMs):` +
      ` worker thread ${r.memoryPerVm.threadMiB.toFixed(1)} MiB, own process ${r.memoryPerVm.processMiB.toFixed(1)} MiB   (goal ≤ 10 MiB; Firecracker ≤ 5 MiB)`,
    `  idle default guest at its prompt: ${r.idleVm.percentOfCore.toFixed(2)} % of a core over ${r.idleVm.seconds} s   (goal < 0.5 %)`,
    `  density: ${d.answered}/${d.asked} idle 64 MiB guests answering on their consoles (all started at once, ${d.bootS.toFixed(1)} s to the last answer);` +
      ` RSS ${d.rssMiB.toFixed(0)} MiB (${d.rssPerVmMiB.toFixed(1)} MiB per VM), idle CPU ${d.idlePercentOfCore.toFixed(1)} % of a core` +
      ` (${(d.idlePercentOfCore / Math.max(d.asked, 1)).toFixed(2)} % per VM); host ${r.host.cpus} CPUs, ${(d.hostMemMiB / 1024).toFixed(0)} GiB   (goal: 200 on 2 cores, 24 GiB)`,
    ...(d.note ? [`    ${d.note}`] : []),
    hostLine(r.host),
  ];
}

// Run directly: node dist/bench/manager.js [--json]
if (isMain(import.meta.url)) {
  const a = new BenchArgs('node dist/bench/manager.js [--json]   (TYPEVISOR_BENCH_DENSITY=N: guests in the density run)', []);
  a.report(benchManager({ log: a.log }), formatManagerReport);
}
