import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IoBus } from '../../src/machine/IoBus.js';
import { VirtualClock } from '../../src/machine/VirtualClock.js';
import { AcpiPm, PM_TIMER_HZ } from '../../src/devices/AcpiPm.js';
import { ticksToNs } from '../../src/devices/support.js';
import { clockRunner } from './runClock.js';

function setup() {
  const clock = new VirtualClock();
  const bus = new IoBus();
  let sci = false;
  const pm = new AcpiPm(clock, (l) => { sci = l; });
  pm.attach(bus);
  let powerOffs = 0;
  const sleeps: number[] = [];
  pm.onPowerOff = () => { powerOffs++; };
  pm.onSleep = (t) => sleeps.push(t);
  const runTo = clockRunner(clock);
  return { clock, bus, pm, runTo, sci: () => sci, powerOffs: () => powerOffs, sleeps };
}

test('PM timer counts at 3.579545 MHz, 24 bits, TMR_VAL_EXT off', () => {
  const { bus, runTo } = setup();
  assert.equal(bus.read(0x608, 4), 0);
  runTo(1e9);
  assert.equal(bus.read(0x608, 4), 3579545);
  runTo(1e9 + 1000); // 1 µs = 3.58 ticks
  assert.equal(bus.read(0x608, 4), 3579548);
  runTo(10e9);
  assert.equal(bus.read(0x608, 4), 35795450 - 2 * 0x1000000); // wrapped twice
  const v = bus.read(0x608, 4);
  assert.equal(bus.read(0x608, 1) | (bus.read(0x609, 1) << 8) | (bus.read(0x60a, 1) << 16), v);
  assert.equal(bus.read(0x60b, 1), 0);
  bus.write(0x608, 4, 0); // read-only
  assert.equal(bus.read(0x608, 4), v);
});

test('PM1 control: SCI_EN reads 1; S5 (SLP_TYP 5 + SLP_EN) powers off', () => {
  const { bus, powerOffs, sleeps } = setup();
  assert.equal(bus.read(0x604, 2), 0x0001);
  bus.write(0x604, 2, 0x0000);
  assert.equal(bus.read(0x604, 2), 0x0001);
  // Linux acpi_hw_legacy_sleep: SLP_TYP first, then SLP_TYP | SLP_EN.
  bus.write(0x604, 2, 0x0001 | (5 << 10));
  assert.equal(powerOffs(), 0);
  assert.equal(bus.read(0x604, 2), 0x1401);
  bus.write(0x604, 2, 0x0001 | (5 << 10) | (1 << 13));
  assert.equal(powerOffs(), 1);
  assert.equal(bus.read(0x604, 2), 0x1401); // SLP_EN is write-only
  bus.write(0x605, 1, (1 << 2) | (1 << 5)); // byte write: SLP_TYP 1 + SLP_EN
  assert.deepEqual(sleeps, [1]);
  assert.equal(powerOffs(), 1);
});

test('TMR_STS sets when timer bit 23 flips; SCI on IRQ 9 when TMR_EN; write 1 to clear', () => {
  const { bus, runTo, sci } = setup();
  const flipAt = (k: number): number => ticksToNs(k * (1 << 23), PM_TIMER_HZ); // every 2.34 s
  const flip = flipAt(1);
  runTo(flip - 1);
  assert.equal(bus.read(0x600, 2), 0);
  runTo(flip);
  assert.equal(bus.read(0x600, 2), 0x0001);
  assert.equal(sci(), false); // not enabled
  bus.write(0x600, 2, 0x0001);
  assert.equal(bus.read(0x600, 2), 0);
  bus.write(0x602, 2, 0x0001); // TMR_EN
  assert.equal(bus.read(0x602, 2), 0x0001);
  runTo(flipAt(2) - 1);
  assert.equal(sci(), false);
  runTo(flipAt(2));
  assert.equal(sci(), true);
  bus.write(0x600, 2, 0x0001);
  assert.equal(sci(), false);
  runTo(flipAt(3));
  assert.equal(sci(), true);
  bus.write(0x602, 2, 0x0000); // disabling the event drops the SCI
  assert.equal(sci(), false);
});

test('power button status and enable', () => {
  const { bus, pm, sci } = setup();
  pm.pressPowerButton();
  assert.equal(bus.read(0x600, 2), 0x0100);
  assert.equal(sci(), false);
  bus.write(0x602, 2, 0x0100);
  assert.equal(sci(), true);
  bus.write(0x601, 1, 0x01); // clear PWRBTN_STS through the high byte
  assert.equal(sci(), false);
  assert.equal(bus.read(0x600, 2), 0x0000);
});

test('saveState/loadState and reset', () => {
  const a = setup();
  a.bus.write(0x602, 2, 0x0101);
  a.bus.write(0x604, 2, 5 << 10);
  a.pm.pressPowerButton();
  const clockState = a.clock.saveState();
  const state = JSON.parse(JSON.stringify(a.pm.saveState()));
  const b = setup();
  b.clock.loadState(clockState);
  b.pm.loadState(state);
  assert.deepEqual(b.pm.saveState(), a.pm.saveState());
  assert.equal(b.bus.read(0x600, 2), 0x0100);
  assert.equal(b.bus.read(0x604, 2), 0x1401);
  assert.equal(b.clock.nextDeadline(), ticksToNs(1 << 23, PM_TIMER_HZ));
  assert.throws(() => b.pm.loadState({}));
  b.pm.reset();
  assert.equal(b.bus.read(0x602, 2), 0);
  assert.equal(b.bus.read(0x604, 2), 1);
  assert.equal(b.sci(), false);
});
