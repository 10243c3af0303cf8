// Helpers of the manager tests: tiny multiboot kernels (one that triple-faults, one that
// spins), `typevisor manage` as a child process, a client of a VM's console socket, and a
// watch that fails the console waits of a VM that ends. Waits are event-driven with hang
// guards only (serveProcess.ts says why).

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { SerialSession } from '../machine/serialSession.js';
import { api } from './apiClient.js';
import { BOOT_GUARD_MS, CLI, ROOT, STEP_GUARD_MS, TEST_GUARD_MS, waitForSocket, waitUntil } from './serveProcess.js';

export { BOOT_GUARD_MS, CLI, ROOT, STEP_GUARD_MS, TEST_GUARD_MS, waitForSocket, waitUntil };
export const KERNEL = join(ROOT, 'guest/bzImage');
export const INITRD = join(ROOT, 'guest/initramfs.cpio.gz');
export const haveGuest = existsSync(KERNEL) && existsSync(INITRD);
export const bootSource = { kernel_image_path: KERNEL, initrd_path: INITRD, boot_args: 'console=ttyS0 panic=-1 tsc=reliable' };

/** A multiboot v1 kernel (a.out kludge) whose code follows the 48-byte header, loaded at 1 MiB. */
export function multiboot(code: number[]): Uint8Array {
  const load = 0x100000, hdr = 48, size = hdr + code.length, flags = 0x00010000;
  const img = new Uint8Array(size);
  const dv = new DataView(img.buffer);
  dv.setUint32(0, 0x1badb002, true);
  dv.setUint32(4, flags, true);
  dv.setUint32(8, (-(0x1badb002 + flags)) >>> 0, true);
  for (const [off, v] of [[12, load], [16, load], [20, load + size], [24, load + size], [28, load + hdr]] as const) dv.setUint32(off, v, true);
  img.set(code, hdr);
  return img;
}

/** LIDT of an empty IDT, then UD2: #UD → #DF → triple fault. */
export function tripleFaultKernel(): Uint8Array {
  const idt = 0x100000 + 48 + 10;
  return multiboot([0x0f, 0x01, 0x1d, idt & 0xff, (idt >> 8) & 0xff, (idt >> 16) & 0xff, idt >>> 24, 0x0f, 0x0b, 0, 0, 0, 0, 0, 0, 0]);
}

/** CLI; JMP $: a guest that keeps its vCPU busy forever. */
export function busyKernel(): Uint8Array {
  return multiboot([0xfa, 0xeb, 0xfe]);
}

/** `typevisor manage` in a child process, listening on `sock`. */
export async function startManager(sock: string, args: string[] = []): Promise<{ child: ChildProcessWithoutNullStreams; stderr: () => string; exit: Promise<number | null> }> {
  const child = spawn(process.execPath, [CLI, 'manage', '--api-sock', sock, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    await waitForSocket(sock, exit);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`typevisor manage: ${(e as Error).message}: ${err}`);
  }
  return { child, stderr: () => err, exit };
}

/**
 * A client of a VM's console socket: its output in a SerialSession (whose waits fail once
 * the socket closes: the VM deleted, the manager gone), lines typed in.
 */
export class ConsoleClient {
  readonly serial = new SerialSession();
  private constructor(private readonly socket: Socket) {
    socket.on('data', (b: Buffer) => this.serial.push(b));
    socket.on('error', () => {});
    socket.on('close', () => this.serial.end('the console socket closed'));
  }

  static open(path: string): Promise<ConsoleClient> {
    return new Promise((res, rej) => {
      const s = connect(path, () => { s.off('error', rej); res(new ConsoleClient(s)); });
      s.once('error', rej);
    });
  }

  type(line: string): void {
    this.socket.write(`${line}\n`);
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * Until stopped, polls GET /vms and ends the console session of each listed VM that has
 * exited, so a wait on a guest that crashed, reset or faulted fails at once, naming how it
 * ended, rather than at its hang guard.
 */
export function endSessionsOnExit(sock: string, consoles: ReadonlyMap<string, ConsoleClient>): { stop: () => void } {
  let stopped = false;
  const timer = setInterval(() => {
    api(sock, 'GET', '/vms').then((r) => {
      if (stopped || r.status !== 200) return;
      for (const vm of (r.body as { vms: { id: string; state: string; exit: { kind: string; reason: string } | null }[] }).vms) {
        if (vm.state === 'Exited') consoles.get(vm.id)?.serial.end(`VM ${vm.id} exited: ${vm.exit?.kind} (${vm.exit?.reason})`);
      }
    }, () => { /* the manager is gone: the console sockets close */ });
  }, 500);
  return { stop: () => { stopped = true; clearInterval(timer); } };
}

/** PUT/PATCH/DELETE that must answer 204. */
export async function ok(sock: string, method: string, path: string, body?: unknown): Promise<void> {
  const r = await api(sock, method, path, body);
  if (r.status !== 204) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
}
