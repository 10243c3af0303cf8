// Network benchmark: TCP throughput guest→host over user-mode networking (passt). The
// default guest boots, takes a DHCP lease from passt and sends N MiB of zeros with
// `dd if=/dev/zero bs=64k | nc GATEWAY PORT` to a TCP sink this process runs on the
// host's loopback (passt maps the gateway address to it); the sink counts the bytes and
// times them from its accept to the sender's FIN. Both VMMs run the same guest, the same
// passt (its qemu stream socket, 65520-byte MTU) and the same commands, interleaved
// round by round:
//   - typevisor: an in-process Machine, virtio-net over virtio-pci, --net user, fast pacing;
//   - QEMU TCG: qemu-system-i386 -netdev stream (the socket of a passt this benchmark
//     starts) -device virtio-net-pci.
// Debian 12's passt never passes the sink's close back to the guest as a FIN, so the
// guest's nc does not end by itself: a run ends when the sink has seen the FIN and the
// VM is then stopped.

import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable } from '../src/net/PasstBackend.js';
import { bootGuest, haveGuest, INITRD, KERNEL } from '../test/devices/virtio/guestBoot.js';
import { BenchArgs, isMain } from './args.js';
import { CMDLINE, MEMORY_MIB } from './boot.js';
import { hostLine, hostLoad, median, ratioText, type HostLoad } from './report.js';

const PROMPT = /typevisor:\/# $/;
const QEMU = 'qemu-system-i386';

export type NetPeer = 'typevisor' | 'qemu-tcg';
export const NET_PEERS: readonly NetPeer[] = ['typevisor', 'qemu-tcg'];

export interface NetRun {
  status: 'ok' | 'failed' | 'timeout';
  note?: string;
  bytes: number;
  /** Seconds from the sink's accept to the guest's FIN. */
  seconds: number | null;
  /** Decimal megabytes per second. */
  mbps: number | null;
}

export interface NetPeerResult {
  name: NetPeer;
  status: 'ok' | 'skipped' | 'failed' | 'timeout';
  note?: string;
  setup?: string;
  runs: NetRun[];
  medianMBps: number | null;
}

export interface NetBenchReport {
  benchmark: 'net';
  mib: number;
  reps: number;
  peers: NetPeerResult[];
  /** typevisor MB/s ÷ QEMU MB/s (above 1: typevisor faster). */
  ratio: number | null;
  host: HostLoad;
}

export interface NetBenchOptions {
  log?: (line: string) => void;
  /** MiB the guest sends per run (default 16). */
  mib?: number;
  reps?: number;
  timeoutSeconds?: number;
  only?: NetPeer[];
}

/** A TCP sink on 127.0.0.1: each connection's bytes and its accept-to-FIN time. */
class Sink {
  private server: Server | null = null;
  private waiter: ((r: { bytes: number; seconds: number }) => void) | null = null;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((s) => {
      const t0 = performance.now();
      let bytes = 0;
      s.on('data', (d: Buffer) => (bytes += d.length));
      s.on('end', () => {
        const w = this.waiter;
        this.waiter = null;
        w?.({ bytes, seconds: (performance.now() - t0) / 1000 });
        s.end();
      });
      s.on('error', () => s.destroy());
    });
    await new Promise<void>((res) => this.server!.listen(0, '127.0.0.1', res));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** The next connection's result. */
  next(): Promise<{ bytes: number; seconds: number }> {
    return new Promise((res) => (this.waiter = res));
  }

  close(): void {
    this.server?.close();
  }
}

/** The guest's commands: a DHCP lease from passt, then the transfer to the gateway. */
function guestScript(mib: number, port: number): string[] {
  return [
    'ip link set eth0 up',
    `echo '[ "$1" = bound ] && ip addr add $ip/$mask dev $interface && ip route add default via $router && echo $router > /tmp/router' > /tmp/dhcp.sh`,
    'chmod +x /tmp/dhcp.sh',
    'udhcpc -i eth0 -n -q -t 10 -s /tmp/dhcp.sh >/dev/null 2>&1',
    `dd if=/dev/zero bs=64k count=${mib * 16} 2>/dev/null | nc $(cat /tmp/router) ${port}`,
  ];
}

/** The result of one run; `tail` (the console's last line) goes into the note of a failed one. */
function runResult(want: number, got: { bytes: number; seconds: number } | null, timedOut: boolean, tail: string): NetRun {
  const last = JSON.stringify(tail.replace(/\x1b\[[0-9;]*[a-zA-Z]/g, '').trim().split('\n').pop()?.slice(-100) ?? '');
  if (got === null) return { status: timedOut ? 'timeout' : 'failed', note: `${timedOut ? 'no transfer finished in time' : 'the VM ended before the transfer'}; console ends with ${last}`, bytes: 0, seconds: null, mbps: null };
  if (got.bytes !== want) return { status: 'failed', note: `sink got ${got.bytes} of ${want} bytes`, bytes: got.bytes, seconds: got.seconds, mbps: null };
  return { status: 'ok', bytes: got.bytes, seconds: got.seconds, mbps: got.bytes / 1e6 / got.seconds };
}

async function runTypevisor(sink: Sink, mib: number, timeoutMs: number): Promise<NetRun> {
  const result = sink.next();
  let got: { bytes: number; seconds: number } | null = null;
  const done = result.then((r) => (got = r));
  const r = await bootGuest({
    virtio: { nets: [{ kind: 'user', hostfwd: [] }] },
    transport: 'pci',
    memoryMiB: MEMORY_MIB,
    pacing: 'fast',
    script: guestScript(mib, sink.port),
    stopWhen: done,
    timeoutMs,
  });
  return runResult(mib << 20, got, r.exit === 'timeout', r.output.slice(-300));
}

/** Start passt for QEMU on a socket in a fresh 0777 directory (passt as root runs as nobody). */
async function startPasst(passt: string): Promise<{ child: ChildProcess; sock: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'typevisor-bench-passt-'));
  chmodSync(dir, 0o777);
  const sock = join(dir, 'passt.sock');
  const child = spawn(passt, ['-f', '-1', '-s', sock, '-l', join(dir, 'passt.log'), '-m', '65520'], { stdio: 'ignore' });
  const end = Date.now() + 5000;
  while (!existsSync(sock)) {
    if (Date.now() > end || child.exitCode !== null) {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
      throw new Error('passt did not create its socket');
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return { child, sock, dir };
}

async function runQemu(sink: Sink, passt: string, mib: number, timeoutMs: number): Promise<NetRun> {
  const p = await startPasst(passt);
  const result = sink.next();
  const q = spawn(QEMU, [
    '-accel', 'tcg', '-m', String(MEMORY_MIB), '-nographic', '-no-reboot', '-kernel', KERNEL, '-initrd', INITRD, '-append', CMDLINE,
    '-netdev', `stream,id=n0,server=off,addr.type=unix,addr.path=${p.sock}`, '-device', 'virtio-net-pci,netdev=n0',
  ], { stdio: ['pipe', 'pipe', 'ignore'] });
  let out = '';
  let typed = false;
  q.stdout!.on('data', (d: Buffer) => {
    out = (out + d.toString('latin1')).slice(-300);
    if (!typed && PROMPT.test(out.replace(/\x1b\[[0-9;]*[a-zA-Z]/g, ''))) {
      typed = true;
      q.stdin!.write(guestScript(mib, sink.port).join('\n') + '\n');
    }
  });
  q.stdin!.on('error', () => {});
  let timedOut = false;
  const exited = new Promise<null>((res) => q.once('exit', () => res(null)));
  const timer = new Promise<null>((res) => setTimeout(() => { timedOut = true; res(null); }, timeoutMs));
  const got = await Promise.race([result, exited, timer]);
  q.kill('SIGKILL');
  await exited;
  p.child.kill();
  rmSync(p.dir, { recursive: true, force: true });
  return runResult(mib << 20, got, timedOut, out);
}

export async function benchNet(opts: NetBenchOptions = {}): Promise<NetBenchReport> {
  const log = opts.log ?? (() => {});
  const mib = opts.mib ?? 16;
  const reps = opts.reps ?? 3;
  const timeoutMs = (opts.timeoutSeconds ?? 180) * 1000;
  const only = opts.only ?? ['typevisor', 'qemu-tcg'];
  const loadAvgBefore = loadavg();
  const passt = findExecutable('passt');
  const qemu = findExecutable(QEMU);
  const peers = new Map<NetPeer, NetPeerResult>();
  const skip = (name: NetPeer, note: string): void => void peers.set(name, { name, status: 'skipped', note, runs: [], medianMBps: null });
  for (const name of only) {
    if (!haveGuest) skip(name, 'the default guest (guest/bzImage) is not built');
    else if (passt === null) skip(name, 'passt is not installed (sudo scripts/setup-debian.sh)');
    else if (name === 'qemu-tcg' && qemu === null) skip(name, `${QEMU} is not installed (sudo scripts/setup-debian.sh --bench)`);
    else {
      peers.set(name, {
        name, status: 'ok', runs: [], medianMBps: null,
        setup: name === 'typevisor'
          ? `in-process Machine, ${MEMORY_MIB} MiB, virtio-net-pci, --net user (passt, MTU 65520), fast pacing`
          : `${QEMU} -accel tcg -m ${MEMORY_MIB} -netdev stream (passt -m 65520) -device virtio-net-pci`,
      });
    }
  }
  const sink = new Sink();
  await sink.start();
  try {
    for (let rep = 0; rep < reps; rep++) {
      for (const p of peers.values()) {
        if (p.status === 'skipped') continue;
        const run = p.name === 'typevisor' ? await runTypevisor(sink, mib, timeoutMs) : await runQemu(sink, passt!, mib, timeoutMs);
        p.runs.push(run);
        log(`net: ${p.name} run ${rep + 1}/${reps}: ${run.status === 'ok' ? `${run.mbps!.toFixed(2)} MB/s (${mib} MiB in ${run.seconds!.toFixed(2)} s)` : `${run.status}: ${run.note}`}`);
        if (run.status !== 'ok' && p.status === 'ok') {
          p.status = run.status;
          p.note = run.note!;
        }
      }
    }
  } finally {
    sink.close();
  }
  for (const p of peers.values()) p.medianMBps = median(p.runs.flatMap((r) => (r.mbps === null ? [] : [r.mbps])));
  const tv = peers.get('typevisor')?.medianMBps ?? null;
  const qe = peers.get('qemu-tcg')?.medianMBps ?? null;
  return {
    benchmark: 'net', mib, reps, peers: [...peers.values()],
    ratio: tv !== null && qe !== null ? tv / qe : null,
    host: hostLoad(loadAvgBefore),
  };
}

export function formatNetReport(r: NetBenchReport): string[] {
  const lines = [`net benchmark: TCP guest→host over --net user (passt), ${r.mib} MiB with dd | nc to a host sink, median of ${r.reps} runs`];
  for (const p of r.peers) {
    const name = p.name.padEnd(10);
    if (p.status === 'skipped') {
      lines.push(`  ${name} skipped: ${p.note}`);
      continue;
    }
    lines.push(`  ${name} ${p.medianMBps === null ? '-' : `${p.medianMBps.toFixed(2)} MB/s`}   runs ${p.runs.map((x) => (x.mbps === null ? x.status : x.mbps.toFixed(2))).join(' ')}`);
    if (p.status !== 'ok') lines.push(`  ${''.padEnd(10)} ${p.status}: ${p.note}`);
  }
  lines.push(`  typevisor / QEMU TCG = ${ratioText(r.ratio, 'QEMU', 'faster')}`);
  lines.push(`  setup:`);
  for (const p of r.peers) if (p.setup !== undefined) lines.push(`    ${p.name}: ${p.setup}`);
  lines.push(hostLine(r.host));
  return lines;
}

// Run directly: node dist/bench/net.js [--json] [--mib N] [--reps N] [--only typevisor,qemu-tcg]
if (isMain(import.meta.url)) {
  const a = new BenchArgs('node dist/bench/net.js [--json] [--mib N] [--reps N] [--only typevisor,qemu-tcg]', ['mib', 'reps', 'only']);
  const opts: NetBenchOptions = { log: a.log };
  const mib = a.count('mib'), reps = a.count('reps'), only = a.only(NET_PEERS, 'peer');
  if (mib !== undefined) opts.mib = mib;
  if (reps !== undefined) opts.reps = reps;
  if (only !== undefined) opts.only = only;
  a.report(benchNet(opts), formatNetReport);
}
