// Plain HTTP/1.1 requests over a Unix socket, as Firecracker clients send them.

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';

export interface Answer {
  status: number;
  /** Parsed JSON body, or null when there was none. */
  body: unknown;
  text: string;
}

/** Send one request; `body` is sent as is when a string, else as JSON. */
export function api(socketPath: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = request({
      socketPath, method, path,
      headers: { Accept: 'application/json', ...(data !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {}), ...headers },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = null;
        if (text !== '') { try { parsed = JSON.parse(text); } catch { parsed = null; } }
        resolve({ status: res.statusCode ?? 0, body: parsed, text });
      });
    });
    req.on('error', reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}

export interface RawAnswer {
  /** 0 when the server closed without answering. */
  status: number;
  head: string;
  /** Parsed JSON body, or null. */
  body: unknown;
}

/**
 * Send `raw` bytes as they are (requests Node's client would not send) and read until
 * the server closes the connection, or the answer is complete; the first answer is parsed.
 */
export function rawRequest(socketPath: string, raw: string | Uint8Array): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const s = connect(socketPath);
    const chunks: Buffer[] = [];
    const finish = (): void => {
      s.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      const head = end < 0 ? text : text.slice(0, end);
      let body: unknown = null;
      const len = /\r\ncontent-length: (\d+)/i.exec(head);
      if (end >= 0 && len) { try { body = JSON.parse(Buffer.from(text.slice(end + 4, end + 4 + Number(len[1])), 'latin1').toString('utf8')); } catch { body = null; } }
      resolve({ status: m ? Number(m[1]) : 0, head, body });
    };
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      // A complete answer: headers and as many body bytes as Content-Length says.
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const len = end < 0 ? null : /\r\ncontent-length: (\d+)/i.exec(text.slice(0, end));
      if (end >= 0 && len && Buffer.byteLength(text, 'latin1') >= end + 4 + Number(len[1])) finish();
    });
    s.on('close', finish);
    s.on('error', () => { /* close follows */ });
    s.write(raw);
  });
}

/** A PUT with `body` as raw bytes (for rawRequest). */
export function putRaw(path: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`PUT ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${body.length}\r\n\r\n`), body]);
}

/** The fault_message of a refusal, checking it has Firecracker's error shape ({"fault_message"} and nothing else). */
export function faultOf(body: unknown): string {
  assert.ok(body !== null && typeof body === 'object', `a JSON body: ${JSON.stringify(body)}`);
  assert.deepEqual(Object.keys(body), ['fault_message'], 'Firecracker\'s error shape');
  return (body as { fault_message: string }).fault_message;
}
