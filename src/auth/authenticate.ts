/**
 * The Keystone gate in front of the API: every request but the version
 * documents (`/` and `/v1`, after path normalisation, so `//v1/../v1/nodes`
 * is not one of them) needs a valid X-Auth-Token. Missing, unknown, expired
 * or revoked tokens get exactly what Ironic's keystonemiddleware answers:
 * 401, `WWW-Authenticate: Keystone uri="…"`, and its JSON body.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TokenRejected, type UserTokenValidator } from './token-validator.js';
import { pathOf } from '../http/normalize-url.js';

const PUBLIC_PATHS = new Set(['/', '/v1']);

const UNAUTHORIZED_BODY = JSON.stringify({
  error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' },
});

export function keystoneGate(validator: UserTokenValidator, wwwAuthenticateUri: string) {
  /** True when the request may go on; false when the 401 has been sent. */
  return async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
    const path = pathOf(request.url);
    if (PUBLIC_PATHS.has(path)) return true;
    const token = request.headers['x-auth-token'];
    if (typeof token === 'string' && token.length > 0 && token.length <= 8192) {
      try {
        request.user = await validator.validate(token);
        return true;
      } catch (err) {
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
