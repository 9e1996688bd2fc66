/**
 * How the proxy proves itself to a site. The user's own credentials never go
 * to a site: the proxy calls every site with the service credentials from its
 * `[group:SITE]` section.
 */
import type { SiteConfig } from '../config/types.js';

export interface SiteAuth {
  /** Headers to add to every request to the site. */
  headers(): Promise<Record<string, string>>;
  /** Called when the site answered 401: cached credentials are dropped. */
  invalidate(): void;
}

const noAuth: SiteAuth = {
  headers: async () => ({}),
  invalidate: () => {},
};

class HttpBasicAuth implements SiteAuth {
  private readonly header: string;
  constructor(username: string, password: string) {
    this.header = `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
  }
  async headers(): Promise<Record<string, string>> {
    return { authorization: this.header };
  }
  invalidate(): void {}
}

export class UnsupportedAuthError extends Error {}

export function createSiteAuth(site: SiteConfig): SiteAuth {
  switch (site.authType) {
    case 'none':
      return noAuth;
    case 'http_basic':
      return new HttpBasicAuth(site.username ?? '', site.password ?? '');
    default:
      throw new UnsupportedAuthError(
        `[group:${site.name}]auth_type = ${site.authType}: Keystone authentication to sites is not supported yet ` +
          '(use auth_type = none or http_basic with endpoint_override)',
      );
  }
}
