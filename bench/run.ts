/**
 * The ironic-proxy benchmark: `npm run bench` (full, ~10 min on two cores) or
 * `npm run bench -- --quick` (~1 min smoke run).
 *
 * Starts its own backends (simulated Ironic sites in a separate process),
 * nginx and the proxy (separate processes too), and prints every figure as a
 * ratio against a baseline measured in the same run:
 *
 *   1. one node GET: direct vs nginx proxy_pass vs a bare Node.js proxy vs
 *      ironic-proxy (autocannon), loaded and unloaded, with CPU per request
 *   1b. the same, GET and PATCH, against nginx serving static node documents
 *      (a backend that costs almost nothing), and what each hop adds at a
 *      fixed 1,000 req/s
 *   2. merged listing latency over 1/10/50/100 sites at 20 ms site latency
 *   2b. sorted pages over 100 sites × 20 ms against one site: site-contiguous
 *      names, interleaved keys, the default order; first and deep pages;
 *      one dead and one slow site
 *   3. nodes fetched per node returned when paging sorted listings, 100 sites
 *   4. proxy memory while paging 100 sites × 10,000 nodes
 *   5. single-node GET and named creates with and without the coordination
 *      store (a real redis-server), and a cold replica's lookups
 *
 * Ends with a summary block for the README.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';

import { startBackend, startFloorProxy, startNginx, startProxy, startStaticBackend, runLoad, siteSpecs, type Backend, type BackendSite, type Proxy } from './parts.js';
import { cleanup, cpuSample, cpuSecondsOf, foreignShare, freePort, get, getJson, killAllNow, memoryOf, LATEST } from './procs.js';
import type { LoadResult } from './load.js';

const { values: args } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } },
  strict: true,
});
const QUICK = args.quick ?? false;
/** `--only single,static,listing,sorted,fetch,memory,coordination`: run some sections (while working on one figure). */
const ONLY = args.only?.split(',').map((s) => s.trim());

const CFG = QUICK
  ? { rounds: 1, connections: 16, warmup: 1, seconds: 3, listingRequests: 10, pagingNodes: 100, memNodes: 1_000 }
  : { rounds: 3, connections: 16, warmup: 1, seconds: 5, listingRequests: 30, pagingNodes: 500, memNodes: 10_000 };

// ---------------------------------------------------------------- output helpers

const out = (s = ''): void => void process.stdout.write(`${s}\n`);
const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : '-');
const x = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '-');
const int = (v: number): string => Math.round(v).toLocaleString('en-US');
const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');

function table(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  out(`  ${line(head)}`);
  out(`  ${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const r of rows) out(`  ${line(r)}`);
}

function section(title: string): void {
  out();
  out(`== ${title} ${'='.repeat(Math.max(0, 74 - title.length))}`);
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function pct(v: number[], p: number): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * p) - 1)] ?? NaN;
}

const summary: string[] = [];
const elapsed = (t0: number): string => `${((performance.now() - t0) / 1000).toFixed(1)} s`;

const notes: string[] = [];

/** Says so when the backend had to rename sites whose seeded uuids collided with another site's. */
function noteRenames(b: Backend): void {
  for (const r of b.renamed) {
    const line = `simulator seeding gave site ${r.from} uuids already used at another site; started it as ${r.to} instead`;
    out(`  note: ${line}`);
    if (!notes.includes(line)) notes.push(line);
  }
}

function withGroups(sites: BackendSite[]): Array<BackendSite & { group: string }> {
  return sites.map((s, i) => ({ ...s, group: `g${i}` }));
}

// ---------------------------------------------------------------- metrics

async function listingCounters(proxy: Proxy): Promise<{ fetched: number; returned: number; siteRequests: number }> {
  const text = (await get(`${proxy.url}/metrics`, {})).text;
  const one = (kind: string): number => Number(new RegExp(`^ironic_proxy_listing_items_total\\{kind="${kind}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  let siteRequests = 0;
  for (const m of text.matchAll(/^ironic_proxy_site_requests_total\{[^}]*\} (\S+)$/gm)) siteRequests += Number(m[1]);
  return { fetched: one('fetched'), returned: one('returned'), siteRequests };
}

interface Walk {
  pages: number;
  items: number;
  unique: number;
  duplicates: number;
  outOfOrder: number;
  missingSitesHeaders: number;
  seconds: number;
}

/** Follows `next` from `firstUrl` to the end, checking uniqueness and (optionally) order by `orderKey`. */
async function walk(firstUrl: string, orderKey: string | undefined, onPage?: (pages: number) => void): Promise<Walk & { names: Set<string> | undefined }> {
  const seen = new Set<string>();
  const names = orderKey === 'name' ? new Set<string>() : undefined;
  let url: string | undefined = firstUrl;
  let pages = 0;
  let items = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  let missingSitesHeaders = 0;
  let prev: string | undefined;
  const t0 = performance.now();
  while (url) {
    const r: Awaited<ReturnType<typeof getJson<{ nodes: Array<Record<string, string>>; next?: string }>>> = await getJson(url);
    if (r.headers['x-ironic-proxy-missing-sites']) missingSitesHeaders++;
    pages++;
    for (const n of r.body.nodes) {
      items++;
      const uuid = n.uuid!;
      if (seen.has(uuid)) duplicates++;
      else seen.add(uuid);
      names?.add(n.name!);
      if (orderKey) {
        const v = n[orderKey]!;
        if (prev !== undefined && v < prev) outOfOrder++;
        prev = v;
      }
    }
    url = r.body.next;
    onPage?.(pages);
  }
  return { pages, items, unique: seen.size, duplicates, outOfOrder, missingSitesHeaders, seconds: (performance.now() - t0) / 1000, names };
}

// ---------------------------------------------------------------- 1. single node GET

async function benchSingleNode(): Promise<void> {
  section('1. GET /v1/nodes/{uuid}: direct vs nginx vs a bare Node.js proxy vs ironic-proxy');
  const t0 = performance.now();
  const backend = await startBackend('single', siteSpecs(1, 1000));
  const site = backend.sites[0]!;
  const uuids = (await getJson<{ nodes: Array<{ uuid: string }> }>(`${site.url}/v1/nodes?limit=100`)).body.nodes.map((n) => n.uuid);
  const paths = uuids.map((u) => `/v1/nodes/${u}`);
  const nginx = await startNginx(site.url);
  const floor = await startFloorProxy(site.url);
  const proxy = await startProxy('single', withGroups(backend.sites));
  // Warm: every uuid once through the proxy (location cache) and nginx (upstream connections).
  for (const p of paths) {
    for (const base of [proxy.url, nginx.url, floor.url]) {
      const r = await get(`${base}${p}`);
      if (r.status !== 200) throw new Error(`warm-up GET ${base}${p}: ${r.status} ${r.text.slice(0, 200)}`);
    }
  }
  // CPU per request: the process in front (nginx, the proxy) and the simulator behind it, from /proc.
  const targets = [
    { name: 'direct', url: site.url, front: undefined },
    { name: 'nginx', url: nginx.url, front: nginx.proc.pid },
    { name: 'node-floor', url: floor.url, front: floor.proc.pid },
    { name: 'ironic-proxy', url: proxy.url, front: proxy.proc.pid },
  ];
  const results = new Map<string, LoadResult[]>(targets.map((t) => [t.name, []]));
  const cpu = new Map<string, { front: number; backend: number; requests: number }>(targets.map((t) => [t.name, { front: 0, backend: 0, requests: 0 }]));
  for (let round = 0; round < CFG.rounds; round++) {
    for (const t of targets) {
      const front0 = t.front ? cpuSecondsOf(t.front) : 0;
      const backend0 = cpuSecondsOf(backend.proc.pid);
      const r = await runLoad(t.name, {
        url: t.url,
        paths,
        connections: CFG.connections,
        warmupSeconds: CFG.warmup,
        seconds: CFG.seconds,
        headers: LATEST,
      });
      if (r.non2xx > 0 || r.errors > r.requests / 1000) throw new Error(`${t.name}: ${r.non2xx} non-2xx answers, ${r.errors} errors`);
      results.get(t.name)!.push(r);
      const c = cpu.get(t.name)!;
      c.front += t.front ? cpuSecondsOf(t.front) - front0 : 0;
      c.backend += cpuSecondsOf(backend.proc.pid) - backend0;
      c.requests += r.requests + r.warmupRequests;
    }
  }
  // Unloaded: one connection, one request at a time — what a hop adds when nothing queues.
  const unloaded = new Map<string, LoadResult>();
  for (const t of targets) {
    unloaded.set(t.name, await runLoad(`${t.name}-1conn`, { url: t.url, paths, connections: 1, warmupSeconds: CFG.warmup, seconds: CFG.seconds, headers: LATEST }));
  }
  await proxy.close();
  await floor.close();
  await nginx.close();
  await backend.close();

  const agg = (name: string): { rps: number; range: string; p50: number; p99: number; requests: number; errors: number } => {
    const rs = results.get(name)!;
    const all = rs.map((r) => r.rps);
    return {
      rps: median(all),
      range: `${int(Math.min(...all))}–${int(Math.max(...all))}`,
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
      requests: rs.reduce((a, r) => a + r.requests, 0),
      errors: rs.reduce((a, r) => a + r.errors, 0),
    };
  };
  const d = agg('direct');
  const n = agg('nginx');
  const p = agg('ironic-proxy');
  const f = agg('node-floor');
  /** Microseconds of CPU per request. */
  const usPer = (name: string, part: 'front' | 'backend'): number => {
    const c = cpu.get(name)!;
    return (c[part] / Math.max(1, c.requests)) * 1e6;
  };
  out(
    `  ${CFG.connections} connections, ${CFG.warmup} s warm-up + ${CFG.seconds} s measured, ${CFG.rounds} round(s) interleaved ` +
      `(median of rounds); ${uuids.length} uuids round-robin; proxy: 1 worker, location cache warm, logging at info to a file`,
  );
  out();
  table(
    ['target', 'req/s', 'rounds min–max', 'p50 ms', 'p99 ms', 'requests', 'errors', 'req/s vs direct'],
    [
      ['direct (simulator)', int(d.rps), d.range, ms(d.p50), ms(d.p99), int(d.requests), int(d.errors), x(1)],
      ['nginx proxy_pass', int(n.rps), n.range, ms(n.p50), ms(n.p99), int(n.requests), int(n.errors), x(n.rps / d.rps)],
      ['bare Node.js proxy (reference)', int(f.rps), f.range, ms(f.p50), ms(f.p99), int(f.requests), int(f.errors), x(f.rps / d.rps)],
      ['ironic-proxy', int(p.rps), p.range, ms(p.p50), ms(p.p99), int(p.requests), int(p.errors), x(p.rps / d.rps)],
    ],
  );
  const u = (name: string): LoadResult => unloaded.get(name)!;
  out();
  out('  unloaded (1 connection, one request at a time):');
  table(
    ['target', 'req/s', 'p50 ms', 'p99 ms', 'p50 added to direct'],
    [
      ['direct (simulator)', int(u('direct').rps), ms(u('direct').p50), ms(u('direct').p99), '-'],
      ['nginx proxy_pass', int(u('nginx').rps), ms(u('nginx').p50), ms(u('nginx').p99), ms(u('nginx').p50 - u('direct').p50)],
      ['bare Node.js proxy (reference)', int(u('node-floor').rps), ms(u('node-floor').p50), ms(u('node-floor').p99), ms(u('node-floor').p50 - u('direct').p50)],
      ['ironic-proxy', int(u('ironic-proxy').rps), ms(u('ironic-proxy').p50), ms(u('ironic-proxy').p99), ms(u('ironic-proxy').p50 - u('direct').p50)],
    ],
  );
  out();
  table(
    ['CPU per request (µs)', 'in front', 'simulator'],
    [
      ['direct (simulator)', '-', int(usPer('direct', 'backend'))],
      ['nginx proxy_pass', int(usPer('nginx', 'front')), int(usPer('nginx', 'backend'))],
      ['bare Node.js proxy (reference)', int(usPer('node-floor', 'front')), int(usPer('node-floor', 'backend'))],
      ['ironic-proxy', int(usPer('ironic-proxy', 'front')), int(usPer('ironic-proxy', 'backend'))],
    ],
  );
  const addedP50 = p.p50 - d.p50;
  const addedUnloaded = u('ironic-proxy').p50 - u('direct').p50;
  const vsNginx = p.rps / n.rps;
  const vsFloor = p.rps / f.rps;
  out();
  out(`  proxy p50 − direct p50 = ${ms(addedP50)} ms at ${CFG.connections} connections (nginx adds ${ms(n.p50 - d.p50)} ms), ${ms(addedUnloaded)} ms unloaded`);
  out(`  throughput: proxy/nginx = ${x(vsNginx)}; proxy/bare Node.js proxy = ${x(vsFloor)}; bare Node.js proxy/nginx = ${x(f.rps / n.rps)}; nginx/direct = ${x(n.rps / d.rps)}`);
  out(`  verdict: added p50 < 1 ms: ${verdict(addedP50 < 1)} (loaded), ${verdict(addedUnloaded < 1)} (unloaded); proxy/nginx throughput ≥ 0.70: ${verdict(vsNginx >= 0.7)}   (${elapsed(t0)})`);
  summary.push(
    `GET /v1/nodes/{uuid}, ${CFG.connections} connections: direct ${int(d.rps)} req/s p50 ${ms(d.p50)} ms p99 ${ms(d.p99)} ms; ` +
      `nginx ${int(n.rps)} req/s p50 ${ms(n.p50)} ms p99 ${ms(n.p99)} ms; ironic-proxy ${int(p.rps)} req/s p50 ${ms(p.p50)} ms p99 ${ms(p.p99)} ms.`,
    `  proxy adds ${ms(addedP50)} ms at p50 loaded, ${ms(addedUnloaded)} ms unloaded (target < 1 ms: ${verdict(addedP50 < 1)}); proxy/nginx throughput ${x(vsNginx)} (target ≥ 0.70: ${verdict(vsNginx >= 0.7)}); nginx/direct ${x(n.rps / d.rps)}.`,
    `  bare Node.js proxy (node:http + undici, no features) ${int(f.rps)} req/s = ${x(f.rps / n.rps)} of nginx; ironic-proxy = ${x(vsFloor)} of it.`,
    `  CPU per request: ironic-proxy ${int(usPer('ironic-proxy', 'front'))} µs, bare Node.js proxy ${int(usPer('node-floor', 'front'))} µs, nginx ${int(usPer('nginx', 'front'))} µs, simulator ${int(usPer('direct', 'backend'))} µs.`,
  );
}

// ---------------------------------------------------------------- 1b. single node against a fast static backend

async function benchSingleStatic(): Promise<void> {
  section('1b. GET and PATCH /v1/nodes/{uuid} against nginx serving static node documents');
  const t0 = performance.now();
  const sim = await startBackend('static-source', siteSpecs(1, 1000));
  const simUrl = sim.sites[0]!.url;
  const uuids = (await getJson<{ nodes: Array<{ uuid: string }> }>(`${simUrl}/v1/nodes?limit=100`)).body.nodes.map((n) => n.uuid);
  const paths = uuids.map((u) => `/v1/nodes/${u}`);
  const docs = new Map<string, string>();
  for (const p of ['/', ...paths]) docs.set(p, (await get(`${simUrl}${p}`)).text);
  await sim.close();
  const backend = await startStaticBackend(simUrl, docs);
  const site = { name: 's000', url: backend.url, nodes: uuids.length };
  const nginx = await startNginx(site.url);
  const floor = await startFloorProxy(site.url);
  // The same relay as a Fastify route: what the web framework alone costs over node:http.
  const floorFastify = await startFloorProxy(site.url, 'fastify');
  const proxy = await startProxy('static', withGroups([site]));
  // The production default (a configuration that names no api_workers): one worker per core.
  const proxyAuto = await startProxy('static-auto', withGroups([site]), '', '', undefined, 'auto');
  for (const p of paths) {
    for (const base of [proxy.url, proxyAuto.url, nginx.url, floor.url, floorFastify.url]) {
      const r = await get(`${base}${p}`);
      if (r.status !== 200) throw new Error(`warm-up GET ${base}${p}: ${r.status} ${r.text.slice(0, 200)}`);
    }
  }
  const targets = [
    { name: 'direct (nginx static)', url: site.url, front: undefined as number | undefined },
    { name: 'nginx proxy_pass', url: nginx.url, front: nginx.proc.pid },
    { name: 'bare Node.js proxy', url: floor.url, front: floor.proc.pid },
    { name: 'bare Fastify proxy', url: floorFastify.url, front: floorFastify.proc.pid },
    { name: 'ironic-proxy', url: proxy.url, front: proxy.proc.pid },
    // Its CPU is its workers' (children of the primary): not read here, hence no CPU figure.
    { name: 'ironic-proxy, workers auto', url: proxyAuto.url, front: undefined },
  ];
  const patchBody = '[{"op":"replace","path":"/extra/bench","value":"1"}]';
  const kinds = [
    { kind: 'GET', extra: {}, headers: LATEST },
    { kind: 'PATCH', extra: { method: 'PATCH', body: patchBody }, headers: { ...LATEST, 'content-type': 'application/json' } },
  ];
  const results = new Map<string, LoadResult[]>();
  const cpu = new Map<string, { s: number; n: number }>();
  for (let round = 0; round < CFG.rounds; round++) {
    for (const k of kinds) {
      for (const t of targets) {
        const key = `${k.kind} ${t.name}`;
        const c0 = t.front ? cpuSecondsOf(t.front) : 0;
        const r = await runLoad(key, { url: t.url, paths, connections: CFG.connections, warmupSeconds: CFG.warmup, seconds: CFG.seconds, headers: k.headers, ...k.extra });
        if (r.non2xx > 0 || r.errors > r.requests / 1000) throw new Error(`${key}: ${r.non2xx} non-2xx answers, ${r.errors} errors`);
        results.set(key, [...(results.get(key) ?? []), r]);
        const c = cpu.get(key) ?? { s: 0, n: 0 };
        c.s += t.front ? cpuSecondsOf(t.front) - c0 : 0;
        c.n += r.requests + r.warmupRequests;
        cpu.set(key, c);
      }
    }
  }
  // At a fixed rate (open loop) the p50 and p99 a hop adds, nothing queueing.
  const RATE = 1000;
  const fixed = new Map<string, LoadResult>();
  for (const t of targets) {
    fixed.set(t.name, await runLoad(`rate-${t.name}`, { url: t.url, paths, connections: 8, warmupSeconds: CFG.warmup, seconds: CFG.seconds, headers: LATEST, rate: RATE }));
  }
  await proxy.close();
  await proxyAuto.close();
  await floor.close();
  await floorFastify.close();
  await nginx.close();
  await backend.close();

  const rps = (key: string): number => median(results.get(key)!.map((r) => r.rps));
  const us = (key: string): number => {
    const c = cpu.get(key)!;
    return (c.s / Math.max(1, c.n)) * 1e6;
  };
  out(`  ${CFG.connections} connections, ${CFG.warmup} s warm-up + ${CFG.seconds} s measured, ${CFG.rounds} round(s) interleaved (median); ` +
    `the backend is nginx serving the simulator's node documents from files (a PATCH gets the node back)`);
  out();
  const rows: string[][] = [];
  for (const k of kinds) {
    for (const t of targets) {
      const key = `${k.kind} ${t.name}`;
      const rs = results.get(key)!;
      rows.push([`${k.kind} ${t.name}`, int(rps(key)), `${int(Math.min(...rs.map((r) => r.rps)))}–${int(Math.max(...rs.map((r) => r.rps)))}`,
        ms(median(rs.map((r) => r.p50))), ms(median(rs.map((r) => r.p99))), t.front ? int(us(key)) : '-',
        x(rps(key) / rps(`${k.kind} bare Node.js proxy`))]);
    }
  }
  table(['target', 'req/s', 'rounds min–max', 'p50 ms', 'p99 ms', 'CPU µs/req', 'vs bare Node.js proxy'], rows);
  out();
  const d = fixed.get('direct (nginx static)')!;
  table(
    [`at ${RATE} req/s`, 'p50 ms', 'p99 ms', 'p50 added', 'p99 added'],
    targets.map((t) => {
      const r = fixed.get(t.name)!;
      const hop = t.url !== site.url;
      return [t.name, ms(r.p50), ms(r.p99), hop ? ms(r.p50 - d.p50) : '-', hop ? ms(r.p99 - d.p99) : '-'];
    }),
  );
  const p = fixed.get('ironic-proxy')!;
  const getRatio = rps('GET ironic-proxy') / rps('GET bare Node.js proxy');
  const patchRatio = rps('PATCH ironic-proxy') / rps('PATCH bare Node.js proxy');
  out();
  out(`  verdict: GET throughput ≥ 0.9× the bare Node.js proxy: ${verdict(getRatio >= 0.9)} (${x(getRatio)}; PATCH ${x(patchRatio)}); ` +
    `at ${RATE} req/s adds < 0.5 ms p50: ${verdict(p.p50 - d.p50 < 0.5)} (${ms(p.p50 - d.p50)}), < 2 ms p99: ${verdict(p.p99 - d.p99 < 2)} (${ms(p.p99 - d.p99)})   (${elapsed(t0)})`);
  summary.push(
    `Static backend (nginx serving node documents), ${CFG.connections} connections: GET direct ${int(rps('GET direct (nginx static)'))}, nginx proxy_pass ${int(rps('GET nginx proxy_pass'))}, ` +
      `bare Node.js proxy ${int(rps('GET bare Node.js proxy'))}, bare Fastify proxy ${int(rps('GET bare Fastify proxy'))} (${x(rps('GET bare Fastify proxy') / rps('GET bare Node.js proxy'))}; CPU ${int(us('GET bare Fastify proxy'))} µs/request), ironic-proxy ${int(rps('GET ironic-proxy'))} req/s (${x(getRatio)} of the bare proxy; CPU ${int(us('GET ironic-proxy'))} vs ${int(us('GET bare Node.js proxy'))} µs/request); ` +
      `PATCH ironic-proxy ${int(rps('PATCH ironic-proxy'))} req/s (${x(patchRatio)} of the bare proxy); ` +
      `with --workers auto (the default) GET ${int(rps('GET ironic-proxy, workers auto'))}, PATCH ${int(rps('PATCH ironic-proxy, workers auto'))} req/s ` +
      `(${x(rps('GET ironic-proxy, workers auto') / rps('GET ironic-proxy'))} / ${x(rps('PATCH ironic-proxy, workers auto') / rps('PATCH ironic-proxy'))} of one worker).`,
    `  at ${RATE} req/s the proxy adds ${ms(p.p50 - d.p50)} ms at p50 (target < 0.5: ${verdict(p.p50 - d.p50 < 0.5)}), ${ms(p.p99 - d.p99)} ms at p99 (target < 2: ${verdict(p.p99 - d.p99 < 2)}); ` +
      `the bare proxy ${ms(fixed.get('bare Node.js proxy')!.p50 - d.p50)} / ${ms(fixed.get('bare Node.js proxy')!.p99 - d.p99)} ms, nginx ${ms(fixed.get('nginx proxy_pass')!.p50 - d.p50)} / ${ms(fixed.get('nginx proxy_pass')!.p99 - d.p99)} ms.`,
  );
}

// ---------------------------------------------------------------- 2. merged listing latency

async function benchListingLatency(): Promise<void> {
  section('2. Merged listing latency, sites at 20 ms latency, 50 nodes each');
  const t0 = performance.now();
  const counts = [1, 10, 50, 100];
  const backend = await startBackend('listing', siteSpecs(100, 50, 20));
  const queries = [
    { name: 'default', path: '/v1/nodes?limit=100' },
    { name: 'sorted', path: '/v1/nodes?limit=100&sort_key=name' },
  ] as const;
  const n = CFG.listingRequests;
  const WARM = 3;

  const check = (url: string, r: Awaited<ReturnType<typeof get>>, expect: number): void => {
    if (r.status !== 200) throw new Error(`GET ${url}: ${r.status} ${r.text.slice(0, 300)}`);
    if (r.headers['x-ironic-proxy-missing-sites']) throw new Error(`GET ${url}: sites missing: ${String(r.headers['x-ironic-proxy-missing-sites'])}`);
    const got = (JSON.parse(r.text) as { nodes: unknown[] }).nodes.length;
    if (got !== expect) throw new Error(`GET ${url}: ${got} nodes, expected ${expect}`);
  };

  /** n sequential requests (after WARM unmeasured ones); with a proxy, also its site requests per page. */
  const measure = async (base: string, path: string, expect: number, proxy?: Proxy): Promise<{ t: number[]; siteReqs: number }> => {
    const t: number[] = [];
    let before = 0;
    for (let i = 0; i < n + WARM; i++) {
      if (i === WARM && proxy) before = (await listingCounters(proxy)).siteRequests;
      const r = await get(`${base}${path}`);
      check(`${base}${path}`, r, expect);
      if (i >= WARM) t.push(r.ms);
    }
    const siteReqs = proxy ? ((await listingCounters(proxy)).siteRequests - before) / n : 1;
    return { t, siteReqs };
  };

  /** The floor any merge has on this backend: c parallel direct requests for a c-th of the page each. */
  const fanOut = async (c: number): Promise<number[]> => {
    const t: number[] = [];
    const sites = backend.sites.slice(0, c);
    const path = `/v1/nodes?limit=${Math.ceil(100 / c)}&sort_key=uuid`;
    for (let i = 0; i < n + WARM; i++) {
      const t1 = performance.now();
      const rs = await Promise.all(sites.map((s) => get(`${s.url}${path}`)));
      const dt = performance.now() - t1;
      rs.forEach((r, k) => check(`${sites[k]!.url}${path}`, r, Math.min(50, Math.ceil(100 / c))));
      if (i >= WARM) t.push(dt);
    }
    return t;
  };

  type Row = { label: string; floor: number[]; q: Record<string, { t: number[]; siteReqs: number }> };
  const rows: Row[] = [];
  const direct: Row['q'] = {};
  for (const q of queries) direct[q.name] = await measure(backend.sites[0]!.url, q.path, 50);
  rows.push({ label: 'direct (1 site)', floor: [], q: direct });
  for (const c of counts) {
    const floor = await fanOut(c);
    const proxy = await startProxy(`listing-${c}`, withGroups(backend.sites.slice(0, c)));
    const q: Row['q'] = {};
    for (const qq of queries) q[qq.name] = await measure(proxy.url, qq.path, Math.min(100, 50 * c), proxy);
    rows.push({ label: `proxy, ${c} site${c > 1 ? 's' : ''}`, floor, q });
    await proxy.close();
  }
  await backend.close();

  const one = rows[1]!.q;
  const ratio = (r: Row, k: string): number => median(r.q[k]!.t) / median(one[k]!.t);
  out(`  ${n} sequential requests each (after ${WARM} warm-up), limit=100; default = the proxy's default order (uuid), sorted = sort_key=name`);
  out(`  ratio = median / median of the proxy over 1 site (whose page holds 50 nodes, the others 100); site req = site requests per page;`);
  out(`  fan-out floor = the same number of parallel requests sent straight to the sites (a c-th of the page each): what the backend and loopback cost`);
  out();
  table(
    ['target', 'fan-out floor', 'default p50', 'p90', 'ratio', 'site req', 'sorted p50', 'p90', 'ratio', 'site req'],
    rows.map((r) => [
      r.label,
      r.floor.length ? ms(median(r.floor)) : '',
      ms(median(r.q.default!.t)),
      ms(pct(r.q.default!.t, 0.9)),
      x(ratio(r, 'default')),
      r.q.default!.siteReqs.toFixed(0),
      ms(median(r.q.sorted!.t)),
      ms(pct(r.q.sorted!.t, 0.9)),
      x(ratio(r, 'sorted')),
      r.q.sorted!.siteReqs.toFixed(0),
    ]),
  );
  const last = rows[rows.length - 1]!;
  const rd = ratio(last, 'default');
  const rs = ratio(last, 'sorted');
  const floorRatio = median(last.floor) / median(rows[1]!.floor);
  out();
  out(`  proxy over 1 site vs direct: default ${x(median(one.default!.t) / median(direct.default!.t))}, sorted ${x(median(one.sorted!.t) / median(direct.sorted!.t))}; ` +
    `fan-out floor at 100 sites vs 1 site: ${x(floorRatio)}`);
  out(`  verdict: 100 sites within 1.5× of 1 site: default ${x(rd)} ${verdict(rd <= 1.5)}; sorted ${x(rs)} ${verdict(rs <= 1.5)}   (${elapsed(t0)})`);
  summary.push(
    `Merged listing, limit=100, sites at 20 ms: direct ${ms(median(direct.default!.t))} ms; proxy p50 over 1/10/50/100 sites: ` +
      `default ${rows.slice(1).map((r) => ms(median(r.q.default!.t))).join(' / ')} ms, sorted by name ${rows.slice(1).map((r) => ms(median(r.q.sorted!.t))).join(' / ')} ms ` +
      `(fan-out floor ${rows.slice(1).map((r) => ms(median(r.floor))).join(' / ')} ms).`,
    `  100 sites vs 1 site: default ${x(rd)}, sorted ${x(rs)} (target ≤ 1.5×: ${verdict(rd <= 1.5)} / ${verdict(rs <= 1.5)}); ` +
      `sorted pages take ${last.q.sorted!.siteReqs.toFixed(0)} site requests (default ${last.q.default!.siteReqs.toFixed(0)}).`,
  );
}

// ---------------------------------------------------------------- 2b. sorted pages in one round trip

/** A site whose transport fails: a port nothing listens on. */
async function deadSiteUrl(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`;
}

async function benchSorted(): Promise<void> {
  const perSite = QUICK ? 100 : 200;
  const SITES = 100;
  section(`2b. Sorted pages, ${SITES} sites × ${int(perSite)} nodes at 20 ms vs one site of ${int(SITES * perSite)}`);
  const t0 = performance.now();
  // Cached fronts (bench/backend.ts): every distinct site request is the simulator's answer, then served from memory after
  // the site latency, so the figures are the proxy's and the wait's, not the simulator's CPU.
  const many = await startBackend('sorted', siteSpecs(SITES, perSite, 20).map((x) => ({ ...x, cached: true })));
  noteRenames(many);
  const single = await startBackend('sorted-one', [{ name: 'one', nodes: SITES * perSite, latencyMs: 20, conductorGroups: ['g0'], cached: true }]);
  const proxyMany = await startProxy('sorted-100', withGroups(many.sites));
  const proxyOne = await startProxy('sorted-1', withGroups(single.sites));
  const n = CFG.listingRequests;
  const WARM = 3;

  const orders = [
    { name: 'name (site-contiguous)', q: 'sort_key=name' },
    { name: 'created_at (interleaved)', q: 'sort_key=created_at' },
    { name: 'default (uuid, interleaved)', q: '' },
  ];
  const limits = [100, 1000];
  type Cell = { p50: number; p90: number; siteReqs: number; fetched: number; returned: number; cpuMs: number };

  /** The URL of page `depth` (0 = first) of a listing, by following `next`. */
  const pageUrl = async (base: string, query: string, depth: number): Promise<string> => {
    let url = `${base}/v1/nodes?${query}`;
    for (let i = 0; i < depth; i++) {
      const r = await getJson<{ next?: string }>(url);
      if (!r.body.next) throw new Error(`${url}: no page ${depth}`);
      url = r.body.next;
    }
    return url;
  };
  const measure = async (proxy: Proxy, url: string, expect: number): Promise<Cell> => {
    const t: number[] = [];
    let before = await listingCounters(proxy);
    let cpu0 = 0;
    for (let i = 0; i < n + WARM; i++) {
      if (i === WARM) {
        before = await listingCounters(proxy);
        cpu0 = cpuSecondsOf(proxy.proc.pid);
      }
      const r = await get(url);
      if (r.status !== 200) throw new Error(`GET ${url}: ${r.status} ${r.text.slice(0, 200)}`);
      const got = (JSON.parse(r.text) as { nodes: unknown[] }).nodes.length;
      if (got !== expect) throw new Error(`GET ${url}: ${got} nodes, expected ${expect}`);
      if (i >= WARM) t.push(r.ms);
    }
    const cpuMs = ((cpuSecondsOf(proxy.proc.pid) - cpu0) * 1000) / n;
    const after = await listingCounters(proxy);
    return {
      cpuMs,
      p50: median(t),
      p90: pct(t, 0.9),
      siteReqs: (after.siteRequests - before.siteRequests) / n,
      fetched: after.fetched - before.fetched,
      returned: after.returned - before.returned,
    };
  };

  // The floor of any exact merge that verifies every site: one parallel request per site, straight to the sites
  // (one asks for the page, the others for one item), against one request to the one site.
  const floor = async (c: number): Promise<number> => {
    const t: number[] = [];
    const sites = c === 1 ? single.sites : many.sites.slice(0, c);
    for (let i = 0; i < n + WARM; i++) {
      const t1 = performance.now();
      await Promise.all(sites.map((site, k) => get(`${site.url}/v1/nodes?sort_key=name&limit=${k === 0 ? 100 : 1}`)));
      if (i >= WARM) t.push(performance.now() - t1);
    }
    return median(t);
  };
  const floorOne = await floor(1);
  const floorMany = await floor(SITES);

  const rows: string[][] = [];
  const verdicts: Array<{ order: string; limit: number; depth: string; ratio: number; fr: number }> = [];
  for (const o of orders) {
    for (const limit of limits) {
      const query = [o.q, `limit=${limit}`].filter(Boolean).join('&');
      // Deep: as deep into the listing as a tenth of the page count from its end allows, past many sites' ranges.
      const depth = limit === 100 ? Math.floor((SITES * perSite) / limit / 2) : Math.floor((SITES * perSite) / limit / 2);
      for (const [label, d] of [['first', 0], [`page ${depth + 1}`, depth]] as const) {
        const oneUrl = await pageUrl(proxyOne.url, query, d);
        const manyUrl = await pageUrl(proxyMany.url, query, d);
        const one = await measure(proxyOne, oneUrl, limit);
        const m = await measure(proxyMany, manyUrl, limit);
        const ratio = m.p50 / one.p50;
        const fr = m.fetched / m.returned;
        verdicts.push({ order: o.name, limit, depth: label, ratio, fr });
        rows.push([o.name, String(limit), label, ms(one.p50), ms(m.p50), ms(m.p90), x(ratio), m.siteReqs.toFixed(0), fr.toFixed(2), `${one.cpuMs.toFixed(1)} / ${m.cpuMs.toFixed(1)}`]);
      }
    }
  }
  await proxyMany.close();

  // One dead site (nothing listens) and one slow one (3 s, beyond the site timeout of 1 s): once their circuits are open
  // the page costs the live sites' wait.
  const dead = { name: 'dead', url: await deadSiteUrl(), nodes: 0, group: 'gdead' };
  const slowBackend = await startBackend('sorted-slow', [{ name: 'slow', nodes: perSite, latencyMs: 3000, conductorGroups: ['gslow'], cached: true }]);
  const slow = { ...slowBackend.sites[0]!, group: 'gslow' };
  const live = withGroups(many.sites.slice(0, SITES - 2));
  const proxyFaulty = await startProxy('sorted-faulty', [...live, dead, slow], 'site_timeout = 1\ncircuit_failure_threshold = 2\ncircuit_open_seconds = 600');
  const faultRows: string[][] = [];
  for (const limit of limits) {
    const query = `sort_key=name&limit=${limit}`;
    const oneUrl = await pageUrl(proxyOne.url, query, 0);
    const one = await measure(proxyOne, oneUrl, limit);
    const url = `${proxyFaulty.url}/v1/nodes?${query}`;
    // Until the circuits open, pages wait for the slow site's timeout.
    const opening: number[] = [];
    for (let i = 0; i < 3; i++) opening.push((await get(url)).ms);
    const t: number[] = [];
    let missing = '';
    for (let i = 0; i < n; i++) {
      const r = await get(url);
      missing = String(r.headers['x-ironic-proxy-missing-sites'] ?? '');
      if (r.status !== 200) throw new Error(`GET ${url}: ${r.status}`);
      t.push(r.ms);
    }
    const ratio = median(t) / one.p50;
    verdicts.push({ order: 'name, 1 dead + 1 slow site', limit, depth: 'first', ratio, fr: 0 });
    faultRows.push([String(limit), opening.map(ms).join(' / '), ms(one.p50), ms(median(t)), ms(pct(t, 0.9)), x(ratio), missing || '-']);
  }
  await proxyFaulty.close();
  await slowBackend.close();
  await proxyOne.close();
  await single.close();
  await many.close();

  out(`  ${n} sequential requests per cell after ${WARM} warm-up ones (the figures a page is planned with are learned from answers: the`);
  out(`  warm-up and the walk to a deep page teach them); one site = the proxy over one site holding all ${int(SITES * perSite)} nodes (same page);`);
  out(`  site req = site requests per page (100 = one round: every live site is asked at least once); fetched/returned from the proxy's metrics`);
  out();
  table(['order', 'limit', 'page', 'one site p50', `${SITES} sites p50`, 'p90', 'ratio', 'site req', 'fetched/returned', 'proxy CPU ms/page (1 / 100)'], rows);
  out();
  out(`  fan-out floor (straight to the sites, no proxy): ${SITES} parallel requests ${ms(floorMany)} ms vs one request ${ms(floorOne)} ms = ${x(floorMany / floorOne)}`);
  out();
  out(`  ${SITES - 2} live sites + one dead (connection refused) + one slow (3 s, site_timeout 1 s), sort_key=name, first page:`);
  table(['limit', 'first 3 pages ms (circuits opening)', 'one site p50', 'p50', 'p90', 'ratio', 'missing sites'], faultRows);
  const contiguous = verdicts.filter((v) => v.order.startsWith('name'));
  const worst = Math.max(...contiguous.map((v) => v.ratio));
  const worstFr = Math.max(...verdicts.filter((v) => v.order.startsWith('name (')).map((v) => v.fr));
  out();
  out(`  verdict: site-contiguous sorted pages ≤ 1.2× one site: ${verdict(worst <= 1.2)} (worst ${x(worst)}); fetched/returned ≤ 2: ${verdict(worstFr <= 2)} (worst ${worstFr.toFixed(2)})   (${elapsed(t0)})`);
  const cell = (order: string, limit: number, depth: string): string => {
    const v = verdicts.find((w) => w.order.startsWith(order) && w.limit === limit && w.depth.startsWith(depth));
    return v ? `${x(v.ratio)}${v.fr ? ` (${v.fr.toFixed(2)})` : ''}` : '-';
  };
  summary.push(
    `Sorted pages, ${SITES} sites × ${int(perSite)} nodes at 20 ms vs one site, p50 ratio (fetched/returned): ` +
      `name first/deep ${cell('name (', 100, 'first')} / ${cell('name (', 100, 'page')} at limit 100, ${cell('name (', 1000, 'first')} / ${cell('name (', 1000, 'page')} at 1000; ` +
      `created_at ${cell('created_at', 100, 'first')} / ${cell('created_at', 100, 'page')}, ${cell('created_at', 1000, 'first')} / ${cell('created_at', 1000, 'page')}; ` +
      `default ${cell('default', 100, 'first')} / ${cell('default', 100, 'page')}, ${cell('default', 1000, 'first')} / ${cell('default', 1000, 'page')}.`,
    `  with one dead and one slow site (circuits open): ${cell('name, 1 dead', 100, 'first')} at limit 100, ${cell('name, 1 dead', 1000, 'first')} at 1000 (target ≤ 1.2×: ${verdict(worst <= 1.2)}); ` +
      `the fan-out floor (${SITES} parallel requests straight to the sites vs one): ${x(floorMany / floorOne)}.`,
  );
}

// ---------------------------------------------------------------- 3. fetched per returned

async function benchFetchRatio(): Promise<void> {
  const perSite = CFG.pagingNodes;
  section(`3. Nodes fetched per node returned, paging 100 sites × ${int(perSite)} nodes`);
  const t0 = performance.now();
  const backend = await startBackend('paging', siteSpecs(100, perSite));
  noteRenames(backend);
  const proxy = await startProxy('paging', withGroups(backend.sites));
  const total = 100 * perSite;
  const expectedNames = new Set(backend.sites.flatMap((s) => Array.from({ length: perSite }, (_, i) => `${s.name}-node-${i}`)));
  const cases = [
    { order: 'sort_key=name', key: 'name', limit: 100 },
    { order: 'sort_key=name', key: 'name', limit: 1000 },
    { order: 'default (uuid)', key: 'uuid', limit: 100 },
    { order: 'default (uuid)', key: 'uuid', limit: 1000 },
  ];
  const rows: string[][] = [];
  let allOnce = true;
  const ratios: Record<string, number> = {};
  for (const c of cases) {
    const before = await listingCounters(proxy);
    const q = c.key === 'name' ? `limit=${c.limit}&sort_key=name` : `limit=${c.limit}`;
    const w = await walk(`${proxy.url}/v1/nodes?${q}`, c.key);
    const after = await listingCounters(proxy);
    const fetched = after.fetched - before.fetched;
    const returned = after.returned - before.returned;
    const siteReqs = after.siteRequests - before.siteRequests;
    let namesOk = true;
    if (w.names) namesOk = w.names.size === expectedNames.size && [...expectedNames].every((nm) => w.names!.has(nm));
    const once = w.items === total && w.unique === total && w.duplicates === 0 && w.outOfOrder === 0 && w.missingSitesHeaders === 0 && namesOk && returned === total;
    allOnce &&= once;
    ratios[`${c.key}-${c.limit}`] = fetched / returned;
    rows.push([
      `${c.order}, limit ${c.limit}`,
      int(w.pages),
      int(returned),
      int(fetched),
      (fetched / returned).toFixed(2),
      (siteReqs / w.pages).toFixed(1),
      (w.seconds * 1000 / w.pages).toFixed(1),
      once ? `yes (${int(w.unique)})` : `NO: ${w.items} items, ${w.unique} unique, ${w.duplicates} dup, ${w.outOfOrder} out of order`,
    ]);
  }
  const mem = proxy.memory();
  await proxy.close();
  await backend.close();
  out(`  sites at 0 ms latency; following \`next\` to the end; counters from the proxy's /metrics (ironic_proxy_listing_items_total)`);
  out(`  names are <site>-node-<i>, so sort_key=name takes whole runs from one site at a time (the hard case for lazy fetching);`);
  out(`  the default order (uuid) interleaves sites evenly. A naive merge pulls a full page from every site: 100 fetched per returned.`);
  out();
  table(['order, page size', 'pages', 'returned', 'fetched', 'fetched/returned', 'site req/page', 'ms/page', 'every node exactly once, in order'], rows);
  out();
  out(`  proxy RSS after: ${mem.rssMB.toFixed(0)} MB (peak ${mem.hwmMB.toFixed(0)} MB)`);
  const worstName = Math.max(ratios['name-100']!, ratios['name-1000']!);
  out(`  verdict: every node exactly once: ${verdict(allOnce)}; sorted fetched/returned ≤ 2 (naive: 100): ${verdict(worstName <= 2)} ` +
    `(limit 100: ${ratios['name-100']!.toFixed(2)}, limit 1000: ${ratios['name-1000']!.toFixed(2)})   (${elapsed(t0)})`);
  summary.push(
    `Paging 100 sites × ${int(perSite)} nodes sorted by name: fetched/returned ${ratios['name-100']!.toFixed(2)} (limit 100), ${ratios['name-1000']!.toFixed(2)} (limit 1000); ` +
      `default order ${ratios['uuid-100']!.toFixed(2)} / ${ratios['uuid-1000']!.toFixed(2)} (naive: 100); every node exactly once: ${verdict(allOnce)}.`,
  );
}

// ---------------------------------------------------------------- 4. memory

async function benchMemory(): Promise<void> {
  const perSite = CFG.memNodes;
  const total = 100 * perSite;
  section(`4. Proxy memory paging 100 sites × ${int(perSite)} nodes (limit 1000)`);
  const t0 = performance.now();
  const backend = await startBackend('memory', siteSpecs(100, perSite), { heapMB: 12_288, timeoutMs: 300_000 });
  out(`  backend: ${int(total)} nodes seeded in ${(backend.seedMs / 1000).toFixed(1)} s, simulator RSS ${int(backend.rssMB)} MB`);
  noteRenames(backend);
  const proxy = await startProxy('memory', withGroups(backend.sites));
  const start = proxy.memory();
  const before = await listingCounters(proxy);
  let peakRss = start.rssMB;
  const w = await walk(`${proxy.url}/v1/nodes?limit=1000`, 'uuid', (pages) => {
    if (pages % 10 === 0) peakRss = Math.max(peakRss, proxy.memory().rssMB);
  });
  const after = await listingCounters(proxy);
  const end = proxy.memory();
  // What the RSS is made of, from the proxy's own metrics (prom-client's process metrics).
  const metricsText = (await get(`${proxy.url}/metrics`, {})).text;
  const gauge = (name: string): number => {
    let sum = 0;
    for (const m of metricsText.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) sum += Number(m[1]);
    return sum;
  };
  const heapUsedMB = gauge('ironic_proxy_nodejs_heap_size_used_bytes') / 2 ** 20;
  const heapTotalMB = gauge('ironic_proxy_nodejs_heap_size_total_bytes') / 2 ** 20;
  const externalMB = gauge('ironic_proxy_nodejs_external_memory_bytes') / 2 ** 20;
  const cacheEntries = gauge('ironic_proxy_location_cache_entries');
  const simMem = memoryOf(backend.proc.pid);
  await proxy.close();
  await backend.close();
  const countOk = w.items === total && w.unique === total && w.duplicates === 0 && w.outOfOrder === 0 && w.missingSitesHeaders === 0;
  const fetched = after.fetched - before.fetched;
  const returned = after.returned - before.returned;
  out(`  default order, following \`next\` to the end; VmRSS/VmHWM from /proc/<proxy pid>/status`);
  out();
  table(
    ['', 'value'],
    [
      ['nodes returned (unique)', `${int(w.items)} (${int(w.unique)})${countOk ? '' : `  EXPECTED ${int(total)}`}`],
      ['pages', int(w.pages)],
      ['time', `${w.seconds.toFixed(1)} s (${int(w.items / w.seconds)} nodes/s, ${(w.seconds * 1000 / w.pages).toFixed(1)} ms/page)`],
      ['fetched/returned', (fetched / returned).toFixed(2)],
      ['proxy VmRSS at start', `${start.rssMB.toFixed(0)} MB`],
      ['proxy VmRSS at end', `${end.rssMB.toFixed(0)} MB`],
      ['proxy VmRSS max sampled', `${Math.max(peakRss, end.rssMB).toFixed(0)} MB`],
      ['proxy VmHWM (peak)', `${end.hwmMB.toFixed(0)} MB`],
      ['proxy JS heap used / total, external at the end', `${heapUsedMB.toFixed(0)} / ${heapTotalMB.toFixed(0)} MB, ${externalMB.toFixed(0)} MB`],
      ['location cache entries at the end', int(cacheEntries)],
      ['simulator VmRSS / VmHWM', `${simMem.rssMB.toFixed(0)} / ${simMem.hwmMB.toFixed(0)} MB`],
    ],
  );
  out();
  out(`  verdict: all ${int(total)} nodes exactly once: ${verdict(countOk)}; proxy peak RSS < 300 MB: ${verdict(end.hwmMB < 300)} (${end.hwmMB.toFixed(0)} MB)   (${elapsed(t0)})`);
  summary.push(
    `Paging 100 sites × ${int(perSite)} nodes (${int(total)}, limit 1000, ${int(w.pages)} pages): ${w.seconds.toFixed(1)} s, count ${countOk ? 'exact' : 'WRONG'}; ` +
      `proxy VmRSS ${end.rssMB.toFixed(0)} MB at the end, VmHWM ${end.hwmMB.toFixed(0)} MB (target < 300 MB: ${verdict(end.hwmMB < 300)}).`,
  );
}

// ---------------------------------------------------------------- 5. the coordination store

/** POSTs one node and returns the milliseconds it took (keep-alive, as a client would). */
async function createTimed(base: string, body: unknown): Promise<number> {
  const t = performance.now();
  const res = await fetch(`${base}/v1/nodes`, { method: 'POST', headers: { ...LATEST, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  if (res.status !== 201) throw new Error(`create through ${base}: ${res.status}`);
  return performance.now() - t;
}

async function siteRequestsOf(proxy: Proxy): Promise<number> {
  const text = (await get(`${proxy.url}/metrics`, {})).text;
  let n = 0;
  for (const m of text.matchAll(/^ironic_proxy_site_requests_total\{[^}]*\} (\S+)$/gm)) n += Number(m[1]);
  return n;
}

/**
 * A proxy with and without [coordination] (a real redis-server on loopback):
 * the hot read path must not change (the location is known locally), a
 * named create pays a reservation and its release (target: ≤ 1 ms more),
 * and a cold replica finds nodes another replica located without asking
 * every site.
 */
async function benchCoordination(): Promise<void> {
  section('5. Coordination store ([coordination] backend_url, Redis): reads and creates without and with it');
  const t0 = performance.now();
  const { startRedis } = await import('../test/support/redis.js');
  const backend = await startBackend('coord', siteSpecs(2, 1000));
  const redis = await startRedis();
  const coordIni = `[coordination]\nbackend_url = ${redis.url}\n`;
  const sites = withGroups(backend.sites);
  const proxies: Proxy[] = [];
  try {
    const plain = await startProxy('coord-plain', sites);
    proxies.push(plain);
    const shared = await startProxy('coord-redis', sites, '', coordIni);
    proxies.push(shared);
    const uuids = (await getJson<{ nodes: Array<{ uuid: string }> }>(`${backend.sites[1]!.url}/v1/nodes?limit=100`)).body.nodes.map((n) => n.uuid);
    const paths = uuids.map((u) => `/v1/nodes/${u}`);
    for (const p of paths) for (const base of [plain.url, shared.url]) await get(`${base}${p}`);

    const reads = new Map<string, LoadResult[]>([['plain', []], ['redis', []]]);
    const creates = new Map<string, number[]>([['plain', []], ['redis', []]]);
    const readCpu = new Map<string, number[]>([['plain', []], ['redis', []]]);
    const perRound = QUICK ? 100 : 300;
    // An even number of rounds in A-B, B-A order: this machine's speed drifts within a minute, and a fixed order would bias one row.
    const rounds = CFG.rounds + (CFG.rounds % 2);
    for (let round = 0; round < rounds; round++) {
      const pair = [['plain', plain], ['redis', shared]] as const;
      for (const [name, proxy] of round % 2 ? [...pair].reverse() : pair) {
        const cpu0 = cpuSecondsOf(proxy.proc.pid);
        const r = await runLoad(`coord-${name}`, { url: proxy.url, paths, connections: CFG.connections, warmupSeconds: CFG.warmup, seconds: CFG.seconds, headers: LATEST });
        reads.get(name)!.push(r);
        // CPU per GET: what the machine's drift between rounds does not move as much as req/s.
        readCpu.get(name)!.push(((cpuSecondsOf(proxy.proc.pid) - cpu0) / Math.max(1, r.requests + r.warmupRequests)) * 1e6);
        // Named creates, one at a time (the name is checked at the other site, and reserved with the store).
        for (let i = 0; i < perRound; i++) {
          creates.get(name)!.push(await createTimed(proxy.url, { name: `bench-${name}-${round}-${i}`, driver: 'fake-hardware', conductor_group: 'g0' }));
        }
      }
    }
    // A cold replica: first GET of 100 nodes another replica has located.
    const coldPlain = await startProxy('coord-cold-plain', sites);
    proxies.push(coldPlain);
    const coldShared = await startProxy('coord-cold-redis', sites, '', coordIni);
    proxies.push(coldShared);
    const coldAsked = async (p: Proxy): Promise<number> => {
      const before = await siteRequestsOf(p);
      for (const path of paths) if ((await get(`${p.url}${path}`)).status !== 200) throw new Error(`cold GET ${path} through ${p.url}`);
      return (await siteRequestsOf(p)) - before;
    };
    const coldPlainAsked = await coldAsked(coldPlain);
    const coldSharedAsked = await coldAsked(coldShared);

    const rps = (name: string): number => median(reads.get(name)!.map((r) => r.rps));
    const p50 = (name: string): number => median(reads.get(name)!.map((r) => r.p50));
    const c50 = (name: string): number => median(creates.get(name)!);
    const c99 = (name: string): number => pct(creates.get(name)!, 0.99);
    out(`  2 simulated sites; GET: ${CFG.connections} connections, ${CFG.seconds} s, ${rounds} rounds (A-B, B-A, …), location cache warm;`);
    out(`  creates: ${perRound} named creates per round, one at a time (uniqueness check at the other site + the create)`);
    out();
    table(
      ['proxy', 'GET req/s', 'GET p50 ms', 'proxy CPU µs/GET', 'create p50 ms', 'create p99 ms', 'cold replica: site requests for 100 first GETs'],
      [
        ['without store', int(rps('plain')), ms(p50('plain')), int(median(readCpu.get('plain')!)), ms(c50('plain')), ms(c99('plain')), int(coldPlainAsked)],
        ['with Redis', int(rps('redis')), ms(p50('redis')), int(median(readCpu.get('redis')!)), ms(c50('redis')), ms(c99('redis')), int(coldSharedAsked)],
      ],
    );
    const readRatio = rps('redis') / rps('plain');
    const createDelta = c50('redis') - c50('plain');
    out();
    out(
      `  verdict: reads unchanged (with/without ${x(readRatio)}, within 10%): ${verdict(readRatio >= 0.9)}; ` +
        `creates +${ms(createDelta)} ms at p50 (≤ 1 ms): ${verdict(createDelta <= 1)}   (${elapsed(t0)})`,
    );
    summary.push(
      `Coordination store (Redis on loopback): single-node GET ${int(rps('redis'))} req/s with vs ${int(rps('plain'))} without (${x(readRatio)}), ` +
        `proxy CPU ${int(median(readCpu.get('redis')!))} vs ${int(median(readCpu.get('plain')!))} µs per GET; ` +
        `named create p50 ${ms(c50('redis'))} ms with vs ${ms(c50('plain'))} without (+${ms(createDelta)} ms, target ≤ 1: ${verdict(createDelta <= 1)}); ` +
        `a cold replica's first GET of 100 nodes asked the sites ${int(coldSharedAsked)} times with the store, ${int(coldPlainAsked)} without.`,
    );
  } finally {
    await Promise.all(proxies.map((p) => p.close()));
    await redis.dispose();
    await backend.close();
  }
}

// ---------------------------------------------------------------- main

let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\n${sig}: stopping the benchmark's processes…\n`);
    void cleanup().finally(() => process.exit(130));
  });
}
process.on('exit', killAllNow);

const started = performance.now();
const command = `npm run bench${QUICK || ONLY ? ` --${QUICK ? ' --quick' : ''}${ONLY ? ` --only ${ONLY.join(',')}` : ''}` : ''}`;
out(`ironic-proxy benchmark (${QUICK ? 'quick' : 'full'}): ${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'CPU'}, Node.js ${process.version}`);
out(`load average before the run: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
try {
  const foreign: number[] = [];
  const sections = { single: benchSingleNode, static: benchSingleStatic, listing: benchListingLatency, sorted: benchSorted, fetch: benchFetchRatio, memory: benchMemory, coordination: benchCoordination };
  const unknown = ONLY?.filter((n) => !(n in sections)) ?? [];
  if (unknown.length > 0) throw new Error(`--only: unknown section(s) ${unknown.join(', ')}; known: ${Object.keys(sections).join(', ')}`);
  for (const [name, run] of Object.entries(sections)) {
    if (ONLY && !ONLY.includes(name)) continue;
    const before = cpuSample();
    await run();
    const share = foreignShare(before, cpuSample());
    foreign.push(share);
    out(
      `  machine: other processes used ${(share * 100).toFixed(0)}% of its CPU during this section` +
        (share > 0.1 ? ' — the figures are disturbed; re-run on a quiet machine' : ''),
    );
  }
  const worst = Math.max(...foreign);
  section('Summary (for the README)');
  out();
  out('```');
  out(`$ ${command}    # ${os.cpus().length} cores, Node.js ${process.version}, ${((performance.now() - started) / 60000).toFixed(1)} min`);
  for (const l of summary) out(l);
  out('```');
  out(`machine: other processes took at most ${(worst * 100).toFixed(0)}% of the CPU in any section${worst > 0.1 ? ' (figures disturbed: re-run on a quiet machine)' : ' (quiet)'}`);
  for (const n of notes) out(`note: ${n}`);
} catch (err) {
  if (!interrupted) {
    process.stderr.write(`\nbenchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  }
} finally {
  await cleanup();
}
