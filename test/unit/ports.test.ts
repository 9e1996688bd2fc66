/**
 * Ports and portgroups over three simulated sites: merged listings (paging with
 * next, markers, sort keys, fields cut back to what was asked, Ironic's sort
 * blacklist texts), node/portgroup filters that ask only one site, creates
 * at the node's site, MAC and portgroup-name uniqueness over sites (409; 503
 * when a site cannot be asked, nothing created), no moves between sites,
 * and objects found again after they moved behind the proxy's back.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfigText } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { startProxy, type RunningProxy } from '../../src/start.js';
import { startSimSite, type SimSite } from '../../src/sim/index.js';
import { direct, put, putNode } from '../support/sim-direct.js';

const V = { 'X-OpenStack-Ironic-API-Version': '1.82' };
const MISSING = 'x-ironic-proxy-missing-sites';

interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

/** Requests a site received whose path starts with `prefix` (and with this method). */
function asked(site: SimSite, prefix: string, method?: string): number {
  return site.received.filter((r) => {
    const [m, path] = r.split(' ') as [string, string];
    return path.startsWith(prefix) && (method === undefined || m === method);
  }).length;
}

/** The path of the first request a site received whose path starts with `prefix`. */
function firstAsked(site: SimSite, prefix: string): string {
  return site.received.map((r) => r.split(' ')[1]!).find((path) => path.startsWith(prefix))!;
}

const forget = (site: SimSite): void => {
  (site.received as string[]).length = 0;
};

describe('ports over simulated sites', () => {
  let sites: SimSite[];
  let proxy: RunningProxy;
  /** node name → uuid; node i at site i % 3. */
  const nodes = new Map<string, string>();
  const macs: string[] = [];

  const call = async (method: string, path: string, body?: unknown): Promise<Reply> => {
    const res = await fetch(path.startsWith('http') ? path : `${proxy.url}${path}`, {
      method,
      headers: { ...V, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };
  const faultstring = (r: Reply): string => JSON.parse(r.body.error_message).faultstring;
  const allPorts = (): Array<Record<string, unknown>> => sites.flatMap((s) => [...s.api.ports.all()]);
  const addPort = (site: SimSite, node: string, address: string): Promise<Record<string, any>> => put(site, 'ports', { node_uuid: node, address });

  before(async () => {
    sites = await Promise.all([
      startSimSite({ name: 's1', conductorGroups: [''] }),
      startSimSite({ name: 's2', conductorGroups: ['g2'] }),
      startSimSite({ name: 's3', conductorGroups: ['g3'] }),
    ]);
    for (let i = 0; i < 6; i++) {
      const site = sites[i % 3]!;
      const uuid = (await putNode(site, { name: `n${i}` })).uuid as string;
      nodes.set(`n${i}`, uuid);
      for (let j = 0; j < 2; j++) {
        const mac = `52:54:00:00:0${i}:0${j}`;
        await addPort(site, uuid, mac);
        macs.push(mac);
      }
    }
    const ini = `
[DEFAULT]
groups = _:s1,g2:s2,g3:s3
[api]
host_ip = 127.0.0.1
port = 0
max_limit = 20
[proxy]
site_timeout = 2
circuit_failure_threshold = 100
circuit_open_seconds = 0
${sites.map((s) => `[group:${s.name}]\nauth_type = none\nendpoint_override = ${s.url}\n`).join('')}`;
    proxy = await startProxy(loadConfigText(ini), { log: createLogger({ level: 'silent' }) });
  });
  after(async () => {
    await proxy?.close();
    await Promise.all(sites.map((s) => s.close()));
  });
  afterEach(async () => {
    for (const s of sites) {
      await s.setFault('none');
      forget(s);
    }
  });

  test('the merged listing pages through every port once, in uuid order, links at the proxy', async () => {
    const seen: Array<Record<string, any>> = [];
    let next: string | undefined = '/v1/ports?limit=5';
    let pages = 0;
    while (next) {
      const r = await call('GET', next);
      assert.equal(r.status, 200);
      seen.push(...r.body.ports);
      next = r.body.next;
      if (next) assert.ok(next.startsWith(`${proxy.url}/v1/ports?`), next);
      assert.ok(++pages < 10);
    }
    assert.equal(pages, 3);
    assert.deepEqual(seen.map((p) => p.address).sort(), [...macs].sort());
    const uuids = seen.map((p) => p.uuid);
    assert.deepEqual(uuids, [...uuids].sort());
    for (const p of seen) {
      assert.deepEqual(Object.keys(p).sort(), ['address', 'links', 'uuid'], 'the default list view');
      assert.ok(p.links.every((l: { href: string }) => l.href.startsWith(proxy.url)));
    }
  });

  test('a plain marker continues the merged order', async () => {
    const all = (await call('GET', '/v1/ports?limit=100')).body.ports.map((p: { uuid: string }) => p.uuid);
    assert.equal(all.length, 12);
    const after3 = await call('GET', `/v1/ports?limit=4&marker=${all[3]}`);
    assert.deepEqual(after3.body.ports.map((p: { uuid: string }) => p.uuid), all.slice(4, 8));
  });

  test('sort by address desc with fields=uuid: the sort key is asked of the sites and cut from the answer', async () => {
    const r = await call('GET', '/v1/ports?sort_key=address&sort_dir=desc&fields=uuid&limit=3');
    assert.equal(r.status, 200);
    const byAddress = allPorts().sort((a, b) => (String(a.address) < String(b.address) ? 1 : -1));
    assert.deepEqual(r.body.ports.map((p: { uuid: string }) => p.uuid), byAddress.slice(0, 3).map((p) => p.uuid));
    for (const p of r.body.ports) assert.deepEqual(Object.keys(p).sort(), ['links', 'uuid']);
    const next = new URL(r.body.next);
    assert.equal(next.searchParams.get('fields'), 'uuid', 'next keeps the client\'s fields');
    assert.equal(next.searchParams.get('sort_key'), 'address');
    const page2 = await call('GET', r.body.next);
    assert.deepEqual(page2.body.ports.map((p: { uuid: string }) => p.uuid), byAddress.slice(3, 6).map((p) => p.uuid));
    const askedPath = firstAsked(sites[0]!, '/v1/ports?');
    assert.match(decodeURIComponent(askedPath), /fields=uuid,address/);
  });

  test('sort by a field outside the list view: asked with fields, cut back to the list view', async () => {
    const r = await call('GET', '/v1/ports?sort_key=created_at&limit=20');
    assert.equal(r.status, 200);
    assert.equal(r.body.ports.length, 12);
    for (const p of r.body.ports) assert.deepEqual(Object.keys(p).sort(), ['address', 'links', 'uuid']);
    const askedPath = decodeURIComponent(firstAsked(sites[1]!, '/v1/ports?'));
    assert.match(askedPath, /fields=uuid,address,created_at/);
  });

  test("Ironic's sort_key refusals", async () => {
    const black = await call('GET', '/v1/ports?sort_key=extra');
    assert.equal(black.status, 400);
    assert.equal(faultstring(black), 'The sort_key value extra is an invalid field for sorting');
    const internal = await call('GET', '/v1/ports?sort_key=node_id');
    assert.equal(internal.status, 400);
    assert.equal(faultstring(internal), 'The sort_key value "node_id" is an invalid field for sorting');
    const pgBlack = await call('GET', '/v1/portgroups?sort_key=properties');
    assert.equal(faultstring(pgBlack), 'The sort_key value properties is an invalid field for sorting');
    for (const s of sites) assert.equal(asked(s, '/v1/ports'), 0, 'refused before any site is asked');
  });

  test('?node= asks only the node\'s site; an unknown node is the site\'s 404', async () => {
    const r = await call('GET', '/v1/ports?node=n4');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.ports.map((p: { address: string }) => p.address).sort(), ['52:54:00:00:04:00', '52:54:00:00:04:01']);
    assert.equal(asked(sites[1]!, '/v1/ports'), 1);
    assert.equal(asked(sites[0]!, '/v1/ports') + asked(sites[2]!, '/v1/ports'), 0, 'the other sites are not asked for ports');
    await sites[0]!.setFault('refuse');
    const withOtherDown = await call('GET', `/v1/ports/detail?node_uuid=${nodes.get('n4')}`);
    assert.equal(withOtherDown.status, 200, 'a site that holds nothing asked for does not matter');
    assert.equal(withOtherDown.body.ports.length, 2);
    assert.equal(withOtherDown.headers.get(MISSING), null);
    await sites[0]!.setFault('none');
    const nowhere = await call('GET', '/v1/ports?node=ghost');
    assert.equal(nowhere.status, 404);
    assert.equal(faultstring(nowhere), 'Node ghost could not be found.');
  });

  test('?node= with a stale cached location: the node is found again where it is now', async () => {
    const uuid = (await putNode(sites[0]!, { name: 'wanderer' })).uuid as string;
    await addPort(sites[0]!, uuid, '52:54:00:ff:00:01');
    assert.equal((await call('GET', '/v1/ports?node=wanderer')).body.ports.length, 1);
    // Re-enrolled at s2 behind the proxy's back, with another port (a node's delete takes its ports).
    assert.equal((await direct(sites[0]!, 'DELETE', `/v1/nodes/${uuid}`)).status, 204);
    const moved = (await putNode(sites[1]!, { name: 'wanderer' })).uuid as string;
    await addPort(sites[1]!, moved, '52:54:00:ff:00:02');
    const r = await call('GET', '/v1/ports?node=wanderer');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.ports.map((p: { address: string }) => p.address), ['52:54:00:ff:00:02']);
    assert.equal((await direct(sites[1]!, 'DELETE', `/v1/nodes/${moved}`)).status, 204);
    const gone = await call('GET', '/v1/ports?node=wanderer');
    assert.equal(gone.status, 404);
    assert.equal(faultstring(gone), 'Node wanderer could not be found.');
  });

  test('?address= fans out and finds the one port', async () => {
    const r = await call('GET', '/v1/ports?address=52:54:00:00:05:01');
    assert.equal(r.body.ports.length, 1);
    assert.equal(r.body.ports[0].uuid, sites[2]!.api.ports.find((p) => p.address === '52:54:00:00:05:01')!.uuid);
  });

  test('a MAC held by two sites (a conflict made behind the proxy) is answered once, as one Ironic would', async () => {
    const a = await addPort(sites[0]!, nodes.get('n0')!, '52:54:00:12:34:56');
    const b = await addPort(sites[1]!, nodes.get('n1')!, '52:54:00:12:34:56');
    try {
      const r = await call('GET', '/v1/ports?address=52:54:00:12:34:56');
      assert.equal(r.status, 200);
      assert.equal(r.body.ports.length, 1);
      assert.equal(r.body.ports[0].uuid, [a.uuid, b.uuid].sort()[0]);
      assert.equal(r.body.next, undefined);
    } finally {
      await direct(sites[0]!, 'DELETE', `/v1/ports/${String(a.uuid)}`);
      await direct(sites[1]!, 'DELETE', `/v1/ports/${String(b.uuid)}`);
    }
  });

  test('a site down during a listing: the others\' ports, the site named', async () => {
    await sites[2]!.setFault('refuse');
    const r = await call('GET', '/v1/ports?limit=100');
    assert.equal(r.status, 200);
    assert.equal(r.body.ports.length, 8);
    assert.equal(r.headers.get(MISSING), 's3');
  });

  test('create goes to the node\'s site; a MAC used at another site is a 409 and nothing is created', async () => {
    const r = await call('POST', '/v1/ports', { node_uuid: nodes.get('n2'), address: '52:54:00:AA:00:01' });
    assert.equal(r.status, 201);
    assert.ok(sites[2]!.api.ports.get(r.body.uuid));
    assert.ok(r.body.links.every((l: { href: string }) => l.href.startsWith(proxy.url)));
    const before = allPorts().length;
    const dup = await call('POST', '/v1/ports', { node_uuid: nodes.get('n0'), address: '52:54:00:AA:00:01' });
    assert.equal(dup.status, 409);
    assert.equal(faultstring(dup), 'A port with MAC address 52:54:00:aa:00:01 already exists.');
    assert.equal(allPorts().length, before);
    for (const s of sites) assert.equal(asked(s, '/v1/ports', 'POST'), s === sites[2] ? 1 : 0);
    const del = await call('DELETE', `/v1/ports/${r.body.uuid}`);
    assert.equal(del.status, 204);
    assert.ok(!sites[2]!.api.ports.get(r.body.uuid));
  });

  test('a client UUID used at another site is a 409', async () => {
    const taken = String(sites[1]!.api.ports.all()[0]!.uuid);
    const r = await call('POST', '/v1/ports', { node_uuid: nodes.get('n0'), address: '52:54:00:ab:00:01', uuid: taken });
    assert.equal(r.status, 409);
    assert.equal(faultstring(r), `A port with UUID ${taken} already exists.`);
    assert.equal(asked(sites[0]!, '/v1/ports', 'POST'), 0);
  });

  test('a site that cannot be asked about a MAC: 503 naming it, nothing created', async () => {
    await sites[1]!.setFault('refuse');
    const r = await call('POST', '/v1/ports', { node_uuid: nodes.get('n0'), address: '52:54:00:bb:00:01' });
    assert.equal(r.status, 503);
    assert.match(faultstring(r), /MAC address 52:54:00:bb:00:01.*s2/);
    assert.equal(asked(sites[0]!, '/v1/ports', 'POST'), 0);
  });

  test('an unknown node on create: a site answers Ironic\'s error', async () => {
    const r = await call('POST', '/v1/ports', { node_uuid: '11111111-2222-3333-4444-555555555555', address: '52:54:00:cc:00:01' });
    assert.equal(r.status, 400);
    assert.match(faultstring(r), /could not be found/);
  });

  test('PATCH: extra at the owner; an address used elsewhere 409; a node at another site 400', async () => {
    const port = { ...sites[1]!.api.ports.all()[0]! };
    assert.equal((await call('GET', `/v1/ports/${port.uuid}`)).status, 200);
    for (const s of sites) forget(s);
    const ok = await call('PATCH', `/v1/ports/${port.uuid}`, [{ op: 'add', path: '/extra/rack', value: '7' }]);
    assert.equal(ok.status, 200);
    assert.equal(sites[0]!.received.length + sites[2]!.received.length, 0, 'a patch of unchecked fields goes straight to the known owner');
    assert.equal((sites[1]!.api.ports.get(String(port.uuid))!.extra as Record<string, string>).rack, '7');
    const taken = await call('PATCH', `/v1/ports/${port.uuid}`, [{ op: 'replace', path: '/address', value: '52:54:00:00:00:00' }]);
    assert.equal(taken.status, 409);
    assert.equal(faultstring(taken), 'A port with MAC address 52:54:00:00:00:00 already exists.');
    const moved = await call('PATCH', `/v1/ports/${port.uuid}`, [{ op: 'replace', path: '/node_uuid', value: nodes.get('n0') }]);
    assert.equal(moved.status, 400);
    assert.match(faultstring(moved), /cannot move between sites/);
    assert.equal(sites[1]!.api.ports.get(String(port.uuid))!.node_id, port.node_id);
    const sameSite = await call('PATCH', `/v1/ports/${port.uuid}`, [{ op: 'replace', path: '/node_uuid', value: nodes.get('n4') }]);
    assert.equal(sameSite.status, 200);
  });

  test('a port moved behind the proxy\'s back is found again (stale cache)', async () => {
    const port = await addPort(sites[0]!, nodes.get('n0')!, '52:54:00:dd:00:01');
    assert.equal((await call('GET', `/v1/ports/${port.uuid}`)).status, 200);
    assert.equal((await direct(sites[0]!, 'DELETE', `/v1/ports/${String(port.uuid)}`)).status, 204);
    await put(sites[2]!, 'ports', { uuid: port.uuid, address: port.address, node_uuid: nodes.get('n2') });
    const r = await call('GET', `/v1/ports/${port.uuid}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.node_uuid, nodes.get('n2'));
    assert.equal((await direct(sites[2]!, 'DELETE', `/v1/ports/${String(port.uuid)}`)).status, 204);
    const gone = await call('GET', `/v1/ports/${port.uuid}`);
    assert.equal(gone.status, 404);
    assert.equal(faultstring(gone), `Port ${port.uuid} could not be found.`);
  });

  test('a portgroup name is unique over sites; ?portgroup= asks only its site', async () => {
    const pg = await call('POST', '/v1/portgroups', { node_uuid: nodes.get('n1'), name: 'bond0' });
    assert.equal(pg.status, 201);
    assert.ok(sites[1]!.api.portgroups.get(pg.body.uuid));
    const dup = await call('POST', '/v1/portgroups', { node_uuid: nodes.get('n0'), name: 'bond0' });
    assert.equal(dup.status, 409);
    assert.equal(faultstring(dup), 'A portgroup with name bond0 already exists.');
    assert.equal(sites[0]!.api.portgroups.size, 0);
    const shown = await call('GET', '/v1/portgroups/bond0');
    assert.equal(shown.body.uuid, pg.body.uuid);
    const crossed = await call('POST', '/v1/ports', { node_uuid: nodes.get('n0'), address: '52:54:00:ee:00:01', portgroup_uuid: pg.body.uuid });
    assert.equal(crossed.status, 400);
    assert.equal(faultstring(crossed), 'Port can not be added to a portgroup belonging to a different node.');
    for (const s of sites) forget(s);
    const inGroup = await call('GET', '/v1/ports?portgroup=bond0');
    assert.equal(inGroup.status, 200);
    assert.deepEqual(inGroup.body.ports, []);
    assert.equal(asked(sites[0]!, '/v1/ports') + asked(sites[2]!, '/v1/ports'), 0);
    const listed = await call('GET', '/v1/portgroups');
    assert.deepEqual(listed.body.portgroups.map((p: { name: string }) => p.name), ['bond0']);
  });
});
