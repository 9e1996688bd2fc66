/**
 * The paging parameters of every Ironic collection (limit, marker, sort_key,
 * sort_dir), validated in the proxy with Ironic's own messages — the proxy
 * controls these, so the sites never see the client's values. All other
 * parameters are the sites' to validate.
 */
import type { FastifyRequest } from 'fastify';
import { badRequest } from '../errors.js';
import { listMerged, type ListingPage } from '../federation/listing.js';
import { scanLimitsOf } from '../federation/scan.js';
import { scopeOf } from '../http/request-scope.js';
import type { MarkerPoint } from '../federation/marker-positions.js';
import type { Item } from '../federation/merge.js';
import type { ProxyServices } from '../services.js';
import type { SiteClient } from '../sites/site-client.js';
import { isUuidLike } from '../ironic/idents.js';

export const CURSOR_PARAM = 'proxy_cursor';
const PAGING_PARAMS = new Set(['limit', 'marker', 'sort_key', 'sort_dir', CURSOR_PARAM]);

export interface ListParams {
  limit: number;
  marker?: string;
  /** As the client gave it (undefined = Ironic's default, the internal id). */
  sortKey?: string;
  sortDir: 'asc' | 'desc';
  cursor?: string;
  /** Every other parameter, in the client's order: forwarded to the sites. */
  passthrough: Array<[string, string]>;
}

export function parseListParams(query: URLSearchParams, maxLimit: number, opts: { markerIsUuid: boolean }): ListParams {
  const single = (name: string): string | undefined => {
    const all = query.getAll(name);
    if (all.length > 1) throw badRequest(`Expected string for ${name}: [${all.map((v) => `'${v}'`).join(', ')}]`);
    return all[0];
  };
  const limitText = single('limit');
  let limit = maxLimit;
  if (limitText !== undefined) {
    if (!/^\s*[-+]?\d+\s*$/.test(limitText)) throw badRequest(`Expected an integer for limit: ${limitText}`);
    const n = Number(limitText);
    if (n <= 0) throw badRequest('Limit must be positive');
    limit = Math.min(n, maxLimit);
  }
  const sortDir = single('sort_dir') ?? 'asc';
  if (sortDir !== 'asc' && sortDir !== 'desc') {
    throw badRequest(`Invalid sort direction: ${sortDir}. Acceptable values are 'asc' or 'desc'`);
  }
  const marker = single('marker');
  if (marker !== undefined && opts.markerIsUuid && !isUuidLike(marker)) {
    throw badRequest(`Expected UUID for marker: ${marker}`);
  }
  const passthrough: Array<[string, string]> = [];
  for (const [k, v] of query) if (!PAGING_PARAMS.has(k)) passthrough.push([k, v]);
  return { limit, marker, sortKey: single('sort_key'), sortDir, cursor: single(CURSOR_PARAM), passthrough };
}

/**
 * The `next` link: the client's own parameters (all filters kept — Ironic
 * drops most of them, which loses the filter on page 2 for ironicclient), then
 * limit, the plain marker (for clients that build their own), and the cursor.
 */
export function nextLink(base: string, path: string, params: ListParams, lastMarker: string, cursor?: string): string {
  const qs = new URLSearchParams();
  if (params.sortKey !== undefined) qs.append('sort_key', params.sortKey);
  if (params.sortKey !== undefined || params.sortDir !== 'asc') qs.append('sort_dir', params.sortDir);
  for (const [k, v] of params.passthrough) qs.append(k, v);
  qs.append('limit', String(params.limit));
  qs.append('marker', lastMarker);
  if (cursor) qs.append(CURSOR_PARAM, cursor);
  return `${base}${path}?${qs.toString()}`;
}

/** What a resource decides about one merged page; the rest comes from the request and the configuration. */
export interface PageRequest {
  sites: readonly SiteClient[];
  /** The sites' collection path (e.g. `/v1/nodes/detail`) and item key. */
  sitePath: string;
  collectionKey: string;
  /** Parameters every site gets (filters, fields, detail). */
  siteParams: ReadonlyArray<readonly [string, string]>;
  sortKey: string;
  /** Default `uuid` (conductors: `hostname`). */
  markerField?: string;
  publicPath: string;
  resolveMarker: (marker: string) => Promise<MarkerPoint>;
  /** Items the caller may not see, passed over (see StreamSpec.accept). */
  accept?: (site: SiteClient, item: Item) => boolean;
}

/** One merged page for the client's paging parameters, with the proxy's limits and strictness. */
export function mergedPage(services: ProxyServices, request: FastifyRequest, params: ListParams, page: PageRequest): Promise<ListingPage> {
  return listMerged({
    sites: page.sites,
    spec: {
      path: page.sitePath,
      collectionKey: page.collectionKey,
      params: page.siteParams,
      sortKey: page.sortKey,
      sortDir: params.sortDir,
      markerField: page.markerField ?? 'uuid',
      version: request.ironic.version,
      requestId: request.ironic.globalRequestId,
      maxChunk: services.config.api.maxLimit,
      scope: scopeOf(request),
      scan: scanLimitsOf(services.config.proxy),
      accept: page.accept,
    },
    limit: params.limit,
    marker: params.marker,
    cursor: params.cursor,
    publicPath: page.publicPath,
    strict: services.config.proxy.strictListing,
    resolveMarker: page.resolveMarker,
    stats: services.keyStats,
  });
}
