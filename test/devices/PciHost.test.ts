import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IoBus } from '../../src/machine/IoBus.js';
import { PciDevice, PciHost, type BarDefinition } from '../../src/devices/PciHost.js';

class TestDevice extends PciDevice {
  readonly mappedLog: [number, number | null][] = [];
  constructor() {
    super('testdev', { vendorId: 0x1af4, deviceId: 0x1041, classCode: 0x020000, revision: 1, interruptPin: 1, subsystemVendorId: 0x1af4, subsystemId: 0x0001 });
    this.defineBar(0, { kind: 'io', size: 32 });
    this.defineBar(1, { kind: 'mem32', size: 4096 });
    this.defineBar(2, { kind: 'mem64', size: 16384, prefetchable: true });
    this.addCapability(0x09, [16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    this.addCapability(0x11, [0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0], [0xff, 0xc0]);
  }
  protected override barMapped(index: number, _def: BarDefinition, address: number | null): void {
    this.mappedLog.push([index, address]);
  }
}

function setup() {
  const bus = new IoBus();
  const pci = new PciHost();
  pci.attach(bus);
  const addr = (slot: number, fn: number, reg: number, busNo = 0): number => (0x80000000 | (busNo << 16) | (slot << 11) | (fn << 8) | (reg & 0xfc)) >>> 0;
  const rd = (slot: number, fn: number, reg: number, size: 1 | 2 | 4 = 4, busNo = 0): number => {
    bus.write(0xcf8, 4, addr(slot, fn, reg, busNo));
    return bus.read(0xcfc + (reg & 3), size);
  };
  const wr = (slot: number, fn: number, reg: number, value: number, size: 1 | 2 | 4 = 4): void => {
    bus.write(0xcf8, 4, addr(slot, fn, reg));
    bus.write(0xcfc + (reg & 3), size, value);
  };
  return { bus, pci, rd, wr };
}

test('mechanism #1 detection as Linux pci_check_type1 does it', () => {
  const { bus } = setup();
  bus.write(0xcfb, 1, 0x01);
  assert.equal(bus.read(0xcf8, 4), 0);
  bus.write(0xcf8, 4, 0x80000000);
  assert.equal(bus.read(0xcf8, 4), 0x80000000);
  assert.equal(bus.read(0xcf8, 1), 0xff); // byte reads do not see the address register
});

test('i440FX host bridge and PIIX3 ISA bridge identify themselves', () => {
  const { rd } = setup();
  assert.equal(rd(0, 0, 0x00), 0x12378086);
  assert.equal(rd(0, 0, 0x08), 0x06000002);
  assert.equal(rd(0, 0, 0x0e, 1), 0x00);
  assert.equal(rd(1, 0, 0x00), 0x70008086);
  assert.equal(rd(1, 0, 0x08), 0x06010000);
  assert.equal(rd(1, 0, 0x0e, 1), 0x80);
  assert.equal(rd(1, 0, 0x60), 0x0b0b0a0a); // PIRQA-D → IRQ 10, 10, 11, 11
  // Byte and word accesses at offsets within the dword.
  assert.equal(rd(0, 0, 0x02, 2), 0x1237);
  assert.equal(rd(0, 0, 0x01, 1), 0x80);
  assert.equal(rd(1, 0, 0x0b, 1), 0x06);
});

test('absent functions, other buses and a disabled address read all-ones', () => {
  const { bus, rd } = setup();
  assert.equal(rd(5, 0, 0x00), 0xffffffff);
  assert.equal(rd(1, 1, 0x00, 2), 0xffff);
  assert.equal(rd(0, 0, 0x00, 4, 1), 0xffffffff);
  bus.write(0xcf8, 4, 0x00000000);
  assert.equal(bus.read(0xcfc, 4), 0xffffffff);
});

test('read-only fields ignore writes; status bits are write-1-to-clear', () => {
  const { pci, rd, wr } = setup();
  const dev = new TestDevice();
  pci.addDevice(dev, 3);
  wr(3, 0, 0x00, 0x12345678);
  assert.equal(rd(3, 0, 0x00), 0x10411af4);
  assert.equal(rd(3, 0, 0x08), 0x02000001);
  assert.equal(rd(3, 0, 0x2c), 0x00011af4);
  wr(3, 0, 0x04, 0xffff, 2);
  assert.equal(rd(3, 0, 0x04, 2), 0x0547);
  dev.config[0x07] = 0xf9; // error bits set by the device
  wr(3, 0, 0x06, 0x2000, 2); // clear "received master abort" only
  assert.equal(rd(3, 0, 0x06, 2), 0xd910);
  wr(3, 0, 0x3c, 0x05, 1);
  assert.equal(rd(3, 0, 0x3c, 2), 0x0105); // line writable, pin 1 read-only
});

test('capability list is linked from 0x34 with status bit 4', () => {
  const { pci, rd, wr } = setup();
  pci.addDevice(new TestDevice(), 3);
  assert.equal(rd(3, 0, 0x06, 2) & 0x10, 0x10);
  assert.equal(rd(3, 0, 0x34, 1), 0x40);
  assert.equal(rd(3, 0, 0x40, 2), 0x5409); // id 9, next 0x54 (0x40 + 17 rounded up to 4)
  assert.equal(rd(3, 0, 0x42, 1), 16);
  assert.equal(rd(3, 0, 0x54, 2), 0x0011);
  wr(3, 0, 0x56, 0xffff, 2);
  assert.equal(rd(3, 0, 0x56, 2), 0xc0ff);
});

test('BAR sizing by writing all-ones, then assignment and decode enable', () => {
  const { pci, rd, wr } = setup();
  const dev = new TestDevice();
  pci.addDevice(dev, 3);
  const events: string[] = [];
  pci.onBarChange = (d, i, bar, a) => events.push(`${d.name}:${i}:${bar.kind}:${a === null ? 'off' : a.toString(16)}`);
  assert.equal(rd(3, 0, 0x10), 0x00000001);
  assert.equal(rd(3, 0, 0x18), 0x0000000c);
  for (let i = 0; i < 6; i++) wr(3, 0, 0x10 + 4 * i, 0xffffffff);
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((i) => rd(3, 0, 0x10 + 4 * i)),
    [0xffffffe1, 0xfffff000, 0xffffc00c, 0xffffffff, 0, 0]);
  assert.deepEqual(events, []); // decoding is off: nothing mapped
  wr(3, 0, 0x10, 0xc040);
  wr(3, 0, 0x14, 0xfebf1234);
  wr(3, 0, 0x18, 0xfe000000);
  wr(3, 0, 0x1c, 0x00000001);
  assert.equal(rd(3, 0, 0x10), 0xc041);
  assert.equal(rd(3, 0, 0x14), 0xfebf1000);
  wr(3, 0, 0x04, 0x0003, 2);
  assert.deepEqual(events, ['testdev:0:io:c040', 'testdev:1:mem32:febf1000', 'testdev:2:mem64:1fe000000']);
  assert.deepEqual(dev.mappedLog, [[0, 0xc040], [1, 0xfebf1000], [2, 0x1fe000000]]);
  assert.deepEqual(pci.mappedBars().map((b) => [b.dev.name, b.index, b.address, b.size]),
    [['testdev', 0, 0xc040, 32], ['testdev', 1, 0xfebf1000, 4096], ['testdev', 2, 0x1fe000000, 16384]]);
  wr(3, 0, 0x04, 0x0002, 2); // I/O decode off
  assert.deepEqual(events.slice(3), ['testdev:0:io:off']);
  assert.equal(dev.barAddress(0), null);
});

test('INTx routing through the PIIX3 PIRQ registers, INTx disable and re-routing', () => {
  const { pci, rd, wr } = setup();
  const irqs: string[] = [];
  pci.onIrq = (irq, level) => irqs.push(`${irq}:${level ? 1 : 0}`);
  const dev = new TestDevice();
  pci.addDevice(dev, 3); // slot 3 INTA# → PIRQC# → IRQ 11
  assert.equal(rd(3, 0, 0x3c, 1), 11);
  dev.setIntx(true);
  assert.deepEqual(irqs, ['11:1']);
  assert.equal(rd(3, 0, 0x06, 2) & 0x08, 0x08);
  wr(3, 0, 0x04, 0x0400, 2); // INTx disable
  assert.deepEqual(irqs, ['11:1', '11:0']);
  wr(3, 0, 0x04, 0x0000, 2);
  wr(1, 0, 0x62, 0x05, 1); // PIRQC# → IRQ 5
  assert.deepEqual(irqs, ['11:1', '11:0', '11:1', '11:0', '5:1']);
  wr(1, 0, 0x62, 0x80, 1); // routing disabled
  assert.deepEqual(irqs.slice(5), ['5:0']);
  dev.setIntx(false);
  assert.equal(rd(3, 0, 0x06, 2) & 0x08, 0);
  // Two devices sharing a PIRQ: wired-OR.
  wr(1, 0, 0x62, 0x0b, 1);
  const other = new TestDevice();
  pci.addDevice(other, 7); // slot 7 INTA# → (7+1-2)&3 = PIRQC#
  dev.setIntx(true);
  other.setIntx(true);
  dev.setIntx(false);
  assert.deepEqual(irqs.slice(6), ['11:1']);
  other.setIntx(false);
  assert.deepEqual(irqs.slice(6), ['11:1', '11:0']);
});

test('reset control 0xCF9: bit 2 resets, bits 1 and 3 read back', () => {
  const { bus, pci } = setup();
  let resets = 0;
  pci.onReset = () => { resets++; };
  bus.write(0xcf9, 1, 0x02);
  assert.equal(resets, 0);
  assert.equal(bus.read(0xcf9, 1), 0x02);
  bus.write(0xcf9, 1, 0x06); // the ACPI reset register value
  assert.equal(resets, 1);
  assert.equal(bus.read(0xcf9, 1), 0x02);
});

test('duplicate slots are refused; saveState/loadState and reset', () => {
  const a = setup();
  assert.throws(() => a.pci.addDevice(new TestDevice(), 1));
  a.wr(1, 0, 0x60, 0x80808005);
  a.bus.write(0xcf8, 4, 0x80000800);
  const state = JSON.parse(JSON.stringify(a.pci.saveState()));
  const b = setup();
  b.pci.loadState(state);
  assert.equal(b.bus.read(0xcf8, 4), 0x80000800);
  assert.equal(b.rd(1, 0, 0x60), 0x80808005);
  assert.throws(() => b.pci.loadState({ address: 0 }));
  b.pci.reset();
  assert.equal(b.rd(1, 0, 0x60), 0x0b0b0a0a);
  const dev = new TestDevice();
  b.pci.addDevice(dev, 4);
  b.wr(4, 0, 0x10, 0xc100);
  b.wr(4, 0, 0x04, 1, 2);
  const ds = JSON.parse(JSON.stringify(dev.saveState()));
  const dev2 = new TestDevice();
  const c = setup();
  c.pci.addDevice(dev2, 4);
  dev2.loadState(ds);
  assert.equal(dev2.barAddress(0), 0xc100);
  assert.deepEqual(dev2.mappedLog, [[0, 0xc100]]);
  dev.reset();
  assert.equal(b.rd(4, 0, 0x10), 0x00000001);
  assert.deepEqual(dev.mappedLog.at(-1), [0, null]);
});

test('i440FX PAM registers 0x59-0x5F report RE/WE changes per segment of 0xC0000-0xFFFFF', () => {
  const { pci, rd, wr } = setup();
  assert.equal(rd(0, 0, 0x2c), 0x11001af4); // QEMU's subsystem IDs, which SeaBIOS checks
  const log: [number, number, boolean, boolean][] = [];
  pci.onPamChange = (base, size, re, we) => log.push([base, size, re, we]);
  wr(0, 0, 0x59, 0x30, 1); // PAM0 high nibble: 0xF0000-0xFFFFF read/write DRAM
  assert.deepEqual(log, [[0xf0000, 0x10000, true, true]]);
  log.length = 0;
  wr(0, 0, 0x5c, 0x3300 | 0x31, 2); // PAM3 (0xD0000/0xD4000) = 0x31, PAM4 (0xD8000/0xDC000) = 0x33
  assert.deepEqual(log, [
    [0xd0000, 0x4000, true, false], [0xd4000, 0x4000, true, true],
    [0xd8000, 0x4000, true, true], [0xdc000, 0x4000, true, true],
  ]);
  log.length = 0;
  wr(0, 0, 0x5c, 0x3331, 2); // no change, no report
  wr(0, 0, 0x59, 0x10, 1); // write-protect the F segment
  assert.deepEqual(log, [[0xf0000, 0x10000, true, false]]);
  assert.equal(rd(0, 0, 0x59, 1), 0x10);
});
