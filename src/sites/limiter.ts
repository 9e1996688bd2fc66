/**
 * Bounds what the proxy asks of one site at a time: at most `maxInFlight`
 * requests under way, at most `maxQueued` waiting behind them. Past that the
 * request is refused at once (503), so one slow site cannot make the proxy
 * hoard memory and sockets for it.
 */

export class ConcurrencyLimiter {
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly maxInFlight: number,
    private readonly maxQueued: number,
  ) {}

  get active(): number {
    return this.inFlight;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** A release function when a slot is free now, else undefined (then acquire() queues). */
  tryAcquire(): (() => void) | undefined {
    if (this.inFlight >= this.maxInFlight) return undefined;
    this.inFlight++;
    return this.releaser();
  }

  /** Resolves to a release function, or undefined when the queue is full. */
  async acquire(): Promise<(() => void) | undefined> {
    const now = this.tryAcquire();
    if (now) return now;
    if (this.waiting.length >= this.maxQueued) return undefined;
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    return this.releaser();
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter; otherwise it is freed.
      if (next) next();
      else this.inFlight--;
    };
  }
}
