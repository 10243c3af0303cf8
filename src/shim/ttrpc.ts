// ttrpc, containerd's RPC over a stream socket (github.com/containerd/ttrpc, PROTOCOL.md):
// frames of a 10-byte header (payload length u32 BE, stream id u32 BE, type u8, flags
// u8) and a protobuf payload; a request frame (type 1) carries ttrpc.Request (service,
// method, payload), its response frame (type 2, same stream id) ttrpc.Response (a
// google.rpc.Status and the payload). Only unary calls: containerd's shim API needs no
// streams. The server answers calls in any order as they complete.

import { createServer, type Server, type Socket } from 'node:net';
import { create, fromBinary, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import type { DescService } from '@bufbuild/protobuf';
import { RequestSchema, ResponseSchema } from './gen/github.com/containerd/ttrpc/request_pb.js';
import { StatusSchema } from './gen/google/rpc/status_pb.js';

export const HEADER_SIZE = 10;
export const TYPE_REQUEST = 1;
export const TYPE_RESPONSE = 2;
/** ttrpc's largest message (its messageLengthMax). */
export const MAX_MESSAGE = 4 << 20;

/** gRPC status codes that containerd's errdefs map back to its errors. */
export const Code = {
  OK: 0, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6,
  FAILED_PRECONDITION: 9, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14,
} as const;

/** An answer other than success: its gRPC code and message reach the caller. */
export class RpcError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

export function encodeFrame(streamId: number, type: number, payload: Uint8Array, flags = 0): Buffer {
  const b = Buffer.allocUnsafe(HEADER_SIZE + payload.length);
  b.writeUInt32BE(payload.length, 0);
  b.writeUInt32BE(streamId, 4);
  b[8] = type;
  b[9] = flags;
  b.set(payload, HEADER_SIZE);
  return b;
}

export interface Frame { streamId: number; type: number; flags: number; payload: Buffer }

/** Cuts a byte stream into frames; a length above MAX_MESSAGE is an error (the peer is not speaking ttrpc). */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Frame[] = [];
    while (this.buf.length >= HEADER_SIZE) {
      const len = this.buf.readUInt32BE(0);
      if (len > MAX_MESSAGE) throw new Error(`ttrpc frame of ${len} bytes is over the ${MAX_MESSAGE}-byte limit`);
      if (this.buf.length < HEADER_SIZE + len) break;
      out.push({ streamId: this.buf.readUInt32BE(4), type: this.buf[8]!, flags: this.buf[9]!, payload: this.buf.subarray(HEADER_SIZE, HEADER_SIZE + len) });
      this.buf = this.buf.subarray(HEADER_SIZE + len);
    }
    return out;
  }
}

type Handler = (payload: Uint8Array) => Promise<Uint8Array>;

/** Serves the methods of protobuf services over ttrpc on a Unix socket. */
export class TtrpcServer {
  private readonly handlers = new Map<string, Handler>();
  private readonly sockets = new Set<Socket>();
  private server: Server | null = null;
  /** Called with a connection's protocol error (the connection is closed). */
  onError: (e: Error) => void = () => {};

  /** Register `impl` for `service`: each method takes and returns its message types; absent methods answer UNIMPLEMENTED. */
  register<S extends DescService>(service: S, impl: Partial<Record<string, (req: any) => Promise<any>>>): void {
    for (const m of service.methods) {
      const fn = impl[m.localName];
      const key = `${service.typeName}/${m.name}`;
      if (fn === undefined) continue;
      const input = m.input as DescMessage;
      const output = m.output as DescMessage;
      this.handlers.set(key, async (payload) => {
        let req: MessageShape<DescMessage>;
        try { req = fromBinary(input, payload); } catch (e) { throw new RpcError(Code.INVALID_ARGUMENT, `${m.name}: bad request: ${(e as Error).message}`); }
        const res = await fn(req);
        return toBinary(output, create(output, res));
      });
    }
  }

  listen(path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer((s) => this.serve(s));
      server.once('error', reject);
      server.listen(path, () => { server.off('error', reject); resolve(); });
      this.server = server;
    });
  }

  close(): void {
    this.server?.close();
    for (const s of this.sockets) s.destroy();
  }

  private serve(sock: Socket): void {
    this.sockets.add(sock);
    const reader = new FrameReader();
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => {});
    sock.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try { frames = reader.push(chunk); } catch (e) { this.onError(e as Error); sock.destroy(); return; }
      for (const f of frames) {
        if (f.type !== TYPE_REQUEST) continue; // nothing else is sent to a unary server
        void this.call(f).then((resp) => { if (!sock.destroyed) sock.write(encodeFrame(f.streamId, TYPE_RESPONSE, resp)); });
      }
    });
  }

  private async call(f: Frame): Promise<Uint8Array> {
    let code: number = Code.OK;
    let message = '';
    let payload: Uint8Array = new Uint8Array(0);
    try {
      const req = fromBinary(RequestSchema, f.payload);
      const h = this.handlers.get(`${req.service}/${req.method}`);
      if (h === undefined) throw new RpcError(Code.UNIMPLEMENTED, `${req.service}/${req.method} not implemented`);
      payload = await h(req.payload);
    } catch (e) {
      code = e instanceof RpcError ? e.code : Code.UNKNOWN;
      message = (e as Error).message;
    }
    const status = create(StatusSchema, { code, message });
    return toBinary(ResponseSchema, create(ResponseSchema, { status, payload }));
  }
}

/** A ttrpc client for one service method at a time (the tests' and the shim's own use). */
export class TtrpcClient {
  private readonly reader = new FrameReader();
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (b: Buffer) => void; reject: (e: Error) => void }>();

  constructor(private readonly sock: Socket) {
    sock.on('data', (chunk: Buffer) => {
      for (const f of this.reader.push(chunk)) {
        const p = this.pending.get(f.streamId);
        this.pending.delete(f.streamId);
        p?.resolve(f.payload);
      }
    });
    const fail = (): void => {
      for (const p of this.pending.values()) p.reject(new Error('ttrpc connection closed'));
      this.pending.clear();
    };
    sock.on('close', fail);
    sock.on('error', fail);
  }

  async call<I extends DescMessage, O extends DescMessage>(service: string, method: string, input: I, req: MessageShape<I>, output: O): Promise<MessageShape<O>> {
    const id = this.nextId;
    this.nextId += 2; // client streams are odd
    const body = toBinary(RequestSchema, create(RequestSchema, { service, method, payload: toBinary(input, req) }));
    const raw = await new Promise<Buffer>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.sock.write(encodeFrame(id, TYPE_REQUEST, body));
    });
    const resp = fromBinary(ResponseSchema, raw);
    if (resp.status !== undefined && resp.status.code !== 0) throw new RpcError(resp.status.code, resp.status.message);
    return fromBinary(output, resp.payload);
  }

  close(): void { this.sock.destroy(); }
}
