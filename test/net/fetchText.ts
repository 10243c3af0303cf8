// GET a URL from a guest's server in the network tests: resolves with the body or
// "error: ...", never rejects and never waits past `ms`.

import { get } from 'node:http';

export function fetchText(url: string, ms: number): Promise<string> {
  return new Promise((resolve) => {
    const req = get(url, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
      res.on('error', (e) => resolve(`error: ${e.message}`));
    });
    req.setTimeout(ms, () => req.destroy(new Error('timed out')));
    req.on('error', (e) => resolve(`error: ${e.message}`));
  });
}
