// Placeholder until the snapshot byte format lands.
import type { Machine } from '../src/machine/Machine.js';
import type { CpuEngine } from '../src/machine/cpuEngine.js';
export async function snapshotOf(_m: Machine): Promise<{ state: Uint8Array; memory: Uint8Array; ms: number }> {
  throw new Error('snapshots are not supported in the page yet');
}
export async function machineFromSnapshot(_s: Uint8Array, _m: Uint8Array, _c: CpuEngine): Promise<Machine> {
  throw new Error('snapshots are not supported in the page yet');
}
