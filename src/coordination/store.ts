/**
 * The store replicas share (`[coordination] backend_url`, Redis): a lock
 * service for reservations of unique names and a cache of locations. Never
 * the truth — the sites are: losing the store loses no data, only the
 * guarding of cross-site uniqueness (refused or logged, [coordination]
 * required) and the shared warm cache.
 *
 * Every command fails at once while the connection is down (no offline
 * queue) and within `timeout` when the store is slow, so a request never
 * hangs on it. Invalidations go out on one pub/sub channel, on a connection
 * of its own (a subscribed Redis connection can do nothing else).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';
import type { CoordinationConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import type { SharedTokenStore } from '../sites/keystone.js';

/** Deletes the key only if it still holds our token: a reservation that expired and was taken by another is not ours to free. */
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
/** Extends the key's life only if it still holds our token. */
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

/** Deletes a shared token only if it is still the one a site refused. */
const DROP_TOKEN = `local v = redis.call('get', KEYS[1]); if v and cjson.decode(v).id == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`;

type ScriptClient = Redis & {
  dropTokenIfSame(key: string, id: string): Promise<number>;
  releaseIfOwner(key: string, token: string): Promise<number>;
  renewIfOwner(key: string, token: string, ttlMs: number): Promise<number>;
};

/** A location changed or was dropped by one process: the others drop their local copy. */
export type InvalidationListener = (kind: string, key: string) => void;

export class CoordinationStore {
  private readonly client: ScriptClient;
  private readonly subscriber: Redis;
  private readonly channel: string;
  /** Our own invalidations come back to us on the channel: they are recognised and ignored. */
  private readonly origin = randomUUID();
  private readonly listeners: InvalidationListener[] = [];
  private wasUp: boolean | undefined;
  private closed = false;

  constructor(
    readonly config: CoordinationConfig,
    private readonly log: Logger,
  ) {
    const options: RedisOptions = {
      lazyConnect: true,
      // A command while disconnected fails at once (the caller decides: 503, unguarded, or a fan-out)…
      enableOfflineQueue: false,
      // …and one in flight when the connection drops fails too, rather than waiting for a reconnect.
      maxRetriesPerRequest: 0,
      commandTimeout: config.timeoutMs,
      connectTimeout: Math.max(config.timeoutMs * 4, 2000),
      retryStrategy: (times) => Math.min(100 * times, 2000),
      tls: tlsOptions(config),
    };
    this.client = new Redis(config.backendUrl, options) as ScriptClient;
    this.client.defineCommand('releaseIfOwner', { numberOfKeys: 1, lua: RELEASE });
    this.client.defineCommand('renewIfOwner', { numberOfKeys: 1, lua: RENEW });
    this.client.defineCommand('dropTokenIfSame', { numberOfKeys: 1, lua: DROP_TOKEN });
    // The subscriber queues its SUBSCRIBE until connected, and ioredis subscribes again after a reconnect.
    this.subscriber = new Redis(config.backendUrl, { lazyConnect: true, retryStrategy: options.retryStrategy, connectTimeout: options.connectTimeout, tls: options.tls });
    this.channel = `${config.keyPrefix}:invalidate`;
    for (const c of [this.client, this.subscriber]) {
      // Errors are states here (up/down), reported once per change below; the URL (with its password) is never logged.
      c.on('error', () => this.noteState());
      c.on('ready', () => this.noteState());
      c.on('end', () => this.noteState());
      c.on('close', () => this.noteState());
    }
    this.subscriber.on('message', (_channel: string, message: string) => this.onMessage(message));
  }

  /** Connects, waiting at most `waitMs`; a store that is not there yet is retried in the background. */
  async start(waitMs: number): Promise<void> {
    const connecting = Promise.all([
      this.client.connect().catch(() => undefined),
      this.subscriber.connect().catch(() => undefined),
      this.subscriber.subscribe(this.channel).catch(() => undefined),
    ]);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([connecting, new Promise((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
    this.noteState();
  }

  get up(): boolean {
    return this.client.status === 'ready';
  }

  key(...parts: string[]): string {
    return [this.config.keyPrefix, ...parts].join(':');
  }

  /** SET NX PX: true when the key is now ours; false when another holds it. Throws when the store cannot be asked. */
  async reserve(key: string, token: string): Promise<boolean> {
    return (await this.client.set(key, token, 'PX', this.config.reservationTtlMs, 'NX')) === 'OK';
  }

  async release(key: string, token: string): Promise<void> {
    await this.client.releaseIfOwner(key, token);
  }

  async renew(key: string, token: string): Promise<boolean> {
    return (await this.client.renewIfOwner(key, token, this.config.reservationTtlMs)) === 1;
  }

  /** The site name stored for a location, undefined when none (or the store cannot be asked: the caller asks the sites). */
  async getLocation(kind: string, key: string): Promise<string | undefined> {
    if (!this.up) return undefined;
    try {
      return (await this.client.get(this.key('loc', kind, key))) ?? undefined;
    } catch {
      return undefined;
    }
  }

  /** Stores a location and tells the other processes; not awaited by requests, a failure only costs a later fan-out. */
  setLocation(kind: string, key: string, site: string): void {
    if (!this.up) return;
    this.client
      .multi()
      .set(this.key('loc', kind, key), site, 'EX', this.config.locationTtlSeconds)
      .publish(this.channel, this.message(kind, key))
      .exec()
      .catch(() => undefined);
  }

  deleteLocation(kind: string, key: string): void {
    if (!this.up) return;
    this.client
      .multi()
      .del(this.key('loc', kind, key))
      .publish(this.channel, this.message(kind, key))
      .exec()
      .catch(() => undefined);
  }

  /**
   * One site's token for the fleet (`[coordination] share_site_tokens`),
   * under a key naming the site and a digest of its credentials: a secret,
   * kept only as long as it is valid. Never throws: no store, no shared token.
   */
  sharedToken(site: string, credentialsDigest: string): SharedTokenStore {
    const key = this.key('token', site, credentialsDigest);
    return {
      get: async () => {
        if (!this.up) return undefined;
        const [got, ttl] = (await this.client.multi().get(key).pttl(key).exec()) ?? [];
        const text = got?.[1];
        const remainingMs = Number(ttl?.[1]);
        if (typeof text !== 'string' || !(remainingMs > 0)) return undefined;
        const doc = JSON.parse(text) as { id?: unknown; lifetimeMs?: unknown; endpoint?: unknown };
        if (typeof doc.id !== 'string' || typeof doc.lifetimeMs !== 'number') return undefined;
        return { id: doc.id, lifetimeMs: doc.lifetimeMs, remainingMs, endpoint: typeof doc.endpoint === 'string' ? doc.endpoint : undefined };
      },
      put: (t) => {
        if (!this.up || t.remainingMs <= 0) return;
        this.client.set(key, JSON.stringify({ id: t.id, lifetimeMs: t.lifetimeMs, endpoint: t.endpoint }), 'PX', Math.floor(t.remainingMs)).catch(() => undefined);
      },
      drop: (id) => {
        if (!this.up) return;
        this.client.dropTokenIfSame(key, id).catch(() => undefined);
      },
    };
  }

  onInvalidate(listener: InvalidationListener): void {
    this.listeners.push(listener);
  }

  /** The raw client, for the site-token cache and tests. */
  get redis(): Redis {
    return this.client;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.client.disconnect();
    this.subscriber.disconnect();
  }

  private message(kind: string, key: string): string {
    return JSON.stringify([this.origin, kind, key]);
  }

  private onMessage(message: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(message);
    } catch {
      return;
    }
    if (!Array.isArray(parsed) || parsed.length !== 3 || parsed[0] === this.origin) return;
    const [, kind, key] = parsed as [string, unknown, unknown];
    if (typeof kind !== 'string' || typeof key !== 'string') return;
    for (const l of this.listeners) l(kind, key);
  }

  private noteState(): void {
    const up = this.up;
    if (up === this.wasUp || this.closed) return;
    this.wasUp = up;
    if (up) this.log.info({ coordination: this.where() }, 'coordination store connected');
    else this.log.warn({ coordination: this.where() }, 'coordination store unreachable: guarded writes are refused or unguarded ([coordination]required), lookups ask the sites');
  }

  /** host:port of the store, without credentials. */
  private where(): string {
    try {
      const u = new URL(this.config.backendUrl);
      return `${u.protocol}//${u.host}`;
    } catch {
      return '(invalid backend_url)';
    }
  }
}

function tlsOptions(config: CoordinationConfig): RedisOptions['tls'] {
  if (!config.backendUrl.startsWith('rediss:')) return undefined;
  const cert = config.certfile ? readFileSync(config.certfile) : undefined;
  return {
    ca: config.cafile ? readFileSync(config.cafile) : undefined,
    cert,
    key: config.keyfile ? readFileSync(config.keyfile) : cert,
    rejectUnauthorized: !config.insecure,
  };
}
