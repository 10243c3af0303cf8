// Boot the default guest (guest/bzImage + initramfs) on a Machine with virtio devices
// attached, drive its serial console with a script and collect the output. Used by the
// guest tests in this folder; the run ends when the output matches `until`, the guest
// powers off, `stopWhen` settles, or the guest has run timeoutMs of its own time.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Machine } from '../../../src/machine/Machine.js';
import { plannedMmioCmdline, virtioDeviceCount, type AttachedVirtio, type VirtioOptions } from '../../../src/devices/virtio/options.js';
import { attachVirtioTo } from '../../../src/machine/attachVirtioTo.js';
import { afterVirtualTime } from '../../machine/serialSession.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const guestDir = existsSync(join(root, 'guest/bzImage')) ? join(root, 'guest') : resolve(root, '../guest');
export const KERNEL = join(guestDir, 'bzImage');
export const INITRD = join(guestDir, 'initramfs.cpio.gz');
export const haveGuest = existsSync(KERNEL) && existsSync(INITRD);

export interface GuestRun {
  output: string;
  exit: string;
  virtio: AttachedVirtio;
  machine: Machine;
}

export interface GuestOptions {
  virtio: VirtioOptions;
  transport?: 'mmio' | 'pci';
  /** virtio-mmio only: announced on the command line (default) or left to the guest to find in the DSDT. */
  mmioDiscovery?: 'cmdline' | 'acpi';
  /** Shell lines typed once the prompt appears. */
  script: string[];
  /** Stop when the output matches. */
  until?: RegExp;
  /**
   * The guest's time (virtual ms, default 240 s) after which the run is stopped: with
   * 'fast' pacing a loaded host does not shorten it; with 'realtime' virtual time
   * follows the host clock. The test's own timeout guards against a hang.
   */
  timeoutMs?: number;
  append?: string;
  memoryMiB?: number;
  onOutput?: (text: string) => void;
  /**
   * Virtual time paced by the host clock (default): the guest's timeouts (TCP, nc, timeout)
   * then mean wall time while it waits for host I/O. 'fast' skips idle time, which lets
   * seconds of guest time pass during one host network round trip.
   */
  pacing?: 'realtime' | 'fast';
  /** Files added at the root of the initramfs (an uncompressed cpio archive placed before the default one). */
  extraFiles?: { name: string; data: Uint8Array; mode?: number }[];
  /** Where the script is typed: the serial port (default) or the virtio console (hvc0). */
  typeInto?: 'serial' | 'hvc';
  /** End the run when this settles (for a guest that serves another one). */
  stopWhen?: Promise<unknown>;
  /** Called once the devices exist and the output hooks are set (before the kernel runs). */
  onAttached?: (v: AttachedVirtio, m: Machine) => void;
}

/** A cpio "newc" archive of regular files (Linux initramfs format), ending with TRAILER!!!. */
export function cpioNewc(files: { name: string; data: Uint8Array; mode?: number }[]): Uint8Array {
  const parts: Buffer[] = [];
  const pad4 = (n: number): Buffer => Buffer.alloc((4 - (n % 4)) % 4);
  let ino = 1;
  const entry = (name: string, data: Uint8Array, mode: number): void => {
    const fields = [ino++, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, name.length + 1, 0];
    const hdr = Buffer.from('070701' + fields.map((f) => f.toString(16).padStart(8, '0')).join('') + name + '\0', 'latin1');
    parts.push(hdr, pad4(hdr.length), Buffer.from(data), pad4(data.length));
  };
  for (const f of files) entry(f.name, f.data, f.mode ?? 0o100755);
  entry('TRAILER!!!', new Uint8Array(0), 0);
  return Buffer.concat(parts);
}

function withExtraFiles(initrd: Uint8Array, files: { name: string; data: Uint8Array; mode?: number }[]): Uint8Array {
  if (files.length === 0) return initrd;
  return Buffer.concat([cpioNewc(files), initrd]);
}

export async function bootGuest(opts: GuestOptions): Promise<GuestRun> {
  const transport = opts.transport ?? 'mmio';
  const count = virtioDeviceCount(opts.virtio);
  const mmioCmdline = transport === 'mmio' && opts.mmioDiscovery !== 'acpi' ? plannedMmioCmdline(count) : '';
  // tsc=reliable: without it the clocksource watchdog may mark the TSC unstable, after
  // which the PIT can end up firing IRQ0 at ~80 kHz and starve IRQ 3-15 (reported).
  const cmdline = ['console=ttyS0 panic=-1 tsc=reliable', mmioCmdline, opts.append ?? ''].filter((s) => s).join(' ');
  const machine = new Machine({
    memoryMiB: opts.memoryMiB ?? 128,
    kernel: new Uint8Array(readFileSync(KERNEL)),
    initrd: withExtraFiles(new Uint8Array(readFileSync(INITRD)), opts.extraFiles ?? []),
    cmdline,
    pacing: opts.pacing ?? 'realtime',
  });
  const virtio = await attachVirtioTo(machine, opts.virtio, { transport, log: () => {} });
  if (virtio.cmdline !== (transport === 'mmio' ? plannedMmioCmdline(count) : '')) throw new Error('planned and actual virtio-mmio command lines differ');
  machine.externalInputOpen = true;
  let output = '';
  let typed = false;
  const done = new Promise<void>((resolveDone) => {
    const check = (): void => {
      // The first prompt, wherever it is: a kernel message may follow it in the same chunk.
      if (!typed && /typevisor:\/# /.test(output)) {
        typed = true;
        const bytes = new TextEncoder().encode(opts.script.join('\n') + '\n');
        if (opts.typeInto === 'hvc' && virtio.console) {
          virtio.console.input(bytes);
          machine.loop.wake();
        } else {
          machine.serialInput(bytes);
        }
      }
      if (opts.until && opts.until.test(output)) resolveDone();
    };
    machine.onSerialOutput = (b) => {
      const t = new TextDecoder().decode(b);
      output += t;
      opts.onOutput?.(t);
      check();
    };
    if (virtio.console) {
      virtio.console.onOutput = (b) => {
        const t = new TextDecoder().decode(b);
        output += t;
        opts.onOutput?.(t);
        check();
      };
    }
  });
  opts.onAttached?.(virtio, machine);
  void afterVirtualTime(machine.clock, opts.timeoutMs ?? 240_000).then(() => machine.stop('timeout'));
  const finished = machine.run();
  await Promise.race([done, finished, ...(opts.stopWhen ? [opts.stopWhen] : [])]);
  machine.stop('done');
  const exit = await finished;
  await virtio.close();
  return { output, exit: exit.kind === 'stopped' ? exit.detail : exit.kind, virtio, machine };
}
