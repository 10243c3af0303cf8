// Firecracker's --config-file format: one JSON object whose keys name the pre-boot
// resources ("boot-source", "machine-config", "drives", "network-interfaces", "logger",
// "metrics", "serial"), each in the same shape as its API request body. Applied through
// the same checks as the API, then the VM is started.

import { ApiError, type Vmm } from './Vmm.js';
import { REQUEST_SCHEMAS, validate } from './api/schema.js';

const SECTIONS: Record<string, { def: string; list?: boolean; apply: (vmm: Vmm, body: never) => void }> = {
  'logger': { def: 'Logger', apply: (v, b) => v.putLogger(b) },
  'metrics': { def: 'Metrics', apply: (v, b) => v.putMetrics(b) },
  'boot-source': { def: 'BootSource', apply: (v, b) => v.putBootSource(b) },
  'machine-config': { def: 'MachineConfiguration', apply: (v, b) => v.putMachineConfig(b, false) },
  'drives': { def: 'Drive', list: true, apply: (v, b) => v.putDrive(b) },
  'network-interfaces': { def: 'NetworkInterface', list: true, apply: (v, b) => v.putNetworkInterface(b) },
  'serial': { def: 'SerialDevice', apply: (v, b) => v.putSerial(b) },
  'entropy': { def: 'EntropyDevice', apply: (v) => v.putEntropy() },
  'vsock': { def: 'Vsock', apply: (v, b) => v.putVsock(b) },
};

/** Sections of Firecracker's config file typevisor does not implement yet. */
const UNSUPPORTED_SECTIONS = ['balloon', 'mmds-config', 'cpu-config', 'pmem', 'memory-hotplug'];

/** Check and apply a parsed config file. Throws ApiError naming the section at fault. */
export function applyConfigFile(vmm: Vmm, config: unknown): void {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new ApiError(400, 'the config file must hold a JSON object');
  const c = config as Record<string, unknown>;
  for (const key of Object.keys(c)) {
    if (UNSUPPORTED_SECTIONS.includes(key)) {
      if (c[key] === null || (Array.isArray(c[key]) && (c[key] as unknown[]).length === 0)) continue;
      throw new ApiError(400, `config file: "${key}" is not supported by typevisor yet`);
    }
    if (!Object.hasOwn(SECTIONS, key)) throw new ApiError(400, `config file: unknown section "${key}"`);
  }
  if (!Object.hasOwn(c, 'boot-source')) throw new ApiError(400, 'config file: missing "boot-source"');
  for (const [key, s] of Object.entries(SECTIONS)) {
    const v = c[key];
    if (v === undefined || v === null) continue;
    const items: unknown[] = s.list ? (Array.isArray(v) ? v : [v]) : [v];
    if (s.list && !Array.isArray(v)) throw new ApiError(400, `config file: "${key}" must be a list`);
    for (const item of items) {
      const err = validate(REQUEST_SCHEMAS[s.def]!, item, REQUEST_SCHEMAS, key);
      if (err !== null) throw new ApiError(400, `config file: ${err}`);
      s.apply(vmm, item as never);
    }
  }
}
