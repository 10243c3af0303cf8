// virtio 1.2 §4.1 / §4.2 (transports) and §5 (devices): the command-line options for virtio devices, and attachVirtio, which puts the devices on a machine.
//
// How the machine uses this file:
//
//   const opts: VirtioOptions = {
//     drives: argv.drive.map(parseDriveOption),   // --drive file=PATH[,readonly][,id=NAME]
//     nets: argv.net.map(parseNetOption),         // --net user[,hostfwd=...][,mac=...] | tap,ifname=NAME | switch,path=SOCK
//     vsock: argv.vsock ? parseVsockOption(argv.vsock) : null,   // --vsock cid=N,path=SOCK
//     console: true, rng: true,
//   };
//   const virtio = await attachVirtio({ memory, pci, pic, clock, wake: () => runLoop.wake() }, opts);
//   // with MMIO devices: the machine describes virtio.mmioWindows in the DSDT (attachVirtioTo),
//   // or the kernel command line announces them (virtio.cmdline; see mmioDiscoveryCmdline);
//   // mark virtio.levelIrqs level-triggered in the ELCR (0x4D0/0x4D1) as firmware would;
//   // save/load/reset virtio.transports with the other devices (each includes its device);
//   // while virtio.pendingIo() > 0 the run loop should wait for host I/O rather than skip idle time;
//   // at exit: await virtio.close().
//
// attachVirtio(host, options):
//   host.memory    PhysicalMemory the devices DMA into (and where BARs/windows are mapped)
//   host.pci       PciHost: devices become virtio-pci functions from slot host.pciSlot (default 3).
//                  Without it (or with host.transport = 'mmio') they are virtio-mmio windows from
//                  host.mmioBase (default 0xD0000000, Firecracker's), one 4 KiB window each.
//   host.pic       anything with irqLine(n) (Pic8259): MMIO interrupt lines, host.mmioIrqs in order
//                  (default 5, 6, 7, 12, 15, 14, 3; shared round-robin when there are more devices).
//   host.clock     VirtualClock (deterministic runs schedule disk completions on it)
//   host.deterministic  a deterministic run (MachineConfig.deterministic; needs host.clock): disk
//                  completions at virtual times set by ScheduledCompletions' rule, virtio-rng
//                  from SeededRandom(host.seed ?? 0), network and vsock devices refused
//   host.wake      called when a device completed work asynchronously (host I/O done, frame in)
//   host.log       one-line messages (default: stderr)
// Device order: drives, then nets, then console, rng, vsock. Errors (a missing image, passt
// not installed) reject with a one-line Error whose message names the option.

import type { PhysicalMemory } from '../../memory/PhysicalMemory.js';
import type { AcpiVirtioMmio } from '../../boot/Acpi.js';
import type { VirtualClock } from '../../machine/VirtualClock.js';
import type { NetBackend } from '../../net/NetBackend.js';
import type { HostForward } from '../../net/PasstBackend.js';
import type { IrqLine } from '../Device.js';
import type { PciHost } from '../PciHost.js';
import { parseMac } from './VirtioNet.js';
import { unixPathProblem } from '../../net/unixPath.js';
import type { MemoryBlockImage } from './BlockImage.js';
import type { VirtioDevice } from './VirtioDevice.js';
import type { VirtioConsole } from './VirtioConsole.js';

// ---- option parsing ----

export interface DriveOption {
  file: string;
  readonly: boolean;
  id?: string;
  /** The medium held in memory instead of the file (the browser page's; `file` is then its name). */
  image?: MemoryBlockImage;
}

export type NetOption =
  | { kind: 'user'; hostfwd: HostForward[]; mac?: string; mtu?: number }
  /** id: the API's iface_id, kept in snapshots so a load can name another tap for it (network_overrides). */
  | { kind: 'tap'; ifname: string; mac?: string; id?: string }
  | { kind: 'switch'; path: string; mac?: string };

export interface VsockOption {
  cid: number;
  path: string;
}

/** Split "a=b,c,d=e" into ordered pairs; a value may contain "=" but not ",". */
function splitKv(s: string): [string, string | undefined][] {
  if (s.trim() === '') return [];
  return s.split(',').map((part) => {
    const eq = part.indexOf('=');
    return eq < 0 ? [part.trim(), undefined] : [part.slice(0, eq).trim(), part.slice(eq + 1)];
  });
}

function bool(opt: string, key: string, v: string | undefined): boolean {
  if (v === undefined || v === 'on' || v === 'true' || v === 'yes' || v === '1') return true;
  if (v === 'off' || v === 'false' || v === 'no' || v === '0') return false;
  throw new Error(`${opt}: ${key}=${v}: expected on or off`);
}

function port(opt: string, what: string, v: string): number {
  if (!/^\d{1,5}$/.test(v) || Number(v) < 1 || Number(v) > 65535) throw new Error(`${opt}: bad ${what} "${v}" (1-65535)`);
  return Number(v);
}

/** `--drive file=PATH[,readonly][,id=NAME]` (also readonly=on|off, format=raw, if=virtio). */
export function parseDriveOption(s: string): DriveOption {
  const opt = '--drive';
  let file: string | undefined;
  let readonly = false;
  let id: string | undefined;
  for (const [k, v] of splitKv(s)) {
    switch (k) {
      case 'file':
        if (!v) throw new Error(`${opt}: file= needs a path`);
        file = v;
        break;
      case 'readonly':
      case 'ro':
        readonly = bool(opt, k, v);
        break;
      case 'id':
        if (!v || v.length > 20 || !/^[\x21-\x7e]+$/.test(v)) throw new Error(`${opt}: id= must be 1-20 printable characters`);
        id = v;
        break;
      case 'format':
        if (v !== 'raw') throw new Error(`${opt}: format=${v ?? ''}: only raw images are supported`);
        break;
      case 'if':
        if (v !== 'virtio') throw new Error(`${opt}: if=${v ?? ''}: only virtio drives are supported`);
        break;
      default:
        throw new Error(`${opt}: unknown key "${k}" (expected file=PATH, readonly, id=NAME)`);
    }
  }
  if (file === undefined) throw new Error(`${opt}: file=PATH is required`);
  return id === undefined ? { file, readonly } : { file, readonly, id };
}

/** QEMU's hostfwd=[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport. */
export function parseHostForward(v: string): HostForward {
  const opt = '--net user,hostfwd';
  const m = /^(tcp|udp)?:([^:-]*):(\d+)-([^:]*):(\d+)$/.exec(v);
  if (!m) throw new Error(`${opt}=${v}: expected tcp::HOSTPORT-:GUESTPORT`);
  const f: HostForward = { proto: (m[1] ?? 'tcp') as 'tcp' | 'udp', hostPort: port(opt, 'host port', m[3]!), guestPort: port(opt, 'guest port', m[5]!) };
  if (m[2]) f.hostAddr = m[2];
  return f;
}

/** `--net user[,hostfwd=tcp::H-:G]...[,mac=M]` | `tap,ifname=NAME` | `switch,path=SOCK` (alias `socket`). */
export function parseNetOption(s: string): NetOption {
  const opt = '--net';
  const kv = splitKv(s);
  const kindRaw = kv.shift()?.[0];
  let mac: string | undefined;
  const takeMac = (v: string | undefined): void => {
    if (!v) throw new Error(`${opt}: mac= needs an address`);
    try {
      parseMac(v);
    } catch (e) {
      throw new Error(`${opt}: ${(e as Error).message}`);
    }
    mac = v;
  };
  switch (kindRaw) {
    case 'user': {
      const hostfwd: HostForward[] = [];
      let mtu: number | undefined;
      for (const [k, v] of kv) {
        if (k === 'hostfwd') hostfwd.push(parseHostForward(v ?? ''));
        else if (k === 'mac') takeMac(v);
        else if (k === 'mtu') {
          mtu = Number(v);
          if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65520) throw new Error(`${opt}: mtu=${v}: expected 68-65520`);
        } else throw new Error(`${opt} user: unknown key "${k}" (expected hostfwd=tcp::HOSTPORT-:GUESTPORT, mac=, mtu=)`);
      }
      const o: NetOption = { kind: 'user', hostfwd };
      if (mac !== undefined) o.mac = mac;
      if (mtu !== undefined) o.mtu = mtu;
      return o;
    }
    case 'tap': {
      let ifname: string | undefined;
      for (const [k, v] of kv) {
        if (k === 'ifname') ifname = v;
        else if (k === 'mac') takeMac(v);
        else throw new Error(`${opt} tap: unknown key "${k}" (expected ifname=NAME, mac=)`);
      }
      if (!ifname) throw new Error(`${opt} tap: ifname=NAME is required`);
      return mac === undefined ? { kind: 'tap', ifname } : { kind: 'tap', ifname, mac };
    }
    case 'switch':
    case 'socket': {
      let path: string | undefined;
      for (const [k, v] of kv) {
        if (k === 'path') path = v;
        else if (k === 'mac') takeMac(v);
        else throw new Error(`${opt} ${kindRaw}: unknown key "${k}" (expected path=SOCK, mac=)`);
      }
      if (!path) throw new Error(`${opt} ${kindRaw}: path=SOCK is required`);
      return mac === undefined ? { kind: 'switch', path } : { kind: 'switch', path, mac };
    }
    default:
      throw new Error(`${opt}: unknown backend "${kindRaw ?? ''}" (expected user, tap or switch)`);
  }
}

/** `--vsock cid=N,path=SOCK`. */
export function parseVsockOption(s: string): VsockOption {
  const opt = '--vsock';
  let cid: number | undefined;
  let path: string | undefined;
  for (const [k, v] of splitKv(s)) {
    if (k === 'cid') {
      cid = Number(v);
      if (!v || !/^\d+$/.test(v) || cid < 3 || cid > 0xfffffffe) throw new Error(`${opt}: cid=${v ?? ''}: expected a number from 3 to 4294967294`);
    } else if (k === 'path' || k === 'uds_path') {
      if (!v) throw new Error(`${opt}: path= needs a socket path`);
      const problem = unixPathProblem(v);
      if (problem !== null) throw new Error(`${opt}: path=${v}: ${problem}`);
      path = v;
    } else throw new Error(`${opt}: unknown key "${k}" (expected cid=N, path=SOCK)`);
  }
  if (cid === undefined) throw new Error(`${opt}: cid=N is required`);
  if (path === undefined) throw new Error(`${opt}: path=SOCK is required`);
  return { cid, path };
}

// ---- attaching devices ----

export interface VirtioHost {
  memory: PhysicalMemory;
  pci?: PciHost | null;
  pic: { irqLine(n: number): IrqLine };
  clock?: VirtualClock;
  transport?: 'pci' | 'mmio';
  mmioBase?: number;
  mmioIrqs?: number[];
  pciSlot?: number;
  wake?: () => void;
  log?: (message: string) => void;
  deterministic?: boolean;
  seed?: number;
}

export interface VirtioOptions {
  drives?: DriveOption[];
  nets?: NetOption[];
  vsock?: VsockOption | null;
  /** A virtio-console (hvc0). */
  console?: boolean;
  /** A virtio-rng. */
  rng?: boolean;
  /** Queue size of every device (default 256). */
  queueSize?: number;
}

/** What a transport is to the machine: a Device to reset, save and load. */
export interface VirtioTransportDevice {
  readonly name: string;
  readonly device: VirtioDevice;
  reset(): void;
  saveState(): unknown;
  loadState(state: unknown): void;
}

export interface AttachedVirtio {
  devices: VirtioDevice[];
  transports: VirtioTransportDevice[];
  /** The virtio-console, if one was asked for: set onOutput, call input(). */
  console: VirtioConsole | null;
  /** Kernel command-line fragments announcing the MMIO devices ("" with PCI). */
  cmdline: string;
  /** The MMIO windows in device order, for the DSDT ([] with PCI). */
  mmioWindows: AcpiVirtioMmio[];
  /** ISA IRQs the devices use; the machine should make them level-triggered (ELCR). */
  levelIrqs: number[];
  /** Host operations in flight across all devices. */
  pendingIo(): number;
  /** Any device expects host work soon (VirtioDevice.hostActive). */
  hostActive(): boolean;
  /** Deterministic runs: a promise while a device's completion is due and the host has not finished it (VirtioDevice.ioBarrier). */
  ioBarrier(): Promise<void> | null;
  close(): Promise<void>;
}

export const DEFAULT_MMIO_BASE = 0xd0000000;
export const DEFAULT_MMIO_IRQS = [5, 6, 7, 12, 15, 14, 3];

/** How many devices attachVirtio makes for `o` (drives, nets, console, rng, vsock). */
export function virtioDeviceCount(o: VirtioOptions): number {
  return (o.drives?.length ?? 0) + (o.nets?.length ?? 0) + (o.console ? 1 : 0) + (o.rng ? 1 : 0) + (o.vsock ? 1 : 0);
}

/**
 * The command-line fragments attachVirtio will produce for `count` MMIO devices, known
 * before the devices exist (the kernel command line is written before they are made).
 */
export function plannedMmioCmdline(count: number, host: Pick<VirtioHost, 'mmioBase' | 'mmioIrqs'> = {}): string {
  const irqs = host.mmioIrqs ?? DEFAULT_MMIO_IRQS;
  const base = host.mmioBase ?? DEFAULT_MMIO_BASE;
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(`virtio_mmio.device=4K@0x${(base + i * 0x1000).toString(16)}:${irqs[i % irqs.length]}`);
  return out.join(' ');
}

/**
 * The kernel command line for `count` virtio-mmio devices: `cmdline` itself, with
 * plannedMmioCmdline(count) added only when it says `acpi=off`. Otherwise the guest finds
 * the devices in the DSDT (as on QEMU's microvm and Firecracker ≥1.8), which distribution
 * kernels built without CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES need, and a kernel that has both
 * must not be told twice (its second probe of a window fails with -EBUSY). A kernel
 * without ACPI ignores the DSDT: give it acpi=off.
 */
export function mmioDiscoveryCmdline(cmdline: string, count: number, host: Pick<VirtioHost, 'mmioBase' | 'mmioIrqs'> = {}): string {
  if (count === 0 || !/(^|\s)acpi=off(\s|$)/.test(cmdline)) return cmdline;
  return [cmdline, plannedMmioCmdline(count, host)].filter((x) => x).join(' ');
}

/**
 * Several interrupt sources wired-OR onto one ISA line. Linux clears the ELCR when ACPI
 * routes interrupts, so these lines usually end up edge-triggered: when one source
 * rises while another holds the line high, the line is pulsed low and high again so
 * the 8259 still sees an edge (with a level-triggered line the pulse is harmless).
 */
export class SharedIrq {
  private levels = 0;
  private sources = 0;
  constructor(private readonly line: IrqLine) {}
  source(): IrqLine {
    if (this.sources >= 31) throw new RangeError('more than 31 sources on one shared IRQ');
    const bit = 1 << this.sources++;
    return (level) => {
      const before = this.levels;
      this.levels = level ? this.levels | bit : this.levels & ~bit;
      if (before === 0 && this.levels !== 0) this.line(true);
      else if (before !== 0 && this.levels === 0) this.line(false);
      else if (level && (before & bit) === 0) {
        this.line(false);
        this.line(true);
      }
    };
  }
}

/** Why `options` cannot be part of a deterministic run, or null. */
export function deterministicProblem(options: VirtioOptions): string | null {
  const net = options.nets?.[0];
  if (net !== undefined) return `--net ${net.kind}: a deterministic run cannot take network frames, which arrive at host times (leave out --net or --deterministic)`;
  if (options.vsock) return '--vsock: a deterministic run cannot take vsock connections, which arrive at host times (leave out --vsock or --deterministic)';
  return null;
}

export async function attachVirtio(host: VirtioHost, options: VirtioOptions): Promise<AttachedVirtio> {
  const { memory } = host;
  const deterministic = host.deterministic === true;
  if (deterministic) {
    const problem = deterministicProblem(options);
    if (problem !== null) throw new Error(problem);
    if (!host.clock) throw new Error('virtio: a deterministic run needs the machine clock');
  }
  const log = host.log ?? ((m: string) => process.stderr.write(`typevisor: ${m}\n`));
  const devOpts = { log, ...(options.queueSize !== undefined ? { queueSize: options.queueSize } : {}) };
  const devices: VirtioDevice[] = [];
  const backends: NetBackend[] = [];
  let consoleDev: VirtioConsole | null = null;
  try {
    if ((options.drives ?? []).length > 0) {
      const { VirtioBlk } = await import('./VirtioBlk.js');
      const { ScheduledCompletions, DETERMINISTIC_DISK_DELAY_NS } = await import('./ScheduledCompletions.js');
      for (const d of options.drives ?? []) {
        const schedule = deterministic ? new ScheduledCompletions(host.clock!, DETERMINISTIC_DISK_DELAY_NS, `virtio-blk ${d.file}`) : undefined;
        devices.push(await VirtioBlk.open(memory, { ...devOpts, path: d.file, readonly: d.readonly, ...(d.id !== undefined ? { id: d.id } : {}), ...(d.image !== undefined ? { image: d.image } : {}), ...(schedule ? { schedule } : {}) }));
      }
    }
    if ((options.nets ?? []).length > 0) {
      const { VirtioNet } = await import('./VirtioNet.js');
      for (const n of options.nets ?? []) {
        let backend: NetBackend;
        if (n.kind === 'user') {
          const { PasstBackend } = await import('../../net/PasstBackend.js');
          const debugLog = process.env['TYPEVISOR_PASST_LOG'];
          backend = await PasstBackend.start({ hostfwd: n.hostfwd, ...(n.mtu !== undefined ? { mtu: n.mtu } : {}), ...(debugLog ? { debugLog } : {}) });
        } else if (n.kind === 'tap') {
          const { TapBackend } = await import('../../net/TapBackend.js');
          backend = await TapBackend.open({ ifname: n.ifname });
        } else {
          const { joinSwitch } = await import('../../net/SwitchBackend.js');
          backend = await joinSwitch(n.path);
        }
        backends.push(backend);
        devices.push(new VirtioNet(memory, backend, { ...devOpts, ...(n.mac !== undefined ? { mac: n.mac } : {}) }));
      }
    }
    if (options.console) {
      const { VirtioConsole } = await import('./VirtioConsole.js');
      consoleDev = new VirtioConsole(memory, devOpts);
      devices.push(consoleDev);
    }
    if (options.rng) {
      const { VirtioRng } = await import('./VirtioRng.js');
      if (deterministic) {
        const { SeededRandom } = await import('../../machine/SeededRandom.js');
        devices.push(new VirtioRng(memory, { ...devOpts, random: new SeededRandom(host.seed ?? 0) }));
      } else {
        devices.push(new VirtioRng(memory, devOpts));
      }
    }
    if (options.vsock) {
      const { VirtioVsock } = await import('./VirtioVsock.js');
      devices.push(await VirtioVsock.open(memory, { ...devOpts, cid: options.vsock.cid, path: options.vsock.path }));
    }
  } catch (e) {
    for (const d of devices) await d.close().catch(() => {});
    for (const b of backends) b.close();
    throw e;
  }
  for (const d of devices) d.wake = host.wake ?? null;

  const transports: VirtioTransportDevice[] = [];
  const cmdline: string[] = [];
  const mmioWindows: AcpiVirtioMmio[] = [];
  const levelIrqs = new Set<number>();
  const usePci = host.pci != null && host.transport !== 'mmio';
  if (usePci) {
    const { VirtioPci } = await import('./VirtioPci.js');
    let slot = host.pciSlot ?? 3;
    for (const d of devices) {
      while (slot < 32 && host.pci!.device(slot) !== undefined) slot++;
      if (slot >= 32) throw new Error('virtio: no free PCI slot left');
      const t = new VirtioPci(d, memory);
      host.pci!.addDevice(t, slot);
      const irq = host.pci!.routedIrq(t);
      if (irq >= 0) levelIrqs.add(irq);
      transports.push(t);
    }
  } else {
    const { VirtioMmio, MMIO_WINDOW_SIZE } = await import('./VirtioMmio.js');
    const irqs = host.mmioIrqs ?? DEFAULT_MMIO_IRQS;
    if (irqs.length === 0) throw new Error('virtio: no IRQs for MMIO devices');
    const shared = new Map<number, SharedIrq>();
    let base = host.mmioBase ?? DEFAULT_MMIO_BASE;
    devices.forEach((d, i) => {
      const irq = irqs[i % irqs.length]!;
      let line: IrqLine;
      if (devices.length > irqs.length) {
        let s = shared.get(irq);
        if (!s) shared.set(irq, (s = new SharedIrq(host.pic.irqLine(irq))));
        line = s.source();
      } else {
        line = host.pic.irqLine(irq);
      }
      const t = new VirtioMmio(d, base, irq, line);
      t.attach(memory);
      cmdline.push(t.cmdline());
      mmioWindows.push({ base, size: MMIO_WINDOW_SIZE, irq, shared: devices.length > irqs.length });
      levelIrqs.add(irq);
      transports.push(t);
      base += MMIO_WINDOW_SIZE;
    });
  }
  return {
    devices,
    transports,
    console: consoleDev,
    cmdline: cmdline.join(' '),
    mmioWindows,
    levelIrqs: [...levelIrqs].sort((a, b) => a - b),
    pendingIo: () => devices.reduce((n, d) => n + d.pendingIo(), 0),
    hostActive: () => devices.some((d) => d.hostActive()),
    ioBarrier: () => {
      for (const d of devices) {
        const b = d.ioBarrier();
        if (b !== null) return b;
      }
      return null;
    },
    close: async () => {
      for (const d of devices) await d.close().catch(() => {});
    },
  };
}
