/**
 * Benchmark backend: simulated Ironic sites in their own process, so that the
 * proxy under test never shares an event loop with them.
 *
 *   node --import tsx bench/backend.ts '{"sites":[{"name":"s000","nodes":1000,"latencyMs":0}]}'
 *
 * Prints one line `READY <json>` with every site's name and URL, the seeding
 * time and the process's RSS once all sites listen. Stops on SIGTERM/SIGINT,
 * and when its standard input closes (the benchmark that started it died).
 *
 * Node uuids are unique over all sites, as they are between real Ironic
 * installations: the simulator's seeding derives each site's random stream
 * from its name, and two names can give overlapping streams (hence identical
 * uuids at two sites); such a site is started again under another name
 * (`<name>x`), and the READY line lists the renames.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startSimSite, type SimSite, type SimSiteOptions } from '../src/sim/index.js';

interface BackendSpec {
  sites: Array<SimSiteOptions & { cached?: boolean }>;
}

/**
 * A cheap stand-in for a site whose data does not change during a benchmark
 * (`cached: true`): the simulator answers each distinct GET once; the answer
 * (status, headers, body) is kept and served again for the same URL and
 * version header, after the site's latency. What a listing benchmark over
 * 100 sites measures is then the proxy and the network wait, not the
 * simulator's CPU (about 1 ms per sorted page, which 100 sites on one core
 * turn into 100 ms of queueing).
 */
async function cachedFront(sim: SimSite, latencyMs: number): Promise<{ url: string; close(): Promise<void> }> {
  const cache = new Map<string, { status: number; headers: http.OutgoingHttpHeaders; body: Buffer }>();
  const upstream = new URL(sim.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const fetchOnce = (req: http.IncomingMessage): Promise<{ status: number; headers: http.OutgoingHttpHeaders; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: upstream.host };
      const up = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: 'GET', headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const h: http.OutgoingHttpHeaders = { ...res.headers };
          delete h.connection;
          delete h['keep-alive'];
          delete h.date;
          resolve({ status: res.statusCode ?? 502, headers: h, body: Buffer.concat(chunks) });
        });
        res.on('error', reject);
      });
      up.on('error', reject);
      up.end();
    });
  const server = http.createServer((req, res) => {
    req.resume();
    if (req.method !== 'GET') {
      res.writeHead(405);
      res.end();
      return;
    }
    const key = `${req.url}\n${String(req.headers['x-openstack-ironic-api-version'] ?? '')}`;
    const hit = cache.get(key);
    const send = (a: { status: number; headers: http.OutgoingHttpHeaders; body: Buffer }): void => {
      const answer = (): void => {
        res.writeHead(a.status, a.headers);
        res.end(a.body);
      };
      if (latencyMs > 0) setTimeout(answer, latencyMs);
      else answer();
    };
    if (hit) return send(hit);
    fetchOnce(req).then(
      (a) => {
        cache.set(key, a);
        send(a);
      },
      () => {
        res.writeHead(502);
        res.end();
      },
    );
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        agent.destroy();
      }),
  };
}

const spec = JSON.parse(process.argv[2] ?? '{"sites":[]}') as BackendSpec;
const t0 = performance.now();
const sims: SimSite[] = [];
const urls: string[] = [];
const fronts: Array<{ close(): Promise<void> }> = [];
const uuids = new Set<string>();
const renamed: Array<{ from: string; to: string; duplicates: number }> = [];
// One at a time: seeding is synchronous CPU work, parallel starts would not help.
for (const s of spec.sites) {
  let name = s.name;
  for (let attempt = 0; ; attempt++) {
    // A cached site's latency is the front's: the simulator answers each URL once, at once.
    const sim = await startSimSite({ host: '127.0.0.1', ...s, name, latencyMs: s.cached ? 0 : s.latencyMs });
    const mine = sim.api.store.all().map((n) => n.uuid);
    const duplicates = mine.filter((u) => uuids.has(u)).length;
    if (duplicates === 0 || attempt === 5) {
      for (const u of mine) uuids.add(u);
      sims.push(sim);
      if (s.cached) {
        const front = await cachedFront(sim, s.latencyMs ?? 0);
        fronts.push(front);
        urls.push(front.url);
      } else urls.push(sim.url);
      if (name !== s.name) renamed.push({ from: s.name, to: name, duplicates });
      break;
    }
    await sim.close();
    name = `${name}x`;
  }
}
uuids.clear();
const seedMs = Math.round(performance.now() - t0);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  void Promise.all([...fronts.map((f) => f.close()), ...sims.map((s) => s.close())]).finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();

const report = {
  sites: sims.map((s, i) => ({ name: s.name, url: urls[i]!, nodes: s.nodeCount() })),
  renamed,
  seedMs,
  rssMB: Math.round(process.memoryUsage().rss / 2 ** 20),
};
process.stdout.write(`READY ${JSON.stringify(report)}\n`);
