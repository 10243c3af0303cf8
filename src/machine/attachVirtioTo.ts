// Put virtio devices on a built Machine the way firmware and the run loop need them:
// attachVirtio on the machine's memory, PIC and PCI bus; their interrupt lines marked
// level-triggered in the ELCR (0x4D0/0x4D1); their host I/O counted by the run loop so
// an idle guest waits for it instead of skipping virtual time past it. MMIO windows are
// described in the DSDT, whose tables are rewritten here (the kernel was loaded before
// the devices existed), unless the kernel command line already holds
// plannedMmioCmdline(count) (see mmioDiscoveryCmdline for which a guest gets).

import { writeAcpiTables } from '../boot/Acpi.js';
import { attachVirtio, type AttachedVirtio, type VirtioOptions } from '../devices/virtio/options.js';
import type { Machine } from './Machine.js';
import { virtioAcpiOptions } from './virtioAcpi.js';

export async function attachVirtioTo(
  machine: Machine,
  options: VirtioOptions,
  how: { transport?: 'pci' | 'mmio'; log?: (msg: string) => void } = {},
): Promise<AttachedVirtio> {
  const virtio = await attachVirtio({
    memory: machine.mem, pci: machine.platform.pci, pic: machine.platform.pic, clock: machine.clock,
    transport: how.transport ?? 'mmio', wake: () => machine.loop.wake(), ...(how.log ? { log: how.log } : {}),
    deterministic: machine.config.deterministic, seed: machine.config.seed,
  }, options);
  // A kernel machine (not firmware, not a snapshot being restored, whose memory has its own).
  if (virtio.mmioWindows.length > 0 && machine.config.kernel) {
    const attachments = [...machine.virtio, { options, transport: how.transport ?? 'mmio', attached: virtio }];
    try {
      writeAcpiTables(machine.mem, virtioAcpiOptions(machine.config.cmdline, attachments, machine.apic));
    } catch (e) {
      await virtio.close(); // too many devices for the DSDT: no half-attached devices left running
      throw e;
    }
  }
  let elcr = 0;
  for (const irq of virtio.levelIrqs) elcr |= 1 << irq;
  machine.io.write(0x4d0, 1, elcr & 0xff);
  machine.io.write(0x4d1, 1, elcr >> 8);
  machine.ioSources.push(virtio);
  machine.virtio.push({ options, transport: how.transport ?? 'mmio', attached: virtio });
  return virtio;
}
