// What every opcode is, described once (SDM vol. 2D appendix A, the opcode maps, in their
// operand notation): its operands (which say whether a ModRM byte and which immediates
// follow), how it changes control flow, and which arithmetic flags it reads and writes.
// The decoder (decoder.ts) reads the operand formats for the interpreter and the
// translator alike; the translator (jit/) reads the flow kinds and the flag sets for block
// ends and flag liveness. Semantics live in the instruction-group files, not here.
//
// Operand notation (the SDM's): E r/m from ModRM, G the ModRM reg field's register,
// M memory-only r/m, R register-only r/m, S segment register, C/D control/debug register,
// I immediate, J relative offset, O offset of the address size (moffs), A far pointer;
// sizes b byte, w word, z word or dword by operand size, v word or dword (a register or
// r/m, never an immediate here), p far pointer. Fixed registers (AL, eAX, DX...) and 1 are
// written for the reader and carry no bytes.

import { FLAG_AF, FLAG_CF, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_ZF, FLAGS_ARITH } from './constants.js';

// ---- Immediate kinds (bits 1-3 of OP_FORMAT), the ModRM bit, and ModRM without an
// address (MOV to/from CR/DR: the mod bits are ignored, no SIB or displacement follows).
export const FMT_MODRM = 1;
export const FMT_REG_ONLY = 16;
export const IMM_NONE = 0, IMM_B = 1, IMM_W = 2, IMM_Z = 3, IMM_MOFFS = 4, IMM_FAR = 5, IMM_ENTER = 6, IMM_GRP3 = 7;
export const IMM_SHIFT = 1;

// ---- Flow kinds: how an instruction ends (or does not end) a straight run of code.
/** Falls through to the next instruction. */
export const FLOW_NEXT = 0;
/** Unconditional jump to a relative target (the immediate). */
export const FLOW_JMP = 1;
/** Conditional jump to a relative target, or the next instruction. */
export const FLOW_JCC = 2;
/** Call to a relative target; the return lands on the next instruction. */
export const FLOW_CALL = 3;
/** Near return: the target comes from the stack. */
export const FLOW_RET = 4;
/** Jump or call through a register or memory. */
export const FLOW_INDIRECT = 5;
/** Changes what translated code assumes (mode, segments, IF, paging, devices): code after
 *  it is reached through the dispatcher, never straight on. */
export const FLOW_EXIT = 6;
/** No instruction: #UD. */
export const FLOW_UD = 7;

export const F_C = FLAG_CF, F_P = FLAG_PF, F_A = FLAG_AF, F_Z = FLAG_ZF, F_S = FLAG_SF, F_O = FLAG_OF;
export const F_ALL = FLAGS_ARITH;
const F_SZAPC = F_S | F_Z | F_A | F_P | F_C;

/** Operand format per opcode (one-byte map 0x000-0x0FF, 0F map 0x100-0x1FF): FMT_MODRM | imm << IMM_SHIFT. */
export const OP_FORMAT = new Uint8Array(512);
/** Flow kind per opcode and ModRM.reg: index (opcode << 3) | reg. */
export const OP_FLOW = new Uint8Array(512 * 8).fill(FLOW_UD);
/** Arithmetic flags read / written (always, whatever the operands) per opcode and ModRM.reg. */
export const OP_FLAGS_READ = new Uint16Array(512 * 8);
export const OP_FLAGS_WRITTEN = new Uint16Array(512 * 8);
/** Mnemonic per opcode and ModRM.reg, for disassembly in traces and statistics. */
export const OP_NAME: string[] = new Array<string>(512 * 8).fill('(bad)');

/** Flags read by condition code cc (Jcc, SETcc, CMOVcc low nibble). */
export function ccFlags(cc: number): number {
  switch (cc >> 1) {
    case 0: return F_O;
    case 1: return F_C;
    case 2: return F_Z;
    case 3: return F_C | F_Z;
    case 4: return F_S;
    case 5: return F_P;
    case 6: return F_S | F_O;
    default: return F_Z | F_S | F_O;
  }
}

/** The immediate kind an operand list implies. */
function immOf(operands: string): number {
  let kind = IMM_NONE;
  for (const o of operands.split(',')) {
    const k = o === 'Ib' || o === 'Jb' ? IMM_B : o === 'Iw' ? IMM_W : o === 'Iz' || o === 'Jz' ? IMM_Z
      : o === 'Ob' || o === 'Ov' ? IMM_MOFFS : o === 'Ap' ? IMM_FAR : IMM_NONE;
    if (k === IMM_NONE) continue;
    if (kind === IMM_W && k === IMM_B) kind = IMM_ENTER; // ENTER Iw,Ib
    else if (kind !== IMM_NONE) throw new Error(`opcodeInfo: two immediates in ${operands}`);
    else kind = k;
  }
  return kind;
}

/** ModRM operands: one capital of E G M R S C D (V W U: the XMM register forms of G E R) and a
 *  lower-case size (AL, CL, DX are fixed registers). */
function modrmFormat(operands: string): number {
  const ops = operands.split(',').filter((o) => /^[EGMRSCDVWU][a-z]*$/.test(o));
  if (ops.length === 0) return 0;
  return ops.some((o) => /^[EMW]/.test(o)) || !ops.some((o) => /^[RCDU]/.test(o)) ? FMT_MODRM : FMT_MODRM | FMT_REG_ONLY;
}

interface Row {
  name: string;
  operands: string;
  flow?: number;
  read?: number;
  written?: number;
}

/** Describe opcode `op` (0x000-0x1FF); for a group, `reg` is the ModRM.reg it covers (-1: all). */
function def(op: number, row: Row, reg = -1): void {
  const fmt = modrmFormat(row.operands) | (immOf(row.operands) << IMM_SHIFT);
  if (reg < 0 || OP_FORMAT[op] === 0) OP_FORMAT[op] = fmt;
  else if (OP_FORMAT[op] !== fmt) throw new Error(`opcodeInfo: group ${op.toString(16)} mixes formats`);
  for (let r = 0; r < 8; r++) {
    if (reg >= 0 && r !== reg) continue;
    const i = (op << 3) | r;
    OP_FLOW[i] = row.flow ?? FLOW_NEXT;
    OP_FLAGS_READ[i] = row.read ?? 0;
    OP_FLAGS_WRITTEN[i] = row.written ?? 0;
    OP_NAME[i] = row.name;
  }
}

/** A group opcode: one row per ModRM.reg, null where the encoding is undefined. */
function group(op: number, rows: (Row | null)[], imm: number): void {
  OP_FORMAT[op] = FMT_MODRM | (imm << IMM_SHIFT);
  rows.forEach((row, reg) => {
    if (row === null) return;
    const i = (op << 3) | reg;
    OP_FLOW[i] = row.flow ?? FLOW_NEXT;
    OP_FLAGS_READ[i] = row.read ?? 0;
    OP_FLAGS_WRITTEN[i] = row.written ?? 0;
    OP_NAME[i] = row.name;
  });
}

const X = FLOW_EXIT;
const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
const aluRead = (i: number): number => (i === 2 || i === 3 ? F_C : 0);

// ---- One-byte map.
for (let i = 0; i < 8; i++) {
  const b = i << 3, name = ALU[i]!, r = aluRead(i);
  def(b + 0, { name, operands: 'Eb,Gb', read: r, written: F_ALL });
  def(b + 1, { name, operands: 'Ev,Gv', read: r, written: F_ALL });
  def(b + 2, { name, operands: 'Gb,Eb', read: r, written: F_ALL });
  def(b + 3, { name, operands: 'Gv,Ev', read: r, written: F_ALL });
  def(b + 4, { name, operands: 'AL,Ib', read: r, written: F_ALL });
  def(b + 5, { name, operands: 'eAX,Iz', read: r, written: F_ALL });
}
// Segment pushes/pops: a segment load changes what translated code assumes.
def(0x06, { name: 'push es', operands: '' });
def(0x07, { name: 'pop es', operands: '', flow: X });
def(0x0e, { name: 'push cs', operands: '' });
def(0x16, { name: 'push ss', operands: '' });
def(0x17, { name: 'pop ss', operands: '', flow: X });
def(0x1e, { name: 'push ds', operands: '' });
def(0x1f, { name: 'pop ds', operands: '', flow: X });
def(0x27, { name: 'daa', operands: '', read: F_C | F_A, written: F_ALL });
def(0x2f, { name: 'das', operands: '', read: F_C | F_A, written: F_ALL });
def(0x37, { name: 'aaa', operands: '', read: F_A, written: F_ALL });
def(0x3f, { name: 'aas', operands: '', read: F_A, written: F_ALL });
for (let r = 0; r < 8; r++) {
  def(0x40 + r, { name: 'inc', operands: 'Zv', written: F_ALL & ~F_C });
  def(0x48 + r, { name: 'dec', operands: 'Zv', written: F_ALL & ~F_C });
  def(0x50 + r, { name: 'push', operands: 'Zv' });
  def(0x58 + r, { name: 'pop', operands: 'Zv' });
  def(0x90 + r, { name: r === 0 ? 'nop' : 'xchg', operands: r === 0 ? '' : 'Zv,eAX' });
  def(0xb0 + r, { name: 'mov', operands: 'Zb,Ib' });
  def(0xb8 + r, { name: 'mov', operands: 'Zv,Iz' });
}
def(0x60, { name: 'pusha', operands: '' });
def(0x61, { name: 'popa', operands: '' });
def(0x62, { name: 'bound', operands: 'Gv,Ma' });
def(0x63, { name: 'arpl', operands: 'Ew,Gw', written: F_Z });
def(0x68, { name: 'push', operands: 'Iz' });
def(0x69, { name: 'imul', operands: 'Gv,Ev,Iz', written: F_ALL });
def(0x6a, { name: 'push', operands: 'Ib' });
def(0x6b, { name: 'imul', operands: 'Gv,Ev,Ib', written: F_ALL });
// Port I/O reaches devices; an interrupt they raise asks translated code to leave
// (Cpu.exitReq), so I/O need not end a block.
def(0x6c, { name: 'insb', operands: '' });
def(0x6d, { name: 'ins', operands: '' });
def(0x6e, { name: 'outsb', operands: '' });
def(0x6f, { name: 'outs', operands: '' });
for (let cc = 0; cc < 16; cc++) def(0x70 + cc, { name: `j${CC[cc]}`, operands: 'Jb', flow: FLOW_JCC, read: ccFlags(cc) });
for (let i = 0; i < 8; i++) {
  const name = ALU[i]!, read = aluRead(i), written = F_ALL;
  def(0x80, { name, operands: 'Eb,Ib', read, written }, i);
  def(0x81, { name, operands: 'Ev,Iz', read, written }, i);
  def(0x82, { name, operands: 'Eb,Ib', read, written }, i);
  def(0x83, { name, operands: 'Ev,Ib', read, written }, i);
}
def(0x84, { name: 'test', operands: 'Eb,Gb', written: F_ALL });
def(0x85, { name: 'test', operands: 'Ev,Gv', written: F_ALL });
def(0x86, { name: 'xchg', operands: 'Eb,Gb' });
def(0x87, { name: 'xchg', operands: 'Ev,Gv' });
def(0x88, { name: 'mov', operands: 'Eb,Gb' });
def(0x89, { name: 'mov', operands: 'Ev,Gv' });
def(0x8a, { name: 'mov', operands: 'Gb,Eb' });
def(0x8b, { name: 'mov', operands: 'Gv,Ev' });
def(0x8c, { name: 'mov', operands: 'Ev,Sw' });
def(0x8d, { name: 'lea', operands: 'Gv,M' });
def(0x8e, { name: 'mov', operands: 'Sw,Ew', flow: X });
group(0x8f, [{ name: 'pop', operands: 'Ev' }, null, null, null, null, null, null, null], IMM_NONE);
def(0x98, { name: 'cbw', operands: '' });
def(0x99, { name: 'cwd', operands: '' });
def(0x9a, { name: 'callf', operands: 'Ap', flow: X, read: F_ALL });
def(0x9b, { name: 'fwait', operands: '' });
def(0x9c, { name: 'pushf', operands: '', read: F_ALL });
def(0x9d, { name: 'popf', operands: '', flow: X, written: F_ALL });
def(0x9e, { name: 'sahf', operands: '', written: F_SZAPC });
def(0x9f, { name: 'lahf', operands: '', read: F_SZAPC });
def(0xa0, { name: 'mov', operands: 'AL,Ob' });
def(0xa1, { name: 'mov', operands: 'eAX,Ov' });
def(0xa2, { name: 'mov', operands: 'Ob,AL' });
def(0xa3, { name: 'mov', operands: 'Ov,eAX' });
def(0xa4, { name: 'movsb', operands: '' });
def(0xa5, { name: 'movs', operands: '' });
def(0xa6, { name: 'cmpsb', operands: '', written: F_ALL });
def(0xa7, { name: 'cmps', operands: '', written: F_ALL });
def(0xa8, { name: 'test', operands: 'AL,Ib', written: F_ALL });
def(0xa9, { name: 'test', operands: 'eAX,Iz', written: F_ALL });
def(0xaa, { name: 'stosb', operands: '' });
def(0xab, { name: 'stos', operands: '' });
def(0xac, { name: 'lodsb', operands: '' });
def(0xad, { name: 'lods', operands: '' });
def(0xae, { name: 'scasb', operands: '', written: F_ALL });
def(0xaf, { name: 'scas', operands: '', written: F_ALL });
const SHIFTS = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar'];
// Group 2. A count of 0 leaves every flag alone, so no form is counted as writing flags
// for certain; rotates through carry read CF.
for (const [op, operands] of [[0xc0, 'Eb,Ib'], [0xc1, 'Ev,Ib'], [0xd0, 'Eb,1'], [0xd1, 'Ev,1'], [0xd2, 'Eb,CL'], [0xd3, 'Ev,CL']] as const) {
  group(op, SHIFTS.map((name, r) => ({ name, operands, read: r === 2 || r === 3 ? F_C : 0 })), op === 0xc0 || op === 0xc1 ? IMM_B : IMM_NONE);
}
def(0xc2, { name: 'ret', operands: 'Iw', flow: FLOW_RET });
def(0xc3, { name: 'ret', operands: '', flow: FLOW_RET });
def(0xc4, { name: 'les', operands: 'Gz,Mp', flow: X });
def(0xc5, { name: 'lds', operands: 'Gz,Mp', flow: X });
group(0xc6, [{ name: 'mov', operands: 'Eb,Ib' }, null, null, null, null, null, null, null], IMM_B);
group(0xc7, [{ name: 'mov', operands: 'Ev,Iz' }, null, null, null, null, null, null, null], IMM_Z);
def(0xc8, { name: 'enter', operands: 'Iw,Ib' });
def(0xc9, { name: 'leave', operands: '' });
def(0xca, { name: 'retf', operands: 'Iw', flow: X });
def(0xcb, { name: 'retf', operands: '', flow: X });
def(0xcc, { name: 'int3', operands: '', flow: X, read: F_ALL });
def(0xcd, { name: 'int', operands: 'Ib', flow: X, read: F_ALL });
def(0xce, { name: 'into', operands: '', flow: X, read: F_ALL });
def(0xcf, { name: 'iret', operands: '', flow: X, written: F_ALL });
def(0xd4, { name: 'aam', operands: 'Ib', written: F_ALL });
def(0xd5, { name: 'aad', operands: 'Ib', written: F_ALL });
def(0xd6, { name: 'salc', operands: '', read: F_C });
def(0xd7, { name: 'xlat', operands: '' });
// x87 escapes: FCOMI and friends write ZF/PF/CF (and clear OF/SF/AF), FCMOVcc reads
// CF/ZF/PF; neither is known from the opcode alone, so every escape counts as both.
for (let op = 0xd8; op <= 0xdf; op++) def(op, { name: 'esc', operands: 'Ev', read: F_ALL });
def(0xe0, { name: 'loopne', operands: 'Jb', flow: FLOW_JCC, read: F_Z });
def(0xe1, { name: 'loope', operands: 'Jb', flow: FLOW_JCC, read: F_Z });
def(0xe2, { name: 'loop', operands: 'Jb', flow: FLOW_JCC });
def(0xe3, { name: 'jcxz', operands: 'Jb', flow: FLOW_JCC });
def(0xe4, { name: 'in', operands: 'AL,Ib' });
def(0xe5, { name: 'in', operands: 'eAX,Ib' });
def(0xe6, { name: 'out', operands: 'Ib,AL' });
def(0xe7, { name: 'out', operands: 'Ib,eAX' });
def(0xe8, { name: 'call', operands: 'Jz', flow: FLOW_CALL });
def(0xe9, { name: 'jmp', operands: 'Jz', flow: FLOW_JMP });
def(0xea, { name: 'jmpf', operands: 'Ap', flow: X });
def(0xeb, { name: 'jmp', operands: 'Jb', flow: FLOW_JMP });
def(0xec, { name: 'in', operands: 'AL,DX' });
def(0xed, { name: 'in', operands: 'eAX,DX' });
def(0xee, { name: 'out', operands: 'DX,AL' });
def(0xef, { name: 'out', operands: 'DX,eAX' });
def(0xf1, { name: 'int1', operands: '', flow: X, read: F_ALL });
def(0xf4, { name: 'hlt', operands: '', flow: X });
def(0xf5, { name: 'cmc', operands: '', read: F_C, written: F_C });
const GRP3 = (operands: string): (Row | null)[] => [
  { name: 'test', operands: `${operands},I`, written: F_ALL },
  { name: 'test', operands: `${operands},I`, written: F_ALL },
  { name: 'not', operands },
  { name: 'neg', operands, written: F_ALL },
  { name: 'mul', operands, written: F_ALL },
  { name: 'imul', operands, written: F_ALL },
  { name: 'div', operands },
  { name: 'idiv', operands },
];
group(0xf6, GRP3('Eb'), IMM_GRP3);
group(0xf7, GRP3('Ev'), IMM_GRP3);
def(0xf8, { name: 'clc', operands: '', written: F_C });
def(0xf9, { name: 'stc', operands: '', written: F_C });
// CLI only masks interrupts, which translated code never checks; STI must end a block
// (its shadow, then a pending interrupt is taken).
def(0xfa, { name: 'cli', operands: '' });
def(0xfb, { name: 'sti', operands: '', flow: X });
def(0xfc, { name: 'cld', operands: '' });
def(0xfd, { name: 'std', operands: '' });
group(0xfe, [
  { name: 'inc', operands: 'Eb', written: F_ALL & ~F_C }, { name: 'dec', operands: 'Eb', written: F_ALL & ~F_C },
  null, null, null, null, null, null,
], IMM_NONE);
group(0xff, [
  { name: 'inc', operands: 'Ev', written: F_ALL & ~F_C }, { name: 'dec', operands: 'Ev', written: F_ALL & ~F_C },
  { name: 'call', operands: 'Ev', flow: FLOW_INDIRECT }, { name: 'callf', operands: 'Mp', flow: X, read: F_ALL },
  { name: 'jmp', operands: 'Ev', flow: FLOW_INDIRECT }, { name: 'jmpf', operands: 'Mp', flow: X, read: F_ALL },
  { name: 'push', operands: 'Ev' }, null,
], IMM_NONE);

// ---- Two-byte map (0F xx at 0x100 + xx).
const T = 0x100;
// Descriptor-table and system instructions change what translated code assumes.
group(T + 0x00, [
  { name: 'sldt', operands: 'Ew' }, { name: 'str', operands: 'Ew' }, { name: 'lldt', operands: 'Ew', flow: X },
  { name: 'ltr', operands: 'Ew', flow: X }, { name: 'verr', operands: 'Ew', written: F_Z }, { name: 'verw', operands: 'Ew', written: F_Z },
  null, null,
], IMM_NONE);
group(T + 0x01, [
  { name: 'sgdt', operands: 'M' }, { name: 'sidt', operands: 'M' }, { name: 'lgdt', operands: 'M', flow: X },
  { name: 'lidt', operands: 'M', flow: X }, { name: 'smsw', operands: 'Ew' }, null,
  { name: 'lmsw', operands: 'Ew', flow: X }, { name: 'invlpg', operands: 'M', flow: X },
], IMM_NONE);
def(T + 0x02, { name: 'lar', operands: 'Gv,Ew', written: F_Z });
def(T + 0x03, { name: 'lsl', operands: 'Gv,Ew', written: F_Z });
def(T + 0x06, { name: 'clts', operands: '', flow: X });
def(T + 0x08, { name: 'invd', operands: '' });
def(T + 0x09, { name: 'wbinvd', operands: '' });
def(T + 0x0b, { name: 'ud2', operands: '', flow: FLOW_UD });
for (let op = 0x18; op <= 0x1f; op++) def(T + op, { name: 'nop', operands: 'Ev' });
def(T + 0x20, { name: 'mov', operands: 'Rd,Cd' });
def(T + 0x21, { name: 'mov', operands: 'Rd,Dd' });
def(T + 0x22, { name: 'mov', operands: 'Cd,Rd', flow: X });
def(T + 0x23, { name: 'mov', operands: 'Dd,Rd', flow: X });
def(T + 0x30, { name: 'wrmsr', operands: '', flow: X });
def(T + 0x31, { name: 'rdtsc', operands: '' });
def(T + 0x32, { name: 'rdmsr', operands: '' });
def(T + 0x33, { name: 'rdpmc', operands: '' });
def(T + 0x34, { name: 'sysenter', operands: '', flow: X });
def(T + 0x35, { name: 'sysexit', operands: '', flow: X });
for (let cc = 0; cc < 16; cc++) {
  def(T + 0x40 + cc, { name: `cmov${CC[cc]}`, operands: 'Gv,Ev', read: ccFlags(cc) });
  def(T + 0x80 + cc, { name: `j${CC[cc]}`, operands: 'Jz', flow: FLOW_JCC, read: ccFlags(cc) });
  def(T + 0x90 + cc, { name: `set${CC[cc]}`, operands: 'Eb', read: ccFlags(cc) });
}
def(T + 0xa0, { name: 'push fs', operands: '' });
def(T + 0xa1, { name: 'pop fs', operands: '', flow: X });
def(T + 0xa2, { name: 'cpuid', operands: '' });
def(T + 0xa3, { name: 'bt', operands: 'Ev,Gv', written: F_C });
def(T + 0xa4, { name: 'shld', operands: 'Ev,Gv,Ib' });
def(T + 0xa5, { name: 'shld', operands: 'Ev,Gv,CL' });
def(T + 0xa8, { name: 'push gs', operands: '' });
def(T + 0xa9, { name: 'pop gs', operands: '', flow: X });
def(T + 0xab, { name: 'bts', operands: 'Ev,Gv', written: F_C });
def(T + 0xac, { name: 'shrd', operands: 'Ev,Gv,Ib' });
def(T + 0xad, { name: 'shrd', operands: 'Ev,Gv,CL' });
// FXSAVE/FXRSTOR (/0 /1) and the fences; LDMXCSR/STMXCSR are #UD without SSE.
group(T + 0xae, [
  { name: 'fxsave', operands: 'M' }, { name: 'fxrstor', operands: 'M' }, { name: 'ldmxcsr', operands: 'M' },
  { name: 'stmxcsr', operands: 'M' }, null, { name: 'lfence', operands: 'M' }, { name: 'mfence', operands: 'M' },
  { name: 'sfence', operands: 'M' },
], IMM_NONE);
// MMX, SSE, SSE2 (src/cpu/sse/): the mandatory prefix (none, 66, F3, F2) picks the form
// (MMX registers, or XMM); the operand format is the same for all four. Named here by their
// SSE (no prefix) or SSE2 (66) form.
const SSE_ROWS: [number, string, string][] = [
  [0x10, 'movups', 'Vx,Wx'], [0x11, 'movups', 'Wx,Vx'], [0x12, 'movlps', 'Vx,Wq'], [0x13, 'movlps', 'Mq,Vx'],
  [0x14, 'unpcklps', 'Vx,Wx'], [0x15, 'unpckhps', 'Vx,Wx'], [0x16, 'movhps', 'Vx,Wq'], [0x17, 'movhps', 'Mq,Vx'],
  [0x28, 'movaps', 'Vx,Wx'], [0x29, 'movaps', 'Wx,Vx'], [0x2a, 'cvtsi2ss', 'Vx,Ed'], [0x2b, 'movntps', 'Mx,Vx'],
  [0x2c, 'cvttss2si', 'Gd,Wx'], [0x2d, 'cvtss2si', 'Gd,Wx'], [0x2e, 'ucomiss', 'Vx,Wx'], [0x2f, 'comiss', 'Vx,Wx'],
  [0x50, 'movmskps', 'Gd,Ux'], [0x51, 'sqrtps', 'Vx,Wx'], [0x52, 'rsqrtps', 'Vx,Wx'], [0x53, 'rcpps', 'Vx,Wx'],
  [0x54, 'andps', 'Vx,Wx'], [0x55, 'andnps', 'Vx,Wx'], [0x56, 'orps', 'Vx,Wx'], [0x57, 'xorps', 'Vx,Wx'],
  [0x58, 'addps', 'Vx,Wx'], [0x59, 'mulps', 'Vx,Wx'], [0x5a, 'cvtps2pd', 'Vx,Wx'], [0x5b, 'cvtdq2ps', 'Vx,Wx'],
  [0x5c, 'subps', 'Vx,Wx'], [0x5d, 'minps', 'Vx,Wx'], [0x5e, 'divps', 'Vx,Wx'], [0x5f, 'maxps', 'Vx,Wx'],
  [0x60, 'punpcklbw', 'Vx,Wx'], [0x61, 'punpcklwd', 'Vx,Wx'], [0x62, 'punpckldq', 'Vx,Wx'], [0x63, 'packsswb', 'Vx,Wx'],
  [0x64, 'pcmpgtb', 'Vx,Wx'], [0x65, 'pcmpgtw', 'Vx,Wx'], [0x66, 'pcmpgtd', 'Vx,Wx'], [0x67, 'packuswb', 'Vx,Wx'],
  [0x68, 'punpckhbw', 'Vx,Wx'], [0x69, 'punpckhwd', 'Vx,Wx'], [0x6a, 'punpckhdq', 'Vx,Wx'], [0x6b, 'packssdw', 'Vx,Wx'],
  [0x6c, 'punpcklqdq', 'Vx,Wx'], [0x6d, 'punpckhqdq', 'Vx,Wx'], [0x6e, 'movd', 'Vx,Ed'], [0x6f, 'movdqa', 'Vx,Wx'],
  [0x70, 'pshufd', 'Vx,Wx,Ib'], [0x74, 'pcmpeqb', 'Vx,Wx'], [0x75, 'pcmpeqw', 'Vx,Wx'], [0x76, 'pcmpeqd', 'Vx,Wx'],
  [0x77, 'emms', ''],
  [0x7e, 'movd', 'Ed,Vx'], [0x7f, 'movdqa', 'Wx,Vx'],
  [0xc2, 'cmpps', 'Vx,Wx,Ib'], [0xc3, 'movnti', 'Md,Gd'], [0xc4, 'pinsrw', 'Vx,Ew,Ib'], [0xc5, 'pextrw', 'Gd,Ux,Ib'],
  [0xc6, 'shufps', 'Vx,Wx,Ib'],
  [0xd1, 'psrlw', 'Vx,Wx'], [0xd2, 'psrld', 'Vx,Wx'], [0xd3, 'psrlq', 'Vx,Wx'], [0xd4, 'paddq', 'Vx,Wx'],
  [0xd5, 'pmullw', 'Vx,Wx'], [0xd6, 'movq', 'Wq,Vx'], [0xd7, 'pmovmskb', 'Gd,Ux'],
  [0xd8, 'psubusb', 'Vx,Wx'], [0xd9, 'psubusw', 'Vx,Wx'], [0xda, 'pminub', 'Vx,Wx'], [0xdb, 'pand', 'Vx,Wx'],
  [0xdc, 'paddusb', 'Vx,Wx'], [0xdd, 'paddusw', 'Vx,Wx'], [0xde, 'pmaxub', 'Vx,Wx'], [0xdf, 'pandn', 'Vx,Wx'],
  [0xe0, 'pavgb', 'Vx,Wx'], [0xe1, 'psraw', 'Vx,Wx'], [0xe2, 'psrad', 'Vx,Wx'], [0xe3, 'pavgw', 'Vx,Wx'],
  [0xe4, 'pmulhuw', 'Vx,Wx'], [0xe5, 'pmulhw', 'Vx,Wx'], [0xe6, 'cvttpd2dq', 'Vx,Wx'], [0xe7, 'movntdq', 'Mx,Vx'],
  [0xe8, 'psubsb', 'Vx,Wx'], [0xe9, 'psubsw', 'Vx,Wx'], [0xea, 'pminsw', 'Vx,Wx'], [0xeb, 'por', 'Vx,Wx'],
  [0xec, 'paddsb', 'Vx,Wx'], [0xed, 'paddsw', 'Vx,Wx'], [0xee, 'pmaxsw', 'Vx,Wx'], [0xef, 'pxor', 'Vx,Wx'],
  [0xf1, 'psllw', 'Vx,Wx'], [0xf2, 'pslld', 'Vx,Wx'], [0xf3, 'psllq', 'Vx,Wx'], [0xf4, 'pmuludq', 'Vx,Wx'],
  [0xf5, 'pmaddwd', 'Vx,Wx'], [0xf6, 'psadbw', 'Vx,Wx'], [0xf7, 'maskmovdqu', 'Vx,Ux'],
  [0xf8, 'psubb', 'Vx,Wx'], [0xf9, 'psubw', 'Vx,Wx'], [0xfa, 'psubd', 'Vx,Wx'], [0xfb, 'psubq', 'Vx,Wx'],
  [0xfc, 'paddb', 'Vx,Wx'], [0xfd, 'paddw', 'Vx,Wx'], [0xfe, 'paddd', 'Vx,Wx'],
];
// (U)COMISS/SD write ZF PF CF and clear OF SF AF.
for (const [op, name, operands] of SSE_ROWS) def(T + op, { name, operands, written: op === 0x2e || op === 0x2f ? F_ALL : 0 });
// Groups 12-14: shifts of a register by an immediate (/2 /4 /6; 73 /3 /7 byte shifts).
for (const [op, names] of [[0x71, ['psrlw', 'psraw', 'psllw']], [0x72, ['psrld', 'psrad', 'pslld']], [0x73, ['psrlq', 'psrldq', 'psllq', 'pslldq']]] as const) {
  const regs = op === 0x73 ? [2, 3, 6, 7] : [2, 4, 6];
  group(T + op, [0, 1, 2, 3, 4, 5, 6, 7].map((r) => {
    const k = regs.indexOf(r);
    return k < 0 ? null : { name: names[k]!, operands: 'Ux,Ib' };
  }), IMM_B);
}
def(T + 0xaf, { name: 'imul', operands: 'Gv,Ev', written: F_ALL });
def(T + 0xb0, { name: 'cmpxchg', operands: 'Eb,Gb', written: F_ALL });
def(T + 0xb1, { name: 'cmpxchg', operands: 'Ev,Gv', written: F_ALL });
def(T + 0xb2, { name: 'lss', operands: 'Gz,Mp', flow: X });
def(T + 0xb3, { name: 'btr', operands: 'Ev,Gv', written: F_C });
def(T + 0xb4, { name: 'lfs', operands: 'Gz,Mp', flow: X });
def(T + 0xb5, { name: 'lgs', operands: 'Gz,Mp', flow: X });
def(T + 0xb6, { name: 'movzx', operands: 'Gv,Eb' });
def(T + 0xb7, { name: 'movzx', operands: 'Gv,Ew' });
def(T + 0xb9, { name: 'ud1', operands: 'Gv,Ev', flow: FLOW_UD });
group(T + 0xba, [null, null, null, null,
  { name: 'bt', operands: 'Ev,Ib', written: F_C }, { name: 'bts', operands: 'Ev,Ib', written: F_C },
  { name: 'btr', operands: 'Ev,Ib', written: F_C }, { name: 'btc', operands: 'Ev,Ib', written: F_C }], IMM_B);
def(T + 0xbb, { name: 'btc', operands: 'Ev,Gv', written: F_C });
// BSF/BSR change ZF only (a zero source sets it and leaves the destination).
def(T + 0xbc, { name: 'bsf', operands: 'Gv,Ev', written: F_Z });
def(T + 0xbd, { name: 'bsr', operands: 'Gv,Ev', written: F_Z });
def(T + 0xbe, { name: 'movsx', operands: 'Gv,Eb' });
def(T + 0xbf, { name: 'movsx', operands: 'Gv,Ew' });
def(T + 0xc0, { name: 'xadd', operands: 'Eb,Gb', written: F_ALL });
def(T + 0xc1, { name: 'xadd', operands: 'Ev,Gv', written: F_ALL });
group(T + 0xc7, [null, { name: 'cmpxchg8b', operands: 'Mq', written: F_Z }, null, null, null, null, null, null], IMM_NONE);
for (let r = 0; r < 8; r++) def(T + 0xc8 + r, { name: 'bswap', operands: 'Zv' });
def(T + 0xff, { name: 'ud0', operands: '', flow: FLOW_UD });

/** Index into OP_FLOW / OP_FLAGS_* / OP_NAME for an opcode and its ModRM byte. */
export function infoIndex(op: number, modrm: number): number {
  return (op << 3) | ((modrm >> 3) & 7);
}
