/**
 * Sends a site's answer to the client as if the proxy had produced it:
 * status and body intact (204s stay empty), links and Location pointing at
 * the proxy, and the proxy's own version and request-id headers instead of
 * the site's.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SiteResponse } from '../sites/site-client.js';
import { rebase, rewriteLinks, rewriteLinkBytes } from './rewrite.js';
import { SiteProtocolError } from '../errors.js';

/** Which site an answer came from, and the bases its links may start with. */
export interface LinkSource {
  site: string;
  bases: readonly string[];
  /**
   * For a node-scoped listing (`/v1/nodes/{n}/ports`): the path its `next`
   * must keep. Ironic points it at the top-level collection, which drops the
   * node scope on page 2; the proxy keeps it.
   */
  nextPath?: string;
}

/** Site headers worth passing on; everything else is either hop-by-hop or the proxy's to set. */
const PASSED_HEADERS = ['content-type', 'retry-after', 'content-disposition', 'allow'];

export function relaySiteResponse(
  request: FastifyRequest,
  reply: FastifyReply,
  from: LinkSource,
  res: Pick<SiteResponse, 'status' | 'headers' | 'body'>,
): FastifyReply {
  const { site: siteName, bases: siteBases } = from;
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
  if (!type.includes('json')) return reply.send(res.body);
  if (!from.nextPath && looksLikeJsonDocument(res.body)) {
    // The hot path: links rewritten in the bytes, the body never decoded, parsed nor re-encoded.
    const rewritten = rewriteLinkBytes(res.body, siteBases, base);
    if (rewritten !== undefined) return reply.header('content-type', 'application/json').send(rewritten);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(res.body.toString('utf8'));
  } catch {
    // A success that is not what it claims would be taken for data by the client: refuse it.
    if (res.status < 300) throw new SiteProtocolError(siteName, 'body is not JSON');
    return reply.send(res.body);
  }
  rewriteLinks(doc, siteBases, base);
  if (from.nextPath) keepNextPath(doc, base, from.nextPath);
  return reply.header('content-type', 'application/json').send(JSON.stringify(doc));
}

/**
 * Is the body shaped as a JSON object or array (first and last characters)?
 * What a misbehaving site sends instead of JSON (an HTML error page from a
 * front end, a body cut short) is not, and takes the parsing path, where it
 * is refused. Parsing every relayed body only to check it would cost more
 * than the rest of the relay.
 */
function looksLikeJsonDocument(body: Buffer): boolean {
  let i = 0;
  let j = body.length - 1;
  while (i < j && isJsonSpace(body[i]!)) i++;
  while (j > i && isJsonSpace(body[j]!)) j--;
  const first = body[i];
  const last = body[j];
  return i < j && ((first === OPEN_BRACE && last === CLOSE_BRACE) || (first === OPEN_BRACKET && last === CLOSE_BRACKET));
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Sends a JSON document the proxy built. */
export function sendJson(reply: FastifyReply, status: number, doc: unknown): FastifyReply {
  return reply.code(status).header('content-type', 'application/json').send(JSON.stringify(doc));
}

function keepNextPath(doc: unknown, base: string, path: string): void {
  if (!doc || typeof doc !== 'object') return;
  const d = doc as Record<string, unknown>;
  if (typeof d.next !== 'string') return;
  const q = d.next.indexOf('?');
  d.next = `${base}${path}${q < 0 ? '' : d.next.slice(q)}`;
}
