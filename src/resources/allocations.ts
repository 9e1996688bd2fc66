/**
 * The allocations API over all sites (federation rule: docs/federation/allocations.md).
 *
 * An allocation lives at the site of the node it allocates — a site's
 * conductor can only pick its own nodes, and the node's `allocation_uuid`
 * refers to it there. So:
 *  - create: with `node` (backfill, 1.58) at that node's site; with
 *    `candidate_nodes` at the site(s) holding them, split per site and tried
 *    in the order the candidates were given, each site getting only its own
 *    candidates; otherwise at the sites with matching free nodes, most free
 *    nodes first. Every attempt carries the same explicit `uuid`. When
 *    another site remains to be tried, the proxy waits (up to
 *    ALLOCATION_SETTLE_MS) for the allocation to leave `allocating`; one in
 *    `error` is deleted and the next site tried. The last site's answer is
 *    the client's (a 201, as Ironic's, whatever the allocation's fate).
 *  - show / update / delete: the site that has it, found by UUID or name
 *    like nodes (a location cache with fan-out fallback).
 *  - list: merged over the sites (collection-list.ts); `?node=` asks only
 *    the node's site.
 *  - a name is unique over all sites (409, Ironic's text).
 */
import { afterPolicy } from '../api/body.js';
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Decider, forbidden as denied, requestCredentials } from '../api/authorize.js';
import { objectIdent, projectOf, type Engine } from '../api/engine.js';
import { locatorOf } from '../api/targets.js';
import { objectAnswer } from '../federation/ask.js';
import { badRequest, conflict, ProxyError, SiteErrorResponse, SiteProtocolError, sitesUnavailable, unroutable } from '../errors.js';
import { fanOut } from '../federation/fanout.js';
import { Locator } from '../federation/locator.js';
import { routeToOwner } from '../federation/route-to-owner.js';
import { relaySiteResponse, sendJson } from '../http/relay.js';
import { rewriteLinks } from '../http/rewrite.js';
import { isUuidLike, isValidLogicalName, encodeSegment } from '../ironic/idents.js';
import { atLeast } from '../ironic/microversion.js';
import type { ProxyServices } from '../services.js';
import type { SiteClient, SiteResponse } from '../sites/site-client.js';
import { parseJsonBody } from '../sites/site-client.js';
import { listCollection, type CollectionDef } from './collection-list.js';
import { readJson, sendAsIs } from '../http/forward.js';
import type { ResourceModule } from './plugin.js';
import { uuidKey, type WriteGuard } from '../coordination/reservations.js';

const BACKFILL_MINOR = 58;
const OWNER_MINOR = 60;

/** How long a create waits for an allocation to succeed or fail before it would try another site. */
export const ALLOCATION_SETTLE_MS = 10_000;

const ALLOCATION_FIELDS = [
  'uuid', 'name', 'node_uuid', 'state', 'last_error', 'resource_class', 'traits',
  'candidate_nodes', 'extra', 'owner', 'created_at', 'updated_at',
];

export const allocationNotFound = (ident: string): ProxyError =>
  new ProxyError('ALLOCATION_NOT_FOUND', `Allocation ${ident} could not be found.`);

export const allocationsModule: ResourceModule = {
  name: 'allocations',
  engines: (services) => allocationEngines(services),
};

type Doc = Record<string, unknown>;

function allocationEngines(services: ProxyServices): Record<string, Engine> {
  const locator = locatorOf(services, 'allocation');
  const def: CollectionDef = {
    path: '/v1/allocations',
    collectionKey: 'allocations',
    // Allocations have no list view: every field is shown, so every sort key is already there.
    defaultFields: ALLOCATION_FIELDS,
    apiFields: new Set(ALLOCATION_FIELDS),
    sortBlacklist: new Set(['extra', 'candidate_nodes', 'traits']),
    locator,
    notFound: allocationNotFound,
    // baremetal:allocation:get is checked on every listed allocation with its owner (shown from 1.60).
    policyFields: (minor) => (minor >= OWNER_MINOR ? ['owner'] : []),
  };
  const ctx: Ctx = { services, locator, def };
  return {
    'allocation.list': (c) => listAllocations(ctx, c.req, c.reply, c.authz.listProject),
    'allocation.create': (c) => createAllocation(ctx, c.req, c.reply),
    'allocation.show': (c) => forwardToAllocation(ctx, c.req, c.reply, objectIdent(c), c.authz.allocation?.site),
    'allocation.delete': (c) => forwardToAllocation(ctx, c.req, c.reply, objectIdent(c), c.authz.allocation?.site),
    'allocation.update': (c) => updateAllocation(ctx, c.req, c.reply, objectIdent(c)),
  };
}

interface Ctx {
  services: ProxyServices;
  locator: Locator;
  def: CollectionDef;
}

/** The site of a node named in a request; a node nowhere is Ironic's 400 (NodeNotFound with code 400). */
async function nodeSite(services: ProxyServices, ident: string, requestId: string): Promise<SiteClient> {
  try {
    return await services.nodes.locate(ident, { requestId });
  } catch (err) {
    if ((err instanceof ProxyError && err.code === 'NODE_NOT_FOUND') || err instanceof SiteErrorResponse) {
      throw badRequest(`Node ${ident} could not be found.`);
    }
    throw err;
  }
}

// ---------------------------------------------------------------- listing

async function listAllocations(ctx: Ctx, req: FastifyRequest, reply: FastifyReply, listProject: string | undefined): Promise<FastifyReply> {
  const { services } = ctx;
  const query = new URL(req.url, 'http://proxy').searchParams;
  let request = req;
  if (listProject) {
    // A project sees its own allocations: Ironic forces the owner filter (the table refused another owner).
    // Below 1.60 the sites cannot be asked for an owner filter: refused rather than answered unfiltered.
    if (!atLeast(req.ironic.version, OWNER_MINOR)) throw denied('baremetal:allocation:list_all');
    if (!query.has('owner')) {
      query.append('owner', listProject);
      request = Object.create(req, { url: { value: `/v1/allocations?${query.toString()}` } }) as FastifyRequest;
    }
  }
  const node = query.get('node');
  if (node !== null && node !== '') return listNodeAllocation(ctx, req, reply, node, query);
  return listCollection(services, request, reply, ctx.def, { detailPath: false, checkItem: (item) => checkAllocationVisible(services, req, item) });
}

/**
 * `?node=`: a node has at most one allocation, read at the node's site from
 * the node (`GET /v1/nodes/{node}/allocation`) and filtered here. Asking the
 * site's listing instead would depend on the proxy's token: Ironic 21.4
 * ignores `node` for system-scoped callers, and the proxy's site
 * credentials are system-scoped. (So a system-scoped caller gets the node's
 * allocation here, where a single Ironic would ignore the filter.)
 */
async function listNodeAllocation(ctx: Ctx, req: FastifyRequest, reply: FastifyReply, node: string, query: URLSearchParams): Promise<FastifyReply> {
  const { services } = ctx;
  const requestId = req.ironic.globalRequestId;
  const site = await nodeSite(services, node, requestId);
  const res = await site.request({ method: 'GET', path: `/v1/nodes/${encodeSegment(node)}/allocation`, version: req.ironic.version, requestId });
  // Ironic's own 404 is "no allocation"; a site that could not be asked is its 503/502, never an empty list.
  const answer = objectAnswer(site, res, undefined, ['uuid']);
  let items: Doc[] = answer.found ? [answer.doc] : [];
  const marker = query.get('marker');
  items = items.filter(
    (a) =>
      ['resource_class', 'state', 'owner'].every((f) => !query.has(f) || a[f] === query.get(f)) &&
      (marker === null || a.uuid !== marker),
  );
  for (const item of items) checkAllocationVisible(services, req, item);
  const wanted = query.get('fields');
  const keep = wanted ? new Set([...wanted.split(',').map((f) => f.trim()), 'links']) : undefined;
  const shown = items.map((a) => rewriteLinks(keep ? Object.fromEntries(Object.entries(a).filter(([k]) => keep.has(k))) : a, services.registry.linkBases(site), req.ironic.baseUrl));
  return sendJson(reply, 200, { allocations: shown });
}

/** Ironic checks `baremetal:allocation:get` on every allocation it lists (its owner the target): one denied is a 403. */
export function checkAllocationVisible(services: ProxyServices, req: FastifyRequest, item: Doc): void {
  const creds = requestCredentials(services, req);
  if (!creds) return;
  new Decider(services, creds).require('baremetal:allocation:get', { ...creds, 'allocation.owner': typeof item.owner === 'string' ? item.owner : null });
}

// ---------------------------------------------------------------- one allocation

async function forwardToAllocation(ctx: Ctx, req: FastifyRequest, reply: FastifyReply, ident: string, known: SiteClient | undefined): Promise<FastifyReply> {
  const { services, locator } = ctx;
  const isDelete = req.method === 'DELETE';
  if (known) locator.remember(known, ident);
  const { site, res } = await routeToOwner(locator, ident, { requestId: req.ironic.globalRequestId }, (s) => sendAsIs(s, req));
  if (isDelete && res.status === 204) locator.forget(ident);
  if (req.method === 'GET' && res.status === 200) {
    const doc = parseJsonBody<Doc>(site.name, res);
    locator.learn(site, [ident], doc);
  }
  return relaySiteResponse(req, reply, services.registry.linkSource(site), res);
}

async function updateAllocation(ctx: Ctx, req: FastifyRequest, reply: FastifyReply, ident: string): Promise<FastifyReply> {
  const { services, locator } = ctx;
  const requestId = req.ironic.globalRequestId;
  const name = patchedName(readJson(req));
  let site: SiteClient;
  let res: SiteResponse;
  if (name === undefined) {
    ({ site, res } = await routeToOwner(locator, ident, { requestId }, (s) => sendAsIs(s, req)));
  } else {
    // Where it is decides which sites must not have the name: asked fresh, not from the cache.
    site = (await locator.lookup(ident, { requestId })).site;
    const here = site;
    res = await services.reservations.guarded(async (guard) => {
      await assertAllocationIdentFree(services, name, 'name', requestId, here, guard);
      return sendAsIs(here, req);
    });
  }
  if (res.status === 200) {
    const doc = parseJsonBody<Doc>(site.name, res);
    locator.forget(ident);
    locator.learn(site, [ident, name], doc);
  }
  return relaySiteResponse(req, reply, services.registry.linkSource(site), res);
}

/** The name a JSON Patch gives the allocation, if any (anything malformed is the site's to refuse). */
function patchedName(patch: unknown): string | undefined {
  if (!Array.isArray(patch)) return undefined;
  let name: string | undefined;
  for (const op of patch) {
    if (!op || typeof op !== 'object') continue;
    const { op: verb, path, value } = op as { op?: unknown; path?: unknown; value?: unknown };
    if (typeof path === 'string' && path.replace(/\/+$/, '') === '/name' && (verb === 'add' || verb === 'replace') && typeof value === 'string' && value) {
      name = value;
    }
  }
  return name;
}

/**
 * Is `ident` (a name or UUID) an allocation at any site but `except`? A site
 * that cannot be asked makes the answer unknown, and the write is refused: a
 * duplicate would be silent and permanent.
 */
export async function assertAllocationIdentFree(
  services: ProxyServices,
  ident: string,
  kind: 'name' | 'UUID',
  requestId: string,
  except?: SiteClient,
  /** Reserves the identifier first, until the write is done (coordination/reservations.ts). */
  guard?: WriteGuard,
): Promise<void> {
  const taken = kind === 'name' ? `An allocation with name ${ident} already exists.` : `An allocation with UUID ${ident} already exists.`;
  await guard?.take(kind === 'name' ? `allocation:name:${ident}` : `allocation:uuid:${uuidKey(ident)}`, taken, `allocation ${kind} ${ident}`);
  const others = services.registry.sites.filter((s) => s !== except);
  const path = `/v1/allocations/${encodeSegment(ident)}?fields=uuid`;
  const outcomes = await fanOut(others, (s) => s.request({ method: 'GET', path, version: services.internalVersion(), requestId }));
  for (const o of outcomes) {
    if (o.ok && o.value.status === 200) {
      throw conflict(taken);
    }
  }
  const silent = outcomes.filter((o) => !o.ok || o.value.status >= 500).map((o) => o.site.name);
  if (silent.length > 0) throw sitesUnavailable(`Cannot verify that allocation ${kind} ${ident} is unused`, silent);
}

// ---------------------------------------------------------------- create

interface Attempt {
  site: SiteClient;
  /** The candidates at this site (undefined: none were given). */
  candidates?: string[];
}

/** The name and uuid are reserved from before the other sites are asked until the create is answered. */
function createAllocation(ctx: Ctx, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  return ctx.services.reservations.guarded((guard) => createGuarded(ctx, req, reply, guard));
}

async function createGuarded(ctx: Ctx, req: FastifyRequest, reply: FastifyReply, guard: WriteGuard): Promise<FastifyReply> {
  const { services } = ctx;
  // An empty body is `{}` to Ironic (its schema requires nothing): refused below for its missing resource class.
  const parsed = readJson(req) ?? {};
  const readable = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed);
  // The policy first: nothing reaches a site for a caller Ironic would refuse, a malformed body included.
  const body = readable ? (parsed as Doc) : {};
  const rewritten = authorizeCreate(services, req, body);
  await afterPolicy(req);
  // The table's body check (ALLOCATION_SCHEMA and the uuid's args.uuid) refused any other body, and every field
  // the routing below reads of another type: what is left is read, never sent as is to some site.
  if (!readable) throw unroutable('an allocation create without a readable body');
  if (rewritten) {
    // The owner Ironic would set for a restricted create: written into the request the sites get.
    (req as { body: unknown }).body = Buffer.from(JSON.stringify(body));
  }
  const requestId = req.ironic.globalRequestId;
  // Ironic's checks after its policy, in its order, where no site could be chosen to make them.
  const refuse = (message: string): never => {
    if (typeof body.name === 'string' && body.name && !isValidLogicalName(body.name)) {
      throw badRequest(`Cannot create allocation with invalid name '${body.name}'`);
    }
    throw badRequest(message);
  };
  // As Ironic, an empty node is no node; without one a resource class is needed (with one, the node's is taken).
  const node = typeof body.node === 'string' && body.node ? body.node : undefined;
  if (node !== undefined && !atLeast(req.ironic.version, BACKFILL_MINOR)) refuse('Cannot set node when creating an allocation in this API version');
  if (node === undefined && !body.resource_class) refuse('The resource_class field is mandatory when not backfilling');

  const checkList: Promise<void>[] = [];
  if (typeof body.name === 'string' && body.name) checkList.push(assertAllocationIdentFree(services, body.name, 'name', requestId, undefined, guard));
  if (typeof body.uuid === 'string') checkList.push(assertAllocationIdentFree(services, body.uuid, 'UUID', requestId, undefined, guard));
  // Awaited before anything is created; a request refused earlier for another reason must not leave it unhandled.
  const checks = Promise.all(checkList);
  checks.catch(() => undefined);

  // Backfill: the allocation goes where the node is, as the client wrote it (Ironic may take the node's instance uuid).
  if (node !== undefined) {
    const site = await nodeSite(services, node, requestId);
    await checks;
    return finish(ctx, req, reply, site, await sendAsIs(site, req));
  }

  let attempts: Attempt[];
  const candidates = body.candidate_nodes;
  if (Array.isArray(candidates) && candidates.length > 0) {
    // The schema let only strings through.
    attempts = await candidateAttempts(services, candidates as string[], requestId);
  } else {
    attempts = await capacityAttempts(services, body, requestId);
  }
  await checks;

  // Every attempt carries the same uuid, so the allocation is the same object wherever it lands.
  const uuid = typeof body.uuid === 'string' ? body.uuid : randomUUID();
  for (let i = 0; i < attempts.length; i++) {
    const { site, candidates: mine } = attempts[i]!;
    const payload: Doc = { ...body, uuid };
    if (mine) payload.candidate_nodes = mine;
    const res = await sendAsIs(site, req, { body: Buffer.from(JSON.stringify(payload)) });
    const last = i === attempts.length - 1;
    if (res.status !== 201 || last) return finish(ctx, req, reply, site, res);
    ctx.locator.remember(site, uuid, body.name);
    const settled = await settle(site, uuid, req);
    if (!settled || settled.doc.state !== 'error') {
      return finish(ctx, req, reply, site, settled ? { ...res, body: settled.body } : res);
    }
    // Failed here (no suitable node): remove it, so that it exists at one site only, and try the next.
    const del = await site
      .request({ method: 'DELETE', path: `/v1/allocations/${uuid}`, version: services.internalVersion(), requestId })
      .catch(() => undefined);
    if (!del || del.status !== 204) return finish(ctx, req, reply, site, { ...res, body: settled.body });
    ctx.locator.forget(uuid);
    req.log.info({ allocation: uuid, site: site.name, last_error: settled.doc.last_error }, 'allocation failed at site; trying the next');
  }
  throw new ProxyError('INTERNAL', 'Internal Server Error');
}

function finish(ctx: Ctx, req: FastifyRequest, reply: FastifyReply, site: SiteClient, res: SiteResponse): FastifyReply {
  if (res.status === 201) {
    const doc = parseJsonBody<Doc>(site.name, res);
    const asked = readJson(req) as Doc | undefined;
    ctx.locator.learn(site, [asked?.uuid, asked?.name], doc);
  }
  return relaySiteResponse(req, reply, ctx.services.registry.linkSource(site), res);
}

/** The candidates per site, sites in the order their first candidate was given; unknown candidates are Ironic's 400. */
async function candidateAttempts(services: ProxyServices, candidates: string[], requestId: string): Promise<Attempt[]> {
  const found = await Promise.all(
    candidates.map(async (c) => {
      try {
        return { c, site: await services.nodes.locate(c, { requestId }) };
      } catch (err) {
        if ((err instanceof ProxyError && err.code === 'NODE_NOT_FOUND') || err instanceof SiteErrorResponse) return { c };
        throw err;
      }
    }),
  );
  const missing = [...new Set(found.filter((f) => !f.site).map((f) => f.c))];
  if (missing.length > 0) throw badRequest(`Nodes cannot be found: ${missing.join(', ')}`);
  const attempts: Attempt[] = [];
  for (const { c, site } of found) {
    let a = attempts.find((x) => x.site === site);
    if (!a) attempts.push((a = { site: site!, candidates: [] }));
    if (!a.candidates!.includes(c)) a.candidates!.push(c);
  }
  return attempts;
}

/**
 * The sites that have nodes this allocation could take (available,
 * unassociated, not in maintenance, with a known power state, of the
 * resource class, of the owner's project, with the traits — what Ironic's
 * conductor looks for), most such nodes first, ties in configuration
 * order; a site that cannot be asked is left out. With no such node
 * anywhere, the first site is tried, so the client gets the allocation
 * error Ironic gives.
 */
async function capacityAttempts(services: ProxyServices, body: Doc, requestId: string): Promise<Attempt[]> {
  const limit = services.config.api.maxLimit;
  const traits = Array.isArray(body.traits) ? body.traits.filter((t): t is string => typeof t === 'string') : [];
  const qs = new URLSearchParams({
    provision_state: 'available',
    associated: 'false',
    maintenance: 'false',
    resource_class: String(body.resource_class),
    // Ironic's conductor also wants a known power state.
    fields: traits.length > 0 ? 'uuid,power_state,traits' : 'uuid,power_state',
    limit: String(limit),
  });
  if (typeof body.owner === 'string' && body.owner) qs.set('project', body.owner);
  const path = `/v1/nodes?${qs.toString()}`;
  const outcomes = await fanOut(services.registry.sites, async (site) => {
    const res = await site.request({ method: 'GET', path, version: services.internalVersion(), requestId });
    if (res.status !== 200) throw new Error(`site ${site.name} answered ${res.status}`);
    const nodes = parseJsonBody<{ nodes?: Array<{ power_state?: unknown; traits?: unknown }> }>(site.name, res)?.nodes ?? [];
    return nodes.filter((n) => n.power_state !== null && n.power_state !== undefined && traits.every((t) => Array.isArray(n.traits) && n.traits.includes(t))).length;
  });
  const counted = outcomes.flatMap((o) => (o.ok ? [{ site: o.site, free: o.value }] : []));
  if (counted.length === 0) throw sitesUnavailable('Cannot place the allocation', outcomes.map((o) => o.site.name));
  const withFree = counted.filter((c) => c.free > 0).sort((a, b) => b.free - a.free || a.site.ordinal - b.site.ordinal);
  if (withFree.length === 0) return [{ site: counted.sort((a, b) => a.site.ordinal - b.site.ordinal)[0]!.site }];
  return withFree.map((c) => ({ site: c.site }));
}

/**
 * Waits for the allocation to leave `allocating` at `site` (polling, bounded
 * by ALLOCATION_SETTLE_MS). Undefined when it did not settle in time or could
 * not be read: then it stays where it is.
 */
async function settle(site: SiteClient, uuid: string, req: FastifyRequest): Promise<{ doc: Doc; body: Buffer } | undefined> {
  const deadline = Date.now() + ALLOCATION_SETTLE_MS;
  let delay = 50;
  for (;;) {
    const res = await site
      .request({ method: 'GET', path: `/v1/allocations/${uuid}`, version: req.ironic.version, requestId: req.ironic.globalRequestId })
      .catch(() => undefined);
    if (!res || res.status !== 200) return undefined;
    const doc = parseJsonBody<Doc>(site.name, res);
    if (!doc) return undefined;
    if (doc.state !== 'allocating') return { doc, body: res.body };
    if (Date.now() + delay > deadline) return undefined;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 500);
  }
}

/**
 * AllocationsController._authorize_create_allocation: `create` (plus
 * `create_pre_rbac` for an owner-less allocation under the old defaults),
 * else the restricted form for a project (`create_restricted`), whose
 * allocation is owned by the caller's project. True when the body was changed.
 */
function authorizeCreate(services: ProxyServices, req: FastifyRequest, body: Doc): boolean {
  const creds = requestCredentials(services, req);
  if (!creds) return false;
  const policy = new Decider(services, creds);
  const newDefaults = services.config.osloPolicy.enforceNewDefaults;
  try {
    policy.require('baremetal:allocation:create', creds);
    if (!newDefaults && !body.owner) policy.require('baremetal:allocation:create_pre_rbac', creds);
    return false;
  } catch (err) {
    if (!(err instanceof ProxyError) || err.status !== 403) throw err;
    const project = projectOf(creds) ?? null;
    if (project && body.owner && project !== body.owner) throw err;
    if (body.owner && !newDefaults) policy.require('baremetal:allocation:create_pre_rbac', creds);
    policy.require('baremetal:allocation:create_restricted', creds);
    body.owner = project;
    return true;
  }
}
