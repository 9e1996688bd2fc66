/**
 * What one client request holds and may cancel: the memory budget charged
 * with its body and the sites' answers it waits on (given back when its
 * answer has been sent or the client has gone), and the site requests under
 * way for it, aborted when the client leaves — for reads only: a write the
 * client stops waiting for runs to its end at the sites, as it would at one
 * Ironic, rather than stop half-way across sites.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyRequest } from 'fastify';
import type { MemoryBudget } from '../memory-budget.js';
import { ClientGoneError, type SiteCallScope } from '../sites/site-client.js';

export class RequestScope implements SiteCallScope {
  cancelled = false;
  private held = 0;
  private ended = false;
  private watching = false;
  private aborts: Array<(reason: Error) => void> | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly budget: MemoryBudget,
    private readonly cancellable: boolean,
  ) {}

  /** Bytes this request holds against the budget now. */
  get holding(): number {
    return this.held;
  }

  charge(bytes: number): boolean {
    // Work that goes on after the answer (cleanup) holds nothing: its scope is over.
    if (this.ended) return true;
    this.watch();
    if (!this.budget.tryTake(bytes)) return false;
    this.held += bytes;
    return true;
  }

  /** Gives back bytes held (a page read and dropped). */
  release(bytes: number): void {
    const n = Math.min(bytes, this.held);
    this.held -= n;
    this.budget.give(n);
  }

  onCancel(abort: (reason: Error) => void): () => void {
    if (!this.cancellable || this.ended) return noop;
    this.watch();
    (this.aborts ??= []).push(abort);
    return () => {
      const list = this.aborts;
      if (!list) return;
      const i = list.indexOf(abort);
      if (i >= 0) list.splice(i, 1);
    };
  }

  private watch(): void {
    if (this.watching) return;
    this.watching = true;
    this.res.once('close', () => this.end());
  }

  private end(): void {
    this.ended = true;
    if (this.held > 0) this.budget.give(this.held);
    this.held = 0;
    if (this.res.writableFinished || !this.cancellable) return;
    this.cancelled = true;
    const aborts = this.aborts;
    this.aborts = undefined;
    if (aborts) {
      const reason = new ClientGoneError();
      for (const abort of aborts) abort(reason);
    }
  }
}

const noop = (): void => {};

/** The scope of a request (made by the server's onRequest hook). */
export function scopeOf(req: FastifyRequest): RequestScope {
  return req.ironic.scope;
}
