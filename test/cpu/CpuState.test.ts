// CPU state as data: stop a self-checking program part-way, carry the CPU state
// through JSON and guest RAM into a fresh CPU, and it finishes exactly as an
// uninterrupted run does.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { makeCpu, programPath, runProgram } from './harness.js';
import { attachX87 } from '../../src/cpu/attachX87.js';
import { loadCpuState, saveCpuState } from '../../src/cpu/CpuState.js';
import { CS } from '../../src/cpu/constants.js';
import type { Cpu } from '../../src/cpu/Cpu.js';
import type { IoBus } from '../../src/machine/IoBus.js';

interface Sink { out: string; exit: number }

function wire(cpu: Cpu, io: IoBus, sink: Sink): void {
  io.register(0xe9, 1, 'debugcon', { read: () => 0xe9, write: (_p, _s, v) => { sink.out += String.fromCharCode(v & 0xff); } });
  io.register(0xf4, 1, 'exit', { read: () => 0xff, write: (_p, _s, v) => { sink.exit = v & 0xff; cpu.requestStop(); } });
}

for (const name of ['paging', 'pae', 'ring3', 'tasks', 'x87', 'strings']) {
  test(`${name}.asm resumes from a mid-run CPU state and finishes like an uninterrupted run`, () => {
    const reference = runProgram(name, { setup: attachX87 });
    assert.equal(reference.exitCode, 0, `${name} must pass on its own`);
    const total = reference.cpu.instructions;
    for (const fraction of [0.3, 0.7]) {
      const first = makeCpu();
      attachX87(first.cpu);
      const sink: Sink = { out: '', exit: -1 };
      wire(first.cpu, first.io, sink);
      first.mem.load(0x10000, new Uint8Array(readFileSync(programPath(name))));
      first.cpu.loadRealSeg(CS, 0x1000);
      first.cpu.eip = 0;
      first.cpu.run(Math.floor(total * fraction));
      assert.equal(sink.exit, -1, 'stopped before the end');
      const state = JSON.parse(JSON.stringify(saveCpuState(first.cpu)));
      const ram = first.mem.u8.slice();

      const second = makeCpu();
      attachX87(second.cpu);
      wire(second.cpu, second.io, sink);
      second.mem.u8.set(ram);
      loadCpuState(second.cpu, state);
      second.cpu.run(50_000_000);
      assert.equal(sink.exit, reference.exitCode, `${name} at ${fraction}`);
      assert.equal(sink.out, reference.output);
      assert.equal(second.cpu.instructions, total);
      assert.deepEqual(Array.from(second.cpu.regs), Array.from(reference.cpu.regs));
    }
  });
}

test('a malformed CPU state is refused before anything changes', () => {
  const { cpu } = makeCpu();
  const good = saveCpuState(cpu);
  const eip = cpu.eip;
  assert.throws(() => loadCpuState(cpu, { ...good, version: 3 }), /version 1 or 2/);
  assert.throws(() => loadCpuState(cpu, { ...good, pdpte: [0, 0] }), /pdpte must be 8 numbers/);
  assert.throws(() => loadCpuState(cpu, { ...good, regs: [1, 2, 3] }), /regs must be 8 numbers/);
  assert.throws(() => loadCpuState(cpu, { ...good, cpl: 7 }), /cpl out of range/);
  assert.throws(() => loadCpuState(cpu, { ...good, segs: good.segs.slice(1) }), /6 segments/);
  assert.equal(cpu.eip, eip);
});

test('a version 1 CPU state (before PAE) loads with EFER and the PDPTE registers cleared', () => {
  const { cpu } = makeCpu();
  const v1 = JSON.parse(JSON.stringify(saveCpuState(cpu))) as Record<string, unknown> & { msr: Record<string, unknown> };
  v1.version = 1;
  delete v1.pdpte;
  delete v1.msr.efer;
  cpu.efer = 0x800;
  cpu.pdpte[0] = 0x1001;
  loadCpuState(cpu, v1);
  assert.equal(cpu.efer, 0);
  assert.deepEqual(Array.from(cpu.pdpte), [0, 0, 0, 0, 0, 0, 0, 0]);
});
