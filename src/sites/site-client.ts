/**
 * One site's HTTP client: a keep-alive connection pool, the site's own
 * credentials, an explicit microversion on every request, and a timeout that
 * turns into a typed error. Everything above this layer speaks in sites, not
 * sockets.
 */
import { Pool, type Dispatcher } from 'undici';
import { isTimeout, unreachableReason } from './transport-errors.js';
import type { SiteConfig } from '../config/types.js';
import { SiteProtocolError, SiteTimeoutError, SiteUnavailableError } from '../errors.js';
import { formatVersion, type Version } from '../ironic/microversion.js';
import type { SiteAuth, SiteCredentials } from './auth.js';
import { CircuitBreaker } from './breaker.js';
import { ConcurrencyLimiter } from './limiter.js';
import { siteTlsOptions } from './tls.js';

export interface SiteObserver {
  answered?(status: number, ms: number, res: SiteResponse): void;
  failed?(err: Error, ms: number): void;
}

export interface SiteLimits {
  connections: number;
  maxQueued: number;
  circuitFailureThreshold: number;
  circuitOpenSeconds: number;
}

export interface SiteRequest {
  method: string;
  /** Path below the site's API root, starting with `/` (query string included). */
  path: string;
  version: Version;
  requestId: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Overrides the site's configured timeout (milliseconds). */
  timeoutMs?: number;
}

export interface SiteResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A site's answers are small JSON documents; this bounds what one may cost us. */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export class SiteClient {
  readonly name: string;
  readonly ordinal: number;
  /** Told about every request's outcome (version tracking, metrics). */
  readonly observers: SiteObserver[] = [];

  readonly breaker: CircuitBreaker;
  private readonly limiter: ConcurrencyLimiter;
  private readonly timeoutMs: number;
  private readonly poolOptions: Pool.Options;
  /**
   * Where requests go: endpoint_override at once, or (Keystone) the
   * endpoint found in the token's catalog on first use; a later token whose
   * catalog names another endpoint moves the site there.
   */
  private target: { endpoint: string; pathPrefix: string; pool: Pool } | undefined;

  constructor(
    readonly config: SiteConfig,
    private readonly auth: SiteAuth,
    limits: SiteLimits,
  ) {
    this.name = config.name;
    this.ordinal = config.ordinal;
    this.timeoutMs = Math.round(config.timeoutSeconds * 1000);
    this.breaker = new CircuitBreaker(limits.circuitFailureThreshold, limits.circuitOpenSeconds * 1000);
    this.limiter = new ConcurrencyLimiter(limits.connections, limits.maxQueued);
    this.poolOptions = {
      connections: limits.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      connect: { timeout: Math.min(this.timeoutMs, 10_000), ...siteTlsOptions(config) },
    };
    if (config.endpointOverride) this.targetFor(config.endpointOverride);
    else if (!auth.discoversEndpoint) {
      throw new Error(`[group:${config.name}]endpoint_override is required with auth_type = ${config.authType}`);
    }
  }

  /**
   * The API root without a trailing slash (e.g. `http://10.0.0.5:6385`):
   * endpoint_override, or the catalog's endpoint once discovered (undefined before).
   */
  get endpoint(): string | undefined {
    return this.target?.endpoint;
  }

  async request(req: SiteRequest): Promise<SiteResponse> {
    if (!this.breaker.allow()) {
      throw this.refused(`not answering (circuit open; next probe in ${Math.ceil(this.breaker.retryInMs() / 1000)} s)`);
    }
    // A free slot is taken without a promise (the common case); only a full site queues.
    const release = this.limiter.tryAcquire() ?? (await this.limiter.acquire());
    if (!release) {
      // Not the site's fault: leave the circuit as it is (a probe slot, if this was one, is returned).
      this.breaker.abandon();
      throw this.refused('too many requests to this site in progress');
    }
    const started = performance.now();
    try {
      const res = await this.send(req);
      this.breaker.success();
      const ms = performance.now() - started;
      for (const o of this.observers) o.answered?.(res.status, ms, res);
      return res;
    } catch (err) {
      if (!(err instanceof SiteProtocolError && err.message.includes('larger than'))) this.breaker.failure();
      const ms = performance.now() - started;
      for (const o of this.observers) o.failed?.(err as Error, ms);
      throw err;
    } finally {
      release();
    }
  }

  /** A request the proxy did not send at all (open circuit, full queue): observed like any failure. */
  private refused(reason: string): SiteUnavailableError {
    const err = new SiteUnavailableError(this.name, reason);
    for (const o of this.observers) o.failed?.(err, 0);
    return err;
  }

  /**
   * One request with the site's credentials. A 401 with credentials that
   * can be renewed (a Keystone token) drops that token and the request is
   * sent once more with a fresh one; the second answer is final, whatever
   * it is.
   */
  private async send(req: SiteRequest): Promise<SiteResponse> {
    const pending = this.auth.credentials();
    const creds = pending instanceof Promise ? await pending : pending;
    const res = await this.sendWith(req, creds);
    if (res.status !== 401) return res;
    const retry = this.auth.invalidate(creds);
    if (!retry || !this.auth.renewsOn401) return res;
    return this.sendWith(req, await this.auth.credentials());
  }

  private async sendWith(req: SiteRequest, creds: SiteCredentials): Promise<SiteResponse> {
    const timeoutMs = req.timeoutMs ?? this.timeoutMs;
    const target = this.targetFor(creds.endpoint);
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': 'ironic-proxy',
      'x-openstack-ironic-api-version': formatVersion(req.version),
      'x-openstack-request-id': req.requestId,
      ...creds.headers,
      ...req.headers,
    };
    if (req.body !== undefined && headers['content-type'] === undefined) headers['content-type'] = 'application/json';
    try {
      return await collect(target.pool, {
        method: req.method,
        path: target.pathPrefix + req.path,
        headers,
        body: req.body,
        // undici's own deadlines (no answer / a stalled body): cheaper than a timer signal per request.
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      }, this.name);
    } catch (err) {
      throw this.translate(err, timeoutMs);
    }
  }

  /** The pool for this endpoint (endpoint_override when the credentials name none), created on first use. */
  private targetFor(discovered: string | undefined): { endpoint: string; pathPrefix: string; pool: Pool } {
    const endpoint = (this.config.endpointOverride ?? discovered)?.replace(/\/+$/, '');
    if (!endpoint) throw new SiteUnavailableError(this.name, 'no endpoint: neither endpoint_override nor a catalog gives one');
    if (this.target?.endpoint === endpoint) return this.target;
    const url = new URL(endpoint);
    const previous = this.target;
    const pool = previous && new URL(previous.endpoint).origin === url.origin ? previous.pool : new Pool(url.origin, this.poolOptions);
    this.target = { endpoint, pathPrefix: url.pathname.replace(/\/+$/, ''), pool };
    // Requests under way on the old pool finish; it closes after them.
    if (previous && previous.pool !== pool) previous.pool.close().catch(() => {});
    return this.target;
  }

  /** A request whose 2xx body must be JSON; anything else is the site misbehaving. */
  async requestJson<T>(req: SiteRequest): Promise<{ status: number; headers: SiteResponse['headers']; json: T | undefined; raw: SiteResponse }> {
    const raw = await this.request(req);
    return { status: raw.status, headers: raw.headers, json: parseJsonBody<T>(this.name, raw), raw };
  }

  async close(): Promise<void> {
    await Promise.all([this.target?.pool.close(), this.auth.close?.()]);
  }

  private translate(err: unknown, timeoutMs: number): Error {
    if (err instanceof SiteProtocolError) return err;
    if (isTimeout(err)) return new SiteTimeoutError(this.name, timeoutMs / 1000);
    return new SiteUnavailableError(this.name, unreachableReason(err));
  }
}

/**
 * One request on the pool, its whole answer collected in memory (answers are
 * small JSON documents, bounded by MAX_RESPONSE_BYTES). A dispatch handler
 * rather than undici's request(): no stream and no async iteration per
 * answer, which shows on the proxy's hot path.
 */
function collect(pool: Pool, opts: Dispatcher.DispatchOptions, site: string): Promise<SiteResponse> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let headers: SiteResponse['headers'] = {};
    const chunks: Buffer[] = [];
    let size = 0;
    pool.dispatch(opts, {
      // undici takes a handler for its controller API by the presence of this method.
      onRequestStart() {},
      onResponseStart(_controller, statusCode, responseHeaders) {
        status = statusCode;
        headers = responseHeaders;
      },
      onResponseData(controller, chunk) {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) {
          controller.abort(new SiteProtocolError(site, `response larger than ${MAX_RESPONSE_BYTES} bytes`));
          return;
        }
        chunks.push(chunk);
      },
      onResponseEnd() {
        resolve({ status, headers, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) });
      },
      onResponseError(_controller, err) {
        reject(err);
      },
    });
  });
}

export function parseJsonBody<T>(site: string, res: SiteResponse): T | undefined {
  if (res.body.length === 0) return undefined;
  try {
    return JSON.parse(res.body.toString('utf8')) as T;
  } catch {
    if (res.status >= 200 && res.status < 300) throw new SiteProtocolError(site, 'body is not JSON');
    return undefined;
  }
}
