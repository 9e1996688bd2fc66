/**
 * `POST /v1/events` (1.54) over all sites (federation rule:
 * docs/federation/events-agent.md). Neutron sends its port events to the
 * baremetal endpoint of the catalog — the proxy. Each event is delivered to
 * every site that holds what it names: the Ironic port with its
 * `mac_address`, the node `binding:host_id` names (a node UUID), the node
 * whose instance is `device_id`. Sites holding none of them are skipped;
 * each target site receives only its own events, in the order given. The
 * answer is Ironic's 204 once every target site accepted its share. A body
 * Ironic would refuse is refused by the proxy with Ironic's 400 (the table's
 * EVENTS_BODY), and reaches no site.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SiteErrorResponse, sitesUnavailable, unroutable } from '../errors.js';
import { eventsOf } from '../api/body.js';
import { fanOut } from '../federation/fanout.js';
import type { ProxyServices } from '../services.js';
import { parseJsonBody } from '../sites/site-client.js';
import { readJson, sendAsIs } from '../http/forward.js';
import type { ResourceModule } from './plugin.js';

export const eventsModule: ResourceModule = {
  name: 'events',
  engines: (services) => ({ 'event.post': (c) => postEvents(services, c.req, c.reply) }),
};

export interface NetworkEvent {
  event: string;
  port_id: string;
  mac_address: string;
  status: string;
  device_id?: string | null;
  'binding:host_id'?: string | null;
  'binding:vnic_type'?: string | null;
}

/** Does `site` hold anything `e` names? One small GET per name (the caller shares them per site). */
async function holds(e: NetworkEvent, ask: (path: string) => Promise<boolean>): Promise<boolean> {
  const checks = [ask(`/v1/ports?address=${encodeURIComponent(e.mac_address.toLowerCase())}&fields=uuid`)];
  const host = e['binding:host_id'];
  if (typeof host === 'string') checks.push(ask(`/v1/nodes/${encodeURIComponent(host)}?fields=uuid`));
  const device = e.device_id;
  if (typeof device === 'string') checks.push(ask(`/v1/nodes?instance_uuid=${encodeURIComponent(device)}&fields=uuid`));
  return (await Promise.all(checks)).some(Boolean);
}

async function postEvents(services: ProxyServices, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  // The table's body check (EVENTS_BODY) answered Ironic's 400 for anything else, before any site was asked.
  const events = eventsOf(readJson(req)) as NetworkEvent[] | undefined;
  if (!events) throw unroutable('events the proxy could not read');

  const requestId = req.ironic.globalRequestId;
  const version = services.internalVersion();
  const lookups = await fanOut(services.registry.sites, async (site) => {
    const asked = new Map<string, Promise<boolean>>();
    const ask = (path: string): Promise<boolean> => {
      let p = asked.get(path);
      if (!p) {
        p = site.request({ method: 'GET', path, version, requestId }).then((res) => {
          if (res.status === 404) return false;
          if (res.status !== 200) throw new Error(`site ${site.name} answered ${res.status} to ${path}`);
          const body = parseJsonBody<Record<string, unknown>>(site.name, res);
          if (!body) return false;
          const list = body.ports ?? body.nodes;
          return Array.isArray(list) ? list.length > 0 : typeof body.uuid === 'string';
        });
        asked.set(path, p);
      }
      return p;
    };
    const held = await Promise.all(events.map((e) => holds(e, ask)));
    return events.filter((_, i) => held[i]);
  });
  // A site that cannot say whether it holds an event's port or node: its delivery cannot be confirmed.
  const silent = lookups.filter((o) => !o.ok).map((o) => o.site.name);
  const targets = lookups.flatMap((o) => (o.ok && o.value.length > 0 ? [{ site: o.site, events: o.value }] : []));

  const deliveries = await fanOut(
    targets.map((t) => t.site),
    (site) => {
      const share = targets.find((t) => t.site === site)!.events;
      const body = Buffer.from(JSON.stringify({ events: share }));
      return sendAsIs(site, req, { body });
    },
  );
  const failed = [...silent];
  for (const d of deliveries) {
    if (!d.ok) failed.push(d.site.name);
    else if (d.value.status >= 400 && d.value.status < 500) throw new SiteErrorResponse(d.site.name, d.value);
    else if (d.value.status >= 300) failed.push(d.site.name);
  }
  if (failed.length > 0) {
    const delivered = deliveries.filter((d) => d.ok && d.value.status < 300).map((d) => d.site.name);
    throw sitesUnavailable(`Events delivered to ${delivered.length > 0 ? `site(s) ${delivered.join(', ')}` : 'no site'}, not confirmed elsewhere`, failed);
  }
  return reply.code(204).send();
}
