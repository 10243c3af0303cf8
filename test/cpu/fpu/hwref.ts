// Cases checked against real x87 hardware: special operands (NaNs, infinities, zeros, denormals,
// pseudo-denormals, unnormals, pseudo-NaNs and -infinities, the range edges) through arithmetic,
// FSQRT/FRNDINT/FXTRACT/FSCALE/FPREM/FPREM1, comparisons, loads and stores, masked and unmasked.
// The results were recorded once on this repository's x86-64 build host with x87ref.c and are
// committed in hwref-expected.txt; hwref.test.ts replays every case through the unit.
//
//   node dist/test/cpu/fpu/hwref.js     re-record (compiles x87ref.c with cc; x86-64 only)
//
// The case list must not change without re-recording: the data file carries a hash of it.
// The transcendentals (not exactly rounded on any hardware) are compared within one ulp, their
// status words but for C1 exactly. Left out on purpose: unmasked #IA in FCOM/FCOMI/FTST (Intel
// documents the condition codes and flags as left alone, the AMD host sets them to "unordered").

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../harness.js';

export type Img = [number, number, number];

export const CHK_MEM = 1;
export const CHK_EFLAGS = 2;
/** Register results within one ulp of the hardware's, C1 not compared (transcendentals). */
export const CHK_APPROX = 4;

export interface HwCase {
  /** x87 instructions as (escape opcode, ModRM) pairs; memory forms use ModRM r/m 111 with mod 00. */
  code: number[];
  cw: number;
  /** ST(0), ST(1), ST(2) as far as loaded. */
  regs: Img[];
  /** The 16 bytes at the memory operand. */
  mem: number[];
  /** CHK_* bits: also compare the memory operand / EFLAGS. */
  check: number;
}

const h = (v: number, n: number): string => (v >>> 0).toString(16).padStart(n, '0');
export const imgStr = (v: Img): string => `${h(v[0], 4)}:${h(v[1], 8)}:${h(v[2], 8)}`;

// ---------------------------------------------------------------- values

const V = {
  z: [0x0000, 0, 0], nz: [0x8000, 0, 0], one: [0x3fff, 0x80000000, 0], none: [0xbfff, 0x80000000, 0],
  three: [0x4000, 0xc0000000, 0], x1: [0x3fff, 0x80000000, 1], tenth: [0xbffb, 0xcccccccc, 0xcccccccd],
  max: [0x7ffe, 0xffffffff, 0xffffffff], minn: [0x0001, 0x80000000, 0], den: [0x0000, 0, 1],
  denmax: [0x0000, 0x7fffffff, 0xffffffff], nden: [0x8000, 0, 3], pden: [0x0000, 0x80000000, 0],
  inf: [0x7fff, 0x80000000, 0], ninf: [0xffff, 0x80000000, 0], qnan: [0x7fff, 0xc0000000, 0],
  qnan2: [0xffff, 0xc0000000, 1], snan: [0x7fff, 0xa0000000, 5], nsnan: [0xffff, 0x80000000, 7],
  unn: [0x3fff, 0x40000000, 0], pinf: [0x7fff, 0, 0], pnan: [0x7fff, 0x40000000, 0], pzero: [0x1234, 0, 0],
  big: [0x7ff0, 0xc90fdaa2, 0x2168c235], tiny: [0x0010, 0xc90fdaa2, 0x2168c235],
} as const satisfies Record<string, Img>;

const img = (v: readonly [number, number, number]): Img => [v[0], v[1], v[2]];
const ALL: Img[] = Object.values(V).map(img);
const S12: Img[] = ['z', 'one', 'x1', 'tenth', 'max', 'minn', 'den', 'pden', 'inf', 'qnan', 'snan', 'unn']
  .map((k) => img(V[k as keyof typeof V]));
const S10: Img[] = ['z', 'nz', 'one', 'x1', 'max', 'den', 'inf', 'ninf', 'qnan', 'snan'].map((k) => img(V[k as keyof typeof V]));
const S6: Img[] = ['nz', 'one', 'den', 'inf', 'qnan', 'snan'].map((k) => img(V[k as keyof typeof V]));

/** An 80-bit image of a (finite, non-zero) integer or double value. */
function ofNumber(x: number): Img {
  if (x === 0) return [Object.is(x, -0) ? 0x8000 : 0, 0, 0];
  const s = x < 0 ? 0x8000 : 0;
  let a = Math.abs(x), e = 0;
  while (a >= 2) { a /= 2; e++; }
  while (a < 1) { a *= 2; e--; }
  const hi = Math.floor(a * 2 ** 31), lo = (a * 2 ** 31 - hi) * 2 ** 32;
  return [s | (e + 16383), hi >>> 0, lo >>> 0];
}

const MASKED = 0x037f;
const UNMASKED = 0x0340;

const memOf = (...bytes: number[]): number[] => { const m = new Array<number>(16).fill(0); bytes.forEach((b, i) => { m[i] = b & 0xff; }); return m; };
const m32 = (bits: number): number[] => memOf(bits, bits >>> 8, bits >>> 16, bits >>> 24);
const m64 = (hi: number, lo: number): number[] => [...m32(lo).slice(0, 4), ...m32(hi).slice(0, 4), 0, 0, 0, 0, 0, 0, 0, 0];
const m16 = (v: number): number[] => memOf(v, v >>> 8);
const m80 = (v: Img): number[] => [...m32(v[2]).slice(0, 4), ...m32(v[1]).slice(0, 4), v[0] & 0xff, v[0] >>> 8, 0, 0, 0, 0, 0, 0];

// ---------------------------------------------------------------- the case list

export function hwCases(): HwCase[] {
  const cases: HwCase[] = [];
  const add = (code: number[], cw: number, regs: Img[], mem: number[] = memOf(), check = 0): void => {
    cases.push({ code, cw, regs, mem, check });
  };
  // binary arithmetic, register forms: ST(0) := ST(0) op ST(1)
  for (const op of [0xc1, 0xc9, 0xf1]) for (const a of S12) for (const b of S12) add([0xd8, op], MASKED, [a, b]);
  for (const op of [0xc1, 0xc9, 0xf1]) for (const a of S10) for (const b of S10) add([0xd8, op], UNMASKED, [a, b]);
  for (const op of [0xe1, 0xe9, 0xf9]) for (const a of S10) for (const b of S10) add([0xd8, op], MASKED, [a, b]);
  // exceptions unmasked one at a time (DE, ZE, OE, UE) on the cases that raise them
  for (const cw of [0x037d, 0x037b, 0x0377, 0x036f]) {
    for (const [a, b] of [[V.one, V.den], [V.den, V.z], [V.max, V.max], [V.minn, V.tenth], [V.den, V.tenth], [V.one, V.z], [V.pden, V.three]] as const) {
      for (const op of [0xc1, 0xc9, 0xf1]) add([0xd8, op], cw, [img(a), img(b)]);
    }
  }
  // memory operands: FADD, FDIVR with m32/m64/m16int/m32int
  const mems: Array<[number, number[]]> = [
    [0xdc, m64(0, 0)], [0xdc, m64(0x80000000, 0)], [0xdc, m64(0x3ff00000, 0)], [0xdc, m64(0, 1)], [0xdc, m64(0x800fffff, 0xffffffff)],
    [0xdc, m64(0x7ff00000, 1)], [0xdc, m64(0xfff80000, 0x1234)], [0xdc, m64(0x7ff00000, 0)], [0xdc, m64(0x7fefffff, 0xffffffff)],
    [0xd8, m32(0)], [0xd8, m32(1)], [0xd8, m32(0x7f800001)], [0xd8, m32(0xffc00123)], [0xd8, m32(0x3f800000)], [0xd8, m32(0x807fffff)],
    [0xde, m16(0)], [0xde, m16(0x8000)], [0xda, m32(0)], [0xda, m32(0xffffffff)], [0xda, m32(0x7fffffff)],
  ];
  for (const cw of [MASKED, UNMASKED]) {
    for (const a of [V.one, V.z, V.qnan, V.den, V.inf]) {
      for (const [opc, mem] of mems) for (const reg of [0, 7]) add([opc, (reg << 3) | 7], cw, [img(a)], mem);
    }
  }
  // one-operand instructions: FSQRT FRNDINT FXTRACT FXAM FTST FABS FCHS (FTST not with #IA unmasked)
  for (const cw of [MASKED, UNMASKED]) {
    for (const a of ALL) for (const op of [0xfa, 0xfc, 0xf4, 0xe5, 0xe4, 0xe1, 0xe0]) add([0xd9, op], op === 0xe4 ? cw | 1 : cw, [a]);
  }
  for (let rc = 0; rc < 4; rc++) {
    for (const x of [0.5, 1.5, 2.5, -2.5, -0.5, 1e-30, -1e-30, 2 ** 62 + 0.5, 4503599627370495.5]) add([0xd9, 0xfc], MASKED | (rc << 10), [ofNumber(x)]);
    add([0xd9, 0xfc], MASKED | (rc << 10), [[0x403d, 0x80000000, 1]]);
    add([0xd9, 0xfc], MASKED | (rc << 10), [[0xbffe, 0xffffffff, 0xffffffff]]);
  }
  // FPREM, FPREM1: special operands, then exponent differences around 63/64 and far beyond
  for (const op of [0xf8, 0xf5]) {
    for (const a of S12) for (const b of S12) add([0xd9, op], MASKED, [a, b]);
    for (const k of [0, 1, 31, 32, 62, 63, 64, 65, 95, 96, 127, 128, 1000, 16000, 32000]) {
      for (const [sa, sb] of [[0, 0], [0x8000, 0], [0, 0x8000]]) {
        const e = 16383 + k - 16000 * Math.floor(k / 16001);
        const a: Img = [sa | Math.min(e, 0x7ffe), 0xb504f333, 0xf9de6484];
        for (const b of [[0x4000, 0xc90fdaa2, 0x2168c235], [0x4000, 0xc0000000, 0], [0x0001, 0xc0000000, 1]] as Img[]) {
          add([0xd9, op], MASKED, [a, [b[0] | sb, b[1], b[2]]]);
        }
      }
    }
    add([0xd9, op], 0x036f, [[0x0001, 0xc0000000, 0], [0x0001, 0x80000000, 0]]); // a tiny exact remainder, UE unmasked
  }
  // FSCALE
  const scales = [0, 0.75, -0.75, 63, 16383, -16382, 16400, -16450, 24576, -24576, 40000, -40000, 1e10].map(ofNumber);
  scales.push(img(V.inf), img(V.ninf), img(V.den));
  for (const cw of [MASKED, UNMASKED]) {
    for (const a of [V.one, V.z, V.inf, V.den, V.pden, V.max, V.x1]) for (const s of scales) add([0xd9, 0xfd], cw, [img(a), s]);
  }
  // comparisons (not with #IA unmasked: see above)
  for (const [opc, op, check, set] of [
    [0xd8, 0xd1, 0, S12], [0xdb, 0xf1, CHK_EFLAGS, S12], [0xdd, 0xe1, 0, S10], [0xdb, 0xe9, CHK_EFLAGS, S10],
    [0xde, 0xd9, 0, S6], [0xdf, 0xf1, CHK_EFLAGS, S6],
  ] as Array<[number, number, number, Img[]]>) {
    for (const a of set) for (const b of set) add([opc, op], MASKED, [a, b], memOf(), check);
    for (const a of [V.den, V.one, V.pden]) for (const b of [V.den, V.one, V.minn]) add([opc, op], 0x037d, [img(a), img(b)], memOf(), check);
  }
  // stores: every class to every format, masked and unmasked; rounding edges per RC
  const fill = memOf(0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa);
  const floatStores: Array<[number, number]> = [[0xd9, 0x17], [0xdd, 0x17]];
  const intStores: Array<[number, number]> = [[0xdf, 0x17], [0xdb, 0x17], [0xdf, 0x3f], [0xdf, 0x37], [0xdb, 0x0f], [0xdd, 0x0f]];
  for (const v of ALL) {
    for (const [opc, modrm] of [...floatStores, ...intStores, [0xdb, 0x3f]] as Array<[number, number]>) {
      for (const cw of [MASKED, UNMASKED]) add([opc, modrm], cw, [v], fill, CHK_MEM);
    }
  }
  const floatEdges: Img[] = [
    [0x3c00, 0xffffffff, 0xfffffff0], [0x3c00, 0x80000000, 0], [0x3bff, 0x80000000, 1], [0x3bcc, 0x80000000, 0], [0x3bcc, 0x80000000, 1],
    [0x3f80, 0xffffffff, 0xc0000000], [0x3f6a, 0xc0000000, 0], [0x407e, 0xffffff80, 0], [0x407e, 0xffffff7f, 0xffffffff],
    [0x43fe, 0xfffffffc, 0], [0xc3fe, 0xfffffbff, 0xffffffff], [0x3ffb, 0xcccccccc, 0xcccccccd],
  ];
  const intEdges: Img[] = [
    ...[2.5, -2.5, 0.5, -0.5, 1.5 * 2 ** 31, 2 ** 63, -(2 ** 63), 32767.5, -32768.5, -32768.75, 2 ** 31 - 0.5, -(2 ** 31) - 0.5, 999999999999999999, 1e18, 12.5].map(ofNumber),
    [0x403e, 0xffffffff, 0xffffffff], [0xc03e, 0x80000000, 1],
  ];
  for (let k = 0; k < 5; k++) {
    const cw = k < 4 ? MASKED | (k << 10) : UNMASKED;
    for (const v of floatEdges) for (const [opc, modrm] of floatStores) add([opc, modrm], cw, [v], fill, CHK_MEM);
    for (const v of intEdges) for (const [opc, modrm] of intStores) add([opc, modrm], cw, [v], fill, CHK_MEM);
  }
  // loads
  const loads: Array<[number, number, number[]]> = [
    [0xd9, 0x07, m32(0x00000001)], [0xd9, 0x07, m32(0x7f800001)], [0xd9, 0x07, m32(0xffc00001)], [0xd9, 0x07, m32(0x80400000)], [0xd9, 0x07, m32(0x3fc00000)],
    [0xdd, 0x07, m64(0, 1)], [0xdd, 0x07, m64(0x7ff00000, 1)], [0xdd, 0x07, m64(0x7ff80000, 0xabc)], [0xdd, 0x07, m64(0x800fffff, 0xffffffff)], [0xdd, 0x07, m64(0xfff00000, 0)],
    [0xdf, 0x07, m16(0x8000)], [0xdb, 0x07, m32(0x80000000)], [0xdf, 0x2f, m64(0x80000000, 0)], [0xdf, 0x2f, m64(0x7fffffff, 0xffffffff)], [0xdf, 0x2f, m64(0xffffffff, 0xfffffffe)],
    [0xdf, 0x27, [0x78, 0x56, 0x34, 0x12, 0x90, 0x78, 0x56, 0x34, 0x12, 0x80, 0, 0, 0, 0, 0, 0]], [0xdf, 0x27, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0]],
    [0xdb, 0x2f, m80([0x7fff, 0xa0000000, 0])], [0xdb, 0x2f, m80([0x3fff, 0x40000000, 0])], [0xdb, 0x2f, m80([0, 0x80000000, 0])],
  ];
  for (const cw of [MASKED, UNMASKED]) for (const [opc, modrm, mem] of loads) add([opc, modrm], cw, [img(V.three)], mem);
  // transcendentals on ordinary arguments (the special operands are exact cases above and in
  // transcendental.test.ts): FSIN FCOS FSINCOS FPTAN F2XM1 FYL2X FYL2XP1 FPATAN
  let seed = 0x51ed270b;
  const rnd = (emin: number, emax: number, signed: boolean): Img => {
    seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
    const a = seed >>> 0;
    seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
    const b = seed >>> 0;
    return [(signed && (a & 1) !== 0 ? 0x8000 : 0) | (16383 + emin + (a >>> 8) % (emax - emin + 1)), (b | 0x80000000) >>> 0, (a ^ b) >>> 0];
  };
  for (let i = 0; i < 24; i++) {
    for (const op of [0xfe, 0xff, 0xfb, 0xf2]) add([0xd9, op], MASKED, [rnd(i < 16 ? -8 : 20, i < 16 ? 6 : 62, true)], memOf(), CHK_APPROX);
    add([0xd9, 0xf0], MASKED, [rnd(-40, -1, true)], memOf(), CHK_APPROX);
    add([0xd9, 0xf1], MASKED, [rnd(-200, 200, false), rnd(-4, 4, true)], memOf(), CHK_APPROX);
    add([0xd9, 0xf9], MASKED, [rnd(-40, -3, true), rnd(-4, 4, true)], memOf(), CHK_APPROX);
    add([0xd9, 0xf3], MASKED, [rnd(-8, 8, true), rnd(-8, 8, true)], memOf(), CHK_APPROX);
  }
  // empty registers: stack underflow, masked and unmasked
  for (const cw of [MASKED, UNMASKED]) {
    for (const code of [[0xd8, 0xc1], [0xd9, 0xfa], [0xd9, 0xf8], [0xd9, 0xfd], [0xd8, 0xd1], [0xdb, 0xf1], [0xdd, 0x17], [0xdf, 0x3f], [0xd9, 0xf4], [0xd9, 0xc9]]) {
      add(code, cw, [img(V.one)], memOf(0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa), CHK_MEM);
    }
  }
  return cases;
}

// ---------------------------------------------------------------- recording and the data file

/** The input line of a case for x87ref. */
export function inputLine(c: HwCase): string {
  const regs = [0, 1, 2].map((i) => (i < c.regs.length ? imgStr(c.regs[i]!) : '0000:00000000:00000000'));
  return `${c.code.map((b) => h(b, 2)).join('')} ${h(c.cw, 4)} ${c.regs.length} ${regs.join(' ')} ${c.mem.map((b) => h(b, 2)).join('')}`;
}

/** FNV-1a of the case list's input lines. */
export function caseListHash(cases: HwCase[]): string {
  let x = 0x811c9dc5;
  for (const c of cases) {
    for (const ch of inputLine(c) + '\n') x = Math.imul(x ^ ch.charCodeAt(0), 16777619) >>> 0;
  }
  return h(x, 8);
}

/** The compared part of a state: SW, TW, the images of the non-empty ST(0)..ST(3) ('=' when
 *  ST(i) still holds the value loaded there), and the memory operand / EFLAGS when the case
 *  checks them. */
export function compact(c: HwCase, sw: number, tw: number, st: string[], mem: string, eflags: number): string {
  const top = (sw >>> 11) & 7;
  const regs = st.map((s, i) => {
    if (((tw >>> (2 * ((top + i) & 7))) & 3) === 3) return '-';
    return i < c.regs.length && s === imgStr(c.regs[i]!) ? '=' : s.replaceAll(':', '');
  });
  let out = `${h(sw, 4)} ${h(tw, 4)} ${regs.join(' ')}`;
  if (c.check & CHK_MEM) out += ` ${mem}`;
  if (c.check & CHK_EFLAGS) out += ` ${h(eflags, 4)}`;
  return out;
}

export const DATA_FILE = (): string => join(repoRoot(), 'test', 'cpu', 'fpu', 'hwref-expected.txt');

/** Run every case on the host's x87 and write the data file. */
function record(): void {
  const cases = hwCases();
  const tmp = mkdtempSync(join(tmpdir(), 'x87ref-'));
  try {
    const exe = join(tmp, 'x87ref');
    execFileSync('cc', ['-O1', '-o', exe, join(repoRoot(), 'test', 'cpu', 'fpu', 'x87ref.c')], { stdio: 'inherit' });
    const run = spawnSync(exe, { input: cases.map(inputLine).join('\n') + '\n', maxBuffer: 1 << 28 });
    if (run.status !== 0) throw new Error(`x87ref failed: ${run.stderr.toString()}`);
    const lines = run.stdout.toString().trim().split('\n');
    if (lines.length !== cases.length) throw new Error(`x87ref answered ${lines.length} of ${cases.length} cases`);
    const out = lines.map((l, i) => {
      const [sw, tw, s0, s1, s2, s3, mem, fl] = l.split(' ');
      return compact(cases[i]!, parseInt(sw!, 16), parseInt(tw!, 16), [s0!, s1!, s2!, s3!], mem!, parseInt(fl!, 16));
    });
    writeFileSync(DATA_FILE(), `# x87 results recorded on real hardware by x87ref.c (node dist/test/cpu/fpu/hwref.js); cases ${cases.length} hash ${caseListHash(cases)}\n${out.join('\n')}\n`);
    console.log(`recorded ${cases.length} cases in ${DATA_FILE()}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The recorded results, after checking they belong to the current case list. */
export function recorded(cases: HwCase[]): string[] {
  const [head, ...rest] = readFileSync(DATA_FILE(), 'utf8').trimEnd().split('\n');
  const want = `cases ${cases.length} hash ${caseListHash(cases)}`;
  if (!head!.endsWith(want)) throw new Error(`hwref-expected.txt was recorded for another case list (${head}; now ${want}): re-record with node dist/test/cpu/fpu/hwref.js on an x86-64 host`);
  return rest;
}

if (process.env.NODE_TEST_CONTEXT === undefined && process.argv[1]?.endsWith('hwref.js')) record();
