import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IoBus } from '../../src/machine/IoBus.js';
import { VirtualClock } from '../../src/machine/VirtualClock.js';
import { Pit8254, PIT_HZ } from '../../src/devices/Pit8254.js';
import { SystemControlPortB } from '../../src/devices/SystemControlPortB.js';
import { ticksToNs, nsToTicks } from '../../src/devices/support.js';
import { clockRunner } from './runClock.js';

function setup() {
  const clock = new VirtualClock();
  const bus = new IoBus();
  const edges: number[] = [];
  const levels: boolean[] = [];
  let level = false;
  const pit = new Pit8254(clock, (l) => {
    if (l && !level) edges.push(clock.now());
    level = l;
    levels.push(l);
  });
  const port61 = new SystemControlPortB(pit);
  pit.attach(bus);
  port61.attach(bus);
  /** Run the clock like the machine's loop does, up to `ns`. */
  const runTo = clockRunner(clock);
  return { clock, bus, pit, port61, edges, levels, runTo };
}

/** ns at which `k` PIT ticks have elapsed since `t0`. */
const at = (t0: number, k: number): number => t0 + ticksToNs(k, PIT_HZ);

test('tick conversion is exact at the PIT rate', () => {
  assert.equal(ticksToNs(1, PIT_HZ), 839); // 838.095... ns rounded up
  assert.equal(nsToTicks(838, PIT_HZ), 0);
  assert.equal(nsToTicks(839, PIT_HZ), 1);
  assert.equal(nsToTicks(1e9, PIT_HZ), PIT_HZ);
  assert.equal(ticksToNs(PIT_HZ * 3600, PIT_HZ), 3600e9);
  assert.equal(nsToTicks(3600e9 + 839, PIT_HZ), PIT_HZ * 3600 + 1);
});

test('Linux pit_calibrate_tsc: counter 2 mode 0, 50 ms, polled through port 0x61 bit 5', () => {
  const { clock, bus, runTo } = setup();
  runTo(1_000_000);
  bus.write(0x61, 1, (bus.read(0x61, 1) & ~0x02) | 0x01); // gate high, speaker off
  bus.write(0x43, 1, 0xb0); // counter 2, lohi, mode 0, binary
  assert.equal(bus.read(0x61, 1) & 0x20, 0); // OUT low after the mode 0 control word
  const latch = Math.floor(PIT_HZ / 20); // 59659
  bus.write(0x42, 1, latch & 0xff);
  bus.write(0x42, 1, latch >> 8);
  const t0 = clock.now();
  runTo(at(t0, 1000));
  assert.equal(bus.read(0x61, 1) & 0x20, 0);
  // The live count, LSB then MSB (pit_expect_msb reads it this way).
  const lo = bus.read(0x42, 1);
  const hi = bus.read(0x42, 1);
  assert.equal(lo | (hi << 8), latch - 1000);
  runTo(at(t0, latch - 1));
  assert.equal(bus.read(0x61, 1) & 0x20, 0);
  runTo(at(t0, latch));
  assert.equal(bus.read(0x61, 1) & 0x20, 0x20);
  // The counter wraps past zero and keeps counting; OUT stays high.
  runTo(at(t0, latch + 5));
  bus.write(0x43, 1, 0x80); // latch counter 2
  assert.equal(bus.read(0x42, 1) | (bus.read(0x42, 1) << 8), 0x10000 - 5);
  assert.equal(bus.read(0x61, 1) & 0x20, 0x20);
});

test('gate low suspends mode 0 counting on counter 2', () => {
  const { clock, bus, runTo } = setup();
  bus.write(0x61, 1, 0x01);
  bus.write(0x43, 1, 0xb0);
  bus.write(0x42, 1, 0x00);
  bus.write(0x42, 1, 0x10); // 4096
  const t0 = clock.now();
  runTo(at(t0, 96));
  bus.write(0x61, 1, 0x00); // gate low at 96 ticks
  runTo(at(t0, 5000));
  bus.write(0x43, 1, 0x80);
  assert.equal(bus.read(0x42, 1) | (bus.read(0x42, 1) << 8), 4000);
  assert.equal(bus.read(0x61, 1) & 0x20, 0);
  bus.write(0x61, 1, 0x01);
  const t1 = clock.now();
  runTo(at(t1, 4000));
  assert.equal(bus.read(0x61, 1) & 0x21, 0x21);
});

test('mode 2 on counter 0: IRQ0 rising edge every N ticks, count reads N..1', () => {
  const { clock, bus, edges, runTo } = setup();
  bus.write(0x43, 1, 0x34); // counter 0, lohi, mode 2
  bus.write(0x40, 1, 1193 & 0xff);
  bus.write(0x40, 1, 1193 >> 8);
  const t0 = clock.now();
  const before = edges.length;
  runTo(at(t0, 1193 * 5) + 10);
  const got = edges.slice(before);
  assert.deepEqual(got, [1, 2, 3, 4, 5].map((k) => at(t0, 1193 * k)));
  runTo(at(t0, 1193 * 5 + 200));
  bus.write(0x43, 1, 0x00); // latch counter 0 (Linux pit_read)
  assert.equal(bus.read(0x40, 1) | (bus.read(0x40, 1) << 8), 1193 - 200);
  runTo(at(t0, 1193 * 6 - 1));
  bus.write(0x43, 1, 0x00);
  assert.equal(bus.read(0x40, 1) | (bus.read(0x40, 1) << 8), 1);
});

test('mode 0 on counter 0: a single IRQ0 edge at terminal count', () => {
  const { clock, bus, edges, levels, runTo } = setup();
  bus.write(0x43, 1, 0x30);
  assert.equal(levels.at(-1) ?? false, false);
  bus.write(0x40, 1, 0x00);
  bus.write(0x40, 1, 0x01); // 256
  const t0 = clock.now();
  const before = edges.length;
  runTo(at(t0, 256) - 1);
  assert.equal(edges.length, before);
  runTo(at(t0, 256 * 10));
  assert.deepEqual(edges.slice(before), [at(t0, 256)]);
  assert.equal(clock.nextDeadline(), Infinity);
  // Re-writing the count drops OUT and arms a new one-shot.
  bus.write(0x40, 1, 0x10);
  assert.equal(levels.at(-1), false);
  bus.write(0x40, 1, 0x00);
  const t1 = clock.now();
  assert.equal(clock.nextDeadline(), at(t1, 16));
});

test('mode 3 square wave: OUT high for N/2 ticks, low for N/2', () => {
  const { clock, bus, edges, runTo } = setup();
  bus.write(0x61, 1, 0x01);
  bus.write(0x43, 1, 0xb6); // counter 2, lohi, mode 3
  bus.write(0x42, 1, 100);
  bus.write(0x42, 1, 0);
  const t0 = clock.now();
  const out = (): number => bus.read(0x61, 1) & 0x20;
  runTo(at(t0, 49));
  assert.equal(out(), 0x20);
  runTo(at(t0, 50));
  assert.equal(out(), 0);
  runTo(at(t0, 99));
  assert.equal(out(), 0);
  runTo(at(t0, 100));
  assert.equal(out(), 0x20);
  // Counter 0 in mode 3 (as a BIOS sets it up) interrupts once per period.
  bus.write(0x43, 1, 0x36);
  bus.write(0x40, 1, 0);
  bus.write(0x40, 1, 0); // 65536: 18.2 Hz
  const t1 = clock.now();
  const before = edges.length;
  runTo(t1 + 1e9);
  assert.equal(edges.length - before, 18);
  assert.equal(edges[before], at(t1, 65536));
});

test('counter latch freezes the value until both bytes are read; lobyte/hibyte access', () => {
  const { clock, bus, runTo } = setup();
  bus.write(0x43, 1, 0x70); // counter 1, lohi, mode 0
  bus.write(0x41, 1, 0x34);
  bus.write(0x41, 1, 0x12);
  const t0 = clock.now();
  runTo(at(t0, 0x34));
  bus.write(0x43, 1, 0x40); // latch counter 1
  runTo(at(t0, 0x200));
  bus.write(0x43, 1, 0x40); // ignored: already latched
  assert.equal(bus.read(0x41, 1), 0x00);
  assert.equal(bus.read(0x41, 1), 0x12);
  // After the latch is consumed, reads follow the live count.
  assert.equal(bus.read(0x41, 1) | (bus.read(0x41, 1) << 8), 0x1234 - 0x200);
  bus.write(0x43, 1, 0x50); // counter 1, LSB only, mode 0
  bus.write(0x41, 1, 0x80);
  const t1 = clock.now();
  runTo(at(t1, 0x10));
  assert.equal(bus.read(0x41, 1), 0x70);
  assert.equal(bus.read(0x41, 1), 0x70);
  bus.write(0x43, 1, 0x60); // counter 1, MSB only
  bus.write(0x41, 1, 0x02); // 0x200
  const t2 = clock.now();
  runTo(at(t2, 0x101));
  assert.equal(bus.read(0x41, 1), 0x00); // 0x0ff
  bus.write(0x43, 1, 0x40);
  runTo(at(t2, 0x180));
  assert.equal(bus.read(0x41, 1), 0x00); // latched 0x0ff: MSB
});

test('read-back command: status then count; null count until loaded', () => {
  const { clock, bus, runTo } = setup();
  bus.write(0x43, 1, 0x34);
  bus.write(0x43, 1, 0xe2); // read-back: latch count + status of counter 0
  assert.equal(bus.read(0x40, 1), 0xf4); // OUT high, null count, lohi, mode 2, binary
  bus.write(0x40, 1, 0x00);
  bus.write(0x40, 1, 0x20); // 0x2000
  const t0 = clock.now();
  runTo(at(t0, 0x100));
  bus.write(0x43, 1, 0xc2); // latch count and status
  runTo(at(t0, 0x400));
  assert.equal(bus.read(0x40, 1), 0xb4); // OUT high, count loaded
  assert.equal(bus.read(0x40, 1), 0x00);
  assert.equal(bus.read(0x40, 1), 0x1f); // 0x1f00 latched at 0x100 ticks
  // Status only, counters 1 and 2 (mode 0, OUT low after control word).
  bus.write(0x43, 1, 0xb0);
  bus.write(0x43, 1, 0xec); // read-back: status only, counters 1 and 2
  assert.equal(bus.read(0x42, 1), 0x70);
});

test('BCD counting', () => {
  const { clock, bus, runTo } = setup();
  bus.write(0x43, 1, 0x71); // counter 1, lohi, mode 0, BCD
  bus.write(0x41, 1, 0x00);
  bus.write(0x41, 1, 0x10); // 1000 decimal
  const t0 = clock.now();
  runTo(at(t0, 1));
  bus.write(0x43, 1, 0x40);
  assert.equal(bus.read(0x41, 1), 0x99);
  assert.equal(bus.read(0x41, 1), 0x09);
  runTo(at(t0, 1001));
  bus.write(0x43, 1, 0x40);
  assert.equal(bus.read(0x41, 1), 0x99);
  assert.equal(bus.read(0x41, 1), 0x99); // wrapped to 9999
});

test('mode 1 one-shot is triggered by the gate on counter 2', () => {
  const { clock, bus, runTo } = setup();
  bus.write(0x43, 1, 0xb2); // counter 2, lohi, mode 1
  bus.write(0x42, 1, 10);
  bus.write(0x42, 1, 0);
  assert.equal(bus.read(0x61, 1) & 0x20, 0x20);
  bus.write(0x61, 1, 0x01); // trigger
  const t0 = clock.now();
  assert.equal(bus.read(0x61, 1) & 0x20, 0);
  runTo(at(t0, 10));
  assert.equal(bus.read(0x61, 1) & 0x20, 0x20);
});

test('port 0x61: refresh bit toggles, low bits read back', () => {
  const { bus } = setup();
  bus.write(0x61, 1, 0x0f);
  const a = bus.read(0x61, 1);
  const b = bus.read(0x61, 1);
  assert.equal(a & 0x0f, 0x0f);
  assert.equal((a ^ b) & 0x10, 0x10);
  assert.equal(a & 0xc0, 0);
});

test('saveState/loadState: a restored PIT keeps its phase and re-arms IRQ0', () => {
  const a = setup();
  a.bus.write(0x43, 1, 0x34);
  a.bus.write(0x40, 1, 100);
  a.bus.write(0x40, 1, 0);
  const t0 = a.clock.now();
  a.runTo(at(t0, 250));
  const clockState = a.clock.saveState();
  const state = JSON.parse(JSON.stringify(a.pit.saveState()));
  const b = setup();
  b.clock.loadState(clockState);
  b.pit.loadState(state);
  assert.equal(b.clock.nextDeadline(), at(t0, 300));
  b.bus.write(0x43, 1, 0x00);
  assert.equal(b.bus.read(0x40, 1), 50);
  assert.throws(() => b.pit.loadState({ counters: [] }));
  b.pit.reset();
  assert.equal(b.clock.nextDeadline(), Infinity);
});

test('Linux i8253 clockevent oneshot: mode 4, each next_event writes LSB/MSB only', () => {
  const { clock, bus, edges, runTo } = setup();
  bus.write(0x43, 1, 0x38); // pit_set_oneshot: counter 0, lohi, mode 4
  const before = edges.length;
  bus.write(0x40, 1, 0xe8);
  bus.write(0x40, 1, 0x03); // 1000 ticks
  const t0 = clock.now();
  runTo(at(t0, 999));
  assert.equal(edges.length, before);
  runTo(at(t0, 5000));
  assert.deepEqual(edges.slice(before), [at(t0, 1000)]);
  bus.write(0x40, 1, 100); // next event: 100 ticks, no control word
  bus.write(0x40, 1, 0);
  const t1 = clock.now();
  runTo(at(t1, 100));
  assert.deepEqual(edges.slice(before), [at(t0, 1000), at(t1, 100)]);
  // pit_shutdown: mode 0 with a zero count (65536 ticks).
  bus.write(0x43, 1, 0x30);
  bus.write(0x40, 1, 0);
  bus.write(0x40, 1, 0);
  assert.equal(clock.nextDeadline(), at(clock.now(), 0x10000));
});

test('stepped like the run loop (10 ns per instruction), each period gives exactly one IRQ0 edge', () => {
  // The machine fires due timers after every slice; a deadline that rounds to the tick
  // before it must never be re-armed in place (that once made one edge per instruction).
  // [control word, count, periods stepped, edges expected]: one-shot mode 4 is stepped on
  // well past its single edge, which must not repeat.
  for (const [mode, count, periods, expected] of [[0x34, 15, 200, 200], [0x34, 11932, 3, 3], [0x38, 15, 50, 1], [0x38, 0x7fff, 4, 1]] as const) {
    const { clock, bus, edges } = setup();
    clock.advanceTo(12345);
    bus.write(0x43, 1, mode);
    bus.write(0x40, 1, count & 0xff);
    bus.write(0x40, 1, count >> 8);
    const t0 = clock.now();
    const before = edges.length;
    const end = at(t0, count * periods) + 5;
    for (let t = t0; t < end + 10; t += 10) {
      clock.advanceTo(t);
      clock.runDue();
    }
    assert.equal(edges.length - before, expected, `control 0x${mode.toString(16)} count ${count}`);
  }
});
