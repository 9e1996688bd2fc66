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
import { VERSION } from './version.js';

/** What some gauges read from the status service (bound once it exists: it observes the same sites). */
export interface MetricSources {
  siteDown(site: SiteClient): boolean;
  /** A site's version range as minor numbers (undefined before its first version document). */
  siteVersions(site: SiteClient): { min: number; max: number } | undefined;
  /** Global objects drifting at each checked site. */
  driftPerSite(): Map<string, number>;
  /** Epoch ms of the last finished drift check. */
  driftCheckedAt(): number | undefined;
}

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

  readonly partialAnswers = new Counter({
    name: 'ironic_proxy_partial_answers_total',
    help: 'Answers (listings) served without one or more sites that did not answer',
    labelNames: ['route'],
    registers: [this.registry],
  });
  readonly keystoneAuthentications = new Counter({
    name: 'ironic_proxy_keystone_authentications_total',
    help: "The proxy's own Keystone authentications (a site's token, or the service token of [keystone_authtoken]), by outcome",
    labelNames: ['holder', 'outcome'],
    registers: [this.registry],
  });
  sources: MetricSources | undefined;

  readonly unguardedWrites = new Counter({
    name: 'ironic_proxy_coordination_unguarded_writes_total',
    help: 'Writes of identifiers unique over all sites that went on without a reservation in the store (it could not be asked, [coordination]required = false)',
    registers: [this.registry],
  });
  readonly reservationConflicts = new Counter({
    name: 'ironic_proxy_coordination_reservation_conflicts_total',
    help: 'Writes refused (409) because another write held the reservation of the same identifier',
    registers: [this.registry],
  });

  constructor(sites: readonly SiteClient[], locationCacheSize: () => number, coordinationUp: () => boolean | undefined = () => undefined) {
    collectDefaultMetrics({ register: this.registry, prefix: 'ironic_proxy_' });
    new Gauge({
      name: 'ironic_proxy_build_info',
      help: 'The running version of the proxy (value 1)',
      labelNames: ['version', 'nodejs'],
      registers: [this.registry],
      // Several workers run one build: the same labels, value 1, not N.
      aggregator: 'max',
    }).set({ version: VERSION, nodejs: process.versions.node }, 1);
    const self = this;
    new Gauge({
      name: 'ironic_proxy_site_up',
      help: 'Whether a site answers: 1 its latest request got an answer and its circuit is not open, 0 not',
      labelNames: ['site'],
      registers: [this.registry],
      // With several workers: up only if every worker sees it up.
      aggregator: 'min',
      collect() {
        for (const s of sites) this.set({ site: s.name }, self.sources?.siteDown(s) ? 0 : 1);
      },
    });
    new Gauge({
      name: 'ironic_proxy_site_microversion',
      help: 'The microversion range a site advertises, as its minor number (bound: min or max)',
      labelNames: ['site', 'bound'],
      registers: [this.registry],
      aggregator: 'max',
      collect() {
        for (const s of sites) {
          const v = self.sources?.siteVersions(s);
          if (!v) continue;
          this.set({ site: s.name, bound: 'min' }, v.min);
          this.set({ site: s.name, bound: 'max' }, v.max);
        }
      },
    });
    new Gauge({
      name: 'ironic_proxy_global_objects_drift',
      help: 'Global objects (chassis, deploy templates, runbooks) missing at a site or differing from the majority there, at the last drift check',
      labelNames: ['site'],
      registers: [this.registry],
      aggregator: 'max',
      collect() {
        this.reset();
        for (const [site, n] of self.sources?.driftPerSite() ?? []) this.set({ site }, n);
      },
    });
    new Gauge({
      name: 'ironic_proxy_drift_check_timestamp_seconds',
      help: 'When the last drift check of the global objects finished (Unix time)',
      registers: [this.registry],
      aggregator: 'max',
      collect() {
        const at = self.sources?.driftCheckedAt();
        if (at !== undefined) this.set(at / 1000);
      },
    });
    new Gauge({
      name: 'ironic_proxy_site_circuit_state',
      help: 'Circuit breaker per site: 0 closed, 1 half-open, 2 open',
      labelNames: ['site'],
      registers: [this.registry],
      // With several workers: the worst worker's breaker.
      aggregator: 'max',
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
    new Gauge({
      name: 'ironic_proxy_coordination_up',
      help: 'The coordination store ([coordination]backend_url) is connected: 1, not: 0 (absent when none is configured)',
      registers: [this.registry],
      // Over workers: the lowest (one worker without the store is the alarm).
      aggregator: 'min',
      collect() {
        const up = coordinationUp();
        if (up !== undefined) this.set(up ? 1 : 0);
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
      return { contentType: this.registry.contentType, text: (await askPrimaryForMetrics('text')) as string };
    }
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }

  /** The metrics as prom-client's JSON: this process's, or every worker's summed when running as a cluster worker. */
  async json(): Promise<MetricJson[]> {
    if (cluster.isWorker && process.send) return (await askPrimaryForMetrics('json')) as MetricJson[];
    return (await this.registry.getMetricsAsJSON()) as unknown as MetricJson[];
  }
}

export function failureKind(err: Error): string {
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

/** One metric as prom-client's getMetricsAsJSON() gives it. */
export interface MetricJson {
  name: string;
  type: string;
  values: Array<{ value: number; labels: Record<string, string | number>; metricName?: string }>;
}

function askPrimaryForMetrics(format: 'text' | 'json'): Promise<string | MetricJson[]> {
  const id = randomUUID();
  return exchange(
    () => process.send!({ type: METRICS_REQUEST, id, format }),
    (h) => process.on('message', h),
    (h) => process.off('message', h),
    (m) => {
      const r = m as { type?: string; id?: string; text?: string; json?: MetricJson[] };
      if (r?.type !== METRICS_RESPONSE || r.id !== id) return undefined;
      return format === 'json' ? (r.json ?? []) : (r.text ?? '');
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
  cluster.on('message', (asker, msg: { type?: string; id?: string; format?: string }) => {
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
      const aggregated = AggregatorRegistry.aggregate(jsons as Parameters<typeof AggregatorRegistry.aggregate>[0]);
      if (msg.format === 'json') asker.send({ type: METRICS_RESPONSE, id: msg.id, json: await aggregated.getMetricsAsJSON() });
      else asker.send({ type: METRICS_RESPONSE, id: msg.id, text: await aggregated.metrics() });
    });
  });
}
