/**
 * The volume API (1.32): GET /v1/volume (volume.py), volume connectors
 * (volume_connector.py) and volume targets (volume_target.py). The
 * node-scoped forms /v1/nodes/{node_ident}/volume… are in nodes.ts.
 *
 * Before any policy: the microversion header (406); below 1.32 every form
 * here is a 404 (VolumeController.get / _lookup; a POST's body is still
 * validated first); `args.validate` (connector_uuid / target_uuid must be
 * UUIDs — there is no /detail, GET …/connectors/detail is a 400 "Expected
 * UUID" —, node a UUID or logical name, marker a UUID, limit an integer,
 * detail a boolean, fields a list → 400); any other query parameter → 400
 * "Unexpected arguments" (GET /v1/volume, which has no args.validate, → 500).
 *
 * ── GET /v1/volume: check_policy('baremetal:volume:get') ──────────────────
 *   The caller's own credentials are the target (no node.owner): with the
 *   default rule only system readers / the service role pass; a
 *   project-scoped reader is refused 403. Links only, no site data.
 *
 * ── GET /v1/volume/connectors, GET /v1/volume/targets ────────────────────
 *   check_volume_list_policy() (no parent here):
 *   baremetal:volume:list_all (caller's credentials) → everything; else a
 *   caller with a project_id needs baremetal:volume:list (403) and sees the
 *   objects whose NODE its project owns or leases; no project_id → 403
 *   (volume:list_all). The `node` filter is not policy-checked (another
 *   project's node: empty page; a missing node: 404 "Node <ident> could not
 *   be found."). `project` is a bound argument (no validator) whose value is
 *   overwritten by the policy's result: it filters nothing. Then fields with
 *   detail=true → 400 "Can't fetch a subset of fields with 'detail' set";
 *   sort_key extra (targets: extra, properties) → 400; marker → 404. Default
 *   fields: connectors uuid, connector_id, type, node_uuid; targets uuid,
 *   node_uuid, volume_type, boot_index, volume_id.
 *
 * ── GET/PATCH/DELETE /v1/volume/{connectors|targets}/{uuid} ──────────────
 *   check_volume_policy_and_retrieve(rule, uuid):
 *   1. the object by UUID: none → 404 "Volume connector|target <uuid> could
 *      not be found." (before any policy);
 *   2. baremetal:node:get, target node.owner and node.lessee of its node
 *      (both keys set) → denied: the same 404, for every caller;
 *   3. the rule (volume:get / volume:update / volume:delete) → 403.
 *   PATCH then validates the patch (allowed paths, node_uuid UUID → 400); a
 *   new node_uuid that does not exist → 400 (no policy on the new node); the
 *   conductor refuses changes unless the node is powered off (400).
 *
 * ── POST /v1/volume/connectors, /targets: create-on-node ─────────────────
 *   body schema (400) → node of node_uuid (by UUID) + baremetal:node:get
 *   (concealed; missing/invisible = owner None) → baremetal:volume:create
 *   with that node's owner (+ lessee when set) → 403 → a missing/invisible
 *   node → 400 (InvalidInput on node_uuid). The default volume:create rule
 *   lets a LESSEE's admin/manager create too (unlike ports).
 *
 * Which rule the volume forms use: all of them are baremetal:volume:*
 * (get, list, list_all, create, update, delete); connectors and targets
 * share them.
 */
import { PATCH_BODY, createBody } from '../body.js';
import type { ApiEntry } from '../types.js';
import { PECAN_WHY, type FieldRedaction, type RefusedForm } from './shapes.js';

const CONNECTOR = { kind: 'volume_connector', param: 'connector_uuid', uuidOnly: {} } as const;
const TARGET = { kind: 'volume_target', param: 'target_uuid', uuidOnly: {} } as const;

/** VolumeConnectorsController/VolumeTargetsController.get_all keyword arguments (`project` is inert). */
export const VOLUME_LIST_QUERY = ['node', 'marker', 'limit', 'sort_key', 'sort_dir', 'fields', 'detail', 'project'] as const;

const VOLUME_LIST_AUTHZ = { check: 'list', kind: 'volume' } as const;

export const VOLUME_ENTRIES: readonly ApiEntry[] = [
  {
    method: 'GET',
    path: '/v1/volume',
    query: [],
    since: 32,
    authz: { check: 'policy', rules: ['baremetal:volume:get'] },
    engine: 'volume.root',
    doc: 'Links to the volume connectors and targets collections; answered by the proxy.',
  },

  // ── connectors ───────────────────────────────────────────────────────────
  {
    method: 'GET',
    path: '/v1/volume/connectors',
    query: VOLUME_LIST_QUERY,
    since: 32,
    authz: { ...VOLUME_LIST_AUTHZ },
    engine: 'volume_connector.list',
    doc: 'List volume connectors (volume list_all, else list restricted to nodes the project owns or leases); merged over all sites.',
  },
  {
    method: 'GET',
    path: '/v1/volume/connectors/{connector_uuid}',
    object: CONNECTOR,
    query: ['fields'],
    since: 32,
    authz: { check: 'node-object', rules: ['baremetal:volume:get'] },
    engine: 'volume_connector.show',
    doc: "Show a volume connector (its node's visibility conceals it); from its site.",
  },
  {
    method: 'POST',
    path: '/v1/volume/connectors',
    query: [],
    since: 32,
    authz: { check: 'create-on-node', rules: ['baremetal:volume:create'] },
    engine: 'volume_connector.create',
    body: createBody('connector', undefined, { required: ['connector_id', 'node_uuid', 'type'] }),
    doc: "Create a volume connector on node_uuid; sent to the node's site.",
  },
  {
    method: 'PATCH',
    path: '/v1/volume/connectors/{connector_uuid}',
    object: CONNECTOR,
    query: [],
    since: 32,
    authz: { check: 'node-object', rules: ['baremetal:volume:update'] },
    engine: 'volume_connector.update',
    body: PATCH_BODY,
    doc: 'Update a volume connector at its site.',
  },
  {
    method: 'DELETE',
    path: '/v1/volume/connectors/{connector_uuid}',
    object: CONNECTOR,
    query: [],
    since: 32,
    authz: { check: 'node-object', rules: ['baremetal:volume:delete'] },
    engine: 'volume_connector.delete',
    doc: 'Delete a volume connector at its site.',
  },

  // ── targets ──────────────────────────────────────────────────────────────
  {
    method: 'GET',
    path: '/v1/volume/targets',
    query: VOLUME_LIST_QUERY,
    since: 32,
    authz: { ...VOLUME_LIST_AUTHZ },
    engine: 'volume_target.list',
    doc: 'List volume targets (properties redacted without view_target_properties); merged over all sites.',
  },
  {
    method: 'GET',
    path: '/v1/volume/targets/{target_uuid}',
    object: TARGET,
    query: ['fields'],
    since: 32,
    authz: { check: 'node-object', rules: ['baremetal:volume:get'] },
    engine: 'volume_target.show',
    doc: "Show a volume target (its node's visibility conceals it; properties redacted per VOLUME_TARGET_REDACTIONS).",
  },
  {
    method: 'POST',
    path: '/v1/volume/targets',
    query: [],
    since: 32,
    authz: { check: 'create-on-node', rules: ['baremetal:volume:create'] },
    engine: 'volume_target.create',
    body: createBody('target', undefined, { required: ['boot_index', 'node_uuid', 'volume_id', 'volume_type'] }),
    doc: "Create a volume target on node_uuid; sent to the node's site.",
  },
  {
    method: 'PATCH',
    path: '/v1/volume/targets/{target_uuid}',
    object: TARGET,
    query: [],
    since: 32,
    authz: { check: 'node-object', rules: ['baremetal:volume:update'] },
    engine: 'volume_target.update',
    body: PATCH_BODY,
    doc: 'Update a volume target at its site.',
  },
  {
    method: 'DELETE',
    path: '/v1/volume/targets/{target_uuid}',
    object: TARGET,
    query: [],
    since: 32,
    authz: { check: 'node-object', rules: ['baremetal:volume:delete'] },
    engine: 'volume_target.delete',
    doc: 'Delete a volume target at its site.',
  },
];

/** Volume connectors: nothing hidden. */
export const VOLUME_CONNECTOR_REDACTIONS: readonly FieldRedaction[] = [];

/**
 * Volume targets, in Ironic's order: GET one, every target of a listing and
 * the body a PATCH answers get `properties` REPLACED when the caller is
 * denied baremetal:volume:view_target_properties (caller's credentials as
 * target, no owner: with the defaults only system readers, the service
 * role and `role:admin` of any scope see them); then — on whatever
 * `properties` now is, and also in the body a POST answers, which is never
 * replaced — secret-looking keys are masked. (Checked against Ironic 21.4:
 * `auth_password` shows as "******" even to an admin.)
 */
export const VOLUME_TARGET_REDACTIONS: readonly FieldRedaction[] = [
  {
    field: 'properties',
    when: 'rule',
    rule: 'baremetal:volume:view_target_properties',
    action: 'replace',
    replacement: {
      redacted_contents: '** Value redacted: Requires permission baremetal:volume:view_target_properties access. Permission denied. **',
    },
  },
  { field: 'properties', when: 'always', action: 'mask-secrets' },
];

/** Checked against a real Ironic 21.4. */
export const PECAN_FORMS_REFUSED: readonly RefusedForm[] = [
  {
    method: 'GET',
    example: 'GET /v1/volume/connectors/<uuid>/type, GET /v1/volume/targets/<uuid>/properties',
    why: `${PECAN_WHY.fieldsSegment}.`,
  },
  {
    method: 'PATCH',
    example: 'PATCH /v1/volume/connectors?connector_uuid=<uuid> (targets: ?target_uuid=)',
    why: `${PECAN_WHY.queryArg}.`,
  },
  {
    method: 'DELETE',
    example: 'DELETE /v1/volume/connectors?connector_uuid=<uuid> (targets: ?target_uuid=; or the argument in a JSON object body)',
    why: `${PECAN_WHY.queryArg}.`,
  },
];
