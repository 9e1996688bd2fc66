/**
 * Node fields as Bare Metal API 1.82 (Ironic 21.4) exposes them, with the
 * microversion that introduced each, and the list rules that depend on them.
 * Source: ironic/api/controllers/v1/node.py and the api-ref.
 */

/** Field → microversion that made it visible (fields absent here are visible at 1.1). */
export const NODE_FIELD_MIN_VERSION: Readonly<Record<string, number>> = {
  driver_internal_info: 3,
  name: 5,
  inspection_finished_at: 6,
  inspection_started_at: 6,
  clean_step: 7,
  raid_config: 12,
  target_raid_config: 12,
  network_interface: 20,
  resource_class: 21,
  boot_interface: 31,
  console_interface: 31,
  deploy_interface: 31,
  inspect_interface: 31,
  management_interface: 31,
  power_interface: 31,
  raid_interface: 31,
  vendor_interface: 31,
  storage_interface: 33,
  traits: 37,
  rescue_interface: 38,
  bios_interface: 40,
  fault: 42,
  deploy_step: 44,
  conductor_group: 46,
  automated_clean: 47,
  protected: 48,
  protected_reason: 48,
  conductor: 49,
  owner: 50,
  description: 51,
  allocation_uuid: 52,
  retired: 61,
  retired_reason: 61,
  lessee: 65,
  network_data: 66,
  boot_mode: 75,
  secure_boot: 75,
  shard: 82,
  parent_node: 83,
  firmware_interface: 86,
  service_step: 87,
  disable_power_off: 95,
  instance_name: 104,
  health: 109,
};

export const NODE_ALWAYS_FIELDS: readonly string[] = [
  'uuid',
  'created_at',
  'updated_at',
  'chassis_uuid',
  'driver',
  'driver_info',
  'extra',
  'instance_info',
  'instance_uuid',
  'last_error',
  'maintenance',
  'maintenance_reason',
  'power_state',
  'target_power_state',
  'provision_state',
  'target_provision_state',
  'provision_updated_at',
  'properties',
  'reservation',
  'console_enabled',
];

/** Fields of `GET /v1/nodes` when no `fields` are given (plus `links`). */
export const NODE_LIST_DEFAULT_FIELDS: readonly string[] = [
  'uuid',
  'name',
  'instance_uuid',
  'power_state',
  'provision_state',
  'maintenance',
];

/** Columns Ironic refuses as sort_key for nodes (`invalid_sort_key_list`, 21.4). */
export const NODE_SORT_BLACKLIST: ReadonlySet<string> = new Set([
  'properties',
  'driver_info',
  'extra',
  'instance_info',
  'driver_internal_info',
  'clean_step',
  'deploy_step',
  'raid_config',
  'target_raid_config',
  'traits',
  'network_data',
  'service_step',
]);

/** Names a node may not take: they are words of the node URL space. */
export const NODE_RESERVED_NAMES: ReadonlySet<string> = new Set([
  'maintenance',
  'management',
  'states',
  'vendor_passthru',
  'detail',
  'validate',
]);

export function isNodeField(name: string): boolean {
  return name in NODE_FIELD_MIN_VERSION || NODE_ALWAYS_FIELDS.includes(name);
}

export function nodeFieldVisibleAt(name: string, minor: number): boolean {
  const since = NODE_FIELD_MIN_VERSION[name];
  return since === undefined ? NODE_ALWAYS_FIELDS.includes(name) : minor >= since;
}

/**
 * What `?fields=` may name for nodes (Ironic's `_get_fields_for_node_query`):
 * every API field except the timestamps, which can be sorted on but not
 * selected.
 */
export function isSelectableNodeField(name: string): boolean {
  return isNodeField(name) && !NOT_SELECTABLE.has(name);
}

const NOT_SELECTABLE = new Set(['created_at', 'updated_at']);
