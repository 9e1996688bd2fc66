/**
 * The long-lived parts of one proxy process, wired together once: the sites,
 * the location caches, the configuration. Request handlers receive this.
 */
import { createHash } from 'node:crypto';
import type { ProxyConfig, SiteConfig } from './config/types.js';
import { nodeNotFound } from './errors.js';
import { Locator, type SharedLocations } from './federation/locator.js';
import { CoordinationStore } from './coordination/store.js';
import { Reservations } from './coordination/reservations.js';
import { primaryReservations } from './coordination/cluster-reservations.js';
import type { Logger } from './log.js';
import { answerMetricsCollection, ProxyMetrics } from './metrics.js';
import { PolicyEnforcer } from './policy/enforcer.js';
import { serviceTokenSession } from './auth/service-token.js';
import { UserTokenValidator } from './auth/token-validator.js';
import { SiteRegistry } from './sites/registry.js';
import type { Version } from './ironic/microversion.js';
import { MemoryBudget } from './memory-budget.js';
import { configureCursorKey } from './federation/cursor.js';
import { KeyStats } from './federation/key-stats.js';
import { StatusService } from './status/service.js';

/** Which credentials a shared site token belongs to: replicas configured alike share it, a changed password does not. */
function credentialsDigest(site: SiteConfig): string {
  return createHash('sha256').update(JSON.stringify([site.authType, site.keystone, site.endpointOverride ?? null])).digest('hex').slice(0, 32);
}

/** Names (1.5) and `fields` (1.8) are all lookups need; used only before any site has answered. */
const FALLBACK_INTERNAL_VERSION: Version = { major: 1, minor: 8 };

export class ProxyServices {
  readonly registry: SiteRegistry;
  readonly nodes: Locator;
  readonly metrics: ProxyMetrics;
  /** Ironic's policy (its defaults, the operator's policy file, [oslo_policy] options): who may do what. */
  readonly enforcer: PolicyEnforcer;
  /** Present under auth_strategy = keystone. */
  readonly userTokens?: UserTokenValidator;
  /** What the process may hold of bodies and answers at once ([proxy]memory_budget). */
  readonly memory: MemoryBudget;
  /** Where each site's items lie in sorted listings, learned from answers: merged pages planned in one round trip. */
  readonly keyStats = new KeyStats();
  /** The operator's status page: site health, node tally, drift (GET /status). */
  readonly status: StatusService;
  /** The store replicas share ([coordination]backend_url), when configured. */
  readonly coordination?: CoordinationStore;
  /** Reservations of identifiers unique over all sites (in this process; in the store when there is one, else shared by the workers through their primary). */
  readonly reservations: Reservations;

  constructor(
    readonly config: ProxyConfig,
    readonly log: Logger,
  ) {
    this.memory = new MemoryBudget(config.proxy.memoryBudgetBytes);
    if (config.coordination) this.coordination = new CoordinationStore(config.coordination, log);
    const store = this.coordination;
    const shareTokens = store && config.coordination?.shareSiteTokens;
    // Metrics exist only once the sites do; an authentication cannot happen before the first request.
    this.registry = new SiteRegistry(
      config,
      log,
      this.memory,
      (site, ok) => this.countAuthentication(site, ok),
      shareTokens ? (site) => store.sharedToken(site.name, credentialsDigest(site)) : undefined,
    );
    configureCursorKey(config.proxy.cursorSecret, log);
    this.nodes = new Locator(
      () => this.registry.sites,
      { collectionPath: '/v1/nodes', notFound: nodeNotFound, noun: 'node' },
      config.proxy.locationCacheSize,
      () => this.internalVersion(),
      this.onLocationConflict,
      this.sharedLocations('/v1/nodes'),
    );
    this.metrics = new ProxyMetrics(this.registry.sites, () => this.nodes.size, () => this.coordination?.up);
    this.reservations = new Reservations(
      this.coordination,
      log,
      {
        unguarded: () => this.metrics.unguardedWrites.inc(),
        contended: () => this.metrics.reservationConflicts.inc(),
      },
      this.coordination ? undefined : primaryReservations(),
    );
    answerMetricsCollection(this.metrics);
    this.status = new StatusService(config, this.registry, this.metrics, () => this.internalVersion(), log);
    this.status.coordinationUp = () => this.coordination?.up;
    this.enforcer = PolicyEnforcer.load(config.osloPolicy);
    const authtoken = config.keystoneAuthtoken;
    if (authtoken) {
      const timeoutMs = config.proxy.keystoneTimeoutSeconds * 1000;
      const onAuthentication = (ok: boolean): void => this.countAuthentication('keystone_authtoken', ok);
      this.userTokens = new UserTokenValidator(serviceTokenSession(authtoken, timeoutMs, { log, onAuthentication }), authtoken.tokenCacheTime * 1000);
    }
  }

  private countAuthentication(holder: string, ok: boolean): void {
    this.metrics?.keystoneAuthentications.inc({ holder, outcome: ok ? 'success' : 'failure' });
  }

  /** The store's layer of one collection's locations (e.g. `/v1/nodes`), when there is a store. */
  sharedLocations(kind: string): SharedLocations | undefined {
    const store = this.coordination;
    if (!store) return undefined;
    return {
      get: (k) => store.getLocation(kind, k),
      set: (k, site) => store.setLocation(kind, k, site),
      delete: (k) => store.deleteLocation(kind, k),
      subscribe: (drop) => store.onInvalidate((changed, k) => changed === kind && drop(k)),
    };
  }

  /** One identifier claimed by several sites (issue 16.1): logged and counted; the lookup answers 409. */
  readonly onLocationConflict = (resource: string, ident: string, sites: string[]): void => {
    this.log.warn({ resource, ident, sites }, 'identifier claimed by several sites');
    this.metrics.locationConflicts.inc({ resource });
  };

  /** The version of the proxy's own requests to sites (lookups, uniqueness checks): the common maximum. */
  internalVersion(): Version {
    return this.registry.commonRange()?.max ?? FALLBACK_INTERNAL_VERSION;
  }

  async close(): Promise<void> {
    await this.status.close();
    await Promise.all([this.registry.close(), this.userTokens?.close(), this.coordination?.close()]);
  }
}
