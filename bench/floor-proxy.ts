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
 * Prints `READY` once it listens; stops on SIGTERM.
 */
import http from 'node:http';
import { Pool } from 'undici';

const { upstream, port } = JSON.parse(process.argv[2] ?? '{}') as { upstream: string; port: number };
const pool = new Pool(upstream, { connections: 32, pipelining: 1 });

const server = http.createServer((req, res) => {
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
        const body = Buffer.concat(chunks);
        res.writeHead(status, { 'content-type': type ?? 'application/json', 'content-length': body.length });
        res.end(body);
      },
      onResponseError() {
        res.writeHead(502);
        res.end();
      },
    },
  );
});
server.listen(port, '127.0.0.1', () => process.stdout.write('READY\n'));
process.on('SIGTERM', () => process.exit(0));
