// `typevisor serve` as a child process for tests: its serial console (stdout) in a
// SerialSession, its stderr kept, and a wait for its API socket to answer.
//
// Waits on a child process end when their event comes (the text on the console, the
// socket answering, the state polled for) and fail at once when the process exits. Their
// wall-time bounds are hang guards only, minutes long, so a loaded host never trips them.
// The guest's virtual time cannot bound them as it bounds an in-process machine's: with
// realtime pacing it follows the host clock, and with --fast an idle guest runs through
// seconds of it while the test's input is still on its way to the process.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SerialSession } from '../machine/serialSession.js';
import { api } from './apiClient.js';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const CLI = join(ROOT, 'dist/src/cli/main.js');

/** Hang guard of one step: a socket coming up, a guest answering a command, a state change. */
export const STEP_GUARD_MS = 120_000;
/** Hang guard of one guest's boot to its prompt (a few seconds of host CPU when quiet). */
export const BOOT_GUARD_MS = 600_000;
/** Hang guard of a whole test (node:test's timeout) that boots a guest in a child process. */
export const TEST_GUARD_MS = 1_200_000;

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
  const exit = new Promise<number | null>((r) => child.on('exit', (code, signal) => {
    serial.end(`typevisor serve exited (${signal ?? `code ${code}`}): ${err.slice(-500)}`);
    r(code);
  }));
  return { child, serial, stderr: () => err, exit };
}

/**
 * Poll until `check` resolves true (every `everyMs`). Fails when `exit` (the child
 * process's) settles first, or after `guardMs` (a hang guard).
 */
export async function waitUntil(what: string, check: () => Promise<boolean>, opts: { exit?: Promise<unknown>; guardMs?: number; everyMs?: number } = {}): Promise<void> {
  const guardMs = opts.guardMs ?? STEP_GUARD_MS;
  const end = Date.now() + guardMs;
  let exited: string | null = null;
  void opts.exit?.then((code) => { exited = `the process exited (${String(code)})`; });
  for (;;) {
    if (await check()) return;
    if (exited !== null) throw new Error(`${what}: ${exited}`);
    if (Date.now() > end) throw new Error(`${what}: not after ${guardMs / 1000} s (a hang guard)`);
    await sleep(opts.everyMs ?? 20);
  }
}

/** Resolves once the API answers on `sock`; fails if the process (`exit`) ends first. */
export function waitForSocket(sock: string, exit?: Promise<unknown>): Promise<void> {
  return waitUntil(`the API socket ${sock}`, async () => {
    if (!existsSync(sock)) return false;
    try { await api(sock, 'GET', '/'); return true; } catch { return false; /* not listening yet */ }
  }, exit ? { exit } : {});
}
