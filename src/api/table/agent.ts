/**
 * The agent (ramdisk) endpoints — lookup, heartbeat, continue_inspection
 * (ironic/api/controllers/v1/ramdisk.py) — belong to each site's own Ironic
 * (docs/federation/events-agent.md): the agent token comes from the site's
 * conductor and heartbeats must reach it. The proxy does NOT serve them: its
 * engine answers a 404 that says where they are served (keeping Ironic's own
 * 400s for a lookup Ironic would refuse whatever the nodes). They are not in
 * GET /v1.
 *
 * How Ironic 21.4 authorises them (for the record; the proxy never asks a
 * site): `/v1/lookup` and `/v1/heartbeat/<ident>` are acl_public_routes (no
 * token needed); [api]enable_ramdisk_endpoints = false → 403; below 1.22 →
 * 404; then baremetal:driver:ipa_lookup / baremetal:node:ipa_heartbeat,
 * whose default check strings are empty (always allowed). The heartbeat's
 * agent_token is what actually authenticates the agent (checked by the
 * conductor). Arguments of the heartbeat come from the query string or a
 * JSON object body alike.
 *
 * continue_inspection is NOT in Ironic 21.4 (404 there): upstream added it
 * with 1.84, and also serves it at exactly 1.1 — the version an agent that
 * sends no version header gets — so its `since` is 1 here: the proxy's
 * "not served here" answer is the useful one at any version.
 */
import { ANY_BODY } from '../body.js';
import type { ApiEntry } from '../types.js';
import { PECAN_WHY, type FieldRedaction, type RefusedForm } from './shapes.js';

const NOT_SERVED = { check: 'public' } as const;

export const AGENT_ENTRIES: readonly ApiEntry[] = [
  {
    method: 'GET',
    path: '/v1/lookup',
    query: ['addresses', 'node_uuid'],
    since: 22,
    authz: { ...NOT_SERVED },
    engine: 'agent.not-served',
    body: ANY_BODY,
    doc: "Agent lookup: served by each site's Ironic, not by the proxy (404 saying so).",
  },
  {
    method: 'POST',
    path: '/v1/heartbeat/{node_ident}',
    query: ['callback_url', 'agent_version', 'agent_token', 'agent_verify_ca', 'agent_status', 'agent_status_message'],
    since: 22,
    authz: { ...NOT_SERVED },
    engine: 'agent.not-served',
    body: ANY_BODY,
    doc: "Agent heartbeat: served by each site's Ironic, not by the proxy.",
  },
  {
    method: 'POST',
    path: '/v1/continue_inspection',
    // Upstream's ContinueInspectionController.post(data, node_uuid=None); absent from 21.4.
    query: ['node_uuid'],
    since: 1,
    authz: { ...NOT_SERVED },
    engine: 'agent.not-served',
    body: ANY_BODY,
    doc: "Agent inspection data (upstream 1.84, and 1.1): served by each site's Ironic, not by the proxy.",
  },
];

export const AGENT_REDACTIONS: readonly FieldRedaction[] = [];

/** Checked against a real Ironic 21.4. */
export const PECAN_FORMS_REFUSED: readonly RefusedForm[] = [
  {
    method: 'POST',
    example: 'POST /v1/heartbeat?node_ident=<ident> (or {"node_ident": …, "callback_url": …} as the JSON body)',
    why: `${PECAN_WHY.queryArg}: node_ident is the heartbeat handler's first argument.`,
  },
];
