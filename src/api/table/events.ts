/**
 * External events (ironic/api/controllers/v1/event.py, 1.54): Neutron tells
 * Ironic about port binding changes.
 *
 * Order: the body is validated FIRST (400: `events`, a non-empty list of
 * network.bind_port / network.unbind_port / network.delete_port events with
 * port_id, mac_address, status, optional device_id, binding:host_id,
 * binding:vnic_type) → below 1.54 → 404 "Resource could not be found." →
 * check_policy('baremetal:events:post'), the caller's own credentials as
 * target (default: system admins only; project-scoped callers → 403) → 204.
 * Ironic 21.4 only logs the events. No query parameter (any → 400
 * "Unexpected arguments"); every other method → 405.
 */
import { EVENTS_BODY } from '../body.js';
import type { ApiEntry } from '../types.js';
import type { FieldRedaction, RefusedForm } from './shapes.js';

export const EVENT_ENTRIES: readonly ApiEntry[] = [
  {
    method: 'POST',
    path: '/v1/events',
    query: [],
    since: 54,
    authz: { check: 'policy', rules: ['baremetal:events:post'] },
    engine: 'event.post',
    body: EVENTS_BODY,
    doc: 'Post external (network) events; each goes to the sites holding what it names (Ironic 21.4 only logs them).',
  },
];

export const EVENT_REDACTIONS: readonly FieldRedaction[] = [];

/** Nothing: the only form Ironic accepts is the entry. */
export const PECAN_FORMS_REFUSED: readonly RefusedForm[] = [];
