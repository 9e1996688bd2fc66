/**
 * Makes a site's answer point at the proxy: every `href` and `next` whose
 * base is one of the site's bases gets the proxy's base instead. Free-form
 * dictionaries (driver_info, instance_info, properties, extra, ...) are user
 * data and are never touched, even if they hold a URL of the site.
 */

const FREE_FORM_KEYS = new Set([
  'driver_info',
  'driver_internal_info',
  'instance_info',
  'properties',
  'extra',
  'internal_info',
  'local_link_connection',
  'raid_config',
  'target_raid_config',
  'network_data',
  'inventory',
  'plugin_data',
  'clean_step',
  'deploy_step',
  'service_step',
  'steps',
]);

/** Replaces `fromBase` by `toBase` at the start of `url` when it is followed by a path, query or nothing. */
export function rebase(url: string, fromBases: readonly string[], toBase: string): string {
  for (const from of fromBases) {
    if (url.startsWith(from)) {
      const rest = url.slice(from.length);
      if (rest === '' || rest[0] === '/' || rest[0] === '?') return toBase + rest;
    }
  }
  return url;
}

/** Rewrites links in place and returns the value. */
export function rewriteLinks<T>(value: T, fromBases: readonly string[], toBase: string): T {
  walk(value, fromBases, toBase);
  return value;
}

function walk(value: unknown, fromBases: readonly string[], toBase: string): void {
  if (Array.isArray(value)) {
    for (const v of value) walk(v, fromBases, toBase);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const obj = value as Record<string, unknown>;
  for (const [k, v] of Object.entries(obj)) {
    if (FREE_FORM_KEYS.has(k)) continue;
    if ((k === 'href' || k === 'next') && typeof v === 'string') obj[k] = rebase(v, fromBases, toBase);
    else if (typeof v === 'object' && v !== null) walk(v, fromBases, toBase);
  }
}

/**
 * The same rewrite on the JSON text, without re-encoding it (the hot path of
 * every relayed answer): possible only when every occurrence of a site base
 * in the text is the start of an `href` or `next` value. When a base appears
 * anywhere else (a URL in driver_info, say), undefined: the caller walks the
 * parsed document instead, which never touches free-form data.
 */
export function rewriteLinkText(text: string, fromBases: readonly string[], toBase: string): string | undefined {
  let out = text;
  for (const from of fromBases) {
    const all = countOf(out, from);
    if (all === 0) continue;
    let inLinks = 0;
    for (const key of LINK_KEYS) for (const end of BOUNDARIES) inLinks += countOf(out, key + from + end);
    if (inLinks !== all) return undefined;
    for (const key of LINK_KEYS) for (const end of BOUNDARIES) out = out.split(key + from + end).join(key + toBase + end);
  }
  return out;
}

/** What may follow a base in a link: a path, a query, or the end of the string (as in `rebase`). */
const BOUNDARIES = ['/', '?', '"'];

/** `"href": "` as Python's json.dumps writes it, and the compact form. */
const LINK_KEYS = ['"href": "', '"next": "', '"href":"', '"next":"'];

function countOf(text: string, needle: string): number {
  let n = 0;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) n++;
  return n;
}
