#!/bin/sh
# Reassemble the CPU's self-checking test programs (test/cpu/asm/*.asm → .bin) and
# the benchmark guest (bench/asm/*.asm → .bin) with nasm. The .bin files are
# committed; test/cpu/programs.test.ts checks they match their sources.
#
#   scripts/build-asm.sh            assemble everything
#   scripts/build-asm.sh --qemu     also run each test program on QEMU (TCG) as a
#                                   reference: a program that fails there is wrong,
#                                   not the CPU
set -eu
cd "$(dirname "$0")/.."
command -v nasm >/dev/null || { echo "nasm not found (apt-get install nasm)" >&2; exit 1; }

for src in test/cpu/asm/*.asm bench/asm/*.asm; do
  [ -e "$src" ] || continue
  nasm -f bin -I "$(dirname "$src")/" -o "${src%.asm}.bin" "$src"
  echo "assembled ${src%.asm}.bin ($(wc -c < "${src%.asm}.bin") bytes)"
done

if [ "${1:-}" = "--qemu" ]; then
  command -v qemu-system-i386 >/dev/null || { echo "qemu-system-i386 not found (apt-get install qemu-system-x86)" >&2; exit 1; }
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  nasm -f bin -o "$tmp/boot.bin" test/cpu/asm/qemu/boot.asm
  mkdir -p "$tmp/bin"
  status=0
  for src in test/cpu/asm/*.asm; do
    name=$(basename "$src" .asm)
    # QEMU_TCG leaves out the checks TCG does not model (segment limits and types on
    # data accesses); everything else must pass on QEMU as it does on typevisor.
    bin="$tmp/bin/$name.bin"
    nasm -f bin -DQEMU_TCG -I test/cpu/asm/ -o "$bin" "$src"
    # Boot sector + program, padded to the 64 sectors the boot sector reads.
    cat "$tmp/boot.bin" "$bin" > "$tmp/disk.img"
    truncate -s $((65 * 512)) "$tmp/disk.img"
    : > "$tmp/out.txt"
    set +e
    timeout 60 qemu-system-i386 -accel tcg -cpu pentium3 -m 16 -display none -no-reboot \
      -drive file="$tmp/disk.img",format=raw,if=ide \
      -debugcon file:"$tmp/out.txt" -device isa-debug-exit,iobase=0xf4,iosize=1 >/dev/null 2>&1
    rc=$?
    set -e
    # isa-debug-exit makes QEMU exit with (value << 1) | 1.
    if [ $((rc & 1)) -eq 1 ]; then code=$((rc >> 1)); else code="none (qemu status $rc)"; status=1; fi
    [ "$code" = 0 ] || status=1
    echo "qemu $name: exit $code"
    sed 's/^/    /' "$tmp/out.txt"
  done
  exit $status
fi
