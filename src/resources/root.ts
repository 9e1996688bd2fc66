/**
 * `GET /` and `GET /v1`, built by the proxy itself: Ironic's shapes, the
 * proxy's base URL, and the microversion range common to all sites. A
 * resource is listed in `/v1` only when the proxy serves it at the requested
 * version — agent endpoints (lookup, heartbeat) belong to each site and are
 * not advertised.
 */
import type { Engine } from '../api/engine.js';
import { ProxyError } from '../errors.js';
import { makeLink, selfAndBookmark } from '../ironic/links.js';
import { atLeast, formatVersion, type VersionRange } from '../ironic/microversion.js';
import { sendJson } from '../http/relay.js';
import type { SiteRegistry } from '../sites/registry.js';

/** A top-level collection the proxy serves, and the microversion that introduced it. */
export interface AdvertisedResource {
  key: string;
  sinceMinor: number;
}

export function versionDocument(base: string, range: VersionRange): Record<string, unknown> {
  return {
    id: 'v1',
    links: [makeLink('self', base, 'v1', '', true)],
    status: 'CURRENT',
    min_version: formatVersion(range.min),
    version: formatVersion(range.max),
  };
}

/** The version documents; `GET /v1` advertises what `resources` says the table serves. */
export function rootEngines(registry: SiteRegistry, resources: () => readonly AdvertisedResource[]): Record<string, Engine> {
  const rangeOrFail = (): VersionRange => {
    const range = registry.commonRange();
    if (!range) throw new ProxyError('NO_SITE_VERSIONS', 'No site has answered version discovery yet; the API version range is unknown');
    return range;
  };
  return {
    'root.versions': ({ req, reply }) => {
      const version = versionDocument(req.ironic.baseUrl, rangeOrFail());
      return sendJson(reply, 200, {
        name: 'OpenStack Ironic API',
        description: 'Ironic is an OpenStack project which enables the provision and management of baremetal machines.',
        default_version: version,
        versions: [version],
      });
    },
    'root.v1': ({ req, reply }) => {
      const base = req.ironic.baseUrl;
      const doc: Record<string, unknown> = {
        id: 'v1',
        links: [
          makeLink('self', base, 'v1', '', true),
          { ...makeLink('describedby', 'https://docs.openstack.org', '/ironic/latest/contributor/', 'webapi.html', true), type: 'text/html' },
        ],
        media_types: { base: 'application/json', type: 'application/vnd.openstack.ironic.v1+json' },
      };
      for (const r of resources()) {
        if (atLeast(req.ironic.version, r.sinceMinor)) doc[r.key] = selfAndBookmark(base, r.key, '');
      }
      doc.version = versionDocument(base, rangeOrFail());
      return sendJson(reply, 200, doc);
    },
  };
}
