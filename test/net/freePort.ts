// A TCP port the host has free at the moment of asking (the OS picks it), for a test's
// hostfwd: passt binds it a moment later, and a clash in between fails loudly.

import { createServer, type AddressInfo } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}
