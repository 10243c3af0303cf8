// `typevisor serve --api-sock PATH`: one VM driven through Firecracker's API on a Unix
// socket, as the firecracker binary is. The guest's serial console is on this process's
// stdout/stdin unless PUT /serial names an output file. When the VM ends, so does the
// process (as Firecracker does), with `typevisor run`'s exit codes.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ApiServer, DEFAULT_IDLE_TIMEOUT_MS } from '../vmm/api/ApiServer.js';
import { ApiError, Vmm } from '../vmm/Vmm.js';
import { applyConfigFile } from '../vmm/configFile.js';
import type { VmExit } from '../vmm/VmWorker.js';
import { ConsoleEscape, ESCAPE_HELP } from './ConsoleEscape.js';
import { apiCommandOptions, CliError, listenApi, parseSeedOption } from './apiCommand.js';

export const SERVE_HELP = `usage: typevisor serve --api-sock PATH [options]

Serves Firecracker's API (HTTP over a Unix socket) for one VM. Configure it with
PUT /boot-source, /machine-config, /drives/{id}, /network-interfaces/{id}, then
PUT /actions {"action_type": "InstanceStart"}.

options:
  --api-sock PATH     the Unix socket to listen on
  --config-file FILE  Firecracker's config-file JSON: configure and start the VM at once
  --no-api            with --config-file: no API socket
  --id ID             the instance id GET / reports (default "anonymous-instance")
  --api-idle-timeout S
                      close API connections silent for S seconds with no request
                      in flight (default ${DEFAULT_IDLE_TIMEOUT_MS / 1000})
  --fast              run the guest flat out, skipping idle time (default: real time)
  --cpu ENGINE        jit (default): the binary translator; interp: the interpreter alone
  --deterministic     the same guest with the same input runs the same every time (as
                      typevisor run --deterministic): implies --fast; no network or vsock
  --seed N            the deterministic VM's random seed (0-4294967295, default 0)
  -h, --help          this text
`;

function exitCode(e: VmExit): number {
  switch (e.kind) {
    case 'poweroff': case 'reset': case 'stopped': return 0;
    case 'triple-fault': return 2;
    case 'dead-halt': return 3;
    default: return 5;
  }
}

/** Runs until the VM ends (or forever, if no VM is started). Returns the exit code. */
export async function serve(argv: string[]): Promise<number> {
  try {
    return await serveInner(argv);
  } catch (e) {
    const parseError = e instanceof TypeError && 'code' in e && String((e as { code: unknown }).code).startsWith('ERR_PARSE_ARGS');
    if (!(e instanceof CliError) && !parseError) throw e;
    process.stderr.write(`typevisor: ${e.message.replace(/\s*\n\s*/g, ' ')}\n`);
    return 1;
  }
}

async function serveInner(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'api-sock': { type: 'string' },
      'config-file': { type: 'string' },
      'no-api': { type: 'boolean' },
      id: { type: 'string' },
      'api-idle-timeout': { type: 'string' },
      fast: { type: 'boolean' },
      cpu: { type: 'string' },
      deterministic: { type: 'boolean' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) { process.stdout.write(SERVE_HELP); return 0; }
  const sock = values['api-sock'];
  if (values['no-api'] && values['config-file'] === undefined) throw new CliError('--no-api needs --config-file');
  if (sock === undefined && !values['no-api']) throw new CliError('serve needs --api-sock PATH (see typevisor serve --help)');
  if (values.id !== undefined && !/^[A-Za-z0-9-]{1,64}$/.test(values.id)) throw new CliError('--id takes 1 to 64 letters, digits or "-"');
  const { idleTimeoutMs, cpu, pacing } = apiCommandOptions(values);
  if (values.seed !== undefined && !values.deterministic) throw new CliError('--seed needs --deterministic');
  const seed = values.seed === undefined ? 0 : parseSeedOption(values.seed);

  let done!: (code: number) => void;
  const finished = new Promise<number>((r) => { done = r; });
  const vmm = new Vmm({
    ...(values.id !== undefined ? { id: values.id } : {}),
    // Stdin is read only as fast as the guest takes it (a piped file must not fill host memory).
    onSerialInputDrain: () => process.stdin.resume(),
    pacing, cpu,
    ...(values.deterministic ? { deterministic: { seed } } : {}),
    onVmExit: (e) => {
      process.stderr.write(`typevisor: ${e.reason}\n`);
      done(exitCode(e));
    },
  });
  let server: ApiServer | null = null;
  if (sock !== undefined && !values['no-api']) {
    server = new ApiServer(vmm, { idleTimeoutMs });
    await listenApi(server, sock);
  }
  // A terminal is put in raw mode, as `typevisor run` does: keys go to the guest, Ctrl-A X quits.
  const tty = process.stdin.isTTY === true;
  const escape = new ConsoleEscape();
  const onStdin = (chunk: Buffer): void => {
    const bytes = !tty ? chunk : escape.feed(chunk, (a) => {
      if (a === 'quit') void vmm.shutdown().then(() => done(0));
      else process.stderr.write(ESCAPE_HELP);
    });
    if (bytes.length > 0 && !vmm.serialInput(bytes)) process.stdin.pause();
  };
  if (tty) process.stdin.setRawMode(true);
  process.stdin.on('data', onStdin);
  const onSignal = (): void => { void vmm.shutdown().then(() => done(0)); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (values['config-file'] !== undefined) {
      let config: unknown;
      try {
        config = JSON.parse(readFileSync(values['config-file'], 'utf8'));
      } catch (e) {
        throw new CliError(`--config-file: ${(e as Error).message}`);
      }
      try {
        applyConfigFile(vmm, config);
        await vmm.instanceStart();
      } catch (e) {
        if (e instanceof ApiError) throw new CliError(e.message);
        throw e;
      }
    }
    return await finished;
  } finally {
    process.stdin.off('data', onStdin);
    if (tty) process.stdin.setRawMode(false);
    process.stdin.pause();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await server?.close();
  }
}
