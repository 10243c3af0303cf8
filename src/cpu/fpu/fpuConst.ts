// x87 status/control word bits, value classes and shared scratch (SDM vol. 1 §8.1.3, §8.1.5, §8.1.7).

// ---- Status word ----
export const SW_IE = 0x0001; // invalid operation
export const SW_DE = 0x0002; // denormal operand
export const SW_ZE = 0x0004; // zero divide
export const SW_OE = 0x0008; // overflow
export const SW_UE = 0x0010; // underflow
export const SW_PE = 0x0020; // precision
export const SW_SF = 0x0040; // stack fault
export const SW_ES = 0x0080; // exception summary
export const SW_C0 = 0x0100;
export const SW_C1 = 0x0200;
export const SW_C2 = 0x0400;
export const SW_C3 = 0x4000;
export const SW_B = 0x8000;
export const SW_TOP_SHIFT = 11;
export const SW_CC = SW_C0 | SW_C1 | SW_C2 | SW_C3;
/** The six maskable exception flags. */
export const EXC_MASK = 0x003f;

// ---- Control word ----
export const CW_RC_SHIFT = 10;
export const RC_NEAREST = 0;
export const RC_DOWN = 1; // toward -inf
export const RC_UP = 2; // toward +inf
export const RC_CHOP = 3; // toward zero
export const CW_PC_SHIFT = 8;
/** FLDCW keeps the masks, PC, RC and the (ignored) infinity-control bit; bit 6 reads as 1. */
export const CW_WRITABLE = 0x1f3f;
export const CW_ALWAYS = 0x0040;
export const CW_FNINIT = 0x037f;
export const CW_POWERON = 0x0040;

// ---- Value classes (what FXAM and the tag word distinguish) ----
export const CLS_ZERO = 0;
export const CLS_NORMAL = 1;
/** An 80-bit denormal or pseudo-denormal (exponent field 0, significand non-zero). */
export const CLS_DENORMAL = 2;
export const CLS_INF = 3;
export const CLS_QNAN = 4;
export const CLS_SNAN = 5;
/** Pseudo-NaN, pseudo-infinity, unnormal (including pseudo-zero): integer bit clear with a non-zero exponent. */
export const CLS_UNSUPPORTED = 6;

// ---- Tags ----
export const TAG_VALID = 0;
export const TAG_ZERO = 1;
export const TAG_SPECIAL = 2;
export const TAG_EMPTY = 3;

/** Index of the operand slot after R0-R7 in the register file: memory and integer operands are
 *  converted (exactly) to 80-bit images there, so the arithmetic reads every operand alike. */
export const OPND = 8;

// ---- The 80-bit format ----
export const BIAS = 16383;
/** Unbiased exponents of the smallest and largest normal numbers. */
export const EMIN = -16382;
export const EMAX = 16383;
/** Exponent adjustment of an unmasked overflow/underflow result delivered to a register (SDM vol. 1 §8.5.4-5). */
export const EXP_ADJUST = 24576;
/** The QNaN floating-point indefinite as an 80-bit image: FFFF C000 0000 0000 0000. */
export const INDEF_SE = 0xffff;
export const INDEF_HI = 0xc0000000;
/** Its binary64 high word (0xFFF8_0000_0000_0000), for stores. */
export const INDEF64_HI = 0xfff80000 | 0;

/** Scratch for bit casts; one per thread, used only within one call. */
export const F64 = new Float64Array(1);
export const U32 = new Uint32Array(F64.buffer);

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('x87 unit: typed-array bit casts assume a little-endian host');
}
