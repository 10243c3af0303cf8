// A WebAssembly binary module writer, just what the translator needs (WebAssembly Core
// Specification 2.0 §5, binary format): function types, imported functions and memory,
// defined functions (the first exported as "run") and their bodies. Opcodes are the spec's.

/** Value types. */
export const I32 = 0x7f, I64 = 0x7e;

/** Opcodes used by the code generator. */
export const Op = {
  unreachable: 0x00, block: 0x02, loop: 0x03, if: 0x04, else: 0x05, try: 0x06, rethrow: 0x09, catchAll: 0x19, end: 0x0b, br: 0x0c, brIf: 0x0d, brTable: 0x0e,
  return: 0x0f, call: 0x10, returnCall: 0x12, returnCallIndirect: 0x13, drop: 0x1a, select: 0x1b,
  localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Load: 0x28, i32Load8U: 0x2d, i32Load16U: 0x2f, i32Store: 0x36, i32Store8: 0x3a, i32Store16: 0x3b,
  i32Const: 0x41, i64Const: 0x42,
  i32Eqz: 0x45, i32Eq: 0x46, i32Ne: 0x47, i32LtS: 0x48, i32LtU: 0x49, i32GtS: 0x4a, i32GtU: 0x4b,
  i32LeS: 0x4c, i32LeU: 0x4d, i32GeS: 0x4e, i32GeU: 0x4f,
  i64Ne: 0x52,
  i32Clz: 0x67, i32Ctz: 0x68, i32Popcnt: 0x69, i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, i32DivS: 0x6d, i32DivU: 0x6e, i32RemS: 0x6f,
  i32RemU: 0x70, i32And: 0x71, i32Or: 0x72, i32Xor: 0x73, i32Shl: 0x74, i32ShrS: 0x75, i32ShrU: 0x76, i32Rotl: 0x77,
  i32Rotr: 0x78,
  i64Mul: 0x7e, i64ShrU: 0x88, i64ShrS: 0x87,
  i32WrapI64: 0xa7, i64ExtendI32S: 0xac, i64ExtendI32U: 0xad,
  i32Extend8S: 0xc0, i32Extend16S: 0xc1,
} as const;

/** Block type "no result". */
export const VOID = 0x40;

/** A growable byte buffer (code and module bytes are written into one). */
export class Bytes {
  buf: Uint8Array;
  length = 0;
  constructor(capacity = 256) { this.buf = new Uint8Array(capacity); }
  push(b: number): void {
    if (this.length === this.buf.length) this.grow(1);
    this.buf[this.length++] = b;
  }
  push2(a: number, b: number): void { this.push(a); this.push(b); }
  append(src: Bytes): void {
    if (this.length + src.length > this.buf.length) this.grow(src.length);
    this.buf.set(src.buf.subarray(0, src.length), this.length);
    this.length += src.length;
  }
  private grow(need: number): void {
    const b = new Uint8Array(Math.max(this.buf.length * 2, this.length + need));
    b.set(this.buf.subarray(0, this.length));
    this.buf = b;
  }
  bytes(): Uint8Array { return this.buf.slice(0, this.length); }
}

export function uleb(out: Bytes, v: number): void {
  v >>>= 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
}

export function sleb(out: Bytes, v: number): void {
  v |= 0;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) { out.push(b); return; }
    out.push(b | 0x80);
  }
}

function name(out: Bytes, s: string): void {
  uleb(out, s.length);
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
}

function section(out: Bytes, id: number, body: Bytes): void {
  out.push(id);
  uleb(out, body.length);
  out.append(body);
}

export interface FuncType { params: number[]; results: number[] }

export interface ModuleSpec {
  /** Imported functions, in index order, from module "rt". */
  imports: { name: string; type: FuncType }[];
  /** The imported shared memory ("rt" "mem"): its size in 64 KiB pages. */
  memoryPages: number;
  /** The imported function table ("rt" "tab", table 0): its maximum size; none when absent. */
  tableMax?: number;
  /** Defined functions, indexed after the imports. */
  funcs: FuncDef[];
  /** Exported functions by index; by default the first defined function as "run". */
  exports?: { name: string; func: number }[];
  /** Types the code names by index (call_indirect): they come first, from type 0. */
  types?: FuncType[];
  /**
   * A custom section "typevisor" holding this text. It changes nothing the code does, but
   * V8 caches compiled modules by their bytes: a module compiled again with other flags
   * (wasmTiering.compileOptimized) must not be served the first compilation.
   */
  tag?: string;
}

export interface FuncDef { type: FuncType; locals: { count: number; type: number }[]; body: Bytes }

/** Assemble the module's bytes. */
export function assemble(spec: ModuleSpec): Uint8Array {
  const types: FuncType[] = [];
  const typeIndex = (t: FuncType): number => {
    const i = types.findIndex((u) => u.params.join() === t.params.join() && u.results.join() === t.results.join());
    if (i >= 0) return i;
    types.push(t);
    return types.length - 1;
  };
  for (const t of spec.types ?? []) typeIndex(t);
  const funcTypes = spec.funcs.map((f) => typeIndex(f.type));
  const importTypes = spec.imports.map((i) => typeIndex(i.type));
  const out = new Bytes();
  for (const b of [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]) out.push(b);
  const ty = new Bytes();
  uleb(ty, types.length);
  for (const t of types) {
    ty.push(0x60);
    uleb(ty, t.params.length); for (const p of t.params) ty.push(p);
    uleb(ty, t.results.length); for (const r of t.results) ty.push(r);
  }
  section(out, 1, ty);
  const im = new Bytes();
  uleb(im, spec.imports.length + (spec.tableMax === undefined ? 1 : 2));
  spec.imports.forEach((imp, i) => { name(im, 'rt'); name(im, imp.name); im.push(0x00); uleb(im, importTypes[i]!); });
  name(im, 'rt'); name(im, 'mem'); im.push2(0x02, 0x03); uleb(im, spec.memoryPages); uleb(im, spec.memoryPages); // shared, min = max
  if (spec.tableMax !== undefined) { name(im, 'rt'); name(im, 'tab'); im.push2(0x01, 0x70); im.push(0x01); uleb(im, 1); uleb(im, spec.tableMax); } // funcref, min 1, max
  section(out, 2, im);
  const fn = new Bytes();
  uleb(fn, funcTypes.length);
  for (const t of funcTypes) uleb(fn, t);
  section(out, 3, fn);
  const ex = new Bytes();
  const exports = spec.exports ?? [{ name: 'run', func: spec.imports.length }];
  uleb(ex, exports.length);
  for (const x of exports) { name(ex, x.name); ex.push(0x00); uleb(ex, x.func); }
  section(out, 7, ex);
  const code = new Bytes();
  uleb(code, spec.funcs.length);
  for (const f of spec.funcs) {
    const head = new Bytes();
    uleb(head, f.locals.length);
    for (const l of f.locals) { uleb(head, l.count); head.push(l.type); }
    uleb(code, head.length + f.body.length);
    code.append(head);
    code.append(f.body);
  }
  section(out, 10, code);
  if (spec.tag !== undefined) {
    const custom = new Bytes();
    name(custom, 'typevisor');
    name(custom, spec.tag);
    section(out, 0, custom);
  }
  return out.bytes();
}
