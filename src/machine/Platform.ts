// The legacy PC platform around the CPU: PIC pair, PIT + port 0x61, RTC/CMOS, four
// UARTs, i8042, port 0x92, POST and debug ports, PCI host bridge with reset control,
// the ACPI power-management block and the HPET; the local APIC and the I/O APIC, whose
// pins the same ISA lines reach (the PIC mirrors every line it is driven on to them).
// Each device gets the bus, clock and IRQ line it needs; none of them knows which CPU
// backend runs the guest.

import type { Device } from '../devices/Device.js';
import { Pic8259 } from '../devices/Pic8259.js';
import { Pit8254 } from '../devices/Pit8254.js';
import { SystemControlPortB } from '../devices/SystemControlPortB.js';
import { Rtc146818 } from '../devices/Rtc146818.js';
import { Uart16550 } from '../devices/Uart16550.js';
import { I8042 } from '../devices/I8042.js';
import { Port92 } from '../devices/Port92.js';
import { PostCode } from '../devices/PostCode.js';
import { DebugCon } from '../devices/DebugCon.js';
import { PciHost } from '../devices/PciHost.js';
import { AcpiPm } from '../devices/AcpiPm.js';
import { FwCfg } from '../devices/FwCfg.js';
import { Hpet } from '../devices/Hpet.js';
import { LocalApic } from '../devices/LocalApic.js';
import { IoApic } from '../devices/IoApic.js';
import type { InterruptController } from '../devices/Device.js';
import type { E820Entry } from '../boot/E820.js';
import { PAGE_RAM, PAGE_ROM } from '../memory/PhysicalMemory.js';
import type { IoBus } from './IoBus.js';
import type { VirtualClock } from './VirtualClock.js';
import type { PhysicalMemory } from '../memory/PhysicalMemory.js';

export interface PlatformEvents {
  serialOut(byte: number): void;
  debugOut(byte: number): void;
  reset(source: string): void;
  powerOff(): void;
}

export interface PlatformHost {
  readonly io: IoBus;
  readonly clock: VirtualClock;
  readonly mem: PhysicalMemory;
  /** RTC time of day at power-on, ms since the Unix epoch (default: the host's clock). */
  readonly rtcBaseMs?: number | undefined;
  /** A local APIC and an I/O APIC (default true); without them the PIC is the CPU's only controller. */
  readonly apic?: boolean | undefined;
}

export class Platform {
  readonly pic = new Pic8259();
  readonly pit: Pit8254;
  readonly portB: SystemControlPortB;
  readonly rtc: Rtc146818;
  readonly com1: Uart16550;
  readonly com: Uart16550[];
  readonly kbc: I8042;
  readonly port92: Port92;
  readonly post = new PostCode();
  readonly debugcon: DebugCon;
  readonly pci: PciHost;
  readonly acpi: AcpiPm;
  /** At 0xFED00000; in legacy replacement mode its timers 0 and 1 take IRQ0 and IRQ8 from the PIT and RTC. */
  readonly hpet: Hpet;
  /** The local APIC at 0xFEE00000 and the I/O APIC at 0xFEC00000, or null (PlatformHost.apic false). */
  readonly lapic: LocalApic | null = null;
  readonly ioapic: IoApic | null = null;
  /** What the CPU takes interrupts from: the local APIC (which passes the PIC's on), or the PIC. */
  readonly interruptController: InterruptController;
  readonly devices: Device[];
  /** QEMU's fw_cfg, present only when booting firmware (enableFwCfg). */
  fwcfg: FwCfg | null = null;

  private readonly io: IoBus;

  constructor(host: PlatformHost, ev: PlatformEvents) {
    const { io, clock } = host;
    this.io = io;
    const pic = this.pic;
    pic.attach(io);
    this.hpet = new Hpet(clock, (irq, level) => pic.setIrq(irq, level));
    this.hpet.attach(host.mem);
    this.pit = new Pit8254(clock, this.hpet.pitLine);
    this.pit.attach(io);
    this.portB = new SystemControlPortB(this.pit);
    this.portB.attach(io);
    this.rtc = new Rtc146818(clock, this.hpet.rtcLine, { ramSize: host.mem.ramSize, ...(host.rtcBaseMs !== undefined ? { startTimeMs: host.rtcBaseMs } : {}) });
    this.rtc.attach(io);
    this.com = [
      new Uart16550('com1', 0x3f8, pic.irqLine(4), clock),
      new Uart16550('com2', 0x2f8, pic.irqLine(3), clock),
      new Uart16550('com3', 0x3e8, pic.irqLine(4), clock),
      new Uart16550('com4', 0x2e8, pic.irqLine(3), clock),
    ];
    this.com1 = this.com[0]!;
    for (const u of this.com) u.attach(io);
    this.com1.onTransmit = (b) => ev.serialOut(b);
    this.kbc = new I8042(pic.irqLine(1), pic.irqLine(12));
    this.kbc.onReset = () => ev.reset('i8042 reset (0xFE to port 0x64)');
    this.kbc.attach(io);
    this.port92 = new Port92();
    this.port92.onReset = () => ev.reset('fast reset through port 0x92');
    this.port92.attach(io);
    this.post.attach(io);
    this.debugcon = new DebugCon();
    this.debugcon.onOutput = (b) => ev.debugOut(b);
    this.debugcon.attach(io);
    this.pci = new PciHost();
    this.pci.onReset = () => ev.reset('reset control register 0xCF9');
    this.pci.onIrq = (irq, level) => pic.setIrq(irq, level);
    this.pci.attach(io);
    this.acpi = new AcpiPm(clock, pic.irqLine(9));
    this.acpi.onPowerOff = () => ev.powerOff();
    this.acpi.attach(io);
    this.devices = [pic, this.pit, this.portB, this.rtc, ...this.com, this.kbc, this.port92, this.post, this.debugcon, this.pci, this.acpi, this.hpet];
    this.interruptController = pic;
    if (host.apic !== false) {
      const lapic = new LocalApic(clock, pic);
      const ioapic = new IoApic(lapic);
      lapic.attach(host.mem);
      ioapic.attach(host.mem);
      lapic.onEoi = (vector) => ioapic.eoi(vector);
      pic.mirror = (line, level) => ioapic.setIsaIrq(line, level);
      this.lapic = lapic;
      this.ioapic = ioapic;
      this.interruptController = lapic;
      this.devices.push(lapic, ioapic);
    }
  }

  /**
   * Firmware boot (--bios): add the fw_cfg device (ports 0x510-0x511) and let the i440FX
   * PAM registers act on 0xC0000-0xFFFFF (a segment is RAM while its writes reach DRAM,
   * ROM otherwise); `mapChanged` runs after such a change so the CPU drops cached
   * translations. Once per machine: later calls return the same device.
   */
  enableFwCfg(mem: PhysicalMemory, e820: readonly E820Entry[], mapChanged: () => void): FwCfg {
    if (this.fwcfg) return this.fwcfg;
    this.fwcfg = new FwCfg({ ramSize: mem.ramSize, e820 });
    this.fwcfg.attach(this.io);
    this.devices.push(this.fwcfg);
    this.pci.onPamChange = (base, size, _re, we) => {
      mem.markPages(base, size, we ? PAGE_RAM : PAGE_ROM);
      mapChanged();
    };
    return this.fwcfg;
  }

  /** Every device back to its power-on state (machine reset). */
  reset(): void {
    for (const d of this.devices) d.reset();
  }
}
