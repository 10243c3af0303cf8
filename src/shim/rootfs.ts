// The container's root filesystem as a disk for its VM: the mounts containerd passes at
// Create (a snapshotter's overlay or bind) are mounted at the bundle's rootfs directory,
// as runc's shim does, copied into a fresh ext4 image with mkfs.ext4 -d (e2fsprogs), and
// unmounted again; the VM sees the image as /dev/vda. Also the agent's job disk.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const run = promisify(execFile);

export interface RootMount { type: string; source: string; target?: string; options: string[] }

/** Files the shim writes into the bundle (containerd removes the bundle after delete; the shim removes these first). */
export const ROOTFS_IMAGE = 'typevisor-rootfs.img';
export const JOB_IMAGE = 'typevisor-job.img';

/** Free space the image gets beyond the files (the container's writable layer lives in it). */
const MIN_FREE_BYTES = 64 << 20;

async function sh(cmd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, { maxBuffer: 1 << 20 });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string; code?: string };
    if (err.code === 'ENOENT') throw new Error(`${cmd} is not installed (${cmd === 'mkfs.ext4' ? 'apt-get install e2fsprogs' : 'util-linux'})`);
    throw new Error(`${cmd} ${args.join(' ')}: ${(err.stderr ?? '').trim() || err.message}`);
  }
}

/** Mount containerd's rootfs mounts at `dir`; returns whether anything was mounted (to unmount). */
export async function mountRootfs(mounts: RootMount[], dir: string): Promise<boolean> {
  if (mounts.length === 0) return false;
  if (mounts.length > 1) throw new Error(`${mounts.length} rootfs mounts: typevisor takes one (overlay or bind)`);
  const m = mounts[0]!;
  mkdirSync(dir, { recursive: true });
  const args = ['-t', m.type, ...(m.options.length > 0 ? ['-o', m.options.join(',')] : []), m.source, dir];
  await sh('mount', args);
  return true;
}

export async function unmountRootfs(dir: string): Promise<void> {
  await sh('umount', [dir]);
}

/** Write an ext4 image of `dir` at `image`, sized for its files plus room to write. */
export async function buildRootfsImage(dir: string, image: string): Promise<number> {
  if (!existsSync(dir)) throw new Error(`the container's root filesystem ${dir} does not exist`);
  const used = Number((await sh('du', ['-s', '-B1', '-x', dir])).split(/\s/)[0]);
  // ext4's metadata (inode tables, bitmaps) is a few percent; round up to a MiB.
  const bytes = Math.ceil((used * 1.25 + MIN_FREE_BYTES) / (1 << 20)) * (1 << 20);
  rmSync(image, { force: true });
  await sh('mkfs.ext4', ['-q', '-F', '-O', '^has_journal', '-L', 'rootfs', '-d', dir, image, `${bytes / 1024}k`]);
  return bytes;
}

/** The job disk: the script, NUL-padded to whole 4 KiB blocks (the agent drops the NULs). */
export function writeJobImage(path: string, script: string): void {
  const body = Buffer.from(script, 'utf8');
  const size = Math.ceil((body.length + 1) / 4096) * 4096;
  const img = Buffer.alloc(size);
  body.copy(img);
  writeFileSync(path, img);
}

export function removeImages(bundle: string): void {
  for (const f of [ROOTFS_IMAGE, JOB_IMAGE]) rmSync(join(bundle, f), { force: true });
}
