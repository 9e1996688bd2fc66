/**
 * The node API of Ironic 21.4 (API 1.1 … 1.82) as table entries: every
 * request form Ironic's NodesController (ironic/api/controllers/v1/node.py)
 * and its node-scoped sub-controllers (bios.py, port.py, portgroup.py,
 * volume*.py, allocation.py) serve, in the order Ironic routes them. What is
 * not here is refused by the proxy and never reaches a site; the forms that
 * pecan's routing also accepts but the proxy refuses are PECAN_FORMS_REFUSED
 * below.
 *
 * ── How Ironic 21.4 authorises, pattern by pattern ────────────────────────
 *
 * Before any policy, for every form under /v1/nodes/{node_ident}…:
 *   - the microversion header is checked (406 outside 1.1 … max);
 *   - an ident that is neither UUID-like nor a valid logical name is a 400
 *     (NodesController._lookup or the handler's `args.validate`);
 *   - query parameters (and, for non-GET requests, the keys of a JSON object
 *     body) become keyword arguments of the handler; one the handler does not
 *     take is a 400 "Unexpected arguments: <names>" (handlers without
 *     `args.validate` — GET …/traits, GET …/vifs, GET …/volume, DELETE
 *     …/allocation — answer 500 instead).
 *     Ironic never drops an unknown parameter silently, except for
 *     GET …/management/indicators, whose handler takes **kwargs.
 *   - sub-resources newer than the request's microversion are a 404 from
 *     routing (portgroups 24, vifs 28, volume 32, bios 40, allocation 52,
 *     history 78, inventory 81, inject_nmi 29); other gates are noted per
 *     entry (`belowSince`).
 *
 * 'node' — api_utils.check_node_policy_and_retrieve(rule, ident):
 *   1. look the node up: a UUID-like ident by UUID; else, from 1.5, by name
 *      (below 1.5 a name is NodeNotFound; validate answers 406 instead).
 *      A node that does not exist → 404 "Node <ident> could not be found.",
 *      BEFORE any policy check: existence is not concealed from anyone.
 *   2. `baremetal:node:get`, target = caller's credentials + node.owner
 *      (+ node.lessee when set). Denied → 404 "Node <ident> could not be
 *      found." for EVERY caller: project-scoped callers are concealed on
 *      purpose (conceal_node), and for system-scoped ones the HTTPForbidden
 *      is a NotAuthorized, which the helper also turns into NodeNotFound.
 *      (Ironic never answers 403 for baremetal:node:get on a node.)
 *   3. the form's rule, same target → 403 "Access was denied to the
 *      following resource: <rule>".
 *   Then the handler's own checks (versions, states, body) follow: e.g.
 *   PUT …/states/raid answers 406 below 1.12 only after the policy.
 *
 * 'node' with several rules — check_multiple_node_policies_and_retrieve
 *   (PATCH only): steps 1–2 as above with the FIRST rule as step 3, then each
 *   further rule in list order (403 naming the first denied). The list is
 *   computed from the patch body (NODE_UPDATE_FIELD_RULES), after the body
 *   was validated (400s and 406s come before the 404 of a missing node).
 *
 * 'node' + selfOwnedFallback (DELETE /v1/nodes/{node_ident}): the 'node'
 *   pattern with baremetal:node:delete; if THAT rule is denied (403) and
 *   [api]project_admin_can_manage_own_nodes (default true), the whole check
 *   is made again with baremetal:node:delete:self_owned_node (default
 *   `role:admin and project_id:%(node.owner)s`), whose 403 is final.
 *
 * 'policy' + selfOwned (POST /v1/nodes): the body is validated first (400);
 *   then, if [api]project_admin_can_manage_own_nodes, the caller's
 *   credentials (as target) are checked against
 *   baremetal:node:create:self_owned_node (default `role:admin or
 *   role:service`, ANY scope); if that passes, baremetal:node:create is NOT
 *   checked, and a caller whose system_scope is not 'all' gets
 *   owner := its project_id (a body owner naming another project → 400
 *   "Cannot create a node as a project scoped admin with an owner other
 *   than your own project."). Otherwise baremetal:node:create (403).
 *
 * 'list' — api_utils.check_list_policy('node', project): see the comment on
 *   the GET /v1/nodes entry.
 *
 * 'list' + parentNode — node-scoped listings (ports, portgroups, volume
 *   connectors/targets; check_port_list_policy / check_volume_list_policy):
 *   1. the node is looked up with Node.get_by_uuid(<path ident>): a NAME is
 *      "not found" just like a missing node → 404 (ports/portgroups:
 *      "Portgroup None could not be found.", volume: "Node <ident> could not
 *      be found."). These listings work with node UUIDs only.
 *   2. baremetal:node:get on the node (owner/lessee target) → 404 "Node
 *      <uuid> could not be found." for every caller.
 *   3. baremetal:<kind>:list_all (caller's credentials as target) → all of
 *      the node's objects; else, for a caller with a project_id,
 *      baremetal:<kind>:list (403) and the objects are those whose node has
 *      the caller's project as owner or lessee (the node's own objects, when
 *      step 2 passed because of that project); a caller without a project
 *      gets the 403 of list_all.
 *   Then the listing's version/parameter checks (406/400).
 *
 * 'policy' (GET /v1/nodes/{node_ident}/volume): check_policy
 *   baremetal:volume:get with the caller's credentials as target. The node is
 *   NOT looked up: any syntactically valid ident answers 200 with links.
 *
 * 'node' + missingNodeStatus 400 (GET /v1/nodes/{node_ident}/allocation):
 *   lookup by UUID or name, a missing node is a 400 "Node <ident> could not
 *   be found."; baremetal:node:get denied → 404 "Resource could not be
 *   found."; no allocation rule at all; no allocation → 404.
 *
 * 'node' + allocationRules (DELETE /v1/nodes/{node_ident}/allocation):
 *   lookup (404), baremetal:node:get concealed (404), the node's allocation
 *   (none → 404 "Allocation for node <ident> was not found"), then
 *   baremetal:allocation:delete with target allocation.owner (403).
 *
 * Policy evaluation itself (deprecated rules OR'ed with the new defaults
 * while [oslo_policy]enforce_new_defaults is false, scope checks while
 * enforce_scope is false, noauth → every check passes) is the enforcer's
 * business; this table only names rules, in Ironic's order.
 *
 * ── Newer than 1.82 (omitted; the proxy's max is the sites' common max) ──
 *   1.83 GET /v1/nodes/{node_ident}/children, node.parent_node, and the
 *        list filters parent_node / include_children;
 *   1.85 `unhold` provision verb, 1.87 `service` verb + service_steps (no new
 *        form: PUT …/states/provision);
 *   1.86 GET /v1/nodes/{node_ident}/firmware (firmware_interface);
 *   later: virtual media attach/detach under /v1/nodes/{node_ident}/vmedia,
 *        node fields such as disable_power_off, instance_name (1.104),
 *        health (1.109). (Versions after 1.86 from the upstream history,
 *        not checked against code here.)
 */
import { ANY_BODY, NODE_CREATE_CHECK, BOOT_DEVICE_BODY, BOOT_MODE_BODY, CONSOLE_BODY, INDICATOR_BODY, MAINTENANCE_BODY, NO_ARGUMENTS, PATCH_BODY, POWER_BODY, PROVISION_BODY, RAID_BODY, SECURE_BOOT_BODY, TRAITS_BODY, VIF_BODY, createBody } from '../body.js';
import type { ApiEntry, HttpMethod } from '../types.js';

const NODE = { kind: 'node', param: 'node_ident' } as const;

/** Body limit of the provision form: configdrives (gzipped, base64) travel in it. */
export const PROVISION_BODY_LIMIT = 64 * 1024 * 1024;

/** GET /v1/nodes keyword arguments, in the handler's order (get_all). */
const NODE_LIST_QUERY = [
  'chassis_uuid',
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

/** GET /v1/nodes/detail: the same without `fields` and `detail` (either is a 400 "Unexpected arguments"). */
const NODE_DETAIL_QUERY = NODE_LIST_QUERY.filter((q) => q !== 'fields' && q !== 'detail');

const VENDOR_PASSTHRU_METHODS: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/*
 * GET /v1/nodes and GET /v1/nodes/detail — the listing policy, in Ironic's order
 * (NodesController.get_all / detail):
 *
 *  1. args.validate: chassis_uuid, instance_uuid, marker must be UUIDs;
 *     associated, maintenance, retired, detail, sharded booleans; limit an
 *     integer; fields and shard comma lists (400). Any other parameter → 400.
 *  2. check_list_policy('node', project):
 *     - baremetal:node:list_all, target = the caller's own credentials:
 *       allowed → no forced filter; `project`, if given, filters nodes whose
 *       owner OR lessee is that project.
 *     - denied (or oslo InvalidScope): if the caller has no project_id
 *       (system scope) → 403 (baremetal:node:list_all); if `project` is given
 *       and differs from the caller's project → 403 (list_all); else
 *       baremetal:node:list (403 if denied) and the listing is forced to
 *       project = the caller's project: nodes it OWNS OR LEASES. `owner` and
 *       `lessee` filters still apply on top (another project's name there
 *       just empties the page).
 *  3. version gates of parameters (406 unless noted): fields (1.8, and each
 *     field's own version), sort_key (field version), provision_state (1.9;
 *     unknown state → 400), driver 1.16, resource_class 1.21, fault 1.42
 *     (unknown fault → 400), conductor_group 1.46, conductor 1.49, owner
 *     1.50, lessee 1.65, shard/sharded 1.82; detail before 1.43 → 400;
 *     detail with fields → 400. retired, project, description_contains,
 *     associated, maintenance, instance_uuid, chassis_uuid: no gate.
 *     (/detail checks sort_key before conductor/shard and answers 404 when
 *     the path's parent segment is not "nodes".)
 *  4. limit ≤ 0 → 400, capped at [api]max_limit; sort_dir not asc/desc → 400;
 *     sort_key among properties, driver_info, extra, instance_info,
 *     driver_internal_info, clean_step, deploy_step, raid_config,
 *     target_raid_config, traits, network_data → 400; a marker that is no
 *     node → 404 (the marker is NOT policy-checked: any existing node UUID
 *     works as a marker).
 *  5. `conductor` filters AFTER the page was cut (short pages); with
 *     `instance_uuid` there is never a `next` link.
 *  6. each node is redacted per NODE_REDACTIONS (list flavour). Without
 *     `fields`/`detail`, GET /v1/nodes returns instance_uuid, maintenance,
 *     power_state, provision_state, uuid, name (+ links) only.
 */
const NODE_LIST_AUTHZ = { check: 'list', kind: 'node', ownerParam: 'project' } as const;

export const NODE_ENTRIES: readonly ApiEntry[] = [
  // ── NodesController ────────────────────────────────────────────────────
  {
    method: 'GET',
    path: '/v1/nodes',
    query: NODE_LIST_QUERY,
    since: 1,
    authz: { ...NODE_LIST_AUTHZ },
    engine: 'node.list',
    doc: 'List nodes (list_all, else list restricted to own/leased nodes); merged over all sites.',
  },
  {
    method: 'GET',
    path: '/v1/nodes/detail',
    query: NODE_DETAIL_QUERY,
    since: 1,
    authz: { ...NODE_LIST_AUTHZ },
    engine: 'node.list',
    doc: 'List nodes with every field; same policy as GET /v1/nodes; merged over all sites.',
  },
  {
    method: 'GET',
    path: '/v1/nodes/validate',
    object: { kind: 'node', param: 'node', fromQuery: ['node_uuid', 'node'] },
    query: ['node', 'node_uuid'],
    since: 1,
    // Neither parameter: 400 "Expected a logical name or UUID but received None."; a name below 1.5: 406.
    authz: { check: 'node', rules: ['baremetal:node:validate'] },
    engine: 'node.validate-by-query',
    doc: 'Deprecated validate form (?node= or ?node_uuid=, node_uuid wins); relayed to the node\'s site.',
  },
  {
    method: 'GET',
    path: '/v1/nodes/{node_ident}/validate',
    object: NODE,
    query: [],
    since: 1,
    authz: { check: 'node', rules: ['baremetal:node:validate'] },
    engine: 'node.forward',
    doc: 'Validate the node\'s driver interfaces.',
  },
  {
    method: 'GET',
    path: '/v1/nodes/{node_ident}',
    object: NODE,
    query: ['fields'],
    since: 1,
    // fields below 1.8, or naming a field newer than the version: 406 after the policy.
    authz: { check: 'node', rules: ['baremetal:node:get'] },
    engine: 'node.show',
    doc: 'Show a node (redacted per NODE_REDACTIONS, show flavour).',
  },
  {
    method: 'POST',
    path: '/v1/nodes',
    query: [],
    since: 1,
    authz: { check: 'policy', rules: ['baremetal:node:create'], selfOwned: 'baremetal:node:create:self_owned_node' },
    engine: 'node.create',
    body: createBody('node', NODE_CREATE_CHECK, { required: ['driver'] }),
    doc: 'Create a node (self-owned by project admins); sent to the site of its conductor group.',
  },
  {
    method: 'PATCH',
    path: '/v1/nodes/{node_ident}',
    object: NODE,
    query: ['reset_interfaces'],
    since: 1,
    authz: { check: 'node', rules: ['baremetal:node:update'], rulesFromPatch: true },
    engine: 'node.update',
    body: PATCH_BODY,
    doc: 'Update a node; one rule per patched path (NODE_UPDATE_FIELD_RULES).',
  },
  {
    method: 'DELETE',
    path: '/v1/nodes/{node_ident}',
    object: NODE,
    query: [],
    since: 1,
    authz: {
      check: 'node',
      rules: ['baremetal:node:delete'],
      selfOwnedFallback: ['baremetal:node:delete:self_owned_node'],
    },
    engine: 'node.delete',
    doc: 'Delete a node (or a project admin its own node).',
  },

  // ── NodeStatesController (/states) ─────────────────────────────────────
  {
    method: 'GET',
    path: '/v1/nodes/{node_ident}/states',
    object: NODE,
    query: [],
    since: 1,
    // Note: returns last_error UNREDACTED (no baremetal:node:get:last_error check here).
    authz: { check: 'node', rules: ['baremetal:node:get_states'] },
    engine: 'node.forward',
    doc: 'Power, provision, console, RAID and boot mode states of the node.',
  },
  {
    method: 'PUT',
    path: '/v1/nodes/{node_ident}/states/raid',
    object: NODE,
    query: [],
    since: 12,
    belowSince: { status: 406, afterAuthz: true },
    authz: { check: 'node', rules: ['baremetal:node:set_raid_state'] },
    engine: 'node.forward',
    body: RAID_BODY,
    doc: 'Set the target RAID configuration (the body is the configuration).',
  },
  {
    method: 'PUT',
    path: '/v1/nodes/{node_ident}/states/power',
    object: NODE,
    query: [],
    since: 1,
    authz: { check: 'node', rules: ['baremetal:node:set_power_state'] },
    engine: 'node.forward',
    body: POWER_BODY,
    doc: 'Change the power state (body: target, timeout).',
  },
  {
    method: 'PUT',
    path: '/v1/nodes/{node_ident}/states/boot_mode',
    object: NODE,
    query: [],
    since: 76,
    belowSince: { status: 404, afterAuthz: true },
    authz: { check: 'node', rules: ['baremetal:node:set_boot_mode'] },
    engine: 'node.forward',
    body: BOOT_MODE_BODY,
    doc: 'Change the boot mode (body: target uefi|bios).',
  },
  {
    method: 'PUT',
    path: '/v1/nodes/{node_ident}/states/secure_boot',
    object: NODE,
    query: [],
    since: 76,
    belowSince: { status: 404, afterAuthz: true },
    authz: { check: 'node', rules: ['baremetal:node:set_secure_boot'] },
    engine: 'node.forward',
    body: SECURE_BOOT_BODY,
    doc: 'Turn secure boot on or off (body: target boolean).',
  },
  {
    method: 'PUT',
    path: '/v1/nodes/{node_ident}/states/provision',
    object: NODE,
    query: [],
    since: 1,
    authz: { check: 'node', rules: ['baremetal:node:set_provision_state'] },
    engine: 'node.forward',
    body: PROVISION_BODY,
    bodyLimit: PROVISION_BODY_LIMIT,
    doc: 'Provision state change (body: target, configdrive, clean_steps, deploy_steps, rescue_password, disable_ramdisk).',
  },
  {
    method: 'GET',
    path: '/v1/nodes/{node_ident}/states/console',
    object: NODE,
    query: [],
    since: 1,
    authz: { check: 'node', rules: ['baremetal:node:get_console'] },
    engine: 'node.forward',
    doc: 'Console connection information.',
  },
  {
    method: 'PUT',
    path: '/v1/nodes/{node_ident}/states/console',
    object: NODE,
    query: [],
    since: 1,
    authz: { check: 'node', rules: ['baremetal:node:set_console_state'] },
    engine: 'node.forward',
    body: CONSOLE_BODY,
    doc: 'Start or stop the console (body: enabled).',
  },

  // ── NodeVendorPassthruController (/vendor_passthru) ────────────────────
  {
    method: 'GET',
    path: '/v1/nodes/{node_ident}/vendor_passthru/methods',
    object: NODE,
    query: [],
    since: 1,
    authz: { check: 'node', rules: ['baremetal:node:vendor_passthru'] },
    engine: 'node.forward',
    doc: 'Vendor passthru methods of the node\'s driver.',
  },
  ...VENDOR_PASSTHRU_METHODS.map(
    (method): ApiEntry => ({
      method,
      path: '/v1/nodes/{node_ident}/vendor_passthru',
      object: NODE,
      // `method` is mandatory (400 "Missing mandatory parameter: method"); the body (any JSON) is the data.
      query: ['method'],
      since: 1,
      authz: { check: 'node', rules: ['baremetal:node:vendor_passthru'] },
      engine: 'node.forward',
      body: ANY_BODY,
      doc: `Call a vendor passthru method (${method}, ?method=).`,
    }),
  ),

  // ── NodeManagementController (/management) ─────────────────────────────
  {
    method: 'GET',
    path: '/v1/nodes/{node_ident}/management/boot_device',
    object: NODE,
    query: [],
    since: 1,
    authz: { check: 'node', rules: ['baremetal:node:get_boot_device'] },
    engine: 'node.forward',
    doc: 'Current boot device.',
  },
  {
    method: 'PUT',
    path: '/v1/nodes/{node_ident}/management/boot_device',
    object: NODE,
    query: [],
    since: 1,
    authz: { check: 'node', rules: ['baremetal:node:set_boot_device'] },
    engine: 'node.forward',
    body: BOOT_DEVICE_BODY,
    doc: 'Set the boot device (body: boot_device, persistent).',
  },
  {
    method: 'GET',
    path: '/v1/nodes/{node_ident}/management/boot_device/supported',
    object: NODE,
    query: [],
    since: 1,
    authz: { check: 'node', rules: ['baremetal:node:get_boot_device'] },
    engine: 'node.forward',
    doc: 'Supported boot devices.',
  },
  {
    method: 'PUT',
    path: '/v1/nodes/{node_ident}/management/inject_nmi',
    object: NODE,
    query: [],
    since: 29, // checked by the handler BEFORE the policy: 404
    authz: { check: 'node', rules: ['baremetal:node:inject_nmi'] },
    engine: 'node.forward',
    body: NO_ARGUMENTS,
    doc: 'Inject a non-maskable interrupt (body {}).',
  },
  {
    method: 'GET',
    path: '/v1/nodes/{node_ident}/management/indicators',
    object: NODE,
    // The handler takes **kwargs: Ironic accepts and ignores any query parameter here.
    query: [],
    since: 1, // 1.63 announced indicators, but Ironic 21.4 gates none of the indicator forms
    authz: { check: 'node', rules: ['baremetal:node:get_indicator_state'] },
    engine: 'node.forward',
    doc: 'Hardware components and their indicators.',
  },
  {
    method: 'GET',
    path: '/v1/nodes/{node_ident}/management/indicators/{indicator}',
    object: NODE,
    query: [],
    since: 1,
    authz: { check: 'node', rules: ['baremetal:node:get_indicator_state'] },
    engine: 'node.forward',
    doc: 'State of one indicator (<name>@<component>).',
  },
  {
    method: 'PUT',
    path: '/v1/nodes/{node_ident}/management/indicators/{indicator}',
    object: NODE,
    query: [],
    since: 1,
    authz: { check: 'node', rules: ['baremetal:node:set_indicator_state'] },
    engine: 'node.forward',
    body: INDICATOR_BODY,
    doc: 'Set one indicator (body: state).',
  },

  // ── NodeMaintenanceController (/maintenance) ───────────────────────────
  {
    method: 'PUT',
    path: '/v1/nodes/{node_ident}/maintenance',
    object: NODE,
    query: [],
    since: 1,
    authz: { check: 'node', rules: ['baremetal:node:set_maintenance'] },
    engine: 'node.forward',
    body: MAINTENANCE_BODY,
    doc: 'Enter maintenance (body: reason).',
  },
  {
    method: 'DELETE',
    path: '/v1/nodes/{node_ident}/maintenance',
    object: NODE,
    query: [],
    since: 1,
    authz: { check: 'node', rules: ['baremetal:node:clear_maintenance'] },
    engine: 'node.forward',
    doc: 'Leave maintenance.',
  },

  // ── _subcontroller_map: ports ──────────────────────────────────────────
  {
    method: 'GET',
    path: '/v1/nodes/{node_ident}/ports',
    object: NODE,
    // node/node_uuid are overridden by the path's node; portgroup or shard → 403 (exclusive filters); address is ignored.
    query: ['node', 'node_uuid', 'address', 'marker', 'limit', 'sort_key', 'sort_dir', 'fields', 'portgroup', 'detail', 'shard'],
    since: 1,
    authz: { check: 'list', kind: 'port', parentNode: 'node_ident', parentNotFound: 'portgroup' },
    engine: 'node.sub-list',
    doc: 'The node\'s ports (node UUID only: a name is "Portgroup None could not be found.").',
  },
  {
    method: 'GET',
    path: '/v1/nodes/{node_ident}/ports/detail',
    object: NODE,
    query: ['node', 'node_uuid', 'address', 'marker', 'limit', 'sort_key', 'sort_dir', 'portgroup', 'shard'],
    since: 1,
    authz: { check: 'list', kind: 'port', parentNode: 'node_ident', parentNotFound: 'portgroup' },
    engine: 'node.sub-list',
    doc: 'The node\'s ports with every field (node UUID only).',
  },

  // ── portgroups ─────────────────────────────────────────────────────────
  {
    method: 'GET',
    path: '/v1/nodes/{node_ident}/portgroups',
    object: NODE,
    query: ['node', 'address', 'marker', 'limit', 'sort_key', 'sort_dir', 'fields', 'detail'],
    since: 24,
    authz: { check: 'list', kind: 'portgroup', parentNode: 'node_ident', parentNotFound: 'portgroup' },
    engine: 'node.sub-list',
    doc: 'The node\'s portgroups (node UUID only).',
  },
  {
    method: 'GET',
    path: '/v1/nodes/{node_ident}/portgroups/detail',
    object: NODE,
    query: ['node', 'address', 'marker', 'limit', 'sort_key', 'sort_dir'],
    since: 24,
    authz: { check: 'list', kind: 'portgroup', parentNode: 'node_ident', parentNotFound: 'portgroup' },
    engine: 'node.sub-list',
    doc: 'The node\'s portgroups with every field (node UUID only).',
  },

  // ── vifs ───────────────────────────────────────────────────────────────
  {
    method: 'GET',
    path: '/v1/nodes/{node_ident}/vifs',
    object: NODE,
    query: [], // no args.validate: any query parameter is a 500 (unexpected keyword argument)
    since: 28,
    authz: { check: 'node', rules: ['baremetal:node:vif:list'] },
    engine: 'node.forward',
    doc: 'VIFs attached to the node.',
  },
  {
    method: 'POST',
    path: '/v1/nodes/{node_ident}/vifs',
    object: NODE,
    query: [],
    since: 28,
    authz: { check: 'node', rules: ['baremetal:node:vif:attach'] },
    engine: 'node.forward',
    body: VIF_BODY,
    doc: 'Attach a VIF (body: id, optional port_uuid/portgroup_uuid from 1.67).',
  },
  {
    method: 'DELETE',
    path: '/v1/nodes/{node_ident}/vifs/{vif_id}',
    object: NODE,
    query: [],
    since: 28,
    authz: { check: 'node', rules: ['baremetal:node:vif:detach'] },
    engine: 'node.forward',
    doc: 'Detach a VIF.',
  },

  // ── volume ─────────────────────────────────────────────────────────────
  {
    method: 'GET',
    path: '/v1/nodes/{node_ident}/volume',
    // No object: Ironic does not look the node up (any valid ident gets links).
    query: [],
    since: 32,
    authz: { check: 'policy', rules: ['baremetal:volume:get'] },
    // Invented engine: the answer is only links built from the ident as written, so the proxy
    // answers it itself (after the policy) instead of looking for a node Ironic never looks for.
    engine: 'node.volume-links',
    doc: 'Links to the node\'s volume connectors and targets (the node is not looked up).',
  },
  {
    method: 'GET',
    path: '/v1/nodes/{node_ident}/volume/connectors',
    object: NODE,
    // `project` binds to the handler but is overwritten by the list policy's result.
    query: ['node', 'marker', 'limit', 'sort_key', 'sort_dir', 'fields', 'detail', 'project'],
    since: 32,
    authz: { check: 'list', kind: 'volume', parentNode: 'node_ident', parentNotFound: 'node' },
    engine: 'node.sub-list',
    doc: 'The node\'s volume connectors (node UUID only).',
  },
  {
    method: 'GET',
    path: '/v1/nodes/{node_ident}/volume/targets',
    object: NODE,
    // Target properties are redacted unless baremetal:volume:view_target_properties (caller's credentials as target).
    query: ['node', 'marker', 'limit', 'sort_key', 'sort_dir', 'fields', 'detail', 'project'],
    since: 32,
    authz: { check: 'list', kind: 'volume', parentNode: 'node_ident', parentNotFound: 'node' },
    engine: 'node.sub-list',
    doc: 'The node\'s volume targets (node UUID only).',
  },

  // ── traits ─────────────────────────────────────────────────────────────
  {
    method: 'GET',
    path: '/v1/nodes/{node_ident}/traits',
    object: NODE,
    query: [],
    since: 37,
    // Below 1.37 the path is GET /v1/nodes/{id} with fields=traits: baremetal:node:get, then 406.
    belowSince: { status: 406, afterAuthz: true },
    authz: { check: 'node', rules: ['baremetal:node:traits:list'] },
    engine: 'node.forward',
    doc: 'The node\'s traits.',
  },
  {
    method: 'PUT',
    path: '/v1/nodes/{node_ident}/traits',
    object: NODE,
    query: [],
    since: 37,
    belowSince: { status: 405, afterAuthz: false },
    authz: { check: 'node', rules: ['baremetal:node:traits:set'] },
    engine: 'node.forward',
    body: TRAITS_BODY,
    doc: 'Replace all traits (body: traits).',
  },
  {
    method: 'PUT',
    path: '/v1/nodes/{node_ident}/traits/{trait}',
    object: NODE,
    query: [],
    since: 37,
    belowSince: { status: 405, afterAuthz: false },
    authz: { check: 'node', rules: ['baremetal:node:traits:set'] },
    engine: 'node.forward',
    body: TRAITS_BODY,
    doc: 'Add one trait (no body).',
  },
  {
    method: 'DELETE',
    path: '/v1/nodes/{node_ident}/traits',
    object: NODE,
    query: [],
    since: 37,
    authz: { check: 'node', rules: ['baremetal:node:traits:delete'] },
    engine: 'node.forward',
    doc: 'Remove all traits.',
  },
  {
    method: 'DELETE',
    path: '/v1/nodes/{node_ident}/traits/{trait}',
    object: NODE,
    query: [],
    since: 37,
    authz: { check: 'node', rules: ['baremetal:node:traits:delete'] },
    engine: 'node.forward',
    doc: 'Remove one trait.',
  },

  // ── bios ───────────────────────────────────────────────────────────────
  {
    method: 'GET',
    path: '/v1/nodes/{node_ident}/bios',
    object: NODE,
    query: ['detail', 'fields'], // both from 1.74 (400 below, after the policy)
    since: 40,
    authz: { check: 'node', rules: ['baremetal:node:bios:get'] },
    engine: 'node.forward',
    doc: 'BIOS settings of the node.',
  },
  {
    method: 'GET',
    path: '/v1/nodes/{node_ident}/bios/{setting_name}',
    object: NODE,
    query: [],
    since: 40,
    authz: { check: 'node', rules: ['baremetal:node:bios:get'] },
    engine: 'node.forward',
    doc: 'One BIOS setting.',
  },

  // ── allocation ─────────────────────────────────────────────────────────
  {
    method: 'GET',
    path: '/v1/nodes/{node_ident}/allocation',
    object: NODE,
    query: ['fields'],
    since: 52,
    // Visibility of the node, then (AllocationsController listing) baremetal:allocation:get on the allocation
    // with its owner as target — checked by the engine on the answer.
    authz: { check: 'node', rules: [], missingNodeStatus: 400 },
    engine: 'node.allocation',
    doc: 'The node\'s allocation (missing node: 400; no allocation: 404; baremetal:allocation:get on it).',
  },
  {
    method: 'DELETE',
    path: '/v1/nodes/{node_ident}/allocation',
    object: NODE,
    query: [], // no args.validate: any query parameter is a 500
    since: 52,
    authz: { check: 'node', rules: [], allocationRules: ['baremetal:allocation:delete'] },
    engine: 'node.forward',
    doc: 'Delete the node\'s allocation.',
  },

  // ── history ────────────────────────────────────────────────────────────
  {
    method: 'GET',
    path: '/v1/nodes/{node_ident}/history',
    object: NODE,
    query: ['detail', 'marker', 'limit'],
    since: 78,
    authz: { check: 'node', rules: ['baremetal:node:history:get'] },
    engine: 'node.forward',
    doc: 'The node\'s history events.',
  },
  {
    method: 'GET',
    path: '/v1/nodes/{node_ident}/history/{event}',
    object: NODE,
    query: [],
    since: 78,
    // Ironic fetches the event by UUID WITHOUT checking it belongs to this node.
    authz: { check: 'node', rules: ['baremetal:node:history:get'] },
    engine: 'node.forward',
    doc: 'One history event.',
  },

  // ── inventory ──────────────────────────────────────────────────────────
  {
    method: 'GET',
    path: '/v1/nodes/{node_ident}/inventory',
    object: NODE,
    query: [],
    since: 81,
    authz: { check: 'node', rules: ['baremetal:node:inventory:get'] },
    engine: 'node.forward',
    doc: 'Inventory and plugin data recorded by inspection.',
  },
];

/**
 * Path segments that Ironic routes to an attribute controller of
 * NodesController WHEREVER they appear after /v1/nodes/: pecan's
 * RestController._find_sub_controllers scans the whole remainder for an
 * attribute name (because `method.expose` hides the handlers' signatures
 * from pecan, the scan is not bounded) and hands the segments before it to
 * that controller as positional arguments. So a path argument equal to one
 * of these words does not reach the handler the path names: PUT
 * /v1/nodes/<id>/traits/maintenance puts the node INTO MAINTENANCE (reason
 * "traits", checked against baremetal:node:set_maintenance), GET
 * …/history/states is a 500. The proxy must refuse any path argument with
 * one of these values.
 */
export const NODE_ATTRIBUTE_SEGMENTS: readonly string[] = ['states', 'vendor_passthru', 'management', 'maintenance'];

/**
 * Keys of NodesController._subcontroller_map: `/v1/nodes/<word>[/…]` is a 404
 * from routing even when a node has that name (names are only refused when
 * they are NODE_RESERVED_NAMES): such a node is reachable by UUID only.
 */
export const NODE_IDENT_UNROUTABLE: readonly string[] = [
  'ports',
  'portgroups',
  'vifs',
  'volume',
  'traits',
  'bios',
  'allocation',
  'history',
  'inventory',
];

/** Names Ironic refuses for a node (400 on create or rename): its attribute controllers and custom actions. */
export const NODE_RESERVED_NAMES: readonly string[] = ['maintenance', 'management', 'states', 'vendor_passthru', 'detail', 'validate'];

export interface RefusedForm {
  /** 'ANY': every method. */
  method: HttpMethod | 'ANY';
  example: string;
  why: string;
}

/**
 * Request forms a real Ironic 21.4 accepts for nodes (checked against one)
 * that have no entry: the proxy refuses them.
 *
 * Why pecan accepts so much: Ironic's `method.expose` wraps every handler
 * in `callfunction(self, *args, **kwargs)`; pecan reads that signature, so
 * every remaining path segment becomes a positional argument, every query
 * parameter (and every key of a JSON object body) a keyword argument, and
 * RestController never answers 404 for extra segments; the handler's own
 * `args.validate` then binds them by position and name.
 */
export const PECAN_FORMS_REFUSED: readonly RefusedForm[] = [
  {
    method: 'GET',
    example: 'GET /v1/nodes/<uuid>/name,driver_info',
    why: 'A trailing segment that is no sub-resource becomes get_one\'s `fields` argument; field selection goes through ?fields= only.',
  },
  {
    method: 'ANY',
    example: 'GET /v1/nodes/states/<uuid>, GET /v1/nodes/states/console/<uuid>, PUT /v1/nodes/management/inject_nmi/<uuid>',
    why: 'Attribute controllers (states, management, maintenance, vendor_passthru) are found anywhere in the path and the segments around them become the node ident: the node ident is only accepted right after /v1/nodes/.',
  },
  {
    method: 'ANY',
    example: 'PATCH /v1/nodes?node_ident=<uuid>, DELETE /v1/nodes?node_ident=<uuid>, GET /v1/nodes/states?node_ident=<uuid>, PUT /v1/nodes/states/power with {"node_ident": …} in the body',
    why: 'A path argument can be bound from the query string or the JSON body instead; the table names path arguments in the path only.',
  },
  {
    method: 'ANY',
    example: 'DELETE /v1/nodes/<id>/vifs?vif_id=<vif>, PUT /v1/nodes/<id>/traits?trait=CUSTOM_X, DELETE /v1/nodes/<id>/traits?trait=CUSTOM_X',
    why: 'The last path argument bound from the query string. DANGER: DELETE …/traits?trait=X removes ONE trait in Ironic, but with the parameter dropped it removes ALL traits: such parameters must be refused (400), never dropped.',
  },
  {
    method: 'ANY',
    example: 'PUT /v1/nodes/<id>/states/power?target=power%20off, PUT /v1/nodes/<id>/maintenance?reason=x',
    why: 'Body parameters bound from the query string (pecan merges the query into the keyword arguments for every method).',
  },
  {
    method: 'ANY',
    example: 'PUT /v1/nodes/<id>/states/power/<target>, PUT /v1/nodes/<id>/maintenance/<reason>, PUT /v1/nodes/<id>/states/console/<enabled>, GET|POST|… /v1/nodes/<id>/vendor_passthru/<method>',
    why: 'Trailing segments bound to the handler\'s next positional parameters.',
  },
  {
    method: 'ANY',
    example: 'PUT /v1/nodes/<id>/traits/maintenance, DELETE /v1/nodes/<id>/vifs/states, GET /v1/nodes/<id>/history/vendor_passthru',
    why: 'A path argument equal to an attribute controller name re-routes the request to that controller (NODE_ATTRIBUTE_SEGMENTS): …/traits/maintenance sets maintenance under baremetal:node:set_maintenance.',
  },
  {
    method: 'GET',
    example: 'GET /v1/nodes/<id>/validate?node_uuid=<other>',
    why: 'node_uuid wins over the path\'s node: the other node is validated.',
  },
  {
    method: 'ANY',
    example: 'POST /v1/nodes/<id>?_method=delete, GET /v1/nodes/<id>?_method=patch',
    why: 'pecan routes by the `_method` parameter (query or form body); node handlers then answer 400 "Unexpected arguments: _method", but the routing already happened.',
  },
  {
    method: 'ANY',
    example: 'GET /v1/nodes/<id>.json, GET /v1/nodes.json',
    why: 'JsonExtensionMiddleware strips a trailing .json (and node lookups then retry "<ident>.json"); not part of the API.',
  },
  {
    method: 'ANY',
    example: 'GET|PATCH|DELETE /v1/nodes/<id>/ports/<port_uuid>, POST /v1/nodes/<id>/ports (same for portgroups, volume/connectors, volume/targets)',
    why: 'Routed, but every such handler answers 403 "Operation not permitted." (some after the object\'s own policy check): no form.',
  },
  {
    method: 'GET',
    example: 'GET /v1/nodes/<id>/portgroups/<portgroup>/ports, …/ports/detail',
    why: 'Routed (PortgroupsController._lookup), but node and portgroup filters are exclusive: always 403 after the policy checks.',
  },
  {
    method: 'GET',
    example: 'GET /v1/nodes/<id>/detail',
    why: 'Routed to the listing with chassis_uuid=<id>; after the list policy it answers 404 (parent segment is not "nodes").',
  },
];

// ─────────────────────────────────────────────────────────────────────────────
// PATCH /v1/nodes/{node_ident}

export interface NodePatchOp {
  op: string;
  path: string;
  value?: unknown;
}

export interface NodePatchFieldRule {
  /** The op's raw `path` starts with this (Ironic tests `startswith`, so '/retired' also catches '/retired_reason'). */
  prefix?: string;
  /** Instead of a prefix: the path is '/<interface>_interface' for an interface of NODE_DRIVER_INTERFACES. */
  driverInterface?: true;
  /** Only when the op's value is false for oslo's bool_from_string (false, "0", "f", "false", "off", "n", "no"). */
  onlyIfValueFalse?: true;
  rule: string;
}

/** ironic.drivers.base.ALL_INTERFACES. */
export const NODE_DRIVER_INTERFACES: readonly string[] = [
  'bios',
  'boot',
  'console',
  'deploy',
  'inspect',
  'management',
  'network',
  'power',
  'raid',
  'rescue',
  'storage',
  'vendor',
];

/**
 * How Ironic authorises PATCH /v1/nodes/{node_ident} (NodesController.patch),
 * in order:
 *
 *  1. Body: a JSON array of {op: add|replace|remove, path: ^(/[\w-]+)+$,
 *     value?} (400). reset_interfaces must be a boolean (400); given below
 *     1.45 → 406.
 *  2. _validate_patch, BEFORE the node is looked up: the first path segment
 *     of every op must be in `allowedFields` (400 "Cannot patch …"); a
 *     non-remove op on exactly '/<field>' for a field newer than the request
 *     version → 406; reset_interfaces without a non-remove '/driver' op →
 *     400; /description over 4096 characters → 400; every '/network_data'
 *     value must match the network data schema (400).
 *  3. The rule list: for each op, in body order, the FIRST matching entry of
 *     `fieldRules` gives one rule (duplicates are kept); an op matching none
 *     marks a generic update. Then `genericRule` is appended once when any op
 *     was generic OR the patch is empty ([]). NB: Ironic reads p['value'] for
 *     '/automated_clean' ops, so {"op": "remove", "path": "/automated_clean"}
 *     is a 500 there; a value of true (or anything not false-like) makes the
 *     op generic.
 *  4. check_multiple_node_policies_and_retrieve(list): node lookup (404),
 *     baremetal:node:get (404), then the rules in list order (403 naming the
 *     first denied).
 *  5. Node state: unless the node is in maintenance and the patch is exactly
 *     [{"op": "remove", "path": "/instance_uuid"}]: a node with a target
 *     provision state outside the update-allowed states (deploy failed,
 *     inspecting, inspect failed, inspect wait, clean failed, error,
 *     verifying, adopt failed, rescue failed, unrescue failed) → 409; a node
 *     in `inspecting` (from 1.39) → 409; else, if a non-remove op sets
 *     EXACTLY '/owner': on an `active` node `ownerProvisionedRule` is checked
 *     (check_owner_policy, node owner/lessee target) and its denial is a 409
 *     "Cannot update owner of node … while it is in state active" (not a
 *     403); a node whose allocation has an owner → 409. (Removing /owner
 *     skips both checks.)
 *  6. Names (/name values): below 1.5 → 406; invalid or reserved → 400.
 *  7. The patch is applied and validated (400), the driver change with an
 *     enabled console is a 409, and the update goes to the conductor.
 */
export const NODE_UPDATE_FIELD_RULES = {
  allowedFields: [
    'automated_clean',
    'bios_interface',
    'boot_interface',
    'chassis_uuid',
    'conductor_group',
    'console_interface',
    'deploy_interface',
    'description',
    'driver',
    'driver_info',
    'extra',
    'inspect_interface',
    'instance_info',
    'instance_uuid',
    'lessee',
    'maintenance',
    'management_interface',
    'name',
    'network_data',
    'network_interface',
    'owner',
    'power_interface',
    'properties',
    'protected',
    'protected_reason',
    'raid_interface',
    'rescue_interface',
    'resource_class',
    'retired',
    'retired_reason',
    'shard',
    'storage_interface',
    'vendor_interface',
  ] as readonly string[],
  fieldRules: [
    { prefix: '/instance_info', rule: 'baremetal:node:update_instance_info' },
    { prefix: '/extra', rule: 'baremetal:node:update_extra' },
    { prefix: '/automated_clean', onlyIfValueFalse: true, rule: 'baremetal:node:disable_cleaning' },
    { prefix: '/driver_info', rule: 'baremetal:node:update:driver_info' },
    { prefix: '/properties', rule: 'baremetal:node:update:properties' },
    { prefix: '/chassis_uuid', rule: 'baremetal:node:update:chassis_uuid' },
    { prefix: '/instance_uuid', rule: 'baremetal:node:update:instance_uuid' },
    { prefix: '/lessee', rule: 'baremetal:node:update:lessee' },
    { prefix: '/owner', rule: 'baremetal:node:update:owner' },
    { prefix: '/driver', rule: 'baremetal:node:update:driver_interfaces' },
    { driverInterface: true, rule: 'baremetal:node:update:driver_interfaces' },
    { prefix: '/network_data', rule: 'baremetal:node:update:network_data' },
    { prefix: '/conductor_group', rule: 'baremetal:node:update:conductor_group' },
    { prefix: '/name', rule: 'baremetal:node:update:name' },
    { prefix: '/retired', rule: 'baremetal:node:update:retired' },
    { prefix: '/shard', rule: 'baremetal:node:update:shard' },
  ] as readonly NodePatchFieldRule[],
  /** Appended once when an op matched no field rule, or when the patch is empty. */
  genericRule: 'baremetal:node:update',
  /** Setting /owner on an `active` node: denied → 409 (step 5). */
  ownerProvisionedRule: 'baremetal:node:update_owner_provisioned',
} as const;

const FALSE_STRINGS = ['0', 'f', 'false', 'off', 'n', 'no'];

/**
 * oslo bool_from_string(value, default=None) is False: a boolean false, or a
 * value whose str() is a false string. Python prints a JSON 0 as "0" (false)
 * but 0.0 as "0.0" (not false); after JSON.parse both are 0 here, so a body
 * with 0.0 would differ (Ironic: generic update; here: disable_cleaning).
 */
function falseLike(value: unknown): boolean {
  if (typeof value === 'boolean') return !value;
  if (value === null || value === undefined || typeof value === 'object') return false;
  if (typeof value === 'number' && !Number.isInteger(value)) return false;
  return FALSE_STRINGS.includes(String(value).trim().toLowerCase());
}

function matches(rule: NodePatchFieldRule, op: NodePatchOp): boolean {
  if (rule.driverInterface) {
    const p = op.path.replace(/^\/+/, '');
    const cut = p.lastIndexOf('_');
    return cut >= 0 && p.slice(cut + 1) === 'interface' && NODE_DRIVER_INTERFACES.includes(p.slice(0, cut));
  }
  if (rule.prefix === undefined || !op.path.startsWith(rule.prefix)) return false;
  return !rule.onlyIfValueFalse || falseLike(op.value);
}

/**
 * The rules Ironic checks for a (validated) node patch, in its order (step 3
 * above). Throws for a '/automated_clean' op without a value, where Ironic
 * fails with a 500.
 */
export function nodePatchRules(patch: readonly NodePatchOp[]): string[] {
  const rules: string[] = [];
  let generic = false;
  for (const op of patch) {
    if (op.path.startsWith('/automated_clean') && !('value' in op)) {
      throw new Error("Ironic reads the value of every /automated_clean op (KeyError 'value': 500)");
    }
    const hit = NODE_UPDATE_FIELD_RULES.fieldRules.find((r) => matches(r, op));
    if (hit) rules.push(hit.rule);
    else generic = true;
  }
  if (generic || rules.length === 0) rules.push(NODE_UPDATE_FIELD_RULES.genericRule);
  return rules;
}

// ─────────────────────────────────────────────────────────────────────────────
// Redaction of node bodies

export interface NodeRedaction {
  field: string;
  /**
   * 'gated': only when the caller FAILS `NODE_REDACTION_GATE.rule`, and then
   * only when `rule` is denied too. 'rule': whenever `rule` is denied.
   * 'always': no policy.
   */
  when: 'gated' | 'rule' | 'always';
  rule?: string;
  /**
   * Target of `rule`: 'node' = the caller's credentials + node.owner and
   * node.lessee as they appear in the (fields-filtered) body, each only when
   * present and non-empty; 'caller' = the caller's credentials only (Ironic
   * passes the node-aware dict as the CREDENTIALS there, swapped arguments).
   */
  target?: 'node' | 'caller';
  /**
   * 'replace': the whole value becomes `replacement`; 'mask-secrets': oslo
   * strutils.mask_dict_password(value, '******') (values of secret-looking
   * keys — password, token, secret, private_key, configdrive … — at any
   * depth, and password patterns inside strings); 'keys': each listed key,
   * when its value is truthy, becomes '******'.
   */
  action: 'replace' | 'mask-secrets' | 'keys';
  replacement?: unknown;
  keys?: readonly string[];
}

/**
 * Rule that decides whether the per-field 'gated' redactions run at all:
 * they run when the caller is DENIED it. Show (GET /v1/nodes/{id}, and the
 * node bodies of POST and PATCH): target = caller + node.owner/lessee.
 * Listings (GET /v1/nodes, /detail): evaluated ONCE per request with the
 * caller's credentials only (no owner/lessee), like show_password and
 * show_instance_secrets.
 */
export const NODE_REDACTION_GATE = { rule: 'baremetal:node:get:filter_threshold' } as const;

/**
 * How Ironic hides node fields (node_sanitize / _node_sanitize_extended),
 * in the order it applies them, to each node body it returns: GET
 * /v1/nodes, GET /v1/nodes/detail (per node), GET /v1/nodes/{id}, and the
 * bodies answered by POST /v1/nodes and PATCH /v1/nodes/{id}. A field is
 * only touched when present in the body after ?fields= filtering — and the
 * owner/lessee of the 'node' target come from that filtered body too: with
 * ?fields=driver_info (no owner), a project owner is checked WITHOUT
 * node.owner and loses what only ownership grants. Not applied by GET
 * /v1/nodes/{id}/states, which shows last_error as it is.
 */
export const NODE_REDACTIONS: readonly NodeRedaction[] = [
  {
    field: 'last_error',
    when: 'gated',
    rule: 'baremetal:node:get:last_error',
    target: 'node',
    action: 'replace',
    replacement: '** Value Redacted - Requires baremetal:node:get:last_error permission. **',
  },
  {
    field: 'reservation',
    when: 'gated',
    rule: 'baremetal:node:get:reservation',
    target: 'node',
    action: 'replace',
    replacement: '** Redacted - requires baremetal:node:get:reservation permission. **',
  },
  {
    field: 'driver_internal_info',
    when: 'gated',
    rule: 'baremetal:node:get:driver_internal_info',
    target: 'node',
    action: 'replace',
    replacement: { content: '** Redacted - Requires baremetal:node:get:driver_internal_info permission. **' },
  },
  {
    field: 'driver_info',
    when: 'gated',
    rule: 'baremetal:node:get:driver_info',
    target: 'node',
    action: 'replace',
    replacement: { content: '** Redacted - requires baremetal:node:get:driver_info permission. **' },
  },
  // Then, on whatever driver_info now is (default rule '!': always masked).
  { field: 'driver_info', when: 'rule', rule: 'show_password', target: 'caller', action: 'mask-secrets' },
  // Default rule '!': always. mask_dict_password first, then configdrive and image_url when truthy.
  { field: 'instance_info', when: 'rule', rule: 'show_instance_secrets', target: 'caller', action: 'mask-secrets' },
  { field: 'instance_info', when: 'rule', rule: 'show_instance_secrets', target: 'caller', action: 'keys', keys: ['configdrive', 'image_url'] },
  // Whatever the policy (and only if driver_internal_info was not replaced above).
  { field: 'driver_internal_info', when: 'always', action: 'keys', keys: ['agent_secret_token'] },
];
