/**
 * The HTTP front: one Fastify instance with the hooks every request passes
 * (request ids, base URL, microversion negotiation, version headers), the
 * error rendering, and one plugin per resource.
 */
import { readFileSync } from 'node:fs';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { ProxyError } from '../errors.js';
import {
  formatVersion,
  MAX_VERSION_HEADER,
  MIN_VERSION_HEADER,
  negotiate,
  VERSION_HEADER,
  V1_1,
} from '../ironic/microversion.js';
import { rootRoutes } from '../resources/root.js';
import { RESOURCE_PLUGINS } from '../resources/index.js';
import type { ProxyServices } from '../services.js';
import { requestBaseUrl } from './base-url.js';
import { makeErrorHandler, sendProxyError } from './errors.js';
import { normalizeUrl, INVALID_PATH } from './normalize-url.js';
import { isValidRequestId, newRequestId } from './request-id.js';
import { opsRoutes } from './ops.js';
import { keystoneGate } from '../auth/authenticate.js';
import '../auth/user.js';
import './context.js';

/** Ironic's own limit for request bodies (the provision route raises it for configdrives). */
const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** The top-level collections this proxy serves, for `GET /v1`. */
const SERVED_RESOURCES = RESOURCE_PLUGINS.flatMap((p) => p.advertises);

type VersionHeaders = 'none' | 'range' | 'full';
const versionHeaderMode = new WeakMap<object, VersionHeaders>();

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
  }) as unknown as FastifyInstance;

  // Bodies stay bytes: most are relayed to a site untouched; handlers that need JSON parse it themselves.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const authtoken = config.keystoneAuthtoken;
  const gate = services.userTokens && authtoken ? keystoneGate(services.userTokens, authtoken.wwwAuthenticateUri) : undefined;

  app.addHook('onRequest', async (request, reply) => {
    const incoming = request.headers['x-openstack-request-id'];
    request.ironic = {
      requestId: request.id,
      globalRequestId: isValidRequestId(incoming) ? incoming : request.id,
      version: V1_1,
      baseUrl: requestBaseUrl(request.headers, {
        publicEndpoint: config.api.publicEndpoint,
        trustProxyHeaders: config.api.enableProxyHeadersParsing,
        tls: Boolean(config.api.tls),
        fallbackHost: `${config.api.hostIp}:${config.api.port}`,
      }),
    };
    reply.header('openstack-request-id', request.id);
    reply.header('x-openstack-request-id', request.id);
    if (gate && !(await gate(request, reply))) return reply;
    const path = request.url.split('?', 1)[0]!;
    if (path === '/') {
      versionHeaderMode.set(request, 'range');
      return;
    }
    if (!path.startsWith('/v1')) return;
    const range = registry.commonRange();
    if (!range) {
      throw new ProxyError(503, 'NO_SITE_VERSIONS', 'No site has answered version discovery yet; the API version range is unknown');
    }
    const negotiated = negotiate(request.headers, range);
    if (!negotiated.ok) {
      versionHeaderMode.set(request, negotiated.withRangeHeaders ? 'range' : 'none');
      throw new ProxyError(406, 'NOT_ACCEPTABLE', negotiated.description, 'routing');
    }
    request.ironic.version = negotiated.version;
    versionHeaderMode.set(request, 'full');
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const mode = versionHeaderMode.get(request) ?? 'none';
    const range = registry.commonRange();
    if (mode !== 'none' && range) {
      reply.header(MIN_VERSION_HEADER, formatVersion(range.min));
      reply.header(MAX_VERSION_HEADER, formatVersion(range.max));
      if (mode === 'full') reply.header(VERSION_HEADER, formatVersion(request.ironic.version));
    }
    return payload;
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    services.metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    services.metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    request.log.info(
      {
        method: request.method,
        path: request.url.split('?', 1)[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        global_request_id: request.ironic?.globalRequestId,
      },
      'request',
    );
  });

  app.setErrorHandler(makeErrorHandler(registry));
  app.setNotFoundHandler((_request, reply) => sendProxyError(reply, new ProxyError(404, 'PATH_NOT_FOUND', '', 'routing')));

  opsRoutes(app, services);
  rootRoutes(app, registry, () => SERVED_RESOURCES);
  for (const plugin of RESOURCE_PLUGINS) plugin.register(app, services);
  return app;
}
