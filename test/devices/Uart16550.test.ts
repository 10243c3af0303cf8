import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IoBus } from '../../src/machine/IoBus.js';
import { VirtualClock } from '../../src/machine/VirtualClock.js';
import { Uart16550 } from '../../src/devices/Uart16550.js';
import { clockRunner } from './runClock.js';

const B = 0x3f8;
const RBR = B, IER = B + 1, IIR = B + 2, LCR = B + 3, MCR = B + 4, LSR = B + 5, MSR = B + 6, SCR = B + 7;

function setup(withClock = true) {
  const clock = new VirtualClock();
  const bus = new IoBus();
  let irq = false;
  const uart = new Uart16550('com1', B, (l) => { irq = l; }, withClock ? clock : undefined);
  uart.attach(bus);
  const out: number[] = [];
  uart.onTransmit = (b) => out.push(b);
  const rd = (p: number): number => bus.read(p, 1);
  const wr = (p: number, v: number): void => bus.write(p, 1, v);
  const runTo = clockRunner(clock);
  return { clock, bus, uart, out, rd, wr, runTo, irq: () => irq };
}

test('power-on register values', () => {
  const { rd } = setup();
  assert.deepEqual([IER, IIR, LCR, MCR, LSR, MSR, SCR].map(rd), [0x00, 0x01, 0x00, 0x00, 0x60, 0xb0, 0x00]);
});

test('DLAB switches registers 0/1 to the divisor latch; scratch register', () => {
  const { rd, wr, out } = setup();
  wr(LCR, 0x83);
  wr(RBR, 0x01);
  wr(IER, 0x00);
  assert.equal(rd(RBR), 0x01);
  assert.equal(rd(IER), 0x00);
  assert.deepEqual(out, []); // divisor writes do not transmit
  wr(LCR, 0x03);
  assert.equal(rd(LCR), 0x03);
  assert.equal(rd(IER), 0x00);
  wr(IER, 0xff);
  assert.equal(rd(IER), 0x0f); // only four enable bits (Linux's XScale UUE test needs bit 6 clear)
  wr(LCR, 0x83);
  assert.equal(rd(RBR), 0x01);
  assert.equal(rd(IER), 0x00);
  wr(SCR, 0x5a);
  assert.equal(rd(SCR), 0x5a);
});

test('THR writes go to onTransmit; LSR shows THRE|TEMT', () => {
  const { rd, wr, out } = setup();
  for (const c of 'hi\n') wr(RBR, c.charCodeAt(0));
  assert.deepEqual(out, [0x68, 0x69, 0x0a]);
  assert.equal(rd(LSR), 0x60);
});

test('loopback: MCR outputs appear in MSR, THR comes back in RBR', () => {
  const { rd, wr, out, irq } = setup();
  wr(MCR, 0x10 | 0x0a); // Linux autoconfig: LOOP | RTS | OUT2
  assert.equal(rd(MSR) & 0xf0, 0x90); // CTS and DCD
  wr(MCR, 0x10 | 0x05); // LOOP | DTR | OUT1
  assert.equal(rd(MSR), 0x60 | 0x01 | 0x02 | 0x08); // DSR, RI + DCTS, DDSR, DDCD (no TERI: RI rose)
  wr(MCR, 0x11); // RI falls → TERI
  assert.equal(rd(MSR), 0x20 | 0x04);
  wr(IER, 0x01);
  wr(RBR, 0x55);
  assert.deepEqual(out, []);
  assert.equal(rd(LSR), 0x61);
  assert.equal(irq(), false); // OUT2 is forced inactive in loopback: no IRQ on the PC
  assert.equal(rd(RBR), 0x55);
  assert.equal(rd(LSR), 0x60);
  wr(MCR, 0x00);
  assert.equal(rd(MSR), 0xb0 | 0x01 | 0x08); // back to the host lines: CTS and DCD rose, DSR stayed
});

test('FIFO: enable shows in IIR, host input beyond 16 bytes is queued not lost', () => {
  const { uart, rd, wr } = setup();
  wr(FCR(), 0xc7);
  wr(MCR, 0x02); // RTS: the guest is ready to receive
  assert.equal(rd(IIR), 0xc1);
  const data = Uint8Array.from({ length: 40 }, (_, i) => i + 1);
  uart.receive(data);
  assert.equal(uart.pendingInput, 40);
  const got: number[] = [];
  while (rd(LSR) & 0x01) got.push(rd(RBR));
  assert.deepEqual(got, Array.from(data));
  assert.equal(rd(LSR), 0x60); // no overrun
  wr(FCR(), 0x00);
  assert.equal(rd(IIR), 0x01);
});

test('host input waits for RTS: a FIFO reset or an RBR read before the guest raises RTS loses nothing', () => {
  const { uart, rd, wr } = setup();
  uart.receive(new TextEncoder().encode('uname\n'));
  assert.equal(rd(LSR) & 0x01, 0); // held by the host: RTS is low
  rd(RBR); // Linux's probe and startup read RBR and reset the FIFOs to flush them
  wr(FCR(), 0x07);
  wr(IER, 0x0f);
  wr(FCR(), 0x00);
  assert.equal(uart.pendingInput, 6);
  wr(MCR, 0x12); // RTS in loopback: the line is not connected
  assert.equal(rd(LSR) & 0x01, 0);
  wr(MCR, 0x0b); // DTR | RTS | OUT2, as a tty open sets them
  const got: number[] = [];
  while (rd(LSR) & 0x01) got.push(rd(RBR));
  assert.equal(String.fromCharCode(...got), 'uname\n');
  wr(MCR, 0x08); // RTS dropped (hang-up on close): input waits again
  uart.receive(Uint8Array.of(0x41));
  assert.equal(rd(LSR) & 0x01, 0);
});

function FCR(): number {
  return IIR;
}

test('FIFO overrun in loopback sets OE and keeps the FIFO contents', () => {
  const { rd, wr } = setup();
  wr(FCR(), 0x07);
  wr(MCR, 0x10);
  for (let i = 0; i < 17; i++) wr(RBR, 0x30 + i);
  assert.equal(rd(LSR), 0x63);
  assert.equal(rd(LSR), 0x61); // OE clears on read
  const got: number[] = [];
  while (rd(LSR) & 0x01) got.push(rd(RBR));
  assert.equal(got.length, 16);
  assert.equal(got[15], 0x3f);
  // Without FIFOs the holding register is overwritten.
  wr(FCR(), 0x00);
  wr(RBR, 0x41);
  wr(RBR, 0x42);
  assert.equal(rd(LSR), 0x63);
  assert.equal(rd(RBR), 0x42);
});

test('IIR priorities: line status > received data > THRE > modem status', () => {
  const { uart, rd, wr } = setup();
  wr(FCR(), 0x01); // FIFO, trigger 1
  wr(MCR, 0x10); // loopback to cause an overrun
  for (let i = 0; i < 17; i++) wr(RBR, i);
  wr(MCR, 0x00); // MSR deltas: CTS, DSR, DCD rose
  wr(IER, 0x0f);
  assert.equal(rd(IIR), 0xc6);
  rd(LSR);
  assert.equal(rd(IIR), 0xc4);
  while (rd(LSR) & 1) rd(RBR);
  assert.equal(rd(IIR), 0xc2);
  assert.equal(rd(IIR), 0xc0); // reading IIR cleared THRE; modem status next
  assert.equal(rd(MSR), 0xbb);
  assert.equal(rd(IIR), 0xc1);
  uart.setModemInputs({ dcd: false });
  assert.equal(rd(IIR), 0xc0);
  assert.equal(rd(MSR), 0x38);
});

test('THRE interrupt: on enabling ETBEI, cleared by IIR read or THR write, back when THR empties', () => {
  const { rd, wr, irq } = setup();
  wr(MCR, 0x08); // OUT2
  assert.equal(irq(), false);
  wr(IER, 0x02);
  assert.equal(irq(), true);
  assert.equal(rd(IIR), 0x02);
  assert.equal(irq(), false);
  assert.equal(rd(IIR), 0x01);
  wr(RBR, 0x41); // transmitted at once: THR empty again
  assert.equal(irq(), true);
  wr(IER, 0x00);
  assert.equal(irq(), false);
  wr(IER, 0x02); // Linux's UART_BUG_THRE probe: re-enabling re-asserts THRE
  assert.equal(irq(), true);
  assert.equal(rd(IIR), 0x02);
});

test('OUT2 gates the IRQ line', () => {
  const { uart, wr, rd, irq } = setup();
  wr(IER, 0x01);
  wr(MCR, 0x02);
  uart.receive(Uint8Array.of(0x61));
  assert.equal(irq(), false);
  assert.equal(rd(IIR), 0x04);
  wr(MCR, 0x0a);
  assert.equal(irq(), true);
  rd(RBR);
  assert.equal(irq(), false);
});

test('receive trigger level and character timeout after four character times', () => {
  const { clock, uart, rd, wr, runTo, irq } = setup();
  wr(LCR, 0x83);
  wr(RBR, 0x01); // 115200 baud
  wr(IER, 0x00);
  wr(LCR, 0x03); // 8N1: 10 bits per character
  wr(FCR(), 0x81); // FIFO, trigger level 8
  wr(MCR, 0x0b);
  wr(IER, 0x01);
  uart.receive(Uint8Array.of(1, 2, 3));
  assert.equal(irq(), false);
  assert.equal(rd(IIR), 0xc1);
  const t0 = clock.now();
  runTo(t0 + 347_222); // 4 × 10 bits / 115200 baud = 347.2 µs
  assert.equal(irq(), false);
  runTo(t0 + 347_223);
  assert.equal(irq(), true);
  assert.equal(rd(IIR), 0xcc);
  assert.equal(rd(RBR), 1); // reading restarts the timeout
  assert.equal(irq(), false);
  assert.equal(rd(IIR), 0xc1);
  uart.receive(Uint8Array.of(4, 5, 6, 7, 8, 9));
  assert.equal(rd(IIR), 0xc4); // 8 bytes: trigger level reached
  assert.equal(irq(), true);
  // Without a clock the timeout indication is immediate.
  const n = setup(false);
  n.wr(FCR(), 0x81);
  n.wr(IER, 0x01);
  n.wr(MCR, 0x02);
  n.uart.receive(Uint8Array.of(1));
  assert.equal(n.rd(IIR), 0xcc);
});

test('word-sized access splits into the byte registers', () => {
  const { bus, rd } = setup();
  bus.write(LCR, 2, 0x0b03); // LCR = 0x03, MCR = 0x0b
  assert.equal(rd(LCR), 0x03);
  assert.equal(rd(MCR), 0x0b);
  assert.equal(bus.read(LSR, 2), 0xb060);
});

test('saveState/loadState keeps FIFO, host queue and registers', () => {
  const a = setup();
  a.wr(FCR(), 0xc1);
  a.wr(MCR, 0x0b);
  a.wr(IER, 0x05);
  a.wr(SCR, 0x77);
  a.uart.receive(Uint8Array.from({ length: 20 }, (_, i) => 0x40 + i));
  a.rd(RBR);
  const state = JSON.parse(JSON.stringify(a.uart.saveState()));
  const b = setup();
  b.uart.loadState(state);
  assert.deepEqual(b.uart.saveState(), a.uart.saveState());
  assert.equal(b.rd(SCR), 0x77);
  assert.equal(b.rd(IIR), 0xc4);
  const got: number[] = [];
  while (b.rd(LSR) & 1) got.push(b.rd(RBR));
  assert.deepEqual(got, Array.from({ length: 19 }, (_, i) => 0x41 + i));
  assert.throws(() => b.uart.loadState({ ier: 1 }));
  b.uart.reset();
  assert.deepEqual([IER, IIR, LCR, MCR, LSR].map(b.rd), [0x00, 0x01, 0x00, 0x00, 0x60]);
});
