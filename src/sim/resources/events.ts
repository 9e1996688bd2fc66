/** Events (ironic/api/controllers/v1/event.py, 1.54): network events are validated and dropped (the noop network interface ignores them). */

import { RoutingError } from '../errors.js';
import { checkArgs, isPlainObject, parseJsonBody, validateFields, validateSchema, type Ctx, type Reply, type Schema } from '../kit.js';
import type { World } from '../world.js';

const KINDS = ['network.bind_port', 'network.unbind_port', 'network.delete_port'];

const EVENTS_SCHEMA: Schema = {
  type: 'object',
  properties: {
    events: {
      type: 'array',
      check: (v) => (Array.isArray(v) && v.length < 1 ? '[] is too short' : undefined),
      items: { type: 'object', properties: { event: { type: 'string', enum: KINDS } }, required: ['event'] },
    },
  },
  required: ['events'],
  additionalProperties: false,
};

const NETWORK_EVENT: Schema = {
  type: 'object',
  properties: {
    event: { type: 'string' },
    port_id: { type: 'string' },
    mac_address: { type: 'string' },
    status: { type: 'string' },
    device_id: { type: ['string', 'null'] },
    'binding:host_id': { type: ['string', 'null'] },
    'binding:vnic_type': { type: ['string', 'null'] },
  },
  required: ['event', 'port_id', 'mac_address', 'status'],
  additionalProperties: false,
};

export function routeEvents(_w: World, ctx: Ctx, rest: string[]): Reply {
  if (ctx.minor < 54) throw new RoutingError(404);
  if (rest.length) throw new RoutingError(404);
  if (ctx.method !== 'POST') throw new RoutingError(405);
  checkArgs(ctx, ['evts']);
  // method.body: an empty body is {} ("'events' is a required property").
  const body = parseJsonBody(ctx) ?? {};
  validateSchema('evts', body, EVENTS_SCHEMA);
  for (const e of (body as { events: unknown[] }).events) {
    validateSchema('evts', e, NETWORK_EVENT);
    if (isPlainObject(e)) validateFields({ ...e }, { port_id: 'uuid', mac_address: 'mac', device_id: 'uuid', 'binding:host_id': 'uuid' });
  }
  return { status: 204 };
}
