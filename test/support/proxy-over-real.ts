/**
 * A proxy in this process in front of real Ironic sites (noauth), the way
 * the integration suites start it: one `[group:NAME]` section per site,
 * `groups` as given, and any extra [api]/[proxy] options.
 */
import { loadConfigText } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { startProxy, type RunningProxy } from '../../src/start.js';
import type { RealSites } from './real-ironic.js';

export function startProxyOver(
  sites: RealSites,
  opts: {
    groups: string;
    api?: Record<string, string | number>;
    proxy?: Record<string, string | number>;
    /** A site's endpoint when it is not its own URL (a counting front before it). */
    endpoints?: Record<string, string>;
  },
): Promise<RunningProxy> {
  const lines = (o: Record<string, string | number> = {}): string => Object.entries(o).map(([k, v]) => `${k} = ${v}`).join('\n');
  const sections = sites.sites.map((s) => `[group:${s.name}]\nauth_type = none\nendpoint_override = ${opts.endpoints?.[s.name] ?? s.url}`).join('\n');
  const ini = `[DEFAULT]\ngroups = ${opts.groups}\n[api]\nhost_ip = 127.0.0.1\nport = 0\n${lines(opts.api)}\n[proxy]\n${lines(opts.proxy)}\n${sections}\n`;
  return startProxy(loadConfigText(ini), { log: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }) });
}
