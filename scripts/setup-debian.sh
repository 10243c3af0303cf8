#!/usr/bin/env bash
# Installs the Debian packages typevisor's tests and benchmarks use where no npm
# package serves: nasm (assembles the CPU test programs), SeaBIOS (booted by the
# firmware test and used by the bench peers), acpica-tools (iasl checks the DSDT),
# iproute2 (the tap test makes a tap device with `ip tuntap`),
# and for the peers measured by `npm run bench`, QEMU (qemu-system-x86). Safe to run again.
# Usage: sudo scripts/setup-debian.sh [--bench]
set -euo pipefail
pkgs=(nasm passt e2fsprogs seabios acpica-tools iproute2)
if [[ "${1:-}" == "--bench" ]]; then pkgs+=(qemu-system-x86); fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then echo "setup-debian: all present (${pkgs[*]})"; exit 0; fi
if [[ $(id -u) -ne 0 ]]; then
  echo "setup-debian: missing ${missing[*]}; run as root (sudo $0 $*)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup-debian: installed ${missing[*]}"
