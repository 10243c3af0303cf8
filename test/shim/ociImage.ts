// A small OCI image for the shim tests, built here without a registry: Debian's static
// i386 busybox (busybox-static, the one inside the default guest's initramfs, read out
// of that cpio archive) with applet links, as one layer, in an OCI image layout tarball
// for `ctr image import`. i386 because the guest kernel is.

import { gunzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, symlinkSync, chmodSync, copyFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const INITRD = new URL('../../../guest/initramfs.cpio.gz', import.meta.url);

/** A file from a newc cpio archive (Linux initramfs format). */
export function cpioFile(archive: Uint8Array, want: string): Uint8Array {
  const buf = Buffer.from(archive);
  let off = 0;
  const hex = (at: number): number => parseInt(buf.toString('latin1', at, at + 8), 16);
  const align = (n: number): number => (n + 3) & ~3;
  while (off + 110 <= buf.length && buf.toString('latin1', off, off + 6) === '070701') {
    const size = hex(off + 54);
    const nameLen = hex(off + 94);
    const name = buf.toString('latin1', off + 110, off + 110 + nameLen - 1);
    const dataAt = align(off + 110 + nameLen);
    if (name === want) return buf.subarray(dataAt, dataAt + size);
    if (name === 'TRAILER!!!') break;
    off = align(dataAt + size);
  }
  throw new Error(`${want} not in the archive`);
}

export const APPLETS = ['sh', 'echo', 'uname', 'cat', 'sleep', 'ls', 'env', 'pwd', 'true', 'false', 'mount', 'free', 'touch', 'grep', 'head', 'ps', 'id', 'hostname', 'dd', 'rm'];

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Write the image tarball at `out` (working in `dir`); name like docker.io/library/tvbusybox:latest. */
export function buildBusyboxImage(dir: string, out: string, name: string): void {
  const busybox = cpioFile(gunzipSync(readFileSync(INITRD)), 'bin/busybox');
  const root = join(dir, 'rootfs');
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(join(root, 'work'), { recursive: true });
  for (const d of ['proc', 'sys', 'dev', 'tmp', 'etc']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'bin/busybox'), busybox);
  chmodSync(join(root, 'bin/busybox'), 0o755);
  for (const a of APPLETS) symlinkSync('busybox', join(root, 'bin', a));
  writeFileSync(join(root, 'work/hello.txt'), 'hello from the image\n');
  writeImageTarball(dir, root, out, name, '386', { Env: ['PATH=/bin', 'GREETING=hello from the image config'], WorkingDir: '/work', Cmd: ['/bin/sh'] });
}

/**
 * An image of host binaries (the host's architecture) with the shared libraries ldd
 * names for them: for runtimes that run host code (runc), beside the i386 one above.
 */
export function buildHostImage(dir: string, out: string, name: string, binaries: string[]): void {
  const root = join(dir, 'rootfs');
  mkdirSync(root, { recursive: true });
  const files = new Set<string>();
  for (const b of binaries) {
    files.add(b);
    const ldd = execFileSync('ldd', [b], { encoding: 'utf8' });
    for (const m of ldd.matchAll(/(\/\S+) \(0x/g)) files.add(m[1]!);
  }
  for (const f of files) {
    mkdirSync(join(root, dirname(f)), { recursive: true });
    copyFileSync(f, join(root, f));
    chmodSync(join(root, f), 0o755);
  }
  writeImageTarball(dir, root, out, name, process.arch === 'x64' ? 'amd64' : process.arch, { Env: ['PATH=/usr/bin:/bin'], Cmd: [binaries[0]!] });
}

/** One layer of `root` with `config`, as an OCI image layout in a tarball for ctr image import. */
function writeImageTarball(dir: string, root: string, out: string, name: string, architecture: string, imageConfig: Record<string, unknown>): void {
  const layerTar = join(dir, 'layer.tar');
  execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-C', root, '-cf', layerTar, '.']);
  const tar = readFileSync(layerTar);
  const layer = execFileSync('gzip', ['-n', '-c', layerTar], { maxBuffer: 64 << 20 });
  const config = Buffer.from(JSON.stringify({
    architecture, os: 'linux', config: imageConfig,
    rootfs: { type: 'layers', diff_ids: [`sha256:${sha(tar)}`] },
  }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha(config)}`, size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${sha(layer)}`, size: layer.length }],
  }));
  const index = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{
      mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${sha(manifest)}`, size: manifest.length,
      platform: { architecture, os: 'linux' },
      annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name.split(':').pop()! },
    }],
  }));
  const layout = join(dir, 'layout');
  mkdirSync(join(layout, 'blobs/sha256'), { recursive: true });
  for (const b of [config, manifest, layer]) writeFileSync(join(layout, 'blobs/sha256', sha(b)), b);
  writeFileSync(join(layout, 'index.json'), index);
  writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  execFileSync('tar', ['--owner=0', '--group=0', '-C', layout, '-cf', out, 'oci-layout', 'index.json', 'blobs']);
}
