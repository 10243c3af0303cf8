// The browser bundle's boundary and the page's server: a module that imports a Node
// built-in fails the build, naming the importer (node:-prefixed or bare); a Node-only
// module named in NODE_ONLY is replaced by one that throws; the real page builds; the
// server sends the cross-origin isolation headers on every answer and serves nothing
// outside the page and the default guest.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { browserBoundary, buildWebBundle, REPO_ROOT } from '../../src/cli/webBundle.js';
import { startWebServer } from '../../src/cli/web.js';

const dir = mkdtempSync(join(tmpdir(), 'typevisor-bundle-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function bundle(entry: string, nodeOnly: string[] = []): Promise<string> {
  return build({
    absWorkingDir: dir, entryPoints: [entry], bundle: true, write: false, format: 'esm', platform: 'browser', logLevel: 'silent',
    plugins: [browserBoundary(dir, nodeOnly)],
  }).then((r) => r.outputFiles[0]!.text);
}

test('a module that pulls in a Node built-in fails the bundle, naming the importer', async () => {
  writeFileSync(join(dir, 'entry.ts'), "import { f } from './device.ts';\nconsole.log(f());\n");
  writeFileSync(join(dir, 'device.ts'), "import { readFileSync } from 'node:fs';\nexport const f = () => readFileSync('x');\n");
  await assert.rejects(bundle('entry.ts'), /node:fs is a Node built-in: device\.ts cannot be in the browser bundle/);
  writeFileSync(join(dir, 'device.ts'), "import * as os from 'os';\nexport const f = () => os.cpus();\n");
  await assert.rejects(bundle('entry.ts'), /os is a Node built-in: device\.ts cannot be in the browser bundle/);
  // A lazy import is followed too: only the modules listed as Node-only are let through.
  writeFileSync(join(dir, 'device.ts'), "export const f = async () => (await import('./host.ts')).g();\n");
  writeFileSync(join(dir, 'host.ts'), "import { connect } from 'node:net';\nexport const g = () => connect(1);\n");
  await assert.rejects(bundle('entry.ts'), /node:net is a Node built-in: host\.ts/);
  const out = await bundle('entry.ts', ['host.ts']);
  assert.match(out, /host\.ts is Node-only: not available in the browser/);
  assert.doesNotMatch(out, /node:net/);
});

test('the page builds, and its server isolates it and serves only the page and the default guest', async () => {
  const bytes = await buildWebBundle();
  assert.ok(bytes > 100_000, `bundle of ${bytes} bytes`);
  const server = await startWebServer(0);
  try {
    const a = server.address();
    const base = `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`;
    for (const [path, status, type] of [['/', 200, 'text/html'], ['/worker.js', 200, 'text/javascript'], ['/guest/bzImage', 200, 'application/octet-stream'],
      ['/nope', 404, null], ['/../package.json', 404, null], ['/%2e%2e/package.json', 404, null], ['/guest/init', 404, null]] as const) {
      const r = await fetch(base + path);
      assert.equal(r.status, status, path);
      assert.equal(r.headers.get('cross-origin-opener-policy'), 'same-origin', path);
      assert.equal(r.headers.get('cross-origin-embedder-policy'), 'require-corp', path);
      if (type !== null) assert.match(r.headers.get('content-type') ?? '', new RegExp(type));
      await r.arrayBuffer();
    }
    assert.equal((await fetch(base + '/', { method: 'POST' })).status, 405);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test('typevisor web --port 0 serves the page until it is stopped; a bad port, and one in use, are refused', { timeout: 120_000 }, async () => {
  const { spawn, spawnSync } = await import('node:child_process');
  const main = join(REPO_ROOT, 'dist/src/cli/main.js');
  const bad = spawnSync(process.execPath, [main, 'web', '--port', '70000'], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--port must be 0 to 65535, got 70000/);
  const child = spawn(process.execPath, [main, 'web', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const m = /typevisor web: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`typevisor web exited with ${code}: ${out}`)));
    });
    const r = await fetch(url);
    assert.equal(r.status, 200);
    assert.match(await r.text(), /<title>typevisor/);
    // A second server on the same port: one line and exit 1, not a stack trace.
    const busy = spawnSync(process.execPath, [main, 'web', '--port', new URL(url).port], { encoding: 'utf8' });
    assert.equal(busy.status, 1, busy.stderr);
    assert.match(busy.stderr, /^typevisor: --port \d+: .*EADDRINUSE.*\n$/);
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0);
});
