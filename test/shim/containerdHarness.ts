// A private containerd for the shim tests: its own root, state and socket under a temp
// directory (no systemd, nothing shared with a host containerd), the CRI plugin off,
// and PATH starting with a directory holding containerd-shim-typevisor-v2 (a wrapper
// that runs this build's dist/src/shim/main.js), which is how containerd finds a shim.

import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync, chmodSync, mkdirSync, rmSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SHIM_MAIN = fileURLToPath(new URL('../../src/shim/main.js', import.meta.url));
export const RUNTIME = 'io.containerd.typevisor.v2';

/** Why the containerd tests cannot run here, or null. */
export function containerdMissing(): string | null {
  if (!existsSync('/usr/bin/containerd') || !existsSync('/usr/bin/ctr')) return 'containerd and ctr are not installed (apt-get install containerd)';
  if (process.getuid?.() !== 0) return 'containerd needs root';
  if (!existsSync('/usr/sbin/mkfs.ext4') && !existsSync('/sbin/mkfs.ext4')) return 'mkfs.ext4 is not installed (apt-get install e2fsprogs)';
  return null;
}

export interface CtrResult { code: number; stdout: string; stderr: string }

export class Containerd {
  readonly dir: string;
  readonly address: string;
  private proc: ChildProcess | null = null;
  private readonly env: NodeJS.ProcessEnv;
  log = '';

  constructor() {
    this.dir = mkdtempSync('/tmp/tvctd-');
    this.address = join(this.dir, 'c.sock');
    const bin = join(this.dir, 'bin');
    mkdirSync(bin);
    const wrapper = join(bin, 'containerd-shim-typevisor-v2');
    writeFileSync(wrapper, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(SHIM_MAIN)} "$@"\n`);
    chmodSync(wrapper, 0o755);
    this.env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` };
  }

  async start(): Promise<void> {
    const config = join(this.dir, 'config.toml');
    writeFileSync(config, [
      'version = 2',
      `root = "${join(this.dir, 'root')}"`,
      `state = "${join(this.dir, 'state')}"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]',
      '[grpc]', `  address = "${this.address}"`,
      '[debug]', '  level = "info"',
    ].join('\n') + '\n');
    this.proc = spawn('/usr/bin/containerd', ['--config', config], { env: this.env, stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc.stderr!.on('data', (d: Buffer) => { this.log += d.toString(); if (this.log.length > 1 << 20) this.log = this.log.slice(-(1 << 19)); });
    // Up when ctr can talk to it (bounded by count, not by a tight deadline).
    for (let i = 0; i < 600; i++) {
      if (this.proc.exitCode !== null) throw new Error(`containerd exited: ${this.log.slice(-2000)}`);
      if ((await this.ctr(['version'])).code === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`containerd did not come up: ${this.log.slice(-2000)}`);
  }

  /** Run ctr against this containerd; stdin is empty. */
  /** ctr's FIFOs go under the test's directory (not /run/containerd/fifo, which ctr run -d leaves behind). */
  get fifoDir(): string { return join(this.dir, 'fifo'); }

  ctr(args: string[], opts: { timeoutMs?: number } = {}): Promise<CtrResult> {
    return new Promise((resolve) => {
      const p = execFile('/usr/bin/ctr', ['--address', this.address, ...args], { env: this.env, timeout: opts.timeoutMs ?? 300_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
        resolve({ code, stdout, stderr });
      });
      p.stdin?.end();
    });
  }

  /** ctr as a child the test can talk to and wait on. */
  spawnCtr(args: string[]): ChildProcess {
    return spawn('/usr/bin/ctr', ['--address', this.address, ...args], { env: this.env, stdio: ['pipe', 'pipe', 'pipe'] });
  }

  /** Remove a container whatever its state (a test's clean-up after a failure). */
  async forceRemove(id: string): Promise<void> {
    await this.ctr(['task', 'kill', '-s', 'KILL', id]);
    await this.ctr(['task', 'delete', '--force', id]);
    await this.ctr(['container', 'rm', id]);
  }

  async stop(): Promise<void> {
    // Containers first: shims outlive containerd by design.
    const tasks = (await this.ctr(['container', 'ls', '-q'])).stdout.split('\n').filter((l) => l !== '');
    for (const id of tasks) await this.forceRemove(id);
    const p = this.proc;
    if (p !== null && p.exitCode === null) {
      const done = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
      await done;
      clearTimeout(t);
    }
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        if (cmd.includes(SHIM_MAIN) && cmd.includes(this.address)) process.kill(Number(pid), 'SIGKILL');
      } catch { /* gone */ }
    }
    // containerd leaves its snapshot mounts behind when stopped; unmount before removing.
    const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(this.dir));
    for (const m of mounts.reverse()) await new Promise((r) => execFile('umount', ['-l', m], r));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
