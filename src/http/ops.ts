/**
 * The proxy's own operational endpoints (not part of the Bare Metal API):
 * liveness, readiness (at least one site has told its version range, so the
 * API can answer), metrics, and the status page (status-page.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { forbidden, requestCredentials } from '../api/authorize.js';
import type { ProxyServices } from '../services.js';
import { formatVersion } from '../ironic/microversion.js';
import { sendJson } from './relay.js';
import { statusRoutes } from './status-page.js';

/**
 * The operational endpoints are the operator's: under Keystone they need
 * Ironic's `admin_api` rule (role admin or administrator; a policy file may
 * change it), like the admin-only parts of Ironic's API.
 */
function requireAdmin(services: ProxyServices, req: FastifyRequest): void {
  const creds = requestCredentials(services, req);
  if (creds && services.enforcer.decide('admin_api', creds, creds) !== 'allow') throw forbidden('admin_api');
}

export function opsRoutes(app: FastifyInstance, services: ProxyServices): void {
  app.get('/metrics', async (req, reply) => {
    requireAdmin(services, req);
    const { contentType, text } = await services.metrics.exposition();
    return reply.header('content-type', contentType).send(text);
  });
  app.get('/healthz', async (_req, reply) => sendJson(reply, 200, { status: 'ok' }));
  statusRoutes(app, services, (req) => requireAdmin(services, req));
  app.get('/readyz', async (req, reply) => {
    requireAdmin(services, req);
    const range = services.registry.commonRange();
    const sites = services.registry.sites.map((s) => {
      const info = services.registry.siteInfo(s.name);
      return {
        name: s.name,
        conductor_groups: s.config.conductorGroups,
        versions: info ? { min: formatVersion(info.range.min), max: formatVersion(info.range.max) } : null,
      };
    });
    return sendJson(reply, range ? 200 : 503, {
      status: range ? 'ready' : 'waiting for sites',
      versions: range ? { min: formatVersion(range.min), max: formatVersion(range.max) } : null,
      sites,
    });
  });
}
