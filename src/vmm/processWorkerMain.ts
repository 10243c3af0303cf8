// The body of a VM process (see processWorker.ts): runs the VM as a VmWorker and relays
// it over the IPC channel. When the VM ends, so does the process; when the manager goes
// away (the channel closes), the VM is stopped and the process ends too.

import { VmWorker } from './VmWorker.js';
import { RELAYED, zeroStats, type FromChild, type ToChild } from './processWorker.js';

/** Bytes handed to the IPC channel that it has not written out yet. */
let unsent = 0;

function send(m: FromChild, size = 0): void {
  if (!process.connected) return;
  unsent += size;
  process.send!(m, undefined, {}, () => { unsent -= size; });
}

/**
 * Serial output is dropped, rather than queued without limit in this process, while
 * OUTPUT_BACKLOG_BYTES have not gone out yet (a manager too busy to read): as a console
 * client that does not read loses output beyond its backlog (ManagerConsole).
 */
const OUTPUT_BACKLOG_BYTES = 1 << 20;

function sendOutput(bytes: Uint8Array): void {
  if (unsent > OUTPUT_BACKLOG_BYTES) return;
  send({ type: 'serial', bytes }, bytes.length);
}

let vm: VmWorker | null = null;

process.on('message', (m: ToChild) => {
  if (m.type === 'start') {
    if (vm !== null) return;
    VmWorker.start(m.spec).then((w) => {
      vm = w;
      w.onSerialOutput = (bytes) => sendOutput(bytes);
      w.onInputTaken = () => send({ type: 'input-taken', total: w.inputTaken });
      w.onExit = (e) => {
        send({ type: 'exit', kind: e.kind, reason: e.reason, stats: w.stats() });
        end(0);
      };
      send({ type: 'started' });
    }, (e: unknown) => {
      send({ type: 'start-failed', message: (e as Error).message });
      end(1);
    });
    return;
  }
  const w = vm;
  if (m.type !== 'call' || !(RELAYED as readonly string[]).includes(m.method)) return;
  if (w === null) { send({ type: 'reply', seq: m.seq, error: 'the VM has not started', value: null, stats: zeroStats() }); return; }
  const reply = (error: string | null, value: unknown = null): void => send({ type: 'reply', seq: m.seq, error, value, stats: w.stats() });
  const fn = w[m.method] as (...a: unknown[]) => unknown;
  let result: unknown;
  try {
    result = fn.apply(w, m.args);
  } catch (e) {
    reply((e as Error).message);
    return;
  }
  // stop() resolves with the exit, which goes out as the 'exit' message instead.
  Promise.resolve(result).then((v) => reply(null, m.method === 'stop' ? null : v ?? null), (e: unknown) => reply((e as Error).message));
});

process.on('disconnect', () => {
  if (vm === null) { process.exit(0); return; }
  void vm.stop().finally(() => process.exit(0));
});

/** Let the last message go out, then end. */
function end(code: number): void {
  setTimeout(() => {
    process.disconnect?.();
    process.exit(code);
  }, 50).unref();
}
