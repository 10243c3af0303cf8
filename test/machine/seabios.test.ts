// SeaBIOS (Debian package `seabios`) from the reset vector on this machine: with the
// fw_cfg device and the i440FX PAM registers it must print its banner on COM1 and come
// to "No bootable device" (there are no disks), as it does on QEMU with -nographic.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { Machine } from '../../src/machine/Machine.js';

/** Longest wall time a boot may take before the test gives up. */
const LIMIT_MS = 30_000;

for (const file of ['/usr/share/seabios/bios.bin', '/usr/share/seabios/bios-256k.bin']) {
  const missing = !existsSync(file);
  test(`SeaBIOS ${file} prints its banner on COM1 and reaches "No bootable device"`, { skip: missing ? `${file} is missing (install the Debian package seabios: scripts/setup-debian.sh)` : false }, async () => {
    const m = new Machine({ memoryMiB: 128, bios: readFileSync(file), pacing: 'fast' });
    let out = '';
    const started = performance.now();
    m.onSerialOutput = (bytes) => {
      out += Buffer.from(bytes).toString('latin1');
      if (/No bootable device|Press ESC for boot menu/.test(out)) m.stop('reached the boot menu / boot failure');
    };
    const timer = setTimeout(() => m.stop('time limit'), LIMIT_MS);
    const exit = await m.run();
    clearTimeout(timer);
    const ms = performance.now() - started;
    assert.deepEqual(exit, { kind: 'stopped', detail: 'reached the boot menu / boot failure' }, `serial output so far:\n${out}`);
    assert.match(out, /SeaBIOS \(version /);
    assert.match(out, /No bootable device|Press ESC for boot menu/);
    assert.ok(ms < LIMIT_MS, `took ${ms} ms`);
  });
}
