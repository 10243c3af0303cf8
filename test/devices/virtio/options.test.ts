import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachVirtio, parseDriveOption, parseHostForward, parseNetOption, parseVsockOption } from '../../../src/devices/virtio/options.js';
import { PciHost } from '../../../src/devices/PciHost.js';
import { closeHostedSwitches } from '../../../src/net/SwitchBackend.js';
import { newMemory } from './fakeGuest.js';

const dir = mkdtempSync(join(tmpdir(), 'typevisor-opts-'));
after(() => {
  closeHostedSwitches();
  rmSync(dir, { recursive: true, force: true });
});

test('--drive parsing', () => {
  assert.deepEqual(parseDriveOption('file=/tmp/a.img'), { file: '/tmp/a.img', readonly: false });
  assert.deepEqual(parseDriveOption('file=a.img,readonly,id=root'), { file: 'a.img', readonly: true, id: 'root' });
  assert.deepEqual(parseDriveOption('file=a.img,readonly=off,format=raw,if=virtio'), { file: 'a.img', readonly: false });
  assert.throws(() => parseDriveOption('readonly'), /^Error: --drive: file=PATH is required$/);
  assert.throws(() => parseDriveOption('file=a,cache=none'), /--drive: unknown key "cache"/);
  assert.throws(() => parseDriveOption('file=a,format=qcow2'), /only raw/);
  assert.throws(() => parseDriveOption('file=a,id=' + 'x'.repeat(21)), /1-20 printable/);
  assert.throws(() => parseDriveOption('file=a,readonly=maybe'), /expected on or off/);
});

test('--net parsing', () => {
  assert.deepEqual(parseNetOption('user'), { kind: 'user', hostfwd: [] });
  assert.deepEqual(parseNetOption('user,hostfwd=tcp::8080-:80,hostfwd=udp:127.0.0.1:5353-:53,mac=52:54:00:aa:bb:cc'), {
    kind: 'user',
    hostfwd: [
      { proto: 'tcp', hostPort: 8080, guestPort: 80 },
      { proto: 'udp', hostAddr: '127.0.0.1', hostPort: 5353, guestPort: 53 },
    ],
    mac: '52:54:00:aa:bb:cc',
  });
  assert.deepEqual(parseNetOption('tap,ifname=tap0'), { kind: 'tap', ifname: 'tap0' });
  assert.deepEqual(parseNetOption('switch,path=/tmp/sw.sock'), { kind: 'switch', path: '/tmp/sw.sock' });
  assert.deepEqual(parseNetOption('socket,path=/tmp/sw.sock,mac=52:54:00:00:00:01'), { kind: 'switch', path: '/tmp/sw.sock', mac: '52:54:00:00:00:01' });
  assert.throws(() => parseNetOption('bridge'), /unknown backend "bridge"/);
  assert.throws(() => parseNetOption('user,hostfwd=tcp:8080:80'), /expected tcp::HOSTPORT-:GUESTPORT/);
  assert.throws(() => parseNetOption('user,hostfwd=tcp::0-:80'), /bad host port/);
  assert.throws(() => parseNetOption('user,mac=01:00:00:00:00:00'), /multicast/);
  assert.throws(() => parseNetOption('tap'), /ifname=NAME is required/);
  assert.throws(() => parseNetOption('switch'), /path=SOCK is required/);
  assert.deepEqual(parseHostForward('tcp::2222-10.0.2.15:22'), { proto: 'tcp', hostPort: 2222, guestPort: 22 });
});

test('--vsock parsing', () => {
  assert.deepEqual(parseVsockOption('cid=3,path=/tmp/v.sock'), { cid: 3, path: '/tmp/v.sock' });
  assert.throws(() => parseVsockOption('cid=2,path=x'), /cid=2: expected a number from 3/);
  assert.throws(() => parseVsockOption('path=x'), /cid=N is required/);
  assert.throws(() => parseVsockOption('cid=5'), /path=SOCK is required/);
});

function fakePic() {
  const lines = new Map<number, boolean[]>();
  return { lines, irqLine: (n: number) => (l: boolean) => lines.set(n, [...(lines.get(n) ?? []), l]) };
}

test('attachVirtio over MMIO: windows mapped, command line, IRQs, console handle, close', async () => {
  const img = join(dir, 'a.img');
  writeFileSync(img, Buffer.alloc(1 << 20));
  const memory = newMemory(4);
  const pic = fakePic();
  const v = await attachVirtio(
    { memory, pic },
    {
      drives: [{ file: img, readonly: false, id: 'root' }, { file: img, readonly: true }],
      nets: [{ kind: 'switch', path: join(dir, 'sw.sock') }],
      console: true,
      rng: true,
      vsock: { cid: 3, path: join(dir, 'v.sock') },
    },
  );
  assert.deepEqual(v.devices.map((d) => d.deviceId), [2, 2, 1, 3, 4, 19]);
  assert.equal(
    v.cmdline,
    'virtio_mmio.device=4K@0xd0000000:5 virtio_mmio.device=4K@0xd0001000:6 virtio_mmio.device=4K@0xd0002000:7 ' +
      'virtio_mmio.device=4K@0xd0003000:12 virtio_mmio.device=4K@0xd0004000:15 virtio_mmio.device=4K@0xd0005000:14',
  );
  assert.deepEqual(v.levelIrqs, [5, 6, 7, 12, 14, 15]);
  for (let i = 0; i < 6; i++) assert.equal(memory.read32(0xd0000000 + i * 0x1000) >>> 0, 0x74726976);
  assert.equal(memory.read32(0xd0005008), 19);
  assert.ok(v.console);
  assert.equal(v.pendingIo(), 0);
  assert.equal(v.transports.length, 6);
  const st = JSON.parse(JSON.stringify(v.transports.map((t) => t.saveState())));
  v.transports.forEach((t, i) => t.loadState(st[i]));
  await v.close();
});

test('attachVirtio over MMIO shares IRQ lines (wired-OR) when there are more devices than IRQs', async () => {
  const memory = newMemory(4);
  const pic = fakePic();
  const v = await attachVirtio({ memory, pic, mmioIrqs: [9] }, { rng: true, console: true });
  assert.equal(v.cmdline, 'virtio_mmio.device=4K@0xd0000000:9 virtio_mmio.device=4K@0xd0001000:9');
  await v.close();
});

test('attachVirtio on PCI: virtio functions from slot 3 with their routed IRQs', async () => {
  const memory = newMemory(4);
  const pci = new PciHost();
  const v = await attachVirtio({ memory, pci, pic: fakePic() }, { rng: true, console: true });
  assert.equal(v.cmdline, '');
  assert.equal(pci.device(3)?.deviceId, 0x1043);
  assert.equal(pci.device(4)?.deviceId, 0x1044);
  assert.deepEqual(v.levelIrqs, [11], 'slots 3 and 4 INTA -> PIRQC/D -> IRQ 11 by default');
  await v.close();
});

test('attachVirtio errors are one line and name the option', async () => {
  await assert.rejects(attachVirtio({ memory: newMemory(4), pic: fakePic() }, { drives: [{ file: join(dir, 'missing.img'), readonly: true }] }), /^Error: --drive .*missing\.img: cannot open \(ENOENT\)$/);
  await assert.rejects(attachVirtio({ memory: newMemory(4), pic: fakePic() }, { nets: [{ kind: 'tap', ifname: 'tvnosuch2' }] }), /^Error: --net tap,ifname=tvnosuch2: (there is no network interface tvnosuch2|\/dev\/net\/tun does not exist)/);
});

test('a shared MMIO interrupt line pulses so an edge-triggered 8259 sees every new source', async () => {
  const { SharedIrq } = await import('../../../src/devices/virtio/options.js');
  const seen: boolean[] = [];
  const sh = new SharedIrq((l) => seen.push(l));
  const a = sh.source();
  const b = sh.source();
  a(true);
  assert.deepEqual(seen, [true]);
  b(true);
  assert.deepEqual(seen, [true, false, true], 'a new edge for b');
  a(false);
  b(true);
  assert.deepEqual(seen, [true, false, true], 'no change');
  b(false);
  assert.deepEqual(seen, [true, false, true, false]);
});
