// Linux TUN/TAP (Documentation/networking/tuntap.rst): `--net tap,ifname=NAME`.
//
// Attaching to a tap device takes the TUNSETIFF ioctl on /dev/net/tun, which Node.js
// cannot issue without native code; until typevisor has a native helper (the KVM
// backend's FFI), this backend reports that clearly instead of half-working.

import type { NetBackend } from './NetBackend.js';

export interface TapOptions {
  ifname: string;
}

export class TapBackend implements NetBackend {
  onReceive: (frame: Uint8Array) => void = () => {};

  private constructor() {}

  static async open(opts: TapOptions): Promise<TapBackend> {
    throw new Error(
      `--net tap,ifname=${opts.ifname}: tap networking is not supported yet (it needs the TUNSETIFF ioctl, which takes native code); use --net user or --net switch,path=SOCK`,
    );
  }

  send(): void {}
  close(): void {}
}
