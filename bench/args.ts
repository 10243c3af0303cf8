// A benchmark run on its own (node dist/bench/NAME.js ...): its options checked (a bad
// value or an unknown option is an error with exit code 2), its progress logged, its
// report printed as text or, with --json, as JSON on stdout (progress then on stderr).

import { fileURLToPath } from 'node:url';

/** Whether the module at `url` is the script node was started with. */
export function isMain(url: string): boolean {
  return process.argv[1] !== undefined && fileURLToPath(url) === process.argv[1];
}

/** Progress lines: on stderr when stdout carries JSON. */
export function progressLog(json: boolean): (line: string) => void {
  return json ? (l) => console.error(l) : (l) => console.log(l);
}

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

export class BenchArgs {
  readonly json: boolean;
  readonly log: (line: string) => void;

  /** `usage`: the command line with its options; `options`: the names that take a value. */
  constructor(usage: string, options: string[], private readonly args = process.argv.slice(2)) {
    if (args.includes('--help') || args.includes('-h')) {
      console.log(`usage: ${usage}`);
      process.exit(0);
    }
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === '--json') continue;
      const name = a.startsWith('--') ? a.slice(2) : '';
      if (!options.includes(name)) fail(`unknown argument "${a}"; usage: ${usage}`);
      if (args[++i] === undefined) fail(`--${name} needs a value`);
    }
    this.json = args.includes('--json');
    this.log = progressLog(this.json);
  }

  value(name: string): string | undefined {
    const i = this.args.indexOf(`--${name}`);
    return i >= 0 ? this.args[i + 1] : undefined;
  }

  /** A number that `ok` accepts; `what` (e.g. "a whole number >= 1") is said when it does not. */
  number(name: string, ok: (n: number) => boolean, what: string): number | undefined {
    const v = this.value(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (v.trim() === '' || !ok(n)) fail(`--${name} takes ${what}, got "${v}"`);
    return n;
  }

  /** A whole number >= 1. */
  count(name: string): number | undefined {
    return this.number(name, (n) => Number.isInteger(n) && n >= 1, 'a whole number >= 1');
  }

  /** --only a,b: names among `known` ("qemu" stands for "qemu-tcg"). */
  only<T extends string>(known: readonly T[], what = 'VMM'): T[] | undefined {
    const v = this.value('only');
    if (v === undefined) return undefined;
    const names = v.split(',').map((n) => (n === 'qemu' ? 'qemu-tcg' : n));
    const bad = names.filter((n) => !(known as readonly string[]).includes(n));
    if (bad.length > 0) fail(`--only: unknown ${what} ${bad.join(', ')}; known: ${known.join(', ')}`);
    return names as T[];
  }

  /** Print the report when `bench` settles, then exit (a VMM may leave timers behind). */
  report<R>(bench: Promise<R>, format: (r: R) => string[]): void {
    bench.then((r) => {
      if (this.json) console.log(JSON.stringify(r, null, 2));
      else for (const l of format(r)) console.log(l);
      process.exit(0);
    }, (e: unknown) => {
      console.error(e instanceof Error ? e.stack : e);
      process.exit(1);
    });
  }
}
