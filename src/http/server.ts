/**
 * The HTTP front: one Fastify instance with the hooks every request passes
 * (request ids, base URL, microversion negotiation, version headers), the
 * error rendering, and the API table (src/api/).
 */
import { readFileSync } from 'node:fs';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ERROR_CATALOGUE, ProxyError, type ErrorCode } from '../errors.js';
import { STATUS_CODES } from 'node:http';
import {
  formatVersion,
  MAX_VERSION_HEADER,
  MIN_VERSION_HEADER,
  negotiate,
  VERSION_HEADER,
  V1_1,
  type Version,
} from '../ironic/microversion.js';
import { API_TABLE } from '../api/table/index.js';
import { buildEngines } from '../api/engines.js';
import { DEFAULT_BODY_LIMIT, registerApiTable } from '../api/router.js';
import type { ProxyServices } from '../services.js';
import { requestBaseUrl } from './base-url.js';
import { makeErrorHandler, sendProxyError } from './errors.js';
import { routingErrorBody } from '../ironic/error-body.js';
import { normalizeUrl, INVALID_PATH, pathOf } from './normalize-url.js';
import { isValidRequestId, newRequestId } from './request-id.js';
import { opsRoutes } from './ops.js';
import { accessLogger, lazyChildLogger } from './request-logger.js';
import { acceptClientBody, refuseFormBody } from './client-body.js';
import { keystoneGate } from '../auth/authenticate.js';
import { ProxyBusyError, tooLargeForBudget } from '../memory-budget.js';
import { RequestScope } from './request-scope.js';
import { BODY_COST, chargedAsRead, overRouteLimit, refuseAfterDrain } from './body-reading.js';
import '../auth/user.js';
import type { RequestContext } from './context.js';

function setRangeHeaders(reply: FastifyReply, range: { min: Version; max: Version }): void {
  reply.header(MIN_VERSION_HEADER, formatVersion(range.min));
  reply.header(MAX_VERSION_HEADER, formatVersion(range.max));
}

/** How many Host headers the request carries (Node keeps only the first in `headers`). */
function hostCount(raw: string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host') n++;
  }
  return n;
}


/** Node's HTTP parser refused the request: answered in Ironic's routing body, and the connection closed. */
function writeClientError(err: Error & { code?: string }, socket: import('node:stream').Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [code, description]: [ErrorCode, string] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? ['HEADERS_TOO_LARGE', 'The request headers are too large.']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? ['REQUEST_TIMEOUT', 'The request took too long to arrive.']
        : ['BAD_HTTP', 'The request is not valid HTTP.'];
  const status = ERROR_CATALOGUE[code].status;
  const text = STATUS_CODES[status];
  const body = routingErrorBody(status, description);
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

export function buildServer(services: ProxyServices): FastifyInstance {
  const { config, registry } = services;
  const tls = config.api.tls;
  // Slow clients (slowloris): the header deadline, checked every second rather than Node's default 30 s.
  const serverOptions = {
    headersTimeout: config.proxy.clientHeaderTimeout * 1000,
    connectionsCheckingInterval: Math.min(1000, config.proxy.clientHeaderTimeout * 1000),
  };
  const app = Fastify({
    // TLS in the proxy itself ([api]enable_ssl_api), for sites without a TLS front end.
    ...(tls
      ? { https: { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile), ...serverOptions } }
      : { http: serverOptions }),
    loggerInstance: services.log as FastifyBaseLogger,
    // request.log is made only when a handler logs (most requests never do): see request-logger.ts.
    childLoggerFactory: lazyChildLogger,
    // Requests are logged once, on completion, by the onResponse hook below.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    genReqId: () => newRequestId(),
    exposeHeadRoutes: false,
    bodyLimit: DEFAULT_BODY_LIMIT,
    return503OnClosing: true,
    // Slow clients cannot hold sockets forever (slowloris): bounded headers, request and idle time.
    requestTimeout: config.proxy.clientRequestTimeout * 1000,
    keepAliveTimeout: config.proxy.clientIdleTimeout * 1000,
    connectionTimeout: 0,
    forceCloseConnections: 'idle',
    rewriteUrl: (req) => normalizeUrl(req.url ?? '/'),
    routerOptions: { maxParamLength: 512, ignoreTrailingSlash: true },
    // Errors the framework raises before any route (an argument too long, a bad percent-encoding) in Ironic's body.
    frameworkErrors: (error, request, reply) => {
      const tooLong = error.code === 'FST_ERR_MAX_PARAM_LENGTH';
      // Routing fails before the onRequest hook: the request id every Ironic answer carries is set here.
      reply.header('openstack-request-id', request.id).header('x-openstack-request-id', request.id);
      const refuse = (): void => {
        sendProxyError(
          reply,
          tooLong ? new ProxyError('URI_TOO_LONG', 'A path argument is longer than 512 characters.') : new ProxyError('BAD_URL', 'The URL is not valid percent-encoding.'),
        );
      };
      // Under Keystone the token is checked first, as keystonemiddleware does in front of Ironic: a caller
      // without a valid one gets its 401, whatever the path.
      if (!gate) return refuse();
      gate(request, reply).then(
        (ok) => ok && refuse(),
        (err: unknown) => sendProxyError(reply, err instanceof ProxyError ? err : new ProxyError('INTERNAL', 'The token could not be checked.')),
      );
    },
    // Errors of Node's HTTP parser (headers too large, malformed requests): Ironic's body, then the connection closes.
    clientErrorHandler: (err, socket) => writeClientError(err, socket),
  }) as unknown as FastifyInstance;

  // What hooks add to every request, declared up front: Fastify builds its request objects with these fields
  // from the start, so they keep one shape (adding them per request changes the shape on the hot path).
  app.decorateRequest('ironic', null as unknown as RequestContext);
  app.decorateRequest('user', undefined);
  app.decorateRequest('redactAnswer', undefined);

  // Bodies stay bytes: most are relayed to a site untouched; handlers that need JSON parse it themselves.
  app.removeAllContentTypeParsers();
  // The one exception: a JSON body is read as Ironic reads it (byte-order mark, NaN) before anything sees it.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (req, body, done) => {
    let accepted: Buffer;
    try {
      refuseFormBody(req.headers['content-type'], body as Buffer);
      accepted = acceptClientBody(body as Buffer);
    } catch (err) {
      return done(err as Error);
    }
    done(null, accepted);
  });

  const accessLog = accessLogger(services.log);
  const authtoken = config.keystoneAuthtoken;
  const gate = services.userTokens && authtoken ? keystoneGate(services.userTokens, authtoken.wwwAuthenticateUri) : undefined;

  const baseUrlOptions = {
    publicEndpoint: config.api.publicEndpoint,
    trustProxyHeaders: config.api.enableProxyHeadersParsing,
    tls: Boolean(config.api.tls),
    fallbackHost: `${config.api.hostIp}:${config.api.port}`,
  };

  /**
   * Negotiates the microversion of a /v1 request and sets the version
   * headers its answer (success or error) carries, as Ironic does: the
   * supported range on every /v1 answer and on `/`, the chosen version
   * once negotiated.
   */
  const negotiateVersion = (request: FastifyRequest, reply: FastifyReply): void => {
    const path = pathOf(request.url);
    const range = registry.commonRange();
    if (path === '/') {
      if (range) setRangeHeaders(reply, range);
      return;
    }
    if (!path.startsWith('/v1')) return;
    if (!range) {
      throw new ProxyError('NO_SITE_VERSIONS', 'No site has answered version discovery yet; the API version range is unknown');
    }
    const negotiated = negotiate(request.headers, range);
    if (!negotiated.ok) {
      if (negotiated.withRangeHeaders) setRangeHeaders(reply, range);
      throw new ProxyError('NOT_ACCEPTABLE', negotiated.description);
    }
    request.ironic.version = negotiated.version;
    setRangeHeaders(reply, range);
    reply.header(VERSION_HEADER, formatVersion(negotiated.version));
  };

  const budget = services.memory;

  // Callback style, not async: this runs on every request, and a promise per hook is measurable there.
  app.addHook('onRequest', (request, reply, done) => {
    const incoming = request.headers['x-openstack-request-id'];
    const method = request.method;
    request.ironic = {
      requestId: request.id,
      globalRequestId: isValidRequestId(incoming) ? incoming : request.id,
      version: V1_1,
      baseUrl: requestBaseUrl(request.headers, baseUrlOptions),
      scope: new RequestScope(reply.raw, budget, method === 'GET' || method === 'HEAD'),
    };
    // Two Host headers: which one names the target is ambiguous (a cache or a front end may take the other); nginx says 400.
    if (hostCount(request.raw.rawHeaders) > 1) {
      reply.header('connection', 'close');
      return done(new ProxyError('DUPLICATE_HOST', 'A request may carry one Host header only.'));
    }
    reply.header('openstack-request-id', request.id);
    reply.header('x-openstack-request-id', request.id);
    const proceed = (): void => {
      let error: Error | undefined;
      try {
        negotiateVersion(request, reply);
      } catch (err) {
        error = err as Error;
      }
      done(error);
    };
    if (!gate) return proceed();
    // Not ok: the gate has answered 401 and the request goes no further.
    gate(request, reply).then((ok) => ok && proceed(), (err: unknown) => done(err as Error));
  });

  // Bodies are charged to the memory budget before they are read, at what reading them costs (BODY_COST × their
  // size: the chunks as they arrive and the one buffer they become): a full budget refuses them unread (503);
  // one larger than the whole budget or over its route's limit is a 413, answered once the body is drained.
  app.addHook('preParsing', (request, _reply, payload, done) => {
    const length = request.headers['content-length'];
    const routeLimit = request.routeOptions.bodyLimit;
    // A body read only after its request was located and authorised (provision) is charged as it is read then
    // (router.ts): here only a declared length over the route's limit is refused, before any byte is held.
    if ((request.routeOptions.config as { deferBody?: boolean } | undefined)?.deferBody) {
      if (length !== undefined && Number(length) > routeLimit) return refuseAfterDrain(payload, overRouteLimit(), done);
      return done(null, payload);
    }
    if (length === undefined) {
      if (request.headers['transfer-encoding'] === undefined) return done(null, payload);
      return done(null, chargedAsRead(payload, request.ironic.scope, routeLimit, budget.limit));
    }
    const n = Number(length);
    if (!(n > 0)) return done(null, payload);
    if (n > routeLimit) return refuseAfterDrain(payload, overRouteLimit(), done);
    if (n * BODY_COST > budget.limit) return refuseAfterDrain(payload, tooLargeForBudget(), done);
    if (!request.ironic.scope.charge(n * BODY_COST)) return done(new ProxyBusyError('a request body'));
    done(null, payload);
  });

  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    services.metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    services.metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    accessLog({
      requestId: request.id,
      method: request.method,
      path: pathOf(request.url),
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
      globalRequestId: request.ironic?.globalRequestId,
    });
    done();
  });

  app.setErrorHandler(makeErrorHandler(registry));
  app.setNotFoundHandler((_request, reply) => sendProxyError(reply, new ProxyError('PATH_NOT_FOUND', '')));

  // An Expect other than 100-continue: Node would answer 417 with an empty body; Ironic's server (eventlet) serves the
  // request as if the header were not there, and so does the proxy.
  app.server.on('checkExpectation', (req, res) => app.server.emit('request', req, res));

  opsRoutes(app, services);
  // The API: only what the table names reaches a site (src/api/).
  registerApiTable(app, services, API_TABLE, buildEngines(services, API_TABLE));
  return app;
}
