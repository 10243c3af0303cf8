// `typevisor serve` as a child process for tests: its serial console (stdout) in a
// SerialSession, its stderr kept, and a wait for its API socket to answer.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SerialSession } from '../machine/serialSession.js';
import { api } from './apiClient.js';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const CLI = join(ROOT, 'dist/src/cli/main.js');

export interface ServeProcess {
  child: ChildProcessWithoutNullStreams;
  serial: SerialSession;
  stderr: () => string;
  exit: Promise<number | null>;
}

export function startServe(args: string[]): ServeProcess {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const serial = new SerialSession();
  let err = '';
  child.stdout.on('data', (b: Buffer) => serial.push(b));
  child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, serial, stderr: () => err, exit };
}

export async function waitForSocket(sock: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (existsSync(sock)) {
      try { await api(sock, 'GET', '/'); return; } catch { /* not listening yet */ }
    }
    if (Date.now() > end) throw new Error(`no API socket at ${sock} after ${ms} ms`);
    await sleep(20);
  }
}
