/**
 * The values of query parameters, checked before any site is asked (the
 * names were checked by the router: an unknown one is "Unexpected
 * arguments"). As Ironic's `args.validate` checks its handlers' keyword
 * arguments, and with its texts: booleans ("Invalid detail: Unrecognized
 * value 'maybe', …"), integers ("Expected an integer for limit: abc"),
 * UUIDs, strings; a parameter given twice reaches Ironic's validator as a
 * Python list, so `?driver=a&driver=b` is "Expected string for driver:
 * ['a', 'b']". Then the handlers' own checks that need no object: `limit`
 * positive, `sort_dir`, the provision state and fault filters, and the
 * `fields` a resource has — a field no version of the resource has is a 400
 * (a node listing answers it with a 500 at Ironic 21.4).
 */
import { badRequest, ProxyError } from '../errors.js';
import { isUuidLike } from '../ironic/idents.js';
import { isSelectableNodeField, NODE_FIELD_MIN_VERSION } from '../ironic/node-fields.js';
import { arg, type ArgCheck } from './body.js';
import { pyStr } from '../ironic/py-repr.js';
import type { ApiEntry } from './types.js';

/** args.uuid */
const uuidCheck: ArgCheck = (name, value) => {
  if (typeof value !== 'string' || !isUuidLike(value)) throw badRequest(`Expected UUID for ${name}: ${pyStr(value)}`);
};


/** The validator Ironic's handlers give each parameter name (args.string when not listed). */
const VALIDATORS: Readonly<Record<string, ArgCheck>> = {
  limit: arg.integer,
  detail: arg.boolean,
  maintenance: arg.boolean,
  associated: arg.boolean,
  retired: arg.boolean,
  sharded: arg.boolean,
  include_children: arg.boolean,
  reset_interfaces: arg.boolean,
  chassis_uuid: uuidCheck,
  instance_uuid: uuidCheck,
  node_uuid: uuidCheck,
};

/** Provision states a node can be in (`states.machine.states`, 21.4, and upstream's service and hold states). */
export const PROVISION_STATES: ReadonlySet<string> = new Set([
  'active',
  'adopt failed',
  'adopting',
  'available',
  'clean failed',
  'clean wait',
  'cleaning',
  'deleting',
  'deploy failed',
  'deploying',
  'enroll',
  'error',
  'inspect failed',
  'inspect wait',
  'inspecting',
  'manageable',
  'rescue',
  'rescue failed',
  'rescue wait',
  'rescuing',
  'unrescue failed',
  'unrescuing',
  'verifying',
  'wait call-back',
  // Upstream (1.85, 1.87).
  'clean hold',
  'deploy hold',
  'service',
  'service failed',
  'service hold',
  'service wait',
  'servicing',
]);

/** `faults.VALID_FAULTS` (21.4; upstream adds 'service failure' with servicing, 1.87). */
const FAULTS_21_4 = ['power failure', 'clean failure', 'rescue abort failure'];
const FAULTS_SERVICE = [...FAULTS_21_4, 'service failure'];
const SERVICE_MINOR = 87;

/** The kinds of object whose fields `fields` may name. */
type FieldsKind = 'node' | 'bios' | 'port' | 'portgroup' | 'chassis' | 'allocation' | 'conductor' | 'driver' | 'deploy_template' | 'runbook' | 'connector' | 'target';

const COLLECTION_KIND: Readonly<Record<string, FieldsKind>> = {
  nodes: 'node',
  ports: 'port',
  portgroups: 'portgroup',
  chassis: 'chassis',
  allocations: 'allocation',
  allocation: 'allocation',
  conductors: 'conductor',
  drivers: 'driver',
  deploy_templates: 'deploy_template',
  runbooks: 'runbook',
  connectors: 'connector',
  targets: 'target',
  bios: 'bios',
};

const COMMON = ['uuid', 'created_at', 'updated_at', 'links'];
const DRIVER_INTERFACES = ['bios', 'boot', 'console', 'deploy', 'firmware', 'inspect', 'management', 'network', 'power', 'raid', 'rescue', 'storage', 'vendor'];

/**
 * What each object shows (Ironic's convert_with_links: object_to_dict's
 * fields plus what it adds before check_for_invalid_fields), with the
 * fields upstream added after 21.4 (the sites decide whether the version
 * shows them).
 */
const FIELDS: Readonly<Record<Exclude<FieldsKind, 'node'>, ReadonlySet<string>>> = {
  port: new Set([
    ...COMMON,
    'address',
    'extra',
    'internal_info',
    'is_smartnic',
    'local_link_connection',
    'physical_network',
    'pxe_enabled',
    'node_uuid',
    'portgroup_uuid',
    'name',
    'description',
    'vendor',
    'category',
    'available_for_dynamic_portgroup',
  ]),
  portgroup: new Set([
    ...COMMON,
    'address',
    'extra',
    'internal_info',
    'mode',
    'name',
    'properties',
    'standalone_ports_supported',
    'node_uuid',
    'ports',
    'physical_network',
    'category',
    'dynamic_portgroup',
  ]),
  chassis: new Set([...COMMON, 'description', 'extra', 'nodes']),
  allocation: new Set([...COMMON, 'candidate_nodes', 'extra', 'last_error', 'name', 'owner', 'resource_class', 'state', 'traits', 'node_uuid']),
  conductor: new Set(['created_at', 'updated_at', 'links', 'hostname', 'conductor_group', 'drivers', 'alive']),
  driver: new Set([
    'name',
    'hosts',
    'type',
    'links',
    'properties',
    ...DRIVER_INTERFACES.flatMap((i) => [`default_${i}_interface`, `enabled_${i}_interfaces`]),
  ]),
  deploy_template: new Set([...COMMON, 'name', 'extra', 'steps']),
  runbook: new Set([...COMMON, 'name', 'extra', 'steps', 'owner', 'public', 'disable_ramdisk', 'traits', 'description']),
  connector: new Set([...COMMON, 'connector_id', 'extra', 'type', 'node_uuid']),
  // A node's BIOS settings (1.74: fields): Ironic reads each named field off the setting, an unknown one is its 500.
  bios: new Set([
    'created_at',
    'updated_at',
    'links',
    'name',
    'value',
    'attribute_type',
    'allowable_values',
    'lower_bound',
    'max_length',
    'min_length',
    'read_only',
    'reset_required',
    'unique',
    'upper_bound',
  ]),
  target: new Set([...COMMON, 'boot_index', 'extra', 'properties', 'volume_id', 'volume_type', 'node_uuid']),
};

/** The kind of object an entry's `fields` name: the last collection of its path. */
export function fieldsKindOf(path: string): FieldsKind | undefined {
  const words = path.split('/').filter((w) => w && w !== 'v1' && w !== 'detail' && !w.startsWith('{'));
  return COLLECTION_KIND[words.at(-1) ?? ''];
}

/** args.string_list: comma separated, trimmed, lower-cased, without empties and repeats. */
function stringList(value: string): string[] {
  const out: string[] = [];
  for (const v of value.split(',')) {
    const w = v.trim().toLowerCase();
    if (w && !out.includes(w)) out.push(w);
  }
  return out;
}

/**
 * Fields newer than the request's microversion: Ironic's NotAcceptable (406)
 * — check_allowed_fields for nodes, _check_allowed_port_fields and
 * check_allowed_portgroup_fields — before any check of unknown names.
 */
const FIELD_SINCE: Partial<Record<FieldsKind, Readonly<Record<string, number>>>> = {
  node: NODE_FIELD_MIN_VERSION,
  port: {
    pxe_enabled: 19,
    local_link_connection: 19,
    portgroup_uuid: 24,
    physical_network: 34,
    is_smartnic: 53,
    name: 88,
    description: 97,
    vendor: 100,
    category: 101,
    available_for_dynamic_portgroup: 111,
  },
  portgroup: { mode: 26, properties: 26, physical_network: 102, category: 103, dynamic_portgroup: 111 },
};

/** Whether `field` of a port or portgroup is newer than the request's microversion (Ironic's NotAcceptable, also for a sort_key). */
export function fieldNewerThan(kind: 'port' | 'portgroup', field: string, minor: number): boolean {
  return (FIELD_SINCE[kind]?.[field] ?? 0) > minor;
}

/**
 * Columns Ironic refuses as sort_key (`invalid_sort_key_list`) of the global
 * objects, which the proxy reads from one site (the node-bound listings
 * check theirs in their engines).
 */
const SORT_BLACKLIST: Partial<Record<FieldsKind, readonly string[]>> = {
  chassis: ['extra'],
  deploy_template: ['extra', 'steps'],
  runbook: ['extra', 'steps', 'traits'],
};

/** `fields` appeared in 1.8 (check_allow_specify_fields). */
const FIELDS_SINCE = 8;

function checkFields(entry: ApiEntry, value: string, minor: number): void {
  const kind = fieldsKindOf(entry.path);
  if (!kind) return;
  const wanted = stringList(value);
  if (minor < FIELDS_SINCE) throw new ProxyError('NOT_ACCEPTABLE_FAULT', 'Request not acceptable.');
  const since = FIELD_SINCE[kind];
  if (since && wanted.some((f) => (since[f] ?? 0) > minor)) throw new ProxyError('NOT_ACCEPTABLE_FAULT', 'Request not acceptable.');
  if (kind === 'node') {
    const bad = wanted.find((f) => !isSelectableNodeField(f));
    if (bad === undefined) return;
    // A node's show: Ironic's _get_fields_for_node_query; a listing: its newer text (21.4 answers a 500).
    if (entry.object) throw badRequest(`Field ${bad} is not a valid field.`);
    throw badRequest(`Field(s) "${wanted.filter((f) => !isSelectableNodeField(f)).join(', ')}" are not valid`);
  }
  const known = FIELDS[kind];
  const invalid = wanted.filter((f) => !known.has(f));
  if (invalid.length > 0) throw badRequest(`Field(s) "${invalid.join(', ')}" are not valid`);
}

function validatorOf(entry: ApiEntry, name: string): ArgCheck {
  const kind = fieldsKindOf(entry.path);
  // Runbooks' `project` is a boolean (the caller's own project); a conductor's marker is its hostname.
  if (name === 'project' && kind === 'runbook') return arg.boolean;
  if (name === 'marker') return kind === 'conductor' ? arg.string : uuidCheck;
  return VALIDATORS[name] ?? arg.string;
}

/**
 * Checks the query of a request to `entry` (its names are the entry's).
 * `maxMinor`: the highest microversion every site serves (which faults exist).
 */
export function checkQueryValues(entry: ApiEntry, query: URLSearchParams, maxMinor: number, minor: number): void {
  // Every check below is of a value the query holds: most requests (a node by uuid) hold none.
  if (query.size === 0) return;
  const names = [...new Set(query.keys())];
  // The validators, in the order the entry lists its parameters (Ironic's signature order).
  const order = entry.query ?? [];
  names.sort((a, b) => order.indexOf(a) - order.indexOf(b));
  for (const name of names) {
    const all = query.getAll(name);
    const value: unknown = all.length === 1 ? all[0] : all;
    const check = validatorOf(entry, name);
    // A repeated parameter is a list to Python: its validator names it as one.
    check(name, value);
  }
  const limit = query.get('limit');
  if (limit !== null && Number(limit) <= 0) throw badRequest('Limit must be positive');
  const sortDir = query.get('sort_dir');
  if (sortDir !== null && sortDir !== 'asc' && sortDir !== 'desc') {
    throw badRequest(`Invalid sort direction: ${sortDir}. Acceptable values are 'asc' or 'desc'`);
  }
  const state = query.get('provision_state');
  if (state !== null && !PROVISION_STATES.has(state)) throw badRequest(`Provision state "${state}" is not valid`);
  const fault = query.get('fault');
  if (fault !== null) {
    const faults = maxMinor >= SERVICE_MINOR ? FAULTS_SERVICE : FAULTS_21_4;
    if (!faults.includes(fault)) throw badRequest(`Unrecognized fault "${fault}" is specified, allowed faults are (${faults.map((f) => `'${f}'`).join(', ')})`);
  }
  const sortKey = query.get('sort_key');
  const kind = fieldsKindOf(entry.path);
  if (sortKey !== null && kind && SORT_BLACKLIST[kind]?.includes(sortKey)) throw badRequest(`The sort_key value ${sortKey} is an invalid field for sorting`);
  const fields = query.get('fields');
  if (fields !== null) checkFields(entry, fields, minor);
}
