/**
 * Sends a request about one object to the site that holds it. A cached site
 * that answers Ironic's 404 may be stale (object deleted, or re-enrolled at
 * another site): then every site is asked once, and the request is repeated
 * at the site that has the object — only if that is another site, because a
 * 404 from the right site is a real answer (e.g. a trait or VIF that is not
 * there). Repeating is safe: a site that does not hold the object changed
 * nothing.
 *
 * A 404 is only ever taken from Ironic (a JSON error body): a 404 page from
 * something in front of a site is that site's failure, not "not found". When
 * the lookup cannot tell where the object is (a site could not be asked),
 * that is the answer (503), not the stale site's 404.
 */
import { ProxyError } from '../errors.js';
import type { SiteClient, SiteResponse } from '../sites/site-client.js';
import { isIronicError } from './ask.js';
import type { LocateOptions, Locator } from './locator.js';
import { SiteProtocolError } from '../errors.js';

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
  // The store ([coordination]) is read only when this process does not know.
  const cachedSite = locator.cached(ident) ?? (await locator.known(ident));
  if (!cachedSite) {
    const site = (await locator.lookup(ident, opts)).site;
    return { site, res: await send(site) };
  }
  const res = await send(cachedSite);
  if (res.status !== 404) return { site: cachedSite, res };
  if (!isIronicError(res)) throw new SiteProtocolError(cachedSite.name, 'a 404 that is not an Ironic error (no JSON error body)');
  locator.forget(ident);
  let found;
  try {
    found = await locator.lookup(ident, opts);
  } catch (err) {
    // Not found anywhere: the site's own 404 is the answer. Anything else (a site that could not be asked) is the answer.
    if (err instanceof ProxyError && err.status === 404) return { site: cachedSite, res };
    throw err;
  }
  if (found.site === cachedSite) return { site: cachedSite, res };
  return { site: found.site, res: await send(found.site) };
}
