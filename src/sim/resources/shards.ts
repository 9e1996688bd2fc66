/** Shards (ironic/api/controllers/v1/shard.py, 1.82): node counts per shard, largest first. */

import { RoutingError } from '../errors.js';
import { ok, type Ctx, type Reply } from '../kit.js';
import type { World } from '../world.js';

export function routeShards(w: World, ctx: Ctx, rest: string[]): Reply {
  if (ctx.minor < 82) throw new RoutingError(ctx.method === 'GET' ? 404 : 405, 'The API version does not allow shards');
  if (ctx.method !== 'GET') throw new RoutingError(405);
  if (rest.length) throw new RoutingError(404);
  const counts = new Map<string, number>();
  for (const n of w.store.all()) {
    const k = (n.shard as string | null) ?? 'None';
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return ok({ shards: [...counts.entries()].map(([name, count]) => ({ name, count })).sort((a, b) => b.count - a.count) });
}
