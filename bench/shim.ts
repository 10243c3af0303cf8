// containerd shim benchmark: `ctr run --rm` of a trivial command, wall time from the
// command to its exit, under typevisor (io.containerd.typevisor.v2: a microVM booting the
// default guest) beside containerd's default runc runtime in the same run, against a
// private containerd (test/shim/containerdHarness.ts); and the host memory a running
// container costs: the typevisor shim server's resident set (its VM's RAM and thread
// included) beside runc's shim. Needs root, containerd and ctr; runc's half needs runc.

import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { Containerd, RUNTIME, SHIM_MAIN, containerdMissing } from '../test/shim/containerdHarness.js';
import { buildBusyboxImage, buildHostImage } from '../test/shim/ociImage.js';
import { BenchArgs, isMain } from './args.js';
import { hostLine, hostLoad, median, type HostLoad } from './report.js';

const VM_IMAGE = 'docker.io/library/tvbusybox:latest';
const HOST_IMAGE = 'docker.io/library/tvhosttrue:latest';

export interface ShimBenchReport {
  reps: number;
  typevisor: { runMs: number[]; medianMs: number | null; rssKiB: number | null };
  runc: { runMs: number[]; medianMs: number | null; rssKiB: number | null } | { error: string };
  host: HostLoad;
}

function rssKiB(match: (cmd: string) => boolean): number | null {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (!match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'))) continue;
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m !== null) return Number(m[1]);
    } catch { /* gone */ }
  }
  return null;
}

async function timedRun(ctd: Containerd, args: string[]): Promise<number> {
  const t0 = performance.now();
  const r = await ctd.ctr(['run', '--fifo-dir', ctd.fifoDir, '--rm', ...args]);
  if (r.code !== 0) throw new Error(`ctr run ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
  return performance.now() - t0;
}

/** The resident set of a running container's shim, once its task runs. */
async function runningRss(ctd: Containerd, args: string[], id: string, match: (cmd: string) => boolean): Promise<number | null> {
  const r = await ctd.ctr(['run', '--fifo-dir', ctd.fifoDir, '-d', ...args]);
  if (r.code !== 0) throw new Error(`ctr run -d: ${r.stderr}`);
  await new Promise((res) => setTimeout(res, 3000)); // let the guest settle after its start
  const rss = rssKiB(match);
  await ctd.forceRemove(id);
  return rss;
}

export async function benchShim(opts: { log: (l: string) => void; reps?: number }): Promise<ShimBenchReport> {
  const missing = containerdMissing();
  if (missing !== null) throw new Error(missing);
  const reps = opts.reps ?? 3;
  const load0 = loadavg();
  const ctd = new Containerd();
  try {
    await ctd.start();
    const dir = mkdtempSync('/tmp/tvbench-');
    try {
      buildBusyboxImage(join(dir, 'vm'), join(dir, 'vm.tar'), VM_IMAGE);
      buildHostImage(join(dir, 'host'), join(dir, 'host.tar'), HOST_IMAGE, ['/usr/bin/true', '/usr/bin/sleep']);
      for (const t of ['vm.tar', 'host.tar']) {
        const r = await ctd.ctr(['image', 'import', join(dir, t)]);
        if (r.code !== 0) throw new Error(`import ${t}: ${r.stderr}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const haveRunc = existsSync('/usr/sbin/runc') || existsSync('/usr/bin/runc');
    const tv: number[] = [];
    const rc: number[] = [];
    opts.log('warm-up: one run each');
    await timedRun(ctd, ['--runtime', RUNTIME, VM_IMAGE, 'warm-tv', 'true']);
    if (haveRunc) await timedRun(ctd, [HOST_IMAGE, 'warm-runc', '/usr/bin/true']);
    for (let i = 0; i < reps; i++) {
      tv.push(await timedRun(ctd, ['--runtime', RUNTIME, VM_IMAGE, `tv${i}`, 'true']));
      opts.log(`typevisor run ${i + 1}: ${tv[i]!.toFixed(0)} ms`);
      if (haveRunc) {
        rc.push(await timedRun(ctd, [HOST_IMAGE, `runc${i}`, '/usr/bin/true']));
        opts.log(`runc run ${i + 1}: ${rc[i]!.toFixed(0)} ms`);
      }
    }
    const tvRss = await runningRss(ctd, ['--runtime', RUNTIME, VM_IMAGE, 'tv-rss', 'sleep', '1000'], 'tv-rss',
      (c) => c.includes(SHIM_MAIN) && c.includes('tv-rss'));
    const rcRss = haveRunc ? await runningRss(ctd, [HOST_IMAGE, 'rc-rss', '/usr/bin/sleep', '1000'], 'rc-rss',
      (c) => c.includes('containerd-shim-runc-v2') && c.includes('rc-rss')) : null;
    return {
      reps,
      typevisor: { runMs: tv, medianMs: median(tv), rssKiB: tvRss },
      runc: haveRunc ? { runMs: rc, medianMs: median(rc), rssKiB: rcRss } : { error: 'runc is not installed' },
      host: hostLoad(load0),
    };
  } finally {
    await ctd.stop();
  }
}

export function formatShimReport(r: ShimBenchReport): string[] {
  const ms = (x: number | null): string => (x === null ? '-' : `${(x / 1000).toFixed(2)} s`);
  const kib = (x: number | null): string => (x === null ? '-' : `${(x / 1024).toFixed(1)} MiB`);
  const lines = [
    `containerd shim: ctr run --rm of a trivial command, median of ${r.reps} (after one warm-up each)`,
    `  typevisor (microVM, default guest, 64 MiB): ${ms(r.typevisor.medianMs)}  [${r.typevisor.runMs.map((x) => x.toFixed(0)).join(', ')} ms]; shim RSS with a running container ${kib(r.typevisor.rssKiB)}`,
  ];
  if ('error' in r.runc) lines.push(`  runc: ${r.runc.error}`);
  else {
    lines.push(`  runc: ${ms(r.runc.medianMs)}  [${r.runc.runMs.map((x) => x.toFixed(0)).join(', ')} ms]; shim RSS ${kib(r.runc.rssKiB)}`);
    if (r.typevisor.medianMs !== null && r.runc.medianMs !== null) lines.push(`  typevisor / runc: ${(r.typevisor.medianMs / r.runc.medianMs).toFixed(1)}x the time`);
  }
  lines.push(hostLine(r.host));
  return lines;
}

if (isMain(import.meta.url)) {
  const args = new BenchArgs('node dist/bench/shim.js [--reps N] [--json]', ['reps']);
  const report = await benchShim({ log: args.log, reps: args.count('reps') });
  console.log(args.json ? JSON.stringify(report, null, 2) : formatShimReport(report).join('\n'));
}
