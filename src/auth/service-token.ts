/**
 * The proxy's own Keystone token ([keystone_authtoken] service credentials),
 * needed to validate users' tokens: fetched once, shared by concurrent
 * callers, renewed shortly before it expires or when Keystone rejects it.
 */
import { request } from 'undici';
import type { KeystoneSiteAuth } from '../config/types.js';

/** Renew this long before expiry, so that no validation runs on a token about to lapse. */
const RENEW_BEFORE_MS = 60_000;

export class ServiceToken {
  private cached?: { token: string; expiresAt: number };
  private pending?: Promise<string>;

  constructor(
    private readonly creds: KeystoneSiteAuth,
    private readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get identityUrl(): string {
    return identityV3(this.creds.authUrl);
  }

  async token(): Promise<string> {
    if (this.cached && this.cached.expiresAt - RENEW_BEFORE_MS > this.now()) return this.cached.token;
    this.pending ??= this.authenticate().finally(() => (this.pending = undefined));
    return this.pending;
  }

  invalidate(): void {
    this.cached = undefined;
  }

  private async authenticate(): Promise<string> {
    const res = await request(`${this.identityUrl}/auth/tokens?nocatalog`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ auth: passwordAuthBody(this.creds) }),
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
    const body = (await res.body.json().catch(() => undefined)) as { token?: { expires_at?: string } } | undefined;
    const token = res.headers['x-subject-token'];
    if (res.statusCode !== 201 || typeof token !== 'string') {
      throw new Error(`Keystone refused the proxy's service credentials (HTTP ${res.statusCode})`);
    }
    const expiresAt = Date.parse(body?.token?.expires_at ?? '') || this.now() + 3_600_000;
    this.cached = { token, expiresAt };
    return token;
  }
}

/** keystoneauth accepts auth_url with or without the version: normalise to …/v3. */
export function identityV3(authUrl: string): string {
  const base = authUrl.replace(/\/+$/, '');
  return /\/v3$/.test(base) ? base : `${base}/v3`;
}

/** The `auth` object of POST /v3/auth/tokens for password credentials and their scope. */
export function passwordAuthBody(c: KeystoneSiteAuth): Record<string, unknown> {
  const user: Record<string, unknown> = { password: c.password };
  if (c.userId) user.id = c.userId;
  else {
    user.name = c.username;
    user.domain = c.userDomainId ? { id: c.userDomainId } : { name: c.userDomainName };
  }
  const auth: Record<string, unknown> = { identity: { methods: ['password'], password: { user } } };
  if (c.systemScope) auth.scope = { system: { all: true } };
  else if (c.projectId) auth.scope = { project: { id: c.projectId } };
  else if (c.projectName) {
    auth.scope = {
      project: { name: c.projectName, domain: c.projectDomainId ? { id: c.projectDomainId } : { name: c.projectDomainName } },
    };
  } else if (c.domainId || c.domainName) auth.scope = { domain: c.domainId ? { id: c.domainId } : { name: c.domainName } };
  return auth;
}
