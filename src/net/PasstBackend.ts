// User-mode networking through passt (https://passt.top), spoken to over its qemu stream protocol: a Unix stream socket carrying Ethernet frames, each after a 32-bit big-endian length (as QEMU's `-netdev stream` does).
//
// typevisor starts passt in the foreground, one-off (-1: it exits when the connection
// closes), with its socket in a fresh temporary directory of mode 0777: passt started
// as root drops to user nobody, and a socket path in a directory nobody cannot write
// is reported as bound but never appears. The guest gets its address by DHCP from
// passt, reaches the host's loopback services through the gateway address, and
// `hostfwd` rules become passt's `-t`/`-u` port forwards.

import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsc, existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createSocket } from 'node:dgram';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { FrameReader, frameWithLength, type NetBackend } from './NetBackend.js';

export interface HostForward {
  proto: 'tcp' | 'udp';
  /** Host address to bind (default: all). */
  hostAddr?: string;
  hostPort: number;
  guestPort: number;
}

export interface PasstOptions {
  hostfwd?: HostForward[];
  /** MTU passt announces by DHCP (and virtio-net reports); default 65520, passt's own. */
  mtu?: number;
  /** passt executable; default: `passt` on PATH. */
  passtPath?: string;
  /** Keep passt's log here instead of in its temporary directory. */
  debugLog?: string;
  /**
   * Log at debug level (passt --debug). Beware: Debian 12's passt (0.0~git20230309)
   * segfaults with --debug on the first guest TCP connection to a local port (a flag
   * name looked up out of bounds, fixed upstream in 9ffccf7), which looks exactly like
   * "TCP stalls after the SYN".
   */
  debug?: boolean;
  /** Write every frame passt sees to this pcap file (passt's --pcap; for debugging). */
  pcap?: string;
  /** How long to wait for passt's socket (ms; default 30 s): a guard against a passt that hangs, generous for a loaded host (passt exiting is seen at once). */
  startTimeoutMs?: number;
}

const INSTALL_HINT = 'install it with `apt-get install passt` (Debian, Ubuntu) or `dnf install passt` (Fedora)';
const QUEUE_LIMIT = 8 << 20;

/** Find an executable on PATH (and the sbin directories root's PATH may lack). */
export function findExecutable(name: string): string | null {
  const dirs = (process.env['PATH'] ?? '').split(delimiter).concat(['/usr/bin', '/usr/sbin', '/usr/local/bin', '/bin', '/sbin']);
  for (const d of dirs) {
    if (d === '') continue;
    const p = join(d, name);
    try {
      accessSync(p, fsc.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return null;
}

/**
 * passt's argument for one forward: ADDR/HOSTPORT:GUESTPORT. Without an address, IPv4's
 * any address, as QEMU's hostfwd binds: passt given a bare port binds IPv4 and IPv6 and
 * carries on silently when only one of them is free, while the other family's socket
 * (another program's) takes the connections. With one address a port it cannot bind
 * makes passt exit with "Failed to bind any port", which start() reports.
 */
export function passtForwardSpec(f: HostForward): string {
  return `${f.hostAddr || '0.0.0.0'}/${f.hostPort}:${f.guestPort}`;
}

/** Why passt could not bind a forward's host port, for the message: probe it ourselves now that passt has let go. */
async function whyUnbindable(f: HostForward, addr: string): Promise<string> {
  const code = await new Promise<string | null>((resolve) => {
    const done = (c: string | null, close: () => void): void => { close(); resolve(c); };
    if (f.proto === 'tcp') {
      const srv = createServer();
      srv.once('error', (e: NodeJS.ErrnoException) => done(e.code ?? 'error', () => srv.close()));
      srv.listen({ host: addr, port: f.hostPort, exclusive: true }, () => done(null, () => srv.close()));
    } else {
      const sock = createSocket(addr.includes(':') ? 'udp6' : 'udp4');
      sock.once('error', (e: NodeJS.ErrnoException) => done(e.code ?? 'error', () => sock.close()));
      sock.bind({ address: addr, port: f.hostPort, exclusive: true }, () => done(null, () => sock.close()));
    }
  });
  if (code === 'EADDRINUSE') return 'it is already in use on the host';
  if (code === 'EADDRNOTAVAIL') return `${addr} is not an address of this host`;
  if (code === 'EACCES') return 'this user may not bind it (ports below 1024 need privileges)';
  return code === null ? 'passt could not bind it' : `binding it fails with ${code}`;
}

export class PasstBackend implements NetBackend {
  onReceive: (frame: Uint8Array) => void = () => {};
  readonly mtu: number;
  private closed = false;
  /** Frames dropped because passt did not keep up. */
  dropped = 0;

  private constructor(
    private readonly child: ChildProcess,
    private readonly sock: Socket,
    private readonly dir: string,
    mtu: number,
  ) {
    this.mtu = mtu;
    const reader = new FrameReader((f) => this.onReceive(f));
    sock.on('data', (chunk: Buffer) => {
      if (!reader.push(chunk)) sock.destroy();
    });
    sock.on('error', () => sock.destroy());
    child.on('exit', (code, signal) => {
      // passt ending under a running guest takes its network down: say so once.
      if (!this.closed) process.stderr.write(`typevisor: --net user: passt exited (${signal ?? `status ${code}`}); the guest's network is down\n`);
      this.close();
    });
  }

  /** Start passt and connect to it. Throws a one-line Error naming the fix when it cannot. */
  static async start(opts: PasstOptions = {}): Promise<PasstBackend> {
    const exe = opts.passtPath ?? findExecutable('passt');
    if (exe === null || !existsSync(exe)) throw new Error(`--net user needs passt, which is not installed: ${INSTALL_HINT}`);
    const mtu = opts.mtu ?? 65520;
    const dir = await mkdtemp(join(tmpdir(), 'typevisor-passt-'));
    await chmod(dir, 0o777);
    const sockPath = join(dir, 'passt.sock');
    const logPath = opts.debugLog ?? join(dir, 'passt.log');
    // Debugging from outside: TYPEVISOR_PASST_PCAP=FILE (in a directory user nobody can
    // write when running as root), TYPEVISOR_PASST_DEBUG=1 (see PasstOptions.debug).
    const pcap = opts.pcap ?? process.env['TYPEVISOR_PASST_PCAP'];
    const debug = opts.debug ?? process.env['TYPEVISOR_PASST_DEBUG'] === '1';
    const args = ['-f', '-1', '-s', sockPath, '-l', logPath, '-m', String(mtu)];
    if (debug) args.push('--debug');
    if (pcap) args.push('--pcap', pcap);
    for (const f of opts.hostfwd ?? []) args.push(f.proto === 'tcp' ? '-t' : '-u', passtForwardSpec(f));
    const child = spawn(exe, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString();
    });
    const bindFailure = async (): Promise<Error | null> => {
      const m = /Failed to bind any port for '-([tu]) ([^/']+)\/(\d+):(\d+)'/.exec(readLog() + '\n' + stderr);
      const f = m ? opts.hostfwd?.find((x) => (x.proto === 'tcp') === (m[1] === 't') && x.hostPort === Number(m[3])) : undefined;
      if (!m || !f) return null;
      return new Error(`--net user: hostfwd=${f.proto}:${f.hostAddr ?? ''}:${f.hostPort}-:${f.guestPort}: cannot listen on host ${f.proto.toUpperCase()} port ${f.hostPort} (${m[2]}): ${await whyUnbindable(f, m[2]!)}`);
    };
    const readLog = (): string => {
      try {
        return readFileSync(logPath, 'utf8');
      } catch {
        return '';
      }
    };
    const failure = (what: string): Error => {
      const text = (readLog() + '\n' + stderr).split('\n').filter((l) => l.trim() !== '' && !l.startsWith('Failed to send')).slice(-3).join('; ');
      return new Error(`--net user: passt ${what}${text ? `: ${text}` : ''}`);
    };
    try {
      const sock = await new Promise<Socket>((resolve, reject) => {
        let exited = false;
        const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
        child.once('exit', (code) => {
          exited = true;
          reject(failure(`exited with status ${code}`));
        });
        child.once('error', (e) => reject(new Error(`--net user: cannot run ${exe}: ${e.message}`)));
        const poll = (): void => {
          if (exited) return;
          if (!existsSync(sockPath)) {
            if (Date.now() > deadline) reject(failure(`did not create its socket within ${opts.startTimeoutMs ?? 30_000} ms`));
            else setTimeout(poll, 10);
            return;
          }
          const s = createConnection({ path: sockPath });
          s.once('connect', () => resolve(s));
          s.once('error', (e) => {
            s.destroy();
            if (Date.now() > deadline) reject(failure(`refused the connection (${e.message})`));
            else setTimeout(poll, 20);
          });
        };
        poll();
      });
      child.removeAllListeners('exit');
      return new PasstBackend(child, sock, dir, mtu);
    } catch (e) {
      child.kill('SIGTERM');
      const bind = await bindFailure();
      await rm(dir, { recursive: true, force: true });
      throw bind ?? e;
    }
  }

  send(frame: Uint8Array): void {
    if (this.closed) return;
    if (this.sock.writableLength > QUEUE_LIMIT) {
      this.dropped++;
      return;
    }
    this.sock.write(frameWithLength(frame));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.destroy();
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    rm(this.dir, { recursive: true, force: true }).catch(() => {});
  }
}
