/**
 * The chassis API: global objects (docs/federation/global-objects.md) —
 * every site holds each chassis with the same UUID, so a node at any site can
 * name it. Writes are replicated (federation/replicate.ts); listings and
 * `GET /v1/chassis/{uuid}` are read from one site. `GET
 * /v1/chassis/{uuid}/nodes` lists the chassis's nodes at ALL sites, merged
 * like `/v1/nodes`. A delete is refused (Ironic's 400 ChassisNotEmpty) before
 * anything is deleted when any site still has a node in the chassis.
 */
import { accountMergedPage } from '../http/missing-sites.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, nodeNotFound, ProxyError } from '../errors.js';
import { fanOut } from '../federation/fanout.js';
import type { MarkerPoint } from '../federation/marker-positions.js';
import type { Item } from '../federation/merge.js';
import type { GlobalFamily } from '../federation/replicate.js';
import { readAtOwner } from '../federation/ask.js';
import { sendJson } from '../http/relay.js';
import { rewriteLinks } from '../http/rewrite.js';
import { canonicalUuid, parseListParam } from '../ironic/idents.js';
import { isNodeField, isSelectableNodeField, NODE_LIST_DEFAULT_FIELDS, NODE_SORT_BLACKLIST, nodeFieldVisibleAt } from '../ironic/node-fields.js';
import type { ProxyServices } from '../services.js';
import type { SiteClient } from '../sites/site-client.js';
import { parseJsonBody } from '../sites/site-client.js';
import { globalObjectEngines } from './deploy-templates.js';
import { mergedPage, nextLink, parseListParams } from './list-params.js';
import type { ResourceModule } from './plugin.js';
import { objectIdent } from '../api/engine.js';

export const CHASSIS: GlobalFamily = {
  noun: 'Chassis',
  collectionPath: '/v1/chassis',
  collectionKey: 'chassis',
  fields: ['description', 'extra'],
  sinceMinor: 1,
};


export const chassisModule: ResourceModule = {
  name: 'chassis',
  engines: (services) => ({
    ...globalObjectEngines(services, CHASSIS, 'chassis', {
      deleteOptions: (svc, req) => ({ precheck: (uuid, holders) => assertNoNodes(svc, req, uuid, holders) }),
    }),
    'chassis.nodes': (c) => listChassisNodes(services, c.req, c.reply, c.entry.path.endsWith('/detail'), objectIdent(c), c.authz.listProject),
  }),
};

/** Ironic answers ChassisNotEmpty from one site; here every site is asked before anything is deleted. */
async function assertNoNodes(services: ProxyServices, req: FastifyRequest, uuid: string, holders: readonly SiteClient[]): Promise<void> {
  const requestId = req.ironic.globalRequestId;
  const answers = await fanOut(holders, (s) =>
    s.request({ method: 'GET', path: `/v1/chassis/${uuid}/nodes?limit=1`, version: services.internalVersion(), requestId }),
  );
  const silent: string[] = [];
  const withNodes: string[] = [];
  for (const a of answers) {
    if (!a.ok || a.value.status !== 200) {
      silent.push(a.site.name);
      continue;
    }
    const body = parseJsonBody<{ nodes?: unknown[] }>(a.site.name, a.value);
    if (!Array.isArray(body?.nodes)) silent.push(a.site.name);
    else if (body.nodes.length > 0) withNodes.push(a.site.name);
  }
  if (withNodes.length > 0) {
    const err = badRequest(`Cannot complete the requested action because chassis ${uuid} contains nodes.`);
    err.headers['x-ironic-proxy-sites-with-nodes'] = withNodes.join(',');
    throw err;
  }
  if (silent.length > 0) {
    throw new ProxyError('SITES_UNAVAILABLE', `Chassis ${uuid} was not deleted: cannot tell whether site(s) ${silent.join(', ')} have nodes in it; nothing was changed.`);
  }
}

/** The chassis's nodes at every site, merged (by uuid unless asked otherwise) with the node listing's paging guarantees. */
async function listChassisNodes(
  services: ProxyServices,
  req: FastifyRequest,
  reply: FastifyReply,
  detail: boolean,
  ident: string,
  listProject: string | undefined,
): Promise<FastifyReply> {
  const { version, baseUrl, globalRequestId } = req.ironic;
  const query = new URL(req.url, 'http://proxy').searchParams;
  const params = parseListParams(query, services.config.api.maxLimit, { markerIsUuid: true });
  let sortKey = 'uuid';
  if (params.sortKey !== undefined && params.sortKey !== 'id') {
    if (NODE_SORT_BLACKLIST.has(params.sortKey)) throw badRequest(`The sort_key value ${params.sortKey} is an invalid field for sorting`);
    // As GET /v1/nodes: a key that is no node field is Ironic's 400 — before a marker is placed by it (a 502 then).
    if (!isNodeField(params.sortKey)) throw badRequest(`The sort_key value "${params.sortKey}" is an invalid field for sorting`);
    sortKey = params.sortKey;
  }
  // The merge needs every item's uuid and sort key; the client gets only what it asked for.
  const siteParams = params.passthrough.map(([k, v]) => [k, v] as [string, string]);
  // A project sees its own nodes of the chassis: Ironic's forced `project` filter.
  if (listProject && !siteParams.some(([k]) => k === 'project')) siteParams.push(['project', listProject]);
  let extra: string[] = [];
  const fieldsAt = siteParams.findIndex(([k]) => k === 'fields');
  if (fieldsAt >= 0) {
    const wanted = parseListParam(siteParams[fieldsAt]![1]);
    extra = ['uuid', sortKey].filter((f, i, a) => !wanted.includes(f) && a.indexOf(f) === i && isSelectableNodeField(f));
    siteParams[fieldsAt] = ['fields', [...wanted, ...extra].join(',')];
  }
  const publicPath = `/v1/chassis/${encodeURIComponent(ident)}/nodes${detail ? '/detail' : ''}`;
  let sitePath = publicPath;
  let keep: Set<string> | undefined;
  if (!detail && fieldsAt < 0 && !NODE_LIST_DEFAULT_FIELDS.includes(sortKey)) {
    // The list view lacks the sort key: read full nodes and cut them down to the list view.
    sitePath = `${publicPath}/detail`;
    keep = new Set([...NODE_LIST_DEFAULT_FIELDS.filter((f) => nodeFieldVisibleAt(f, version.minor)), 'links']);
  }
  const page = await mergedPage(services, req, params, {
    sites: services.registry.sites,
    sitePath,
    collectionKey: 'nodes',
    siteParams,
    sortKey,
    publicPath,
    resolveMarker: (marker) => resolveNodeMarker(services, marker, sortKey, globalRequestId),
  });
  const lastUuid = page.items.length > 0 ? String(page.items[page.items.length - 1]!.item.uuid) : undefined;
  // A listing teaches the location cache nothing (issue 16.1): only answers about an identifier asked do.
  const nodes = page.items.map(({ site, item }) => {
    for (const f of extra) delete item[f];
    if (keep) for (const f of Object.keys(item)) if (!keep.has(f)) delete item[f];
    return rewriteLinks(item, services.registry.linkBases(site), baseUrl);
  });
  const doc: Record<string, unknown> = { nodes };
  if (page.nextCursor && lastUuid) doc.next = nextLink(baseUrl, publicPath, params, lastUuid, page.nextCursor);
  accountMergedPage(services, reply, page);
  return sendJson(reply, 200, doc);
}

async function resolveNodeMarker(services: ProxyServices, marker: string, sortKey: string, requestId: string): Promise<MarkerPoint> {
  const uuid = canonicalUuid(marker);
  const path = isSelectableNodeField(sortKey) ? `/v1/nodes/${uuid}?fields=uuid,${sortKey}` : `/v1/nodes/${uuid}`;
  // A marker's site that cannot be asked is a 503 naming it, never "not found" (issue 15).
  const { site, doc } = await readAtOwner(services.nodes, uuid, { requestId }, (s) => s.request({ method: 'GET', path, version: services.internalVersion(), requestId }), () => nodeNotFound(marker), ['uuid', sortKey]);
  return { site, marker: uuid, value: sortKey === 'uuid' ? uuid : doc[sortKey] };
}
