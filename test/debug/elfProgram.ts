// Test kernels for the GDB stub tests: a nasm program linked by ld into an ELF with
// symbols (typevisor boots an ELF kernel at its entry), and whether the tools to build
// and debug it are installed.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

function have(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A skip reason when gdb, nasm or ld is missing, else false. */
export const gdbTestSkip: string | false = !have('gdb', ['--version']) ? 'gdb not installed (scripts/setup-debian.sh installs it)'
  : !have('nasm', ['-v']) || !have('ld', ['--version']) ? 'nasm and ld (binutils) are needed to build the test kernel' : false;

/** Assemble and link `program` (32-bit nasm source, entry _start, text at 1 MiB) into dir/k.elf with its symbols and line info. */
export function buildElf(dir: string, program: string): string {
  writeFileSync(join(dir, 'k.asm'), program);
  execFileSync('nasm', ['-f', 'elf32', '-g', '-o', join(dir, 'k.o'), join(dir, 'k.asm')]);
  execFileSync('ld', ['-m', 'elf_i386', '-N', '-Ttext', '0x100000', '-e', '_start', '-o', join(dir, 'k.elf'), join(dir, 'k.o')]);
  return join(dir, 'k.elf');
}
