// The kernel keeps a Unix socket's path in sun_path, 108 bytes on Linux (104 on the BSDs
// and macOS) with the terminating NUL; longer paths are refused rather than cut short
// (unixSocket.ts says why). Apart from unixSocket.ts: option parsing checks paths too,
// and it is also part of the browser page, which has no sockets to open.

/** Longest Unix socket path, in bytes without the NUL (sun_path is 108 bytes on Linux, 104 elsewhere). */
export const MAX_UNIX_PATH_BYTES = typeof process === 'object' && process.platform !== 'linux' ? 103 : 107;

/** Why `path` cannot name a Unix socket, or null when it can. */
export function unixPathProblem(path: string): string | null {
  const n = new TextEncoder().encode(path).length;
  if (n === 0) return 'the socket path is empty';
  if (path.includes('\0')) return 'the socket path contains a NUL byte';
  if (n > MAX_UNIX_PATH_BYTES) return `the socket path is ${n} bytes long; Unix socket paths are limited to ${MAX_UNIX_PATH_BYTES} bytes`;
  return null;
}
