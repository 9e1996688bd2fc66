/**
 * Passing a client's request to a site: the one place where a request is
 * re-sent as it came (method, path, query, body, content type) with the
 * proxy's credentials, the negotiated version and the request id.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ProxyServices } from '../services.js';
import type { SiteClient, SiteResponse } from '../sites/site-client.js';
import { relaySiteResponse } from './relay.js';
import { badRequest, SiteErrorResponse } from '../errors.js';
import { readJson as readIronicJson } from '../ironic/json.js';
import { scopeOf } from './request-scope.js';
import { afterPolicy } from '../api/body.js';

export async function sendAsIs(site: SiteClient, req: FastifyRequest, overrides: { path?: string; body?: Buffer } = {}): Promise<SiteResponse> {
  // The body's own checks, if an engine has not run them yet: nothing the proxy would refuse is passed on.
  await afterPolicy(req, () => readNodeAt(site, req));
  const contentType = req.headers['content-type'];
  const raw = overrides.body ?? (Buffer.isBuffer(req.body) ? req.body : undefined);
  return site.request({
    method: req.method,
    path: overrides.path ?? req.url,
    version: req.ironic.version,
    requestId: req.ironic.globalRequestId,
    headers: contentType ? { 'content-type': contentType } : undefined,
    body: raw && raw.length > 0 ? raw : undefined,
    scope: scopeOf(req),
  });
}

/** The request as it came, to one site, its answer relayed (a node-scoped listing keeps `nextPath`). */
export async function forwardTo(services: ProxyServices, req: FastifyRequest, reply: FastifyReply, site: SiteClient, nextPath?: string): Promise<FastifyReply> {
  return relaySiteResponse(req, reply, { ...services.registry.linkSource(site), nextPath }, await sendAsIs(site, req));
}

/** The node a request is about (its path's node_ident), as its site has it: what a handler check reads. */
async function readNodeAt(site: SiteClient, req: FastifyRequest): Promise<Record<string, unknown>> {
  const ident = (req.params as Record<string, string>).a0 ?? '';
  const res = await site.requestJson<Record<string, unknown>>({
    method: 'GET',
    path: `/v1/nodes/${encodeURIComponent(ident)}`,
    version: req.ironic.version,
    requestId: req.ironic.globalRequestId,
    scope: scopeOf(req),
  });
  if (res.status !== 200 || !res.json || typeof res.json !== 'object') throw new SiteErrorResponse(site.name, res.raw);
  return res.json;
}

/**
 * The request body as JSON read as Ironic reads it (src/ironic/json.ts), or
 * undefined when there is none or it is not JSON (a site then answers the
 * error). Values the proxy cannot carry are a 400 (the server refuses them
 * on arrival already).
 */
export function readJson(req: FastifyRequest): unknown {
  if (!Buffer.isBuffer(req.body) || req.body.length === 0) return undefined;
  const read = readIronicJson(req.body);
  if (read.ok) return read.value;
  if (read.kind === 'unrepresentable') throw badRequest(`The request body cannot be read faithfully: ${read.reason}.`);
  return undefined;
}
