/**
 * The one Keystone client of the proxy: a token obtained with configured
 * credentials (POST /v3/auth/tokens), cached, renewed shortly before it
 * expires and once after it was refused, over one connection pool with the
 * configured TLS options. It serves the proxy's service credentials at each
 * site's Keystone (`auth_type = password | v3password | token | v3token` in
 * `[group:SITE]`: KeystoneAuth, which also finds the site's Bare Metal
 * endpoint in the token's catalog unless `endpoint_override` is set) and the
 * proxy's own service token at the users' Keystone (`[keystone_authtoken]`,
 * with which users' tokens are validated over the same session, as
 * keystonemiddleware does).
 *
 * Token lifecycle (all times on the proxy's clock):
 *
 * - expiry E = t_sent + L, t_sent being when the proxy sent the
 *   authentication and L the lifetime measured on Keystone's clock:
 *   expires_at - issued_at, or without issued_at expires_at - Keystone's
 *   `Date` header (less the second that header truncates). A clock
 *   difference between the proxy and Keystone does not matter (keystoneauth
 *   compares expires_at with the local clock; a proxy clock an hour ahead
 *   would then see every token expired, and renew it on every request). E is
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
 * - a 401 to a request sent with the token drops it (if it is still the
 *   cached one) and the request may be retried once with a fresh token (see
 *   SiteClient, UserTokenValidator). Forced renewals are limited to one a
 *   second, so a peer that answers 401 to every token cannot make the proxy
 *   hammer Keystone.
 *
 * Failures (Keystone refusing, resetting, timing out, rejecting the
 * credentials, a catalog without the endpoint) are KeystoneTokenError here;
 * for a site they are the site's failures (SiteUnavailableError /
 * SiteTimeoutError naming the site, counted by the site's circuit breaker).
 * No password or token ever appears in a message.
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

/** A token the proxy holds. */
export interface KeystoneToken {
  id: string;
  /** When it was obtained (proxy clock). */
  obtainedAt: number;
  /** E in the header comment. */
  expiresAt: number;
  /** E - M: background renewal from here. */
  renewAt: number;
  /** E - M/2: requests wait for a new token from here. */
  mustRenewAt: number;
  /** An endpoint from the token's catalog (KeystoneSessionOptions.endpointFrom). */
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

/**
 * Keystone could not give what was asked: unreachable, timed out, refused
 * the credentials, answered something unusable. The message names Keystone
 * (its URL, without user info) and never a secret: fit for logs; whether a
 * client sees it is the holder's choice.
 */
export class KeystoneTokenError extends Error {
  constructor(
    message: string,
    /** True when Keystone did not answer within the timeout. */
    readonly timedOut = false,
  ) {
    super(message);
  }
}

/** One answer of Keystone, read whole (bounded). */
export interface KeystoneAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A token one process of the fleet obtained, as the store has it (`[coordination] share_site_tokens`). */
export interface SharedToken {
  id: string;
  /** Milliseconds it has left (the store's own clock: no clock of the fleet's hosts matters). */
  remainingMs: number;
  /** Its whole lifetime, for the renewal margin. */
  lifetimeMs: number;
  endpoint?: string;
}

/** Where the processes of a fleet keep one token per site. A failure of any of these is "no shared token". */
export interface SharedTokenStore {
  get(): Promise<SharedToken | undefined>;
  put(token: SharedToken): void;
  /** Drops the stored token if it is still `id` (a site refused it). */
  drop(id: string): void;
}

export interface KeystoneSessionOptions {
  method: KeystoneMethod;
  auth: KeystoneSiteAuth;
  /** Bound of one request to Keystone. */
  timeoutMs: number;
  tls: SiteTlsOptions;
  /** Clock (ms), for tests. Default Date.now. */
  now?: () => number;
  log?: Pick<Logger, 'warn' | 'info' | 'debug'>;
  /** Fields of every log line, naming whose token it is (`{ site }`). */
  logFields?: Record<string, unknown>;
  /** What log lines call the token ("site token", "service token"). */
  label?: string;
  /** The endpoint the holder needs from the token's catalog; throws KeystoneTokenError when it is not there. */
  endpointFrom?: (catalog: CatalogService[]) => string;
  /** Told the outcome of every authentication (metrics: a renewal that keeps failing is an alert). */
  onAuthentication?: (ok: boolean) => void;
  /** One token for the whole fleet: taken from here before authenticating, put here after. */
  shared?: SharedTokenStore;
}

/** The proxy's token at one Keystone and the connections to that Keystone (see the header comment). */
export class KeystoneSession {
  /** POST /v3/auth/tokens sent (successful or not). */
  authentications = 0;
  /** The Identity v3 base URL (`…/v3`). */
  readonly base: string;
  /** "Keystone at URL", for messages. */
  readonly where: string;
  private current: KeystoneToken | undefined;
  private inflight: Promise<KeystoneToken> | undefined;
  private nextBackgroundAt = 0;
  private lastForcedAt = Number.NEGATIVE_INFINITY;
  /** The last token a peer refused: not taken from the fleet's store again. */
  private refused: string | undefined;
  private readonly now: () => number;
  private readonly label: string;
  private readonly logFields: Record<string, unknown>;
  private readonly agent: Agent;
  private readonly secrets: string[];

  constructor(private readonly opts: KeystoneSessionOptions) {
    this.now = opts.now ?? Date.now;
    this.label = opts.label ?? 'Keystone token';
    this.logFields = opts.logFields ?? {};
    this.base = identityV3Url(opts.auth.authUrl);
    this.where = `Keystone at ${printable(this.base)}`;
    this.secrets = [opts.auth.password, opts.auth.token].filter((s): s is string => !!s && s.length >= 3);
    this.agent = new Agent({
      connections: 4,
      keepAliveTimeout: 10_000,
      connect: { timeout: Math.min(opts.timeoutMs, 10_000), ...opts.tls },
    });
  }

  get timeoutMs(): number {
    return this.opts.timeoutMs;
  }

  /** The token currently held (tests, diagnostics). */
  get token(): KeystoneToken | undefined {
    return this.current;
  }

  /** A usable token: the cached one, or a fresh one (shared with every concurrent caller). */
  async getToken(): Promise<KeystoneToken> {
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
   * A request sent with token `id` was answered 401. Drops that token if it
   * is still the cached one (saying `why` in the log); true when a retry
   * with getToken() may get another token (already renewed by someone else,
   * or renewal allowed now).
   */
  invalidate(id: string | undefined, why: string): boolean {
    if (this.current?.id !== id) return true;
    const now = this.now();
    if (now - this.lastForcedAt < FORCED_RENEW_INTERVAL_MS) return false;
    this.lastForcedAt = now;
    this.current = undefined;
    if (id !== undefined) {
      this.refused = id;
      this.opts.shared?.drop(id);
    }
    this.opts.log?.info(this.logFields, why);
    return true;
  }

  /**
   * One request to Keystone over this session's connections: `path` is
   * below the v3 base (`/auth/tokens?nocatalog`). Failures to get an answer
   * are KeystoneTokenError.
   */
  async send(method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: string): Promise<KeystoneAnswer> {
    const url = new URL(`${this.base}${path}`);
    const timeoutMs = this.opts.timeoutMs;
    try {
      const res = await this.agent.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method,
        headers: { accept: 'application/json', 'user-agent': 'ironic-proxy', ...headers },
        body,
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
          throw new KeystoneTokenError(`${this.where} sent an answer larger than ${MAX_TOKEN_RESPONSE_BYTES} bytes`);
        }
        chunks.push(chunk as Buffer);
      }
      return { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) };
    } catch (err) {
      if (err instanceof KeystoneTokenError) throw err;
      if (isTimeout(err)) throw new KeystoneTokenError(`${this.where} did not answer within ${timeoutMs / 1000} seconds`, true);
      throw new KeystoneTokenError(`${this.where} is unreachable (${this.clean(unreachableReason(err))})`);
    }
  }

  /** Belt and braces: no configured secret survives into a message. */
  clean(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join('***');
    return out;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private renewInBackground(now: number): void {
    if (this.inflight || now < this.nextBackgroundAt) return;
    this.nextBackgroundAt = now + BACKGROUND_RETRY_MS;
    this.authenticate().catch((err: Error) => {
      this.opts.log?.warn({ ...this.logFields, err: err.message }, `${this.label} renewal failed; the current token is used until it expires`);
    });
  }

  private authenticate(): Promise<KeystoneToken> {
    if (!this.inflight) {
      const p = this.requestToken().then((t) => {
        this.current = t;
        return t;
      });
      this.inflight = p;
      // Cleared whatever the outcome; the caller handles the rejection.
      p.then(
        () => {
          if (this.inflight === p) this.inflight = undefined;
          this.opts.onAuthentication?.(true);
        },
        () => {
          if (this.inflight === p) this.inflight = undefined;
          this.opts.onAuthentication?.(false);
        },
      );
    }
    return this.inflight;
  }

  /**
   * The fleet's token, when another process holds one that is not about to
   * be renewed (then this process renews it, and shares the new one).
   */
  private async fromFleet(): Promise<KeystoneToken | undefined> {
    const shared = await this.opts.shared?.get().catch(() => undefined);
    if (!shared || shared.id === this.refused || shared.id === this.current?.id) return undefined;
    if (this.opts.endpointFrom && !shared.endpoint) return undefined;
    const now = this.now();
    const margin = Math.min(RENEW_MARGIN_MAX_MS, shared.lifetimeMs * RENEW_FRACTION);
    if (shared.remainingMs <= margin) return undefined;
    const expiresAt = now + shared.remainingMs;
    this.opts.log?.debug(this.logFields, `${this.label} taken from the fleet's store`);
    return { id: shared.id, obtainedAt: now, expiresAt, renewAt: expiresAt - margin, mustRenewAt: expiresAt - margin / 2, endpoint: shared.endpoint };
  }

  private async requestToken(): Promise<KeystoneToken> {
    const fleet = await this.fromFleet();
    if (fleet) return fleet;
    const token = await this.authenticateAtKeystone();
    this.opts.shared?.put({ id: token.id, remainingMs: token.expiresAt - this.now(), lifetimeMs: token.expiresAt - token.obtainedAt, endpoint: token.endpoint });
    return token;
  }

  private async authenticateAtKeystone(): Promise<KeystoneToken> {
    const sentAt = this.now();
    this.authentications++;
    const body = JSON.stringify(authRequestBody(this.opts.method, this.opts.auth));
    const answer = await this.send('POST', '/auth/tokens', { 'content-type': 'application/json' }, body);
    const { status, headers } = answer;
    if (status === 401 || (this.opts.method === 'token' && status === 404)) {
      throw new KeystoneTokenError(
        this.clean(
          this.opts.method === 'token'
            ? `${this.where} rejected the configured token (HTTP ${status})`
            : `${this.where} rejected the proxy's credentials for user ${this.opts.auth.username ?? this.opts.auth.userId} (HTTP ${status})`,
        ),
      );
    }
    if (status !== 201 && status !== 200) {
      throw new KeystoneTokenError(this.clean(`${this.where} answered HTTP ${status} to the authentication${errorDetail(answer.body)}`));
    }
    const subject = headers['x-subject-token'];
    const id = Array.isArray(subject) ? subject[0] : subject;
    let doc: { token?: { expires_at?: string; issued_at?: string; catalog?: CatalogService[] } } | undefined;
    try {
      doc = JSON.parse(answer.body.toString('utf8')) as typeof doc;
    } catch {
      doc = undefined;
    }
    const expiresAtServer = Date.parse(doc?.token?.expires_at ?? '');
    if (!id || !doc?.token || !Number.isFinite(expiresAtServer)) {
      throw new KeystoneTokenError(`${this.where} sent an unusable token response (no X-Subject-Token or expires_at)`);
    }
    const date = headers.date;
    const expiresAt = tokenExpiry(sentAt, expiresAtServer, Date.parse(doc.token.issued_at ?? ''), Date.parse((Array.isArray(date) ? date[0] : date) ?? ''));
    if (expiresAt <= sentAt) {
      throw new KeystoneTokenError(`${this.where} sent a token that expires as it is issued (expires_at ${doc.token.expires_at})`);
    }
    const margin = Math.min(RENEW_MARGIN_MAX_MS, (expiresAt - sentAt) * RENEW_FRACTION);
    const endpoint = this.opts.endpointFrom?.(doc.token.catalog ?? []);
    this.opts.log?.debug({ ...this.logFields, expiresAt: new Date(expiresAt).toISOString(), endpoint }, `${this.label} obtained`);
    return { id, obtainedAt: sentAt, expiresAt, renewAt: expiresAt - margin, mustRenewAt: expiresAt - margin / 2, endpoint };
  }
}

/**
 * E on the proxy's clock for a token asked for at `sentAt` (proxy clock):
 * its lifetime on Keystone's clock, from issued_at or else from Keystone's
 * `Date` header (whole seconds: Keystone's time was up to 1 s later, so that
 * second is taken off), added to `sentAt`; moved back by at most 1 s when
 * expires_at is earlier (issued_at truncated). With neither, expires_at on
 * the proxy's clock is all there is. NaN for what Keystone did not send.
 */
export function tokenExpiry(sentAt: number, expiresAtServer: number, issuedAtServer: number, dateServer: number): number {
  let lifetime: number;
  if (Number.isFinite(issuedAtServer)) lifetime = expiresAtServer - issuedAtServer;
  else if (Number.isFinite(dateServer)) lifetime = expiresAtServer - dateServer - 1000;
  else return expiresAtServer;
  return sentAt + lifetime - Math.min(MAX_TRUNCATION_MS, Math.max(0, sentAt + lifetime - expiresAtServer));
}

/** The session's options for one site (timeoutMs: the site's timeout). */
export interface KeystoneAuthOptions extends Pick<KeystoneSessionOptions, 'method' | 'auth' | 'timeoutMs' | 'tls' | 'now' | 'log' | 'onAuthentication' | 'shared'> {
  /** Site name, for errors and logs. */
  site: string;
  /** Find the site's endpoint in the catalog (false with endpoint_override). */
  discover: boolean;
}

/** A site's credentials from its Keystone: the session's token, its failures as the site's. */
export class KeystoneAuth implements SiteAuth {
  readonly renewsOn401 = true;
  readonly discoversEndpoint: boolean;
  readonly session: KeystoneSession;

  constructor(private readonly opts: KeystoneAuthOptions) {
    this.discoversEndpoint = opts.discover;
    const { site, discover, ...session } = opts;
    this.session = new KeystoneSession({
      ...session,
      logFields: { site },
      label: 'site token',
      endpointFrom: discover ? (catalog) => this.discover(catalog) : undefined,
    });
  }

  /** The token currently held (tests, diagnostics). */
  get token(): KeystoneToken | undefined {
    return this.session.token;
  }

  /** POST /v3/auth/tokens sent (successful or not). */
  get authentications(): number {
    return this.session.authentications;
  }

  async credentials(): Promise<SiteCredentials> {
    let t: KeystoneToken;
    try {
      t = await this.session.getToken();
    } catch (err) {
      throw this.translate(err);
    }
    return { headers: { 'x-auth-token': t.id }, endpoint: t.endpoint, authId: t.id };
  }

  /**
   * The site answered 401 to a request sent with `used`. Drops that token
   * if it is still the cached one; true when a retry with credentials() may
   * get another token (already renewed by someone else, or renewal allowed now).
   */
  invalidate(used: SiteCredentials): boolean {
    return this.session.invalidate(used.authId, 'site refused the proxy token (401); authenticating again');
  }

  async close(): Promise<void> {
    await this.session.close();
  }

  private discover(catalog: CatalogService[]): string {
    const a = this.opts.auth;
    const where = this.session.where;
    const url = selectEndpoint(catalog, { serviceType: a.serviceType, interface: a.interface, region: a.regionName });
    if (!url) {
      const region = a.regionName !== undefined ? ` in region ${a.regionName}` : '';
      throw new KeystoneTokenError(
        `the catalog from ${where} has no ${a.serviceType} endpoint for interface ${a.interface}${region} (${describeOffers(catalog, a.serviceType)})`,
      );
    }
    try {
      const u = new URL(url);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    } catch {
      throw new KeystoneTokenError(
        `the catalog from ${where} gives "${this.session.clean(url)}" as the ${a.serviceType} endpoint, not an http(s) URL`,
      );
    }
    return apiRootFromCatalog(url);
  }

  /** Keystone's failures are the site's: a timeout naming its Keystone, or the site unavailable for Keystone's reason. */
  private translate(err: unknown): unknown {
    if (!(err instanceof KeystoneTokenError)) return err;
    if (err.timedOut) return new SiteTimeoutError(this.opts.site, this.opts.timeoutMs / 1000, `its ${this.session.where}`);
    return new SiteUnavailableError(this.opts.site, this.session.clean(err.message));
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
