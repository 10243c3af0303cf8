// Tap devices on the host for the network tests, made and removed with iproute2 (needs
// root and /dev/net/tun); tapSkip says why they cannot be made here, for `skip`.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { findExecutable } from '../../src/net/PasstBackend.js';

const ip = findExecutable('ip');

/**
 * A /24 of 10.0.0.0/8 for this test process's taps, `third` its third byte: the second
 * byte comes from the process id, so two copies of the suite on one host (a developer's
 * run beside CI's, or a load test) do not route each other's pings.
 */
export function testSubnet(third: number): string {
  return `10.${64 + (process.pid % 128)}.${third}`;
}

/** Why a tap cannot be made here, or false. */
export const tapSkip: string | false =
  process.platform !== 'linux'
    ? 'Linux only'
    : process.getuid?.() !== 0
      ? 'not root (creating a tap device needs CAP_NET_ADMIN)'
      : !existsSync('/dev/net/tun')
        ? '/dev/net/tun is missing'
        : ip === null
          ? 'iproute2 (ip) is not installed (scripts/setup-debian.sh installs it)'
          : false;

export function ipCmd(...args: string[]): void {
  execFileSync(ip!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Delete tap `name` if it exists. */
export function removeTap(name: string): void {
  try {
    ipCmd('link', 'del', name);
  } catch {
    // not there
  }
}

/** A fresh tap `name`, up, with `cidr` (e.g. 10.77.6.1/24) and, if given, that MAC address. */
export function makeTap(name: string, cidr: string, mac?: string): void {
  removeTap(name);
  ipCmd('tuntap', 'add', 'dev', name, 'mode', 'tap');
  try {
    if (mac !== undefined) ipCmd('link', 'set', 'dev', name, 'address', mac);
    ipCmd('addr', 'add', cidr, 'dev', name);
    ipCmd('link', 'set', name, 'up');
  } catch (e) {
    removeTap(name);
    throw e;
  }
}
