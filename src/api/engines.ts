/**
 * Every engine the API table may name, from the resource modules and the
 * version documents, in one registry: the router refuses to start when an
 * entry names an engine that is not here.
 */
import { RESOURCE_MODULES } from '../resources/index.js';
import { rootEngines, type AdvertisedResource } from '../resources/root.js';
import type { ProxyServices } from '../services.js';
import { badRequest } from '../errors.js';
import type { Engine } from './engine.js';
import type { ApiEntry } from './types.js';

/**
 * The top-level collections of the table, for `GET /v1`: every `/v1/<key>`
 * path (events is POST only), from the smallest microversion of its entries.
 */
export function advertisedResources(table: readonly ApiEntry[]): AdvertisedResource[] {
  const out: AdvertisedResource[] = [];
  for (const e of table) {
    const key = /^\/v1\/([a-z_]+)$/.exec(e.path)?.[1];
    // Agent endpoints belong to each site: not advertised.
    if (!key || e.engine.startsWith('agent.')) continue;
    const since = e.since ?? 1;
    const known = out.find((r) => r.key === key);
    if (!known) out.push({ key, sinceMinor: since });
    else known.sinceMinor = Math.min(known.sinceMinor, since);
  }
  return out;
}

export function buildEngines(services: ProxyServices, table: readonly ApiEntry[]): Record<string, Engine> {
  const advertised = advertisedResources(table);
  const engines: Record<string, Engine> = {
    ...rootEngines(services.registry, () => advertised),
    'proxy.missing-argument': ({ entry }) => {
      throw badRequest(`Missing mandatory parameter: ${entry.missingArgument ?? 'ident'}`);
    },
  };
  for (const module of RESOURCE_MODULES) {
    for (const [key, engine] of Object.entries(module.engines(services))) {
      if (engines[key]) throw new Error(`Engine ${key} is defined twice (again by ${module.name})`);
      engines[key] = engine;
    }
  }
  return engines;
}
