/**
 * Which site holds a node: a bounded LRU of uuid → site and name → site,
 * filled by creates, lookups and listings. A miss asks every site at once and
 * takes the first that has it; concurrent misses for the same identifier
 * share one fan-out. A hit that turns out stale (the node was deleted or
 * re-enrolled elsewhere) is corrected by the caller through `relocate`.
 * Negative answers are not cached: a node created a moment later must be found.
 */
import { LRUCache } from 'lru-cache';
import { ProxyError, SiteErrorResponse, sitesUnavailable } from '../errors.js';
import type { Version } from '../ironic/microversion.js';
import { isUuidLike } from '../ironic/idents.js';
import type { SiteClient } from '../sites/site-client.js';
import { parseJsonBody } from '../sites/site-client.js';
import { firstHit } from './fanout.js';

export interface LocateOptions {
  requestId: string;
}

export interface Located {
  site: SiteClient;
  uuid: string;
  name?: string | null;
}

export interface ResourceLookup {
  /** e.g. `/v1/nodes` */
  collectionPath: string;
  /** Ironic's not-found error for this resource. */
  notFound(ident: string): ProxyError;
  /** What to call it in "cannot locate" messages. */
  noun: string;
  /** The fields a lookup asks for (default `uuid,name`; resources without names ask for `uuid`). */
  lookupFields?: string;
}

export class Locator {
  private readonly cache: LRUCache<string, SiteClient>;
  private readonly inflight = new Map<string, Promise<Located>>();

  constructor(
    private readonly sites: () => readonly SiteClient[],
    private readonly resource: ResourceLookup,
    maxEntries: number,
    /** Lookups are the proxy's own requests: they use the newest version every site has (names, fields). */
    private readonly version: () => Version,
  ) {
    this.cache = new LRUCache({ max: maxEntries });
  }

  remember(site: SiteClient, uuid: unknown, name?: unknown): void {
    if (typeof uuid === 'string') this.cache.set(key(uuid), site);
    if (typeof name === 'string' && name) this.cache.set(key(name), site);
  }

  forget(...idents: unknown[]): void {
    for (const ident of idents) if (typeof ident === 'string') this.cache.delete(key(ident));
  }

  cached(ident: string): SiteClient | undefined {
    return this.cache.get(key(ident));
  }

  get size(): number {
    return this.cache.size;
  }

  /** The site of `ident`, from the cache or by asking every site. */
  async locate(ident: string, opts: LocateOptions): Promise<SiteClient> {
    return this.cached(ident) ?? (await this.lookup(ident, opts)).site;
  }

  /** Asks every site, ignoring the cache (the cache is updated with the answer). */
  lookup(ident: string, opts: LocateOptions): Promise<Located> {
    const k = key(ident);
    let pending = this.inflight.get(k);
    if (!pending) {
      pending = this.lookupEverywhere(ident, opts).finally(() => this.inflight.delete(k));
      this.inflight.set(k, pending);
    }
    return pending;
  }

  private async lookupEverywhere(ident: string, opts: LocateOptions): Promise<Located> {
    const path = `${this.resource.collectionPath}/${encodeURIComponent(ident)}?fields=${this.resource.lookupFields ?? 'uuid,name'}`;
    let routingNotFound: SiteErrorResponse | undefined;
    const result = await firstHit(this.sites(), async (site) => {
      const res = await site.request({ method: 'GET', path, version: this.version(), requestId: opts.requestId });
      if (res.status === 404) {
        // A routing 404 (the identifier is a word of the URL space, e.g. /v1/nodes/ports) is not "node not found".
        if (!routingNotFound && isRoutingError(res.body)) routingNotFound = new SiteErrorResponse(site.name, res);
        return undefined;
      }
      if (res.status === 200) {
        const body = parseJsonBody<{ uuid?: string; name?: string | null }>(site.name, res);
        if (typeof body?.uuid === 'string') return { uuid: body.uuid, name: body.name };
        return undefined;
      }
      // 400/406: the identifier itself is invalid; every site would say the same.
      if (res.status >= 400 && res.status < 500) throw new SiteErrorResponse(site.name, res);
      throw new ProxyError(502, 'SITE_ERROR', `Site ${site.name} answered ${res.status}`);
    });
    if (result.hit) {
      const located: Located = { site: result.hit.site, uuid: result.hit.value.uuid, name: result.hit.value.name };
      this.remember(located.site, located.uuid, located.name);
      return located;
    }
    const clientError = result.failures.find((f) => f.error instanceof SiteErrorResponse);
    if (clientError) throw clientError.error;
    if (result.failures.length > 0) {
      // Claiming "not found" would be a lie while a site that may hold it is silent.
      throw sitesUnavailable(`Cannot tell where ${this.resource.noun} ${ident} is`, result.failures.map((f) => f.site.name));
    }
    throw routingNotFound ?? this.resource.notFound(ident);
  }
}

/** Is this Ironic error body pecan's routing shape ({code, title, description}) rather than a fault? */
function isRoutingError(body: Buffer): boolean {
  try {
    const outer = JSON.parse(body.toString('utf8')) as { error_message?: unknown };
    return typeof outer.error_message === 'string' && 'title' in (JSON.parse(outer.error_message) as object);
  } catch {
    return false;
  }
}

/** UUIDs are case-insensitive in Ironic; names are not. */
function key(ident: string): string {
  return isUuidLike(ident) ? `u:${ident.replace(/-/g, '').toLowerCase()}` : `n:${ident}`;
}
