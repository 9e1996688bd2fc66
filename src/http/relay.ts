/**
 * Sends a site's answer to the client as if the proxy had produced it:
 * status and body intact (204s stay empty), links and Location pointing at
 * the proxy (a link or Location to anywhere but the site is neutralised or
 * dropped), and the proxy's own version and request-id headers instead of
 * the site's. What is not JSON (a front end's HTML error page) is served as
 * inert text: a site's markup never runs from the proxy's origin.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SiteResponse } from '../sites/site-client.js';
import { relink, rewriteLinks, rewriteLinkBytes } from './rewrite.js';
import { SiteProtocolError } from '../errors.js';
import { faultBody } from '../ironic/error-body.js';
import { checkSiteAnswer, type AnswerExpectation } from './site-answer.js';

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
  answer: Pick<SiteResponse, 'status' | 'headers' | 'body'>,
  /** What the answer must be beyond an Ironic document (the object asked about). */
  expect?: AnswerExpectation,
): FastifyReply {
  const { site: siteName, bases: siteBases } = from;
  const base = request.ironic.baseUrl;
  // Nothing is relayed that is not the document it claims to be (issue 15): the site's 502 instead.
  const checked = checkSiteAnswer(answer, { anyValue: request.url.includes('/vendor_passthru'), ...expect });
  if (!checked.ok) return refuseAnswer(request, reply, siteName, checked.problem);
  const res = checked.body === answer.body ? answer : { ...answer, body: checked.body };
  reply.code(res.status);
  for (const name of PASSED_HEADERS) {
    const v = res.headers[name];
    if (v !== undefined) reply.header(name, v);
  }
  const location = res.headers.location;
  if (typeof location === 'string') {
    // A Location elsewhere than the site (a redirect to another host) is not passed on.
    const moved = relink(location, siteBases, base);
    if (moved !== undefined) reply.header('location', moved);
  }
  if (res.status === 204 || res.status === 304 || res.body.length === 0) {
    reply.removeHeader('content-type');
    return reply.send();
  }
  const type = String(res.headers['content-type'] ?? '');
  if (!type.includes('json')) return sendInert(reply, type, res.body);
  if (!from.nextPath) {
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
 * A body that is not JSON (an HTML error page from the site's front end,
 * plain text): relayed as text the browser will neither render nor run —
 * `text/plain` (its charset kept), no sniffing, and a policy that allows
 * nothing, should a browser open it anyway.
 */
function sendInert(reply: FastifyReply, type: string, body: Buffer): FastifyReply {
  const charset = /;\s*charset=([A-Za-z0-9._-]+)/i.exec(type)?.[1];
  return reply
    .header('content-type', charset ? `text/plain; charset=${charset}` : 'text/plain')
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "default-src 'none'; sandbox")
    .send(body);
}

/** A site answer that is not what it claims: the site's 502, in Ironic's body, before anything of it was relayed. */
function refuseAnswer(request: FastifyRequest, reply: FastifyReply, site: string, problem: string): FastifyReply {
  const err = new SiteProtocolError(site, problem);
  request.log.warn({ code: err.code, msg: err.message }, 'request failed');
  return reply.code(err.status).header('content-type', 'application/json').send(faultBody(err.status, err.message));
}

/** Sends a JSON document the proxy built. */
export function sendJson(reply: FastifyReply, status: number, doc: unknown): FastifyReply {
  return reply.code(status).header('content-type', 'application/json').send(JSON.stringify(doc));
}

/** After rewriteLinks: a `next` of the site (now on the proxy's base) keeps the node scope; a neutralised one stays empty. */
function keepNextPath(doc: unknown, base: string, path: string): void {
  if (!doc || typeof doc !== 'object') return;
  const d = doc as Record<string, unknown>;
  if (typeof d.next !== 'string' || d.next === '') return;
  const q = d.next.indexOf('?');
  d.next = `${base}${path}${q < 0 ? '' : d.next.slice(q)}`;
}
