#!/bin/bash
# Boot the default guest in QEMU as a reference for typevisor: wait for the
# shell, run a few commands, `poweroff`, and check that QEMU exits.
#
#   bash guest/qemu-test.sh [MEMORY_MiB] [extra qemu-system-i386 args...]
#
# Needs qemu-system-x86 (apt-get install qemu-system-x86). The CPU is a
# Pentium II: no SSE, no APIC use (the kernel has no APIC support).
# Prints the serial console, then the time to the banner and to the prompt.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mem=${1:-64}
shift || true
timeout=${TIMEOUT:-120}
prompt='typevisor:/# '

coproc QEMU {
	exec qemu-system-i386 -cpu pentium2 -m "$mem" \
		-kernel "$here/bzImage" -initrd "$here/initramfs.cpio.gz" \
		-append "console=ttyS0" -nographic -no-reboot "$@" 2>&1
}
qpid=$QEMU_PID
exec {qin}>&"${QEMU[1]}" {qout}<&"${QEMU[0]}"
start=$(date +%s%N)
buf=""

elapsed() { echo "scale=2; ($(date +%s%N) - $start) / 1000000000" | bc; }

# Read console output until it ends with (or contains) $1.
expect_text() {
	local want=$1 c deadline=$((SECONDS + timeout))
	buf=""
	while [ $SECONDS -lt $deadline ]; do
		IFS= read -r -N 1 -t 1 -u "$qout" c || { [ $? -gt 128 ] && continue; return 1; }
		printf '%s' "$c"
		buf+=$c
		[[ $buf == *"$want"* ]] && return 0
	done
	return 1
}

fail() { echo; echo "qemu-test: FAIL: $*"; kill "$qpid" 2>/dev/null; exit 1; }

expect_text "typevisor guest: " || fail "no banner"
t_banner=$(elapsed)
expect_text "$prompt" || fail "no shell prompt"
t_prompt=$(elapsed)
printf 'uname -a\n' >&"$qin"
expect_text "$prompt" || fail "uname -a did not return"
printf 'poweroff\n' >&"$qin"
expect_text "Power down" || fail "no power-down message"
for _ in $(seq 1 50); do kill -0 "$qpid" 2>/dev/null || break; sleep 0.2; done
kill -0 "$qpid" 2>/dev/null && fail "QEMU did not exit after poweroff"
wait "$qpid"
rc=$?
echo
echo "qemu-test: -m $mem: banner at ${t_banner}s, prompt at ${t_prompt}s, QEMU exited ($rc) at $(elapsed)s"
[ "$rc" -eq 0 ] || fail "QEMU exit status $rc"
