/**
 * Sends a request about one object to the site that holds it. A cached site
 * that answers 404 may be stale (object deleted, or re-enrolled at another
 * site): then every site is asked once, and the request is repeated at the
 * site that has the object — only if that is another site, because a 404
 * from the right site is a real answer (e.g. a trait or VIF that is not there).
 * Repeating is safe: a site that does not hold the object changed nothing.
 */
import type { SiteClient, SiteResponse } from '../sites/site-client.js';
import type { LocateOptions, Locator } from './locator.js';

export interface Routed {
  site: SiteClient;
  res: SiteResponse;
}

export async function routeToOwner(
  locator: Locator,
  ident: string,
  opts: LocateOptions,
  send: (site: SiteClient) => Promise<SiteResponse>,
): Promise<Routed> {
  const cachedSite = locator.cached(ident);
  if (!cachedSite) {
    const site = (await locator.lookup(ident, opts)).site;
    return { site, res: await send(site) };
  }
  const res = await send(cachedSite);
  if (res.status !== 404) return { site: cachedSite, res };
  locator.forget(ident);
  let found;
  try {
    found = await locator.lookup(ident, opts);
  } catch {
    // Not found anywhere (or not determinable): the site's own 404 is the answer.
    return { site: cachedSite, res };
  }
  if (found.site === cachedSite) return { site: cachedSite, res };
  return { site: found.site, res: await send(found.site) };
}
