/**
 * The conductors API over all sites (federation rule:
 * docs/federation/drivers-conductors-shards.md). `GET /v1/conductors` is the
 * union of every site's conductors, each with its `conductor_group`, paged
 * as Ironic pages it — the marker is a hostname. Ironic's default order, its
 * internal id, becomes the sites' listings one after the other (sites in
 * configuration order; reversed for `sort_dir=desc`), which is what one
 * Ironic holding them all would give; an explicit `sort_key` is a k-way merge.
 * `GET /v1/conductors/{hostname}` is answered by the site that has it.
 * Hostnames are assumed unique over the fleet (they are the marker).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, ProxyError, sitesUnavailable } from '../errors.js';
import { fanOut } from '../federation/fanout.js';
import type { MarkerPoint } from '../federation/marker-positions.js';
import type { Item } from '../federation/merge.js';
import { relaySiteResponse, sendJson } from '../http/relay.js';
import { rewriteLinks } from '../http/rewrite.js';
import { parseListParam, parseStrictBool } from '../ironic/idents.js';
import type { ProxyServices } from '../services.js';
import { parseJsonBody } from '../sites/site-client.js';

import { accountMergedPage } from '../http/missing-sites.js';
import { mergedPage, nextLink, parseListParams } from './list-params.js';
import type { ResourceModule } from './plugin.js';
import { objectIdent } from '../api/engine.js';

const DEFAULT_FIELDS = ['hostname', 'conductor_group', 'alive'];
const SORT_BLACKLIST = new Set(['alive', 'drivers']);
/** Columns a merge can order by: those the API shows (`id` is the default order, emulated by concatenation). */
const SORTABLE = new Set(['hostname', 'conductor_group', 'created_at', 'updated_at']);
/** A hostname is a logical name (args.name): RFC 952/1123 labels, as Ironic's utils.is_valid_logical_name. */
const LOGICAL_NAME = /^[a-z0-9._~-]{1,255}$/i;

const conductorNotFound = (hostname: string): ProxyError => new ProxyError('CONDUCTOR_NOT_FOUND', `Conductor ${hostname} could not be found.`);

export const conductorsModule: ResourceModule = {
  name: 'conductors',
  engines: (services) => ({
    'conductor.list': (c) => listConductors(services, c.req, c.reply),
    'conductor.show': (c) => showConductor(services, c.req, c.reply, objectIdent(c)),
  }),
};

async function listConductors(services: ProxyServices, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const { baseUrl, globalRequestId } = req.ironic;
  const query = new URL(req.url, 'http://proxy').searchParams;
  const params = parseListParams(query, services.config.api.maxLimit, { markerIsUuid: false });
  if (params.marker !== undefined && !LOGICAL_NAME.test(params.marker)) throw badRequest(`Expected name for marker: ${params.marker}`);

  let sortKey = 'id';
  if (params.sortKey !== undefined && params.sortKey !== 'id') {
    if (SORT_BLACKLIST.has(params.sortKey)) throw badRequest(`The sort_key value ${params.sortKey} is an invalid field for sorting`);
    if (!SORTABLE.has(params.sortKey)) throw badRequest(`The sort_key value "${params.sortKey}" is an invalid field for sorting`);
    sortKey = params.sortKey;
  }

  const view = siteView(params.passthrough, sortKey);
  const sites = services.registry.sites;
  const page = await mergedPage(services, req, params, {
    sites,
    sitePath: '/v1/conductors',
    collectionKey: 'conductors',
    siteParams: view.params,
    sortKey,
    markerField: 'hostname',
    publicPath: '/v1/conductors',
    resolveMarker: (marker) => resolveConductorMarker(services, marker, sortKey, globalRequestId),
  });
  const last = page.items.length > 0 ? String(page.items[page.items.length - 1]!.item.hostname) : undefined;
  const conductors = page.items.map(({ site, item }) => rewriteLinks(view.present(item), services.registry.linkBases(site), baseUrl));
  const doc: Record<string, unknown> = { conductors };
  if (page.nextCursor && last !== undefined) doc.next = nextLink(baseUrl, '/v1/conductors', params, last, page.nextCursor);
  accountMergedPage(services, reply, page);
  return sendJson(reply, 200, doc);
}

interface SiteView {
  params: Array<[string, string]>;
  present: (item: Item) => Item;
}

/**
 * Every item must carry its hostname (the sites' marker) and the sort key;
 * the client still gets exactly the fields it asked for.
 */
function siteView(passthrough: Array<[string, string]>, sortKey: string): SiteView {
  const params = passthrough.map(([k, v]) => [k, v] as [string, string]);
  const identity = (item: Item): Item => item;
  const detailText = params.find(([k]) => k === 'detail')?.[1];
  if (detailText !== undefined && parseStrictBool(detailText) === true) return { params, present: identity };
  const needed = ['hostname', ...(sortKey === 'id' ? [] : [sortKey])];
  const fieldsAt = params.findIndex(([k]) => k === 'fields');
  const wanted = fieldsAt >= 0 ? parseListParam(params[fieldsAt]![1]) : DEFAULT_FIELDS;
  const extra = needed.filter((f, i, a) => !wanted.includes(f) && a.indexOf(f) === i);
  if (extra.length === 0) return { params, present: identity };
  if (fieldsAt >= 0) params[fieldsAt] = ['fields', [...wanted, ...extra].join(',')];
  else params.push(['fields', [...wanted, ...extra].join(',')]);
  return {
    params,
    present: (item) => {
      for (const f of extra) delete item[f];
      return item;
    },
  };
}

async function resolveConductorMarker(services: ProxyServices, marker: string, sortKey: string, requestId: string): Promise<MarkerPoint> {
  const fields = sortKey === 'id' ? 'hostname' : `hostname,${sortKey}`;
  const path = `/v1/conductors/${encodeURIComponent(marker)}?fields=${fields}`;
  const outcomes = await fanOut(services.registry.sites, (s) => s.request({ method: 'GET', path, version: services.internalVersion(), requestId }));
  for (const o of outcomes) {
    if (!o.ok || o.value.status !== 200) continue;
    const body = parseJsonBody<Item>(o.site.name, o.value);
    if (body) return { site: o.site, marker, value: sortKey === 'id' ? undefined : body[sortKey] };
  }
  const silent = outcomes.filter((o) => !o.ok || o.value.status >= 500).map((o) => o.site.name);
  if (silent.length > 0) throw sitesUnavailable(`Cannot tell where conductor ${marker} is`, silent);
  throw conductorNotFound(marker);
}

async function showConductor(services: ProxyServices, req: FastifyRequest, reply: FastifyReply, hostname: string): Promise<FastifyReply> {
  const outcomes = await fanOut(services.registry.sites, (s) =>
    s.request({ method: 'GET', path: req.url, version: req.ironic.version, requestId: req.ironic.globalRequestId }),
  );
  // The first site (configuration order) that has it; a client error (bad fields) is Ironic's answer as it is.
  const answer =
    outcomes.find((o) => o.ok && o.value.status === 200) ??
    outcomes.find((o) => o.ok && o.value.status >= 400 && o.value.status < 500 && o.value.status !== 404);
  if (answer && answer.ok) return relaySiteResponse(req, reply, services.registry.linkSource(answer.site), answer.value);
  const silent = outcomes.filter((o) => !o.ok || o.value.status >= 500).map((o) => o.site.name);
  if (silent.length > 0) throw sitesUnavailable(`Cannot tell where conductor ${hostname} is`, silent);
  const notHere = outcomes.find((o) => o.ok);
  if (notHere && notHere.ok) return relaySiteResponse(req, reply, services.registry.linkSource(notHere.site), notHere.value);
  throw conductorNotFound(hostname);
}
