/**
 * One merged page of any collection: where each site starts (cursor, plain
 * marker or the beginning), the merge, what to put in the next cursor, and
 * what to do about sites that did not answer. Resource modules decide the
 * spec (path, fields, order); this decides everything that is the same for
 * all of them.
 */
import { SiteErrorResponse, SiteFailedResponse, sitesUnavailable } from '../errors.js';
import type { SiteClient } from '../sites/site-client.js';
import { cursorBinding, decodeCursorState, encodeCursor, START, type CursorHints, type Position } from './cursor.js';
import type { KeyStats } from './key-stats.js';
import { positionsAfterMarker, resolveSeeks, type MarkerPoint } from './marker-positions.js';
import { MarkerGoneError, mergeSites, type Item, type MergeHints, type StreamSpec } from './merge.js';

export interface ListingRequest {
  sites: readonly SiteClient[];
  spec: StreamSpec;
  limit: number;
  marker?: string;
  cursor?: string;
  /** The public path of the listing (binds cursors to it). */
  publicPath: string;
  /** Finds the marker's site and sort value (throws the resource's 404 when there is none). */
  resolveMarker: (marker: string) => Promise<MarkerPoint>;
  /** Refuse (503) rather than answer without some sites. */
  strict: boolean;
  /** What the proxy learns of the sites' key ranges, to plan pages in one round trip (issue 12); none: plan without. */
  stats?: KeyStats;
}

export interface ListingPage {
  items: Array<{ site: SiteClient; item: Item }>;
  /** Cursor for the page after this one (only when the page is full). */
  nextCursor?: string;
  /** Sites that did not answer (or some of whose items could not be read): their items are missing from this page. */
  missingSites: string[];
  /** Items passed over because the proxy cannot read them faithfully (issue 16.2), by site and marker. */
  unreadable: Array<{ site: string; id: string }>;
  fetched: number;
  requests: number;
  /** Rounds of site requests of the merge (not counting marker positioning). */
  rounds: number;
}

export async function listMerged(req: ListingRequest): Promise<ListingPage> {
  const { sites, spec } = req;
  const names = sites.map((s) => s.name);
  const signature = listingSignature(spec);
  const binding = (marker: string): Buffer => cursorBinding({ path: req.publicPath, signature, sites: names, marker });
  const failures: Array<{ site: SiteClient; error: Error }> = [];

  const stats = req.stats;
  let hints: MergeHints = {};
  if (stats) {
    const figures = stats.get(signature);
    hints.stats = {
      figures,
      typicalSize: figures && stats.typicalSize(figures),
      observe: (site, o) => stats.observe(signature, site, o),
      claimProbe: (site) => stats.claimProbe(signature, site),
      observeLast: (site, last) => stats.observeLast(signature, site, last),
    };
  }

  const fromMarker = async (marker: string): Promise<Position[]> => {
    const point = await req.resolveMarker(marker);
    const r = await positionsAfterMarker(sites, point, spec);
    failures.push(...r.failures);
    hints = { ...hints, offsets: r.offsets, boundary: { value: point.value, ordinal: point.site.ordinal } };
    return r.positions;
  };

  let positions: Position[] | undefined;
  if (req.marker !== undefined && req.cursor !== undefined) {
    const state = decodeCursorState(req.cursor, binding(req.marker), sites.length);
    positions = state?.positions;
    if (state?.hints) hints = { ...hints, offsets: state.hints.offsets, boundary: state.hints.boundary };
  }
  // Sites whose place an earlier page could not find (they failed then): looked for again, from the same point.
  if (positions?.some((p) => p.kind === 'seek')) {
    const before = positions;
    positions = await resolveSeeks(sites, positions, spec, failures);
    // How far in a re-found site stands is not known.
    hints = { ...hints, offsets: hints.offsets?.map((o, i) => (before[i]!.kind === 'seek' ? undefined : o)) };
  }
  positions ??= req.marker !== undefined ? await fromMarker(req.marker) : sites.map(() => START);

  let merged;
  try {
    merged = await mergeSites(sites, positions, spec, req.limit, hints);
  } catch (err) {
    // A site lost the item the cursor pointed at (deleted since): recompute from the plain marker.
    if (!(err instanceof MarkerGoneError) || req.marker === undefined) throw err;
    const again = await fromMarker(req.marker);
    try {
      merged = await mergeSites(sites, again, spec, req.limit, hints);
    } catch (retryErr) {
      // The marker was just found again, yet the site still says "not found": its 404 is about something else
      // (the parent of a scoped listing, e.g. a chassis it does not have) — the site's own answer, relayed as Ironic's.
      if (retryErr instanceof MarkerGoneError) throw new SiteErrorResponse(retryErr.site, retryErr.response);
      throw retryErr;
    }
  }
  failures.push(...merged.failures);

  // A site with items the proxy cannot read is missing part of its items from this page: named like a missing site.
  const missing = [...new Set([...failures.map((f) => f.site.name), ...merged.unreadable.map((u) => u.site.name)])];
  if (failures.length > 0 && new Set(failures.map((f) => f.site)).size === sites.length) {
    const first = failures[0]!.error;
    // Every site answered the same request with an error of its own: that answer is Ironic's, relay it.
    throw first instanceof SiteFailedResponse ? new SiteErrorResponse(first.site, first.response) : first;
  }
  if (missing.length > 0 && req.strict) throw sitesUnavailable('Listing incomplete', missing);

  let nextCursor: string | undefined;
  if (merged.items.length === req.limit && merged.items.length > 0) {
    const lastItem = merged.items[merged.items.length - 1]!;
    const last = String(lastItem.item[spec.markerField]);
    // Planning hints for the next page: where each site's stream stands in count, and where this page ended.
    const next: CursorHints | undefined = stats
      ? { offsets: merged.offsets, boundary: { value: lastItem.item[spec.sortKey], ordinal: lastItem.site.ordinal } }
      : undefined;
    nextCursor = encodeCursor(binding(last), merged.positions, next);
  }
  return {
    items: merged.items,
    nextCursor,
    missingSites: missing,
    unreadable: merged.unreadable.map((u) => ({ site: u.site.name, id: u.id })),
    fetched: merged.fetched,
    requests: merged.requests,
    rounds: merged.rounds,
  };
}

/** What a cursor's positions depend on: the sites' path, filters and order (not the page size). */
function listingSignature(spec: StreamSpec): string {
  const params = spec.params.map(([k, v]) => `${k}=${v}`).sort();
  return `${spec.path}|${spec.sortKey}|${spec.sortDir}|${params.join('&')}`;
}
