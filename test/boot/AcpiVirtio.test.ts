// virtio-mmio discovery through ACPI: the DSDT names each window (LNRO0005) unless the
// command line announces them (never both), typevisor's command line carries the
// virtio_mmio.device= entries only with acpi=off, and the default guest, told nothing on
// its command line, finds its disk and entropy source through the DSDT and uses them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACPI_BASE, ACPI_SIZE, VIRTIO_MMIO_HID } from '../../src/boot/Acpi.js';
import { mmioDiscoveryCmdline, plannedMmioCmdline } from '../../src/devices/virtio/options.js';
import { Machine } from '../../src/machine/Machine.js';
import { attachVirtioTo } from '../../src/machine/attachVirtioTo.js';
import { bootGuest, haveGuest, INITRD, KERNEL } from '../devices/virtio/guestBoot.js';

const skip = haveGuest ? false : 'the default guest (guest/bzImage) is not built';

/** How many LNRO0005 devices the machine's ACPI area names. */
function lnroCount(m: Machine): number {
  const text = Buffer.from(m.mem.u8.subarray(ACPI_BASE, ACPI_BASE + ACPI_SIZE)).toString('latin1');
  return text.split(VIRTIO_MMIO_HID).length - 1;
}

test('mmioDiscoveryCmdline: virtio_mmio.device= entries only when the command line says acpi=off', () => {
  assert.equal(mmioDiscoveryCmdline('console=ttyS0', 2), 'console=ttyS0');
  assert.equal(mmioDiscoveryCmdline('console=ttyS0 noacpi=off', 2), 'console=ttyS0 noacpi=off');
  assert.equal(mmioDiscoveryCmdline('console=ttyS0 acpi=off', 2), `console=ttyS0 acpi=off ${plannedMmioCmdline(2)}`);
  assert.equal(mmioDiscoveryCmdline('acpi=off', 0), 'acpi=off');
});

test('the DSDT names the attached virtio-mmio windows, unless the command line announces them', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'typevisor-acpi-virtio-'));
  const machines: Machine[] = [];
  try {
    const img = join(dir, 'disk.img');
    writeFileSync(img, Buffer.alloc(64 << 10));
    const make = async (cmdline: string, transport: 'mmio' | 'pci'): Promise<Machine> => {
      const m = new Machine({ memoryMiB: 32, kernel: new Uint8Array(readFileSync(KERNEL)), cmdline, pacing: 'fast' });
      machines.push(m);
      assert.equal(lnroCount(m), 0, 'no devices before they attach');
      await attachVirtioTo(m, { drives: [{ file: img, readonly: true }], rng: true }, { transport, log: () => {} });
      return m;
    };
    assert.equal(lnroCount(await make('console=ttyS0', 'mmio')), 2);
    assert.equal(lnroCount(await make(`console=ttyS0 ${plannedMmioCmdline(2)}`, 'mmio')), 0, 'announced on the command line');
    assert.equal(lnroCount(await make('console=ttyS0', 'pci')), 0, 'PCI functions are found by bus enumeration');
  } finally {
    for (const m of machines) for (const v of m.virtio) await v.attached.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the default guest finds its virtio-mmio disk and entropy source through the DSDT (LNRO0005) and uses them', { skip, timeout: 600_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'typevisor-acpi-virtio-'));
  try {
    const img = join(dir, 'disk.img');
    writeFileSync(img, Buffer.concat([Buffer.from('acpi-found-me\n'), Buffer.alloc((256 << 10) - 14)]));
    const r = await bootGuest({
      virtio: { drives: [{ file: img, readonly: true }], rng: true },
      mmioDiscovery: 'acpi',
      pacing: 'fast',
      script: [
        'cat /proc/cmdline',
        'for d in /sys/bus/virtio/devices/*; do echo "dev $(basename $d) $(cat $d/device) $(basename $(readlink -f $d/..))"; done',
        'echo "size=$(cat /sys/block/vda/size)"; head -c 14 /dev/vda',
        'echo "rng=$(head -c 32 /dev/hwrng | wc -c)"',
        'dmesg | grep -i -c "probe of .* failed" | sed "s/^/failed-probes=/"',
        'poweroff',
      ],
      until: /failed-probes=\d+/,
    });
    assert.doesNotMatch(r.output, /virtio_mmio\.device=/, 'nothing on the command line');
    assert.match(r.output, /dev virtio0 0x0002 LNRO0005:00/, 'virtio-blk is ACPI device LNRO0005:00');
    assert.match(r.output, /dev virtio1 0x0004 LNRO0005:01/, 'virtio-rng is ACPI device LNRO0005:01');
    assert.match(r.output, /size=512\b/);
    assert.match(r.output, /acpi-found-me/);
    assert.match(r.output, /rng=32\b/);
    assert.match(r.output, /failed-probes=0\b/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
