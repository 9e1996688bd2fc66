/**
 * Ports (ironic/api/controllers/v1/port.py): `/v1/ports`, and the same
 * controller under `/v1/nodes/{node}/ports` and `/v1/portgroups/{pg}/ports`
 * (read-only there). A MAC address is unique on the site.
 */

import { isUuidLike } from '../../ironic/idents.js';
import { argStringList, argUuid, argUuidOrName } from '../args.js';
import { Fault, notAcceptable } from '../errors.js';
import {
  applyPatch,
  argMac,
  checkAllowFields,
  checkArgs,
  checkFieldsValid,
  checkPatchPaths,
  checkSortColumn,
  collectionBody,
  collectionChecks,
  created,
  isPlainObject,
  markerRecord,
  nextParams,
  objectToDict,
  ok,
  patchedSchemaDict,
  patchValues,
  readBody,
  readListQuery,
  readPatch,
  returnFields,
  routeCollection,
  sanitize,
  updateChanged,
  validateFields,
  type Ctx,
  type ListSpec,
  type ObjRec,
  type Reply,
  type Schema,
} from '../kit.js';
import type { NodeRec } from '../node-model.js';
import type { World } from '../world.js';
import type { PortgroupRec } from './portgroups.js';
import { getPortgroup } from './portgroups.js';

export interface PortRec extends ObjRec {
  address: string;
  node_id: number;
  portgroup_id: number | null;
  extra: Record<string, unknown>;
  internal_info: Record<string, unknown>;
  local_link_connection: Record<string, unknown>;
  pxe_enabled: boolean;
  physical_network: string | null;
  is_smartnic: boolean;
}

export const PORT_SCHEMA: Schema = {
  type: 'object',
  properties: {
    address: { type: 'string' },
    extra: { type: ['object', 'null'] },
    is_smartnic: { type: ['string', 'boolean', 'null'] },
    local_link_connection: { type: ['null', 'object'] },
    node_uuid: { type: 'string' },
    physical_network: { type: ['string', 'null'], maxLength: 64 },
    portgroup_uuid: { type: ['string', 'null'] },
    pxe_enabled: { type: ['string', 'boolean', 'null'] },
    uuid: { type: ['string', 'null'] },
  },
  required: ['address', 'node_uuid'],
  additionalProperties: false,
};

const EXTRA = { address: 'mac', node_uuid: 'uuid', is_smartnic: 'boolean', portgroup_uuid: 'uuid', pxe_enabled: 'boolean', uuid: 'uuid' } as const;

const PATCH_ALLOWED = ['address', 'extra', 'is_smartnic', 'local_link_connection', 'node_uuid', 'physical_network', 'portgroup_uuid', 'pxe_enabled'];

const SPEC: ListSpec = {
  resource: 'ports',
  defaultFields: ['uuid', 'address'],
  invalidSortKeys: ['extra', 'internal_info', 'local_link_connection'],
  columns: new Set(['id', 'uuid', 'address', 'node_id', 'portgroup_id', 'pxe_enabled', 'physical_network', 'is_smartnic', 'created_at', 'updated_at']),
  noun: 'Port',
};

const DICTS = ['extra', 'internal_info', 'local_link_connection'];

/** Where the ports controller is mounted. */
export interface PortParent {
  node?: string;
  portgroup?: string;
}

/** PortsController._check_allowed_port_fields. */
function checkAllowedFields(fields: Iterable<string> | undefined, minor: number): void {
  if (fields === undefined) return;
  const f = new Set(fields);
  if (minor < 19 && (f.has('pxe_enabled') || f.has('local_link_connection'))) throw notAcceptable();
  if (f.has('portgroup_uuid') && minor < 24) throw notAcceptable();
  if (f.has('physical_network') && minor < 34) throw notAcceptable();
  if (f.has('is_smartnic') && minor < 53) throw notAcceptable();
  if (f.has('local_link_connection/network_type') && minor < 64) throw notAcceptable();
}

/** convert_with_links (+ port_sanitize unless told otherwise). */
export function renderPort(w: World, ctx: Ctx, p: PortRec, fields?: readonly string[]): Record<string, unknown> {
  const d = objectToDict(p, ctx, 'ports', ['address', 'extra', 'internal_info', 'is_smartnic', 'local_link_connection', 'physical_network', 'pxe_enabled', 'node_uuid'], { dicts: DICTS });
  d.node_uuid = w.store.getById(p.node_id)?.uuid ?? null;
  d.portgroup_uuid = w.portgroups.byId(p.portgroup_id)?.uuid ?? null;
  checkFieldsValid(fields, Object.keys(d));
  const m = ctx.minor;
  if (m < 18) delete d.internal_info;
  if (m < 19) {
    delete d.pxe_enabled;
    delete d.local_link_connection;
  }
  if (m < 24) delete d.portgroup_uuid;
  if (m < 34) delete d.physical_network;
  if (m < 53) delete d.is_smartnic;
  return sanitize(d, fields);
}

function nodeById(w: World, id: number): NodeRec | undefined {
  return w.store.getById(id);
}

export function routePorts(w: World, ctx: Ctx, rest: string[], parent: PortParent = {}): Reply {
  return routeCollection(ctx, rest, {
    list: (detailPath) => listPorts(w, ctx, parent, detailPath),
    create: () => createPort(w, ctx, parent),
    detail: true,
    show: (ident) => showPort(w, ctx, ident, parent),
    update: (ident) => patchPort(w, ctx, ident, parent),
    remove: (ident) => deletePort(w, ctx, ident, parent),
  });
}

/**
 * api_utils.check_port_list_policy's reading of the parents: a parent
 * portgroup by UUID only, a parent node by UUID only — a miss of either is
 * worded as the portgroup's (`Portgroup None` under a node).
 */
export function checkPortListParents(w: World, parent: PortParent): void {
  let node = parent.node;
  if (parent.portgroup) {
    const pg = w.portgroups.get(parent.portgroup);
    if (!pg) throw new Fault(404, `Portgroup ${parent.portgroup} could not be found.`);
    node = w.store.getById(pg.node_id)?.uuid;
    return;
  }
  if (node && !w.store.getByUuid(node)) throw new Fault(404, 'Portgroup None could not be found.');
}

function listPorts(w: World, ctx: Ctx, parent: PortParent, detailPath: boolean): Reply {
  const q = ctx.query;
  checkArgs(ctx, detailPath
    ? ['node', 'node_uuid', 'address', 'marker', 'limit', 'sort_key', 'sort_dir', 'portgroup', 'shard']
    : ['node', 'node_uuid', 'address', 'marker', 'limit', 'sort_key', 'sort_dir', 'fields', 'portgroup', 'detail', 'shard']);
  let node = argUuidOrName('node', q.get('node'));
  const nodeUuid = argUuid('node_uuid', q.get('node_uuid'));
  const address = argMac('address', q.get('address'));
  const a = readListQuery(q, detailPath);
  let portgroup = argUuidOrName('portgroup', q.get('portgroup'));
  const shard = argStringList('shard', q.get('shard'));
  checkPortListParents(w, parent);
  if (parent.node) node = parent.node;
  if (parent.portgroup) portgroup = parent.portgroup;
  let fields: string[] | undefined;
  if (!detailPath) {
    checkAllowFields(a.fields, ctx.minor);
    checkAllowedFields(a.fields, ctx.minor);
  }
  checkAllowedFields([a.sortKey], ctx.minor);
  if (portgroup && ctx.minor < 24) throw notAcceptable();
  if (shard !== undefined && ctx.minor < 82) throw notAcceptable();
  if (!detailPath) fields = returnFields(a.fields, a.detail, SPEC.defaultFields, ctx.minor);
  const nodeIdent = nodeUuid || node;
  if (!nodeUuid && node && ctx.minor < 5 && !isUuidLike(node)) throw notAcceptable();
  // _get_ports_collection
  const { limit, sortDir } = collectionChecks(SPEC, w.cfg.maxLimit, a);
  const marker = markerRecord(SPEC, w.ports, a.marker);
  if ([nodeIdent, portgroup, shard && shard.length ? shard : undefined].filter((x) => x).length > 1) throw new Fault(403, 'Operation not permitted.');
  checkSortColumn(SPEC, a.sortKey);
  let ports: PortRec[];
  const page = (filter?: (p: PortRec) => boolean): PortRec[] => w.ports.page({ sortKey: a.sortKey, sortDir, limit, marker, filter });
  if (portgroup) {
    const pg = getPortgroup(w, portgroup);
    ports = page((p) => p.portgroup_id === pg.id);
  } else if (nodeIdent) {
    const n = w.getNode(ctx, nodeIdent);
    ports = page((p) => p.node_id === n.id);
  } else if (address) {
    const p = w.ports.find((x) => x.address === address);
    ports = p ? [p] : [];
  } else if (shard && shard.length) {
    ports = page((p) => {
      const n = nodeById(w, p.node_id);
      return n !== undefined && n.shard !== null && shard.includes(n.shard as string);
    });
  } else {
    ports = page();
  }
  const items = ports.map((p) => renderPort(w, ctx, p, fields));
  return collectionBody(ctx, 'ports', items, limit, detailPath ? 'ports/detail' : 'ports', nextParams(a.sortKey, sortDir, a.detail), fields, ports.at(-1)?.uuid);
}

function getPort(w: World, uuid: string): PortRec {
  const p = w.ports.get(uuid);
  if (!p) throw new Fault(404, `Port ${uuid} could not be found.`);
  return p;
}

function showPort(w: World, ctx: Ctx, ident: string, parent: PortParent): Reply {
  checkArgs(ctx, ['port_uuid', 'fields']);
  argUuid('port_uuid', ident);
  const fields = argStringList('fields', ctx.query.get('fields'));
  if (parent.node || parent.portgroup) throw new Fault(403, 'Operation not permitted.');
  const p = getPort(w, ident);
  checkAllowFields(fields, ctx.minor);
  checkAllowedFields(fields, ctx.minor);
  return ok(renderPort(w, ctx, p, fields));
}

/** The node a port body names: NodeNotFound as a 400. */
function bodyNode(w: World, ctx: Ctx, uuid: string): NodeRec {
  const n = w.store.getByUuid(uuid);
  if (!n) throw new Fault(400, `Node ${uuid} could not be found.`);
  void ctx;
  return n;
}

function bodyPortgroup(w: World, uuid: string): PortgroupRec {
  const pg = w.portgroups.get(uuid);
  if (!pg) throw new Fault(400, `Portgroup ${uuid} could not be found.`);
  return pg;
}

function checkAddressFree(w: World, address: string, self?: PortRec): void {
  const other = w.ports.find((p) => p.address === address);
  if (other && other !== self) throw new Fault(409, `A port with MAC address ${address} already exists.`);
}

function createPort(w: World, ctx: Ctx, parent: PortParent): Reply {
  const { raw, body: port } = readBody(ctx, 'port', PORT_SCHEMA);
  if (raw !== undefined && raw !== null) validateFields(port, EXTRA);
  if (parent.node || parent.portgroup) throw new Fault(403, 'Operation not permitted.');
  const node = bodyNode(w, ctx, String(port.node_uuid));
  checkAllowedFields(Object.keys(port), ctx.minor);
  let pg: PortgroupRec | undefined;
  if (port.portgroup_uuid) {
    pg = bodyPortgroup(w, String(port.portgroup_uuid));
    // exception.BadRequest has no code of its own: a 500
    if (pg.node_id !== node.id) throw new Fault(500, 'Port can not be added to a portgroup belonging to a different node.');
  }
  if (port.is_smartnic) {
    const llc = port.local_link_connection;
    if (!isPlainObject(llc) || !('port_id' in llc) || !('hostname' in llc)) {
      throw new Fault(400, 'Smart NIC port must have port_id and hostname in local_link_connection');
    }
  }
  if (port.physical_network !== undefined && port.physical_network !== null && !port.physical_network) {
    throw new Fault(400, 'A non-empty value is required when setting physical_network');
  }
  if (pg && port.pxe_enabled && !pg.standalone_ports_supported) {
    throw new Fault(
      409,
      `Port group ${pg.uuid} doesn't support standalone ports. This port cannot be created as a member of that portgroup as the port's 'pxe_enabled' field was set to True.`,
    );
  }
  w.checkTopic(node.driver, node.conductor_group);
  const uuid = (port.uuid as string | null | undefined) || undefined;
  if (uuid && w.ports.get(uuid)) throw new Fault(409, `A port with UUID ${uuid} already exists.`);
  checkAddressFree(w, String(port.address));
  const rec = w.ports.insert({
    uuid,
    address: String(port.address),
    node_id: node.id,
    portgroup_id: pg ? pg.id : null,
    extra: (port.extra as Record<string, unknown> | null) ?? {},
    internal_info: {},
    local_link_connection: (port.local_link_connection as Record<string, unknown> | null) ?? {},
    pxe_enabled: port.pxe_enabled === undefined || port.pxe_enabled === null ? true : Boolean(port.pxe_enabled),
    physical_network: (port.physical_network as string | null | undefined) ?? null,
    is_smartnic: Boolean(port.is_smartnic ?? false),
  });
  return created(ctx, 'ports', rec.uuid, renderPort(w, ctx, rec));
}

function patchPort(w: World, ctx: Ctx, ident: string, parent: PortParent): Reply {
  checkArgs(ctx, ['port_uuid', 'patch']);
  argUuid('port_uuid', ident);
  const patch = readPatch(ctx, undefined);
  if (parent.node || parent.portgroup) throw new Fault(403, 'Operation not permitted.');
  checkPatchPaths(patch, PATCH_ALLOWED);
  const check = new Set<string>();
  for (const f of ['pxe_enabled', 'local_link_connection', 'portgroup_uuid', 'physical_network', 'is_smartnic', 'local_link_connection/network_type']) {
    if (patchValues(patch, `/${f}`).length || patch.some((p) => p.op === 'remove' && p.path === `/${f}`)) check.add(f);
  }
  checkAllowedFields(check, ctx.minor);
  const p = getPort(w, ident);
  let node = nodeById(w, p.node_id)!;
  const doc: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) if (k !== 'node_id' && k !== 'portgroup_id') doc[k] = v;
  doc.node_uuid = node.uuid;
  let pg = w.portgroups.byId(p.portgroup_id);
  doc.portgroup_uuid = pg?.uuid ?? null;
  const d = applyPatch(doc, patch);
  if (patch.some((op) => op.path === '/portgroup_uuid')) pg = d.portgroup_uuid ? bodyPortgroup(w, String(d.portgroup_uuid)) : undefined;
  if (d.node_uuid !== node.uuid) {
    const other = typeof d.node_uuid === 'string' ? w.store.getByUuid(d.node_uuid) : undefined;
    if (!other) throw new Fault(400, `Node ${String(d.node_uuid)} could not be found.`);
    node = other;
  }
  const valid = patchedSchemaDict(d, PORT_SCHEMA);
  validateFields(valid, EXTRA);
  if (node.provision_state === 'inspecting' && ctx.minor >= 39) {
    throw new Fault(409, `Cannot update port "${p.uuid}" on "${node.uuid}" while it is in state "inspecting".`);
  }
  if (patch.some((op) => op.path === '/physical_network') && valid.physical_network !== null && valid.physical_network !== undefined && !valid.physical_network) {
    throw new Fault(400, 'A non-empty value is required when setting physical_network');
  }
  w.checkTopic(node.driver, node.conductor_group);
  if (valid.address !== p.address) checkAddressFree(w, String(valid.address), p);
  if (pg && pg.node_id !== node.id) throw new Fault(400, 'Port can not be added to a portgroup belonging to a different node.');
  let changed = updateChanged(p, valid, PORT_SCHEMA, DICTS);
  if (p.node_id !== node.id || p.portgroup_id !== (pg ? pg.id : null)) {
    p.node_id = node.id;
    p.portgroup_id = pg ? pg.id : null;
    changed = true;
  }
  if (changed) w.ports.touch(p);
  return ok(renderPort(w, ctx, p));
}

function deletePort(w: World, ctx: Ctx, ident: string, parent: PortParent): Reply {
  checkArgs(ctx, ['port_uuid']);
  argUuid('port_uuid', ident);
  if (parent.node || parent.portgroup) throw new Fault(403, 'Operation not permitted.');
  const p = getPort(w, ident);
  const node = nodeById(w, p.node_id)!;
  w.checkTopic(node.driver, node.conductor_group);
  w.ports.remove(p);
  return { status: 204 };
}

/** A node's ports go with it (the DB's node destroy). */
export function dropNodePorts(w: World, n: NodeRec): void {
  for (const p of w.ports.filter((x) => x.node_id === n.id)) w.ports.remove(p);
}
