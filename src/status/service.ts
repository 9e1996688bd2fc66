/**
 * The data behind GET /status: every site's health, versions and nodes, the
 * global objects' drift, and the proxy itself. Cheap when nobody looks: the
 * site health book is a few array writes per site request, the drift check
 * runs on its own slow interval; the rest — probing every site (version
 * documents), sampling the counters, the node tally — starts on the first
 * view and stops once nobody has viewed the page for [status]idle_timeout.
 */
import cluster from 'node:cluster';
import type { ProxyConfig } from '../config/types.js';
import { formatVersion, compareVersions, type Version } from '../ironic/microversion.js';
import type { Logger } from '../log.js';
import type { ProxyMetrics } from '../metrics.js';
import type { SiteRegistry } from '../sites/registry.js';
import type { SiteClient } from '../sites/site-client.js';
import { scanLimitsOf } from '../federation/scan.js';
import { VERSION } from '../version.js';
import { DriftMonitor, type DriftView } from './drift-monitor.js';
import { NodeTally, type SiteTally } from './node-tally.js';
import { RouteRates, type RatesView } from './route-rates.js';
import { SiteHealth, type SiteHealthView } from './site-health.js';

/** Partial answers remembered for the page (the counters have the rest). */
const RECENT_PARTIALS = 20;

export interface SiteStatus extends SiteHealthView {
  name: string;
  conductor_groups: string[];
  circuit: { state: string; retry_in_seconds?: number };
  versions: { min: string; max: string } | null;
  /** The site's maximum is below the newest any site offers: it holds the common range down. */
  out_of_date: boolean;
  nodes: SiteTally | null;
}

export interface StatusDocument {
  generated_at: string;
  proxy: {
    version: string;
    nodejs: string;
    pid: number;
    /** The worker answering (1-based), null in a single-process proxy. */
    worker: number | null;
    workers: number;
    started_at: string;
    uptime_seconds: number;
    auth_strategy: string;
    /** The store replicas share ([coordination]): none configured, connected, or unreachable (guarded writes refused or unguarded). */
    coordination: 'none' | 'connected' | 'unreachable';
    versions: { min: string; max: string } | null;
    rates: RatesView;
    recent_partial_answers: Array<{ at: string; route: string; missing_sites: string[] }>;
  };
  summary: { sites: number; up: number; slow: number; errors: number; down: number; unknown: number; out_of_date: number; drifting_sites: number; nodes: number };
  sites: SiteStatus[];
  nodes: ReturnType<NodeTally['snapshot']>;
  drift: DriftView;
  collector: { active: boolean; refresh_interval_seconds: number; probe_interval_seconds: number; idle_timeout_seconds: number; slow_threshold_ms: number };
}

export class StatusService {
  readonly health: SiteHealth;
  readonly tally: NodeTally;
  readonly drift: DriftMonitor;
  private readonly rates: RouteRates;
  private readonly startedAt = Date.now() - Math.round(process.uptime() * 1000);
  private readonly partials: Array<{ at: number; route: string; sites: string[] }> = [];
  private readonly probing = new Set<string>();
  private lastViewAt = 0;
  /** Whether the coordination store is connected (undefined: none configured); set by the services. */
  coordinationUp: () => boolean | undefined = () => undefined;
  private ticker: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: ProxyConfig,
    private readonly registry: SiteRegistry,
    private readonly metrics: ProxyMetrics,
    internalVersion: () => Version,
    log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    const st = config.status;
    this.health = new SiteHealth(registry.sites, st.slowThresholdSeconds * 1000, now);
    this.tally = new NodeTally(
      () => registry.sites,
      internalVersion,
      { intervalMs: st.tallyIntervalSeconds * 1000, maxPages: st.tallyMaxPages, timeoutMs: st.tallyTimeoutSeconds * 1000, concurrency: st.tallyConcurrency },
      log,
    );
    this.drift = new DriftMonitor(registry.sites, internalVersion, scanLimitsOf(config.proxy), st.driftCheckIntervalSeconds * 1000, config.sourceFile, log);
    this.rates = new RouteRates(this.startedAt);
    metrics.sources = {
      siteDown: (s) => this.health.isDown(s),
      siteVersions: (s) => {
        const r = registry.siteInfo(s.name)?.range;
        return r && r.min.major === 1 && r.max.major === 1 ? { min: r.min.minor, max: r.max.minor } : undefined;
      },
      driftPerSite: () => this.drift.perSite(),
      driftCheckedAt: () => this.drift.lastCheckedAt,
    };
  }

  /** True while the page's background work runs. */
  get active(): boolean {
    return this.ticker !== undefined;
  }

  /** A partial answer was served (named in its header): remembered for the page. */
  recordPartial(route: string, sites: readonly string[]): void {
    this.partials.push({ at: this.now(), route, sites: [...sites] });
    if (this.partials.length > RECENT_PARTIALS) this.partials.shift();
  }

  /** Someone looks at the page: the background work starts (or goes on). */
  viewed(): void {
    this.lastViewAt = this.now();
    if (this.ticker) return;
    const st = this.config.status;
    this.ticker = setInterval(() => this.tick(), st.probeIntervalSeconds * 1000);
    this.ticker.unref();
    this.tally.start();
    this.probe();
  }

  /** Stops the background work (idle, or the proxy is closing). */
  async pause(): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
    this.rates.clear();
    await this.tally.stop();
  }

  async close(): Promise<void> {
    this.drift.close();
    await this.pause();
  }

  private tick(): void {
    if (this.now() - this.lastViewAt > this.config.status.idleTimeoutSeconds * 1000) {
      void this.pause();
      return;
    }
    this.probe();
    void this.sample();
  }

  /** Asks every site for its version document (one probe per site at a time): down sites are seen to come back. */
  private probe(): void {
    for (const site of this.registry.sites) {
      if (this.probing.has(site.name)) continue;
      this.probing.add(site.name);
      void this.registry.refresh(site).finally(() => this.probing.delete(site.name));
    }
  }

  private async sample(): Promise<void> {
    try {
      this.rates.add(await this.metrics.json(), this.now());
    } catch {
      // A worker's aggregation timed out: the next tick tries again.
    }
  }

  async document(): Promise<StatusDocument> {
    await this.sample();
    const sites = this.registry.sites;
    const tally = this.tally.snapshot();
    const bySite = new Map(tally.sites.map((t) => [t.site, t]));
    let newest: Version | undefined;
    for (const s of sites) {
      const max = this.registry.siteInfo(s.name)?.range.max;
      if (max && (!newest || compareVersions(max, newest) > 0)) newest = max;
    }
    const siteDocs = sites.map((s) => this.siteStatus(s, newest, bySite.get(s.name)));
    const drift = this.drift.view();
    const count = (v: string): number => siteDocs.filter((s) => s.verdict === v).length;
    const range = this.registry.commonRange();
    const now = this.now();
    const st = this.config.status;
    return {
      generated_at: new Date(now).toISOString(),
      proxy: {
        version: VERSION,
        nodejs: process.versions.node,
        pid: process.pid,
        worker: cluster.isWorker ? (cluster.worker?.id ?? null) : null,
        // A process that is no cluster worker serves alone, whatever the file says (the demo, an embedded proxy).
        workers: cluster.isWorker ? this.config.api.workers : 1,
        started_at: new Date(this.startedAt).toISOString(),
        uptime_seconds: Math.round(process.uptime()),
        auth_strategy: this.config.api.authStrategy,
        coordination: coordinationState(this.coordinationUp()),
        versions: range ? { min: formatVersion(range.min), max: formatVersion(range.max) } : null,
        rates: this.rates.view(),
        recent_partial_answers: [...this.partials].reverse().map((p) => ({ at: new Date(p.at).toISOString(), route: p.route, missing_sites: p.sites })),
      },
      summary: {
        sites: siteDocs.length,
        up: count('up'),
        slow: count('slow'),
        errors: count('errors'),
        down: count('down'),
        unknown: count('unknown'),
        out_of_date: siteDocs.filter((s) => s.out_of_date).length,
        drifting_sites: drift.sites.filter((s) => s.state === 'drifting').length,
        nodes: tally.sites.reduce((n, t) => n + t.total, 0),
      },
      sites: siteDocs,
      nodes: tally,
      drift,
      collector: { active: this.active, refresh_interval_seconds: st.refreshIntervalSeconds, probe_interval_seconds: st.probeIntervalSeconds, idle_timeout_seconds: st.idleTimeoutSeconds, slow_threshold_ms: st.slowThresholdSeconds * 1000 },
    };
  }

  private siteStatus(site: SiteClient, newest: Version | undefined, nodes: SiteTally | undefined): SiteStatus {
    const range = this.registry.siteInfo(site.name)?.range;
    const health = this.health.view(site, range !== undefined);
    const outOfDate = !!range && !!newest && compareVersions(range.max, newest) < 0;
    if (outOfDate) health.reasons.push(`offers API up to ${formatVersion(range.max)}; the newest site offers ${formatVersion(newest!)}`);
    const state = site.breaker.state;
    return {
      name: site.name,
      conductor_groups: site.config.conductorGroups,
      ...health,
      circuit: state === 'open' ? { state, retry_in_seconds: Math.ceil(site.breaker.retryInMs() / 1000) } : { state },
      versions: range ? { min: formatVersion(range.min), max: formatVersion(range.max) } : null,
      out_of_date: outOfDate,
      nodes: nodes ?? null,
    };
  }
}

function coordinationState(up: boolean | undefined): StatusDocument['proxy']['coordination'] {
  if (up === undefined) return 'none';
  return up ? 'connected' : 'unreachable';
}
