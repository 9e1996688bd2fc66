/**
 * Drift of the global objects (chassis, deploy templates, runbooks), checked
 * at start-up and then every [status]drift_check_interval (a few listings per
 * site: they are few by nature), kept for the status page and the
 * ironic_proxy_global_objects_drift gauge. The check reports, never repairs:
 * the page names the reconcile command that does.
 */
import type { Logger } from '../log.js';
import type { Version } from '../ironic/microversion.js';
import { canonical, startupDriftCheck, type DriftReport } from '../reconcile.js';
import type { ScanLimits } from '../federation/scan.js';
import type { SiteClient } from '../sites/site-client.js';

export interface SiteDrift {
  site: string;
  state: 'in sync' | 'drifting' | 'not checked';
  /** Why it was not checked. */
  error?: string;
  objects: Array<{ family: string; uuid: string; name?: string; problem: string }>;
}

export interface DriftView {
  checked_at: string | null;
  checking: boolean;
  interval_seconds: number;
  families: string[];
  command: string;
  /** Objects drifting (missing somewhere or differing). */
  drifting_objects: number;
  sites: SiteDrift[];
}

export class DriftMonitor {
  private report: DriftReport | undefined;
  private checkedAt: number | undefined;
  private inflight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sites: readonly SiteClient[],
    private readonly version: () => Version,
    private readonly scan: ScanLimits,
    private readonly intervalMs: number,
    private readonly configFile: string | undefined,
    private readonly log: Logger,
  ) {}

  /** Checks now (one check at a time: a second caller shares the first's). */
  check(): Promise<void> {
    this.inflight ??= startupDriftCheck(this.sites, this.version(), this.log, this.scan)
      .then((report) => {
        if (report) {
          this.report = report;
          this.checkedAt = Date.now();
        }
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }

  /** The first check at once, then every interval (none when the interval is 0). */
  start(): void {
    void this.check();
    if (this.intervalMs > 0) {
      this.timer = setInterval(() => void this.check(), this.intervalMs);
      this.timer.unref();
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Objects drifting at each site (missing there, or holding a value the majority does not), for the gauge. */
  perSite(): Map<string, number> {
    const out = new Map<string, number>();
    for (const s of this.view().sites) if (s.state !== 'not checked') out.set(s.site, s.objects.length);
    return out;
  }

  get lastCheckedAt(): number | undefined {
    return this.checkedAt;
  }

  view(): DriftView {
    const r = this.report;
    const sites: SiteDrift[] = this.sites.map((s) => {
      const unreachable = r?.unreachable.find((u) => u.site === s.name);
      if (!r || unreachable) return { site: s.name, state: 'not checked', error: unreachable?.error ?? 'no check has finished yet', objects: [] };
      const objects: SiteDrift['objects'] = [];
      for (const d of r.drift) {
        const base = { family: d.family, uuid: d.uuid, ...(d.name ? { name: d.name } : {}) };
        if (d.missingAt.includes(s.name)) {
          objects.push({ ...base, problem: `missing (held by ${d.heldBy.join(', ')})` });
          continue;
        }
        const stale = d.differing.filter((f) => f.values.some((v) => v.sites.includes(s.name) && canonical(v.value) !== canonical(f.chosen)));
        if (stale.length > 0) objects.push({ ...base, problem: `differs from the majority in ${stale.map((f) => f.field).join(', ')}` });
      }
      return { site: s.name, state: objects.length > 0 ? 'drifting' : 'in sync', objects };
    });
    return {
      checked_at: this.checkedAt !== undefined ? new Date(this.checkedAt).toISOString() : null,
      checking: this.inflight !== undefined,
      interval_seconds: this.intervalMs / 1000,
      families: r?.families ?? [],
      command: `ironic-proxy-reconcile --config-file ${this.configFile ?? '/etc/ironic-proxy/ironic-proxy.conf'} --repair`,
      drifting_objects: r?.drift.length ?? 0,
      sites,
    };
  }
}
