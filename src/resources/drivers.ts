/**
 * The drivers API over all sites (federation rule: docs/federation/drivers-conductors-shards.md).
 *
 * A driver (hardware type) exists for the proxy when a conductor at some site
 * has it. `GET /v1/drivers` is the union by name: every driver once, its
 * `hosts` the conductor hosts of every site that has it (sites in
 * configuration order), its `enabled_*_interfaces` (detail) the union of the
 * sites' lists and its `default_*_interface` the first site's non-null
 * default. `GET /v1/drivers/{name}` merges the same way over the sites that
 * have it. Properties, RAID properties and driver vendor passthru are asked
 * of the first site (configuration order) that has the driver.
 */
import { forwardTo, sendAsIs } from '../http/forward.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ProxyError, SiteErrorResponse, SiteFailedResponse, sitesUnavailable } from '../errors.js';
import { fanOut } from '../federation/fanout.js';
import { relaySiteResponse, sendJson } from '../http/relay.js';
import { rewriteLinks } from '../http/rewrite.js';
import { parseListParam } from '../ironic/idents.js';
import type { ProxyServices } from '../services.js';
import type { SiteClient, SiteResponse } from '../sites/site-client.js';
import { parseJsonBody } from '../sites/site-client.js';
import { markMissingSites } from '../http/missing-sites.js';
import type { ResourceModule } from './plugin.js';
import { objectIdent, type Engine } from '../api/engine.js';
import { pathOf } from '../http/normalize-url.js';

export const driversModule: ResourceModule = {
  name: 'drivers',
  engines: (services) => {
    // properties, raid/logical_disk_properties, vendor_passthru[/methods]: one site that has the driver.
    const toDriverSite: Engine = (c) => forwardToDriverSite(services, c.req, c.reply, objectIdent(c));
    return {
      'driver.list': (c) => listDrivers(services, c.req, c.reply),
      'driver.show': (c) => showDriver(services, c.req, c.reply, objectIdent(c)),
      'driver.properties': toDriverSite,
      'driver.raid-properties': toDriverSite,
      'driver.vendor-methods': toDriverSite,
      'driver.vendor-call': toDriverSite,
    };
  },
};

type Doc = Record<string, unknown>;

export interface Gathered {
  /** Sites that answered 200, in configuration order, with their documents. */
  answers: Array<{ site: SiteClient; doc: Doc }>;
  /** Sites that answered `notHere` (e.g. 404: "not at this site"). */
  absent: Array<{ site: SiteClient; res: SiteResponse }>;
  /** Sites that did not answer (unreachable, timeout, 5xx). */
  missing: string[];
}

/**
 * One GET to every site; the answers sorted out. A client error (4xx other
 * than `notHere`) from any site is Ironic's answer to the request, relayed.
 * When no site answered at all, the first failure is the answer (a site's
 * own 5xx is relayed as it wrote it). With strict listing a missing site
 * makes it a 503.
 */
export async function gatherFromSites(
  services: ProxyServices,
  req: FastifyRequest,
  path: string,
  opts: { notHere?: number } = {},
): Promise<Gathered> {
  const sites = services.registry.sites;
  const outcomes = await fanOut(sites, (site) => site.request({ method: 'GET', path, version: req.ironic.version, requestId: req.ironic.globalRequestId }));
  const g: Gathered = { answers: [], absent: [], missing: [] };
  const failures: Error[] = [];
  for (const o of outcomes) {
    if (!o.ok) {
      g.missing.push(o.site.name);
      failures.push(o.error);
      continue;
    }
    const res = o.value;
    if (res.status === 200) {
      const doc = parseJsonBody<Doc>(o.site.name, res);
      if (doc && typeof doc === 'object') {
        g.answers.push({ site: o.site, doc });
        continue;
      }
      g.missing.push(o.site.name);
      failures.push(new SiteFailedResponse(o.site.name, res));
    } else if (opts.notHere !== undefined && res.status === opts.notHere) {
      g.absent.push({ site: o.site, res });
    } else if (res.status >= 400 && res.status < 500) {
      throw new SiteErrorResponse(o.site.name, res);
    } else {
      g.missing.push(o.site.name);
      failures.push(new SiteFailedResponse(o.site.name, res));
    }
  }
  if (g.answers.length === 0 && g.absent.length === 0) {
    const first = failures[0]!;
    throw first instanceof SiteFailedResponse ? new SiteErrorResponse(first.site, first.response) : first;
  }
  if (g.missing.length > 0 && services.config.proxy.strictListing) throw sitesUnavailable('Answer incomplete', g.missing);
  return g;
}


/** `fields` without `name` would leave nothing to merge by: ask for it too, and drop it after. */
function sitePath(req: FastifyRequest, base: string): { path: string; dropName: boolean } {
  const query = new URL(req.url, 'http://proxy').searchParams;
  const fields = query.getAll('fields');
  let dropName = false;
  if (fields.length === 1) {
    const wanted = parseListParam(fields[0]!);
    if (wanted.length > 0 && !wanted.includes('name')) {
      query.set('fields', [...wanted, 'name'].join(','));
      dropName = true;
    }
  }
  const qs = query.toString();
  return { path: qs ? `${base}?${qs}` : base, dropName };
}

async function listDrivers(services: ProxyServices, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const { path, dropName } = sitePath(req, '/v1/drivers');
  const g = await gatherFromSites(services, req, path);
  const lists = g.answers.map(({ site, doc }) => ({
    site,
    drivers: (Array.isArray(doc.drivers) ? doc.drivers : []) as Doc[],
  }));
  const merged = mergeDrivers(services, req, lists);
  if (dropName) for (const d of merged) delete d.name;
  markMissingSites(services, reply, g.missing);
  return sendJson(reply, 200, { drivers: merged });
}

async function showDriver(services: ProxyServices, req: FastifyRequest, reply: FastifyReply, name: string): Promise<FastifyReply> {
  const { path, dropName } = sitePath(req, `/v1/drivers/${encodeURIComponent(name)}`);
  const g = await gatherFromSites(services, req, path, { notHere: 404 });
  if (g.answers.length === 0) {
    // No site has it: a site that answered said so (DriverNotFound); if some did not answer, that is not known.
    if (g.missing.length > 0) throw sitesUnavailable(`Cannot tell whether driver ${name} exists`, g.missing);
    const { site, res } = g.absent[0]!;
    return relaySiteResponse(req, reply, services.registry.linkSource(site), res);
  }
  const [merged] = mergeDrivers(
    services,
    req,
    g.answers.map(({ site, doc }) => ({ site, drivers: [doc] })),
  );
  if (dropName) delete merged!.name;
  markMissingSites(services, reply, g.missing);
  return sendJson(reply, 200, merged);
}

/**
 * The union by name, in order of first appearance (sites in configuration
 * order). `hosts`: every site's hosts, each once. `enabled_*`: the union, in
 * order of first appearance. `default_*`: the first site's non-null value
 * (Ironic itself assumes all conductors agree on defaults).
 */
export function mergeDrivers(services: ProxyServices, req: FastifyRequest, lists: Array<{ site: SiteClient; drivers: Doc[] }>): Doc[] {
  const byName = new Map<string, Doc>();
  const out: Doc[] = [];
  for (const { site, drivers } of lists) {
    for (const raw of drivers) {
      if (!raw || typeof raw !== 'object') continue;
      const d = rewriteLinks(raw, services.registry.linkBases(site), req.ironic.baseUrl);
      const name = String(d.name);
      const seen = byName.get(name);
      if (!seen) {
        byName.set(name, d);
        out.push(d);
        continue;
      }
      for (const [k, v] of Object.entries(d)) {
        if (k === 'hosts' || /^enabled_.*_interfaces$/.test(k)) {
          const into = Array.isArray(seen[k]) ? (seen[k] as unknown[]) : [];
          for (const x of Array.isArray(v) ? v : []) if (!into.includes(x)) into.push(x);
          seen[k] = into;
        } else if (/^default_.*_interface$/.test(k)) {
          if (seen[k] === null || seen[k] === undefined) seen[k] = v;
        } else if (!(k in seen)) {
          seen[k] = v;
        }
      }
    }
  }
  return out;
}

/** The first site (configuration order) that has driver `name`, asked at the proxy's own version. */
async function driverSite(services: ProxyServices, req: FastifyRequest, name: string): Promise<SiteClient | undefined> {
  const requestId = req.ironic.globalRequestId;
  const path = `/v1/drivers/${encodeURIComponent(name)}`;
  const outcomes = await fanOut(services.registry.sites, (s) => s.request({ method: 'GET', path, version: services.internalVersion(), requestId }));
  const hit = outcomes.find((o) => o.ok && o.value.status === 200);
  if (hit) return hit.site;
  const silent = outcomes.filter((o) => !o.ok || o.value.status >= 500).map((o) => o.site.name);
  if (silent.length > 0) throw sitesUnavailable(`Cannot tell which site has driver ${name}`, silent);
  return undefined;
}

/**
 * A driver no site runs, asked for its properties, RAID properties or vendor
 * passthru: Ironic's answer, made here (the request is sent to no site).
 * These handlers ask the conductors' hash ring for the driver
 * (rpcapi.get_topic_for_driver), which raises DriverNotFound with its own
 * text (ironic/common/hash_ring.py, 21.4) — not the text of GET
 * /v1/drivers/{name}.
 */
export const driverUnknown = (name: string): ProxyError => new ProxyError('DRIVER_NOT_FOUND', `The driver '${name}' is unknown.`);

async function forwardToDriverSite(services: ProxyServices, req: FastifyRequest, reply: FastifyReply, name: string): Promise<FastifyReply> {
  // Every site answered that it does not run it (a site that could not be asked: driverSite's 503).
  const site = await driverSite(services, req, name);
  if (!site) throw driverUnknown(name);
  return forwardTo(services, req, reply, site);
}
