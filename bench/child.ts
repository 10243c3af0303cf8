// One benchmark function run in a fresh Node process. typevisor's own runs go there
// because V8's flags are process-wide: the translator holds WebAssembly to its baseline
// compiler (src/cpu/jit/wasmTiering.ts), which in a shared process would also hold back
// v86's wasm, and a fresh process also keeps one engine's warm JIT and heap out of the
// next one's figures.
//
// Parent: inFreshProcess(moduleUrl, exportName, args) resolves with what the export
// returned (JSON). Child (this file as the script): node child.js <module> <export> <args>;
// progress lines on stderr (the parent forwards them to its log), the result on stdout.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isMain } from './args.js';

export function inFreshProcess<T>(moduleUrl: string, exportName: string, args: unknown[], log: (line: string) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), moduleUrl, exportName, JSON.stringify(args)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '', err = '', partial = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      const lines = (partial + d).split('\n');
      partial = lines.pop()!;
      for (const l of lines) log(l);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (partial !== '') log(partial);
      if (code !== 0) {
        reject(new Error(`${exportName} in a child process ended with ${code ?? signal}: ${err.trim().split('\n').slice(-5).join(' | ')}`));
        return;
      }
      try {
        resolve(JSON.parse(out) as T);
      } catch {
        reject(new Error(`${exportName} in a child process printed no result: ${out.slice(0, 200)}`));
      }
    });
  });
}

/** The child's side; not a top-level await: the module it imports imports this one. */
async function childMain(moduleUrl: string, exportName: string, argsJson: string): Promise<void> {
  const mod = (await import(moduleUrl)) as Record<string, unknown>;
  const fn = mod[exportName];
  if (typeof fn !== 'function') throw new Error(`${moduleUrl} exports no function ${exportName}`);
  // The function's progress goes to stderr, its result alone to stdout.
  const result: unknown = await (fn as (...a: unknown[]) => unknown)(...(JSON.parse(argsJson) as unknown[]), (l: string) => console.error(l));
  process.stdout.write(JSON.stringify(result));
}

if (isMain(import.meta.url)) {
  const [moduleUrl, exportName, argsJson] = process.argv.slice(2);
  if (moduleUrl === undefined || exportName === undefined || argsJson === undefined) {
    console.error('usage: node dist/bench/child.js <module url> <export> <JSON array of arguments>');
    process.exit(2);
  }
  childMain(moduleUrl, exportName, argsJson).catch((e: unknown) => {
    console.error(e instanceof Error ? e.stack : e);
    process.exit(1);
  });
}
