/**
 * Which site holds an object (node, port, …): a bounded LRU of identifier →
 * site, filled only by answers to questions about that identifier, from the
 * site that holds it (issue 16.1: a site vouches only for itself) — a
 * lookup caches the identifier it was asked, never another uuid or name the
 * answer carries; listings teach it nothing.
 *
 * A miss asks every site at once and waits for all of them (each within its
 * own timeout): an identifier claimed by two sites is a conflict — logged,
 * counted, answered 409 — never resolved in favour of the faster one. A site
 * that cannot be asked does not stop a hit at another site (nothing better
 * can be known), but does stop a claim of "nowhere" (503, not 404).
 * Concurrent misses for the same identifier share one fan-out. A hit that
 * turns out stale (deleted, re-enrolled elsewhere) is corrected by the caller
 * (route-to-owner). Negative answers are not cached: a node created a moment
 * later must be found.
 *
 * With a shared store ([coordination]), the cache has a second layer: a
 * local miss reads the store before asking the sites, and what this process
 * caches it also stores, so one replica's lookup serves all. The local layer
 * answers first and never waits on the store; a location another process
 * changes or drops is dropped here by the store's invalidation message, and
 * a stale one heals as any stale hit does (route-to-owner). The store holds
 * only what a site vouched for, as the local cache.
 */
import { LRUCache } from 'lru-cache';
import { ProxyError, SiteErrorResponse, sitesUnavailable } from '../errors.js';
import type { Version } from '../ironic/microversion.js';
import { isUuidLike, encodeSegment } from '../ironic/idents.js';
import type { SiteClient } from '../sites/site-client.js';
import { objectAnswer, otherIdentity } from './ask.js';
import { fanOut } from './fanout.js';

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

/** The store's layer of one collection's locations (keys as the locator makes them, values site names). */
export interface SharedLocations {
  get(key: string): Promise<string | undefined>;
  set(key: string, site: string): void;
  delete(key: string): void;
  /** Calls `drop` with a key another process changed or removed. */
  subscribe(drop: (key: string) => void): void;
}

/** Told about an identifier that two or more sites claim (logs, metrics). */
export type ConflictReporter = (noun: string, ident: string, sites: string[]) => void;

export class Locator {
  private readonly cache: LRUCache<string, SiteClient>;
  private readonly inflight = new Map<string, Promise<Located>>();

  constructor(
    private readonly sites: () => readonly SiteClient[],
    private readonly resource: ResourceLookup,
    maxEntries: number,
    /** Lookups are the proxy's own requests: they use the newest version every site has (names, fields). */
    private readonly version: () => Version,
    private readonly onConflict?: ConflictReporter,
    private readonly shared?: SharedLocations,
  ) {
    this.cache = new LRUCache({ max: maxEntries });
    shared?.subscribe((k) => this.cache.delete(k));
  }

  /** Caches locally, and in the store when it is news to this process (a hit is not written back on every request). */
  private put(k: string, site: SiteClient): void {
    const before = this.cache.get(k);
    this.cache.set(k, site);
    if (before !== site) this.shared?.set(k, site.name);
  }

  /**
   * Caches where identifiers are. Only for identifiers the caller asked that
   * site about and the site answered for (a create or update of that
   * object, an authorised read of it) — never for what an answer merely names.
   */
  remember(site: SiteClient, uuid: unknown, name?: unknown): void {
    if (typeof uuid === 'string' && uuid) this.put(key(uuid), site);
    if (typeof name === 'string' && name) this.put(key(name), site);
  }

  /**
   * Caches the identifiers a request asked `site` about (the object's
   * identifier, the uuid and name a create or rename sent) that its answer
   * `doc` does not contradict; what the answer merely names is not cached.
   */
  learn(site: SiteClient, asked: readonly unknown[], doc: unknown): void {
    for (const ident of asked) {
      if (typeof ident !== 'string' || !ident) continue;
      if (doc && typeof doc === 'object' && otherIdentity(doc as Record<string, unknown>, ident) !== undefined) continue;
      this.put(key(ident), site);
    }
  }

  /** Drops locations found stale or gone, here and in the store (other processes drop theirs on the store's message). */
  forget(...idents: unknown[]): void {
    for (const ident of idents) {
      if (typeof ident !== 'string') continue;
      this.cache.delete(key(ident));
      this.shared?.delete(key(ident));
    }
  }

  /** What this process knows, without waiting on anything. */
  cached(ident: string): SiteClient | undefined {
    return this.cache.get(key(ident));
  }

  /** What this process knows, else what the store knows (kept locally from then on); undefined when neither knows. */
  async known(ident: string): Promise<SiteClient | undefined> {
    const k = key(ident);
    const local = this.cache.get(k);
    if (local || !this.shared) return local;
    const name = await this.shared.get(k);
    const site = name === undefined ? undefined : this.sites().find((s) => s.name === name);
    // Filled from the store, not vouched anew: not written back.
    if (site) this.cache.set(k, site);
    return site;
  }

  get size(): number {
    return this.cache.size;
  }

  /** The site of `ident`, from the cache or by asking every site. */
  async locate(ident: string, opts: LocateOptions): Promise<SiteClient> {
    return this.cached(ident) ?? (await this.known(ident)) ?? (await this.lookup(ident, opts)).site;
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
    const path = `${this.resource.collectionPath}/${encodeSegment(ident)}?fields=${this.resource.lookupFields ?? 'uuid,name'}`;
    let routingNotFound: SiteErrorResponse | undefined;
    const outcomes = await fanOut(this.sites(), async (site) => {
      const res = await site.request({ method: 'GET', path, version: this.version(), requestId: opts.requestId });
      // A routing 404 (the identifier is a word of the URL space, e.g. /v1/nodes/ports) is not "node not found".
      if (res.status === 404 && !routingNotFound && isRoutingError(res.body)) routingNotFound = new SiteErrorResponse(site.name, res);
      const answer = objectAnswer(site, res, ident, ['uuid']);
      if (!answer.found) return undefined;
      const uuid = answer.doc.uuid;
      if (typeof uuid !== 'string') throw new ProxyError('SITE_BAD_RESPONSE', `Site ${site.name} sent an invalid response: no uuid for ${this.resource.noun} ${ident}`);
      return { uuid, name: answer.doc.name as string | null | undefined };
    });
    const hits = outcomes.filter((o) => o.ok && o.value !== undefined) as Array<{ site: SiteClient; ok: true; value: { uuid: string; name?: string | null } }>;
    const failures = outcomes.filter((o) => !o.ok) as Array<{ site: SiteClient; ok: false; error: Error }>;
    if (hits.length > 1) {
      // One identity at two sites: a broken or lying site. Neither is trusted with the request.
      const names = hits.map((h) => h.site.name);
      this.onConflict?.(this.resource.noun, ident, names);
      this.forget(ident);
      throw new ProxyError('IDENTITY_CONFLICT', `${capitalised(this.resource.noun)} ${ident} is claimed by several sites (${names.join(', ')}); the proxy will not choose one.`);
    }
    if (hits.length === 1) {
      const hit = hits[0]!;
      const located: Located = { site: hit.site, uuid: hit.value.uuid, name: hit.value.name };
      this.remember(located.site, ident);
      return located;
    }
    const clientError = failures.find((f) => f.error instanceof SiteErrorResponse);
    if (clientError) throw clientError.error;
    if (failures.length > 0) {
      // Claiming "not found" would be a lie while a site that may hold it is silent.
      throw sitesUnavailable(`Cannot tell where ${this.resource.noun} ${ident} is`, failures.map((f) => f.site.name));
    }
    throw routingNotFound ?? this.resource.notFound(ident);
  }
}

const capitalised = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

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
