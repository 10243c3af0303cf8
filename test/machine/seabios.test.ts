// SeaBIOS (Debian package `seabios`) from the reset vector on this machine: with the
// fw_cfg device and the i440FX PAM registers it must print its banner on COM1 and come
// to "No bootable device" (there are no disks), as it does on QEMU with -nographic.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { Machine } from '../../src/machine/Machine.js';
import { afterVirtualTime } from './serialSession.js';

/** Guest time SeaBIOS gets to reach its boot menu (it needs about 0.06 s). */
const LIMIT_VIRTUAL_MS = 10_000;

for (const file of ['/usr/share/seabios/bios.bin', '/usr/share/seabios/bios-256k.bin']) {
  const missing = !existsSync(file);
  test(`SeaBIOS ${file} prints its banner on COM1 and reaches "No bootable device"`, { skip: missing ? `${file} is missing (install the Debian package seabios: scripts/setup-debian.sh)` : false }, async () => {
    const m = new Machine({ memoryMiB: 128, bios: readFileSync(file), pacing: 'fast' });
    let out = '';
    m.onSerialOutput = (bytes) => {
      out += Buffer.from(bytes).toString('latin1');
      if (/No bootable device|Press ESC for boot menu/.test(out)) m.stop('reached the boot menu / boot failure');
    };
    // Bounded by the guest's time, not the host's: a loaded host only makes it slower.
    void afterVirtualTime(m.clock, LIMIT_VIRTUAL_MS).then(() => m.stop('virtual time limit'));
    const exit = await m.run();
    assert.deepEqual(exit, { kind: 'stopped', detail: 'reached the boot menu / boot failure' }, `serial output so far:\n${out}`);
    assert.match(out, /SeaBIOS \(version /);
    assert.match(out, /No bootable device|Press ESC for boot menu/);
  });
}
