// Browser benchmark (issue 14): the default guest's boot to its shell prompt in the page
// (typevisor web, the machine in a Web Worker) in headless Chromium, against the same
// boot under Node (bench/boot.ts's bootTypevisor, a fresh process) in the same run,
// interleaved, a few repetitions each. Both boot with fast pacing (idle time skipped,
// the page's ?pacing=fast) and the same command line; the page is timed from posting
// the boot to the worker (worker start and bundle load included) to the prompt on COM1,
// Node from the Machine's construction.
//
// Chromium is run twice: as a browser runs it (V8 tiers WebAssembly up to TurboFan on
// its own: a page cannot hold it to Liftoff as the translator does under Node,
// src/cpu/jit/wasmTiering.ts), and with --js-flags=--liftoff-only, which shows what that
// tiering costs.

import { loadavg } from 'node:os';
import type { Browser } from 'playwright-core';
import { BenchArgs, isMain } from './args.js';
import { inFreshProcess } from './child.js';
import { CMDLINE, type BootRun } from './boot.js';
import { hostLine, hostLoad, median, type HostLoad } from './report.js';
import { launchChromium, noChromium, servePage } from '../test/web/chromium.js';

export type WebRunner = 'node' | 'chromium' | 'chromium-liftoff-only';
const RUNNERS: readonly WebRunner[] = ['node', 'chromium', 'chromium-liftoff-only'];

export interface WebBenchReport {
  status: 'ok' | 'skipped';
  note?: string;
  reps: number;
  /** Seconds to the prompt, per runner and repetition (null: no prompt within the timeout). */
  runs: Record<WebRunner, (number | null)[]>;
  medians: Record<WebRunner, number | null>;
  host: HostLoad;
}

async function bootInPage(browser: Browser, url: string, timeoutMs: number): Promise<number | null> {
  const page = await browser.newPage();
  try {
    await page.goto(`${url}?pacing=fast&append=${encodeURIComponent(CMDLINE)}`);
    await page.click('#boot');
    await page.waitForFunction('typevisorPage.bootToPromptMs() !== null', undefined, { timeout: timeoutMs, polling: 100 });
    return (await page.evaluate('typevisorPage.bootToPromptMs()') as number) / 1000;
  } catch {
    return null;
  } finally {
    await page.close();
  }
}

export async function benchWeb(o: { log: (line: string) => void; reps?: number; timeoutSeconds?: number }): Promise<WebBenchReport> {
  const reps = o.reps ?? 3;
  const timeoutMs = (o.timeoutSeconds ?? 180) * 1000;
  const before = loadavg();
  const runs: Record<WebRunner, (number | null)[]> = { node: [], chromium: [], 'chromium-liftoff-only': [] };
  const done = (status: 'ok' | 'skipped', note?: string): WebBenchReport => ({
    status, ...(note !== undefined ? { note } : {}), reps, runs,
    medians: Object.fromEntries(RUNNERS.map((r) => [r, median(runs[r].filter((x): x is number => x !== null))])) as Record<WebRunner, number | null>,
    host: hostLoad(before),
  });
  if (noChromium !== false) return done('skipped', noChromium);
  const served = await servePage();
  const browsers = { chromium: await launchChromium(), 'chromium-liftoff-only': await launchChromium('--liftoff-only') };
  try {
    for (let i = 0; i < reps; i++) {
      const node = await inFreshProcess<BootRun>(new URL('./boot.js', import.meta.url).href, 'bootTypevisor', ['jit', timeoutMs, 'default'], () => {});
      runs.node.push(node.prompt);
      for (const r of ['chromium', 'chromium-liftoff-only'] as const) runs[r].push(await bootInPage(browsers[r], served.url, timeoutMs));
      o.log(`web boot ${i + 1}/${reps}: ${RUNNERS.map((r) => `${r} ${runs[r][i]?.toFixed(2) ?? 'timeout'} s`).join(', ')}`);
    }
  } finally {
    for (const b of Object.values(browsers)) await b.close();
    await served.stop();
  }
  return done('ok');
}

export function formatWebReport(r: WebBenchReport): string[] {
  const lines = ['', 'browser boot: the default guest to its shell prompt, fast pacing (seconds, median of ' + `${r.reps})`];
  if (r.status === 'skipped') return [...lines, `  skipped: ${r.note}`];
  const node = r.medians.node;
  for (const name of RUNNERS) {
    const m = r.medians[name];
    const ratio = m !== null && node !== null && name !== 'node' ? `  (${(m / node).toFixed(2)}x Node's)` : '';
    lines.push(`  ${name.padEnd(22)} ${m?.toFixed(2) ?? 'n/a'} s${ratio}   runs: ${r.runs[name].map((x) => x?.toFixed(2) ?? 'timeout').join(' ')}`);
  }
  lines.push(hostLine(r.host));
  return lines;
}

if (isMain(import.meta.url)) {
  const args = new BenchArgs('node dist/bench/web.js [--reps N] [--json]', ['reps']);
  benchWeb({ log: args.log, reps: args.count('reps') ?? 3 }).then((r) => {
    if (args.json) console.log(JSON.stringify(r, null, 2));
    else for (const l of formatWebReport(r)) console.log(l);
  }, (e: unknown) => { console.error(e); process.exit(1); });
}
