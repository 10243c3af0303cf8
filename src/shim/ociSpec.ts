// The parts of an OCI runtime spec (config.json, runtime-spec v1.0 config.md) a
// container VM honours, checked: what the VM cannot do is refused naming the field,
// never silently dropped. The process becomes a shell script for the guest agent
// (guest/agent), which sources it.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_GUEST_MIN_MIB } from '../machine/memoryLimits.js';

/** A spec the VM cannot run; the message names the field. */
export class SpecError extends Error {}

export interface OciProcess {
  terminal?: boolean;
  user?: { uid?: number; gid?: number; additionalGids?: number[] };
  args?: string[];
  env?: string[];
  cwd?: string;
}

export interface OciSpec {
  ociVersion?: string;
  process?: OciProcess;
  root?: { path?: string; readonly?: boolean };
  hostname?: string;
  mounts?: { destination: string; type?: string; source?: string; options?: string[] }[];
  hooks?: Record<string, unknown[] | undefined>;
  linux?: { resources?: { memory?: { limit?: number } } };
}

/** Guest RAM when the spec sets no memory limit, and the most it may ask for (the guest kernel uses up to ~890 MiB). */
export const DEFAULT_VM_MIB = 64;
export const MAX_VM_MIB = 768;
/** Below this the guest boots but leaves the container little room: refused as a limit. */
export const MIN_VM_MIB = Math.max(DEFAULT_GUEST_MIN_MIB + 5, 16);

/** Mount types the guest provides itself (its own proc, sysfs, devtmpfs, devpts, tmpfs). */
const GUEST_MOUNT_TYPES = new Set(['proc', 'sysfs', 'devpts', 'tmpfs', 'mqueue', 'cgroup', 'cgroup2']);

export function readSpec(bundle: string): OciSpec {
  const path = join(bundle, 'config.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new SpecError(`cannot read the bundle's config.json (${path}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let spec: unknown;
  try {
    spec = JSON.parse(text);
  } catch (e) {
    throw new SpecError(`${path} is not JSON: ${(e as Error).message}`);
  }
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw new SpecError(`${path} is not a JSON object`);
  return spec as OciSpec;
}

/** Check what the VM cannot do; returns the guest memory in MiB. */
export function checkSpec(spec: OciSpec): { memoryMiB: number } {
  if (spec.process === undefined) throw new SpecError('process: the spec has no process to run');
  checkProcess(spec.process, 'process');
  for (const [kind, list] of Object.entries(spec.hooks ?? {})) {
    if (Array.isArray(list) && list.length > 0) throw new SpecError(`hooks.${kind}: OCI hooks are not supported by typevisor (they would run on the host, outside the VM)`);
  }
  (spec.mounts ?? []).forEach((m, i) => {
    const type = m.type ?? '';
    const bind = type === 'bind' || type === 'rbind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');
    if (bind) throw new SpecError(`mounts[${i}]: bind mount of host path ${JSON.stringify(m.source)} at ${JSON.stringify(m.destination)} is not supported by typevisor (the VM cannot see host files)`);
    if (!GUEST_MOUNT_TYPES.has(type)) throw new SpecError(`mounts[${i}]: mount type ${JSON.stringify(type)} at ${JSON.stringify(m.destination)} is not supported by typevisor`);
  });
  const limit = spec.linux?.resources?.memory?.limit;
  let memoryMiB = DEFAULT_VM_MIB;
  if (typeof limit === 'number' && limit > 0) {
    memoryMiB = Math.ceil(limit / (1 << 20));
    if (memoryMiB < MIN_VM_MIB) throw new SpecError(`linux.resources.memory.limit: ${limit} bytes is below the ${MIN_VM_MIB} MiB a container VM needs`);
    if (memoryMiB > MAX_VM_MIB) throw new SpecError(`linux.resources.memory.limit: ${limit} bytes is above the ${MAX_VM_MIB} MiB typevisor's guest can use`);
  }
  return { memoryMiB };
}

/** Check a process (the container's, or an exec's). */
export function checkProcess(p: OciProcess, field: string): void {
  if (!Array.isArray(p.args) || p.args.length === 0 || !p.args.every((a) => typeof a === 'string')) {
    throw new SpecError(`${field}.args: no command to run`);
  }
  const uid = p.user?.uid ?? 0;
  const gid = p.user?.gid ?? 0;
  if (uid !== 0 || gid !== 0) throw new SpecError(`${field}.user: uid ${uid} gid ${gid} is not supported by typevisor (the guest agent runs processes as root)`);
  if (p.env !== undefined && !(Array.isArray(p.env) && p.env.every((e) => typeof e === 'string' && e.includes('=') && !e.includes('\0')))) {
    throw new SpecError(`${field}.env: every entry must be a NAME=VALUE string`);
  }
  if (p.cwd !== undefined && (typeof p.cwd !== 'string' || !p.cwd.startsWith('/'))) throw new SpecError(`${field}.cwd: must be an absolute path`);
  if (p.args.some((a) => a.includes('\0'))) throw new SpecError(`${field}.args: NUL in an argument`);
}

/** A POSIX shell word that stands for `s` exactly. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command that runs `p` in the container's root (the agent's /mnt/root), as shell
 * words: the spec's environment alone (env -i), then chroot, then the working directory
 * through the image's /bin/sh when it is not "/" (busybox chroot has no --workdir).
 */
export function processCommand(p: OciProcess): string {
  const env = (p.env ?? []).map(shellQuote).join(' ');
  const args = (p.args ?? []).map(shellQuote).join(' ');
  const cwd = p.cwd ?? '/';
  const inRoot = cwd === '/' ? args : `/bin/sh -c 'cd "$1" || exit 127; shift; exec "$@"' sh ${shellQuote(cwd)} ${args}`;
  return `exec /bin/busybox env -i ${env} /bin/busybox chroot /mnt/root ${inRoot}`;
}

/** The job script for the agent's /dev/vdb: terminal mode, hostname, run_main. */
export function jobScript(spec: OciSpec): string {
  const p = spec.process!;
  const lines = [
    '# typevisor container job (src/shim/ociSpec.ts), sourced by the guest agent',
    `terminal=${p.terminal === true ? 1 : 0}`,
  ];
  if (typeof spec.hostname === 'string' && spec.hostname !== '') lines.push(`hostname ${shellQuote(spec.hostname)}`);
  lines.push(`run_main() { ${processCommand(p)}; }`, '');
  return lines.join('\n');
}
