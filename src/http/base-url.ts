/**
 * The base URL the proxy writes into links: `[api]public_endpoint` when set;
 * else, with `[oslo_middleware]enable_proxy_headers_parsing`, what the
 * load balancer says (X-Forwarded-Proto/Host/Prefix, RFC 7239 Forwarded);
 * else the scheme and Host of the request — the same rules as Ironic.
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface BaseUrlOptions {
  publicEndpoint?: string;
  trustProxyHeaders: boolean;
  tls: boolean;
  /** Used when the request has no Host header (HTTP/1.0). */
  fallbackHost: string;
}

const first = (v: string | string[] | undefined): string | undefined =>
  (Array.isArray(v) ? v[0] : v)?.split(',')[0]?.trim() || undefined;

/** A host as a client may legitimately send it: name or IPv4/IPv6 literal, optional port. */
const HOST_RE = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/;

export function requestBaseUrl(headers: IncomingHttpHeaders, opts: BaseUrlOptions): string {
  if (opts.publicEndpoint) return opts.publicEndpoint;
  let proto = opts.tls ? 'https' : 'http';
  let host = first(headers.host);
  let prefix = '';
  if (opts.trustProxyHeaders) {
    const fwd = parseForwarded(first(headers.forwarded));
    proto = fwd.proto ?? first(headers['x-forwarded-proto']) ?? proto;
    host = fwd.host ?? first(headers['x-forwarded-host']) ?? host;
    prefix = pathSafe((first(headers['x-forwarded-prefix']) ?? '').replace(/\/+$/, ''));
    if (prefix && !prefix.startsWith('/')) prefix = `/${prefix}`;
  }
  if (proto !== 'http' && proto !== 'https') proto = opts.tls ? 'https' : 'http';
  // A forged Host must not become a link target that carries arbitrary text.
  if (!host || !HOST_RE.test(host)) host = opts.fallbackHost;
  return `${proto}://${host}${prefix}`;
}

/**
 * A prefix as a URL path may carry it: anything but RFC 3986's path
 * characters (a quote, a backslash, spaces, control or non-ASCII characters)
 * percent-encoded, so the base is safe in a JSON string and in a Location
 * header alike.
 */
function pathSafe(prefix: string): string {
  return prefix.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]|%(?![0-9A-Fa-f]{2})/gu, (c) => encodeURIComponent(c));
}

function parseForwarded(value: string | undefined): { proto?: string; host?: string } {
  const out: { proto?: string; host?: string } = {};
  if (!value) return out;
  for (const pair of value.split(';')) {
    const [k, v] = pair.split('=', 2).map((s) => s?.trim());
    if (!k || !v) continue;
    const unq = v.replace(/^"|"$/g, '');
    if (k.toLowerCase() === 'proto') out.proto = unq;
    if (k.toLowerCase() === 'host') out.host = unq;
  }
  return out;
}
