// V8 compiles WebAssembly with Liftoff (one fast pass) and, for functions that run hot,
// again with TurboFan on background threads. Regions are large functions (a dispatch loop
// over every block of a page) and TurboFan's register allocation grows faster than
// linearly with them: on the default guest's boot it spent 14 s of background CPU against
// 2 s of guest execution, which on a two-core host starves the thread running the guest
// (boot 32 s wall instead of 6 s). The code the translator emits keeps guest registers in
// locals and computes flags lazily already, which Liftoff handles well, so on Node
// the translator asks V8 for Liftoff only. Browsers keep their own tiering (no flag API).

const v8 = typeof process === 'object' && process.versions?.node !== undefined ? await import('node:v8') : null;
let done = false;

/** Keep translated code on V8's baseline compiler, once per process, where the host allows it. */
export function preferBaselineWasm(): void {
  if (done || v8 === null) return;
  done = true;
  v8.setFlagsFromString('--liftoff-only');
}
