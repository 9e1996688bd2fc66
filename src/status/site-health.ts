/**
 * What each site has been doing lately, as the proxy saw it: the latency and
 * outcome of its recent requests (a bounded ring per site, the last
 * WINDOW_MS), its last error and when, and from that a verdict — down, slow,
 * answering errors, up. Fed by the site clients' observers, so it costs a
 * few array writes per site request and nothing else; read by /status and
 * the ironic_proxy_site_up gauge.
 *
 * In a multi-worker proxy each worker keeps its own book: what it shows is
 * what the worker answering /status has seen (its own requests, its own
 * circuit breakers), which the page says.
 */
import { ProxyBusyError } from '../memory-budget.js';
import { ClientGoneError, type SiteClient } from '../sites/site-client.js';
import { failureKind } from '../metrics.js';

/** The window latency percentiles and error rates are computed over. */
export const WINDOW_MS = 5 * 60_000;
/** Samples kept per site (the oldest go first when a busy site fills the window). */
const CAPACITY = 4096;
/** The verdict "errors" reads at most this many of the latest answers. */
const RECENT = 20;
/**
 * The verdict "slow" reads the median of this many latest answers: few, so
 * that a burst (the proxy's own start-up, a moment of load) is forgotten
 * after a handful of probes, and a site that turned slow shows it as soon.
 */
const RECENT_SLOW = 5;

export type SiteVerdict = 'down' | 'slow' | 'errors' | 'up' | 'unknown';

export interface SiteHealthView {
  verdict: SiteVerdict;
  /** Why, in words (each a short sentence). */
  reasons: string[];
  window_seconds: number;
  requests: number;
  /** Share of requests in the window that failed (no answer, or a 5xx). */
  error_rate: number | null;
  latency_ms: { p50: number; p95: number; p99: number; max: number } | null;
  last_error: { at: string; message: string } | null;
  last_answer_at: string | null;
}

class Ring {
  readonly at = new Float64Array(CAPACITY);
  readonly ms = new Float64Array(CAPACITY);
  /** 0 answered, 1 answered 5xx, 2 failed (no answer), 3 refused unsent (circuit open, queue full): no latency. */
  readonly kind = new Uint8Array(CAPACITY);
  next = 0;
  size = 0;

  push(at: number, ms: number, kind: number): void {
    this.at[this.next] = at;
    this.ms[this.next] = ms;
    this.kind[this.next] = kind;
    this.next = (this.next + 1) % CAPACITY;
    if (this.size < CAPACITY) this.size++;
  }

  /** Indices from newest to oldest with at >= since. */
  *newest(since: number): Generator<number> {
    for (let k = 1; k <= this.size; k++) {
      const i = (this.next - k + CAPACITY) % CAPACITY;
      if (this.at[i]! < since) return;
      yield i;
    }
  }
}

interface Book {
  ring: Ring;
  lastError?: { at: number; message: string };
  lastAnswerAt?: number;
  /** The last request that got no answer at all (refused, reset, timed out). */
  lastUnreachableAt?: number;
}

export class SiteHealth {
  private readonly books = new Map<string, Book>();

  constructor(
    private readonly sites: readonly SiteClient[],
    private readonly slowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    for (const site of sites) {
      const book: Book = { ring: new Ring() };
      this.books.set(site.name, book);
      site.observers.push({
        answered: (status, ms) => {
          const t = this.now();
          book.ring.push(t, ms, status >= 500 ? 1 : 0);
          book.lastAnswerAt = t;
          if (status >= 500) book.lastError = { at: t, message: `answered HTTP ${status}` };
        },
        failed: (err, ms) => {
          // The client left, or the proxy's own memory was full: nothing the site did.
          if (err instanceof ClientGoneError || err instanceof ProxyBusyError) return;
          const t = this.now();
          const kind = failureKind(err);
          const unsent = kind === 'circuit_open' || kind === 'busy';
          book.ring.push(t, ms, unsent ? 3 : 2);
          if (kind === 'bad_response') book.lastAnswerAt = t;
          else if (kind !== 'busy') book.lastUnreachableAt = t;
          // "circuit open" repeats the failure that opened it: the first message says more.
          if (kind !== 'circuit_open' || !book.lastError) book.lastError = { at: t, message: err.message };
        },
      });
    }
  }

  /** True when the site's latest word is no answer at all (or its circuit is open). */
  isDown(site: SiteClient): boolean {
    const b = this.books.get(site.name)!;
    if (site.breaker.state === 'open') return true;
    return b.lastUnreachableAt !== undefined && (b.lastAnswerAt === undefined || b.lastUnreachableAt > b.lastAnswerAt);
  }

  view(site: SiteClient, versionsKnown: boolean): SiteHealthView {
    const b = this.books.get(site.name)!;
    const since = this.now() - WINDOW_MS;
    const latencies: number[] = [];
    let requests = 0;
    let errors = 0;
    const recent: number[] = [];
    let recent5xx = 0;
    for (const i of b.ring.newest(since)) {
      requests++;
      const kind = b.ring.kind[i]!;
      if (kind !== 0) errors++;
      if (kind <= 1) {
        latencies.push(b.ring.ms[i]!);
        if (recent.length < RECENT) {
          recent.push(b.ring.ms[i]!);
          if (kind === 1) recent5xx++;
        }
      }
    }
    latencies.sort((x, y) => x - y);
    const reasons: string[] = [];
    let verdict: SiteVerdict;
    const errorRate = requests > 0 ? errors / requests : null;
    if (this.isDown(site)) {
      verdict = 'down';
      reasons.push(site.breaker.state === 'open' ? 'circuit open: requests fail at once' : 'its last request got no answer');
    } else if (!versionsKnown && b.lastAnswerAt === undefined) {
      verdict = 'unknown';
      reasons.push('has not answered yet');
    } else {
      const latest = recent.slice(0, RECENT_SLOW).sort((x, y) => x - y);
      const median = latest.length > 0 ? percentile(latest, 0.5) : 0;
      if (median > this.slowMs) {
        verdict = 'slow';
        reasons.push(`recent answers take ${Math.round(median)} ms (median of ${latest.length}; slow above ${Math.round(this.slowMs)} ms)`);
      } else if (recent5xx * 10 >= recent.length && recent5xx > 0) {
        // Its latest answers, not the window: a site that was down and is back is up, though the window remembers.
        verdict = 'errors';
        reasons.push(`${recent5xx} of its last ${recent.length} answers are server errors (5xx)`);
      } else {
        verdict = 'up';
      }
    }
    if (!versionsKnown) reasons.push('version range unknown (no version document yet)');
    return {
      verdict,
      reasons,
      window_seconds: WINDOW_MS / 1000,
      requests,
      error_rate: errorRate,
      latency_ms:
        latencies.length > 0
          ? { p50: round(percentile(latencies, 0.5)), p95: round(percentile(latencies, 0.95)), p99: round(percentile(latencies, 0.99)), max: round(latencies[latencies.length - 1]!) }
          : null,
      last_error: b.lastError ? { at: new Date(b.lastError.at).toISOString(), message: b.lastError.message } : null,
      last_answer_at: b.lastAnswerAt !== undefined ? new Date(b.lastAnswerAt).toISOString() : null,
    };
  }
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

const round = (ms: number): number => Math.round(ms * 10) / 10;
