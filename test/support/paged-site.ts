/**
 * In-memory sites for the merged-listing tests (merge, page-plan): each
 * answers `GET /v1/nodes` with Ironic's paging — ORDER BY sort_key, id; the
 * marker is a position; `next` iff the page is full — and counts what it was
 * asked and served. Not the simulator: these tests want hundreds of random
 * sites with arbitrary columns and rows changed between pages, cheaply.
 */
import { compareValues } from '../../src/federation/compare.js';
import type { MarkerPoint } from '../../src/federation/marker-positions.js';
import { nodeNotFound } from '../../src/errors.js';
import type { SiteClient, SiteRequest, SiteResponse } from '../../src/sites/site-client.js';

export type Row = Record<string, unknown> & { uuid: string; id: number };

export class PagedSite {
  requests = 0;
  itemsServed = 0;
  constructor(
    readonly name: string,
    readonly ordinal: number,
    /** The site's nodes; tests replace or edit them between pages. */
    public rows: Row[],
    private readonly maxLimit = 1000,
  ) {}

  async request(req: SiteRequest): Promise<SiteResponse> {
    this.requests++;
    const url = new URL(req.path, 'http://site');
    const q = url.searchParams;
    if (url.pathname !== '/v1/nodes') return json(404, {});
    const key = q.get('sort_key') ?? 'id';
    const dir = q.get('sort_dir') === 'desc' ? -1 : 1;
    const limit = Math.min(Number(q.get('limit') ?? this.maxLimit), this.maxLimit);
    const ordered = [...this.rows].sort((a, b) => (compareValues(a[key], b[key]) || a.id - b.id) * dir);
    let start = 0;
    const marker = q.get('marker');
    if (marker) {
      const m = this.rows.find((r) => r.uuid === marker);
      if (!m) return json(404, { error_message: JSON.stringify({ faultstring: `Node ${marker} could not be found.` }) });
      start = ordered.indexOf(m) + 1;
    }
    const page = ordered.slice(start, start + limit);
    this.itemsServed += page.length;
    const body: Record<string, unknown> = { nodes: page.map((r) => ({ ...r })) };
    if (page.length === limit) body.next = `http://site/v1/nodes?limit=${limit}&marker=${page[page.length - 1]!.uuid}`;
    return json(200, body);
  }
}

function json(status: number, doc: unknown): SiteResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(doc)) };
}

/** What a merged listing must return: the union of the sites sorted by (value, site ordinal, site-local id). */
export function expectedOrder(sites: readonly PagedSite[], key: string, dir: 1 | -1): string[] {
  const all = sites.flatMap((s) => s.rows.map((r) => ({ r, ordinal: s.ordinal })));
  all.sort((a, b) => (compareValues(a.r[key], b.r[key]) || a.ordinal - b.ordinal || a.r.id - b.r.id) * dir);
  return all.map((x) => x.r.uuid);
}

/** listMerged's resolveMarker over these sites: the site holding the marker and its `key` value, or the node 404. */
export function markerResolver(sites: readonly PagedSite[], key: string): (marker: string) => Promise<MarkerPoint> {
  return async (marker) => {
    for (const s of sites) {
      const r = s.rows.find((x) => x.uuid === marker);
      if (r) return { site: s as unknown as SiteClient, marker, value: r[key] };
    }
    throw nodeNotFound(marker);
  };
}
