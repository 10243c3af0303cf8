// What the benchmark reports share: the median of a set of runs, the host they ran on
// (CPUs and load average before and after, since a busy host inflates wall times), and a
// typevisor/peer ratio said as who is faster by how much.

import { cpus, loadavg } from 'node:os';

/** The middle value (mean of the two middle ones for an even count); null for no values. */
export function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface HostLoad { cpus: number; loadAvgBefore: number[]; loadAvgAfter: number[] }

/** A report's host field, at the end of a benchmark that read `loadAvgBefore` at its start. */
export function hostLoad(loadAvgBefore: number[]): HostLoad {
  return { cpus: cpus().length, loadAvgBefore, loadAvgAfter: loadavg() };
}

export function loadText(l: number[]): string {
  return l.map((x) => x.toFixed(2)).join(' ');
}

/** The report line for a HostLoad. */
export function hostLine(h: HostLoad): string {
  return `  host: ${h.cpus} CPUs, load average before ${loadText(h.loadAvgBefore)}, after ${loadText(h.loadAvgAfter)}`;
}

/**
 * typevisor's figure over a peer's, with who is faster: `higher: 'faster'` for
 * throughputs (MB/s, MIPS), 'slower' for times.
 */
export function ratioText(ratio: number | null, peer: string, higher: 'faster' | 'slower', digits = 3): string {
  if (ratio === null) return 'n/a';
  if (!(ratio > 0 && Number.isFinite(ratio))) return ratio.toFixed(digits);
  const speed = higher === 'faster' ? ratio : 1 / ratio;
  return `${ratio.toFixed(digits)} (${speed >= 1 ? `typevisor ${speed.toFixed(2)}x faster` : `${peer} ${(1 / speed).toFixed(2)}x faster`})`;
}
