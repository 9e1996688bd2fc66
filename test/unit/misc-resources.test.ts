/**
 * Allocations, events, drivers, conductors, shards and the agent endpoints
 * through the proxy over simulated Ironic sites (src/sim, with fault
 * injection): which site gets what, what is merged how, and what the client
 * sees.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SimSite } from '../../src/sim/index.js';
import { startFleet, type Fleet, type FleetSite } from '../support/sim-fleet.js';
import { direct, makeAvailable, put, putNode, sentTo } from '../support/sim-direct.js';

const U = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** One request to the proxy at 1.82 (JSON in and out). */
async function call(base: string, method: string, path: string, body?: unknown, version = '1.82'): Promise<{ status: number; headers: Headers; json: any; text: string }> {
  const headers: Record<string, string> = { 'x-openstack-ironic-api-version': version };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** Requests a site got with this method whose path starts with `prefix`. */
const callsTo = (site: SimSite, method: string, prefix: string) => sentTo(site, method, prefix);

/** Sites named as given, the first serving the default group and site i also group `g<i>`; a proxy in front. */
function fleetOf(names: string[], extra: Array<Partial<FleetSite>> = []): Promise<Fleet> {
  return startFleet(
    names.map((name, i) => ({ name, conductorGroups: [i === 0 ? '' : `g${i}`], tickMs: 5, sectionExtra: 'timeout = 2', ...(extra[i] ?? {}) })),
  );
}

describe('allocations', () => {
  let fleet: Fleet;
  let sa: SimSite;
  let sb: SimSite;

  before(async () => {
    fleet = await fleetOf(['sa', 'sb']);
    [sa, sb] = fleet.sims as [SimSite, SimSite];
    // n2 at sa can serve resource class rc; n1 and n3 at sb cannot (enrolled, not available)
    const n2 = await putNode(sa, { name: 'n2', uuid: U(2), resource_class: 'rc' });
    await makeAvailable(sa, n2.uuid);
    await putNode(sb, { name: 'n1', uuid: U(1), resource_class: 'rc' });
    await putNode(sb, { name: 'n3', uuid: U(3), resource_class: 'rc' });
  });
  after(() => fleet?.close());

  test('candidates spread over sites: per site, in the given order, one uuid; a failed attempt is deleted before the next', async () => {
    const r = await call(fleet.url, 'POST', '/v1/allocations', { resource_class: 'rc', candidate_nodes: ['n1', 'n2', 'n3'], name: 'al1' });
    assert.equal(r.status, 201, r.text);
    const postB = callsTo(sb, 'POST', '/v1/allocations');
    const postA = callsTo(sa, 'POST', '/v1/allocations');
    assert.equal(postB.length, 1);
    assert.deepEqual(postB[0]!.body.candidate_nodes, ['n1', 'n3'], 'sb gets only its own candidates');
    assert.equal(postA.length, 1);
    assert.deepEqual(postA[0]!.body.candidate_nodes, ['n2']);
    const uuid = postB[0]!.body.uuid;
    assert.match(uuid, /^[0-9a-f-]{36}$/);
    assert.equal(postA[0]!.body.uuid, uuid, 'the same uuid at every attempt');
    assert.equal(r.json.uuid, uuid);
    assert.deepEqual(callsTo(sb, 'DELETE', '/v1/allocations').map((c) => c.url), [`/v1/allocations/${uuid}`]);
    assert.equal(sb.api.allocations.size, 0, 'nothing left at sb');
    // The last site's answer is relayed as Ironic gives it (`allocating`); its conductor settles it on a later tick.
    for (let i = 0; sa.api.allocations.get(uuid)?.state === 'allocating'; i++) {
      assert.ok(i < 200, 'the allocation at sa settles');
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(sa.api.allocations.get(uuid)?.node_id, sa.api.store.getByName('n2')!.id, 'sa allocated n2');
    assert.equal(r.headers.get('location'), `${fleet.url}/v1/allocations/${uuid}`);
    // Found by name at its site afterwards.
    const shown = await call(fleet.url, 'GET', '/v1/allocations/al1');
    assert.equal(shown.status, 200);
    assert.equal(shown.json.uuid, uuid);
  });

  test('a name used at another site is a 409 with Ironic text, and nothing is created', async () => {
    const before = fleet.sims.map((s) => callsTo(s, 'POST', '/v1/allocations').length);
    const r = await call(fleet.url, 'POST', '/v1/allocations', { resource_class: 'rc', candidate_nodes: ['n1'], name: 'al1' });
    assert.equal(r.status, 409);
    assert.match(JSON.parse(r.json.error_message).faultstring, /^An allocation with name al1 already exists\.$/);
    assert.deepEqual(fleet.sims.map((s) => callsTo(s, 'POST', '/v1/allocations').length), before);
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
    await makeAvailable(sa, (await putNode(sa, { resource_class: 'rc2' })).uuid);
    for (let i = 0; i < 3; i++) await makeAvailable(sb, (await putNode(sb, { resource_class: 'rc2' })).uuid);
    const postsA = callsTo(sa, 'POST', '/v1/allocations').length;
    const r = await call(fleet.url, 'POST', '/v1/allocations', { resource_class: 'rc2', name: 'al2' });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.state, 'active', 'another site remained, so the proxy waited for the outcome');
    const count = callsTo(sb, 'GET', '/v1/nodes?').at(-1)!;
    assert.equal(count.query.get('resource_class'), 'rc2');
    assert.equal(count.query.get('provision_state'), 'available');
    assert.equal(callsTo(sb, 'POST', '/v1/allocations').at(-1)!.body.name, 'al2');
    assert.equal(callsTo(sa, 'POST', '/v1/allocations').length, postsA, 'sa not tried');
  });

  test("?node= asks only the node's site, for the node's allocation; delete goes to the allocation's site", async () => {
    const before = sa.received.length;
    const r = await call(fleet.url, 'GET', '/v1/allocations?node=n3');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { allocations: [] }, 'n3 has no allocation (the node answers 404)');
    // A node has at most one allocation: read from the node (Ironic 21.4 ignores `node` for system-scoped callers).
    assert.equal(callsTo(sb, 'GET', '/v1/nodes/n3/allocation').length, 1);
    assert.equal(sa.received.slice(before).filter((c) => /^\S+ \/v1\/allocations|\/allocation(\?|$)/.test(c)).length, 0);
    const unknown = await call(fleet.url, 'GET', '/v1/allocations?node=ghost');
    assert.equal(unknown.status, 400);
    const del = await call(fleet.url, 'DELETE', '/v1/allocations/al2');
    assert.equal(del.status, 204);
    assert.equal(sb.api.allocations.find((x) => x.name === 'al2'), undefined);
  });

  test('?node= whose site cannot be asked is a 503 naming it, never an empty list', async () => {
    await sb.setFault('http500', { path: '/v1/nodes/n3/allocation' });
    try {
      const r = await call(fleet.url, 'GET', '/v1/allocations?node=n3');
      assert.equal(r.status, 503, r.text);
      assert.match(r.text, /sb/);
    } finally {
      await sb.setFault('none');
    }
  });

  test("below 1.52 allocations do not exist: the table's gate answers Ironic's 404, no site is asked", async () => {
    const mine = (x: SimSite) => x.received.filter((c) => c.split(' ')[1]!.startsWith('/v1/allocations'));
    const before = [sa, sb].map((x) => mine(x).length);
    const r = await call(fleet.url, 'GET', '/v1/allocations', undefined, '1.51');
    assert.equal(r.status, 404);
    assert.deepEqual([sa, sb].map((x) => mine(x).length), before);
  });
});

describe('events', () => {
  let fleet: Fleet;
  const MAC_B = '52:54:00:00:00:0b';
  const HOST_C = U(30);
  const ev = (over: Record<string, unknown>) => ({ event: 'network.bind_port', port_id: U(50), mac_address: '52:54:00:00:00:99', status: 'ACTIVE', ...over });

  before(async () => {
    fleet = await fleetOf(['ea', 'eb', 'ec']);
    const [, b, c] = fleet.sims as [SimSite, SimSite, SimSite];
    // eb holds the port with MAC_B, ec the node HOST_C
    await put(b, 'ports', { node_uuid: (await putNode(b)).uuid, address: MAC_B });
    await putNode(c, { uuid: HOST_C });
  });
  after(() => fleet?.close());

  test('each event goes only to the sites holding its port or node', async () => {
    const [a, b, c] = fleet.sims as [SimSite, SimSite, SimSite];
    const e1 = ev({ mac_address: MAC_B });
    const e2 = ev({ 'binding:host_id': HOST_C });
    const e3 = ev({});
    const r = await call(fleet.url, 'POST', '/v1/events', { events: [e1, e2, e3] });
    assert.equal(r.status, 204, r.text);
    assert.equal(r.text, '');
    assert.deepEqual(callsTo(b, 'POST', '/v1/events').map((x) => x.body), [{ events: [e1] }]);
    assert.deepEqual(callsTo(c, 'POST', '/v1/events').map((x) => x.body), [{ events: [e2] }]);
    assert.equal(callsTo(a, 'POST', '/v1/events').length, 0, 'a site holding nothing is skipped');
  });

  test("an invalid body gets the proxy's own 400 with Ironic's text, and reaches no site", async () => {
    // What the proxy itself reads of the sites (version discovery, global objects) is not the request.
    const asked = () => fleet.sims.map((s) => s.received.filter((l) => !/^GET \/((v1)?(\?|$)|v1\/(chassis|deploy_templates|runbooks)\b)/.test(l)).length);
    const cases: Array<[unknown, string]> = [
      [{ events: [] }, 'Schema error for evts: [] is too short'],
      [{ events: [ev({})], more: 1 }, "Schema error for evts: Additional properties are not allowed ('more' was unexpected)"],
      [{ events: [ev({ event: 'network.other' })] }, "Schema error for evts: 'network.other' is not one of ['network.bind_port', 'network.unbind_port', 'network.delete_port']"],
      [{ events: [ev({ status: 1 })] }, "Schema error for evts: 1 is not of type 'string'"],
      [{ events: [ev({ extra: 1 })] }, "Schema error for evts: Additional properties are not allowed ('extra' was unexpected)"],
      [{ events: [ev({ device_id: 5 })] }, "Schema error for evts: 5 is not of type 'string', 'null'"],
      [{ events: [ev({ port_id: 'p1' })] }, 'Expected UUID for port_id: p1'],
      [{ events: [ev({ mac_address: MAC_B.replace(/:/g, '-') })] }, `Expected valid MAC address for mac_address: ${MAC_B.replace(/:/g, '-')}`],
      [{ events: [ev({}), ev({ 'binding:host_id': 'h1' })] }, 'Expected UUID for binding:host_id: h1'],
    ];
    for (const [body, text] of cases) {
      const before = asked();
      const r = await call(fleet.url, 'POST', '/v1/events', body);
      assert.equal(r.status, 400, r.text);
      assert.equal(JSON.parse(r.json.error_message).faultstring, text);
      assert.deepEqual(asked(), before, `${text}: no site received anything`);
      // The simulated Ironic (a model of 21.4) answers the same.
      const site = await fetch(`${fleet.sims[0]!.url}/v1/events`, {
        method: 'POST',
        headers: { 'x-openstack-ironic-api-version': '1.82', 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(site.status, 400);
      assert.equal(JSON.parse(((await site.json()) as { error_message: string }).error_message).faultstring, text);
    }
  });

  test('a site that cannot be asked makes it a 503 naming it, after the others got theirs', async () => {
    const [, b, c] = fleet.sims as [SimSite, SimSite, SimSite];
    await c.setFault('refuse');
    try {
      const before = callsTo(b, 'POST', '/v1/events').length;
      const r = await call(fleet.url, 'POST', '/v1/events', { events: [ev({ mac_address: MAC_B })] });
      assert.equal(r.status, 503);
      const text = JSON.parse(r.json.error_message).faultstring;
      assert.match(text, /ec/);
      assert.match(text, /delivered to site\(s\) eb/);
      assert.equal(callsTo(b, 'POST', '/v1/events').length, before + 1);
    } finally {
      await c.setFault('none');
    }
  });
});

describe('drivers, shards, conductors', () => {
  let fleet: Fleet;
  const power = (enabled: string[], dflt: string | null) => ({ power: { enabled, default: dflt } });

  before(async () => {
    fleet = await fleetOf(['da', 'db'], [
      {
        conductorGroups: ['', 'g-a'],
        conductorHosts: { '': 'zeta', 'g-a': 'alpha' },
        drivers: ['ipmi', 'fake-hardware'],
        driverInterfaces: { ipmi: power(['ipmitool'], 'ipmitool'), 'fake-hardware': power(['fake'], null) },
        driverProperties: { ipmi: { ipmi_address: 'IP' } },
      },
      {
        conductorGroups: ['g1'],
        conductorHosts: { g1: 'mid' },
        drivers: ['fake-hardware', 'redfish'],
        driverInterfaces: { 'fake-hardware': power(['fake', 'ipmitool'], 'fake'), redfish: power(['redfish'], 'redfish') },
      },
    ]);
    const [a, b] = fleet.sims as [SimSite, SimSite];
    // shards: da None 3, x 1, tie-a 1; db x 5, None 1, tie-b 1
    for (const [site, shard, n] of [[a, null, 3], [a, 'x', 1], [a, 'tie-a', 1], [b, 'x', 5], [b, null, 1], [b, 'tie-b', 1]] as const) {
      for (let i = 0; i < n; i++) await putNode(site, { shard, driver: site === a ? 'ipmi' : 'redfish' });
    }
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
    assert.equal(callsTo(fleet.sims[0]!, 'GET', '/v1/drivers').at(-1)!.query.get('detail'), 'True', 'parameters passed on');
  });

  test('drivers: fields without name still merge by name, and the answer has only what was asked', async () => {
    const r = await call(fleet.url, 'GET', '/v1/drivers?fields=hosts');
    assert.equal(r.status, 200);
    assert.equal(callsTo(fleet.sims[1]!, 'GET', '/v1/drivers').at(-1)!.query.get('fields'), 'hosts,name');
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
    const before = fleet.sims.map((s) => callsTo(s, 'GET', '/v1/shards').length);
    const old = await call(fleet.url, 'GET', '/v1/shards', undefined, '1.81');
    assert.equal(old.status, 404, 'below 1.82 there are no shards: the gate answers as Ironic (404)');
    assert.deepEqual(fleet.sims.map((s) => callsTo(s, 'GET', '/v1/shards').length), before, 'no site asked');
  });

  test('shards: a site that does not answer is named, the others still counted', async () => {
    await fleet.sims[1]!.setFault('refuse');
    try {
      const r = await call(fleet.url, 'GET', '/v1/shards');
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('x-ironic-proxy-missing-sites'), 'db');
      assert.deepEqual(r.json.shards[0], { name: 'None', count: 3 });
    } finally {
      await fleet.sims[1]!.setFault('none');
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
  let fleet: Fleet;
  before(async () => {
    fleet = await fleetOf(['ga']);
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
    const agentCalls = fleet.sims[0]!.received.filter((c) => /^\S+ \/v1\/(lookup|heartbeat|continue_inspection)/.test(c));
    assert.deepEqual(agentCalls, [], 'no site was asked');
    const v1 = await call(fleet.url, 'GET', '/v1');
    assert.equal(v1.json.lookup, undefined);
    assert.equal(v1.json.heartbeat, undefined);
    assert.ok(v1.json.events && v1.json.allocations && v1.json.shards && v1.json.conductors && v1.json.drivers);
  });
});
