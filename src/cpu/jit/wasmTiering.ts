// V8 compiles WebAssembly with Liftoff (one fast pass) and, for functions that run hot,
// again with TurboFan on background threads. Regions are large functions (a dispatch loop
// over every block of a page) and TurboFan's register allocation grows faster than
// linearly with them: on the default guest's boot it spent 14 s of background CPU against
// 2 s of guest execution, which on a two-core host starves the thread running the guest
// (boot 32 s wall instead of 6 s). The code the translator emits keeps guest registers in
// locals and computes flags lazily already, which Liftoff handles well, so on Node
// the translator asks V8 for Liftoff only, and recompiles the few regions that run long
// with TurboFan itself (compileOptimized, Translator's tierUpInsnsPerByte). Browsers keep
// their own tiering (no flag API).

// getBuiltinModule rather than an import: this file is also bundled for the browser.
const v8 = typeof process === 'object' && typeof process.getBuiltinModule === 'function' ? process.getBuiltinModule('node:v8') : null;
let done = false;

/** Keep translated code on V8's baseline compiler, once per process, where the host allows it. */
export function preferBaselineWasm(): void {
  if (done || v8 === null) return;
  done = true;
  v8.setFlagsFromString('--liftoff-only');
}

/**
 * Compile with V8's optimizing compiler (TurboFan) instead, synchronously: for the few
 * regions that run long enough to repay it. The module's bytes must differ from any
 * compiled before (ModuleSpec.tag), or V8's module cache hands back the Liftoff code.
 * Where flags cannot be set (a browser) the engine's own tiering decides and this is
 * `compile()` as it is. The flags are the process's: another thread's compile in this
 * window gets TurboFan too, which is slower to compile but runs the same.
 */
export function compileOptimized<T>(compile: () => T): T {
  if (v8 === null) return compile();
  // Eagerly: V8 compiles a function lazily, at its first call, with the flags of that moment.
  v8.setFlagsFromString('--no-liftoff-only');
  v8.setFlagsFromString('--no-liftoff');
  v8.setFlagsFromString('--no-wasm-lazy-compilation');
  try {
    return compile();
  } finally {
    v8.setFlagsFromString('--wasm-lazy-compilation');
    v8.setFlagsFromString('--liftoff');
    v8.setFlagsFromString('--liftoff-only');
  }
}
