// One container's microVM and the conversation with its guest agent (guest/agent): the
// default guest booted with typevisor.agent=1, the rootfs image as /dev/vda, the job as
// /dev/vdb, control lines on the virtio-console (hvc0), the main process's stdio on the
// serial port (ttyS0). The serial output before the agent's start marker (anything the
// kernel printed) and the markers themselves are dropped.

import { join } from 'node:path';
import { VmWorker, type VmExit } from '../vmm/VmWorker.js';
import { packageRoot } from '../packageRoot.js';

const START_MARK = Buffer.from('@@TV-START@@');
const END_MARK = Buffer.from('@@TV-END@@');

export interface ContainerVmConfig {
  memoryMiB: number;
  rootfsImage: string;
  jobImage: string;
  readonlyRoot: boolean;
}

export interface AgentEvents {
  /** Bytes of the main process's stdout/stderr. */
  output(bytes: Uint8Array): void;
  /** The main process ended with `code` (128+N for signal N); all its output was given. */
  mainExit(code: number): void;
  execStarted(id: string, pid: number): void;
  execOutput(id: string, line: string): void;
  execExit(id: string, code: number): void;
  /** The VM ended (after mainExit when the guest powered off on its own). */
  vmExit(exit: VmExit): void;
}

export class ContainerVm {
  private vm: VmWorker | null = null;
  private ctlBuf = '';
  private serialState: 'boot' | 'main' | 'done' = 'boot';
  private serialHeld = Buffer.alloc(0);
  private mainCode: number | null = null;
  private readyWaiter: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private startedWaiter: { resolve: (pid: number) => void; reject: (e: Error) => void } | null = null;
  private agentError: string | null = null;
  private exitReported = false;
  vmExit: VmExit | null = null;

  constructor(private readonly config: ContainerVmConfig, private readonly events: AgentEvents) {}

  /** Boot the VM; resolves when the agent has mounted the root and waits for "start". */
  async boot(): Promise<void> {
    const root = packageRoot();
    const ready = new Promise<void>((resolve, reject) => { this.readyWaiter = { resolve, reject }; });
    this.vm = await VmWorker.start({
      kernelPath: join(root, 'guest/bzImage'),
      initrdPath: join(root, 'guest/initramfs.cpio.gz'),
      cmdline: `console=ttyS0 panic=-1 tsc=reliable quiet loglevel=0 typevisor.agent=1${process.env.TYPEVISOR_SHIM_DEBUG === '1' ? ' typevisor.debug=1' : ''}${this.config.readonlyRoot ? ' typevisor.ro=1' : ''}`,
      memoryMiB: this.config.memoryMiB,
      drives: [
        { id: 'rootfs', path: this.config.rootfsImage, readonly: this.config.readonlyRoot },
        { id: 'job', path: this.config.jobImage, readonly: true },
      ],
      nets: [], rng: false, vsock: null, console: true,
      pacing: 'realtime',
    });
    this.vm.onSerialOutput = (b) => this.serial(Buffer.from(b.buffer, b.byteOffset, b.length));
    this.vm.onConsoleOutput = (b) => this.control(Buffer.from(b.buffer, b.byteOffset, b.length).toString('utf8'));
    this.vm.onExit = (e) => this.ended(e);
    await ready;
  }

  /** Start the main process; resolves with its guest pid. */
  start(): Promise<number> {
    const started = new Promise<number>((resolve, reject) => { this.startedWaiter = { resolve, reject }; });
    this.send('start');
    return started;
  }

  kill(signal: number): void { this.send(`kill ${signal}`); }

  exec(id: string, script: string): void {
    this.send(`exec ${id} ${Buffer.from(script, 'utf8').toString('base64')}`);
  }

  killExec(id: string, signal: number): void { this.send(`killexec ${id} ${signal}`); }

  /** Main process stdin (the serial port). */
  input(bytes: Uint8Array): void { this.vm?.serialInput(bytes); }

  get running(): boolean { return this.vm !== null && this.vm.running; }

  pause(): Promise<void> { return this.vm?.pause() ?? Promise.resolve(); }
  resume(): Promise<void> { return this.vm?.resume() ?? Promise.resolve(); }

  /** Stop the VM from outside (a guest that does not stop, Delete). */
  async stop(): Promise<void> {
    if (this.vm !== null && this.vm.running) await this.vm.stop(2000);
  }

  private send(line: string): void {
    this.vm?.consoleInput(Buffer.from(`${line}\n`, 'utf8'));
  }

  private control(text: string): void {
    this.ctlBuf += text;
    let nl: number;
    while ((nl = this.ctlBuf.indexOf('\n')) >= 0) {
      const line = this.ctlBuf.slice(0, nl).replace(/\r$/, '');
      this.ctlBuf = this.ctlBuf.slice(nl + 1);
      this.line(line);
    }
  }

  private line(line: string): void {
    const sp = line.indexOf(' ');
    const cmd = sp < 0 ? line : line.slice(0, sp);
    const rest = sp < 0 ? '' : line.slice(sp + 1);
    switch (cmd) {
      case 'ready': this.readyWaiter?.resolve(); this.readyWaiter = null; break;
      case 'error':
        this.agentError = rest;
        this.readyWaiter?.reject(new Error(`guest agent: ${rest}`)); this.readyWaiter = null;
        break;
      case 'started': this.startedWaiter?.resolve(Number(rest)); this.startedWaiter = null; break;
      case 'exit': this.mainCode = Number(rest); this.maybeMainExit(); break;
      case 'exec-started': { const [id, pid] = rest.split(' '); this.events.execStarted(id!, Number(pid)); break; }
      case 'o': { const s = rest.indexOf(' '); this.events.execOutput(s < 0 ? rest : rest.slice(0, s), s < 0 ? '' : rest.slice(s + 1)); break; }
      case 'exec-exit': { const [id, code] = rest.split(' '); this.events.execExit(id!, Number(code)); break; }
    }
  }

  /** Serial bytes: dropped until the start mark, handed on until the end mark. */
  private serial(bytes: Buffer): void {
    if (this.serialState === 'done') return;
    let buf = this.serialHeld.length > 0 ? Buffer.concat([this.serialHeld, bytes]) : bytes;
    if (this.serialState === 'boot') {
      const at = buf.indexOf(START_MARK);
      if (at < 0) { this.serialHeld = Buffer.from(buf.subarray(Math.max(0, buf.length - START_MARK.length + 1))); return; }
      buf = buf.subarray(at + START_MARK.length);
      this.serialState = 'main';
    }
    const end = buf.indexOf(END_MARK);
    if (end >= 0) {
      if (end > 0) this.events.output(buf.subarray(0, end));
      this.serialState = 'done';
      this.serialHeld = Buffer.alloc(0);
      this.maybeMainExit();
      return;
    }
    // Hold back a tail that could be the start of the end mark.
    let keep = 0;
    for (let k = Math.min(END_MARK.length - 1, buf.length); k > 0; k--) {
      if (buf.subarray(buf.length - k).equals(END_MARK.subarray(0, k))) { keep = k; break; }
    }
    if (buf.length - keep > 0) this.events.output(buf.subarray(0, buf.length - keep));
    this.serialHeld = Buffer.from(buf.subarray(buf.length - keep));
  }

  private maybeMainExit(): void {
    if (this.exitReported || this.mainCode === null || this.serialState !== 'done') return;
    this.exitReported = true;
    this.events.mainExit(this.mainCode);
  }

  private ended(e: VmExit): void {
    this.vmExit = e;
    const why = this.agentError !== null ? `guest agent: ${this.agentError}` : `the VM ended before the agent was ready (${e.kind}: ${e.reason})`;
    this.readyWaiter?.reject(new Error(why)); this.readyWaiter = null;
    this.startedWaiter?.reject(new Error(why)); this.startedWaiter = null;
    if (this.serialState !== 'done' && this.serialHeld.length > 0 && this.serialState === 'main') this.events.output(this.serialHeld);
    this.serialState = 'done';
    if (this.mainCode === null) this.mainCode = 137; // ended from outside or crashed: as if killed
    this.maybeMainExit();
    this.events.vmExit(e);
  }
}
