// Bochs "port E9 hack" debug console, as QEMU's isa-debugcon (hw/char/debugcon.c behaviour: reads return 0xE9).

import type { IoBus, PortHandler } from '../machine/IoBus.js';
import type { Device } from './Device.js';

/** Port 0xE9: each byte written goes to `onOutput`; reading returns 0xE9 so guests can detect it. */
export class DebugCon implements Device {
  readonly name = 'debugcon';
  onOutput: ((byte: number) => void) | null = null;

  private readonly ports: PortHandler = {
    read: () => 0xe9,
    write: (_port, size, v) => {
      // A word or dword write sends its bytes low first, as the ISA bus splits it.
      for (let i = 0; i < size; i++) this.onOutput?.((v >>> (8 * i)) & 0xff);
    },
  };

  constructor(readonly port = 0xe9) {}

  /** Register the port (0xE9 by default). */
  attach(bus: IoBus): void {
    bus.register(this.port, 1, this.name, this.ports);
  }

  reset(): void {}

  saveState(): unknown {
    return {};
  }

  loadState(): void {}
}
