// A pause waits for the VM's host I/O in flight, however long a busy host takes with it:
// PATCH /vm Paused on a VM whose disk read is stuck behind the host's thread pool (here
// held by reads of FIFOs with no writer; on a loaded host, by other work) answers once
// the read completes, not with an error after a few seconds (it did after 5 s, while the
// VM went on to pause anyway). On resume the guest has its data.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, open, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiServer } from '../../src/vmm/api/ApiServer.js';
import { Vmm } from '../../src/vmm/Vmm.js';
import { SerialSession } from '../machine/serialSession.js';
import { api } from './apiClient.js';
import { multiboot, ok, STEP_GUARD_MS, TEST_GUARD_MS, waitUntil } from './managerSupport.js';

const dir = mkdtempSync(join(tmpdir(), 'typevisor-slowio-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Where the VMM's first virtio-mmio device (the drive) is, and the guest's rings and buffers. */
const MMIO = 0xd0000000;
const LOAD = 0x100000;
const DESC = 0x101000, AVAIL = 0x101100, USED = 0x101200, REQ = 0x101300, DATA = 0x101400, STATUS = 0x101600;

/**
 * A multiboot kernel that waits for a byte on COM1, then sets up virtio-blk's queue 0
 * (virtio 1.2 §3.1.1, §4.2.3.2: status ACKNOWLEDGE|DRIVER, VERSION_1 accepted,
 * FEATURES_OK, the queue's addresses, DRIVER_OK), makes one read of sector 0 (§5.2.6: a
 * header, 512 data bytes, a status byte), prints "S", waits for the used ring, prints the
 * sector's first byte and powers off. Interrupts stay off: it polls.
 */
function diskReaderKernel(): Uint8Array {
  const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
  const reg = (off: number, v: number): number[] => [0xc7, 0x05, ...le32(MMIO + off), ...le32(v)]; // mov dword [MMIO+off], v
  const putc = (c: number): number[] => [0xb0, c, 0xee]; // mov al, c; out dx, al
  const code = [
    0x66, 0xba, 0xfc, 0x03, 0xb0, 0x03, 0xee, // MCR: DTR|RTS
    0x66, 0xba, 0xfd, 0x03, 0xec, 0xa8, 0x01, 0x74, 0xfb, // wait for LSR.DR
    0x66, 0xba, 0xf8, 0x03, 0xec, // take the byte (DX stays COM1's data port)
    ...reg(0x070, 0), ...reg(0x070, 3), // reset; ACKNOWLEDGE | DRIVER
    ...reg(0x024, 1), ...reg(0x020, 1), ...reg(0x024, 0), ...reg(0x020, 0), // VERSION_1 (feature bit 32) only
    ...reg(0x070, 0xb), // FEATURES_OK
    ...reg(0x030, 0), ...reg(0x038, 8), // queue 0, 8 entries
    ...reg(0x080, DESC), ...reg(0x084, 0), ...reg(0x090, AVAIL), ...reg(0x094, 0), ...reg(0x0a0, USED), ...reg(0x0a4, 0),
    ...reg(0x044, 1), ...reg(0x070, 0xf), // queue ready; DRIVER_OK
    ...reg(0x050, 0), // notify queue 0: the read goes to the host now
    ...putc(0x53), ...putc(0x0a), // "S\n"
    0x66, 0x83, 0x3d, ...le32(USED + 2), 0x00, 0x74, 0xf6, // cmp word [used.idx], 0; je back
    0xa0, ...le32(DATA), 0xee, ...putc(0x0a), // the sector's first byte, "\n"
    0x66, 0xba, 0x04, 0x06, 0x66, 0xb8, 0x00, 0x34, 0x66, 0xef, 0xeb, 0xfe, // ACPI S5 power-off
  ];
  const img = new Array<number>(STATUS + 16 - LOAD - 48).fill(0);
  img.splice(0, code.length, ...code);
  const at = (addr: number, bytes: number[]): void => { img.splice(addr - LOAD - 48, bytes.length, ...bytes); };
  const desc = (addr: number, len: number, flags: number, next: number): number[] => [...le32(addr), 0, 0, 0, 0, ...le32(len), flags, 0, next, 0];
  at(DESC, [...desc(REQ, 16, 1, 1), ...desc(DATA, 512, 3, 2), ...desc(STATUS, 1, 2, 0)]); // NEXT; NEXT|WRITE; WRITE
  at(AVAIL, [1, 0, 1, 0, 0, 0]); // flags NO_INTERRUPT, idx 1, ring[0] = descriptor 0; the header (REQ) is zeros: a read of sector 0
  return multiboot(img);
}

/** A VMM serving the disk-reader guest, its read held on the host (every libuv pool thread in open() of a FIFO with no writer) until release(). */
async function vmWithHeldRead(name: string): Promise<{ sock: string; vmm: Vmm; serial: SerialSession; release: () => void; end: () => Promise<void> }> {
  writeFileSync(join(dir, 'reader.bin'), diskReaderKernel());
  const disk = join(dir, `${name}.img`);
  writeFileSync(disk, Buffer.concat([Buffer.from('Q'), Buffer.alloc(4095)]));
  const serial = new SerialSession();
  const vmm = new Vmm({ pacing: 'fast', serialOut: (b) => serial.push(b) });
  const server = new ApiServer(vmm);
  const sock = join(dir, `${name}.sock`);
  await server.listen(sock);
  const fifo = join(dir, `${name}.fifo`);
  execFileSync('mkfifo', [fifo]);
  // Every thread of libuv's pool (the process's, which the VM's worker thread shares)
  // waits in open() of a FIFO with no writer; the guest's read queues behind them.
  const poolSize = Number(process.env['UV_THREADPOOL_SIZE']) || 4;
  const opened: Promise<number>[] = [];
  let writer: number | null = null;
  const release = (): void => { if (writer === null) writer = openSync(fifo, 'r+'); }; // a writer: every open() returns
  const end = async (): Promise<void> => {
    release();
    for (const fd of await Promise.allSettled(opened)) if (fd.status === 'fulfilled') closeSync(fd.value);
    closeSync(writer!);
    await vmm.shutdown();
    await server.close();
  };
  try {
    await ok(sock, 'PUT', '/boot-source', { kernel_image_path: join(dir, 'reader.bin') });
    await ok(sock, 'PUT', '/machine-config', { vcpu_count: 1, mem_size_mib: 8 });
    await ok(sock, 'PUT', '/drives/d', { drive_id: 'd', path_on_host: disk, is_root_device: false, is_read_only: true });
    await ok(sock, 'PUT', '/actions', { action_type: 'InstanceStart' });
    for (let i = 0; i < poolSize; i++) opened.push(new Promise((r, j) => open(fifo, 'r', (e, fd) => { if (e) j(e); else r(fd); })));
    vmm.serialInput(Buffer.from('x'));
    await serial.waitFor(/S\n/, STEP_GUARD_MS); // the read is with the host: the guest notified the queue before printing
  } catch (e) {
    await end();
    throw e;
  }
  return { sock, vmm, serial, release, end };
}

test('PATCH /vm Paused waits for a disk read held up on the host past the old 5 s limit, then answers 204; on resume the guest has the data', { skip: process.platform === 'win32' ? 'no mkfifo' : false, timeout: TEST_GUARD_MS }, async () => {
  const { sock, serial, release, end } = await vmWithHeldRead('held');
  let released = false;
  try {
    const paused = api(sock, 'PATCH', '/vm', { state: 'Paused' }).then((r) => ({ ...r, released }));
    await sleep(6000); // longer than the VMM used to wait for the pause
    released = true;
    release();
    const r = await paused;
    assert.equal(r.status, 204, r.text);
    assert.ok(r.released, 'the pause waited for the read in flight');
    assert.equal(((await api(sock, 'GET', '/')).body as { state: string }).state, 'Paused');
    await ok(sock, 'PATCH', '/vm', { state: 'Resumed' });
    await serial.waitFor(/Q\n/, STEP_GUARD_MS);
  } finally {
    await end();
  }
});

test('a VM that ends while its pause waits for host I/O answers the PATCH with 400 and the reason, not 204', { skip: process.platform === 'win32' ? 'no mkfifo' : false, timeout: TEST_GUARD_MS }, async () => {
  const { sock, vmm, end } = await vmWithHeldRead('ended');
  try {
    const paused = api(sock, 'PATCH', '/vm', { state: 'Paused' });
    // The control word says pause at once (GET / reports Paused); the VM parks only after the read.
    await waitUntil('the pause is under way', async () => ((await api(sock, 'GET', '/')).body as { state: string }).state === 'Paused');
    await vmm.shutdown();
    const r = await paused;
    assert.equal(r.status, 400, r.text);
    assert.match((r.body as { fault_message: string }).fault_message, /Cannot pause the microVM: it ended/);
  } finally {
    await end();
  }
});
