// A distribution kernel (Debian 12's linux-image-686, far more of the instruction set and
// of the platform than the default guest's tinyconfig kernel) boots on the software CPU
// to the default guest's busybox shell: about 2.7 G guest instructions from a bzImage,
// 2.3 G of them in the XZ decompressor (add ~3 G more without cryptomgr.notests), about
// 10 s on the translator; it takes the machine's local APIC and I/O APIC (the MADT) and
// routes its interrupts through them. The kernel is the one scripts/setup-debian.sh fetches into
// bench/.cache/vmlinuz-686 (the test skips, saying so, where it could not), or another:
//
//   TYPEVISOR_DISTRO_KERNEL=/boot/vmlinuz-6.1.0-28-686 node --test dist/test/cpu/distroKernel.test.js
//
// Beside it the same for linux-image-686-pae (bench/.cache/vmlinuz-686-pae, or
// TYPEVISOR_DISTRO_KERNEL_PAE): PAE paging with NX, which that kernel requires and turns on.
//
// TYPEVISOR_DISTRO_APPEND adds to the command line (e.g. "nokaslr"); set
// TYPEVISOR_DISTRO_SELFTESTS=1 to keep the kernel's crypto self-tests (DH, RSA, ...).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Machine } from '../../src/machine/Machine.js';
import { debianKernelPath } from '../../bench/boot.js';
import { attachSerial, PROMPT } from '../machine/serialSession.js';
import { CPUID_FEATURES_EDX, FEAT_CMOV, FEAT_CX8, FEAT_FXSR, FEAT_MMX, FEAT_PAE, FEAT_PGE, FEAT_SEP, FEAT_SSE, FEAT_SSE2, FEAT_TSC } from '../../src/cpu/cpuid.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const initrd = resolve(root, 'guest/initramfs.cpio.gz');
/** Bounds of the guest's own (virtual) time: a loaded host does not shorten them. */
const BOOT_MS = 900_000;
/**
 * The test's wall-time guard against a host-side hang only: the boot is ~10 s of host time
 * on a quiet machine on the translator, ~270 s on the interpreter, several times that on a
 * busy host.
 */
const HANG_GUARD_MS = 7_200_000;

for (const flavour of ['686', '686-pae'] as const) {
const kernel = debianKernelPath(flavour);
const variable = flavour === '686' ? 'TYPEVISOR_DISTRO_KERNEL' : 'TYPEVISOR_DISTRO_KERNEL_PAE';
const skip = !existsSync(kernel) ? `${kernel} does not exist (scripts/setup-debian.sh fetches it; or set ${variable})`
    : !existsSync(initrd) ? 'guest/initramfs.cpio.gz is missing' : false;
const pae = flavour === '686-pae';
test(`a distribution kernel (${flavour}) boots to the busybox shell with no oops, sees the CPUID features and uses the APICs`, { skip, timeout: HANG_GUARD_MS }, async () => {
  const append = [
    'console=ttyS0 panic=-1',
    process.env['TYPEVISOR_DISTRO_SELFTESTS'] ? '' : 'cryptomgr.notests',
    process.env['TYPEVISOR_DISTRO_APPEND'] ?? '',
  ].filter((s) => s !== '').join(' ');
  const m = new Machine({
    memoryMiB: 256,
    pacing: 'fast',
    kernel: new Uint8Array(readFileSync(kernel)),
    initrd: new Uint8Array(readFileSync(initrd)),
    cmdline: append,
  });
  const { serial: s, send, run } = attachSerial(m);
  const done = run(); // a machine that stops ends the waits at once
  try {
    await s.waitFor(/Run \/init as init process/, BOOT_MS);
    await s.waitFor(PROMPT, 120_000);
    send('grep -m1 ^flags /proc/cpuinfo; echo sum=$((40+2))\n');
    const flags = (await s.waitFor(/flags\s*:([^\r\n]*)/, 60_000))[1]!.trim().split(/\s+/);
    await s.waitFor(/sum=42/, 60_000);
    // What the kernel made of CPUID leaf 1: every feature this CPU reports that Linux
    // names in /proc/cpuinfo (it hides a few itself, e.g. pse without PSE-36 use).
    const named: [number, string][] = [[FEAT_TSC, 'tsc'], [FEAT_CX8, 'cx8'], [FEAT_SEP, 'sep'], [FEAT_PGE, 'pge'], [FEAT_CMOV, 'cmov'], [FEAT_FXSR, 'fxsr'], [FEAT_PAE, 'pae'], [FEAT_MMX, 'mmx'], [FEAT_SSE, 'sse'], [FEAT_SSE2, 'sse2']];
    for (const [bit, name] of named) {
      if ((CPUID_FEATURES_EDX & bit) !== 0) assert.ok(flags.includes(name), `/proc/cpuinfo flags lack ${name}: ${flags.join(' ')}`);
    }
    assert.ok(flags.includes('tsc_deadline_timer'), `/proc/cpuinfo flags lack tsc_deadline_timer: ${flags.join(' ')}`);
    // The kernel routes its interrupts through the I/O APIC and ticks on the local APIC's timer.
    send('grep -E "IO-APIC|LOC" /proc/interrupts; sleep 1; grep LOC /proc/interrupts; echo irqs-$((1+1))done\n');
    const ints = (await s.waitFor(/([^]*?)irqs-2done/, 60_000))[1]!;
    assert.match(ints, /IO-APIC\s+2-edge\s+timer/, `the PIT/HPET tick is not on I/O APIC pin 2: ${ints}`);
    assert.match(ints, /IO-APIC\s+4-edge\s+ttyS0/, `the serial port is not on the I/O APIC: ${ints}`);
    const loc = [...ints.matchAll(/LOC:\s+(\d+)/g)].map((m) => Number(m[1]));
    assert.equal(loc.length, 2, ints);
    assert.ok(loc[0]! > 0 && loc[1]! > loc[0]!, `local APIC timer interrupts do not count: ${loc.join(' then ')}`);
    const log = s.output;
    if (pae) {
      // The PAE kernel runs with PAE paging and EFER.NXE: its data and stacks are XD.
      assert.ok(flags.includes('nx'), `/proc/cpuinfo flags lack nx: ${flags.join(' ')}`);
      assert.match(log, /NX \(Execute Disable\) protection: active/);
      assert.notEqual(m.cpu.cr4 & 0x20, 0, 'CR4.PAE');
      assert.notEqual(m.cpu.efer & 0x800, 0, 'EFER.NXE');
    }
    assert.doesNotMatch(log, /\b(Oops|BUG:|WARNING:|general protection fault|invalid opcode:|Kernel panic)/, 'the kernel log shows a fault');
    assert.doesNotMatch(log, /alg: .* (failed|error)/i, 'a crypto self-test failed');
    send('poweroff\n');
    const exit = await done;
    assert.equal(exit.kind, 'poweroff');
  } finally {
    m.stop('test over');
    await done;
  }
});
}
