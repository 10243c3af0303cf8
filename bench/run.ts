// Benchmark runner: `npm run bench [-- --json] [-- name...]`. Each benchmark module
// measures typevisor and its peers in the same run; add new ones to BENCHMARKS.
//
//   --json           print one JSON object with every report instead of text
//   --help           list the benchmarks
//   name...          run only the named benchmarks (default: all)

import { benchCpu, formatCpuReport } from './cpu.js';
import { benchBoot, formatBootReport } from './boot.js';
import { benchBlk, formatBlkReport } from './blk.js';
import { benchManager, formatManagerReport } from './manager.js';
import { benchSnapshot, formatSnapshotReport } from './snapshot.js';
import { benchNet, formatNetReport } from './net.js';
import { benchShim, formatShimReport } from './shim.js';
import { benchWeb, formatWebReport } from './web.js';
import { progressLog } from './args.js';

interface Benchmark {
  name: string;
  run(log: (line: string) => void): Promise<unknown>;
  format(report: unknown): string[];
}

const BENCHMARKS: Benchmark[] = [
  {
    name: 'cpu',
    run: (log) => benchCpu({ log }),
    format: (r) => formatCpuReport(r as Awaited<ReturnType<typeof benchCpu>>),
  },
  { name: 'boot', run: (log) => benchBoot({ log }), format: (r) => formatBootReport(r as Awaited<ReturnType<typeof benchBoot>>) },
  // Debian's stock kernel: slow on the interpreter (minutes), so the translator and the peers only, one boot each.
  {
    name: 'distro',
    run: (log) => benchBoot({ log, kernel: 'debian-686', reps: 1, timeoutSeconds: 600, only: ['typevisor', 'v86', 'qemu-tcg'] }),
    format: (r) => formatBootReport(r as Awaited<ReturnType<typeof benchBoot>>),
  },
  { name: 'blk', run: (log) => benchBlk({ log }), format: (r) => formatBlkReport(r as Awaited<ReturnType<typeof benchBlk>>) },
  { name: 'manager', run: (log) => benchManager({ log }), format: (r) => formatManagerReport(r as Awaited<ReturnType<typeof benchManager>>) },
  { name: 'snapshot', run: (log) => benchSnapshot({ log }), format: (r) => formatSnapshotReport(r as Awaited<ReturnType<typeof benchSnapshot>>) },
  { name: 'net', run: (log) => benchNet({ log }), format: (r) => formatNetReport(r as Awaited<ReturnType<typeof benchNet>>) },
  { name: 'shim', run: (log) => benchShim({ log }), format: (r) => formatShimReport(r as Awaited<ReturnType<typeof benchShim>>) },
  { name: 'web', run: (log) => benchWeb({ log }), format: (r) => formatWebReport(r as Awaited<ReturnType<typeof benchWeb>>) },
];

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const usage = `usage: npm run bench -- [--json] [name...]   names: ${BENCHMARKS.map((b) => b.name).join(', ')} (default: all)`;
  if (args.includes('--help') || args.includes('-h')) {
    console.log(usage);
    return;
  }
  const json = args.includes('--json');
  const badOption = args.find((a) => a.startsWith('-') && a !== '--json');
  if (badOption !== undefined) {
    console.error(`unknown option ${badOption}; ${usage}`);
    process.exit(2);
  }
  const names = args.filter((a) => !a.startsWith('-'));
  const unknown = names.filter((n) => !BENCHMARKS.some((b) => b.name === n));
  if (unknown.length > 0) {
    console.error(`unknown benchmark ${unknown.join(', ')}; available: ${BENCHMARKS.map((b) => b.name).join(', ')}`);
    process.exit(2);
  }
  const selected = BENCHMARKS.filter((b) => names.length === 0 || names.includes(b.name));
  const log = progressLog(json);
  const reports: Record<string, unknown> = {};
  for (const b of selected) {
    const report = await b.run(log);
    reports[b.name] = report;
    if (!json) for (const line of b.format(report)) console.log(line);
  }
  if (json) console.log(JSON.stringify(reports, null, 2));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
