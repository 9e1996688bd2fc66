/** What every handler knows about the request it serves. */
import type { Version } from '../ironic/microversion.js';

export interface RequestContext {
  /** This proxy's id for the request (`req-<uuid>`), returned to the client. */
  requestId: string;
  /** The id sites and logs correlate on: the client's global id if it sent a valid one, else ours. */
  globalRequestId: string;
  /** Negotiated microversion (v1 routes only; 1.1 elsewhere). */
  version: Version;
  /** Base URL written into links: `http(s)://host[:port][/prefix]`. */
  baseUrl: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    ironic: RequestContext;
  }
}
