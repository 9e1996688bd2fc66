/**
 * `ironic-proxy [--config-file FILE] [--workers N|auto]`
 *
 * With a config file: the production proxy, one process or N workers sharing
 * the port (by default one per core). Without: the embedded demo (simulated
 * sites, one process), for a first look.
 */
import cluster from 'node:cluster';
import v8 from 'node:v8';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFile, parseWorkers } from './config/load.js';
import type { ProxyConfig } from './config/types.js';
import { createLogger } from './log.js';
import { withServerFlags } from './runtime-flags.js';
import { serveClusterMetrics } from './metrics.js';
import { serveClusterReservations } from './coordination/cluster-reservations.js';
import { startProxy, StartupError, type RunningProxy } from './start.js';
import { randomBytes } from 'node:crypto';
import { WORKER_KEY_ENV } from './federation/cursor.js';
import { VERSION } from './version.js';

const USAGE = `usage: ironic-proxy [--config-file FILE] [--workers N|auto]

  --config-file FILE  oslo.config-style INI file (see etc/ironic-proxy.conf.sample)
  --workers N|auto    worker processes sharing the port (default: [api]api_workers,
                      else auto: one per core)
  --version           the proxy's version
  --help              this text

Without --config-file, starts a demo over simulated Ironic sites.`;

export async function main(argv: string[]): Promise<void> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        'config-file': { type: 'string' },
        workers: { type: 'string' },
        help: { type: 'boolean' },
        version: { type: 'boolean' },
      },
      strict: true,
    }).values;
  } catch (err) {
    fail(`${(err as Error).message}\n${USAGE}`, 2);
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (args.version) {
    process.stdout.write(`ironic-proxy ${VERSION}\n`);
    return;
  }
  const configFile = args['config-file'];
  if (!configFile) {
    const { runDemo } = await import('./demo.js');
    await runDemo();
    return;
  }
  let config: ProxyConfig;
  try {
    config = loadConfigFile(configFile);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message, 2);
    throw err;
  }
  if (args.workers !== undefined) {
    const n = parseWorkers(args.workers);
    if (n === undefined) fail(`--workers: "${args.workers}" is not a positive integer or auto`, 2);
    config.api.workers = n;
  }
  if (config.api.workers > 1 && cluster.isPrimary) return supervise(config, configFile);
  await serve(config);
}

/**
 * V8 lets the heap grow up to about four times what survived the last full
 * collection before collecting again. A proxy's live set is mostly its
 * location cache (about 25 MB at the default 100,000 entries) while listings
 * make garbage fast, so the default growth turned that into ~280 MB of RSS
 * when paging a million nodes; at 1.5 × the peak is ~170 MB, with no
 * measurable cost in throughput (README, Performance). An operator's own
 * --heap-growing-percent (NODE_OPTIONS or node flags) wins.
 */
const HEAP_GROWING_PERCENT = 50;

function boundHeapGrowth(): void {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((a) => /^--heap[-_]growing[-_]percent/.test(a));
  if (!given) v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

/** One serving process: starts, then stops gracefully on SIGTERM/SIGINT (in-flight requests finish). */
async function serve(config: ProxyConfig): Promise<void> {
  boundHeapGrowth();
  const log = createLogger({ debug: config.debug });
  let proxy: RunningProxy;
  try {
    proxy = await startProxy(config, { log });
  } catch (err) {
    if (err instanceof StartupError) fail(err.message, 1);
    throw err;
  }
  log.info({ url: proxy.url, sites: config.sites.map((s) => s.name) }, 'ironic-proxy listening');
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    proxy.close().then(
      () => exitFlushed(log, 0),
      () => exitFlushed(log, 1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // A worker leaves reloads to its primary (a SIGHUP to the whole process group must not kill it);
  // one process cannot swap its sites under live requests, a rolling restart of workers can.
  process.on('SIGHUP', () => {
    if (cluster.isPrimary) log.warn('configuration reload (SIGHUP) needs --workers 2 or more; restart the process to apply changes');
  });
}

/**
 * The primary of a multi-worker proxy: forks the workers, replaces any that
 * die, forwards stop signals, and reloads the configuration on SIGHUP by a
 * rolling restart: the file is checked first (a broken file changes
 * nothing), new workers read it and start, and only once all of them listen
 * are the old ones stopped gracefully. A new worker that fails to start
 * aborts the reload; the old workers go on serving.
 */
function supervise(config: ProxyConfig, configFile: string): void {
  const log = createLogger({ debug: config.debug });
  let stopping = false;
  const retiring = new Set<number>();
  let starting = new Set<number>();
  serveClusterMetrics();
  // Without a store, the workers' reservations of unique names are this process's (with one, it answers nobody).
  serveClusterReservations();
  // The workers run with the serving processes' Node.js options (src/runtime-flags.ts).
  cluster.setupPrimary({ execArgv: withServerFlags(process.execArgv) });
  // Without [proxy]cursor_secret, the workers still share one random key, so that any of them continues another's cursor.
  const fork = (): ReturnType<typeof cluster.fork> => cluster.fork({ [WORKER_KEY_ENV]: workerKey });
  const workerKey = randomBytes(32).toString('hex');
  for (let i = 0; i < config.api.workers; i++) fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) exitFlushed(log, 0);
      return;
    }
    if (retiring.delete(worker.id)) return;
    if (starting.has(worker.id)) {
      log.error({ pid: worker.process.pid, code }, 'reload aborted: a new worker did not start; the running workers keep serving');
      for (const id of starting) cluster.workers?.[id]?.process.kill('SIGTERM');
      for (const id of starting) retiring.add(id);
      retiring.delete(worker.id);
      starting = new Set();
      return;
    }
    log.warn({ pid: worker.process.pid, code, signal }, 'worker exited; starting a new one');
    // A worker that fails at start-up (bad config) would loop: give up on a clean non-zero exit.
    if (code === 1 || code === 2) process.exit(code);
    fork();
  });
  const reload = (): void => {
    if (stopping || starting.size > 0) return;
    try {
      loadConfigFile(configFile);
    } catch (err) {
      log.error({ problem: (err as Error).message }, 'reload refused: the configuration file is invalid; nothing changed');
      return;
    }
    const old = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
    const fresh = Array.from({ length: config.api.workers }, () => fork());
    starting = new Set(fresh.map((w) => w.id));
    for (const w of fresh) {
      w.once('listening', () => {
        starting.delete(w.id);
        if (starting.size > 0) return;
        for (const o of old) {
          retiring.add(o.id);
          o.process.kill('SIGTERM');
        }
        log.info({ workers: fresh.map((f) => f.process.pid) }, 'configuration reloaded');
      });
    }
  };
  const stop = (signal: NodeJS.Signals): void => {
    stopping = true;
    log.info({ signal }, 'stopping workers');
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', reload);
}

function fail(message: string, code: number): never {
  process.stderr.write(`ironic-proxy: ${message}\n`);
  process.exit(code);
}

/** Exits after the buffered log has reached its destination. */
function exitFlushed(log: ReturnType<typeof createLogger>, code: number): void {
  log.flush(() => process.exit(code));
}
