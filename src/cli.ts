/**
 * `ironic-proxy [--config-file FILE] [--workers N]`
 *
 * With a config file: the production proxy, one process or N workers sharing
 * the port. Without: the embedded demo (simulated sites), for a first look.
 */
import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFile } from './config/load.js';
import type { ProxyConfig } from './config/types.js';
import { createLogger } from './log.js';
import { serveClusterMetrics } from './metrics.js';
import { startProxy, StartupError, type RunningProxy } from './start.js';

const USAGE = `usage: ironic-proxy [--config-file FILE] [--workers N]

  --config-file FILE  oslo.config-style INI file (see etc/ironic-proxy.conf.sample)
  --workers N         worker processes sharing the port (default: [api]api_workers, 1)
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
    const n = Number(args.workers);
    if (!Number.isInteger(n) || n < 1) fail(`--workers: "${args.workers}" is not a positive integer`, 2);
    config.api.workers = n;
  }
  if (config.api.workers > 1 && cluster.isPrimary) return supervise(config);
  await serve(config);
}

/** One serving process: starts, then stops gracefully on SIGTERM/SIGINT (in-flight requests finish). */
async function serve(config: ProxyConfig): Promise<void> {
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
}

/** The primary of a multi-worker proxy: forks the workers, replaces any that die, forwards stop signals. */
function supervise(config: ProxyConfig): void {
  const log = createLogger({ debug: config.debug });
  let stopping = false;
  serveClusterMetrics();
  for (let i = 0; i < config.api.workers; i++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    log.warn({ pid: worker.process.pid, code, signal }, 'worker exited; starting a new one');
    // A worker that fails at start-up (bad config) would loop: give up on a clean non-zero exit.
    if (code === 1 || code === 2) process.exit(code);
    cluster.fork();
  });
  const stop = (signal: NodeJS.Signals): void => {
    stopping = true;
    log.info({ signal }, 'stopping workers');
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

function fail(message: string, code: number): never {
  process.stderr.write(`ironic-proxy: ${message}\n`);
  process.exit(code);
}

/** Exits after the buffered log has reached its destination. */
function exitFlushed(log: ReturnType<typeof createLogger>, code: number): void {
  log.flush(() => process.exit(code));
}
