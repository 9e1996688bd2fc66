/**
 * The Keystone gate in front of the API: every request but the version
 * documents (`/` and `/v1`, after path normalisation, so `//v1/../v1/nodes`
 * is not one of them) and the liveness probe (`GET /healthz`: probes carry
 * no token, and it tells nothing but "alive"), and the status page's files
 * (HTML, CSS, script: no data; a browser navigating has no token to send)
 * needs a valid X-Auth-Token (or X-Storage-Token, as keystonemiddleware reads it); `/readyz`, `/metrics` and the status data
 * (`/status` as JSON) describe the fleet and stay behind it. Missing, unknown, expired
 * or revoked tokens get exactly what Ironic's keystonemiddleware answers:
 * 401, `WWW-Authenticate: Keystone uri="…"`, and its JSON body. When Keystone
 * cannot be asked, the 503 is keystonemiddleware's too (webob's body, no
 * address in it); why is logged.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { KeystoneUnavailable, TokenRejected, type UserTokenValidator } from './token-validator.js';
import { keystoneUnavailableBody } from './keystone-unavailable.js';
import { pathOf } from '../http/normalize-url.js';
import { STATUS_ASSET_PATHS, statusWantsJson } from '../http/status-page.js';

const PUBLIC_PATHS = new Set(['/', '/v1']);
/** Public for GET (and HEAD) only. */
const PUBLIC_PROBES = new Set(['/healthz']);

/**
 * keystonemiddleware's 401 body as it writes it (Python's JSON separators),
 * and its Content-Type without a charset. Bodies are sent as bytes: Fastify
 * would append `; charset=utf-8` to a JSON type given a string.
 */
const UNAUTHORIZED_BODY = Buffer.from(
  '{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}',
);

export function keystoneGate(validator: UserTokenValidator, wwwAuthenticateUri: string) {
  /** True when the request may go on; false when the answer (401, 503) has been sent. */
  return async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
    const path = pathOf(request.url);
    if (PUBLIC_PATHS.has(path)) return true;
    const read = request.method === 'GET' || request.method === 'HEAD';
    if (PUBLIC_PROBES.has(path) && read) return true;
    // The status page's HTML, CSS and script hold no data; its data (/status as JSON) needs a token.
    if (read && (STATUS_ASSET_PATHS.has(path) || (path === '/status' && !statusWantsJson(request.headers.accept)))) return true;
    // keystonemiddleware's order: X-Auth-Token, else X-Storage-Token (Swift's name for it; present but empty is no token).
    const token = request.headers['x-auth-token'] ?? request.headers['x-storage-token'];
    if (typeof token === 'string' && token.length > 0 && token.length <= 8192) {
      try {
        request.user = await validator.validate(token);
        return true;
      } catch (err) {
        if (err instanceof KeystoneUnavailable) {
          request.log.error({ reason: err.detail }, 'Unable to validate token: Keystone unavailable');
          const { contentType, body } = keystoneUnavailableBody(request.headers.accept);
          reply.code(503).header('content-type', contentType).send(Buffer.from(body));
          return false;
        }
        if (!(err instanceof TokenRejected)) throw err;
      }
    }
    reply
      .code(401)
      .header('www-authenticate', `Keystone uri="${wwwAuthenticateUri}"`)
      .header('content-type', 'application/json')
      .send(UNAUTHORIZED_BODY);
    return false;
  };
}
