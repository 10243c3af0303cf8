// containerd's command line for a shim v2 (Go flag syntax) and where the shim listens.

import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { unixPathProblem } from '../net/unixSocket.js';

export interface ShimFlags {
  namespace: string; address: string; publishBinary: string; id: string; bundle: string; socket: string; debug: boolean;
  action: string;
}

/** Parse containerd's flags (Go's flag package: -name value, --name value, -name=value; bools alone). */
export function parseShimArgs(argv: string[]): ShimFlags {
  const f: ShimFlags = { namespace: '', address: '', publishBinary: '', id: '', bundle: '', socket: '', debug: false, action: '' };
  const keys: Record<string, keyof ShimFlags> = { namespace: 'namespace', address: 'address', 'publish-binary': 'publishBinary', id: 'id', bundle: 'bundle', socket: 'socket' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-')) { if (f.action !== '') throw new Error(`unexpected argument ${JSON.stringify(a)}`); f.action = a; continue; }
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    if (name === 'debug') { f.debug = eq < 0 || body.slice(eq + 1) !== 'false'; continue; }
    if (name === 'v' || name === 'version') { f.action = 'version'; continue; }
    const key = keys[name];
    if (key === undefined) throw new Error(`unknown flag -${name}`);
    const value = eq >= 0 ? body.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new Error(`flag -${name} needs a value`);
    (f as unknown as Record<string, string>)[key] = value;
  }
  return f;
}

/** Where the shim of (address, namespace, id) listens: beside containerd's socket, as containerd's own shims (s/<hash>). */
export function socketPath(f: ShimFlags): string {
  const hash = createHash('sha256').update(`${f.address}\0${f.namespace}\0${f.id}`).digest('hex').slice(0, 32);
  const beside = join(dirname(f.address || '/run/containerd/containerd.sock'), 's', hash);
  return unixPathProblem(beside) === null ? beside : join('/tmp', `typevisor-shim-${hash}`);
}
