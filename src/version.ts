// The typevisor version (package.json's "version"): GET / answers it, snapshots record it.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | null = null;

export function typevisorVersion(): string {
  if (cached !== null) return cached;
  cached = '0.0.0';
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const p = resolve(dir, 'package.json');
    if (existsSync(p)) {
      try { cached = String((JSON.parse(readFileSync(p, 'utf8')) as { version?: unknown }).version ?? '0.0.0'); } catch { /* keep 0.0.0 */ }
      break;
    }
    dir = dirname(dir);
  }
  return cached;
}
