/**
 * A proxy in front of simulated sites, in this process: for fault tests,
 * contract runs through the proxy and benchmarks.
 */
import { loadConfigText } from '../../src/config/load.js';
import { createLogger, type Logger } from '../../src/log.js';
import { startSimSite, type SimSite, type SimSiteOptions } from '../../src/sim/index.js';
import { startProxy, type RunningProxy } from '../../src/start.js';

export interface FleetSite extends SimSiteOptions {
  /** Extra lines for this site's [group:NAME] section (e.g. `timeout = 0.5`). */
  sectionExtra?: string;
}

export interface Fleet {
  proxy: RunningProxy;
  sims: SimSite[];
  /** The proxy's base URL. */
  url: string;
  site(name: string): SimSite;
  close(): Promise<void>;
}

/** The proxy's configuration for these running sims (for a proxy started elsewhere, e.g. in a child process). */
export function fleetIni(sites: FleetSite[], sims: SimSite[], opts: { proxyIni?: string; apiIni?: string; statusIni?: string } = {}): string {
  const groups = sites
    .flatMap((s) => (s.conductorGroups ?? ['']).map((g) => `${g === '' ? '_' : g}:${s.name}`))
    .join(',');
  const sections = sims
    .map((sim, i) => `[group:${sim.name}]\nauth_type = none\nendpoint_override = ${sim.url}\n${sites[i]!.sectionExtra ?? ''}\n`)
    .join('\n');
  return `[DEFAULT]\ngroups = ${groups}\n\n[api]\nport = 0\n${opts.apiIni ?? ''}\n\n[proxy]\n${opts.proxyIni ?? ''}\n\n[status]\n${opts.statusIni ?? ''}\n\n${sections}`;
}

export async function startFleet(sites: FleetSite[], opts: { proxyIni?: string; apiIni?: string; statusIni?: string; log?: Logger } = {}): Promise<Fleet> {
  const sims = await Promise.all(sites.map((s) => startSimSite(s)));
  const ini = fleetIni(sites, sims, opts);
  const proxy = await startProxy(loadConfigText(ini), { log: opts.log ?? createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }) });
  return {
    proxy,
    sims,
    url: proxy.url,
    site: (name) => sims.find((s) => s.name === name)!,
    close: async () => {
      await proxy.close();
      await Promise.all(sims.map((s) => s.close()));
    },
  };
}

export const LATEST = { 'x-openstack-ironic-api-version': 'latest' };

export async function getJson(url: string, headers: Record<string, string> = LATEST): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}
