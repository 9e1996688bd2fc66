/**
 * One site's HTTP client: a keep-alive connection pool, the site's own
 * credentials, an explicit microversion on every request, and deadlines that
 * turn into typed errors: the site's timeout is both the longest silence
 * (idle) and the longest a whole answer may take (total), so a site that
 * drips a byte at a time cannot hold a request open. A request is cancelled
 * when its client leaves (reads only), its answer is charged to the
 * process's memory budget, and what is not an HTTP answer (a status outside
 * 100–599, an unsolicited 100 Continue) is the site's 502, which does not
 * open its circuit: the site is up, it answered badly. Everything above this
 * layer speaks in sites, not sockets.
 */
import { Pool, type Dispatcher } from 'undici';
import { isTimeout, unreachableReason } from './transport-errors.js';
import type { SiteConfig } from '../config/types.js';
import { ProxyError, SiteProtocolError, SiteTimeoutError, SiteUnavailableError } from '../errors.js';
import { ProxyBusyError, type MemoryBudget } from '../memory-budget.js';
import { formatVersion, type Version } from '../ironic/microversion.js';
import { readJson, scanJson, stripBom } from '../ironic/json.js';
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
  /** The process's memory budget, charged with answers as they arrive (none: unbounded). */
  budget?: MemoryBudget;
}

/**
 * The client request a site request serves: it may be cancelled (the
 * client left), and it may hold the site's answer against the memory budget
 * until the client's answer is sent.
 */
export interface SiteCallScope {
  /** True once the client has left: no further request starts. */
  readonly cancelled: boolean;
  /** Calls `abort` if the client leaves while the request is under way; the returned function unregisters it. */
  onCancel(abort: (reason: Error) => void): () => void;
  /**
   * Holds `bytes` of an answer until the client's answer is sent; false when
   * the budget is full. Absent: the answer is charged only while it arrives
   * (a scan that drops each page once read).
   */
  charge?(bytes: number): boolean;
}

/** The client went away: nobody is waiting for this answer any more. */
export class ClientGoneError extends ProxyError {
  constructor() {
    super('CLIENT_GONE', 'The client closed the connection');
  }
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
  /** The client request this serves (cancellation, memory). */
  scope?: SiteCallScope;
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
  private readonly budget: MemoryBudget | undefined;
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
    this.budget = limits.budget;
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
    if (req.scope?.cancelled) throw new ClientGoneError();
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
      // Only a site that cannot be reached or does not answer in time opens the circuit; a bad answer is an answer.
      if (err instanceof SiteProtocolError) this.breaker.success();
      else if (err instanceof ProxyBusyError || err instanceof ClientGoneError) this.breaker.abandon();
      else this.breaker.failure();
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
      return await collect(
        target.pool,
        {
          method: req.method,
          path: target.pathPrefix + req.path,
          headers,
          body: req.body,
          // undici's own idle deadlines (no answer / a stalled body); the total deadline is collect's.
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        },
        { site: this.name, timeoutMs, scope: req.scope, budget: this.budget },
      );
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
    if (err instanceof ProxyError) return err;
    // undici drops the connection on an answer that is not HTTP it can take (an unsolicited 100 Continue, bytes with no request).
    if ((err as { code?: string }).code === 'UND_ERR_SOCKET' && (err as Error).message === 'bad response') {
      return new SiteProtocolError(this.name, 'not a valid HTTP answer (an unsolicited 100 Continue?)');
    }
    if (isTimeout(err)) return new SiteTimeoutError(this.name, timeoutMs / 1000);
    return new SiteUnavailableError(this.name, unreachableReason(err));
  }
}

interface CollectOptions {
  site: string;
  /** The whole answer must have arrived by then (milliseconds after dispatch). */
  timeoutMs: number;
  scope: SiteCallScope | undefined;
  budget: MemoryBudget | undefined;
}

/**
 * One request on the pool, its whole answer collected in memory (answers are
 * small JSON documents, bounded by MAX_RESPONSE_BYTES and the memory
 * budget). A dispatch handler rather than undici's request(): no stream and
 * no async iteration per answer, which shows on the proxy's hot path.
 *
 * Deadlines: undici's idle timers, plus one timer for the whole answer. The
 * answer's bytes are charged to the client request's scope (held until its
 * answer is sent) or, without one, to the budget while they arrive.
 */
function collect(pool: Pool, opts: Dispatcher.DispatchOptions, o: CollectOptions): Promise<SiteResponse> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let headers: SiteResponse['headers'] = {};
    const chunks: Buffer[] = [];
    let size = 0;
    /** Bytes charged to the budget directly (no holding scope): given back when the answer is complete. */
    let transient = 0;
    let controller: { abort(reason: Error): void } | undefined;
    let pendingAbort: Error | undefined;
    let settled = false;
    const abort = (reason: Error): void => {
      if (settled) return;
      if (controller) controller.abort(reason);
      else pendingAbort ??= reason;
    };
    const timer = setTimeout(() => abort(new SiteTimeoutError(o.site, o.timeoutMs / 1000)), o.timeoutMs);
    const unwatch = o.scope?.onCancel(abort);
    const finish = (): void => {
      settled = true;
      clearTimeout(timer);
      unwatch?.();
      if (transient > 0) o.budget!.give(transient);
    };
    const charge = o.scope?.charge;
    pool.dispatch(opts, {
      onRequestStart(c) {
        controller = c;
        if (pendingAbort) c.abort(pendingAbort);
      },
      onResponseStart(c, statusCode, responseHeaders) {
        if (statusCode < 100 || statusCode > 599) {
          c.abort(new SiteProtocolError(o.site, `status ${statusCode} is outside 100–599`));
          return;
        }
        // Informational answers (102, 103) precede the real one.
        if (statusCode < 200) return;
        status = statusCode;
        headers = responseHeaders;
      },
      onResponseData(c, chunk) {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) {
          c.abort(new SiteProtocolError(o.site, `response larger than ${MAX_RESPONSE_BYTES} bytes`));
          return;
        }
        if (charge ? !charge.call(o.scope, chunk.length) : o.budget && !(o.budget.tryTake(chunk.length) && (transient += chunk.length))) {
          // An answer that alone takes half the budget is the site flooding; a budget full of many requests is the proxy's.
          c.abort(
            o.budget && size * 2 > o.budget.limit
              ? new SiteProtocolError(o.site, `response larger than half the memory budget ([proxy]memory_budget)`)
              : new ProxyBusyError(`an answer of site ${o.site}`),
          );
          return;
        }
        chunks.push(chunk);
      },
      onResponseEnd() {
        finish();
        resolve({ status, headers, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) });
      },
      onResponseError(_c, err) {
        finish();
        reject(err);
      },
    });
  });
}

/**
 * A site's JSON answer, read as Ironic reads JSON (src/ironic/json.ts). A
 * success the proxy cannot read (not JSON, or holding a value such as NaN
 * that it cannot carry) is the site's failure for that object (502); an
 * unreadable error body is no body.
 */
/**
 * The top-level `uuid` and `name` of a site's JSON answer (each absent when
 * the document has no such key, null when it holds something else than a
 * string), read by a validating scan without building the document: what a
 * location cache learns from a write's answer. Refused as parseJsonBody
 * refuses: a success that is not JSON is the site's protocol error.
 */
export function readIdentity(site: string, res: SiteResponse): { uuid?: string | null; name?: string | null } | undefined {
  if (res.body.length === 0) return undefined;
  const scan = scanJson(stripBom(res.body), { ids: true });
  const success = res.status >= 200 && res.status < 300;
  if (!scan.valid || scan.unrepresentable !== undefined) {
    if (!success) return undefined;
    throw new SiteProtocolError(site, scan.valid ? `body cannot be read faithfully: ${scan.unrepresentable}` : `body is not JSON (${scan.reason})`);
  }
  if (scan.top !== 'object') return undefined;
  const ids: { uuid?: string | null; name?: string | null } = {};
  if (scan.uuid !== undefined) ids.uuid = scan.uuid;
  if (scan.name !== undefined) ids.name = scan.name;
  return ids;
}

export function parseJsonBody<T>(site: string, res: SiteResponse): T | undefined {
  if (res.body.length === 0) return undefined;
  const read = readJson(res.body);
  if (read.ok) return read.value as T;
  if (res.status >= 200 && res.status < 300) {
    throw new SiteProtocolError(site, read.kind === 'syntax' ? `body is not JSON (${read.reason})` : `body cannot be read faithfully: ${read.reason}`);
  }
  return undefined;
}
