/**
 * Validates users' tokens the way keystonemiddleware does: `GET
 * /v3/auth/tokens` with the proxy's service token and the user's token as
 * X-Subject-Token, over the service token's session (its TLS options). A
 * validation is remembered for token_cache_time (so a revocation takes
 * effect within that bound); remembered or fresh, a token is accepted until
 * its expires_at on the proxy's clock, inclusive, and refused after it
 * (keystonemiddleware's `will_expire_soon(stale_duration=0)`: no margin). A
 * rejection is remembered briefly so that a client retrying a bad token does
 * not hammer Keystone. Tokens are cache keys only as hashes: the cache never
 * holds a usable token.
 *
 * Keystone unreachable, timing out, refusing the service credentials twice
 * or answering anything but 200/404: KeystoneUnavailable (503 with
 * keystonemiddleware's text; the detail is for the log only).
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { ProxyError } from '../errors.js';
import { KeystoneTokenError, type KeystoneSession } from '../sites/keystone.js';
import type { UserContext } from './user.js';

const REJECTION_MEMORY_MS = 10_000;

export class TokenRejected extends Error {}

/**
 * Keystone could not say whether a token is valid. The client is told only
 * keystonemiddleware's sentence; `detail` (Keystone's URL, the reason, never
 * a secret) is for the log.
 */
export class KeystoneUnavailable extends ProxyError {
  constructor(readonly detail: string) {
    super('KEYSTONE_UNAVAILABLE', 'The Keystone service is temporarily unavailable.');
  }
}

interface Entry {
  user?: UserContext;
  until: number;
}

export class UserTokenValidator {
  private readonly cache = new LRUCache<string, Entry>({ max: 10_000 });
  private readonly inflight = new Map<string, Promise<UserContext | undefined>>();

  constructor(
    private readonly service: KeystoneSession,
    private readonly cacheMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The caller, or TokenRejected (→ 401); Keystone unavailable → KeystoneUnavailable (→ 503). */
  async validate(token: string): Promise<UserContext> {
    const key = createHash('sha256').update(token).digest('hex');
    const hit = this.cache.get(key);
    if (hit && hit.until > this.now()) return this.accept(hit.user);
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.ask(token, key).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return this.accept(await pending);
  }

  async close(): Promise<void> {
    await this.service.close();
  }

  /** keystonemiddleware's last check, on every use: expired means expires_at is before now. */
  private accept(user: UserContext | undefined): UserContext {
    if (!user || user.expiresAt < this.now()) throw new TokenRejected();
    return user;
  }

  private async ask(token: string, key: string, retried = false): Promise<UserContext | undefined> {
    let serviceToken: string;
    let answer;
    try {
      serviceToken = (await this.service.getToken()).id;
      answer = await this.service.send('GET', '/auth/tokens?nocatalog', { 'x-auth-token': serviceToken, 'x-subject-token': token });
    } catch (err) {
      if (err instanceof KeystoneTokenError) throw new KeystoneUnavailable(err.message);
      throw err;
    }
    const { status } = answer;
    if (status === 200) {
      const body = parse(answer.body);
      if (!body?.token) throw new KeystoneUnavailable(`${this.service.where} answered the token validation with no token`);
      const user = userFrom(body.token);
      if (this.cacheMs > 0) this.cache.set(key, { user, until: this.now() + this.cacheMs });
      return user;
    }
    if (status === 404) {
      this.cache.set(key, { until: this.now() + REJECTION_MEMORY_MS });
      return undefined;
    }
    if (status === 401 && !retried && this.service.invalidate(serviceToken, 'Keystone refused the service token (401); authenticating again')) {
      // The proxy's own token was refused (expired, revoked): get a new one, once.
      return this.ask(token, key, true);
    }
    throw new KeystoneUnavailable(
      status === 401
        ? `${this.service.where} refused the proxy's service token for the token validation (HTTP 401)`
        : `${this.service.where} answered the token validation with HTTP ${status}`,
    );
  }
}

function parse(body: Buffer): KeystoneTokenBody | undefined {
  try {
    return JSON.parse(body.toString('utf8')) as KeystoneTokenBody;
  } catch {
    return undefined;
  }
}

interface Named {
  id?: string;
  name?: string;
}

interface KeystoneTokenBody {
  token?: {
    expires_at?: string;
    is_admin_project?: boolean;
    user?: Named & { domain?: Named };
    project?: Named & { domain?: Named };
    domain?: Named;
    system?: { all?: boolean };
    roles?: Array<{ name?: string }>;
  };
}

function userFrom(t: NonNullable<KeystoneTokenBody['token']>): UserContext {
  return {
    userId: t.user?.id ?? '',
    userName: t.user?.name,
    userDomainId: t.user?.domain?.id,
    userDomainName: t.user?.domain?.name,
    projectId: t.project?.id,
    projectName: t.project?.name,
    projectDomainId: t.project?.domain?.id,
    projectDomainName: t.project?.domain?.name,
    domainId: t.domain?.id,
    domainName: t.domain?.name,
    system: t.system?.all === true,
    roles: (t.roles ?? []).map((r) => r.name ?? '').filter(Boolean),
    isAdminProject: t.is_admin_project ?? true,
    // Unparseable: expired (keystoneauth could not read it either, and the middleware refuses the token).
    expiresAt: Date.parse(t.expires_at ?? '') || Number.NEGATIVE_INFINITY,
  };
}
