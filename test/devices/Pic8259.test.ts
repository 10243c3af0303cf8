import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IoBus } from '../../src/machine/IoBus.js';
import { Pic8259 } from '../../src/devices/Pic8259.js';

/** The Linux init_8259A sequence: master vectors 0x30, slave 0x38, cascade on IR2. */
function setup(opts: { autoEoi?: boolean } = {}): { pic: Pic8259; bus: IoBus } {
  const bus = new IoBus();
  const pic = new Pic8259();
  pic.attach(bus);
  bus.write(0x21, 1, 0xff);
  bus.write(0x20, 1, 0x11); // ICW1: edge, cascade, ICW4 needed
  bus.write(0x21, 1, 0x30); // ICW2
  bus.write(0x21, 1, 0x04); // ICW3: slave on IR2
  bus.write(0x21, 1, opts.autoEoi ? 0x03 : 0x01); // ICW4: 8086 mode (+AEOI)
  bus.write(0xa0, 1, 0x11);
  bus.write(0xa1, 1, 0x38);
  bus.write(0xa1, 1, 0x02);
  bus.write(0xa1, 1, 0x01);
  bus.write(0x21, 1, 0x00); // unmask all
  bus.write(0xa1, 1, 0x00);
  return { pic, bus };
}

test('power-on: all masked, no interrupt; IMR reads back', () => {
  const bus = new IoBus();
  const pic = new Pic8259();
  pic.attach(bus);
  assert.equal(bus.read(0x21, 1), 0xff);
  assert.equal(bus.read(0xa1, 1), 0xff);
  pic.setIrq(0, true);
  assert.equal(pic.hasInterrupt(), false);
  bus.write(0x21, 1, 0xfb); // Linux probe_8259A
  assert.equal(bus.read(0x21, 1), 0xfb);
});

test('ICW1 clears IMR; init sequence sets the vector bases', () => {
  const { pic, bus } = setup();
  assert.equal(bus.read(0x21, 1), 0x00);
  pic.setIrq(1, true);
  assert.equal(pic.hasInterrupt(), true);
  assert.equal(pic.acknowledge(), 0x31);
  pic.setIrq(12, true);
  bus.write(0x20, 1, 0x20); // EOI for IRQ1
  assert.equal(pic.acknowledge(), 0x38 + 4);
});

test('priority: lower IR number wins; higher request nests over lower in service', () => {
  const { pic, bus } = setup();
  pic.setIrq(4, true);
  pic.setIrq(3, true);
  assert.equal(pic.acknowledge(), 0x33);
  // IRQ4 waits while IRQ3 is in service...
  assert.equal(pic.hasInterrupt(), false);
  // ...but IRQ0 outranks it and nests.
  pic.setIrq(0, true);
  assert.equal(pic.hasInterrupt(), true);
  assert.equal(pic.acknowledge(), 0x30);
  bus.write(0x20, 1, 0x0b); // OCW3: read ISR
  assert.equal(bus.read(0x20, 1), 0x09);
  bus.write(0x20, 1, 0x0a); // OCW3: read IRR
  assert.equal(bus.read(0x20, 1), 0x10); // IRQ4 waiting; IRQ0's edge was consumed by INTA
});

test('IRR/ISR read and non-specific EOI clears the highest in-service level', () => {
  const { pic, bus } = setup();
  pic.setIrq(5, true);
  assert.equal(bus.read(0x20, 1), 0x20); // IRR (default read)
  assert.equal(pic.acknowledge(), 0x35);
  assert.equal(bus.read(0x20, 1), 0x00);
  bus.write(0x20, 1, 0x0b);
  assert.equal(bus.read(0x20, 1), 0x20); // ISR
  pic.setIrq(1, true);
  assert.equal(pic.acknowledge(), 0x31);
  assert.equal(bus.read(0x20, 1), 0x22);
  bus.write(0x20, 1, 0x20); // non-specific EOI → clears IR1 (highest)
  assert.equal(bus.read(0x20, 1), 0x20);
  bus.write(0x20, 1, 0x65); // specific EOI IR5
  assert.equal(bus.read(0x20, 1), 0x00);
});

test('edge-triggered: a held line interrupts once; a new edge is needed', () => {
  const { pic, bus } = setup();
  pic.setIrq(3, true);
  assert.equal(pic.acknowledge(), 0x33);
  bus.write(0x20, 1, 0x63);
  assert.equal(pic.hasInterrupt(), false);
  pic.setIrq(3, true); // still high: no new edge
  assert.equal(pic.hasInterrupt(), false);
  pic.setIrq(3, false);
  pic.setIrq(3, true);
  assert.equal(pic.hasInterrupt(), true);
  // A short pulse is latched in IRR even after the line falls.
  const { pic: p2 } = setup();
  p2.setIrq(6, true);
  p2.setIrq(6, false);
  assert.equal(p2.acknowledge(), 0x36);
});

test('masks: OCW1 hides a request until unmasked', () => {
  const { pic, bus } = setup();
  bus.write(0x21, 1, 0x10);
  pic.setIrq(4, true);
  assert.equal(pic.hasInterrupt(), false);
  bus.write(0x21, 1, 0x00);
  assert.equal(pic.hasInterrupt(), true);
  assert.equal(pic.acknowledge(), 0x34);
});

test('cascade: slave IRQ goes through master IR2; Linux EOI order', () => {
  const { pic, bus } = setup();
  pic.setIrq(14, true);
  assert.equal(bus.read(0x20, 1), 0x04); // master IRR shows the cascade
  assert.equal(pic.acknowledge(), 0x3e);
  bus.write(0x20, 1, 0x0b);
  bus.write(0xa0, 1, 0x0b);
  assert.equal(bus.read(0x20, 1), 0x04);
  assert.equal(bus.read(0xa0, 1), 0x40);
  // A lower-priority slave IRQ waits for the master's IR2 EOI.
  pic.setIrq(15, true);
  assert.equal(pic.hasInterrupt(), false);
  bus.write(0xa0, 1, 0x66); // specific EOI to slave IR6
  assert.equal(pic.hasInterrupt(), false); // master still has IR2 in service
  bus.write(0x20, 1, 0x62); // specific EOI to master IR2
  assert.equal(pic.hasInterrupt(), true);
  assert.equal(pic.acknowledge(), 0x3f);
  // Slave masked: the cascade input drops.
  bus.write(0xa0, 1, 0x67);
  bus.write(0x20, 1, 0x62);
  bus.write(0xa1, 1, 0x01);
  pic.setIrq(8, true);
  assert.equal(pic.hasInterrupt(), false);
  bus.write(0x20, 1, 0x0a);
  assert.equal(bus.read(0x20, 1), 0x00);
  // Master IRQ0 outranks IR2.
  bus.write(0xa1, 1, 0x00);
  pic.setIrq(0, true);
  assert.equal(pic.acknowledge(), 0x30);
  bus.write(0x20, 1, 0x60);
  assert.equal(pic.acknowledge(), 0x38);
});

test('spurious IRQ7: a request that vanished before INTA', () => {
  const { pic, bus } = setup();
  bus.write(0x4d0, 1, 0x20); // IRQ5 level
  pic.setIrq(5, true);
  assert.equal(pic.hasInterrupt(), true);
  pic.setIrq(5, false);
  assert.equal(pic.acknowledge(), 0x37);
  bus.write(0x20, 1, 0x0b);
  assert.equal(bus.read(0x20, 1), 0x00); // no ISR bit for a spurious IRQ7
  // A slave request masked between the CPU's check and INTA: also IRQ7 (cascade dropped).
  bus.write(0x4d1, 1, 0x02); // IRQ9 level
  pic.setIrq(9, true);
  assert.equal(pic.hasInterrupt(), true);
  bus.write(0xa1, 1, 0x02);
  assert.equal(pic.acknowledge(), 0x37);
  assert.equal(bus.read(0x20, 1), 0x00);
  bus.write(0xa1, 1, 0x00);
  assert.equal(pic.acknowledge(), 0x39);
});

test('ELCR level mode: request follows the line and re-fires after EOI while held', () => {
  const { pic, bus } = setup();
  assert.equal(bus.read(0x4d0, 1), 0x00);
  bus.write(0x4d0, 1, 0xff);
  assert.equal(bus.read(0x4d0, 1), 0xf8); // IRQ0-2 cannot be level
  bus.write(0x4d1, 1, 0xff);
  assert.equal(bus.read(0x4d1, 1), 0xde); // IRQ8 and IRQ13 cannot be level
  assert.equal(bus.read(0x4d0, 2), 0xdef8);
  pic.setIrq(9, true);
  assert.equal(pic.acknowledge(), 0x39);
  bus.write(0xa0, 1, 0x20);
  bus.write(0x20, 1, 0x20);
  assert.equal(pic.hasInterrupt(), true); // still held: fires again
  assert.equal(pic.acknowledge(), 0x39);
  pic.setIrq(9, false);
  bus.write(0xa0, 1, 0x20);
  bus.write(0x20, 1, 0x20);
  assert.equal(pic.hasInterrupt(), false);
  bus.write(0xa0, 1, 0x0a);
  assert.equal(bus.read(0xa0, 1), 0x00);
});

test('auto-EOI leaves ISR clear', () => {
  const { pic, bus } = setup({ autoEoi: true });
  pic.setIrq(3, true);
  pic.setIrq(4, true);
  assert.equal(pic.acknowledge(), 0x33);
  bus.write(0x20, 1, 0x0b);
  assert.equal(bus.read(0x20, 1), 0x00);
  assert.equal(pic.acknowledge(), 0x34); // no EOI needed
});

test('rotation: rotate on non-specific EOI makes the served level lowest', () => {
  const { pic, bus } = setup();
  pic.setIrq(3, true);
  assert.equal(pic.acknowledge(), 0x33);
  bus.write(0x20, 1, 0xa0); // rotate on non-specific EOI: IR3 becomes lowest, IR4 highest
  pic.setIrq(1, true);
  pic.setIrq(5, true);
  assert.equal(pic.acknowledge(), 0x35);
  bus.write(0x20, 1, 0xc7); // set priority: IR7 lowest again
  bus.write(0x20, 1, 0x20);
  assert.equal(pic.acknowledge(), 0x31);
});

test('poll mode returns 0x80|level and acknowledges', () => {
  const { pic, bus } = setup();
  pic.setIrq(6, true);
  bus.write(0x20, 1, 0x0c); // OCW3 poll
  assert.equal(bus.read(0x20, 1), 0x86);
  assert.equal(pic.hasInterrupt(), false);
  bus.write(0x20, 1, 0x0b);
  assert.equal(bus.read(0x20, 1), 0x40);
  bus.write(0x20, 1, 0x0c);
  assert.equal(bus.read(0x20, 1), 0x00);
});

test('special mask mode lets lower levels through while a higher one is in service', () => {
  const { pic, bus } = setup();
  pic.setIrq(1, true);
  assert.equal(pic.acknowledge(), 0x31);
  pic.setIrq(5, true);
  assert.equal(pic.hasInterrupt(), false);
  bus.write(0x21, 1, 0x02); // mask the in-service IR1
  bus.write(0x20, 1, 0x68); // OCW3: set special mask mode
  assert.equal(pic.hasInterrupt(), true);
  assert.equal(pic.acknowledge(), 0x35);
});

test('notify is called when INTR goes high', () => {
  const { pic } = setup();
  let calls = 0;
  pic.notify = () => { calls++; };
  pic.setIrq(4, true);
  assert.equal(calls, 1);
  assert.equal(pic.intr, true);
});

test('saveState/loadState round-trips through JSON', () => {
  const { pic, bus } = setup();
  bus.write(0x4d1, 1, 0x0c);
  pic.setIrq(3, true);
  pic.setIrq(11, true);
  assert.equal(pic.acknowledge(), 0x3b); // the cascade (IR2) outranks IR3
  const json = JSON.parse(JSON.stringify(pic.saveState()));
  const bus2 = new IoBus();
  const p2 = new Pic8259();
  p2.attach(bus2);
  p2.loadState(json);
  assert.deepEqual(p2.saveState(), pic.saveState());
  assert.equal(bus2.read(0x4d1, 1), 0x0c);
  bus2.write(0xa0, 1, 0x20);
  bus2.write(0x20, 1, 0x20);
  assert.equal(p2.acknowledge(), 0x3b); // level IRQ11 still held
  p2.setIrq(11, false);
  bus2.write(0xa0, 1, 0x20);
  bus2.write(0x20, 1, 0x20);
  assert.equal(p2.acknowledge(), 0x33);
  assert.throws(() => p2.loadState({ master: {} }));
  p2.reset();
  assert.equal(p2.hasInterrupt(), false);
  assert.equal(bus2.read(0x21, 1), 0xff);
});
