/**
 * The merged listing engine: a lazy k-way merge of the sites' sorted streams.
 *
 * Each site returns its items already ordered by (sort key, its own id); the
 * merged order is (sort key, site ordinal, the site's own order), which is the
 * order one Ironic would give if every item's id were (site ordinal, local id).
 * Only the heads of different sites are ever compared, so an item can never
 * be duplicated or skipped, even where the proxy's comparator and a site's
 * collation disagree.
 *
 * Lazy: each site is asked for a chunk sized to its expected share of the page
 * (page size / active sites, with headroom), and asked again only when the
 * merge has used its chunk up and the site said it has more.
 */
import { SiteErrorResponse, SiteFailedResponse, SiteProtocolError } from '../errors.js';
import { errorMessageOf } from '../ironic/error-body.js';
import type { Version } from '../ironic/microversion.js';
import { ClientGoneError, type SiteCallScope, type SiteClient, type SiteResponse } from '../sites/site-client.js';
import { ProxyBusyError } from '../memory-budget.js';
import { parseJsonBody } from '../sites/site-client.js';
import { holdsUnrepresentable, readJson, readJsonLoose, UNREPRESENTABLE } from '../ironic/json.js';
import type { ScanLimits } from './scan.js';
import { compareValues } from './compare.js';
import { DONE, type Position } from './cursor.js';
import type { SiteKeyStat, StreamObservation } from './key-stats.js';
import { planChunks } from './page-plan.js';

export type Item = Record<string, unknown>;

export interface StreamSpec {
  /** Path of the collection at the sites, e.g. `/v1/nodes/detail`. */
  path: string;
  /** Key of the item array in the site's answer, e.g. `nodes`. */
  collectionKey: string;
  /** Parameters every site gets (filters, fields, detail) — never sort, limit or marker. */
  params: ReadonlyArray<readonly [string, string]>;
  sortKey: string;
  sortDir: 'asc' | 'desc';
  /** The field a site accepts as `marker` (uuid; hostname for conductors). */
  markerField: string;
  version: Version;
  requestId: string;
  /** The most a single site request asks for (the proxy's max_limit). */
  maxChunk: number;
  /** The client request (cancellation, memory budget). */
  scope?: SiteCallScope;
  /** Bounds of loops over a site's pages (bare-marker positioning). */
  scan?: ScanLimits;
  /**
   * Items a site may list that the caller may not see (a project's view of
   * ports: those of its nodes), when the site cannot be asked to filter them:
   * passed over in the order — positions move past them — never returned.
   */
  accept?: (site: SiteClient, item: Item) => boolean;
}

/**
 * What the first round may be planned with (issue 12). Hints only: the merge
 * is exact whatever they say.
 */
export interface MergeHints {
  /** Items of each site's stream before its position, when known (aligned with the sites). */
  offsets?: ReadonlyArray<number | undefined>;
  /** Where the previous page ended: its last item's sort value and site ordinal. */
  boundary?: { value: unknown; ordinal: number };
  /** The listing's learned figures by site name, and where to report what the answers show. */
  stats?: {
    figures?: ReadonlyMap<string, SiteKeyStat>;
    /** What a site whose size is not known yet is guessed to hold. */
    typicalSize?: number;
    observe(site: string, o: StreamObservation): void;
    /** Whether to probe the site for its last value now (once in a while per site and listing). */
    claimProbe?(site: string): boolean;
    observeLast?(site: string, last: { value: unknown } | undefined): void;
  };
}

export interface MergeResult {
  items: Array<{ site: SiteClient; item: Item }>;
  /** Where each site stands after this page, aligned with the input sites. */
  positions: Position[];
  /** Items of each site's stream before its position, when known. */
  offsets: Array<number | undefined>;
  failures: Array<{ site: SiteClient; error: Error }>;
  /** Items passed over because the proxy cannot read them faithfully (their site is missing from the page). */
  unreadable: Array<{ site: SiteClient; id: string }>;
  /** Items received from sites (the cost side of "fetched per returned"). */
  fetched: number;
  requests: number;
  /** Rounds of site requests the page took (a round costs the slowest site's latency). */
  rounds: number;
}

/** A site no longer has the item the proxy used as its local marker. */
export class MarkerGoneError extends Error {
  constructor(
    readonly site: string,
    /** The site's 404: relayed when the marker, placed again, is still "not found" (the 404 was about something else). */
    readonly response: SiteResponse,
  ) {
    super(`marker vanished at site ${site}`);
  }
}

export interface Page {
  items: Item[];
  more: boolean;
  /** Items the site sent, when more than `items` (a refill asked from the page's start). */
  received?: number;
}

/** One page of one site's stream, after `position`. */
export async function fetchSitePage(site: SiteClient, spec: StreamSpec, position: Position, limit: number, scope = spec.scope): Promise<Page> {
  const qs = new URLSearchParams(spec.params as Array<[string, string]>);
  qs.set('sort_key', spec.sortKey);
  qs.set('sort_dir', spec.sortDir);
  qs.set('limit', String(limit));
  if (position.kind === 'after') qs.set('marker', position.marker);
  const res = await site.request({
    method: 'GET',
    path: `${spec.path}?${qs.toString()}`,
    version: spec.version,
    requestId: spec.requestId,
    scope,
  });
  if (res.status === 404 && position.kind === 'after' && /could not be found/.test(errorMessageOf(parseJsonBody(site.name, res)) ?? '')) {
    throw new MarkerGoneError(site.name, res);
  }
  if (res.status >= 400 && res.status < 500) throw new SiteErrorResponse(site.name, res);
  // A site's own failure: the listing goes on without it; if every site fails, its answer is relayed.
  if (res.status !== 200) throw new SiteFailedResponse(site.name, res);
  const body = readListing(site.name, res.body, spec.collectionKey);
  const items = body[spec.collectionKey];
  if (!Array.isArray(items)) throw new SiteProtocolError(site.name, `no "${spec.collectionKey}" list in listing`);
  for (const item of items) {
    // Every item must be one the merge can place: an object with its marker and a readable sort value.
    if (!item || typeof item !== 'object' || Array.isArray(item)) throw new SiteProtocolError(site.name, `an item of "${spec.collectionKey}" is not an object`);
    const marker = (item as Item)[spec.markerField];
    if (typeof marker !== 'string' || !marker) throw new SiteProtocolError(site.name, `an item of "${spec.collectionKey}" has no ${spec.markerField}`);
    if ((item as Item)[spec.sortKey] === UNREPRESENTABLE) throw new SiteProtocolError(site.name, `item ${marker} has a ${spec.sortKey} the proxy cannot read`);
  }
  // A `next` link is Ironic's only signal that more may follow (it is present iff the page is full).
  return { items: items as Item[], more: typeof body.next === 'string' && items.length > 0 };
}

/**
 * Items of a listing page that hold a value the proxy cannot carry (NaN, a
 * number beyond a double, issue 16.2): placed in the order, never returned;
 * their site is named missing from the page instead of being lost for it.
 */
const UNREADABLE = new WeakSet<object>();

/** A listing page as Ironic's JSON: a document the proxy can read, or one whose unreadable items are marked. */
function readListing(site: string, bytes: Buffer, collectionKey: string): Record<string, unknown> {
  const read = readJson(bytes);
  let doc: unknown;
  if (read.ok) doc = read.value;
  else if (read.kind === 'unrepresentable') {
    doc = readJsonLoose(bytes);
    const items = doc && typeof doc === 'object' ? (doc as Record<string, unknown>)[collectionKey] : undefined;
    for (const item of Array.isArray(items) ? items : []) if (item && typeof item === 'object' && holdsUnrepresentable(item)) UNREADABLE.add(item);
  } else throw new SiteProtocolError(site, `body is not JSON (${read.reason})`);
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new SiteProtocolError(site, 'the listing is not a JSON object');
  return doc as Record<string, unknown>;
}

/**
 * How much to ask a site for in the first round: its expected share of the
 * page (page size / active sites), plus four standard deviations of
 * headroom, so that one round fills the page with near certainty (a second
 * round costs a whole round trip) without pulling sites × page size.
 */
export function chunkSize(need: number, activeSites: number, maxChunk: number): number {
  if (activeSites <= 1) return Math.min(need, maxChunk);
  const share = need / activeSites;
  return Math.max(1, Math.min(need, maxChunk, Math.ceil(share + 4 * Math.sqrt(share)) + 1));
}

/**
 * How much to ask a site for when its chunk ran out: everything the page
 * still needs. A site that outran its share holds a run of the order (names
 * that start with the site's name, say); asking it for less would cost a
 * round trip per few items.
 */
export function refillSize(need: number, maxChunk: number): number {
  return Math.min(need, maxChunk);
}

class Stream {
  buffer: Item[] = [];
  head = 0;
  /** Whether this page already asked the site once (later asks are refills). */
  asked = false;
  /** Items of this stream the page has passed (returned or passed over) since it began. */
  taken = 0;
  more: boolean;
  failed = false;
  readonly startOffset: number | undefined;
  /** The sort value of the last item the stream passed, when known (what a site's last value is when its next answer is empty). */
  passed?: { value: unknown };
  /** Where the stream stood when this page began (restored if the site fails during the page). */
  readonly start: Position;
  constructor(
    readonly site: SiteClient,
    public position: Position,
    /** Items of the stream before `position`, when known. */
    public offset: number | undefined,
  ) {
    this.start = position;
    this.startOffset = offset;
    this.more = position.kind !== 'done' && position.kind !== 'seek';
    // A site whose place is still to be found (it failed while it was looked for) is not in this page.
    this.failed = position.kind === 'seek';
  }
  get buffered(): number {
    return this.buffer.length - this.head;
  }
  peek(): Item {
    return this.buffer[this.head]!;
  }
}

export async function mergeSites(
  sites: readonly SiteClient[],
  positions: readonly Position[],
  spec: StreamSpec,
  limit: number,
  hints: MergeHints = {},
): Promise<MergeResult> {
  const streams = sites.map((site, i) => new Stream(site, positions[i]!, positions[i]!.kind === 'start' ? 0 : hints.offsets?.[i]));
  // The previous page ended on an item of this site: that is where its stream stands.
  const ended = hints.boundary && streams.find((s) => s.site.ordinal === hints.boundary!.ordinal && s.position.kind === 'after');
  if (ended) ended.passed = { value: hints.boundary!.value };
  const stats = hints.stats;
  const dir = spec.sortDir === 'desc' ? -1 : 1;
  const before = (a: Stream, b: Stream): boolean => {
    const c = compareValues(a.peek()[spec.sortKey], b.peek()[spec.sortKey]);
    return (c !== 0 ? c : a.site.ordinal - b.site.ordinal) * dir < 0;
  };
  const heap = new StreamHeap(before);
  const out: MergeResult['items'] = [];
  const unreadable: MergeResult['unreadable'] = [];
  const failures: MergeResult['failures'] = [];
  let fetched = 0;
  let requests = 0;
  let rounds = 0;

  while (out.length < limit) {
    const starving = streams.filter((s) => !s.failed && s.more && s.buffered === 0);
    if (starving.length > 0) {
      const active = streams.filter((s) => !s.failed && (s.more || s.buffered > 0)).length;
      const need = limit - out.length;
      // The first round is planned from what the proxy learned of the sites' ranges, when it has learned anything.
      const planned = stats && starving.every((s) => !s.asked) ? firstRound(starving, need, spec, hints) : undefined;
      rounds++;
      await Promise.all(
        starving.map(async (s, k) => {
          requests++;
          try {
            const chunk = planned ? planned[k]! : s.asked ? refillSize(need, spec.maxChunk) : chunkSize(need, active, spec.maxChunk);
            s.asked = true;
            // A starving stream has emitted all it fetched, so its position is where it stopped.
            const from = s.position;
            const page = s.taken > 0 && refillFromPageStart(spec, s, chunk)
              ? await refetchPastTaken(s, spec, chunk)
              : await fetchSitePage(s.site, spec, from, chunk);
            fetched += page.received ?? page.items.length;
            const n = page.items.length;
            stats?.observe(s.site.name, {
              fromStart: from.kind === 'start',
              offset: s.offset,
              firstValue: n > 0 ? page.items[0]![spec.sortKey] : undefined,
              lastValue: n > 0 ? page.items[n - 1]![spec.sortKey] : s.passed?.value,
              count: n,
              more: page.more,
            });
            s.buffer = page.items;
            s.head = 0;
            s.more = page.more;
            if (s.buffered > 0) heap.push(s);
          } catch (err) {
            // The proxy's own limits (memory budget, a client gone) are not the site's failure: the listing stops.
            if (err instanceof SiteErrorResponse || err instanceof MarkerGoneError || err instanceof ProxyBusyError || err instanceof ClientGoneError) throw err;
            s.failed = true;
            failures.push({ site: s.site, error: err as Error });
            // A site that fails during the page (a refill) is left out of it entirely, its position as the page found
            // it: the next page resumes it exactly, and no item of it is in two pages (issue 15).
            leaveOut(out, s.site);
            leaveOut(unreadable, s.site);
            s.position = s.start;
            s.offset = s.startOffset;
          }
        }),
      );
      continue;
    }
    const s = heap.pop();
    if (!s) break;
    const item = s.peek();
    s.head++;
    s.taken++;
    if (UNREADABLE.has(item)) unreadable.push({ site: s.site, id: String(item[spec.markerField]) });
    else if (!spec.accept || spec.accept(s.site, item)) out.push({ site: s.site, item });
    s.position = { kind: 'after', marker: String(item[spec.markerField]) };
    if (s.offset !== undefined) s.offset++;
    s.passed = { value: item[spec.sortKey] };
    if (s.buffered > 0) heap.push(s);
  }

  for (const s of streams) {
    if (!s.failed && !s.more && s.buffered === 0) s.position = DONE;
  }
  if (stats?.claimProbe) probeLastValues(streams, spec, stats);
  return { items: out, positions: streams.map((s) => s.position), offsets: streams.map((s) => s.offset), failures, unreadable, fetched, requests, rounds };
}

/** Sort keys no Ironic row holds NULL in: a site's own marker paging over them loses and repeats nothing. */
const NEVER_NULL_KEYS = new Set(['id', 'uuid', 'created_at']);

/**
 * Whether a refill must be asked from where the page began rather than after
 * the stream's last item. oslo.db's marker paging over a key that may be NULL
 * is lossy at the site itself (descending drops the NULL rows after a marker,
 * a NULL marker repeats rows), so a page the proxy filled in two asks could
 * miss rows one ask of the same size would have returned — and the planned
 * first round (page-plan.ts) deliberately asks some sites for one item. Asked
 * again from the page's start for all it needs, the site answers as if the
 * page had been one request.
 */
function refillFromPageStart(spec: StreamSpec, s: Stream, chunk: number): boolean {
  if (NEVER_NULL_KEYS.has(spec.sortKey)) return false;
  if (s.taken + chunk > spec.maxChunk) return false;
  return spec.sortDir === 'desc' || s.passed?.value === null || s.passed?.value === undefined;
}

/** The refill asked from the page's start, past the items already taken (found by their marker, not their count). */
async function refetchPastTaken(s: Stream, spec: StreamSpec, chunk: number): Promise<Page> {
  const whole = await fetchSitePage(s.site, spec, s.start, s.taken + chunk);
  const last = s.position.kind === 'after' ? s.position.marker : undefined;
  const at = last === undefined ? -1 : whole.items[s.taken - 1]?.[spec.markerField] === last ? s.taken - 1 : whole.items.findIndex((i) => i[spec.markerField] === last);
  // The site changed under the page (the last item taken is gone), or it pages smaller than asked (its own
  // max_limit) and sent nothing past what was taken: continue after the last item as a client would.
  if (at < 0 || at + 1 >= whole.items.length) {
    const after = await fetchSitePage(s.site, spec, s.position, chunk);
    return { ...after, received: whole.items.length + after.items.length };
  }
  return { items: whole.items.slice(at + 1), more: whole.more, received: whole.items.length };
}

/**
 * Where a site's range ends is learned by reading it to its end, or sooner by
 * one cheap probe: its first item in the reverse order (limit 1). Sent after
 * the page, not awaited, not part of it (a failure only leaves the figure
 * unknown); once per site and listing in a while (KeyStats.claimProbe).
 */
function probeLastValues(streams: readonly Stream[], spec: StreamSpec, stats: NonNullable<MergeHints['stats']>): void {
  const reversed: StreamSpec = { ...spec, sortDir: spec.sortDir === 'desc' ? 'asc' : 'desc', scope: undefined };
  for (const s of streams) {
    if (s.failed || !s.asked || s.position.kind === 'done' || stats.figures?.get(s.site.name)?.hasLast) continue;
    if (!stats.claimProbe!(s.site.name)) continue;
    fetchSitePage(s.site, reversed, { kind: 'start' }, 1).then(
      (page) => stats.observeLast?.(s.site.name, page.items.length > 0 ? { value: page.items[0]![spec.sortKey] } : undefined),
      () => undefined,
    );
  }
}

/** The first round's chunk per stream, from the learned figures (page-plan.ts). */
function firstRound(streams: readonly Stream[], need: number, spec: StreamSpec, hints: MergeHints): number[] {
  return planChunks({
    streams: streams.map((s) => ({
      ordinal: s.site.ordinal,
      atStart: s.position.kind === 'start',
      offset: s.offset,
      stat: hints.stats?.figures?.get(s.site.name),
    })),
    need,
    maxChunk: spec.maxChunk,
    dir: spec.sortDir === 'desc' ? -1 : 1,
    boundary: hints.boundary,
    typicalSize: hints.stats?.typicalSize,
    share: (n, active) => chunkSize(n, active, spec.maxChunk),
  });
}

/** Removes a site's entries from a page under construction. */
function leaveOut(list: Array<{ site: SiteClient }>, site: SiteClient): void {
  let kept = 0;
  for (const entry of list) if (entry.site !== site) list[kept++] = entry;
  list.length = kept;
}

/** A binary min-heap of streams by their head item. */
class StreamHeap {
  private readonly a: Stream[] = [];
  constructor(private readonly before: (x: Stream, y: Stream) => boolean) {}
  push(s: Stream): void {
    const a = this.a;
    a.push(s);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): Stream | undefined {
    const a = this.a;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.before(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}
