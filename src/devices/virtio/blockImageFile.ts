// A virtio-blk drive's image file on the host (Node): opened after checks that it is a
// regular file or block device, readable (its first sector), and writable unless the
// drive is read-only. Node's FileHandle serves VirtioBlk as a BlockImage.

import { constants as fsc, type Stats } from 'node:fs';
import { open, readFile, stat, type FileHandle } from 'node:fs/promises';

const SECTOR_SIZE = 512;

/** Open a raw image for a drive; a one-line Error names the file when it cannot be used. */
export async function openImage(path: string, readonly: boolean): Promise<{ fh: FileHandle; size: number }> {
  const why = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  // stat before opening: opening a named pipe blocks until a writer comes, and a drive
  // must be a regular file or a block device anyway.
  let st: Stats;
  try {
    st = await stat(path);
  } catch (e) {
    throw new Error(`--drive ${path}: cannot open${readonly ? '' : ' for writing'} (${why(e)})`);
  }
  if (!isImage(st)) throw new Error(`--drive ${path}: not a regular file or block device`);
  let fh: FileHandle;
  try {
    // O_NONBLOCK: should the path become a pipe after the stat, the open still returns.
    // (Reads and writes of regular files and block devices ignore the flag.)
    fh = await open(path, (readonly ? fsc.O_RDONLY : fsc.O_RDWR) | fsc.O_NONBLOCK);
  } catch (e) {
    throw new Error(`--drive ${path}: cannot open${readonly ? '' : ' for writing'} (${why(e)})`);
  }
  try {
    const fst = await fh.stat();
    if (!isImage(fst)) throw new Error(`--drive ${path}: not a regular file or block device`);
    // Read the first sector now, so an image the host cannot read (an I/O error) is
    // refused at start rather than failing the guest's first request.
    await fh.read(new Uint8Array(SECTOR_SIZE), 0, SECTOR_SIZE, 0).catch((e: unknown) => {
      throw new Error(`--drive ${path}: cannot be read (${why(e)})`);
    });
    return { fh, size: fst.isBlockDevice() ? await blockDeviceBytes(path, fst) : fst.size };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/**
 * A block device's size: stat says 0 for one, so Linux's sysfs is asked
 * (/sys/dev/block/MAJOR:MINOR/size, in 512-byte units whatever the device's sector size).
 */
async function blockDeviceBytes(path: string, st: Stats): Promise<number> {
  // The kernel's dev_t (glibc's major()/minor()): major in bits 8-19 and 44-63, minor in
  // bits 0-7 and 20-43. rdev is a double here, exact below 2^53: divide rather than shift.
  const dev = st.rdev;
  const major = (Math.floor(dev / 2 ** 8) % 2 ** 12) + ((Math.floor(dev / 2 ** 32) & 0xfffff000) >>> 0);
  const minor = (dev % 2 ** 8) + ((Math.floor(dev / 2 ** 12) & 0xffffff00) >>> 0);
  try {
    const sectors = Number((await readFile(`/sys/dev/block/${major}:${minor}/size`, 'latin1')).trim());
    if (!Number.isSafeInteger(sectors) || sectors < 0) throw new Error(`sysfs says ${sectors}`);
    return sectors * 512;
  } catch (e) {
    throw new Error(`--drive ${path}: cannot tell the size of the block device ${major}:${minor} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

function isImage(st: Stats): boolean {
  return st.isFile() || st.isBlockDevice();
}
