// Request bodies: names of Object.prototype's members ("constructor", "__proto__",
// "toString", ...) are unknown fields like any other, in every endpoint's body, the
// manager's and Firecracker's config file, and none of them reaches a configuration;
// bodies must be UTF-8 and their strings well-formed Unicode (a lone surrogate would
// become U+FFFD in a file name).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiServer, ROUTES } from '../../src/vmm/api/ApiServer.js';
import { Manager } from '../../src/vmm/Manager.js';
import { Vmm } from '../../src/vmm/Vmm.js';
import { applyConfigFile } from '../../src/vmm/configFile.js';
import { api, faultOf, putRaw, rawRequest } from './apiClient.js';
import { KERNEL } from './managerSupport.js';

const dir = mkdtempSync(join(tmpdir(), 'typevisor-bodies-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function vmmServer(name: string): Promise<{ sock: string; server: ApiServer; vmm: Vmm }> {
  const vmm = new Vmm({ pacing: 'fast', serialOut: () => {} });
  const server = new ApiServer(vmm);
  const sock = join(dir, `${name}.sock`);
  await server.listen(sock);
  return { sock, server, vmm };
}

const PROTO_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'];

test('names of Object.prototype\'s members are unknown fields in every request body, and in config files', async () => {
  const { sock, server, vmm } = await vmmServer('proto');
  const manager = new Manager({ consoleDir: dir, pacing: 'fast' });
  const mserver = new ApiServer(manager);
  const msock = join(dir, 'proto-mgr.sock');
  await mserver.listen(msock);
  try {
    const before = (await api(sock, 'GET', '/vm/config')).body;
    // The case: a valid body with prototype names beside its fields.
    const text = '{"vcpu_count":1,"mem_size_mib":128,"constructor":{"x":1},"__proto__":{"a":1},"toString":"x"}';
    const r = await api(sock, 'PUT', '/machine-config', text);
    assert.equal(r.status, 400, r.text);
    assert.match(faultOf(r.body), /unknown field "constructor"/);
    assert.deepEqual((await api(sock, 'GET', '/machine-config')).body, { vcpu_count: 1, mem_size_mib: 128, smt: false, track_dirty_pages: false, huge_pages: 'None' });
    // Every endpoint that takes a body, every name, top level and nested.
    let cases = 0;
    for (const route of ROUTES.filter((x) => x.body !== undefined)) {
      const path = route.path.replace(/\{[a-z_]+\}/, 'x1');
      for (const name of PROTO_NAMES) {
        const a = await api(sock, route.method, path, `{"${name}": {"a": 1}}`);
        assert.equal(a.status, 400, `${route.method} ${path} ${name}: ${a.text}`);
        assert.match(faultOf(a.body), new RegExp(`unknown field "${name}"`), `${route.method} ${path}`);
        cases++;
      }
    }
    assert.ok(cases >= 60, `${cases} cases`);
    const nested = await api(sock, 'PUT', '/snapshot/load', `{"snapshot_path": "s", "mem_backend": {"backend_type": "File", "backend_path": "m", "constructor": 1}}`);
    assert.match(faultOf(nested.body), /unknown field "constructor"/);
    assert.deepEqual((await api(sock, 'GET', '/vm/config')).body, before, 'nothing refused changed the configuration');
    // The manager's own bodies.
    for (const name of PROTO_NAMES) {
      const m = await api(msock, 'PUT', '/vms/p1', `{"${name}": 1}`);
      assert.equal(m.status, 400, `${name}: ${m.text}`);
      assert.match(faultOf(m.body), new RegExp(`unknown field "${name}"`));
    }
    assert.equal(manager.size, 0);
    // Firecracker's config file: a section named after a prototype member is unknown.
    for (const name of PROTO_NAMES) {
      const config = JSON.parse(`{"boot-source": {"kernel_image_path": ${JSON.stringify(KERNEL)}}, "${name}": {}}`) as unknown;
      assert.throws(() => applyConfigFile(new Vmm({ serialOut: () => {} }), config), new RegExp(`unknown section "${name}"`));
    }
  } finally {
    await vmm.shutdown();
    await server.close();
    await manager.shutdown();
    await mserver.close();
  }
});
test('strings that are not valid Unicode are refused, and no file is made from them', async () => {
  const { sock, server, vmm } = await vmmServer('utf8');
  const out = join(dir, 'utf8-out');
  try {
    // A lone surrogate in a JSON escape would become U+FFFD in the file name.
    const r = await api(sock, 'PUT', '/serial', `{"serial_out_path": ${JSON.stringify(out).slice(0, -1)}\\ud800"}`);
    assert.equal(r.status, 400, r.text);
    assert.match(faultOf(r.body), /serial_out_path is not valid Unicode/);
    const key = await api(sock, 'PUT', '/metrics', `{"metrics_path": ${JSON.stringify(out)}, "properties": {"k\\udc00": "v"}}`);
    assert.match(faultOf(key.body), /field name in properties is not valid Unicode/);
    // Raw bytes that are not UTF-8 in a string.
    const raw = Buffer.concat([Buffer.from(`{"serial_out_path": ${JSON.stringify(out).slice(0, -1)}`), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const b = await rawRequest(sock, putRaw('/serial', raw));
    assert.equal(b.status, 400);
    assert.match(faultOf(b.body), /not valid UTF-8/);
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('utf8-out')), [], 'no file was created');
  } finally {
    await vmm.shutdown();
    await server.close();
  }
});
