// Which virtio-mmio windows the machine's DSDT describes (ACPI 6.x §6.1, _HID LNRO0005):
// all of them, unless the kernel command line already announces them with
// virtio_mmio.device= (a kernel with both discoveries would probe each window twice).
// Used when the kernel is loaded (and reloaded on reboot) and when devices attach; it
// also carries whether the machine has the APICs (the MADT).

import type { AcpiOptions } from '../boot/Acpi.js';
import type { VirtioAttachment } from './Machine.js';

const CMDLINE_ANNOUNCES = /(^|\s)virtio_mmio\.device=/;

export function virtioAcpiOptions(cmdline: string, virtio: readonly VirtioAttachment[], apic = true): AcpiOptions {
  if (CMDLINE_ANNOUNCES.test(cmdline)) return { apic };
  return { virtioMmio: virtio.flatMap((v) => v.attached.mmioWindows), apic };
}
