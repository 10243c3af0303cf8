// The one error type of src/boot: a kernel, initrd or firmware image that cannot be
// loaded as given. The message is one line saying what is wrong and what to do.

export class BootError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BootError';
  }
}

/** `0x1f00` style hex for messages. */
export function hex(n: number): string {
  return '0x' + n.toString(16);
}

/** Human size for messages: bytes, KiB or MiB. */
export function size(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)} MiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}
