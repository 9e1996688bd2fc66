/**
 * Request logging that costs little on the hot path. Two parts:
 *
 * - the access line (one per request) goes through a logger without
 *   redaction: it carries only fields the proxy itself sets (method, path
 *   without the query, status, timings, request ids), none of which can hold
 *   a secret, and redaction is most of pino's cost per line;
 * - `request.log`, which Fastify would create as a pino child for every
 *   request, is made only when a handler first logs through it.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';
import type { Logger } from '../log.js';

export function accessLogger(log: Logger): Logger {
  return log.child({}, { redact: [] });
}

type LogMethod = 'info' | 'error' | 'debug' | 'fatal' | 'warn' | 'trace' | 'silent';

/** Fastify's childLoggerFactory: a stand-in that creates the real child on first use. */
export function lazyChildLogger(logger: FastifyBaseLogger, bindings: Bindings, opts: ChildLoggerOptions): FastifyBaseLogger {
  return new LazyChildLogger(logger, bindings, opts) as unknown as FastifyBaseLogger;
}

class LazyChildLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly opts: ChildLoggerOptions,
  ) {}

  private get real(): FastifyBaseLogger {
    this.made ??= this.parent.child(this.bindings, this.opts);
    return this.made;
  }

  get level(): string {
    return (this.made ?? this.parent).level;
  }

  set level(level: string) {
    this.real.level = level;
  }

  info(...args: unknown[]): void {
    this.call('info', args);
  }
  error(...args: unknown[]): void {
    this.call('error', args);
  }
  debug(...args: unknown[]): void {
    this.call('debug', args);
  }
  fatal(...args: unknown[]): void {
    this.call('fatal', args);
  }
  warn(...args: unknown[]): void {
    this.call('warn', args);
  }
  trace(...args: unknown[]): void {
    this.call('trace', args);
  }
  silent(): void {}

  child(bindings: Bindings, opts?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real.child(bindings, opts);
  }

  private call(method: LogMethod, args: unknown[]): void {
    // A level the parent does not log costs no child at all.
    if (method === 'silent' || !(this.parent as unknown as Logger).isLevelEnabled(method)) return;
    (this.real[method] as (...a: unknown[]) => void)(...args);
  }
}
