/**
 * Sends a site's answer to the client as if the proxy had produced it:
 * status and body intact (204s stay empty), links and Location pointing at
 * the proxy, and the proxy's own version and request-id headers instead of
 * the site's.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SiteResponse } from '../sites/site-client.js';
import { rebase, rewriteLinks } from './rewrite.js';

/** Site headers worth passing on; everything else is either hop-by-hop or the proxy's to set. */
const PASSED_HEADERS = ['content-type', 'retry-after', 'content-disposition'];

export function relaySiteResponse(
  request: FastifyRequest,
  reply: FastifyReply,
  siteBases: readonly string[],
  res: Pick<SiteResponse, 'status' | 'headers' | 'body'>,
): FastifyReply {
  const base = request.ironic.baseUrl;
  reply.code(res.status);
  for (const name of PASSED_HEADERS) {
    const v = res.headers[name];
    if (v !== undefined) reply.header(name, v);
  }
  const location = res.headers.location;
  if (typeof location === 'string') reply.header('location', rebase(location, siteBases, base));
  if (res.status === 204 || res.status === 304 || res.body.length === 0) {
    reply.removeHeader('content-type');
    return reply.send();
  }
  const type = String(res.headers['content-type'] ?? '');
  if (type.includes('json')) {
    try {
      const doc = rewriteLinks(JSON.parse(res.body.toString('utf8')) as unknown, siteBases, base);
      return reply.header('content-type', 'application/json').send(JSON.stringify(doc));
    } catch {
      // Not JSON after all: relay the bytes untouched rather than invent a body.
    }
  }
  return reply.send(res.body);
}

/** Sends a JSON document the proxy built. */
export function sendJson(reply: FastifyReply, status: number, doc: unknown): FastifyReply {
  return reply.code(status).header('content-type', 'application/json').send(JSON.stringify(doc));
}
