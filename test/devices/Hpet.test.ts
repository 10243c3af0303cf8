import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/machine/VirtualClock.js';
import { PhysicalMemory } from '../../src/memory/PhysicalMemory.js';
import {
  Hpet, HPET_BASE, HPET_ENABLE, HPET_LEGACY, HPET_PERIOD_FS, TN_32MODE, TN_INT_ENB, TN_LEVEL, TN_PERIODIC, TN_ROUTE_SHIFT, TN_VAL_SET,
} from '../../src/devices/Hpet.js';
import { clockRunner } from './runClock.js';

const CAP = 0x000, CONFIG = 0x010, STATUS = 0x020, COUNTER = 0x0f0;
const TCFG = (n: number): number => 0x100 + 0x20 * n;
const TCMP = (n: number): number => 0x108 + 0x20 * n;

/** An HPET whose IRQ lines record rising edges (ns) and levels, on a clock driven like the run loop. */
function setup(routeCap = 0) {
  const clock = new VirtualClock();
  const levels = new Map<number, boolean>();
  const edges = new Map<number, number[]>();
  const hpet = new Hpet(clock, (irq, level) => {
    if (level && levels.get(irq) !== true) edges.set(irq, [...(edges.get(irq) ?? []), clock.now()]);
    levels.set(irq, level);
  }, { routeCap });
  const rd = (off: number): number => hpet.read(off, 4);
  const wr = (off: number, v: number): void => hpet.write(off, 4, v);
  const count = (irq: number): number => edges.get(irq)?.length ?? 0;
  return { clock, hpet, rd, wr, levels, edges, count, runTo: clockRunner(clock) };
}

test('capabilities: 3 timers, 64-bit, legacy capable, Intel, 100 MHz; registers map at 0xFED00000', () => {
  const { hpet, rd } = setup();
  assert.equal(rd(CAP), 0x8086a201);
  assert.equal(rd(CAP + 4), HPET_PERIOD_FS);
  assert.equal(HPET_PERIOD_FS, 10_000_000);
  for (let n = 0; n < 3; n++) assert.equal(rd(TCFG(n)) & 0x30, 0x30, 'periodic and 64-bit capable');
  assert.equal(rd(TCMP(0)), 0xffffffff);
  const mem = new PhysicalMemory(1 << 20);
  hpet.attach(mem);
  assert.equal(mem.read32(HPET_BASE) >>> 0, 0x8086a201);
  assert.equal(mem.read32(HPET_BASE + 4), HPET_PERIOD_FS);
});

test('main counter: halted until ENABLE_CNF, then 100 ticks per us of virtual time; halting freezes it', () => {
  const { rd, wr, runTo } = setup();
  runTo(1000);
  assert.equal(rd(COUNTER), 0);
  wr(CONFIG, HPET_ENABLE);
  runTo(1000 + 1e6);
  assert.equal(rd(COUNTER), 100_000);
  runTo(1000 + 1e9 + 5);
  assert.equal(rd(COUNTER), 100_000_000);
  wr(CONFIG, 0);
  runTo(5e9);
  assert.equal(rd(COUNTER), 100_000_000);
  // Written while halted, both halves; the high half carries over from the low one.
  wr(COUNTER, 0xffffff00);
  wr(COUNTER + 4, 7);
  wr(CONFIG, HPET_ENABLE);
  runTo(5e9 + 2560);
  assert.equal(rd(COUNTER), 0);
  assert.equal(rd(COUNTER + 4), 8);
});

test('one-shot comparator: edge interrupt at the match, once; legacy mode routes timer 0 to IRQ0 and 1 to IRQ8', () => {
  const { rd, wr, runTo, count, edges } = setup();
  wr(CONFIG, HPET_ENABLE | HPET_LEGACY);
  wr(TCFG(0), TN_INT_ENB | TN_32MODE); // as Linux's clockevent
  wr(TCMP(0), rd(COUNTER) + 50_000_000); // 0.5 s: far beyond the PIT's 27 ms
  wr(TCFG(1), TN_INT_ENB);
  wr(TCMP(1), 1000);
  wr(TCMP(1) + 4, 0); // 64-bit: the comparator's high half (all ones at reset) too
  runTo(2e9);
  assert.deepEqual(edges.get(0), [500_000_000]);
  assert.deepEqual(edges.get(8), [10_000]);
  assert.equal(rd(STATUS), 0, 'no status in edge mode');
  assert.equal(count(2), 0);
});

test('periodic mode: VAL_SET sets the comparator, the next write the period; missed periods are skipped', () => {
  const { rd, wr, runTo, edges, clock } = setup();
  wr(CONFIG, HPET_LEGACY);
  wr(TCFG(0), TN_INT_ENB | TN_PERIODIC | TN_VAL_SET | TN_32MODE);
  wr(TCMP(0), 1_000_000); // first match at 10 ms
  assert.equal(rd(TCFG(0)) & TN_VAL_SET, 0, 'VAL_SET clears itself');
  wr(TCMP(0), 1_000_000); // period 10 ms (Linux's set_state_periodic writes it twice)
  wr(CONFIG, HPET_ENABLE | HPET_LEGACY);
  runTo(45e6);
  assert.deepEqual(edges.get(0), [10e6, 20e6, 30e6, 40e6]);
  assert.equal(rd(TCMP(0)), 5_000_000, 'the comparator shows the next match');
  // A late look (the CPU ran on past several periods) fires once and moves on past now.
  clock.advanceTo(98e6);
  clock.runDue();
  assert.equal(edges.get(0)!.length, 5);
  assert.equal(rd(TCMP(0)), 10_000_000);
  runTo(100e6);
  assert.equal(edges.get(0)!.length, 6);
});

test('32-bit mode: the comparator matches the low half and a comparator behind the counter waits for the wrap', () => {
  const { rd, wr, runTo, edges } = setup();
  wr(COUNTER, 0xfffff000);
  wr(TCFG(2), TN_INT_ENB | TN_32MODE | (11 << TN_ROUTE_SHIFT));
  wr(TCMP(2) + 4, 0x1234); // ignored in 32-bit mode
  wr(TCMP(2), 0x10);
  assert.equal(rd(TCMP(2) + 4), 0);
  const { count } = { count: () => edges.get(11)?.length ?? 0 };
  wr(CONFIG, HPET_ENABLE);
  runTo(1e6);
  assert.equal(count(), 0, 'route 11 is not in Tn_INT_ROUTE_CAP: no line');
  const b = setup(1 << 11);
  b.wr(COUNTER, 0xfffff000);
  b.wr(TCFG(2), TN_INT_ENB | TN_32MODE | (11 << TN_ROUTE_SHIFT));
  assert.equal((b.rd(TCFG(2)) >> TN_ROUTE_SHIFT) & 0x1f, 11);
  assert.equal(b.rd(TCFG(2) + 4), 1 << 11, 'Tn_INT_ROUTE_CAP');
  b.wr(TCMP(2), 0x10);
  b.wr(CONFIG, HPET_ENABLE);
  b.runTo(1e6);
  assert.deepEqual(b.edges.get(11), [(0x1000 + 0x10) * 10], 'matched after the low half wrapped');
  assert.equal(b.rd(COUNTER + 4), 1);
  // Now behind the counter: the next match is a whole 2^32 ticks (~43 s) later.
  b.runTo(40e9);
  assert.equal(b.edges.get(11)!.length, 1);
  b.runTo(43e9);
  assert.deepEqual(b.edges.get(11), [(0x1000 + 0x10) * 10, (0x1000 + 0x10 + 2 ** 32) * 10]);
  void rd;
});

test('level mode: status bit and line stay up until written 1 to clear; edge mode ignores status', () => {
  const { rd, wr, runTo, levels, count } = setup();
  wr(CONFIG, HPET_ENABLE | HPET_LEGACY);
  wr(TCFG(1), TN_INT_ENB | TN_LEVEL | TN_32MODE);
  wr(TCMP(1), 100);
  runTo(10_000);
  assert.equal(rd(STATUS), 2);
  assert.equal(levels.get(8), true);
  wr(STATUS, 1); // another timer's bit: no effect
  assert.equal(levels.get(8), true);
  wr(STATUS, 2);
  assert.equal(rd(STATUS), 0);
  assert.equal(levels.get(8), false);
  assert.equal(count(8), 1);
  // Interrupt disabled in level mode: the status still comes, the line does not.
  wr(TCFG(1), TN_LEVEL | TN_32MODE);
  wr(TCMP(1), rd(COUNTER) + 100);
  runTo(30_000);
  assert.equal(rd(STATUS), 2);
  assert.equal(levels.get(8), false);
  // Enabling the interrupt with the status pending raises the line; switching to edge drops both.
  wr(TCFG(1), TN_LEVEL | TN_INT_ENB | TN_32MODE);
  assert.equal(levels.get(8), true);
  wr(TCFG(1), TN_INT_ENB | TN_32MODE);
  assert.equal(rd(STATUS), 0);
  assert.equal(levels.get(8), false);
});

test('legacy replacement cuts the PIT and RTC off IRQ0/IRQ8 and gives them back when it ends', () => {
  const { hpet, wr, levels } = setup();
  hpet.pitLine(true);
  hpet.rtcLine(true);
  assert.equal(levels.get(0), true);
  assert.equal(levels.get(8), true);
  wr(CONFIG, HPET_LEGACY);
  assert.equal(levels.get(0), false);
  assert.equal(levels.get(8), false);
  hpet.pitLine(false);
  hpet.pitLine(true);
  assert.equal(levels.get(0), false, 'PIT edges are not delivered');
  wr(CONFIG, 0);
  assert.equal(levels.get(0), true);
  assert.equal(levels.get(8), true);
});

test('disabling the counter stops the timers; re-enabling resumes from the halted count', () => {
  const { rd, wr, runTo, edges } = setup();
  wr(CONFIG, HPET_ENABLE | HPET_LEGACY);
  wr(TCFG(0), TN_INT_ENB | TN_32MODE);
  wr(TCMP(0), 1000); // 10 us
  runTo(5000);
  wr(CONFIG, HPET_LEGACY);
  runTo(1e6);
  assert.equal(edges.get(0), undefined);
  assert.equal(rd(COUNTER), 500);
  wr(CONFIG, HPET_ENABLE | HPET_LEGACY);
  runTo(2e6);
  assert.deepEqual(edges.get(0), [1e6 + 5000]);
});

test('bad accesses: narrow reads take bytes, narrow/unaligned/reserved writes are ignored, nothing throws', () => {
  const { hpet, rd } = setup();
  assert.equal(hpet.read(0x002, 2), 0x8086);
  assert.equal(hpet.read(0x001, 1), 0xa2);
  assert.equal(hpet.read(0x002, 4), 0x96808086, 'unaligned dword spans two registers (caps, period)');
  hpet.write(CONFIG, 1, HPET_ENABLE);
  hpet.write(CONFIG + 1, 4, 0xffffffff);
  assert.equal(rd(CONFIG), 0);
  for (let off = 0; off < 0x400; off += 4) {
    if (off === CONFIG || off === STATUS || off === COUNTER || off === COUNTER + 4 || off >= 0x100) continue;
    const before = rd(off);
    hpet.write(off, 4, 0xffffffff);
    assert.equal(rd(off), before, `register ${off.toString(16)} is read-only`);
  }
  // Timer registers past the last timer, and the caps half of each timer.
  hpet.write(TCFG(5), 4, 0xffffffff);
  assert.equal(rd(TCFG(5)), 0);
  hpet.write(TCFG(0) + 4, 4, 0xffffffff);
  assert.equal(rd(TCFG(0) + 4), 0);
  hpet.write(TCFG(0), 4, 0xffffffff); // every writable bit, FSB and a route it does not have
  assert.equal(rd(TCFG(0)) & ((1 << 14) | (0x1f << TN_ROUTE_SHIFT)), 0);
});

test('save/load: a timer armed mid-count fires at the same instant after a JSON round trip; bad state is refused', () => {
  const a = setup();
  a.wr(CONFIG, HPET_ENABLE | HPET_LEGACY);
  a.wr(TCFG(0), TN_INT_ENB | TN_PERIODIC | TN_VAL_SET | TN_32MODE);
  a.wr(TCMP(0), 300);
  a.wr(TCMP(0), 1000);
  a.wr(TCFG(1), TN_INT_ENB | TN_LEVEL);
  a.wr(TCMP(1), 2 ** 32 - 1);
  a.wr(TCMP(1) + 4, 0xffffffff);
  a.runTo(5000);
  const saved = JSON.parse(JSON.stringify({ clock: a.clock.saveState(), hpet: a.hpet.saveState() }));
  const b = setup();
  b.clock.loadState(saved.clock);
  b.hpet.loadState(saved.hpet);
  assert.equal(b.rd(COUNTER), a.rd(COUNTER));
  assert.equal(b.rd(TCMP(1) + 4), 0xffffffff);
  a.runTo(50_000);
  b.runTo(50_000);
  assert.deepEqual(b.edges.get(0), a.edges.get(0)!.slice(1));
  assert.equal(b.edges.get(0)!.length, 4);
  for (const bad of [null, {}, { ...saved.hpet, timers: [] }, { ...saved.hpet, baseLo: -1 },
    { ...saved.hpet, timers: saved.hpet.timers.map((t: object) => ({ ...t, cmp: '18446744073709551616' })) }]) {
    assert.throws(() => b.hpet.loadState(bad), TypeError);
  }
  assert.equal(b.rd(CONFIG), HPET_ENABLE | HPET_LEGACY, 'a refused state changes nothing');
  b.hpet.reset();
  assert.equal(b.rd(CONFIG), 0);
  assert.equal(b.rd(COUNTER), 0);
  assert.equal(b.clock.nextDeadline(), Infinity);
});
