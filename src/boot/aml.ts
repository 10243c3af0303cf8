// ACPI Machine Language encoder, ACPI 6.x §20.2 (AML grammar) and §6.4 (resource data
// types): only the terms typevisor's DSDT needs. Each function returns the encoded bytes
// of one term as a plain array, so terms nest by spreading their children's bytes.

export type Aml = number[];

// §20.2.5 opcodes
const ZERO_OP = 0x00;
const ONE_OP = 0x01;
const BYTE_PREFIX = 0x0a;
const WORD_PREFIX = 0x0b;
const DWORD_PREFIX = 0x0c;
const STRING_PREFIX = 0x0d;
const QWORD_PREFIX = 0x0e;
const NAME_OP = 0x08;
const SCOPE_OP = 0x10;
const BUFFER_OP = 0x11;
const PACKAGE_OP = 0x12;
const METHOD_OP = 0x14;
const RETURN_OP = 0xa4;
const EXT_OP_PREFIX = 0x5b;
const DEVICE_OP = 0x82; // after ExtOpPrefix
const ROOT_CHAR = 0x5c;
const PARENT_PREFIX = 0x5e;
const DUAL_NAME_PREFIX = 0x2e;
const MULTI_NAME_PREFIX = 0x2f;

/**
 * PkgLength (§20.2.4) for `contentLength` bytes that follow it; the encoded length counts
 * the PkgLength bytes themselves. One byte holds up to 63; otherwise the lead byte's bits
 * 7-6 give how many bytes follow, its low nibble the lowest 4 bits of the length.
 */
export function pkgLength(contentLength: number): Aml {
  if (contentLength + 1 <= 0x3f) return [contentLength + 1];
  for (let extra = 1; extra <= 3; extra++) {
    const total = contentLength + 1 + extra;
    if (total < 1 << (4 + 8 * extra)) {
      const out = [(extra << 6) | (total & 0x0f)];
      for (let i = 0; i < extra; i++) out.push((total >>> (4 + 8 * i)) & 0xff);
      return out;
    }
  }
  throw new RangeError(`AML package of ${contentLength} bytes is too long for a PkgLength`);
}

/** A NameSeg: up to 4 characters A-Z, 0-9, _ (first not a digit), padded with '_'. */
function nameSeg(seg: string): Aml {
  if (!/^[A-Z_][A-Z0-9_]{0,3}$/.test(seg)) throw new RangeError(`bad AML name segment "${seg}"`);
  const s = seg.padEnd(4, '_');
  return [s.charCodeAt(0), s.charCodeAt(1), s.charCodeAt(2), s.charCodeAt(3)];
}

/** A NameString (§20.2.2): "\\_SB.PCI0", "^FOO", "_HID" ... */
export function nameString(path: string): Aml {
  const out: Aml = [];
  let rest = path;
  if (rest.startsWith('\\')) {
    out.push(ROOT_CHAR);
    rest = rest.slice(1);
  } else {
    while (rest.startsWith('^')) {
      out.push(PARENT_PREFIX);
      rest = rest.slice(1);
    }
  }
  const segs = rest === '' ? [] : rest.split('.');
  if (segs.length === 0) out.push(0x00); // NullName
  else if (segs.length === 2) out.push(DUAL_NAME_PREFIX);
  else if (segs.length > 2) {
    if (segs.length > 255) throw new RangeError('AML name path too long');
    out.push(MULTI_NAME_PREFIX, segs.length);
  }
  for (const s of segs) out.push(...nameSeg(s));
  return out;
}

/** The shortest integer constant for `v` (0 to 2^53-1): ZeroOp, OneOp or a Byte/Word/DWord/QWord prefix. */
export function integer(v: number): Aml {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`AML integer ${v} out of range`);
  if (v === 0) return [ZERO_OP];
  if (v === 1) return [ONE_OP];
  if (v <= 0xff) return [BYTE_PREFIX, v];
  if (v <= 0xffff) return [WORD_PREFIX, v & 0xff, v >>> 8];
  if (v <= 0xffffffff) return [DWORD_PREFIX, ...le(v, 4)];
  return [QWORD_PREFIX, ...le(v % 0x100000000, 4), ...le(Math.floor(v / 0x100000000), 4)];
}

/** A DWordConst even when a shorter form exists (EISA IDs are conventionally DWords). */
export function dword(v: number): Aml {
  return [DWORD_PREFIX, ...le(v >>> 0, 4)];
}

export function string(s: string): Aml {
  if (!/^[\x01-\x7f]*$/.test(s)) throw new RangeError('AML strings are ASCII without NUL');
  return [STRING_PREFIX, ...Array.from(s, (c) => c.charCodeAt(0)), 0];
}

/**
 * EISAID("PNP0A03"): three letters of 5 bits each and four hex digits, stored big-endian
 * (§6.1.5), as the DWord iasl's EISAID() macro produces.
 */
export function eisaId(id: string): Aml {
  if (!/^[A-Z]{3}[0-9A-F]{4}$/.test(id)) throw new RangeError(`bad EISA ID "${id}"`);
  const c = (i: number): number => id.charCodeAt(i) - 0x40;
  const vendor = (c(0) << 10) | (c(1) << 5) | c(2);
  const product = parseInt(id.slice(3), 16);
  const be = [vendor >> 8, vendor & 0xff, product >> 8, product & 0xff];
  return dword((be[0]! | (be[1]! << 8) | (be[2]! << 16) | (be[3]! << 24)) >>> 0);
}

/** Name(path, object). */
export function name(path: string, object: Aml): Aml {
  return [NAME_OP, ...nameString(path), ...object];
}

/** Scope(path) { terms }. */
export function scope(path: string, ...terms: Aml[]): Aml {
  const body = [...nameString(path), ...terms.flat()];
  return [SCOPE_OP, ...pkgLength(body.length), ...body];
}

/** Device(name) { terms }. */
export function device(path: string, ...terms: Aml[]): Aml {
  const body = [...nameString(path), ...terms.flat()];
  return [EXT_OP_PREFIX, DEVICE_OP, ...pkgLength(body.length), ...body];
}

/** Package() { elements } (at most 255 elements: a PackageOp, not a VarPackageOp). */
export function pkg(...elements: Aml[]): Aml {
  if (elements.length > 255) throw new RangeError('AML Package holds at most 255 elements');
  const body = [elements.length, ...elements.flat()];
  return [PACKAGE_OP, ...pkgLength(body.length), ...body];
}

/** Buffer() { bytes }. */
export function buffer(bytes: ArrayLike<number>): Aml {
  const body = [...integer(bytes.length), ...Array.from(bytes)];
  return [BUFFER_OP, ...pkgLength(body.length), ...body];
}

/** Method(name, argCount, NotSerialized) { terms }. */
export function method(path: string, argCount: number, ...terms: Aml[]): Aml {
  if (!(argCount >= 0 && argCount <= 7)) throw new RangeError('AML methods take 0-7 arguments');
  const body = [...nameString(path), argCount, ...terms.flat()];
  return [METHOD_OP, ...pkgLength(body.length), ...body];
}

/** Return(value). */
export function ret(value: Aml): Aml {
  return [RETURN_OP, ...value];
}

function le(v: number, bytes: number): Aml {
  const out: Aml = [];
  for (let i = 0; i < bytes; i++) out.push((v >>> (8 * i)) & 0xff);
  return out;
}

// ---------------------------------------------------------------------------
// Resource descriptors (§6.4), for ResourceTemplate() buffers.

/** Address space resource types (§6.4.3.5, byte 3). */
export const RES_MEMORY = 0;
export const RES_IO = 1;
export const RES_BUS = 2;

// General flags (byte 4): a producer window with fixed ends and positive decode, as a
// host bridge's _CRS declares (ResourceProducer, MinFixed, MaxFixed, PosDecode).
const GEN_MIN_FIXED = 1 << 2;
const GEN_MAX_FIXED = 1 << 3;
const GEN_PRODUCER_FIXED = GEN_MIN_FIXED | GEN_MAX_FIXED;

/** Type-specific flags of an I/O range: EntireRange (ISA and non-ISA ports). */
export const IO_ENTIRE_RANGE = 0x03;
/** Type-specific flags of a memory range: ReadWrite, and NonCacheable or Cacheable. */
export const MEM_RW_NONCACHEABLE = 0x01;
export const MEM_RW_CACHEABLE = 0x03;

/** Word Address Space Descriptor (§6.4.3.5.3): WordBusNumber / WordIO. */
export function wordAddressSpace(type: number, typeFlags: number, min: number, max: number): Aml {
  if (!(min >= 0 && max <= 0xffff && min <= max)) throw new RangeError(`word range ${min}-${max}`);
  return [0x88, 13, 0, type, GEN_PRODUCER_FIXED, typeFlags, ...le(0, 2), ...le(min, 2), ...le(max, 2), ...le(0, 2), ...le(max - min + 1, 2)];
}

/** DWord Address Space Descriptor (§6.4.3.5.2): DWordMemory / DWordIO. */
export function dwordAddressSpace(type: number, typeFlags: number, min: number, max: number): Aml {
  if (!(min >= 0 && max <= 0xffffffff && min <= max)) throw new RangeError(`dword range ${min}-${max}`);
  return [0x87, 23, 0, type, GEN_PRODUCER_FIXED, typeFlags, ...le(0, 4), ...le(min, 4), ...le(max, 4), ...le(0, 4), ...le(max - min + 1, 4)];
}

/** I/O Port Descriptor (§6.4.2.5), 16-bit decode: IO(Decode16, min, max, align, length). */
export function ioPort(min: number, max: number, align: number, length: number): Aml {
  return [0x47, 0x01, ...le(min, 2), ...le(max, 2), align & 0xff, length & 0xff];
}

/** ResourceTemplate() { descriptors }: a Buffer ending in an End Tag (checksum 0 = none, §6.4.2.9). */
export function resourceTemplate(...descriptors: Aml[]): Aml {
  return buffer([...descriptors.flat(), 0x79, 0x00]);
}

/** 32-Bit Fixed Memory Range Descriptor (§6.4.3.4): Memory32Fixed(ReadWrite|ReadOnly, base, length). */
export function memory32Fixed(writable: boolean, base: number, length: number): Aml {
  if (!(base >= 0 && length > 0 && base + length - 1 <= 0xffffffff)) throw new RangeError(`memory range ${base}+${length}`);
  return [0x86, 9, 0, writable ? 1 : 0, ...le(base, 4), ...le(length, 4)];
}

// Extended Interrupt Descriptor flags (§6.4.3.6, byte 3).
export const INT_CONSUMER = 1 << 0;
export const INT_EDGE = 1 << 1; // 0: level-triggered
export const INT_ACTIVE_LOW = 1 << 2; // 0: active-high
export const INT_SHARED = 1 << 3; // 0: exclusive

/** Extended Interrupt Descriptor (§6.4.3.6): Interrupt(flags) { irqs }, no resource source. */
export function extendedInterrupt(flags: number, irqs: readonly number[]): Aml {
  if (irqs.length < 1 || irqs.length > 255) throw new RangeError('an Interrupt descriptor lists 1-255 interrupts');
  return [0x89, ...le(2 + 4 * irqs.length, 2), flags & 0x1f, irqs.length, ...irqs.flatMap((n) => le(n, 4))];
}
