/**
 * Ports (ironic/api/controllers/v1/port.py, PortsController at /v1/ports).
 * The node-scoped listing /v1/nodes/{node_ident}/ports is in nodes.ts, a
 * portgroup's ports in portgroups.ts.
 *
 * Before any policy, for every form: the microversion header (406 outside
 * 1.1…max); `args.validate` of the handler's arguments (400: port_uuid must
 * be a UUID — port names only come with 1.88, newer than 21.4 —, node_uuid a
 * UUID, node and portgroup a UUID or logical name, address a MAC, marker a
 * UUID, limit an integer, detail a boolean, fields and shard comma lists);
 * and any query parameter the handler does not take is a 400 "Unexpected
 * arguments: <names>" (Ironic drops none silently).
 *
 * ── GET /v1/ports, GET /v1/ports/detail: check_port_list_policy() ────────
 *   1. baremetal:port:list_all, the caller's credentials as target: allowed
 *      → every port.
 *   2. denied: a caller without project_id → 403 (port:list_all); else
 *      baremetal:port:list (403) and the listing is restricted to ports whose
 *      NODE has the caller's project as owner OR lessee.
 *   The filters play NO part in the policy: `node`, `node_uuid` and
 *   `portgroup` are not checked for visibility. A restricted caller naming
 *   another project's node gets an empty page (200), not a 404; a node or
 *   portgroup that does not exist is a 404 ("Node/Portgroup <ident> could not
 *   be found."), whoever asks — existence of a node leaks to any caller with
 *   port:list, as in Ironic.
 *   3. then (GET /v1/ports) fields below 1.8 → 406, a field or sort_key newer
 *      than the version → 406 (pxe_enabled/local_link_connection 1.19,
 *      portgroup_uuid 1.24, physical_network 1.34, is_smartnic 1.53,
 *      local_link_connection/network_type 1.64); `portgroup` below 1.24 →
 *      406; `shard` below 1.82 → 406; `detail` below 1.43 → 400; `fields`
 *      with detail=true → 400; a `node` that is not UUID-like below 1.5
 *      (without node_uuid) → 406. /detail: sort_key, portgroup, shard, node
 *      checks, then 404 unless the path's parent segment is `ports`.
 *   4. which filter: `node_uuid` wins over `node` when both are given (the
 *      other is ignored; no error). Naming more than one of {node or
 *      node_uuid, portgroup, shard} → 403 "Operation not permitted." Then the
 *      first set of: portgroup, node, address, shard, else all — so
 *      `address` is ignored beside a node or portgroup, and `shard` is
 *      ignored beside an `address` (checked against Ironic 21.4).
 *   5. limit ≤ 0 → 400 (capped at [api]max_limit), sort_dir → 400, sort_key
 *      extra/internal_info/local_link_connection → 400, a marker that is no
 *      port → 404 (the marker is not policy-checked). Ports whose node was
 *      deleted meanwhile are skipped. Without fields/detail GET /v1/ports
 *      returns uuid and address (+ links).
 *
 * ── GET/PATCH/DELETE /v1/ports/{port_uuid}: check_port_policy_and_retrieve
 *   (PATCH first validates the patch: allowed paths → 400, version of the
 *   patched fields → 406, both BEFORE the lookup and the policy.)
 *   1. the port, by UUID: none → 404 "Port <uuid> could not be found.",
 *      before any policy.
 *   2. baremetal:node:get with target node.owner and node.lessee (both keys
 *      always set, None when the node vanished): denied → the SAME 404, for
 *      every caller (system-scoped ones too): existence is concealed.
 *   3. the form's rule (port:get / port:update / port:delete), same target →
 *      403 "Access was denied to the following resource: <rule>".
 *   4. GET: fields below 1.8 or naming a field newer than the version → 406.
 *   PATCH afterwards: a portgroup_uuid or node_uuid that does not exist →
 *   400; the node INSPECTING (1.39+) → 409. Moving a port to another node
 *   checks no policy on the new node (only the port's current node counts).
 *
 * ── POST /v1/ports: create-on-node ────────────────────────────────────────
 *   1. body schema (400); required address and node_uuid.
 *   2. the node of `node_uuid` (by UUID) and baremetal:node:get on it
 *      (concealed): missing or not visible → the node counts as unknown
 *      (owner = lessee = None).
 *   3. baremetal:port:create with target node.owner (+ node.lessee when set)
 *      → 403: a project-scoped caller naming a missing or invisible node is
 *      refused 403, not told it is missing.
 *   4. then a missing/invisible node → 400 "Node <uuid> could not be found.";
 *      body fields newer than the version → 406; portgroup_uuid not found →
 *      400, on another node → 400; pxe_enabled into a portgroup without
 *      standalone ports → 409.
 *
 * Version gate: none (ports exist since 1.1).
 */
import { PATCH_BODY, PORT_CREATE_CHECK, createBody } from '../body.js';
import type { ApiEntry } from '../types.js';
import { PECAN_WHY, type FieldRedaction, type RefusedForm } from './shapes.js';

const PORT = { kind: 'port', param: 'port_uuid', uuidOnly: { namesSince: 88 } } as const;

/** PortsController.get_all keyword arguments, in the handler's order. */
export const PORT_LIST_QUERY = [
  'node',
  'node_uuid',
  'address',
  'marker',
  'limit',
  'sort_key',
  'sort_dir',
  'fields',
  'portgroup',
  'detail',
  'shard',
] as const;

/** PortsController.detail: the same without `fields` and `detail` (either → 400 "Unexpected arguments"). */
export const PORT_DETAIL_QUERY = PORT_LIST_QUERY.filter((q) => q !== 'fields' && q !== 'detail');

/**
 * The listing's filters as Ironic resolves them: `node_uuid` over `node`;
 * at most one of `exclusive` (else 403 "Operation not permitted."); then the
 * first of `precedence` that is set is the only filter used.
 */
export const PORT_LIST_FILTERS = {
  nodeParams: ['node_uuid', 'node'],
  exclusive: [['node_uuid', 'node'], ['portgroup'], ['shard']],
  precedence: ['portgroup', 'node', 'address', 'shard'],
} as const;

export const PORT_ENTRIES: readonly ApiEntry[] = [
  {
    method: 'GET',
    path: '/v1/ports',
    query: PORT_LIST_QUERY,
    since: 1,
    authz: { check: 'list', kind: 'port' },
    engine: 'port.list',
    doc: 'List ports (list_all, else list restricted to ports of nodes the project owns or leases); merged over all sites.',
  },
  {
    method: 'GET',
    path: '/v1/ports/detail',
    query: PORT_DETAIL_QUERY,
    since: 1,
    authz: { check: 'list', kind: 'port' },
    engine: 'port.list',
    doc: 'List ports with every field; same policy as GET /v1/ports.',
  },
  {
    method: 'GET',
    path: '/v1/ports/{port_uuid}',
    object: PORT,
    query: ['fields'],
    since: 1,
    authz: { check: 'node-object', rules: ['baremetal:port:get'] },
    engine: 'port.show',
    doc: "Show a port (its node's visibility conceals it); from the port's site.",
  },
  {
    method: 'POST',
    path: '/v1/ports',
    query: [],
    since: 1,
    authz: { check: 'create-on-node', rules: ['baremetal:port:create'] },
    engine: 'port.create',
    body: createBody('port', PORT_CREATE_CHECK),
    doc: "Create a port on node_uuid (rule checked with that node's owner/lessee); sent to the node's site, MAC unique over all sites.",
  },
  {
    method: 'PATCH',
    path: '/v1/ports/{port_uuid}',
    object: PORT,
    query: [],
    since: 1,
    authz: { check: 'node-object', rules: ['baremetal:port:update'] },
    engine: 'port.update',
    body: PATCH_BODY,
    doc: "Update a port; at the port's site (no move to another site's node).",
  },
  {
    method: 'DELETE',
    path: '/v1/ports/{port_uuid}',
    object: PORT,
    query: [],
    since: 1,
    authz: { check: 'node-object', rules: ['baremetal:port:delete'] },
    engine: 'port.delete',
    doc: "Delete a port at the port's site.",
  },
];

/**
 * Ports carry no secret: port_sanitize only hides fields newer than the
 * request's version (internal_info is shown to anyone allowed port:get).
 */
export const PORT_REDACTIONS: readonly FieldRedaction[] = [
  { field: 'internal_info', when: 'below', minor: 18, action: 'remove' },
  { field: 'pxe_enabled', when: 'below', minor: 19, action: 'remove' },
  { field: 'local_link_connection', when: 'below', minor: 19, action: 'remove' },
  { field: 'portgroup_uuid', when: 'below', minor: 24, action: 'remove' },
  { field: 'physical_network', when: 'below', minor: 34, action: 'remove' },
  { field: 'is_smartnic', when: 'below', minor: 53, action: 'remove' },
];

/** Checked against a real Ironic 21.4. */
export const PECAN_FORMS_REFUSED: readonly RefusedForm[] = [
  {
    method: 'GET',
    example: 'GET /v1/ports/<port_uuid>/address',
    why: `${PECAN_WHY.fieldsSegment} (same as ?fields=address).`,
  },
  {
    method: 'PATCH',
    example: 'PATCH /v1/ports?port_uuid=<uuid>',
    why: `${PECAN_WHY.queryArg}: port_uuid is the patch handler's argument.`,
  },
  {
    method: 'DELETE',
    example: 'DELETE /v1/ports?port_uuid=<uuid>',
    why: `${PECAN_WHY.queryArg}: port_uuid is the delete handler's argument.`,
  },
  {
    method: 'DELETE',
    example: 'DELETE /v1/ports with the JSON body {"port_uuid": "<uuid>"}',
    why: `${PECAN_WHY.queryArg}: a JSON object body of a DELETE names the argument too.`,
  },
];
