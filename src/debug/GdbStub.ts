// A GDB remote stub for a Machine (GDB manual, appendix E: packets §E.2, stop replies
// §E.3, general queries §E.4, target descriptions appendix G, the i386 features §G.5.1):
// `typevisor run --gdb tcp::PORT` (or -s for port 1234), as QEMU's gdbstub.
//
// The VM stops while gdb holds it: on attach, at a breakpoint, watchpoint or step, and on
// Ctrl-C; the machine is paused then (Machine.pause), so its virtual clock stops too.
// Registers are the i386 core feature (general, EIP, EFLAGS, segments, x87); memory is read
// and written by linear address through the guest's page tables (debugMemory.ts).
// Breakpoints (Z0/Z1) and write, read and access watchpoints (Z2/Z3/Z4) are kept by the
// DebugEngine, which runs the guest instruction by instruction while any is set. Under --replay (a machine without virtio devices), reverse execution:
// reverse-stepi and reverse-continue (bs, bc; ReverseStep and ReverseContinue in
// qSupported) go back through the Rewinder. One gdb at a time; a second connection is refused.

import { createServer, type Server, type Socket } from 'node:net';
import type { Cpu } from '../cpu/Cpu.js';
import { CS, DS, ES, FS, GS, SS } from '../cpu/constants.js';
import { Fpu } from '../cpu/fpu/Fpu.js';
import { getEflags, materializeFlags } from '../cpu/flags.js';
import type { Machine } from '../machine/Machine.js';
import { DebugEngine, type StopKind, type Watchpoint } from './DebugEngine.js';
import { Rewinder } from './Rewinder.js';
import { debugRead, debugWrite } from './debugMemory.js';
import { MAX_PACKET, RspConnection } from './RspConnection.js';

/** EFLAGS bits gdb may change: the arithmetic flags and DF (not IF, IOPL, VM...). */
const EFLAGS_WRITABLE = 0xcd5;

const TARGET_XML = `<?xml version="1.0"?>
<!DOCTYPE target SYSTEM "gdb-target.dtd">
<target version="1.0">
  <architecture>i386</architecture>
  <feature name="org.gnu.gdb.i386.core">
    <reg name="eax" bitsize="32" type="int32" regnum="0"/>
    <reg name="ecx" bitsize="32" type="int32"/>
    <reg name="edx" bitsize="32" type="int32"/>
    <reg name="ebx" bitsize="32" type="int32"/>
    <reg name="esp" bitsize="32" type="data_ptr"/>
    <reg name="ebp" bitsize="32" type="data_ptr"/>
    <reg name="esi" bitsize="32" type="int32"/>
    <reg name="edi" bitsize="32" type="int32"/>
    <reg name="eip" bitsize="32" type="code_ptr"/>
    <reg name="eflags" bitsize="32" type="int32"/>
    <reg name="cs" bitsize="32" type="int32"/>
    <reg name="ss" bitsize="32" type="int32"/>
    <reg name="ds" bitsize="32" type="int32"/>
    <reg name="es" bitsize="32" type="int32"/>
    <reg name="fs" bitsize="32" type="int32"/>
    <reg name="gs" bitsize="32" type="int32"/>
    <reg name="st0" bitsize="80" type="i387_ext"/>
    <reg name="st1" bitsize="80" type="i387_ext"/>
    <reg name="st2" bitsize="80" type="i387_ext"/>
    <reg name="st3" bitsize="80" type="i387_ext"/>
    <reg name="st4" bitsize="80" type="i387_ext"/>
    <reg name="st5" bitsize="80" type="i387_ext"/>
    <reg name="st6" bitsize="80" type="i387_ext"/>
    <reg name="st7" bitsize="80" type="i387_ext"/>
    <reg name="fctrl" bitsize="32" type="int" group="float"/>
    <reg name="fstat" bitsize="32" type="int" group="float"/>
    <reg name="ftag" bitsize="32" type="int" group="float"/>
    <reg name="fiseg" bitsize="32" type="int" group="float"/>
    <reg name="fioff" bitsize="32" type="int" group="float"/>
    <reg name="foseg" bitsize="32" type="int" group="float"/>
    <reg name="fooff" bitsize="32" type="int" group="float"/>
    <reg name="fop" bitsize="32" type="int" group="float"/>
  </feature>
</target>
`;

/** Where `--gdb` listens: "tcp::PORT" (127.0.0.1) or "tcp:HOST:PORT". */
export function parseGdbAddress(spec: string): { host: string; port: number } {
  const m = /^tcp:([^:]*):(\d{1,5})$/.exec(spec);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) throw new RangeError(`--gdb takes tcp::PORT or tcp:HOST:PORT (port 1-65535), got "${spec}"`);
  return { host: m[1] === '' ? '127.0.0.1' : m[1]!, port };
}

/** A hex number of a packet; a malformed one throws (the packet is answered E01). */
function hexArg(s: string | undefined): number {
  if (s === undefined || !/^[0-9a-fA-F]{1,8}$/.test(s)) throw new RangeError(`not a hex number: ${s}`);
  return parseInt(s, 16);
}

/** A stop reply's reason for a watchpoint: watch, rwatch or awatch, and the address. */
function watchStop(w: Watchpoint): string {
  return `${w.kind === 'write' ? 'watch' : w.kind === 'read' ? 'rwatch' : 'awatch'}:${(w.lin >>> 0).toString(16)};`;
}

const hex32 = (v: number): string => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b.toString('hex');
};

export class GdbStub {
  private readonly cpu: Cpu;
  private readonly engine: DebugEngine;
  private conn: RspConnection | null = null;
  private server: Server | null = null;
  /** gdb waits for a stop reply (after c or s). */
  private running = false;
  private lastStop = 'S05';

  /** Reverse execution, for a replay (its images are taken from the start of the stub on). */
  private readonly rewinder: Rewinder | null;

  constructor(private readonly machine: Machine) {
    this.cpu = machine.cpu;
    this.engine = new DebugEngine((kind) => this.stopped(kind));
    this.rewinder = machine.replayer !== null && machine.virtio.length === 0 ? new Rewinder(machine) : null;
  }

  /** Listen for gdb; resolves once the socket is bound. */
  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket) => this.accept(socket));
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        this.server = server;
        resolve();
      });
    });
  }

  /** The port bound (for port 0). */
  get port(): number {
    const a = this.server?.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  }

  /** The machine's run ended: tell a waiting gdb, and stop listening. */
  machineEnded(): void {
    if (this.conn !== null) {
      this.conn.send('W00'); // the target is gone, as a process that exited
      this.conn.close();
    }
    this.server?.close();
  }

  close(): void {
    this.conn?.close();
    this.server?.close();
  }

  private accept(socket: Socket): void {
    if (this.conn !== null) { socket.end(); return; } // one debugger at a time
    this.conn = new RspConnection(socket, (p) => this.packet(p), () => this.interrupt(), () => this.detached());
    // gdb finds the target stopped.
    this.running = false;
    this.lastStop = 'T05thread:01;';
    this.cpu.requestStop();
    void this.machine.pause().catch(() => {});
  }

  private detached(): void {
    this.conn = null;
    this.engine.breakpoints.clear();
    this.engine.watchpoints.length = 0;
    this.engine.stepping = false;
    this.cpu.debug = null;
    this.running = false;
    if (this.machine.paused) this.machine.resume();
  }

  private interrupt(): void {
    if (!this.running) return;
    this.running = false;
    this.cpu.requestStop();
    void this.machine.pause().then(() => this.reply('T02thread:01;'), () => this.reply('T02thread:01;'));
  }

  /** The DebugEngine stopped the guest. */
  private stopped(kind: StopKind): void {
    const w = this.engine.hitWatch;
    const why = kind === 'watchpoint' && w !== null ? watchStop(w) : kind === 'breakpoint' ? 'swbreak:;' : '';
    const reply = `T05${why}thread:01;`;
    void this.machine.pause().then(() => this.reply(reply), () => this.reply(reply));
  }

  private reply(stop: string): void {
    this.running = false;
    this.lastStop = stop;
    this.conn?.send(stop);
  }

  /** Let the guest run (step: one instruction), with the debug engine only where needed. */
  private go(step: boolean): void {
    this.engine.resume(this.cpu, step);
    this.cpu.debug = this.engine.idle ? null : this.engine;
    this.running = true;
    this.machine.resume();
  }

  private packet(p: Buffer): void {
    const conn = this.conn;
    if (conn === null) return;
    const s = p.toString('latin1');
    const send = (r: string): void => conn.send(r);
    try {
      switch (s[0]) {
        case '?': send(this.lastStop); return;
        case 'g': send(this.registers()); return;
        case 'G': this.writeRegisters(s.slice(1)); send('OK'); return;
        case 'p': send(this.register(hexArg(s.slice(1)))); return;
        case 'P': { const [n, v] = s.slice(1).split('='); send(this.writeRegister(hexArg(n), v ?? '') ? 'OK' : 'E01'); return; }
        case 'm': { const [a, l] = s.slice(1).split(','); send(this.readMemory(hexArg(a), hexArg(l))); return; }
        case 'M': {
          const [head, data] = s.slice(1).split(':');
          const [a, l] = (head ?? '').split(',');
          const bytes = Buffer.from(data ?? '', 'hex');
          if (bytes.length !== hexArg(l)) throw new RangeError('length and data differ');
          send(debugWrite(this.cpu, hexArg(a), bytes) ? 'OK' : 'E14');
          return;
        }
        case 'X': {
          const colon = p.indexOf(0x3a);
          if (colon < 0) throw new RangeError('no data');
          const [a, l] = p.subarray(1, colon).toString('latin1').split(',');
          const bytes = p.subarray(colon + 1);
          if (bytes.length !== hexArg(l)) throw new RangeError('length and data differ');
          send(debugWrite(this.cpu, hexArg(a), bytes) ? 'OK' : 'E14');
          return;
        }
        case 'Z': case 'z': send(this.point(s[0] === 'Z', s.slice(1))); return;
        case 'c': case 'C': case 's': case 'S': {
          const addr = s[0] === 'c' || s[0] === 's' ? s.slice(1) : s.slice(1).split(';')[1] ?? '';
          if (addr !== '') this.cpu.eip = hexArg(addr) | 0;
          this.go(s[0] === 's' || s[0] === 'S');
          return;
        }
        case 'b': this.reverse(s, send); return;
        case 'v': this.vPacket(s, send); return;
        case 'q': case 'Q': this.query(s, send, conn); return;
        case 'H': case 'T': send('OK'); return;
        case 'D': send('OK'); conn.close(); return;
        case 'k': this.machine.stop('killed by gdb'); conn.close(); return;
        default: send(''); // not supported: gdb does without
      }
    } catch {
      send('E01'); // a malformed packet
    }
  }

  /** bs, bc: back one instruction, or to the last breakpoint or watchpoint hit; at the start of the history, gdb is told so. */
  private reverse(s: string, send: (r: string) => void): void {
    const rw = this.rewinder;
    if (rw === null || (s !== 'bs' && s !== 'bc')) { send(''); return; }
    const now = this.cpu.instructions;
    const begin = 'T05replaylog:begin;thread:01;';
    if (now <= rw.begin) { send(begin); return; }
    this.running = true;
    const failed = (e: unknown): void => { this.reply('E01'); process.emitWarning(`gdb reverse execution failed: ${(e as Error).message}`); };
    if (s === 'bs') {
      rw.runTo(now - 1).then(() => this.reply('T05thread:01;'), failed);
      return;
    }
    rw.lastHitBefore(now, this.engine).then((hit) => {
      if (hit === null) this.reply(begin);
      else this.reply(`T05${hit.kind === 'watchpoint' && hit.watch !== null ? watchStop(hit.watch) : 'swbreak:;'}thread:01;`);
    }, failed);
  }

  private vPacket(s: string, send: (r: string) => void): void {
    if (s === 'vCont?') { send('vCont;c;C;s;S'); return; }
    if (s.startsWith('vKill')) { send('OK'); this.machine.stop('killed by gdb'); return; }
    if (s.startsWith('vCont;')) {
      // One thread: the first action is the one.
      const action = s.slice(6).split(';')[0]!.split(':')[0]!;
      if (action === 'c' || action.startsWith('C')) { this.go(false); return; }
      if (action === 's' || action.startsWith('S')) { this.go(true); return; }
      send('E01');
      return;
    }
    send(''); // vMustReplyEmpty and everything else
  }

  private query(s: string, send: (r: string) => void, conn: RspConnection): void {
    if (s.startsWith('qSupported')) {
      send(`PacketSize=${MAX_PACKET.toString(16)};qXfer:features:read+;swbreak+;hwbreak+;QStartNoAckMode+;vContSupported+${this.rewinder !== null ? ';ReverseStep+;ReverseContinue+' : ''}`);
      return;
    }
    if (s === 'QStartNoAckMode') { send('OK'); conn.startNoAck(); return; }
    const xfer = /^qXfer:features:read:target\.xml:([0-9a-f]+),([0-9a-f]+)$/.exec(s);
    if (xfer) {
      const off = hexArg(xfer[1]), len = Math.min(hexArg(xfer[2]), MAX_PACKET / 2);
      const chunk = TARGET_XML.slice(off, off + len);
      send((off + len >= TARGET_XML.length ? 'l' : 'm') + chunk);
      return;
    }
    if (s === 'qAttached') { send('1'); return; }
    if (s === 'qC') { send('QC01'); return; }
    if (s === 'qfThreadInfo') { send('m01'); return; }
    if (s === 'qsThreadInfo') { send('l'); return; }
    if (s.startsWith('qSymbol')) { send('OK'); return; }
    send('');
  }

  private point(insert: boolean, args: string): string {
    const [type, a, k] = args.split(',');
    const addr = hexArg(a) >>> 0, kind = hexArg(k);
    const e = this.engine;
    if (type === '0' || type === '1') {
      if (insert) e.breakpoints.add(addr); else e.breakpoints.delete(addr);
      return 'OK';
    }
    if (type === '2' || type === '3' || type === '4') {
      if (!(kind >= 1 && kind <= 8)) return 'E01';
      const wk = type === '2' ? 'write' : type === '3' ? 'read' : 'access';
      const i = e.watchpoints.findIndex((w) => w.kind === wk && w.lin === addr && w.len === kind);
      if (insert && i < 0) e.watchpoints.push({ kind: wk, lin: addr, len: kind, before: new Int32Array(8) });
      if (!insert && i >= 0) e.watchpoints.splice(i, 1);
      return 'OK';
    }
    return '';
  }

  private readMemory(addr: number, len: number): string {
    if (!(len >= 0 && len <= MAX_PACKET / 2)) return 'E01';
    const b = debugRead(this.cpu, addr >>> 0, len);
    return b === null ? 'E14' : Buffer.from(b).toString('hex');
  }

  // ---- registers: gdb's numbering of the i386 core feature ----

  private registers(): string {
    let out = '';
    for (let n = 0; n < 32; n++) out += this.register(n);
    return out;
  }

  private register(n: number): string {
    const c = this.cpu;
    if (n < 8) return hex32(c.regs[n]!);
    if (n === 8) return hex32(c.eip);
    if (n === 9) return hex32(getEflags(c));
    if (n < 16) return hex32(c.segSel[[CS, SS, DS, ES, FS, GS][n - 10]!]!);
    const f = c.fpu instanceof Fpu ? c.fpu : null;
    if (n < 24) {
      const b = Buffer.alloc(10);
      if (f !== null) {
        const p = 3 * ((f.top + n - 16) & 7);
        b.writeUInt32LE(f.regs[p + 2]!, 0);
        b.writeUInt32LE(f.regs[p + 1]!, 4);
        b.writeUInt16LE(f.regs[p]! & 0xffff, 8);
      }
      return b.toString('hex');
    }
    if (n < 32) {
      if (f === null) return hex32(0);
      return hex32([f.cw, f.getSW(), f.getTW(), f.fcs & 0xffff, f.fip, f.fds & 0xffff, f.fdp, f.fop & 0x7ff][n - 24]!);
    }
    return 'E01';
  }

  /** General registers, EIP and EFLAGS' flag bits; segment and x87 registers are read-only here. */
  private writeRegister(n: number, value: string): boolean {
    if (!/^[0-9a-f]{8}$/i.test(value)) return false;
    const v = Buffer.from(value, 'hex').readUInt32LE(0) | 0;
    const c = this.cpu;
    if (n < 8) { c.regs[n] = v; return true; }
    if (n === 8) { c.eip = v; return true; }
    if (n === 9) {
      materializeFlags(c);
      c.flags = (c.flags & ~EFLAGS_WRITABLE) | (v & EFLAGS_WRITABLE);
      return true;
    }
    return false;
  }

  private writeRegisters(hex: string): void {
    for (let n = 0; n < 10; n++) this.writeRegister(n, hex.slice(n * 8, n * 8 + 8));
  }
}
