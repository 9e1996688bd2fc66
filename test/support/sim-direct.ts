/**
 * Working on a simulated site behind the proxy's back, for tests that need a
 * site in a given state (an object only one site holds, nodes in a chassis,
 * drift): requests straight to the site's own API, and emptying it between
 * tests. The simulator is the one model of a site (no hand-made fakes).
 */
import assert from 'node:assert/strict';
import type { SimSite } from '../../src/sim/index.js';

/** One request straight to a site (latest microversion), the parsed answer. */
export async function direct(site: SimSite, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(site.url + path, {
    method,
    headers: { 'X-OpenStack-Ironic-API-Version': 'latest', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

/** Creates an object at one site only (as if made while the proxy was not looking); its answer. */
export async function put(site: SimSite, collection: string, body: Record<string, unknown>): Promise<any> {
  const r = await direct(site, 'POST', `/v1/${collection}`, body);
  assert.equal(r.status, 201, `${site.name}: POST /v1/${collection}: ${JSON.stringify(r.json)}`);
  return r.json;
}

/** Creates a node at a site (driver fake-hardware, the site's first conductor group unless given). */
export async function putNode(site: SimSite, body: Record<string, unknown> = {}): Promise<any> {
  const group = site.api.cfg.groups[0] ?? '';
  return put(site, 'nodes', { driver: 'fake-hardware', conductor_group: group, ...body });
}

/** Empties every table of a site and forgets what it received; faults off. */
export async function clearSite(site: SimSite): Promise<void> {
  await site.setFault('none');
  const api = site.api;
  for (const t of [api.ports, api.portgroups, api.connectors, api.targets, api.allocations, api.chassis, api.templates, api.runbooks] as const) {
    for (const r of [...t.all()]) (t as { remove(x: unknown): void }).remove(r);
  }
  for (const n of [...api.store.all()]) api.store.remove(n);
  (site.received as string[]).length = 0;
  (site.requests as unknown[]).length = 0;
}

/** Drives a node to `available` with a known power state (what an allocation needs), straight at its site. */
export async function makeAvailable(site: SimSite, uuid: string): Promise<void> {
  for (const [target, stable] of [['manage', 'manageable'], ['provide', 'available']] as const) {
    assert.equal((await direct(site, 'PUT', `/v1/nodes/${uuid}/states/provision`, { target })).status, 202);
    for (let i = 0; ; i++) {
      const n = site.api.store.getByUuid(uuid)!;
      if (n.provision_state === stable && n.target_provision_state === null) break;
      assert.ok(i < 200, `${uuid} did not reach ${stable}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  assert.equal((await direct(site, 'PUT', `/v1/nodes/${uuid}/states/power`, { target: 'power off' })).status, 202);
  // The power change is applied on a later tick, as a conductor would: a node without a power state is no
  // allocation candidate, so wait for it (a loaded machine ran the allocation first).
  for (let i = 0; ; i++) {
    const n = site.api.store.getByUuid(uuid)!;
    if (n.power_state === 'power off' && n.target_power_state === null) break;
    assert.ok(i < 200, `${uuid} did not reach power off`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The bodies (parsed) of the requests a site got with this method and a path starting with `prefix`. */
export function sentTo(site: SimSite, method: string, prefix: string): Array<{ url: string; body: any; query: URLSearchParams }> {
  return site.requests
    .filter((r) => r.method === method && r.url.startsWith(prefix))
    .map((r) => ({ url: r.url, body: r.body ? JSON.parse(r.body) : undefined, query: new URL(r.url, 'http://x').searchParams }));
}

/** `METHOD /path?query` lines a site received with this method. */
export function receivedWith(site: SimSite, method: string): string[] {
  return site.received.filter((r) => r.startsWith(`${method} `));
}
