// `typevisor manage --api-sock PATH`: the manager of many VMs (src/vmm/Manager.ts) on one
// API socket. Each VM runs in a worker thread, or with --process-per-vm in a child
// process of its own; each has a serial console socket in --console-dir. The manager
// runs until SIGINT/SIGTERM, then stops every VM and removes its sockets.

import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ApiServer, DEFAULT_IDLE_TIMEOUT_MS } from '../vmm/api/ApiServer.js';
import { DEFAULT_MAX_VMS, Manager } from '../vmm/Manager.js';
import { ProcessVm } from '../vmm/processWorker.js';
import { apiCommandOptions, CliError, listenApi } from './apiCommand.js';

export const MANAGE_HELP = `usage: typevisor manage --api-sock PATH [options]

Serves an API that creates, lists and destroys many VMs, each configured with
Firecracker's API under /vms/{id}/... (see src/vmm/README.md):
  PUT /vms/{id} [{"cpu_share": S}]   GET /vms   GET /vms/{id}[/stats|/console]
  PATCH /vms/{id} {"cpu_share": S}   DELETE /vms/{id}
Each VM's serial console is the Unix socket CONSOLE_DIR/{id}.console.

options:
  --api-sock PATH      the Unix socket to listen on
  --console-dir DIR    where the per-VM console sockets go (default: the API socket's directory)
  --process-per-vm     run each VM in its own child process (default: a worker thread)
  --max-vms N          refuse to create more than N VMs (default ${DEFAULT_MAX_VMS})
  --api-idle-timeout S close API connections silent for S seconds with no request
                       in flight (default ${DEFAULT_IDLE_TIMEOUT_MS / 1000})
  --fast               run guests flat out, skipping idle time (default: real time)
  --cpu ENGINE         jit (default): the binary translator; interp: the interpreter alone
  --log                log VM creation, deletion and exits on stderr
  -h, --help           this text
`;

/** Runs until a signal; returns the exit code. */
export async function manage(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'api-sock': { type: 'string' },
        'console-dir': { type: 'string' },
        'process-per-vm': { type: 'boolean' },
        'max-vms': { type: 'string' },
        'api-idle-timeout': { type: 'string' },
        fast: { type: 'boolean' },
        cpu: { type: 'string' },
        log: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    process.stderr.write(`typevisor: ${(e as Error).message.replace(/\s*\n\s*/g, ' ')}\n`);
    return 1;
  }
  if (values.help) { process.stdout.write(MANAGE_HELP); return 0; }
  try {
    return await run(values);
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    process.stderr.write(`typevisor: ${e.message}\n`);
    return 1;
  }
}

async function run(values: { 'api-sock'?: string; 'console-dir'?: string; 'process-per-vm'?: boolean; 'max-vms'?: string; 'api-idle-timeout'?: string; fast?: boolean; cpu?: string; log?: boolean }): Promise<number> {
  const sock = values['api-sock'];
  if (sock === undefined) throw new CliError('manage needs --api-sock PATH (see typevisor manage --help)');
  const consoleDir = resolve(values['console-dir'] ?? dirname(resolve(sock)));
  if (!existsSync(consoleDir) || !statSync(consoleDir).isDirectory()) throw new CliError(`--console-dir ${consoleDir} is not a directory`);
  const maxVms = values['max-vms'] === undefined ? DEFAULT_MAX_VMS : Number(values['max-vms']);
  if (!Number.isInteger(maxVms) || maxVms < 1) throw new CliError(`--max-vms takes a positive whole number, got "${values['max-vms']}"`);
  const { idleTimeoutMs, cpu, pacing } = apiCommandOptions(values);
  const manager = new Manager({
    consoleDir, maxVms, pacing, cpu,
    ...(values['process-per-vm'] ? { launch: (spec) => ProcessVm.start(spec) } : {}),
    ...(values.log ? { log: (msg) => process.stderr.write(`typevisor: ${msg}\n`) } : {}),
  });
  const server = new ApiServer(manager, { idleTimeoutMs });
  await listenApi(server, sock);
  await new Promise<void>((r) => {
    process.once('SIGINT', () => r());
    process.once('SIGTERM', () => r());
  });
  await server.close();
  await manager.shutdown();
  return 0;
}
