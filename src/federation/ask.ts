/**
 * What one site said about one object — the one place that tells "404 at
 * the site" from "could not ask", used by every engine that asks a site
 * about an object it does not simply relay (lookups, markers, uniqueness
 * checks, policy targets). Nothing else may turn a site's answer into
 * "does not exist":
 *
 * - found: a 200 whose body is a JSON object (read as Ironic reads JSON),
 *   and, when it names the object, names the one that was asked about (a
 *   site vouches only for itself: an answer about another identity is the
 *   site's 502, issue 16.1);
 * - absent: Ironic's own 404 (a JSON error body) from that site;
 * - a client error (400, 406: the identifier itself is invalid, every site
 *   would say so): SiteErrorResponse, relayed as the site wrote it;
 * - anything else — 401/403 (the proxy's own credentials refused), 5xx, a
 *   404 that is not Ironic's (a front end's page), a 200 that is not the
 *   object, a transport failure — means the site could not be asked: the
 *   site's failure (503 naming it for an HTTP error, 502 for a document that
 *   is not Ironic's), thrown.
 */
import { ProxyError, SiteErrorResponse, SiteProtocolError, SiteUnavailableError } from '../errors.js';
import { canonicalUuid, isUuidLike } from '../ironic/idents.js';
import { readJson } from '../ironic/json.js';
import type { SiteClient, SiteResponse } from '../sites/site-client.js';
import type { LocateOptions, Locator } from './locator.js';
import { routeToOwner } from './route-to-owner.js';

export type Doc = Record<string, unknown>;

export type ObjectAnswer = { found: true; doc: Doc } | { found: false };

/** Statuses that say the identifier itself is wrong: the client's business, the same at every site. */
const CLIENT_ERRORS = new Set([400, 406]);

/**
 * Classifies a site's answer to a question about one object (`ident`, the
 * uuid or name asked for). Throws when the site could not be asked.
 */
export function objectAnswer(site: SiteClient | { name: string }, res: SiteResponse, ident?: string, require: readonly string[] = []): ObjectAnswer {
  if (res.status === 200) {
    const read = readJson(res.body);
    if (!read.ok) throw new SiteProtocolError(site.name, read.kind === 'syntax' ? `body is not JSON (${read.reason})` : `body cannot be read faithfully: ${read.reason}`);
    const doc = read.value;
    if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new SiteProtocolError(site.name, 'the object asked about is not a JSON object');
    if (ident !== undefined) {
      const claimed = otherIdentity(doc as Doc, ident);
      if (claimed !== undefined) throw new SiteProtocolError(site.name, `asked about ${ident}, it answered about ${claimed}`);
    }
    // What was asked for (`fields`) is in Ironic's answer, if only as null: a document without it is not the answer.
    for (const field of require) {
      if (!Object.hasOwn(doc, field)) throw new SiteProtocolError(site.name, `the answer about ${ident ?? 'an object'} has no ${field}`);
    }
    return { found: true, doc: doc as Doc };
  }
  if (res.status === 404) {
    if (!isIronicError(res)) throw new SiteProtocolError(site.name, 'a 404 that is not an Ironic error (no JSON error body)');
    return { found: false };
  }
  if (CLIENT_ERRORS.has(res.status) && isIronicError(res)) throw new SiteErrorResponse(site.name, res);
  throw new SiteUnavailableError(site.name, `it answered ${res.status} when asked about an object`);
}

/**
 * The identity a document claims instead of `ident`, if it claims another:
 * asked by uuid, its uuid; asked by name (Ironic looks up anything that is
 * not uuid-like by name), its name. Undefined when it agrees or does not say.
 */
export function otherIdentity(doc: Doc, ident: string): string | undefined {
  if (isUuidLike(ident)) {
    const uuid = doc.uuid;
    if (uuid === undefined) return undefined;
    return typeof uuid === 'string' && isUuidLike(uuid) && canonicalUuid(uuid) === canonicalUuid(ident) ? undefined : String(uuid);
  }
  const name = doc.name;
  if (name === undefined) return undefined;
  return name === ident ? undefined : String(name);
}

/** Is this Ironic's error body (`{"error_message": …}`, JSON)? */
export function isIronicError(res: SiteResponse): boolean {
  const read = readJson(res.body);
  return read.ok && !!read.value && typeof read.value === 'object' && 'error_message' in (read.value as object);
}

/**
 * Reads one object at the site that holds it (located through `locator`,
 * a stale cached site corrected once): the object's document, or the
 * resource's 404 when no site has it. Every other outcome — a site that
 * cannot be asked, a lookup that could not reach every site, an answer that
 * is not the object — is thrown as that failure (503/502/504), never as 404.
 */
export async function readAtOwner(
  locator: Locator,
  ident: string,
  opts: LocateOptions,
  request: (site: SiteClient) => Promise<SiteResponse>,
  notFound: (ident: string) => ProxyError,
  /** Fields the answer must hold (those asked for). */
  require: readonly string[] = [],
): Promise<{ site: SiteClient; doc: Doc }> {
  const { site, res } = await routeToOwner(locator, ident, opts, request);
  const answer = objectAnswer(site, res, ident, require);
  if (!answer.found) throw notFound(ident);
  return { site, doc: answer.doc };
}
