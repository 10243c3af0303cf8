// `typevisor web`: builds the browser page (webBundle.ts) and serves it, with the default
// guest's kernel and initramfs, on 127.0.0.1. Every answer carries the headers that make
// the page cross-origin isolated (COOP same-origin, COEP require-corp), without which a
// browser offers no SharedArrayBuffer, and guest RAM is one.

import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { buildWebBundle, REPO_ROOT, WEB_OUT } from './webBundle.js';

export const WEB_HELP = `usage: typevisor web [--port N]

Serve typevisor's browser page (the machine in a Web Worker, its serial console in a
terminal) on http://127.0.0.1:N/ (default 8086; 0 picks a free port). The page is built
first. Ctrl-C stops the server.
`;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.map': 'application/json', '.png': 'image/png',
};

/** Files the server answers: the built page, and the default guest under /guest/. */
function fileFor(urlPath: string): string | null {
  let p: string;
  try { p = decodeURIComponent(urlPath.split('?')[0]!); } catch { return null; }
  if (p === '/') p = '/index.html';
  if (p === '/guest/bzImage' || p === '/guest/initramfs.cpio.gz') return join(REPO_ROOT, p);
  const f = resolve(WEB_OUT, '.' + p);
  return f.startsWith(WEB_OUT + sep) ? f : null;
}

/** Start the page's server on 127.0.0.1:port; resolves with it listening. */
export async function startWebServer(port: number): Promise<Server> {
  const server = createServer((req, res) => {
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.setHeader('Cache-Control', 'no-store');
    const f = req.method === 'GET' || req.method === 'HEAD' ? fileFor(req.url ?? '/') : null;
    if (f === null) { res.writeHead(req.method === 'GET' || req.method === 'HEAD' ? 404 : 405).end(); return; }
    readFile(f).then((body) => {
      res.writeHead(200, { 'Content-Type': TYPES[extname(f)] ?? 'application/octet-stream', 'Content-Length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
    }, () => res.writeHead(404).end());
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => { server.off('error', fail); ok(); });
  });
  return server;
}

export async function web(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { port: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) { process.stdout.write(WEB_HELP); return 0; }
  const port = values.port === undefined ? 8086 : Number(values.port);
  if (!/^\d+$/.test(values.port ?? '0') || !(port >= 0 && port <= 65535)) {
    process.stderr.write(`typevisor: --port must be 0 to 65535, got ${values.port}\n`);
    return 1;
  }
  await buildWebBundle();
  let server: Server;
  try {
    server = await startWebServer(port);
  } catch (e) {
    process.stderr.write(`typevisor: --port ${port}: ${(e as Error).message}\n`); // in use, or not ours to take
    return 1;
  }
  const addr = server.address();
  process.stdout.write(`typevisor web: http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : port}/\n`);
  await new Promise<void>((done) => {
    const stop = (): void => { server.close(() => done()); server.closeAllConnections(); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}
