/**
 * The generic merged listing of any top-level collection whose items carry a
 * uuid (ports, portgroups, volume connectors and targets, ...): Ironic's
 * listing semantics (limit, marker, sort_key with the resource's blacklist,
 * sort_dir, fields, detail, every filter passed to the sites) over the merged
 * stream of the sites, with the proxy's cursor in `next` and the sites that
 * did not answer named in X-Ironic-Proxy-Missing-Sites — the same guarantees
 * as the node listing (node-list.ts). The default order is by uuid (Ironic's
 * own default, the internal id, means nothing across sites).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { accountMergedPage } from '../http/missing-sites.js';
import { badRequest, type ProxyError } from '../errors.js';
import type { Locator } from '../federation/locator.js';
import type { MarkerPoint } from '../federation/marker-positions.js';
import type { Item } from '../federation/merge.js';
import { readAtOwner } from '../federation/ask.js';
import { sendJson } from '../http/relay.js';
import { rewriteLinks } from '../http/rewrite.js';
import { canonicalUuid, parseListParam, parseStrictBool } from '../ironic/idents.js';
import type { ProxyServices } from '../services.js';
import type { SiteClient } from '../sites/site-client.js';
import { mergedPage, nextLink, parseListParams } from './list-params.js';

/** What the merged listing needs to know about one collection. */
export interface CollectionDef {
  /** The public path of the collection, e.g. `/v1/ports` or `/v1/volume/connectors`. */
  path: string;
  /** Its `/detail` path when it has one (ports, portgroups); volume collections use `?detail=True`. */
  detailPath?: string;
  /** The key of the item array, e.g. `ports`, `connectors`. */
  collectionKey: string;
  /** Ironic's `_DEFAULT_RETURN_FIELDS`: the list view without `fields`/`detail`. */
  defaultFields: readonly string[];
  /** Every field of the API object: a sort key outside these is not something a merge can order by. */
  apiFields: ReadonlySet<string>;
  /** Ironic's `invalid_sort_key_list` of the controller. */
  sortBlacklist: ReadonlySet<string>;
  /** Where items are (marker resolution; filled by listings). */
  locator: Locator;
  notFound: (ident: string) => ProxyError;
  /** Fields the proxy's per-item policy check reads, at a version (fetched even when `fields` leaves them out). */
  policyFields?: (minor: number) => string[];
}

export interface ListOptions {
  /** `/detail` was asked for. */
  detailPath: boolean;
  /** The sites to ask (default: all); a filter on a node or portgroup narrows this to one. */
  sites?: readonly SiteClient[];
  /**
   * The filter matches at most one object in one Ironic (a port's MAC): more
   * than one over the sites is a data conflict between sites — logged, and
   * only the first (in the merged order) is answered.
   */
  atMostOne?: string;
  /** Ironic's check of every listed object (allocations: `baremetal:allocation:get`); throws to refuse the listing. */
  checkItem?: (item: Item) => void;
  /** Only the items the caller may see (the sites list them all), with the fields that decides it read too. */
  accept?: { fields: string[]; test: (site: SiteClient, item: Item) => boolean };
}

/** `GET <collection>` (or its detail) merged over the sites. */
export async function listCollection(
  services: ProxyServices,
  request: FastifyRequest,
  reply: FastifyReply,
  def: CollectionDef,
  opts: ListOptions,
): Promise<FastifyReply> {
  const { version, baseUrl, globalRequestId } = request.ironic;
  const query = new URL(request.url, 'http://proxy').searchParams;
  const params = parseListParams(query, services.config.api.maxLimit, { markerIsUuid: true });

  let sortKey = 'uuid';
  if (params.sortKey !== undefined && params.sortKey !== 'id') {
    if (def.sortBlacklist.has(params.sortKey)) throw badRequest(`The sort_key value ${params.sortKey} is an invalid field for sorting`);
    // Internal columns (node_id, portgroup_id, ...) are not in the API, so no merge can order by them.
    if (!def.apiFields.has(params.sortKey)) throw badRequest(`The sort_key value "${params.sortKey}" is an invalid field for sorting`);
    sortKey = params.sortKey;
  }

  const view = siteView(def, params.passthrough, opts.detailPath, sortKey, version.minor, opts.accept?.fields ?? []);
  const registry = services.registry;
  const sites = opts.sites ?? registry.sites;
  const publicPath = opts.detailPath && def.detailPath ? def.detailPath : def.path;
  const page = await mergedPage(services, request, params, {
    sites,
    sitePath: view.path,
    collectionKey: def.collectionKey,
    siteParams: view.params,
    sortKey,
    publicPath,
    resolveMarker: (marker) => resolveMarker(services, def, marker, sortKey, globalRequestId),
    accept: opts.accept?.test,
  });

  let found = page.items;
  if (opts.atMostOne && found.length > 1) {
    services.log.warn({ filter: opts.atMostOne, sites: found.map((f) => f.site.name), uuids: found.map((f) => f.item.uuid) }, 'one value held by several sites');
    found = found.slice(0, 1);
    page.nextCursor = undefined;
  }
  if (opts.checkItem) for (const { item } of found) opts.checkItem(item);
  // The marker is read before presenting: the client's view may not include the uuid.
  const lastUuid = found.length > 0 ? String(found[found.length - 1]!.item.uuid) : undefined;
  // A listing teaches the location cache nothing (issue 16.1): only answers about an identifier asked do.
  const items = found.map(({ site, item }) => {
    return rewriteLinks(view.present(item), registry.linkBases(site), baseUrl);
  });
  const doc: Record<string, unknown> = { [def.collectionKey]: items };
  if (page.nextCursor && lastUuid) doc.next = nextLink(baseUrl, publicPath, params, lastUuid, page.nextCursor);
  accountMergedPage(services, reply, page);
  return sendJson(reply, 200, doc);
}

interface SiteView {
  path: string;
  params: Array<[string, string]>;
  present: (item: Item) => Item;
}

/**
 * What to ask the sites for so that every item carries its uuid (the sites'
 * marker) and the sort key, while the client gets exactly the fields it asked
 * for. Every field of these objects (timestamps included) can be selected
 * with `fields`; before 1.8 there is no `fields`, so a non-default sort key
 * reads the detail view and cuts it down to the list view.
 */
function siteView(def: CollectionDef, passthrough: Array<[string, string]>, detailPath: boolean, sortKey: string, minor: number, needed: readonly string[]): SiteView {
  const params = passthrough.map(([k, v]) => [k, v] as [string, string]);
  const identity = (item: Item): Item => item;
  const detailText = params.find(([k]) => k === 'detail')?.[1];
  if (detailPath || (detailText !== undefined && parseStrictBool(detailText) === true)) {
    return { path: detailPath && def.detailPath ? def.detailPath : def.path, params, present: identity };
  }
  const fieldsAt = params.findIndex(([k]) => k === 'fields');
  if (fieldsAt >= 0) {
    // Several `fields` parameters or an odd value: the sites say what Ironic says.
    const wanted = parseListParam(params[fieldsAt]![1]);
    const extra = ['uuid', sortKey, ...(def.policyFields?.(minor) ?? []), ...needed].filter((f, i, a) => !wanted.includes(f) && a.indexOf(f) === i);
    if (extra.length === 0) return { path: def.path, params, present: identity };
    params[fieldsAt] = ['fields', [...wanted, ...extra].join(',')];
    return { path: def.path, params, present: dropFields(extra) };
  }
  const missing = [sortKey, ...needed].filter((f, i, a) => !def.defaultFields.includes(f) && a.indexOf(f) === i);
  if (missing.length === 0) return { path: def.path, params, present: identity };
  if (minor >= 8 || !def.detailPath) {
    params.push(['fields', [...def.defaultFields, ...missing].join(',')]);
    return { path: def.path, params, present: dropFields(missing) };
  }
  return { path: def.detailPath, params, present: keepFields([...def.defaultFields, 'links']) };
}

/** A presenter that keeps only these fields of an item. */
export function keepFields(fields: string[]): (item: Item) => Item {
  const keep = new Set(fields);
  return (item) => Object.fromEntries(Object.entries(item).filter(([k]) => keep.has(k)));
}

/** A presenter that drops the fields the merge needed and the client did not ask for. */
export function dropFields(fields: string[]): (item: Item) => Item {
  return (item) => {
    for (const f of fields) delete item[f];
    return item;
  };
}

async function resolveMarker(services: ProxyServices, def: CollectionDef, marker: string, sortKey: string, requestId: string): Promise<MarkerPoint> {
  const uuid = canonicalUuid(marker);
  const fields = sortKey === 'uuid' ? 'uuid' : `uuid,${sortKey}`;
  // A marker's site that cannot be asked is a 503 naming it, never "not found" (issue 15).
  const { site, doc } = await readAtOwner(
    def.locator,
    uuid,
    { requestId },
    (s) => s.request({ method: 'GET', path: `${def.path}/${uuid}?fields=${fields}`, version: services.internalVersion(), requestId }),
    () => def.notFound(marker),
    ['uuid', sortKey],
  );
  return { site, marker: uuid, value: sortKey === 'uuid' ? uuid : doc[sortKey] };
}
