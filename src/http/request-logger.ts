/**
 * Request logging that costs little on the hot path. Two parts:
 *
 * - the access line (one per request) is written straight to the logger's
 *   destination from a template, in the very form pino gives it (level,
 *   time, pid, the fields, msg): it carries only values the proxy itself sets
 *   (method, path without the query, status, timings, request ids), none of
 *   which can hold a secret, so neither redaction nor pino's generic
 *   serialisation (about half the cost of a line, profiled) is needed;
 * - `request.log`, which Fastify would create as a pino child for every
 *   request, is made only when a handler first logs through it.
 */
import type { FastifyBaseLogger } from 'fastify';
import { symbols, type Bindings, type ChildLoggerOptions, type DestinationStream } from 'pino';
import type { Logger } from '../log.js';

export interface AccessLine {
  requestId: string;
  method: string;
  /** Without its query (which may carry anything). */
  path: string;
  status: number;
  ms: number;
  globalRequestId: string | undefined;
}

/** The writer of access lines for `log`: written when `log` logs at info, to `log`'s destination. */
export function accessLogger(log: Logger): (line: AccessLine) => void {
  const stream = (log as unknown as Record<symbol, DestinationStream>)[symbols.streamSym]!;
  const bindings = `,"pid":${process.pid}`;
  const INFO = 30;
  return (l) => {
    if (log.levelVal > INFO) return;
    // JSON.stringify quotes what a client chose (the path, the method); the ids are the proxy's own checked forms.
    const global = l.globalRequestId === undefined ? '' : `,"global_request_id":${JSON.stringify(l.globalRequestId)}`;
    stream.write(
      `{"level":${INFO},"time":${Date.now()}${bindings},"request_id":${JSON.stringify(l.requestId)},"method":${JSON.stringify(l.method)},` +
        `"path":${JSON.stringify(l.path)},"status":${l.status},"ms":${l.ms}${global},"msg":"request"}\n`,
    );
  };
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
