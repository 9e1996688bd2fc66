import { pino, destination, type DestinationStream, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

/** Headers and fields that carry secrets; pino replaces them before anything is written. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-auth-token"]',
  'req.headers["x-subject-token"]',
  'req.headers["x-storage-token"]',
  'headers.authorization',
  'headers["x-auth-token"]',
  'headers["x-subject-token"]',
  'headers["x-storage-token"]',
  '*.headers.authorization',
  '*.headers["x-auth-token"]',
  '*.headers["x-subject-token"]',
  '*.headers["x-storage-token"]',
  'password',
  'token',
  '*.password',
  '*.token',
  // A site's configuration (SiteConfig, its Keystone options) if ever logged whole.
  'keystone.password',
  'keystone.token',
  '*.keystone.password',
  '*.keystone.token',
];

/** Log lines wait in memory at most this long (a quiet proxy still writes its lines promptly). */
const FLUSH_INTERVAL_MS = 1000;

/**
 * Standard output, written in batches: a line per request must not cost a
 * write system call per request; 8 KiB holds about 35 access lines
 * (sonic-boom's limit is below 16 KiB), and the timer in createLogger bounds
 * how long a line waits. Lines are handed over as bytes (sonic-boom's buffer
 * mode): in its text mode every line is appended to one growing string whose
 * byte length is measured again at each line, which flattens and copies the
 * whole pending batch once per request (the largest allocation of the hot
 * path, profiled). pino's exit hook still flushes the destination itself.
 */
function batchedStdout(): DestinationStream {
  const sonic = destination({ sync: false, minLength: 8 * 1024, contentMode: 'buffer' });
  return {
    write: (line: string) => sonic.write(Buffer.from(line) as unknown as string),
    flush: (cb?: (err?: Error) => void) => sonic.flush(cb),
    flushSync: () => sonic.flushSync(),
  } as DestinationStream;
}

/** `to`: where lines go instead of standard output (tests read them). */
export function createLogger(opts: { debug?: boolean; level?: string; to?: DestinationStream } = {}): Logger {
  const log = pino(
    {
      level: opts.level ?? (opts.debug ? 'debug' : 'info'),
      redact: { paths: REDACT_PATHS, censor: '***' },
      base: { pid: process.pid },
    },
    opts.to ?? batchedStdout(),
  );
  setInterval(() => log.flush(), FLUSH_INTERVAL_MS).unref();
  return log;
}
