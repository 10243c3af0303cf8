// The x86 I/O port space (64 K ports). Devices claim port ranges; the CPU backend
// (software or KVM) hands every IN/OUT here. Each access is counted per port for --stats.

export interface PortHandler {
  /** Read `size` (1, 2 or 4) bytes from `port`. */
  read(port: number, size: 1 | 2 | 4): number;
  /** Write the low `size` bytes of `value` to `port`. */
  write(port: number, size: 1 | 2 | 4, value: number): void;
}

export class IoBus {
  private readonly handlers: (PortHandler | undefined)[] = new Array(0x10000).fill(undefined);
  private readonly owners: (string | undefined)[] = new Array(0x10000).fill(undefined);
  /** Accesses per port (reads + writes). */
  readonly counts = new Float64Array(0x10000);
  /** Called for ports no device claims, e.g. to log them. */
  onUnhandled: ((port: number, write: boolean, size: number, value: number) => void) | null = null;

  /** Claim ports [first, first+count). Throws if a port is already owned. */
  register(first: number, count: number, name: string, handler: PortHandler): void {
    for (let p = first; p < first + count; p++) {
      if (this.handlers[p] !== undefined) throw new Error(`I/O port 0x${p.toString(16)} of ${name} is already owned by ${this.owners[p]}`);
      this.handlers[p] = handler;
      this.owners[p] = name;
    }
  }

  ownerOf(port: number): string | undefined {
    return this.owners[port & 0xffff];
  }

  read(port: number, size: 1 | 2 | 4): number {
    port &= 0xffff;
    this.counts[port]!++;
    const h = this.handlers[port];
    if (h === undefined) {
      this.onUnhandled?.(port, false, size, 0);
      return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff; // open bus
    }
    return h.read(port, size);
  }

  write(port: number, size: 1 | 2 | 4, value: number): void {
    port &= 0xffff;
    this.counts[port]!++;
    const h = this.handlers[port];
    if (h === undefined) {
      this.onUnhandled?.(port, true, size, value);
      return;
    }
    h.write(port, size, value);
  }
}
