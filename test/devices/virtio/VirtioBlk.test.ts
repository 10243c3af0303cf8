import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtioBlk, BLK_S_IOERR, BLK_S_OK, BLK_S_UNSUPP, BLK_T_DISCARD, BLK_T_FLUSH, BLK_T_GET_ID, BLK_T_IN, BLK_T_OUT, BLK_T_WRITE_ZEROES } from '../../../src/devices/virtio/VirtioBlk.js';
import { VirtioMmio } from '../../../src/devices/virtio/VirtioMmio.js';
import { PhysicalMemory } from '../../../src/memory/PhysicalMemory.js';
import { Alloc, mmioFeatures, mmioInit, mmioNotify, mmioStatus, newMemory, w32, w64, S_NEEDS_RESET, type Seg } from './fakeGuest.js';

const dir = mkdtempSync(join(tmpdir(), 'typevisor-blk-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const quiet = { log: () => {} };
const SECTORS = 2048;

let n = 0;
function image(): string {
  const p = join(dir, `disk${n++}.img`);
  const b = Buffer.alloc(SECTORS * 512);
  for (let s = 0; s < SECTORS; s++) b.fill(s & 0xff, s * 512, s * 512 + 512);
  writeFileSync(p, b);
  return p;
}

async function rig(opts: { readonly?: boolean; id?: string; path?: string } = {}) {
  const path = opts.path ?? image();
  const mem = newMemory(4);
  const dev = await VirtioBlk.open(mem, { ...quiet, path, readonly: opts.readonly ?? false, ...(opts.id ? { id: opts.id } : {}) });
  const mmio = new VirtioMmio(dev, 0xd0000000, 5, () => {});
  const [q] = mmioInit(mmio, mem, { queueBase: 0x10000, sizes: [64] });
  return { path, mem, dev, mmio, q: q!, alloc: new Alloc(0x100000) };
}

type Rig = Awaited<ReturnType<typeof rig>>;

/** Post a request: header, data segments, status byte. Returns where the status byte is. */
function request(r: Rig, type: number, sector: number, data: Seg[] = []): { status: number; head: number } {
  const hdr = r.alloc.take(16);
  w32(r.mem, hdr, type);
  w32(r.mem, hdr + 4, 0);
  w64(r.mem, hdr + 8, sector);
  const status = r.alloc.take(1);
  r.mem.u8[status] = 0xee;
  const head = r.q.post([{ addr: hdr, len: 16 }, ...data, { addr: status, len: 1, write: true }]);
  return { status, head };
}

async function run(r: Rig): Promise<{ id: number; len: number }[]> {
  mmioNotify(r.mmio, 0);
  await r.dev.drain();
  return r.q.takeUsed();
}

test('config space and features: capacity in sectors, block size, RO only for read-only drives', async () => {
  const r = await rig();
  const cfg = (o: number, s: 1 | 2 | 4) => r.mmio.read(0x100 + o, s) >>> 0;
  assert.equal(cfg(0, 4), SECTORS);
  assert.equal(cfg(4, 4), 0);
  assert.equal(cfg(20, 4), 512);
  assert.equal(cfg(12, 4), 254, 'seg_max = queue size - 2');
  const [lo] = mmioFeatures(r.mmio);
  assert.equal((lo >>> 5) & 1, 0, 'not RO');
  assert.equal((lo >>> 9) & 1, 1, 'FLUSH');
  assert.equal((lo >>> 13) & 3, 3, 'DISCARD and WRITE_ZEROES');
  await r.dev.close();
  const ro = await rig({ readonly: true });
  const [rlo] = mmioFeatures(ro.mmio);
  assert.equal((rlo >>> 5) & 1, 1, 'RO');
  assert.equal((rlo >>> 13) & 3, 0);
  await ro.dev.close();
});

test('read: sectors from the image into split buffers; used length counts data and status', async () => {
  const r = await rig();
  const a = r.alloc.take(512);
  const b = r.alloc.take(1024);
  const { status, head } = request(r, BLK_T_IN, 5, [{ addr: a, len: 512, write: true }, { addr: b, len: 1024, write: true }]);
  assert.deepEqual(await run(r), [{ id: head, len: 1537 }]);
  assert.equal(r.mem.u8[status], BLK_S_OK);
  assert.ok(r.mem.u8.subarray(a, a + 512).every((x) => x === 5));
  assert.ok(r.mem.u8.subarray(b, b + 512).every((x) => x === 6));
  assert.ok(r.mem.u8.subarray(b + 512, b + 1024).every((x) => x === 7));
  await r.dev.close();
});

test('write completes only after the host write; flush; the file holds the data', async () => {
  const r = await rig();
  const a = r.alloc.take(1024);
  r.mem.u8.fill(0xab, a, a + 1024);
  const { status } = request(r, BLK_T_OUT, 100, [{ addr: a, len: 1024 }]);
  mmioNotify(r.mmio, 0);
  assert.equal(r.q.usedIdx(), 0, 'not completed synchronously');
  assert.equal(r.dev.pendingIo(), 1);
  await r.dev.drain();
  assert.equal(r.q.usedIdx(), 1);
  assert.equal(r.mem.u8[status], BLK_S_OK);
  const f = request(r, BLK_T_FLUSH, 0);
  await run(r);
  assert.equal(r.mem.u8[f.status], BLK_S_OK);
  assert.equal(r.dev.counts.flush, 1);
  const img = readFileSync(r.path);
  assert.ok(img.subarray(100 * 512, 102 * 512).every((x) => x === 0xab));
  assert.ok(img.subarray(99 * 512, 100 * 512).every((x) => x === 99));
  assert.ok(img.subarray(102 * 512, 103 * 512).every((x) => x === 102));
  await r.dev.close();
});

test('get-id returns the drive id (20 bytes max, NUL-padded)', async () => {
  const r = await rig({ id: 'disk-one' });
  const a = r.alloc.take(20);
  r.mem.u8.fill(0xff, a, a + 20);
  const { status, head } = request(r, BLK_T_GET_ID, 0, [{ addr: a, len: 20, write: true }]);
  assert.deepEqual(await run(r), [{ id: head, len: 21 }]);
  assert.equal(r.mem.u8[status], BLK_S_OK);
  assert.equal(Buffer.from(r.mem.u8.subarray(a, a + 20)).toString('latin1'), 'disk-one'.padEnd(20, '\0'));
  await r.dev.close();
});

test('a read-only drive refuses writes with IOERR and leaves the image alone; reads still work', async () => {
  const r = await rig({ readonly: true });
  const before = readFileSync(r.path);
  const a = r.alloc.take(512);
  r.mem.u8.fill(0x11, a, a + 512);
  const w = request(r, BLK_T_OUT, 0, [{ addr: a, len: 512 }]);
  const d = request(r, BLK_T_DISCARD, 0, [{ addr: r.alloc.take(16), len: 16 }]);
  const b = r.alloc.take(512);
  const rd = request(r, BLK_T_IN, 1, [{ addr: b, len: 512, write: true }]);
  await run(r);
  assert.equal(r.mem.u8[w.status], BLK_S_IOERR);
  assert.equal(r.mem.u8[d.status], BLK_S_UNSUPP);
  assert.equal(r.mem.u8[rd.status], BLK_S_OK);
  assert.equal(r.mem.u8[b], 1);
  assert.ok(readFileSync(r.path).equals(before));
  await r.dev.close();
});

test('bad requests fail with a status: past the end, partial sectors, unknown type', async () => {
  const r = await rig();
  const a = r.alloc.take(1024);
  const s1 = request(r, BLK_T_IN, SECTORS - 1, [{ addr: a, len: 1024, write: true }]);
  const s2 = request(r, BLK_T_IN, 0, [{ addr: a, len: 100, write: true }]);
  const s3 = request(r, BLK_T_OUT, 2 ** 50, [{ addr: a, len: 512 }]);
  const s4 = request(r, 77, 0, []);
  await run(r);
  assert.equal(r.mem.u8[s1.status], BLK_S_IOERR);
  assert.equal(r.mem.u8[s2.status], BLK_S_IOERR);
  assert.equal(r.mem.u8[s3.status], BLK_S_IOERR);
  assert.equal(r.mem.u8[s4.status], BLK_S_UNSUPP);
  assert.equal(mmioStatus(r.mmio) & S_NEEDS_RESET, 0);
  await r.dev.close();
});

test('write-zeroes zeroes the range in the file; discard is accepted', async () => {
  const r = await rig();
  const seg = r.alloc.take(16);
  w64(r.mem, seg, 20);
  w32(r.mem, seg + 8, 3);
  w32(r.mem, seg + 12, 0);
  const z = request(r, BLK_T_WRITE_ZEROES, 0, [{ addr: seg, len: 16 }]);
  const d = request(r, BLK_T_DISCARD, 0, [{ addr: seg, len: 16 }]);
  const bad = r.alloc.take(16);
  w64(r.mem, bad, SECTORS - 1);
  w32(r.mem, bad + 8, 2);
  const e = request(r, BLK_T_WRITE_ZEROES, 0, [{ addr: bad, len: 16 }]);
  await run(r);
  assert.equal(r.mem.u8[z.status], BLK_S_OK);
  assert.equal(r.mem.u8[d.status], BLK_S_OK);
  assert.equal(r.mem.u8[e.status], BLK_S_IOERR);
  const img = readFileSync(r.path);
  assert.ok(img.subarray(20 * 512, 23 * 512).every((x) => x === 0));
  assert.ok(img.subarray(23 * 512, 24 * 512).every((x) => x === 23));
  await r.dev.close();
});

test('a request without a status byte marks the device as needing reset', async () => {
  const r = await rig();
  const hdr = r.alloc.take(16);
  r.q.post([{ addr: hdr, len: 16 }]);
  assert.doesNotThrow(() => mmioNotify(r.mmio, 0));
  assert.equal(mmioStatus(r.mmio) & S_NEEDS_RESET, S_NEEDS_RESET);
  await r.dev.close();
});

test('a reset while a read is in flight: the completion never touches guest memory', async () => {
  const r = await rig();
  const a = r.alloc.take(512);
  const { status } = request(r, BLK_T_IN, 9, [{ addr: a, len: 512, write: true }]);
  mmioNotify(r.mmio, 0);
  r.mmio.write(0x070, 4, 0); // reset
  await r.dev.drain();
  assert.equal(r.mem.u8[status], 0xee);
  assert.equal(r.mem.u8[a], 0);
  assert.equal(r.q.usedIdx(), 0);
  await r.dev.close();
});

test('save with a request in flight, load elsewhere: the request runs again and completes', async () => {
  const r = await rig();
  const a = r.alloc.take(512);
  const { status, head } = request(r, BLK_T_IN, 42, [{ addr: a, len: 512, write: true }]);
  mmioNotify(r.mmio, 0);
  const state = JSON.parse(JSON.stringify(r.mmio.saveState()));
  const snapshotRam = r.mem.u8.slice();
  await r.dev.drain();
  const mem2 = new PhysicalMemory(r.mem.ramSize);
  mem2.u8.set(snapshotRam);
  const dev2 = await VirtioBlk.open(mem2, { ...quiet, path: r.path });
  const mmio2 = new VirtioMmio(dev2, 0xd0000000, 5, () => {});
  mmio2.loadState(state);
  await dev2.drain();
  assert.equal(mem2.u8[r.q.used + 2], 1, 'used idx');
  assert.equal(mem2.u8[r.q.used + 4], head);
  assert.equal(mem2.u8[status], BLK_S_OK);
  assert.equal(mem2.u8[a], 42);
  await r.dev.close();
  await dev2.close();
});

test('a named pipe as a drive (or as a swapped-in medium) is refused at once, not opened: the open would wait for a writer forever', { timeout: 120_000, skip: process.platform === 'win32' ? 'no mkfifo' : false }, async () => {
  const fifo = join(dir, 'drive.fifo');
  execFileSync('mkfifo', [fifo]);
  for (const readonly of [true, false]) {
    await assert.rejects(VirtioBlk.open(newMemory(4), { path: fifo, readonly }), /^Error: --drive .*drive\.fifo: not a regular file or block device$/);
  }
  const img = join(dir, 'fifo-swap.img');
  writeFileSync(img, Buffer.alloc(4096));
  const dev = await VirtioBlk.open(newMemory(4), { path: img, readonly: true });
  await assert.rejects(dev.swapMedium(fifo), /not a regular file or block device/);
  await dev.close();
});

test('an image the host cannot read (EIO) is refused when the drive opens, not at the guest\'s first request', { skip: existsSync('/proc/self/mem') ? false : 'no /proc/self/mem' }, async () => {
  await assert.rejects(VirtioBlk.open(newMemory(4), { path: '/proc/self/mem', readonly: true }), /^Error: --drive \/proc\/self\/mem: cannot be read \(EIO\)$/);
});

test('opening a missing image fails with a one-line message naming --drive', async () => {
  await assert.rejects(VirtioBlk.open(newMemory(4), { path: join(dir, 'nope.img') }), /^Error: --drive .*nope\.img: cannot open for writing \(ENOENT\)$/);
});

// A block device as the image: stat gives it size 0, so the capacity comes from sysfs.
const canLoop = process.platform === 'linux' && process.getuid?.() === 0 && existsSync('/dev/loop-control');
test('a block device as the image: its capacity is the device\'s size, not stat\'s 0', { skip: canLoop ? false : 'needs root and loop devices (losetup)' }, async (t) => {
  const backing = image();
  let loop: string;
  try {
    loop = execFileSync('losetup', ['-f', '--show', backing], { encoding: 'utf8' }).trim();
  } catch (e) {
    t.skip(`losetup could not attach a loop device: ${(e as Error).message.split('\n')[0]}`);
    return;
  }
  try {
    const r = await rig({ path: loop, readonly: true });
    assert.equal(r.mmio.read(0x100, 4) >>> 0, SECTORS);
    const { status } = request(r, BLK_T_IN, SECTORS - 1, [{ addr: 0x200000, len: 512, write: true }]);
    await run(r);
    assert.equal(r.mem.u8[status], BLK_S_OK, 'the last sector reads');
    assert.equal(r.mem.u8[0x200000], (SECTORS - 1) & 0xff);
    await r.dev.close();
  } finally {
    execFileSync('losetup', ['-d', loop]);
  }
});
