// Plain HTTP/1.1 requests over a Unix socket, as Firecracker clients send them.

import assert from 'node:assert/strict';
import { request } from 'node:http';

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

/** The fault_message of a refusal, checking it has Firecracker's error shape ({"fault_message"} and nothing else). */
export function faultOf(body: unknown): string {
  assert.ok(body !== null && typeof body === 'object', `a JSON body: ${JSON.stringify(body)}`);
  assert.deepEqual(Object.keys(body), ['fault_message'], 'Firecracker\'s error shape');
  return (body as { fault_message: string }).fault_message;
}
