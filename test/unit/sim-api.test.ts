/**
 * Simulator API internals that the contract cannot see from outside: the exact
 * `next` link text, seeding determinism, transitions, Python reprs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { SimApi, type ApiReply } from '../../src/sim/api.js';
import { pyRepr, pyTuple } from '../../src/sim/pyrepr.js';
import { seedNodes } from '../../src/sim/seed.js';

function api(opts: Partial<ConstructorParameters<typeof SimApi>[0]> = {}): SimApi {
  return new SimApi({
    name: 's1',
    groups: ['', 'grp1'],
    maxMinor: 82,
    maxLimit: 1000,
    drivers: ['fake-hardware', 'manual-management'],
    tickMs: 0,
    seedNodes: 0,
    ...opts,
  });
}

function call(a: SimApi, method: string, url: string, body?: unknown, version: string | null = 'latest'): ApiReply & { json: any } {
  const q = url.indexOf('?');
  const headers: Record<string, string> = { host: 'sim.example:6385' };
  if (version !== null) headers['x-openstack-ironic-api-version'] = version;
  const r = a.handle({
    method,
    path: q < 0 ? url : url.slice(0, q),
    query: q < 0 ? '' : url.slice(q + 1),
    headers,
    body: body === undefined ? '' : JSON.stringify(body),
  });
  return { ...r, json: r.body ? JSON.parse(r.body) : undefined };
}

describe('sim next links', () => {
  const a = api({ seedNodes: 5 });
  const base = 'http://sim.example:6385';

  it('default listing spells out the default fields in Ironic order', () => {
    const r = call(a, 'GET', '/v1/nodes?limit=2');
    const last = r.json.nodes[1].uuid;
    assert.equal(
      r.json.next,
      `${base}/v1/nodes?sort_key=id&sort_dir=asc&fields=instance_uuid,maintenance,power_state,provision_state,uuid,name&limit=2&marker=${last}`,
    );
  });

  it('carries sort, True-valued associated/maintenance/retired, detail and fields — nothing else', () => {
    const r = call(a, 'GET', '/v1/nodes?limit=1&sort_key=name&sort_dir=desc&associated=false&retired=false&maintenance=0&detail=False&fields=NAME,uuid,name&owner=x&driver=fake-hardware');
    assert.equal(r.json.nodes.length, 0);
    const r2 = call(a, 'GET', '/v1/nodes?limit=1&sort_key=name&sort_dir=desc&detail=False&fields=NAME,uuid,name');
    assert.equal(r2.json.next, `${base}/v1/nodes?sort_key=name&sort_dir=desc&detail=False&fields=name,uuid&limit=1&marker=${r2.json.nodes[0].uuid}`);
  });

  it('uses nodes/detail for the detail endpoint and clamps limit to max_limit', () => {
    const small = api({ seedNodes: 3, maxLimit: 2 });
    const r = call(small, 'GET', '/v1/nodes/detail?limit=50');
    assert.equal(r.json.nodes.length, 2);
    assert.equal(r.json.next, `${base}/v1/nodes/detail?sort_key=id&sort_dir=asc&limit=2&marker=${r.json.nodes[1].uuid}`);
    const d = call(small, 'GET', '/v1/nodes');
    assert.ok(String(d.json.next).includes('&limit=2&'), 'a missing limit means max_limit');
  });

  it('has no next for an instance_uuid lookup, even when the page is full', () => {
    const active = call(a, 'GET', '/v1/nodes?associated=true&limit=1000&fields=uuid,instance_uuid').json.nodes;
    assert.ok(active.length > 0, 'seed has active nodes');
    const r = call(a, 'GET', `/v1/nodes?instance_uuid=${active[0].instance_uuid}&limit=1`);
    assert.equal(r.json.nodes.length, 1);
    assert.equal(r.json.next, undefined);
  });

  it('honours publicEndpoint for links and next', () => {
    const p = api({ seedNodes: 2, publicEndpoint: 'https://bm.example/baremetal/' });
    const r = call(p, 'GET', '/v1/nodes?limit=1');
    assert.ok(r.json.next.startsWith('https://bm.example/baremetal/v1/nodes?sort_key=id'));
    assert.equal(r.json.nodes[0].links[1].href, `https://bm.example/baremetal/nodes/${r.json.nodes[0].uuid}`);
  });
});

describe('sim headers and version handling', () => {
  const a = api();
  it('puts version headers and a request id on v1 answers only', () => {
    const v1 = call(a, 'GET', '/v1', undefined, null);
    assert.equal(v1.headers['X-OpenStack-Ironic-API-Version'], '1.1');
    assert.match(v1.headers['Openstack-Request-Id']!, /^req-[0-9a-f-]{36}$/);
    const root = call(a, 'GET', '/');
    assert.equal(root.headers['X-OpenStack-Ironic-API-Version'], undefined);
    assert.ok(root.headers['Openstack-Request-Id']);
    const routing = call(a, 'GET', '/v1/nope');
    assert.equal(routing.status, 404);
    assert.equal(routing.headers['X-OpenStack-Ironic-API-Version'], undefined);
    assert.equal(routing.headers['Openstack-Request-Id'], undefined);
  });

  it('ignores the standard OpenStack-API-Version header, as 21.4 does', () => {
    const r = a.handle({ method: 'GET', path: '/v1/', query: '', headers: { host: 'h', 'openstack-api-version': 'baremetal 1.50' }, body: '' });
    assert.equal(r.headers['X-OpenStack-Ironic-API-Version'], '1.1');
  });

  it('routes paths without /v1 and strips .json', () => {
    const n = call(a, 'POST', '/v1/nodes', { driver: 'fake-hardware', name: 'j1' });
    assert.equal(n.status, 201);
    assert.equal(call(a, 'GET', '/nodes/j1').status, 200);
    assert.equal(call(a, 'GET', '/v1/nodes/j1.json?fields=name').json.name, 'j1');
    assert.equal(call(a, 'GET', '/v1/nodes/').status, 200);
  });

  it('honours maxMinor', () => {
    const old = api({ maxMinor: 80 });
    assert.equal(call(old, 'GET', '/v1/').headers['X-OpenStack-Ironic-API-Maximum-Version'], '1.80');
    assert.equal(call(old, 'GET', '/v1/nodes', undefined, '1.81').status, 406);
    assert.equal(call(old, 'GET', '/v1/', undefined, 'latest').json.shards, undefined);
  });
});

describe('sim state machine', () => {
  it('completes transitions after the tick and keeps the reservation meanwhile', async () => {
    const a = api({ tickMs: 5 });
    const n = call(a, 'POST', '/v1/nodes', { driver: 'fake-hardware', name: 'sm', conductor_group: 'grp1' }).json;
    assert.equal(call(a, 'PUT', `/v1/nodes/${n.uuid}/states/provision`, { target: 'manage' }).status, 202);
    let s = call(a, 'GET', `/v1/nodes/${n.uuid}?fields=provision_state,target_provision_state,reservation`).json;
    assert.deepEqual([s.provision_state, s.target_provision_state, s.reservation], ['verifying', 'manageable', 's1-grp1']);
    const locked = call(a, 'PUT', `/v1/nodes/${n.uuid}/states/provision`, { target: 'provide' });
    assert.equal(locked.status, 409);
    assert.match(JSON.parse(locked.json.error_message).faultstring, /is locked by host s1-grp1/);
    await new Promise<void>((resolve) => {
      const poll = (): void => {
        s = call(a, 'GET', `/v1/nodes/${n.uuid}?fields=provision_state,target_provision_state,reservation`).json;
        if (s.provision_state === 'manageable') resolve();
        else setImmediate(poll);
      };
      poll();
    });
    assert.equal(s.reservation, null);
    assert.equal(s.target_provision_state, null);
    a.close();
  });
});

describe('sim list rendering cache', () => {
  it('never serves a stale item after a write, timers included', async () => {
    const a = api({ seedNodes: 3, tickMs: 1 });
    const item = (): any => call(a, 'GET', '/v1/nodes?limit=1').json.nodes[0];
    const first = item();
    assert.deepEqual(item(), first, 'second read comes from the cache');
    assert.equal(call(a, 'PUT', `/v1/nodes/${first.uuid}/maintenance`, {}).status, 202);
    assert.equal(item().maintenance, true);
    assert.equal(call(a, 'PUT', `/v1/nodes/${first.uuid}/states/power`, { target: 'power on' }).status, 202);
    assert.equal(item().power_state, 'power on');
    assert.equal(call(a, 'PATCH', `/v1/nodes/${first.uuid}`, [{ op: 'replace', path: '/name', value: 'renamed' }]).status, 200);
    assert.equal(item().name, 'renamed');
    // a transition finished by the fake conductor's timer
    const n = call(a, 'POST', '/v1/nodes', { driver: 'fake-hardware', name: 'late' }).json;
    const mine = (): any => call(a, 'GET', '/v1/nodes?limit=10').json.nodes.find((x: any) => x.uuid === n.uuid);
    assert.equal(call(a, 'PUT', `/v1/nodes/${n.uuid}/states/provision`, { target: 'manage' }).status, 202);
    assert.equal(mine().provision_state, 'verifying');
    await new Promise<void>((resolve) => {
      const poll = (): void => (mine().provision_state === 'manageable' ? resolve() : void setTimeout(poll, 1));
      poll();
    });
    // per-version and per-fields renderings do not mix
    assert.equal('name' in call(a, 'GET', '/v1/nodes?limit=1', undefined, '1.1').json.nodes[0], false);
    assert.deepEqual(Object.keys(call(a, 'GET', '/v1/nodes?limit=1&fields=uuid').json.nodes[0]), ['uuid', 'links']);
    a.close();
  });
});

describe('sim seed', () => {
  it('is deterministic per site name and spreads nodes over groups', () => {
    const a = seedNodes('edge1', ['', 'g'], 50, 1);
    const b = seedNodes('edge1', ['', 'g'], 50, 1);
    const c = seedNodes('edge2', ['', 'g'], 50, 1);
    assert.deepEqual(a.map((n) => n.uuid), b.map((n) => n.uuid));
    assert.notDeepEqual(a.map((n) => n.uuid), c.map((n) => n.uuid));
    assert.equal(new Set(a.map((n) => n.uuid)).size, 50);
    assert.equal(a[7]!.name, 'edge1-node-7');
    assert.deepEqual([...new Set(a.map((n) => n.conductor_group))].sort(), ['', 'g']);
    for (const key of ['driver', 'resource_class', 'provision_state', 'power_state', 'maintenance', 'owner'] as const) {
      assert.ok(new Set(a.map((n) => n[key])).size > 1, `${key} varies`);
    }
    for (const n of a) assert.equal(n.instance_uuid !== null, n.provision_state === 'active');
  });
});

describe('python reprs in error texts', () => {
  it('match Python', () => {
    assert.equal(pyRepr({ op: 'add', path: '/a', value: [1, true, null, "it's"] }), `{'op': 'add', 'path': '/a', 'value': [1, True, None, "it's"]}`);
    assert.equal(pyTuple(['manageable', 'enroll']), "('manageable', 'enroll')");
    assert.equal(pyTuple(['x']), "('x',)");
  });
});
