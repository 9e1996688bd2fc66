/**
 * A circuit breaker per site. After `threshold` consecutive transport
 * failures (refused, reset, timed out, not speaking the API) the site is
 * "open": requests fail at once instead of each waiting for a timeout. After
 * `openMs` one request is let through as a probe (half-open); its success
 * closes the circuit — a site that comes back is used again without a
 * restart — and its failure opens it for another period.
 *
 * HTTP errors (4xx, 5xx) are answers, not transport failures: they do not
 * count, so a site that says 500 is reported as such, not hidden.
 */

export type CircuitState = 'closed' | 'open' | 'half-open';

export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  private current: CircuitState = 'closed';

  constructor(
    private readonly threshold: number,
    private readonly openMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): CircuitState {
    return this.current;
  }

  /** Milliseconds until an open circuit lets a probe through. */
  retryInMs(): number {
    return Math.max(0, this.openedAt + this.openMs - this.now());
  }

  /**
   * May a request go out now? Returns false while open (and while a probe is
   * already under way in half-open).
   */
  allow(): boolean {
    if (this.current === 'closed') return true;
    if (this.current === 'open') {
      if (this.retryInMs() > 0) return false;
      this.current = 'half-open';
      this.probing = false;
    }
    if (this.probing) return false;
    this.probing = true;
    return true;
  }

  /** A request that was allowed but never sent: a probe slot it held is given back. */
  abandon(): void {
    this.probing = false;
  }

  success(): void {
    this.failures = 0;
    this.probing = false;
    this.current = 'closed';
  }

  failure(): void {
    this.probing = false;
    this.failures++;
    if (this.current === 'half-open' || this.failures >= this.threshold) {
      this.current = 'open';
      this.openedAt = this.now();
    }
  }
}
