/**
 * One memory budget for the whole process ([proxy]memory_budget): the bytes
 * the proxy holds on behalf of requests — client bodies from their first
 * byte until the answer is sent (so also while queued for a site), and
 * sites' answers from their first byte until the client's answer is sent.
 * When the budget is full, a new body or answer is refused at once (503,
 * Retry-After), and a body larger than the whole budget is a 413: the
 * process's memory stays bounded however many clients send large bodies or
 * sites send large answers at once.
 *
 * What it counts is bytes on the wire; a site's answer that a handler parses
 * costs a few times its size while parsed (listings are parsed page by page).
 */
import { ProxyError } from './errors.js';

export class MemoryBudget {
  private used = 0;
  /** The most that was ever in use (for the bench and tests). */
  peak = 0;

  constructor(readonly limit: number) {}

  get inUse(): number {
    return this.used;
  }

  /** Takes `bytes` when they fit; false (nothing taken) when the budget is full. */
  tryTake(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    if (this.used > this.peak) this.peak = this.used;
    return true;
  }

  give(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }
}

/** The budget is full right now: the client may retry in a moment. */
export class ProxyBusyError extends ProxyError {
  constructor(what: string) {
    super('PROXY_BUSY', `The proxy is holding as much data as its memory budget allows ([proxy]memory_budget); ${what} was refused. Retry later.`);
    this.headers['retry-after'] = '1';
  }
}

/** A body the budget could never hold, however long the client waits. */
export function tooLargeForBudget(): ProxyError {
  return new ProxyError('BODY_OVER_BUDGET', 'Request body is too large');
}
