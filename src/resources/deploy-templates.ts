/**
 * The deploy-templates API (1.55), and the routes every family of global
 * objects shares (chassis and runbooks use `globalObjectEngines` too).
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
import { afterPolicy } from '../api/body.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { readFromOne, readObject, replicateCreate, replicateDelete, replicateUpdate, type DeleteOptions, type GlobalFamily, type WriteContext } from '../federation/replicate.js';
import { relaySiteResponse } from '../http/relay.js';
import type { ProxyServices } from '../services.js';
import type { SiteClient, SiteResponse } from '../sites/site-client.js';
import type { ResourceModule } from './plugin.js';
import { objectIdent, type Engine } from '../api/engine.js';

export const DEPLOY_TEMPLATES: GlobalFamily = {
  noun: 'Deploy template',
  collectionPath: '/v1/deploy_templates',
  collectionKey: 'deploy_templates',
  fields: ['name', 'steps', 'extra'],
  sinceMinor: 55,
};

export const deployTemplatesModule: ResourceModule = {
  name: 'deploy-templates',
  engines: (services) => globalObjectEngines(services, DEPLOY_TEMPLATES, 'deploy_template', {}),
};

export interface GlobalEngineOptions {
  /** Checks before a delete (chassis: no nodes at any site). */
  deleteOptions?: (services: ProxyServices, req: FastifyRequest) => DeleteOptions;
}

/**
 * The engines of a replicated family (`<family>.list|show|create|update|delete`):
 * reads from one site, writes replicated to every site with one UUID.
 * Policy and microversion gates are the table's.
 */
export function globalObjectEngines(services: ProxyServices, family: GlobalFamily, key: string, opts: GlobalEngineOptions): Record<string, Engine> {
  const sites = (): readonly SiteClient[] => [...services.registry.sites].sort((a, b) => a.ordinal - b.ordinal);
  const ctx = (req: FastifyRequest): WriteContext => ({
    sites: sites(),
    version: req.ironic.version,
    internalVersion: services.internalVersion(),
    requestId: req.ironic.globalRequestId,
  });
  return {
    [`${key}.list`]: async (c) => relay(services, c.req, c.reply, await readFromOne(sites(), (s) => sendAsIs(s, c.req))),
    [`${key}.show`]: async (c) => relay(services, c.req, c.reply, await readObject(sites(), (s) => sendAsIs(s, c.req))),
    [`${key}.create`]: async (c) => relay(services, c.req, c.reply, await replicateCreate(family, ctx(c.req), await rawBody(c.req))),
    [`${key}.update`]: async (c) => relay(services, c.req, c.reply, await replicateUpdate(family, ctx(c.req), objectIdent(c), await rawBody(c.req))),
    [`${key}.delete`]: async (c) =>
      relay(services, c.req, c.reply, await replicateDelete(family, ctx(c.req), objectIdent(c), opts.deleteOptions?.(services, c.req))),
  };
}

function relay(services: ProxyServices, req: FastifyRequest, reply: FastifyReply, answer: { site: SiteClient; res: SiteResponse }): FastifyReply {
  return relaySiteResponse(req, reply, services.registry.linkSource(answer.site), answer.res);
}

async function rawBody(req: FastifyRequest): Promise<Buffer | undefined> {
  await afterPolicy(req);
  return Buffer.isBuffer(req.body) && req.body.length > 0 ? req.body : undefined;
}
