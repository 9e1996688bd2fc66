/**
 * The deploy-templates API (1.55), and the routes every family of global
 * objects shares (chassis and runbooks use `globalObjectRoutes` too).
 *
 * Federation rule (docs/federation/global-objects.md): a global object exists
 * at every site with one UUID. Writes are replicated by
 * federation/replicate.ts (all sites or none, else a 503 naming each site's
 * state). Reads come from ONE site: the first by ordinal that answers —
 * every site holds the same objects, so one site's answer is the federation's,
 * with Ironic's own paging, sorting, filters and errors; drift between sites
 * is the reconcile command's business, not the listing's.
 */
import { sendAsIs } from '../http/forward.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { denied } from '../auth/policy.js';
import { ProxyError } from '../errors.js';
import { readFromOne, readObject, replicateCreate, replicateDelete, replicateUpdate, type DeleteOptions, type GlobalFamily, type WriteContext } from '../federation/replicate.js';
import { relaySiteResponse } from '../http/relay.js';
import { atLeast } from '../ironic/microversion.js';
import type { ProxyServices } from '../services.js';
import type { SiteClient, SiteResponse } from '../sites/site-client.js';
import type { ResourcePlugin } from './plugin.js';

export const DEPLOY_TEMPLATES: GlobalFamily = {
  noun: 'Deploy template',
  collectionPath: '/v1/deploy_templates',
  collectionKey: 'deploy_templates',
  fields: ['name', 'steps', 'extra'],
  sinceMinor: 55,
};

export const deployTemplatesPlugin: ResourcePlugin = {
  name: 'deploy-templates',
  advertises: [{ key: 'deploy_templates', sinceMinor: DEPLOY_TEMPLATES.sinceMinor }],
  register: (app, services) => globalObjectRoutes(app, services, DEPLOY_TEMPLATES, { rule: 'baremetal:deploy_template', belowVersion: 'site' }),
};

export interface GlobalRouteOptions {
  /** Policy rule prefix, e.g. `baremetal:chassis`. */
  rule: string;
  /**
   * Below the family's microversion: `site` lets a site answer (it knows the
   * family and answers as Ironic does); `proxy` answers here, as Ironic does
   * (404 for GET, 405 otherwise) — for families the sites may not have yet.
   */
  belowVersion: 'site' | 'proxy';
  /** `GET <collection>/detail` exists (chassis). */
  detailPath?: boolean;
  /** Checks before a delete (chassis: no nodes at any site). */
  deleteOptions?: (services: ProxyServices, req: FastifyRequest) => DeleteOptions;
  /** Sub-resources of one object (chassis: its nodes), registered before the catch-all. */
  subRoutes?: (app: FastifyInstance, services: ProxyServices) => void;
}

export function globalObjectRoutes(app: FastifyInstance, services: ProxyServices, family: GlobalFamily, opts: GlobalRouteOptions): void {
  const base = family.collectionPath;
  const sites = (): readonly SiteClient[] => [...services.registry.sites].sort((a, b) => a.ordinal - b.ordinal);
  const first = (): SiteClient => sites()[0]!;

  /** Below the family's version nothing here applies: Ironic's answer, from a site or from the proxy. */
  const gate = (handler: (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>) => async (req: FastifyRequest, reply: FastifyReply) => {
    if (atLeast(req.ironic.version, family.sinceMinor)) return handler(req, reply);
    if (opts.belowVersion === 'site') return relay(services, req, reply, await readFromOne(sites(), (s) => sendAsIs(s, req)));
    const msg = `The API version does not allow ${family.collectionKey}`;
    if (req.method === 'GET') throw new ProxyError(404, 'NOT_FOUND', msg, 'routing');
    throw new ProxyError(405, 'METHOD_NOT_ALLOWED', msg, 'routing');
  };
  const read = (req: FastifyRequest): void => {
    const grant = services.policy.nodes(req.user, 'read', `${opts.rule}:get`);
    // Global objects hang off no project: a project-scoped reader may not list them, as in Ironic 21.4.
    if (grant.project) throw denied(`${opts.rule}:get`);
  };
  const ctx = (req: FastifyRequest): WriteContext => ({
    sites: sites(),
    version: req.ironic.version,
    internalVersion: services.internalVersion(),
    requestId: req.ironic.globalRequestId,
  });
  const forwardFirst = gate(async (req, reply) => relay(services, req, reply, { site: first(), res: await sendAsIs(first(), req) }));

  const list = gate(async (req, reply) => {
    read(req);
    return relay(services, req, reply, await readFromOne(sites(), (s) => sendAsIs(s, req)));
  });
  app.get(base, list);
  if (opts.detailPath) app.get(`${base}/detail`, list);
  app.post(
    base,
    gate(async (req, reply) => {
      services.policy.nodes(req.user, 'admin', `${opts.rule}:create`);
      return relay(services, req, reply, await replicateCreate(family, ctx(req), rawBody(req)));
    }),
  );
  // Other methods on the collection: Ironic's answer (405 with Allow), from a site.
  app.route({ method: ['PUT', 'PATCH', 'DELETE', 'HEAD'], url: base, handler: forwardFirst });
  if (opts.detailPath) app.route({ method: ['POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'], url: `${base}/detail`, handler: forwardFirst });

  app.route({
    method: ['GET', 'PATCH', 'DELETE'],
    url: `${base}/:ident`,
    handler: gate(async (req, reply) => {
      const { ident } = req.params as { ident: string };
      if (req.method === 'GET') {
        read(req);
        return relay(services, req, reply, await readObject(sites(), (s) => sendAsIs(s, req)));
      }
      if (req.method === 'PATCH') {
        services.policy.nodes(req.user, 'admin', `${opts.rule}:update`);
        return relay(services, req, reply, await replicateUpdate(family, ctx(req), ident, rawBody(req)));
      }
      services.policy.nodes(req.user, 'admin', `${opts.rule}:delete`);
      return relay(services, req, reply, await replicateDelete(family, ctx(req), ident, opts.deleteOptions?.(services, req)));
    }),
  });
  app.route({ method: ['POST', 'PUT', 'HEAD'], url: `${base}/:ident`, handler: forwardFirst });
  opts.subRoutes?.(app, services);
  app.route({ method: ['GET', 'HEAD'], url: `${base}/:ident/*`, handler: forwardFirst });
  // A write below an object (runbook traits, 1.112) would change one site's copy only: refused
  // until it is replicated like the object itself, never half-applied.
  app.route({
    method: ['PUT', 'POST', 'PATCH', 'DELETE'],
    url: `${base}/:ident/*`,
    handler: gate(async () => {
      throw new ProxyError(405, 'NOT_REPLICATED', `Writes below a ${family.noun.toLowerCase()} are not replicated to every site by this proxy yet`, 'routing');
    }),
  });
}

function relay(services: ProxyServices, req: FastifyRequest, reply: FastifyReply, answer: { site: SiteClient; res: SiteResponse }): FastifyReply {
  return relaySiteResponse(req, reply, services.registry.linkSource(answer.site), answer.res);
}

function rawBody(req: FastifyRequest): Buffer | undefined {
  return Buffer.isBuffer(req.body) && req.body.length > 0 ? req.body : undefined;
}
