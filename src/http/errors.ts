/**
 * Renders every failure in Ironic's error body, whatever raised it: the
 * proxy's own errors, a site's error relayed, the framework's (body too
 * large, bad media type), or a bug — which becomes a plain 500 with no stack
 * trace in the body (the trace goes to the log).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ProxyError, SiteErrorResponse } from '../errors.js';
import { faultBody, routingErrorBody } from '../ironic/error-body.js';
import type { SiteRegistry } from '../sites/registry.js';
import { relaySiteResponse } from './relay.js';

export function sendProxyError(reply: FastifyReply, err: ProxyError): FastifyReply {
  for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  const body = err.shape === 'routing' ? routingErrorBody(err.status, err.message) : faultBody(err.status, err.message);
  return reply.code(err.status).header('content-type', 'application/json').send(body);
}

export function makeErrorHandler(registry: SiteRegistry) {
  return function handleError(err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
    if (err instanceof ProxyError) {
      if (err.status >= 500) request.log.warn({ code: err.code, msg: err.message }, 'request failed');
      return sendProxyError(reply, err);
    }
    if (err instanceof SiteErrorResponse) {
      const site = registry.get(err.site);
      return relaySiteResponse(request, reply, site ? registry.linkSource(site) : { site: err.site, bases: [] }, err.response);
    }
    const status = (err as FastifyError).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return sendProxyError(reply, frameworkError(err as FastifyError, status));
    }
    request.log.error({ err }, 'unexpected error');
    return sendProxyError(reply, new ProxyError('INTERNAL', 'Internal Server Error'));
  };
}

/** A 4xx of the web framework's, as the catalogue's code for it (src/errors.ts). */
function frameworkError(err: FastifyError, status: number): ProxyError {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ProxyError('BODY_TOO_LARGE', 'Request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ProxyError('UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type');
    default:
      return new ProxyError('CLIENT_ERROR', err.message, status);
  }
}
