// The browser page's bundle (issue 14): web/main.ts (the page) and web/worker.ts (the
// machine, in a Web Worker) built by esbuild from the same src/ the CLI runs, into
// dist/web/ with the page's static files.
//
// The boundary between the browser and Node is checked here: the build is for the
// browser platform, so any module it reaches that imports a Node built-in (node:fs,
// node:net, ...) fails the build, naming the importer. The only exceptions are the
// modules in NODE_ONLY: Node-side code that browser-side modules load lazily (await
// import) on paths the page never takes (snapshot files on disk, host network and file
// backends). Each is replaced by a module that throws when loaded, so the page gets a
// clear error instead of Node code, and nothing else of Node can slip in.

import { build, type Plugin } from 'esbuild';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { typevisorVersion } from '../version.js';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (dist/src/cli/ -> ../../..). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const WEB_OUT = join(REPO_ROOT, 'dist', 'web');

/** Node-side modules (repository paths) that browser code may name only in a lazy import. */
export const NODE_ONLY = [
  'src/snapshot/MachineSnapshot.ts',
  'src/devices/virtio/blockImageFile.ts',
  'src/devices/virtio/VirtioVsock.ts',
  'src/net/PasstBackend.ts',
  'src/net/TapBackend.ts',
  'src/net/SwitchBackend.ts',
];

/** The esbuild plugin that keeps Node out of the bundle (see above); `root`: the repository the NODE_ONLY paths are in. */
export function browserBoundary(root: string, nodeOnly: readonly string[] = NODE_ONLY): Plugin {
  return {
    name: 'typevisor-browser-boundary',
    setup(b) {
      b.onResolve({ filter: /^node:|^(fs|path|net|os|crypto|child_process|worker_threads|zlib|util|url|v8)(\/.*)?$/ }, (args) => ({
        errors: [{ text: `${args.path} is a Node built-in: ${relative(root, args.importer)} cannot be in the browser bundle (move the Node part behind a host backend)` }],
      }));
      b.onLoad({ filter: /\.ts$/ }, (args) => {
        const rel = relative(root, args.path);
        if (!nodeOnly.includes(rel)) return undefined;
        return { contents: `throw new Error(${JSON.stringify(`${rel} is Node-only: not available in the browser`)});`, loader: 'js' };
      });
    },
  };
}

/** Build the page into `out` (default dist/web); returns the bundle's bytes. Throws on any error. */
export async function buildWebBundle(out = WEB_OUT, root = REPO_ROOT): Promise<number> {
  mkdirSync(out, { recursive: true });
  const r = await build({
    absWorkingDir: root,
    entryPoints: { main: 'web/main.ts', worker: 'web/worker.ts' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outdir: out,
    write: false,
    sourcemap: true,
    metafile: true,
    logLevel: 'silent',
    plugins: [browserBoundary(root)],
    define: { TYPEVISOR_VERSION: JSON.stringify(typevisorVersion()) },
  });
  // Each file replaced whole (written aside, renamed over): a server reading the page
  // while another build runs (the tests build it in parallel) never sends half a file.
  const put = (path: string, bytes: Uint8Array): void => {
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  };
  for (const f of r.outputFiles) put(f.path, f.contents);
  for (const f of ['index.html', 'page.css']) put(join(out, f), readFileSync(join(root, 'web', f)));
  put(join(out, 'xterm.css'), readFileSync(join(root, 'node_modules/@xterm/xterm/css/xterm.css')));
  put(join(out, 'uplot.css'), readFileSync(join(root, 'node_modules/uplot/dist/uPlot.min.css')));
  return Object.values(r.metafile.outputs).reduce((s, o) => s + o.bytes, 0);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildWebBundle().then((bytes) => process.stdout.write(`web bundle: ${WEB_OUT} (${(bytes / 1024).toFixed(0)} KiB)\n`), (e: unknown) => {
    process.stderr.write(`web bundle failed: ${(e as Error).message}\n`);
    process.exitCode = 1;
  });
}
