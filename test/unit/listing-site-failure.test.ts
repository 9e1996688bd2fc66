/**
 * Issue 15.3: a site that fails during any phase of a listing — while its
 * place after a bare marker is found, in the first round, on a refill — is
 * left out of that page entirely and named missing, its position kept, so
 * that the next page resumes it exactly: no page holds an item before its
 * marker or an item twice, and paging to the end sees every item once.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { listMerged, type ListingPage } from '../../src/federation/listing.js';
import { decodeCursor, encodeCursor, cursorBinding, type Position } from '../../src/federation/cursor.js';
import type { StreamSpec } from '../../src/federation/merge.js';
import type { SiteClient, SiteRequest, SiteResponse } from '../../src/sites/site-client.js';
import { nodeNotFound, SiteUnavailableError } from '../../src/errors.js';

type Row = { id: number; uuid: string; name: string };

const json = (status: number, doc: unknown): SiteResponse => ({ status, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(doc)) });

/** A site with Ironic's paging (ORDER BY key, id; marker; next iff full) that fails the requests whose numbers are in `failing`. */
class FakeSite {
  requests = 0;
  failing = new Set<number>();
  constructor(
    readonly name: string,
    readonly ordinal: number,
    readonly rows: Row[],
  ) {}

  async request(req: SiteRequest): Promise<SiteResponse> {
    const n = ++this.requests;
    if (this.failing.has(n)) throw new SiteUnavailableError(this.name, `request ${n} fails`);
    const q = new URL(req.path, 'http://site').searchParams;
    const key = (q.get('sort_key') ?? 'id') as keyof Row;
    const limit = Number(q.get('limit') ?? 1000);
    const ordered = [...this.rows].sort((a, b) => (a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : a.id - b.id));
    const marker = q.get('marker');
    const start = marker ? ordered.findIndex((r) => r.uuid === marker) + 1 : 0;
    const page = ordered.slice(start, start + limit);
    const body: Record<string, unknown> = { nodes: page.map((r) => ({ ...r })) };
    if (page.length === limit) body.next = `http://site/v1/nodes?limit=${limit}&marker=${page[page.length - 1]!.uuid}`;
    return json(200, body);
  }
}

/** Three sites whose uuids interleave (hex digits of the site in every position), names in runs per site. */
function world(size = 12): FakeSite[] {
  let id = 0;
  return [0, 1, 2].map((s) => {
    const rows = Array.from({ length: size }, (_, i) => {
      const hex = (i * 3 + s).toString(16).padStart(2, '0');
      return { id: ++id, uuid: `${hex}000000-0000-4000-8000-${String(s).padStart(12, '0')}`, name: `s${s}-${String(i).padStart(2, '0')}` };
    });
    return new FakeSite(`site${s}`, s, rows);
  });
}

function spec(sortKey: 'uuid' | 'name'): StreamSpec {
  return { path: '/v1/nodes', collectionKey: 'nodes', params: [], sortKey, sortDir: 'asc', markerField: 'uuid', version: { major: 1, minor: 82 }, requestId: 'req-test', maxChunk: 1000 };
}

function page(sites: FakeSite[], sortKey: 'uuid' | 'name', limit: number, marker?: string, cursor?: string): Promise<ListingPage> {
  const resolveMarker = async (m: string) => {
    for (const s of sites) {
      const row = s.rows.find((r) => r.uuid === m);
      if (row) return { site: s as unknown as SiteClient, marker: m, value: row[sortKey] };
    }
    throw nodeNotFound(m);
  };
  return listMerged({ sites: sites as unknown as SiteClient[], spec: spec(sortKey), limit, marker, cursor, publicPath: '/v1/nodes', resolveMarker, strict: false });
}

const siteOf = (sites: FakeSite[], uuid: string): string => sites.find((s) => s.rows.some((r) => r.uuid === uuid))!.name;
const uuids = (p: ListingPage): string[] => p.items.map((i) => String(i.item.uuid));

/** Follows next to the end; returns every page. */
async function walk(sites: FakeSite[], sortKey: 'uuid' | 'name', limit: number, first: ListingPage): Promise<ListingPage[]> {
  const pages = [first];
  for (let p = first; p.nextCursor; ) {
    const last = uuids(p).at(-1)!;
    p = await page(sites, sortKey, limit, last, p.nextCursor);
    pages.push(p);
    assert.ok(pages.length < 50, 'paging ends');
  }
  return pages;
}

describe('a site failing during a listing', () => {
  test('while its place after a bare marker is found: left out, named, and resumed exactly on the next page', async () => {
    const sites = world();
    const all = sites.flatMap((s) => s.rows).sort((a, b) => (a.uuid < b.uuid ? -1 : 1));
    const marker = all[15]!.uuid; // at site0, in the middle of every site's stream
    assert.equal(siteOf(sites, marker), 'site0');
    sites[1]!.failing.add(1); // its first request is the positioning scan
    const first = await page(sites, 'uuid', 5, marker);
    assert.deepEqual(first.missingSites, ['site1']);
    for (const u of uuids(first)) {
      assert.ok(u > marker, `${u} (${siteOf(sites, u)}) is before the marker: the site was listed from its start`);
      assert.notEqual(siteOf(sites, u), 'site1', 'a site left out of the page has no item in it');
    }
    // The next page finds site1's place after the same marker: its items after the marker come, each once.
    const pages = await walk(sites, 'uuid', 5, first);
    const seen = pages.flatMap(uuids);
    assert.equal(new Set(seen).size, seen.length, 'no item twice');
    assert.deepEqual([...seen].sort(), all.filter((r) => r.uuid > marker).map((r) => r.uuid), 'every item after the marker, site1 included');
    assert.deepEqual(pages.slice(1).flatMap((p) => p.missingSites), []);
  });

  test('a site failing again while looked for stays out, its place still to be found', async () => {
    const sites = world();
    const all = sites.flatMap((s) => s.rows).sort((a, b) => (a.uuid < b.uuid ? -1 : 1));
    const marker = all[10]!.uuid;
    sites[2]!.failing.add(1).add(2);
    const first = await page(sites, 'uuid', 4, marker);
    assert.deepEqual(first.missingSites, ['site2']);
    const second = await page(sites, 'uuid', 4, uuids(first).at(-1), first.nextCursor);
    assert.deepEqual(second.missingSites, ['site2'], 'the second attempt failed too');
    const pages = await walk(sites, 'uuid', 4, second);
    const seen = [...uuids(first), ...pages.flatMap(uuids)];
    assert.equal(new Set(seen).size, seen.length);
    assert.deepEqual([...seen].sort(), all.filter((r) => r.uuid > marker).map((r) => r.uuid));
  });

  test('on a refill: its items already merged are taken out of the page, and the next page resumes it where this one began', async () => {
    const sites = world(40);
    // Sorted by name every site is one run (s0-…, s1-…, s2-…): site0 outruns its first chunk (18 of 20) and is refilled.
    sites[0]!.failing.add(2);
    const first = await page(sites, 'name', 20);
    assert.equal(sites[0]!.requests, 2, 'site0 was asked for a refill');
    assert.deepEqual(first.missingSites, ['site0']);
    assert.deepEqual(uuids(first).map((u) => siteOf(sites, u)), Array(20).fill('site1'), 'nothing of site0 in a page it is missing from');
    const pages = await walk(sites, 'name', 20, first);
    const names = pages.flatMap((p) => p.items.map((i) => String(i.item.name)));
    assert.equal(new Set(names).size, names.length, 'no item twice');
    assert.deepEqual([...names].sort(), sites.flatMap((s) => s.rows.map((r) => r.name)).sort(), 'every item once, site0 included');
  });

  test('in the first round: left out with its position unchanged', async () => {
    const sites = world();
    sites[2]!.failing.add(1);
    const first = await page(sites, 'uuid', 6);
    assert.deepEqual(first.missingSites, ['site2']);
    const pages = await walk(sites, 'uuid', 6, first);
    const seen = pages.flatMap(uuids);
    assert.equal(new Set(seen).size, seen.length);
    assert.equal(seen.length, 36);
  });

  test('a position still to be found travels in the signed cursor', () => {
    const binding = cursorBinding({ path: '/v1/nodes', signature: 's', sites: ['a', 'b', 'c'], marker: 'm' });
    const positions: Position[] = [{ kind: 'after', marker: '0b000000-0000-4000-8000-000000000000' }, { kind: 'seek', value: 'node-7', ordinal: 0 }, { kind: 'seek', value: null, ordinal: 2 }];
    assert.deepEqual(decodeCursor(encodeCursor(binding, positions), binding, 3), positions);
  });
});
