import { pino, destination, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

/** Headers and fields that carry secrets; pino replaces them before anything is written. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-auth-token"]',
  'req.headers["x-subject-token"]',
  'headers.authorization',
  'headers["x-auth-token"]',
  'headers["x-subject-token"]',
  '*.headers.authorization',
  '*.headers["x-auth-token"]',
  '*.headers["x-subject-token"]',
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

export function createLogger(opts: { debug?: boolean; level?: string } = {}): Logger {
  return pino(
    {
      level: opts.level ?? (opts.debug ? 'debug' : 'info'),
      redact: { paths: REDACT_PATHS, censor: '***' },
      base: { pid: process.pid },
    },
    // Buffered writes: a log line per request must not cost a synchronous write on the hot path.
    destination({ sync: false, minLength: 4096 }),
  );
}
