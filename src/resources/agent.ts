/**
 * The agent-facing endpoints — `GET /v1/lookup`, `POST /v1/heartbeat/{node}`
 * and `POST /v1/continue_inspection` — belong to each site's own Ironic
 * (federation rule: docs/federation/events-agent.md): the ramdisk gets its
 * agent token from the site's conductor, heartbeats must reach that
 * conductor, and the traffic comes unauthenticated from provisioning
 * networks that should not need to reach the proxy. So the proxy does not
 * serve them: it answers with a 404 in Ironic's routing shape that says
 * where they are served — or, for a lookup Ironic would refuse whatever the
 * nodes (no valid MAC and no node_uuid, or a node_uuid that is not a UUID),
 * with Ironic's own 400. They are not advertised in `GET /v1`.
 */
import type { FastifyRequest } from 'fastify';
import { badRequest, ProxyError } from '../errors.js';
import { isUuidLike } from '../ironic/idents.js';
import { atLeast } from '../ironic/microversion.js';
import type { ResourceModule } from './plugin.js';

const LOOKUP_HEARTBEAT_MINOR = 22;

export const AGENT_NOT_SERVED =
  'Agent endpoints (lookup, heartbeat, continue_inspection) are served by the Ironic of each site, not by this proxy: ' +
  "point the ramdisk at its own site's API ([service_catalog]endpoint_override at each site).";

export const agentModule: ResourceModule = {
  name: 'agent',
  engines: () => ({
    'agent.not-served': (c) => (c.entry.path === '/v1/lookup' ? lookup(c.req) : Promise.reject(notServed())),
  }),
};

const notServed = (): ProxyError => new ProxyError('AGENT_ENDPOINT_NOT_SERVED', AGENT_NOT_SERVED);

/** oslo_utils.netutils.is_valid_mac: six colon-separated hex pairs. */
export const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

/** Ironic's lookup checks its arguments before it looks for a node: those 400s are kept. */
function lookup(req: FastifyRequest): never {
  if (!atLeast(req.ironic.version, LOOKUP_HEARTBEAT_MINOR)) throw notServed();
  const query = new URL(req.url, 'http://proxy').searchParams;
  const nodeUuid = query.get('node_uuid');
  if (nodeUuid !== null && !isUuidLike(nodeUuid)) throw badRequest(`Expected UUID for node_uuid: ${nodeUuid}`);
  const addresses = (query.get('addresses') ?? '').split(',').map((a) => a.trim()).filter((a) => a !== '');
  if (!addresses.some((a) => MAC_RE.test(a)) && !nodeUuid) {
    throw badRequest("At least one of 'addresses' and 'node_uuid' parameters is required");
  }
  // What Ironic answers a lookup that finds no node; the reason travels in a header.
  const err = new ProxyError('AGENT_RESOURCE_NOT_FOUND', 'Resource could not be found.');
  err.headers['x-ironic-proxy-reason'] = AGENT_NOT_SERVED;
  throw err;
}
