/**
 * One canonical path per resource before routing (and before any access
 * check that a later issue adds), the way Ironic 21.4 routes:
 *  - duplicate slashes collapse, a trailing slash is dropped;
 *  - a path without the `v1` segment is the v1 path (`/nodes` ≡ `/v1/nodes`);
 *  - a trailing `.json` on the last segment is dropped (21.4 always strips it);
 *  - dot segments (`.`/`..`) are not resolved: such a path is no resource (404).
 * The proxy's own operational endpoints (and the status page's files) are left alone.
 */

export const OPS_PATHS = new Set(['/healthz', '/readyz', '/metrics', '/status']);
export const INVALID_PATH = '/\u0000invalid';

/** The path of a request URL, without its query. */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** A path that is already canonical: /v1 and segments without dots, percent signs or empty ones. */
const CANONICAL_V1_PATH = /^\/v1(?:\/[^/.%]+)*$/;

export function normalizeUrl(rawUrl: string): string {
  const q = rawUrl.indexOf('?');
  const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
  // What every client sends: nothing to do (the checks below split and scan every segment).
  if (CANONICAL_V1_PATH.test(rawPath)) return rawUrl;
  const query = q < 0 ? '' : rawUrl.slice(q);
  const segments = rawPath.split('/').filter((s) => s !== '');
  if (segments.length > 0) {
    const last = segments.length - 1;
    if (segments[last]!.endsWith('.json')) {
      segments[last] = segments[last]!.slice(0, -'.json'.length);
      // A last segment that was only `.json` names the collection above it, as at Ironic (`/v1/nodes/.json` is `/v1/nodes/`).
      if (segments[last] === '') segments.pop();
    }
  }
  // Checked after the .json strip (which can uncover `..`), with encoded dots decoded:
  // a server behind a site might resolve `.%2e` as `..`.
  if (segments.some((s) => isDotSegment(s.replace(/%2e/gi, '.')) || /%2f|%5c/i.test(s))) return INVALID_PATH;
  let path = `/${segments.join('/')}`;
  // The status page's own files (/status/status.js) too.
  if (OPS_PATHS.has(path) || (segments.length === 2 && segments[0] === 'status')) return path + query;
  if (segments.length > 0 && segments[0] !== 'v1') path = `/v1${path}`;
  return path + query;
}

function isDotSegment(segment: string): boolean {
  return segment === '.' || segment === '..';
}
