// `--stats`: the run's trap-and-emulate story — exits by kind (port I/O by port, MMIO
// by device, HLT), exceptions and interrupts by vector, #UD by opcode, instructions,
// MIPS, the translator's work, boot milestones and the POST codes written to port 0x80.

import type { Machine, ExitReason } from '../machine/Machine.js';
import type { PostCode } from '../devices/PostCode.js';

const EXC_NAMES = ['#DE', '#DB', 'NMI', '#BP', '#OF', '#BR', '#UD', '#NM', '#DF', '', '#TS', '#NP', '#SS', '#GP', '#PF', '', '#MF', '#AC', '#MC', '#XM'];

function hex(n: number, w = 2): string {
  return '0x' + n.toString(16).padStart(w, '0');
}

function top<T>(entries: [T, number][], n: number): [T, number][] {
  return entries.filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]).slice(0, n);
}

/** Port 0x80: the last code and the recent distinct codes in order, as a POST card would show them. */
function postCodeLines(post: PostCode): string[] {
  if (post.writes === 0) return ['POST codes (port 0x80): none written'];
  const h = post.history();
  const lines = [`POST codes (port 0x80): ${post.writes} writes, last ${hex(post.code)}`];
  lines.push(`  distinct codes in order (repeats collapsed${h.dropped > 0 ? `; the last ${h.codes.length}, ${h.dropped} earlier dropped` : ''}):`);
  for (let i = 0; i < h.codes.length; i += 16) {
    lines.push('    ' + h.codes.slice(i, i + 16).map((c) => c.toString(16).padStart(2, '0')).join(' '));
  }
  return lines;
}

/** The binary translator's work: how much ran translated, what compiling cost, the code cache. */
function translatorLines(m: Machine): string[] {
  const t = m.translator;
  if (t === null) return ['cpu engine: interpreter'];
  const s = t.stats;
  const share = m.cpu.instructions > 0 ? (100 * s.translatedInsns / m.cpu.instructions).toFixed(1) : '0.0';
  return [
    `cpu engine: binary translator, ${share}% of instructions ran translated (${s.cacheHits} region entries)`,
    `  compiled: ${s.regionsCompiled} regions (${s.regionsOptimized} again by the optimizing compiler), ${s.blocksCompiled} blocks, ` +
      `${s.insnsCompiled} instructions in ${s.compileMs.toFixed(0)} ms`,
    `  code cache: ${s.regions} regions, ${(s.cacheBytes / 1024).toFixed(0)} KiB; dropped: ${s.invalidations} by writes to their code, ${s.evictions} to keep the cap`,
  ];
}

export function formatStats(m: Machine, reason: ExitReason): string {
  const cpu = m.cpu;
  const wallMs = m.uptimeMs();
  const lines: string[] = ['', '--- typevisor stats ---'];
  lines.push(`exit: ${reason.kind}${'detail' in reason ? ` (${reason.detail})` : ''}`);
  lines.push(`wall time: ${(wallMs / 1000).toFixed(3)} s, virtual time: ${(m.clock.now() / 1e9).toFixed(3)} s`);
  lines.push(`guest instructions: ${cpu.instructions}, ${(cpu.instructions / wallMs / 1000).toFixed(1)} MIPS`);
  lines.push(...translatorLines(m));
  if (m.recorder !== null) lines.push(`record: ${m.recorder.checkpoints} checkpoints and the end hashed in ${m.recorder.hashMs.toFixed(0)} ms, ${m.recorder.logBytes} bytes of log`);
  if (m.replayer !== null) lines.push(`replay: ${m.replayer.checked} checkpoints compared`);
  lines.push(`HLT exits: ${m.loop.halts}`);
  const ports: [number, number][] = [];
  cpu.io.counts.forEach((v, p) => { if (v > 0) ports.push([p, v]); });
  const portTotal = ports.reduce((s, [, v]) => s + v, 0);
  lines.push(`port I/O exits: ${portTotal}`);
  for (const [p, v] of top(ports, 16)) lines.push(`  port ${hex(p, 4)} ${(cpu.io.ownerOf(p) ?? 'unclaimed').padEnd(14)} ${v}`);
  const mmio = [...m.mem.mmioCounts.entries()];
  lines.push(`MMIO exits: ${mmio.reduce((s, [, v]) => s + v, 0)}`);
  for (const [name, v] of top(mmio, 16)) lines.push(`  ${name.padEnd(20)} ${v}`);
  const exc: [number, number][] = [];
  cpu.excCounts.forEach((v, i) => exc.push([i, v]));
  lines.push('exceptions by vector:');
  for (const [v, n] of top(exc, 32)) lines.push(`  ${String(v).padStart(2)} ${(EXC_NAMES[v] ?? '').padEnd(4)} ${n}`);
  const ints: [number, number][] = [];
  cpu.intCounts.forEach((v, i) => ints.push([i, v]));
  lines.push('external interrupts by vector:');
  for (const [v, n] of top(ints, 32)) lines.push(`  ${hex(v)} ${n}`);
  if (cpu.udCounts.size > 0) {
    lines.push('#UD by opcode (unimplemented or invalid):');
    for (const [op, n] of top([...cpu.udCounts.entries()], 32)) lines.push(`  ${op >= 0x100 ? '0f ' + hex(op & 0xff) : hex(op)} ${n}`);
  }
  lines.push(...postCodeLines(m.platform.post));
  if (m.milestones.size > 0) {
    lines.push('boot milestones (wall ms):');
    for (const [name, t] of m.milestones) lines.push(`  ${t.toFixed(1).padStart(9)}  ${name}`);
  }
  if (reason.kind === 'triple-fault') {
    lines.push(`cpu state: eip=${hex(cpu.eip >>> 0, 8)} cs=${hex(cpu.segSel[1]!, 4)} cr0=${hex(cpu.cr0 >>> 0, 8)} cr2=${hex(cpu.cr2 >>> 0, 8)} cr3=${hex(cpu.cr3 >>> 0, 8)} eflags=${hex(cpu.getEflags() >>> 0, 8)}`);
    lines.push(`  eax=${hex(cpu.regs[0]! >>> 0, 8)} ebx=${hex(cpu.regs[3]! >>> 0, 8)} ecx=${hex(cpu.regs[1]! >>> 0, 8)} edx=${hex(cpu.regs[2]! >>> 0, 8)} esi=${hex(cpu.regs[6]! >>> 0, 8)} edi=${hex(cpu.regs[7]! >>> 0, 8)} ebp=${hex(cpu.regs[5]! >>> 0, 8)} esp=${hex(cpu.regs[4]! >>> 0, 8)}`);
  }
  return lines.join('\n') + '\n';
}
