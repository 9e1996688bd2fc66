/**
 * The proxy's own service credentials at one site's Keystone
 * (`auth_type = password | v3password | token | v3token` in `[group:SITE]`):
 * a scoped token, cached, renewed shortly before it expires and once after
 * the site said 401, and the site's Bare Metal endpoint found in that
 * token's catalog unless `endpoint_override` is set.
 *
 * Token lifecycle (all times on the proxy's clock):
 *
 * - expiry E = t_sent + L, t_sent being when the proxy sent the
 *   authentication and L = expires_at - issued_at the lifetime measured on
 *   Keystone's clock: a clock difference between the proxy and Keystone
 *   does not matter (keystoneauth compares expires_at with the local clock;
 *   a proxy clock an hour ahead would then see every token expired). E is
 *   moved back by up to 1 s when expires_at says it is earlier (Keystone
 *   truncates issued_at to the second), so with synchronised clocks E is
 *   expires_at.
 * - renewal margin M = min(60 s, 10 % of the lifetime): one minute for
 *   Keystone's usual one-hour tokens, half a second for a 5 s test token.
 * - until E - M the token is used as is; from E - M a renewal starts in the
 *   background (at most one attempt a second) while requests keep using the
 *   current token, so a renewal normally costs no request any latency and
 *   a Keystone that is down at that moment costs nothing until the token
 *   is really about to expire; from E - M/2 requests wait for the renewal.
 * - every authentication is shared: concurrent requests that need a token
 *   wait for the same POST /v3/auth/tokens.
 * - a 401 from the site drops the token it was sent with (if it is still the
 *   cached one) and the request is retried once with a fresh token (see
 *   SiteClient). Forced renewals are limited to one a second, so a site that
 *   answers 401 to every token cannot make the proxy hammer Keystone.
 *
 * Failures (Keystone refusing, resetting, timing out, rejecting the
 * credentials, a catalog without the endpoint) are the site's failures:
 * SiteUnavailableError / SiteTimeoutError naming the site, counted by the
 * site's circuit breaker. No password or token ever appears in a message.
 */
import { Agent } from 'undici';
import { isTimeout, unreachableReason } from './transport-errors.js';
import type { KeystoneSiteAuth } from '../config/types.js';
import { SiteTimeoutError, SiteUnavailableError } from '../errors.js';
import type { Logger } from '../log.js';
import type { SiteAuth, SiteCredentials } from './auth.js';
import type { SiteTlsOptions } from './tls.js';

/** Upper bound of the renewal margin. */
export const RENEW_MARGIN_MAX_MS = 60_000;
/** Renewal margin as a fraction of the token's lifetime (when below the bound). */
export const RENEW_FRACTION = 0.1;
/** Background renewal attempts (while the current token is still usable) at most this often. */
export const BACKGROUND_RETRY_MS = 1000;
/** Renewals forced by a site's 401 at most this often. */
export const FORCED_RENEW_INTERVAL_MS = 1000;
/** How much earlier than t_sent + lifetime expires_at may move a token's expiry (issued_at truncation). */
const MAX_TRUNCATION_MS = 1000;
/** A token response (catalog included) larger than this is not a Keystone answering. */
const MAX_TOKEN_RESPONSE_BYTES = 8 * 1024 * 1024;

export type KeystoneMethod = 'password' | 'token';

export interface KeystoneAuthOptions {
  /** Site name, for errors and logs. */
  site: string;
  method: KeystoneMethod;
  auth: KeystoneSiteAuth;
  /** Bound of one authentication request (the site's timeout). */
  timeoutMs: number;
  tls: SiteTlsOptions;
  /** Find the site's endpoint in the catalog (false with endpoint_override). */
  discover: boolean;
  /** Clock (ms), for tests. Default Date.now. */
  now?: () => number;
  log?: Pick<Logger, 'warn' | 'info' | 'debug'>;
}

/** A token the proxy holds for one site. */
export interface SiteToken {
  id: string;
  /** When it was obtained (proxy clock). */
  obtainedAt: number;
  /** E in the header comment. */
  expiresAt: number;
  /** E - M: background renewal from here. */
  renewAt: number;
  /** E - M/2: requests wait for a new token from here. */
  mustRenewAt: number;
  /** The site's API root from the token's catalog (when discovering). */
  endpoint?: string;
}

export interface CatalogEndpoint {
  interface?: string;
  region?: string | null;
  region_id?: string | null;
  url?: string;
}

export interface CatalogService {
  type?: string;
  name?: string;
  endpoints?: CatalogEndpoint[];
}

/** os-service-types aliases keystoneauth accepts for a service type. */
const SERVICE_TYPE_ALIASES: Record<string, readonly string[]> = {
  baremetal: ['baremetal', 'bare-metal'],
  'bare-metal': ['baremetal', 'bare-metal'],
};

/**
 * keystoneauth's endpoint selection: the first endpoint of the first service
 * of this type with this interface and, when given, this region (matched on
 * the region id or its legacy name). Without a region the first match wins,
 * whatever its region.
 */
export function selectEndpoint(
  catalog: readonly CatalogService[],
  q: { serviceType: string; interface: string; region?: string },
): string | undefined {
  const types = SERVICE_TYPE_ALIASES[q.serviceType] ?? [q.serviceType];
  for (const svc of catalog) {
    if (!svc.type || !types.includes(svc.type)) continue;
    for (const ep of svc.endpoints ?? []) {
      if (!ep.url || ep.interface?.replace(/URL$/, '') !== q.interface) continue;
      if (q.region !== undefined && ep.region_id !== q.region && ep.region !== q.region) continue;
      return ep.url;
    }
  }
  return undefined;
}

/** What the catalog offers for a service type, for the error when nothing matched. */
function describeOffers(catalog: readonly CatalogService[], serviceType: string): string {
  const types = SERVICE_TYPE_ALIASES[serviceType] ?? [serviceType];
  const offers = catalog
    .filter((s) => s.type && types.includes(s.type))
    .flatMap((s) => (s.endpoints ?? []).map((e) => `${e.interface ?? '?'}@${e.region_id ?? e.region ?? 'no region'}`));
  return offers.length ? `it has ${[...new Set(offers)].join(', ')}` : `it has no ${serviceType} service at all`;
}

/**
 * The Identity v3 base from `auth_url`: keystoneauth accepts it with or
 * without the version (`http://ks:5000`, `http://ks:5000/v3`,
 * `http://host/identity/`); a v2.0 URL is taken as the v3 next to it.
 */
export function identityV3Url(authUrl: string): string {
  const u = authUrl.replace(/\/+$/, '');
  if (/\/v3$/.test(u)) return u;
  if (/\/v2\.0$/.test(u)) return u.replace(/\/v2\.0$/, '/v3');
  return `${u}/v3`;
}

/** A catalog URL as the site's API root: no trailing slash, no `/v1` (the proxy's paths carry it). */
export function apiRootFromCatalog(url: string): string {
  return url.replace(/\/+$/, '').replace(/\/v1$/, '');
}

/** The `auth` document of POST /v3/auth/tokens for these options. */
export function authRequestBody(method: KeystoneMethod, a: KeystoneSiteAuth): unknown {
  const domainRef = (id?: string, name?: string) => (id ? { id } : name ? { name } : undefined);
  let identity: unknown;
  if (method === 'token') {
    identity = { methods: ['token'], token: { id: a.token ?? '' } };
  } else {
    const user: Record<string, unknown> = a.userId ? { id: a.userId } : { name: a.username };
    const domain = a.userId ? undefined : domainRef(a.userDomainId, a.userDomainName);
    if (domain) user.domain = domain;
    user.password = a.password ?? '';
    identity = { methods: ['password'], password: { user } };
  }
  let scope: unknown;
  if (a.projectId) scope = { project: { id: a.projectId } };
  else if (a.projectName) scope = { project: { name: a.projectName, domain: domainRef(a.projectDomainId, a.projectDomainName) } };
  else if (a.domainId || a.domainName) scope = { domain: domainRef(a.domainId, a.domainName) };
  else if (a.systemScope) scope = { system: { [a.systemScope]: true } };
  return { auth: scope === undefined ? { identity } : { identity, scope } };
}

/** The URL without user info, for messages. */
function printable(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/+$/, '');
  } catch {
    return '(invalid URL)';
  }
}

export class KeystoneAuth implements SiteAuth {
  readonly renewsOn401 = true;
  readonly discoversEndpoint: boolean;
  /** POST /v3/auth/tokens sent (successful or not). */
  authentications = 0;
  private current: SiteToken | undefined;
  private inflight: Promise<SiteToken> | undefined;
  private nextBackgroundAt = 0;
  private lastForcedAt = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;
  private readonly tokensUrl: string;
  private readonly where: string;
  private readonly agent: Agent;
  private readonly secrets: string[];

  constructor(private readonly opts: KeystoneAuthOptions) {
    this.now = opts.now ?? Date.now;
    this.discoversEndpoint = opts.discover;
    const base = identityV3Url(opts.auth.authUrl);
    this.tokensUrl = `${base}/auth/tokens`;
    this.where = `Keystone at ${printable(base)}`;
    this.secrets = [opts.auth.password, opts.auth.token].filter((s): s is string => !!s && s.length >= 3);
    this.agent = new Agent({
      connections: 4,
      keepAliveTimeout: 10_000,
      connect: { timeout: Math.min(opts.timeoutMs, 10_000), ...opts.tls },
    });
  }

  /** The token currently held (tests, diagnostics). */
  get token(): SiteToken | undefined {
    return this.current;
  }

  async credentials(): Promise<SiteCredentials> {
    const t = await this.getToken();
    return { headers: { 'x-auth-token': t.id }, endpoint: t.endpoint, authId: t.id };
  }

  /** A usable token: the cached one, or a fresh one (shared with every concurrent caller). */
  async getToken(): Promise<SiteToken> {
    const t = this.current;
    const now = this.now();
    if (t && now < t.renewAt) return t;
    if (t && now < t.mustRenewAt) {
      this.renewInBackground(now);
      return t;
    }
    return this.authenticate();
  }

  /**
   * The site answered 401 to a request sent with `used`. Drops that token
   * if it is still the cached one; true when a retry with credentials() may
   * get another token (already renewed by someone else, or renewal allowed now).
   */
  invalidate(used: SiteCredentials): boolean {
    if (this.current?.id !== used.authId) return true;
    const now = this.now();
    if (now - this.lastForcedAt < FORCED_RENEW_INTERVAL_MS) return false;
    this.lastForcedAt = now;
    this.current = undefined;
    this.opts.log?.info({ site: this.opts.site }, 'site refused the proxy token (401); authenticating again');
    return true;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private renewInBackground(now: number): void {
    if (this.inflight || now < this.nextBackgroundAt) return;
    this.nextBackgroundAt = now + BACKGROUND_RETRY_MS;
    this.authenticate().catch((err: Error) => {
      this.opts.log?.warn({ site: this.opts.site, err: err.message }, 'site token renewal failed; the current token is used until it expires');
    });
  }

  private authenticate(): Promise<SiteToken> {
    if (!this.inflight) {
      const p = this.requestToken().then((t) => {
        this.current = t;
        return t;
      });
      this.inflight = p;
      // Cleared whatever the outcome; the caller handles the rejection.
      p.then(
        () => { if (this.inflight === p) this.inflight = undefined; },
        () => { if (this.inflight === p) this.inflight = undefined; },
      );
    }
    return this.inflight;
  }

  private async requestToken(): Promise<SiteToken> {
    const sentAt = this.now();
    this.authentications++;
    const { status, headers, body } = await this.post();
    if (status === 401 || (this.opts.method === 'token' && status === 404)) {
      throw this.unavailable(
        this.opts.method === 'token'
          ? `${this.where} rejected the configured token (HTTP ${status})`
          : `${this.where} rejected the proxy's credentials for user ${this.opts.auth.username ?? this.opts.auth.userId} (HTTP ${status})`,
      );
    }
    if (status !== 201 && status !== 200) {
      throw this.unavailable(`${this.where} answered HTTP ${status} to the authentication${errorDetail(body)}`);
    }
    const subject = headers['x-subject-token'];
    const id = Array.isArray(subject) ? subject[0] : subject;
    let doc: { token?: { expires_at?: string; issued_at?: string; catalog?: CatalogService[] } } | undefined;
    try {
      doc = JSON.parse(body.toString('utf8')) as typeof doc;
    } catch {
      doc = undefined;
    }
    const expiresAtServer = Date.parse(doc?.token?.expires_at ?? '');
    if (!id || !doc?.token || !Number.isFinite(expiresAtServer)) {
      throw this.unavailable(`${this.where} sent an unusable token response (no X-Subject-Token or expires_at)`);
    }
    const issuedAtServer = Date.parse(doc.token.issued_at ?? '');
    const lifetime = Number.isFinite(issuedAtServer) ? expiresAtServer - issuedAtServer : expiresAtServer - sentAt;
    const expiresAt = sentAt + lifetime - Math.min(MAX_TRUNCATION_MS, Math.max(0, sentAt + lifetime - expiresAtServer));
    const margin = Math.min(RENEW_MARGIN_MAX_MS, Math.max(0, lifetime) * RENEW_FRACTION);

    let endpoint: string | undefined;
    if (this.opts.discover) endpoint = this.discover(doc.token.catalog ?? []);
    this.opts.log?.debug({ site: this.opts.site, expiresAt: new Date(expiresAt).toISOString(), endpoint }, 'site token obtained');
    return { id, obtainedAt: sentAt, expiresAt, renewAt: expiresAt - margin, mustRenewAt: expiresAt - margin / 2, endpoint };
  }

  private discover(catalog: CatalogService[]): string {
    const a = this.opts.auth;
    const url = selectEndpoint(catalog, { serviceType: a.serviceType, interface: a.interface, region: a.regionName });
    if (!url) {
      const region = a.regionName !== undefined ? ` in region ${a.regionName}` : '';
      throw this.unavailable(
        `the catalog from ${this.where} has no ${a.serviceType} endpoint for interface ${a.interface}${region} (${describeOffers(catalog, a.serviceType)})`,
      );
    }
    try {
      const u = new URL(url);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    } catch {
      throw this.unavailable(`the catalog from ${this.where} gives "${this.clean(url)}" as the ${a.serviceType} endpoint, not an http(s) URL`);
    }
    return apiRootFromCatalog(url);
  }

  private async post(): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
    const timeoutMs = this.opts.timeoutMs;
    try {
      const res = await this.agent.request({
        origin: new URL(this.tokensUrl).origin,
        path: new URL(this.tokensUrl).pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', 'user-agent': 'ironic-proxy' },
        body: JSON.stringify(authRequestBody(this.opts.method, this.opts.auth)),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > MAX_TOKEN_RESPONSE_BYTES) {
          res.body.destroy();
          throw this.unavailable(`${this.where} sent a token response larger than ${MAX_TOKEN_RESPONSE_BYTES} bytes`);
        }
        chunks.push(chunk as Buffer);
      }
      return { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) };
    } catch (err) {
      throw this.translate(err, timeoutMs);
    }
  }

  private translate(err: unknown, timeoutMs: number): Error {
    if (err instanceof SiteUnavailableError || err instanceof SiteTimeoutError) return err;
    if (isTimeout(err)) return new SiteTimeoutError(this.opts.site, timeoutMs / 1000, `its ${this.where}`);
    const reason = unreachableReason(err);
    return this.unavailable(`${this.where} is unreachable (${this.clean(reason)})`);
  }

  private unavailable(reason: string): SiteUnavailableError {
    return new SiteUnavailableError(this.opts.site, this.clean(reason));
  }

  /** Belt and braces: no configured secret survives into a message. */
  private clean(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join('***');
    return out;
  }
}

/** Keystone's own error text (`{"error": {"message": …}}`), short. */
function errorDetail(body: Buffer): string {
  try {
    const msg = (JSON.parse(body.toString('utf8')) as { error?: { message?: unknown } }).error?.message;
    return typeof msg === 'string' && msg ? `: ${msg.slice(0, 200)}` : '';
  } catch {
    return '';
  }
}
