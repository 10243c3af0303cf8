// The machine end to end with small multiboot kernels built in the test: how a run
// ends (ACPI power-off, reset requests, triple fault, dead halt), serial output,
// virtual time skipping on HLT, and the boot-time errors a user sees.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine } from '../../src/machine/Machine.js';
import { BootError } from '../../src/boot/BootError.js';
import { cli, hlt, jmpSelf, movAlImm8, movAxImm16, movDxImm16, multibootKernel as multiboot, outDxAl, outDxAx, powerOff } from '../boot/images.js';

function serialText(m: Machine): { text: () => string } {
  let s = '';
  m.onSerialOutput = (b) => { s += Buffer.from(b).toString('latin1'); };
  return { text: () => s };
}

test('ACPI S5 (SLP_TYP=5 | SLP_EN to PM1a_CNT at 0x604) powers the machine off', async () => {
  const m = new Machine({ memoryMiB: 16, pacing: 'fast', kernel: multiboot([...movDxImm16(0x604), ...movAxImm16((5 << 10) | (1 << 13)), ...outDxAx, ...jmpSelf]) });
  const r = await m.run();
  assert.deepEqual(r, { kind: 'poweroff' });
});

test('COM1 output reaches onSerialOutput', async () => {
  const code: number[] = [...movDxImm16(0x3f8)];
  for (const ch of 'hi\n') code.push(...movAlImm8(ch.charCodeAt(0)), ...outDxAl);
  code.push(...movDxImm16(0x604), ...movAxImm16((5 << 10) | (1 << 13)), ...outDxAx, ...jmpSelf);
  const m = new Machine({ memoryMiB: 16, pacing: 'fast', kernel: multiboot(code) });
  const out = serialText(m);
  const r = await m.run();
  assert.equal(r.kind, 'poweroff');
  assert.equal(out.text(), 'hi\n');
});

test('a reset request ends the run by default and names its source', async () => {
  const m = new Machine({ memoryMiB: 16, pacing: 'fast', kernel: multiboot([...movAlImm8(0xfe), 0xe6, 0x64, ...jmpSelf]) });
  const r = await m.run();
  assert.equal(r.kind, 'reset');
  assert.match((r as { source: string }).source, /0x64/);
});

test('0xCF9 reset and port 0x92 fast reset end the run', async () => {
  for (const [port, value] of [[0xcf9, 0x06], [0x92, 0x01]] as const) {
    const m = new Machine({ memoryMiB: 16, pacing: 'fast', kernel: multiboot([...movDxImm16(port), ...movAlImm8(value), ...outDxAl, ...jmpSelf]) });
    const r = await m.run();
    assert.equal(r.kind, 'reset', `port 0x${port.toString(16)}`);
  }
});

test('--reboot turns a reset into a machine reset that runs the kernel again', async () => {
  // Prints "x" then resets: with reboot on, the second boot prints again; power off after 3.
  const code: number[] = [
    ...movDxImm16(0x3f8), ...movAlImm8(0x78), ...outDxAl,
    ...movAlImm8(0xfe), 0xe6, 0x64, ...jmpSelf,
  ];
  const m = new Machine({ memoryMiB: 16, pacing: 'fast', reboot: true, kernel: multiboot(code) });
  const out = serialText(m);
  const done = m.run();
  const t = setInterval(() => { if (m.resets >= 2) m.stop('test done'); }, 5);
  const r = await done;
  clearInterval(t);
  assert.equal(r.kind, 'stopped');
  assert.ok(m.resets >= 2, `resets: ${m.resets}`);
  // Each boot prints one "x" before it resets.
  assert.match(out.text(), /^x+$/);
  assert.ok(out.text().length >= m.resets, `output ${JSON.stringify(out.text())} after ${m.resets} resets`);
});

test('a triple fault ends the run as a triple fault, not a host exception', async () => {
  // Load an empty IDT, then raise #UD: delivery faults → #DF → faults → shutdown.
  const code = [0x0f, 0x01, 0x1d, ...u32(0x100000 + 48 + 10), 0x0f, 0x0b, 0, 0, 0, 0, 0, 0];
  const m = new Machine({ memoryMiB: 16, pacing: 'fast', kernel: multiboot(code) });
  const r = await m.run();
  assert.equal(r.kind, 'triple-fault');
  // #UD, then #DF when its delivery faults: both counted for --stats.
  assert.equal(m.cpu.excCounts[6], 1);
  assert.equal(m.cpu.excCounts[8], 1);
});

test('HLT with interrupts disabled, or with nothing armed that could interrupt, ends the run as a dead halt that says which', async () => {
  const m = new Machine({ memoryMiB: 16, pacing: 'fast', kernel: multiboot([...cli, ...hlt]) });
  const r = await m.run();
  assert.equal(r.kind, 'dead-halt');
  assert.match(r.kind === 'dead-halt' ? r.detail : '', /interrupts disabled/);
  // Interrupts on, but no timer armed and no input open: nothing can raise one either.
  const idle = await new Machine({ memoryMiB: 16, pacing: 'fast', kernel: multiboot([0xfb, ...hlt]) }).run();
  assert.equal(idle.kind, 'dead-halt');
  assert.match(idle.kind === 'dead-halt' ? idle.detail : '', /no timer armed and no input open/);
});

/**
 * A kernel with IRQ0 (vector 0x20 after PIC init, the only line unmasked) handled by
 * `handler`: it sets up the stack, the PIC, an IDT at 0x2000 and the gate, runs `pit`
 * (PIT programming), then `main`, which is given the code array and its address counter.
 */
function irq0Kernel(pit: number[], main: (a: number[], at: () => number) => void, handler: number[]): Uint8Array {
  const base = 0x100000 + 48;
  const a: number[] = [];
  const at = () => base + a.length;
  a.push(0xbc, ...u32(0x80000)); // mov esp, 0x80000
  // PIC init: ICW1-4 master/slave, vectors 0x20/0x28, unmask IRQ0 only.
  for (const [p, v] of [[0x20, 0x11], [0x21, 0x20], [0x21, 0x04], [0x21, 0x01], [0xa0, 0x11], [0xa1, 0x28], [0xa1, 0x02], [0xa1, 0x01], [0x21, 0xfe], [0xa1, 0xff]]) a.push(...movAlImm8(v!), 0xe6, p!);
  a.push(...pit);
  // IDT at 0x2000: gate 0x20 filled at run time with the handler's address (patched below).
  const patchGate = a.length;
  a.push(0xb8, 0, 0, 0, 0); // mov eax, handler
  a.push(0x66, 0xa3, ...u32(0x2000 + 0x20 * 8)); // mov [gate], ax
  a.push(0x66, 0xc7, 0x05, ...u32(0x2000 + 0x20 * 8 + 2), 0x10, 0x00); // selector 0x10
  a.push(0xc7, 0x05, ...u32(0x2000 + 0x20 * 8 + 4), 0x00, 0x8e, 0x00, 0x00); // type 0x8E00
  a.push(0xc1, 0xe8, 0x10); // shr eax, 16
  a.push(0x66, 0xa3, ...u32(0x2000 + 0x20 * 8 + 6)); // mov [gate+6], ax: offset high
  const lidtAt = a.length;
  a.push(0x0f, 0x01, 0x1d, 0, 0, 0, 0); // lidt [idtr] (patched)
  main(a, at);
  const handlerAt = at();
  a.push(...handler);
  const idtr = at();
  a.push(0xff, 0x07, ...u32(0x2000)); // limit 0x7ff, base 0x2000
  a.splice(patchGate + 1, 4, ...u32(handlerAt));
  a.splice(lidtAt + 3, 4, ...u32(idtr));
  return multiboot(a);
}


/**
 * A kernel that programs the PIT at ~100 Hz and halts between ticks, counting them in an
 * interrupt handler; after 50 ticks (0.5 s of virtual time) it powers off.
 */
function tickerKernel(): Uint8Array {
  // PIT: control 0x34 (ch0, lo/hi, mode 2), divisor 11932.
  const pit = [...movAlImm8(0x34), 0xe6, 0x43, ...movAlImm8(11932 & 0xff), 0xe6, 0x40, ...movAlImm8(11932 >> 8), 0xe6, 0x40];
  return irq0Kernel(pit, (a, at) => {
    // Loop: sti; hlt; cmp [count], 50; jb loop; then power off.
    const loop = at();
    a.push(0xfb, 0xf4, 0x83, 0x3d, ...u32(0x3000), 50, 0x72);
    a.push((loop - (at() + 1)) & 0xff);
    a.push(...powerOff);
  }, [0xff, 0x05, ...u32(0x3000), 0x50, ...movAlImm8(0x20), 0xe6, 0x20, 0x58, 0xcf]); // inc dword [count]; push eax; EOI; pop eax; iret
}

test('a timer that comes due inside a slice ending in HLT wakes the CPU at once (it once slept to the next deadline, or died)', async () => {
  // PIT one-shot (mode 0) of 50 counts (~42 us) on IRQ0, then ~20000 instructions of spin
  // (past the deadline, inside one slice), then HLT. The IRQ0 handler powers off. A loop
  // that idled on the pending interrupt slept until the next deadline (here one 10 s
  // away, armed by the test), or with none ended as a dead halt.
  const pit = [...movAlImm8(0x30), 0xe6, 0x43, ...movAlImm8(50), 0xe6, 0x40, ...movAlImm8(0), 0xe6, 0x40];
  const kernel = irq0Kernel(pit, (a) => {
    a.push(0xfb, 0xb9, ...u32(20000), 0xe2, 0xfe, ...hlt, ...cli, ...hlt); // sti; mov ecx, 20000; loop $; hlt; cli; hlt
  }, powerOff);
  for (const later of [false, true]) {
    for (const pacing of ['fast', 'realtime'] as const) {
      const what = `${pacing}, ${later ? 'a deadline 10 s later' : 'no other deadline'}`;
      const m = new Machine({ memoryMiB: 16, pacing, kernel });
      if (later) m.clock.addTimer('test: a later deadline', () => {}).deadline = 10e9;
      const r = await m.run();
      assert.equal(r.kind, 'poweroff', `${what}: the pending IRQ0 was taken`);
      // The loop never idled: no host sleep (realtime), no jump of virtual time (fast).
      // Realtime virtual time follows the host clock, which a loaded host stretches, so
      // only the fast run's is bounded: it counts the guest's own instructions.
      assert.equal(m.loop.idleSleptMs, 0, `${what}: the loop slept ${m.loop.idleSleptMs} ms`);
      if (pacing === 'fast') assert.ok(m.clock.now() < 5e6, `${what}: virtual time ${m.clock.now()} ns`);
    }
  }
});

test('idle time is skipped: a guest halting between PIT ticks advances virtual time without spinning', async () => {
  const m = new Machine({ memoryMiB: 16, pacing: 'fast', kernel: tickerKernel() });
  const r = await m.run();
  assert.equal(r.kind, 'poweroff');
  const vt = m.clock.now() / 1e9;
  assert.ok(vt >= 0.49 && vt < 0.6, `virtual time ${vt}`);
  // 50 ticks of 10 ms each with HLT in between: far fewer instructions than 0.5 s of busy time.
  assert.ok(m.cpu.instructions < 100_000, `instructions ${m.cpu.instructions}`);
  assert.ok(m.loop.halts >= 45, `halts ${m.loop.halts} vt ${vt} insns ${m.cpu.instructions}`);
});

test('while host I/O is expected (network frames in flight), idle virtual time is not skipped but still passes at host speed', async () => {
  const m = new Machine({ memoryMiB: 16, pacing: 'fast', kernel: tickerKernel() });
  // A source that always expects host work: time must not freeze, or the ticks never come.
  m.ioSources.push({ pendingIo: () => 0, hostActive: () => true });
  const t0 = performance.now();
  // Frozen time would never end the run: a guard against that hang only, not a bound on
  // how fast 0.5 s passes (a loaded host is slower; the kind check below tells).
  const stop = setTimeout(() => m.stop('timeout'), 120_000);
  const r = await m.run();
  clearTimeout(stop);
  const wall = (performance.now() - t0) / 1000;
  assert.equal(r.kind, 'poweroff', 'the ticks came while host I/O was expected');
  const vt = m.clock.now() / 1e9;
  assert.ok(vt >= 0.49 && vt < 0.6, `virtual time ${vt}`);
  assert.ok(wall >= 0.4, `0.5 s of idle virtual time took ${wall.toFixed(3)} s of host time, not skipped`);
});

test('boot-time errors are clear: not a kernel, too little memory', () => {
  assert.throws(() => new Machine({ memoryMiB: 16, kernel: new Uint8Array(1024) }), BootError);
  assert.throws(() => new Machine({ memoryMiB: 1, kernel: new Uint8Array(1024) }), /memory must be/);
});

function u32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}
