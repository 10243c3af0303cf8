import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IoBus } from '../../src/machine/IoBus.js';
import { FwCfg, FW_CFG_FILE_DIR, FW_CFG_ID, FW_CFG_MAX_CPUS, FW_CFG_NB_CPUS, FW_CFG_NOGRAPHIC, FW_CFG_RAM_SIZE, FW_CFG_SIGNATURE } from '../../src/devices/FwCfg.js';
import { buildE820 } from '../../src/boot/E820.js';

const RAM = 128 * 1024 * 1024;

function setup() {
  const bus = new IoBus();
  const e820 = buildE820(RAM);
  const dev = new FwCfg({ ramSize: RAM, e820 });
  dev.attach(bus);
  const select = (key: number): void => bus.write(0x510, 2, key);
  const read = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => bus.read(0x511, 1));
  const item = (key: number, n: number): Uint8Array => { select(key); return read(n); };
  const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  /** The directory as SeaBIOS walks it: count, then (size, select, name) entries, big-endian. */
  const dir = (): { size: number; select: number; name: string }[] => {
    select(FW_CFG_FILE_DIR);
    const count = dv(read(4)).getUint32(0, false);
    const out = [];
    for (let i = 0; i < count; i++) {
      const e = read(64);
      const nul = e.indexOf(0, 8);
      out.push({ size: dv(e).getUint32(0, false), select: dv(e).getUint16(4, false), name: String.fromCharCode(...e.subarray(8, nul)) });
    }
    return out;
  };
  return { bus, dev, e820, select, read, item, dv, dir };
}

test('signature "QEMU" at key 0 and the ID (traditional interface, no DMA)', () => {
  const { item, dv } = setup();
  assert.equal(String.fromCharCode(...item(FW_CFG_SIGNATURE, 4)), 'QEMU');
  assert.equal(dv(item(FW_CFG_ID, 4)).getUint32(0, true), 1);
});

test('legacy items: RAM size (u64 LE), one CPU present and possible, no graphics', () => {
  const { item, dv } = setup();
  assert.equal(Number(dv(item(FW_CFG_RAM_SIZE, 8)).getBigUint64(0, true)), RAM);
  assert.equal(dv(item(FW_CFG_NB_CPUS, 2)).getUint16(0, true), 1);
  assert.equal(dv(item(FW_CFG_MAX_CPUS, 2)).getUint16(0, true), 1);
  assert.equal(dv(item(FW_CFG_NOGRAPHIC, 2)).getUint16(0, true), 1);
});

test('file directory: big-endian count, sizes and selectors from 0x20; names NUL-terminated', () => {
  const { dir, e820 } = setup();
  const files = dir();
  assert.deepEqual(files.map((f) => f.name), ['etc/e820', 'bootorder', 'etc/boot-fail-wait']);
  assert.deepEqual(files.map((f) => f.select), [0x20, 0x21, 0x22]);
  assert.deepEqual(files.map((f) => f.size), [20 * e820.length, 0, 4]);
});

test('file reads: etc/e820 holds the loader\'s e820 list; boot-fail-wait is -1; reads past the end give 0', () => {
  const { dir, item, dv, e820, read, select } = setup();
  const files = dir();
  const f = files.find((x) => x.name === 'etc/e820')!;
  const body = item(f.select, f.size);
  const got = e820.map((_e, i) => ({
    addr: Number(dv(body).getBigUint64(20 * i, true)),
    size: Number(dv(body).getBigUint64(20 * i + 8, true)),
    type: dv(body).getUint32(20 * i + 16, true),
  }));
  assert.deepEqual(got, e820);
  assert.ok(got.some((e) => e.type === 1 && e.addr + e.size === RAM));
  const wait = files.find((x) => x.name === 'etc/boot-fail-wait')!;
  assert.equal(dv(item(wait.select, 4)).getUint32(0, true), 0xffffffff);
  assert.deepEqual(Array.from(read(3)), [0, 0, 0]);
  select(0x1234); // no such item
  assert.deepEqual(Array.from(read(2)), [0, 0]);
});

test('selecting again rewinds; reset and saveState/loadState keep the read position', () => {
  const { item, select, read, dev, bus } = setup();
  item(FW_CFG_SIGNATURE, 2);
  assert.equal(String.fromCharCode(...item(FW_CFG_SIGNATURE, 4)), 'QEMU');
  select(FW_CFG_SIGNATURE);
  read(1);
  const saved = JSON.parse(JSON.stringify(dev.saveState()));
  const other = new FwCfg({ ramSize: RAM });
  const bus2 = new IoBus();
  other.attach(bus2);
  other.loadState(saved);
  assert.equal(String.fromCharCode(bus2.read(0x511, 1), bus2.read(0x511, 1), bus2.read(0x511, 1)), 'EMU');
  dev.reset();
  assert.equal(String.fromCharCode(bus.read(0x511, 1)), 'Q'); // reset selects the signature
  assert.throws(() => dev.loadState({ selector: 'x' }), TypeError);
});

test('addFile lists a new file and refuses duplicates and over-long names', () => {
  const { dev, dir, item } = setup();
  const sel = dev.addFile('etc/test', new Uint8Array([1, 2, 3]));
  assert.equal(sel, 0x23);
  assert.deepEqual(dir().at(-1), { size: 3, select: 0x23, name: 'etc/test' });
  assert.deepEqual(Array.from(item(sel, 3)), [1, 2, 3]);
  assert.throws(() => dev.addFile('etc/test', new Uint8Array(0)));
  assert.throws(() => dev.addFile('x'.repeat(56), new Uint8Array(0)), RangeError);
});
