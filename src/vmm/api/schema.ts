// Firecracker API (firecracker-api.yaml, OpenAPI 2.0 `definitions`): the request and
// response bodies typevisor accepts, as a small JSON-Schema subset, and a validator
// for that subset. Every object is closed: a field the schema does not list is refused
// (Firecracker's parser refuses unknown fields too). Fields Firecracker defines that
// typevisor does not implement yet are listed under `unsupported` so the answer can say so.
// Only own members of a schema count (a field named "constructor" or "__proto__" is as
// unknown as any other), and strings must be well-formed Unicode (no lone surrogates from
// \ud800-style escapes, which would turn into U+FFFD in file names).

export interface Schema {
  type?: 'object' | 'string' | 'integer' | 'boolean' | 'number' | 'array';
  properties?: Record<string, Schema>;
  required?: string[];
  /** false: unknown fields are an error. */
  additionalProperties?: boolean | Schema;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  $ref?: string;
  items?: Schema;
  /** typevisor only: Firecracker fields refused with "not supported yet". */
  unsupported?: string[];
  [k: string]: unknown;
}

export type Definitions = Record<string, Schema>;

/** A surrogate not in a pair (in /u mode a pair is one code point and does not match). */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/**
 * Check `value` against `schema`. Returns null when it conforms, else one sentence
 * naming the first field at fault. `$ref: "#/definitions/X"` resolves in `defs`.
 */
export function validate(schema: Schema, value: unknown, defs: Definitions = {}, where = 'body'): string | null {
  if (schema.$ref !== undefined) {
    const name = schema.$ref.replace(/^#\/definitions\//, '');
    const target = Object.hasOwn(defs, name) ? defs[name] : undefined;
    if (!target) return `${where}: unknown schema ${schema.$ref}`;
    return validate(target, value, defs, where);
  }
  const t = typeOf(value);
  if (schema.type !== undefined) {
    const ok = schema.type === t || (schema.type === 'number' && t === 'integer');
    if (!ok) return `${where} must be ${article(schema.type)}, got ${t === 'null' ? 'null' : article(t)}`;
  }
  if (schema.enum !== undefined && !schema.enum.includes(value)) {
    return `${where} must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}, got ${JSON.stringify(value)}`;
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) return `${where} must be at least ${schema.minimum}, got ${value}`;
    if (schema.maximum !== undefined && value > schema.maximum) return `${where} must be at most ${schema.maximum}, got ${value}`;
  }
  if (t === 'array' && schema.items !== undefined) {
    const items = value as unknown[];
    for (let i = 0; i < items.length; i++) {
      const err = validate(schema.items, items[i], defs, `${where}[${i}]`);
      if (err) return err;
    }
  }
  if (t === 'string' && LONE_SURROGATE.test(value as string)) {
    return `${where} is not valid Unicode (it holds a lone surrogate)`;
  }
  if (t === 'object' && (schema.type === 'object' || schema.properties)) {
    const obj = value as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      if (LONE_SURROGATE.test(key)) return `${where === 'body' ? 'a field name' : `a field name in ${where}`} is not valid Unicode (it holds a lone surrogate)`;
      // Own members only: "constructor", "toString" or "__proto__" must not find Object.prototype's.
      const sub = schema.properties !== undefined && Object.hasOwn(schema.properties, key) ? schema.properties[key] : undefined;
      if (sub) {
        const err = validate(sub, obj[key], defs, `${where === 'body' ? '' : `${where}.`}${key}`);
        if (err) return err;
        continue;
      }
      if (schema.unsupported?.includes(key)) return `field "${key}" is not supported by typevisor yet`;
      if (schema.additionalProperties === false) return `unknown field "${key}"`;
      if (typeof schema.additionalProperties === 'object') {
        const err = validate(schema.additionalProperties, obj[key], defs, `${where}.${key}`);
        if (err) return err;
      }
    }
    for (const key of schema.required ?? []) {
      if (!Object.hasOwn(obj, key)) return `missing required field "${key}"`;
    }
  }
  return null;
}

function article(t: string): string {
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

const str: Schema = { type: 'string' };
const bool: Schema = { type: 'boolean' };

/** Request bodies typevisor accepts, named as in firecracker-api.yaml's definitions. */
export const REQUEST_SCHEMAS: Definitions = {
  BootSource: {
    type: 'object', additionalProperties: false,
    required: ['kernel_image_path'],
    properties: { kernel_image_path: str, initrd_path: str, boot_args: str },
  },
  MachineConfiguration: {
    type: 'object', additionalProperties: false,
    required: ['mem_size_mib', 'vcpu_count'],
    properties: {
      vcpu_count: { type: 'integer', minimum: 1, maximum: 32 },
      mem_size_mib: { type: 'integer' },
      smt: bool,
      track_dirty_pages: bool,
      huge_pages: { type: 'string', enum: ['None', 'Transparent', '2M'] },
    },
    unsupported: ['cpu_template'],
  },
  Drive: {
    type: 'object', additionalProperties: false,
    required: ['drive_id', 'is_root_device', 'path_on_host'],
    properties: {
      drive_id: str, is_root_device: bool, is_read_only: bool, path_on_host: str,
      partuuid: str,
      cache_type: { type: 'string', enum: ['Unsafe', 'Writeback'] },
      io_engine: { type: 'string', enum: ['Sync', 'Async'] },
    },
    unsupported: ['rate_limiter', 'socket'],
  },
  PartialDrive: {
    type: 'object', additionalProperties: false,
    required: ['drive_id'],
    properties: { drive_id: str, path_on_host: str },
    unsupported: ['rate_limiter'],
  },
  NetworkInterface: {
    type: 'object', additionalProperties: false,
    required: ['host_dev_name', 'iface_id'],
    properties: { iface_id: str, host_dev_name: str, guest_mac: str },
    unsupported: ['mtu', 'rx_rate_limiter', 'tx_rate_limiter'],
  },
  InstanceActionInfo: {
    type: 'object', additionalProperties: false,
    required: ['action_type'],
    properties: { action_type: { type: 'string', enum: ['FlushMetrics', 'InstanceStart', 'SendCtrlAltDel'] } },
  },
  Vm: {
    type: 'object', additionalProperties: false,
    required: ['state'],
    properties: { state: { type: 'string', enum: ['Paused', 'Resumed'] } },
  },
  EntropyDevice: {
    type: 'object', additionalProperties: false,
    properties: {},
    unsupported: ['rate_limiter'],
  },
  Vsock: {
    type: 'object', additionalProperties: false,
    required: ['guest_cid', 'uds_path'],
    properties: { guest_cid: { type: 'integer', minimum: 3 }, uds_path: str, vsock_id: str },
  },
  SerialDevice: {
    type: 'object', additionalProperties: false,
    properties: { serial_out_path: str },
    unsupported: ['rate_limiter'],
  },
  Logger: {
    type: 'object', additionalProperties: false,
    properties: {
      log_path: str,
      level: { type: 'string', enum: ['Error', 'Warning', 'Info', 'Debug', 'Trace', 'Off'] },
      show_level: bool, show_log_origin: bool, module: str,
    },
  },
  SnapshotCreateParams: {
    type: 'object', additionalProperties: false,
    required: ['mem_file_path', 'snapshot_path'],
    properties: { mem_file_path: str, snapshot_path: str, snapshot_type: { type: 'string', enum: ['Full', 'Diff'] } },
  },
  SnapshotLoadParams: {
    type: 'object', additionalProperties: false,
    required: ['snapshot_path'],
    properties: {
      enable_diff_snapshots: bool, track_dirty_pages: bool, mem_file_path: str,
      mem_backend: { $ref: '#/definitions/MemoryBackend' },
      snapshot_path: str, resume_vm: bool,
      network_overrides: { type: 'array', items: { $ref: '#/definitions/NetworkOverride' } },
      vsock_override: { $ref: '#/definitions/VsockOverride' },
      clock_realtime: bool,
      huge_pages: { type: 'string', enum: ['Snapshot', 'None', 'Transparent', '2M'] },
    },
  },
  MemoryBackend: {
    type: 'object', additionalProperties: false,
    required: ['backend_type', 'backend_path'],
    properties: { backend_type: { type: 'string', enum: ['File', 'Uffd'] }, backend_path: str },
  },
  NetworkOverride: {
    type: 'object', additionalProperties: false,
    required: ['iface_id', 'host_dev_name'],
    properties: { iface_id: str, host_dev_name: str },
  },
  VsockOverride: {
    type: 'object', additionalProperties: false,
    required: ['uds_path'],
    properties: { uds_path: str },
  },
  Metrics: {
    type: 'object', additionalProperties: false,
    required: ['metrics_path'],
    properties: { metrics_path: str, emit_id: bool, properties: { type: 'object', additionalProperties: str } },
  },
};
