/**
 * Prometheus metrics per route and per site. Labels are bounded: routes are
 * the route patterns (not URLs), sites come from the configuration, outcomes
 * from a fixed set. With several workers, any worker's /metrics answers for
 * all of them (the primary aggregates over IPC, prom-client's cluster mode).
 */
import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { SiteProtocolError, SiteTimeoutError, SiteUnavailableError } from './errors.js';
import type { SiteClient } from './sites/site-client.js';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class ProxyMetrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'ironic_proxy_http_requests_total',
    help: 'Requests answered by the proxy',
    labelNames: ['method', 'route', 'status'],
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'ironic_proxy_http_request_duration_seconds',
    help: 'Time to answer a request',
    labelNames: ['method', 'route'],
    buckets: BUCKETS,
    registers: [this.registry],
  });
  readonly siteRequests = new Counter({
    name: 'ironic_proxy_site_requests_total',
    help: 'Requests sent to a site, by outcome (HTTP status class or failure kind)',
    labelNames: ['site', 'outcome'],
    registers: [this.registry],
  });
  readonly siteDuration = new Histogram({
    name: 'ironic_proxy_site_request_duration_seconds',
    help: 'Time a site took to answer',
    labelNames: ['site'],
    buckets: BUCKETS,
    registers: [this.registry],
  });
  readonly listingMissingSites = new Counter({
    name: 'ironic_proxy_listing_missing_sites_total',
    help: 'Listings answered without a site that did not answer',
    labelNames: ['site'],
    registers: [this.registry],
  });
  readonly locationConflicts = new Counter({
    name: 'ironic_proxy_location_conflicts_total',
    help: 'Lookups that found one identifier (uuid or name) at several sites (answered 409)',
    labelNames: ['resource'],
    registers: [this.registry],
  });
  readonly listingItems = new Counter({
    name: 'ironic_proxy_listing_items_total',
    help: 'Items fetched from sites and returned to clients by merged listings',
    labelNames: ['kind'],
    registers: [this.registry],
  });

  constructor(sites: readonly SiteClient[], locationCacheSize: () => number) {
    collectDefaultMetrics({ register: this.registry, prefix: 'ironic_proxy_' });
    new Gauge({
      name: 'ironic_proxy_site_circuit_state',
      help: 'Circuit breaker per site: 0 closed, 1 half-open, 2 open',
      labelNames: ['site'],
      registers: [this.registry],
      collect() {
        for (const s of sites) this.set({ site: s.name }, s.breaker.state === 'closed' ? 0 : s.breaker.state === 'half-open' ? 1 : 2);
      },
    });
    new Gauge({
      name: 'ironic_proxy_location_cache_entries',
      help: 'Entries in the node location cache',
      registers: [this.registry],
      collect() {
        this.set(locationCacheSize());
      },
    });
    for (const site of sites) {
      site.observers.push({
        answered: (status, ms) => {
          this.siteRequests.inc({ site: site.name, outcome: `${Math.floor(status / 100)}xx` });
          this.siteDuration.observe({ site: site.name }, ms / 1000);
        },
        failed: (err, ms) => {
          this.siteRequests.inc({ site: site.name, outcome: failureKind(err) });
          this.siteDuration.observe({ site: site.name }, ms / 1000);
        },
      });
    }
  }

  /** The text exposition: this process's, or every worker's when running as a cluster worker. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    if (cluster.isWorker && process.send) {
      return { contentType: this.registry.contentType, text: await askPrimaryForMetrics() };
    }
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}

function failureKind(err: Error): string {
  if (err instanceof SiteTimeoutError) return 'timeout';
  if (err instanceof SiteProtocolError) return 'bad_response';
  if (err instanceof SiteUnavailableError) {
    if (err.message.includes('circuit open')) return 'circuit_open';
    if (err.message.includes('too many requests')) return 'busy';
    return 'unavailable';
  }
  return 'error';
}

const METRICS_REQUEST = 'ironic-proxy:metrics-request';
const METRICS_RESPONSE = 'ironic-proxy:metrics-response';
const COLLECT_REQUEST = 'ironic-proxy:metrics-collect';
const COLLECT_RESPONSE = 'ironic-proxy:metrics-collected';
const IPC_TIMEOUT_MS = 5000;

/** Sends `msg` and resolves with the first reply accepted by `match`, or rejects after a bound. */
function exchange<T>(send: () => void, on: (h: (m: unknown) => void) => void, off: (h: (m: unknown) => void) => void, match: (m: unknown) => T | undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    const handler = (m: unknown): void => {
      const v = match(m);
      if (v === undefined) return;
      clearTimeout(timer);
      off(handler);
      resolve(v);
    };
    const timer = setTimeout(() => {
      off(handler);
      reject(new Error('metrics aggregation timed out'));
    }, IPC_TIMEOUT_MS);
    on(handler);
    send();
  });
}

function askPrimaryForMetrics(): Promise<string> {
  const id = randomUUID();
  return exchange(
    () => process.send!({ type: METRICS_REQUEST, id }),
    (h) => process.on('message', h),
    (h) => process.off('message', h),
    (m) => {
      const r = m as { type?: string; id?: string; text?: string };
      return r?.type === METRICS_RESPONSE && r.id === id ? (r.text ?? '') : undefined;
    },
  );
}

/** In a worker: hands this process's metrics to the primary when it collects. */
export function answerMetricsCollection(metrics: ProxyMetrics): void {
  if (!cluster.isWorker) return;
  process.on('message', (m: { type?: string; id?: string }) => {
    if (m?.type !== COLLECT_REQUEST) return;
    void metrics.registry.getMetricsAsJSON().then((json) => process.send?.({ type: COLLECT_RESPONSE, id: m.id, json }));
  });
}

/** In the primary of a multi-worker proxy: answers any worker's /metrics with every worker's metrics summed. */
export function serveClusterMetrics(): void {
  cluster.on('message', (asker, msg: { type?: string; id?: string }) => {
    if (msg?.type !== METRICS_REQUEST) return;
    const workers = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
    const collections = workers.map((w) => {
      const id = randomUUID();
      return exchange(
        () => w.send({ type: COLLECT_REQUEST, id }),
        (h) => w.on('message', h),
        (h) => w.off('message', h),
        (m) => {
          const r = m as { type?: string; id?: string; json?: unknown };
          return r?.type === COLLECT_RESPONSE && r.id === id ? r.json : undefined;
        },
      );
    });
    Promise.allSettled(collections).then(async (results) => {
      const jsons = results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<unknown>).value);
      const text = await AggregatorRegistry.aggregate(jsons as Parameters<typeof AggregatorRegistry.aggregate>[0]).metrics();
      asker.send({ type: METRICS_RESPONSE, id: msg.id, text });
    });
  });
}
