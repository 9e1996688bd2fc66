/**
 * Portgroups (ironic/api/controllers/v1/portgroup.py, 1.23) and a
 * portgroup's ports (/v1/portgroups/{portgroup_ident}/ports, 1.24, served by
 * port.py's PortsController). /v1/nodes/{node_ident}/portgroups is in
 * nodes.ts.
 *
 * Before any policy: the microversion header (406); below 1.23 every form
 * here is a 404 (a POST first has its body validated: 400 beats that 404);
 * `args.validate` (portgroup_ident a UUID or logical name, node too, address
 * a MAC, marker a UUID, limit an integer, detail a boolean, fields a list →
 * 400) and any query parameter the handler does not take → 400 "Unexpected
 * arguments: <names>".
 *
 * ── GET /v1/portgroups, /detail: check_port_list_policy(portgroup=True) ──
 *   baremetal:portgroup:list_all (caller's credentials) → every portgroup;
 *   else, for a caller with a project_id, baremetal:portgroup:list (403) and
 *   only portgroups whose NODE the project owns or leases; no project_id →
 *   403 (portgroup:list_all). The `node` filter is not policy-checked: a
 *   restricted caller naming another project's node gets an empty page; a
 *   missing node → 404 "Node <ident> could not be found.". Then fields or
 *   sort_key `mode`/`properties` below 1.26 → 406, detail below 1.43 → 400,
 *   fields with detail=true → 400. Filter: `node` wins, `address` is then
 *   ignored (checked against Ironic 21.4); sort_key extra/internal_info/
 *   properties → 400; marker no portgroup → 404. Default fields: uuid,
 *   address, name (+ links).
 *
 * ── GET/PATCH/DELETE /v1/portgroups/{portgroup_ident} ─────────────────────
 *   check_port_policy_and_retrieve(rule, ident, portgroup=True):
 *   1. the portgroup by UUID or name: none → 404 "Portgroup <ident> could
 *      not be found." (before any policy);
 *   2. baremetal:node:get with target node.owner and node.lessee of its node
 *      → denied: the same 404, for every caller;
 *   3. the rule (portgroup:get / :update / :delete) → 403.
 *   Then GET: fields mode/properties below 1.26 → 406. PATCH (AFTER the
 *   policy, unlike ports): mode/properties below 1.26 → 406, allowed paths →
 *   400, invalid name → 400, a node_uuid that does not exist → 400, node
 *   INSPECTING → 409.
 *
 * ── POST /v1/portgroups: create-on-node (as ports) ───────────────────────
 *   body schema (400) → below 1.23 404 → node of node_uuid (by UUID) and
 *   baremetal:node:get on it (concealed; missing/invisible = owner None) →
 *   baremetal:portgroup:create with that node's owner (+ lessee) → 403 → a
 *   missing/invisible node → 400 "Node <uuid> could not be found." → mode/
 *   properties below 1.26 → 406, invalid name → 400.
 *
 * ── GET /v1/portgroups/{portgroup_ident}/ports[/detail] ───────────────────
 *   routing: the ident must be a UUID or a logical name (400), `ports` below
 *   1.24 → 404. check_port_list_policy(parent_portgroup=ident):
 *   1. the portgroup is looked up BY UUID ONLY: a portgroup NAME is
 *      404 "Portgroup <name> could not be found." even when it exists
 *      (checked against Ironic 21.4), like a missing portgroup;
 *   2. baremetal:node:get on the portgroup's node (owner/lessee) → denied:
 *      404 "Portgroup <ident> could not be found.";
 *   3. baremetal:port:list_all, else port:list restricted to the caller's
 *      project (ports of nodes it owns or leases), no project → 403 — the
 *      PORT rules, not the portgroup ones.
 *   Then as GET /v1/ports: the `portgroup` parameter is overridden by the
 *   path; `node`, `node_uuid` or `shard` beside it → 403 "Operation not
 *   permitted."; `address` is ignored. `next` links point at /v1/ports.
 *   GET/PATCH/DELETE …/ports/{port_uuid} and POST …/ports are refused by
 *   Ironic too (403 "Operation not permitted.", before any policy): no entry.
 */
import { PATCH_BODY, createBody } from '../body.js';
import type { ApiEntry } from '../types.js';
import { PORT_DETAIL_QUERY, PORT_LIST_QUERY } from './ports.js';
import { PECAN_WHY, type FieldRedaction, type RefusedForm } from './shapes.js';

const PORTGROUP = { kind: 'portgroup', param: 'portgroup_ident' } as const;

/** PortgroupsController.get_all keyword arguments, in the handler's order. */
export const PORTGROUP_LIST_QUERY = ['node', 'address', 'marker', 'limit', 'sort_key', 'sort_dir', 'fields', 'detail'] as const;

/** PortgroupsController.detail: without `fields` and `detail`. */
export const PORTGROUP_DETAIL_QUERY = PORTGROUP_LIST_QUERY.filter((q) => q !== 'fields' && q !== 'detail');

const PORTGROUP_PORTS_AUTHZ = { check: 'list', kind: 'port', parentPortgroup: 'portgroup_ident' } as const;

export const PORTGROUP_ENTRIES: readonly ApiEntry[] = [
  {
    method: 'GET',
    path: '/v1/portgroups',
    query: PORTGROUP_LIST_QUERY,
    since: 23,
    authz: { check: 'list', kind: 'portgroup' },
    engine: 'portgroup.list',
    doc: 'List portgroups (list_all, else list restricted to portgroups of nodes the project owns or leases); merged over all sites.',
  },
  {
    method: 'GET',
    path: '/v1/portgroups/detail',
    query: PORTGROUP_DETAIL_QUERY,
    since: 23,
    authz: { check: 'list', kind: 'portgroup' },
    engine: 'portgroup.list',
    doc: 'List portgroups with every field; same policy as GET /v1/portgroups.',
  },
  {
    method: 'GET',
    path: '/v1/portgroups/{portgroup_ident}',
    object: PORTGROUP,
    query: ['fields'],
    since: 23,
    authz: { check: 'node-object', rules: ['baremetal:portgroup:get'] },
    engine: 'portgroup.show',
    doc: "Show a portgroup by UUID or name (its node's visibility conceals it); from its site.",
  },
  {
    method: 'POST',
    path: '/v1/portgroups',
    query: [],
    since: 23,
    authz: { check: 'create-on-node', rules: ['baremetal:portgroup:create'] },
    engine: 'portgroup.create',
    body: createBody('portgroup', undefined, { required: ['node_uuid'] }),
    doc: "Create a portgroup on node_uuid (rule checked with that node's owner/lessee); sent to the node's site.",
  },
  {
    method: 'PATCH',
    path: '/v1/portgroups/{portgroup_ident}',
    object: PORTGROUP,
    query: [],
    since: 23,
    authz: { check: 'node-object', rules: ['baremetal:portgroup:update'] },
    engine: 'portgroup.update',
    body: PATCH_BODY,
    doc: "Update a portgroup at its site (no move to another site's node).",
  },
  {
    method: 'DELETE',
    path: '/v1/portgroups/{portgroup_ident}',
    object: PORTGROUP,
    query: [],
    since: 23,
    authz: { check: 'node-object', rules: ['baremetal:portgroup:delete'] },
    engine: 'portgroup.delete',
    doc: 'Delete a portgroup at its site.',
  },
  {
    method: 'GET',
    path: '/v1/portgroups/{portgroup_ident}/ports',
    object: PORTGROUP,
    // PortsController.get_all: `portgroup` is overridden by the path; node/node_uuid/shard → 403; address ignored.
    query: PORT_LIST_QUERY,
    since: 24,
    authz: { ...PORTGROUP_PORTS_AUTHZ },
    engine: 'portgroup.ports',
    doc: "The portgroup's ports (portgroup UUID only: a name is its 404); port list rules; from the portgroup's site.",
  },
  {
    method: 'GET',
    path: '/v1/portgroups/{portgroup_ident}/ports/detail',
    object: PORTGROUP,
    query: PORT_DETAIL_QUERY,
    since: 24,
    authz: { ...PORTGROUP_PORTS_AUTHZ },
    engine: 'portgroup.ports',
    doc: "The portgroup's ports with every field (portgroup UUID only).",
  },
];

/** Portgroups carry no secret and Ironic hides none of their fields (mode/properties are only refused in ?fields below 1.26). */
export const PORTGROUP_REDACTIONS: readonly FieldRedaction[] = [];

/** Checked against a real Ironic 21.4. */
export const PECAN_FORMS_REFUSED: readonly RefusedForm[] = [
  {
    method: 'GET',
    example: 'GET /v1/portgroups/<portgroup_ident>/name',
    why: `${PECAN_WHY.fieldsSegment} (same as ?fields=name).`,
  },
  {
    method: 'PATCH',
    example: 'PATCH /v1/portgroups?portgroup_ident=<ident>',
    why: `${PECAN_WHY.queryArg}: portgroup_ident is the patch handler's argument.`,
  },
  {
    method: 'DELETE',
    example: 'DELETE /v1/portgroups?portgroup_ident=<ident>',
    why: `${PECAN_WHY.queryArg}: portgroup_ident is the delete handler's argument.`,
  },
  {
    method: 'DELETE',
    example: 'DELETE /v1/portgroups with the JSON body {"portgroup_ident": "<ident>"}',
    why: `${PECAN_WHY.queryArg}.`,
  },
];
