/**
 * Where the nodes are: per site, counts by provision state, power state and
 * maintenance, for the status page. A page view never scans a site: a
 * background task walks each site's node listing (only the four fields it
 * counts) in rounds, and the page shows the last counts with their age.
 *
 * Bounded on every side: one round at a time, `concurrency` sites at once,
 * at most `maxPages` pages and `timeoutMs` per site (past either, the counts
 * so far are kept and marked as a lower bound), a marker that leads back
 * ends the walk, and stop() cancels the requests under way. The task runs
 * only between start() and stop() — the status service starts it on the
 * first view and stops it when nobody has looked for a while.
 */
import { newRequestId } from '../http/request-id.js';
import type { Version } from '../ironic/microversion.js';
import type { Logger } from '../log.js';
import { ClientGoneError, parseJsonBody, type SiteCallScope, type SiteClient } from '../sites/site-client.js';

export interface TallyLimits {
  intervalMs: number;
  maxPages: number;
  timeoutMs: number;
  concurrency: number;
}

export interface SiteTally {
  site: string;
  /** When the counts were finished (ISO), and how long the walk took. */
  at: string;
  ms: number;
  total: number;
  provision_state: Record<string, number>;
  power_state: Record<string, number>;
  maintenance: number;
  /** True when the walk stopped at a bound: the counts are a lower bound. */
  truncated: boolean;
  /** Why the last walk did not finish (the counts, if any, are the last complete ones, or partial when truncated). */
  error?: string;
  /** When the last walk failed (ISO). */
  error_at?: string;
}

/** Fields the walk asks for (`fields` needs 1.8; the proxy's internal version is the common maximum). */
const FIELDS = 'uuid,provision_state,power_state,maintenance';

export class NodeTally {
  private readonly results = new Map<string, SiteTally>();
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private round: { controller: AbortController; done: Promise<void> } | undefined;
  private lastRound: { started: number; finished?: number } | undefined;

  constructor(
    private readonly sites: () => readonly SiteClient[],
    private readonly version: () => Version,
    private readonly limits: TallyLimits,
    private readonly log: Pick<Logger, 'warn' | 'debug'>,
  ) {}

  get active(): boolean {
    return this.running;
  }

  /** Starts the rounds (the first at once); a no-op while running. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Stops the rounds and cancels the one under way; resolves once it has ended. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const r = this.round;
    if (r) {
      r.controller.abort();
      await r.done;
    }
  }

  /** The one round under way, if any (tests wait on it). */
  get current(): Promise<void> | undefined {
    return this.round?.done;
  }

  snapshot(): { active: boolean; interval_seconds: number; round: { started_at: string; finished_at: string | null } | null; sites: SiteTally[] } {
    const r = this.lastRound;
    return {
      active: this.running,
      interval_seconds: this.limits.intervalMs / 1000,
      round: r ? { started_at: new Date(r.started).toISOString(), finished_at: r.finished ? new Date(r.finished).toISOString() : null } : null,
      sites: this.sites()
        .map((s) => this.results.get(s.name))
        .filter((t): t is SiteTally => t !== undefined),
    };
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const controller = new AbortController();
      const done = this.runRound(controller.signal).finally(() => {
        this.round = undefined;
        this.schedule(this.limits.intervalMs);
      });
      this.round = { controller, done };
    }, ms);
    this.timer.unref();
  }

  private async runRound(signal: AbortSignal): Promise<void> {
    this.lastRound = { started: Date.now() };
    const queue = [...this.sites()];
    const worker = async (): Promise<void> => {
      for (let site = queue.shift(); site && !signal.aborted; site = queue.shift()) await this.tallySite(site, signal);
    };
    await Promise.all(Array.from({ length: Math.min(this.limits.concurrency, queue.length) }, worker));
    if (!signal.aborted) this.lastRound.finished = Date.now();
  }

  private async tallySite(site: SiteClient, signal: AbortSignal): Promise<void> {
    const started = performance.now();
    const deadline = started + this.limits.timeoutMs;
    const counts = { total: 0, provision_state: {} as Record<string, number>, power_state: {} as Record<string, number>, maintenance: 0 };
    const followed = new Set<string>();
    const scope = cancelScope(signal);
    let marker: string | undefined;
    let stoppedBy: string | undefined;
    try {
      for (let page = 0; ; page++) {
        if (page >= this.limits.maxPages) {
          stoppedBy = `stopped after ${this.limits.maxPages} pages ([status]tally_max_pages)`;
          break;
        }
        const left = deadline - performance.now();
        if (left <= 0) {
          stoppedBy = `stopped after ${this.limits.timeoutMs / 1000} s ([status]tally_timeout)`;
          break;
        }
        const res = await site.request({
          method: 'GET',
          path: `/v1/nodes?fields=${FIELDS}${marker ? `&marker=${encodeURIComponent(marker)}` : ''}`,
          version: this.version(),
          requestId: newRequestId(),
          timeoutMs: Math.max(1, Math.min(left, site.config.timeoutSeconds * 1000)),
          scope,
        });
        if (res.status !== 200) throw new Error(`the node listing answered HTTP ${res.status}`);
        const doc = parseJsonBody<{ nodes?: unknown; next?: unknown }>(site.name, res);
        if (!doc || !Array.isArray(doc.nodes)) throw new Error('the node listing answered without "nodes"');
        for (const n of doc.nodes as Array<Record<string, unknown>>) {
          counts.total++;
          const ps = typeof n.provision_state === 'string' ? n.provision_state : 'none';
          const pw = typeof n.power_state === 'string' ? n.power_state : 'none';
          counts.provision_state[ps] = (counts.provision_state[ps] ?? 0) + 1;
          counts.power_state[pw] = (counts.power_state[pw] ?? 0) + 1;
          if (n.maintenance === true) counts.maintenance++;
        }
        const last = doc.nodes[doc.nodes.length - 1] as Record<string, unknown> | undefined;
        if (typeof doc.next !== 'string' || !last || typeof last.uuid !== 'string') break;
        if (followed.has(last.uuid)) throw new Error(`its pages lead back to marker ${last.uuid}`);
        followed.add(last.uuid);
        marker = last.uuid;
      }
    } catch (err) {
      if (signal.aborted || err instanceof ClientGoneError) return;
      const prev = this.results.get(site.name);
      const message = (err as Error).message;
      this.log.debug({ site: site.name, err: message }, 'node tally failed');
      // The last complete counts stay, with their age: an old truth beats no answer.
      this.results.set(site.name, prev ? { ...prev, error: message, error_at: new Date().toISOString() } : { site: site.name, at: new Date().toISOString(), ms: 0, total: 0, provision_state: {}, power_state: {}, maintenance: 0, truncated: false, error: message, error_at: new Date().toISOString() });
      return;
    }
    if (signal.aborted) return;
    if (stoppedBy) this.log.warn({ site: site.name, nodes: counts.total }, `node tally ${stoppedBy}`);
    this.results.set(site.name, {
      site: site.name,
      at: new Date().toISOString(),
      ms: Math.round(performance.now() - started),
      ...counts,
      truncated: stoppedBy !== undefined,
      ...(stoppedBy ? { error: stoppedBy, error_at: new Date().toISOString() } : {}),
    });
  }
}

/** A SiteCallScope that stop() cancels: the request under way is aborted, no further one starts. */
function cancelScope(signal: AbortSignal): SiteCallScope {
  return {
    get cancelled() {
      return signal.aborted;
    },
    onCancel(abort) {
      // The client-gone error: the site's circuit and health book do not count it against the site.
      const handler = (): void => abort(new ClientGoneError());
      signal.addEventListener('abort', handler, { once: true });
      return () => signal.removeEventListener('abort', handler);
    },
  };
}
