#!/bin/sh
# Reassemble the CPU's self-checking test programs (test/cpu/asm/*.asm → .bin) and
# the benchmark guest (bench/asm/*.asm → .bin) with nasm. The .bin files are
# committed; test/cpu/programs.test.ts checks they match their sources.
#
#   scripts/build-asm.sh            assemble everything
#   scripts/build-asm.sh --qemu     also run each test program on QEMU (TCG) as a
#                                   reference: a program that fails there is wrong,
#                                   not the CPU
#   scripts/build-asm.sh --record
#                                   rerecord the hashes the differential programs
#                                   compare with (test/cpu/asm/*-expected.inc:
#                                   flags, decode, descriptors, pagediff) on QEMU,
#                                   then assemble all. x87diff's hashes come from
#                                   real x87 hardware, not QEMU (whose x87 differs:
#                                   C1 after FPREM, PE on loads at reduced
#                                   precision): on an x86 host,
#                                     cc -O1 -o /tmp/x87diff-host test/cpu/asm/x87diff-host.c
#                                     /tmp/x87diff-host > test/cpu/asm/x87diff-expected.inc
#                                   and sse's from the host's SSE unit (QEMU 7.2's NaN
#                                   rules differ):
#                                     test/cpu/asm/sse-host.sh > test/cpu/asm/sse-expected.inc
set -eu
cd "$(dirname "$0")/.."
command -v nasm >/dev/null || { echo "nasm not found (apt-get install nasm)" >&2; exit 1; }

# boot_on_qemu BIN OUT: boot BIN (a test program) on QEMU through the boot sector (a
# Pentium III with NX, for pae.asm);
# prints the guest's exit code (or "none ...") and leaves its 0xE9 text in OUT.
boot_on_qemu() {
  command -v qemu-system-i386 >/dev/null || { echo "qemu-system-i386 not found (apt-get install qemu-system-x86)" >&2; exit 1; }
  nasm -f bin -o "$tmp/boot.bin" test/cpu/asm/qemu/boot.asm
  # Boot sector + program, padded to the 120 sectors the boot sector reads.
  cat "$tmp/boot.bin" "$1" > "$tmp/disk.img"
  truncate -s $((121 * 512)) "$tmp/disk.img"
  : > "$2"
  set +e
  timeout 300 qemu-system-i386 -accel tcg -cpu "$qemu_cpu" -m 16 -display none -no-reboot \
    -drive file="$tmp/disk.img",format=raw,if=ide \
    -debugcon file:"$2" -device isa-debug-exit,iobase=0xf4,iosize=1 >/dev/null 2>&1
  rc=$?
  set -e
  # isa-debug-exit makes QEMU exit with (value << 1) | 1.
  if [ $((rc & 1)) -eq 1 ]; then echo $((rc >> 1)); else echo "none (qemu status $rc)"; fi
}
# The CPU model QEMU runs: a Pentium III, or with SSE2 for the SSE program.
qemu_cpu_for() { if [ "$1" = sse ]; then echo coreduo,+nx; else echo pentium3,+nx; fi; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ "${1:-}" = "--record" ]; then
  for name in flags decode descriptors pagediff; do
    nasm -f bin -DRECORD -I test/cpu/asm/ -o "$tmp/$name-record.bin" "test/cpu/asm/$name.asm"
    qemu_cpu=$(qemu_cpu_for "$name")
    code=$(boot_on_qemu "$tmp/$name-record.bin" "$tmp/$name.txt")
    [ "$code" = 0 ] || { echo "recording run of $name failed: exit $code" >&2; cat "$tmp/$name.txt" >&2; exit 1; }
    grep -v "^$name: ok" "$tmp/$name.txt" > "test/cpu/asm/$name-expected.inc"
    echo "recorded test/cpu/asm/$name-expected.inc ($(grep -c 'dd 0x' "test/cpu/asm/$name-expected.inc") hashes)"
  done
fi

for src in test/cpu/asm/*.asm bench/asm/*.asm; do
  [ -e "$src" ] || continue
  nasm -f bin -I "$(dirname "$src")/" -o "${src%.asm}.bin" "$src"
  echo "assembled ${src%.asm}.bin ($(wc -c < "${src%.asm}.bin") bytes)"
done

if [ "${1:-}" = "--qemu" ]; then
  mkdir -p "$tmp/bin"
  status=0
  for src in test/cpu/asm/*.asm; do
    name=$(basename "$src" .asm)
    # QEMU_TCG leaves out the checks TCG does not model (segment limits and types on
    # data accesses, ...); everything else must pass on QEMU as it does on typevisor.
    bin="$tmp/bin/$name.bin"
    nasm -f bin -DQEMU_TCG -I test/cpu/asm/ -o "$bin" "$src"
    qemu_cpu=$(qemu_cpu_for "$name")
    code=$(boot_on_qemu "$bin" "$tmp/out.txt")
    [ "$code" = 0 ] || status=1
    echo "qemu $name: exit $code"
    sed 's/^/    /' "$tmp/out.txt"
  done
  exit $status
fi
