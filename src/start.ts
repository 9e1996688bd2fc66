/**
 * Starts one proxy server in this process: sites contacted, HTTP listening.
 * Used by the CLI (once per worker), the embedded demo, tests and benchmarks.
 */
import type { FastifyInstance } from 'fastify';
import type { ProxyConfig } from './config/types.js';
import { buildServer } from './http/server.js';
import { createLogger, type Logger } from './log.js';
import { ProxyServices } from './services.js';

export interface RunningProxy {
  app: FastifyInstance;
  services: ProxyServices;
  /** Where it listens, e.g. `http://127.0.0.1:6385`. */
  url: string;
  close(): Promise<void>;
}

export class StartupError extends Error {}

export async function startProxy(config: ProxyConfig, opts: { log?: Logger } = {}): Promise<RunningProxy> {
  const log = opts.log ?? createLogger({ debug: config.debug });
  for (const unknown of config.unknownOptions) log.warn({ option: unknown }, 'unknown configuration option ignored');
  let services: ProxyServices;
  try {
    services = new ProxyServices(config, log);
  } catch (err) {
    throw new StartupError((err as Error).message);
  }
  // The store is waited for briefly: a replica that starts without it serves, and connects when it can.
  await Promise.all([services.registry.refreshAll(), services.coordination?.start(3000)]);
  // Global objects (chassis, templates) that drifted while a site was away are reported, not repaired, here
  // (at start-up, then every [status]drift_check_interval).
  services.status.drift.start();
  const range = services.registry.commonRange();
  if (!range) log.warn('no site answered version discovery; the API answers 503 until one does');
  services.registry.startPeriodicRefresh(config.proxy.versionRefreshSeconds);

  const app = buildServer(services);
  const address = await app.listen({ host: config.api.hostIp, port: config.api.port });
  return {
    app,
    services,
    url: address,
    close: async () => {
      await app.close();
      await services.close();
    },
  };
}
