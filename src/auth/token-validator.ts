/**
 * Validates users' tokens the way keystonemiddleware does: `GET
 * /v3/auth/tokens` with the proxy's service token and the user's token as
 * X-Subject-Token. A validation is trusted until shortly before the token
 * expires and for at most token_cache_time (so a revocation takes effect
 * within that bound); a rejection is remembered briefly so that a client
 * retrying a bad token does not hammer Keystone. Tokens are cache keys only
 * as hashes: the cache never holds a usable token.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { request } from 'undici';
import { ProxyError } from '../errors.js';
import type { ServiceToken } from './service-token.js';
import type { UserContext } from './user.js';

const REJECTION_MEMORY_MS = 10_000;
/** A validation is not trusted in the last seconds of the token's life. */
const EXPIRY_MARGIN_MS = 5_000;

export class TokenRejected extends Error {}

interface Entry {
  user?: UserContext;
  until: number;
}

export class UserTokenValidator {
  private readonly cache = new LRUCache<string, Entry>({ max: 10_000 });
  private readonly inflight = new Map<string, Promise<UserContext>>();

  constructor(
    private readonly service: ServiceToken,
    private readonly cacheMs: number,
    private readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The caller, or TokenRejected (→ 401); Keystone unreachable → 503. */
  async validate(token: string): Promise<UserContext> {
    const key = createHash('sha256').update(token).digest('hex');
    const hit = this.cache.get(key);
    if (hit && hit.until > this.now()) {
      if (!hit.user) throw new TokenRejected();
      return hit.user;
    }
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.ask(token, key).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  private async ask(token: string, key: string, retried = false): Promise<UserContext> {
    let res;
    try {
      res = await request(`${this.service.identityUrl}/auth/tokens?nocatalog`, {
        method: 'GET',
        headers: { 'x-auth-token': await this.service.token(), 'x-subject-token': token },
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
    } catch (err) {
      throw keystoneUnavailable((err as Error).message);
    }
    const body = (await res.body.json().catch(() => undefined)) as KeystoneTokenBody | undefined;
    if (res.statusCode === 200 && body?.token) {
      const user = userFrom(body.token);
      this.cache.set(key, { user, until: Math.min(this.now() + this.cacheMs, user.expiresAt - EXPIRY_MARGIN_MS) });
      if (user.expiresAt - EXPIRY_MARGIN_MS <= this.now()) throw new TokenRejected();
      return user;
    }
    if (res.statusCode === 404) {
      this.cache.set(key, { until: this.now() + REJECTION_MEMORY_MS });
      throw new TokenRejected();
    }
    if (res.statusCode === 401 && !retried) {
      // The proxy's own token was refused (expired, revoked): get a new one, once.
      this.service.invalidate();
      return this.ask(token, key, true);
    }
    throw keystoneUnavailable(`token validation answered HTTP ${res.statusCode}`);
  }
}

function keystoneUnavailable(reason: string): ProxyError {
  return new ProxyError(503, 'KEYSTONE_UNAVAILABLE', `Authentication service unavailable: ${reason}`);
}

interface KeystoneTokenBody {
  token?: {
    expires_at?: string;
    user?: { id?: string; name?: string };
    project?: { id?: string; name?: string };
    system?: { all?: boolean };
    roles?: Array<{ name?: string }>;
  };
}

function userFrom(t: NonNullable<KeystoneTokenBody['token']>): UserContext {
  return {
    userId: t.user?.id ?? '',
    userName: t.user?.name,
    projectId: t.project?.id,
    projectName: t.project?.name,
    system: t.system?.all === true,
    roles: (t.roles ?? []).map((r) => r.name ?? '').filter(Boolean),
    expiresAt: Date.parse(t.expires_at ?? '') || 0,
  };
}
