// The network guest tests' shell scripts (test/devices/virtio/guest-scripts/net-*.sh),
// read from the source tree whether the tests run from src (tsx) or from dist/, with
// their @NAME@ placeholders filled in; one typed line per array element.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dir = [join(here, '../devices/virtio/guest-scripts'), join(here, '../../../test/devices/virtio/guest-scripts')].find((d) => existsSync(join(d, 'net-user.sh')))!;

export function guestScript(name: string, vars: Record<string, string> = {}): string[] {
  let text = readFileSync(join(dir, name), 'utf8');
  for (const [k, v] of Object.entries(vars)) text = text.replaceAll(`@${k}@`, v);
  return text.trimEnd().split('\n');
}
