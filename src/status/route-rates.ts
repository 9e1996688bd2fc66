/**
 * Request and error rates by route, and partial answers, from the proxy's
 * own Prometheus counters (summed over every worker when there are several):
 * the counters are sampled while the status page is viewed, and a rate is
 * the difference over the window (at most RATE_WINDOW_MS) divided by its
 * length. Until the samples span a minute the window starts at the
 * process's start (the counters' zero).
 */
import type { MetricJson } from '../metrics.js';

export const RATE_WINDOW_MS = 5 * 60_000;
const MIN_WINDOW_MS = 60_000;

interface Sample {
  at: number;
  /** `METHOD route` → [requests, 5xx answers, 4xx answers] */
  routes: Map<string, [number, number, number]>;
  /** route → partial answers */
  partial: Map<string, number>;
  /** site → listings that went without it */
  missing: Map<string, number>;
}

export interface RouteRate {
  method: string;
  route: string;
  requests: number;
  /** Requests per second over the window. */
  rate: number;
  /** Share of the window's requests answered 5xx (null without requests). */
  error_rate: number | null;
  /** Share answered 4xx. */
  client_error_rate: number | null;
}

export interface RatesView {
  window_seconds: number;
  /** True when the window starts at the process's start (the page has not been viewed for a minute yet). */
  since_start: boolean;
  request_rate: number;
  error_rate: number | null;
  routes: RouteRate[];
  partial_answers: { total: number; rate: number; by_route: Record<string, number>; missing_by_site: Record<string, number> };
}

function read(metrics: MetricJson[], at: number): Sample {
  const sample: Sample = { at, routes: new Map(), partial: new Map(), missing: new Map() };
  for (const m of metrics) {
    if (m.name === 'ironic_proxy_http_requests_total') {
      for (const v of m.values) {
        const key = `${v.labels.method} ${v.labels.route}`;
        const row = sample.routes.get(key) ?? [0, 0, 0];
        const status = Number(v.labels.status);
        row[0] += v.value;
        if (status >= 500) row[1] += v.value;
        else if (status >= 400) row[2] += v.value;
        sample.routes.set(key, row);
      }
    } else if (m.name === 'ironic_proxy_partial_answers_total') {
      for (const v of m.values) sample.partial.set(String(v.labels.route), v.value);
    } else if (m.name === 'ironic_proxy_listing_missing_sites_total') {
      for (const v of m.values) sample.missing.set(String(v.labels.site), v.value);
    }
  }
  return sample;
}

export class RouteRates {
  private samples: Sample[] = [];

  constructor(private readonly startedAt: number) {}

  /** Records the counters now; keeps one sample older than the window as the baseline. */
  add(metrics: MetricJson[], at = Date.now()): void {
    this.samples.push(read(metrics, at));
    const cutoff = at - RATE_WINDOW_MS;
    while (this.samples.length > 2 && this.samples[1]!.at <= cutoff) this.samples.shift();
  }

  /** Drops the samples (the page is no longer viewed: the next view starts afresh). */
  clear(): void {
    this.samples = [];
  }

  view(): RatesView {
    const cur = this.samples[this.samples.length - 1];
    const empty: Sample = { at: this.startedAt, routes: new Map(), partial: new Map(), missing: new Map() };
    if (!cur) return { window_seconds: 0, since_start: true, request_rate: 0, error_rate: null, routes: [], partial_answers: { total: 0, rate: 0, by_route: {}, missing_by_site: {} } };
    // A window shorter than a minute says little: until the samples span one, the rates are since the start.
    const base = this.samples.length > 1 && cur.at - this.samples[0]!.at >= MIN_WINDOW_MS ? this.samples[0]! : empty;
    const dt = Math.max(0.001, (cur.at - base.at) / 1000);
    const routes: RouteRate[] = [];
    let total = 0;
    let errors = 0;
    for (const [key, [n, e5, e4]] of cur.routes) {
      const [bn, be5, be4] = base.routes.get(key) ?? [0, 0, 0];
      const dn = n - bn;
      const [method, route] = [key.slice(0, key.indexOf(' ')), key.slice(key.indexOf(' ') + 1)];
      total += dn;
      errors += e5 - be5;
      routes.push({ method, route, requests: n, rate: dn / dt, error_rate: dn > 0 ? (e5 - be5) / dn : null, client_error_rate: dn > 0 ? (e4 - be4) / dn : null });
    }
    routes.sort((a, b) => b.rate - a.rate || b.requests - a.requests);
    let partialTotal = 0;
    let partialDelta = 0;
    const byRoute: Record<string, number> = {};
    for (const [route, n] of cur.partial) {
      partialTotal += n;
      partialDelta += n - (base.partial.get(route) ?? 0);
      byRoute[route] = n;
    }
    return {
      window_seconds: Math.round(dt),
      since_start: base === empty,
      request_rate: total / dt,
      error_rate: total > 0 ? errors / total : null,
      routes,
      partial_answers: { total: partialTotal, rate: partialDelta / dt, by_route: byRoute, missing_by_site: Object.fromEntries(cur.missing) },
    };
  }
}
