// virtio 1.2 §5.4 (entropy device): one request queue filled from the host's cryptographic
// random source, or, in a deterministic run, from a seeded generator (the same bytes on
// every run and host; its state is saved with the device).
//
// Offered features: none beyond VERSION_1 and the ring features.

import type { PhysicalMemory } from '../../memory/PhysicalMemory.js';
import type { SeededRandom } from '../../machine/SeededRandom.js';
import { stateRecord } from '../support.js';
import { DEVICE_ID_ENTROPY } from './constants.js';
import { DescChain, POP_ERROR, POP_OK, type Virtqueue } from './Virtqueue.js';
import { Features, VirtioDevice, type VirtioDeviceOptions } from './VirtioDevice.js';

/** Most bytes given for one request (the driver asks again for more). */
export const RNG_MAX_REQUEST = 64 * 1024;

export class VirtioRng extends VirtioDevice {
  protected readonly config = new Uint8Array(0);
  private readonly chain = new DescChain();
  private readonly buf = new Uint8Array(RNG_MAX_REQUEST);
  /** Bytes handed to the guest. */
  bytesServed = 0;

  private readonly seeded: SeededRandom | null;

  /** @param opts.random a seeded generator to draw from instead of the host (deterministic runs) */
  constructor(memory: PhysicalMemory, opts: VirtioDeviceOptions & { random?: SeededRandom } = {}) {
    super('virtio-rng', DEVICE_ID_ENTROPY, memory, 1, new Features(), opts);
    this.seeded = opts.random ?? null;
  }

  protected queueNotify(q: Virtqueue): void {
    const chain = this.chain;
    for (;;) {
      const r = q.pop(chain);
      if (r === POP_ERROR) return this.fail(q.error ?? 'bad chain');
      if (r !== POP_OK) break;
      const n = Math.min(chain.writeLen, RNG_MAX_REQUEST);
      const bytes = this.buf.subarray(0, n);
      if (this.seeded !== null) this.seeded.fill(bytes);
      else for (let i = 0; i < n; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536)); // 64 KiB a call at most (Web Crypto)
      const written = chain.write(this.ram, 0, bytes);
      this.bytesServed += written;
      q.push(chain.head, written);
    }
    this.queueDone(q);
  }

  protected resetDevice(): void {}
  protected saveDeviceState(): unknown {
    return this.seeded !== null ? { random: this.seeded.saveState() } : {};
  }
  protected loadDeviceState(state: unknown): void {
    const s = stateRecord(state, this.name);
    if (this.seeded !== null && s['random'] !== undefined) this.seeded.loadState(s['random']);
  }
}
