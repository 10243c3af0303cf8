// Unix socket paths and listening on them, for every socket typevisor offers (the API
// socket of `serve` and `manage`, the manager's console sockets, the vsock device's).
//
// The kernel keeps a socket's path in sun_path, 108 bytes on Linux (104 on the BSDs and
// macOS) with the terminating NUL; a longer path given to bind() or connect() is cut
// short without a word, so two long paths can name the same socket and unlink() of the
// full path misses the socket actually made. Such paths are refused here, naming the
// limit.
//
// An existing path is taken over only when it is a socket nobody listens on (a stale
// one left by a process that was killed): a live server there is refused, as Firecracker
// refuses an existing API socket, and so is any other kind of file. Two processes that
// both find the same stale socket at the same moment can still race (both unlink, one
// of them ends up unreachable): the check narrows that window, it cannot close it.

import { connect, type Server } from 'node:net';
import { lstatSync, unlinkSync } from 'node:fs';

export { MAX_UNIX_PATH_BYTES, unixPathProblem } from './unixPath.js';
import { unixPathProblem } from './unixPath.js';

/** Whether a process accepts connections on the socket at `path` (false: refused or gone, a stale socket). */
export function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => { s.destroy(); resolve(true); });
    // ECONNREFUSED: nobody listens; ENOENT: it went away. EAGAIN (a full backlog) is a live server.
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code !== 'ECONNREFUSED' && e.code !== 'ENOENT'));
  });
}

/**
 * Listen on the Unix socket `path`: refused when the path is too long, names something
 * other than a socket, or a live server is there; a stale socket is replaced.
 */
export async function listenUnix(server: Server, path: string): Promise<void> {
  const problem = unixPathProblem(path);
  if (problem !== null) throw new Error(problem);
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (st !== undefined) {
    if (!st.isSocket()) throw new Error(`${path} exists and is not a socket`);
    if (await socketAnswers(path)) throw new Error(`a server is already listening on ${path}`);
    try { unlinkSync(path); } catch { /* gone meanwhile */ }
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
