/**
 * Where every site's stream stands after a plain `marker=<uuid>` — the path
 * for clients that build their own marker instead of following `next` (whose
 * cursor makes this unnecessary).
 *
 * The marker's own site continues from the marker. Every other site must
 * continue after its last item that sorts before the marker in the merged
 * order (value, site ordinal). Ironic has no range filters, so that item is
 * found by scanning the site's sorted stream (uuid and sort key only, in the
 * largest pages allowed) until it passes the marker's value. Exact for the
 * default order; for other keys it relies on the comparator agreeing with the
 * site's collation (see compare.ts).
 */
import type { SiteClient } from '../sites/site-client.js';
import { compareValues } from './compare.js';
import { DONE, START, type Position } from './cursor.js';
import { fanOut } from './fanout.js';
import { fetchSitePage, type StreamSpec } from './merge.js';
import { PageScan, withoutHolding } from './scan.js';

export interface MarkerPoint {
  site: SiteClient;
  marker: string;
  /** The marker item's sort-key value. */
  value: unknown;
}

export interface MarkerPositions {
  positions: Position[];
  /** Items of each site's stream before its position, where the scan counted them (planning hints). */
  offsets: Array<number | undefined>;
  failures: Array<{ site: SiteClient; error: Error }>;
}

export async function positionsAfterMarker(sites: readonly SiteClient[], point: MarkerPoint, spec: StreamSpec): Promise<MarkerPositions> {
  const outcomes = await fanOut(sites, async (site): Promise<Counted> => {
    if (site === point.site) return { position: { kind: 'after', marker: point.marker }, offset: undefined };
    return countedPositionAfterPoint(site, point.value, point.site.ordinal, spec);
  });
  const failures: MarkerPositions['failures'] = [];
  const offsets = outcomes.map((o) => (o.ok ? o.value.offset : undefined));
  const positions = outcomes.map((o): Position => {
    if (o.ok) return o.value.position;
    failures.push({ site: o.site, error: o.error });
    // Its place in the order is not known yet: left out of this page (named missing), never listed from its start;
    // the next page looks for it again, so the site resumes exactly after the marker (issue 15).
    return { kind: 'seek', value: point.value, ordinal: point.site.ordinal };
  });
  return { positions, offsets, failures };
}

interface Counted {
  position: Position;
  /** Items of the stream before the position (undefined: not counted). */
  offset: number | undefined;
}

/**
 * Where `site`'s stream stands after the point (value, ordinal) of the
 * merged order: after its last item that sorts before it. Throws the site's
 * failure.
 */
export async function positionAfterPoint(site: SiteClient, value: unknown, ordinal: number, spec: StreamSpec): Promise<Position> {
  return (await countedPositionAfterPoint(site, value, ordinal, spec)).position;
}

async function countedPositionAfterPoint(site: SiteClient, value: unknown, ordinal: number, spec: StreamSpec): Promise<Counted> {
  const dir = spec.sortDir === 'desc' ? -1 : 1;
  const sortsBefore = (v: unknown): boolean => {
    const c = compareValues(v, value);
    return (c !== 0 ? c : site.ordinal - ordinal) * dir < 0;
  };
  let position: Position = START;
  let offset = 0;
  // Bounded: pages, time, a `next` that leads back, the client leaving; each page is dropped once read.
  const scan = new PageScan(site.name, 'positioning a marker', spec.scan, spec.scope);
  const scope = withoutHolding(spec.scope);
  for (;;) {
    scan.next(position.kind === 'after' ? position.marker : undefined);
    const page = await fetchSitePage(site, spec, position, spec.maxChunk, scope);
    for (const item of page.items) {
      if (!sortsBefore(item[spec.sortKey])) return { position, offset };
      position = { kind: 'after', marker: String(item[spec.markerField]) };
      offset++;
    }
    if (!page.more) return { position: DONE, offset };
  }
}

/**
 * Finds the places still to be found (`seek`) of a listing's sites: each
 * becomes a position, or stays `seek` for a site that fails again (it is
 * then missing from this page too, and its failure is added to `failures`).
 */
export async function resolveSeeks(sites: readonly SiteClient[], positions: readonly Position[], spec: StreamSpec, failures: MarkerPositions['failures']): Promise<Position[]> {
  return Promise.all(
    positions.map(async (p, i): Promise<Position> => {
      if (p.kind !== 'seek') return p;
      const site = sites[i]!;
      try {
        return await positionAfterPoint(site, p.value, p.ordinal, spec);
      } catch (error) {
        failures.push({ site, error: error as Error });
        return p;
      }
    }),
  );
}
