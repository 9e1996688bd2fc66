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
