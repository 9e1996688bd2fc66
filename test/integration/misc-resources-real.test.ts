/**
 * Allocations, drivers, conductors, shards, events and the agent endpoints
 * through the proxy over two real Ironic sites (Debian's 21.4), with the
 * `baremetal` CLI where it has a command. Site loc1 holds the default group
 * and grp2 (two conductors), site loc2 holds grp1.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningProxy } from '../../src/start.js';
import { startProxyOver } from '../support/proxy-over-real.js';
import { startRealSites, type RealSites } from '../support/real-ironic.js';
import { baremetal, baremetalJsonOk, ironicRequest, waitForProvisionState, type BaremetalOptions } from '../support/clients.js';

const V = '1.82';

describe('allocations, drivers, conductors, shards, events, agent endpoints over real Ironic sites', { timeout: 600_000 }, () => {
  let sites: RealSites;
  let proxy: RunningProxy;
  let cli: BaremetalOptions;

  const api = <T = any>(method: string, path: string, body?: unknown, endpoint?: string) =>
    ironicRequest<T>(endpoint ?? proxy.url, method, path, { apiVersion: V, body });
  const atSite = (site: string, path: string) => api(`GET`, path, undefined, sites.site(site).url);

  /**
   * manage + provide through the API, polling the state quickly (the CLI's --wait polls every 10 s),
   * and a known power state (the allocation engine skips nodes without one).
   */
  async function makeAvailable(uuid: string): Promise<void> {
    const power = await api('PUT', `/v1/nodes/${uuid}/states/power`, { target: 'power off' });
    assert.equal(power.status, 202, power.text);
    for (const deadline = Date.now() + 30_000; ; ) {
      const n = await api<{ power_state: string | null }>('GET', `/v1/nodes/${uuid}?fields=power_state`);
      if (n.json?.power_state === 'power off') break;
      assert.ok(Date.now() < deadline, 'power off did not happen');
      await new Promise((res) => setTimeout(res, 100));
    }
    const manage = await api('PUT', `/v1/nodes/${uuid}/states/provision`, { target: 'manage' });
    assert.equal(manage.status, 202, manage.text);
    await waitForProvisionState(proxy.url, uuid, 'manageable', { apiVersion: V, timeoutMs: 60_000 });
    const provide = await api('PUT', `/v1/nodes/${uuid}/states/provision`, { target: 'provide' });
    assert.equal(provide.status, 202, provide.text);
    await waitForProvisionState(proxy.url, uuid, 'available', { apiVersion: V, timeoutMs: 60_000 });
  }

  async function waitAllocation(ident: string, state: string): Promise<Record<string, unknown>> {
    const deadline = Date.now() + 60_000;
    let last: Record<string, unknown> | undefined;
    while (Date.now() < deadline) {
      const r = await api<Record<string, unknown>>('GET', `/v1/allocations/${ident}`);
      assert.equal(r.status, 200, r.text);
      last = r.json!;
      if (last.state === state) return last;
      assert.notEqual(last.state, 'error', `allocation failed: ${String(last.last_error)}`);
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error(`allocation ${ident} did not become ${state} (last ${String(last?.state)})`);
  }

  async function createNode(name: string, group: string, extra: Record<string, unknown> = {}): Promise<string> {
    const r = await api<{ uuid: string }>('POST', '/v1/nodes', { name, driver: 'fake-hardware', conductor_group: group, ...extra });
    assert.equal(r.status, 201, r.text);
    return r.json!.uuid;
  }

  before(async () => {
    sites = await startRealSites([
      { name: 'loc1', conductorGroups: ['', 'grp2'] },
      { name: 'loc2', conductorGroups: ['grp1'] },
    ]);
    proxy = await startProxyOver(sites, { groups: '_:loc1,grp1:loc2,grp2:loc1' });
    cli = { endpoint: proxy.url, maxRetries: 0 };
  });
  after(async () => {
    await proxy?.close();
    await sites?.stop();
  });

  test('GET /v1 advertises allocations, drivers, conductors, events and shards, not the agent endpoints', async () => {
    const r = await api<Record<string, unknown>>('GET', '/v1');
    for (const key of ['allocations', 'drivers', 'conductors', 'events', 'shards']) assert.ok(r.json![key], key);
    for (const key of ['lookup', 'heartbeat']) assert.equal(r.json![key], undefined, key);
  });

  test('an allocation with a candidate node at the second site lands there and becomes active', async () => {
    const uuid = await createNode('alloc-b1', 'grp1', { resource_class: 'it-rc' });
    await makeAvailable(uuid);
    const created = await baremetalJsonOk<{ uuid: string; name: string }>(
      ['allocation', 'create', '--resource-class', 'it-rc', '--candidate-node', 'alloc-b1', '--name', 'it-alloc-1'],
      cli,
    );
    assert.equal(created.name, 'it-alloc-1');
    assert.equal((await atSite('loc2', `/v1/allocations/${created.uuid}`)).status, 200, 'the allocation is at loc2');
    assert.equal((await atSite('loc1', `/v1/allocations/${created.uuid}`)).status, 404, 'and not at loc1');
    const active = await waitAllocation('it-alloc-1', 'active');
    assert.equal(active.node_uuid, uuid);
    // The node's allocation_uuid refers to an allocation the proxy finds.
    const node = await api<{ allocation_uuid: string }>('GET', `/v1/nodes/${uuid}?fields=allocation_uuid`);
    assert.equal(node.json!.allocation_uuid, created.uuid);
    const shown = await baremetalJsonOk<{ uuid: string; state: string }>(['allocation', 'show', node.json!.allocation_uuid], cli);
    assert.equal(shown.state, 'active');
    const listed = await baremetalJsonOk<Array<{ UUID: string }>>(['allocation', 'list', '--node', 'alloc-b1'], cli);
    assert.deepEqual(listed.map((a) => a.UUID), [created.uuid]);
    const all = await baremetalJsonOk<Array<{ UUID: string }>>(['allocation', 'list'], cli);
    assert.ok(all.some((a) => a.UUID === created.uuid));
  });

  test('an allocation name is unique over the sites (409, Ironic text)', async () => {
    const uuid = await createNode('alloc-a1', '', { resource_class: 'it-rc2' });
    await makeAvailable(uuid);
    const r = await baremetal(['allocation', 'create', '--resource-class', 'it-rc2', '--candidate-node', 'alloc-a1', '--name', 'it-alloc-1'], cli);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /An allocation with name it-alloc-1 already exists/);
    assert.match(r.stderr, /HTTP 409/);
    const loc1 = await atSite('loc1', '/v1/allocations');
    assert.deepEqual((loc1.json as { allocations: unknown[] }).allocations, [], 'nothing was created at loc1');
  });

  test('without candidates, the allocation goes to the site with free nodes of the class', async () => {
    // Only loc1 has an available it-rc2 node (alloc-a1, from the previous test).
    const created = await baremetalJsonOk<{ uuid: string }>(['allocation', 'create', '--resource-class', 'it-rc2', '--name', 'it-alloc-2'], cli);
    assert.equal((await atSite('loc1', `/v1/allocations/${created.uuid}`)).status, 200);
    const active = await waitAllocation(created.uuid, 'active');
    assert.equal((await api<{ name: string }>('GET', `/v1/nodes/${String(active.node_uuid)}`)).json!.name, 'alloc-a1');
    // One listing shows the allocations of both sites (it-alloc-1 is at loc2), each once.
    const listed = await baremetalJsonOk<Array<{ Name: string }>>(['allocation', 'list', '--limit', '0'], cli);
    assert.deepEqual(listed.map((a) => a.Name).sort(), ['it-alloc-1', 'it-alloc-2']);
    // Updated and deleted through the proxy, at its site.
    const set = await baremetal(['allocation', 'set', 'it-alloc-2', '--extra', 'k=v'], cli);
    assert.equal(set.code, 0, set.stderr);
    assert.deepEqual((await api<{ extra: unknown }>('GET', '/v1/allocations/it-alloc-2')).json!.extra, { k: 'v' });
    const del = await baremetal(['allocation', 'delete', 'it-alloc-2'], cli);
    assert.equal(del.code, 0, del.stderr);
    assert.equal((await atSite('loc1', `/v1/allocations/${created.uuid}`)).status, 404);
  });

  test('driver list shows fake-hardware with the conductor hosts of both sites', async () => {
    const rows = await baremetalJsonOk<Array<{ 'Supported driver(s)': string; 'Active host(s)': string[] | string }>>(['driver', 'list'], cli);
    const fake = rows.find((r) => r['Supported driver(s)'] === 'fake-hardware');
    assert.ok(fake, JSON.stringify(rows));
    const hosts = Array.isArray(fake['Active host(s)']) ? fake['Active host(s)'] : String(fake['Active host(s)']).split(/,\s*/);
    const expected = sites.sites.flatMap((s) => s.conductors.map((c) => c.hostname));
    assert.deepEqual([...hosts].sort(), [...expected].sort());
    assert.equal(rows.filter((r) => r['Supported driver(s)'] === 'fake-hardware').length, 1, 'one row per driver');
    const shown = await baremetalJsonOk<{ hosts: string[] | string; name: string }>(['driver', 'show', 'fake-hardware'], cli);
    const shownHosts = Array.isArray(shown.hosts) ? shown.hosts : shown.hosts.split(/,\s*/);
    assert.deepEqual([...shownHosts].sort(), [...expected].sort());
    const props = await ironicRequest(proxy.url, 'GET', '/v1/drivers/fake-hardware/properties', { apiVersion: V });
    assert.equal(props.status, 200);
    const missing = await baremetal(['driver', 'show', 'no-such-driver'], cli);
    assert.match(missing.stderr, /Could not find the following driver\(s\) or hardware type\(s\): no-such-driver/);
  });

  test('conductor list shows the conductors of both sites with their groups, paged', async () => {
    const rows = await baremetalJsonOk<Array<{ Hostname: string; 'Conductor Group': string; Alive: boolean }>>(['conductor', 'list'], cli);
    const expected = sites.sites.flatMap((s) => s.conductors.map((c) => ({ Hostname: c.hostname, 'Conductor Group': c.group })));
    assert.deepEqual(
      rows.map((r) => ({ Hostname: r.Hostname, 'Conductor Group': r['Conductor Group'] })).sort((a, b) => a.Hostname.localeCompare(b.Hostname)),
      expected.sort((a, b) => a.Hostname.localeCompare(b.Hostname)),
    );
    // Default order (Ironic's id): the sites one after the other; one per page still sees each once.
    const seen: string[] = [];
    let next: string | undefined = `${proxy.url}/v1/conductors?limit=1`;
    while (next) {
      const r: { status: number; json?: { conductors: Array<{ hostname: string }>; next?: string } } = await ironicRequest(next, 'GET', '', { apiVersion: V });
      assert.equal(r.status, 200);
      seen.push(...r.json!.conductors.map((c) => c.hostname));
      next = r.json!.next;
      assert.ok(seen.length <= expected.length + 1);
    }
    const siteOrder = async (s: string): Promise<string[]> =>
      ((await atSite(s, '/v1/conductors')).json as { conductors: Array<{ hostname: string }> }).conductors.map((c) => c.hostname);
    assert.deepEqual(seen, [...(await siteOrder('loc1')), ...(await siteOrder('loc2'))]);
    const desc = await api<{ conductors: Array<{ hostname: string }> }>('GET', '/v1/conductors?sort_dir=desc');
    assert.deepEqual(desc.json!.conductors.map((c) => c.hostname), [...seen].reverse());
    const one = await baremetalJsonOk<{ hostname: string; conductor_group: string }>(['conductor', 'show', sites.site('loc2').conductors[0]!.hostname], cli);
    assert.equal(one.conductor_group, 'grp1');
  });

  test('shards: counts summed per shard over the sites, by count', async () => {
    await createNode('shard-a1', '', { shard: 'east' });
    await createNode('shard-a2', 'grp2', { shard: 'west' });
    await createNode('shard-b1', 'grp1', { shard: 'east' });
    const perSite = await Promise.all(['loc1', 'loc2'].map(async (s) => (await atSite(s, '/v1/shards')).json as { shards: Array<{ name: string; count: number }> }));
    const expected = new Map<string, number>();
    for (const { shards } of perSite) for (const s of shards) expected.set(s.name, (expected.get(s.name) ?? 0) + s.count);
    const r = await api<{ shards: Array<{ name: string; count: number }> }>('GET', '/v1/shards');
    assert.equal(r.status, 200);
    assert.deepEqual(new Map(r.json!.shards.map((s) => [s.name, s.count])), expected);
    assert.equal(expected.get('east'), 2);
    const counts = r.json!.shards.map((s) => s.count);
    assert.deepEqual(counts, [...counts].sort((a, b) => b - a));
  });

  test('events: valid events are accepted (204), invalid ones get Ironic\'s 400', async () => {
    const event = { event: 'network.bind_port', port_id: '11111111-2222-3333-4444-555555555555', mac_address: '52:54:00:aa:bb:cc', status: 'ACTIVE' };
    const ok = await api('POST', '/v1/events', { events: [event] });
    assert.equal(ok.status, 204, ok.text);
    const bad = await api('POST', '/v1/events', { events: [{ ...event, mac_address: 'nope' }] });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /nope/);
  });

  test('agent endpoints are not served by the proxy: Ironic\'s 404 with the reason in a header, or Ironic\'s 400', async () => {
    const lookup = await api('GET', '/v1/lookup?addresses=52:54:00:aa:bb:cc');
    assert.equal(lookup.status, 404);
    assert.match(lookup.text, /Resource could not be found/);
    assert.match(lookup.headers.get('x-ironic-proxy-reason') ?? '', /served by the Ironic of each site/);
    const incomplete = await api('GET', '/v1/lookup');
    assert.equal(incomplete.status, 400);
    assert.match(incomplete.text, /At least one of 'addresses' and 'node_uuid' parameters is required/);
    const hb = await api('POST', '/v1/heartbeat/alloc-b1', { callback_url: 'http://x', agent_token: 't' });
    assert.equal(hb.status, 404);
  });
});
