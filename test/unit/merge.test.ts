/**
 * The merged listing, randomised: for random sites (sizes, site max_limit),
 * sort keys with NULLs and ties, directions and page sizes, paging through
 * listMerged — by following the cursor, or with only the plain marker as a
 * client that builds its own would — yields exactly the union of the sites
 * sorted by (value, site ordinal, site-local order): every item once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { listMerged } from '../../src/federation/listing.js';
import { chunkSize, type StreamSpec } from '../../src/federation/merge.js';
import type { SiteClient } from '../../src/sites/site-client.js';
import { prng } from '../../src/sim/seed.js';
import { expectedOrder, markerResolver, PagedSite, type Row } from '../support/paged-site.js';

/** A deterministic PRNG, so a failure names a seed that reproduces it. */
const rng = prng;

const KEYS = ['uuid', 'name', 'driver', 'maintenance', 'created_at', 'power_state'] as const;

function makeSites(rand: () => number): PagedSite[] {
  const count = 1 + Math.floor(rand() * 6);
  let id = 0;
  return Array.from({ length: count }, (_, ordinal) => {
    const size = Math.floor(rand() * 40);
    const rows: Row[] = Array.from({ length: size }, () => ({
      id: ++id,
      uuid: randomUUID(),
      name: rand() < 0.2 ? null : `n-${Math.floor(rand() * 30)}`,
      driver: ['ipmi', 'redfish', 'fake-hardware'][Math.floor(rand() * 3)],
      maintenance: rand() < 0.3,
      created_at: new Date(Date.UTC(2024, 0, 1) + Math.floor(rand() * 50) * 1000).toISOString().replace('Z', '+00:00'),
      power_state: rand() < 0.3 ? null : rand() < 0.5 ? 'power on' : 'power off',
    }));
    return new PagedSite(`site${ordinal}`, ordinal, rows, 1 + Math.floor(rand() * 12));
  });
}

async function pageThrough(sites: PagedSite[], key: string, dir: 'asc' | 'desc', limit: number, mode: 'cursor' | 'marker'): Promise<string[]> {
  const clients = sites as unknown as SiteClient[];
  const spec: StreamSpec = {
    path: '/v1/nodes',
    collectionKey: 'nodes',
    params: [],
    sortKey: key,
    sortDir: dir,
    markerField: 'uuid',
    version: { major: 1, minor: 82 },
    requestId: 'req-test',
    maxChunk: 1000,
  };
  const resolveMarker = markerResolver(sites, key);
  const seen: string[] = [];
  let marker: string | undefined;
  let cursor: string | undefined;
  for (let guard = 0; guard < 1000; guard++) {
    const page = await listMerged({ sites: clients, spec, limit, marker, cursor, publicPath: '/v1/nodes', resolveMarker, strict: false });
    assert.deepEqual(page.missingSites, []);
    assert.ok(page.items.length <= limit, 'a page never exceeds limit');
    seen.push(...page.items.map((i) => String(i.item.uuid)));
    if (page.items.length < limit) {
      assert.equal(page.nextCursor, undefined, 'a short page has no next');
      return seen;
    }
    assert.ok(page.nextCursor, 'a full page has a next');
    marker = String(page.items[page.items.length - 1]!.item.uuid);
    cursor = mode === 'cursor' ? page.nextCursor : undefined;
  }
  throw new Error('paging did not end');
}

test('paging through merged sites equals sorting the union (randomised, cursor and plain marker)', async () => {
  for (let seed = 1; seed <= 150; seed++) {
    const rand = rng(seed);
    const sites = makeSites(rand);
    const key = KEYS[Math.floor(rand() * KEYS.length)]!;
    const dir = rand() < 0.5 ? 'asc' : 'desc';
    const limit = 1 + Math.floor(rand() * 15);
    const expected = expectedOrder(sites, key, dir === 'asc' ? 1 : -1);
    for (const mode of ['cursor', 'marker'] as const) {
      const got = await pageThrough(sites, key, dir, limit, mode);
      assert.deepEqual(got, expected, `seed ${seed}: ${sites.length} sites, sort ${key} ${dir}, limit ${limit}, ${mode}`);
    }
  }
});

test('a sorted page over many sites fetches about one page, not sites x page', async () => {
  const rand = rng(42);
  let id = 0;
  const sites = Array.from({ length: 100 }, (_, ordinal) => {
    const rows: Row[] = Array.from({ length: 200 }, () => ({ id: ++id, uuid: randomUUID(), name: `n${rand()}` }));
    return new PagedSite(`s${ordinal}`, ordinal, rows, 1000);
  });
  const limit = 100;
  const got = await pageThrough(sites, 'name', 'asc', limit, 'cursor');
  assert.equal(got.length, 20_000);
  const served = sites.reduce((n, s) => n + s.itemsServed, 0);
  const perReturned = served / got.length;
  // Fetching sites x limit per page would be 100x; the chunking keeps it a small constant.
  assert.ok(perReturned < 6, `fetched ${perReturned.toFixed(2)} nodes per node returned`);
});

test('chunk size follows the share of the page, with headroom, never above need or max', () => {
  assert.equal(chunkSize(1000, 1, 1000), 1000);
  assert.equal(chunkSize(1000, 1, 200), 200);
  const c = chunkSize(1000, 100, 1000);
  assert.ok(c > 10 && c < 40, `chunk ${c}`);
  assert.equal(chunkSize(5, 100, 1000), 2);
  assert.ok(chunkSize(3, 2, 1000) <= 3);
});

test('a site that fails is reported missing and the others still answer', async () => {
  const rand = rng(7);
  const sites = makeSites(rand).slice(0, 1);
  const ok = new PagedSite('good', 0, [{ id: 1, uuid: randomUUID() }, { id: 2, uuid: randomUUID() }], 100);
  const bad = { name: 'bad', ordinal: 1, request: async () => { throw new Error('boom'); } } as unknown as SiteClient;
  void sites;
  const page = await listMerged({
    sites: [ok as unknown as SiteClient, bad],
    spec: { path: '/v1/nodes', collectionKey: 'nodes', params: [], sortKey: 'uuid', sortDir: 'asc', markerField: 'uuid', version: { major: 1, minor: 82 }, requestId: 'r', maxChunk: 1000 },
    limit: 10,
    publicPath: '/v1/nodes',
    resolveMarker: async () => { throw new Error('unused'); },
    strict: false,
  });
  assert.equal(page.items.length, 2);
  assert.deepEqual(page.missingSites, ['bad']);
});

test('a site holding a whole run of the order is asked for the rest of the page at once', async () => {
  let id = 0;
  const sites = Array.from({ length: 100 }, (_, ordinal) => {
    // Site 0's names all sort before every other site's, as when names start with the site name.
    const rows: Row[] = Array.from({ length: 300 }, (_, i) => ({ id: ++id, uuid: randomUUID(), name: `${ordinal === 0 ? 'a' : 'z'}-${ordinal}-${i}` }));
    return new PagedSite(`s${ordinal}`, ordinal, rows, 1000);
  });
  const clients = sites as unknown as SiteClient[];
  const page = await listMerged({
    sites: clients,
    spec: { path: '/v1/nodes', collectionKey: 'nodes', params: [], sortKey: 'name', sortDir: 'asc', markerField: 'uuid', version: { major: 1, minor: 82 }, requestId: 'r', maxChunk: 1000 },
    limit: 100,
    publicPath: '/v1/nodes',
    resolveMarker: async () => { throw new Error('unused'); },
    strict: false,
  });
  assert.equal(page.items.length, 100);
  assert.ok(page.items.every((i) => i.site === clients[0]));
  assert.ok(sites[0]!.requests <= 2, `site 0 asked ${sites[0]!.requests} times`);
});
