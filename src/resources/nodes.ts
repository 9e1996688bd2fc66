/**
 * The node API. Listings merge all sites (node-list.ts); creates go to the
 * site of the node's conductor group; everything about one node — show,
 * update, delete and every sub-resource (states, management, traits, vifs,
 * bios, history, inventory, vendor_passthru, validate, node-scoped ports …)
 * — is passed to the node's site untouched, and its answer relayed.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, nodeNotFound } from '../errors.js';
import { routeToOwner } from '../federation/route-to-owner.js';
import { relaySiteResponse } from '../http/relay.js';
import { forwardTo, readJson, sendAsIs } from '../http/forward.js';
import { isUuidLike } from '../ironic/idents.js';
import { atLeast } from '../ironic/microversion.js';
import type { ProxyServices } from '../services.js';
import type { SiteClient, SiteResponse } from '../sites/site-client.js';
import { parseJsonBody } from '../sites/site-client.js';
import { assertNodeIdentFree, patchEffects, siteOfGroup } from './node-invariants.js';
import { listNodes } from './node-list.js';
import type { ResourcePlugin } from './plugin.js';
import { pathOf } from '../http/normalize-url.js';

/** Configdrives travel in provision requests; Ironic allows them 64 MiB, everything else 1 MiB. */
const PROVISION_BODY_LIMIT = 64 * 1024 * 1024;

export const nodesPlugin: ResourcePlugin = {
  name: 'nodes',
  advertises: [{ key: 'nodes', sinceMinor: 1 }],
  register: (app, services) => nodeRoutes(app, services),
};

function nodeRoutes(app: FastifyInstance, services: ProxyServices): void {
  app.get('/v1/nodes', (req, reply) => listNodes(services, req, reply, false));
  app.get('/v1/nodes/detail', (req, reply) => listNodes(services, req, reply, true));
  app.post('/v1/nodes', (req, reply) => createNode(services, req, reply));
  // Other methods on the collections: Ironic's answers (405 with Allow, or e.g. 400 "Missing mandatory
  // parameter: node_ident" for DELETE) come from a site, exactly.
  app.route({ method: ['PUT', 'PATCH', 'DELETE', 'HEAD'], url: '/v1/nodes', handler: (req, reply) => forwardTo(services, req, reply, services.defaultSite) });
  app.route({ method: ['POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'], url: '/v1/nodes/detail', handler: (req, reply) => forwardTo(services, req, reply, services.defaultSite) });

  // Deprecated form of validate: GET /v1/nodes/validate?node=<ident>.
  app.get('/v1/nodes/validate', async (req, reply) => {
    const ident = new URL(req.url, 'http://proxy').searchParams.get('node');
    if (!ident) return forwardTo(services, req, reply, services.defaultSite);
    return forwardToNode(services, req, reply, ident);
  });

  app.route({
    method: ['GET', 'PATCH', 'DELETE'],
    url: '/v1/nodes/:ident',
    handler: async (req, reply) => {
      const { ident } = req.params as { ident: string };
      if (req.method === 'PATCH') return updateNode(services, req, reply, ident);
      return forwardToNode(services, req, reply, ident, req.method === 'DELETE' ? forgetOnDelete(services, ident) : undefined);
    },
  });
  app.route({ method: ['POST', 'PUT', 'HEAD'], url: '/v1/nodes/:ident', handler: (req, reply) => forwardToNode(services, req, reply, (req.params as { ident: string }).ident) });

  app.route({
    method: ['GET', 'PUT', 'POST', 'PATCH', 'DELETE', 'HEAD'],
    url: '/v1/nodes/:ident/*',
    bodyLimit: PROVISION_BODY_LIMIT,
    handler: async (req, reply) => forwardToNode(services, req, reply, (req.params as { ident: string }).ident),
  });
}

type AfterSuccess = (site: SiteClient, res: SiteResponse) => void;

/** Below 1.5 a node is only ever found by uuid: a name is "not found", as in Ironic. */
function checkIdent(req: FastifyRequest, ident: string): void {
  if (!isUuidLike(ident) && !atLeast(req.ironic.version, 5)) throw nodeNotFound(ident);
}

async function forwardToNode(services: ProxyServices, req: FastifyRequest, reply: FastifyReply, ident: string, after?: AfterSuccess): Promise<FastifyReply> {
  checkIdent(req, ident);
  await authorizeNode(services, req, ident);
  const { site, res } = await routeToOwner(services.nodes, ident, { requestId: req.ironic.globalRequestId }, (s) => sendAsIs(s, req));
  if (res.status < 300) after?.(site, res);
  const path = pathOf(req.url);
  const nextPath = req.method === 'GET' && NODE_SCOPED_LISTING.test(path) ? path : undefined;
  return relaySiteResponse(req, reply, { ...services.registry.linkSource(site), nextPath }, res);
}

/** Node-scoped collections whose `next` Ironic points at the top-level collection. */
const NODE_SCOPED_LISTING = /^\/v1\/nodes\/[^/]+\/(ports|portgroups|volume\/connectors|volume\/targets)(\/detail)?$/;

/**
 * The caller may do this to this node (see auth/policy.ts). A project-scoped
 * caller must own or lease it; a node it may not see is "not found", as in
 * Ironic, so its existence is not revealed.
 */
async function authorizeNode(services: ProxyServices, req: FastifyRequest, ident: string): Promise<void> {
  if (!req.user) return;
  const path = pathOf(req.url);
  const whole = /^\/v1\/nodes\/[^/]+$/.test(path);
  const [action, rule] =
    req.method === 'GET' || req.method === 'HEAD'
      ? (['read', 'baremetal:node:get'] as const)
      : req.method === 'DELETE' && whole
        ? (['admin', 'baremetal:node:delete'] as const)
        : (['act', 'baremetal:node:update'] as const);
  // As Ironic: a node the caller cannot see is "not found" (404) before any permission is refused (403).
  const grant = services.policy.nodes(req.user, 'read', 'baremetal:node:get');
  if (grant.project) await assertOwnsOrLeases(services, req, ident, grant.project);
  services.policy.nodes(req.user, action, rule);
}

async function assertOwnsOrLeases(services: ProxyServices, req: FastifyRequest, ident: string, project: string): Promise<void> {
  const requestId = req.ironic.globalRequestId;
  const { site, res } = await routeToOwner(services.nodes, ident, { requestId }, (s) =>
    s.request({ method: 'GET', path: `/v1/nodes/${encodeURIComponent(ident)}?fields=uuid,owner,lessee`, version: services.internalVersion(), requestId }),
  );
  const node = res.status === 200 ? parseJsonBody<{ owner?: string | null; lessee?: string | null }>(site.name, res) : undefined;
  if (!node || (node.owner !== project && node.lessee !== project)) throw nodeNotFound(ident);
}

function forgetOnDelete(services: ProxyServices, ident: string): AfterSuccess {
  return () => services.nodes.forget(ident);
}

async function createNode(services: ProxyServices, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  services.policy.nodes(req.user, 'admin', 'baremetal:node:create');
  const body = readJson(req);
  // Anything the proxy cannot read is sent to one site, whose Ironic answers it with the exact error.
  if (!body || typeof body !== 'object' || Array.isArray(body)) return forwardTo(services, req, reply, services.defaultSite);
  const fields = body as Record<string, unknown>;
  const group = fields.conductor_group ?? '';
  if (typeof group !== 'string') return forwardTo(services, req, reply, services.defaultSite);
  const site = siteOfGroup(services.registry, group);

  const opts = { version: services.internalVersion(), requestId: req.ironic.globalRequestId };
  const checks: Promise<void>[] = [];
  if (typeof fields.name === 'string' && fields.name && !isUuidLike(fields.name)) {
    checks.push(assertNodeIdentFree(services.registry.sites, fields.name, 'name', { ...opts, except: site }));
  }
  if (typeof fields.uuid === 'string' && isUuidLike(fields.uuid)) {
    checks.push(assertNodeIdentFree(services.registry.sites, fields.uuid, 'UUID', { ...opts, except: site }));
  }
  await Promise.all(checks);

  const res = await sendAsIs(site, req);
  if (res.status === 201) {
    const created = parseJsonBody<Record<string, unknown>>(site.name, res);
    services.nodes.remember(site, created?.uuid, created?.name);
  }
  return relaySiteResponse(req, reply, services.registry.linkSource(site), res);
}

async function updateNode(services: ProxyServices, req: FastifyRequest, reply: FastifyReply, ident: string): Promise<FastifyReply> {
  checkIdent(req, ident);
  await authorizeNode(services, req, ident);
  const effects = patchEffects(readJson(req));
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
    if (effects.name !== undefined && !isUuidLike(effects.name)) {
      await assertNodeIdentFree(services.registry.sites, effects.name, 'name', { version: services.internalVersion(), requestId, except: site });
    }
    routed = { site, res: await sendAsIs(site, req) };
  }
  const { site, res } = routed;
  if (res.status === 200) {
    const updated = parseJsonBody<Record<string, unknown>>(site.name, res);
    services.nodes.remember(site, updated?.uuid, updated?.name);
  }
  return relaySiteResponse(req, reply, services.registry.linkSource(site), res);
}
