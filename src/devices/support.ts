// Shared helpers for the legacy devices: exact tick <-> ns conversion for counters
// clocked off a fixed crystal, and checks for the plain data that loadState receives.

/** Whole ticks of an `hz` clock that have elapsed in `ns` nanoseconds (floor). */
export function nsToTicks(ns: number, hz: number): number {
  if (ns <= 0) return 0;
  // Split so neither product leaves the exact range of a double (ns up to ~2^53).
  const q = Math.floor(ns / 1e9);
  const r = ns - q * 1e9;
  return q * hz + Math.floor((r * hz) / 1e9);
}

/** The first ns at which `ticks` ticks of an `hz` clock have elapsed (ceil). */
export function ticksToNs(ticks: number, hz: number): number {
  if (ticks <= 0) return 0;
  const q = Math.floor(ticks / hz);
  const r = ticks - q * hz;
  return q * 1e9 + Math.ceil((r * 1e9) / hz);
}

export function toBcd(v: number): number {
  return ((Math.floor(v / 10) % 10) << 4) | (v % 10);
}

export function fromBcd(v: number): number {
  return (v >> 4) * 10 + (v & 0x0f);
}

// ---- loadState checks: saved state is plain JSON data, checked field by field ----

export type StateRecord = Record<string, unknown>;

export function stateRecord(s: unknown, what: string): StateRecord {
  if (typeof s !== 'object' || s === null || Array.isArray(s)) throw new TypeError(`${what}: saved state is not an object`);
  return s as StateRecord;
}

export function stateNum(s: StateRecord, key: string, what: string): number {
  const v = s[key];
  // Infinity does not survive JSON; null stands for it in saved deadlines.
  if (v === null) return Infinity;
  if (typeof v !== 'number' || Number.isNaN(v)) throw new TypeError(`${what}: saved field ${key} is not a number`);
  return v;
}

/** A whole number 0 to 2^32 - 1 (a register's saved value). */
export function stateU32(s: StateRecord, key: string, what: string): number {
  const v = s[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new TypeError(`${what}: saved field ${key} is not a 32-bit value`);
  return v;
}

/** An array of `length` 32-bit values (register banks). */
export function stateU32s(s: StateRecord, key: string, what: string, length: number): number[] {
  const a = stateArray(s, key, what, length);
  for (const w of a) if (typeof w !== 'number' || !Number.isInteger(w) || w < 0 || w > 0xffffffff) throw new TypeError(`${what}: saved field ${key} holds a value that is not 32-bit`);
  return a as number[];
}

export function stateBool(s: StateRecord, key: string, what: string): boolean {
  const v = s[key];
  if (typeof v !== 'boolean') throw new TypeError(`${what}: saved field ${key} is not a boolean`);
  return v;
}

export function stateBytes(s: StateRecord, key: string, what: string, length?: number): number[] {
  const v = s[key];
  if (!Array.isArray(v) || (length !== undefined && v.length !== length)) {
    throw new TypeError(`${what}: saved field ${key} is not a byte array${length !== undefined ? ` of length ${length}` : ''}`);
  }
  for (const b of v) {
    if (typeof b !== 'number' || !Number.isInteger(b) || b < 0 || b > 0xff) throw new TypeError(`${what}: saved field ${key} holds a non-byte`);
  }
  return v as number[];
}

export function stateArray(s: StateRecord, key: string, what: string, length?: number): unknown[] {
  const v = s[key];
  if (!Array.isArray(v) || (length !== undefined && v.length !== length)) {
    throw new TypeError(`${what}: saved field ${key} is not an array${length !== undefined ? ` of length ${length}` : ''}`);
  }
  return v;
}

/** Infinity as JSON-safe data (null), for timer deadlines in saved state. */
export function saveDeadline(d: number): number | null {
  return d === Infinity ? null : d;
}
