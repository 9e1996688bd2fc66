/**
 * Portgroups (ironic/api/controllers/v1/portgroup.py, 1.23): `/v1/portgroups`,
 * `/v1/portgroups/{pg}/ports` (1.24) and `/v1/nodes/{node}/portgroups`
 * (1.24, read-only). Name and address are unique on the site; a portgroup
 * with ports cannot be deleted.
 */

import { isUuidLike } from '../../ironic/idents.js';
import { selfAndBookmark } from '../../ironic/links.js';
import { argStringList, argUuidOrName, isValidLogicalName } from '../args.js';
import { Fault, notAcceptable, RoutingError } from '../errors.js';
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
import { checkPortListParents, routePorts } from './ports.js';

export interface PortgroupRec extends ObjRec {
  name: string | null;
  address: string | null;
  node_id: number;
  extra: Record<string, unknown>;
  internal_info: Record<string, unknown>;
  mode: string | null;
  properties: Record<string, unknown>;
  standalone_ports_supported: boolean;
}

const SCHEMA: Schema = {
  type: 'object',
  properties: {
    address: { type: ['string', 'null'] },
    extra: { type: ['object', 'null'] },
    mode: { type: ['string', 'null'] },
    name: { type: ['string', 'null'] },
    node_uuid: { type: 'string' },
    properties: { type: ['object', 'null'] },
    standalone_ports_supported: { type: ['string', 'boolean', 'null'] },
    uuid: { type: ['string', 'null'] },
  },
  required: ['node_uuid'],
  additionalProperties: false,
};

const EXTRA = { address: 'mac', node_uuid: 'uuid', standalone_ports_supported: 'boolean', uuid: 'uuid' } as const;
const PATCH_ALLOWED = ['address', 'extra', 'mode', 'name', 'node_uuid', 'properties', 'standalone_ports_supported'];
const DICTS = ['extra', 'internal_info', 'properties'];
const DEFAULT_MODE = 'active-backup';

const SPEC: ListSpec = {
  resource: 'portgroups',
  defaultFields: ['uuid', 'address', 'name'],
  invalidSortKeys: ['extra', 'internal_info', 'properties'],
  columns: new Set(['id', 'uuid', 'name', 'address', 'node_id', 'mode', 'standalone_ports_supported', 'created_at', 'updated_at']),
  noun: 'Portgroup',
};

/** api_utils.get_rpc_portgroup. */
export function getPortgroup(w: World, ident: string): PortgroupRec {
  if (!isUuidLike(ident) && !isValidLogicalName(ident)) throw new Fault(400, `Expected a logical name or UUID but received ${ident}.`);
  const pg = w.portgroups.byIdent(ident);
  if (!pg) throw new Fault(404, `Portgroup ${ident} could not be found.`);
  return pg;
}

function checkAllowed(fields: Iterable<string> | undefined, minor: number): void {
  if (fields === undefined) return;
  const f = new Set(fields);
  if ((f.has('mode') || f.has('properties')) && minor < 26) throw notAcceptable();
}

export function renderPortgroup(w: World, ctx: Ctx, pg: PortgroupRec, fields?: readonly string[]): Record<string, unknown> {
  const d = objectToDict(pg, ctx, 'portgroups', ['address', 'extra', 'internal_info', 'mode', 'name', 'properties', 'standalone_ports_supported', 'node_uuid'], { dicts: DICTS });
  d.node_uuid = w.store.getById(pg.node_id)?.uuid ?? null;
  // node_uuid comes before links in object_to_dict's order
  const links = d.links;
  delete d.links;
  d.links = links;
  d.ports = selfAndBookmark(ctx.base, 'portgroups', `${pg.uuid}/ports`);
  checkFieldsValid(fields, Object.keys(d));
  if (ctx.minor < 26) {
    delete d.mode;
    delete d.properties;
  }
  return sanitize(d, fields);
}

export function routePortgroups(w: World, ctx: Ctx, rest: string[], parentNode?: string): Reply {
  // allow_portgroups (1.23): the controller's methods answer NotFound below it
  if (ctx.minor < 23) throw new Fault(404, 'Resource could not be found.');
  return routeCollection(ctx, rest, {
    list: (detailPath) => listPortgroups(w, ctx, parentNode, detailPath),
    create: () => createPortgroup(w, ctx, parentNode),
    detail: true,
    // PortgroupsController._lookup
    lookup: (ident) => {
      if (!isUuidLike(ident) && !isValidLogicalName(ident)) throw new RoutingError(400, `Expected UUID or name for portgroup: ${ident}`);
    },
    below: (ident, more) => {
      if (more[0] !== 'ports') throw new RoutingError(404);
      if (ctx.minor < 24) throw new RoutingError(404);
      return routePorts(w, ctx, more.slice(1), { portgroup: ident, node: parentNode });
    },
    show: (ident) => showPortgroup(w, ctx, ident, parentNode),
    update: (ident) => patchPortgroup(w, ctx, ident, parentNode),
    remove: (ident) => deletePortgroup(w, ctx, ident, parentNode),
  });
}

function listPortgroups(w: World, ctx: Ctx, parentNode: string | undefined, detailPath: boolean): Reply {
  const q = ctx.query;
  checkArgs(ctx, detailPath
    ? ['node', 'address', 'marker', 'limit', 'sort_key', 'sort_dir']
    : ['node', 'address', 'marker', 'limit', 'sort_key', 'sort_dir', 'fields', 'detail']);
  let node = argUuidOrName('node', q.get('node'));
  const address = argMac('address', q.get('address'));
  const a = readListQuery(q, detailPath);
  checkPortListParents(w, { node: parentNode });
  if (parentNode) node = parentNode;
  let fields: string[] | undefined;
  if (!detailPath) {
    checkAllowed(a.fields, ctx.minor);
    checkAllowed([a.sortKey], ctx.minor);
    fields = returnFields(a.fields, a.detail, SPEC.defaultFields, ctx.minor);
  } else {
    checkAllowed([a.sortKey], ctx.minor);
  }
  const { limit, sortDir } = collectionChecks(SPEC, w.cfg.maxLimit, a);
  const marker = markerRecord(SPEC, w.portgroups, a.marker);
  checkSortColumn(SPEC, a.sortKey);
  let items: PortgroupRec[];
  if (node) {
    const n = w.getNode(ctx, node);
    items = w.portgroups.page({ sortKey: a.sortKey, sortDir, limit, marker, filter: (pg) => pg.node_id === n.id });
  } else if (address) {
    const pg = w.portgroups.find((x) => x.address === address);
    items = pg ? [pg] : [];
  } else {
    items = w.portgroups.page({ sortKey: a.sortKey, sortDir, limit, marker });
  }
  const params = nextParams(a.sortKey, sortDir, a.detail);
  return collectionBody(ctx, 'portgroups', items.map((pg) => renderPortgroup(w, ctx, pg, fields)), limit, detailPath ? 'portgroups/detail' : 'portgroups', params, fields, items.at(-1)?.uuid);
}

function showPortgroup(w: World, ctx: Ctx, ident: string, parentNode: string | undefined): Reply {
  checkArgs(ctx, ['portgroup_ident', 'fields']);
  const fields = argStringList('fields', ctx.query.get('fields'));
  const pg = getPortgroup(w, ident);
  if (parentNode) throw new Fault(403, 'Operation not permitted.');
  checkAllowed(fields, ctx.minor);
  checkAllowFields(fields, ctx.minor);
  return ok(renderPortgroup(w, ctx, pg, fields));
}

function bodyNode(w: World, uuid: unknown): NodeRec {
  const n = typeof uuid === 'string' ? w.store.getByUuid(uuid) : undefined;
  if (!n) throw new Fault(400, `Node ${String(uuid)} could not be found.`);
  return n;
}

function checkUnique(w: World, name: unknown, address: unknown, self?: PortgroupRec): void {
  if (name) {
    const o = w.portgroups.find((x) => x.name === name);
    if (o && o !== self) throw new Fault(409, `A portgroup with name ${String(name)} already exists.`);
  }
  if (address) {
    const o = w.portgroups.find((x) => x.address === address);
    if (o && o !== self) throw new Fault(409, `A portgroup with MAC address ${String(address)} already exists.`);
  }
}

function createPortgroup(w: World, ctx: Ctx, parentNode: string | undefined): Reply {
  const { raw, body } = readBody(ctx, 'portgroup', SCHEMA);
  if (raw !== undefined && raw !== null) validateFields(body, EXTRA);
  const node = bodyNode(w, body.node_uuid);
  if (parentNode) throw new Fault(403, 'Operation not permitted.');
  if (ctx.minor < 26 && (body.mode || body.properties)) throw notAcceptable();
  if (body.name && !isValidLogicalName(String(body.name))) throw new Fault(400, `Cannot create portgroup with invalid name '${String(body.name)}'`);
  const uuid = (body.uuid as string | null | undefined) || undefined;
  checkUnique(w, body.name, body.address);
  if (uuid && w.portgroups.get(uuid)) throw new Fault(409, `A portgroup with UUID ${uuid} already exists.`);
  const pg = w.portgroups.insert({
    uuid,
    name: (body.name as string | null | undefined) ?? null,
    address: (body.address as string | null | undefined) ?? null,
    node_id: node.id,
    extra: (body.extra as Record<string, unknown> | null) ?? {},
    internal_info: {},
    mode: (body.mode as string | null | undefined) || DEFAULT_MODE,
    properties: (body.properties as Record<string, unknown> | null) ?? {},
    standalone_ports_supported: body.standalone_ports_supported === undefined || body.standalone_ports_supported === null ? true : Boolean(body.standalone_ports_supported),
  });
  return created(ctx, 'portgroups', pg.uuid, renderPortgroup(w, ctx, pg));
}

function patchPortgroup(w: World, ctx: Ctx, ident: string, parentNode: string | undefined): Reply {
  checkArgs(ctx, ['portgroup_ident', 'patch']);
  argUuidOrName('portgroup_ident', ident);
  const patch = readPatch(ctx, undefined);
  const pg = getPortgroup(w, ident);
  let node = w.store.getById(pg.node_id)!;
  if (parentNode) throw new Fault(403, 'Operation not permitted.');
  if (ctx.minor < 26 && patch.some((p) => p.path === '/mode' || p.path === '/properties')) throw notAcceptable();
  checkPatchPaths(patch, PATCH_ALLOWED);
  for (const name of patchValues(patch, '/name')) {
    if (name && !isValidLogicalName(String(name))) throw new Fault(400, `Portgroup ${ident}: Cannot change name to invalid name '${String(name)}'`);
  }
  const doc: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(pg)) if (k !== 'node_id') doc[k] = v;
  doc.node_uuid = node.uuid;
  const d = applyPatch(doc, patch);
  if (!('mode' in d)) throw new Fault(400, "'mode' is a mandatory attribute and can not be removed");
  if (d.node_uuid !== node.uuid) node = bodyNode(w, d.node_uuid);
  const valid = patchedSchemaDict(d, SCHEMA);
  validateFields(valid, EXTRA);
  if (node.provision_state === 'inspecting' && ctx.minor >= 39) {
    throw new Fault(409, `Cannot update portgroup "${pg.uuid}" on node "${node.uuid}" while it is in state "inspecting".`);
  }
  w.checkTopic(node.driver, node.conductor_group);
  checkUnique(w, valid.name, valid.address, pg);
  let changed = updateChanged(pg, valid, SCHEMA, DICTS);
  if (pg.node_id !== node.id) {
    pg.node_id = node.id;
    changed = true;
  }
  if (changed) w.portgroups.touch(pg);
  return ok(renderPortgroup(w, ctx, pg));
}

function deletePortgroup(w: World, ctx: Ctx, ident: string, parentNode: string | undefined): Reply {
  checkArgs(ctx, ['portgroup_ident']);
  const pg = getPortgroup(w, ident);
  const node = w.store.getById(pg.node_id)!;
  if (parentNode) throw new Fault(403, 'Operation not permitted.');
  w.checkTopic(node.driver, node.conductor_group);
  if (w.ports.find((p) => p.portgroup_id === pg.id)) {
    throw new Fault(400, `Cannot complete the requested action because portgroup ${pg.id} contains ports.`);
  }
  w.portgroups.remove(pg);
  return { status: 204 };
}

/** A node's portgroups go with it. */
export function dropNodePortgroups(w: World, n: NodeRec): void {
  for (const pg of w.portgroups.filter((x) => x.node_id === n.id)) w.portgroups.remove(pg);
}
