// Exception reporting (#MF / FERR#), ES and B, waiting vs non-waiting instructions, #UD on reserved
// encodings, FISTTP gating, FIP/FDP/FOP bookkeeping, restartability after a faulting access.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { B, ES, GP, IE, M, MF, PF, PE, R, Rig, SCR, UD, ZE, cwRC } from './fpuHarness.js';

/** Make an unmasked zero-divide pending: 1 / 0 with ZM clear. */
function pendingZE(r: Rig): void {
  r.cw(0x037b);
  r.ld(1); r.ld(0);
  r.x(0xde, R(7, 1)); // FDIVP: #Z unmasked, no result, no pop
}

test('CR0.NE=1: an unmasked exception raises #MF at the next waiting instruction, not before', () => {
  const r = new Rig();
  pendingZE(r);
  assert.equal(r.host.mfCount, 0);
  const sw = r.sw(); // FNSTSW AX does not wait
  assert.equal(sw & (ZE | ES | B), ZE | ES | B);
  const top = r.fpu.top;
  assert.throws(() => r.ld(5), (e) => e === MF);
  assert.equal(r.fpu.top, top); // the waiting instruction did not execute
  assert.throws(() => r.fpu.fwait(), (e) => e === MF);
  assert.equal(r.host.mfCount, 2);
  // non-waiting instructions go ahead
  r.x(0xd9, M(7), SCR); // FNSTCW
  assert.equal(r.host.u16(SCR), 0x037b);
  r.clex(); // FNCLEX
  assert.equal(r.sw() & (ZE | ES | B), 0);
  r.ld(5);
  r.fpu.fwait();
  assert.equal(r.host.mfCount, 2);
});

test('CR0.NE=0: FERR# is signalled once per error and the waiting instruction proceeds', () => {
  const r = new Rig();
  r.host.cr0NE = false;
  pendingZE(r);
  r.ld(5);
  assert.equal(r.host.ferrCount, 1);
  assert.equal(r.st(0), 5);
  r.fpu.fwait();
  r.ld(6);
  assert.equal(r.host.ferrCount, 1);
  assert.equal(r.host.mfCount, 0);
  r.clex();
  r.x(0xdb, 0xe3); // FNINIT
  pendingZE(r);
  r.fpu.fwait();
  assert.equal(r.host.ferrCount, 2);
});

test('FLDCW that unmasks a raised flag makes it pending; masking it again clears ES', () => {
  const r = new Rig();
  r.ld(1); r.ld(3); r.x(0xde, R(7, 1)); // 1/3: PE, masked
  assert.equal(r.sw() & (PE | ES), PE);
  r.cw(0x035f); // PM clear
  assert.equal(r.sw() & (ES | B), ES | B);
  assert.throws(() => r.ld(1), (e) => e === MF);
  r.x(0xd9, M(6), 0x800); // FNSTENV masks every exception
  assert.equal(r.sw() & ES, 0);
  assert.equal(r.host.u16(0x804) & ES, ES); // the stored SW still shows ES
  r.ld(1);
});

test('reserved encodings raise #UD, before any pending #MF', () => {
  const r = new Rig();
  const mem: Array<[number, number]> = [[0xd9, 1], [0xdb, 4], [0xdb, 6], [0xdd, 5], [0xdb, 1], [0xdd, 1], [0xdf, 1]];
  const reg: Array<[number, number]> = [
    [0xd9, 0xd1], [0xd9, 0xd7], [0xd9, 0xe2], [0xd9, 0xe3], [0xd9, 0xe6], [0xd9, 0xe7], [0xd9, 0xef],
    [0xda, 0xe0], [0xda, 0xe8], [0xda, 0xea], [0xda, 0xf0], [0xda, 0xff],
    [0xdb, 0xe5], [0xdb, 0xe6], [0xdb, 0xe7], [0xdb, 0xf8], [0xdb, 0xff],
    [0xdd, 0xf0], [0xdd, 0xff], [0xde, 0xd8], [0xde, 0xda], [0xde, 0xdf],
    [0xdf, 0xe1], [0xdf, 0xe7], [0xdf, 0xf8], [0xdf, 0xff],
  ];
  pendingZE(r);
  for (const [op, reg3] of mem) assert.throws(() => r.x(op, M(reg3), SCR), (e) => e === UD, `${op.toString(16)} /${reg3}`);
  for (const [op, modrm] of reg) assert.throws(() => r.x(op, modrm), (e) => e === UD, `${op.toString(16)} ${modrm.toString(16)}`);
  assert.equal(r.host.mfCount, 0);
  // the FNENI/FNDISI/FNSETPM legacy no-ops are accepted and do not wait
  r.x(0xdb, 0xe0); r.x(0xdb, 0xe1); r.x(0xdb, 0xe4);
  assert.equal(r.host.mfCount, 0);
});

test('FISTTP (SSE3, when enabled) truncates regardless of RC and pops', () => {
  const r = new Rig();
  r.fpu.sse3 = true;
  r.cw(cwRC(2)); // round up: FISTTP must still chop
  r.ld(-2.75); r.x(0xdb, M(1), SCR);
  assert.equal(r.host.dv.getInt32(SCR, true), -2);
  r.ld(3.99); r.x(0xdf, M(1), SCR);
  assert.equal(r.host.dv.getInt16(SCR, true), 3);
  r.ld(-(2 ** 40) - 0.5); r.x(0xdd, M(1), SCR);
  assert.equal(r.host.q(SCR), 'ffffff00:00000000');
  assert.equal(r.host.dv.getBigInt64(SCR, true), -(2n ** 40n));
  assert.equal(r.fpu.top, 0);
  assert.equal(r.sw() & PE, PE);
});

test('FIP/FCS/FOP/FDP/FDS record the last non-control instruction', () => {
  const r = new Rig();
  r.host.instrCs = 0x1b; r.host.instrEip = 0x401000; r.host.instrDs = 0x23;
  r.ld(1); // DD /0 at 0x401000, operand at SCR
  r.host.instrEip = 0x401010;
  r.x(0xd9, 0xe8); // FLD1: register form, FDP/FDS unchanged
  r.host.instrEip = 0x401020; r.host.instrCs = 0x99; r.host.instrDs = 0x77;
  r.x(0xd9, M(7), SCR + 0x20); // FNSTCW: control
  r.x(0xdb, 0xe2); // FNCLEX: control
  r.x(0xd9, M(6), 0x800); // FNSTENV
  assert.equal(r.host.u32(0x80c), 0x401010); // FIP
  assert.equal(r.host.u32(0x810), 0x1b | (0x1e8 << 16)); // FCS | FOP (D9 E8 → 1 E8)
  assert.equal(r.host.u32(0x814), SCR); // FDP from the FLD m64
  assert.equal(r.host.u32(0x818), 0xffff0023); // FDS
});

test('restartable: a faulting store or load leaves the FPU untouched', () => {
  const r = new Rig();
  r.ld(1.25); r.ld(2.5);
  const before = JSON.stringify(r.fpu.saveState());
  r.host.faultFrom = 0x1004;
  assert.throws(() => r.x(0xdd, M(3), 0x1000), (e) => e === PF); // FSTP m64: second half faults
  assert.throws(() => r.x(0xdb, M(5), 0x1000), (e) => e === PF); // FLD m80: exponent word faults
  assert.throws(() => r.x(0xdf, M(6), 0x1000), (e) => e === PF); // FBSTP
  assert.throws(() => r.x(0xdd, M(4), 0x1000 - 100), (e) => e === PF); // FRSTOR: the last register faults
  assert.throws(() => r.x(0xdd, M(6), 0x1000 - 100), (e) => e === PF); // FNSAVE: faults before the re-init
  assert.throws(() => r.fpu.fxrstor(0x1000 - 0x100), (e) => e === PF);
  assert.equal(JSON.stringify(r.fpu.saveState()), before);
  r.host.faultFrom = Infinity;
  assert.equal(r.pop(), 2.5);
});

test('FXSAVE/FXRSTOR: misaligned operand → #GP', () => {
  const r = new Rig();
  assert.throws(() => r.fpu.fxsave(0x1008), (e) => e === GP);
  assert.throws(() => r.fpu.fxrstor(0x1008), (e) => e === GP);
});

test('IE from an SNaN in arithmetic is pending when unmasked and the destination stays', () => {
  const r = new Rig();
  r.cw(0x037e);
  r.ld(3);
  r.host.setU32(SCR + 8, 1); r.host.setU32(SCR + 12, 0x7ff00000);
  r.x(0xdc, M(0), SCR + 8); // FADD m64 SNaN
  assert.equal(r.st(0), 3);
  assert.equal(r.sw() & (IE | ES), IE | ES);
});
