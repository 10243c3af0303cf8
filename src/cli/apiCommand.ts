// What `typevisor serve` and `typevisor manage` share: the options both take for the API
// and the machines behind it, checked into one shape, and the API socket opened with an
// error that names the option.

import { ApiServer, parseIdleTimeout } from '../vmm/api/ApiServer.js';
import { parseCpuEngine, type CpuEngine } from '../machine/cpuEngine.js';
import type { Pacing } from '../machine/RunLoop.js';

/** Bad command-line input: printed as one line, exit code 1. */
export class CliError extends Error {}

export interface ApiCommandOptions {
  idleTimeoutMs: number;
  cpu: CpuEngine;
  pacing: Pacing;
}

/** --api-idle-timeout, --cpu and --fast, checked. */
export function apiCommandOptions(values: { 'api-idle-timeout'?: string; cpu?: string; fast?: boolean }): ApiCommandOptions {
  try {
    return {
      idleTimeoutMs: parseIdleTimeout(values['api-idle-timeout']),
      cpu: parseCpuEngine(values.cpu),
      pacing: values.fast ? 'fast' : 'realtime',
    };
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

/** --seed's value: a whole number from 0 to 2^32 - 1 in decimal digits. */
export function parseSeedOption(value: string): number {
  if (!/^[0-9]+$/.test(value) || Number(value) > 0xffffffff) {
    throw new CliError(`--seed takes a whole number from 0 to 4294967295 in decimal digits, got "${value}"`);
  }
  return Number(value);
}

/** Listen on the --api-sock path; a socket that cannot be opened is bad input. */
export async function listenApi(server: ApiServer, sock: string): Promise<void> {
  try {
    await server.listen(sock);
  } catch (e) {
    throw new CliError(`--api-sock ${sock}: ${(e as Error).message}`);
  }
}
