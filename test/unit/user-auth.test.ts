/**
 * Users through Keystone (a small fake Keystone here; the real one runs in
 * the integration suite): nothing but the version documents passes without a
 * valid token, whatever the path or header trick; tokens are validated with
 * the proxy's service token and revocations take effect; roles decide, and a
 * project member sees and acts only on its own nodes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { startFleet, type Fleet } from '../support/sim-fleet.js';

interface FakeUser {
  project?: { id: string; name: string };
  system?: boolean;
  roles: string[];
}

class FakeKeystone {
  readonly tokens = new Map<string, FakeUser>();
  validations = 0;
  down = false;
  server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      if (this.down) {
        res.destroy();
        return;
      }
      if (req.method === 'POST' && req.url?.startsWith('/v3/auth/tokens')) {
        res.writeHead(201, { 'x-subject-token': 'svc-token', 'content-type': 'application/json' });
        res.end(JSON.stringify({ token: { expires_at: new Date(Date.now() + 3600_000).toISOString() } }));
        return;
      }
      if (req.method === 'GET' && req.url?.startsWith('/v3/auth/tokens')) {
        this.validations++;
        if (req.headers['x-auth-token'] !== 'svc-token') {
          res.writeHead(401).end();
          return;
        }
        const user = this.tokens.get(String(req.headers['x-subject-token']));
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
      res.writeHead(404).end();
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v3`;
  }
}

const V = { 'x-openstack-ironic-api-version': 'latest' };

describe('users through Keystone', () => {
  const ks = new FakeKeystone();
  let fleet: Fleet;
  const call = async (method: string, path: string, token?: string, body?: unknown, extra: Record<string, string> = {}) => {
    const headers: Record<string, string> = { ...V, ...extra };
    if (token !== undefined) headers['x-auth-token'] = token;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${fleet.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    const json = (res.headers.get('content-type') ?? '').includes('json');
    return { status: res.status, headers: res.headers, body: text && json ? JSON.parse(text) : text };
  };
  const faultOf = (r: { body: { error_message: string } }): string => JSON.parse(r.body.error_message).faultstring;

  before(async () => {
    await ks.start();
    ks.tokens.set('admin', { project: { id: 'padmin', name: 'admin' }, roles: ['admin', 'member', 'reader'] });
    ks.tokens.set('sysreader', { system: true, roles: ['reader'] });
    ks.tokens.set('p1member', { project: { id: 'p1', name: 'p1' }, roles: ['member', 'reader'] });
    ks.tokens.set('p1reader', { project: { id: 'p1', name: 'p1' }, roles: ['reader'] });
    ks.tokens.set('nobody', { project: { id: 'p1', name: 'p1' }, roles: ['something-else'] });
    fleet = await startFleet(
      [
        { name: 'a', nodes: 2 },
        { name: 'b', conductorGroups: ['gb'], nodes: 2 },
      ],
      {
        apiIni: `auth_strategy = keystone\n\n[keystone_authtoken]\nauth_url = ${ks.url}\nwww_authenticate_uri = ${ks.url}\nusername = proxy\npassword = secret\nuser_domain_name = Default\nproject_name = service\nproject_domain_name = Default\ntoken_cache_time = 0`,
      },
    );
    // Give p1 one node at each site: one owned, one leased.
    assert.equal((await call('PATCH', '/v1/nodes/a-node-0', 'admin', [{ op: 'add', path: '/owner', value: 'p1' }])).status, 200);
    assert.equal((await call('PATCH', '/v1/nodes/b-node-1', 'admin', [{ op: 'add', path: '/lessee', value: 'p1' }])).status, 200);
  });
  after(async () => {
    await fleet.close();
    ks.server.close();
  });

  test('the version documents need no token', async () => {
    assert.equal((await call('GET', '/')).status, 200);
    assert.equal((await call('GET', '/v1')).status, 200);
    assert.equal((await call('GET', '/v1/')).status, 200);
  });

  test('everything else without a valid token is a 401 as keystonemiddleware answers', async () => {
    for (const token of [undefined, '', 'forged', 'svc-token']) {
      const r = await call('GET', '/v1/nodes', token);
      assert.equal(r.status, 401, `token ${token}`);
      assert.equal(r.headers.get('www-authenticate'), `Keystone uri="${ks.url}"`);
      assert.deepEqual(r.body, { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });
    }
    for (const path of ['/healthz/../v1/nodes', '/metrics', '/readyz', '/nodes', '/v1/nodes/a-node-0/states']) {
      assert.equal((await call('GET', path)).status, 401, path);
    }
  });

  test('path tricks do not reach the API without a token', async () => {
    for (const raw of ['//v1/../v1/nodes', '/v1/../v1/nodes', '/v1/nodes/.%2e/', '/v1//nodes', '/./v1/nodes', '/v1/%2e%2e/v1/nodes', '/v1.json/nodes']) {
      const { port } = new URL(fleet.url);
      const socket = connect(Number(port), '127.0.0.1');
      await once(socket, 'connect');
      socket.write(`GET ${raw} HTTP/1.1\r\nHost: x\r\nX-OpenStack-Ironic-API-Version: latest\r\nConnection: close\r\n\r\n`);
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      await once(socket, 'close');
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(Buffer.concat(chunks).toString())?.[1]);
      assert.ok(status === 401 || status === 404, `${raw} answered ${status}`);
    }
  });

  test('header tricks do not grant anything', async () => {
    const spoof = { 'x-roles': 'admin', 'x-identity-status': 'Confirmed', 'x-project-id': 'padmin', 'x-subject-token': 'admin' };
    assert.equal((await call('GET', '/v1/nodes', undefined, undefined, spoof)).status, 401);
    assert.equal((await call('POST', '/v1/nodes', 'p1member', { driver: 'fake-hardware' }, spoof)).status, 403);
  });

  test('a revoked token stops working (token_cache_time = 0), and validation uses the service token', async () => {
    ks.tokens.set('temp', { system: true, roles: ['reader'] });
    assert.equal((await call('GET', '/v1/nodes', 'temp')).status, 200);
    ks.tokens.delete('temp');
    assert.equal((await call('GET', '/v1/nodes', 'temp')).status, 401);
  });

  test('an admin lists every node and may create and delete', async () => {
    const r = await call('GET', '/v1/nodes', 'admin');
    assert.equal(r.body.nodes.length, 4);
    const created = await call('POST', '/v1/nodes', 'admin', { driver: 'fake-hardware', name: 'by-admin' });
    assert.equal(created.status, 201);
    assert.equal((await call('DELETE', '/v1/nodes/by-admin', 'admin')).status, 204);
  });

  test('a reader may read but not change', async () => {
    assert.equal((await call('GET', '/v1/nodes', 'sysreader')).body.nodes.length, 4);
    const patch = await call('PATCH', '/v1/nodes/b-node-0', 'sysreader', [{ op: 'add', path: '/extra/x', value: 1 }]);
    assert.equal(patch.status, 403);
    assert.equal(faultOf(patch), 'Access was denied to the following resource: baremetal:node:update');
    const create = await call('POST', '/v1/nodes', 'sysreader', { driver: 'fake-hardware' });
    assert.equal(create.status, 403);
    assert.equal(faultOf(create), 'Access was denied to the following resource: baremetal:node:create');
    assert.equal((await call('PUT', '/v1/nodes/b-node-0/states/power', 'p1reader', { target: 'power on' })).status, 404);
  });

  test('a project member sees and acts only on the nodes its project owns or leases', async () => {
    const list = await call('GET', '/v1/nodes?fields=name', 'p1member');
    assert.deepEqual(list.body.nodes.map((n: { name: string }) => n.name).sort(), ['a-node-0', 'b-node-1']);
    assert.equal((await call('GET', '/v1/nodes/a-node-1', 'p1member')).status, 404, 'another project\'s node is concealed');
    assert.equal((await call('GET', '/v1/nodes/b-node-1', 'p1member')).status, 200);
    assert.equal((await call('PATCH', '/v1/nodes/a-node-0', 'p1member', [{ op: 'add', path: '/extra/x', value: 1 }])).status, 200);
    assert.equal((await call('PUT', '/v1/nodes/b-node-1/states/power', 'p1member', { target: 'power on' })).status, 202);
    assert.equal((await call('DELETE', '/v1/nodes/a-node-0', 'p1member')).status, 403);
    assert.equal((await call('POST', '/v1/nodes', 'p1member', { driver: 'fake-hardware' })).status, 403);
    assert.equal((await call('GET', '/v1/nodes?project=padmin', 'p1member')).status, 403);
    assert.equal((await call('GET', '/v1/nodes', 'nobody')).status, 403);
  });

  test('the operational endpoints are for admins', async () => {
    assert.equal((await call('GET', '/metrics', 'sysreader')).status, 403);
    assert.equal((await call('GET', '/metrics', 'admin')).status, 200);
  });

  test('Keystone down: 503, not 401 and not a crash', async () => {
    ks.down = true;
    try {
      const r = await call('GET', '/v1/nodes', 'admin');
      assert.equal(r.status, 503);
      assert.match(faultOf(r), /Authentication service unavailable/);
    } finally {
      ks.down = false;
    }
    assert.equal((await call('GET', '/v1/nodes', 'admin')).status, 200);
  });
});
