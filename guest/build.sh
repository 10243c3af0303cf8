#!/bin/bash
# Rebuild typevisor's default guest from Debian 12 (bookworm) packages:
#
#   guest/bzImage              Linux 6.1 for i386, from linux-source-6.1,
#                              configured by tinyconfig + guest/kernel.config
#   guest/initramfs.cpio.gz    static busybox from busybox-static:i386,
#                              with guest/init as /init
#   guest/SOURCES              the exact package versions used (GPL offer)
#
# Run as root on Debian 12:  bash guest/build.sh
#
# Environment:
#   JOBS=N        parallel make jobs (default: number of CPUs)
#   WORKDIR=DIR   build directory (default: a new directory under /tmp)
#   KEEP=1        keep the build directory afterwards
#   NO_APT=1      do not install packages (they must already be there)
#   INITRAMFS_ONLY=1  rebuild only the initramfs (init, agent, busybox) and keep the
#                 committed bzImage and its lines in SOURCES (no kernel tree needed)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
jobs=${JOBS:-$(nproc)}
kernel_pkg=linux-source-6.1
busybox_pkg=busybox-static:i386

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (it installs packages and creates /dev/console in the initramfs)"

# --- 1. Packages -------------------------------------------------------------
if [ "${NO_APT:-0}" != 1 ]; then
	log "installing build dependencies"
	dpkg --add-architecture i386
	# A mirror caught mid-sync makes apt-get update fail for one index while
	# the rest is fine; go on with what it has and let the install decide.
	apt-get update || log "warning: apt-get update reported errors; continuing"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		$([ "${INITRAMFS_ONLY:-0}" = 1 ] || echo "$kernel_pkg build-essential bc flex bison libelf-dev libssl-dev lz4 xz-utils") \
		cpio gzip dpkg-dev
fi
initramfs_only=${INITRAMFS_ONLY:-0}

kernel_tar=/usr/src/linux-source-6.1.tar.xz
if [ "$initramfs_only" = 1 ]; then
	# The committed kernel stays: its lines in SOURCES are kept as they are.
	sources_field() { sed -n "s/^$1=//p" "$here/SOURCES"; }
	kernel_ver=$(sources_field linux_binary_version)
	kernel_src=$(sources_field linux_source_package)
	kernel_src_ver=$(sources_field linux_source_version)
	kernel_release=$(sources_field kernel_release)
	[ -n "$kernel_release" ] || die "INITRAMFS_ONLY=1 needs guest/SOURCES from a full build"
else
	[ -f "$kernel_tar" ] || die "$kernel_tar missing: install $kernel_pkg"
	kernel_ver=$(dpkg-query -W -f='${Version}' "$kernel_pkg")
	kernel_src=$(dpkg-query -W -f='${source:Package}' "$kernel_pkg")
	kernel_src_ver=$(dpkg-query -W -f='${source:Version}' "$kernel_pkg")
fi

workdir=${WORKDIR:-$(mktemp -d /tmp/typevisor-guest.XXXXXX)}
mkdir -p "$workdir"
if [ "${KEEP:-0}" != 1 ] && [ -z "${WORKDIR:-}" ]; then
	trap 'rm -rf "$workdir"' EXIT
fi
log "working in $workdir"

# busybox-static:i386 is fetched, not installed: on an amd64 host it would
# replace the host's own busybox.
log "fetching $busybox_pkg"
mkdir -p "$workdir/deb"
(cd "$workdir/deb" && apt-get download "$busybox_pkg")
busybox_deb=$(ls "$workdir"/deb/busybox-static_*_i386.deb)
busybox_ver=$(dpkg-deb -f "$busybox_deb" Version)
# "Source: busybox (1:1.35.0-4+deb12u1)" on a binary-only rebuild (+bN).
busybox_src_field=$(dpkg-deb -f "$busybox_deb" Source)
busybox_src=${busybox_src_field%% *}
busybox_src=${busybox_src:-busybox}
busybox_src_ver=$busybox_ver
case "$busybox_src_field" in *"("*")"*) busybox_src_ver=${busybox_src_field#*(}; busybox_src_ver=${busybox_src_ver%)*} ;; esac
dpkg-deb -x "$busybox_deb" "$workdir/busybox-pkg"
busybox_bin=$(find "$workdir/busybox-pkg" -type f -name busybox -perm -u+x | head -n1)
[ -n "$busybox_bin" ] || die "no busybox binary in $busybox_deb"

# --- 2. Kernel ---------------------------------------------------------------
if [ "$initramfs_only" != 1 ]; then
log "unpacking $kernel_pkg $kernel_ver"
tar -xf "$kernel_tar" -C "$workdir"
ksrc="$workdir/linux-source-6.1"

# Stable build metadata, so a rebuild from the same packages gives the same
# `uname -v` and, as far as the toolchain allows, the same image.
export KBUILD_BUILD_USER=typevisor
export KBUILD_BUILD_HOST=debian
export KBUILD_BUILD_VERSION=1
KBUILD_BUILD_TIMESTAMP=$(date -u -d "@$(stat -c %Y "$kernel_tar")" '+%Y-%m-%d')
export KBUILD_BUILD_TIMESTAMP

kmake() { make -C "$ksrc" ARCH=i386 "$@"; }

log "configuring: tinyconfig + kernel.config"
kmake tinyconfig >/dev/null
(cd "$ksrc" && scripts/kconfig/merge_config.sh -m -O . .config "$here/kernel.config" >/dev/null)
kmake olddefconfig >/dev/null

# Every option the fragment sets must have survived olddefconfig (a missing
# dependency silently drops it).
bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		grep -qxF "$line" "$ksrc/.config" || { log "config: wanted '$line', got '$(grep "^${line%%=*}=" "$ksrc/.config" || echo unset)'"; bad=1; }
		;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }; opt=${opt%% *}
		if grep -q "^$opt=" "$ksrc/.config"; then log "config: wanted $opt off, got '$(grep "^$opt=" "$ksrc/.config")'"; bad=1; fi
		;;
	esac
done <"$here/kernel.config"
[ "$bad" = 0 ] || die "kernel.config does not apply cleanly (see above)"

log "building bzImage with $jobs jobs"
kmake -j"$jobs" bzImage
kernel_release=$(kmake -s --no-print-directory kernelrelease)
fi

# --- 3. Initramfs ----------------------------------------------------------------
log "building the initramfs"
root="$workdir/initramfs"
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,root,etc}
install -m 0755 "$busybox_bin" "$root/bin/busybox"
install -m 0755 "$here/init" "$root/init"
install -m 0755 "$here/agent" "$root/bin/typevisor-agent"
# The kernel opens /dev/console before /init runs, before devtmpfs is mounted.
mknod -m 0600 "$root/dev/console" c 5 1
mknod -m 0666 "$root/dev/null" c 1 3
chmod 1777 "$root/tmp"
chmod 0700 "$root/root"
printf 'root::0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\ntty:x:5:\n' >"$root/etc/group"
printf 'typevisor\n' >"$root/etc/hostname"
cat >"$root/etc/profile" <<'EOF'
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
export PS1='\h:\w\$ '
EOF

# File times from the kernel package (the busybox binary's with INITRAMFS_ONLY=1),
# so the same inputs give the same archive.
if [ "$initramfs_only" = 1 ]; then epoch=$(stat -c %Y "$busybox_bin"); else epoch=$(stat -c %Y "$kernel_tar"); fi
find "$root" -exec touch -h -d "@$epoch" {} +
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet) |
	gzip -9 -n >"$workdir/initramfs.cpio.gz"

# --- 4. Results --------------------------------------------------------------
[ "$initramfs_only" = 1 ] || install -m 0644 "$ksrc/arch/x86/boot/bzImage" "$here/bzImage"
install -m 0644 "$workdir/initramfs.cpio.gz" "$here/initramfs.cpio.gz"
cat >"$here/SOURCES" <<EOF
# Written by guest/build.sh. The binaries in this directory were built from:
kernel_release=$kernel_release
linux_binary_package=$kernel_pkg
linux_binary_version=$kernel_ver
linux_source_package=$kernel_src
linux_source_version=$kernel_src_ver
busybox_binary_package=busybox-static
busybox_binary_version=$busybox_ver
busybox_source_package=$busybox_src
busybox_source_version=$busybox_src_ver
bzImage_sha256=$(sha256sum "$here/bzImage" | cut -d' ' -f1)
initramfs_sha256=$(sha256sum "$here/initramfs.cpio.gz" | cut -d' ' -f1)
EOF

log "done: Linux $kernel_release ($kernel_pkg $kernel_ver), busybox $busybox_ver"
ls -l "$here/bzImage" "$here/initramfs.cpio.gz" >&2
