/**
 * The node API. Listings merge all sites (node-list.ts); creates go to the
 * site of the node's conductor group; everything about one node — show,
 * update, delete and every sub-resource (states, management, traits, vifs,
 * bios, history, inventory, vendor_passthru, validate, node-scoped ports …)
 * — is passed to the node's site untouched, and its answer relayed.
 */
import { afterPolicy } from '../api/body.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, conflict, nodeNotFound, ProxyError, SiteProtocolError, unroutable } from '../errors.js';
import { routeToOwner } from '../federation/route-to-owner.js';
import { relaySiteResponse } from '../http/relay.js';
import { readJson, sendAsIs } from '../http/forward.js';
import { volumeLinks } from '../ironic/links.js';
import { isUuidLike } from '../ironic/idents.js';
import { atLeast } from '../ironic/microversion.js';
import type { ProxyServices } from '../services.js';
import type { SiteClient, SiteResponse } from '../sites/site-client.js';
import { parseJsonBody, readIdentity } from '../sites/site-client.js';
import { assertNodeIdentFree, patchEffects, siteOfGroup } from './node-invariants.js';
import { listNodes } from './node-list.js';
import { projectOf, type Engine, type EngineContext, type LoadedTarget } from '../api/engine.js';
import type { ResourceModule } from './plugin.js';
import { authorizeNodeRules, Decider, nodeTarget, requestCredentials } from '../api/authorize.js';
import { loadTarget } from '../api/targets.js';
import { objectAnswer } from '../federation/ask.js';
import { checkAllocationVisible } from './allocations.js';
import type { Credentials } from '../policy/enforcer.js';
import { sendJson } from '../http/relay.js';
import { rewriteLinks } from '../http/rewrite.js';
import { pathOf } from '../http/normalize-url.js';


/** The node API's engines, named as the table names them (src/api/table/nodes.ts). */
export const nodesModule: ResourceModule = { name: 'nodes', engines: () => NODE_ENGINES };

const NODE_ENGINES: Record<string, Engine> = {
  'node.list': (c) => listNodes(c.services, c.req, c.reply, c.entry.path.endsWith('/detail'), c.authz.listProject),
  'node.create': (c) => createNode(c),
  'node.show': (c) => showNode(c),
  'node.update': (c) => updateNode(c),
  'node.delete': (c) => deleteNode(c),
  'node.forward': (c) => forwardToNode(c.services, c.req, c.reply, c.params.node_ident!, c.authz.node?.site),
  'node.sub-list': (c) => forwardToNode(c.services, c.req, c.reply, c.params.node_ident!, c.authz.node?.site),
  // Deprecated form of validate: GET /v1/nodes/validate?node=<ident> (authorised by the table: node_uuid first, then node).
  'node.validate-by-query': (c) => {
    const ident = c.query.get('node_uuid') || c.query.get('node');
    if (!ident) throw badRequest('Expected a logical name or UUID but received None.');
    return forwardToNode(c.services, c.req, c.reply, ident, c.authz.node?.site);
  },
  // The node's allocation, then Ironic's check of baremetal:allocation:get with the allocation's owner.
  'node.allocation': async (c) => {
    const { services, req, reply } = c;
    const ident = c.params.node_ident!;
    checkIdent(req, ident);
    if (c.authz.node) services.nodes.remember(c.authz.node.site, ident);
    const requestId = req.ironic.globalRequestId;
    const { site, res } = await routeToOwner(services.nodes, ident, { requestId }, (s) => sendAsIs(s, req));
    const creds = requestCredentials(services, req);
    if (creds && res.status === 200) {
      let doc = parseJsonBody<Record<string, unknown>>(site.name, res);
      if (doc && !('owner' in doc)) {
        // `fields` left the owner out: it is read for the check (gone meanwhile: no allocation to show).
        const again = await site.request({ method: 'GET', path: `/v1/nodes/${encodeURIComponent(ident)}/allocation?fields=uuid,owner`, version: services.internalVersion(), requestId });
        const answer = objectAnswer(site, again, undefined, ['owner']);
        if (!answer.found) throw new ProxyError('ALLOCATION_NOT_FOUND', `Allocation for node ${ident} was not found`);
        doc = answer.doc;
      }
      if (!doc) throw new SiteProtocolError(site.name, 'allocation is not a JSON object');
      checkAllocationVisible(services, req, doc);
    }
    return relaySiteResponse(req, reply, services.registry.linkSource(site), res);
  },
  // Links built from the ident as written (Ironic does not look the node up): answered by the proxy, no site asked.
  'node.volume-links': (c) => sendJson(c.reply, 200, volumeLinks(c.req.ironic.baseUrl, c.params.node_ident!)),
};

/**
 * `GET /v1/nodes/{ident}`: relayed as the site wrote it, except that a caller
 * who lacks `baremetal:node:get:filter_threshold` gets Ironic's redactions
 * (driver_info, last_error, reservation, driver_internal_info), decided
 * with the node's owner and lessee as target.
 */
async function showNode(c: EngineContext): Promise<FastifyReply> {
  const { services, req, reply } = c;
  const ident = c.params.node_ident!;
  checkIdent(req, ident);
  const creds = requestCredentials(services, req);
  if (!creds || !needsRedaction(services, creds)) return forwardToNode(services, req, reply, ident, c.authz.node?.site);
  const requestId = req.ironic.globalRequestId;
  if (c.authz.node) services.nodes.remember(c.authz.node.site, ident);
  const { site, res } = await routeToOwner(services.nodes, ident, { requestId }, (s) => sendAsIs(s, req));
  if (res.status !== 200) return relaySiteResponse(req, reply, services.registry.linkSource(site), res);
  // The node asked about, read as Ironic's JSON (another node, or garbage, is the site's 502).
  const answer = objectAnswer(site, res, ident);
  if (!answer.found) throw new SiteProtocolError(site.name, 'a 200 that is not the node');
  const node = answer.doc;
  // As Ironic's show: the target's owner and lessee are the node's — unless `fields` left them out of the
  // answer. An old version hides them from the answer, not from the target: then they are read.
  let holder = node as { owner: unknown; lessee: unknown };
  if (!c.query.has('fields') && !('owner' in node)) holder = c.authz.node ?? (await loadTarget(services, req, 'node', ident));
  redactNode(services, creds, node, holder);
  return sendJson(reply, 200, rewriteLinks(node, services.registry.linkBases(site), req.ironic.baseUrl));
}

async function deleteNode(c: EngineContext): Promise<FastifyReply> {
  const ident = c.params.node_ident!;
  // Ironic: baremetal:node:delete, else (project_admin_can_manage_own_nodes) baremetal:node:delete:self_owned_node.
  let node;
  try {
    node = await authorizeNodeRules(c.services, c.req, ident, ['baremetal:node:delete']);
  } catch (err) {
    if (!(err instanceof ProxyError && err.status === 403) || !c.services.config.osloPolicy.projectAdminCanManageOwnNodes) throw err;
    node = await authorizeNodeRules(c.services, c.req, ident, ['baremetal:node:delete:self_owned_node']);
  }
  return forwardToNode(c.services, c.req, c.reply, ident, node?.site, forgetOnDelete(c.services, ident));
}


type AfterSuccess = (site: SiteClient, res: SiteResponse) => void;

/** Below 1.5 a node is only ever found by uuid: a name is "not found", as in Ironic. */
function checkIdent(req: FastifyRequest, ident: string): void {
  if (!isUuidLike(ident) && !atLeast(req.ironic.version, 5)) throw nodeNotFound(ident);
}

async function forwardToNode(
  services: ProxyServices,
  req: FastifyRequest,
  reply: FastifyReply,
  ident: string,
  known?: SiteClient,
  after?: AfterSuccess,
): Promise<FastifyReply> {
  checkIdent(req, ident);
  // Authorisation may have just read the node at its site: that site is asked, without a second lookup.
  if (known) services.nodes.remember(known, ident);
  const { site, res } = await routeToOwner(services.nodes, ident, { requestId: req.ironic.globalRequestId }, (s) => sendAsIs(s, req));
  if (res.status < 300) after?.(site, res);
  const path = pathOf(req.url);
  const nextPath = req.method === 'GET' && NODE_SCOPED_LISTING.test(path) ? path : undefined;
  // The node itself: its site's answer must be that node (issue 15/16.1), named in full unless `fields` was asked.
  // (Only the path that names the node: GET /v1/nodes/validate?node=… answers a validation, not a node.)
  const itself = req.method === 'GET' && NODE_ITSELF.test(path) && safeDecode(path.slice('/v1/nodes/'.length)) === ident;
  const expect = itself ? { identity: { ident, complete: !req.url.includes('fields=') } } : undefined;
  return relaySiteResponse(req, reply, { ...services.registry.linkSource(site), nextPath }, res, expect);
}

/** `/v1/nodes/{ident}` itself, not a sub-resource. */
const NODE_ITSELF = /^\/v1\/nodes\/[^/]+$/;

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Node-scoped collections whose `next` Ironic points at the top-level collection. */
const NODE_SCOPED_LISTING = /^\/v1\/nodes\/[^/]+\/(ports|portgroups|volume\/connectors|volume\/targets)(\/detail)?$/;

function forgetOnDelete(services: ProxyServices, ident: string): AfterSuccess {
  return () => services.nodes.forget(ident);
}

async function createNode(c: EngineContext): Promise<FastifyReply> {
  const { services, req, reply } = c;
  const body = readJson(req);
  const readable = body !== null && typeof body === 'object' && !Array.isArray(body);
  const fields = readable ? (body as Record<string, unknown>) : {};
  // The policy first: nothing reaches a site for a caller Ironic would refuse, a malformed body included.
  const creds = requestCredentials(services, req);
  const owner = creds ? authorizeCreate(services, creds, fields) : undefined;
  await afterPolicy(req);
  // The table's body check refused every body that is not an object (an empty one: Ironic's "'driver' is a
  // required property"), and a conductor group of another type: nothing here goes to a site it was not meant for.
  if (!readable) throw unroutable('a node create without a readable body');
  const group = fields.conductor_group ?? '';
  if (typeof group !== 'string') throw unroutable('a node create whose conductor group is not a string');
  const site = siteOfGroup(services.registry, group);

  // The name and uuid are reserved from before the other sites are asked until the site has answered the create.
  const res = await services.reservations.guarded(async (guard) => {
    const opts = { version: services.internalVersion(), requestId: req.ironic.globalRequestId, except: site, guard };
    const checks: Promise<void>[] = [];
    if (typeof fields.name === 'string' && fields.name && !isUuidLike(fields.name)) {
      checks.push(assertNodeIdentFree(services.registry.sites, fields.name, 'name', opts));
    }
    if (typeof fields.uuid === 'string' && isUuidLike(fields.uuid)) {
      checks.push(assertNodeIdentFree(services.registry.sites, fields.uuid, 'UUID', opts));
    }
    await Promise.all(checks);
    // Under Keystone the owner is the proxy's to set (see ownerAfterCreate); from 1.50 it is left out of the create.
    const stripOwner = owner !== undefined && atLeast(req.ironic.version, 50) && 'owner' in fields;
    const sent = stripOwner ? Buffer.from(JSON.stringify({ ...fields, owner: undefined })) : undefined;
    return sendAsIs(site, req, sent ? { body: sent } : {});
  });
  if (res.status !== 201) return relaySiteResponse(req, reply, services.registry.linkSource(site), res);
  const created = parseJsonBody<Record<string, unknown>>(site.name, res);
  // Cached: what the client asked to create, as the site confirms it (issue 16.1: not what an answer merely names).
  services.nodes.learn(site, [fields.uuid, fields.name], created);
  if (owner === undefined || !created || typeof created.uuid !== 'string') return relaySiteResponse(req, reply, services.registry.linkSource(site), res);
  const fixed = await ownerAfterCreate(services, req, site, created.uuid, owner);
  if (!fixed) return relaySiteResponse(req, reply, services.registry.linkSource(site), res);
  if (fixed === 'gone') {
    // Another request deleted the node between its create and its owner: the create succeeded, and Ironic would
    // have answered it with the node as created, its owner the one asked. That document, not an error or a 404.
    const doc = 'owner' in created ? { ...created, owner } : created;
    return relaySiteResponse(req, reply, services.registry.linkSource(site), { ...res, body: Buffer.from(JSON.stringify(doc)) });
  }
  // The node as the client's version shows it, with the Location of the create.
  const location = res.headers.location;
  return relaySiteResponse(req, reply, services.registry.linkSource(site), { ...fixed, status: 201, headers: { ...fixed.headers, ...(location ? { location } : {}) } });
}

/**
 * NodesController.post's policy: `create:self_owned_node` first (with
 * [api]project_admin_can_manage_own_nodes), else `baremetal:node:create`.
 * Returns the owner Ironic would give the node: the caller's project for a
 * self-owned create by a caller that is not system-scoped (another owner in
 * the body is a 400), else the body's owner.
 */
function authorizeCreate(services: ProxyServices, creds: Credentials, fields: Record<string, unknown>): string | null {
  const policy = new Decider(services, creds);
  const ownNode = services.config.osloPolicy.projectAdminCanManageOwnNodes && policy.decide('baremetal:node:create:self_owned_node', creds) === 'allow';
  if (!ownNode) policy.require('baremetal:node:create', creds);
  const asked = typeof fields.owner === 'string' && fields.owner ? fields.owner : null;
  if (!ownNode || creds.system_scope === 'all') return asked;
  const project = projectOf(creds) ?? null;
  if (asked && asked !== project) throw badRequest('Cannot create a node as a project scoped admin with an owner other than your own project.');
  return project;
}

/**
 * A site sets the owner of a node by its own rules for its own caller — the
 * proxy: under noauth it refuses any owner, with project-scoped credentials
 * it makes the proxy's project the owner. So the owner Ironic would have
 * given the user is set by the proxy after the create (PATCH at the proxy's
 * version), and the node read again at the client's version. If the owner
 * cannot be set, the node is deleted again: no node with the wrong owner.
 * Undefined when the site already gave it that owner; 'gone' when another
 * request deleted the node meanwhile (a 404 at any step).
 */
async function ownerAfterCreate(services: ProxyServices, req: FastifyRequest, site: SiteClient, uuid: string, owner: string | null): Promise<SiteResponse | 'gone' | undefined> {
  const requestId = req.ironic.globalRequestId;
  const version = services.internalVersion();
  const current = await site.request({ method: 'GET', path: `/v1/nodes/${uuid}?fields=uuid,owner`, version, requestId });
  if (current.status === 404) return 'gone';
  const doc = current.status === 200 ? parseJsonBody<Record<string, unknown>>(site.name, current) : undefined;
  if (doc && (doc.owner ?? null) === owner) return undefined;
  const patch = owner === null ? [{ op: 'remove', path: '/owner' }] : [{ op: 'add', path: '/owner', value: owner }];
  const patched = await site.request({
    method: 'PATCH',
    path: `/v1/nodes/${uuid}`,
    version,
    requestId,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify(patch)),
  });
  if (patched.status === 404) return 'gone';
  if (patched.status !== 200) {
    await site.request({ method: 'DELETE', path: `/v1/nodes/${uuid}`, version, requestId }).catch(() => undefined);
    throw new ProxyError('OWNER_NOT_SET', `Node ${uuid} was not created: site ${site.name} did not accept its owner (status ${patched.status}); the node was deleted again.`);
  }
  const shown = await site.request({ method: 'GET', path: `/v1/nodes/${uuid}`, version: req.ironic.version, requestId });
  return shown.status === 404 ? 'gone' : shown;
}

/** Hardware interface fields (`boot_interface` …): changing them is `update:driver_interfaces`. */
const INTERFACES = new Set(['bios', 'boot', 'console', 'deploy', 'inspect', 'management', 'network', 'power', 'raid', 'rescue', 'storage', 'vendor']);

/** Ironic's per-field rules for a node patch (NodesController._authorize_patch_and_get_node), in its order. */
export function nodePatchRules(patch: unknown): string[] {
  const rules: string[] = [];
  let generic = false;
  for (const op of Array.isArray(patch) ? patch : []) {
    const path = op && typeof op === 'object' && typeof (op as { path?: unknown }).path === 'string' ? (op as { path: string }).path : '';
    const value = (op as { value?: unknown } | null)?.value;
    const iface = path.replace(/^\/+/, '');
    const cut = iface.lastIndexOf('_');
    if (path.startsWith('/instance_info')) rules.push('baremetal:node:update_instance_info');
    else if (path.startsWith('/extra')) rules.push('baremetal:node:update_extra');
    else if (path.startsWith('/automated_clean') && pyBool(value) === false) rules.push('baremetal:node:disable_cleaning');
    else if (path.startsWith('/driver_info')) rules.push('baremetal:node:update:driver_info');
    else if (path.startsWith('/properties')) rules.push('baremetal:node:update:properties');
    else if (path.startsWith('/chassis_uuid')) rules.push('baremetal:node:update:chassis_uuid');
    else if (path.startsWith('/instance_uuid')) rules.push('baremetal:node:update:instance_uuid');
    else if (path.startsWith('/lessee')) rules.push('baremetal:node:update:lessee');
    else if (path.startsWith('/owner')) rules.push('baremetal:node:update:owner');
    else if (path.startsWith('/driver')) rules.push('baremetal:node:update:driver_interfaces');
    else if (cut > 0 && INTERFACES.has(iface.slice(0, cut)) && iface.slice(cut + 1) === 'interface') rules.push('baremetal:node:update:driver_interfaces');
    else if (path.startsWith('/network_data')) rules.push('baremetal:node:update:network_data');
    else if (path.startsWith('/conductor_group')) rules.push('baremetal:node:update:conductor_group');
    else if (path.startsWith('/name')) rules.push('baremetal:node:update:name');
    else if (path.startsWith('/retired')) rules.push('baremetal:node:update:retired');
    else if (path.startsWith('/shard')) rules.push('baremetal:node:update:shard');
    else generic = true;
  }
  if (generic || rules.length === 0) rules.push('baremetal:node:update');
  return rules;
}

/** oslo_utils.strutils.bool_from_string(value, default=None). */
function pyBool(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  const text = String(value).trim().toLowerCase();
  if (['1', 't', 'true', 'on', 'y', 'yes'].includes(text)) return true;
  if (['0', 'f', 'false', 'off', 'n', 'no'].includes(text)) return false;
  return undefined;
}

async function updateNode(c: EngineContext): Promise<FastifyReply> {
  const { services, req, reply } = c;
  const ident = c.params.node_ident!;
  checkIdent(req, ident);
  const patch = readJson(req);
  // The per-field rules of the patch (the visibility check comes first, with the first rule); a body that
  // is not a patch is checked against baremetal:node:update before its site answers Ironic's error.
  const node = await authorizeNodeRules(services, req, ident, nodePatchRules(patch));
  await afterPolicy(req);
  if (node) services.nodes.remember(node.site, ident);
  const creds = requestCredentials(services, req);
  if (creds && Array.isArray(patch)) await checkOwnerChangeOfActiveNode(services, req, creds, ident, patch);
  const effects = patchEffects(patch);
  const requestId = req.ironic.globalRequestId;
  let routed: { site: SiteClient; res: SiteResponse };
  if (effects.conductorGroup === undefined && effects.name === undefined) {
    routed = await routeToOwner(services.nodes, ident, { requestId }, (s) => sendAsIs(s, req));
  } else {
    // The checks depend on where the node is, so that is asked fresh, not taken from a cache that may be stale.
    const site = (await services.nodes.lookup(ident, { requestId })).site;
    if (effects.conductorGroup !== undefined) {
      const target = siteOfGroup(services.registry, effects.conductorGroup);
      if (target !== site) {
        throw badRequest(
          `Node ${ident} cannot move to conductor group "${effects.conductorGroup}": that group is served by site ${target.name}, ` +
            `while the node is at site ${site.name}. Nodes cannot move between sites; delete the node and enroll it again at ${target.name}.`,
        );
      }
    }
    const newName = effects.name !== undefined && !isUuidLike(effects.name) ? effects.name : undefined;
    const res = await services.reservations.guarded(async (guard) => {
      if (newName !== undefined) {
        await assertNodeIdentFree(services.registry.sites, newName, 'name', { version: services.internalVersion(), requestId, except: site, guard });
      }
      return sendAsIs(site, req);
    });
    routed = { site, res };
  }
  const { site, res } = routed;
  if (res.status === 200) {
    // Only the node's uuid and name matter to the location cache: scanned, not parsed (the hot path of a PATCH).
    services.nodes.learn(site, [ident, effects.name], readIdentity(site.name, res));
  }
  return relaySiteResponse(req, reply, services.registry.linkSource(site), res);
}

/**
 * Ironic refuses (409) a new owner for an active node unless the caller has
 * `baremetal:node:update_owner_provisioned`; the site, called with the
 * proxy's credentials, would not — so the proxy checks it.
 */
async function checkOwnerChangeOfActiveNode(services: ProxyServices, req: FastifyRequest, creds: Credentials, ident: string, patch: unknown[]): Promise<void> {
  const setsOwner = patch.some((op) => op && typeof op === 'object' && (op as { path?: unknown }).path === '/owner' && (op as { value?: unknown }).value);
  if (!setsOwner) return;
  const policy = new Decider(services, creds);
  if (policy.decide('baremetal:node:update_owner_provisioned', nodeTarget(creds, undefined)) === 'allow') return;
  const requestId = req.ironic.globalRequestId;
  const { site, res } = await routeToOwner(services.nodes, ident, { requestId }, (s) =>
    s.request({ method: 'GET', path: `/v1/nodes/${encodeURIComponent(ident)}?fields=uuid,owner,lessee,provision_state`, version: services.internalVersion(), requestId }),
  );
  // A site that cannot say whether the node is active refuses the change (503), it does not let it through.
  const answer = objectAnswer(site, res, ident, ['owner', 'lessee', 'provision_state']);
  if (!answer.found) return;
  const node = answer.doc;
  if (node.provision_state !== 'active') return;
  const target = nodeTarget(creds, { owner: typeof node.owner === 'string' ? node.owner : null, lessee: typeof node.lessee === 'string' ? node.lessee : null });
  if (policy.decide('baremetal:node:update_owner_provisioned', target) !== 'allow') {
    throw conflict(`Cannot update owner of node "${String(node.uuid)}" while it is in state "active".`);
  }
}

/** Ironic's redactions for callers without `baremetal:node:get:filter_threshold` (node_sanitize). */
export function needsRedaction(services: ProxyServices, creds: Credentials): boolean {
  return services.enforcer.decide('baremetal:node:get:filter_threshold', creds, creds) !== 'allow';
}

/** `_node_sanitize_extended` and the driver_info rule, with the node's owner/lessee as target (set only when present, as Ironic). */
export function redactNode(
  services: ProxyServices,
  creds: Credentials,
  node: Record<string, unknown>,
  holder: { owner: unknown; lessee: unknown } = node as { owner: unknown; lessee: unknown },
): void {
  const target: Record<string, unknown> = { ...creds };
  if (holder.owner) target['node.owner'] = holder.owner;
  if (holder.lessee) target['node.lessee'] = holder.lessee;
  const denied = (rule: string): boolean => services.enforcer.decide(rule, creds, target) !== 'allow';
  if ('last_error' in node && denied('baremetal:node:get:last_error')) {
    node.last_error = '** Value Redacted - Requires baremetal:node:get:last_error permission. **';
  }
  if ('reservation' in node && denied('baremetal:node:get:reservation')) {
    node.reservation = '** Redacted - requires baremetal:node:get:reservation permission. **';
  }
  if ('driver_internal_info' in node && denied('baremetal:node:get:driver_internal_info')) {
    node.driver_internal_info = { content: '** Redacted - Requires baremetal:node:get:driver_internal_info permission. **' };
  }
  if ('driver_info' in node && denied('baremetal:node:get:driver_info')) {
    node.driver_info = { content: '** Redacted - requires baremetal:node:get:driver_info permission. **' };
  }
}
