/**
 * Who may do what to ports under Keystone (a small fake Keystone, two simulated
 * sites): readers read, admins write; a project-scoped reader sees only the
 * ports of nodes its project owns or leases (another project's node lists
 * nothing), and any other port is "not found", as Ironic conceals it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { loadConfigText } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { startProxy, type RunningProxy } from '../../src/start.js';
import { startSimSite, type SimSite } from '../../src/sim/index.js';
import { put, putNode } from '../support/sim-direct.js';

interface FakeUser {
  project?: { id: string; name: string };
  system?: boolean;
  roles: string[];
}

/** Validates the tokens it knows (service token `svc-token`). */
async function fakeKeystone(tokens: Map<string, FakeUser>): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url?.startsWith('/v3/auth/tokens')) {
      res.writeHead(201, { 'x-subject-token': 'svc-token', 'content-type': 'application/json' });
      res.end(JSON.stringify({ token: { expires_at: new Date(Date.now() + 3600_000).toISOString() } }));
      return;
    }
    if (req.method === 'GET' && req.url?.startsWith('/v3/auth/tokens') && req.headers['x-auth-token'] === 'svc-token') {
      const user = tokens.get(String(req.headers['x-subject-token']));
      if (!user) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":404}}');
        return;
      }
      const token: Record<string, unknown> = {
        expires_at: new Date(Date.now() + 3600_000).toISOString(),
        user: { id: 'u', name: 'u' },
        roles: user.roles.map((name) => ({ name })),
      };
      if (user.system) token.system = { all: true };
      if (user.project) token.project = user.project;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token }));
      return;
    }
    res.writeHead(401).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v3` };
}

describe('ports under Keystone policy', () => {
  let ks: { server: Server; url: string };
  let sites: SimSite[];
  let proxy: RunningProxy;
  let owned: string;
  let foreign: string;
  let ownedPort: string;
  let foreignPort: string;

  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const headers: Record<string, string> = { 'x-openstack-ironic-api-version': '1.82', 'x-auth-token': token };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${proxy.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const fault = (r: { body: { error_message: string } }): string => JSON.parse(r.body.error_message).faultstring;

  before(async () => {
    ks = await fakeKeystone(
      new Map<string, FakeUser>([
        ['admin', { project: { id: 'padmin', name: 'admin' }, roles: ['admin', 'member', 'reader'] }],
        ['sysreader', { system: true, roles: ['reader'] }],
        ['p1reader', { project: { id: 'p1', name: 'p1' }, roles: ['reader'] }],
        ['p1member', { project: { id: 'p1', name: 'p1' }, roles: ['member', 'reader'] }],
      ]),
    );
    sites = await Promise.all([startSimSite({ name: 's1', conductorGroups: [''] }), startSimSite({ name: 's2', conductorGroups: ['g2'] })]);
    owned = (await putNode(sites[0]!, { name: 'owned', lessee: 'p1' })).uuid;
    foreign = (await putNode(sites[1]!, { name: 'foreign' })).uuid;
    ownedPort = String((await put(sites[0]!, 'ports', { node_uuid: owned, address: '52:54:00:00:00:01' })).uuid);
    foreignPort = String((await put(sites[1]!, 'ports', { node_uuid: foreign, address: '52:54:00:00:00:02' })).uuid);
    const ini = `
[DEFAULT]
groups = _:s1,g2:s2
[api]
host_ip = 127.0.0.1
port = 0
auth_strategy = keystone
[keystone_authtoken]
auth_url = ${ks.url}
www_authenticate_uri = ${ks.url}
username = proxy
password = secret
user_domain_name = Default
project_name = service
project_domain_name = Default
token_cache_time = 0
${sites.map((s) => `[group:${s.name}]\nauth_type = none\nendpoint_override = ${s.url}\n`).join('')}`;
    proxy = await startProxy(loadConfigText(ini), { log: createLogger({ level: 'silent' }) });
  });
  after(async () => {
    await proxy?.close();
    await Promise.all(sites.map((s) => s.close()));
    ks.server.close();
  });

  test('a system reader lists and shows every port but cannot write', async () => {
    const all = await call('GET', '/v1/ports', 'sysreader');
    assert.equal(all.status, 200);
    assert.equal(all.body.ports.length, 2);
    assert.equal((await call('GET', `/v1/ports/${foreignPort}`, 'sysreader')).status, 200);
    const patch = await call('PATCH', `/v1/ports/${foreignPort}`, 'sysreader', [{ op: 'add', path: '/extra/a', value: 1 }]);
    assert.equal(patch.status, 403);
    assert.equal(fault(patch), 'Access was denied to the following resource: baremetal:port:update');
  });

  test('a project reader lists only by a node of its project, and sees only its ports', async () => {
    // Unfiltered: as Ironic, the ports of the nodes the project owns or leases, at every site.
    const unfiltered = await call('GET', '/v1/ports', 'p1reader');
    assert.equal(unfiltered.status, 200);
    assert.deepEqual(unfiltered.body.ports.map((p: { uuid: string }) => p.uuid), [ownedPort]);
    const paged = await call('GET', '/v1/ports?limit=1&fields=address', 'p1reader');
    assert.deepEqual(paged.body.ports, [{ address: '52:54:00:00:00:01', links: paged.body.ports[0].links }], 'node_uuid read for the filter, not shown');
    const mine = await call('GET', '/v1/ports?node=owned', 'p1reader');
    assert.equal(mine.status, 200);
    assert.deepEqual(mine.body.ports.map((p: { uuid: string }) => p.uuid), [ownedPort]);
    // As Ironic: the listing is restricted to the project's nodes, so another project's node has no ports for it.
    const theirs = await call('GET', '/v1/ports?node=foreign', 'p1reader');
    assert.equal(theirs.status, 200);
    assert.deepEqual(theirs.body.ports, []);
    // node_uuid wins over node (Ironic's precedence): the other project's node is not reached through it.
    const trick = await call('GET', `/v1/ports?node=owned&node_uuid=${foreign}`, 'p1reader');
    assert.equal(trick.status, 200);
    assert.deepEqual(trick.body.ports, []);
    assert.equal((await call('GET', `/v1/ports/${ownedPort}`, 'p1reader')).status, 200);
    const hidden = await call('GET', `/v1/ports/${foreignPort}`, 'p1reader');
    assert.equal(hidden.status, 404);
    assert.equal(fault(hidden), `Port ${foreignPort} could not be found.`);
  });

  test('only an admin creates or deletes ports', async () => {
    const member = await call('POST', '/v1/ports', 'p1member', { node_uuid: owned, address: '52:54:00:00:00:03' });
    assert.equal(member.status, 403);
    assert.equal(fault(member), 'Access was denied to the following resource: baremetal:port:create');
    assert.equal(sites[0]!.api.ports.size, 1);
    const admin = await call('POST', '/v1/ports', 'admin', { node_uuid: owned, address: '52:54:00:00:00:03' });
    assert.equal(admin.status, 201);
    const del = await call('DELETE', `/v1/ports/${admin.body.uuid}`, 'p1member');
    assert.equal(del.status, 403);
    assert.equal((await call('DELETE', `/v1/ports/${admin.body.uuid}`, 'admin')).status, 204);
  });
});
