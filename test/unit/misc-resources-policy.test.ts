/**
 * Who may use allocations, drivers, conductors, shards and events through
 * the proxy under auth_strategy = keystone (a small fake Keystone, a simulated
 * site): the proxy
 * calls sites with its own credentials, so it must refuse what Ironic's
 * default policy refuses.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { startFleet, type Fleet } from '../support/sim-fleet.js';
import { sentTo } from '../support/sim-direct.js';

interface User {
  project?: string;
  system?: boolean;
  roles: string[];
}

/** Validates X-Subject-Token against a table of users; issues the proxy's service token. */
async function fakeKeystone(users: Record<string, User>): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url?.startsWith('/v3/auth/tokens')) {
      res.writeHead(201, { 'x-subject-token': 'svc-token', 'content-type': 'application/json' });
      return res.end(JSON.stringify({ token: { expires_at: new Date(Date.now() + 3600_000).toISOString() } }));
    }
    const user = users[String(req.headers['x-subject-token'])];
    if (req.method !== 'GET' || !user || req.headers['x-auth-token'] !== 'svc-token') return res.writeHead(404).end();
    const token: Record<string, unknown> = {
      expires_at: new Date(Date.now() + 3600_000).toISOString(),
      user: { id: 'u', name: 'u' },
      roles: user.roles.map((name) => ({ name })),
    };
    if (user.system) token.system = { all: true };
    if (user.project) token.project = { id: user.project, name: user.project };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v3`, server };
}

describe('policy for allocations, drivers, conductors, shards, events', () => {
  let fleet: Fleet;
  let ks: { url: string; server: Server };
  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const headers: Record<string, string> = { 'x-openstack-ironic-api-version': '1.82', 'x-auth-token': token };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${fleet.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };
  const fault = (r: { json: { error_message: string } }): string => JSON.parse(r.json.error_message).faultstring;
  /** What the site got with this method on this path (query and body). */
  const callsTo = (method: string, prefix: string) => sentTo(fleet.sims[0]!, method, prefix);

  before(async () => {
    ks = await fakeKeystone({
      admin: { project: 'padmin', roles: ['admin', 'member', 'reader'] },
      sysreader: { system: true, roles: ['reader'] },
      p1member: { project: 'p1', roles: ['member', 'reader'] },
    });
    // one simulated site: it answers as Ironic does (empty collections, allocations created as asked)
    fleet = await startFleet([{ name: 'pa', conductorGroups: [''] }], {
      apiIni: `auth_strategy = keystone\n\n[keystone_authtoken]\nauth_url = ${ks.url}\nwww_authenticate_uri = ${ks.url}\nusername = proxy\npassword = secret\nuser_domain_name = Default\nproject_name = service\nproject_domain_name = Default\ntoken_cache_time = 0`,
    });
  });
  after(async () => {
    await fleet?.close();
    ks?.server.close();
  });

  test("drivers, conductors and shards: Ironic 21.4's defaults (system readers; project admins through the deprecated is_admin, but not shards)", async () => {
    for (const path of ['/v1/drivers', '/v1/conductors', '/v1/shards']) {
      assert.equal((await call('GET', path, 'sysreader')).status, 200, path);
      // baremetal:shards:get has no deprecated rule: a project-scoped admin is refused, as at a real Ironic 21.4.
      assert.equal((await call('GET', path, 'admin')).status, path === '/v1/shards' ? 403 : 200, path);
      const r = await call('GET', path, 'p1member');
      assert.equal(r.status, 403, path);
      assert.match(fault(r), /^Access was denied to the following resource: baremetal:(driver|conductor|shards):get$/);
    }
  });

  test('allocations: a project member lists only its own (owner forced), may not ask for another owner, creates only for its project', async () => {
    const mine = await call('GET', '/v1/allocations', 'p1member');
    assert.equal(mine.status, 200);
    assert.equal(callsTo('GET', '/v1/allocations').at(-1)!.query.get('owner'), 'p1');
    const other = await call('GET', '/v1/allocations?owner=p2', 'p1member');
    assert.equal(other.status, 403);
    const posts = callsTo('POST', '/v1/allocations').length;
    // A reader may not create at all: refused before any site is asked.
    const reader = await call('POST', '/v1/allocations', 'sysreader', { resource_class: 'rc' });
    assert.equal(reader.status, 403);
    assert.equal(callsTo('POST', '/v1/allocations').length, posts);
    // Ironic 21.4's defaults let a member name any owner (baremetal:allocation:create passes; create_pre_rbac is
    // only asked for an owner-less allocation): passed on unchanged, as Ironic would take it.
    await call('POST', '/v1/allocations', 'p1member', { resource_class: 'rc', owner: 'p2' });
    assert.equal(callsTo('POST', '/v1/allocations').at(-1)?.body.owner, 'p2');
    // Its own: Ironic's create_restricted path, which makes the project the owner — written into what the site gets.
    await call('POST', '/v1/allocations', 'p1member', { resource_class: 'rc' });
    const sent = callsTo('POST', '/v1/allocations').at(-1);
    assert.ok(sent, 'the restricted create reached a site');
    assert.equal(sent.body.owner, 'p1');
    assert.equal((await call('GET', '/v1/allocations', 'sysreader')).status, 200);
    assert.equal(callsTo('GET', '/v1/allocations').at(-1)!.query.get('owner'), null, 'a system reader sees all');
  });

  test('events need an admin', async () => {
    const ev = { events: [{ event: 'network.bind_port', port_id: '00000000-0000-4000-8000-000000000001', mac_address: '52:54:00:00:00:01', status: 'ACTIVE' }] };
    const r = await call('POST', '/v1/events', 'sysreader', ev);
    assert.equal(r.status, 403);
    assert.equal(callsTo('POST', '/v1/events').length, 0);
  });
});
