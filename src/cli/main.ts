#!/usr/bin/env node
// The typevisor command. `typevisor run` boots a kernel (the default guest when no
// --kernel is given) with the serial console on the terminal, QEMU-style: raw mode,
// Ctrl-A X quits, Ctrl-A H helps; piped stdin feeds COM1 so scripts can drive a guest.

import { existsSync, realpathSync, openSync, writeSync, closeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Machine, ExitReason } from '../machine/Machine.js';
import { formatStats } from './stats.js';
import { CliError, parseSeedOption } from './apiCommand.js';
import { readInputFile } from '../vmm/inputFile.js';
import { ConsoleEscape, ESCAPE_HELP } from './ConsoleEscape.js';
import { BootError } from '../boot/BootError.js';
import { ReplayLogError } from '../replay/ReplayLog.js';
import { SnapshotError } from '../snapshot/SnapshotError.js';
import {
  deterministicProblem, mmioDiscoveryCmdline, parseDriveOption, parseNetOption, parseVsockOption, virtioDeviceCount, type AttachedVirtio, type VirtioOptions,
} from '../devices/virtio/options.js';
import { attachVirtioTo } from '../machine/attachVirtioTo.js';
import { MIN_CPU_SHARE } from '../machine/RunLoop.js';
import { parseCpuEngine, type CpuEngine } from '../machine/cpuEngine.js';
import { ByteBatcher } from '../machine/ByteBatcher.js';
import { packageRoot } from '../packageRoot.js';
import { DEFAULT_GUEST_MIN_MIB } from '../machine/memoryLimits.js';
import type { GdbStub } from '../debug/GdbStub.js';

/** The kernel command line when --append is not given. */
const DEFAULT_APPEND = 'console=ttyS0 panic=-1';

/**
 * The least RAM the default guest (guest/bzImage with its initramfs) reaches its shell
 * in, measured (test/machine/defaultGuest.test.ts boots it there and one MiB below, as
 * QEMU does too): with 10 MiB its kernel cannot unpack the initramfs, with less it runs
 * out of memory. Its boot-protocol figure, which the loader checks, is 8 MiB.
 */
export { DEFAULT_GUEST_MIN_MIB };

/** Exit codes, one per way a run can end. */
export const EXIT_OK = 0;
export const EXIT_USAGE = 1;
export const EXIT_TRIPLE_FAULT = 2;
export const EXIT_DEAD_HALT = 3;
export const EXIT_TIMEOUT = 4;
export const EXIT_INTERNAL = 5;
export const EXIT_DIVERGED = 6;

const HELP = `usage: typevisor run [options]

Boots a Linux kernel (by default the bundled guest) on the software x86 CPU with the
serial console on this terminal. Ctrl-A X quits, Ctrl-A H shows the console keys.

options:
  --kernel FILE     bzImage, ELF vmlinux or multiboot kernel (default: guest/bzImage)
  --initrd FILE     initial ramdisk (default with the bundled kernel: guest/initramfs.cpio.gz)
  --append STRING   kernel command line (default: "console=ttyS0 panic=-1"); with
                    acpi=off in it, virtio-mmio devices add virtio_mmio.device= entries
  --memory MIB      guest RAM in MiB (default 128; the default guest needs ${DEFAULT_GUEST_MIN_MIB})
  --bios FILE       firmware image to start at the reset vector instead of a kernel
  --stats           print exit counts, instructions and boot milestones at exit
  --timeout SECONDS end the run (exit code 4) after this much wall time
  --realtime        pace virtual time by the host clock (default on a terminal)
  --fast            run as fast as possible; idle time is skipped (default when piped)
  --deterministic   every run of the same guest with the same input is the same: fast
                    pacing, the RTC from 2024-01-01T00:00:00Z, virtio-rng from a seeded
                    generator, disk completions at set virtual times; piped stdin is
                    read to its end first and given to the guest at power-on; no --net
                    or --vsock
  --seed N          the deterministic run's random seed (0-4294967295, default 0)
  --record FILE     a deterministic run that writes what came from outside (serial
                    input as it arrives, at the instruction it was given to the guest)
                    and periodic state hashes into FILE
  --replay FILE     run a recording again from the same start (the same kernel, initrd,
                    --append, --memory, --seed, --reboot), its input from FILE (stdin is not
                    read), checking its state hashes: a divergence ends the run, exit 6
  --snapshot-every SECONDS
                    with --record: every SECONDS of virtual time, a snapshot of the
                    recording (FILE.snap-N.state and FILE.snap-N.mem, N the instruction
                    count) that a replay can start from
  --restore PREFIX  with --replay: start from the snapshot PREFIX.state / PREFIX.mem
                    taken during that recording (--snapshot-every), not from boot
  --reboot          a guest reset restarts the machine instead of ending the run
  --cpu ENGINE      jit (default): the binary translator, hot code compiled to
                    WebAssembly; interp: the interpreter alone
  --cpu-share S     cap the VM's host CPU time at S (0.01-1) of one core
  --drive SPEC      virtio-blk disk: file=PATH[,readonly][,id=NAME] (repeatable)
  --net SPEC        virtio-net: user[,hostfwd=tcp::HOSTPORT-:GUESTPORT][,mac=M] (needs passt),
                    tap,ifname=NAME, or switch,path=SOCK (repeatable)
  --vsock SPEC      virtio-vsock: cid=N,path=SOCK (Firecracker's host side)
  --rng             virtio-rng entropy from the host
  --virtio-transport mmio|pci
                    mmio (default): virtio-mmio windows the guest finds in the ACPI DSDT
                    (or on the command line with acpi=off); pci: virtio-pci functions
  --gdb tcp::PORT   serve the GDB remote protocol on 127.0.0.1:PORT (tcp:HOST:PORT for
                    another address); the VM stops while gdb holds it
  -s                the same as --gdb tcp::1234
  -S                do not start the guest until gdb continues it (with --gdb or -s)
  -h, --help        this text

other commands: typevisor serve (one VM over a Firecracker-style API), typevisor manage
(many VMs), typevisor web [--port N] (the machine in a browser page on 127.0.0.1)
`;


class UsageError extends CliError {}

/** A kernel, initrd or firmware file, whole; any way it cannot be read is bad input naming the file and the cause. */
function readInput(path: string, what: string): Uint8Array {
  try {
    return readInputFile(path, what);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** A whole number option: plain decimal digits only (no 1e3, 0x80, spaces or signs). */
function wholeNumber(option: string, value: string, unit: string): number {
  if (value === '') throw new UsageError(`${option}: missing value (a whole number of ${unit})`);
  if (!/^[0-9]+$/.test(value)) throw new UsageError(`${option} takes a whole number of ${unit} in decimal digits, got "${value}"`);
  return Number(value);
}

function exitCodeFor(r: ExitReason): number {
  switch (r.kind) {
    case 'poweroff': case 'reset': return EXIT_OK;
    case 'triple-fault': return EXIT_TRIPLE_FAULT;
    case 'dead-halt': return EXIT_DEAD_HALT;
    case 'stopped': return r.detail.startsWith('timeout') ? EXIT_TIMEOUT : EXIT_OK;
    case 'diverged': return EXIT_DIVERGED;
  }
}

function describe(r: ExitReason): string {
  switch (r.kind) {
    case 'poweroff': return 'guest powered off';
    case 'reset': return `guest reset (${r.source})`;
    case 'triple-fault': return `guest ${r.detail}`;
    case 'dead-halt': return r.detail;
    case 'stopped': return r.detail;
    case 'diverged': return `replay diverged at instruction ${r.at}: ${r.detail}`;
  }
}

async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      kernel: { type: 'string' },
      initrd: { type: 'string' },
      append: { type: 'string' },
      memory: { type: 'string' },
      bios: { type: 'string' },
      stats: { type: 'boolean' },
      timeout: { type: 'string' },
      realtime: { type: 'boolean' },
      fast: { type: 'boolean' },
      reboot: { type: 'boolean' },
      deterministic: { type: 'boolean' },
      seed: { type: 'string' },
      record: { type: 'string' },
      replay: { type: 'string' },
      'snapshot-every': { type: 'string' },
      restore: { type: 'string' },
      cpu: { type: 'string' },
      'cpu-share': { type: 'string' },
      drive: { type: 'string', multiple: true },
      net: { type: 'string', multiple: true },
      vsock: { type: 'string' },
      rng: { type: 'boolean' },
      'virtio-transport': { type: 'string' },
      gdb: { type: 'string' },
      'gdb-default': { type: 'boolean', short: 's' },
      'wait-for-gdb': { type: 'boolean', short: 'S' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) { process.stdout.write(HELP); return EXIT_OK; }
  if (values.realtime && values.fast) throw new UsageError('--realtime and --fast exclude each other');
  if (values.record !== undefined && values.replay !== undefined) throw new UsageError('--record and --replay exclude each other');
  const recording = values.record !== undefined;
  const replaying = values.replay !== undefined;
  const deterministic = (values.deterministic ?? false) || recording || replaying;
  if (values.realtime && (recording || replaying)) throw new UsageError(`--${recording ? 'record' : 'replay'} and --realtime exclude each other (a recorded run is deterministic, paced by its instructions)`);
  if (deterministic && values.realtime) throw new UsageError('--deterministic and --realtime exclude each other (a deterministic run paces virtual time by its instructions)');
  if (values.seed !== undefined && !deterministic) throw new UsageError('--seed needs --deterministic (or --record, --replay)');
  const seed = values.seed === undefined ? 0 : parseSeedOption(values.seed);
  let snapshotEveryS = 0;
  if (values['snapshot-every'] !== undefined) {
    if (!recording) throw new UsageError('--snapshot-every takes snapshots of a recording: give --record FILE too');
    snapshotEveryS = Number(values['snapshot-every']);
    if (!(snapshotEveryS > 0 && Number.isFinite(snapshotEveryS))) throw new UsageError(`--snapshot-every takes a positive number of seconds of virtual time, got "${values['snapshot-every']}"`);
  }
  if (values.restore !== undefined) {
    if (!replaying) throw new UsageError('--restore starts a replay from a snapshot taken during its recording: give --replay FILE too');
    for (const o of ['kernel', 'initrd', 'append', 'bios', 'memory', 'seed', 'reboot', 'drive', 'rng', 'virtio-transport'] as const) {
      if (values[o] !== undefined) throw new UsageError(`--restore and --${o} exclude each other: the machine, its devices and drives come from the snapshot`);
    }
  }
  const memory = values.memory === undefined ? 128 : wholeNumber('--memory', values.memory, 'MiB');
  let timeoutS = 0;
  if (values.timeout !== undefined) {
    timeoutS = Number(values.timeout);
    if (!(timeoutS > 0)) throw new UsageError(`--timeout takes a positive number of seconds, got "${values.timeout}"`);
  }
  let cpu: CpuEngine;
  try {
    cpu = parseCpuEngine(values.cpu);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const cpuShare = values['cpu-share'] === undefined ? 1 : Number(values['cpu-share']);
  if (!(cpuShare >= MIN_CPU_SHARE && cpuShare <= 1)) throw new UsageError(`--cpu-share takes a share of one core from ${MIN_CPU_SHARE} to 1, got "${values['cpu-share']}"`);
  const root = packageRoot();
  let kernel: Uint8Array | null = null;
  let initrd: Uint8Array | null = null;
  let bios: Uint8Array | null = null;
  if (values.bios !== undefined) {
    bios = readInput(values.bios, 'firmware');
    if (values.kernel !== undefined) throw new UsageError('--bios and --kernel exclude each other (the firmware boots from its own devices)');
  } else if (values.kernel !== undefined) {
    kernel = readInput(values.kernel, 'kernel');
    if (values.initrd !== undefined) initrd = readInput(values.initrd, 'initrd');
  } else {
    // The bundled guest's own need, checked here because the loader can only check the
    // kernel's boot-protocol footprint and the initrd (8 MiB for this guest).
    if (values.initrd === undefined && memory < DEFAULT_GUEST_MIN_MIB) {
      throw new UsageError(`the default guest needs at least ${DEFAULT_GUEST_MIN_MIB} MiB of RAM (with less its kernel runs out of memory before the shell), got --memory ${memory}`);
    }
    kernel = readInput(resolve(root, 'guest/bzImage'), 'default guest kernel');
    initrd = readInput(values.initrd ?? resolve(root, 'guest/initramfs.cpio.gz'), 'initrd');
  }
  // virtio devices: virtio-mmio (found through the DSDT, or the command line with acpi=off) or virtio-pci.
  const transport = values['virtio-transport'] ?? 'mmio';
  if (transport !== 'mmio' && transport !== 'pci') throw new UsageError(`--virtio-transport takes mmio or pci, got "${transport}"`);
  let virtioOpts: VirtioOptions;
  try {
    virtioOpts = {
      drives: (values.drive ?? []).map(parseDriveOption),
      nets: (values.net ?? []).map(parseNetOption),
      vsock: values.vsock !== undefined ? parseVsockOption(values.vsock) : null,
      console: false,
      rng: values.rng ?? false,
    };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (deterministic) {
    const problem = deterministicProblem(virtioOpts);
    if (problem !== null) throw new UsageError(problem);
  }
  const virtioCount = virtioDeviceCount(virtioOpts);
  if (virtioCount > 0 && bios !== null) throw new UsageError('virtio devices need a kernel: --bios boots only the legacy platform');
  const gdbSpec = values.gdb ?? (values['gdb-default'] ? 'tcp::1234' : undefined);
  if (values.gdb !== undefined && values['gdb-default']) throw new UsageError('--gdb and -s exclude each other (-s is --gdb tcp::1234)');
  if (values['wait-for-gdb'] && gdbSpec === undefined) throw new UsageError('-S waits for gdb: give --gdb tcp::PORT or -s too');
  if (gdbSpec !== undefined && recording) throw new UsageError('--record and gdb exclude each other: gdb can change the guest\'s registers and memory, which a recording does not log (replay the recording under gdb instead)');
  // The log to replay, read whole (it is checked whole before the guest starts), or the file to record into.
  const replay = replaying ? readInput(values.replay!, 'replay log') : undefined;
  let recordFd: number | null = null;
  if (recording) {
    try {
      recordFd = openSync(values.record!, 'w');
    } catch (e) {
      throw new UsageError(`--record ${values.record}: ${(e as Error).message}`);
    }
  }
  const interactive = process.stdin.isTTY === true;
  const pacing = values.fast || deterministic ? 'fast' : values.realtime ? 'realtime' : interactive ? 'realtime' : 'fast';
  // Loaded here, not at the top: `serve` and `manage` answer their socket sooner without it.
  const { Machine } = await import('../machine/Machine.js');
  let machine: Machine;
  try {
    machine = values.restore !== undefined ? await restoreForReplay(Machine, values.restore, replay!, cpu) : new Machine({
      memoryMiB: memory,
      kernel, initrd, bios,
      cmdline: transport === 'mmio' ? mmioDiscoveryCmdline(values.append ?? DEFAULT_APPEND, virtioCount) : values.append ?? DEFAULT_APPEND,
      pacing,
      reboot: values.reboot ?? false,
      cpu,
      deterministic,
      seed,
      ...(recordFd !== null ? { record: { write: (chunk: Uint8Array) => writeAll(recordFd!, chunk) } } : {}),
      ...(replay !== undefined ? { replay } : {}),
    });
  } catch (e) {
    if (recordFd !== null) closeSync(recordFd);
    if (e instanceof BootError || e instanceof RangeError || e instanceof ReplayLogError || e instanceof SnapshotError) throw new UsageError(e.message);
    throw e;
  }
  if (snapshotEveryS > 0) snapshotEvery(machine, snapshotEveryS * 1e9, values.record!);
  machine.loop.cpuShare = cpuShare;
  let virtio: AttachedVirtio | null = null;
  if (virtioCount > 0) {
    try {
      virtio = await attachVirtioTo(machine, virtioOpts, { transport, log: (msg) => process.stderr.write(`typevisor: ${msg}\n`) });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  // A replay refuses drive images other than the recording's before anything runs (a recording notes them).
  try {
    machine.checkReplayDrives();
  } catch (e) {
    await virtio?.close();
    if (recordFd !== null) closeSync(recordFd);
    if (e instanceof ReplayLogError) throw new UsageError(e.message);
    throw e;
  }
  let gdb: GdbStub | null = null;
  if (gdbSpec !== undefined) {
    const { GdbStub, parseGdbAddress } = await import('../debug/GdbStub.js');
    let addr: { host: string; port: number };
    try {
      addr = parseGdbAddress(gdbSpec);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    gdb = new GdbStub(machine);
    try {
      await gdb.listen(addr.host, addr.port);
    } catch (e) {
      await virtio?.close();
      throw new UsageError(`--gdb: cannot listen on ${addr.host}:${addr.port}: ${(e as Error).message}`);
    }
    process.stderr.write(`typevisor: waiting for gdb on ${addr.host}:${gdb.port}${values['wait-for-gdb'] ? ' (the guest starts when gdb continues it)' : ''}\n`);
    if (values['wait-for-gdb']) await machine.pause();
  }
  machine.onSerialOutput = (bytes) => { process.stdout.write(bytes); };
  // Port 0xE9 bytes go to stderr as they are, as QEMU's isa-debugcon hands them to its chardev.
  const debugOut = new ByteBatcher((bytes) => { process.stderr.write(bytes); });
  machine.onDebugOutput = (b) => debugOut.push(b);
  // A deterministic run takes piped input whole, at power-on (the UART holds it until the
  // guest's tty raises RTS): input arriving at host times would make each run different.
  // Typed input (a terminal) still arrives as it is typed.
  // A recording takes input as it comes (the log says when it came); a replay reads none.
  const detachConsole = replaying ? () => {} : deterministic && !recording && !interactive ? feedWholeInput(machine, await readAllStdin()) : attachConsole(machine, interactive);
  let timer: NodeJS.Timeout | undefined;
  if (timeoutS > 0) timer = setTimeout(() => machine.stop(`timeout after ${timeoutS} s`), timeoutS * 1000);
  let reason: ExitReason;
  try {
    reason = await machine.run();
  } finally {
    debugOut.flush();
    gdb?.machineEnded();
    if (timer) clearTimeout(timer);
    detachConsole();
    await virtio?.close();
    if (values.restore !== undefined) for (const v of machine.virtio) await v.attached.close();
    if (recordFd !== null) closeSync(recordFd);
  }
  const code = exitCodeFor(reason);
  if (code !== EXIT_OK || interactive) process.stderr.write(`\r\ntypevisor: ${describe(reason)}\n`);
  if (values.stats) process.stderr.write(formatStats(machine, reason));
  return code;
}

/** --replay FILE --restore PREFIX: the machine from PREFIX.state and PREFIX.mem, replaying from the snapshot's place in the log. */
async function restoreForReplay(M: typeof Machine, prefix: string, log: Uint8Array, cpu: CpuEngine): Promise<Machine> {
  for (const f of [`${prefix}.state`, `${prefix}.mem`]) {
    if (!existsSync(f)) throw new UsageError(`--restore ${prefix}: ${f} not found`);
  }
  return M.restore(`${prefix}.state`, `${prefix}.mem`, { replay: log, cpu, log: (msg) => process.stderr.write(`typevisor: ${msg}\n`) });
}

/**
 * --snapshot-every: a snapshot of the recording each `everyNs` of virtual time, named by
 * its instruction count (RECORD.snap-N). A timer of the run, so its times are the same in
 * every run of the recording; the snapshot itself is taken at the next stop between slices.
 */
function snapshotEvery(machine: Machine, everyNs: number, recordPath: string): void {
  let busy = false;
  const timer = machine.clock.addTimer('snapshot', (now) => {
    timer.deadline = now + everyNs;
    if (busy) return;
    busy = true;
    void (async () => {
      await machine.pause();
      const prefix = `${recordPath}.snap-${machine.cpu.instructions}`;
      try {
        if (machine.exitReason === null) {
          await machine.saveSnapshot(`${prefix}.state`, `${prefix}.mem`);
          process.stderr.write(`\r\ntypevisor: snapshot at instruction ${machine.cpu.instructions}: ${prefix}.state, ${prefix}.mem (replay from it: --replay ${recordPath} --restore ${prefix})\r\n`);
        }
      } catch (e) {
        process.stderr.write(`\r\ntypevisor: snapshot ${prefix} not taken: ${(e as Error).message}\r\n`);
      } finally {
        busy = false;
        machine.resume();
      }
    })();
  });
  timer.deadline = machine.clock.now() + everyNs;
}

function writeAll(fd: number, chunk: Uint8Array): void {
  for (let off = 0; off < chunk.length;) off += writeSync(fd, chunk, off);
}

function readAllStdin(): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (c: Buffer) => chunks.push(c));
    process.stdin.once('end', () => resolve(Buffer.concat(chunks)));
    process.stdin.once('error', reject);
  });
}

/** Input given to COM1 before the first instruction, no more to come. Returns a no-op undo (attachConsole's shape). */
function feedWholeInput(machine: Machine, input: Uint8Array): () => void {
  machine.serialInput(input);
  machine.externalInputOpen = false;
  return () => {};
}

/** Wire the terminal (or a pipe) to COM1. Returns a function that undoes it. */
function attachConsole(machine: Machine, interactive: boolean): () => void {
  const stdin = process.stdin;
  machine.externalInputOpen = true;
  const escape = new ConsoleEscape();
  const onData = (chunk: Buffer): void => {
    if (!interactive) { machine.serialInput(chunk); return; }
    const bytes = escape.feed(chunk, (a) => {
      if (a === 'quit') machine.stop('quit from the console (Ctrl-A X)');
      else process.stderr.write(ESCAPE_HELP);
    });
    if (bytes.length > 0) machine.serialInput(bytes);
  };
  const onEnd = (): void => { machine.externalInputOpen = false; };
  if (interactive) stdin.setRawMode(true);
  stdin.on('data', onData);
  stdin.on('end', onEnd);
  stdin.resume();
  return () => {
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    if (interactive) stdin.setRawMode(false);
    stdin.pause();
  };
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (cmd === undefined || cmd === '-h' || cmd === '--help' || cmd === 'help') {
      process.stdout.write(HELP);
      return cmd === undefined ? EXIT_USAGE : EXIT_OK;
    }
    if (cmd === 'run') return await run(rest);
    if (cmd === 'serve') return await (await import('./serve.js')).serve(rest);
    if (cmd === 'manage') return await (await import('./manage.js')).manage(rest);
    if (cmd === 'web') return await (await import('./web.js')).web(rest);
    throw new UsageError(`unknown command "${cmd}" (try: typevisor run --help)`);
  } catch (e) {
    // One line, whatever the message's source (node's argument parser writes two).
    const msg = (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, ' ');
    const known = e instanceof CliError || e instanceof BootError || (e instanceof TypeError && 'code' in e && String((e as { code: unknown }).code).startsWith('ERR_PARSE_ARGS'));
    process.stderr.write(`typevisor: ${msg}\n`);
    if (!known && process.env.TYPEVISOR_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    return known ? EXIT_USAGE : EXIT_INTERNAL;
  }
}

if (process.argv[1] && realpathSync(fileURLToPath(import.meta.url)) === realpathSync(resolve(process.argv[1]))) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; setImmediate(() => process.exit(code)); });
}
