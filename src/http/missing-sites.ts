/**
 * A partial answer says so: the sites it lacks are named in a response
 * header (and counted), and a merged page's cost (fetched vs returned) is
 * counted — one place for every resource that answers from several sites.
 */
import type { FastifyReply } from 'fastify';
import type { ProxyServices } from '../services.js';

export const MISSING_SITES_HEADER = 'x-ironic-proxy-missing-sites';

export function markMissingSites(services: ProxyServices, reply: FastifyReply, missing: readonly string[]): void {
  if (missing.length === 0) return;
  for (const site of missing) services.metrics.listingMissingSites.inc({ site });
  const route = reply.request.routeOptions.url ?? 'unmatched';
  services.metrics.partialAnswers.inc({ route });
  services.status.recordPartial(route, missing);
  reply.header(MISSING_SITES_HEADER, missing.join(','));
}

/** A merged page: its cost and its gaps, counted and named. */
export function accountMergedPage(
  services: ProxyServices,
  reply: FastifyReply,
  page: { fetched: number; items: { length: number }; missingSites: readonly string[]; unreadable?: ReadonlyArray<{ site: string; id: string }> },
): void {
  if (page.unreadable && page.unreadable.length > 0) {
    // Objects a site holds that the proxy cannot pass on faithfully (NaN in their data, …): the operator's to repair.
    services.log.warn({ objects: page.unreadable }, 'objects left out of a listing: the proxy cannot read them faithfully');
  }
  services.metrics.listingItems.inc({ kind: 'fetched' }, page.fetched);
  services.metrics.listingItems.inc({ kind: 'returned' }, page.items.length);
  markMissingSites(services, reply, page.missingSites);
}
