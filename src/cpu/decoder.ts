// The instruction decoder (SDM vol. 2A ch. 2: prefixes, opcode, ModRM, SIB, displacement,
// immediate), driven by the operand formats of opcodeInfo.ts. One decoder serves both the
// interpreter, which decodes and then executes, and the translator, which decodes a page
// of code ahead of time through the same fetch path (Cpu.beginCodeScan). It leaves
// everything an instruction needs in the CPU's decode fields: operand and address size,
// prefixes, ModRM and its reg field, the memory operand as components (base, index,
// scale, displacement, segment) and as the offset they give now, and the immediates.

import type { Cpu } from './Cpu.js';
import { DS, EBP, ESP, SS } from './constants.js';
import {
  FMT_MODRM, FMT_REG_ONLY, IMM_B, IMM_ENTER, IMM_FAR, IMM_GRP3, IMM_MOFFS, IMM_NONE, IMM_SHIFT, IMM_W, IMM_Z, OP_FORMAT,
} from './opcodeInfo.js';

/** Prefix bytes: segment overrides, operand/address size, LOCK, REP/REPNE. */
export const IS_PREFIX = new Uint8Array(256);
for (const p of [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3]) IS_PREFIX[p] = 1;

/** 16-bit addressing: ModRM.rm → base and index registers (-1 none) and default segment. */
const EA16_BASE = new Int8Array([3, 3, 5, 5, -1, -1, 5, 3]); // BX BX BP BP - - BP BX
const EA16_INDEX = new Int8Array([6, 7, 6, 7, 6, 7, -1, -1]); // SI DI SI DI SI DI - -

/**
 * Decode the instruction at CS:EIP, advancing EIP past it. Returns the opcode-table index:
 * the opcode (0x100 + second byte for the 0F map) | 0x200 for 32-bit operand size.
 */
export function decode(c: Cpu): number {
  c.o32 = c.cs32;
  c.a32 = c.cs32;
  c.segOverride = -1;
  c.rep = 0;
  c.lock = false;
  let op = c.fetch8();
  if (IS_PREFIX[op] !== 0) op = prefixes(c, op);
  if (op === 0x0f) op = 0x100 | c.fetch8();
  const fmt = OP_FORMAT[op]!;
  if ((fmt & FMT_MODRM) !== 0) {
    const m = c.fetch8();
    c.modrm = m;
    c.reg = (m >> 3) & 7;
    if (m < 0xc0 && (fmt & FMT_REG_ONLY) === 0) {
      if (c.a32) decodeEa32(c, m); else decodeEa16(c, m);
    }
  }
  const imm = (fmt >> IMM_SHIFT) & 7;
  if (imm !== IMM_NONE) decodeImmediate(c, imm, op);
  if (c.lock) checkLockable(c, op);
  // An instruction is at most 15 bytes (SDM vol. 2A §2.3.11).
  if (((c.eip - c.startEip) & c.ipMask) >>> 0 > 15) c.raiseGP(0);
  c.nextEip = c.eip;
  return op | (c.o32 ? 0x200 : 0);
}

function prefixes(c: Cpu, op: number): number {
  let n = 0;
  for (;;) {
    switch (op) {
      case 0x26: c.segOverride = 0; break;
      case 0x2e: c.segOverride = 1; break;
      case 0x36: c.segOverride = 2; break;
      case 0x3e: c.segOverride = 3; break;
      case 0x64: c.segOverride = 4; break;
      case 0x65: c.segOverride = 5; break;
      case 0x66: c.o32 = !c.cs32; break;
      case 0x67: c.a32 = !c.cs32; break;
      case 0xf0: c.lock = true; break;
      case 0xf2: c.rep = 2; break;
      case 0xf3: c.rep = 1; break;
      default: return op;
    }
    if (++n >= 15) c.raiseGP(0); // fifteen prefixes leave no room for an opcode
    op = c.fetch8();
  }
}

function decodeImmediate(c: Cpu, kind: number, op: number): void {
  switch (kind) {
    case IMM_B: c.imm = c.fetch8(); return;
    case IMM_W: c.imm = c.fetch16(); return;
    case IMM_Z: c.imm = c.o32 ? c.fetch32() : c.fetch16(); return;
    case IMM_MOFFS: c.imm = c.a32 ? c.fetch32() : c.fetch16(); return;
    case IMM_FAR: c.imm = c.o32 ? c.fetch32() : c.fetch16(); c.imm2 = c.fetch16(); return;
    case IMM_ENTER: c.imm = c.fetch16(); c.imm2 = c.fetch8(); return;
    case IMM_GRP3: // F6/F7: only TEST (/0 /1) has an immediate
      if (c.reg < 2) c.imm = (op & 1) === 0 ? c.fetch8() : c.o32 ? c.fetch32() : c.fetch16();
      return;
    default:
  }
}

function decodeEa16(c: Cpu, m: number): void {
  const mod = m >> 6, rm = m & 7;
  let base: number = EA16_BASE[rm]!, index: number = EA16_INDEX[rm]!;
  let disp = 0;
  if (rm === 6 && mod === 0) { base = -1; disp = c.fetch16(); }
  else if (mod === 1) disp = c.fetchS8();
  else if (mod === 2) disp = c.fetch16();
  c.eaBase = base;
  c.eaIndex = index;
  c.eaScale = 0;
  c.eaDisp = disp;
  c.eaSeg = c.segOverride >= 0 ? c.segOverride : base === EBP ? SS : DS;
  const r = c.r16;
  c.eaOff = ((base >= 0 ? r[base << 1]! : 0) + (index >= 0 ? r[index << 1]! : 0) + disp) & 0xffff;
}

function decodeEa32(c: Cpu, m: number): void {
  const mod = m >> 6, rm = m & 7;
  let base = rm, index = -1, scale = 0, disp = 0;
  if (rm === 4) {
    const sib = c.fetch8();
    base = sib & 7;
    index = (sib >> 3) & 7;
    scale = sib >> 6;
    if (index === ESP) index = -1;
    if (base === EBP && mod === 0) { base = -1; disp = c.fetch32(); }
  } else if (rm === EBP && mod === 0) {
    base = -1;
    disp = c.fetch32();
  }
  if (mod === 1) disp = c.fetchS8();
  else if (mod === 2) disp = c.fetch32();
  c.eaBase = base;
  c.eaIndex = index;
  c.eaScale = scale;
  c.eaDisp = disp;
  c.eaSeg = c.segOverride >= 0 ? c.segOverride : base === ESP || base === EBP ? SS : DS;
  const regs = c.regs;
  c.eaOff = ((base >= 0 ? regs[base]! : 0) + (index >= 0 ? regs[index]! << scale : 0) + disp) | 0;
}

/** The offset the decoded memory operand's components give with the registers as they are now. */
export function effectiveOffset(c: Cpu): number {
  const base = c.eaBase, index = c.eaIndex;
  if (!c.a32) {
    const r = c.r16;
    return ((base >= 0 ? r[base << 1]! : 0) + (index >= 0 ? r[index << 1]! : 0) + c.eaDisp) & 0xffff;
  }
  const regs = c.regs;
  return ((base >= 0 ? regs[base]! : 0) + (index >= 0 ? regs[index]! << c.eaScale : 0) + c.eaDisp) | 0;
}

/**
 * LOCK is allowed only on the read-modify-write forms with a memory destination
 * (SDM vol. 2A, LOCK): ADD OR ADC SBB AND SUB XOR, group 1 but CMP, XCHG, NOT NEG,
 * INC DEC, BTS BTR BTC, CMPXCHG, CMPXCHG8B, XADD. Anything else is #UD.
 */
function checkLockable(c: Cpu, op: number): void {
  const m = c.modrm, reg = c.reg;
  let ok: boolean;
  if (op >= 0x100) {
    const op2 = op & 0xff;
    ok = (OP_FORMAT[op]! & FMT_MODRM) !== 0 && m < 0xc0 && (op2 === 0xab || op2 === 0xb3 || op2 === 0xbb || op2 === 0xb0 || op2 === 0xb1 ||
      op2 === 0xc0 || op2 === 0xc1 || (op2 === 0xba && reg >= 5) || (op2 === 0xc7 && reg === 1));
  } else {
    ok = (OP_FORMAT[op]! & FMT_MODRM) !== 0 && m < 0xc0 && (
      (op < 0x40 && (op & 7) < 2 && (op & 0x38) !== 0x38) ||
      (op >= 0x80 && op <= 0x83 && reg !== 7) ||
      op === 0x86 || op === 0x87 ||
      ((op === 0xf6 || op === 0xf7) && (reg === 2 || reg === 3)) ||
      ((op === 0xfe || op === 0xff) && reg <= 1));
  }
  if (!ok) c.raiseUD();
}
