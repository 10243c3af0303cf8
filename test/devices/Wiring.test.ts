// All legacy devices on one bus, wired to the PIC the way the machine does it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IoBus } from '../../src/machine/IoBus.js';
import { VirtualClock } from '../../src/machine/VirtualClock.js';
import { Pic8259 } from '../../src/devices/Pic8259.js';
import { Pit8254 } from '../../src/devices/Pit8254.js';
import { SystemControlPortB } from '../../src/devices/SystemControlPortB.js';
import { Rtc146818 } from '../../src/devices/Rtc146818.js';
import { Uart16550 } from '../../src/devices/Uart16550.js';
import { I8042 } from '../../src/devices/I8042.js';
import { Port92 } from '../../src/devices/Port92.js';
import { PostCode } from '../../src/devices/PostCode.js';
import { DebugCon } from '../../src/devices/DebugCon.js';
import { PciDevice, PciHost } from '../../src/devices/PciHost.js';
import { AcpiPm } from '../../src/devices/AcpiPm.js';
import type { Device } from '../../src/devices/Device.js';
import { clockRunner } from './runClock.js';

function machine() {
  const clock = new VirtualClock();
  const bus = new IoBus();
  const pic = new Pic8259();
  const pit = new Pit8254(clock, pic.irqLine(0));
  const portB = new SystemControlPortB(pit);
  const rtc = new Rtc146818(clock, pic.irqLine(8), { ramSize: 256 << 20, startTimeMs: Date.UTC(2025, 0, 1) });
  const com = [
    new Uart16550('com1', 0x3f8, pic.irqLine(4), clock),
    new Uart16550('com2', 0x2f8, pic.irqLine(3), clock),
    new Uart16550('com3', 0x3e8, pic.irqLine(4), clock),
    new Uart16550('com4', 0x2e8, pic.irqLine(3), clock),
  ];
  const kbc = new I8042(pic.irqLine(1), pic.irqLine(12));
  const port92 = new Port92();
  const post = new PostCode();
  const debugcon = new DebugCon();
  const pci = new PciHost();
  pci.onIrq = (irq, level) => pic.setIrq(irq, level);
  const acpi = new AcpiPm(clock, pic.irqLine(9));
  const devices: (Device & { attach(bus: IoBus): void })[] = [pic, pit, portB, rtc, ...com, kbc, port92, post, debugcon, pci, acpi];
  for (const d of devices) d.attach(bus);
  // Linux's PIC initialisation.
  for (const [p, v] of [[0x20, 0x11], [0x21, 0x30], [0x21, 0x04], [0x21, 0x01], [0xa0, 0x11], [0xa1, 0x38], [0xa1, 0x02], [0xa1, 0x01], [0x21, 0], [0xa1, 0]] as const) bus.write(p, 1, v);
  const runTo = clockRunner(clock);
  return { clock, bus, pic, pit, rtc, com, kbc, pci, acpi, devices, runTo };
}

test('every device attaches to one bus without port conflicts', () => {
  const { bus, devices } = machine();
  assert.equal(devices.length, 14);
  assert.equal(bus.ownerOf(0x3fd), 'com1');
  assert.equal(bus.ownerOf(0x2ef), 'com4');
  assert.equal(bus.ownerOf(0xcf9), 'pci-host');
  assert.equal(bus.ownerOf(0x4d1), 'pic-elcr');
  assert.equal(bus.ownerOf(0x609), 'acpi-pm-tmr');
});

test('PIT IRQ0 reaches the CPU as vector 0x30; RTC IRQ8 through the cascade as 0x38', () => {
  const { bus, pic, runTo } = machine();
  let notified = 0;
  pic.notify = () => { notified++; };
  bus.write(0x43, 1, 0x34);
  bus.write(0x40, 1, 0x9c);
  bus.write(0x40, 1, 0x2e); // 11932 ticks, about 10 ms
  // The mode 2 control word raised OUT0 from its power-on low: one edge already.
  assert.equal(pic.hasInterrupt(), true);
  assert.ok(notified > 0);
  assert.equal(pic.acknowledge(), 0x30);
  bus.write(0x20, 1, 0x20);
  runTo(10_000_000);
  assert.equal(pic.hasInterrupt(), false);
  runTo(10_000_151); // 11932 / 1193182 Hz = 10000.1509 µs
  assert.equal(pic.acknowledge(), 0x30);
  bus.write(0x20, 1, 0x20);
  bus.write(0x70, 1, 0x0b);
  bus.write(0x71, 1, 0x42); // RTC PIE at 1024 Hz
  runTo(11_000_000);
  assert.equal(pic.acknowledge(), 0x38);
  bus.write(0x70, 1, 0x0c);
  assert.equal(bus.read(0x71, 1), 0xc0);
  bus.write(0xa0, 1, 0x20);
  bus.write(0x20, 1, 0x20);
});

test('COM1 input raises IRQ4 (vector 0x34); PCI INTx is level-triggered through ELCR', () => {
  const { bus, pic, com, pci } = machine();
  bus.write(0x3fc, 1, 0x0b); // DTR RTS OUT2
  bus.write(0x3f9, 1, 0x01); // ERBFI
  com[0]!.receive(new TextEncoder().encode('x'));
  assert.equal(pic.acknowledge(), 0x34);
  assert.equal(bus.read(0x3f8, 1), 0x78);
  bus.write(0x20, 1, 0x20);
  assert.equal(pic.hasInterrupt(), false);
  const dev = new PciDevice('nic', { vendorId: 0x1af4, deviceId: 0x1000, classCode: 0x020000, interruptPin: 1 });
  pci.addDevice(dev, 2); // slot 2 INTA# → PIRQB# → IRQ 10
  bus.write(0x4d1, 1, 0x04); // IRQ 10 level, as Linux's ACPI code sets it
  dev.setIntx(true);
  assert.equal(pic.acknowledge(), 0x3a);
  bus.write(0xa0, 1, 0x20);
  bus.write(0x20, 1, 0x20);
  assert.equal(pic.acknowledge(), 0x3a); // still asserted: level-triggered
  dev.setIntx(false);
  bus.write(0xa0, 1, 0x20);
  bus.write(0x20, 1, 0x20);
  assert.equal(pic.hasInterrupt(), false);
});

test('whole-platform state survives JSON and reset returns to power-on', () => {
  const { devices, clock, bus } = machine();
  bus.write(0x43, 1, 0x34);
  bus.write(0x40, 1, 0xff);
  bus.write(0x40, 1, 0xff);
  const saved = JSON.parse(JSON.stringify({ clock: clock.saveState(), devices: devices.map((d) => d.saveState()) }));
  const m2 = machine();
  m2.clock.loadState(saved.clock);
  m2.devices.forEach((d, i) => d.loadState(saved.devices[i]));
  assert.deepEqual(m2.devices.map((d) => d.saveState()), devices.map((d) => d.saveState()));
  for (const d of m2.devices) d.reset();
  assert.equal(m2.bus.read(0x21, 1), 0xff);
});
