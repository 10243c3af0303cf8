import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IoBus } from '../../src/machine/IoBus.js';
import { VirtualClock } from '../../src/machine/VirtualClock.js';
import { Rtc146818, type RtcOptions } from '../../src/devices/Rtc146818.js';
import { clockRunner } from './runClock.js';

const MiB = 1024 * 1024;
// Thursday 29 February 2024, 23:59:58 UTC.
const START = Date.UTC(2024, 1, 29, 23, 59, 58);

function setup(opts: Partial<RtcOptions> = {}) {
  const clock = new VirtualClock();
  const bus = new IoBus();
  const irqLog: boolean[] = [];
  let irq = false;
  const rtc = new Rtc146818(clock, (l) => { irq = l; irqLog.push(l); }, { ramSize: 128 * MiB, startTimeMs: START, ...opts });
  rtc.attach(bus);
  const rd = (i: number): number => { bus.write(0x70, 1, i); return bus.read(0x71, 1); };
  const wr = (i: number, v: number): void => { bus.write(0x70, 1, i); bus.write(0x71, 1, v); };
  const runTo = clockRunner(clock);
  return { clock, bus, rtc, rd, wr, runTo, irqLog, irq: () => irq };
}

const timeRegs = (rd: (i: number) => number): number[] => [0, 2, 4, 6, 7, 8, 9, 0x32].map(rd);

test('power-on time in BCD 24h; registers A-D defaults', () => {
  const { rd } = setup();
  assert.deepEqual(timeRegs(rd), [0x58, 0x59, 0x23, 0x05, 0x29, 0x02, 0x24, 0x20]);
  assert.equal(rd(0x0a), 0x26);
  assert.equal(rd(0x0b), 0x02);
  assert.equal(rd(0x0c), 0x00);
  assert.equal(rd(0x0d), 0x80);
});

test('binary and 12-hour formats per register B', () => {
  const { rd, wr } = setup();
  wr(0x0b, 0x06); // binary, 24h
  assert.deepEqual(timeRegs(rd), [58, 59, 23, 5, 29, 2, 24, 20]);
  wr(0x0b, 0x04); // binary, 12h: 23h = 11 PM
  assert.equal(rd(0x04), 0x8b);
  wr(0x0b, 0x00); // BCD, 12h
  assert.equal(rd(0x04), 0x91);
});

test('time advances with the virtual clock across day, month and leap-day boundaries', () => {
  const { rd, runTo } = setup();
  runTo(1e9 - 1);
  assert.equal(rd(0x00), 0x58);
  runTo(1e9);
  assert.equal(rd(0x00), 0x59);
  runTo(2e9);
  assert.deepEqual(timeRegs(rd), [0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x24, 0x20]); // Fri 1 March 2024
  runTo(2e9 + 3600e9 * 25 + 61e9);
  assert.deepEqual(timeRegs(rd), [0x01, 0x01, 0x01, 0x07, 0x02, 0x03, 0x24, 0x20]);
});

test('UIP is set for the 244 µs before each update', () => {
  const { rd, runTo } = setup();
  runTo(1e9 - 244_001);
  assert.equal(rd(0x0a) & 0x80, 0);
  runTo(1e9 - 244_000);
  assert.equal(rd(0x0a), 0xa6);
  assert.equal(rd(0x00), 0x58);
  runTo(1e9);
  assert.equal(rd(0x0a), 0x26);
  assert.equal(rd(0x00), 0x59);
});

test('SET bit stops updates; clearing it runs on from the written time', () => {
  const { rd, wr, runTo } = setup();
  runTo(300e6);
  wr(0x0b, 0x82); // SET
  assert.equal(rd(0x0b), 0x82);
  wr(0x00, 0x10);
  wr(0x02, 0x20);
  wr(0x04, 0x08);
  wr(0x07, 0x15);
  wr(0x08, 0x06);
  wr(0x09, 0x99);
  wr(0x32, 0x19);
  runTo(5.5e9);
  assert.equal(rd(0x00), 0x10);
  assert.equal(rd(0x0a) & 0x80, 0); // no UIP while SET
  wr(0x0b, 0x02);
  assert.deepEqual(timeRegs(rd), [0x10, 0x20, 0x08, 0x05, 0x15, 0x06, 0x99, 0x19]);
  // The update phase is kept: the next update is at 6 s.
  runTo(6e9 - 1);
  assert.equal(rd(0x00), 0x10);
  runTo(6e9);
  // 15 June 1999 was a Tuesday: the update recomputes the day of week.
  assert.deepEqual(timeRegs(rd), [0x11, 0x20, 0x08, 0x03, 0x15, 0x06, 0x99, 0x19]);
});

test('writing a time register while running carries on from the new value', () => {
  const { rd, wr, runTo } = setup();
  wr(0x02, 0x30); // minutes := 30
  assert.equal(rd(0x02), 0x30);
  runTo(1e9);
  assert.equal(rd(0x00), 0x59);
  assert.equal(rd(0x02), 0x30);
  assert.equal(rd(0x04), 0x23);
});

test('periodic interrupt at 1024 Hz on IRQ8, register C flags clear on read', () => {
  const { rd, wr, runTo, irq, irqLog } = setup();
  wr(0x0b, 0x42); // PIE
  runTo(976_562);
  assert.equal(irq(), false);
  runTo(976_563); // 32 cycles of 32.768 kHz = 976.5625 µs
  assert.equal(irq(), true);
  assert.equal(rd(0x0c), 0xc0);
  assert.equal(irq(), false);
  assert.equal(rd(0x0c), 0x00);
  // A handler that reads C each time sees 1024 interrupts per second.
  let count = 0;
  const start = irqLog.length;
  for (let t = 976_563; t <= 1e9 + 976_563; t += 50_000) {
    runTo(t);
    if (irq()) { count++; rd(0x0c); }
  }
  assert.equal(count, 1024);
  assert.ok(irqLog.length > start);
  // Rate 15 (2 Hz).
  wr(0x0a, 0x2f);
  rd(0x0c);
  runTo(1.5e9 - 1);
  assert.equal(irq(), false);
  runTo(1.5e9);
  assert.equal(irq(), true);
});

test('PF is set without PIE but raises no IRQ; UF and AF', () => {
  const { rd, wr, runTo, irq } = setup();
  runTo(1e6);
  assert.equal(rd(0x0c), 0x40); // PF only: no update yet
  runTo(2e6);
  assert.equal(rd(0x0c), 0x40);
  assert.equal(irq(), false);
  // Update-ended interrupt.
  wr(0x0a, 0x20); // no periodic rate
  rd(0x0c);
  wr(0x0b, 0x12); // UIE
  runTo(1e9 - 1);
  assert.equal(irq(), false);
  runTo(1e9);
  assert.equal(irq(), true);
  assert.equal(rd(0x0c), 0x90);
  // Alarm at hh:mm:05 (hours and minutes don't care).
  wr(0x0b, 0x22); // AIE only
  wr(0x01, 0x05);
  wr(0x03, 0xc0);
  wr(0x05, 0xff);
  runTo(7e9 - 1); // 00:00:04
  assert.equal(irq(), false);
  runTo(7e9); // 00:00:05
  assert.equal(irq(), true);
  assert.equal(rd(0x0c), 0xb0); // IRQF, AF, UF (UF flagged even though UIE is off)
});

test('divider reset holds the time; first update 500 ms after it is released', () => {
  const { rd, wr, runTo } = setup();
  runTo(100e6);
  wr(0x0a, 0x70); // DV = 111: divider reset
  runTo(10e9);
  assert.equal(rd(0x00), 0x58);
  wr(0x0a, 0x26);
  runTo(10.5e9 - 1);
  assert.equal(rd(0x00), 0x58);
  runTo(10.5e9);
  assert.equal(rd(0x00), 0x59);
});

test('CMOS memory size fields from the RAM size', () => {
  const { rd } = setup({ ramSize: 128 * MiB, ramAbove4G: 2048 * MiB });
  assert.deepEqual([0x15, 0x16].map(rd), [0x80, 0x02]); // 640 KiB
  assert.deepEqual([0x17, 0x18, 0x30, 0x31].map(rd), [0x00, 0xfc, 0x00, 0xfc]); // capped at 63 MiB
  assert.deepEqual([0x34, 0x35].map(rd), [0x00, 0x07]); // 112 MiB / 64 KiB = 1792
  assert.deepEqual([0x5b, 0x5c, 0x5d].map(rd), [0x00, 0x80, 0x00]); // 2 GiB / 64 KiB = 32768
  const small = setup({ ramSize: 32 * MiB });
  assert.deepEqual([0x17, 0x18, 0x30, 0x31].map(small.rd), [0x00, 0x7c, 0x00, 0x7c]); // 31 MiB
  assert.deepEqual([0x34, 0x35, 0x5b].map(small.rd), [0x00, 0x01, 0x00]); // 16 MiB / 64 KiB = 256
  const tiny = setup({ ramSize: 8 * MiB });
  assert.deepEqual([0x17, 0x18, 0x34, 0x35].map(tiny.rd), [0x00, 0x1c, 0x00, 0x00]); // 7 MiB, none above 16
  // Checksum over 0x10-0x2d.
  let sum = 0;
  for (let i = 0x10; i <= 0x2d; i++) sum += small.rd(i);
  assert.equal((small.rd(0x2e) << 8) | small.rd(0x2f), sum);
});

test('index port: NMI mask bit, shutdown status byte, write-only C/D', () => {
  const { bus, rtc, rd, wr } = setup();
  bus.write(0x70, 1, 0x8f);
  assert.equal(rtc.nmiMasked, true);
  bus.write(0x71, 1, 0x0a);
  assert.equal(rd(0x0f), 0x0a);
  assert.equal(rtc.nmiMasked, false);
  wr(0x0d, 0x00);
  assert.equal(rd(0x0d), 0x80);
  wr(0x50, 0x5a);
  assert.equal(rd(0x50), 0x5a);
  assert.equal(bus.read(0x70, 1), 0xff);
});

test('saveState/loadState keeps time, flags and periodic phase; reset clears enables', () => {
  const a = setup();
  a.wr(0x0b, 0x42);
  a.runTo(1.5e9);
  a.wr(0x0f, 0x05);
  const clockState = a.clock.saveState();
  const state = JSON.parse(JSON.stringify(a.rtc.saveState()));
  const b = setup({ startTimeMs: 0 });
  b.clock.loadState(clockState);
  b.rtc.loadState(state);
  assert.deepEqual(timeRegs(b.rd), timeRegs(a.rd));
  assert.equal(b.rd(0x0f), 0x05);
  assert.equal(b.clock.nextDeadline(), a.clock.nextDeadline());
  assert.equal(b.rd(0x0c), 0xd0);
  assert.throws(() => b.rtc.loadState({ cmos: [1, 2, 3] }));
  b.rtc.reset();
  assert.equal(b.rd(0x0b), 0x02);
  assert.equal(b.rd(0x0f), 0x05);
});

test('constructor accepts the bare RAM size', () => {
  // The host's time when it was made: between the two readings, however long that took.
  const before = Math.floor(Date.now() / 1000);
  const rtc = new Rtc146818(new VirtualClock(), () => {}, 64 * MiB);
  const after = Math.floor(Date.now() / 1000);
  assert.equal(rtc.cmosByte(0x34) | (rtc.cmosByte(0x35) << 8), 768);
  const t = rtc.epochSeconds(); // virtual time has not moved: still the starting second
  assert.ok(t >= before && t <= after, `${t} within ${before}-${after}`);
});
