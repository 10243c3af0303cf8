// What a container VM takes from an OCI spec, and what it refuses by name.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSpec, jobScript, processCommand, shellQuote, SpecError, MIN_VM_MIB, DEFAULT_VM_MIB, type OciSpec } from '../../src/shim/ociSpec.js';

const base = (extra: Partial<OciSpec> = {}): OciSpec => ({ process: { args: ['sh'], cwd: '/' }, ...extra });

test('checkSpec: memory limit to VM memory (MiB, rounded up), default without one', () => {
  assert.equal(checkSpec(base()).memoryMiB, DEFAULT_VM_MIB);
  assert.equal(checkSpec(base({ linux: { resources: { memory: { limit: 100 * 1024 * 1024 + 1 } } } })).memoryMiB, 101);
  assert.throws(() => checkSpec(base({ linux: { resources: { memory: { limit: (MIN_VM_MIB - 1) << 20 } } } })), /linux\.resources\.memory\.limit: .* below/);
  assert.throws(() => checkSpec(base({ linux: { resources: { memory: { limit: 4096 * 2 ** 20 } } } })), /linux\.resources\.memory\.limit: .* above/);
});

test('checkSpec: what the VM cannot do is refused naming the field', () => {
  const cases: [OciSpec, RegExp][] = [
    [{}, /^process:/],
    [{ process: { args: [] } }, /^process\.args: no command/],
    [base({ process: { args: ['sh'], user: { uid: 1000, gid: 1000 } } }), /^process\.user: uid 1000 gid 1000 is not supported/],
    [base({ process: { args: ['sh'], cwd: 'relative' } }), /^process\.cwd: must be an absolute path/],
    [base({ hooks: { prestart: [{ path: '/x' }] } }), /^hooks\.prestart: OCI hooks are not supported/],
    [base({ mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }, { destination: '/data', type: 'bind', source: '/srv', options: ['rbind'] }] }), /^mounts\[1\]: bind mount of host path "\/srv" at "\/data"/],
    [base({ mounts: [{ destination: '/data', type: 'none', source: '/srv', options: ['rbind', 'ro'] }] }), /^mounts\[0\]: bind mount/],
    [base({ mounts: [{ destination: '/n', type: 'nfs', source: 'h:/x' }] }), /^mounts\[0\]: mount type "nfs" at "\/n" is not supported/],
  ];
  for (const [spec, re] of cases) assert.throws(() => checkSpec(spec), (e: Error) => e instanceof SpecError && re.test(e.message), JSON.stringify(spec));
  // The mounts containerd's default spec has are the guest's own: accepted.
  checkSpec(base({ mounts: ['proc', 'tmpfs', 'devpts', 'mqueue', 'sysfs', 'cgroup'].map((type) => ({ destination: `/${type}`, type, source: type })) }));
});

test('processCommand: every argument and variable reaches the process as one word, whatever it holds', () => {
  assert.equal(shellQuote(`it's "$HOME" \\ $(x)`), `'it'\\''s "$HOME" \\ $(x)'`);
  const cmd = processCommand({ args: ['echo', "a'b", '$X'], env: ['X=1 2'], cwd: '/' });
  assert.equal(cmd, `exec /bin/busybox env -i 'X=1 2' /bin/busybox chroot /mnt/root 'echo' 'a'\\''b' '$X'`);
  assert.match(processCommand({ args: ['pwd'], cwd: '/w d' }), /\/bin\/sh -c 'cd "\$1" \|\| exit 127; shift; exec "\$@"' sh '\/w d' 'pwd'$/);
  const job = jobScript({ process: { args: ['true'], terminal: true }, hostname: "h'x" });
  assert.match(job, /^terminal=1$/m);
  assert.match(job, /^hostname 'h'\\''x'$/m);
  assert.match(job, /^run_main\(\) \{ exec .* 'true'; \}$/m);
});
