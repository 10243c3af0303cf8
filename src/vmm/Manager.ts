// The manager of many microVMs (`typevisor manage`): creates, lists and destroys VMs,
// each a Vmm of its own with a serial console socket, and serves Firecracker's per-VM
// API for each under /vms/{id}/... through the same router as `typevisor serve`
// (answerVmRequest), the prefix taken off. What is the manager's own:
//
//   GET    /                 {app_name, vmm_version, vm_count}
//   GET    /vms              {vms: [VmSummary...]}
//   PUT    /vms/{id}         create (body optional: {"cpu_share": 0.25, "cpu_engine": "jit" | "interp",
//                            "deterministic": true, "seed": N}) → 204; 409 if it exists (cpu_engine: the
//                            CPU engine, default the manager's --cpu; deterministic: README "Deterministic runs")
//   GET    /vms/{id}         VmSummary: Firecracker's InstanceInfo (= GET /vms/{id}/) and the manager's fields
//   PATCH  /vms/{id}         {"cpu_share": S}: change the cap, also while running
//   DELETE /vms/{id}         stop the VM, close its console, forget it → 204
//   GET    /vms/{id}/stats   live readout (VmReadout): state, uptime, counters, exit (and the
//                            VM process's RSS with --process-per-vm)
//   GET    /vms/{id}/console the last 64 KiB of serial output, as {output, bytes_total, bytes_dropped}
//
// An unknown VM is 404 with a fault_message. A VM that ends stays listed (state
// "Exited", with its exit) until deleted; the manager and the other VMs go on.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError, Vmm, checkCpuShare } from './Vmm.js';
import { typevisorVersion } from '../version.js';
import { answerVmRequest, parseBody, type ApiAnswer, type ApiTarget } from './api/ApiServer.js';
import type { Definitions } from './api/schema.js';
import type { Pacing } from '../machine/RunLoop.js';
import { CPU_ENGINES, DEFAULT_CPU_ENGINE, type CpuEngine } from '../machine/cpuEngine.js';
import type { VmHandle, VmSpec } from './VmWorker.js';
import { ManagerConsole } from './ManagerConsole.js';

/** VM ids: Firecracker's instance-id rule (letters, digits, "_" and "-", up to 64). */
export const VM_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
/** Default limit on VMs one manager holds (a runaway client must not exhaust the host). */
export const DEFAULT_MAX_VMS = 1024;

/** PUT /vms/{id}'s body. */
interface VmCreate { cpu_share?: number; cpu_engine?: CpuEngine; deterministic?: boolean; seed?: number }

/** What a VM is created with (Manager.create): its cap, CPU engine, and whether it is deterministic. */
export interface VmCreateOptions { cpuShare?: number; engine?: CpuEngine; deterministic?: { seed: number } }

const MANAGER_SCHEMAS: Definitions = {
  VmCreate: {
    type: 'object', additionalProperties: false,
    properties: {
      cpu_share: { type: 'number' }, cpu_engine: { type: 'string', enum: [...CPU_ENGINES] },
      deterministic: { type: 'boolean' }, seed: { type: 'integer', minimum: 0, maximum: 0xffffffff },
    },
  },
  VmUpdate: { type: 'object', additionalProperties: false, required: ['cpu_share'], properties: { cpu_share: { type: 'number' } } },
};

/** Resident memory of a VM's own process (--process-per-vm), from /proc; null where unknown. */
function processRssMiB(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 102.4) / 10 : null;
  } catch {
    return null;
  }
}

export interface ManagerOptions {
  /** Directory of the per-VM console sockets ({id}.console). */
  consoleDir: string;
  pacing?: Pacing;
  /** CPU engine of a VM created without cpu_engine (default 'jit', the translator). */
  cpu?: CpuEngine;
  /** How each VM is run (default: a worker thread; ProcessVm.start for --process-per-vm). */
  launch?: (spec: VmSpec) => Promise<VmHandle>;
  maxVms?: number;
  log?: (message: string) => void;
}

export interface VmSummary {
  id: string;
  state: string;
  vmm_version: string;
  app_name: string;
  cpu_share: number;
  /** The CPU engine it runs on. */
  cpu_engine: CpuEngine;
  /** A deterministic VM, and its seed. */
  deterministic: boolean;
  seed?: number;
  mem_size_mib: number;
  console_socket: string;
  /** The VM's own process (--process-per-vm). */
  pid?: number;
  exit: { kind: string; reason: string } | null;
}

interface ManagedVm {
  vmm: Vmm;
  console: ManagerConsole;
}

export class Manager implements ApiTarget {
  private readonly vms = new Map<string, ManagedVm>();
  /** Ids being created or deleted (their console socket is opening or closing). */
  private readonly busy = new Set<string>();
  readonly version = typevisorVersion();

  constructor(private readonly options: ManagerOptions) {}

  log(level: string, message: string): void {
    this.options.log?.(`[${level}] ${message}`);
  }

  get size(): number { return this.vms.size; }

  async answer(method: string, path: string, text: string): Promise<ApiAnswer> {
    if (path === '/') {
      if (method !== 'GET') throw new ApiError(400, `Invalid request method and/or path: ${method} ${path}.`);
      parseBody(method, path, text, undefined);
      return { status: 200, body: { app_name: 'typevisor', vmm_version: this.version, vm_count: this.vms.size } };
    }
    const parts = path.split('/'); // ['', 'vms', id, ...rest]
    if (parts[1] !== 'vms') throw new ApiError(400, `Invalid request method and/or path: ${method} ${path} (the manager serves / and /vms/...).`);
    if (parts.length === 2) {
      if (method !== 'GET') throw new ApiError(400, `Invalid request method and/or path: ${method} ${path}.`);
      parseBody(method, path, text, undefined);
      return { status: 200, body: { vms: [...this.vms.keys()].map((id) => this.summary(id)) } };
    }
    const id = parts[2]!;
    if (!VM_ID_RE.test(id)) throw new ApiError(400, `Invalid VM id ${JSON.stringify(id)}: ids are 1 to 64 letters, digits, "_" or "-".`);
    const rest = parts.length > 3 ? `/${parts.slice(3).join('/')}` : null;
    if (rest === null) return this.answerVm(method, id, text);
    const vm = this.get(id);
    if (rest === '/stats' && method === 'GET') {
      parseBody(method, path, text, undefined);
      const readout = await vm.vmm.readout();
      const pid = vm.vmm.worker?.pid;
      const rss = pid !== undefined ? processRssMiB(pid) : null;
      return { status: 200, body: { ...readout, ...(rss !== null ? { host_rss_mib: rss } : {}) } };
    }
    if (rest === '/console' && method === 'GET') {
      parseBody(method, path, text, undefined);
      const r = vm.console.ring;
      return { status: 200, body: { output: Buffer.from(r.contents()).toString('utf8'), bytes_total: r.total, bytes_dropped: r.dropped } };
    }
    return answerVmRequest(vm.vmm, method, rest, text);
  }

  private async answerVm(method: string, id: string, text: string): Promise<ApiAnswer> {
    const path = `/vms/${id}`;
    switch (method) {
      case 'PUT': {
        const body = parseBody(method, '/vms/{id}', text.trim() === '' ? '{}' : text, 'VmCreate', MANAGER_SCHEMAS) as VmCreate;
        if (body.seed !== undefined && body.deterministic !== true) throw new ApiError(400, 'seed needs "deterministic": true.');
        await this.create(id, {
          ...(body.cpu_share !== undefined ? { cpuShare: body.cpu_share } : {}),
          ...(body.cpu_engine !== undefined ? { engine: body.cpu_engine } : {}),
          ...(body.deterministic === true ? { deterministic: { seed: body.seed ?? 0 } } : {}),
        });
        return { status: 204 };
      }
      case 'GET':
        parseBody(method, path, text, undefined);
        this.get(id);
        return { status: 200, body: this.summary(id) };
      case 'PATCH': {
        const body = parseBody(method, '/vms/{id}', text, 'VmUpdate', MANAGER_SCHEMAS) as { cpu_share: number };
        this.get(id).vmm.setCpuShare(body.cpu_share);
        return { status: 204 };
      }
      case 'DELETE':
        parseBody(method, path, text, undefined);
        await this.destroy(id);
        return { status: 204 };
      default:
        throw new ApiError(400, `Invalid request method and/or path: ${method} ${path}.`);
    }
  }

  private get(id: string): ManagedVm {
    const vm = this.vms.get(id);
    if (!vm) throw new ApiError(404, `No VM with id ${JSON.stringify(id)}.`);
    return vm;
  }

  summary(id: string): VmSummary {
    const { vmm, console: con } = this.get(id);
    const r = vmm.readoutNow();
    const pid = vmm.worker?.pid;
    const seed = vmm.deterministicSeed;
    return { ...vmm.instanceInfo(), cpu_share: r.cpu_share, cpu_engine: vmm.cpuEngine, deterministic: seed !== null, ...(seed !== null ? { seed } : {}), mem_size_mib: r.mem_size_mib, console_socket: con.path, ...(pid !== undefined ? { pid } : {}), exit: r.exit };
  }

  /** Create VM `id` (configured next through /vms/{id}/..., started by InstanceStart). */
  async create(id: string, opts: VmCreateOptions = {}): Promise<void> {
    const { cpuShare = 1, engine = this.options.cpu ?? DEFAULT_CPU_ENGINE, deterministic } = opts;
    if (this.vms.has(id) || this.busy.has(id)) throw new ApiError(409, `A VM with id ${JSON.stringify(id)} already exists.`);
    if (this.vms.size + this.busy.size >= (this.options.maxVms ?? DEFAULT_MAX_VMS)) {
      throw new ApiError(400, `The manager holds its limit of ${this.options.maxVms ?? DEFAULT_MAX_VMS} VMs: delete one first.`);
    }
    checkCpuShare(cpuShare);
    this.busy.add(id);
    try {
      let vmm: Vmm | null = null;
      const con = new ManagerConsole(join(this.options.consoleDir, `${id}.console`), (b) => vmm?.serialInput(b) ?? true);
      vmm = new Vmm({
        id, cpuShare,
        onSerialInputDrain: () => con.drain(),
        pacing: this.options.pacing ?? 'realtime',
        cpu: engine,
        ...(deterministic !== undefined ? { deterministic } : {}),
        serialOut: (b) => con.output(b),
        onVmExit: (e) => this.log(e.kind === 'poweroff' || e.kind === 'stopped' ? 'Info' : 'Error', `VM ${id} ended: ${e.reason}`),
        ...(this.options.launch ? { launch: this.options.launch } : {}),
      });
      try {
        await con.listen();
      } catch (e) {
        throw new ApiError(400, `Cannot create VM ${JSON.stringify(id)}: ${(e as Error).message}`);
      }
      this.vms.set(id, { vmm, console: con });
      this.log('Info', `VM ${id} created`);
    } finally {
      this.busy.delete(id);
    }
  }

  /** Stop VM `id` if it runs, close its console and forget it. */
  async destroy(id: string): Promise<void> {
    const vm = this.get(id);
    this.vms.delete(id);
    this.busy.add(id);
    try {
      await vm.vmm.shutdown();
      await vm.console.close();
    } finally {
      this.busy.delete(id);
    }
    this.log('Info', `VM ${id} deleted`);
  }

  /** Stop every VM (at manager exit). */
  async shutdown(): Promise<void> {
    await Promise.all([...this.vms.keys()].map((id) => this.destroy(id).catch(() => {})));
  }
}
