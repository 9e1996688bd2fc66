/** Identifier and query-value rules shared by every Ironic resource. */

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** oslo_utils.uuidutils.is_uuid_like: hyphens optional, case-insensitive. */
export function isUuidLike(value: string): boolean {
  return UUID_RE.test(value);
}

/**
 * ironic.common.utils.is_valid_logical_name: RFC 3986 unreserved characters,
 * at most 255 — Python's `re.match('^[A-Z0-9-._~]+$', re.I)`, whose `$` also
 * matches before a final newline, and whose case folding lets through
 * U+0130, U+0131 (i), U+017F (s) and U+212A (k).
 */
export function isValidLogicalName(value: string): boolean {
  return [...value].length <= 255 && /^[a-z0-9._~\u0130\u0131-]+\n?$/iu.test(value);
}

/** Canonical form of a UUID-like string (lower case, hyphenated), as Ironic stores it. */
export function canonicalUuid(value: string): string {
  const hex = value.replace(/-/g, '').toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const TRUE_WORDS = new Set(['1', 't', 'true', 'y', 'yes', 'on']);
const FALSE_WORDS = new Set(['0', 'f', 'false', 'n', 'no', 'off']);

/** oslo strutils.bool_from_string(strict=True): anything else is an error (undefined). */
export function parseStrictBool(value: string): boolean | undefined {
  const v = value.trim().toLowerCase();
  if (TRUE_WORDS.has(v)) return true;
  if (FALSE_WORDS.has(v)) return false;
  return undefined;
}

/** Comma-separated list parameters (`fields`): lower-cased, de-duplicated, order kept. */
export function parseListParam(value: string): string[] {
  const out: string[] = [];
  for (const part of value.split(',')) {
    const v = part.trim().toLowerCase();
    if (v && !out.includes(v)) out.push(v);
  }
  return out;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * encodeURIComponent for an identifier the proxy asks a site about. A
 * client's JSON may hold a lone surrogate (`"\udfff"`), which
 * encodeURIComponent refuses with a URIError (a 500, or a uniqueness check
 * that "could not ask" — a 503); it goes out as U+FFFD instead. No Ironic
 * identifier holds either (names are RFC 3986 unreserved characters, MACs
 * and UUIDs hex), so the site's answer — not found, or its 400 — is the same.
 */
export function encodeSegment(value: string): string {
  return encodeURIComponent(value.replace(LONE_SURROGATE, '\ufffd'));
}
