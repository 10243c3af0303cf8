// Headless Chromium for the page's tests and benchmark: Debian's chromium package
// (scripts/setup-debian.sh installs it), driven by playwright-core.

import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { buildWebBundle } from '../../src/cli/webBundle.js';
import { startWebServer } from '../../src/cli/web.js';

export const CHROMIUM = process.env['TYPEVISOR_CHROMIUM'] ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or false when they can. */
export const noChromium: string | false = existsSync(CHROMIUM)
  ? false
  : `no Chromium at ${CHROMIUM} (scripts/setup-debian.sh installs Debian's chromium; TYPEVISOR_CHROMIUM names another)`;

/** Start Chromium headless; `jsFlags`: V8 flags (--js-flags), e.g. '--liftoff-only'. */
export async function launchChromium(jsFlags?: string): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', ...(jsFlags !== undefined ? [`--js-flags=${jsFlags}`] : [])],
  });
}

/** Build the page and serve it on a free port of 127.0.0.1; returns its URL and a stop function. */
export async function servePage(): Promise<{ url: string; stop(): Promise<void>; server: Server }> {
  await buildWebBundle();
  const server = await startWebServer(0);
  const a = server.address();
  return {
    server,
    url: `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}/`,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
