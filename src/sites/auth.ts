/**
 * How the proxy proves itself to a site. The user's own credentials never go
 * to a site: the proxy calls every site with the service credentials from its
 * `[group:SITE]` section.
 */
import type { SiteConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { KeystoneAuth, type SharedTokenStore } from './keystone.js';
import { siteTlsOptions } from './tls.js';

/** What one request to a site is sent with. */
export interface SiteCredentials {
  /** Headers to add to the request. */
  headers: Record<string, string>;
  /** The site's API root when the auth discovered it (Keystone catalog); else endpoint_override is used. */
  endpoint?: string;
  /** Identifies the credentials (a token), so a 401 drops exactly the token it was answered to. */
  authId?: string;
}

export interface SiteAuth {
  /**
   * True when a 401 from the site can be cured by fresh credentials
   * (Keystone tokens): SiteClient then retries the request once.
   */
  readonly renewsOn401: boolean;
  /** True when credentials() names the site's endpoint (a Keystone catalog), so endpoint_override may be absent. */
  readonly discoversEndpoint: boolean;
  /** The credentials to send; a plain value when at hand (no promise on the hot path). */
  credentials(): SiteCredentials | Promise<SiteCredentials>;
  /**
   * The site answered 401 to a request sent with `used`: cached credentials
   * are dropped. True when a retry with credentials() may succeed.
   */
  invalidate(used: SiteCredentials): boolean;
  close?(): Promise<void>;
}

const NO_CREDENTIALS: SiteCredentials = Object.freeze({ headers: Object.freeze({}) });

const noAuth: SiteAuth = {
  renewsOn401: false,
  discoversEndpoint: false,
  credentials: () => NO_CREDENTIALS,
  invalidate: () => false,
};

class HttpBasicAuth implements SiteAuth {
  readonly renewsOn401 = false;
  readonly discoversEndpoint = false;
  private readonly creds: SiteCredentials;
  constructor(username: string, password: string) {
    this.creds = { headers: { authorization: `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}` } };
  }
  credentials(): SiteCredentials {
    return this.creds;
  }
  invalidate(): boolean {
    return false;
  }
}

export interface SiteAuthOptions {
  log?: Pick<Logger, 'warn' | 'info' | 'debug'>;
  /** Clock for token expiry (tests). */
  now?: () => number;
  /** Told the outcome of every Keystone authentication for this site. */
  onAuthentication?: (ok: boolean) => void;
  /** One Keystone token per site for the fleet ([coordination] share_site_tokens): the store of this site's token. */
  sharedToken?: (site: SiteConfig) => SharedTokenStore | undefined;
}

export function createSiteAuth(site: SiteConfig, opts: SiteAuthOptions = {}): SiteAuth {
  switch (site.authType) {
    case 'none':
      return noAuth;
    case 'http_basic':
      return new HttpBasicAuth(site.username ?? '', site.password ?? '');
    case 'password':
    case 'v3password':
    case 'token':
    case 'v3token':
      if (!site.keystone) throw new Error(`[group:${site.name}]auth_type = ${site.authType} without Keystone options`);
      return new KeystoneAuth({
        site: site.name,
        method: site.authType === 'token' || site.authType === 'v3token' ? 'token' : 'password',
        auth: site.keystone,
        timeoutMs: Math.round(site.timeoutSeconds * 1000),
        tls: siteTlsOptions(site),
        discover: !site.endpointOverride,
        now: opts.now,
        log: opts.log,
        onAuthentication: opts.onAuthentication,
        shared: opts.sharedToken?.(site),
      });
  }
}
