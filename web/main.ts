// The page: a terminal (xterm.js) on the guest's COM1, the controls, snapshots kept in
// IndexedDB, and the live stats panel. The machine itself runs in a Web Worker
// (worker.ts), so the page stays responsive however busy the guest is.

import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import uPlot from 'uplot';
import type { BootRequest, FromWorker, Stats, ToWorker } from './protocol.js';
import { loadSnapshot, saveSnapshot, type StoredSnapshot } from './snapshotStore.js';

const DEFAULT_CMDLINE = 'console=ttyS0 panic=-1';
const PLOT_SECONDS = 60;
const PROMPT = 'typevisor:/# ';
const params = new URLSearchParams(location.search);
const pacing = params.get('pacing') === 'fast' ? 'fast' : 'realtime';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const statusEl = $('status');
const errorEl = $('error');

function showError(message: string): void {
  errorEl.textContent = message;
  errorEl.hidden = false;
}
function clearError(): void {
  errorEl.hidden = true;
  errorEl.textContent = '';
}
function setStatus(s: string): void {
  statusEl.textContent = s;
}

// ---- terminal ----

const term = new Terminal({ convertEol: false, scrollback: 5000, fontSize: 14, cursorBlink: true });
const fit = new FitAddon();
term.loadAddon(fit);
term.open($('term'));
fit.fit();
addEventListener('resize', () => fit.fit());
const encoder = new TextEncoder();
term.onData((d) => send({ type: 'input', bytes: encoder.encode(d) }));
// Ctrl-C belongs to the guest: Ctrl-Shift-C copies the selection, Ctrl-Shift-V pastes
// (as do the browser's own paste and the context menu).
term.attachCustomKeyEventHandler((e) => {
  if (e.type !== 'keydown' || !e.ctrlKey || !e.shiftKey) return true;
  if (e.code === 'KeyC' && term.hasSelection()) { void navigator.clipboard.writeText(term.getSelection()); return false; }
  if (e.code === 'KeyV') { void navigator.clipboard.readText().then((t) => term.paste(t)); return false; }
  return true;
});

// ---- the worker ----

let worker: Worker | null = null;
let lastBoot: BootRequest | null = null;
let running = false;
let paused = false;
/** The default guest's boot, from posting it to the worker to its first shell prompt (the benchmark's figure). */
let bootPostedAt: number | null = null;
let bootToPromptMs: number | null = null;
let serialTail = '';
const decoder = new TextDecoder('latin1');
let pendingSnapshot: ((s: { state: Uint8Array; memory: Uint8Array; ms: number }) => void) | null = null;

function send(m: ToWorker, transfer: Transferable[] = []): void {
  worker?.postMessage(m, transfer);
}

function setRunning(on: boolean): void {
  running = on;
  for (const id of ['pause', 'reset', 'cad', 'snap-save', 'snap-download']) $<HTMLButtonElement>(id).disabled = !on;
  $<HTMLButtonElement>('disk-download').disabled = !on || lastBoot?.disk == null;
  if (!on) { paused = false; $('pause').textContent = 'Pause'; }
}

function newWorker(): Worker {
  worker?.terminate();
  const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  w.onmessage = (ev: MessageEvent<FromWorker>) => onWorker(ev.data);
  w.onerror = (ev) => { showError(`The machine's worker failed: ${ev.message}`); setRunning(false); };
  worker = w;
  term.reset();
  resetStats();
  return w;
}

function onWorker(m: FromWorker): void {
  switch (m.type) {
    case 'serial':
      term.write(m.bytes);
      if (bootToPromptMs === null && bootPostedAt !== null) {
        serialTail = (serialTail + decoder.decode(m.bytes)).slice(-256);
        if (serialTail.includes(PROMPT)) bootToPromptMs = performance.now() - bootPostedAt;
      }
      break;
    case 'running': setRunning(true); setStatus('running'); break;
    case 'stats': showStats(m.stats); break;
    case 'paused': paused = m.paused; $('pause').textContent = paused ? 'Resume' : 'Pause'; setStatus(paused ? 'paused' : 'running'); break;
    case 'snapshot': pendingSnapshot?.(m); pendingSnapshot = null; break;
    case 'disk': if (m.image !== null) download(m.image, 'disk.img'); break;
    case 'exit':
      setRunning(false);
      setStatus(`stopped: ${m.kind}`);
      if (m.kind !== 'poweroff' && m.kind !== 'reset') showError(m.message);
      break;
    case 'error':
      pendingSnapshot = null;
      showError(m.message);
      if (!running) setStatus('not running');
      break;
  }
}

function boot(req: BootRequest): void {
  clearError();
  lastBoot = req;
  const w = newWorker();
  setStatus('booting');
  bootPostedAt = performance.now();
  bootToPromptMs = null;
  serialTail = '';
  // Copies go to the worker: the page keeps its own for Reset.
  w.postMessage({ ...req, kernel: req.kernel.slice(), initrd: req.initrd?.slice() ?? null, disk: req.disk?.slice() ?? null } satisfies ToWorker);
}

function memoryMiB(): number {
  return Number($<HTMLInputElement>('memory').value);
}
function cpuEngine(): 'jit' | 'interp' {
  return $<HTMLSelectElement>('cpu').value === 'interp' ? 'interp' : 'jit';
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

async function fileBytes(id: string): Promise<Uint8Array | null> {
  const f = $<HTMLInputElement>(id).files?.[0];
  return f ? new Uint8Array(await f.arrayBuffer()) : null;
}

function download(bytes: Uint8Array, name: string): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart]));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// ---- controls ----

$('boot').onclick = async () => {
  try {
    setStatus('fetching the default guest');
    const [kernel, initrd] = await Promise.all([fetchBytes('guest/bzImage'), fetchBytes('guest/initramfs.cpio.gz')]);
    boot({ type: 'boot', kernel, initrd, cmdline: params.get('append') ?? DEFAULT_CMDLINE, memoryMiB: memoryMiB(), cpu: cpuEngine(), disk: null, pacing });
  } catch (e) { showError(`Cannot fetch the default guest: ${(e as Error).message}`); }
};

$('boot-files').onclick = async () => {
  const kernel = await fileBytes('kernel-file');
  if (kernel === null) { showError('Pick a kernel file first.'); return; }
  boot({
    type: 'boot', kernel, initrd: await fileBytes('initrd-file'), disk: await fileBytes('disk-file'),
    cmdline: $<HTMLInputElement>('cmdline').value, memoryMiB: memoryMiB(), cpu: cpuEngine(), pacing,
  });
};

$('pause').onclick = () => send({ type: paused ? 'resume' : 'pause' });
$('reset').onclick = () => { if (lastBoot !== null) boot(lastBoot); };
$('cad').onclick = () => send({ type: 'ctrl-alt-del' });
$('disk-download').onclick = () => send({ type: 'disk' });

// Dropped files: a disk image by its extension, an initrd by its, anything else the kernel.
const termEl = $('term');
termEl.addEventListener('dragover', (e) => e.preventDefault());
termEl.addEventListener('drop', (e) => {
  e.preventDefault();
  for (const f of e.dataTransfer?.files ?? []) {
    const id = /\.(img|raw|ext[234])$/i.test(f.name) ? 'disk-file' : /(initr|\.cpio|\.gz$)/i.test(f.name) ? 'initrd-file' : 'kernel-file';
    const dt = new DataTransfer();
    dt.items.add(f);
    $<HTMLInputElement>(id).files = dt.files;
  }
  setStatus('files picked: press "Boot these files"');
});

// ---- snapshots ----

function takeSnapshot(): Promise<{ state: Uint8Array; memory: Uint8Array; ms: number }> {
  return new Promise((resolve) => { pendingSnapshot = resolve; send({ type: 'snapshot' }); });
}

function restore(s: StoredSnapshot): void {
  clearError();
  lastBoot = null;
  const w = newWorker();
  setStatus('restoring');
  w.postMessage({ type: 'restore', state: s.state, memory: s.memory, cpu: cpuEngine() } satisfies ToWorker, [s.state.buffer, s.memory.buffer]);
}

$('snap-save').onclick = async () => {
  setStatus('saving snapshot');
  try {
    const s = await takeSnapshot();
    await saveSnapshot({ state: s.state, memory: s.memory, savedAt: Date.now() });
    setStatus(`snapshot saved (${((s.state.length + s.memory.length) / 1048576).toFixed(1)} MiB in ${s.ms.toFixed(0)} ms)`);
  } catch (e) {
    setStatus(running ? 'running' : 'not running');
    showError(`Cannot save the snapshot in this browser: ${(e as Error).message}`);
  }
};
$('snap-restore').onclick = async () => {
  const s = await loadSnapshot().catch((e: unknown) => { showError(`Cannot read the browser's snapshot: ${(e as Error).message}`); return null; });
  if (s === undefined) { showError('No snapshot is saved in this browser.'); return; }
  if (s !== null) restore(s);
};
$('snap-download').onclick = async () => {
  const s = await takeSnapshot();
  download(s.state, 'vm.state');
  download(s.memory, 'vm.mem');
};
$('snap-upload').onclick = async () => {
  const [state, memory] = [await fileBytes('snap-state-file'), await fileBytes('snap-mem-file')];
  if (state === null || memory === null) { showError('Pick the snapshot\'s state file and its memory file.'); return; }
  restore({ state, memory, savedAt: Date.now() });
};

// ---- stats ----

const KINDS = ['portIo', 'mmio', 'hlt', 'exceptions', 'interrupts'] as const;
const KIND_LABELS: Record<(typeof KINDS)[number], string> = { portIo: 'port I/O', mmio: 'MMIO', hlt: 'HLT', exceptions: 'exceptions', interrupts: 'interrupts' };
const COLORS = ['#4a90d9', '#e07b39', '#6aa84f', '#c0392b', '#8e44ad'];
let plotData: number[][] = [[], ...KINDS.map(() => [])];
let prev: Stats | null = null;
const plot = new uPlot({
  width: 380, height: 180, legend: { show: true },
  scales: { x: { time: false } },
  axes: [{ label: 's' }, { size: 60 }],
  series: [{ label: 'uptime (s)' }, ...KINDS.map((k, i) => ({ label: KIND_LABELS[k], stroke: COLORS[i]!, width: 1.5 }))],
}, plotData as uPlot.AlignedData, $('plot'));

function resetStats(): void {
  prev = null;
  plotData = [[], ...KINDS.map(() => [])];
  plot.setData(plotData as uPlot.AlignedData);
  $('bars').textContent = '';
  $('detail').textContent = '';
}

function fmtBytes(n: number): string {
  return n >= 1048576 ? `${(n / 1048576).toFixed(1)} MiB` : `${(n / 1024).toFixed(0)} KiB`;
}

let latest: Stats | null = null;
function showStats(s: Stats): void {
  latest = s;
  $('s-mips').textContent = s.paused ? 'paused' : s.mips.toFixed(1);
  $('s-insns').textContent = s.instructions.toLocaleString('en');
  $('s-uptime').textContent = `${(s.uptimeMs / 1000).toFixed(1)} s`;
  $('s-translated').textContent = `${(100 * s.translatedShare).toFixed(1)} %`;
  $('s-memory').textContent = `RAM ${fmtBytes(s.ramBytes)}, code ${fmtBytes(s.codeCacheBytes)}` + (s.heapBytes !== null ? `, JS heap ${fmtBytes(s.heapBytes)}` : '');
  const max = Math.max(1, ...KINDS.map((k) => s.exits[k]));
  const bars = $('bars');
  bars.textContent = '';
  KINDS.forEach((k, i) => {
    const row = document.createElement('div');
    row.className = 'bar';
    row.dataset['kind'] = k;
    const name = document.createElement('span');
    name.textContent = KIND_LABELS[k];
    const bar = document.createElement('div');
    bar.style.width = `${(14 * s.exits[k]) / max}em`;
    bar.style.background = COLORS[i]!;
    const n = document.createElement('span');
    n.className = 'count';
    n.textContent = s.exits[k].toLocaleString('en');
    row.append(name, bar, n);
    bars.append(row);
  });
  const list = (title: string, e: [string, number][]): string => e.length === 0 ? '' : `${title}\n${e.map(([l, v]) => `  ${l.padEnd(24)} ${v}`).join('\n')}\n`;
  $('detail').textContent = list('ports', s.ports) + list('MMIO', s.mmio) + list('exceptions', s.exceptionVectors) + list('interrupts', s.interruptVectors);
  if (prev !== null && s.uptimeMs > prev.uptimeMs) {
    const dt = (s.uptimeMs - prev.uptimeMs) / 1000;
    plotData[0]!.push(s.uptimeMs / 1000);
    KINDS.forEach((k, i) => plotData[i + 1]!.push(Math.max(0, (s.exits[k] - prev!.exits[k]) / dt)));
    while (plotData[0]!.length > 2 && plotData[0]![0]! < s.uptimeMs / 1000 - PLOT_SECONDS) for (const col of plotData) col.shift();
    plot.setData(plotData as uPlot.AlignedData);
  }
  prev = s;
}

// ---- start ----

if (!crossOriginIsolated || typeof SharedArrayBuffer !== 'function') {
  showError('This page needs SharedArrayBuffer (guest memory is one), which browsers offer only to cross-origin isolated pages: ' +
    'serve it with `typevisor web` (it sends the COOP/COEP headers), or use a browser that supports cross-origin isolation.');
  for (const id of ['boot', 'boot-files', 'snap-restore', 'snap-upload']) $<HTMLButtonElement>(id).disabled = true;
  setStatus('cannot run here');
}

/** For the browser tests and the curious: the terminal's text and the latest stats. */
(globalThis as Record<string, unknown>)['typevisorPage'] = {
  screenText(): string {
    const b = term.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < b.length; i++) lines.push(b.getLine(i)?.translateToString(true) ?? '');
    return lines.join('\n');
  },
  stats: () => latest,
  error: () => (errorEl.hidden ? null : errorEl.textContent),
  status: () => statusEl.textContent,
  bootToPromptMs: () => bootToPromptMs,
};
