/**
 * `GET /v1/shards` over all sites (federation rule:
 * docs/federation/drivers-conductors-shards.md): a shard is a free-form name
 * on nodes, so the same name at two sites is one shard; the counts are summed
 * per name (nodes without a shard are Ironic's "None" bucket, summed too) and
 * sorted by count, descending — ties keep the order in which the sites
 * (configuration order) listed them, as Ironic's stable sort keeps its own.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendJson } from '../http/relay.js';
import type { ProxyServices } from '../services.js';
import { gatherFromSites } from './drivers.js';
import { markMissingSites } from '../http/missing-sites.js';
import type { ResourceModule } from './plugin.js';


export const shardsModule: ResourceModule = {
  name: 'shards',
  engines: (services) => ({ 'shard.list': (c) => listShards(services, c.req, c.reply) }),
};

export interface Shard {
  name: string;
  count: number;
}

/** Sums counts per name and sorts by count descending; ties keep their first-seen order. */
export function sumShards(lists: ReadonlyArray<readonly unknown[]>): Shard[] {
  const totals = new Map<string, number>();
  for (const list of lists) {
    for (const s of list) {
      if (!s || typeof s !== 'object') continue;
      const { name, count } = s as { name?: unknown; count?: unknown };
      if (typeof count !== 'number') continue;
      const key = String(name);
      totals.set(key, (totals.get(key) ?? 0) + count);
    }
  }
  // Array.prototype.sort is stable: equal counts stay in first-seen order.
  return [...totals].map(([name, count]) => ({ name, count })).sort((a, b) => b.count - a.count);
}

async function listShards(services: ProxyServices, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const g = await gatherFromSites(services, req, req.url);
  const shards = sumShards(g.answers.map(({ doc }) => (Array.isArray(doc.shards) ? doc.shards : [])));
  markMissingSites(services, reply, g.missing);
  return sendJson(reply, 200, { shards });
}
