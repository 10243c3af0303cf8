// Conformance with Firecracker's API description (../shared/reference/firecracker-api.yaml,
// OpenAPI 2.0): every endpoint typevisor serves or refuses exists there with the same
// method; request schemas use its field names, types and enums; success statuses match;
// and the GET bodies validate against its definitions.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { ApiServer, ROUTES, UNSUPPORTED } from '../../src/vmm/api/ApiServer.js';
import { REQUEST_SCHEMAS, validate, type Definitions, type Schema } from '../../src/vmm/api/schema.js';
import { Vmm } from '../../src/vmm/Vmm.js';
import { api } from './apiClient.js';

const SPEC = resolve(import.meta.dirname, '../../../../shared/reference/firecracker-api.yaml');
const skip = existsSync(SPEC) ? false : `Firecracker's API description not found at ${SPEC}`;

interface Operation {
  parameters?: { in: string; name: string; schema?: Schema }[];
  responses: Record<string, { schema?: Schema }>;
}
interface Spec {
  paths: Record<string, Record<string, Operation>>;
  definitions: Definitions;
}

function load(): Spec {
  return parse(readFileSync(SPEC, 'utf8')) as Spec;
}

test('every endpoint typevisor serves or refuses is in Firecracker\'s API, with the same method', { skip }, () => {
  const spec = load();
  const ours = new Set<string>();
  for (const r of ROUTES) {
    const op = spec.paths[r.path]?.[r.method.toLowerCase()];
    assert.ok(op, `${r.method} ${r.path} is not in firecracker-api.yaml`);
    ours.add(`${r.method} ${r.path}`);
    const success = r.method === 'GET' ? '200' : '204';
    assert.ok(op.responses[success], `${r.method} ${r.path}: the yaml has no ${success} response (has ${Object.keys(op.responses).join(', ')})`);
  }
  for (const [m, p] of UNSUPPORTED) {
    assert.ok(spec.paths[p]?.[m.toLowerCase()], `${m} ${p} (refused as unsupported) is not in firecracker-api.yaml`);
    assert.ok(!ours.has(`${m} ${p}`), `${m} ${p} is both served and refused`);
    ours.add(`${m} ${p}`);
  }
  // And the other way: every operation of the yaml gets an answer that names it.
  for (const [p, ops] of Object.entries(spec.paths)) {
    for (const m of Object.keys(ops)) {
      if (!['get', 'put', 'patch', 'post', 'delete'].includes(m)) continue;
      assert.ok(ours.has(`${m.toUpperCase()} ${p}`), `${m.toUpperCase()} ${p} from the yaml is neither served nor refused by name`);
    }
  }
});

test('request schemas use Firecracker\'s definitions: names, types, enums, required fields', { skip }, () => {
  const spec = load();
  for (const r of ROUTES) {
    if (r.body === undefined) continue;
    const op = spec.paths[r.path]![r.method.toLowerCase()]!;
    const param = op.parameters?.find((p) => p.in === 'body');
    const defName = param?.schema?.$ref?.replace('#/definitions/', '');
    const ourName = r.body === 'MachineConfigurationPatch' ? 'MachineConfiguration' : r.body;
    assert.equal(defName, ourName, `${r.method} ${r.path}: body definition`);
    const theirs = spec.definitions[defName!]!;
    const mine = REQUEST_SCHEMAS[ourName]!;
    const theirProps = theirs.properties ?? {};
    for (const [name, s] of Object.entries(mine.properties ?? {})) {
      const t = theirProps[name];
      assert.ok(t, `${ourName}.${name} is not a field of Firecracker's ${defName}`);
      if (t.$ref === undefined) assert.equal(s.type, t.type, `${ourName}.${name} type`);
      if (t.enum !== undefined) assert.deepEqual(s.enum, t.enum, `${ourName}.${name} enum`);
      if (t.minimum !== undefined) assert.equal(s.minimum, t.minimum, `${ourName}.${name} minimum`);
      if (t.maximum !== undefined) assert.equal(s.maximum, t.maximum, `${ourName}.${name} maximum`);
    }
    // Every field Firecracker defines is either accepted or refused as "not supported yet".
    for (const name of Object.keys(theirProps)) {
      assert.ok(mine.properties?.[name] || mine.unsupported?.includes(name), `${defName}.${name} is neither accepted nor named as unsupported`);
    }
    for (const name of mine.unsupported ?? []) assert.ok(theirProps[name], `${ourName}: unsupported "${name}" is not a Firecracker field`);
    for (const name of theirs.required ?? []) assert.ok(mine.required?.includes(name), `${ourName}: Firecracker requires "${name}"`);
  }
  assert.ok(spec.definitions.Error?.properties?.fault_message, 'Firecracker\'s Error shape has fault_message');
});

test('GET /, GET /machine-config and GET /vm/config answer bodies that validate against the yaml', { skip }, async () => {
  const spec = load();
  const dir = mkdtempSync(join(tmpdir(), 'typevisor-conf-'));
  const vmm = new Vmm({ pacing: 'fast', serialOut: () => {} });
  const server = new ApiServer(vmm);
  const sock = join(dir, 'api.sock');
  await server.listen(sock);
  try {
    // A configured VM, so GET /vm/config has something in every section typevisor serves.
    const root = resolve(import.meta.dirname, '../../..');
    writeFileSync(join(dir, 'disk'), Buffer.alloc(4096));
    for (const [p, b] of [
      ['/boot-source', { kernel_image_path: join(root, 'guest/bzImage'), boot_args: 'console=ttyS0' }],
      ['/drives/rootfs', { drive_id: 'rootfs', path_on_host: join(dir, 'disk'), is_root_device: true, is_read_only: false }],
      ['/entropy', {}],
      ['/vsock', { guest_cid: 3, uds_path: join(dir, 'v.sock') }],
      ['/logger', { log_path: join(dir, 'log'), level: 'Debug' }],
      ['/metrics', { metrics_path: join(dir, 'metrics') }],
    ] as const) assert.equal((await api(sock, 'PUT', p, b)).status, 204, p);
    for (const r of ROUTES.filter((x) => x.method === 'GET')) {
      const a = await api(sock, 'GET', r.path);
      assert.equal(a.status, 200);
      const schema = spec.paths[r.path]!.get!.responses['200']!.schema!;
      assert.equal(validate(schema, a.body, spec.definitions), null, `GET ${r.path}: ${a.text}`);
    }
    // The error shape too.
    const bad = await api(sock, 'PUT', '/boot-source', {});
    assert.equal(validate({ $ref: '#/definitions/Error' }, bad.body, spec.definitions), null);
    // A negative check that the validator does look: a wrong state is refused.
    assert.notEqual(validate({ $ref: '#/definitions/InstanceInfo' }, { id: 'a', state: 'Halted', vmm_version: '1', app_name: 'x' }, spec.definitions), null);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
