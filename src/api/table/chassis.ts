/**
 * Chassis (ironic/api/controllers/v1/chassis.py) and a chassis' nodes
 * (/v1/chassis/{chassis_uuid}/nodes, served by node.py's NodesController
 * with from_chassis = True). Chassis are global objects: the same UUID at
 * every site, writes replicated (docs/federation/global-objects.md).
 *
 * Before any policy: the microversion header (406); `args.validate`
 * (chassis_uuid a UUID for GET/DELETE — but ANY string for PATCH —, marker
 * a UUID, limit an integer, detail a boolean, fields a list → 400); a POST
 * body is schema-checked first (400); any query parameter the handler does
 * not take → 400 "Unexpected arguments" (GET /v1/chassis/detail takes no
 * `fields`/`detail`).
 *
 * ── Every chassis form: check_policy(rule), FIRST ─────────────────────────
 *   The caller's own credentials are the target (chassis have no owner):
 *   baremetal:chassis:get for GET (list, detail, one), :create, :update,
 *   :delete. Defaults are system-scope only (get: system reader or service;
 *   create/delete: system admin; update: system member or service): a
 *   project-scoped caller is refused 403 whatever the chassis. The policy
 *   comes BEFORE the lookup: a missing chassis is 403 for a caller who may
 *   not act, 404 "Chassis <uuid> could not be found." for one who may.
 *   Then fields below 1.8 → 406; detail below 1.43 → 400; fields with
 *   detail=true → 400; sort_key extra → 400; marker → 404. /detail answers
 *   404 unless its parent segment is `chassis`. Default list fields: uuid,
 *   description (+ links). DELETE of a chassis with nodes → 400 (site).
 *
 * ── GET /v1/chassis/{chassis_uuid}/nodes[/detail] ────────────────────────
 *   NO chassis policy at all: the node LIST policy, check_list_policy('node',
 *   project) — baremetal:node:list_all, else baremetal:node:list restricted
 *   to nodes the caller's project owns or leases (`project` naming another
 *   project → 403 list_all; no project_id → 403) — then the node listing's
 *   parameter checks (see nodes.ts), then the chassis lookup: a chassis that
 *   does not exist → 404 "Chassis <uuid> could not be found." (so a
 *   project-scoped caller learns which chassis exist). The path's chassis
 *   is the `chassis_uuid` argument: `?chassis_uuid=` beside it is a 500
 *   ("got multiple values"). GET/PATCH/DELETE …/nodes/{node_ident} and POST
 *   …/nodes are refused by Ironic (403 "Operation not permitted." / 400):
 *   no entry.
 */
import { PATCH_BODY, createBody } from '../body.js';
import type { ApiEntry } from '../types.js';
import { PECAN_WHY, type FieldRedaction, type RefusedForm } from './shapes.js';

const CHASSIS = { kind: 'chassis', param: 'chassis_uuid' } as const;

/** ChassisController.get_all keyword arguments. */
export const CHASSIS_LIST_QUERY = ['marker', 'limit', 'sort_key', 'sort_dir', 'fields', 'detail'] as const;

/**
 * NodesController.get_all keyword arguments without `chassis_uuid`, which
 * the path gives (nodes.ts has the node listing's own list).
 */
export const CHASSIS_NODES_QUERY = [
  'instance_uuid',
  'associated',
  'maintenance',
  'retired',
  'provision_state',
  'marker',
  'limit',
  'sort_key',
  'sort_dir',
  'driver',
  'fields',
  'resource_class',
  'fault',
  'conductor_group',
  'detail',
  'conductor',
  'owner',
  'description_contains',
  'lessee',
  'project',
  'shard',
  'sharded',
] as const;

/** NodesController.detail: the same without `fields` and `detail`. */
export const CHASSIS_NODES_DETAIL_QUERY = CHASSIS_NODES_QUERY.filter((q) => q !== 'fields' && q !== 'detail');

const CHASSIS_NODES_AUTHZ = { check: 'list', kind: 'node', ownerParam: 'project' } as const;

/**
 * Segments Ironic never routes as a {chassis_uuid}: `detail` (its static
 * entry comes first) and `nodes` (the node listing without a chassis:
 * 400 "Chassis id not specified."). A request naming `nodes` as the
 * chassis matches no entry.
 */
export const CHASSIS_RESERVED_NAMES: readonly string[] = ['detail', 'nodes'];

export const CHASSIS_ENTRIES: readonly ApiEntry[] = [
  {
    method: 'GET',
    path: '/v1/chassis',
    query: CHASSIS_LIST_QUERY,
    since: 1,
    authz: { check: 'policy', rules: ['baremetal:chassis:get'] },
    engine: 'chassis.list',
    doc: 'List chassis (global objects: read from one site).',
  },
  {
    method: 'GET',
    path: '/v1/chassis/detail',
    query: ['marker', 'limit', 'sort_key', 'sort_dir'],
    since: 1,
    authz: { check: 'policy', rules: ['baremetal:chassis:get'] },
    engine: 'chassis.list',
    doc: 'List chassis with every field.',
  },
  {
    method: 'GET',
    path: '/v1/chassis/{chassis_uuid}',
    object: CHASSIS,
    query: ['fields'],
    since: 1,
    authz: { check: 'policy', rules: ['baremetal:chassis:get'] },
    engine: 'chassis.show',
    doc: 'Show a chassis (policy before lookup: 403 before 404).',
  },
  {
    method: 'POST',
    path: '/v1/chassis',
    query: [],
    since: 1,
    authz: { check: 'policy', rules: ['baremetal:chassis:create'] },
    engine: 'chassis.create',
    body: createBody('chassis'),
    doc: 'Create a chassis at every site (one UUID), all or none.',
  },
  {
    method: 'PATCH',
    path: '/v1/chassis/{chassis_uuid}',
    object: CHASSIS,
    query: [],
    since: 1,
    authz: { check: 'policy', rules: ['baremetal:chassis:update'] },
    engine: 'chassis.update',
    body: PATCH_BODY,
    doc: 'Update a chassis at every site.',
  },
  {
    method: 'DELETE',
    path: '/v1/chassis/{chassis_uuid}',
    object: CHASSIS,
    query: [],
    since: 1,
    authz: { check: 'policy', rules: ['baremetal:chassis:delete'] },
    engine: 'chassis.delete',
    doc: 'Delete a chassis at every site (refused while any site has nodes in it).',
  },
  {
    method: 'GET',
    path: '/v1/chassis/{chassis_uuid}/nodes',
    object: CHASSIS,
    query: CHASSIS_NODES_QUERY,
    since: 1,
    authz: { ...CHASSIS_NODES_AUTHZ },
    engine: 'chassis.nodes',
    doc: "The chassis' nodes: node list policy only (no chassis rule); merged over all sites.",
  },
  {
    method: 'GET',
    path: '/v1/chassis/{chassis_uuid}/nodes/detail',
    object: CHASSIS,
    query: CHASSIS_NODES_DETAIL_QUERY,
    since: 1,
    authz: { ...CHASSIS_NODES_AUTHZ },
    engine: 'chassis.nodes',
    doc: "The chassis' nodes with every field; merged over all sites.",
  },
];

/**
 * Chassis carry no secret and Ironic hides none of their fields. (Quirk of
 * 21.4, checked against a real one: a chassis' `nodes` links are a list
 * INSIDE a list — `"nodes": [[{self}, {bookmark}]]` — from a stray comma in
 * chassis.convert_with_links; a link rewriter must go one level deeper.)
 */
export const CHASSIS_REDACTIONS: readonly FieldRedaction[] = [];

/** Checked against a real Ironic 21.4. */
export const PECAN_FORMS_REFUSED: readonly RefusedForm[] = [
  {
    method: 'GET',
    example: 'GET /v1/chassis/<chassis_uuid>/description',
    why: `${PECAN_WHY.fieldsSegment} (same as ?fields=description).`,
  },
  {
    method: 'PATCH',
    example: 'PATCH /v1/chassis?chassis_uuid=<uuid>',
    why: `${PECAN_WHY.queryArg}: chassis_uuid is the patch handler's argument.`,
  },
  {
    method: 'DELETE',
    example: 'DELETE /v1/chassis?chassis_uuid=<uuid> (or {"chassis_uuid": …} as a JSON body)',
    why: `${PECAN_WHY.queryArg}: chassis_uuid is the delete handler's argument.`,
  },
  {
    method: 'GET',
    example: 'GET /v1/chassis/nodes?chassis_uuid=<uuid>, GET /v1/chassis/nodes/detail?chassis_uuid=<uuid>',
    why: `${PECAN_WHY.queryArg}: the chassis' nodes with the chassis as a query parameter of the node listing.`,
  },
];
