import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IoBus } from '../../src/machine/IoBus.js';
import { I8042 } from '../../src/devices/I8042.js';

function setup() {
  const bus = new IoBus();
  let irq1 = false;
  let irq12 = false;
  const edges = { irq1: 0, irq12: 0 };
  const kbc = new I8042(
    (l) => { if (l && !irq1) edges.irq1++; irq1 = l; },
    (l) => { if (l && !irq12) edges.irq12++; irq12 = l; },
  );
  kbc.attach(bus);
  let resets = 0;
  const a20: boolean[] = [];
  kbc.onReset = () => { resets++; };
  kbc.onA20Change = (on) => a20.push(on);
  const status = (): number => bus.read(0x64, 1);
  const cmd = (v: number): void => bus.write(0x64, 1, v);
  const data = (v: number): void => bus.write(0x60, 1, v);
  /** Read everything in the output buffer, as i8042_flush does. */
  const drain = (): number[] => {
    const got: number[] = [];
    while (status() & 1) got.push(bus.read(0x60, 1));
    return got;
  };
  return { bus, kbc, status, cmd, data, drain, edges, a20, resets: () => resets, irq1: () => irq1, irq12: () => irq12 };
}

test('status at power-on: output buffer empty, unlocked, system flag', () => {
  const { status } = setup();
  assert.equal(status(), 0x14);
});

test('controller self-test 0xAA → 0x55, interface tests → 0x00', () => {
  const { status, cmd, drain } = setup();
  cmd(0xaa);
  assert.equal(status(), 0x1d); // OBF, SYS, last write was a command, unlocked
  assert.deepEqual(drain(), [0x55]);
  cmd(0xab);
  assert.deepEqual(drain(), [0x00]);
  cmd(0xa9);
  assert.deepEqual(drain(), [0x00]);
  assert.equal(status() & 1, 0);
});

test('command byte read/write (0x20/0x60) and interface enable bits', () => {
  const { cmd, data, drain, status } = setup();
  cmd(0x20);
  assert.deepEqual(drain(), [0x65]);
  cmd(0x60);
  data(0x47);
  assert.equal(status() & 0x08, 0); // last write was data
  cmd(0x20);
  assert.deepEqual(drain(), [0x47]);
  cmd(0xad);
  cmd(0xa7);
  cmd(0x20);
  assert.deepEqual(drain(), [0x77]);
  cmd(0xae);
  cmd(0xa8);
  cmd(0x20);
  assert.deepEqual(drain(), [0x47]);
  // Controller RAM beyond the command byte.
  cmd(0x65);
  data(0x9c);
  cmd(0x25);
  assert.deepEqual(drain(), [0x9c]);
});

test('output port: read, A20 through 0xD1 and 0xDD/0xDF', () => {
  const { kbc, cmd, data, drain, a20, resets } = setup();
  cmd(0xd0);
  assert.deepEqual(drain(), [0x03]);
  assert.equal(kbc.a20, true);
  cmd(0xd1);
  data(0x01);
  assert.equal(kbc.a20, false);
  cmd(0xd0);
  assert.deepEqual(drain(), [0x01]);
  cmd(0xdf);
  assert.equal(kbc.a20, true);
  cmd(0xdd);
  assert.deepEqual(a20, [false, true, false]);
  assert.equal(resets(), 0);
});

test('reset pulses: 0xFE and 0xF0-0xFF with bit 0 clear; output port bit 0 = 0', () => {
  const { cmd, data, resets } = setup();
  cmd(0xfe);
  assert.equal(resets(), 1);
  cmd(0xff); // pulses nothing
  assert.equal(resets(), 1);
  cmd(0xf0);
  assert.equal(resets(), 2);
  cmd(0xf3); // bit 0 set: no reset
  assert.equal(resets(), 2);
  cmd(0xd1);
  data(0x02);
  assert.equal(resets(), 3);
});

test('keyboard reset 0xFF answers 0xFA 0xAA, each byte on its own IRQ1 edge', () => {
  const { bus, data, status, edges, irq1 } = setup();
  data(0xff);
  assert.equal(irq1(), true);
  assert.equal(status() & 0x21, 0x01);
  assert.equal(bus.read(0x60, 1), 0xfa);
  assert.equal(irq1(), true);
  assert.equal(bus.read(0x60, 1), 0xaa);
  assert.equal(irq1(), false);
  assert.equal(edges.irq1, 2);
  assert.equal(status() & 1, 0);
});

test('keyboard identify, LEDs, scancode set, echo, typematic, enable, unknown command', () => {
  const { kbc, cmd, data, drain } = setup();
  data(0xf2);
  assert.deepEqual(drain(), [0xfa, 0xab, 0x41]); // translated MF2 ID
  cmd(0x60);
  data(0x25); // translation off
  data(0xf2);
  assert.deepEqual(drain(), [0xfa, 0xab, 0x83]);
  data(0xed);
  data(0x07);
  assert.deepEqual(drain(), [0xfa, 0xfa]);
  assert.equal(kbc.leds, 7);
  data(0xf0);
  data(0x00);
  assert.deepEqual(drain(), [0xfa, 0xfa, 0x02]);
  data(0xf0);
  data(0x01);
  data(0xf0);
  data(0x00);
  assert.deepEqual(drain(), [0xfa, 0xfa, 0xfa, 0xfa, 0x01]);
  data(0xee);
  assert.deepEqual(drain(), [0xee]);
  data(0xf3);
  data(0x20);
  assert.deepEqual(drain(), [0xfa, 0xfa]);
  data(0xf5); // disable: injected keys are dropped
  assert.deepEqual(drain(), [0xfa]);
  kbc.sendKeyboardBytes([0x1e]);
  assert.deepEqual(drain(), []);
  data(0xf4);
  assert.deepEqual(drain(), [0xfa]);
  kbc.sendKeyboardBytes([0x1e]);
  assert.deepEqual(drain(), [0x1e]);
  data(0x12);
  assert.deepEqual(drain(), [0xfe]);
  data(0xfe); // resend: the last byte that was not a resend
  assert.deepEqual(drain(), [0xfa]);
});

test('IRQ1 only when enabled in the command byte; keyboard data held while the interface is disabled', () => {
  const { kbc, bus, cmd, data, drain, irq1 } = setup();
  cmd(0x60);
  data(0x64); // KBDINT off
  kbc.sendKeyboardBytes([0x1e, 0x9e]);
  assert.equal(irq1(), false);
  assert.deepEqual(drain(), [0x1e, 0x9e]);
  cmd(0xad);
  kbc.sendKeyboardBytes([0x1e]);
  assert.equal(bus.read(0x64, 1) & 1, 0);
  cmd(0x60);
  data(0x45); // KBDINT on, interface enabled: the held byte comes through with IRQ1
  assert.equal(irq1(), true);
  assert.deepEqual(drain(), [0x1e]);
  assert.equal(irq1(), false);
});

test('aux port: 0xD3 loop returns the byte on IRQ12 with AUXDATA (Linux i8042_check_aux)', () => {
  const { bus, cmd, data, status, irq12, irq1 } = setup();
  cmd(0xd3);
  data(0x5a);
  assert.equal(status() & 0x21, 0x21); // controller-written aux data bypasses AUXDIS
  assert.equal(irq12(), false); // AUXINT off
  assert.equal(bus.read(0x60, 1), 0x5a);
  cmd(0x60);
  data(0x47); // KBDINT | AUXINT | SYS | XLATE, aux enabled
  cmd(0xd3);
  data(0xa5);
  assert.equal(irq12(), true);
  assert.equal(irq1(), false);
  assert.equal(bus.read(0x60, 1), 0xa5);
  assert.equal(irq12(), false);
});

test('aux port: nothing plugged in, 0xD4 writes answer 0xFE with the timeout bit', () => {
  const { bus, cmd, data, status, irq12 } = setup();
  cmd(0x60);
  data(0x47);
  cmd(0xd4);
  data(0xf2); // psmouse GETID
  assert.equal(irq12(), true);
  assert.equal(status() & 0x61, 0x61);
  assert.equal(bus.read(0x60, 1), 0xfe);
  assert.equal(status() & 0x61, 0x00);
});

test('saveState/loadState round-trips queued bytes and the command byte', () => {
  const a = setup();
  a.cmd(0x60);
  a.data(0x47);
  a.data(0xf2);
  assert.equal(a.bus.read(0x60, 1), 0xfa);
  const state = JSON.parse(JSON.stringify(a.kbc.saveState()));
  const b = setup();
  b.kbc.loadState(state);
  assert.deepEqual(b.kbc.saveState(), a.kbc.saveState());
  assert.deepEqual(b.drain(), [0xab, 0x41]);
  assert.throws(() => b.kbc.loadState({ ram: [] }));
  b.kbc.reset();
  b.cmd(0x20);
  assert.deepEqual(b.drain(), [0x65]);
});
