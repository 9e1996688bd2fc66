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
 * The same rewrite on the JSON bytes, without decoding, parsing or
 * re-encoding them (the hot path of every relayed answer): possible only
 * when every occurrence of a site base in the body is the start of an `href`
 * or `next` value. When a base appears anywhere else (a URL in driver_info,
 * say), undefined: the caller walks the parsed document instead, which never
 * touches free-form data.
 *
 * Occurrences are found with Buffer#indexOf (a native scan, far cheaper than
 * a regular expression over a text full of quotes).
 */
export function rewriteLinkBytes(body: Buffer, fromBases: readonly string[], toBase: string): Buffer | undefined {
  const hits = occurrences(body, fromBases);
  if (hits.length === 0) return body;
  const target = Buffer.from(toBase);
  const parts: Buffer[] = [];
  let copied = 0;
  for (const { at, length } of hits) {
    if (at < copied) continue; // inside a longer base already taken
    const after = body[at + length];
    if (!(after === SLASH || after === QUESTION || after === QUOTE) || !LINK_KEYS.some((k) => endsAt(body, k, at))) return undefined;
    parts.push(body.subarray(copied, at), target);
    copied = at + length;
  }
  parts.push(body.subarray(copied));
  return Buffer.concat(parts);
}

const SLASH = 0x2f;
const QUESTION = 0x3f;
const QUOTE = 0x22;

/** Where each base occurs, in body order; where two bases start at one place, the longer first. */
function occurrences(body: Buffer, bases: readonly string[]): Array<{ at: number; length: number }> {
  const hits: Array<{ at: number; length: number }> = [];
  for (const base of bases) {
    const length = Buffer.byteLength(base);
    if (length === 0) continue;
    for (let i = body.indexOf(base); i >= 0; i = body.indexOf(base, i + 1)) hits.push({ at: i, length });
  }
  if (bases.length > 1) hits.sort((a, b) => a.at - b.at || b.length - a.length);
  return hits;
}

/** Does `key` end right before `at`? (A byte loop: the keys are 8 or 9 bytes, less than a native call costs.) */
function endsAt(body: Buffer, key: Buffer, at: number): boolean {
  const start = at - key.length;
  if (start < 0) return false;
  for (let i = key.length - 1; i >= 0; i--) if (body[start + i] !== key[i]) return false;
  return true;
}

/** `"href": "` as Python's json.dumps writes it, and the compact form. */
const LINK_KEYS = ['"href": "', '"next": "', '"href":"', '"next":"'].map((k) => Buffer.from(k));
