/**
 * Issue 12: merged pages planned from learned per-site key figures.
 *
 * Exactness never depends on the figures: for random site key distributions
 * (site-contiguous names, interleaved keys, a mix, NULLs and ties, numbers,
 * timestamps, both directions), random and stale figures (nodes created and
 * deleted between walks, figures made up), paging by cursor or by plain
 * marker yields exactly the sorted union of the sites, page by page.
 *
 * And the figures pay: once learned, a site-contiguous sorted page takes one
 * round of site requests, first page or deep, fetching at most about one item
 * per live site beyond the page.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listMerged, type ListingPage } from '../../src/federation/listing.js';
import { compareValues } from '../../src/federation/compare.js';
import { KeyStats } from '../../src/federation/key-stats.js';
import { cursorBinding, decodeCursor, type Position } from '../../src/federation/cursor.js';
import { planChunks, scalarImage } from '../../src/federation/page-plan.js';
import { chunkSize, type StreamSpec } from '../../src/federation/merge.js';
import type { SiteClient } from '../../src/sites/site-client.js';
import { prng } from '../../src/sim/seed.js';
import { expectedOrder, markerResolver, PagedSite, type Row } from '../support/paged-site.js';

let nextId = 0;
const uuidOf = (rand: () => number): string =>
  Array.from({ length: 32 }, () => Math.floor(rand() * 16).toString(16))
    .join('')
    .replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');

type Shape = 'contiguous' | 'interleaved' | 'mixed' | 'ties';

function row(rand: () => number, site: number, i: number, shape: Shape): Row {
  const contiguous = shape === 'contiguous' || (shape === 'mixed' && site % 2 === 0);
  const name = shape === 'ties' ? (rand() < 0.2 ? null : `n-${Math.floor(rand() * 4)}`) : contiguous ? `s${String(site).padStart(2, '0')}-n-${Math.floor(rand() * 1000)}` : `n-${Math.floor(rand() * 1000)}`;
  return {
    id: ++nextId,
    uuid: uuidOf(rand),
    name,
    memory: contiguous ? site * 1000 + Math.floor(rand() * 1000) : Math.floor(rand() * 1000),
    created_at: new Date(Date.UTC(2024, 0, 1) + (contiguous ? site * 1e6 : 0) + Math.floor(rand() * 1e6) * 1000).toISOString().replace('Z', '+00:00'),
    maintenance: rand() < 0.3,
  };
}

function makeSites(rand: () => number, shape: Shape): PagedSite[] {
  const count = 1 + Math.floor(rand() * 8);
  return Array.from({ length: count }, (_, ordinal) => {
    const size = Math.floor(rand() * 60);
    const rows = Array.from({ length: size }, (_, i) => row(rand, ordinal, i, shape));
    return new PagedSite(`site${ordinal}`, ordinal, rows, 5 + Math.floor(rand() * 100));
  });
}

function specOf(key: string, dir: 'asc' | 'desc', maxChunk = 1000): StreamSpec {
  return { path: '/v1/nodes', collectionKey: 'nodes', params: [], sortKey: key, sortDir: dir, markerField: 'uuid', version: { major: 1, minor: 82 }, requestId: 'req-test', maxChunk };
}

interface WalkResult {
  pages: string[][];
  listings: ListingPage[];
}

async function walk(sites: PagedSite[], key: string, dir: 'asc' | 'desc', limit: number, mode: 'cursor' | 'marker', stats: KeyStats): Promise<WalkResult> {
  const spec = specOf(key, dir);
  const resolveMarker = markerResolver(sites, key);
  const pages: string[][] = [];
  const listings: ListingPage[] = [];
  let marker: string | undefined;
  let cursor: string | undefined;
  for (let guard = 0; guard < 2000; guard++) {
    const page = await listMerged({ sites: sites as unknown as SiteClient[], spec, limit, marker, cursor, publicPath: '/v1/nodes', resolveMarker, strict: false, stats });
    assert.deepEqual(page.missingSites, []);
    pages.push(page.items.map((i) => String(i.item.uuid)));
    listings.push(page);
    if (page.items.length < limit) return { pages, listings };
    marker = pages.at(-1)!.at(-1);
    cursor = mode === 'cursor' ? page.nextCursor : undefined;
  }
  throw new Error('paging did not end');
}

/** The expected pages: the sorted union cut into pages of `limit` (a full last page is followed by an empty one). */
function cut(order: string[], limit: number): string[][] {
  const pages: string[][] = [];
  for (let i = 0; ; i += limit) {
    pages.push(order.slice(i, i + limit));
    if (order.length - i < limit) return pages;
  }
}

/** Figures made up at random (any value of any kind, any size), as stale as figures can be. */
function scramble(stats: KeyStats, signature: string, sites: PagedSite[], rand: () => number): void {
  const values = [null, true, 3, -7.5, 'a', 'n-5', 's03-n-1', 'zz', '2024-01-05T00:00:00+00:00', 500, 4000];
  const pick = () => values[Math.floor(rand() * values.length)];
  for (const s of sites) {
    stats.observe(signature, s.name, { fromStart: true, offset: 0, firstValue: pick(), lastValue: pick(), count: Math.floor(rand() * 3), more: rand() < 0.3 });
    if (rand() < 0.7) stats.observe(signature, s.name, { fromStart: false, offset: Math.floor(rand() * 100), firstValue: pick(), lastValue: pick(), count: 1 + Math.floor(rand() * 50), more: false });
  }
}

const signatureOf = (key: string, dir: string): string => `/v1/nodes|${key}|${dir}|`;

test('pages equal the sorted union, page by page, with learned, stale and made-up figures (randomised)', async () => {
  const shapes: Shape[] = ['contiguous', 'interleaved', 'mixed', 'ties'];
  for (let seed = 1; seed <= 60; seed++) {
    const rand = prng(seed);
    const shape = shapes[seed % shapes.length]!;
    const sites = makeSites(rand, shape);
    const key = ['name', 'memory', 'created_at', 'uuid', 'maintenance'][Math.floor(rand() * 5)]!;
    const dir = rand() < 0.5 ? 'asc' : 'desc';
    const limit = 1 + Math.floor(rand() * 40);
    const stats = new KeyStats();
    if (rand() < 0.3) scramble(stats, signatureOf(key, dir), sites, rand);
    for (let round = 0; round < 3; round++) {
      const expected = cut(expectedOrder(sites, key, dir === 'asc' ? 1 : -1), limit);
      for (const mode of ['cursor', 'marker'] as const) {
        const got = await walk(sites, key, dir, limit, mode, stats);
        assert.deepEqual(got.pages, expected, `seed ${seed} (${shape}, ${sites.length} sites, ${key} ${dir}, limit ${limit}, round ${round}, ${mode})`);
      }
      // The sites change between walks: the figures learned are now stale.
      for (const s of sites) {
        s.rows = s.rows.filter(() => rand() > 0.2);
        const added = Math.floor(rand() * 20);
        for (let i = 0; i < added; i++) s.rows.push(row(rand, rand() < 0.8 ? s.ordinal : Math.floor(rand() * sites.length), i, shape));
      }
      if (rand() < 0.3) scramble(stats, signatureOf(key, dir), sites, rand);
    }
  }
});

test('sites changing between pages of one walk: every page is the exact merge from where the cursor left each site', async () => {
  for (let seed = 1; seed <= 40; seed++) {
    const rand = prng(1000 + seed);
    const sites = makeSites(rand, seed % 2 ? 'contiguous' : 'mixed');
    const stats = new KeyStats();
    const key = 'name';
    const limit = 1 + Math.floor(rand() * 20);
    await walk(sites, key, 'asc', limit, 'cursor', stats); // learn: the figures go stale below
    const spec = specOf(key, 'asc');
    const resolveMarker = markerResolver(sites, key);
    const siteOrder = (s: PagedSite) => [...s.rows].sort((a, b) => compareValues(a[key], b[key]) || a.id - b.id);
    let marker: string | undefined;
    let cursor: string | undefined;
    let positions: Position[] = sites.map(() => ({ kind: 'start' }));
    for (let guard = 0; guard < 500; guard++) {
      // The cursor's meaning: each site continues after its own position.
      const rest = sites.flatMap((s, i) => {
        const p = positions[i]!;
        const ordered = siteOrder(s);
        const from = p.kind === 'start' ? 0 : p.kind === 'after' ? ordered.findIndex((r) => r.uuid === p.marker) + 1 : ordered.length;
        return ordered.slice(from).map((r) => ({ r, ordinal: s.ordinal }));
      });
      rest.sort((a, b) => compareValues(a.r[key], b.r[key]) || a.ordinal - b.ordinal || a.r.id - b.r.id);
      const page = await listMerged({ sites: sites as unknown as SiteClient[], spec, limit, marker, cursor, publicPath: '/v1/nodes', resolveMarker, strict: false, stats });
      const got = page.items.map((i) => String(i.item.uuid));
      assert.deepEqual(got, rest.slice(0, limit).map((x) => x.r.uuid), `seed ${seed}, page ${guard}`);
      if (got.length < limit) break;
      marker = got.at(-1)!;
      cursor = page.nextCursor!;
      const binding = cursorBinding({ path: '/v1/nodes', signature: signatureOf(key, 'asc'), sites: sites.map((s) => s.name), marker });
      positions = decodeCursor(cursor, binding, sites.length)!;
      assert.ok(positions, 'the cursor verifies');
      const kept = new Set(positions.flatMap((p) => (p.kind === 'after' ? [p.marker] : [])));
      // Creations and deletions at the sites (never an item a position names), new names anywhere in the order.
      for (const s of sites) {
        s.rows = s.rows.filter((r) => kept.has(r.uuid) || rand() > 0.1);
        if (rand() < 0.5) s.rows.push(row(rand, rand() < 0.5 ? s.ordinal : Math.floor(rand() * sites.length), 0, 'mixed'));
      }
    }
  }
});

test('learned figures: a site-contiguous sorted page takes one round, first and deep, fetching ≤ page + one per live site', async () => {
  for (const limit of [100, 1000]) {
    const sites = Array.from({ length: 40 }, (_, ordinal) => {
      const rows = Array.from({ length: 300 }, (_, i) => ({ id: ++nextId, uuid: uuidOf(prng(ordinal * 1000 + i)), name: `s${String(ordinal).padStart(3, '0')}-node-${i}` }));
      return new PagedSite(`site${ordinal}`, ordinal, rows, 1000);
    });
    const stats = new KeyStats();
    await walk(sites, 'name', 'asc', limit, 'cursor', stats); // the walk the proxy learns from
    const served0 = sites.reduce((n, s) => n + s.itemsServed, 0);
    const { listings } = await walk(sites, 'name', 'asc', limit, 'cursor', stats);
    const served = sites.reduce((n, s) => n + s.itemsServed, 0) - served0;
    const returned = listings.reduce((n, l) => n + l.items.length, 0);
    assert.equal(returned, 40 * 300);
    listings.forEach((l, i) => assert.equal(l.rounds, l.items.length > 0 ? 1 : Math.min(l.rounds, 1), `limit ${limit}: page ${i} took ${l.rounds} rounds`));
    // Each page: its items, plus at most one item (the probe) per site not yet done.
    for (const l of listings) assert.ok(l.fetched <= l.items.length + 40, `limit ${limit}: fetched ${l.fetched} for ${l.items.length}`);
    assert.ok(served / returned <= 2, `limit ${limit}: fetched/returned ${(served / returned).toFixed(2)}`);

    // A deep page reached by a plain marker (no cursor): positioned by scanning, then planned from the counts.
    const deep = await listMerged({
      sites: sites as unknown as SiteClient[],
      spec: specOf('name', 'asc'),
      limit,
      marker: sites[17]!.rows[150]!.uuid,
      publicPath: '/v1/nodes',
      strict: false,
      stats,
      resolveMarker: async (m) => ({ site: sites[17] as unknown as SiteClient, marker: m, value: sites[17]!.rows.find((r) => r.uuid === m)!.name }),
    });
    assert.equal(deep.rounds, 1);
    assert.equal(deep.items.length, limit);
  }
});

test('a first walk learns as it goes: once one site was read to its end, every page takes one round', async () => {
  const sites = Array.from({ length: 30 }, (_, ordinal) => {
    const rows = Array.from({ length: 250 }, (_, i) => ({ id: ++nextId, uuid: uuidOf(prng(ordinal * 7919 + i)), name: `rack${String(ordinal).padStart(2, '0')}-n${i}` }));
    return new PagedSite(`site${ordinal}`, ordinal, rows, 1000);
  });
  const stats = new KeyStats();
  const { listings } = await walk(sites, 'name', 'asc', 100, 'cursor', stats);
  const firstEnd = listings.findIndex((l) => l.items.some((i) => i.item.name === 'rack01-n0'));
  assert.ok(firstEnd > 0 && firstEnd <= 3, `site 0 is read to its end by page ${firstEnd}`);
  const slow = listings.slice(firstEnd + 1).filter((l) => l.items.length > 0 && l.rounds > 1);
  assert.equal(slow.length, 0, `${slow.length} later pages took more than one round`);
});

test('the same first page asked again: one round once the sites\' ranges are known, though no site was read to its end', async () => {
  const sites = Array.from({ length: 30 }, (_, ordinal) => {
    const rows = Array.from({ length: 300 }, (_, i) => ({ id: ++nextId, uuid: uuidOf(prng(ordinal * 4099 + i)), name: `ams-r${String(ordinal).padStart(2, '0')}-n${i}` }));
    return new PagedSite(`site${ordinal}`, ordinal, rows, 1000);
  });
  const stats = new KeyStats();
  const spec = specOf('name', 'asc');
  const ask = () =>
    listMerged({ sites: sites as unknown as SiteClient[], spec, limit: 100, publicPath: '/v1/nodes', strict: false, stats, resolveMarker: async () => { throw new Error('no marker'); } });
  await ask();
  await new Promise((r) => setImmediate(r)); // the probes for each range's end, sent after the page
  const page = await ask();
  assert.deepEqual(page.items.map((i) => i.item.name), expectedOrder(sites, 'name', 1).slice(0, 100).map((u) => sites.flatMap((s) => s.rows).find((r) => r.uuid === u)!.name));
  assert.equal(page.rounds, 1);
  assert.ok(page.fetched <= 100 + 29, `fetched ${page.fetched}`);
});

test('interleaved keys: the plan asks what the share formula asks (no worse than without figures)', () => {
  const stat = (first: string, last: string, size: number) => ({ first, hasFirst: true, last, hasLast: true, size, at: 0 });
  const streams = Array.from({ length: 100 }, (_, i) => ({ ordinal: i, atStart: true, stat: stat('00000000-aaaa', 'ffffffff-bbbb', 500) }));
  const chunks = planChunks({ streams, need: 100, maxChunk: 1000, dir: 1, share: (n, a) => chunkSize(n, a, 1000) });
  for (const c of chunks) assert.ok(c <= chunkSize(100, 100, 1000) && c >= 1, `chunk ${c}`);
  assert.ok(chunks.reduce((a, b) => a + b, 0) >= 100, 'together they cover the page');
});

test('a plan asks every live site for at least one item, whatever the figures', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const rand = prng(seed);
    const values = [null, 1, 5, 'a', 'b', 'zz', '2024-01-01T00:00:00Z'];
    const pick = () => values[Math.floor(rand() * values.length)];
    const streams = Array.from({ length: 1 + Math.floor(rand() * 10) }, (_, i) => ({
      ordinal: i,
      atStart: rand() < 0.5,
      offset: rand() < 0.5 ? Math.floor(rand() * 20) : undefined,
      stat: rand() < 0.8 ? { first: pick(), hasFirst: rand() < 0.8, last: pick(), hasLast: rand() < 0.8, size: rand() < 0.8 ? Math.floor(rand() * 30) : undefined, at: 0 } : undefined,
    }));
    const maxChunk = 1 + Math.floor(rand() * 50);
    const chunks = planChunks({ streams, need: 1 + Math.floor(rand() * 60), maxChunk, dir: rand() < 0.5 ? 1 : -1, boundary: rand() < 0.5 ? { value: pick(), ordinal: 0 } : undefined, share: (n, a) => chunkSize(n, a, maxChunk) });
    assert.equal(chunks.length, streams.length);
    for (const c of chunks) assert.ok(Number.isInteger(c) && c >= 1 && c <= maxChunk, `seed ${seed}: chunk ${c}`);
  }
});

test('the scalar image keeps the order of values (both directions)', () => {
  const values = [null, false, 0, 2.5, 'a', 'ab', 'abc', 'b', 's000-node-9', 's001-node-0', 'zz'];
  for (const dir of [1, -1] as const) {
    const f = scalarImage(values, dir);
    for (const a of values) for (const b of values) if (compareValues(a, b) * dir < 0) assert.ok(f(a) <= f(b), `${String(a)} before ${String(b)} (${dir})`);
  }
  const t = scalarImage(['2024-01-01T00:00:00+00:00', '2024-06-01T00:00:00Z'], 1);
  assert.ok(t('2024-01-01T00:00:00+00:00') < t('2024-03-01T00:00:00+00:00'));
});
