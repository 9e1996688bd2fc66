/**
 * `GET /v1/nodes` and `GET /v1/nodes/detail` over every site: Ironic's
 * listing semantics (limit, marker, sort, fields, detail, all filters) on the
 * merged stream. The default order is by uuid — a stable order of the
 * proxy's own that spreads every page evenly over the sites (Ironic's own
 * default, the internal id, means nothing across sites).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, nodeNotFound } from '../errors.js';
import { requestCredentials } from '../api/authorize.js';
import { needsRedaction, redactNode } from './nodes.js';
import type { MarkerPoint } from '../federation/marker-positions.js';
import type { Item } from '../federation/merge.js';
import { readAtOwner } from '../federation/ask.js';
import { sendJson } from '../http/relay.js';
import { accountMergedPage } from '../http/missing-sites.js';
import { rewriteLinks } from '../http/rewrite.js';
import { canonicalUuid, parseListParam, parseStrictBool } from '../ironic/idents.js';
import { atLeast } from '../ironic/microversion.js';
import { isNodeField, isSelectableNodeField, NODE_LIST_DEFAULT_FIELDS, NODE_SORT_BLACKLIST, nodeFieldVisibleAt } from '../ironic/node-fields.js';
import type { ProxyServices } from '../services.js';
import { mergedPage, parseListParams, nextLink } from './list-params.js';
import { dropFields, keepFields } from './collection-list.js';


export async function listNodes(
  services: ProxyServices,
  request: FastifyRequest,
  reply: FastifyReply,
  detailPath: boolean,
  /** The project Ironic restricts the caller to (check_list_policy), if any. */
  listProject: string | undefined,
): Promise<FastifyReply> {
  const { version, baseUrl, globalRequestId } = request.ironic;
  const query = new URL(request.url, 'http://proxy').searchParams;
  const params = parseListParams(query, services.config.api.maxLimit, { markerIsUuid: true });

  let sortKey = 'uuid';
  if (params.sortKey !== undefined && params.sortKey !== 'id') {
    if (NODE_SORT_BLACKLIST.has(params.sortKey)) {
      throw badRequest(`The sort_key value ${params.sortKey} is an invalid field for sorting`);
    }
    // Internal columns (chassis_id, conductor_affinity, ...) are not in the API, so no merge can order by them.
    if (!isNodeField(params.sortKey)) throw badRequest(`The sort_key value "${params.sortKey}" is an invalid field for sorting`);
    sortKey = params.sortKey;
  }

  const creds = requestCredentials(services, request);
  // Callers without filter_threshold get Ironic's redactions, decided per node with its owner and lessee —
  // as Ironic does it, those the client's view holds: with `fields`, only if it asked for them.
  const redact = creds !== undefined && needsRedaction(services, creds);
  const fieldsAsked = params.passthrough.some(([k]) => k === 'fields');
  const view = siteView(params.passthrough, detailPath, sortKey, version.minor, []);
  if (listProject) {
    // A project sees the nodes it owns or leases: Ironic's `project` filter, forced, as Ironic forces it.
    if (!query.has('project')) view.params.push(['project', listProject]);
  }
  const registry = services.registry;
  let sites = registry.sites;
  const group = query.get('conductor_group');
  if (group !== null && atLeast(version, 46)) {
    const owner = registry.siteForGroup(group);
    if (owner) sites = [owner];
  }

  const publicPath = detailPath ? '/v1/nodes/detail' : '/v1/nodes';
  const page = await mergedPage(services, request, params, {
    sites,
    sitePath: view.path,
    collectionKey: 'nodes',
    siteParams: view.params,
    sortKey,
    publicPath,
    resolveMarker: (marker) => resolveNodeMarker(services, marker, sortKey, globalRequestId),
  });

  // The marker is read before presenting: the client's view may not include the uuid.
  const lastUuid = page.items.length > 0 ? String(page.items[page.items.length - 1]!.item.uuid) : undefined;
  // A listing teaches the location cache nothing (issue 16.1): only answers about an identifier asked do.
  const nodes = page.items.map(({ site, item }) => {
    if (redact && !fieldsAsked) redactNode(services, creds!, item);
    const shown = view.present(item);
    if (redact && fieldsAsked) redactNode(services, creds!, shown);
    return rewriteLinks(shown, registry.linkBases(site), baseUrl);
  });
  const doc: Record<string, unknown> = { nodes };
  // Ironic never pages an instance_uuid lookup (it matches at most one node).
  if (page.nextCursor && lastUuid && !query.has('instance_uuid')) {
    doc.next = nextLink(baseUrl, publicPath, params, lastUuid, page.nextCursor);
  }
  accountMergedPage(services, reply, page);
  return sendJson(reply, 200, doc);
}

interface SiteView {
  path: string;
  params: Array<[string, string]>;
  /** Turns a site's item into what the client asked for (drops fields the merge needed). */
  present: (item: Item) => Item;
}

/**
 * What to ask the sites for so that every item carries its uuid (the site's
 * marker) and the sort key, while the client still gets exactly the fields it
 * asked for. The sort key is added to `fields` when Ironic lets it be
 * selected; the timestamps cannot be, so sorting on them reads full objects
 * and cuts them down to the requested view.
 */
function siteView(passthrough: Array<[string, string]>, detailPath: boolean, sortKey: string, minor: number, policyFields: readonly string[]): SiteView {
  const params = passthrough.map(([k, v]) => [k, v] as [string, string]);
  const identity = (item: Item): Item => item;
  const detailText = params.find(([k]) => k === 'detail')?.[1];
  if (detailPath || (detailText !== undefined && parseStrictBool(detailText) === true)) {
    return { path: detailPath ? '/v1/nodes/detail' : '/v1/nodes', params, present: identity };
  }
  const fieldsAt = params.findIndex(([k]) => k === 'fields');
  const wanted = fieldsAt >= 0 ? parseListParam(params[fieldsAt]![1]) : undefined;
  const selectable = isSelectableNodeField(sortKey);
  if (wanted && selectable) {
    const extra = ['uuid', sortKey, ...policyFields].filter((f, i, a) => !wanted.includes(f) && a.indexOf(f) === i);
    if (extra.length === 0) return { path: '/v1/nodes', params, present: identity };
    params[fieldsAt] = ['fields', [...wanted, ...extra].join(',')];
    return { path: '/v1/nodes', params, present: dropFields(extra) };
  }
  if (wanted) {
    for (const f of wanted) if (!isSelectableNodeField(f)) throw badRequest(`Field ${f} is not a valid field.`);
    params.splice(fieldsAt, 1);
    return { path: '/v1/nodes/detail', params, present: keepFields([...wanted, 'links']) };
  }
  const defaults = NODE_LIST_DEFAULT_FIELDS.filter((f) => nodeFieldVisibleAt(f, minor));
  if (NODE_LIST_DEFAULT_FIELDS.includes(sortKey) && policyFields.length === 0) return { path: '/v1/nodes', params, present: identity };
  if (minor >= 8 && selectable) {
    const extra = [sortKey, ...policyFields].filter((f, i, a) => !defaults.includes(f) && a.indexOf(f) === i);
    params.push(['fields', [...defaults, ...extra].join(',')]);
    return { path: '/v1/nodes', params, present: dropFields(extra) };
  }
  // No `fields` before 1.8, and none for timestamps: read full objects and cut them down to the list view.
  return { path: '/v1/nodes/detail', params, present: keepFields([...defaults, 'links']) };
}

async function resolveNodeMarker(services: ProxyServices, marker: string, sortKey: string, requestId: string): Promise<MarkerPoint> {
  const uuid = canonicalUuid(marker);
  // Timestamps cannot be selected with `fields`: read the whole node for them.
  const path = isSelectableNodeField(sortKey) ? `/v1/nodes/${uuid}?fields=uuid,${sortKey}` : `/v1/nodes/${uuid}`;
  // A marker's site that cannot be asked is a 503 naming it, never "not found" (issue 15).
  const { site, doc } = await readAtOwner(services.nodes, uuid, { requestId }, (s) => s.request({ method: 'GET', path, version: services.internalVersion(), requestId }), () => nodeNotFound(marker), ['uuid', sortKey]);
  return { site, marker: uuid, value: sortKey === 'uuid' ? uuid : doc[sortKey] };
}
