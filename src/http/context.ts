/** What every handler knows about the request it serves. */
import type { Version } from '../ironic/microversion.js';
import type { Credentials } from '../policy/enforcer.js';
import type { RequestScope } from './request-scope.js';

export interface RequestContext {
  /** This proxy's id for the request (`req-<uuid>`), returned to the client. */
  requestId: string;
  /** The id sites and logs correlate on: the client's global id if it sent a valid one, else ours. */
  globalRequestId: string;
  /** Negotiated microversion (v1 routes only; 1.1 elsewhere). */
  version: Version;
  /** Base URL written into links: `http(s)://host[:port][/prefix]`. */
  baseUrl: string;
  /** What the request holds of the memory budget, and the site requests to cancel when its client leaves. */
  scope: RequestScope;
  /** The caller's policy credentials (Keystone only), made once per request when first needed. */
  credentials?: Credentials;
}

declare module 'fastify' {
  interface FastifyRequest {
    ironic: RequestContext;
  }
}
