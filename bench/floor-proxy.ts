/**
 * A reference point for the benchmark, not a product: the least a Node.js
 * reverse proxy can do per request on this machine — node:http in front, an
 * undici pool behind, the body relayed untouched — with none of
 * ironic-proxy's work (routing, version negotiation, link rewriting, request
 * ids, logging, metrics, breaker and limits). The gap between it and nginx
 * is the runtime's; the gap between it and ironic-proxy is the proxy's.
 *
 *   node --import tsx bench/floor-proxy.ts '{"upstream":"http://127.0.0.1:8000","port":8001}'
 *
 * With `"framework":"fastify"`: the same relay as a Fastify route (reply.send, no hooks, no logging),
 * the least a proxy built on the web framework can cost: the gap between the two is the framework's.
 *
 * Prints `READY` once it listens; stops on SIGTERM.
 */
import http from 'node:http';
import { Pool } from 'undici';
import Fastify from 'fastify';

const { upstream, port, framework } = JSON.parse(process.argv[2] ?? '{}') as { upstream: string; port: number; framework?: 'fastify' };
const pool = new Pool(upstream, { connections: 32, pipelining: 1 });

/** One request relayed; `respond` writes the answer (node:http directly, or through the framework's reply). */
function relay(req: http.IncomingMessage, respond: (status: number, type: string, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let status = 502;
  let type: string | undefined;
  pool.dispatch(
    {
      method: req.method as 'GET',
      path: req.url ?? '/',
      headers: { accept: 'application/json', 'x-openstack-ironic-api-version': String(req.headers['x-openstack-ironic-api-version'] ?? '1.1') },
    },
    {
      onRequestStart() {},
      onResponseStart(_c, statusCode, headers) {
        status = statusCode;
        type = headers['content-type'] as string | undefined;
      },
      onResponseData(_c, chunk) {
        chunks.push(chunk);
      },
      onResponseEnd() {
        respond(status, type ?? 'application/json', Buffer.concat(chunks));
      },
      onResponseError() {
        respond(502, 'application/json', Buffer.alloc(0));
      },
    },
  );
}

if (framework === 'fastify') {
  const app = Fastify();
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.route({
    method: ['GET', 'PATCH'],
    url: '/v1/nodes/:node',
    handler: (request, reply) => {
      relay(request.raw, (status, type, body) => void reply.code(status).header('content-type', type).send(body));
    },
  });
  await app.listen({ port, host: '127.0.0.1' });
  process.stdout.write('READY\n');
} else {
  const server = http.createServer((req, res) =>
    relay(req, (status, type, body) => {
      res.writeHead(status, { 'content-type': type, 'content-length': body.length });
      res.end(body);
    }),
  );
  server.listen(port, '127.0.0.1', () => process.stdout.write('READY\n'));
}
process.on('SIGTERM', () => process.exit(0));
