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
  failures: Array<{ site: SiteClient; error: Error }>;
}

export async function positionsAfterMarker(sites: readonly SiteClient[], point: MarkerPoint, spec: StreamSpec): Promise<MarkerPositions> {
  const dir = spec.sortDir === 'desc' ? -1 : 1;
  const outcomes = await fanOut(sites, async (site): Promise<Position> => {
    if (site === point.site) return { kind: 'after', marker: point.marker };
    const sortsBefore = (value: unknown): boolean => {
      const c = compareValues(value, point.value);
      return (c !== 0 ? c : site.ordinal - point.site.ordinal) * dir < 0;
    };
    let position: Position = START;
    // Bounded: pages, time, a `next` that leads back, the client leaving; each page is dropped once read.
    const scan = new PageScan(site.name, 'positioning a marker', spec.scan, spec.scope);
    const scope = withoutHolding(spec.scope);
    for (;;) {
      scan.next(position.kind === 'after' ? position.marker : undefined);
      const page = await fetchSitePage(site, spec, position, spec.maxChunk, scope);
      for (const item of page.items) {
        if (!sortsBefore(item[spec.sortKey])) return position;
        position = { kind: 'after', marker: String(item[spec.markerField]) };
      }
      if (!page.more) return DONE;
    }
  });
  const failures: MarkerPositions['failures'] = [];
  const positions = outcomes.map((o) => {
    if (o.ok) return o.value;
    failures.push({ site: o.site, error: o.error });
    // Its place in the order is unknown: left out of this listing (named missing), never listed from its start.
    return DONE;
  });
  return { positions, failures };
}
