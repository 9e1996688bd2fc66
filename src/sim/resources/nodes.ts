/**
 * Nodes (ironic/api/controllers/v1/node.py): create, show, list, patch,
 * delete, states and the conductor's transitions (states.ts), management,
 * vendor passthru, validation, traits, VIFs, BIOS and history; the node
 * sub-resources that belong to other controllers (ports, portgroups,
 * volume, allocation) are routed to their modules.
 */


import { randomUUID } from 'node:crypto';

import { isUuidLike } from '../../ironic/idents.js';
import { selfAndBookmark } from '../../ironic/links.js';
import { buildUrl, ironicNextLink as nextLink, pyBool } from '../../ironic/next-link.js';
import { NODE_RESERVED_NAMES } from '../../ironic/node-fields.js';
import {
  argBoolean,
  argInteger,
  argString,
  argStringList,
  argUuid,
  argUuidOrName,
  isValidNodeLogicalName,
  rejectUnexpected,
} from '../args.js';
import { Fault, minVersionNotAcceptable, nodeNotFound, notAcceptable, RoutingError } from '../errors.js';
import {
  fieldAllowed,
  firstDisallowedField,
  NODE_DB_COLUMNS,
  NODE_DEFAULT_RETURN_FIELDS,
  NODE_QUERYABLE_FIELDS,
  NODE_SORT_BLACKLIST_21_4,
  nowIso,
  renderNode,
  renderStates,
  type Json,
  type JsonObject,
  type NodeRec,
} from '../node-model.js';
import { STANDARD_TRAITS } from '../os-traits.js';
import { applyOp, opRepr, PatchApplyError, patchSchemaError, type PatchOp } from '../patch.js';
import { pyRepr, pyStr, pyTuple } from '../pyrepr.js';
import { blankNode, DRIVERS, seedNodes } from '../seed.js';
import {
  ALL_STATES,
  DELETE_ALLOWED_STATES,
  isActionable,
  MIN_VERB_VERSION,
  plan,
  UNSTABLE_STATES,
  UPDATE_ALLOWED_STATES,
  VERBS,
} from '../states.js';
import { NodeStore } from '../store.js';
import { ENABLED_INTERFACES } from '../interfaces.js';
import { Table, type Ctx } from '../kit.js';
import type { SimApiConfig, World } from '../world.js';
import { dropNodeAllocation, routeNodeAllocation, type AllocationRec } from './allocations.js';
import type { ChassisRec } from './chassis.js';
import type { TemplateRec } from './deploy-templates.js';
import { dropNodePortgroups, routePortgroups, type PortgroupRec } from './portgroups.js';
import { dropNodePorts, routePorts, type PortRec } from './ports.js';
import { dropNodeVolume, routeVolume, type ConnectorRec, type TargetRec } from './volume.js';


/** Words that are node sub-controllers: a top-level ident equal to one is a 404. */
const SUBCONTROLLER_WORDS = new Set([
  'ports', 'portgroups', 'vifs', 'volume', 'traits', 'bios', 'allocation', 'history', 'inventory',
]);

const LIST_PARAMS = [
  'chassis_uuid', 'instance_uuid', 'associated', 'maintenance', 'retired', 'provision_state', 'marker', 'limit',
  'sort_key', 'sort_dir', 'driver', 'fields', 'resource_class', 'fault', 'conductor_group', 'detail',
  'conductor', 'owner', 'description_contains', 'lessee', 'project', 'shard', 'sharded',
] as const;
const LIST_ALLOWED = new Set<string>(LIST_PARAMS);
const DETAIL_ALLOWED = new Set<string>(LIST_PARAMS.filter((p) => p !== 'fields' && p !== 'detail'));

const VALID_FAULTS = ['power failure', 'clean failure', 'rescue abort failure'];

const PATCH_ALLOWED_FIELDS = [
  'automated_clean', 'bios_interface', 'boot_interface', 'chassis_uuid', 'conductor_group',
  'console_interface', 'deploy_interface', 'description', 'driver', 'driver_info', 'extra',
  'inspect_interface', 'instance_info', 'instance_uuid', 'lessee', 'maintenance', 'management_interface',
  'name', 'network_data', 'network_interface', 'owner', 'power_interface', 'properties', 'protected',
  'protected_reason', 'raid_interface', 'rescue_interface', 'resource_class', 'retired', 'retired_reason',
  'shard', 'storage_interface', 'vendor_interface',
];

/** JSON-schema types of node create/patch bodies (node_schema / node_patch_schema). */
const NODE_SCHEMA_TYPES: Record<string, string[]> = {
  automated_clean: ['string', 'boolean', 'null'],
  bios_interface: ['string', 'null'],
  boot_interface: ['string', 'null'],
  boot_mode: ['string', 'null'],
  chassis_uuid: ['string', 'null'],
  conductor_group: ['string', 'null'],
  console_enabled: ['string', 'boolean', 'null'],
  console_interface: ['string', 'null'],
  deploy_interface: ['string', 'null'],
  description: ['string', 'null'],
  driver: ['string'],
  driver_info: ['object', 'null'],
  extra: ['object', 'null'],
  inspect_interface: ['string', 'null'],
  instance_info: ['object', 'null'],
  instance_uuid: ['string', 'null'],
  lessee: ['string', 'null'],
  management_interface: ['string', 'null'],
  maintenance: ['string', 'boolean', 'null'],
  name: ['string', 'null'],
  network_data: ['object', 'null'],
  network_interface: ['string', 'null'],
  owner: ['string', 'null'],
  power_interface: ['string', 'null'],
  properties: ['object', 'null'],
  raid_interface: ['string', 'null'],
  rescue_interface: ['string', 'null'],
  resource_class: ['string', 'null'],
  retired: ['string', 'boolean', 'null'],
  retired_reason: ['string', 'null'],
  secure_boot: ['string', 'boolean', 'null'],
  shard: ['string', 'null'],
  storage_interface: ['string', 'null'],
  uuid: ['string', 'null'],
  vendor_interface: ['string', 'null'],
};
const PATCH_SCHEMA_TYPES: Record<string, string[]> = {
  ...NODE_SCHEMA_TYPES,
  protected: ['string', 'boolean', 'null'],
  protected_reason: ['string', 'null'],
};
const MAX_LENGTH: Record<string, number> = { description: 4096, resource_class: 80 };
const BOOL_BODY_FIELDS = ['automated_clean', 'console_enabled', 'protected', 'maintenance', 'retired'];
const UUID_BODY_FIELDS = ['chassis_uuid', 'instance_uuid', 'uuid'];

const FAKE_VENDOR_METHODS = {
  fourth_method_shared_lock: {
    http_methods: ['POST'], async: true, description: 'Test if the value of bar is woof', attach: false,
    require_exclusive_lock: false,
  },
  second_method: {
    http_methods: ['POST'], async: true, description: 'Test if the value of bar is kazoo', attach: false,
    require_exclusive_lock: true,
  },
  third_method_sync: {
    http_methods: ['POST'], async: false, description: 'Test if the value of bar is meow', attach: false,
    require_exclusive_lock: true,
  },
};

const INTERFACE_FIELDS = Object.keys(ENABLED_INTERFACES).map((i) => `${i}_interface`);
/** update_node's allowed_update_states. */
const UPDATE_INTERFACE_STATES = ['enroll', 'inspecting', 'inspect wait', 'manageable', 'available'];

const FAKE_BIOS_CLEAN_STEPS = ['apply_configuration', 'factory_reset', 'cache_bios_settings'];
const CLEANING_INTERFACES = ['power', 'management', 'deploy', 'bios', 'raid'];

const INTERFACES = ['boot', 'deploy', 'management', 'network', 'power', 'bios', 'console', 'inspect', 'raid', 'rescue', 'storage'];

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(v: unknown, types: string[]): boolean {
  const t = jsonType(v);
  return types.includes(t) || (t === 'integer' && types.includes('number'));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `%r is not of type %s` as python-jsonschema words it. */
function typeErrorText(v: unknown, types: string[]): string {
  return `${pyRepr(v)} is not of type ${types.map(pyStr).join(', ')}`;
}

/**
 * The nodes controller (ironic/api/controllers/v1/node.py) and the site
 * state it owns: the node table, the other resources' tables, the fake
 * conductor's timers. SimApi (api.ts) adds the entry and the v1 route table.
 */
export class NodesController implements World {
  readonly store = new NodeStore();
  readonly ports = new Table<PortRec>();
  readonly portgroups = new Table<PortgroupRec>('name');
  readonly chassis = new Table<ChassisRec>();
  readonly templates = new Table<TemplateRec>('name');
  readonly runbooks = new Table<TemplateRec>('name');
  readonly allocations = new Table<AllocationRec>('name');
  readonly connectors = new Table<ConnectorRec>();
  readonly targets = new Table<TargetRec>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(readonly cfg: SimApiConfig) {
    if (cfg.seedNodes > 0) {
      for (const n of seedNodes(cfg.name, cfg.groups, cfg.seedNodes, this.store.allocateId(), cfg.drivers)) {
        this.store.insert(n);
      }
      // allocateId() was called once for the first id; skip past the rest
      for (let i = 1; i < cfg.seedNodes; i++) this.store.allocateId();
    }
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  conductorHost(group: string): string {
    const named = this.cfg.conductorHosts?.[group];
    if (named) return named;
    return group ? `${this.cfg.name}-${group}` : this.cfg.name;
  }

  /** World.later: the conductor's delayed work, dropped when the site closes. */
  later(fn: () => void, ms = this.cfg.tickMs): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.closed) fn();
    }, ms);
    this.timers.add(timer);
  }

  nodesChanged(n?: NodeRec, before?: { name: string | null; instance_uuid: string | null }): void {
    if (n) this.store.updated(n, before ?? { name: n.name, instance_uuid: n.instance_uuid });
    else this.store.touch();
  }

  readonly conductorFor = (n: NodeRec): string | null =>
    this.cfg.groups.includes(n.conductor_group) && this.cfg.drivers.includes(n.driver)
      ? this.conductorHost(n.conductor_group)
      : null;


  protected routeNodes(ctx: Ctx, rest: string[], jsonSuffix: boolean): { status: number; body?: string; headers?: Record<string, string> } {
    const m = ctx.method;
    if (rest.length === 0) {
      if (m === 'GET') return this.listNodes(ctx, false);
      if (m === 'POST') return this.createNode(ctx);
      if (m === 'PATCH' || m === 'DELETE') throw new Fault(400, 'Missing mandatory parameter: node_ident');
      throw new RoutingError(405, '', { Allow: 'DELETE, GET, PATCH, POST' });
    }
    const [ident, ...sub] = rest as [string, ...string[]];
    if (ident === 'detail' && sub.length === 0 && m === 'GET') return this.listNodes(ctx, true);
    if (ident === 'validate' && sub.length === 0 && m === 'GET') return this.validateTop(ctx);
    // NodesController._lookup
    if (SUBCONTROLLER_WORDS.has(ident)) throw new RoutingError(404);
    if (!argUuidOrNameOk(ident)) throw new RoutingError(400, `Expected UUID or name for node: ${ident}`);
    if (sub.length === 0) {
      if (m === 'GET') return this.showNode(ctx, ident, jsonSuffix, undefined);
      if (m === 'PATCH') return this.patchNode(ctx, ident, jsonSuffix);
      if (m === 'DELETE') return this.deleteNode(ctx, ident, jsonSuffix, []);
      throw new RoutingError(405, '', { Allow: 'DELETE, GET, PATCH, POST' });
    }
    const [what, ...more] = sub as [string, ...string[]];
    const gate = ({ portgroups: 24, vifs: 28, bios: 40, allocation: 52, history: 78, inventory: 81 } as Record<string, number>)[what];
    if (gate !== undefined && ctx.minor < gate) throw new RoutingError(404);
    switch (what) {
      case 'states':
        return this.routeStates(ctx, ident, more);
      case 'maintenance':
        if (more.length) break;
        if (m === 'PUT') return this.setMaintenance(ctx, ident, true);
        if (m === 'DELETE') return this.setMaintenance(ctx, ident, false);
        throw new RoutingError(405);
      case 'management':
        return this.routeManagement(ctx, ident, more);
      case 'vendor_passthru':
        return this.vendorPassthru(ctx, ident, more);
      case 'validate':
        if (m === 'GET' && more.length === 0) return this.validateNode(ctx, ident);
        break;
      case 'traits':
        if (ctx.minor >= 37) return this.routeTraits(ctx, ident, more);
        // below 1.37 the controller does not exist: pecan treats the word as
        // get_one's `fields` / delete's extra argument
        break;
      case 'vifs':
        return this.routeVifs(ctx, ident, more);
      case 'bios':
        return this.routeBios(ctx, ident, more);
      case 'history':
        return this.routeHistory(ctx, ident, more);
      case 'inventory':
        if (m !== 'GET' || more.length) throw new RoutingError(405);
        this.checkArgs(ctx, ['node_ident']);
        {
          const n = this.getNode(ctx, ident);
          throw new Fault(404, `Node inventory record for node ${n.id} could not be found.`);
        }
      case 'ports':
        return routePorts(this, ctx, more, { node: ident });
      case 'portgroups':
        return routePortgroups(this, ctx, more, ident);
      case 'volume':
        return routeVolume(this, ctx, more, this.getNode(ctx, ident));
      case 'allocation':
        return routeNodeAllocation(this, ctx, ident, more);
    }
    // pecan's fallback: the remaining segments become positional arguments
    if (m === 'GET' && sub.length === 1) return this.showNode(ctx, ident, jsonSuffix, what);
    if (m === 'GET') throw new Fault(500, `NodesController.get_one() takes from 2 to 3 positional arguments but ${2 + sub.length} were given`);
    if (m === 'DELETE') return this.deleteNode(ctx, ident, jsonSuffix, sub);
    throw new RoutingError(405);
  }

  // ----------------------------------------------------------------- nodes

  /** api_utils.get_rpc_node (+ the `.json` suffix retry). */
  getNode(ctx: Ctx, ident: string, jsonSuffix = false): NodeRec {
    const find = (id: string): NodeRec | undefined => {
      if (isUuidLike(id)) return this.store.getByUuid(id);
      if (ctx.minor >= 5) {
        if (isValidNodeLogicalName(id, ctx.minor)) return this.store.getByName(id);
        throw new Fault(400, `Expected a logical name or UUID but received ${id}.`);
      }
      return undefined;
    };
    const n = find(ident) ?? (jsonSuffix ? find(`${ident}.json`) : undefined);
    if (!n) throw nodeNotFound(jsonSuffix ? `${ident}.json` : ident);
    return n;
  }

  /** Query/body keyword check of `args.validate` for a handler with these parameters. */
  private checkArgs(ctx: Ctx, params: readonly string[], bodyKeys: Iterable<string> = []): void {
    rejectUnexpected([...ctx.query.keys(), ...bodyKeys], new Set(params));
  }

  private showNode(ctx: Ctx, ident: string, jsonSuffix: boolean, pathField: string | undefined): ReturnType<typeof ok> {
    this.checkArgs(ctx, ['node_ident', 'fields']);
    let fieldsRaw: unknown = ctx.query.get('fields');
    if (pathField !== undefined) {
      if (fieldsRaw !== undefined) throw new Fault(500, "get_one() got multiple values for argument 'fields'");
      fieldsRaw = pathField;
    }
    const fields = argStringList('fields', fieldsRaw);
    const n = this.getNode(ctx, ident, jsonSuffix);
    if (fields !== undefined && ctx.minor < 8) throw notAcceptable();
    if (fields && firstDisallowedField(fields, ctx.minor) !== undefined) throw notAcceptable();
    if (fields && fields.length) {
      for (const f of fields) if (!NODE_QUERYABLE_FIELDS.has(f)) throw new Fault(400, `Field ${f} is not a valid field.`);
    }
    return ok(this.renderWithFields(n, ctx, fields));
  }

  /** node_convert_with_links + sanitize for a fields list ([] keeps only links). */
  private renderWithFields(n: NodeRec, ctx: Ctx, fields: string[] | undefined): Record<string, unknown> {
    if (fields === undefined) return renderNode(n, ctx.render);
    if (fields.length === 0) return { links: selfAndBookmark(ctx.base, 'nodes', n.uuid) };
    return renderNode(n, ctx.render, fields);
  }

  protected listNodes(ctx: Ctx, detailPath: boolean, parentChassis?: string): { status: number; body: string } {
    const q = ctx.query;
    this.checkArgs(ctx, [...(detailPath ? DETAIL_ALLOWED : LIST_ALLOWED)]);
    const minor = ctx.minor;
    // args.validate, in the signature's order
    const chassisUuid = parentChassis ?? argUuid('chassis_uuid', q.get('chassis_uuid'));
    const instanceUuid = argUuid('instance_uuid', q.get('instance_uuid'));
    const associated = argBoolean('associated', q.get('associated'));
    const maintenance = argBoolean('maintenance', q.get('maintenance'));
    const retired = argBoolean('retired', q.get('retired'));
    const provisionState = argString('provision_state', q.get('provision_state'));
    const markerId = argUuid('marker', q.get('marker'));
    const limitArg = argInteger('limit', q.get('limit'));
    const sortKey = argString('sort_key', q.get('sort_key')) ?? 'id';
    const sortDir = argString('sort_dir', q.get('sort_dir')) ?? 'asc';
    const driver = argString('driver', q.get('driver'));
    const fieldsArg = detailPath ? undefined : argStringList('fields', q.get('fields'));
    const resourceClass = argString('resource_class', q.get('resource_class'));
    const fault = argString('fault', q.get('fault'));
    const conductorGroup = argString('conductor_group', q.get('conductor_group'));
    const detail = detailPath ? undefined : argBoolean('detail', q.get('detail'));
    const conductor = argString('conductor', q.get('conductor'));
    const owner = argString('owner', q.get('owner'));
    const descriptionContains = argString('description_contains', q.get('description_contains'));
    const lessee = argString('lessee', q.get('lessee'));
    const project = argString('project', q.get('project'));
    const shard = argStringList('shard', q.get('shard'));
    const sharded = argBoolean('sharded', q.get('sharded'));

    const checkState = (): void => {
      if (provisionState !== undefined) {
        if (minor < 9) throw notAcceptable();
        if (!ALL_STATES.has(provisionState)) throw new Fault(400, `Provision state "${provisionState}" is not valid`);
      }
    };
    const gated = (v: unknown, since: number): void => {
      if (v !== undefined && minor < since) throw minVersionNotAcceptable(since);
    };
    const checkFault = (): void => {
      gated(fault, 42);
      if (fault !== undefined && !VALID_FAULTS.includes(fault)) {
        throw new Fault(400, `Unrecognized fault "${fault}" is specified, allowed faults are ${pyTuple(VALID_FAULTS)}`);
      }
    };
    const checkSortKeyVersion = (): void => {
      if (!fieldAllowed(sortKey, minor)) throw notAcceptable();
    };
    let fields: string[] | undefined;
    if (!detailPath) {
      if (fieldsArg !== undefined && minor < 8) throw notAcceptable();
      if (fieldsArg && firstDisallowedField(fieldsArg, minor) !== undefined) throw notAcceptable();
      checkSortKeyVersion();
      checkState();
      gated(driver, 16);
      gated(resourceClass, 21);
      checkFault();
      gated(conductorGroup, 46);
      gated(conductor, 49);
      gated(owner, 50);
      gated(lessee, 65);
      gated(shard, 82);
      gated(sharded, 82);
      if (detail !== undefined && minor < 43) {
        throw new Fault(400, `Invalid query parameter ?detail=${pyBool(detail)} received.`);
      }
      if (fieldsArg !== undefined && detail) {
        throw new Fault(400, 'Can not specify ?detail=True and fields in the same request.');
      }
      fields = fieldsArg === undefined && !detail ? [...NODE_DEFAULT_RETURN_FIELDS] : fieldsArg;
    } else {
      checkState();
      gated(driver, 16);
      gated(resourceClass, 21);
      checkFault();
      gated(conductorGroup, 46);
      gated(owner, 50);
      gated(lessee, 65);
      checkSortKeyVersion();
      gated(conductor, 49);
      gated(shard, 82);
      gated(sharded, 82);
    }

    // _get_nodes_collection
    let limit = limitArg ?? this.cfg.maxLimit;
    if (limitArg !== undefined) {
      if (limitArg <= 0) throw new Fault(400, 'Limit must be positive');
      limit = Math.min(this.cfg.maxLimit, limitArg);
    }
    if (sortDir !== 'asc' && sortDir !== 'desc') {
      throw new Fault(400, `Invalid sort direction: ${sortDir}. Acceptable values are 'asc' or 'desc'`);
    }
    if (NODE_SORT_BLACKLIST_21_4.has(sortKey)) {
      throw new Fault(400, `The sort_key value ${sortKey} is an invalid field for sorting`);
    }
    let marker: NodeRec | undefined;
    if (markerId !== undefined) {
      marker = this.store.getByUuid(markerId);
      if (!marker) throw nodeNotFound(markerId);
    }
    if (fields && fields.length) {
      // the DB layer loads these as columns (21.4 fails on anything else)
      for (const f of fields) {
        if (f !== 'traits' && !NODE_DB_COLUMNS.has(f)) throw new Fault(500, `type object 'Node' has no attribute '${f}'`);
      }
    }
    const badField = fields?.find((f) => !NODE_QUERYABLE_FIELDS.has(f));
    let chassisId: number | undefined;
    if (chassisUuid !== undefined) {
      const ch = this.chassis.get(chassisUuid);
      if (!ch) throw new Fault(404, `Chassis ${chassisUuid} could not be found.`);
      chassisId = ch.id;
    }
    if (sortKey !== 'id' && !NODE_DB_COLUMNS.has(sortKey)) {
      throw new Fault(400, `The sort_key value "${sortKey}" is an invalid field for sorting`);
    }

    const preds: Array<(n: NodeRec) => boolean> = [];
    if (chassisId !== undefined) preds.push((n) => n.chassis_id === chassisId);
    if (maintenance !== undefined) preds.push((n) => n.maintenance === maintenance);
    if (associated !== undefined) preds.push((n) => (n.instance_uuid !== null) === associated);
    if (retired !== undefined) preds.push((n) => n.retired === retired);
    if (provisionState !== undefined) preds.push((n) => n.provision_state === provisionState);
    if (driver !== undefined) preds.push((n) => n.driver === driver);
    if (resourceClass !== undefined) preds.push((n) => n.resource_class === resourceClass);
    if (fault !== undefined) preds.push((n) => n.fault === fault);
    if (conductorGroup !== undefined) preds.push((n) => n.conductor_group === conductorGroup);
    if (owner !== undefined) preds.push((n) => n.owner === owner);
    if (lessee !== undefined) preds.push((n) => n.lessee === lessee);
    if (shard !== undefined) preds.push((n) => n.shard !== null && shard.includes(n.shard));
    if (project !== undefined) preds.push((n) => n.owner === project || n.lessee === project);
    if (descriptionContains !== undefined) {
      const re = likeRegex(descriptionContains);
      preds.push((n) => n.description !== null && re.test(n.description));
    }
    if (instanceUuid !== undefined) preds.push((n) => n.instance_uuid === instanceUuid);
    if (sharded !== undefined) preds.push((n) => (n.shard !== null) === sharded);
    const filter = preds.length === 0 ? undefined : preds.length === 1 ? preds[0] : (n: NodeRec) => preds.every((p) => p(n));

    let nodes = this.store.page({ sortKey, sortDir, limit, marker, filter });
    // node_convert_with_links validates the fields only when there is a node to convert
    if (badField !== undefined && nodes.length) throw new Fault(400, `Field ${badField} is not a valid field.`);
    if (conductor !== undefined) nodes = nodes.filter((n) => this.conductorFor(n) === conductor);

    const effLimit = instanceUuid ? 0 : limit;
    let next: string | undefined;
    if (nodes.length > 0 && nodes.length === effLimit) {
      const params: Array<[string, string | undefined]> = [
        ['sort_key', sortKey],
        ['sort_dir', sortDir],
        ['associated', associated ? 'True' : undefined],
        ['maintenance', maintenance ? 'True' : undefined],
        ['retired', retired ? 'True' : undefined],
        ['detail', detail === undefined ? undefined : pyBool(detail)],
        ['fields', fields && fields.length ? fields.join(',') : undefined],
      ];
      next = nextLink(ctx.base, detailPath ? 'nodes/detail' : 'nodes', params, effLimit, nodes[nodes.length - 1]!.uuid);
    }
    return { status: 200, body: this.listBody(nodes, ctx, fields, next) };
  }

  /**
   * `{"nodes": [...], "next": ...}` built from per-node JSON; small items
   * (field subsets, the default list fields) are cached on the node for the
   * current store epoch, so paging through a large unchanged site re-renders
   * nothing. Full objects are not cached (memory).
   */
  private listBody(nodes: NodeRec[], ctx: Ctx, fields: string[] | undefined, next: string | undefined): string {
    const key = fields === undefined ? '' : `${ctx.minor}|${ctx.base}|${fields.join(',')}`;
    const epoch = this.store.epoch;
    let body = '{"nodes":[';
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i]!;
      let json: string;
      const c = n.simJson;
      if (key && c && c.epoch === epoch && c.key === key) {
        json = c.json;
      } else {
        json = JSON.stringify(this.renderWithFields(n, ctx, fields));
        if (key && json.length <= 1024) n.simJson = { epoch, key, json };
      }
      body += i ? ',' + json : json;
    }
    body += ']';
    if (next !== undefined) body += ',"next":' + JSON.stringify(next);
    return body + '}';
  }

  /** Validates a create/patch body as node_schema + NODE_VALIDATE_EXTRA do. */
  private validateNodeBody(body: unknown, name: 'node' | 'patch', types: Record<string, string[]>): Record<string, unknown> {
    const pre = `Schema error for ${name}: `;
    if (!isPlainObject(body)) throw new Fault(400, `${pre}${pyRepr(body)} is not of type 'object'`);
    const extra = Object.keys(body).filter((k) => !(k in types));
    if (extra.length) {
      const list = extra.map(pyStr).join(', ');
      throw new Fault(400, `${pre}Additional properties are not allowed (${list} ${extra.length === 1 ? 'was' : 'were'} unexpected)`);
    }
    if (!('driver' in body)) throw new Fault(400, `${pre}'driver' is a required property`);
    for (const [k, v] of Object.entries(body)) {
      const t = types[k]!;
      if (!typeMatches(v, t)) throw new Fault(400, `${pre}${typeErrorText(v, t)}`);
      const max = MAX_LENGTH[k];
      if (max !== undefined && typeof v === 'string' && [...v].length > max) {
        throw new Fault(400, `${pre}${pyRepr(v)} is too long`);
      }
    }
    const out = { ...body };
    for (const k of BOOL_BODY_FIELDS) if (k in out) out[k] = argBoolean(k, out[k]) ?? null;
    for (const k of UUID_BODY_FIELDS) if (k in out && out[k] !== null) argUuid(k, out[k]);
    return out;
  }

  private parseJsonBody(ctx: Ctx): unknown {
    if (!ctx.rawBody) return undefined;
    try {
      // Python's json (as webob hands it the body) skips one leading byte-order mark.
      return JSON.parse(ctx.rawBody.replace(/^\ufeff/, '')) as unknown;
    } catch {
      throw new Fault(500, 'Expecting value: line 1 column 1 (char 0)');
    }
  }

  private checkNames(ctx: Ctx, names: unknown[], errorMsg: (name: string) => string): void {
    if (ctx.minor < 5) throw notAcceptable();
    for (const name of names) {
      const s = typeof name === 'string' ? name : String(name);
      if (typeof name !== 'string' || !isValidNodeLogicalName(name, ctx.minor) || isUuidLike(name)) {
        throw new Fault(400, errorMsg(s));
      }
      if (NODE_RESERVED_NAMES.has(name)) {
        throw new Fault(
          400,
          `The word "${name}" is reserved and can not be used as a node name. Reserved words are: ` +
            'maintenance, management, states, vendor_passthru, detail, validate.',
        );
      }
    }
  }

  /** rpcapi.get_topic_for: is there a conductor for this driver and group? */
  checkTopic(driver: string, group: string): void {
    if (!this.cfg.drivers.includes(driver) || !this.cfg.groups.includes(group)) {
      throw new Fault(
        400,
        `No valid host was found. Reason: No conductor service registered which supports driver ${driver} ` +
          `for conductor group "${group}".`,
      );
    }
  }

  private createNode(ctx: Ctx): { status: number; body: string; headers: Record<string, string> } {
    this.checkArgs(ctx, ['node']);
    const raw = this.parseJsonBody(ctx) ?? {};
    const node = this.validateNodeBody(raw, 'node', NODE_SCHEMA_TYPES);
    // reject_fields_in_newer_versions
    for (const f of Object.keys(NODE_SCHEMA_TYPES)) {
      if (fieldAllowed(f, ctx.minor)) continue;
      if (f === 'name' && (node.name === null || node.name === undefined)) continue;
      const empty = f === 'conductor_group' ? '' : null;
      const v = f in node ? node[f] : empty;
      if (v !== empty) throw notAcceptable();
    }
    const uuid = (node.uuid as string | null | undefined) || randomUUID();
    const group = (node.conductor_group as string | null | undefined) || '';
    const name = node.name as string | null | undefined;
    if (name !== null && name !== undefined) {
      this.checkNames(ctx, [name], (n) => `Cannot create node with invalid name '${n}'`);
    }
    // noauth has no project: 21.4 treats the caller as a project-scoped admin
    // without a project (project_admin_can_manage_own_nodes), so an owner is
    // refused and the node's owner is forced to None
    if (node.owner) {
      throw new Fault(400, 'Cannot create a node as a project scoped admin with an owner other than your own project.');
    }
    node.owner = null;
    const driver = node.driver as string;
    const chassisId = this.chassisIdOf(node.chassis_uuid);
    delete node.chassis_uuid;
    this.checkTopic(driver, group);
    this.checkInterfaces(node, driver);
    if (!/^[a-zA-Z0-9_\-.]*$/.test(group)) throw new Fault(400, `Expected a conductor group but received ${group}.`);
    if (this.store.getByUuid(uuid)) throw new Fault(409, `A node with UUID ${uuid} already exists.`);
    if (name && this.store.getByName(name)) throw new Fault(409, `A node with name ${name} already exists.`);
    const inst = node.instance_uuid as string | null | undefined;
    if (inst && this.store.getByInstance(inst)) {
      throw new Fault(409, `Instance ${inst} is already associated with a node, it cannot be associated with this other node ${uuid}`);
    }
    const n = blankNode(this.store.allocateId(), uuid, driver, nowIso());
    n.chassis_id = chassisId;
    for (const [k, v] of Object.entries(node)) {
      if (k === 'uuid' || k === 'driver') continue;
      if (v === null && k in n && isPlainObject(n[k])) n[k] = {};
      else n[k] = v;
    }
    n.conductor_group = group.toLowerCase();
    n.name = name ?? null;
    n.provision_state = ctx.minor < 11 ? 'available' : 'enroll';
    if (n.protected === null) n.protected = false;
    if (n.maintenance === null) n.maintenance = false;
    if (n.retired === null) n.retired = false;
    if (n.console_enabled === null) n.console_enabled = false;
    this.store.insert(n);
    return {
      status: 201,
      body: JSON.stringify(renderNode(n, ctx.render)),
      headers: { Location: buildUrl(ctx.base, 'nodes', n.uuid) },
    };
  }

  private patchNode(ctx: Ctx, ident: string, jsonSuffix: boolean): { status: number; body: string } {
    this.checkArgs(ctx, ['node_ident', 'reset_interfaces', 'patch']);
    const resetInterfaces = argBoolean('reset_interfaces', ctx.query.get('reset_interfaces'));
    const body = this.parseJsonBody(ctx) ?? {};
    const schemaErr = patchSchemaError(body);
    if (schemaErr) throw new Fault(400, schemaErr);
    const patch = body as PatchOp[];
    if (resetInterfaces !== undefined && ctx.minor < 45) throw notAcceptable();
    // _validate_patch
    for (const p of patch) {
      const root = p.path.split('/')[1]!;
      if (!PATCH_ALLOWED_FIELDS.includes(root)) {
        throw new Fault(400, `Cannot patch ${p.path}. Only the following can be updated: ${PATCH_ALLOWED_FIELDS.join(', ')}`);
      }
    }
    const values = (path: string): unknown[] => patch.filter((p) => p.path === path && p.op !== 'remove').map((p) => p.value);
    for (const f of Object.keys(PATCH_SCHEMA_TYPES)) {
      if (!fieldAllowed(f, ctx.minor) && values(`/${f}`).length) throw notAcceptable();
    }
    if (resetInterfaces && values('/driver').length === 0) {
      throw new Fault(400, "The reset_interfaces parameter can only be used when changing the node's driver.");
    }
    const desc = values('/description');
    if (desc.length && typeof desc[0] !== 'string' && !Array.isArray(desc[0]) && !isPlainObject(desc[0])) {
      // len(None) in _validate_patch
      throw new Fault(500, `object of type '${pyTypeName(desc[0])}' has no len()`);
    }
    if (desc.length && typeof desc[0] === 'string' && [...desc[0]].length > 4096) {
      throw new Fault(400, 'Cannot update node with description exceeding 4096 characters');
    }
    const n = this.getNode(ctx, ident, jsonSuffix);
    const removeInstanceOnly = patch.length === 1 && patch[0]!.op === 'remove' && patch[0]!.path === '/instance_uuid' && Object.keys(patch[0]!).length === 2;
    if (n.maintenance && removeInstanceOnly) {
      // allowed in any state
    } else if (n.target_provision_state && !UPDATE_ALLOWED_STATES.has(n.provision_state)) {
      throw new Fault(409, `Node ${ident} can not be updated while a state transition is in progress.`);
    } else if (n.provision_state === 'inspecting' && ctx.minor >= 39) {
      throw new Fault(409, `Cannot update node "${n.uuid}" while it is in state "inspecting".`);
    }
    const names = values('/name');
    if (names.length) this.checkNames(ctx, names, (nm) => `Node ${ident}: Cannot change name to invalid name '${nm}'`);

    const doc = this.asDict(n);
    for (const p of patch) {
      if (p.op === 'add' && p.path.split('/').length === 2 && !(p.path.slice(1) in doc)) {
        throw new Fault(400, `Adding a new attribute (${p.path}) to the root of the resource is not allowed`);
      }
    }
    for (const p of patch) {
      try {
        applyOp(doc, p);
      } catch (e) {
        if (e instanceof PatchApplyError) {
          throw new Fault(400, `Couldn't apply patch '${opRepr(p as unknown as Record<string, unknown>)}'. Reason: ${e.message}`);
        }
        throw e;
      }
    }
    // patched_validate_with_schema: keep schema keys only, validate
    const patched: Record<string, unknown> = {};
    for (const k of Object.keys(PATCH_SCHEMA_TYPES)) if (k in doc) patched[k] = doc[k];
    const valid = this.validateNodeBody(patched, 'patch', PATCH_SCHEMA_TYPES);
    // _update_changed_fields
    const chassisId = this.chassisIdOf(valid.chassis_uuid);
    if (n.chassis_id && !chassisId && ctx.minor < 25) throw notAcceptable();
    if (typeof valid.conductor_group !== 'string') {
      throw new Fault(500, "'NoneType' object has no attribute 'lower'");
    }
    valid.conductor_group = valid.conductor_group.toLowerCase();
    if (valid.protected === null || valid.protected === undefined) valid.protected = false;
    const driver = valid.driver as string;
    this.checkTopic(driver, valid.conductor_group as string);
    if (driver !== n.driver && n.console_enabled) {
      throw new Fault(409, `Node ${ident} can not update the driver while the console is enabled. Please stop the console first.`);
    }
    // _update_changed_fields: every schema field is taken from the patched
    // dict, so a removed one becomes None
    const next: Record<string, unknown> = {};
    const delta = new Set<string>();
    for (const k of Object.keys(PATCH_SCHEMA_TYPES)) {
      if (!(k in n) || k === 'uuid') continue;
      let nv = k in valid ? valid[k] : null;
      if (nv === null && isPlainObject(n[k])) nv = {};
      next[k] = nv;
      if (JSON.stringify(n[k]) !== JSON.stringify(nv)) delta.add(k);
    }
    // conductor: update_node
    let fault = n.fault;
    if (delta.has('maintenance') && !next.maintenance) {
      next.maintenance_reason = null;
      fault = null;
    }
    if (delta.has('protected')) {
      if (!next.protected) next.protected_reason = null;
      else if (n.provision_state !== 'active' && n.provision_state !== 'rescue') {
        throw new Fault(
          409,
          `Node ${n.uuid} can only be made protected in provision states 'active' or 'rescue', the current state is '${n.provision_state}'`,
        );
      }
    }
    if (delta.has('protected_reason') && next.protected_reason && !next.protected) {
      throw new Fault(400, 'The protected_reason field can only be set when protected is True');
    }
    if (delta.has('retired')) {
      if (!next.retired) next.retired_reason = null;
      else if (n.provision_state === 'available') {
        throw new Fault(
          409,
          `Node ${n.uuid} can not have 'retired' set in provision state 'available', the current state is 'available'`,
        );
      }
    }
    if (delta.has('retired_reason') && next.retired_reason && !next.retired) {
      throw new Fault(400, 'The retired_reason field can only be set when retired is True');
    }
    const ifaceChanged = INTERFACE_FIELDS.filter((f) => delta.has(f));
    for (const f of ifaceChanged) {
      if (!(UPDATE_INTERFACE_STATES.includes(n.provision_state) || next.maintenance)) {
        throw new Fault(
          409,
          `Node ${n.uuid} can not have ${f} updated unless it is in one of allowed (${UPDATE_INTERFACE_STATES.join(', ')}) states or in maintenance mode.`,
        );
      }
    }
    if (ifaceChanged.length || delta.has('driver')) {
      const reset = delta.has('driver') && resetInterfaces === true;
      for (const f of INTERFACE_FIELDS) if (reset && !delta.has(f)) next[f] = null;
      this.checkInterfaces(next, driver);
    }
    const newInst = (next.instance_uuid ?? null) as string | null;
    if (delta.has('instance_uuid') && newInst !== null && n.instance_uuid !== null) {
      throw new Fault(409, `Node ${n.uuid} is associated with instance ${n.instance_uuid}.`);
    }
    if (delta.has('resource_class') && n.resource_class && !UPDATE_INTERFACE_STATES.includes(n.provision_state)) {
      throw new Fault(
        409,
        `Node ${n.uuid} can not have resource_class updated unless it is in one of allowed (${UPDATE_INTERFACE_STATES.join(', ')}) states.`,
      );
    }
    // node.save(): conductor group format, then the DB's unique constraints
    if (!/^[a-zA-Z0-9_\-.]*$/.test(next.conductor_group as string)) {
      throw new Fault(400, `Expected a conductor group but received ${next.conductor_group as string}.`);
    }
    const newName = (next.name ?? null) as string | null;
    if (newName !== null && newName !== n.name) {
      const other = this.store.getByName(newName);
      if (other && other !== n) throw new Fault(409, `A node with name ${newName} already exists.`);
    }
    if (newInst !== null && newInst !== n.instance_uuid) {
      const other = this.store.getByInstance(newInst);
      if (other && other !== n) {
        throw new Fault(409, `Instance ${newInst} is already associated with a node, it cannot be associated with this other node ${n.uuid}`);
      }
    }
    const before = { name: n.name, instance_uuid: n.instance_uuid };
    let changed = false;
    for (const [k, v] of Object.entries(next)) {
      if (JSON.stringify(n[k]) !== JSON.stringify(v)) {
        n[k] = v as never;
        changed = true;
      }
    }
    if (n.fault !== fault) {
      n.fault = fault;
      changed = true;
    }
    if (n.chassis_id !== chassisId) {
      n.chassis_id = chassisId;
      changed = true;
    }
    if (changed) n.updated_at = nowIso();
    this.store.updated(n, before);
    // the answer is the node as the conductor returned it, still holding its lock
    return ok({ ...renderNode(n, ctx.render), reservation: this.conductorHost(n.conductor_group) });
  }

  /**
   * driver_factory.check_and_update_node_interfaces: a None interface takes the
   * driver's default, anything else must be enabled on the site.
   */
  private checkInterfaces(node: Record<string, unknown>, driver: string): void {
    const defaults = DRIVERS[driver] as unknown as Record<string, string> | undefined;
    for (const f of INTERFACE_FIELDS) {
      const v = node[f];
      const iface = f.slice(0, -'_interface'.length);
      const enabled = ENABLED_INTERFACES[iface]!;
      if (v === null || v === undefined) {
        node[f] = defaults?.[f] ?? enabled[0]!;
      } else if (!enabled.includes(String(v))) {
        throw new Fault(
          400,
          `Could not find the following interface in the 'ironic.hardware.interfaces.${iface}' entrypoint: ${String(v)}. ` +
            `Valid interfaces are ${pyRepr(enabled)}.`,
        );
      }
    }
  }

  /** _replace_chassis_uuid_with_id: the chassis's id, or Ironic's 400. */
  private chassisIdOf(uuid: unknown): number | null {
    if (!uuid) return null;
    const c = this.chassis.get(String(uuid));
    if (!c) throw new Fault(400, `Chassis ${String(uuid)} could not be found.`);
    return c.id;
  }

  /** The dict a PATCH is applied to: rpc_node.as_dict() + chassis_uuid. */
  private asDict(n: NodeRec): Record<string, unknown> {
    const d: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(n)) {
      if (k.startsWith('sim')) continue;
      d[k] = v !== null && typeof v === 'object' ? JSON.parse(JSON.stringify(v)) : v;
    }
    d.chassis_uuid = this.chassis.byId(n.chassis_id)?.uuid ?? null;
    return d;
  }

  private deleteNode(ctx: Ctx, ident: string, jsonSuffix: boolean, extraArgs: string[]): { status: number } {
    this.checkArgs(ctx, ['node_ident']);
    if (extraArgs.length) throw new Fault(404, 'Resource could not be found.');
    const n = this.getNode(ctx, ident, jsonSuffix);
    this.checkTopic(n.driver, n.conductor_group);
    if (n.reservation) throw this.locked(n);
    if (!n.maintenance && n.instance_uuid !== null) {
      throw new Fault(409, `Node ${n.uuid} is associated with instance ${n.instance_uuid}.`);
    }
    if (n.protected) throw new Fault(403, `Node ${n.uuid} is protected and cannot be undeployed, rebuilt or deleted`);
    if (!n.maintenance && !DELETE_ALLOWED_STATES.includes(n.provision_state)) {
      throw new Fault(
        409,
        `Can not delete node "${n.uuid}" while it is in provision state "${n.provision_state}". Valid provision ` +
          `states to perform deletion are: "${pyTuple(DELETE_ALLOWED_STATES)}", or set the node into maintenance mode`,
      );
    }
    // the DB's destroy_node takes the node's ports, portgroups, volume objects and allocation with it
    dropNodePorts(this, n);
    dropNodePortgroups(this, n);
    dropNodeVolume(this, n);
    dropNodeAllocation(this, n);
    this.store.remove(n);
    return { status: 204 };
  }

  private locked(n: NodeRec): Fault {
    return new Fault(409, `Node ${n.uuid} is locked by host ${n.reservation}, please retry after the current operation is completed.`);
  }

  // ---------------------------------------------------------------- states

  private routeStates(ctx: Ctx, ident: string, more: string[]): { status: number; body?: string; headers?: Record<string, string> } {
    const m = ctx.method;
    if (more.length === 0) {
      if (m !== 'GET') throw new RoutingError(405);
      this.checkArgs(ctx, ['node_ident']);
      return ok(renderStates(this.getNode(ctx, ident), ctx.minor));
    }
    const [action, ...tail] = more as [string, ...string[]];
    if (action === 'console' && tail.length === 0) {
      if (m === 'GET') {
        this.checkArgs(ctx, ['node_ident']);
        const n = this.getNode(ctx, ident);
        return ok({ console_enabled: n.console_enabled, console_info: n.console_enabled ? {} : null });
      }
      if (m === 'PUT') return this.setConsole(ctx, ident);
      throw new RoutingError(405);
    }
    if (tail.length === 0 && m === 'PUT') {
      switch (action) {
        case 'power':
          return this.setPower(ctx, ident);
        case 'provision':
          return this.setProvision(ctx, ident);
        case 'raid':
          return this.setRaid(ctx, ident);
        case 'boot_mode':
          return this.setBootMode(ctx, ident);
        case 'secure_boot':
          return this.setSecureBoot(ctx, ident);
      }
    }
    if (m === 'GET') {
      throw new Fault(500, `NodeStatesController.get() takes 2 positional arguments but ${2 + more.length} were given`);
    }
    throw new RoutingError(404);
  }

  /** JSON body keys become keyword arguments (pecan), together with the query. */
  private bodyArgs(ctx: Ctx, params: readonly string[]): Record<string, unknown> {
    const body = this.parseJsonBody(ctx);
    const kw: Record<string, unknown> = {};
    for (const [k, v] of ctx.query) kw[k] = v;
    if (isPlainObject(body)) Object.assign(kw, body);
    rejectUnexpected(Object.keys(kw), new Set(params));
    return kw;
  }

  private statesLocation(ctx: Ctx, ident: string, suffix = 'states'): Record<string, string> {
    return { Location: buildUrl(ctx.base, 'nodes', `${ident}/${suffix}`) };
  }

  private setPower(ctx: Ctx, ident: string): { status: number; headers: Record<string, string> } {
    const kw = this.bodyArgs(ctx, ['node_ident', 'target', 'timeout']);
    const target = argString('target', kw.target);
    const timeout = argInteger('timeout', kw.timeout);
    if (target === undefined) throw new Fault(400, 'Missing mandatory parameter: target');
    const n = this.getNode(ctx, ident);
    this.checkTopic(n.driver, n.conductor_group);
    if ((target === 'soft rebooting' || target === 'soft power off' || timeout) && ctx.minor < 27) throw notAcceptable();
    if (timeout !== undefined && timeout < 1) throw new Fault(400, 'timeout has to be positive integer');
    const allowed = ['power on', 'power off', 'rebooting', 'soft rebooting', 'soft power off'];
    if (!allowed.includes(target)) {
      throw new Fault(400, `The requested action "${target}" can not be performed on node "${ident}" while it is in state "${n.power_state ?? 'None'}".`);
    }
    if (n.provision_state === 'cleaning' || n.provision_state === 'clean wait') {
      throw new Fault(400, `The requested action "${target}" can not be performed on node "${ident}" while it is in state "${n.provision_state}".`);
    }
    if (n.reservation) throw this.locked(n);
    // fake power: done before the RPC call returns
    n.power_state = target === 'power off' || target === 'soft power off' ? 'power off' : 'power on';
    n.target_power_state = null;
    // Python's naive utcnow().isoformat()
    setDii(n, 'last_power_state_change', nowIso().slice(0, 26));
    n.updated_at = nowIso();
    this.store.touch();
    return { status: 202, headers: this.statesLocation(ctx, ident) };
  }

  private setProvision(ctx: Ctx, ident: string): { status: number; headers: Record<string, string> } {
    const kw = this.bodyArgs(ctx, [
      'node_ident', 'target', 'configdrive', 'clean_steps', 'deploy_steps', 'rescue_password', 'disable_ramdisk',
    ]);
    const target = argString('target', kw.target);
    for (const k of ['clean_steps', 'deploy_steps']) {
      const v = kw[k];
      if (v !== undefined && v !== null && !Array.isArray(v)) {
        throw new Fault(400, `Expected types <class 'NoneType'>, <class 'list'> for ${k}: ${pyRepr(v)}`);
      }
    }
    const configdrive = kw.configdrive;
    if (configdrive !== undefined && configdrive !== null && typeof configdrive !== 'string' && !isPlainObject(configdrive)) {
      throw new Fault(400, `Expected types <class 'NoneType'>, <class 'dict'>, <class 'str'> for configdrive: ${pyRepr(configdrive)}`);
    }
    const rescuePassword = argString('rescue_password', kw.rescue_password);
    const disableRamdisk = argBoolean('disable_ramdisk', kw.disable_ramdisk);
    if (target === undefined) throw new Fault(400, 'Missing mandatory parameter: target');
    const n = this.getNode(ctx, ident);
    const minVer = MIN_VERB_VERSION[target];
    if (minVer !== undefined && ctx.minor < minVer) throw notAcceptable();
    if ((target === 'active' || target === 'rebuild') && n.maintenance) {
      throw new Fault(400, `The provisioning operation can't be performed on node ${n.uuid} because it's in maintenance mode.`);
    }
    const event = VERBS[target] ?? target;
    if (!isActionable(n.provision_state, event)) {
      if (n.reservation) throw this.locked(n);
      throw new Fault(400, `The requested action "${target}" can not be performed on node "${n.uuid}" while it is in state "${n.provision_state}".`);
    }
    if (configdrive && target !== 'active' && !(target === 'rebuild' && ctx.minor >= 35)) {
      throw new Fault(400, `Adding a config drive is only supported when setting provision state to ${ctx.minor >= 35 ? 'active, rebuild' : 'active'}`);
    }
    if (disableRamdisk !== undefined && (ctx.minor < 70 || target !== 'clean')) {
      if (ctx.minor < 70) throw notAcceptable();
      throw new Fault(400, '"disable_ramdisk" is only valid when setting target provision state to clean');
    }
    const cleanSteps = kw.clean_steps as unknown[] | null | undefined;
    if (cleanSteps && cleanSteps.length && target !== 'clean') {
      throw new Fault(400, '"clean_steps" is only valid when setting target provision state to clean');
    }
    const deploySteps = kw.deploy_steps as unknown[] | null | undefined;
    if (deploySteps !== undefined && deploySteps !== null) {
      if (ctx.minor < 69) throw notAcceptable();
      if (deploySteps.length && !['active', 'rebuild', 'deploy'].includes(target)) {
        throw new Fault(400, '"deploy_steps" is only valid when setting target provision state to active or rebuild');
      }
    }
    if (rescuePassword !== undefined && target !== 'rescue') {
      throw new Fault(400, '"rescue_password" is only valid when setting target provision state to rescue');
    }
    if (n.provision_state === 'inspect wait' && target === 'abort' && ctx.minor < 41) throw notAcceptable();
    // _do_provision_action
    if (target === 'rescue' && !(rescuePassword && rescuePassword.trim())) {
      throw new Fault(400, 'A non-empty "rescue_password" is required when setting target provision state to rescue');
    }
    if (target === 'clean' && !(cleanSteps && cleanSteps.length)) {
      throw new Fault(400, '"clean_steps" is required when setting target provision state to clean');
    }
    if (target === 'clean') {
      const err = cleanStepsSchemaError(cleanSteps!);
      if (err) throw new Fault(400, `Invalid clean_steps: ${err}`);
    }
    this.checkTopic(n.driver, n.conductor_group);
    if (n.reservation) throw this.locked(n);
    if ((event === 'delete' || event === 'rebuild') && n.protected) {
      throw new Fault(403, `Node ${n.uuid} is protected and cannot be undeployed, rebuilt or deleted`);
    }
    this.startTransition(n, target, event, {
      configdrive: isPlainObject(configdrive) || typeof configdrive === 'string' ? configdrive : undefined,
      cleanSteps: cleanSteps ?? undefined,
      disableRamdisk,
      rescuePassword,
    });
    return { status: 202, headers: this.statesLocation(ctx, ident) };
  }

  /**
   * Moves a node into the interim state now and lets the "conductor" finish it
   * later, leaving driver_internal_info and instance_info as the fake-hardware
   * conductor of 21.4 does (checked by test/contract/differential.test.ts).
   */
  private startTransition(n: NodeRec, target: string, event: string, o: TransitionArgs): void {
    const t = plan(n.provision_state, target);
    const now = nowIso();
    n.provision_state = t.interim;
    n.target_provision_state = t.target;
    n.provision_updated_at = now;
    n.updated_at = now;
    // every conductor action but "manage" out of available or a failed state
    // starts by clearing last_error (verification, enroll → manageable, does)
    if (event !== 'manage' || n.provision_state === 'verifying') n.last_error = null;
    if (event === 'inspect') n.inspection_started_at = now;
    this.store.touch();
    if (t.interim === t.final || !UNSTABLE_STATES.has(t.interim)) {
      n.provision_state = t.final;
      n.target_provision_state = null;
      return;
    }
    let final = t.final;
    let finalTarget: string | null = null;
    if (event === 'clean' && o.cleanSteps) {
      setDii(n, 'clean_steps', o.cleanSteps as Json);
      setDii(n, 'cleaning_disable_ramdisk', o.disableRamdisk ?? false);
      // fake-hardware has only the fake BIOS interface's clean steps, and
      // none of them runs without the ramdisk
      const bad = o.cleanSteps.find((st) => {
        const x = st as Record<string, unknown>;
        return !(x.interface === 'bios' && FAKE_BIOS_CLEAN_STEPS.includes(String(x.step)));
      });
      if (bad !== undefined) {
        n.last_error = `Cannot clean node ${n.uuid}: node does not support this clean step: ${pyRepr(bad)}`;
      }
      if (bad !== undefined || o.disableRamdisk) {
        final = 'clean failed';
        finalTarget = t.target;
      }
    }
    if (event === 'rescue') {
      n.instance_info = {
        ...n.instance_info,
        rescue_password: o.rescuePassword ?? '',
        hashed_rescue_password: `$6$rounds=656000$sim$${Buffer.from(o.rescuePassword ?? '').toString('base64')}`,
      };
    }
    n.reservation = this.conductorHost(n.conductor_group);
    // the deploying conductor takes the node over: its (internal, integer) id
    if (event === 'deploy' || event === 'rebuild') n.conductor_affinity = this.cfg.groups.indexOf(n.conductor_group) + 1;
    if (event === 'delete') {
      // tear down drops the instance; automated cleaning follows
      const inst = n.instance_uuid;
      n.instance_info = {};
      n.instance_uuid = null;
      // tear down also removes the node's allocation
      dropNodeAllocation(this, n);
      n.allocation_id = null;
      delDii(n, 'is_whole_disk_image');
      this.store.updated(n, { name: n.name, instance_uuid: inst });
    }
    const finish = (): void => {
      if (this.closed || this.store.getByUuid(n.uuid) !== n) return;
      const done = nowIso();
      n.provision_state = final;
      n.target_provision_state = finalTarget;
      n.reservation = null;
      n.provision_updated_at = done;
      n.updated_at = done;
      if (final !== 'clean failed' && (event === 'provide' || event === 'delete' || event === 'clean')) {
        setDii(n, 'clean_steps', null);
        delDii(n, 'cleaning_disable_ramdisk');
      }
      if (event === 'deploy' || event === 'rebuild') {
        setDii(n, 'deploy_steps', null);
        if (n.instance_info.image_source) {
          setDii(n, 'is_whole_disk_image', true);
          n.instance_info = { ...n.instance_info, image_type: 'whole-disk' };
        }
        if (o.configdrive !== undefined) n.instance_info = { ...n.instance_info, configdrive: o.configdrive as Json };
      }
      if (event === 'inspect') {
        n.inspection_started_at = null;
        n.inspection_finished_at = done;
      }
      this.store.touch();
    };
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      finish();
    }, this.cfg.tickMs);
    this.timers.add(timer);
  }

  private setRaid(ctx: Ctx, ident: string): { status: number } {
    this.checkArgs(ctx, ['node_ident', 'target_raid_config']);
    const body = this.parseJsonBody(ctx) ?? {};
    if (!isPlainObject(body)) {
      throw new Fault(400, `Expected types <class 'dict'> for target_raid_config: ${pyRepr(body)}`);
    }
    const n = this.getNode(ctx, ident);
    if (ctx.minor < 12) throw notAcceptable();
    this.checkTopic(n.driver, n.conductor_group);
    if (n.raid_interface === 'no-raid') {
      throw new Fault(404, `Driver ${n.driver} does not support raid (disabled or not implemented).`);
    }
    if (Object.keys(body).length) validateRaidConfig(body);
    n.target_raid_config = body as JsonObject;
    n.updated_at = nowIso();
    this.store.touch();
    return { status: 204 };
  }

  private setConsole(ctx: Ctx, ident: string): { status: number; headers: Record<string, string> } {
    const kw = this.bodyArgs(ctx, ['node_ident', 'enabled']);
    if (kw.enabled === undefined) throw new Fault(400, 'Missing mandatory parameter: enabled');
    const enabled = argBoolean('enabled', kw.enabled)!;
    const n = this.getNode(ctx, ident);
    this.checkTopic(n.driver, n.conductor_group);
    n.console_enabled = enabled;
    n.updated_at = nowIso();
    this.store.touch();
    return { status: 202, headers: this.statesLocation(ctx, ident, 'states/console') };
  }

  private setBootMode(ctx: Ctx, ident: string): { status: number; headers: Record<string, string> } {
    const kw = this.bodyArgs(ctx, ['node_ident', 'target']);
    const target = argString('target', kw.target);
    if (target === undefined) throw new Fault(400, 'Missing mandatory parameter: target');
    const n = this.getNode(ctx, ident);
    this.checkTopic(n.driver, n.conductor_group);
    if (ctx.minor < 76) throw new Fault(404, 'This endpoint is supported starting with the API version 1.76');
    if (target !== 'bios' && target !== 'uefi') {
      throw new Fault(400, `Invalid boot mode ${target} requested for node. Allowed boot modes are: bios, uefi`);
    }
    if (UNSTABLE_STATES.has(n.provision_state)) throw this.transitioning(n);
    // fake management cannot change boot modes: the conductor records the failure
    n.last_error = `Failed to change boot mode to '${target}: Driver ${n.driver} does not support set_boot_mode (disabled or not implemented).`;
    n.updated_at = nowIso();
    this.store.touch();
    return { status: 202, headers: this.statesLocation(ctx, ident) };
  }

  private setSecureBoot(ctx: Ctx, ident: string): { status: number; headers: Record<string, string> } {
    const kw = this.bodyArgs(ctx, ['node_ident', 'target']);
    if (kw.target === undefined) throw new Fault(400, 'Missing mandatory parameter: target');
    const target = argBoolean('target', kw.target)!;
    const n = this.getNode(ctx, ident);
    this.checkTopic(n.driver, n.conductor_group);
    if (ctx.minor < 76) throw new Fault(404, 'This endpoint is supported starting with the API version 1.76');
    if (UNSTABLE_STATES.has(n.provision_state)) throw this.transitioning(n);
    n.last_error = `Failed to change secure_boot state to '${pyBool(target)}': Driver ${n.driver} does not support set_secure_boot_state (disabled or not implemented).`;
    n.updated_at = nowIso();
    this.store.touch();
    return { status: 202, headers: this.statesLocation(ctx, ident) };
  }

  private transitioning(n: NodeRec): Fault {
    return new Fault(
      409,
      `Node is in ${n.provision_state} state. Since node is transitioning, the boot mode will not be set as this ` +
        'may interfere with ongoing changes and result in erroneous modification. Try again later.',
    );
  }

  private setMaintenance(ctx: Ctx, ident: string, on: boolean): { status: number } {
    const kw = this.bodyArgs(ctx, on ? ['node_ident', 'reason'] : ['node_ident']);
    const reason = on ? argString('reason', kw.reason) : undefined;
    const n = this.getNode(ctx, ident);
    this.checkTopic(n.driver, n.conductor_group);
    n.maintenance = on;
    n.maintenance_reason = reason ?? null;
    if (!on) n.fault = null;
    n.updated_at = nowIso();
    this.store.touch();
    return { status: 202 };
  }

  // ------------------------------------------------------------ management

  private routeManagement(ctx: Ctx, ident: string, more: string[]): { status: number; body?: string } {
    const m = ctx.method;
    const path = more.join('/');
    if (path === 'boot_device') {
      if (m === 'GET') {
        this.checkArgs(ctx, ['node_ident']);
        const n = this.getNode(ctx, ident);
        this.checkTopic(n.driver, n.conductor_group);
        // fake management reports pxe, not persistent, whatever was set
        return ok({ boot_device: 'pxe', persistent: false });
      }
      if (m === 'PUT') {
        const kw = this.bodyArgs(ctx, ['node_ident', 'boot_device', 'persistent']);
        const dev = argString('boot_device', kw.boot_device);
        const persistent = argBoolean('persistent', kw.persistent) ?? false;
        if (dev === undefined) throw new Fault(400, 'Missing mandatory parameter: boot_device');
        const n = this.getNode(ctx, ident);
        this.checkTopic(n.driver, n.conductor_group);
        if (dev !== 'pxe') throw new Fault(400, `Invalid boot device ${dev} specified.`);
        void persistent;
        return { status: 204 };
      }
      throw new RoutingError(405);
    }
    if (path === 'boot_device/supported' && m === 'GET') {
      this.checkArgs(ctx, ['node_ident']);
      const n = this.getNode(ctx, ident);
      this.checkTopic(n.driver, n.conductor_group);
      return ok({ supported_boot_devices: ['pxe'] });
    }
    if (path === 'inject_nmi' && m === 'PUT') {
      this.bodyArgs(ctx, ['node_ident']);
      if (ctx.minor < 29) throw new Fault(404, 'Resource could not be found.');
      const n = this.getNode(ctx, ident);
      this.checkTopic(n.driver, n.conductor_group);
      // fake management has no inject_nmi
      throw new Fault(400, `Driver ${n.driver} does not support inject_nmi (disabled or not implemented).`);
    }
    if (path === 'indicators' && m === 'GET') {
      const n = this.getNode(ctx, ident);
      this.checkTopic(n.driver, n.conductor_group);
      const ind = (name: string, component: string, readonly: boolean, states: string[]): JsonObject => ({
        name,
        component,
        readonly,
        states,
        links: selfAndBookmark(ctx.base, 'nodes', `${ident}/management/indicators/${name}`) as unknown as Json,
      });
      return ok({
        indicators: [
          ind('led-0@chassis', 'chassis', true, ['off', 'on']),
          ind('led@system', 'system', false, ['blinking', 'off', 'on']),
        ],
      });
    }
    throw new RoutingError(404);
  }

  private vendorPassthru(ctx: Ctx, ident: string, more: string[]): { status: number; body?: string } {
    if (more.length === 1 && more[0] === 'methods' && ctx.method === 'GET') {
      this.checkArgs(ctx, ['node_ident']);
      const n = this.getNode(ctx, ident);
      this.checkTopic(n.driver, n.conductor_group);
      return ok(n.vendor_interface === 'fake' ? FAKE_VENDOR_METHODS : {});
    }
    if (more.length === 0) {
      const method = argString('method', ctx.query.get('method'));
      const n = this.getNode(ctx, ident);
      this.checkTopic(n.driver, n.conductor_group);
      if (!method) throw new Fault(400, 'Method not specified');
      const meta = (FAKE_VENDOR_METHODS as Record<string, { http_methods: string[]; async: boolean }>)[method];
      if (!meta || n.vendor_interface !== 'fake') throw new Fault(400, `No handler for method ${method}`);
      if (!meta.http_methods.includes(ctx.method)) {
        throw new Fault(400, `The method ${method} does not support HTTP ${ctx.method}`);
      }
      return meta.async ? { status: 202 } : ok(null);
    }
    throw new RoutingError(404);
  }

  private validateNode(ctx: Ctx, ident: string): { status: number; body: string } {
    this.checkArgs(ctx, ['node_ident']);
    const n = this.getNode(ctx, ident);
    this.checkTopic(n.driver, n.conductor_group);
    return ok(this.validation(n));
  }

  private validateTop(ctx: Ctx): { status: number; body: string } {
    this.checkArgs(ctx, ['node', 'node_uuid']);
    const node = argUuidOrName('node', ctx.query.get('node'));
    const nodeUuid = argUuid('node_uuid', ctx.query.get('node_uuid'));
    if (node !== undefined && ctx.minor < 5 && !isUuidLike(node)) throw notAcceptable();
    const ident = nodeUuid ?? node;
    if (ident === undefined) throw new Fault(400, 'Expected a logical name or UUID but received None.');
    const n = this.getNode(ctx, ident);
    this.checkTopic(n.driver, n.conductor_group);
    return ok(this.validation(n));
  }

  private validation(n: NodeRec): JsonObject {
    const out: JsonObject = {};
    for (const iface of INTERFACES) {
      const impl = n[`${iface}_interface`];
      out[iface] =
        typeof impl === 'string' && impl.startsWith('no-')
          ? { result: null, reason: `not supported` }
          : { result: true };
    }
    return out;
  }

  // ---------------------------------------------------------------- traits

  private routeTraits(ctx: Ctx, ident: string, more: string[]): { status: number; body?: string; headers?: Record<string, string> } {
    const m = ctx.method;
    if (more.length > 1) throw new RoutingError(404);
    const trait = more[0];
    if (m === 'GET' && trait === undefined) {
      this.checkArgs(ctx, []);
      const n = this.getNode(ctx, ident);
      return ok({ traits: n.traits });
    }
    if (m === 'PUT') {
      this.checkArgs(ctx, ['trait', 'body']);
      const body = this.parseJsonBody(ctx);
      if (trait !== undefined) this.checkTrait('trait', trait);
      let traits: string[] | undefined;
      if (body !== undefined) {
        if (!isPlainObject(body)) throw new Fault(400, `Schema error for body: ${pyRepr(body)} is not of type 'object'`);
        for (const k of Object.keys(body)) {
          if (k !== 'traits') throw new Fault(400, `Schema error for body: Additional properties are not allowed (${pyStr(k)} was unexpected)`);
        }
        if ('traits' in body) {
          const t = body.traits;
          if (!Array.isArray(t)) throw new Fault(400, `Schema error for body: ${pyRepr(t)} is not of type 'array'`);
          for (const x of t) this.checkTrait('body', x);
          traits = t as string[];
        }
      }
      const n = this.getNode(ctx, ident);
      if ((trait !== undefined && traits !== undefined) || (trait === undefined && traits === undefined)) {
        throw new Fault(
          400,
          'A single node trait may be added via PUT /v1/nodes/<node identifier>/traits/<trait> with no body, or all ' +
            'node traits may be replaced via PUT /v1/nodes/<node identifier>/traits with the list of traits ' +
            'specified in the request body.',
        );
      }
      if (trait !== undefined) {
        if (body !== undefined && !(isPlainObject(body) && Object.keys(body).length === 0)) {
          throw new Fault(400, 'No body should be provided when adding a trait');
        }
        this.checkTopic(n.driver, n.conductor_group);
        n.traits = [...new Set([...n.traits, trait])].sort();
        n.updated_at = nowIso();
        this.store.touch();
        return { status: 204, headers: { Location: buildUrl(ctx.base, 'nodes', `${ident}/traits/${trait}`) } };
      }
      this.checkTopic(n.driver, n.conductor_group);
      n.traits = [...new Set(traits!)].sort();
      n.updated_at = nowIso();
      this.store.touch();
      return { status: 204 };
    }
    if (m === 'DELETE') {
      this.checkArgs(ctx, ['trait']);
      const n = this.getNode(ctx, ident);
      this.checkTopic(n.driver, n.conductor_group);
      if (trait !== undefined) {
        if (!n.traits.includes(trait)) throw new Fault(404, `Node ${n.uuid} doesn't have a trait '${trait}'`);
        n.traits = n.traits.filter((t) => t !== trait);
      } else {
        n.traits = [];
      }
      n.updated_at = nowIso();
      this.store.touch();
      return { status: 204 };
    }
    throw new RoutingError(405);
  }

  private checkTrait(name: string, t: unknown): void {
    const pre = `Schema error for ${name}: `;
    if (typeof t !== 'string') throw new Fault(400, `${pre}${pyRepr(t)} is not of type 'string'`);
    if (t.length < 1) throw new Fault(400, `${pre}'' is too short`);
    if (t.length > 255) throw new Fault(400, `${pre}${pyRepr(t)} is too long`);
    if (/^CUSTOM_[A-Z0-9_]+$/.test(t) || STANDARD_TRAITS.has(t)) return;
    throw new Fault(
      400,
      `${pre}${pyRepr(t)} is not valid under any of the given schemas. Possible root cause: ${pyRepr(t)} does not match '^CUSTOM_[A-Z0-9_]+$'`,
    );
  }

  // ------------------------------------------------------------------ vifs

  private routeVifs(ctx: Ctx, ident: string, more: string[]): { status: number; body?: string } {
    const m = ctx.method;
    if (more.length === 0 && m === 'GET') {
      this.checkArgs(ctx, []);
      const n = this.getNode(ctx, ident);
      this.checkTopic(n.driver, n.conductor_group);
      // the noop network interface keeps no VIFs
      return ok({ vifs: [] });
    }
    if (more.length === 0 && m === 'POST') {
      this.checkArgs(ctx, ['vif']);
      const vif = this.parseJsonBody(ctx) ?? {};
      if (!isPlainObject(vif)) throw new Fault(400, `Schema error for vif: ${pyRepr(vif)} is not of type 'object'`);
      if (!('id' in vif)) throw new Fault(400, "Schema error for vif: 'id' is a required property");
      if (typeof vif.id !== 'string') throw new Fault(400, `Schema error for vif: ${pyRepr(vif.id)} is not of type 'string'`);
      argUuidOrName('id', vif.id);
      const n = this.getNode(ctx, ident);
      this.checkTopic(n.driver, n.conductor_group);
      if (ctx.minor >= 67 && 'port_uuid' in vif && 'portgroup_uuid' in vif) {
        throw new Fault(400, 'Cannot specify both port_uuid and portgroup_uuid');
      }
      return { status: 204 };
    }
    if (more.length === 1 && m === 'DELETE') {
      this.checkArgs(ctx, ['vif_id']);
      argUuidOrName('vif_id', more[0]);
      const n = this.getNode(ctx, ident);
      this.checkTopic(n.driver, n.conductor_group);
      return { status: 204 };
    }
    throw new RoutingError(405);
  }

  // ---------------------------------------------------------- bios/history

  private routeBios(ctx: Ctx, ident: string, more: string[]): { status: number; body: string } {
    if (ctx.method !== 'GET' || more.length > 1) throw new RoutingError(405);
    if (more.length === 0) {
      const allowed = ctx.minor >= 74 ? ['detail', 'fields'] : [];
      this.checkArgs(ctx, allowed);
      this.getNode(ctx, ident);
      return ok({ bios: [] });
    }
    this.checkArgs(ctx, []);
    const n = this.getNode(ctx, ident);
    throw new Fault(404, `Node ${n.uuid} doesn't have a BIOS setting '${more[0]}'`);
  }

  private routeHistory(ctx: Ctx, ident: string, more: string[]): { status: number; body: string } {
    if (ctx.method !== 'GET' || more.length > 1) throw new RoutingError(405);
    if (more.length === 0) {
      this.checkArgs(ctx, ['detail', 'marker', 'limit']);
      argBoolean('detail', ctx.query.get('detail'));
      const marker = argUuid('marker', ctx.query.get('marker'));
      const limit = argInteger('limit', ctx.query.get('limit'));
      this.getNode(ctx, ident);
      if (marker !== undefined) throw new Fault(404, `Node history record ${marker} could not be found.`);
      if (limit !== undefined && limit <= 0) throw new Fault(400, 'Limit must be positive');
      return ok({ history: [] });
    }
    this.checkArgs(ctx, []);
    argUuidOrName('event', more[0]);
    this.getNode(ctx, ident);
    throw new Fault(404, `Node history record ${more[0]} could not be found.`);
  }








}

interface TransitionArgs {
  configdrive?: unknown;
  cleanSteps?: unknown[];
  disableRamdisk?: boolean;
  rescuePassword?: string;
}

/** node.set_driver_internal_info: a new dict (dicts are never mutated in place), key order kept. */
function setDii(n: NodeRec, key: string, value: Json): void {
  n.driver_internal_info = { ...n.driver_internal_info, [key]: value };
}

function delDii(n: NodeRec, key: string): void {
  if (!(key in n.driver_internal_info)) return;
  const d = { ...n.driver_internal_info };
  delete d[key];
  n.driver_internal_info = d;
}

/** pprint.pformat(_CLEAN_STEPS_SCHEMA['items'], width=72), indented as jsonschema prints it. */
const CLEAN_ITEMS_PPRINT = [
  "{'additionalProperties': False,",
  " 'properties': {'args': {'description': 'additional args',",
  "                         'properties': {},",
  "                         'type': 'object'},",
  "                'interface': {'description': 'driver interface',",
  "                              'enum': ['power',",
  "                                       'management',",
  "                                       'deploy',",
  "                                       'bios',",
  "                                       'raid']},",
  "                'step': {'description': 'name of clean step',",
  "                         'minLength': 1,",
  "                         'type': 'string'}},",
  " 'required': ['interface', 'step'],",
  " 'type': 'object'}",
].map((l) => `    ${l}`).join('\n');

/** Python's pprint of a small JSON value: dict keys sorted. */
function pprintShort(v: unknown): string {
  if (isPlainObject(v)) {
    return '{' + Object.keys(v).sort().map((k) => `${pyStr(k)}: ${pprintShort(v[k])}`).join(', ') + '}';
  }
  if (Array.isArray(v)) return '[' + v.map(pprintShort).join(', ') + ']';
  return pyRepr(v);
}

/** str(jsonschema.ValidationError) for the clean steps schema (single-error cases). */
function cleanStepsSchemaError(steps: unknown[]): string | undefined {
  const text = (msg: string, validator: string, schemaPath: string, schema: string, instPath: string, inst: unknown): string =>
    `${msg}\n\nFailed validating '${validator}' in schema${schemaPath}:\n${schema}\n\nOn instance${instPath}:\n    ${pprintShort(inst)}`;
  for (const [i, st] of steps.entries()) {
    if (!isPlainObject(st)) return text(`${pyRepr(st)} is not of type 'object'`, 'type', "['items']", CLEAN_ITEMS_PPRINT, `[${i}]`, st);
    const extra = Object.keys(st).filter((k) => k !== 'interface' && k !== 'step' && k !== 'args');
    if (extra.length) {
      return text(
        `Additional properties are not allowed (${extra.map(pyStr).join(', ')} ${extra.length === 1 ? 'was' : 'were'} unexpected)`,
        'additionalProperties', "['items']", CLEAN_ITEMS_PPRINT, `[${i}]`, st,
      );
    }
    for (const req of ['interface', 'step']) {
      if (!(req in st)) return text(`${pyStr(req)} is a required property`, 'required', "['items']", CLEAN_ITEMS_PPRINT, `[${i}]`, st);
    }
    if (!CLEANING_INTERFACES.includes(st.interface as string)) {
      return text(
        `${pyRepr(st.interface)} is not one of ${pyRepr(CLEANING_INTERFACES)}`, 'enum', "['items']['properties']['interface']",
        "    {'description': 'driver interface',\n     'enum': ['power', 'management', 'deploy', 'bios', 'raid']}",
        `[${i}]['interface']`, st.interface,
      );
    }
    const stepSchema = "    {'description': 'name of clean step', 'minLength': 1, 'type': 'string'}";
    if (typeof st.step !== 'string') {
      return text(`${pyRepr(st.step)} is not of type 'string'`, 'type', "['items']['properties']['step']", stepSchema, `[${i}]['step']`, st.step);
    }
    if (st.step.length < 1) {
      return text("'' is too short", 'minLength', "['items']['properties']['step']", stepSchema, `[${i}]['step']`, st.step);
    }
    if ('args' in st && !isPlainObject(st.args)) {
      return text(
        `${pyRepr(st.args)} is not of type 'object'`, 'type', "['items']['properties']['args']",
        "    {'description': 'additional args', 'properties': {}, 'type': 'object'}", `[${i}]['args']`, st.args,
      );
    }
  }
  return undefined;
}

const RAID_LEVELS = ['JBOD', '0', '1', '2', '5', '6', '1+0', '5+0', '6+0'];
const RAID_DISK_KEYS = [
  'raid_level', 'size_gb', 'volume_name', 'is_root_volume', 'share_physical_disks', 'disk_type', 'interface_type',
  'number_of_physical_disks', 'controller', 'physical_disks',
];

/** raid.validate_configuration against the driver RAID schema (the common cases). */
function validateRaidConfig(cfg: Record<string, unknown>): void {
  const fail = (m: string): never => {
    throw new Fault(400, `RAID config validation error: ${m}`);
  };
  for (const k of Object.keys(cfg)) {
    if (k !== 'logical_disks') fail(`Additional properties are not allowed (${pyStr(k)} was unexpected)`);
  }
  if (!('logical_disks' in cfg)) fail("'logical_disks' is a required property");
  const disks = cfg.logical_disks;
  if (!Array.isArray(disks)) return fail(`${pyRepr(disks)} is not of type 'array'`);
  if (disks.length === 0) fail('[] is too short');
  for (const d of disks) {
    if (!isPlainObject(d)) return fail(`${pyRepr(d)} is not of type 'object'`);
    for (const k of Object.keys(d)) {
      if (!RAID_DISK_KEYS.includes(k)) fail(`Additional properties are not allowed (${pyStr(k)} was unexpected)`);
    }
    for (const k of ['raid_level', 'size_gb']) if (!(k in d)) fail(`${pyStr(k)} is a required property`);
    if (!RAID_LEVELS.includes(d.raid_level as string)) fail(`${pyRepr(d.raid_level)} is not one of ${pyRepr(RAID_LEVELS)}`);
    const size = d.size_gb;
    if (!((typeof size === 'number' && Number.isInteger(size) && size >= 0) || size === 'MAX')) {
      fail(`${pyRepr(size)} is not valid under any of the given schemas`);
    }
  }
}

function pyTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  return typeof v;
}

function ok(obj: unknown, status = 200): { status: number; body: string } {
  return { status, body: JSON.stringify(obj) };
}


function argUuidOrNameOk(v: string): boolean {
  try {
    argUuidOrName('node', v);
    return true;
  } catch {
    return false;
  }
}

/** SQLite `LIKE '%v%'`: `%` and `_` are wildcards, ASCII case-insensitive. */
function likeRegex(v: string): RegExp {
  let re = '';
  for (const ch of v) {
    if (ch === '%') re += '.*';
    else if (ch === '_') re += '.';
    else re += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(re, 'is');
}

