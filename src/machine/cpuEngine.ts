// The CPU engines a machine can run guest code with (a module of its own so the CLI can
// check the option without loading the machine).

/** 'jit': the binary translator (hot code compiled to WebAssembly) over the interpreter; 'interp': the interpreter alone. */
export type CpuEngine = 'jit' | 'interp';
export const CPU_ENGINES: readonly CpuEngine[] = ['jit', 'interp'];
/** The engine when none is chosen: the translator. */
export const DEFAULT_CPU_ENGINE: CpuEngine = 'jit';

/** The --cpu option's value (default 'jit'); throws a RangeError naming the choices. */
export function parseCpuEngine(value: string | undefined): CpuEngine {
  if (value === undefined) return DEFAULT_CPU_ENGINE;
  if (!(CPU_ENGINES as readonly string[]).includes(value)) throw new RangeError(`--cpu takes ${CPU_ENGINES.join(' or ')}, got "${value}"`);
  return value as CpuEngine;
}
