// Firecracker's API (firecracker-api.yaml) over HTTP/1.1 on a Unix socket: parses and
// checks each request (body size, JSON, the schema, ids), routes it to the Vmm, and
// answers as Firecracker does: 204 with no body on success, 200 with JSON for GETs,
// 400 with {"fault_message": "..."} for anything refused, down to what Node's HTTP parser
// refuses (which Node would answer with an empty body, or not at all). The server only
// speaks HTTP; what a request means is up to Vmm. answerVmRequest (the per-VM router) is also what
// the manager (Manager.ts) calls for /vms/{id}/..., with the prefix taken off.

import { createServer, maxHeaderSize, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { existsSync, unlinkSync } from 'node:fs';
import { listenUnix } from '../../net/unixSocket.js';
import { Connections } from './Connections.js';
import { ApiError, Vmm } from '../Vmm.js';
import { REQUEST_SCHEMAS, validate, type Definitions } from './schema.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Largest request body accepted (Firecracker's default payload limit). */
export const MAX_BODY_BYTES = 51200;

/** Ids in paths (drive_id, iface_id): Firecracker's rule, letters, digits and "_", up to 64. */
export const ID_RE = /^[A-Za-z0-9_]{1,64}$/;

type Handler = (vmm: Vmm, body: unknown, id: string | undefined) => Promise<unknown> | unknown;

export interface Route {
  method: 'GET' | 'PUT' | 'PATCH';
  /** The path as firecracker-api.yaml spells it ("/drives/{drive_id}"). */
  path: string;
  /** The definition the body must match (REQUEST_SCHEMAS), if the request has one. */
  body?: string;
  handler: Handler;
}

function obj<T>(b: unknown): T { return b as T; }

/** Every endpoint typevisor implements. */
export const ROUTES: Route[] = [
  { method: 'GET', path: '/', handler: (v) => v.instanceInfo() },
  { method: 'PUT', path: '/boot-source', body: 'BootSource', handler: (v, b) => v.putBootSource(obj(b)) },
  { method: 'GET', path: '/machine-config', handler: (v) => v.machineConfig() },
  { method: 'PUT', path: '/machine-config', body: 'MachineConfiguration', handler: (v, b) => v.putMachineConfig(obj(b), false) },
  { method: 'PATCH', path: '/machine-config', body: 'MachineConfigurationPatch', handler: (v, b) => v.putMachineConfig(obj(b), true) },
  {
    method: 'PUT', path: '/drives/{drive_id}', body: 'Drive',
    handler: (v, b, id) => { sameId(id, obj<{ drive_id: string }>(b).drive_id); v.putDrive(obj(b)); },
  },
  {
    method: 'PATCH', path: '/drives/{drive_id}', body: 'PartialDrive',
    handler: async (v, b, id) => { sameId(id, obj<{ drive_id: string }>(b).drive_id); await v.patchDrive(obj(b)); },
  },
  {
    method: 'PUT', path: '/network-interfaces/{iface_id}', body: 'NetworkInterface',
    handler: (v, b, id) => { sameId(id, obj<{ iface_id: string }>(b).iface_id); v.putNetworkInterface(obj(b)); },
  },
  { method: 'PUT', path: '/entropy', body: 'EntropyDevice', handler: (v) => v.putEntropy() },
  { method: 'PUT', path: '/vsock', body: 'Vsock', handler: (v, b) => v.putVsock(obj(b)) },
  { method: 'GET', path: '/vm/config', handler: (v) => v.vmConfig() },
  { method: 'PUT', path: '/serial', body: 'SerialDevice', handler: (v, b) => v.putSerial(obj(b)) },
  { method: 'PUT', path: '/logger', body: 'Logger', handler: (v, b) => v.putLogger(obj(b)) },
  { method: 'PUT', path: '/metrics', body: 'Metrics', handler: (v, b) => v.putMetrics(obj(b)) },
  {
    method: 'PUT', path: '/actions', body: 'InstanceActionInfo',
    handler: async (v, b) => {
      const a = obj<{ action_type: string }>(b).action_type;
      if (a === 'InstanceStart') await v.instanceStart();
      else if (a === 'SendCtrlAltDel') v.sendCtrlAltDel();
      else await v.flushMetrics();
    },
  },
  { method: 'PATCH', path: '/vm', body: 'Vm', handler: (v, b) => v.patchVm(obj<{ state: 'Paused' | 'Resumed' }>(b).state) },
  { method: 'PUT', path: '/snapshot/create', body: 'SnapshotCreateParams', handler: (v, b) => v.snapshotCreate(obj(b)) },
  { method: 'PUT', path: '/snapshot/load', body: 'SnapshotLoadParams', handler: (v, b) => v.snapshotLoad(obj(b)) },
];

/** Firecracker endpoints typevisor does not implement yet (method and path as in the yaml). */
export const UNSUPPORTED: [string, string][] = [
  ['PUT', '/balloon'], ['GET', '/balloon'], ['PATCH', '/balloon'], ['GET', '/balloon/statistics'], ['PATCH', '/balloon/statistics'],
  ['PATCH', '/balloon/hinting/start'], ['GET', '/balloon/hinting/status'], ['PATCH', '/balloon/hinting/stop'],
  ['PUT', '/cpu-config'], ['PUT', '/pmem/{id}'], ['PATCH', '/pmem/{id}'],
  ['PUT', '/mmds'], ['GET', '/mmds'], ['PATCH', '/mmds'], ['PUT', '/mmds/config'],
  ['PUT', '/hotplug/memory'], ['GET', '/hotplug/memory'], ['PATCH', '/hotplug/memory'],
  ['PATCH', '/network-interfaces/{iface_id}'],
  ['GET', '/version'],
];

// PATCH /machine-config: the same fields, none required.
const { required: _r, ...machinePatch } = REQUEST_SCHEMAS.MachineConfiguration!;
const SCHEMAS: Definitions = { ...REQUEST_SCHEMAS, MachineConfigurationPatch: machinePatch };

function sameId(pathId: string | undefined, bodyId: string): void {
  if (pathId !== bodyId) throw new ApiError(400, 'The id from the path does not match the id from the body!');
}

/** Match a request path against a route template; returns the {id} segment or null. */
function matchPath(template: string, path: string): { id?: string } | null {
  const t = template.split('/');
  const p = path.split('/');
  if (t.length !== p.length) return null;
  let id: string | undefined;
  for (let i = 0; i < t.length; i++) {
    if (t[i]!.startsWith('{')) { id = p[i]!; continue; }
    if (t[i] !== p[i]) return null;
  }
  return id === undefined ? {} : { id };
}

/** What a request is answered with: status and, for a 200, the JSON body. */
export interface ApiAnswer { status: number; body?: unknown }

/** What an ApiServer serves: one VM (a Vmm) or the manager of many. */
export interface ApiTarget {
  /** Answer a request whose path was checked (allowed characters, no trailing "/"); throws ApiError. */
  answer(method: string, path: string, text: string): Promise<ApiAnswer>;
  log(level: string, message: string): void;
}

/** Parse a request body against a definition of SCHEMAS; throws ApiError when it does not conform. */
export function parseBody(method: string, path: string, text: string, definition: string | undefined, schemas: Definitions = SCHEMAS): unknown {
  if (definition === undefined) {
    if (text.trim() !== '') throw new ApiError(400, `${method} ${path} takes no body.`);
    return undefined;
  }
  if (text.trim() === '') throw new ApiError(400, `${method} ${path} needs a JSON body.`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new ApiError(400, `The body is not valid JSON: ${(e as Error).message}`);
  }
  const err = validate(schemas[definition]!, body, schemas);
  if (err !== null) throw new ApiError(400, `Invalid ${definition}: ${err}.`);
  return body;
}

/** The per-VM router: one request of Firecracker's API for `vmm` (path relative to the VM). */
export async function answerVmRequest(vmm: Vmm, method: string, path: string, text: string): Promise<ApiAnswer> {
  const route = findRoute(method, path);
  const id = route.id;
  if (id !== undefined && !ID_RE.test(id)) {
    throw new ApiError(400, `Invalid id ${JSON.stringify(id)}: ids are 1 to 64 letters, digits or "_".`);
  }
  const body = parseBody(method, route.route.path, text, route.route.body);
  const result = await route.route.handler(vmm, body, id);
  vmm.log('Debug', `${method} ${path}: ok`);
  return method === 'GET' ? { status: 200, body: result } : { status: 204 };
}

function findRoute(method: string, path: string): { route: Route; id?: string } {
  for (const r of ROUTES) {
    if (r.method !== method) continue;
    const m = matchPath(r.path, path);
    if (m) return { route: r, ...m };
  }
  for (const [m, p] of UNSUPPORTED) {
    if (m === method && matchPath(p, path)) throw new ApiError(400, `${method} ${p} is not supported by typevisor yet.`);
  }
  throw new ApiError(400, `Invalid request method and/or path: ${method} ${path}.`);
}

/** Connections open at once, by default (ApiServerOptions.maxConnections). */
export const DEFAULT_MAX_CONNECTIONS = 256;
/** How long a connection with no request in flight may stay silent, by default (ApiServerOptions.idleTimeoutMs). */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

/** --api-idle-timeout S (serve, manage): milliseconds; the default when not given. */
export function parseIdleTimeout(arg: string | undefined): number {
  if (arg === undefined) return DEFAULT_IDLE_TIMEOUT_MS;
  const s = Number(arg);
  if (!/^\d+(\.\d+)?$/.test(arg) || !(s >= 0.01 && s <= 86_400)) throw new Error(`--api-idle-timeout takes seconds from 0.01 to 86400, got "${arg}"`);
  return Math.round(s * 1000);
}

export interface ApiServerOptions {
  /**
   * Close a connection with no request in flight once it has been silent this long
   * (default DEFAULT_IDLE_TIMEOUT_MS). A request being answered, however slowly, keeps it.
   */
  idleTimeoutMs?: number;
  /**
   * Most connections open at once (default DEFAULT_MAX_CONNECTIONS). A new one past it
   * closes the connection that has been idle longest; when every one has a request in
   * flight, the new one is answered 503 and closed.
   */
  maxConnections?: number;
  /**
   * Time a client has to send a whole request (default 30 s; its headers: 10 s or this if
   * less). Past it the request is answered 408.
   */
  requestTimeoutMs?: number;
}

/** The HTTP layer's refusals (Node's parser errors), as Node itself would answer them, with a reason. */
function clientErrorAnswer(err: NodeJS.ErrnoException): { status: number; message: string } {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW': return { status: 431, message: `The request headers are larger than the server accepts (${maxHeaderSize} bytes).` };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW': return { status: 413, message: 'The chunk extensions are larger than the server accepts.' };
    case 'ERR_HTTP_REQUEST_TIMEOUT': return { status: 408, message: 'The request was not received in time.' };
    case 'HPE_INVALID_METHOD': return { status: 400, message: 'Invalid HTTP method.' };
    case 'HPE_INVALID_URL': return { status: 400, message: 'Invalid request path: only letters, digits, "_", "-" and "/" are allowed.' };
    case 'HPE_INVALID_VERSION': return { status: 400, message: 'Unsupported HTTP version: the API speaks HTTP/1.1 (and HTTP/1.0).' };
    default: return { status: 400, message: `Malformed HTTP request (${err.message.replace(/^Parse Error: /, '')}).` };
  }
}

/** A whole HTTP/1.1 answer with Firecracker's error body, for a socket the HTTP layer no longer answers on. */
function rawFaultResponse(status: number, message: string): string {
  const body = JSON.stringify({ fault_message: message });
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

export class ApiServer {
  readonly server: Server;
  private socketPath: string | null = null;
  /** Requests answered, by status, for tests and metrics. */
  readonly answered = new Map<number, number>();
  private readonly target: ApiTarget;
  private readonly maxConnections: number;
  private readonly conns: Connections;

  constructor(target: Vmm | ApiTarget, options: ApiServerOptions = {}) {
    this.target = target instanceof Vmm
      ? { answer: (m, p, t) => answerVmRequest(target, m, p, t), log: (l, msg) => target.log(l, msg) }
      : target;
    this.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    this.conns = new Connections(options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, this.maxConnections);
    const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    // No Host header needed (Firecracker asks none; on a Unix socket it names nothing):
    // Node would refuse its absence with an empty 400.
    this.server = createServer({
      requireHostHeader: false,
      requestTimeout: requestTimeoutMs,
      headersTimeout: Math.min(10_000, requestTimeoutMs),
      connectionsCheckingInterval: Math.min(1000, requestTimeoutMs / 4), // how late a timeout may be noticed
    }, (req, res) => { void this.handle(req, res); });
    this.server.on('connection', (socket: Socket) => { if (!this.conns.admit(socket)) this.refuse(socket); });
    // Everything Node's HTTP layer would refuse with an empty body (or by closing the
    // connection) gets Firecracker's error body instead.
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      if (err.code === 'ECONNRESET' || !socket.writable || this.conns.answering(socket)) {
        socket.destroy(); // nothing to answer on, or an answer is already being written there
        return;
      }
      const a = clientErrorAnswer(err);
      this.rawFault(socket, a.status, a.message);
    });
    this.server.on('connect', (req: IncomingMessage, socket: Socket) => this.rawFault(socket, 400, `${req.method ?? 'CONNECT'} is not supported: the API takes GET, PUT and PATCH requests.`));
    this.server.on('upgrade', (_req: IncomingMessage, socket: Socket) => this.rawFault(socket, 400, 'Protocol upgrades are not supported: the API speaks HTTP/1.1.'));
    this.server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
      if (!this.conns.begin(req, res)) return;
      res.setHeader('Connection', 'close');
      this.fault(res, 417, `Expect: ${String(req.headers.expect)} is not supported (only 100-continue).`);
    });
  }

  /** Listen on a Unix socket path (see listenUnix: a stale socket is replaced, a live one or any other file refused). */
  async listen(path: string): Promise<void> {
    await listenUnix(this.server, path);
    this.socketPath = path;
    this.conns.start();
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    this.server.closeAllConnections(); // keep-alive clients must not hold the server open
    this.conns.stop();
    await closed;
    if (this.socketPath !== null && existsSync(this.socketPath)) {
      try { unlinkSync(this.socketPath); } catch { /* gone already */ }
    }
  }

  /** Connections open now (tests). */
  get connectionCount(): number { return this.conns.size; }

  /** Over the cap with every connection busy: 503, then closed once the request is read (or after a second). */
  private refuse(socket: Socket): void {
    const message = `The server has ${this.maxConnections} connections with requests in flight, its limit: try again shortly.`;
    this.count(503);
    this.target.log('Warning', `connection refused (503): ${message}`);
    socket.on('error', () => socket.destroy());
    // Closed once its request has been read (handle), which spares the client a reset in
    // place of the answer, or after a second.
    socket.end(rawFaultResponse(503, message));
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  private count(status: number): void {
    this.answered.set(status, (this.answered.get(status) ?? 0) + 1);
  }

  /** Answer on a socket the HTTP layer has given up (parse errors, CONNECT, upgrades), then close it. */
  private rawFault(socket: Socket, status: number, message: string): void {
    this.count(status);
    this.target.log('Warning', `request refused (${status}): ${message}`);
    socket.on('error', () => socket.destroy());
    if (!socket.writable) { socket.destroy(); return; }
    socket.end(rawFaultResponse(status, message), () => socket.destroy());
  }

  private send(res: ServerResponse, status: number, body?: unknown): void {
    this.count(status);
    if (body === undefined) {
      res.writeHead(status);
      res.end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  private fault(res: ServerResponse, status: number, message: string): void {
    this.target.log('Warning', `request refused (${status}): ${message}`);
    this.send(res, status, { fault_message: message });
  }

  /** The body as text; an ApiError when it is larger than MAX_BODY_BYTES or not UTF-8. */
  private readBody(req: IncomingMessage): Promise<string> {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY_BYTES) {
      return Promise.reject(new ApiError(400, `Request payload with size ${declared} is larger than the limit of ${MAX_BODY_BYTES} allowed by server.`));
    }
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let over = false;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY_BYTES) { over = true; chunks.length = 0; return; }
        if (!over) chunks.push(c);
      });
      req.on('end', () => {
        if (over) { reject(new ApiError(400, `Request payload with size ${size} is larger than the limit of ${MAX_BODY_BYTES} allowed by server.`)); return; }
        // Strict: bytes that are not UTF-8 would become U+FFFD in paths and names.
        try {
          resolve(utf8.decode(Buffer.concat(chunks)));
        } catch {
          reject(new ApiError(400, 'The body is not valid UTF-8.'));
        }
      });
      req.on('error', reject);
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.conns.begin(req, res)) return;
    const method = req.method ?? '';
    const rawUrl = req.url ?? '';
    try {
      // Node's parser also takes HTTP/0.9 and HTTP/2.0 request lines; Firecracker speaks 1.x only.
      if (req.httpVersionMajor !== 1) {
        res.setHeader('Connection', 'close');
        req.resume();
        throw new ApiError(400, `Unsupported HTTP version ${req.httpVersion}: the API speaks HTTP/1.1 (and HTTP/1.0).`);
      }
      let text: string;
      try {
        text = await this.readBody(req);
      } catch (e) {
        res.setHeader('Connection', 'close');
        throw e;
      }
      // Path only: a query string or fragment is not part of Firecracker's API.
      if (!/^\/[A-Za-z0-9_\-/{}]*$/.test(rawUrl) || rawUrl.includes('//')) {
        const shown = rawUrl.length > 80 ? `${rawUrl.slice(0, 80)}...` : rawUrl;
        throw new ApiError(400, `Invalid request path ${JSON.stringify(shown)}: only letters, digits, "_", "-" and "/" are allowed.`);
      }
      const path = rawUrl.length > 1 ? rawUrl.replace(/\/$/, '') : rawUrl;
      const a = await this.target.answer(method, path, text);
      this.send(res, a.status, a.body);
    } catch (e) {
      if (e instanceof ApiError) this.fault(res, e.status, e.message);
      else this.fault(res, 500, `Internal error: ${(e as Error).message}`);
    }
  }
}
