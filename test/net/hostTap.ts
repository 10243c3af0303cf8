// Tap devices on the host for the network tests, made and removed with iproute2 (needs
// root and /dev/net/tun); tapSkip says why they cannot be made here, for `skip`.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { findExecutable } from '../../src/net/PasstBackend.js';

const ip = findExecutable('ip');

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
