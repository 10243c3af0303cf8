// virtio-blk benchmark: sequential and random 4 KiB reads and writes (and sequential
// 1 MiB ones for bandwidth) on a 64 MiB raw image, run by the default guest on
// typevisor and on QEMU TCG in the same run, with the same kernel, initramfs, image
// contents and guest commands:
//   - seq-*-4k and seq-*-1m: busybox dd on /dev/vda with iflag=direct / oflag=direct
//     (O_DIRECT: no guest page cache, every block is a device request);
//   - rand-*-4k: bench/asm/blkbench (a 489-byte static i386 program added to the
//     initramfs): COUNT pread64/pwrite64 of 4 KiB at offsets from a fixed-seed LCG, with
//     O_DIRECT, in one process — a shell loop of dd would measure fork/exec, not the disk.
// Timing is host wall time: the guest prints a line before and after each phase and the
// host timestamps the lines as they arrive on the serial console (for blkbench the
// program's own lines, so its exec is outside the window; for dd the shell's, so one
// fork/exec of dd is inside it). Guest clocks are not used: typevisor's virtual time is
// not host time. typevisor runs with realtime pacing (virtual time follows the host clock,
// as QEMU's does), so guest timers behave the same on both. After each phase the guest
// prints /sys/block/vda/stat, and the report gives the device requests and sectors of the
// phase, which shows the requests reached the device (O_DIRECT honoured, no merging).
// Transports differ: typevisor's CLI default is virtio-mmio (measured as 'typevisor');
// QEMU's `-drive if=virtio` is virtio-blk-pci. 'typevisor-pci' runs the same on
// typevisor's virtio-pci for a like-for-like transport. Both hosts read and write the
// image through the host page cache (QEMU's default cache=writeback; typevisor's file I/O).

import { spawn, type ChildProcess } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootGuest, cpioNewc } from '../test/devices/virtio/guestBoot.js';
import { BenchArgs, isMain } from './args.js';
import { CMDLINE, INSTALL_QEMU, MEMORY_MIB, QEMU, qemuVersion, repoRoot } from './boot.js';
import { hostLine, hostLoad, loadText, median, ratioText, type HostLoad } from './report.js';

const DISK_MIB = 64;
const SPAN_BLOCKS = (DISK_MIB << 20) / 4096;

export type BlkVmm = 'typevisor' | 'typevisor-pci' | 'qemu-tcg';
export const BLK_VMMS: readonly BlkVmm[] = ['typevisor', 'typevisor-pci', 'qemu-tcg'];

interface Phase {
  name: string;
  /** Bytes moved by one run of the phase. */
  bytes: number;
  /** Requests the guest program issues (4 KiB or 1 MiB each). */
  ops: number;
  /** Guest shell command; "tool" phases time blkbench's own begin/end lines. */
  cmd: string;
  tool: boolean;
}

export interface BlkPhaseResult {
  name: string;
  bytes: number;
  ops: number;
  /** Host seconds per run (one per repetition). */
  seconds: number[];
  median: number | null;
  mbPerSecond: number | null;
  iops: number | null;
  /** From /sys/block/vda/stat around the last run: requests completed and 512-byte sectors. */
  device: { reads: number; readSectors: number; writes: number; writeSectors: number } | null;
}

export interface BlkVmmResult {
  name: BlkVmm;
  status: 'ok' | 'skipped' | 'failed' | 'timeout';
  note?: string;
  setup?: string;
  phases: BlkPhaseResult[];
}

export interface BlkBenchReport {
  benchmark: 'blk';
  reps: number;
  diskMiB: number;
  memoryMiB: number;
  host: HostLoad;
  vmms: BlkVmmResult[];
  /** Per phase: typevisor's throughput / QEMU's (below 1: QEMU is faster), for each typevisor transport. */
  ratios: Record<string, Record<string, number | null>>;
}

export interface BlkBenchOptions {
  /** Runs of each phase inside one boot (default 3); the median is reported. */
  reps?: number;
  /** Scale the request counts (default 1: 2048 x 4 KiB, 32 x 1 MiB). */
  scale?: number;
  only?: BlkVmm[];
  /** Seconds a whole VMM run (boot + all phases) may take (default 600). */
  timeoutSeconds?: number;
  log?: (line: string) => void;
}

function phases(scale: number): Phase[] {
  const n4 = Math.max(16, Math.round(2048 * scale));
  const n1m = Math.max(2, Math.round(32 * scale));
  const dd = (name: string, read: boolean, bs: string, size: number, n: number): Phase => ({
    name, bytes: size * n, ops: n, tool: false,
    cmd: read ? `dd if=/dev/vda of=/dev/null bs=${bs} count=${n} iflag=direct` : `dd if=/dev/zero of=/dev/vda bs=${bs} count=${n} oflag=direct`,
  });
  return [
    dd('seq-read-4k', true, '4k', 4096, n4),
    dd('seq-write-4k', false, '4k', 4096, n4),
    { name: 'rand-read-4k', bytes: 4096 * n4, ops: n4, tool: true, cmd: `/blkbench r ${n4} ${SPAN_BLOCKS}` },
    { name: 'rand-write-4k', bytes: 4096 * n4, ops: n4, tool: true, cmd: `/blkbench w ${n4} ${SPAN_BLOCKS}` },
    dd('seq-read-1m', true, '1M', 1 << 20, n1m),
    dd('seq-write-1m', false, '1M', 1 << 20, n1m),
  ];
}

/**
 * The guest script, a file in the initramfs run with one typed command (so no typed
 * input is echoed while a phase runs): phase k of repetition r is step
 * i = r * phases + k + 1, framed by bb-phase-i / bb-done-i and followed by the block
 * stat line bb-stat-i (bb-stat-0 before the first step). `read` is a shell builtin: no
 * fork between a phase and its stat line.
 */
function guestScript(ps: Phase[], reps: number): string {
  const lines = ['read -r S < /sys/block/vda/stat; echo "bb-stat-0 $S"'];
  let i = 0;
  for (let r = 0; r < reps; r++) {
    for (const p of ps) {
      i++;
      lines.push(`echo bb-phase-${i}; ${p.cmd} 2>/dev/null || echo bb-fail-${i}; echo bb-done-${i}`);
      lines.push(`read -r S < /sys/block/vda/stat; echo "bb-stat-${i} $S"`);
    }
  }
  lines.push('echo bb-finished-42');
  return lines.join('\n') + '\n';
}
/** Typed at the shell prompt: runs the script file (markers in the echo of this line cannot match). */
const RUN_SCRIPT = 'sh /blkbench.sh';
const FINISHED = 'bb-finished-42';

/** Turns console text into timestamped phase boundaries. */
class MarkerWatch {
  private partial = '';
  private step = -1;
  readonly begin = new Map<number, number>();
  readonly end = new Map<number, number>();
  readonly toolBegin = new Map<number, number>();
  readonly toolEnd = new Map<number, number>();
  readonly failed = new Set<number>();
  readonly stats = new Map<number, number[]>();
  finished = false;
  tail = '';

  constructor(private readonly t0: number) {}

  feed(chunk: string): void {
    const now = (performance.now() - this.t0) / 1000;
    this.tail = (this.tail + chunk).slice(-300);
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    if (this.partial.length > 4096) this.partial = this.partial.slice(-4096);
    for (const raw of lines) {
      const line = raw.replace(/\r/g, '').trim();
      let m: RegExpExecArray | null;
      if ((m = /^bb-phase-(\d+)$/.exec(line))) { this.step = Number(m[1]); this.begin.set(this.step, now); }
      else if ((m = /^bb-done-(\d+)$/.exec(line))) this.end.set(Number(m[1]), now);
      else if ((m = /^bb-fail-(\d+)$/.exec(line))) this.failed.add(Number(m[1]));
      else if ((m = /^bb-stat-(\d+) ([\d ]+)$/.exec(line))) this.stats.set(Number(m[1]), m[2]!.trim().split(/\s+/).map(Number));
      else if (line === 'blkbench-begin') this.toolBegin.set(this.step, now);
      else if (line === 'blkbench-end') this.toolEnd.set(this.step, now);
      else if (line === FINISHED) this.finished = true;
    }
  }

  /** Seconds step i took, or null when its markers are missing or it failed. */
  seconds(i: number, tool: boolean): number | null {
    if (this.failed.has(i)) return null;
    const b = tool ? this.toolBegin.get(i) : this.begin.get(i);
    const e = tool ? this.toolEnd.get(i) : this.end.get(i);
    return b !== undefined && e !== undefined && e > b ? e - b : null;
  }
}

function summarise(ps: Phase[], reps: number, w: MarkerWatch): BlkPhaseResult[] {
  return ps.map((p, k) => {
    const seconds: number[] = [];
    let device: BlkPhaseResult['device'] = null;
    for (let r = 0; r < reps; r++) {
      const i = r * ps.length + k + 1;
      const s = w.seconds(i, p.tool);
      if (s !== null) seconds.push(s);
      const a = w.stats.get(i - 1), b = w.stats.get(i);
      // Fields 1, 3, 5, 7 of the block stat file: reads, read sectors, writes, write sectors.
      if (a && b && a.length >= 7 && b.length >= 7) device = { reads: b[0]! - a[0]!, readSectors: b[2]! - a[2]!, writes: b[4]! - a[4]!, writeSectors: b[6]! - a[6]! };
    }
    const med = seconds.length === reps ? median(seconds) : null;
    return {
      name: p.name, bytes: p.bytes, ops: p.ops, seconds, median: med,
      mbPerSecond: med === null ? null : p.bytes / 1e6 / med,
      iops: med === null ? null : p.ops / med,
      device,
    };
  });
}

function makeImage(path: string): void {
  // Random contents: reads must not hit holes of a sparse file, which cost the host nothing.
  const buf = Buffer.alloc(DISK_MIB << 20);
  randomFillSync(buf);
  writeFileSync(path, buf);
}

/** Files added to the initramfs: blkbench and the phase script. */
function guestFiles(script: string): { name: string; data: Uint8Array; mode?: number }[] {
  return [
    { name: 'blkbench', data: new Uint8Array(readFileSync(join(repoRoot(), 'bench', 'asm', 'blkbench.bin'))) },
    { name: 'blkbench.sh', data: new TextEncoder().encode(script), mode: 0o100644 },
  ];
}

async function runTypevisor(transport: 'mmio' | 'pci', image: string, script: string, timeoutMs: number): Promise<{ watch: MarkerWatch; status: BlkVmmResult['status']; note?: string }> {
  const t0 = performance.now();
  const watch = new MarkerWatch(t0);
  const r = await bootGuest({
    transport,
    virtio: { drives: [{ file: image, readonly: false }] },
    memoryMiB: MEMORY_MIB,
    pacing: 'realtime',
    extraFiles: guestFiles(script),
    script: [RUN_SCRIPT],
    until: new RegExp(FINISHED),
    timeoutMs,
    onOutput: (t) => watch.feed(t),
  });
  if (watch.finished) return { watch, status: 'ok' };
  return { watch, status: r.exit === 'timeout' ? 'timeout' : 'failed', note: `guest ended (${r.exit}) before the last phase; console: ${watch.tail.replace(/\s+/g, ' ')}` };
}

function runQemu(image: string, initrd: string, timeoutMs: number): Promise<{ watch: MarkerWatch; status: BlkVmmResult['status']; note?: string }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const watch = new MarkerWatch(t0);
    let typed = false, settled = false, stderr = '', screen = '';
    let child: ChildProcess | undefined;
    const finish = (status: BlkVmmResult['status'], note?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const out = note === undefined ? { watch, status } : { watch, status, note };
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) { resolve(out); return; }
      child.once('exit', () => resolve(out));
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => finish('timeout', `not finished within ${timeoutMs / 1000} s; console: ${watch.tail.replace(/\s+/g, ' ')}`), timeoutMs);
    child = spawn(QEMU, qemuArgs(image, initrd), { stdio: ['pipe', 'pipe', 'pipe'] });
    const c = child;
    c.stdout!.setEncoding('latin1');
    c.stdout!.on('data', (s: string) => {
      watch.feed(s);
      if (!typed) {
        screen = (screen + s).slice(-400);
        if (/typevisor:\/# $/.test(screen.replace(/\x1b\[[0-9;]*[a-zA-Z]/g, ''))) {
          typed = true;
          c.stdin!.write(RUN_SCRIPT + '\n');
        }
      }
      if (watch.finished) finish('ok');
    });
    c.stdin!.on('error', () => {}); // the guest may be killed with input unread
    c.stderr!.setEncoding('utf8');
    c.stderr!.on('data', (s: string) => { stderr = (stderr + s).slice(-2000); });
    c.on('error', (e) => finish('failed', e.message));
    c.on('exit', (code, signal) => finish('failed', `qemu exited (${code ?? signal}): ${stderr.trim()}; console: ${watch.tail.replace(/\s+/g, ' ')}`));
  });
}

function qemuArgs(image: string, initrd: string): string[] {
  return [
    '-accel', 'tcg', '-cpu', 'pentium2', '-m', String(MEMORY_MIB),
    '-kernel', join(repoRoot(), 'guest', 'bzImage'), '-initrd', initrd, '-append', CMDLINE,
    '-drive', `file=${image},if=virtio,format=raw`,
    '-nographic', '-no-reboot', '-monitor', 'none',
  ];
}

export async function benchBlk(opts: BlkBenchOptions = {}): Promise<BlkBenchReport> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const reps = opts.reps ?? 3;
  const ps = phases(opts.scale ?? 1);
  const script = guestScript(ps, reps);
  const timeoutMs = (opts.timeoutSeconds ?? 600) * 1000;
  const wanted = opts.only ?? [...BLK_VMMS];
  const loadAvgBefore = loadavg();
  const dir = mkdtempSync(join(tmpdir(), 'typevisor-blkbench-'));
  const vmms: BlkVmmResult[] = [];
  log(`blk: ${ps.map((p) => `${p.name} ${p.ops}x${p.bytes / p.ops >= 1 << 20 ? '1M' : '4k'}`).join(', ')}; ${reps} runs each, ` +
    `${DISK_MIB} MiB image; host ${cpus().length} CPUs, load average ${loadText(loadAvgBefore)}`);
  try {
    // QEMU loads the initramfs from a file: the default one with blkbench and the script
    // prepended as an uncompressed cpio archive, as bootGuest does for typevisor.
    const initrd = join(dir, 'initrd.img');
    writeFileSync(initrd, Buffer.concat([cpioNewc(guestFiles(script)), readFileSync(join(repoRoot(), 'guest', 'initramfs.cpio.gz'))]));
    for (const name of BLK_VMMS) {
      if (!wanted.includes(name)) continue;
      const image = join(dir, `${name}.img`);
      const result: BlkVmmResult = { name, status: 'ok', phases: [] };
      vmms.push(result);
      let run;
      if (name === 'qemu-tcg') {
        const v = qemuVersion();
        if (v === null) { result.status = 'skipped'; result.note = `${QEMU} not found; install it with: ${INSTALL_QEMU}`; log(`  ${name}: skipped`); continue; }
        result.setup = `${v}: ${QEMU} ${qemuArgs(image, initrd).join(' ')} (virtio-blk-pci, cache=writeback)`;
        makeImage(image);
        run = await runQemu(image, initrd, timeoutMs);
      } else {
        const transport = name === 'typevisor' ? 'mmio' : 'pci';
        result.setup = `in-process Machine, pacing 'realtime', ${MEMORY_MIB} MiB, virtio-blk over virtio-${transport}, "${CMDLINE}"`;
        makeImage(image);
        run = await runTypevisor(transport, image, script, timeoutMs);
      }
      rmSync(image, { force: true });
      result.status = run.status;
      if (run.note !== undefined) result.note = run.note;
      result.phases = summarise(ps, reps, run.watch);
      for (const p of result.phases) {
        log(`  ${name} ${p.name}: ${p.seconds.map((s) => s.toFixed(3)).join(' ')} s` +
          (p.mbPerSecond === null ? ' (incomplete)' : ` -> ${p.mbPerSecond.toFixed(2)} MB/s, ${p.iops!.toFixed(0)} IOPS`));
      }
      if (run.status !== 'ok') log(`  ${name}: ${run.status}: ${run.note}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const ratios: Record<string, Record<string, number | null>> = {};
  const qemu = vmms.find((v) => v.name === 'qemu-tcg' && v.status === 'ok');
  for (const tv of vmms) {
    if (tv.name === 'qemu-tcg' || qemu === undefined) continue;
    const row: Record<string, number | null> = {};
    for (const p of tv.phases) {
      const q = qemu.phases.find((x) => x.name === p.name);
      row[p.name] = p.mbPerSecond !== null && q?.mbPerSecond ? p.mbPerSecond / q.mbPerSecond : null;
    }
    ratios[`${tv.name}/qemu-tcg`] = row;
  }
  return { benchmark: 'blk', reps, diskMiB: DISK_MIB, memoryMiB: MEMORY_MIB, host: hostLoad(loadAvgBefore), vmms, ratios };
}

/** Human-readable lines for a report. */
export function formatBlkReport(r: BlkBenchReport): string[] {
  const lines = [
    `virtio-blk benchmark: default guest, ${r.memoryMiB} MiB, ${r.diskMiB} MiB raw image, O_DIRECT in the guest; median of ${r.reps} runs,`,
    '  host wall time between guest-printed markers (virtual time is not used); "dev req" = requests the guest block layer completed',
  ];
  for (const v of r.vmms) {
    if (v.status === 'skipped') { lines.push(`  ${v.name.padEnd(13)} skipped: ${v.note}`); continue; }
    if (v.status !== 'ok') lines.push(`  ${v.name.padEnd(13)} ${v.status}: ${v.note}`);
    for (const p of v.phases) {
      const d = p.device;
      const dev = d === null ? '' : `   dev req ${d.reads + d.writes} (${((d.readSectors + d.writeSectors) / Math.max(1, d.reads + d.writes) / 2).toFixed(0)} KiB avg)`;
      lines.push(`  ${v.name.padEnd(13)} ${p.name.padEnd(13)} ` + (p.median === null ? 'incomplete' :
        `${p.mbPerSecond!.toFixed(2).padStart(8)} MB/s ${p.iops!.toFixed(0).padStart(7)} IOPS   ${p.median.toFixed(3)} s for ${p.ops} requests${dev}`));
    }
  }
  for (const [k, row] of Object.entries(r.ratios)) {
    lines.push(`  ${k} throughput ratio (below 1: QEMU faster):`);
    for (const [phase, v] of Object.entries(row)) {
      lines.push(`    ${phase.padEnd(13)} ${ratioText(v, 'QEMU', 'faster')}`);
    }
  }
  lines.push('  setup:');
  for (const v of r.vmms) if (v.setup !== undefined) lines.push(`    ${v.name}: ${v.setup}`);
  lines.push('  notes: rand-* time blkbench from its first request to its last (no exec inside); seq-* time the dd command (one fork/exec');
  lines.push('  inside). Both VMMs go through the host page cache, so these are virtualisation-path costs, not disk speeds.');
  lines.push(hostLine(r.host));
  return lines;
}

// Run directly: node dist/bench/blk.js [--json] [--reps N] [--scale X] [--only typevisor,typevisor-pci,qemu-tcg]
if (isMain(import.meta.url)) {
  const a = new BenchArgs('node dist/bench/blk.js [--json] [--reps N] [--scale X] [--only typevisor,typevisor-pci,qemu-tcg]', ['reps', 'scale', 'only']);
  const o: BlkBenchOptions = { log: a.log };
  const reps = a.count('reps'), scale = a.number('scale', (n) => n > 0 && n <= 16, 'a number in (0, 16]'), only = a.only(BLK_VMMS);
  if (reps !== undefined) o.reps = reps;
  if (scale !== undefined) o.scale = scale;
  if (only !== undefined) o.only = only;
  a.report(benchBlk(o), formatBlkReport);
}
