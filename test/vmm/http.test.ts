// The API server's HTTP layer against a hostile client: every refusal it can still answer
// (parser errors, CONNECT, upgrades, Expect, HTTP versions other than 1.x, requests not
// sent in time) is a status with Firecracker's {"fault_message"} body; idle connections
// are closed after the idle timeout and capped, while a request in flight keeps its
// connection however long it takes.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiServer, type ApiAnswer, type ApiTarget } from '../../src/vmm/api/ApiServer.js';
import { Vmm } from '../../src/vmm/Vmm.js';
import { faultOf, putRaw, rawRequest } from './apiClient.js';

const dir = mkdtempSync(join(tmpdir(), 'typevisor-http-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const RAW: { name: string; raw: string | Buffer; status: number; fault: RegExp }[] = [
  { name: 'HTTP/0.9 request line', raw: 'GET / HTTP/0.9\r\n\r\n', status: 400, fault: /Unsupported HTTP version 0\.9/ },
  { name: 'HTTP/2.0 request line', raw: 'GET / HTTP/2.0\r\n\r\n', status: 400, fault: /Unsupported HTTP version 2\.0/ },
  { name: 'HTTP/3.0 request line', raw: 'GET / HTTP/3.0\r\n\r\n', status: 400, fault: /Unsupported HTTP version/ },
  { name: 'HTTP/2 preface', raw: 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', status: 400, fault: /Malformed HTTP request/ },
  { name: 'CONNECT', raw: 'CONNECT localhost:80 HTTP/1.1\r\nHost: localhost\r\n\r\n', status: 400, fault: /CONNECT is not supported/ },
  { name: 'unknown method', raw: 'BREW / HTTP/1.1\r\n\r\n', status: 400, fault: /Invalid HTTP method/ },
  { name: 'tab in the path', raw: 'GET /\tx HTTP/1.1\r\n\r\n', status: 400, fault: /Invalid request path/ },
  { name: 'non-ASCII byte in the path', raw: Buffer.from('GET /\xe9 HTTP/1.1\r\n\r\n', 'latin1'), status: 400, fault: /Invalid request path/ },
  { name: 'header line without a colon', raw: 'GET / HTTP/1.1\r\nBad Header\r\n\r\n', status: 400, fault: /Malformed HTTP request/ },
  { name: 'two Content-Lengths', raw: 'PUT /entropy HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}', status: 400, fault: /Malformed HTTP request/ },
  { name: 'headers over the limit', raw: `GET / HTTP/1.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, status: 431, fault: /headers are larger/ },
  { name: 'Expect other than 100-continue', raw: 'GET / HTTP/1.1\r\nExpect: tea\r\n\r\n', status: 417, fault: /Expect: tea is not supported/ },
  { name: 'protocol upgrade', raw: 'GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n', status: 400, fault: /upgrades are not supported/ },
  { name: 'body that is not UTF-8', raw: putRaw('/serial', Buffer.from(`{"serial_out_path": "${dir}/a\xff"}`, 'latin1')), status: 400, fault: /not valid UTF-8/ },
];

test('every refusal of the HTTP layer is a status with a JSON fault_message; HTTP/1.0 and requests without Host are served', async () => {
  const vmm = new Vmm({ pacing: 'fast', serialOut: () => {} });
  const server = new ApiServer(vmm);
  const sock = join(dir, 'raw.sock');
  await server.listen(sock);
  try {
    for (const c of RAW) {
      const r = await rawRequest(sock, c.raw);
      assert.equal(r.status, c.status, `${c.name}: ${r.head}`);
      assert.match(r.head, /\r\nContent-Type: application\/json/i, c.name);
      assert.match(faultOf(r.body), c.fault, c.name);
    }
    for (const line of ['GET / HTTP/1.1', 'GET / HTTP/1.0']) {
      const r = await rawRequest(sock, `${line}\r\nConnection: close\r\n\r\n`);
      assert.equal(r.status, 200, `${line}: ${r.head}`);
      assert.equal((r.body as { app_name: string }).app_name, 'typevisor');
    }
    assert.equal(server.answered.get(500), undefined);
  } finally {
    await vmm.shutdown();
    await server.close();
  }
});

test('a request not sent in time is answered 408 with a fault_message, whether its headers or its body are late', { timeout: 60_000 }, async () => {
  const vmm = new Vmm({ pacing: 'fast', serialOut: () => {} });
  const server = new ApiServer(vmm, { requestTimeoutMs: 300 });
  const sock = join(dir, 'late.sock');
  await server.listen(sock);
  try {
    for (const raw of ['GET / HTTP/1.1\r\nX-Slow: ', 'PUT /entropy HTTP/1.1\r\nContent-Length: 10\r\n\r\n{']) {
      const r = await rawRequest(sock, raw); // the server closes after its answer
      assert.equal(r.status, 408, `${JSON.stringify(raw)}: ${r.head}`);
      assert.match(faultOf(r.body), /not received in time/);
    }
  } finally {
    await server.close();
  }
});

/** A target whose GET /slow answers only when released: a request in flight for as long as the test wants. */
class SlowTarget implements ApiTarget {
  private readonly waiting: (() => void)[] = [];
  private entered: (() => void)[] = [];

  async answer(method: string, path: string): Promise<ApiAnswer> {
    if (path === '/slow') {
      await new Promise<void>((r) => {
        this.waiting.push(r);
        for (const e of this.entered.splice(0)) e();
      });
    }
    return { status: 200, body: { path, method } };
  }

  log(): void {}

  /** Resolves once `n` slow requests are in flight. */
  async inFlight(n: number): Promise<void> {
    while (this.waiting.length < n) await new Promise<void>((r) => this.entered.push(r));
  }

  release(): void {
    for (const r of this.waiting.splice(0)) r();
  }
}

function openIdle(sock: string): Promise<{ socket: Socket; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(sock);
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('error', () => {});
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; !cond(); i++) {
    if (i > 20_000) throw new Error(`never: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('idle connections are closed after the idle timeout; one with a request in flight is kept however long it takes', { timeout: 60_000 }, async () => {
  const target = new SlowTarget();
  const server = new ApiServer(target, { idleTimeoutMs: 200 });
  const sock = join(dir, 'idle.sock');
  await server.listen(sock);
  try {
    const slow = rawRequest(sock, 'GET /slow HTTP/1.1\r\n\r\n');
    await target.inFlight(1);
    const idle = await Promise.all(Array.from({ length: 20 }, () => openIdle(sock)));
    await Promise.all(idle.map((c) => c.closed)); // without a timeout they would stay open for good
    assert.equal(server.connectionCount, 1, 'only the connection with a request in flight is left');
    target.release();
    const a = await slow;
    assert.equal(a.status, 200, a.head);
    assert.deepEqual(a.body, { path: '/slow', method: 'GET' });
  } finally {
    target.release();
    await server.close();
  }
});

test('connections are capped: the longest idle makes room for a new one; with every one busy the new one gets a 503 with a fault_message', { timeout: 60_000 }, async () => {
  const target = new SlowTarget();
  const server = new ApiServer(target, { idleTimeoutMs: 600_000, maxConnections: 3 });
  const sock = join(dir, 'cap.sock');
  await server.listen(sock);
  try {
    const c1 = await openIdle(sock);
    await until('first connection accepted', () => server.connectionCount === 1);
    const c2 = await openIdle(sock);
    const c3 = await openIdle(sock);
    await until('three connections accepted', () => server.connectionCount === 3);
    const r = await rawRequest(sock, 'GET / HTTP/1.1\r\n\r\n');
    assert.equal(r.status, 200, r.head);
    await c1.closed; // the oldest idle connection made room
    assert.ok(!c2.socket.destroyed && !c3.socket.destroyed);
    // Three requests in flight take the three places (c2 and c3 make room in turn).
    const slow = [rawRequest(sock, 'GET /slow HTTP/1.1\r\n\r\n'), rawRequest(sock, 'GET /slow HTTP/1.1\r\n\r\n'), rawRequest(sock, 'GET /slow HTTP/1.1\r\n\r\n')];
    await target.inFlight(3);
    await Promise.all([c2.closed, c3.closed]);
    const refused = await rawRequest(sock, 'GET / HTTP/1.1\r\n\r\n');
    assert.equal(refused.status, 503, refused.head);
    assert.match(faultOf(refused.body), /3 connections with requests in flight/);
    target.release();
    for (const s of await Promise.all(slow)) assert.equal(s.status, 200, s.head);
    // Room again.
    assert.equal((await rawRequest(sock, 'GET / HTTP/1.1\r\n\r\n')).status, 200);
  } finally {
    target.release();
    await server.close();
  }
});
