// The local APIC and the I/O APIC on the whole machine: test/devices/asm/apic.asm (a
// self-checking multiboot program, assembled here with nasm) runs deterministic on
// either engine and reports on the debug console: the LAPIC's identity, self-IPIs,
// ISR/TPR priority, the error register, the timer in one-shot, periodic and TSC-deadline
// modes (checked against the TSC to the virtual nanosecond range), the I/O APIC's edge
// (the PIT on pin 2) and level pins (COM1's THRE on pin 4: remote IRR until the EOI,
// masking), the 8259 through LINT0 and with the APIC disabled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Machine } from '../../src/machine/Machine.js';
import type { CpuEngine } from '../../src/machine/cpuEngine.js';
import { HAVE_NASM, NEEDS_NASM } from '../cpu/sysasm.js';
import { VirtualClock } from '../../src/machine/VirtualClock.js';
import { Pic8259 } from '../../src/devices/Pic8259.js';
import { LocalApic, REG_LVT_TIMER, REG_SVR, REG_TIMER_INIT } from '../../src/devices/LocalApic.js';
import { IoApic } from '../../src/devices/IoApic.js';
import { readStateFile, writeStateFile } from '../../src/snapshot/StateFile.js';
import { jmpSelf, multibootKernel } from '../boot/images.js';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/devices/asm/apic.asm');

let image: Uint8Array | null = null;
function program(): Uint8Array {
  if (image === null) {
    const out = join(mkdtempSync(join(tmpdir(), 'tv-apic-')), 'apic.bin');
    execFileSync('nasm', ['-f', 'bin', '-o', out, SRC]);
    image = new Uint8Array(readFileSync(out));
  }
  return image;
}

async function runProgram(cpu: CpuEngine): Promise<{ text: string; exit: string; instructions: number; ns: number }> {
  const m = new Machine({ memoryMiB: 16, kernel: program(), deterministic: true, cpu });
  let text = '';
  m.onDebugOutput = (b) => { text += String.fromCharCode(b); };
  const exit = await m.run();
  return { text, exit: exit.kind, instructions: m.cpu.instructions, ns: m.clock.now() };
}

for (const cpu of ['jit', 'interp'] as const) {
  test(`apic.asm passes every check (${cpu})`, { ...NEEDS_NASM, timeout: 120_000 }, async () => {
    const r = await runProgram(cpu);
    assert.doesNotMatch(r.text, /FAIL|EXCEPTION/, r.text);
    assert.match(r.text, /APIC OK/);
    assert.equal(r.exit, 'poweroff');
  });
}

test('apic.asm runs the same on both engines, to the instruction and the nanosecond', { ...NEEDS_NASM, timeout: 120_000 }, async () => {
  if (!HAVE_NASM) return;
  const a = await runProgram('jit');
  const b = await runProgram('interp');
  assert.deepEqual([a.instructions, a.ns], [b.instructions, b.ns]);
});

test('a snapshot taken while the APIC timer runs periodic restores: the program finishes its checks the same', { ...NEEDS_NASM, timeout: 120_000 }, async () => {
  if (!HAVE_NASM) return;
  const whole = await runProgram('jit');
  const dir = mkdtempSync(join(tmpdir(), 'tv-apic-snap-'));
  try {
    const a = new Machine({ memoryMiB: 16, kernel: program(), deterministic: true });
    let before = '';
    a.onDebugOutput = (b) => { before += String.fromCharCode(b); };
    // 1.7 ms of virtual time: inside the periodic-timer checks (from ~1 ms to ~2.5 ms).
    const at = a.clock.addTimer('test pause', () => { void a.pause(); });
    at.deadline = 1_700_000;
    const runA = a.run();
    while (!a.paused) await new Promise((r) => setTimeout(r, 1));
    await a.saveSnapshot(join(dir, 's.state'), join(dir, 's.mem'));
    const lapic = a.platform.lapic!.saveState() as { lvt: number[]; timerInitial: number; deadline: number | null };
    assert.equal((lapic.lvt[0]! >> 17) & 3, 1, 'the timer is periodic at the snapshot');
    assert.ok(lapic.timerInitial > 0 && lapic.deadline !== null, 'and armed');
    a.stop('snapshot taken');
    await runA;

    const b = await Machine.restore(join(dir, 's.state'), join(dir, 's.mem'));
    let after = '';
    b.onDebugOutput = (c) => { after += String.fromCharCode(c); };
    assert.equal((await b.run()).kind, 'poweroff');
    assert.doesNotMatch(before + after, /FAIL|EXCEPTION/, before + after);
    assert.match(after, /APIC OK/);
    assert.deepEqual([b.cpu.instructions, b.clock.now()], [whole.instructions, whole.ns]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('saved APIC state that does not fit is refused with a clear error, and good state round-trips', () => {
  const clock = new VirtualClock();
  const pic = new Pic8259();
  const lapic = new LocalApic(clock, pic);
  const ioapic = new IoApic(lapic);
  lapic.write(REG_SVR, 4, 0x1ff);
  lapic.write(REG_LVT_TIMER, 4, 0x20031);
  lapic.write(REG_TIMER_INIT, 4, 5000);
  const saved = JSON.parse(JSON.stringify(lapic.saveState())) as Record<string, unknown>;
  const other = new LocalApic(new VirtualClock(), new Pic8259());
  other.loadState(saved);
  assert.deepEqual(other.saveState(), lapic.saveState());
  for (const bad of [null, 7, { ...saved, isr: [1, 2] }, { ...saved, lvt: 'x' }, { ...saved, tpr: 'high' }, { ...saved, timerDone: 1 }, { ...saved, irr: [0, 0, 0, 0, 0, 0, 0, -1] }]) {
    assert.throws(() => other.loadState(bad), (e: Error) => e instanceof TypeError && /^lapic: /.test(e.message), JSON.stringify(bad));
  }
  const io = JSON.parse(JSON.stringify(ioapic.saveState())) as Record<string, unknown>;
  for (const bad of [[], { ...io, lo: [1] }, { ...io, hi: new Array(24).fill(2 ** 33) }, { ...io, lines: null }]) {
    assert.throws(() => new IoApic(lapic).loadState(bad), (e: Error) => e instanceof TypeError && /^ioapic: /.test(e.message), JSON.stringify(bad));
  }
});

test('a TSC deadline centuries away arms nothing (an idle guest is then a dead halt, not a 584-year skip)', () => {
  const clock = new VirtualClock();
  const lapic = new LocalApic(clock, new Pic8259());
  lapic.write(REG_SVR, 4, 0x1ff);
  lapic.write(REG_LVT_TIMER, 4, 0x40032);
  lapic.writeTscDeadline(5000);
  assert.equal(clock.nextDeadline(), 5000);
  lapic.writeTscDeadline(2 ** 64 - 1);
  assert.equal(clock.nextDeadline(), Infinity);
  assert.equal(lapic.tscDeadline, 2 ** 64 - 1, 'the MSR still reads what was written');
});

test('a snapshot from before the APICs (no machine.apic) restores as a machine without them; one with them keeps them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tv-apic-old-'));
  try {
    for (const apic of [false, true]) {
      const m = new Machine({ memoryMiB: 16, pacing: 'fast', kernel: multibootKernel([...jmpSelf]), apic });
      const run = m.run();
      await m.saveSnapshot(join(dir, 's.state'), join(dir, 's.mem'));
      m.stop('snapshot taken');
      await run;
      const payload = readStateFile(join(dir, 's.state')) as { machine: Record<string, unknown> };
      assert.equal(payload.machine['apic'], apic);
      if (!apic) {
        delete payload.machine['apic']; // as written before the APICs existed
        writeStateFile(join(dir, 's.state'), payload);
      }
      const r = await Machine.restore(join(dir, 's.state'), join(dir, 's.mem'));
      assert.equal(r.platform.lapic !== null, apic);
      assert.equal(r.platform.devices.some((d) => d.name === 'ioapic'), apic);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
