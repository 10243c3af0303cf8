// Browser benchmark (issue 14): the default guest's boot to its shell prompt in the page
// (typevisor web, the machine in a Web Worker) in headless Chromium, against the same
// boot under Node (bench/boot.ts's bootTypevisor, a fresh process) in the same run,
// interleaved, a few repetitions each. Both boot with fast pacing (idle time skipped,
// the page's ?pacing=fast) and the same command line; the page is timed from posting
// the boot to the worker (worker start and bundle load included) to the prompt on COM1,
// Node from the Machine's construction.
//
// v86 (npm package v86, with Debian's SeaBIOS as in bench/boot.ts) boots the same kernel,
// initramfs and command line in the same Chromium, from a page of its own served here,
// timed from `new V86` (its wasm start-up and SeaBIOS included) to the prompt.
//
// Chromium is run twice: as a browser runs it (V8 tiers WebAssembly up to TurboFan on
// its own: a page cannot hold it to Liftoff as the translator does under Node,
// src/cpu/jit/wasmTiering.ts), and with --js-flags=--liftoff-only, which shows what that
// tiering costs.

import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { loadavg } from 'node:os';
import type { Browser } from 'playwright-core';
import { REPO_ROOT } from '../src/cli/webBundle.js';
import { BenchArgs, isMain } from './args.js';
import { inFreshProcess } from './child.js';
import { CMDLINE, type BootRun } from './boot.js';
import { hostLine, hostLoad, median, type HostLoad } from './report.js';
import { launchChromium, noChromium, servePage } from '../test/web/chromium.js';

export type WebRunner = 'node' | 'chromium' | 'chromium-liftoff-only' | 'v86-chromium';
const RUNNERS: readonly WebRunner[] = ['node', 'chromium', 'chromium-liftoff-only', 'v86-chromium'];
const SEABIOS = ['/usr/share/seabios/bios.bin', '/usr/share/seabios/bios-256k.bin'];
const VGABIOS = ['/usr/share/seabios/vgabios-stdvga.bin', '/usr/share/seabios/vgabios.bin'];

/** v86's page: its npm build, SeaBIOS and the default guest, on a free port of 127.0.0.1; a string says why not. */
async function serveV86(): Promise<{ url: string; server: Server } | string> {
  let dir: string;
  try {
    dir = dirname(createRequire(import.meta.url).resolve('v86'));
  } catch {
    return 'npm package v86 not installed';
  }
  const bios = SEABIOS.find((p) => existsSync(p));
  const vga = VGABIOS.find((p) => existsSync(p));
  if (bios === undefined || vga === undefined) return 'SeaBIOS not installed (Debian package seabios)';
  const page = `<!doctype html><meta charset="utf-8"><script type="module">
import { V86 } from './libv86.mjs';
const get = async (u) => ({ buffer: await (await fetch(u)).arrayBuffer() });
const [bios, vga_bios, bzimage, initrd] = await Promise.all(['bios.bin', 'vgabios.bin', 'bzImage', 'initrd'].map(get));
globalThis.v86PromptMs = null;
const t0 = performance.now();
const e = new V86({ wasm_path: 'v86.wasm', bios, vga_bios, bzimage, initrd, cmdline: ${JSON.stringify(CMDLINE)}, memory_size: 128 << 20,
  autostart: true, disable_keyboard: true, disable_mouse: true, disable_speaker: true, log_level: 0 });
let tail = '';
e.add_listener('serial0-output-byte', (b) => {
  if (globalThis.v86PromptMs !== null) return;
  tail = (tail + String.fromCharCode(b)).slice(-64);
  if (tail.includes('typevisor:/# ')) globalThis.v86PromptMs = performance.now() - t0;
});
</script>`;
  const files: Record<string, string> = {
    '/libv86.mjs': join(dir, 'libv86.mjs'), '/v86.wasm': join(dir, 'v86.wasm'), '/bios.bin': bios, '/vgabios.bin': vga,
    '/bzImage': join(REPO_ROOT, 'guest/bzImage'), '/initrd': join(REPO_ROOT, 'guest/initramfs.cpio.gz'),
  };
  const types: Record<string, string> = { '.mjs': 'text/javascript', '.wasm': 'application/wasm' };
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/') { res.writeHead(200, { 'Content-Type': 'text/html' }).end(page); return; }
    const f = files[path];
    if (f === undefined) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'Content-Type': types[path.slice(path.lastIndexOf('.'))] ?? 'application/octet-stream' }).end(readFileSync(f));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  return { server, url: `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}/` };
}

async function bootV86InPage(browser: Browser, url: string, timeoutMs: number): Promise<number | null> {
  const page = await browser.newPage();
  try {
    await page.goto(url);
    await page.waitForFunction('globalThis.v86PromptMs != null', undefined, { timeout: timeoutMs, polling: 100 });
    return (await page.evaluate('globalThis.v86PromptMs') as number) / 1000;
  } catch {
    return null;
  } finally {
    await page.close();
  }
}

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
  const runs: Record<WebRunner, (number | null)[]> = { node: [], chromium: [], 'chromium-liftoff-only': [], 'v86-chromium': [] };
  const done = (status: 'ok' | 'skipped', note?: string): WebBenchReport => ({
    status, ...(note !== undefined ? { note } : {}), reps, runs,
    medians: Object.fromEntries(RUNNERS.map((r) => [r, median(runs[r].filter((x): x is number => x !== null))])) as Record<WebRunner, number | null>,
    host: hostLoad(before),
  });
  if (noChromium !== false) return done('skipped', noChromium);
  const served = await servePage();
  const v86 = await serveV86();
  if (typeof v86 === 'string') o.log(`v86 in the browser skipped: ${v86}`);
  const browsers = { chromium: await launchChromium(), 'chromium-liftoff-only': await launchChromium('--liftoff-only') };
  try {
    for (let i = 0; i < reps; i++) {
      const node = await inFreshProcess<BootRun>(new URL('./boot.js', import.meta.url).href, 'bootTypevisor', ['jit', timeoutMs, 'default'], () => {});
      runs.node.push(node.prompt);
      for (const r of ['chromium', 'chromium-liftoff-only'] as const) runs[r].push(await bootInPage(browsers[r], served.url, timeoutMs));
      if (typeof v86 !== 'string') runs['v86-chromium'].push(await bootV86InPage(browsers.chromium, v86.url, timeoutMs));
      o.log(`web boot ${i + 1}/${reps}: ${RUNNERS.filter((r) => runs[r].length > i).map((r) => `${r} ${runs[r][i]?.toFixed(2) ?? 'timeout'} s`).join(', ')}`);
    }
  } finally {
    for (const b of Object.values(browsers)) await b.close();
    await served.stop();
    if (typeof v86 !== 'string') {
      v86.server.closeAllConnections();
      await new Promise((r) => v86.server.close(r));
    }
  }
  return done('ok');
}

export function formatWebReport(r: WebBenchReport): string[] {
  const lines = ['', 'browser boot: the default guest to its shell prompt, fast pacing (seconds, median of ' + `${r.reps})`];
  if (r.status === 'skipped') return [...lines, `  skipped: ${r.note}`];
  const node = r.medians.node;
  for (const name of RUNNERS) {
    const m = r.medians[name];
    if (r.runs[name].length === 0) { lines.push(`  ${name.padEnd(22)} not run`); continue; }
    const ratio = m !== null && node !== null && name !== 'node' ? `  (${(m / node).toFixed(2)}x Node's)` : '';
    lines.push(`  ${name.padEnd(22)} ${m?.toFixed(2) ?? 'n/a'} s${ratio}   runs: ${r.runs[name].map((x) => x?.toFixed(2) ?? 'timeout').join(' ')}`);
  }
  const [tv, v] = [r.medians.chromium, r.medians['v86-chromium']];
  if (tv !== null && v !== null) lines.push(`  typevisor / v86 in the same Chromium: ${(tv / v).toFixed(2)} (${tv <= v ? `typevisor ${(v / tv).toFixed(2)}x faster` : `v86 ${(tv / v).toFixed(2)}x faster`})`);
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
