/**
 * The simulator's node record (the columns of Ironic 21.4's `nodes` table plus
 * traits) and its API rendering, field for field and in Ironic's key order
 * (ironic/api/controllers/v1/node.py: node_convert_with_links, node_sanitize).
 */

import { selfAndBookmark, type Link } from '../ironic/links.js';
import { NODE_FIELD_MIN_VERSION } from '../ironic/node-fields.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export interface NodeRec {
  [column: string]: unknown;
  id: number;
  uuid: string;
  name: string | null;
  instance_uuid: string | null;
  chassis_id: number | null;
  power_state: string | null;
  target_power_state: string | null;
  provision_state: string;
  target_provision_state: string | null;
  provision_updated_at: string | null;
  last_error: string | null;
  instance_info: JsonObject;
  properties: JsonObject;
  driver: string;
  driver_info: JsonObject;
  driver_internal_info: JsonObject;
  clean_step: JsonObject;
  deploy_step: JsonObject;
  resource_class: string | null;
  raid_config: JsonObject;
  target_raid_config: JsonObject;
  reservation: string | null;
  conductor_affinity: number | null;
  conductor_group: string;
  maintenance: boolean;
  maintenance_reason: string | null;
  fault: string | null;
  console_enabled: boolean;
  inspection_finished_at: string | null;
  inspection_started_at: string | null;
  extra: JsonObject;
  automated_clean: boolean | null;
  protected: boolean;
  protected_reason: string | null;
  owner: string | null;
  lessee: string | null;
  allocation_id: number | null;
  description: string | null;
  bios_interface: string | null;
  boot_interface: string | null;
  console_interface: string | null;
  deploy_interface: string | null;
  inspect_interface: string | null;
  management_interface: string | null;
  network_interface: string | null;
  raid_interface: string | null;
  rescue_interface: string | null;
  retired: boolean;
  retired_reason: string | null;
  network_data: JsonObject;
  storage_interface: string | null;
  power_interface: string | null;
  vendor_interface: string | null;
  boot_mode: string | null;
  secure_boot: boolean | null;
  shard: string | null;
  created_at: string;
  updated_at: string | null;
  version: string;
  /** Not a column (node_traits table); kept sorted, as the DB returns them. */
  traits: string[];
  /** Simulator-only: the last rendered list item, valid for one store epoch. */
  simJson?: { epoch: number; key: string; json: string };
}

/** `_get_fields_for_node_query` valid_fields, in its (and the API's) order. */
export const NODE_VALID_FIELDS: readonly string[] = [
  'automated_clean', 'bios_interface', 'boot_interface', 'boot_mode', 'clean_step', 'conductor_group',
  'console_enabled', 'console_interface', 'deploy_interface', 'deploy_step', 'description', 'driver',
  'driver_info', 'driver_internal_info', 'extra', 'fault', 'inspection_finished_at', 'inspection_started_at',
  'inspect_interface', 'instance_info', 'instance_uuid', 'last_error', 'lessee', 'maintenance',
  'maintenance_reason', 'management_interface', 'name', 'network_data', 'network_interface', 'owner',
  'power_interface', 'power_state', 'properties', 'protected', 'protected_reason', 'provision_state',
  'provision_updated_at', 'raid_config', 'raid_interface', 'rescue_interface', 'reservation',
  'resource_class', 'retired', 'retired_reason', 'secure_boot', 'shard', 'storage_interface',
  'target_power_state', 'target_provision_state', 'target_raid_config', 'traits', 'vendor_interface',
];

/** Fields computed by the API rather than read from the node object. */
export const API_FULFILLED_FIELDS: readonly string[] = ['allocation_uuid', 'chassis_uuid', 'conductor'];

/**
 * Everything `?fields=` may name in 21.4 (`_get_fields_for_node_query`): note
 * that created_at and updated_at are not among them.
 */
export const NODE_QUERYABLE_FIELDS: ReadonlySet<string> = new Set([
  'uuid', 'traits', ...API_FULFILLED_FIELDS, ...NODE_VALID_FIELDS,
]);

/** `_DEFAULT_RETURN_FIELDS`, in Ironic's order (this order is spelled out in `next` links). */
export const NODE_DEFAULT_RETURN_FIELDS: readonly string[] = [
  'instance_uuid', 'maintenance', 'power_state', 'provision_state', 'uuid', 'name',
];

/** Columns of the 21.4 `nodes` table (any of them is a valid sort_key unless blacklisted). */
export const NODE_DB_COLUMNS: ReadonlySet<string> = new Set([
  'created_at', 'updated_at', 'version', 'id', 'uuid', 'instance_uuid', 'name', 'chassis_id', 'power_state',
  'target_power_state', 'provision_state', 'target_provision_state', 'provision_updated_at', 'last_error',
  'instance_info', 'properties', 'driver', 'driver_info', 'driver_internal_info', 'clean_step', 'deploy_step',
  'resource_class', 'raid_config', 'target_raid_config', 'reservation', 'conductor_affinity', 'conductor_group',
  'maintenance', 'maintenance_reason', 'fault', 'console_enabled', 'inspection_finished_at',
  'inspection_started_at', 'extra', 'automated_clean', 'protected', 'protected_reason', 'owner', 'lessee',
  'allocation_id', 'description', 'bios_interface', 'boot_interface', 'console_interface', 'deploy_interface',
  'inspect_interface', 'management_interface', 'network_interface', 'raid_interface', 'rescue_interface',
  'retired', 'retired_reason', 'network_data', 'storage_interface', 'power_interface', 'vendor_interface',
  'boot_mode', 'secure_boot', 'shard',
]);

/** `NodesController.invalid_sort_key_list` as of 21.4 (no service_step). */
export const NODE_SORT_BLACKLIST_21_4: ReadonlySet<string> = new Set([
  'properties', 'driver_info', 'extra', 'instance_info', 'driver_internal_info', 'clean_step', 'deploy_step',
  'raid_config', 'target_raid_config', 'traits', 'network_data',
]);

/**
 * `api_utils.VERSIONED_FIELDS` of 21.4: what `check_allowed_fields` (406) and
 * `hide_fields_in_newer_versions` look at.
 */
export const VERSIONED_FIELDS_21_4: Readonly<Record<string, number>> = (() => {
  const out: Record<string, number> = {};
  for (const [f, v] of Object.entries(NODE_FIELD_MIN_VERSION)) if (v <= 82) out[f] = v;
  out.events = 54;
  return out;
})();

export function fieldAllowed(field: string, minor: number): boolean {
  const since = VERSIONED_FIELDS_21_4[field];
  return since === undefined || minor >= since;
}

/** The first field (in the given order) that the version does not allow, if any. */
export function firstDisallowedField(fields: Iterable<string>, minor: number): string | undefined {
  for (const f of fields) if (!fieldAllowed(f, minor)) return f;
  return undefined;
}

const DICT_FIELDS = new Set([
  'clean_step', 'deploy_step', 'driver_info', 'driver_internal_info', 'extra', 'instance_info',
  'network_data', 'properties', 'raid_config', 'target_raid_config',
]);

const SANITIZE_KEYS = [
  'adminpass', 'admin_pass', 'password', 'admin_password', 'auth_token', 'new_pass', 'auth_password',
  'secret_uuid', 'secret', 'sys_pswd', 'token', 'configdrive', 'chappassword', 'encrypted_key', 'private_key',
  'fernetkey', 'sslkey', 'passphrase', 'cephclusterfsid', 'octaviaheartbeatkey', 'rabbitcookie',
  'cephmanilaclientkey', 'pacemakerremoteauthkey', 'designaterndckey', 'cephadminkey',
  'heatauthencryptionkey', 'cephclientkey', 'keystonecredential', 'barbicansimplecryptokek', 'cephrgwkey',
  'swifthashsuffix', 'migrationsshkey', 'cephmdskey', 'cephmonkey',
];

/** oslo strutils.mask_dict_password with `******`. */
export function maskDictPassword(d: JsonObject): JsonObject {
  let out: JsonObject | undefined;
  for (const [k, v] of Object.entries(d)) {
    let nv: Json = v;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      nv = maskDictPassword(v);
    } else {
      const lk = k.toLowerCase();
      if (SANITIZE_KEYS.some((s) => lk.includes(s))) nv = '******';
    }
    if (nv !== v) {
      out ??= { ...d };
      out[k] = nv;
    }
  }
  return out ?? d;
}

function maskInstanceInfo(d: JsonObject): JsonObject {
  let out = maskDictPassword(d);
  if (out.configdrive) out = { ...out, configdrive: '******' };
  if (out.image_url) out = { ...out, image_url: '******' };
  return out;
}

export interface RenderContext {
  minor: number;
  /** Public base URL, no trailing slash. */
  base: string;
  /** `conductor` field value (the conductor serving the node's group), or null. */
  conductorFor: (n: NodeRec) => string | null;
  /** UUID of the chassis with this id (null: none). */
  chassisUuid?: (id: number | null) => string | null;
  /** UUID of the allocation with this id (null: none). */
  allocationUuid?: (id: number | null) => string | null;
}

/** Value of one API field of a node at a version (legacy state names applied). */
export function fieldValue(n: NodeRec, field: string, ctx: RenderContext): unknown {
  switch (field) {
    case 'provision_state': {
      const s = n.provision_state;
      if (ctx.minor < 2 && s === 'available') return null;
      if (ctx.minor < 39 && s === 'inspect wait') return 'inspecting';
      return s;
    }
    case 'conductor':
      return ctx.conductorFor(n);
    case 'allocation_uuid':
      return ctx.allocationUuid?.(n.allocation_id) ?? null;
    case 'chassis_uuid':
      return ctx.chassisUuid?.(n.chassis_id) ?? null;
    case 'driver_info':
      return maskDictPassword(n.driver_info);
    case 'instance_info':
      return maskInstanceInfo(n.instance_info);
    case 'driver_internal_info':
      return n.driver_internal_info.agent_secret_token
        ? { ...n.driver_internal_info, agent_secret_token: '******' }
        : n.driver_internal_info;
    case 'traits':
      return n.traits;
    default: {
      const v = n[field];
      if (v === null || v === undefined) return DICT_FIELDS.has(field) ? {} : null;
      return v;
    }
  }
}

const fullKeysCache = new Map<number, string[]>();

/** Keys of a full node object at a version, in Ironic's order (before links). */
function fullValueKeys(minor: number): string[] {
  let keys = fullKeysCache.get(minor);
  if (!keys) {
    keys = ['uuid', 'created_at', 'updated_at', ...NODE_VALID_FIELDS].filter((f) => fieldAllowed(f, minor));
    fullKeysCache.set(minor, keys);
  }
  return keys;
}

function subLinks(base: string, uuid: string, what: string): Link[] {
  return selfAndBookmark(base, 'nodes', `${uuid}/${what}`);
}

/** A node as `GET /v1/nodes/{id}` (fields undefined) or with `?fields=` shows it. */
export function renderNode(n: NodeRec, ctx: RenderContext, fields?: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const minor = ctx.minor;
  if (!fields) {
    for (const k of fullValueKeys(minor)) out[k] = fieldValue(n, k, ctx);
    out.links = selfAndBookmark(ctx.base, 'nodes', n.uuid);
    if (minor >= 49) out.conductor = ctx.conductorFor(n);
    if (minor >= 52) out.allocation_uuid = fieldValue(n, 'allocation_uuid', ctx);
    out.chassis_uuid = fieldValue(n, 'chassis_uuid', ctx);
    out.ports = subLinks(ctx.base, n.uuid, 'ports');
    if (minor >= 14) out.states = subLinks(ctx.base, n.uuid, 'states');
    if (minor >= 24) out.portgroups = subLinks(ctx.base, n.uuid, 'portgroups');
    if (minor >= 32) out.volume = subLinks(ctx.base, n.uuid, 'volume');
    return out;
  }
  // object_to_dict: uuid, created_at, updated_at, then the requested object fields
  // in request order; then links; then the API-fulfilled ones; then everything
  // not requested is dropped (links stays).
  const wanted = new Set(fields);
  for (const k of ['uuid', 'created_at', 'updated_at']) if (wanted.has(k)) out[k] = fieldValue(n, k, ctx);
  for (const k of fields) {
    if (k in out || API_FULFILLED_FIELDS.includes(k)) continue;
    if (fieldAllowed(k, minor)) out[k] = fieldValue(n, k, ctx);
  }
  out.links = selfAndBookmark(ctx.base, 'nodes', n.uuid);
  if (minor >= 49 && wanted.has('conductor')) out.conductor = ctx.conductorFor(n);
  if (minor >= 52 && wanted.has('allocation_uuid')) out.allocation_uuid = fieldValue(n, 'allocation_uuid', ctx);
  if (wanted.has('chassis_uuid')) out.chassis_uuid = fieldValue(n, 'chassis_uuid', ctx);
  return out;
}

/** `node_states_convert`. */
export function renderStates(n: NodeRec, minor: number): Record<string, unknown> {
  const out: Record<string, unknown> = {
    console_enabled: n.console_enabled,
    last_error: n.last_error,
    power_state: n.power_state,
    provision_state: n.provision_state,
    target_power_state: n.target_power_state,
    target_provision_state: n.target_provision_state,
    provision_updated_at: n.provision_updated_at,
  };
  if (minor >= 12) {
    out.raid_config = n.raid_config;
    out.target_raid_config = n.target_raid_config;
  }
  if (minor >= 75) {
    out.boot_mode = n.boot_mode;
    out.secure_boot = n.secure_boot;
  }
  if (minor < 2 && out.provision_state === 'available') out.provision_state = null;
  if (minor < 39 && out.provision_state === 'inspect wait') out.provision_state = 'inspecting';
  return out;
}

let lastMicros = 0;

/**
 * Python `datetime.isoformat()` of "now" in UTC with microseconds, e.g.
 * `2026-11-26T10:27:12.978939+00:00`. Strictly increasing within the process,
 * never with a zero microsecond part (Python would drop it), so that string
 * order is time order.
 */
export function nowIso(): string {
  let micros = Date.now() * 1000;
  if (micros <= lastMicros) micros = lastMicros + 1;
  if (micros % 1_000_000 === 0) micros += 1;
  lastMicros = micros;
  return isoFromMicros(micros);
}

export function isoFromMicros(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const frac = String(micros % 1_000_000).padStart(6, '0');
  return new Date(ms).toISOString().slice(0, 19) + '.' + frac + '+00:00';
}
