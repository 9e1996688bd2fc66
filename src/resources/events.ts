/**
 * `POST /v1/events` (1.54) over all sites (federation rule:
 * docs/federation/events-agent.md). Neutron sends its port events to the
 * baremetal endpoint of the catalog — the proxy. Each event is delivered to
 * every site that holds what it names: the Ironic port with its
 * `mac_address`, the node `binding:host_id` names (a node UUID), the node
 * whose instance is `device_id`. Sites holding none of them are skipped;
 * each target site receives only its own events, in the order given. The
 * answer is Ironic's 204 once every target site accepted its share. A body
 * the proxy cannot read as valid events goes to one site, whose Ironic
 * answers with its exact 400.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SiteErrorResponse, sitesUnavailable } from '../errors.js';
import { fanOut } from '../federation/fanout.js';
import { isUuidLike } from '../ironic/idents.js';
import type { ProxyServices } from '../services.js';
import { parseJsonBody } from '../sites/site-client.js';
import { MAC_RE } from './agent.js';
import { forwardTo, readJson, sendAsIs } from '../http/forward.js';
import type { ResourceModule } from './plugin.js';

const NETWORK_EVENTS = new Set(['network.bind_port', 'network.unbind_port', 'network.delete_port']);
const NETWORK_KEYS = new Set(['event', 'port_id', 'mac_address', 'status', 'device_id', 'binding:host_id', 'binding:vnic_type']);

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

/**
 * Ironic's EVENTS_SCHEMA and NETWORK_EVENT_VALIDATOR, checked the same way:
 * the events, or undefined when Ironic would refuse the body.
 */
export function validEvents(body: unknown): NetworkEvent[] | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const keys = Object.keys(body);
  if (keys.length !== 1 || keys[0] !== 'events') return undefined;
  const events = (body as { events: unknown }).events;
  if (!Array.isArray(events) || events.length === 0) return undefined;
  for (const e of events) {
    if (!e || typeof e !== 'object' || Array.isArray(e)) return undefined;
    const ev = e as Record<string, unknown>;
    if (typeof ev.event !== 'string' || !NETWORK_EVENTS.has(ev.event)) return undefined;
    for (const k of Object.keys(ev)) if (!NETWORK_KEYS.has(k)) return undefined;
    for (const k of ['event', 'port_id', 'mac_address', 'status']) if (typeof ev[k] !== 'string') return undefined;
    for (const k of ['device_id', 'binding:host_id', 'binding:vnic_type']) {
      if (ev[k] !== undefined && ev[k] !== null && typeof ev[k] !== 'string') return undefined;
    }
    if (!isUuidLike(ev.port_id as string) || !MAC_RE.test(ev.mac_address as string)) return undefined;
    for (const k of ['device_id', 'binding:host_id']) {
      if (typeof ev[k] === 'string' && !isUuidLike(ev[k] as string)) return undefined;
    }
  }
  return events as NetworkEvent[];
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
  const events = validEvents(readJson(req));
  if (!events) return forwardTo(services, req, reply, services.defaultSite);

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
