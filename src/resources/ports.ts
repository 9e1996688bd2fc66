/**
 * Ports, and the routing every node-bound resource shares (portgroups and
 * volume connectors/targets use `nodeBoundRoutes` too).
 *
 * Federation rule (docs/federation/ports.md): a port lives at its node's
 * site. Creates go to the site of `node_uuid`; show/update/delete find the
 * port's site (location cache, fan-out on a miss, stale-hit fallback);
 * listings merge all sites (collection-list.ts), except that a `node`,
 * `node_uuid` or `portgroup` filter asks only the site that holds it. A MAC
 * address is unique over all sites, as in one Ironic: creates and address
 * changes are checked against every other site first, and refused (503) when
 * a site cannot be asked. A port cannot move to a node or portgroup at
 * another site (400).
 */
import { afterPolicy } from '../api/body.js';
import { readJson, sendAsIs } from '../http/forward.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authorizeOnNode, Decider, forbidden as denied, requestCredentials } from '../api/authorize.js';
import { objectIdent, type Engine, type EngineContext } from '../api/engine.js';
import { loadTarget } from '../api/targets.js';
import { sendJson } from '../http/relay.js';
import { badRequest, conflict, nodeNotFound, ProxyError, SiteErrorResponse, sitesUnavailable, unroutable } from '../errors.js';
import { fanOut } from '../federation/fanout.js';
import { Locator } from '../federation/locator.js';
import { routeToOwner } from '../federation/route-to-owner.js';
import { relaySiteResponse } from '../http/relay.js';
import { isUuidLike, encodeSegment } from '../ironic/idents.js';
import type { ProxyServices } from '../services.js';
import type { SiteClient, SiteResponse } from '../sites/site-client.js';
import { parseJsonBody } from '../sites/site-client.js';
import { listCollection, type CollectionDef } from './collection-list.js';
import type { ResourceModule } from './plugin.js';
import { pathOf } from '../http/normalize-url.js';
import { macKey, uuidKey, type WriteGuard } from '../coordination/reservations.js';
import { checkCreateBody, nodeOfCreateMissing, refuseNowhereListing, type NodeBoundFamily } from './nowhere.js';

export const portNotFound = (ident: string): ProxyError => new ProxyError('PORT_NOT_FOUND', `Port ${ident} could not be found.`);

/** Per-process locators of node-bound objects, shared by the families that refer to each other. */
const locators = new WeakMap<ProxyServices, Map<string, Locator>>();

/** The locator of one collection (e.g. `/v1/portgroups`) for these services, made once. */
export function objectLocator(services: ProxyServices, collectionPath: string, noun: string, notFound: (id: string) => ProxyError, hasName = false): Locator {
  let byPath = locators.get(services);
  if (!byPath) locators.set(services, (byPath = new Map()));
  let locator = byPath.get(collectionPath);
  if (!locator) {
    // Ports and volume objects have no name (ports only from 1.88): a lookup asks only for what they have.
    locator = new Locator(() => services.registry.sites, { collectionPath, notFound, noun, lookupFields: hasName ? 'uuid,name' : 'uuid' }, services.config.proxy.locationCacheSize, () => services.internalVersion(), services.onLocationConflict, services.sharedLocations(collectionPath));
    byPath.set(collectionPath, locator);
  }
  return locator;
}

export const portgroupNotFound = (ident: string): ProxyError => new ProxyError('PORTGROUP_NOT_FOUND', `Portgroup ${ident} could not be found.`);
export const portgroupLocator = (services: ProxyServices): Locator =>
  objectLocator(services, '/v1/portgroups', 'portgroup', portgroupNotFound, true);
const portLocator = (services: ProxyServices): Locator => objectLocator(services, '/v1/ports', 'port', portNotFound);

/** One node-bound family: its collection, the names of its policy rules, and its cross-site invariants. */
export interface NodeBoundSpec {
  /** The table's engine family: `port`, `portgroup`, `volume_connector`, `volume_target`. */
  family: NodeBoundFamily;
  def: CollectionDef;
  /** The policy rule's resource word: `port` → `baremetal:port:get`. */
  rule: string;
  /** As Ironic's messages name it: `port`, `volume connector`. */
  noun: string;
  /** Names identify objects (portgroups); otherwise only uuids do. */
  hasName: boolean;
  /** Names identify objects from this microversion on (ports: 1.88). */
  nameSinceMinor?: number;
  /** A list filter that matches at most one object in one Ironic (ports: `address`). */
  uniqueFilter?: string;
  /** List filters that name a node (ask only its site). */
  nodeFilters: readonly string[];
  /** List filters that name a portgroup (ask only its site). */
  portgroupFilters?: readonly string[];
  /** Checks before a create goes to `site` (uniqueness over the other sites, same-site references). */
  beforeCreate?: (ctx: WriteContext, body: Record<string, unknown>) => Promise<void>;
  /** Checks before a patch goes to `site` (the object's site, asked fresh). */
  beforePatch?: (ctx: WriteContext, patch: PatchOp[], ident: string) => Promise<void>;
  /** The top-level fields whose change `beforePatch` checks; patches of other fields go straight to the owner. */
  checkedFields?: readonly string[];
}

export interface WriteContext {
  services: ProxyServices;
  req: FastifyRequest;
  /** The site the write goes to. */
  site: SiteClient;
  requestId: string;
  /** Reserves identifiers unique over all sites until the write is done (see coordination/reservations.ts). */
  guard?: WriteGuard;
}

export interface PatchOp {
  op: string;
  /** The field, without the leading slash (`address`, `extra/foo`). */
  field: string;
  value: unknown;
}

/** The engines of one node-bound family, named `<family>.<verb>` as the table names them. */
export function nodeBoundEngines(services: ProxyServices, spec: NodeBoundSpec): Record<string, Engine> {
  const f = spec.family;
  return {
    [`${f}.list`]: (c) => list(services, c, spec, c.entry.path.endsWith('/detail')),
    [`${f}.create`]: (c) => create(services, c.req, c.reply, spec),
    [`${f}.show`]: (c) => toOwner(services, c, spec),
    [`${f}.delete`]: (c) => toOwner(services, c, spec),
    [`${f}.update`]: (c) => update(services, c, spec),
    // A portgroup's ports (check_port_list_policy with a parent portgroup): visible portgroup, then port list_all or list.
    [`${f}.ports`]: (c) => {
      const creds = requestCredentials(services, c.req);
      if (creds) {
        const policy = new Decider(services, creds);
        if (policy.decide('baremetal:port:list_all', creds) !== 'allow') {
          if (!creds.project_id) throw denied('baremetal:port:list_all');
          policy.require('baremetal:port:list', creds);
        }
      }
      return toOwner(services, c, spec);
    },
  };
}

/** Where a filter's node/portgroup is; undefined when every site said it does not have it (a site that could not be asked: the lookup's 503). */
async function siteOf(locator: Locator, ident: string, requestId: string): Promise<SiteClient | undefined> {
  try {
    return await locator.locate(ident, { requestId });
  } catch (err) {
    if (err instanceof ProxyError && err.status === 404) return undefined;
    throw err;
  }
}

async function list(services: ProxyServices, c: EngineContext, spec: NodeBoundSpec, detailPath: boolean): Promise<FastifyReply> {
  const { req, reply } = c;
  const query = c.query;
  const requestId = req.ironic.globalRequestId;
  // The filter that pins the listing to a site, in Ironic's precedence: a portgroup, else node_uuid, else node.
  let scope: { locator: Locator; ident: string; filter: string } | undefined;
  const pgFilter = (spec.portgroupFilters ?? []).find((name) => query.get(name));
  const nodeFilter = [...spec.nodeFilters].reverse().find((name) => query.get(name));
  if (pgFilter) scope = { locator: portgroupLocator(services), ident: query.get(pgFilter)!, filter: pgFilter };
  else if (nodeFilter) scope = { locator: services.nodes, ident: query.get(nodeFilter)!, filter: nodeFilter };
  const project = c.authz.listProject;
  if (project) {
    // Ironic restricts the listing to objects of nodes the project owns or leases. Naming a node (or
    // portgroup): its objects are all the project's or none is. Else the sites list everything (they have
    // no such filter): the proxy learns the project's nodes at each site and passes over the rest.
    if (!scope) {
      const mine = await projectNodes(services, req, project);
      const unique = spec.uniqueFilter && query.get(spec.uniqueFilter) ? `${spec.uniqueFilter}=${query.get(spec.uniqueFilter)}` : undefined;
      return listCollection(services, req, reply, spec.def, {
        detailPath,
        atMostOne: unique,
        accept: { fields: ['node_uuid'], test: (site, item) => mine.get(site.name)?.has(String(item.node_uuid)) === true },
      });
    }
    const holder = await loadTarget(services, req, pgFilter ? 'portgroup' : 'node', scope.ident).catch((err: unknown) => {
      if (err instanceof ProxyError && err.status === 404) return undefined;
      throw err;
    });
    if (!holder || (holder.owner !== project && holder.lessee !== project)) {
      // As Ironic: the project filter matches nothing (a node or portgroup that is nowhere is Ironic's 404 below).
      if (holder) return sendJson(reply, 200, { [spec.def.collectionKey]: [] });
    }
  }
  if (!scope) {
    const unique = spec.uniqueFilter && query.get(spec.uniqueFilter) ? `${spec.uniqueFilter}=${query.get(spec.uniqueFilter)}` : undefined;
    return listCollection(services, req, reply, spec.def, { detailPath, atMostOne: unique });
  }

  const { locator, ident } = scope;
  const cached = locator.cached(ident) ?? (await locator.known(ident));
  const site = cached ?? (await siteOf(locator, ident, requestId));
  // Nowhere, as every site said: Ironic's answer, made here (nothing is sent to a site that does not hold it).
  if (!site) return refuseNowhereListing(req, query, spec.family, spec.def, detailPath, scope);
  try {
    return await listCollection(services, req, reply, spec.def, { detailPath, sites: [site] });
  } catch (err) {
    // A cached location may be stale (deleted, or re-enrolled elsewhere): ask every site once, and retry there.
    if (!cached || !(err instanceof SiteErrorResponse) || err.response.status !== 404) throw err;
    locator.forget(ident);
    const fresh = await freshSiteOf(locator, ident, requestId);
    if (!fresh || fresh === site) throw err;
    return listCollection(services, req, reply, spec.def, { detailPath, sites: [fresh] });
  }
}

/**
 * Below the resource's name support only a UUID names an object: the router
 * refused anything else with Ironic's 400 (the table's `uuidOnly`), so an
 * engine never has to look for it, nor send it to a site.
 */
function checkRoutable(spec: NodeBoundSpec, req: FastifyRequest, ident: string): void {
  if (spec.hasName || isUuidLike(ident) || (spec.nameSinceMinor !== undefined && req.ironic.version.minor >= spec.nameSinceMinor)) return;
  throw unroutable(`a ${spec.noun} named by something that is not a UUID`);
}

async function toOwner(services: ProxyServices, c: EngineContext, spec: NodeBoundSpec): Promise<FastifyReply> {
  const { req, reply } = c;
  const ident = objectIdent(c);
  checkRoutable(spec, req, ident);
  const locator = spec.def.locator;
  // Authorisation may have just read the object at its site.
  if (c.authz.node) locator.remember(c.authz.node.site, ident);
  const { site, res } = await routeToOwner(locator, ident, { requestId: req.ironic.globalRequestId }, (s) => sendAsIs(s, req));
  const path = pathOf(req.url);
  if (req.method === 'DELETE' && res.status < 300 && path === `${spec.def.path}/${ident}`) locator.forget(ident);
  // A portgroup's ports: keep the scope in `next` (Ironic points it at /v1/ports).
  const nextPath = req.method === 'GET' && /\/ports(\/detail)?$/.test(path) && path !== spec.def.path ? path : undefined;
  return relaySiteResponse(req, reply, { ...services.registry.linkSource(site), nextPath }, res);
}

async function create(services: ProxyServices, req: FastifyRequest, reply: FastifyReply, spec: NodeBoundSpec): Promise<FastifyReply> {
  const body = readJson(req);
  const readable = body !== null && typeof body === 'object' && !Array.isArray(body);
  const fields = readable ? (body as Record<string, unknown>) : {};
  const requestId = req.ironic.globalRequestId;
  // `node_ident` (1.94) names the node by name or uuid.
  const nodeIdent = fields.node_uuid ?? fields.node_ident;
  const rules = [`baremetal:${spec.rule}:create`];
  // The table's body check refused every body that is not an object, an empty one with Ironic's "'<field>' is a
  // required property" (createBody's `required`, or the port's check).
  if (!readable) {
    await authorizeOnNode(services, req, rules, undefined);
    await afterPolicy(req);
    throw unroutable(`a ${spec.noun} create without a readable body`);
  }
  // The node's site, asked of every site now (a site that cannot be asked: the lookup's 503, never "not found").
  const site = typeof nodeIdent === 'string' && nodeIdent ? await freshSiteOf(services.nodes, nodeIdent, requestId) : undefined;
  if (!site) {
    // No site has it: Ironic's answer, made here in its order — the whole body check (before its policy), the
    // policy with no owner or lessee, then its error for the node.
    checkCreateBody(spec.family, fields);
    await authorizeOnNode(services, req, rules, undefined);
    await afterPolicy(req);
    throw nodeOfCreateMissing(spec.family, fields.node_uuid);
  }
  // Ironic checks `baremetal:<kind>:create` with the node's owner and lessee as target (no concealment) —
  // before anything, a malformed body included, reaches a site.
  await authorizeOnNode(services, req, rules, nodeIdent as string);
  await afterPolicy(req);
  // Identifiers unique over all sites are reserved from before the checks until the site has answered.
  const res = await services.reservations.guarded(async (guard) => {
    const ctx: WriteContext = { services, req, site, requestId, guard };
    const checks: Promise<void>[] = [];
    // A client's UUID is unique over all sites, as in one Ironic (PortAlreadyExists & co.).
    if (typeof fields.uuid === 'string' && isUuidLike(fields.uuid)) {
      const uuid = fields.uuid;
      checks.push(
        assertFreeElsewhere(ctx, `${spec.def.path}/${uuid}?fields=uuid`, undefined, `A ${spec.noun} with UUID ${uuid} already exists.`, `${spec.noun} UUID ${uuid}`, `${spec.family}:uuid:${uuidKey(uuid)}`),
      );
    }
    if (spec.beforeCreate) checks.push(spec.beforeCreate(ctx, fields));
    await Promise.all(checks);
    return sendAsIs(site, req);
  });
  if (res.status === 201) {
    const created = parseJsonBody<Record<string, unknown>>(site.name, res);
    spec.def.locator.learn(site, [fields.uuid, fields.name], created);
  }
  return relaySiteResponse(req, reply, services.registry.linkSource(site), res);
}

/** Where `ident` is, asked of every site now (a write must not rely on a cache entry that may be stale). */
export async function freshSiteOf(locator: Locator, ident: string, requestId: string): Promise<SiteClient | undefined> {
  try {
    return (await locator.lookup(ident, { requestId })).site;
  } catch (err) {
    if (err instanceof ProxyError && err.status === 404) return undefined;
    throw err;
  }
}

/** The operations of a JSON Patch the proxy can read; a malformed patch is the site's to refuse. */
export function readPatch(doc: unknown): PatchOp[] {
  if (!Array.isArray(doc)) return [];
  const ops: PatchOp[] = [];
  for (const op of doc) {
    if (!op || typeof op !== 'object') continue;
    const { op: verb, path, value } = op as { op?: unknown; path?: unknown; value?: unknown };
    if (typeof verb !== 'string' || typeof path !== 'string') continue;
    ops.push({ op: verb, field: path.replace(/^\/+/, '').replace(/\/+$/, ''), value });
  }
  return ops;
}

/** The value a patch sets a top-level field to (add/replace), if it does. */
export function patchedValue(ops: readonly PatchOp[], field: string): unknown {
  let v: unknown;
  for (const op of ops) if (op.field === field && (op.op === 'add' || op.op === 'replace')) v = op.value;
  return v;
}

async function update(services: ProxyServices, c: EngineContext, spec: NodeBoundSpec): Promise<FastifyReply> {
  const { req, reply } = c;
  const ident = objectIdent(c);
  checkRoutable(spec, req, ident);
  if (c.authz.node) spec.def.locator.remember(c.authz.node.site, ident);
  const requestId = req.ironic.globalRequestId;
  const ops = readPatch(readJson(req));
  const locator = spec.def.locator;
  let routed: { site: SiteClient; res: SiteResponse };
  const checked = spec.beforePatch && ops.some((op) => spec.checkedFields?.includes(op.field));
  if (!checked || !spec.beforePatch) {
    routed = await routeToOwner(locator, ident, { requestId }, (s) => sendAsIs(s, req));
  } else {
    const site = (await locator.lookup(ident, { requestId })).site;
    const check = spec.beforePatch;
    const res = await services.reservations.guarded(async (guard) => {
      await check({ services, req, site, requestId, guard }, ops, ident);
      return sendAsIs(site, req);
    });
    routed = { site, res };
  }
  const { site, res } = routed;
  if (res.status === 200) {
    const updated = parseJsonBody<Record<string, unknown>>(site.name, res);
    locator.learn(site, [ident], updated);
  }
  return relaySiteResponse(req, reply, services.registry.linkSource(site), res);
}

/**
 * Refuses when a site other than `except` answers `path` with a non-empty
 * collection (`collectionKey`) or, without a key, with 200. A site that
 * cannot be asked makes the answer unknown: refused (503), since a duplicate
 * would be silent and permanent. A 4xx (an invalid value) is left to the
 * target site, which answers it as Ironic does.
 */
export async function assertFreeElsewhere(
  ctx: WriteContext,
  path: string,
  collectionKey: string | undefined,
  taken: string,
  what: string,
  /** The reservation to take first (e.g. `port:mac:…`), when the write has a guard. */
  reserve?: string,
): Promise<void> {
  const { services, site: except, requestId } = ctx;
  if (reserve) await ctx.guard?.take(reserve, taken, what);
  const others = services.registry.sites.filter((s) => s !== except);
  const outcomes = await fanOut(others, (s) => s.request({ method: 'GET', path, version: services.internalVersion(), requestId }));
  for (const o of outcomes) {
    if (!o.ok || o.value.status !== 200) continue;
    if (!collectionKey) throw conflict(taken);
    const body = parseJsonBody<Record<string, unknown>>(o.site.name, o.value);
    const items = body?.[collectionKey];
    if (Array.isArray(items) && items.length > 0) throw conflict(taken);
  }
  const silent = outcomes.filter((o) => !o.ok || o.value.status >= 500).map((o) => o.site.name);
  if (silent.length > 0) throw sitesUnavailable(`Cannot verify that ${what} is unused`, silent);
}

/** A reference (node, portgroup) the write sets must be at the object's own site. */
export async function assertSameSite(ctx: WriteContext, locator: Locator, ident: string, message: (there: SiteClient) => string): Promise<void> {
  const there = await freshSiteOf(locator, ident, ctx.requestId);
  // Nowhere: the site answers Ironic's "not found".
  if (there && there !== ctx.site) throw badRequest(message(there));
}

export const moveRefused = (noun: string, ident: string, field: string, target: string, here: SiteClient, there: SiteClient): string =>
  `Cannot set ${field} of ${noun} ${ident} to ${target}: it is at site ${there.name}, while the ${noun} is at site ${here.name}. ` +
  `${noun[0]!.toUpperCase()}${noun.slice(1)}s cannot move between sites; delete the ${noun} and create it again at ${there.name}.`;

const PORT_FIELDS = [
  'uuid', 'address', 'node_uuid', 'portgroup_uuid', 'extra', 'internal_info', 'local_link_connection', 'pxe_enabled',
  'physical_network', 'is_smartnic', 'created_at', 'updated_at', 'name', 'description', 'vendor', 'category',
];

export const portsModule: ResourceModule = {
  name: 'ports',
  engines(services) {
    const def: CollectionDef = {
      path: '/v1/ports',
      detailPath: '/v1/ports/detail',
      collectionKey: 'ports',
      defaultFields: ['uuid', 'address'],
      apiFields: new Set(PORT_FIELDS),
      sortBlacklist: new Set(['extra', 'internal_info', 'local_link_connection']),
      locator: portLocator(services),
      notFound: portNotFound,
    };
    return nodeBoundEngines(services, {
      family: 'port',
      def,
      rule: 'port',
      noun: 'port',
      hasName: false,
      nameSinceMinor: 88,
      uniqueFilter: 'address',
      checkedFields: ['address', 'name', 'node_uuid', 'portgroup_uuid'],
      nodeFilters: ['node', 'node_uuid'],
      portgroupFilters: ['portgroup'],
      beforeCreate: async (ctx, body) => {
        const checks: Promise<void>[] = [];
        if (typeof body.address === 'string' && body.address) checks.push(assertMacFree(ctx, body.address));
        if (typeof body.name === 'string' && body.name) checks.push(assertPortNameFree(ctx, body.name));
        const pg = body.portgroup_uuid;
        if (typeof pg === 'string' && pg && typeof body.node_uuid === 'string') {
          checks.push(assertSameSite(ctx, portgroupLocator(ctx.services), pg, () => 'Port can not be added to a portgroup belonging to a different node.'));
        }
        await Promise.all(checks);
      },
      beforePatch: async (ctx, ops, ident) => {
        const checks: Promise<void>[] = [];
        const address = patchedValue(ops, 'address');
        if (typeof address === 'string' && address) checks.push(assertMacFree(ctx, address));
        const name = patchedValue(ops, 'name');
        if (typeof name === 'string' && name) checks.push(assertPortNameFree(ctx, name));
        const node = patchedValue(ops, 'node_uuid');
        if (typeof node === 'string' && node) {
          checks.push(assertSameSite(ctx, ctx.services.nodes, node, (there) => moveRefused('port', ident, 'node_uuid', `node ${node}`, ctx.site, there)));
        }
        const pg = patchedValue(ops, 'portgroup_uuid');
        if (typeof pg === 'string' && pg) {
          checks.push(assertSameSite(ctx, portgroupLocator(ctx.services), pg, (there) => moveRefused('port', ident, 'portgroup_uuid', `portgroup ${pg}`, ctx.site, there)));
        }
        await Promise.all(checks);
      },
    });
  },
};

/** A port name (1.88) is unique over all sites, as in one Ironic. */
function assertPortNameFree(ctx: WriteContext, name: string): Promise<void> {
  if (isUuidLike(name)) return Promise.resolve();
  return assertFreeElsewhere(ctx, `/v1/ports/${encodeSegment(name)}?fields=uuid`, undefined, `A port with name ${name} already exists.`, `port name ${name}`, `port:name:${name}`);
}

/** A MAC address is unique over all sites, as in one Ironic (MACAlreadyExists). */
function assertMacFree(ctx: WriteContext, address: string): Promise<void> {
  return assertFreeElsewhere(
    ctx,
    `/v1/ports?address=${encodeSegment(address)}&fields=uuid`,
    'ports',
    `A port with MAC address ${address.toLowerCase()} already exists.`,
    `MAC address ${address}`,
    `port:mac:${macKey(address)}`,
  );
}

/** Pages of nodes read per site for a project's view (10,000 nodes at the default max_limit). */
const PROJECT_NODE_PAGES = 10;

/**
 * The uuids of the nodes a project owns or leases, per site (Ironic's
 * `project` filter, which the node listing has and ports do not). A site
 * that cannot be asked makes the listing unanswerable (503), not silently
 * short.
 */
async function projectNodes(services: ProxyServices, req: FastifyRequest, project: string): Promise<Map<string, Set<string>>> {
  const requestId = req.ironic.globalRequestId;
  const version = services.internalVersion();
  const limit = services.config.api.maxLimit;
  const outcomes = await fanOut(services.registry.sites, async (site) => {
    const uuids = new Set<string>();
    let marker: string | undefined;
    for (let page = 0; page < PROJECT_NODE_PAGES; page++) {
      const qs = new URLSearchParams({ project, fields: 'uuid', limit: String(limit), sort_key: 'uuid' });
      if (marker) qs.set('marker', marker);
      const res = await site.request({ method: 'GET', path: `/v1/nodes?${qs.toString()}`, version, requestId });
      const doc = res.status === 200 ? parseJsonBody<{ nodes?: Array<{ uuid?: unknown }> }>(site.name, res) : undefined;
      if (!doc || !Array.isArray(doc.nodes)) throw new Error(`site ${site.name} answered ${res.status}`);
      for (const n of doc.nodes) if (typeof n.uuid === 'string') uuids.add(n.uuid);
      if (doc.nodes.length < limit) return uuids;
      marker = String(doc.nodes[doc.nodes.length - 1]!.uuid);
    }
    throw new Error(`project ${project} has more than ${PROJECT_NODE_PAGES * limit} nodes at site ${site.name}`);
  });
  const silent = outcomes.filter((o) => !o.ok).map((o) => o.site.name);
  if (silent.length > 0) throw sitesUnavailable(`Cannot tell which nodes project ${project} has`, silent);
  return new Map(outcomes.flatMap((o) => (o.ok ? [[o.site.name, o.value] as const] : [])));
}
