import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IoBus } from '../../../src/machine/IoBus.js';
import { PciHost } from '../../../src/devices/PciHost.js';
import * as P from '../../../src/devices/virtio/VirtioPci.js';
import { VirtioPci } from '../../../src/devices/virtio/VirtioPci.js';
import { VirtioRng } from '../../../src/devices/virtio/VirtioRng.js';
import { VirtioNet } from '../../../src/devices/virtio/VirtioNet.js';
import type { VirtioDevice } from '../../../src/devices/virtio/VirtioDevice.js';
import type { PhysicalMemory } from '../../../src/memory/PhysicalMemory.js';
import { FakeQueue, newMemory, writeDesc, S_ACK, S_DRIVER, S_DRIVER_OK, S_FEATURES_OK, S_NEEDS_RESET, VRING_DESC_F_NEXT } from './fakeGuest.js';

const quiet = { log: () => {} };
const SLOT = 3;
const BAR = 0xe0000000;

function rig(make: (mem: PhysicalMemory) => VirtioDevice = (mem) => new VirtioRng(mem, quiet)) {
  const mem = newMemory(4);
  const bus = new IoBus();
  const pci = new PciHost();
  pci.attach(bus);
  const irqs: [number, boolean][] = [];
  pci.onIrq = (irq, level) => irqs.push([irq, level]);
  const dev = make(mem);
  const fn = new VirtioPci(dev, mem);
  pci.addDevice(fn, SLOT);
  const cfgAddr = (off: number) => 0x80000000 | (SLOT << 11) | (off & 0xfc);
  const cfgRead = (off: number, size: 1 | 2 | 4 = 4): number => {
    bus.write(0xcf8, 4, cfgAddr(off));
    return bus.read(0xcfc + (off & 3), size) >>> 0;
  };
  const cfgWrite = (off: number, size: 1 | 2 | 4, v: number): void => {
    bus.write(0xcf8, 4, cfgAddr(off));
    bus.write(0xcfc + (off & 3), size, v);
  };
  return { mem, bus, pci, fn, dev, irqs, cfgRead, cfgWrite };
}

/** Program BAR0 and enable memory decoding, as firmware or Linux would. */
function enable(r: ReturnType<typeof rig>, at = BAR): void {
  r.cfgWrite(0x10, 4, at);
  r.cfgWrite(0x04, 2, 0x0006);
}

/** The vendor-specific capabilities: cfg_type -> {bar, offset, length, extra, at}. */
function caps(r: ReturnType<typeof rig>): Map<number, { at: number; bar: number; offset: number; length: number; len: number; mult?: number }> {
  const out = new Map();
  assert.ok(r.cfgRead(0x06, 2) & 0x10, 'capability list present');
  let p = r.cfgRead(0x34, 1);
  let guard = 0;
  while (p !== 0 && guard++ < 48) {
    const id = r.cfgRead(p, 1);
    if (id === 0x09) {
      const type = r.cfgRead(p + 3, 1);
      out.set(type, {
        at: p,
        len: r.cfgRead(p + 2, 1),
        bar: r.cfgRead(p + 4, 1),
        offset: r.cfgRead(p + 8),
        length: r.cfgRead(p + 12),
        ...(type === 2 ? { mult: r.cfgRead(p + 16) } : {}),
      });
    }
    p = r.cfgRead(p + 1, 1);
  }
  return out;
}

test('PCI identity: 1AF4:1040+id, revision 1, subsystem, INTA with the routed interrupt line', () => {
  const r = rig();
  assert.equal(r.cfgRead(0x00), 0x10441af4);
  assert.equal(r.cfgRead(0x08, 1), 1);
  assert.equal(r.cfgRead(0x2c, 2), 0x1af4);
  assert.ok(r.cfgRead(0x2e, 2) >= 0x40);
  assert.equal(r.cfgRead(0x3d, 1), 1, 'INTA#');
  assert.equal(r.cfgRead(0x3c, 1), r.pci.routedIrq(r.fn));
  assert.equal(r.cfgRead(0x3c, 1), 11, 'slot 3 INTA -> PIRQC -> IRQ 11 by default');
});

test('capabilities: common, notify (multiplier 4), ISR, device (when there is config), PCI cfg access; all in BAR0', () => {
  const r = rig();
  const c = caps(r);
  assert.deepEqual([...c.keys()].sort(), [1, 2, 3, 5], 'rng has no device config');
  assert.equal(c.get(1)!.offset, P.COMMON_OFFSET);
  assert.ok(c.get(1)!.length >= 0x38);
  assert.equal(c.get(2)!.mult, 4);
  assert.equal(c.get(2)!.len, 20);
  assert.equal(c.get(3)!.offset, P.ISR_OFFSET);
  for (const v of c.values()) if (v.len !== 20 || v.bar === 0) assert.equal(v.bar, 0);
  const rn = rig((mem) => new VirtioNet(mem, { send() {}, onReceive: () => {}, close() {} }, { ...quiet, mac: '52:54:00:00:00:01' }));
  const cn = caps(rn);
  assert.equal(rn.cfgRead(0x02, 2), 0x1041);
  assert.equal(cn.get(4)!.offset, P.DEVICE_CFG_OFFSET);
  assert.ok(cn.get(4)!.length >= 12);
});

test('BAR0: sizing, mapping into guest memory when enabled, moving, unmapping', () => {
  const r = rig();
  r.cfgWrite(0x10, 4, 0xffffffff);
  assert.equal(r.cfgRead(0x10), (~(P.BAR_SIZE - 1)) >>> 0, '16 KiB 32-bit memory BAR');
  r.cfgWrite(0x10, 4, BAR);
  assert.equal(r.mem.read16(BAR + P.COMMON_NUMQ), 0xffff, 'not decoding before the command register enables it');
  r.cfgWrite(0x04, 2, 0x0006);
  assert.equal(r.mem.read16(BAR + P.COMMON_NUMQ), 1);
  r.cfgWrite(0x10, 4, BAR + 0x10000);
  assert.equal(r.mem.read16(BAR + P.COMMON_NUMQ), 0xffff, 'old address unmapped');
  assert.equal(r.mem.read16(BAR + 0x10000 + P.COMMON_NUMQ), 1);
  r.cfgWrite(0x10, 4, 0x00100000); // over RAM: refused
  assert.equal(r.mem.read16(0x00100000 + P.COMMON_NUMQ), 0);
  r.cfgWrite(0x04, 2, 0);
  assert.equal(r.mem.read16(BAR + 0x10000 + P.COMMON_NUMQ), 0xffff);
});

test('common config: feature negotiation, queue setup, notify, ISR read-to-clear and INTx', () => {
  const r = rig();
  enable(r);
  const m = r.mem;
  const c = (o: number) => BAR + o;
  m.write8(c(P.COMMON_STATUS), 0);
  m.write8(c(P.COMMON_STATUS), S_ACK | S_DRIVER);
  m.write32(c(P.COMMON_DFSELECT), 1);
  assert.equal(m.read32(c(P.COMMON_DF)) & 1, 1, 'VERSION_1');
  m.write32(c(P.COMMON_DFSELECT), 0);
  const lo = m.read32(c(P.COMMON_DF)) >>> 0;
  m.write32(c(P.COMMON_GFSELECT), 0);
  m.write32(c(P.COMMON_GF), lo);
  m.write8(c(P.COMMON_STATUS), S_ACK | S_DRIVER | S_FEATURES_OK);
  assert.equal(m.read8(c(P.COMMON_STATUS)) & S_FEATURES_OK, 0, 'no VERSION_1: refused');
  m.write32(c(P.COMMON_GFSELECT), 1);
  m.write32(c(P.COMMON_GF), 1);
  m.write8(c(P.COMMON_STATUS), S_ACK | S_DRIVER | S_FEATURES_OK);
  assert.equal(m.read8(c(P.COMMON_STATUS)) & S_FEATURES_OK, S_FEATURES_OK);
  assert.equal(m.read16(c(P.COMMON_MSIX)), 0xffff, 'no MSI-X');
  assert.equal(m.read16(c(P.COMMON_NUMQ)), 1);
  m.write16(c(P.COMMON_Q_SELECT), 0);
  assert.equal(m.read16(c(P.COMMON_Q_SIZE)), 256);
  m.write16(c(P.COMMON_Q_SIZE), 16);
  const q = new FakeQueue(m, 0x10000, 16);
  m.write32(c(P.COMMON_Q_DESCLO), q.desc);
  m.write32(c(P.COMMON_Q_DESCHI), 0);
  m.write32(c(P.COMMON_Q_AVAILLO), q.avail);
  m.write32(c(P.COMMON_Q_AVAILHI), 0);
  m.write32(c(P.COMMON_Q_USEDLO), q.used);
  m.write32(c(P.COMMON_Q_USEDHI), 0);
  assert.equal(m.read32(c(P.COMMON_Q_USEDLO)), q.used);
  assert.equal(m.read16(c(P.COMMON_Q_MSIX)), 0xffff);
  const noff = m.read16(c(P.COMMON_Q_NOFF));
  m.write16(c(P.COMMON_Q_ENABLE), 1);
  assert.equal(m.read16(c(P.COMMON_Q_ENABLE)), 1);
  m.write16(c(P.COMMON_Q_SIZE), 32);
  assert.equal(m.read16(c(P.COMMON_Q_SIZE)), 16, 'frozen once enabled');
  m.write8(c(P.COMMON_STATUS), S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
  q.post([{ addr: 0x200000, len: 40, write: true }]);
  m.write16(c(P.NOTIFY_OFFSET + noff * P.NOTIFY_OFF_MULTIPLIER), 0);
  assert.deepEqual(q.takeUsed(), [{ id: 0, len: 40 }]);
  assert.deepEqual(r.irqs, [[11, true]]);
  assert.ok(r.cfgRead(0x06, 2) & 0x08, 'PCI status interrupt bit');
  assert.equal(m.read8(c(P.ISR_OFFSET)), 1);
  assert.equal(m.read8(c(P.ISR_OFFSET)), 0, 'read clears');
  assert.deepEqual(r.irqs, [[11, true], [11, false]]);
  // Byte access inside a 32-bit field, 64-bit halves.
  assert.equal(m.read8(c(P.COMMON_Q_USEDLO + 1)), (q.used >>> 8) & 0xff);
  // Reset through status 0.
  m.write8(c(P.COMMON_STATUS), 0);
  assert.equal(m.read8(c(P.COMMON_STATUS)), 0);
  assert.equal(m.read16(c(P.COMMON_Q_ENABLE)), 0);
  assert.equal(m.read16(c(P.COMMON_Q_SIZE)), 256);
});

test('the PCI configuration access capability reaches BAR0 through config space', () => {
  const r = rig();
  const cap = caps(r).get(5)!;
  r.cfgWrite(cap.at + 4, 1, 0); // bar
  r.cfgWrite(cap.at + 8, 4, P.COMMON_NUMQ);
  r.cfgWrite(cap.at + 12, 4, 2);
  assert.equal(r.cfgRead(cap.at + 16) & 0xffff, 1);
  r.cfgWrite(cap.at + 8, 4, P.COMMON_STATUS);
  r.cfgWrite(cap.at + 12, 4, 1);
  r.cfgWrite(cap.at + 16, 4, S_ACK);
  assert.equal(r.dev.status, S_ACK);
});

test('a hostile chain through PCI: DEVICE_NEEDS_RESET and a config interrupt, no throw', () => {
  const r = rig();
  enable(r);
  const m = r.mem;
  const c = (o: number) => BAR + o;
  m.write8(c(P.COMMON_STATUS), S_ACK | S_DRIVER);
  m.write32(c(P.COMMON_GFSELECT), 1);
  m.write32(c(P.COMMON_GF), 1);
  m.write8(c(P.COMMON_STATUS), S_ACK | S_DRIVER | S_FEATURES_OK);
  m.write16(c(P.COMMON_Q_SIZE), 8);
  const q = new FakeQueue(m, 0x10000, 8);
  m.write32(c(P.COMMON_Q_DESCLO), q.desc);
  m.write32(c(P.COMMON_Q_AVAILLO), q.avail);
  m.write32(c(P.COMMON_Q_USEDLO), q.used);
  m.write16(c(P.COMMON_Q_ENABLE), 1);
  m.write8(c(P.COMMON_STATUS), S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
  writeDesc(m, q.desc, 0, 0x200000, 8, VRING_DESC_F_NEXT, 1);
  writeDesc(m, q.desc, 1, 0x200000, 8, VRING_DESC_F_NEXT, 0);
  q.publish(0);
  assert.doesNotThrow(() => m.write16(c(P.NOTIFY_OFFSET), 0));
  assert.equal(m.read8(c(P.COMMON_STATUS)) & S_NEEDS_RESET, S_NEEDS_RESET);
  assert.equal(m.read8(c(P.ISR_OFFSET)), 2);
});

test('save and load through the PCI transport keep config space, BAR mapping and queues', () => {
  const r = rig();
  enable(r);
  r.dev.writeStatus(S_ACK | S_DRIVER);
  r.dev.writeDriverFeatures(1, 1);
  r.dev.writeStatus(S_ACK | S_DRIVER | S_FEATURES_OK);
  const state = JSON.parse(JSON.stringify(r.fn.saveState()));
  const r2 = rig();
  r2.fn.loadState(state);
  assert.equal(r2.dev.status, S_ACK | S_DRIVER | S_FEATURES_OK);
  assert.equal(r2.mem.read16(BAR + P.COMMON_NUMQ), 1, 'BAR mapped after load');
  r2.fn.reset();
  assert.equal(r2.dev.status, 0);
  assert.equal(r2.mem.read16(BAR + P.COMMON_NUMQ), 0xffff, 'unmapped by reset');
});
