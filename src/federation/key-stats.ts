/**
 * What the proxy has learned about where each site's items lie in a sorted
 * listing (issue 12): per listing (path, sort key, direction, filters) and
 * site, the first and last sort value of the site's stream and how many items
 * it holds. Learned only from answers the merge already receives — a stream
 * read from its start gives its first value, one read to its end gives its
 * last value and (when the reader knows how many items came before) its size.
 *
 * Hints only. Sites create and delete nodes at any time, so a figure may be
 * stale: the merge plans its first round with them and verifies every
 * decision against the answers (see page-plan.ts); a wrong figure costs one
 * more round trip, never a wrong page. Every answer refreshes them; figures
 * not refreshed for `ttlMs` are forgotten; at most `maxListings` listings
 * are kept (least recently used dropped), each with one entry per site.
 */
import { LRUCache } from 'lru-cache';
import { compareValues } from './compare.js';

export interface SiteKeyStat {
  /** The sort value of the site's first item in the listing's order (when `hasFirst`). */
  first?: unknown;
  hasFirst: boolean;
  /** The sort value of the site's last item (when `hasLast`). */
  last?: unknown;
  hasLast: boolean;
  /** How many items the site's stream holds, when known. */
  size?: number;
  /** When any of these was last learned (ms). */
  at: number;
}

/** What one answer of a site's stream showed. */
export interface StreamObservation {
  /** The answer started at the stream's beginning. */
  fromStart: boolean;
  /** Items of the stream before the answer's first one, when known. */
  offset?: number;
  /** Sort value of the answer's first item (count > 0). */
  firstValue?: unknown;
  /** Sort value of its last item; for an empty answer, of the item before it when known (`undefined`: not known). */
  lastValue?: unknown;
  count: number;
  /** The site said more follows. */
  more: boolean;
}

export class KeyStats {
  private readonly listings: LRUCache<string, Map<string, SiteKeyStat>>;
  /** When each (listing, site) was last probed for its last value (at most once per `ttlMs`). */
  private readonly probed: LRUCache<string, number>;

  constructor(
    maxListings = 512,
    private readonly ttlMs = 10 * 60_000,
    private readonly now: () => number = Date.now,
  ) {
    this.listings = new LRUCache({ max: maxListings });
    this.probed = new LRUCache({ max: maxListings * 64 });
  }

  /** Whether to probe a site for its last value now (true at most once per ttl for each listing and site). */
  claimProbe(signature: string, site: string): boolean {
    const key = `${site}\n${signature}`;
    const t = this.now();
    const last = this.probed.get(key);
    if (last !== undefined && t - last < this.ttlMs) return false;
    this.probed.set(key, t);
    return true;
  }

  /** What a probe in the reverse order showed: the site's last value, or that it holds nothing. */
  observeLast(signature: string, site: string, last: { value: unknown } | undefined): void {
    const sites = this.listings.get(signature);
    const stat = sites?.get(site);
    // Only beside what the listing's own answers showed (a probe answering late must not resurrect a forgotten entry).
    if (!sites || !stat) return;
    stat.at = this.now();
    if (last) {
      if (!stat.hasLast) {
        stat.last = last.value;
        stat.hasLast = true;
      }
    } else {
      stat.hasFirst = false;
      stat.hasLast = false;
      stat.size = 0;
    }
  }

  /** The median size of a listing's sites whose size is known: what a site not read to its end is guessed to hold. */
  typicalSize(figures: ReadonlyMap<string, SiteKeyStat>): number | undefined {
    const sizes: number[] = [];
    for (const stat of figures.values()) if (stat.size !== undefined && stat.size > 0) sizes.push(stat.size);
    if (sizes.length === 0) return undefined;
    sizes.sort((a, b) => a - b);
    return sizes[sizes.length >> 1];
  }

  /** A listing's figures by site name (fresh ones only). */
  get(signature: string): ReadonlyMap<string, SiteKeyStat> | undefined {
    const sites = this.listings.get(signature);
    if (!sites) return undefined;
    const t = this.now();
    for (const [name, stat] of sites) if (t - stat.at > this.ttlMs) sites.delete(name);
    return sites;
  }

  observe(signature: string, site: string, o: StreamObservation): void {
    let sites = this.listings.get(signature);
    if (!sites) {
      sites = new Map();
      this.listings.set(signature, sites);
    }
    const t = this.now();
    let stat = sites.get(site);
    if (!stat || t - stat.at > this.ttlMs) stat = { hasFirst: false, hasLast: false, at: t };
    stat.at = t;
    if (o.fromStart) {
      if (o.count > 0) {
        stat.first = o.firstValue;
        stat.hasFirst = true;
      } else if (!o.more) {
        // An empty stream.
        stat.hasFirst = false;
        stat.hasLast = false;
        stat.size = 0;
      }
    }
    const end = o.offset === undefined ? undefined : o.offset + o.count;
    if (!o.more) {
      if (o.count > 0 || (o.lastValue !== undefined && !o.fromStart)) {
        stat.last = o.lastValue;
        stat.hasLast = true;
      }
      if (end !== undefined) stat.size = end;
    } else if (end !== undefined && stat.hasLast && o.count > 0 && stat.size === undefined && compareValues(o.lastValue, stat.last) === 0) {
      // A full answer that ends on the site's last value (learned by a probe): the site most likely ends there too.
      stat.size = end;
    } else if (end !== undefined && stat.size !== undefined && stat.size < end) {
      // The site grew past what was learned: its size and last value are known wrong until it is read to its end again.
      stat.size = undefined;
      stat.hasLast = false;
    }
    sites.set(site, stat);
  }

  get size(): number {
    return this.listings.size;
  }
}
