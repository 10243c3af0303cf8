// Kernel, initrd, firmware and replay-log files, read whole for `typevisor run` and for a
// VM the API starts: any way one cannot be read is an Error of one line naming the file
// and the cause.

import { readFileSync, statSync, type Stats } from 'node:fs';

/** The largest such file read: Node reads at most 2 GiB into one buffer (and no guest could hold more below the 896 MiB an initrd must stay under). */
export const MAX_INPUT_BYTES = 2 ** 31 - 1;

/** `path` whole; `what` names it in the error ("kernel", "initrd", ...). */
export function readInputFile(path: string, what: string): Uint8Array {
  let st: Stats;
  try {
    st = statSync(path); // stat, not open: a named pipe would block the open
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `${what} file not found: ${path}` : `${what} ${path}: ${(e as Error).message}`);
  }
  if (!st.isFile()) throw new Error(`${what} is not a regular file: ${path}`);
  if (st.size > MAX_INPUT_BYTES) throw new Error(`${what} ${path} is ${(st.size / 2 ** 30).toFixed(1)} GiB; typevisor reads kernel, initrd and firmware files of up to 2 GiB`);
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new Error(`${what} ${path} cannot be read: ${(e as Error).message}`);
  }
}
