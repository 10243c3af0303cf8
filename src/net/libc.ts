// The few libc calls the tap backend needs (open, ioctl, read, write, poll, close) through
// koffi, an FFI that ships prebuilt for the usual platforms. Loaded on first use, so
// typevisor runs without koffi until a tap is asked for.

import { createRequire } from 'node:module';

export interface Libc {
  open(path: string, flags: number): number;
  ioctl(fd: number, request: number, arg: Buffer): number;
  read(fd: number, buf: Buffer, count: number): number;
  write(fd: number, buf: Uint8Array, count: number): number;
  /** poll(2) on one struct pollfd (8 bytes: fd, events, revents). */
  poll(fds: Buffer, nfds: number, timeoutMs: number): number;
  close(fd: number): number;
  /** errno of the last failed call on this thread. */
  errno(): number;
}

// Linux x86/ARM values (asm-generic fcntl.h, poll.h).
export const O_RDWR = 2;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;
export const POLLIN = 1;
export const EINTR = 4;
export const EIO = 5;
export const EAGAIN = 11;

let cached: Libc | null = null;

/** libc through koffi. Throws a one-line Error naming the fix when koffi cannot load. */
export function libc(): Libc {
  if (cached) return cached;
  let koffi: typeof import('koffi');
  try {
    koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
  } catch (e) {
    throw new Error(`the koffi FFI module is not available (npm install koffi): ${(e as Error).message.split('\n')[0]}`);
  }
  const lib = koffi.load('libc.so.6');
  const ioctl = lib.func('int ioctl(int fd, unsigned long request, ...)');
  cached = {
    open: lib.func('int open(const char *path, int flags)') as Libc['open'],
    ioctl: (fd, request, arg) => ioctl(fd, request, 'void *', arg) as number,
    read: lib.func('long read(int fd, void *buf, unsigned long count)') as Libc['read'],
    write: lib.func('long write(int fd, const void *buf, unsigned long count)') as Libc['write'],
    poll: lib.func('int poll(void *fds, unsigned long nfds, int timeout)') as Libc['poll'],
    close: lib.func('int close(int fd)') as Libc['close'],
    errno: () => koffi.errno(),
  };
  return cached;
}
