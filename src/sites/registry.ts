/**
 * The configured sites, what each one advertises (version range, public base
 * URL), and the microversion range the proxy can therefore promise: the
 * intersection of all known sites' ranges.
 */
import type { ProxyConfig } from '../config/types.js';
import { compareVersions, parseVersion, V1_1, type Version, type VersionRange } from '../ironic/microversion.js';
import { createSiteAuth, type SiteAuthOptions } from './auth.js';
import { SiteClient } from './site-client.js';
import { newRequestId } from '../http/request-id.js';
import type { Logger } from '../log.js';
import type { MemoryBudget } from '../memory-budget.js';

export interface SiteInfo {
  range: VersionRange;
  /** The base the site writes into its own links (from its `GET /`), e.g. `http://10.0.0.5:6385`. */
  publicBase?: string;
}

export class SiteRegistry {
  readonly sites: readonly SiteClient[];
  private readonly byName = new Map<string, SiteClient>();
  private readonly groupToSite = new Map<string, SiteClient>();
  private readonly info = new Map<string, SiteInfo>();
  private common: VersionRange | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private readonly linkSources = new Map<SiteClient, { endpoint?: string; publicBase?: string; source: { site: string; bases: readonly string[] } }>();

  constructor(
    config: ProxyConfig,
    private readonly log: Logger,
    budget?: MemoryBudget,
    /** Told the outcome of each Keystone authentication of a site (metrics). */
    onAuthentication?: (site: string, ok: boolean) => void,
    sharedToken?: SiteAuthOptions['sharedToken'],
  ) {
    const limits = {
      budget,
      connections: config.proxy.siteConnections,
      maxQueued: config.proxy.siteMaxQueue,
      circuitFailureThreshold: config.proxy.circuitFailureThreshold,
      circuitOpenSeconds: config.proxy.circuitOpenSeconds,
    };
    this.sites = config.sites.map(
      (s) => new SiteClient(s, createSiteAuth(s, { log, onAuthentication: onAuthentication && ((ok) => onAuthentication(s.name, ok)), sharedToken }), limits),
    );
    for (const site of this.sites) {
      this.byName.set(site.name, site);
      site.observers.push({ answered: (_s, _ms, res) => this.observeMaxVersion(site, res.headers['x-openstack-ironic-api-maximum-version']) });
    }
    for (const [group, siteName] of config.groups) this.groupToSite.set(group, this.byName.get(siteName)!);
  }

  get(name: string): SiteClient | undefined {
    return this.byName.get(name);
  }

  /** The site that owns a conductor group (case-insensitive, as Ironic stores groups in lower case). */
  siteForGroup(group: string): SiteClient | undefined {
    return this.groupToSite.get(group.toLowerCase());
  }

  knownGroups(): string[] {
    return [...this.groupToSite.keys()];
  }

  /** The range every known site supports; undefined until at least one site has answered. */
  commonRange(): VersionRange | undefined {
    return this.common;
  }

  siteInfo(name: string): SiteInfo | undefined {
    return this.info.get(name);
  }

  /**
   * Base URLs a site may write into its links (its endpoint — configured, or
   * from the Keystone catalog once known — and the base it advertises).
   */
  linkBases(site: SiteClient): readonly string[] {
    return this.linkSource(site).bases;
  }

  /** What the relay needs to rewrite a site's links (the same object while the site's bases stay the same). */
  linkSource(site: SiteClient): { site: string; bases: readonly string[] } {
    const endpoint = site.endpoint;
    const publicBase = this.info.get(site.name)?.publicBase;
    let cached = this.linkSources.get(site);
    if (!cached || cached.endpoint !== endpoint || cached.publicBase !== publicBase) {
      const bases = [...new Set([endpoint, publicBase].filter((b): b is string => !!b))];
      cached = { endpoint, publicBase, source: Object.freeze({ site: site.name, bases: Object.freeze(bases) }) };
      this.linkSources.set(site, cached);
    }
    return cached.source;
  }

  /** Asks every site for its version document, in parallel; failures leave the previous knowledge. */
  async refreshAll(): Promise<void> {
    await Promise.all(this.sites.map((s) => this.refresh(s)));
  }

  async refresh(site: SiteClient): Promise<boolean> {
    try {
      const res = await site.requestJson<RootDocument>({
        method: 'GET',
        path: '/',
        version: V1_1,
        requestId: newRequestId(),
      });
      const dv = res.json?.default_version;
      const min = parseVersion(dv?.min_version ?? '');
      const max = parseVersion(dv?.version ?? '');
      if (res.status !== 200 || !min || !max) {
        this.log.warn({ site: site.name, status: res.status }, 'site version document unusable');
        return false;
      }
      const href = dv?.links?.find((l) => l.rel === 'self')?.href;
      const publicBase = href ? href.replace(/\/v1\/?$/, '').replace(/\/+$/, '') : undefined;
      this.update(site, { range: { min, max }, publicBase });
      return true;
    } catch (err) {
      this.log.warn({ site: site.name, err: (err as Error).message }, 'site version discovery failed');
      return false;
    }
  }

  /**
   * Every site response carries its maximum version; a change (upgrade,
   * downgrade, re-pin) is noticed on the next request, not the next poll.
   */
  observeMaxVersion(site: SiteClient, header: string | string[] | undefined): void {
    if (typeof header !== 'string') return;
    const max = parseVersion(header);
    const known = this.info.get(site.name);
    if (!max) return;
    if (!known) {
      void this.refresh(site);
      return;
    }
    if (compareVersions(max, known.range.max) !== 0) {
      this.update(site, { ...known, range: { min: known.range.min, max } });
    }
  }

  startPeriodicRefresh(seconds: number): void {
    this.refreshTimer = setInterval(() => void this.refreshAll(), seconds * 1000);
    this.refreshTimer.unref();
  }

  async close(): Promise<void> {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    await Promise.all(this.sites.map((s) => s.close()));
  }

  private update(site: SiteClient, info: SiteInfo): void {
    const before = this.common;
    this.info.set(site.name, info);
    let min: Version | undefined;
    let max: Version | undefined;
    for (const i of this.info.values()) {
      if (!min || compareVersions(i.range.min, min) > 0) min = i.range.min;
      if (!max || compareVersions(i.range.max, max) < 0) max = i.range.max;
    }
    this.common = min && max ? { min, max } : undefined;
    if (this.common && compareVersions(this.common.min, this.common.max) > 0) {
      this.log.error({ min: this.common.min, max: this.common.max }, 'sites have no microversion in common');
    }
    if (!before || !this.common || compareVersions(before.max, this.common.max) !== 0 || compareVersions(before.min, this.common.min) !== 0) {
      this.log.info({ site: site.name, common: this.common && { min: fmt(this.common.min), max: fmt(this.common.max) } }, 'microversion range updated');
    }
  }
}

const fmt = (v: Version): string => `${v.major}.${v.minor}`;

interface RootDocument {
  default_version?: {
    min_version?: string;
    version?: string;
    links?: Array<{ href?: string; rel?: string }>;
  };
}
