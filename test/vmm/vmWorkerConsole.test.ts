// VmSpec.console: a VM in a worker thread with a virtio-console whose bytes cross the
// thread both ways (the containerd shim's channel to its guest agent), next to the serial
// port: the default guest's shell echoes a line typed on hvc0 back on it, and says so on
// the serial console.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { VmWorker } from '../../src/vmm/VmWorker.js';

const guest = (f: string): string => fileURLToPath(new URL(`../../../guest/${f}`, import.meta.url));

test('VmWorker with console: hvc0 output reaches onConsoleOutput, consoleInput reaches the guest', { timeout: 300_000 }, async (t) => {
  const vm = await VmWorker.start({
    kernelPath: guest('bzImage'), initrdPath: guest('initramfs.cpio.gz'), cmdline: 'console=ttyS0 panic=-1 tsc=reliable',
    memoryMiB: 32, drives: [], nets: [], rng: false, vsock: null, console: true, pacing: 'realtime',
  });
  t.after(() => vm.stop());
  let serial = '';
  let hvc = '';
  let wake: () => void = () => {};
  const until = (check: () => boolean): Promise<void> => new Promise((resolve) => {
    const poll = (): void => { if (check()) resolve(); else wake = poll; };
    poll();
  });
  vm.onSerialOutput = (b) => { serial += Buffer.from(b).toString(); wake(); };
  vm.onConsoleOutput = (b) => { hvc += Buffer.from(b).toString(); wake(); };
  await until(() => serial.includes('typevisor:/# '));
  vm.serialInput(Buffer.from('exec 3<>/dev/hvc0; stty raw -echo <&3; echo hvc-ready >&3; read -r l <&3; echo "serial got $l"; echo "back $l" >&3\n'));
  await until(() => hvc.includes('hvc-ready\n'));
  vm.consoleInput(Buffer.from('ping\n'));
  await until(() => hvc.includes('back ping\n') && serial.includes('serial got ping'));
  assert.equal(hvc, 'hvc-ready\nback ping\n');
});
