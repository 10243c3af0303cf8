// Micro benchmark of the x87 unit's common arithmetic: ns per FADD/FMUL/FDIV/FSQRT (register and
// m64 forms) and FLD/FSTP m64, through Fpu.execute with the test harness's host.
//   node dist/test/cpu/fpu/bench.js [iterations]
// Not a test: under `node --test` (which also runs every .js in test/) it does nothing.

import { M, R, Rig, SCR } from './fpuHarness.js';

interface Case {
  name: string;
  cw: number;
  /** Fill the stack: ST(0) and ST(1) for the register forms, the m64 operand at SCR+16. */
  setup(r: Rig): void;
  /** One instruction (executed `n` times). */
  op: [number, number];
  lin?: number;
}

function bench(c: Case, n: number): number {
  const r = new Rig();
  r.cw(c.cw);
  c.setup(r);
  const f = r.fpu;
  const [opc, modrm] = c.op;
  const lin = c.lin ?? 0;
  for (let i = 0; i < 20000; i++) f.execute(opc, modrm, lin, true); // warm up
  r.x(0xdb, 0xe3);
  r.cw(c.cw);
  c.setup(r);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) f.execute(opc, modrm, lin, true);
  const t1 = process.hrtime.bigint();
  return Number(t1 - t0) / n;
}

function main(): void {
  const n = Number(process.argv[2] ?? 2_000_000);
  const two = (a: number, b: number) => (r: Rig): void => { r.ld(b); r.ld(a); r.host.setF64(SCR + 16, b); };
  const cases: Case[] = [];
  for (const [pc, cw] of [['PC=64', 0x037f], ['PC=53', 0x027f]] as const) {
    // operands with full significands so every result is inexact; values stay bounded over the loop
    cases.push({ name: `FADD ST0,ST1   ${pc}`, cw, setup: two(1.2345678901234567, 1e-9 / 3), op: [0xd8, R(0, 1)] });
    cases.push({ name: `FMUL ST0,ST1   ${pc}`, cw, setup: two(1.2345678901234567, 1 - 1e-9 / 3), op: [0xd8, R(1, 1)] });
    cases.push({ name: `FDIV ST0,ST1   ${pc}`, cw, setup: two(1.2345678901234567, 1 + 1e-9 / 3), op: [0xd8, R(6, 1)] });
    cases.push({ name: `FADD m64       ${pc}`, cw, setup: two(1.2345678901234567, 1e-9 / 3), op: [0xdc, M(0)], lin: SCR + 16 });
    cases.push({ name: `FMUL m64       ${pc}`, cw, setup: two(1.2345678901234567, 1 - 1e-9 / 3), op: [0xdc, M(1)], lin: SCR + 16 });
    cases.push({ name: `FDIV m64       ${pc}`, cw, setup: two(1.2345678901234567, 1 + 1e-9 / 3), op: [0xdc, M(6)], lin: SCR + 16 });
    cases.push({ name: `FSQRT          ${pc}`, cw, setup: two(1.2345678901234567, 0), op: [0xd9, 0xfa] });
  }
  console.log(`x87 micro benchmark, ${n} instructions per case (ns per instruction, best of 5)`);
  for (const c of cases) {
    const t = Math.min(bench(c, n), bench(c, n), bench(c, n), bench(c, n), bench(c, n));
    console.log(`  ${c.name}  ${t.toFixed(1).padStart(7)} ns`);
  }
  // FSQRT then FMUL ST0,ST0: keeps a general operand (FSQRT alone converges to 1.0)
  for (const [pc, cw] of [['PC=64', 0x037f], ['PC=53', 0x027f]] as const) {
    const r = new Rig();
    r.cw(cw);
    r.ld(1.2345678901234567);
    const f = r.fpu;
    const times: number[] = [];
    for (let k = 0; k < 5; k++) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) { f.execute(0xd9, 0xfa, 0, true); f.execute(0xd8, R(1, 0), 0, true); }
      times.push(Number(process.hrtime.bigint() - t0) / n);
    }
    console.log(`  FSQRT+FMUL pair ${pc}  ${Math.min(...times).toFixed(1).padStart(7)} ns per pair`);
  }
  // FLD m64 + FSTP m64 pairs: the data movement around the arithmetic
  const r = new Rig();
  r.host.setF64(SCR, 1.2345678901234567);
  const f = r.fpu;
  const times: number[] = [];
  for (let k = 0; k < 5; k++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) { f.execute(0xdd, M(0), SCR, true); f.execute(0xdd, M(3), SCR + 8, true); }
    times.push(Number(process.hrtime.bigint() - t0) / (2 * n));
  }
  console.log(`  FLD/FSTP m64 pair     ${times.sort((a, b) => a - b)[1]!.toFixed(1).padStart(7)} ns per instruction`);
}

if (process.env.NODE_TEST_CONTEXT === undefined) main();
