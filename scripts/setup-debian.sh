#!/usr/bin/env bash
# Installs the Debian packages typevisor's tests and benchmarks use where no npm
# package serves: nasm (assembles the CPU test programs), SeaBIOS (booted by the
# firmware test and used by the bench peers), acpica-tools (iasl checks the DSDT),
# iproute2 (the tap test makes a tap device with `ip tuntap`), gdb and binutils (the GDB stub
# test drives Debian's gdb against a kernel linked with ld), chromium (the browser tests drive it
# through playwright-core), containerd (the shim tests run the real containerd and its ctr),
# and for the peers measured by `npm run bench`, QEMU (qemu-system-x86). It also fetches
# Debian's stock linux-image-686 and linux-image-686-pae kernels (apt-get download, i386;
# nothing is installed) into bench/.cache/vmlinuz-686 and vmlinuz-686-pae, for the
# distribution-kernel tests and the distro boot benchmark; where that fails the tests
# skip and say why. Safe to run again.
# Usage: sudo scripts/setup-debian.sh [--bench]
set -euo pipefail
pkgs=(nasm passt e2fsprogs seabios acpica-tools iproute2 gdb binutils chromium containerd)
if [[ "${1:-}" == "--bench" ]]; then pkgs+=(qemu-system-x86); fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# Debian's linux-image-FLAVOUR (686 or 686-pae; the metapackage names the current
# version), unpacked for its vmlinuz alone into bench/.cache/vmlinuz-FLAVOUR; nothing is
# installed. Returns non-zero (with a message) on failure.
fetch_distro_kernel() {
  local flavour="$1"
  local dest="$(cd "$(dirname "$0")/.." && pwd)/bench/.cache"
  [[ -f "$dest/vmlinuz-$flavour" ]] && { echo "setup-debian: $dest/vmlinuz-$flavour present"; return; }
  if ! dpkg --print-foreign-architectures | grep -qx i386; then
    [[ $(id -u) -eq 0 ]] || { echo "setup-debian: the i386 architecture is needed for linux-image-$flavour; run as root" >&2; return 1; }
    dpkg --add-architecture i386
    apt-get update -qq
  fi
  local pkg tmp
  pkg=$(apt-cache depends "linux-image-$flavour:i386" | sed -n "s/^ *Depends: \(linux-image-[0-9.]*-[0-9]*-$flavour\):i386\$/\1/p" | head -n1)
  [[ -n "$pkg" ]] || { echo "setup-debian: apt knows no linux-image-$flavour:i386 (apt-get update?)" >&2; return 1; }
  tmp=$(mktemp -d)
  if ! (cd "$tmp" && apt-get download -qq "$pkg:i386" 2>/dev/null && dpkg-deb --fsys-tarfile ./*.deb | tar -x --wildcards './boot/vmlinuz-*'); then
    rm -rf "$tmp"
    echo "setup-debian: could not download $pkg" >&2
    return 1
  fi
  mkdir -p "$dest"
  mv "$tmp"/boot/vmlinuz-* "$dest/vmlinuz-$flavour"
  rm -rf "$tmp"
  echo "setup-debian: fetched $pkg into $dest/vmlinuz-$flavour"
}
fetch_distro_kernels() {
  fetch_distro_kernel 686 || true
  fetch_distro_kernel 686-pae || true
}

if ((${#missing[@]} == 0)); then
  echo "setup-debian: all present (${pkgs[*]})"
  fetch_distro_kernels
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "setup-debian: missing ${missing[*]}; run as root (sudo $0 $*)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup-debian: installed ${missing[*]}"
fetch_distro_kernels
