/**
 * GET /status: the operator's page. The page itself (HTML, CSS, a script,
 * shipped in static/status/, no CDN) holds no data and is served to anyone,
 * as the version documents are: under Keystone a browser has no token to
 * send when it navigates. Its data is `GET /status` with `Accept:
 * application/json`, which the script fetches with the operator's token in
 * X-Auth-Token (kept in sessionStorage, never in a URL) and which is
 * protected as /metrics is: a valid token (the Keystone gate) with Ironic's
 * admin_api rule.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ProxyServices } from '../services.js';
import { sendJson } from './relay.js';

/** True when a request to /status asks for the data: Accept names JSON and not HTML. */
export function statusWantsJson(accept: string | string[] | undefined): boolean {
  const a = (Array.isArray(accept) ? accept.join(',') : (accept ?? '')).toLowerCase();
  return a.includes('application/json') && !a.includes('text/html');
}

/** The page's files: served without a token (they hold no data). */
export const STATUS_ASSETS: Readonly<Record<string, string>> = {
  'status.css': 'text/css; charset=utf-8',
  'status.js': 'text/javascript; charset=utf-8',
};
export const STATUS_ASSET_PATHS: ReadonlySet<string> = new Set(Object.keys(STATUS_ASSETS).map((f) => `/status/${f}`));

/** Only the page's own files; nothing inline, nothing from elsewhere; only this origin is fetched. */
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

const STATIC_DIR = new URL('../../static/status/', import.meta.url);

function load(file: string): Buffer {
  return readFileSync(new URL(file, STATIC_DIR));
}

export function statusRoutes(app: FastifyInstance, services: ProxyServices, requireAdmin: (req: FastifyRequest) => void): void {
  // Read once at start-up: a missing file is a broken package, said at once rather than on the first view.
  const page = load('index.html');
  const assets = new Map(Object.keys(STATUS_ASSETS).map((f) => [f, load(f)]));
  const sendPage = (reply: FastifyReply, type: string, body: Buffer): FastifyReply => reply.headers(PAGE_HEADERS).header('content-type', type).send(body);

  app.get('/status', async (req, reply) => {
    // The page's links are relative to /status: /status/ (routed here too) would put them one level too deep.
    if (req.originalUrl.split('?')[0]!.endsWith('/')) return reply.redirect('../status', 301);
    if (!statusWantsJson(req.headers.accept)) return sendPage(reply, 'text/html; charset=utf-8', page);
    requireAdmin(req);
    services.status.viewed();
    const doc = await services.status.document();
    reply.header('cache-control', 'no-store');
    return sendJson(reply, 200, doc);
  });
  app.get<{ Params: { file: string } }>('/status/:file', async (req, reply) => {
    const body = assets.get(req.params.file);
    if (!body) return reply.callNotFound();
    return sendPage(reply, STATUS_ASSETS[req.params.file]!, body);
  });
}
