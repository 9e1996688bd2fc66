import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Locator, type ResourceLookup, type SharedLocations } from '../../src/federation/locator.js';
import { routeToOwner } from '../../src/federation/route-to-owner.js';
import { nodeNotFound, ProxyError, SiteErrorResponse, SiteUnavailableError } from '../../src/errors.js';
import type { Version } from '../../src/ironic/microversion.js';
import type { SiteClient, SiteRequest, SiteResponse } from '../../src/sites/site-client.js';

const VERSION: Version = { major: 1, minor: 82 };
const OPTS = { requestId: 'req-00000000-0000-0000-0000-000000000001' };
const NODES: ResourceLookup = { collectionPath: '/v1/nodes', notFound: nodeNotFound, noun: 'node' };

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function json(status: number, body: unknown): SiteResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) };
}
const notFoundRes = (what: string): SiteResponse =>
  json(404, { error_message: JSON.stringify({ faultcode: 'Client', faultstring: `${what} could not be found.`, debuginfo: null }) });

/**
 * A site that holds some nodes. Lookups (`GET /v1/nodes/<ident>?fields=uuid,name`) are answered from
 * `nodes`; any other request from `other`. `gate`, when set, holds every answer until resolved;
 * `fail`, when set, makes every request throw it.
 */
class FakeSite {
  readonly calls: SiteRequest[] = [];
  nodes: Array<{ uuid: string; name: string | null }> = [];
  gate?: Promise<void>;
  fail?: Error;
  other: (req: SiteRequest) => SiteResponse = () => json(200, {});

  constructor(
    readonly name: string,
    readonly ordinal: number,
  ) {}

  async request(req: SiteRequest): Promise<SiteResponse> {
    this.calls.push(req);
    if (this.gate) await this.gate;
    if (this.fail) throw this.fail;
    const m = /^\/v1\/nodes\/([^/?]+)\?fields=uuid,name$/.exec(req.path);
    if (req.method === 'GET' && m) {
      const ident = decodeURIComponent(m[1]!);
      const node = this.nodes.find((n) => n.uuid === ident.toLowerCase() || n.name === ident);
      return node ? json(200, node) : notFoundRes(`Node ${ident}`);
    }
    return this.other(req);
  }

  get client(): SiteClient {
    return this as unknown as SiteClient;
  }
}

function setup(n: number, maxEntries = 100): { sites: FakeSite[]; locator: Locator } {
  const sites = Array.from({ length: n }, (_, i) => new FakeSite(`loc${i + 1}`, i));
  const locator = new Locator(() => sites.map((s) => s.client), NODES, maxEntries, () => VERSION);
  return { sites, locator };
}

const lookups = (s: FakeSite): number => s.calls.filter((c) => c.path.endsWith('?fields=uuid,name')).length;

const U1 = '6c3ad5b4-0b11-4bf3-9d3d-2f2a6e1f0a01';
const U2 = '0f4b7b5c-8b0b-4d0e-a3a4-6a3c1d2e9f02';

describe('Locator', () => {
  test('a miss asks every site once and caches the identifier asked (only that one)', async () => {
    const { sites, locator } = setup(3);
    sites[1]!.nodes.push({ uuid: U1, name: 'node-a' });
    const site = await locator.locate('node-a', OPTS);
    assert.equal(site, sites[1]!.client);
    for (const s of sites) {
      assert.equal(s.calls.length, 1, s.name);
      assert.equal(s.calls[0]!.method, 'GET');
      assert.equal(s.calls[0]!.path, '/v1/nodes/node-a?fields=uuid,name');
      assert.deepEqual(s.calls[0]!.version, VERSION);
      assert.equal(s.calls[0]!.requestId, OPTS.requestId);
    }
    assert.equal(locator.cached('node-a'), sites[1]!.client);
    // The uuid the answer named was not asked: a site vouches only for what it was asked (issue 16.1).
    assert.equal(locator.cached(U1), undefined);
    assert.equal(await locator.locate('node-a', OPTS), sites[1]!.client);
    assert.deepEqual(sites.map((s) => s.calls.length), [1, 1, 1]);
    assert.equal(await locator.locate(U1, OPTS), sites[1]!.client);
    assert.deepEqual(sites.map((s) => s.calls.length), [2, 2, 2]);
  });

  test('lookup() asks every site even when cached, and refreshes the cache', async () => {
    const { sites, locator } = setup(2);
    sites[1]!.nodes.push({ uuid: U1, name: 'moved' });
    locator.remember(sites[0]!.client, U1, 'moved');
    const found = await locator.lookup(U1, OPTS);
    assert.equal(found.site, sites[1]!.client);
    assert.equal(found.uuid, U1);
    assert.equal(found.name, 'moved');
    assert.equal(locator.cached(U1), sites[1]!.client);
  });

  test('identifiers are encoded in the lookup path', async () => {
    const { sites, locator } = setup(1);
    sites[0]!.nodes.push({ uuid: U1, name: 'a b/c' });
    assert.equal(await locator.locate('a b/c', OPTS), sites[0]!.client);
    assert.equal(sites[0]!.calls[0]!.path, '/v1/nodes/a%20b%2Fc?fields=uuid,name');
  });

  test('concurrent lookups of the same identifier share one fan-out', async () => {
    const { sites, locator } = setup(3);
    const gate = deferred<void>();
    for (const s of sites) s.gate = gate.promise;
    sites[2]!.nodes.push({ uuid: U1, name: 'node-c' });
    const all = [
      locator.locate(U1, OPTS),
      locator.locate(U1, OPTS),
      locator.locate(U1.toUpperCase(), OPTS),
      locator.locate(U1.replace(/-/g, ''), OPTS),
      locator.lookup(U1, OPTS).then((l) => l.site),
    ];
    gate.resolve();
    const results = await Promise.all(all);
    for (const r of results) assert.equal(r, sites[2]!.client);
    assert.deepEqual(sites.map(lookups), [1, 1, 1], 'one request per site for five concurrent callers');
    // Once settled, a new lookup is a new fan-out (nothing stale kept in flight).
    await locator.lookup(U1, OPTS);
    assert.deepEqual(sites.map(lookups), [2, 2, 2]);
  });

  test('not found anywhere: the resource’s own 404, and the miss is not cached', async () => {
    const { sites, locator } = setup(3);
    await assert.rejects(locator.locate('ghost', OPTS), (err: unknown) => {
      assert.ok(err instanceof ProxyError);
      assert.equal(err.status, 404);
      assert.equal(err.code, 'NODE_NOT_FOUND');
      assert.equal(err.message, 'Node ghost could not be found.');
      return true;
    });
    assert.equal(locator.cached('ghost'), undefined);
    // Created a moment later at loc3: found, because "nowhere" was not remembered.
    sites[2]!.nodes.push({ uuid: U2, name: 'ghost' });
    assert.equal(await locator.locate('ghost', OPTS), sites[2]!.client);
    assert.deepEqual(sites.map(lookups), [2, 2, 2]);
  });

  test('a failing site and no hit: 503 naming the site, not 404', async () => {
    const { sites, locator } = setup(3);
    sites[1]!.fail = new SiteUnavailableError('loc2', 'connection refused');
    await assert.rejects(locator.locate(U1, OPTS), (err: unknown) => {
      assert.ok(err instanceof ProxyError);
      assert.equal(err.status, 503);
      assert.notEqual(err.code, 'NODE_NOT_FOUND');
      assert.match(err.message, /loc2/);
      assert.doesNotMatch(err.message, /loc1|loc3/);
      assert.match(err.message, new RegExp(U1));
      return true;
    });
    assert.equal(locator.cached(U1), undefined);
  });

  test('a failing site does not matter when another site has the node', async () => {
    const { sites, locator } = setup(3);
    sites[0]!.fail = new SiteUnavailableError('loc1', 'connection reset');
    sites[2]!.nodes.push({ uuid: U1, name: null });
    assert.equal(await locator.locate(U1, OPTS), sites[2]!.client);
  });

  test('a site’s client error (e.g. 400 invalid identifier) is relayed, not turned into 404', async () => {
    const { sites, locator } = setup(2);
    const bad = json(400, { error_message: JSON.stringify({ faultcode: 'Client', faultstring: 'Expected a logical name or UUID', debuginfo: null }) });
    for (const s of sites) s.request = async (req) => (s.calls.push(req), bad);
    await assert.rejects(locator.locate('bad~name', OPTS), (err: unknown) => {
      assert.ok(err instanceof SiteErrorResponse);
      assert.equal(err.response.status, 400);
      return true;
    });
  });

  test('a hit waits for every site: one slower to answer that also claims the identifier makes it a conflict', { timeout: 10_000 }, async () => {
    const { sites, locator } = setup(3);
    const slow = deferred<void>();
    sites[2]!.gate = slow.promise;
    sites[1]!.nodes.push({ uuid: U1, name: 'fast' });
    sites[2]!.nodes.push({ uuid: U1, name: 'fast' }); // a broken or lying site claims the same node
    const conflicts: Array<[string, string, string[]]> = [];
    const reporting = new Locator(() => sites.map((s) => s.client), NODES, 100, () => VERSION, (noun, ident, names) => conflicts.push([noun, ident, names]));
    let settled = false;
    const located = reporting.locate(U1, OPTS).finally(() => (settled = true));
    located.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(settled, false, 'the hit at loc2 is not taken while loc3 has not answered');
    slow.resolve();
    await assert.rejects(located, (err: unknown) => {
      assert.ok(err instanceof ProxyError);
      assert.equal(err.status, 409);
      assert.match(err.message, /claimed by several sites \(loc2, loc3\)/);
      return true;
    });
    assert.deepEqual(conflicts, [['node', U1, ['loc2', 'loc3']]]);
    assert.equal(reporting.cached(U1), undefined, 'neither site is remembered');
  });

  test('a hit is taken when the other sites answer not-found or cannot be asked', async () => {
    const { sites, locator } = setup(3);
    sites[0]!.fail = new SiteUnavailableError('loc1', 'connection reset');
    sites[1]!.nodes.push({ uuid: U1, name: 'fast' });
    assert.equal(await locator.locate('fast', OPTS), sites[1]!.client);
    assert.equal(locator.cached('fast'), sites[1]!.client);
  });

  test('the cache is bounded by maxEntries (least recently used goes first)', async () => {
    const { sites, locator } = setup(1, 3);
    const s = sites[0]!.client;
    const uuids = Array.from({ length: 6 }, (_, i) => `00000000-0000-4000-8000-00000000000${i}`);
    for (const u of uuids.slice(0, 3)) locator.remember(s, u);
    assert.equal(locator.size, 3);
    assert.equal(locator.cached(uuids[0]!), s); // touch 0: now 1 is the least recently used
    locator.remember(s, uuids[3]);
    assert.equal(locator.size, 3);
    assert.equal(locator.cached(uuids[1]!), undefined);
    assert.equal(locator.cached(uuids[0]!), s);
    for (const u of uuids) locator.remember(s, u, `name-${u.slice(-1)}`);
    assert.ok(locator.size <= 3, `size ${locator.size}`);
    // Lookups fill the cache under the same bound.
    sites[0]!.nodes.push({ uuid: U1, name: 'x1' }, { uuid: U2, name: 'x2' });
    await locator.locate('x1', OPTS);
    await locator.locate('x2', OPTS);
    assert.ok(locator.size <= 3, `size ${locator.size}`);
    assert.equal(locator.cached('x2'), s);
  });

  test('UUIDs are case-insensitive (hyphens optional); names are not', () => {
    const { sites, locator } = setup(2);
    locator.remember(sites[0]!.client, U1.toUpperCase(), 'Node-A');
    assert.equal(locator.cached(U1), sites[0]!.client);
    assert.equal(locator.cached(U1.toUpperCase()), sites[0]!.client);
    assert.equal(locator.cached(U1.replace(/-/g, '')), sites[0]!.client);
    assert.equal(locator.cached('Node-A'), sites[0]!.client);
    assert.equal(locator.cached('node-a'), undefined);
    locator.forget(U1.toUpperCase(), 'Node-A');
    assert.equal(locator.cached(U1), undefined);
    assert.equal(locator.cached('Node-A'), undefined);
  });

  test('remember ignores non-string and empty identifiers', () => {
    const { sites, locator } = setup(1);
    locator.remember(sites[0]!.client, undefined, '');
    locator.remember(sites[0]!.client, 42, null);
    assert.equal(locator.size, 0);
  });
});

describe('routeToOwner', () => {
  /** A node at `home`; sub-resource requests for it succeed there and 404 elsewhere. */
  function nodeAt(sites: FakeSite[], home: FakeSite, uuid: string, name: string): void {
    home.nodes.push({ uuid, name });
    for (const s of sites) {
      s.other = (req) => {
        const holds = s.nodes.some((n) => req.path.startsWith(`/v1/nodes/${n.uuid}`) || req.path.startsWith(`/v1/nodes/${n.name}`));
        if (!holds) return notFoundRes(`Node ${uuid}`);
        if (req.path.includes('/traits/')) return notFoundRes('Trait');
        return json(200, { uuid, name, site: s.name });
      };
    }
  }
  const sender = (path: string) => {
    const sent: FakeSite[] = [];
    const send = (site: SiteClient): Promise<SiteResponse> => {
      sent.push(site as unknown as FakeSite);
      return site.request({ method: 'GET', path, version: VERSION, requestId: OPTS.requestId });
    };
    return { sent, send };
  };

  test('not cached: locate first, then one request at the owner', async () => {
    const { sites, locator } = setup(3);
    nodeAt(sites, sites[2]!, U1, 'n1');
    const { sent, send } = sender(`/v1/nodes/${U1}`);
    const routed = await routeToOwner(locator, U1, OPTS, send);
    assert.equal(routed.site, sites[2]!.client);
    assert.equal(routed.res.status, 200);
    assert.deepEqual(sent.map((s) => s.name), ['loc3']);
  });

  test('a stale cached site answering 404: re-lookup, request repeated at the new site', async () => {
    const { sites, locator } = setup(3);
    nodeAt(sites, sites[1]!, U1, 'n1'); // re-enrolled at loc2
    locator.remember(sites[0]!.client, U1, 'n1'); // but remembered at loc1
    const { sent, send } = sender(`/v1/nodes/${U1}`);
    const routed = await routeToOwner(locator, U1, OPTS, send);
    assert.deepEqual(sent.map((s) => s.name), ['loc1', 'loc2']);
    assert.equal(routed.site, sites[1]!.client);
    assert.equal(routed.res.status, 200);
    assert.equal((JSON.parse(routed.res.body.toString()) as { site: string }).site, 'loc2');
    assert.equal(locator.cached(U1), sites[1]!.client);
    assert.deepEqual(sites.map(lookups), [1, 1, 1], 'one fan-out');
  });

  test('a 404 from the right site (sub-resource missing) is the answer: not repeated', async () => {
    const { sites, locator } = setup(3);
    nodeAt(sites, sites[0]!, U1, 'n1');
    locator.remember(sites[0]!.client, U1, 'n1');
    const { sent, send } = sender(`/v1/nodes/${U1}/traits/CUSTOM_MISSING`);
    const first = deferred<SiteResponse>();
    const routed = await routeToOwner(locator, U1, OPTS, async (site) => {
      const res = await send(site);
      if (sent.length === 1) first.resolve(res);
      return res;
    });
    assert.deepEqual(sent.map((s) => s.name), ['loc1'], 'sent once');
    assert.equal(routed.site, sites[0]!.client);
    assert.equal(routed.res.status, 404);
    assert.equal(routed.res, await first.promise, 'the original 404 is returned');
    assert.match(routed.res.body.toString(), /Trait could not be found/);
    assert.equal(locator.cached(U1), sites[0]!.client, 'still cached at its site');
  });

  test('a cached node deleted everywhere: the site’s own 404, not repeated', async () => {
    const { sites, locator } = setup(2);
    for (const s of sites) s.other = () => notFoundRes(`Node ${U1}`);
    locator.remember(sites[1]!.client, U1);
    const { sent, send } = sender(`/v1/nodes/${U1}`);
    const routed = await routeToOwner(locator, U1, OPTS, send);
    assert.deepEqual(sent.map((s) => s.name), ['loc2']);
    assert.equal(routed.res.status, 404);
    assert.equal(routed.site, sites[1]!.client);
    assert.equal(locator.cached(U1), undefined, 'the stale entry is gone');
  });

  test('a non-404 answer from the cached site is returned without any lookup', async () => {
    const { sites, locator } = setup(3);
    nodeAt(sites, sites[0]!, U1, 'n1');
    locator.remember(sites[0]!.client, U1);
    const { sent, send } = sender(`/v1/nodes/${U1}`);
    const routed = await routeToOwner(locator, U1, OPTS, send);
    assert.equal(routed.res.status, 200);
    assert.deepEqual(sent.map((s) => s.name), ['loc1']);
    assert.deepEqual(sites.map(lookups), [0, 0, 0]);
  });
});

/** The store's layer as replicas share it ([coordination]), in memory: one map, every locator subscribed. */
class SharedMap {
  readonly map = new Map<string, string>();
  readonly sets: string[] = [];
  private readonly drops: Array<(k: string) => void> = [];
  layer(): SharedLocations {
    let mine: ((k: string) => void) | undefined;
    return {
      get: async (k) => this.map.get(k),
      set: (k, site) => {
        this.sets.push(k);
        this.map.set(k, site);
        for (const d of this.drops) if (d !== mine) d(k);
      },
      delete: (k) => {
        this.map.delete(k);
        for (const d of this.drops) if (d !== mine) d(k);
      },
      subscribe: (drop) => {
        mine = drop;
        this.drops.push(drop);
      },
    };
  }
}

describe('Locator with a shared store (replicas)', () => {
  test('what one replica learns another finds without asking any site; a known location is not written back', async () => {
    const sites = [new FakeSite('loc1', 0), new FakeSite('loc2', 1)];
    sites[1]!.nodes.push({ uuid: U1, name: 'node-a' });
    const shared = new SharedMap();
    const make = (): Locator => new Locator(() => sites.map((s) => s.client), NODES, 100, () => VERSION, undefined, shared.layer());
    const a = make();
    const b = make();
    assert.equal(await a.locate('node-a', OPTS), sites[1]!.client);
    assert.equal(lookups(sites[0]!) + lookups(sites[1]!), 2, 'replica a asked both sites');
    assert.deepEqual(shared.sets, ['n:node-a']);
    a.remember(sites[1]!.client, 'node-a');
    assert.equal(shared.sets.length, 1, 'a location the process knows is not stored again');
    assert.equal(b.cached('node-a'), undefined);
    assert.equal(await b.locate('node-a', OPTS), sites[1]!.client);
    assert.equal(lookups(sites[0]!) + lookups(sites[1]!), 2, 'replica b asked no site');
    assert.equal(b.cached('node-a'), sites[1]!.client, 'kept locally from then on');
    assert.equal(shared.sets.length, 1, 'what came from the store is not written back');
  });

  test('a location dropped by one replica is dropped by the others; a stale one heals through the site 404', async () => {
    const sites = [new FakeSite('loc1', 0), new FakeSite('loc2', 1)];
    sites[0]!.nodes.push({ uuid: U1, name: 'node-a' });
    const shared = new SharedMap();
    const a = new Locator(() => sites.map((s) => s.client), NODES, 100, () => VERSION, undefined, shared.layer());
    const b = new Locator(() => sites.map((s) => s.client), NODES, 100, () => VERSION, undefined, shared.layer());
    await a.locate('node-a', OPTS);
    await b.locate('node-a', OPTS);
    a.forget('node-a');
    assert.equal(b.cached('node-a'), undefined);
    assert.equal(shared.map.size, 0);
    // Re-enrolled at loc2 behind the proxies' back; the store still says loc1 (set by a replica that missed it).
    sites[0]!.nodes = [];
    sites[1]!.nodes.push({ uuid: U2, name: 'node-a' });
    shared.map.set('n:node-a', 'loc1');
    sites[0]!.other = () => notFoundRes('Node node-a');
    sites[1]!.other = () => json(200, { uuid: U2, name: 'node-a' });
    const routed = await routeToOwner(b, 'node-a', OPTS, (s) => s.request({ method: 'GET', path: '/v1/nodes/node-a', version: VERSION, requestId: 'r' }));
    assert.equal(routed.site, sites[1]!.client);
    assert.equal(routed.res.status, 200);
    assert.equal(shared.map.get('n:node-a'), 'loc2', 'the store healed too');
  });
});
