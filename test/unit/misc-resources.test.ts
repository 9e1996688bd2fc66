/**
 * Allocations, events, drivers, conductors, shards and the agent endpoints
 * through the proxy over tiny fake Ironic sites (test/support/fake-ironic-http.ts):
 * which site gets what, what is merged how, and what the client sees.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, fault, startFakeFleet, type FakeCall, type FakeFleet, type FakeHandler } from '../support/fake-ironic-http.js';

const U = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** Node lookups (`GET /v1/nodes/{uuid or name}`) answered from a list of {uuid, name}. */
function nodesAt(nodes: Array<{ uuid: string; name: string }>): FakeHandler {
  return (c) => {
    const m = /^\/v1\/nodes\/([^/]+)$/.exec(c.path);
    if (c.method !== 'GET' || !m) return undefined;
    const id = decodeURIComponent(m[1]!);
    const n = nodes.find((x) => x.uuid === id || x.name === id);
    return n ? { status: 200, body: n } : fault(404, `Node ${id} could not be found.`);
  };
}

const either = (...hs: FakeHandler[]): FakeHandler => (c) => {
  for (const h of hs) {
    const a = h(c);
    if (a) return a;
  }
  return undefined;
};

describe('allocations', () => {
  let fleet: FakeFleet;
  /** Per site: allocations it holds, and what becomes of a new one. */
  const store = new Map<string, Map<string, Record<string, unknown>>>();
  const outcome = new Map<string, 'active' | 'error'>();
  const free = new Map<string, number>();

  function allocationsAt(site: string, base: () => string): FakeHandler {
    const mine = new Map<string, Record<string, unknown>>();
    store.set(site, mine);
    const find = (id: string) => [...mine.values()].find((a) => a.uuid === id || a.name === id);
    return (c: FakeCall) => {
      if (c.path === '/v1/allocations' && c.method === 'POST') {
        const a = { ...c.body, state: 'allocating', links: [{ href: `SITE/v1/allocations/${c.body.uuid}`, rel: 'self' }] };
        mine.set(String(c.body.uuid), a);
        return { status: 201, body: a, headers: { location: `${base()}/v1/allocations/${c.body.uuid}` } };
      }
      if (c.path === '/v1/allocations' && c.method === 'GET') return { status: 200, body: { allocations: [...mine.values()] } };
      const m = /^\/v1\/allocations\/([^/]+)$/.exec(c.path);
      if (m) {
        const a = find(decodeURIComponent(m[1]!));
        if (!a) return fault(404, `Allocation ${m[1]} could not be found.`);
        if (c.method === 'DELETE') {
          mine.delete(String(a.uuid));
          return { status: 204 };
        }
        if (c.method === 'GET') {
          a.state = outcome.get(site) ?? 'active';
          return { status: 200, body: a };
        }
      }
      if (c.path === '/v1/nodes' && c.method === 'GET') {
        const n = free.get(site) ?? 0;
        return { status: 200, body: { nodes: Array.from({ length: n }, (_, i) => ({ uuid: U(900 + i), power_state: 'power off' })) } };
      }
      return undefined;
    };
  }

  before(async () => {
    fleet = await startFakeFleet(['sa', 'sb']);
    const [a, b] = fleet.sites;
    a!.handler = either(nodesAt([{ uuid: U(2), name: 'n2' }]), allocationsAt('sa', () => a!.url));
    b!.handler = either(nodesAt([{ uuid: U(1), name: 'n1' }, { uuid: U(3), name: 'n3' }]), allocationsAt('sb', () => b!.url));
  });
  after(() => fleet?.close());

  test('candidates spread over sites: per site, in the given order, one uuid; a failed attempt is deleted before the next', async () => {
    const [a, b] = fleet.sites;
    outcome.set('sb', 'error');
    outcome.set('sa', 'active');
    const r = await call(fleet.url, 'POST', '/v1/allocations', { resource_class: 'rc', candidate_nodes: ['n1', 'n2', 'n3'], name: 'al1' });
    assert.equal(r.status, 201, r.text);
    const postB = b!.callsTo('POST', '/v1/allocations');
    const postA = a!.callsTo('POST', '/v1/allocations');
    assert.equal(postB.length, 1);
    assert.deepEqual(postB[0]!.body.candidate_nodes, ['n1', 'n3'], 'sb gets only its own candidates');
    assert.equal(postA.length, 1);
    assert.deepEqual(postA[0]!.body.candidate_nodes, ['n2']);
    const uuid = postB[0]!.body.uuid;
    assert.match(uuid, /^[0-9a-f-]{36}$/);
    assert.equal(postA[0]!.body.uuid, uuid, 'the same uuid at every attempt');
    assert.equal(r.json.uuid, uuid);
    assert.deepEqual(b!.callsTo('DELETE', '/v1/allocations').map((c) => c.path), [`/v1/allocations/${uuid}`]);
    assert.equal(store.get('sb')!.size, 0, 'nothing left at sb');
    assert.equal(r.headers.get('location'), `${fleet.url}/v1/allocations/${uuid}`);
    // Found by name at its site afterwards.
    const shown = await call(fleet.url, 'GET', '/v1/allocations/al1');
    assert.equal(shown.status, 200);
    assert.equal(shown.json.uuid, uuid);
  });

  test('a name used at another site is a 409 with Ironic text, and nothing is created', async () => {
    const before = fleet.sites.map((s) => s.callsTo('POST', '/v1/allocations').length);
    const r = await call(fleet.url, 'POST', '/v1/allocations', { resource_class: 'rc', candidate_nodes: ['n1'], name: 'al1' });
    assert.equal(r.status, 409);
    assert.match(JSON.parse(r.json.error_message).faultstring, /^An allocation with name al1 already exists\.$/);
    assert.deepEqual(fleet.sites.map((s) => s.callsTo('POST', '/v1/allocations').length), before);
  });

  test('an unknown candidate is Ironic\'s 400', async () => {
    const r = await call(fleet.url, 'POST', '/v1/allocations', { resource_class: 'rc', candidate_nodes: ['n1', 'nope'] });
    assert.equal(r.status, 400);
    assert.equal(JSON.parse(r.json.error_message).faultstring, 'Nodes cannot be found: nope');
    // Refused for two reasons at once (the name is taken too): one answer, and the proxy carries on.
    const both = await call(fleet.url, 'POST', '/v1/allocations', { resource_class: 'rc', candidate_nodes: ['nope'], name: 'al1' });
    assert.ok(both.status === 400 || both.status === 409, String(both.status));
    await new Promise((res) => setImmediate(res));
    assert.equal((await call(fleet.url, 'GET', '/v1/allocations/al1')).status, 200);
  });

  test('without candidates the site with the most free nodes is tried first, and the settled allocation returned', async () => {
    const [a, b] = fleet.sites;
    free.set('sa', 1);
    free.set('sb', 3);
    outcome.set('sb', 'active');
    const postsA = a!.callsTo('POST', '/v1/allocations').length;
    const r = await call(fleet.url, 'POST', '/v1/allocations', { resource_class: 'rc2', name: 'al2' });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.state, 'active', 'another site remained, so the proxy waited for the outcome');
    const count = b!.callsTo('GET', '/v1/nodes').filter((c) => c.path === '/v1/nodes').at(-1)!;
    assert.equal(count.query.get('resource_class'), 'rc2');
    assert.equal(count.query.get('provision_state'), 'available');
    assert.equal(b!.callsTo('POST', '/v1/allocations').at(-1)!.body.name, 'al2');
    assert.equal(a!.callsTo('POST', '/v1/allocations').length, postsA, 'sa not tried');
  });

  test("?node= asks only the node's site, for the node's allocation; delete goes to the allocation's site", async () => {
    const [a, b] = fleet.sites;
    const before = a!.calls.length;
    const r = await call(fleet.url, 'GET', '/v1/allocations?node=n3');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { allocations: [] }, 'n3 has no allocation (the node answers 404)');
    // A node has at most one allocation: read from the node (Ironic 21.4 ignores `node` for system-scoped callers).
    assert.equal(b!.callsTo('GET', '/v1/nodes/n3/allocation').length, 1);
    assert.equal(a!.calls.slice(before).filter((c) => c.path.startsWith('/v1/allocations') || c.path.endsWith('/allocation')).length, 0);
    const unknown = await call(fleet.url, 'GET', '/v1/allocations?node=ghost');
    assert.equal(unknown.status, 400);
    const del = await call(fleet.url, 'DELETE', '/v1/allocations/al2');
    assert.equal(del.status, 204);
    assert.equal([...store.get('sb')!.values()].some((x) => x.name === 'al2'), false);
  });

  test('?node= whose site cannot be asked is a 503 naming it, never an empty list', async () => {
    const b = fleet.sites[1]!;
    const usual = b.handler;
    b.handler = (c) => (c.path === '/v1/nodes/n3/allocation' ? { status: 500, body: { error_message: '{"faultcode": "Server", "faultstring": "boom", "debuginfo": null}' } } : usual(c));
    try {
      const r = await call(fleet.url, 'GET', '/v1/allocations?node=n3');
      assert.equal(r.status, 503, r.text);
      assert.match(r.text, /sb/);
    } finally {
      b.handler = usual;
    }
  });

  test("below 1.52 allocations do not exist: the table's gate answers Ironic's 404, no site is asked", async () => {
    const [a, b] = fleet.sites;
    const mine = (x: typeof a) => x!.calls.filter((c) => c.path.startsWith('/v1/allocations'));
    const before = [a, b].map((x) => mine(x).length);
    const r = await call(fleet.url, 'GET', '/v1/allocations', undefined, '1.51');
    assert.equal(r.status, 404);
    assert.deepEqual([a, b].map((x) => mine(x).length), before);
  });
});

describe('events', () => {
  let fleet: FakeFleet;
  const MAC_B = '52:54:00:00:00:0b';
  const HOST_C = U(30);
  function eventSite(macs: string[], nodes: string[], post: () => { status: number; body?: unknown } = () => ({ status: 204 })): FakeHandler {
    return (c) => {
      if (c.method === 'GET' && c.path === '/v1/ports') return { status: 200, body: { ports: macs.includes(c.query.get('address') ?? '') ? [{ uuid: U(99) }] : [] } };
      if (c.method === 'GET' && c.path === '/v1/nodes') return { status: 200, body: { nodes: [] } };
      const m = /^\/v1\/nodes\/([^/]+)$/.exec(c.path);
      if (c.method === 'GET' && m) return nodes.includes(m[1]!) ? { status: 200, body: { uuid: m[1] } } : fault(404, `Node ${m[1]} could not be found.`);
      if (c.method === 'POST' && c.path === '/v1/events') return post();
      return undefined;
    };
  }
  const ev = (over: Record<string, unknown>) => ({ event: 'network.bind_port', port_id: U(50), mac_address: '52:54:00:00:00:99', status: 'ACTIVE', ...over });

  before(async () => {
    fleet = await startFakeFleet(['ea', 'eb', 'ec']);
    const [a, b, c] = fleet.sites;
    a!.handler = eventSite([], [], () => fault(400, "Invalid input for field/attribute evts. Value: {'events': []}. [] is too short"));
    b!.handler = eventSite([MAC_B], []);
    c!.handler = eventSite([], [HOST_C]);
  });
  after(() => fleet?.close());

  test('each event goes only to the sites holding its port or node', async () => {
    const [a, b, c] = fleet.sites;
    const e1 = ev({ mac_address: MAC_B });
    const e2 = ev({ 'binding:host_id': HOST_C });
    const e3 = ev({});
    const r = await call(fleet.url, 'POST', '/v1/events', { events: [e1, e2, e3] });
    assert.equal(r.status, 204, r.text);
    assert.equal(r.text, '');
    assert.deepEqual(b!.callsTo('POST', '/v1/events').map((x) => x.body), [{ events: [e1] }]);
    assert.deepEqual(c!.callsTo('POST', '/v1/events').map((x) => x.body), [{ events: [e2] }]);
    assert.equal(a!.callsTo('POST', '/v1/events').length, 0, 'a site holding nothing is skipped');
  });

  test('an invalid body gets the 400 of a site\'s Ironic, and goes nowhere else', async () => {
    const [, b, c] = fleet.sites;
    const before = [b!, c!].map((s) => s.callsTo('POST', '/v1/events').length);
    const r = await call(fleet.url, 'POST', '/v1/events', { events: [] });
    assert.equal(r.status, 400);
    assert.match(JSON.parse(r.json.error_message).faultstring, /too short/);
    assert.deepEqual([b!, c!].map((s) => s.callsTo('POST', '/v1/events').length), before);
    const badMac = await call(fleet.url, 'POST', '/v1/events', { events: [ev({ mac_address: MAC_B.replace(/:/g, '-') })] });
    assert.equal(badMac.status, 400, 'a MAC Ironic refuses is not delivered');
  });

  test('a site that cannot be asked makes it a 503 naming it, after the others got theirs', async () => {
    const [, b, c] = fleet.sites;
    c!.down = true;
    try {
      const before = b!.callsTo('POST', '/v1/events').length;
      const r = await call(fleet.url, 'POST', '/v1/events', { events: [ev({ mac_address: MAC_B })] });
      assert.equal(r.status, 503);
      const text = JSON.parse(r.json.error_message).faultstring;
      assert.match(text, /ec/);
      assert.match(text, /delivered to site\(s\) eb/);
      assert.equal(b!.callsTo('POST', '/v1/events').length, before + 1);
    } finally {
      c!.down = false;
    }
  });
});

describe('drivers, shards, conductors', () => {
  let fleet: FakeFleet;
  const conductors: Record<string, Array<{ hostname: string; conductor_group: string; alive: boolean }>> = {
    da: [{ hostname: 'zeta', conductor_group: '', alive: true }, { hostname: 'alpha', conductor_group: 'g-a', alive: true }],
    db: [{ hostname: 'mid', conductor_group: 'g1', alive: true }],
  };
  const conductorHandler = (site: string, base: () => string): FakeHandler => (c) => {
    if (c.method !== 'GET') return undefined;
    const all = conductors[site]!.map((x) => ({ ...x, links: [{ href: `${base()}/v1/conductors/${x.hostname}`, rel: 'self' }] }));
    if (c.path === '/v1/conductors') {
      const key = c.query.get('sort_key') ?? 'id';
      const dir = c.query.get('sort_dir') === 'desc' ? -1 : 1;
      const ordered = all
        .map((x, id) => ({ x, id }))
        .sort((p, q) => dir * (key === 'id' ? p.id - q.id : String((p.x as any)[key]).localeCompare(String((q.x as any)[key])) || p.id - q.id))
        .map((p) => p.x);
      const marker = c.query.get('marker');
      let rest = ordered;
      if (marker) {
        const i = ordered.findIndex((x) => x.hostname === marker);
        if (i < 0) return fault(404, `Conductor ${marker} could not be found.`);
        rest = ordered.slice(i + 1);
      }
      const limit = Number(c.query.get('limit') ?? 1000);
      const fields = c.query.get('fields')?.split(',');
      const page = rest.slice(0, limit).map((x) => (fields ? Object.fromEntries(Object.entries(x).filter(([k]) => k === 'links' || fields.includes(k))) : x)) as typeof rest;
      const body: Record<string, unknown> = { conductors: page };
      if (page.length === limit) body.next = `${base()}/v1/conductors?limit=${limit}&marker=${page.at(-1)!.hostname}`;
      return { status: 200, body };
    }
    const m = /^\/v1\/conductors\/([^/]+)$/.exec(c.path);
    if (m) {
      const x = all.find((y) => y.hostname === m[1]);
      return x ? { status: 200, body: x } : fault(404, `Conductor ${m[1]} could not be found.`);
    }
    return undefined;
  };

  before(async () => {
    fleet = await startFakeFleet(['da', 'db']);
    const [a, b] = fleet.sites;
    const drivers = (base: string, list: Array<Record<string, unknown>>) =>
      list.map((d) => ({ ...d, links: [{ href: `${base}/v1/drivers/${String(d.name)}`, rel: 'self' }] }));
    a!.handler = either((c) => {
      if (c.method === 'GET' && c.path === '/v1/drivers') {
        return {
          status: 200,
          body: {
            drivers: drivers(a!.url, [
              { name: 'ipmi', hosts: ['zeta'], enabled_power_interfaces: ['ipmitool'], default_power_interface: 'ipmitool' },
              { name: 'fake-hardware', hosts: ['zeta', 'alpha'], enabled_power_interfaces: ['fake'], default_power_interface: null },
            ]),
          },
        };
      }
      if (c.method === 'GET' && c.path === '/v1/shards') return { status: 200, body: { shards: [{ name: 'None', count: 3 }, { name: 'x', count: 1 }, { name: 'tie-a', count: 1 }] } };
      if (c.method === 'GET' && c.path === '/v1/drivers/ipmi/properties') return { status: 200, body: { ipmi_address: 'IP' } };
      if (c.method === 'GET' && c.path === '/v1/drivers/ipmi') return { status: 200, body: { name: 'ipmi', hosts: ['zeta'] } };
      if (c.method === 'GET' && c.path.startsWith('/v1/drivers/')) return fault(404, `Could not find the following driver(s) or hardware type(s): ${c.path.split('/')[3]}.`);
      return undefined;
    }, conductorHandler('da', () => a!.url));
    b!.handler = either((c) => {
      if (c.method === 'GET' && c.path === '/v1/drivers') {
        return {
          status: 200,
          body: {
            drivers: drivers(b!.url, [
              { name: 'fake-hardware', hosts: ['mid'], enabled_power_interfaces: ['fake', 'ipmitool'], default_power_interface: 'fake' },
              { name: 'redfish', hosts: ['mid'], enabled_power_interfaces: ['redfish'], default_power_interface: 'redfish' },
            ]),
          },
        };
      }
      if (c.method === 'GET' && c.path === '/v1/shards') return { status: 200, body: { shards: [{ name: 'x', count: 5 }, { name: 'None', count: 1 }, { name: 'tie-b', count: 1 }] } };
      if (c.method === 'GET' && c.path.startsWith('/v1/drivers/')) return fault(404, `Could not find the following driver(s) or hardware type(s): ${c.path.split('/')[3]}.`);
      return undefined;
    }, conductorHandler('db', () => b!.url));
  });
  after(() => fleet?.close());

  test('drivers: the union by name, hosts of every site, enabled lists united, the first non-null default, links at the proxy', async () => {
    const r = await call(fleet.url, 'GET', '/v1/drivers?detail=True');
    assert.equal(r.status, 200, r.text);
    const drivers = r.json.drivers as Array<Record<string, any>>;
    assert.deepEqual(drivers.map((d) => d.name), ['ipmi', 'fake-hardware', 'redfish']);
    const fake = drivers[1]!;
    assert.deepEqual(fake.hosts, ['zeta', 'alpha', 'mid']);
    assert.deepEqual(fake.enabled_power_interfaces, ['fake', 'ipmitool']);
    assert.equal(fake.default_power_interface, 'fake', 'da had none, db says fake');
    assert.equal(drivers[0]!.default_power_interface, 'ipmitool');
    for (const d of drivers) assert.ok(String(d.links[0].href).startsWith(`${fleet.url}/v1/drivers/`), d.links[0].href);
    assert.equal(fleet.sites[0]!.callsTo('GET', '/v1/drivers').at(-1)!.query.get('detail'), 'True', 'parameters passed on');
  });

  test('drivers: fields without name still merge by name, and the answer has only what was asked', async () => {
    const r = await call(fleet.url, 'GET', '/v1/drivers?fields=hosts');
    assert.equal(r.status, 200);
    assert.equal(fleet.sites[1]!.callsTo('GET', '/v1/drivers').at(-1)!.query.get('fields'), 'hosts,name');
    assert.equal(r.json.drivers.length, 3);
    for (const d of r.json.drivers) assert.equal(d.name, undefined);
  });

  test('driver properties come from a site that has the driver; an unknown driver is Ironic\'s 404', async () => {
    const r = await call(fleet.url, 'GET', '/v1/drivers/ipmi/properties');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { ipmi_address: 'IP' });
    const none = await call(fleet.url, 'GET', '/v1/drivers/nope');
    assert.equal(none.status, 404);
    assert.match(JSON.parse(none.json.error_message).faultstring, /Could not find the following driver\(s\) or hardware type\(s\): nope\./);
  });

  test('shards: counts summed per name (None included), by count descending, ties in site order', async () => {
    const r = await call(fleet.url, 'GET', '/v1/shards');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, {
      shards: [
        { name: 'x', count: 6 },
        { name: 'None', count: 4 },
        { name: 'tie-a', count: 1 },
        { name: 'tie-b', count: 1 },
      ],
    });
    const before = fleet.sites.map((s) => s.callsTo('GET', '/v1/shards').length);
    const old = await call(fleet.url, 'GET', '/v1/shards', undefined, '1.81');
    assert.equal(old.status, 404, 'below 1.82 there are no shards: the gate answers as Ironic (404)');
    assert.deepEqual(fleet.sites.map((s) => s.callsTo('GET', '/v1/shards').length), before, 'no site asked');
  });

  test('shards: a site that does not answer is named, the others still counted', async () => {
    fleet.sites[1]!.down = true;
    try {
      const r = await call(fleet.url, 'GET', '/v1/shards');
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('x-ironic-proxy-missing-sites'), 'db');
      assert.deepEqual(r.json.shards[0], { name: 'None', count: 3 });
    } finally {
      fleet.sites[1]!.down = false;
    }
  });

  test('conductors: default order is the sites in turn; next links and a hand-built marker see each once', async () => {
    const seen: string[] = [];
    let path: string | undefined = '/v1/conductors?limit=1';
    for (let i = 0; path && i < 10; i++) {
      const r = await call(fleet.url, 'GET', path);
      assert.equal(r.status, 200, r.text);
      seen.push(...r.json.conductors.map((c: { hostname: string }) => c.hostname));
      for (const c of r.json.conductors) assert.ok(c.links[0].href.startsWith(fleet.url));
      path = r.json.next ? String(r.json.next).slice(fleet.url.length) : undefined;
    }
    assert.deepEqual(seen, ['zeta', 'alpha', 'mid']);
    const byMarker = await call(fleet.url, 'GET', '/v1/conductors?marker=alpha');
    assert.deepEqual(byMarker.json.conductors.map((c: { hostname: string }) => c.hostname), ['mid']);
    const sorted = await call(fleet.url, 'GET', '/v1/conductors?sort_key=hostname');
    assert.deepEqual(sorted.json.conductors.map((c: { hostname: string }) => c.hostname), ['alpha', 'mid', 'zeta']);
    assert.deepEqual(Object.keys(sorted.json.conductors[0]).sort(), ['alive', 'conductor_group', 'hostname', 'links']);
    const groups = await call(fleet.url, 'GET', '/v1/conductors?fields=conductor_group&sort_key=hostname&limit=2');
    assert.deepEqual(groups.json.conductors.map((c: Record<string, unknown>) => Object.keys(c).sort()), [['conductor_group', 'links'], ['conductor_group', 'links']]);
    assert.match(groups.json.next, /marker=mid/);
    const bad = await call(fleet.url, 'GET', '/v1/conductors?sort_key=alive');
    assert.equal(bad.status, 400);
    const gone = await call(fleet.url, 'GET', '/v1/conductors?marker=ghost');
    assert.equal(gone.status, 404);
    assert.equal(JSON.parse(gone.json.error_message).faultstring, 'Conductor ghost could not be found.');
  });

  test('one conductor comes from the site that has it', async () => {
    const r = await call(fleet.url, 'GET', '/v1/conductors/mid');
    assert.equal(r.status, 200);
    assert.equal(r.json.conductor_group, 'g1');
    assert.ok(r.json.links[0].href.startsWith(fleet.url));
    const none = await call(fleet.url, 'GET', '/v1/conductors/ghost');
    assert.equal(none.status, 404);
  });
});

describe('agent endpoints', () => {
  let fleet: FakeFleet;
  before(async () => {
    fleet = await startFakeFleet(['ga']);
  });
  after(() => fleet?.close());

  test('lookup and heartbeat: a routing-shaped 404 that says where they are served; Ironic\'s 400s for a lookup it refuses', async () => {
    const lookup = await call(fleet.url, 'GET', '/v1/lookup?addresses=52:54:00:00:00:01');
    assert.equal(lookup.status, 404);
    // Ironic's answer to a lookup that finds no node (what an agent expects), the reason in a header.
    assert.equal(JSON.parse(lookup.json.error_message).faultstring, 'Resource could not be found.');
    assert.match(lookup.headers.get('x-ironic-proxy-reason') ?? '', /served by the Ironic of each site/);
    const incomplete = await call(fleet.url, 'GET', '/v1/lookup?addresses=not-a-mac');
    assert.equal(incomplete.status, 400);
    assert.equal(JSON.parse(incomplete.json.error_message).faultstring, "At least one of 'addresses' and 'node_uuid' parameters is required");
    const badUuid = await call(fleet.url, 'GET', '/v1/lookup?node_uuid=xyz');
    assert.equal(badUuid.status, 400);
    assert.equal(JSON.parse(badUuid.json.error_message).faultstring, 'Expected UUID for node_uuid: xyz');
    for (const [m, p] of [['POST', '/v1/heartbeat/node-1'], ['POST', '/v1/continue_inspection']] as const) {
      const r = await call(fleet.url, m, p, { callback_url: 'http://x' });
      assert.equal(r.status, 404, p);
      assert.match(JSON.parse(r.json.error_message).description, /served by the Ironic of each site/);
    }
    const agentCalls = fleet.sites[0]!.calls.filter((c) => /^\/v1\/(lookup|heartbeat|continue_inspection)/.test(c.path));
    assert.deepEqual(agentCalls.map((c) => `${c.method} ${c.path}`), [], 'no site was asked');
    const v1 = await call(fleet.url, 'GET', '/v1');
    assert.equal(v1.json.lookup, undefined);
    assert.equal(v1.json.heartbeat, undefined);
    assert.ok(v1.json.events && v1.json.allocations && v1.json.shards && v1.json.conductors && v1.json.drivers);
  });
});
